/*
 * store_sqlite_load.c: reading the SQLite store back (store.h loads).
 * Each load prepares its query (loads are rare: start-up and `bora logs`)
 * and hands every row to the caller's callback; the record's pointers
 * point into SQLite's row and are valid during that call only.
 */
#include <stdint.h>
#include <string.h>

#include "errbuf.h"
#include "store_sqlite_int.h"

#define TEXT(st, i)  ((const char *)sqlite3_column_text((st), (i)))

/* The caller's callback, of the load's type. */
union store_cb {
	store_workflow_cb workflow;
	store_exec_cb exec;
	store_task_cb task;
	store_action_cb action;
	store_step_cb step;
	store_output_cb output;
	store_agent_cb agent;
	store_token_cb token;
	store_revocation_cb revocation;
};

/* Row readers: fill a record from the current row and call back. */
typedef int (*store_row_fn)(sqlite3_stmt *st, union store_cb cb, void *user);

/* Values to bind: text (NULL: none) then up to two integers. */
struct store_query {
	const char *what;       /* for errors: "load_steps" */
	const char *sql;
	const char *text;
	int nint;
	int64_t ints[2];
};

/* Run q, calling row for each row. */
static int
store_sqlite_query(struct store_backend *b, const struct store_query *q,
    store_row_fn row, union store_cb cb, void *user, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc, i, bad = SQLITE_OK, idx = 1;

	if (sqlite3_prepare_v2(b->db, q->sql, -1, &st, NULL) != SQLITE_OK) {
		bora_errf(err, errlen, "store %s: %s", q->what,
		    sqlite3_errmsg(b->db));
		return -1;
	}
	if (q->text)
		bad |= sqlite3_bind_text(st, idx++, q->text, -1, SQLITE_STATIC);
	for (i = 0; i < q->nint; i++)
		bad |= sqlite3_bind_int64(st, idx++, q->ints[i]);
	if (bad != SQLITE_OK) {
		bora_errf(err, errlen, "store %s: %s", q->what,
		    sqlite3_errmsg(b->db));
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, cb, user) != 0) {
			bora_errf(err, errlen, "store %s: stopped by the caller",
			    q->what);
			sqlite3_finalize(st);
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		bora_errf(err, errlen, "store %s: %s", q->what,
		    sqlite3_errmsg(b->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* SQLite's limits are signed; a caller's UINT64_MAX means "all". */
static int64_t
store_clamp(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int
store_row_workflow(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_workflow w;

	w.name = TEXT(st, 0);
	w.yaml = TEXT(st, 1);
	w.canonical = TEXT(st, 2);
	w.created_ms = sqlite3_column_int64(st, 3);
	return cb.workflow(user, &w);
}

int
store_sqlite_load_workflows(struct store_backend *b, store_workflow_cb cb,
    void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_workflows", "SELECT name, yaml, "
	    "canonical, created_ms FROM workflows ORDER BY name", NULL, 0,
	    { 0, 0 } };

	return store_sqlite_query(b, &q, store_row_workflow,
	    (union store_cb){ .workflow = cb }, user,
	    err, errlen);
}

static int
store_row_exec(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_exec x;

	x.id = TEXT(st, 0);
	x.workflow = TEXT(st, 1);
	x.state = TEXT(st, 2);
	x.document = TEXT(st, 3);
	x.spec = TEXT(st, 4);
	x.updated_ms = sqlite3_column_int64(st, 5);
	return cb.exec(user, &x);
}

int
store_sqlite_load_execs(struct store_backend *b, int finished,
    uint64_t offset, uint64_t limit, store_exec_cb cb, void *user, char *err,
    size_t errlen)
{
	struct store_query q = { "load_active_execs", "SELECT id, workflow, "
	    "state, document, spec, updated_ms FROM executions WHERE state NOT IN "
	    "('SUCCESS', 'ERROR', 'CANCELLED') ORDER BY rowid", NULL, 0,
	    { 0, 0 } };

	if (finished) {
		q.what = "load_finished_execs";
		q.sql = "SELECT id, workflow, state, document, spec, updated_ms "
		    "FROM "
		    "executions WHERE state IN ('SUCCESS', 'ERROR', "
		    "'CANCELLED') ORDER BY updated_ms DESC, id DESC LIMIT ?1 "
		    "OFFSET ?2";
		q.nint = 2;
		q.ints[0] = store_clamp(limit);
		q.ints[1] = store_clamp(offset);
	}
	return store_sqlite_query(b, &q, store_row_exec,
	    (union store_cb){ .exec = cb }, user, err,
	    errlen);
}

static int
store_row_task(sqlite3_stmt *st, union store_cb cb, void *user)
{
	return cb.task(user, TEXT(st, 0), (unsigned)sqlite3_column_int64(st, 1),
	    TEXT(st, 2));
}

static int
store_row_action(sqlite3_stmt *st, union store_cb cb, void *user)
{
	return cb.action(user, TEXT(st, 0),
	    (unsigned)sqlite3_column_int64(st, 1),
	    (unsigned)sqlite3_column_int64(st, 2), TEXT(st, 3));
}

int
store_sqlite_load_actions(struct store_backend *b, const char *exec_id,
    store_action_cb cb, void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_actions", "SELECT exec_id, task_seq, "
	    "idx, document FROM actions WHERE exec_id = ?1 ORDER BY task_seq, "
	    "idx", exec_id, 0, { 0, 0 } };

	return store_sqlite_query(b, &q, store_row_action,
	    (union store_cb){ .action = cb }, user, err, errlen);
}

int
store_sqlite_load_tasks(struct store_backend *b, const char *exec_id,
    store_task_cb cb, void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_tasks", "SELECT exec_id, seq, document "
	    "FROM tasks WHERE exec_id = ?1 ORDER BY seq", exec_id, 0,
	    { 0, 0 } };

	return store_sqlite_query(b, &q, store_row_task,
	    (union store_cb){ .task = cb }, user, err, errlen);
}

static int
store_row_step(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_step s;

	memset(&s, 0, sizeof(s));
	s.id = TEXT(st, 0);
	s.exec_id = TEXT(st, 1);
	s.agent = TEXT(st, 2);
	s.kind = TEXT(st, 3);
	if (store_step_state_parse(TEXT(st, 4), &s.state) != 0)
		s.state = STORE_STEP_DISPATCHED;  /* the CHECK forbids it */
	s.spec = TEXT(st, 5);
	s.inputs = TEXT(st, 6);
	s.result = TEXT(st, 7);
	s.dispatched_ms = sqlite3_column_int64(st, 8);
	s.finished_ms = sqlite3_column_int64(st, 9);
	s.timeout_s = (uint32_t)sqlite3_column_int64(st, 10);
	s.output_chunks = (uint64_t)sqlite3_column_int64(st, 11);
	s.output_kept = (uint64_t)sqlite3_column_int64(st, 12);
	s.output_dropped = (uint64_t)sqlite3_column_int64(st, 13);
	return cb.step(user, &s);
}

#define STORE_STEP_COLUMNS "id, exec_id, agent, kind, state, spec, inputs, " \
	"result, dispatched_ms, finished_ms, timeout_s, output_chunks, output_kept, " \
	"output_dropped"

int
store_sqlite_load_steps(struct store_backend *b, const char *id,
    store_step_cb cb, void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_unfinished_steps", "SELECT "
	    STORE_STEP_COLUMNS " FROM steps WHERE state <> 'done' ORDER BY "
	    "dispatched_ms, id", NULL, 0, { 0, 0 } };

	if (id) {
		q.what = "get_step";
		q.sql = "SELECT " STORE_STEP_COLUMNS " FROM steps WHERE id = ?1";
		q.text = id;
	}
	return store_sqlite_query(b, &q, store_row_step,
	    (union store_cb){ .step = cb }, user, err,
	    errlen);
}

static int
store_row_output(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_output o;

	o.step_id = TEXT(st, 0);
	o.seq = (uint64_t)sqlite3_column_int64(st, 1);
	o.stream = TEXT(st, 2);
	o.data = sqlite3_column_blob(st, 3);
	o.len = (size_t)sqlite3_column_bytes(st, 3);
	if (o.data == NULL)
		o.data = "";
	return cb.output(user, &o);
}

int
store_sqlite_load_output(struct store_backend *b, const char *step_id,
    uint64_t offset, uint64_t limit, store_output_cb cb, void *user,
    char *err, size_t errlen)
{
	struct store_query q = { "load_output", "SELECT step_id, seq, stream, "
	    "data FROM step_output WHERE step_id = ?1 AND seq >= ?2 ORDER BY "
	    "seq LIMIT ?3", step_id, 2,
	    { store_clamp(offset), store_clamp(limit) } };

	if (step_id == NULL) {
		bora_errf(err, errlen, "store load_output: no step id");
		return -1;
	}
	return store_sqlite_query(b, &q, store_row_output,
	    (union store_cb){ .output = cb }, user,
	    err, errlen);
}

static int
store_row_agent(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_agent a;

	a.name = TEXT(st, 0);
	a.labels = TEXT(st, 1);
	a.enrolled_ms = sqlite3_column_int64(st, 2);
	a.cert_serial = TEXT(st, 3);
	a.cert_fingerprint = TEXT(st, 4);
	a.revoked_ms = sqlite3_column_int64(st, 5);
	return cb.agent(user, &a);
}

int
store_sqlite_load_agents(struct store_backend *b, store_agent_cb cb,
    void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_agents", "SELECT name, labels, "
	    "enrolled_ms, cert_serial, cert_fingerprint, revoked_ms FROM "
	    "agents ORDER BY name", NULL, 0, { 0, 0 } };

	return store_sqlite_query(b, &q, store_row_agent,
	    (union store_cb){ .agent = cb }, user,
	    err, errlen);
}

static int
store_row_token(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_token t;

	t.id = TEXT(st, 0);
	t.hash = TEXT(st, 1);
	t.name = TEXT(st, 2);
	t.labels = TEXT(st, 3);
	t.expires_ms = sqlite3_column_int64(st, 4);
	t.uses_left = sqlite3_column_int64(st, 5);
	t.created_ms = sqlite3_column_int64(st, 6);
	return cb.token(user, &t);
}

int
store_sqlite_load_tokens(struct store_backend *b, store_token_cb cb,
    void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_tokens", "SELECT id, hash, name, "
	    "labels, expires_ms, uses_left, created_ms FROM tokens ORDER BY id",
	    NULL, 0, { 0, 0 } };

	return store_sqlite_query(b, &q, store_row_token,
	    (union store_cb){ .token = cb }, user,
	    err, errlen);
}

static int
store_row_revocation(sqlite3_stmt *st, union store_cb cb, void *user)
{
	struct store_revocation r;

	r.serial = TEXT(st, 0);
	r.revoked_ms = sqlite3_column_int64(st, 1);
	return cb.revocation(user, &r);
}

int
store_sqlite_load_revocations(struct store_backend *b,
    store_revocation_cb cb, void *user, char *err, size_t errlen)
{
	struct store_query q = { "load_revocations", "SELECT serial, "
	    "revoked_ms FROM revocations ORDER BY serial", NULL, 0, { 0, 0 } };

	return store_sqlite_query(b, &q, store_row_revocation,
	    (union store_cb){ .revocation = cb },
	    user, err, errlen);
}
