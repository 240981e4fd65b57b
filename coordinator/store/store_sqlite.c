/*
 * store_sqlite.c: the SQLite backend of the store (store.h): open, one
 * transaction of queued writes per flush, the integrity check. Loads are
 * in store_sqlite_load.c, the schema in store_schema.c, file permissions
 * in store_private.c.
 *
 * The database runs in WAL mode with synchronous=FULL, so a COMMIT
 * returns only after the WAL is fsynced: a flush costs one fsync however
 * many writes it carries (docs/store.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "store_sqlite_int.h"

static const char *const store_sqlite_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_WORKFLOW] = "INSERT OR REPLACE INTO workflows (name, yaml, "
	    "canonical, created_ms) VALUES (?1, ?2, ?3, ?4)",
	/* An upsert: the spec is given once (NULL after: kept), and the row
	 * keeps its rowid, which orders parents before sub-workflows. */
	[STMT_EXEC] = "INSERT INTO executions (id, workflow, state, document, "
	    "spec, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow, "
	    "state = excluded.state, document = excluded.document, "
	    "spec = coalesce(excluded.spec, spec), "
	    "updated_ms = excluded.updated_ms",
	[STMT_TASK] = "INSERT OR REPLACE INTO tasks (exec_id, seq, document) "
	    "VALUES (?1, ?2, ?3)",
	[STMT_ACTION] = "INSERT OR REPLACE INTO actions (exec_id, task_seq, "
	    "idx, document) VALUES (?1, ?2, ?3, ?4)",
	/* An upsert, not a replace: the output counters stay. */
	[STMT_STEP] = "INSERT INTO steps (id, exec_id, agent, kind, state, "
	    "spec, inputs, result, dispatched_ms, finished_ms, timeout_s) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	    "ON CONFLICT (id) DO UPDATE "
	    "SET exec_id = excluded.exec_id, agent = excluded.agent, kind = "
	    "excluded.kind, state = excluded.state, spec = excluded.spec, "
	    "inputs = excluded.inputs, result = excluded.result, "
	    "dispatched_ms = excluded.dispatched_ms, finished_ms = "
	    "excluded.finished_ms, timeout_s = excluded.timeout_s",
	[STMT_STEP_UPDATE] = "UPDATE steps SET state = ?2, result = "
	    "coalesce(?3, result), finished_ms = ?4 WHERE id = ?1",
	[STMT_OUTPUT_GET] = "SELECT output_chunks, output_kept, "
	    "output_dropped FROM steps WHERE id = ?1",
	[STMT_OUTPUT_INSERT] = "INSERT OR REPLACE INTO step_output (step_id, "
	    "seq, stream, data) VALUES (?1, ?2, ?3, ?4)",
	[STMT_OUTPUT_KEPT] = "UPDATE steps SET output_chunks = output_chunks "
	    "+ 1, output_kept = output_kept + ?2 WHERE id = ?1",
	[STMT_OUTPUT_DROPPED] = "UPDATE steps SET output_dropped = "
	    "output_dropped + ?2 WHERE id = ?1",
	[STMT_AGENT] = "INSERT OR REPLACE INTO agents (name, labels, "
	    "enrolled_ms, cert_serial, cert_fingerprint, revoked_ms) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_TOKEN] = "INSERT OR REPLACE INTO tokens (id, hash, name, "
	    "labels, expires_ms, uses_left, created_ms) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7)",
	[STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?1",
	[STMT_WORKFLOW_DELETE] = "DELETE FROM workflows WHERE name = ?1",
	[STMT_REVOCATION] = "INSERT OR REPLACE INTO revocations (serial, "
	    "revoked_ms) VALUES (?1, ?2)",
};

static void
store_sqlite_close(struct store_backend *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(b->stmt[i]);
	sqlite3_close(b->db);
	free(b->path);
	free(b);
}

/* Run a PRAGMA and, when want is not NULL, check the value it returns. */
static int
store_sqlite_pragma(struct store_backend *b, const char *sql,
    const char *want, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *got = NULL;
	int rc;

	rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			got = (const char *)sqlite3_column_text(st, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		bora_errf(err, errlen, "store open %s: %s: %s", b->path, sql,
		    sqlite3_errmsg(b->db));
		sqlite3_finalize(st);
		return -1;
	}
	if (want && (got == NULL || strcmp(got, want) != 0)) {
		bora_errf(err, errlen, "store open %s: %s gave %s, not %s",
		    b->path, sql, got ? got : "nothing", want);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static struct store_backend *
store_sqlite_open(const char *path, const struct store_options *o,
    struct store_stats *stats, char *err, size_t errlen)
{
	struct store_backend *b;
	size_t i;

	if (store_sqlite_private(path, err, errlen) != 0)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->path = strdup(path)) == NULL) {
		free(b);
		bora_errf(err, errlen, "store open %s: out of memory", path);
		return NULL;
	}
	b->output_cap = o->output_cap;
	if (sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		bora_errf(err, errlen, "store open %s: %s", path,
		    b->db ? sqlite3_errmsg(b->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(b->db, 1);
	if (store_sqlite_pragma(b, "PRAGMA journal_mode = WAL", "wal", err,
	    errlen) != 0 ||
	    store_sqlite_pragma(b, "PRAGMA synchronous = FULL", NULL, err,
	    errlen) != 0 ||
	    store_sqlite_pragma(b, "PRAGMA synchronous", "2", err,
	    errlen) != 0 ||
	    store_sqlite_pragma(b, "PRAGMA trusted_schema = OFF", NULL, err,
	    errlen) != 0)
		goto fail;
	if (store_schema_migrate(b->db, &stats->schema_version,
	    &stats->migrations_applied, err, errlen) != 0)
		goto fail;
	/* The -wal and -shm files exist now; SQLite made them with the
	 * database's mode, and this checks them. */
	if (store_sqlite_private(path, err, errlen) != 0)
		goto fail;
	for (i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(b->db, store_sqlite_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &b->stmt[i], NULL) != SQLITE_OK) {
			bora_errf(err, errlen, "store open %s: preparing %s: %s",
			    path, store_sqlite_sql[i], sqlite3_errmsg(b->db));
			goto fail;
		}
	}
	return b;
fail:
	store_sqlite_close(b);
	return NULL;
}

/* Step st to its end and reset it. op names the write for errors. */
static int
store_sqlite_run(struct store_backend *b, sqlite3_stmt *st, const char *op,
    const char *id, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		bora_errf(err, errlen, "%s%s%s: %s", op, id ? " " : "",
		    id ? id : "", sqlite3_errmsg(b->db));
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return 0;
}

static int
store_sqlite_begin(struct store_backend *b, char *err, size_t errlen)
{
	return store_sqlite_run(b, b->stmt[STMT_BEGIN], "begin", NULL, err,
	    errlen);
}

static int
store_sqlite_commit(struct store_backend *b, char *err, size_t errlen)
{
	return store_sqlite_run(b, b->stmt[STMT_COMMIT], "commit", NULL, err,
	    errlen);
}

/* After a failed write or commit. SQLite may have rolled back already
 * (on an I/O error it does). */
static void
store_sqlite_rollback(struct store_backend *b)
{
	if (!sqlite3_get_autocommit(b->db))
		store_sqlite_run(b, b->stmt[STMT_ROLLBACK], "rollback", NULL,
		    NULL, 0);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, i);
}

/* A failed bind (out of memory, too big): the statement is not run. */
static int
store_sqlite_bad_bind(struct store_backend *b, sqlite3_stmt *st,
    const char *op, const char *id, char *err, size_t errlen)
{
	bora_errf(err, errlen, "%s %s: %s", op, id, sqlite3_errmsg(b->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return -1;
}

/* Keep the chunk while the step's kept output is a prefix under the cap,
 * else count it. 0, 1 (no such step) or -1. */
static int
store_sqlite_output(struct store_backend *b, const struct store_output *o,
    char *err, size_t errlen)
{
	static const char op[] = "append_output";
	sqlite3_stmt *st = b->stmt[STMT_OUTPUT_GET];
	uint64_t chunks, kept, dropped;
	int rc;

	if (bind_text(st, 1, o->step_id) != SQLITE_OK)
		return store_sqlite_bad_bind(b, st, op, o->step_id, err, errlen);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		bora_errf(err, errlen, "%s %s: %s", op, o->step_id,
		    sqlite3_errmsg(b->db));
		rc = -1;
	} else if (rc == SQLITE_ROW) {
		chunks = (uint64_t)sqlite3_column_int64(st, 0);
		kept = (uint64_t)sqlite3_column_int64(st, 1);
		dropped = (uint64_t)sqlite3_column_int64(st, 2);
		rc = 0;
	} else
		rc = 1;         /* no such step */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != 0)
		return rc;
	if (dropped == 0 && kept + o->len <= b->output_cap) {
		st = b->stmt[STMT_OUTPUT_INSERT];
		if (bind_text(st, 1, o->step_id) ||
		    sqlite3_bind_int64(st, 2, (sqlite3_int64)chunks) ||
		    bind_text(st, 3, o->stream) ||
		    sqlite3_bind_blob64(st, 4, o->len ? o->data : "", o->len,
		    SQLITE_STATIC))
			return store_sqlite_bad_bind(b, st, op, o->step_id,
			    err, errlen);
		if (store_sqlite_run(b, st, op, o->step_id, err, errlen) != 0)
			return -1;
		st = b->stmt[STMT_OUTPUT_KEPT];
	} else
		st = b->stmt[STMT_OUTPUT_DROPPED];
	if (bind_text(st, 1, o->step_id) ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)o->len))
		return store_sqlite_bad_bind(b, st, op, o->step_id, err, errlen);
	return store_sqlite_run(b, st, op, o->step_id, err, errlen);
}

static int
store_sqlite_apply(struct store_backend *b, const struct store_write *w,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *op, *id;
	int bad = SQLITE_OK;

	switch (w->kind) {
	case STORE_W_WORKFLOW:
		st = b->stmt[STMT_WORKFLOW];
		op = "put_workflow";
		id = w->u.workflow.name;
		bad |= bind_text(st, 1, w->u.workflow.name);
		bad |= bind_text(st, 2, w->u.workflow.yaml);
		bad |= bind_text(st, 3, w->u.workflow.canonical);
		bad |= sqlite3_bind_int64(st, 4, w->u.workflow.created_ms);
		break;
	case STORE_W_EXEC:
		st = b->stmt[STMT_EXEC];
		op = "put_exec";
		id = w->u.exec.id;
		bad |= bind_text(st, 1, w->u.exec.id);
		bad |= bind_text(st, 2, w->u.exec.workflow);
		bad |= bind_text(st, 3, w->u.exec.state);
		bad |= bind_text(st, 4, w->u.exec.document);
		bad |= bind_text(st, 5, w->u.exec.spec);
		bad |= sqlite3_bind_int64(st, 6, w->u.exec.updated_ms);
		break;
	case STORE_W_ACTION:
		st = b->stmt[STMT_ACTION];
		op = "put_action";
		id = w->u.action.exec_id;
		bad |= bind_text(st, 1, w->u.action.exec_id);
		bad |= sqlite3_bind_int64(st, 2, w->u.action.task_seq);
		bad |= sqlite3_bind_int64(st, 3, w->u.action.idx);
		bad |= bind_text(st, 4, w->u.action.document);
		break;
	case STORE_W_TASK:
		st = b->stmt[STMT_TASK];
		op = "put_task";
		id = w->u.task.exec_id;
		bad |= bind_text(st, 1, w->u.task.exec_id);
		bad |= sqlite3_bind_int64(st, 2, w->u.task.seq);
		bad |= bind_text(st, 3, w->u.task.document);
		break;
	case STORE_W_STEP:
		st = b->stmt[STMT_STEP];
		op = "put_step";
		id = w->u.step.id;
		bad |= bind_text(st, 1, w->u.step.id);
		bad |= bind_text(st, 2, w->u.step.exec_id);
		bad |= bind_text(st, 3, w->u.step.agent);
		bad |= bind_text(st, 4, w->u.step.kind);
		bad |= bind_text(st, 5, store_step_state_name(w->u.step.state));
		bad |= bind_text(st, 6, w->u.step.spec);
		bad |= bind_text(st, 7, w->u.step.inputs);
		bad |= bind_text(st, 8, w->u.step.result);
		bad |= sqlite3_bind_int64(st, 9, w->u.step.dispatched_ms);
		bad |= sqlite3_bind_int64(st, 10, w->u.step.finished_ms);
		bad |= sqlite3_bind_int64(st, 11, w->u.step.timeout_s);
		break;
	case STORE_W_STEP_UPDATE:
		st = b->stmt[STMT_STEP_UPDATE];
		op = "update_step";
		id = w->u.step.id;
		bad |= bind_text(st, 1, w->u.step.id);
		bad |= bind_text(st, 2, store_step_state_name(w->u.step.state));
		bad |= bind_text(st, 3, w->u.step.result);
		bad |= sqlite3_bind_int64(st, 4, w->u.step.finished_ms);
		if (bad != SQLITE_OK)
			return store_sqlite_bad_bind(b, st, op, id, err, errlen);
		if (store_sqlite_run(b, st, op, id, err, errlen) != 0)
			return -1;
		return sqlite3_changes(b->db) == 0;   /* 1: no such step */
	case STORE_W_OUTPUT:
		return store_sqlite_output(b, &w->u.output, err, errlen);
	case STORE_W_AGENT:
		st = b->stmt[STMT_AGENT];
		op = "put_agent";
		id = w->u.agent.name;
		bad |= bind_text(st, 1, w->u.agent.name);
		bad |= bind_text(st, 2, w->u.agent.labels);
		bad |= sqlite3_bind_int64(st, 3, w->u.agent.enrolled_ms);
		bad |= bind_text(st, 4, w->u.agent.cert_serial);
		bad |= bind_text(st, 5, w->u.agent.cert_fingerprint);
		bad |= sqlite3_bind_int64(st, 6, w->u.agent.revoked_ms);
		break;
	case STORE_W_TOKEN:
		st = b->stmt[STMT_TOKEN];
		op = "put_token";
		id = w->u.token.id;
		bad |= bind_text(st, 1, w->u.token.id);
		bad |= bind_text(st, 2, w->u.token.hash);
		bad |= bind_text(st, 3, w->u.token.name);
		bad |= bind_text(st, 4, w->u.token.labels);
		bad |= sqlite3_bind_int64(st, 5, w->u.token.expires_ms);
		bad |= sqlite3_bind_int64(st, 6, w->u.token.uses_left);
		bad |= sqlite3_bind_int64(st, 7, w->u.token.created_ms);
		break;
	case STORE_W_WORKFLOW_DELETE:
		st = b->stmt[STMT_WORKFLOW_DELETE];
		op = "delete_workflow";
		id = w->u.workflow.name;
		bad |= bind_text(st, 1, w->u.workflow.name);
		break;
	case STORE_W_TOKEN_DELETE:
		st = b->stmt[STMT_TOKEN_DELETE];
		op = "delete_token";
		id = w->u.token.id;
		bad |= bind_text(st, 1, w->u.token.id);
		break;
	case STORE_W_REVOCATION:
		st = b->stmt[STMT_REVOCATION];
		op = "put_revocation";
		id = w->u.revocation.serial;
		bad |= bind_text(st, 1, w->u.revocation.serial);
		bad |= sqlite3_bind_int64(st, 2, w->u.revocation.revoked_ms);
		break;
	default:
		bora_errf(err, errlen, "write of unknown kind %d", (int)w->kind);
		return -1;
	}
	if (bad != SQLITE_OK)
		return store_sqlite_bad_bind(b, st, op, id, err, errlen);
	return store_sqlite_run(b, st, op, id, err, errlen);
}

/* PRAGMA integrity_check: one row "ok", or one row per problem. */
static int
store_sqlite_check(struct store_backend *b, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *first;
	char what[256];
	int more;

	if (sqlite3_prepare_v2(b->db, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK) {
		bora_errf(err, errlen, "store check %s: %s", b->path,
		    sqlite3_errmsg(b->db));
		return -1;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		bora_errf(err, errlen, "store check %s: integrity_check: %s",
		    b->path, sqlite3_errmsg(b->db));
		sqlite3_finalize(st);
		return -1;
	}
	first = (const char *)sqlite3_column_text(st, 0);
	if (first && strcmp(first, "ok") == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	snprintf(what, sizeof(what), "%s", first ? first : "?");
	more = sqlite3_step(st) == SQLITE_ROW;
	bora_errf(err, errlen, "store check %s: integrity_check found the "
	    "database damaged: %s%s", b->path, what, more ? " (and more)" : "");
	sqlite3_finalize(st);
	return -1;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = store_sqlite_open,
	.close = store_sqlite_close,
	.begin = store_sqlite_begin,
	.apply = store_sqlite_apply,
	.commit = store_sqlite_commit,
	.rollback = store_sqlite_rollback,
	.check = store_sqlite_check,
	.load_workflows = store_sqlite_load_workflows,
	.load_execs = store_sqlite_load_execs,
	.load_tasks = store_sqlite_load_tasks,
	.load_actions = store_sqlite_load_actions,
	.load_steps = store_sqlite_load_steps,
	.load_output = store_sqlite_load_output,
	.load_agents = store_sqlite_load_agents,
	.load_tokens = store_sqlite_load_tokens,
	.load_revocations = store_sqlite_load_revocations,
};
