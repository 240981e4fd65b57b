/* test_store.c: the coordinator's store (coordinator/store/include/store.h), SQLite. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "test_support.h"

struct fixture {
	char top[64];           /* mkdtemp */
	char dir[128];          /* top/state: the store's directory */
	char path[160];         /* dir/bora.db */
	char err[512];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->top, sizeof(f->top), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->top) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/state", f->top);
	snprintf(f->path, sizeof(f->path), "%s/bora.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	test_rmtree(f->top);
	free(f);
	return 0;
}

static struct store *
open_ok(struct fixture *f, const struct store_options *o)
{
	struct store *s = store_open(&store_sqlite_ops, f->path, o, f->err,
	    sizeof(f->err));

	if (s == NULL)
		fail_msg("store_open: %s", f->err);
	return s;
}

static void
flush_ok(struct fixture *f, struct store *s)
{
	if (store_flush(s, f->err, sizeof(f->err)) != 0)
		fail_msg("store_flush: %s", f->err);
}

static void
close_ok(struct fixture *f, struct store *s)
{
	if (store_close(s, f->err, sizeof(f->err)) != 0)
		fail_msg("store_close: %s", f->err);
}

static struct store_step
step_rec(const char *id, enum store_step_state st)
{
	struct store_step s;

	memset(&s, 0, sizeof(s));
	s.id = id;
	s.exec_id = "x-1";
	s.agent = "vm-1";
	s.kind = "script";
	s.state = st;
	s.spec = "{\"script\":\"true\"}";
	s.inputs = "{\"a\":1}";
	s.result = st == STORE_STEP_DONE ? "{\"status\":\"ok\"}" : NULL;
	s.dispatched_ms = 1000;
	s.finished_ms = st == STORE_STEP_DONE ? 2000 : 0;
	s.timeout_s = 60;
	return s;
}

/* ---- collecting loads into a string, one line per record ---- */

struct text {
	char buf[8192];
	size_t len;
	int n;
};

static void
text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t->len += (size_t)vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len,
	    fmt, ap);
	va_end(ap);
	assert_true(t->len < sizeof(t->buf));
	t->n++;
}

#define S(x) ((x) ? (x) : "NULL")

static int
got_workflow(void *user, const struct store_workflow *w)
{
	text_add(user, "%s|%s|%s|%lld\n", w->name, w->yaml, w->canonical,
	    (long long)w->created_ms);
	return 0;
}

static int
got_exec(void *user, const struct store_exec *x)
{
	text_add(user, "%s|%s|%s|%s|%s|%lld\n", x->id, x->workflow, x->state,
	    x->document, S(x->spec), (long long)x->updated_ms);
	return 0;
}

static int
got_task(void *user, const char *exec_id, unsigned seq, const char *doc)
{
	text_add(user, "%s|%u|%s\n", exec_id, seq, doc);
	return 0;
}

static int
got_action(void *user, const char *exec_id, unsigned task_seq, unsigned idx,
    const char *doc)
{
	text_add(user, "%s|%u|%u|%s\n", exec_id, task_seq, idx, doc);
	return 0;
}

static int
got_step(void *user, const struct store_step *s)
{
	text_add(user, "%s|%s|%s|%s|%s|%s|%s|%s|%lld|%lld|%u|%llu|%llu|%llu\n",
	    s->id, S(s->exec_id), s->agent, s->kind,
	    store_step_state_name(s->state), s->spec, S(s->inputs),
	    S(s->result), (long long)s->dispatched_ms,
	    (long long)s->finished_ms, (unsigned)s->timeout_s,
	    (unsigned long long)s->output_chunks,
	    (unsigned long long)s->output_kept,
	    (unsigned long long)s->output_dropped);
	return 0;
}

static int
got_output(void *user, const struct store_output *o)
{
	text_add(user, "%s|%llu|%s|%.*s\n", o->step_id,
	    (unsigned long long)o->seq, o->stream, (int)o->len,
	    (const char *)o->data);
	return 0;
}

static int
got_agent(void *user, const struct store_agent *a)
{
	text_add(user, "%s|%s|%lld|%s|%s|%lld\n", a->name, a->labels,
	    (long long)a->enrolled_ms, S(a->cert_serial),
	    S(a->cert_fingerprint), (long long)a->revoked_ms);
	return 0;
}

static int
got_token(void *user, const struct store_token *t)
{
	text_add(user, "%s|%s|%s|%s|%lld|%lld|%lld\n", t->id, t->hash,
	    S(t->name), S(t->labels), (long long)t->expires_ms,
	    (long long)t->uses_left, (long long)t->created_ms);
	return 0;
}

static int
got_revocation(void *user, const struct store_revocation *r)
{
	text_add(user, "%s|%lld\n", r->serial, (long long)r->revoked_ms);
	return 0;
}

static int
count_step(void *user, const struct store_step *s)
{
	(void)s;
	(*(int *)user)++;
	return 0;
}

/* ---- tests ---- */

/* Every table, written, closed, reopened and read back. */
static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f, NULL);
	struct store_workflow wf = { "deploy", "version: '2.0'\n",
	    "{\"version\":\"2.0\"}", 111 };
	struct store_exec x1 = { "x-1", "deploy", "RUNNING", "{\"tasks\":[]}",
	    "{\"spec\":1}", 222 };
	struct store_exec x2 = { "x-2", "deploy", "SUCCESS", "{\"done\":1}",
	    NULL, 333 };
	struct store_exec x3 = { "x-3", "deploy", "ERROR", "{\"done\":2}", NULL,
	    444 };
	struct store_step s1 = step_rec("s-1", STORE_STEP_DISPATCHED);
	struct store_step s2 = step_rec("s-2", STORE_STEP_RUNNING);
	struct store_step s3 = step_rec("s-3", STORE_STEP_DONE);
	struct store_agent a1 = { "vm-1", "{\"role\":\"db\"}", 555, "0A1B",
	    "sha256:ff", 0 };
	struct store_agent a2 = { "vm-2", "{}", 556, NULL, NULL, 777 };
	struct store_token t1 = { "t-1", "hash1", "vm-3", "{\"r\":1}", 888, 1,
	    999 };
	struct store_token t2 = { "t-2", "hash2", NULL, NULL, 889, 5, 990 };
	struct store_revocation r1 = { "0A1B", 777 };
	struct text t;
	int found = -1;

	s2.exec_id = NULL;
	s2.inputs = NULL;
	assert_int_equal(store_put_workflow(s, &wf, NULL, f->err,
	    sizeof(f->err)), 0);
	assert_int_equal(store_put_exec(s, &x1, NULL, f->err, 512), 0);
	assert_int_equal(store_put_exec(s, &x2, NULL, f->err, 512), 0);
	assert_int_equal(store_put_exec(s, &x3, NULL, f->err, 512), 0);
	assert_int_equal(store_put_task(s, "x-1", 0, "{\"t\":0}", NULL,
	    f->err, 512), 0);
	assert_int_equal(store_put_task(s, "x-1", 1, "{\"t\":1}", NULL,
	    f->err, 512), 0);
	assert_int_equal(store_put_task(s, "x-2", 0, "{\"t\":2}", NULL,
	    f->err, 512), 0);
	{
		struct store_action ac0 = { "x-1", 1, 0, "{\"a\":0}" };
		struct store_action ac1 = { "x-1", 1, 1, "{\"a\":1}" };
		struct store_action bc0 = { "x-2", 1, 0, "{\"b\":0}" };

		assert_int_equal(store_put_action(s, &ac1, NULL, f->err, 512),
		    0);
		assert_int_equal(store_put_action(s, &ac0, NULL, f->err, 512),
		    0);
		assert_int_equal(store_put_action(s, &bc0, NULL, f->err, 512),
		    0);
		ac1.document = "{\"a\":\"1b\"}";    /* replaced */
		assert_int_equal(store_put_action(s, &ac1, NULL, f->err, 512),
		    0);
	}
	assert_int_equal(store_put_step(s, &s1, NULL, f->err, 512), 0);
	assert_int_equal(store_put_step(s, &s2, NULL, f->err, 512), 0);
	assert_int_equal(store_put_step(s, &s3, NULL, f->err, 512), 0);
	assert_int_equal(store_append_output(s, "s-2", "stdout", "hello\n", 6,
	    NULL, f->err, 512), 0);
	assert_int_equal(store_append_output(s, "s-2", "stderr", "oops\n", 5,
	    NULL, f->err, 512), 0);
	assert_int_equal(store_put_agent(s, &a1, NULL, f->err, 512), 0);
	assert_int_equal(store_put_agent(s, &a2, NULL, f->err, 512), 0);
	assert_int_equal(store_put_token(s, &t1, NULL, f->err, 512), 0);
	assert_int_equal(store_put_token(s, &t2, NULL, f->err, 512), 0);
	assert_int_equal(store_put_revocation(s, &r1, NULL, f->err, 512), 0);
	flush_ok(f, s);
	/* Later turns: a step finishes, a token is used up. */
	assert_int_equal(store_update_step(s, "s-1", STORE_STEP_DONE,
	    "{\"status\":\"failed\"}", 3000, NULL, f->err, 512), 0);
	assert_int_equal(store_delete_token(s, "t-1", NULL, f->err, 512), 0);
	assert_int_equal(store_put_task(s, "x-1", 0, "{\"t\":\"0b\"}", NULL,
	    f->err, 512), 0);
	x1.state = "PAUSED";
	x1.updated_ms = 223;
	assert_int_equal(store_put_exec(s, &x1, NULL, f->err, 512), 0);
	close_ok(f, s);         /* flushes */

	s = open_ok(f, NULL);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_workflows(s, got_workflow, &t, f->err,
	    512), 0);
	assert_string_equal(t.buf,
	    "deploy|version: '2.0'\n|{\"version\":\"2.0\"}|111\n");

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_active_execs(s, got_exec, &t, f->err,
	    512), 0);
	assert_string_equal(t.buf,
	    "x-1|deploy|PAUSED|{\"tasks\":[]}|{\"spec\":1}|223\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_tasks(s, "x-1", got_task, &t, f->err, 512),
	    0);
	assert_string_equal(t.buf, "x-1|0|{\"t\":\"0b\"}\nx-1|1|{\"t\":1}\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_actions(s, "x-1", got_action, &t, f->err,
	    512), 0);
	assert_string_equal(t.buf, "x-1|1|0|{\"a\":0}\n"
	    "x-1|1|1|{\"a\":\"1b\"}\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_finished_execs(s, 0, 10, got_exec, &t,
	    f->err, 512), 0);
	assert_string_equal(t.buf, "x-3|deploy|ERROR|{\"done\":2}|NULL|444\n"
	    "x-2|deploy|SUCCESS|{\"done\":1}|NULL|333\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_finished_execs(s, 1, 10, got_exec, &t,
	    f->err, 512), 0);
	assert_string_equal(t.buf, "x-2|deploy|SUCCESS|{\"done\":1}|NULL|333\n");

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_unfinished_steps(s, got_step, &t, f->err,
	    512), 0);
	assert_string_equal(t.buf, "s-2|NULL|vm-1|script|running|"
	    "{\"script\":\"true\"}|NULL|NULL|1000|0|60|2|11|0\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_step(s, "s-1", got_step, &t, &found,
	    f->err, 512), 0);
	assert_int_equal(found, 1);
	assert_string_equal(t.buf, "s-1|x-1|vm-1|script|done|"
	    "{\"script\":\"true\"}|{\"a\":1}|{\"status\":\"failed\"}|1000|3000|60|"
	    "0|0|0\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_step(s, "s-3", got_step, &t, &found,
	    f->err, 512), 0);
	assert_string_equal(t.buf, "s-3|x-1|vm-1|script|done|"
	    "{\"script\":\"true\"}|{\"a\":1}|{\"status\":\"ok\"}|1000|2000|60|"
	    "0|0|0\n");
	assert_int_equal(store_get_step(s, "nope", got_step, &t, &found,
	    f->err, 512), 0);
	assert_int_equal(found, 0);

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_output(s, "s-2", 0, 100, got_output, &t,
	    f->err, 512), 0);
	assert_string_equal(t.buf, "s-2|0|stdout|hello\n\ns-2|1|stderr|oops\n\n");

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_agents(s, got_agent, &t, f->err, 512), 0);
	assert_string_equal(t.buf, "vm-1|{\"role\":\"db\"}|555|0A1B|sha256:ff|0\n"
	    "vm-2|{}|556|NULL|NULL|777\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_tokens(s, got_token, &t, f->err, 512), 0);
	assert_string_equal(t.buf, "t-2|hash2|NULL|NULL|889|5|990\n");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_revocations(s, got_revocation, &t, f->err,
	    512), 0);
	assert_string_equal(t.buf, "0A1B|777\n");
	close_ok(f, s);
}

/* Migrations run at the first open only; a newer schema is refused; a
 * failing migration leaves nothing of itself. */
static void
test_migrations(void **state)
{
	static const struct store_migration bad[] = {
		{ 1, "first", "CREATE TABLE one (a);" },
		{ 2, "broken", "CREATE TABLE two (a); INSERT INTO nowhere "
		  "VALUES (1);" },
	};
	struct fixture *f = *state;
	struct store_stats st;
	struct store *s;
	sqlite3 *db;
	int version = -1, applied = -1;

	s = open_ok(f, NULL);
	store_get_stats(s, &st);
	assert_int_equal(st.migrations_applied, 2);
	assert_int_equal(st.schema_version, 2);
	close_ok(f, s);
	s = open_ok(f, NULL);
	store_get_stats(s, &st);
	assert_int_equal(st.migrations_applied, 0);
	assert_int_equal(st.schema_version, 2);
	close_ok(f, s);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM schema_version",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES "
	    "(99, 0, 'future')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(&store_sqlite_ops, f->path, NULL, f->err,
	    sizeof(f->err)));
	assert_non_null(strstr(f->err, "schema version 99, newer than this "
	    "coordinator's 2"));

	/* The mechanism on a database of its own. */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(store_schema_apply(db, bad, 1, &version, &applied,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(version, 1);
	assert_int_equal(applied, 1);
	assert_int_equal(store_schema_apply(db, bad, 2, &version, &applied,
	    f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "migration 2 (broken): no such table: "
	    "nowhere"));
	assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM two", NULL, NULL,
	    NULL), SQLITE_OK);      /* rolled back with it */
	assert_int_equal(store_schema_apply(db, bad, 1, &version, &applied,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(version, 1);
	assert_int_equal(applied, 0);
	sqlite3_close(db);
}

static mode_t
mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static void
test_permissions(void **state)
{
	struct fixture *f = *state;
	char wal[200], shm[200];
	struct store *s;
	int fd;

	/* Created private. */
	s = open_ok(f, NULL);
	close_ok(f, s);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(f->path), 0600);

	/* Opened up by someone: made private again at open, -wal and -shm
	 * included. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	snprintf(shm, sizeof(shm), "%s-shm", f->path);
	fd = open(wal, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(wal, 0644), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0644), 0);
	s = open_ok(f, NULL);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(f->path), 0600);
	assert_int_equal(mode_of(wal), 0600);
	assert_int_equal(mode_of(shm), 0600);
	close_ok(f, s);
}

static void
test_symlink_refused(void **state)
{
	struct fixture *f = *state;
	char other[200], wal[200];
	struct store *s;

	s = open_ok(f, NULL);
	close_ok(f, s);
	snprintf(other, sizeof(other), "%s/other.db", f->top);
	assert_int_equal(rename(f->path, other), 0);
	assert_int_equal(symlink(other, f->path), 0);
	assert_null(store_open(&store_sqlite_ops, f->path, NULL, f->err,
	    sizeof(f->err)));
	assert_non_null(strstr(f->err, "it is a symbolic link"));
	assert_int_equal(mode_of(other), 0600);

	/* A link in place of the -wal file. */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(rename(other, f->path), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	unlink(wal);
	assert_int_equal(symlink(other, wal), 0);
	assert_null(store_open(&store_sqlite_ops, f->path, NULL, f->err,
	    sizeof(f->err)));
	assert_non_null(strstr(f->err, "-wal: it is a symbolic link"));

	/* A hard link to the file. */
	assert_int_equal(unlink(wal), 0);
	assert_int_equal(link(f->path, other), 0);
	assert_null(store_open(&store_sqlite_ops, f->path, NULL, f->err,
	    sizeof(f->err)));
	assert_non_null(strstr(f->err, "more than one hard link"));
}

/* The directory is made 0700: one that cannot be the store's own is
 * refused before anything is changed or created. */
static void
test_shared_dir_refused(void **state)
{
	struct fixture *f = *state;
	struct stat before, after;

	assert_int_equal(stat("/tmp", &before), 0);
	assert_null(store_open(&store_sqlite_ops, "/tmp/test_store_refused.db",
	    NULL, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "shared (sticky)"));
	assert_int_equal(access("/tmp/test_store_refused.db", F_OK), -1);
	assert_int_equal(stat("/tmp", &after), 0);
	assert_int_equal(before.st_mode, after.st_mode);

	assert_int_equal(stat("/", &before), 0);
	assert_null(store_open(&store_sqlite_ops, "/test_store_refused.db",
	    NULL, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "it is /;"));
	assert_int_equal(access("/test_store_refused.db", F_OK), -1);
	assert_int_equal(stat("/", &after), 0);
	assert_int_equal(before.st_mode, after.st_mode);
}

static void
test_output_cap(void **state)
{
	struct fixture *f = *state;
	struct store_options o = { .output_cap = 100 };
	struct store_step st = step_rec("s-1", STORE_STEP_RUNNING);
	struct store_stats stats;
	char chunk[40];
	struct store *s;
	struct text t;
	int i;

	memset(chunk, 'x', sizeof(chunk));
	s = open_ok(f, &o);
	assert_int_equal(store_put_step(s, &st, NULL, f->err, 512), 0);
	/* 40 + 40 kept; 40 more would pass 100: counted, and so is every
	 * chunk after it, even one that would fit (kept is a prefix). */
	for (i = 0; i < 3; i++)
		assert_int_equal(store_append_output(s, "s-1", "stdout", chunk,
		    sizeof(chunk), NULL, f->err, 512), 0);
	flush_ok(f, s);
	assert_int_equal(store_append_output(s, "s-1", "stdout", "tiny", 4,
	    NULL, f->err, 512), 0);
	assert_int_equal(store_append_output(s, "s-9", "stdout", "lost", 4,
	    NULL, f->err, 512), 0);
	/* A later put of the step keeps its counters. */
	st.state = STORE_STEP_DONE;
	st.result = "{}";
	assert_int_equal(store_put_step(s, &st, NULL, f->err, 512), 0);
	flush_ok(f, s);
	store_get_stats(s, &stats);
	assert_int_equal(stats.orphans, 1);
	close_ok(f, s);

	s = open_ok(f, &o);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_step(s, "s-1", got_step, &t, NULL, f->err,
	    512), 0);
	assert_non_null(strstr(t.buf, "|2|80|44\n"));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_output(s, "s-1", 1, 10, got_output, &t,
	    f->err, 512), 0);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.buf, "s-1|1|stdout|xxxx"));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_output(s, "s-1", 0, 1, got_output, &t,
	    f->err, 512), 0);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.buf, "s-1|0|stdout|"));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_load_output(s, "s-9", 0, 10, got_output, &t,
	    f->err, 512), 0);
	assert_int_equal(t.n, 0);
	close_ok(f, s);
}

static void
put_steps(struct store *s, int n, uint64_t *last)
{
	struct store_step st;
	char id[32], err[256];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "s-%04d", i);
		st = step_rec(id, STORE_STEP_DISPATCHED);
		if (store_put_step(s, &st, last, err, sizeof(err)) != 0)
			fail_msg("%s", err);
	}
}

static int
count_unfinished(struct fixture *f)
{
	struct store *s = open_ok(f, NULL);
	int n = 0;

	assert_int_equal(store_load_unfinished_steps(s, count_step, &n, f->err,
	    sizeof(f->err)), 0);
	close_ok(f, s);
	return n;
}

/* 1000 puts, one flush: one transaction, all there after reopen. */
static void
test_batching(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f, NULL);
	struct store_stats st;

	put_steps(s, 1000, NULL);
	store_get_stats(s, &st);
	assert_int_equal(st.pending, 1000);
	assert_int_equal(st.flushes, 0);
	flush_ok(f, s);
	store_get_stats(s, &st);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.pending_bytes, 0);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(st.durable_seq, 1000);
	flush_ok(f, s);         /* empty: no transaction */
	store_get_stats(s, &st);
	assert_int_equal(st.flushes, 1);
	store_abandon(s);       /* nothing pending: loses nothing */
	assert_int_equal(count_unfinished(f), 1000);
}

/* Writes not flushed when the process dies are not there; flushed ones
 * are, even with no close. */
static void
test_death_before_flush(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f, NULL);
	pid_t pid;
	int status;

	put_steps(s, 10, NULL);
	store_abandon(s);
	assert_int_equal(count_unfinished(f), 0);

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];

		s = store_open(&store_sqlite_ops, f->path, NULL, err,
		    sizeof(err));
		if (s == NULL)
			_exit(2);
		put_steps(s, 5, NULL);
		if (store_flush(s, err, sizeof(err)) != 0)
			_exit(3);
		put_steps(s, 100, NULL);    /* s-0000.. again and more */
		_exit(0);               /* dies: no flush, no close */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_unfinished(f), 5);
}

/* Sequence numbers and what durable means. */
static void
test_durable_seq(void **state)
{
	struct fixture *f = *state;
	struct store_options o = { .pending_max = 4096 };
	struct store *s = open_ok(f, &o);
	struct store_step st = step_rec("s-1", STORE_STEP_DISPATCHED);
	struct store_stats stats;
	uint64_t a = 0, b = 0, c = 0;

	assert_int_equal(store_durable_seq(s), 0);
	assert_int_equal(store_pending(s), 0);
	assert_int_equal(store_put_step(s, &st, &a, f->err, 512), 0);
	assert_int_equal(store_update_step(s, "s-1", STORE_STEP_RUNNING, NULL,
	    0, &b, f->err, 512), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_true(store_durable_seq(s) < a);
	assert_int_equal(store_pending(s), 1);
	flush_ok(f, s);
	assert_true(store_durable_seq(s) >= b);
	assert_int_equal(store_pending(s), 0);
	assert_int_equal(store_update_step(s, "s-1", STORE_STEP_DONE, "{}",
	    5, &c, f->err, 512), 0);
	assert_int_equal(c, 3);
	assert_true(store_durable_seq(s) < c);      /* not yet: no ack */

	/* A write that is refused gets no number. */
	st.agent = NULL;
	assert_int_equal(store_put_step(s, &st, &a, f->err, sizeof(f->err)),
	    -1);
	assert_string_equal(f->err, "store put_step: the record has no agent");
	assert_int_equal(a, 1);
	/* A full queue refuses until a flush. */
	st.agent = "vm-1";
	while (store_put_step(s, &st, NULL, f->err, sizeof(f->err)) == 0)
		;
	assert_non_null(strstr(f->err, "flush first"));
	store_get_stats(s, &stats);
	assert_true(stats.pending_bytes <= 4096);
	flush_ok(f, s);
	assert_int_equal(store_durable_seq(s), stats.last_seq);
	assert_int_equal(store_put_step(s, &st, &a, f->err, 512), 0);
	assert_int_equal(a, stats.last_seq + 1);
	close_ok(f, s);
}

/* The child of test_io_error: an exit code per failed check. */
static int
io_error_child(struct fixture *f)
{
	static char big[256 * 1024];
	struct store_step st = step_rec("s-big", STORE_STEP_DISPATCHED);
	struct rlimit rl;
	struct store *s;
	uint64_t seq, before;
	char err[512];
	int rc = 0;

	memset(big, 'x', sizeof(big) - 1);
	st.spec = big;
	if ((s = store_open(&store_sqlite_ops, f->path, NULL, err,
	    sizeof(err))) == NULL)
		return 10;
	before = store_durable_seq(s);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = 64 * 1024;        /* a full disk, for this process */
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 11;
	if (store_put_step(s, &st, &seq, err, sizeof(err)) != 0)
		return 12;
	if (store_flush(s, err, sizeof(err)) != -1)
		return 13;
	fprintf(stderr, "expected error: %s\n", err);
	if (strstr(err, "store flush of 1 writes failed, kept for the next "
	    "flush: put_step s-big: ") == NULL &&
	    strstr(err, "flush: commit: ") == NULL)
		rc = 14;
	if (strstr(err, "disk I/O error") == NULL &&
	    strstr(err, "database or disk is full") == NULL)
		rc = 15;
	if (store_durable_seq(s) != before || !store_pending(s))
		rc = 16;
	rl.rlim_cur = rl.rlim_max;      /* space again: the retry works */
	setrlimit(RLIMIT_FSIZE, &rl);
	if (store_flush(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "retry: %s\n", err);
		rc = 17;
	}
	if (store_durable_seq(s) != seq)
		rc = 18;
	if (store_close(s, err, sizeof(err)) != 0)
		rc = 19;
	return rc;
}

/* A write error (the file size limit standing in for a full disk) is
 * reported, nothing is durable, and the queue is kept for a retry. */
static void
test_io_error(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f, NULL);
	pid_t pid;
	int status, found = 0;

	close_ok(f, s);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(io_error_child(f));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	s = open_ok(f, NULL);
	assert_int_equal(store_get_step(s, "s-big", NULL, NULL, &found, f->err,
	    512), 0);
	assert_int_equal(found, 1);
	assert_int_equal(store_check(s, f->err, sizeof(f->err)), 0);
	close_ok(f, s);
}

static void
test_integrity(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f, NULL);
	sqlite3 *db;

	put_steps(s, 50, NULL);
	flush_ok(f, s);
	assert_int_equal(store_check(s, f->err, sizeof(f->err)), 0);
	close_ok(f, s);

	/* Damage an index behind SQLite's back: its definition no longer
	 * matches its entries. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA writable_schema = ON; "
	    "UPDATE sqlite_schema SET sql = 'CREATE INDEX steps_exec ON steps "
	    "(agent)' WHERE name = 'steps_exec'", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	s = open_ok(f, NULL);
	assert_int_equal(store_check(s, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "integrity_check found the database "
	    "damaged: "));
	assert_non_null(strstr(f->err, "steps_exec"));
	close_ok(f, s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shared_dir_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_output_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_death_before_flush, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_durable_seq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_io_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_integrity, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
