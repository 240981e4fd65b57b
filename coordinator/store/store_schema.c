/*
 * store_schema.c: the SQLite store's schema and its numbered migrations
 * (docs/store.md). A migration is never edited once released: a change
 * is a new one at the end.
 */
#include <stdio.h>

#include "clock.h"
#include "errbuf.h"
#include "store_sqlite_int.h"

static const struct store_migration store_migrations[] = {
	{ 1, "workflows, executions, tasks, steps, step output, agents, tokens, "
	  "revocations",
	"CREATE TABLE workflows ("
	"  name TEXT PRIMARY KEY,"
	"  yaml TEXT NOT NULL,"
	"  canonical TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE TABLE executions ("
	"  id TEXT PRIMARY KEY,"
	"  workflow TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  document TEXT NOT NULL,"
	"  spec TEXT,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE INDEX executions_active ON executions (id)"
	"  WHERE state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');"
	"CREATE INDEX executions_updated ON executions (updated_ms, id);"
	"CREATE TABLE tasks ("
	"  exec_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  document TEXT NOT NULL,"
	"  PRIMARY KEY (exec_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE steps ("
	"  id TEXT PRIMARY KEY,"
	"  exec_id TEXT,"
	"  agent TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('dispatched', 'running', 'done')),"
	"  spec TEXT NOT NULL,"
	"  inputs TEXT,"
	"  result TEXT,"
	"  dispatched_ms INTEGER NOT NULL,"
	"  finished_ms INTEGER NOT NULL DEFAULT 0,"
	"  timeout_s INTEGER NOT NULL DEFAULT 0,"
	"  output_chunks INTEGER NOT NULL DEFAULT 0,"
	"  output_kept INTEGER NOT NULL DEFAULT 0,"
	"  output_dropped INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX steps_unfinished ON steps (id) WHERE state <> 'done';"
	"CREATE INDEX steps_exec ON steps (exec_id);"
	"CREATE TABLE step_output ("
	"  step_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  stream TEXT NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (step_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE agents ("
	"  name TEXT PRIMARY KEY,"
	"  labels TEXT NOT NULL,"
	"  enrolled_ms INTEGER NOT NULL,"
	"  cert_serial TEXT,"
	"  cert_fingerprint TEXT,"
	"  revoked_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE tokens ("
	"  id TEXT PRIMARY KEY,"
	"  hash TEXT NOT NULL,"
	"  name TEXT,"
	"  labels TEXT,"
	"  expires_ms INTEGER NOT NULL,"
	"  uses_left INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE TABLE revocations ("
	"  serial TEXT PRIMARY KEY,"
	"  revoked_ms INTEGER NOT NULL);" },
	{ 2, "actions of tasks, saved apart from their task",
	"CREATE TABLE actions ("
	"  exec_id TEXT NOT NULL,"
	"  task_seq INTEGER NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  document TEXT NOT NULL,"
	"  PRIMARY KEY (exec_id, task_seq, idx)) WITHOUT ROWID;" },
};

/* Run sql outside of any row results. */
static int
store_schema_exec(sqlite3 *db, const char *sql, const char *what,
    char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	bora_errf(err, errlen, "store schema: %s: %s", what,
	    msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int
store_schema_version(sqlite3 *db, int *version, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) "
	    "FROM schema_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	bora_errf(err, errlen, "store schema: reading schema_version: %s",
	    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

/* Run migration m and record it, in one transaction. The version is read
 * again inside it, so that two processes opening at once apply it once.
 * 1 applied, 0 already there, -1 error (rolled back). */
static int
store_schema_step(sqlite3 *db, const struct store_migration *m, char *err,
    size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char what[128];
	int cur, rc;

	snprintf(what, sizeof(what), "migration %d (%s)", m->version, m->what);
	if (store_schema_exec(db, "BEGIN IMMEDIATE", what, err, errlen) != 0)
		return -1;
	if (store_schema_version(db, &cur, err, errlen) != 0)
		goto fail;
	if (cur >= m->version) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if (store_schema_exec(db, m->sql, what, err, errlen) != 0)
		goto fail;
	rc = sqlite3_prepare_v2(db, "INSERT INTO schema_version (version, "
	    "applied_ms, what) VALUES (?1, ?2, ?3)", -1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_bind_int(st, 1, m->version) ||
	    sqlite3_bind_int64(st, 2, bora_wall_ms()) ||
	    sqlite3_bind_text(st, 3, m->what, -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE) {
		bora_errf(err, errlen, "store schema: %s: recording it: %s",
		    what, sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_schema_exec(db, "COMMIT", what, err, errlen) != 0)
		goto fail;
	return 1;
fail:
	sqlite3_finalize(st);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
store_schema_apply(sqlite3 *db, const struct store_migration *m, size_t n,
    int *version, int *applied, char *err, size_t errlen)
{
	int cur, newest = n ? m[n - 1].version : 0, done = 0, r;
	size_t i;

	if (store_schema_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL, "
	    "what TEXT NOT NULL)", "creating schema_version", err,
	    errlen) != 0 ||
	    store_schema_version(db, &cur, err, errlen) != 0)
		return -1;
	if (cur > newest) {
		bora_errf(err, errlen, "store schema: the database is at schema "
		    "version %d, newer than this coordinator's %d", cur,
		    newest);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (m[i].version <= cur)
			continue;
		if ((r = store_schema_step(db, &m[i], err, errlen)) < 0)
			return -1;
		done += r;
		cur = m[i].version;
	}
	if (version)
		*version = cur;
	if (applied)
		*applied = done;
	return 0;
}

int
store_schema_migrate(sqlite3 *db, int *version, int *applied, char *err,
    size_t errlen)
{
	return store_schema_apply(db, store_migrations,
	    sizeof(store_migrations) / sizeof(store_migrations[0]), version,
	    applied, err, errlen);
}
