/*
 * store_sqlite_int.h: inside the SQLite backend of the store (store.h);
 * shared by store_sqlite.c, store_sqlite_load.c and store_schema.c, and
 * by the store's unit test. Not for the rest of the coordinator.
 */
#ifndef BORA_COORD_STORE_SQLITE_H
#define BORA_COORD_STORE_SQLITE_H

#include <stddef.h>
#include <sqlite3.h>

#include "store.h"

/* The statements every flush may run, prepared once at open. */
enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_WORKFLOW,
	STMT_EXEC,
	STMT_TASK,
	STMT_ACTION,
	STMT_STEP,
	STMT_STEP_UPDATE,
	STMT_OUTPUT_GET,
	STMT_OUTPUT_INSERT,
	STMT_OUTPUT_KEPT,
	STMT_OUTPUT_DROPPED,
	STMT_AGENT,
	STMT_TOKEN,
	STMT_TOKEN_DELETE,
	STMT_REVOCATION,
	STMT_WORKFLOW_DELETE,
	STMT_COUNT
};

struct store_backend {
	sqlite3 *db;
	char *path;
	size_t output_cap;
	sqlite3_stmt *stmt[STMT_COUNT];
};

/* One migration: schema version `version` is reached by running sql. */
struct store_migration {
	int version;
	const char *what;
	const char *sql;
};

/*
 * Bring db to the newest of migrations[0..n-1] (sorted by version), each
 * migration in its own transaction with its schema_version row; a
 * database newer than the newest is refused. *version gets the schema
 * version after, *applied how many migrations ran (both may be NULL).
 */
int store_schema_apply(sqlite3 *db, const struct store_migration *m,
    size_t n, int *version, int *applied, char *err, size_t errlen);
/* store_schema_apply() with Bora's migrations. */
int store_schema_migrate(sqlite3 *db, int *version, int *applied, char *err,
    size_t errlen);

/* Make the directory of path (created 0700 when missing) and path itself
 * (created 0600 when missing) private to this user, and refuse a path
 * that is a symbolic link, not a regular file, has other links or is
 * someone else's. The same for SQLite's -wal, -shm and -journal files
 * when they exist. */
int store_sqlite_private(const char *path, char *err, size_t errlen);

int store_sqlite_load_workflows(struct store_backend *b,
    store_workflow_cb cb, void *user, char *err, size_t errlen);
int store_sqlite_load_execs(struct store_backend *b, int finished,
    uint64_t offset, uint64_t limit, store_exec_cb cb, void *user, char *err,
    size_t errlen);
int store_sqlite_load_tasks(struct store_backend *b, const char *exec_id,
    store_task_cb cb, void *user, char *err, size_t errlen);
int store_sqlite_load_actions(struct store_backend *b, const char *exec_id,
    store_action_cb cb, void *user, char *err, size_t errlen);
int store_sqlite_load_steps(struct store_backend *b, const char *id,
    store_step_cb cb, void *user, char *err, size_t errlen);
int store_sqlite_load_output(struct store_backend *b, const char *step_id,
    uint64_t offset, uint64_t limit, store_output_cb cb, void *user,
    char *err, size_t errlen);
int store_sqlite_load_agents(struct store_backend *b, store_agent_cb cb,
    void *user, char *err, size_t errlen);
int store_sqlite_load_tokens(struct store_backend *b, store_token_cb cb,
    void *user, char *err, size_t errlen);
int store_sqlite_load_revocations(struct store_backend *b,
    store_revocation_cb cb, void *user, char *err, size_t errlen);

#endif
