/*
 * test_agent_steps.c: the step module through its API (agent_steps.h) in a
 * real lws loop, with real processes, a real journal and a fake connection:
 * launching (step_launch.c), watching (step_watch.c), stopping
 * (step_stop.c) and the journal at start and on ack (step_journal.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "exec.h"
#include "steps_fake_conn.h"
#include "test_support.h"

#define WAIT_MS 10000           /* the longest a step here may take */

static char state_dir[64];
static struct agent_config cfg;
static struct lws_context *ctx;
static struct lws_protocols protos[2];
static lws_sorted_usec_list_t tick;

/* Wake the loop every 20 ms, so that run_until() sees its deadline. */
static void
on_tick(lws_sorted_usec_list_t *sul)
{
	lws_sul_schedule(ctx, 0, sul, on_tick, 20 * LWS_US_PER_MS);
}

static void
start(void)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	memset(protos, 0, sizeof(protos));
	protos[0] = steps_pipe_protocol;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protos;
	info.vhost_name = STEPS_VHOST;
	ctx = lws_create_context(&info);
	assert_non_null(ctx);
	memset(&tick, 0, sizeof(tick));
	lws_sul_schedule(ctx, 0, &tick, on_tick, 20 * LWS_US_PER_MS);
	assert_int_equal(steps_init(ctx, &cfg), 0);
}

static void
stop(void)
{
	steps_shutdown();
	lws_sul_cancel(&tick);
	lws_context_destroy(ctx);
	ctx = NULL;
}

static int
setup(void **state)
{
	(void)state;
	lws_set_log_level(LLL_ERR, NULL);
	snprintf(state_dir, sizeof(state_dir), "/tmp/bora-test-steps-XXXXXX");
	if (mkdtemp(state_dir) == NULL)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = state_dir;
	cfg.max_output_bytes = 16 * 1024 * 1024;
	fake_conn_reset();
	start();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	stop();
	fake_conn_clear();
	return test_rmtree(state_dir);
}

/* Messages of type for step sent so far. */
static size_t
count(const char *type, const char *step)
{
	json_t *a = fake_conn_find(type, step);
	size_t n = json_array_size(a);

	json_decref(a);
	return n;
}

/* Serve the loop until step has n result messages, or fail. */
static void
wait_results(const char *step, size_t n)
{
	int64_t deadline = bora_mono_ms() + WAIT_MS;

	while (count("result", step) < n) {
		if (bora_mono_ms() > deadline)
			fail_msg("no result for %s in %d ms", step, WAIT_MS);
		lws_service(ctx, 0);
	}
}

/* Serve the loop until *flag is set, or fail. */
static void
wait_flag(const int *flag, const char *what)
{
	int64_t deadline = bora_mono_ms() + WAIT_MS;

	while (!*flag) {
		if (bora_mono_ms() > deadline)
			fail_msg("%s did not happen in %d ms", what, WAIT_MS);
		lws_service(ctx, 0);
	}
}

/* 1 when pid is gone or a zombie (nothing of it runs). */
static int
dead(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && (p[2] == 'Z' || p[2] == 'X');
}

/* Serve the loop for ms. */
static void
serve(int ms)
{
	int64_t deadline = bora_mono_ms() + ms;

	while (bora_mono_ms() < deadline)
		lws_service(ctx, 0);
}

/* The last result message of step, a new reference. */
static json_t *
last_result(const char *step)
{
	json_t *a = fake_conn_find("result", step), *r;

	assert_true(json_array_size(a) > 0);
	r = json_incref(json_array_get(a, json_array_size(a) - 1));
	json_decref(a);
	return r;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
run_kind(const char *step, const char *kind, const char *script,
    uint32_t timeout_s)
{
	struct bora_run run;

	memset(&run, 0, sizeof(run));
	run.step = step;
	run.kind = kind;
	run.spec = script ? json_pack("{s:s}", "script", script) :
	    json_object();
	run.timeout_s = timeout_s;
	assert_non_null(run.spec);
	steps_on_run(&run);
	json_decref(run.spec);
}

static void
run_script(const char *step, const char *script, uint32_t timeout_s)
{
	run_kind(step, "script", script, timeout_s);
}

/* 1 when STATE/<where><step> exists. */
static int
exists(const char *where, const char *step)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s%s", state_dir, where, step);
	return lstat(path, &sb) == 0;
}

/* run: accept, both streams, the result with the runner's outputs,
 * journaled; ack: the directory and the entry go. */
static void
test_run_and_ack(void **state)
{
	const char *id = "e1.run.0.1";
	json_t *r, *a, *outs;
	char *out, *err;

	(void)state;
	run_script(id, "echo out; echo err >&2; exit 3", 30);
	a = steps_running_json();
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(json_string_value(json_array_get(a, 0)), id);
	json_decref(a);
	assert_true(exists("journal/step.", id));
	wait_results(id, 1);
	assert_int_equal(count("accept", id), 1);
	out = fake_conn_output(id, "stdout");
	err = fake_conn_output(id, "stderr");
	assert_string_equal(out, "out\n");
	assert_string_equal(err, "err\n");
	free(out);
	free(err);
	r = last_result(id);
	assert_string_equal(str(r, "status"), "failed");
	assert_int_equal(json_integer_value(json_object_get(r,
	    "exit_code")), 3);
	outs = json_object_get(r, "outputs");
	assert_string_equal(str(outs, "deploy_stdout"), "out\n");
	assert_string_equal(str(outs, "deploy_stderr"), "err\n");
	json_decref(r);
	a = steps_running_json();
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	a = steps_unacked_json();
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	assert_true(exists("steps/", id));
	steps_on_ack(id);
	assert_false(exists("steps/", id));
	assert_false(exists("journal/step.", id));
	a = steps_unacked_json();
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	steps_on_ack(id);               /* unknown now: ignored */
}

/* A run for a running step starts nothing; for a finished one its result
 * is sent again; an ack while it runs is ignored. */
static void
test_run_twice(void **state)
{
	const char *id = "e1.twice.0.1";
	json_t *a;

	(void)state;
	run_script(id, "sleep 0.3; echo once", 30);
	run_script(id, "echo twice", 30);
	steps_on_ack(id);
	a = steps_running_json();
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	wait_results(id, 1);
	run_script(id, "echo thrice", 30);
	assert_int_equal(count("result", id), 2);
	assert_int_equal(count("accept", id), 1);
	a = fake_conn_find("output", id);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(str(json_array_get(a, 0), "data"), "once\n");
	json_decref(a);
}

/* What cannot start gets an error result and no accept. */
static void
test_refused(void **state)
{
	json_t *r;

	(void)state;
	run_kind("e1.kind.0.1", "nope", "true", 30);
	run_script("..", "true", 30);
	run_kind("e1.spec.0.1", "script", NULL, 30);
	assert_int_equal(count("accept", NULL), 0);
	r = last_result("e1.kind.0.1");
	assert_string_equal(str(r, "status"), "error");
	assert_string_equal(str(r, "error"), "unknown step kind 'nope' "
	    "(known: script, puppet, file and heat_config)");
	json_decref(r);
	r = last_result("..");
	assert_string_equal(str(r, "error"),
	    "step id '..' cannot name a directory");
	json_decref(r);
	r = last_result("e1.spec.0.1");
	assert_string_equal(str(r, "status"), "error");
	assert_string_equal(str(r, "error"),
	    "spec.script: required (the script text)");
	json_decref(r);
}

/* The pgid of step's accept message. */
static pid_t
accepted_pid(const char *step)
{
	json_t *a = fake_conn_find("accept", step);
	pid_t pid;

	assert_int_equal(json_array_size(a), 1);
	pid = (pid_t)json_integer_value(json_object_get(json_array_get(a, 0),
	    "pid"));
	json_decref(a);
	assert_true(pid > 1);
	return pid;
}

/* The timeout kills the whole process group: a child it started too. */
static void
test_timeout(void **state)
{
	const char *id = "e1.slow.0.1";
	int64_t t0 = bora_mono_ms();
	json_t *r;
	char *out;
	pid_t bg;

	(void)state;
	run_script(id, "sleep 30 & echo $!; sleep 30", 1);
	wait_results(id, 1);
	assert_true(bora_mono_ms() - t0 >= 1000);
	r = last_result(id);
	assert_string_equal(str(r, "status"), "timeout");
	assert_string_equal(str(r, "error"),
	    "timed out after 1 s; process group killed");
	json_decref(r);
	out = fake_conn_output(id, "stdout");
	bg = (pid_t)atoi(out);
	free(out);
	assert_true(bg > 1);
	serve(100);
	assert_true(dead(bg));
	assert_true(dead(accepted_pid(id)));
}

/* A cancel kills the step and its result says why; a cancel for an
 * unknown or finished step changes nothing. */
static void
test_cancel(void **state)
{
	struct bora_cancel c = { "e1.cancel.0.1", "stop it" };
	struct bora_cancel unknown = { "e1.none.0.1", NULL };
	json_t *r;

	(void)state;
	run_script(c.step, "sleep 30", 60);
	serve(50);
	steps_on_cancel(&unknown);
	steps_on_cancel(&c);
	wait_results(c.step, 1);
	r = last_result(c.step);
	assert_string_equal(str(r, "status"), "cancelled");
	assert_string_equal(str(r, "error"),
	    "cancelled: stop it; process group killed");
	json_decref(r);
	steps_on_cancel(&c);
	serve(50);
	assert_int_equal(count("result", c.step), 1);
}

/* A background process that keeps stdout open does not hold the result
 * back longer than the grace time after the step's exit. */
static void
test_background_holds_pipe(void **state)
{
	const char *id = "e1.bg.0.1";
	int64_t t0 = bora_mono_ms();
	pid_t pid;
	json_t *r;
	char *out;

	(void)state;
	run_script(id, "sleep 30 & echo started", 60);
	pid = accepted_pid(id);
	wait_results(id, 1);
	assert_true(bora_mono_ms() - t0 >= STEPS_GRACE_US / 1000);
	assert_true(bora_mono_ms() - t0 < WAIT_MS);
	r = last_result(id);
	assert_string_equal(str(r, "status"), "success");
	json_decref(r);
	out = fake_conn_output(id, "stdout");
	assert_string_equal(out, "started\n");
	free(out);
	assert_int_equal(exec_kill_group(pid), 0);      /* the sleep */
}

/* A full queue pauses the pipe; the step exits while paused; the rest is
 * drained when room comes, and only then is the result made. */
static void
test_backpressure(void **state)
{
	const char *id = "e1.full.0.1";
	struct step *st;
	char *out;
	size_t n;

	(void)state;
	fake_conn.room = 0;
	run_script(id, "head -c 40000 /dev/zero | tr '\\0' x", 60);
	st = steps_find(id);
	assert_non_null(st);
	wait_flag(&st->reaped, "the exit");
	serve(100);
	/* the pipe's writers are gone: lws closed it, the rest waits in a
	 * kept descriptor */
	assert_true(st->s[BORA_STREAM_STDOUT].paused);
	assert_null(st->s[BORA_STREAM_STDOUT].wsi);
	assert_true(st->s[BORA_STREAM_STDOUT].drain_fd >= 0);
	assert_int_equal(count("output", id), 0);
	assert_int_equal(count("result", id), 0);
	fake_conn.room = (size_t)-1;
	steps_on_send_space();
	wait_results(id, 1);
	out = fake_conn_output(id, "stdout");
	n = strspn(out, "x");
	assert_int_equal(n, 40000);
	assert_int_equal(strlen(out), 40000);
	free(out);
}

/* Disconnected: output is dropped, the result waits; the welcome sends
 * it. */
static void
test_disconnected(void **state)
{
	const char *id = "e1.away.0.1";
	struct step *st;
	json_t *r;

	(void)state;
	fake_conn.up = 0;
	run_script(id, "echo unseen", 60);
	st = steps_find(id);
	assert_non_null(st);
	wait_flag(&st->finished, "the result");
	fake_conn.up = 1;
	assert_int_equal(json_array_size(fake_conn.sent), 0);
	steps_on_connected();
	r = last_result(id);
	assert_string_equal(str(r, "status"), "success");
	assert_string_equal(str(json_object_get(r, "outputs"),
	    "deploy_stdout"), "unseen\n");
	json_decref(r);
	assert_int_equal(count("output", id), 0);
}

/* A new agent process: results not acked come back from the journal (a
 * step killed with the old one comes back lost), stray step directories
 * go, a repeated run gets the stored result. */
static void
test_restart(void **state)
{
	const char *done = "e1.done.0.1", *killed = "e1.killed.0.1";
	char stray[PATH_MAX];
	json_t *a, *r, *x;
	size_t i;
	int seen = 0;

	(void)state;
	run_script(done, "echo kept", 60);
	wait_results(done, 1);
	run_script(killed, "sleep 30", 60);
	serve(50);
	stop();
	snprintf(stray, sizeof(stray), "%s/steps/e1.stray.0.1", state_dir);
	assert_int_equal(mkdir(stray, 0700), 0);
	fake_conn_reset();
	start();
	assert_false(exists("steps/", "e1.stray.0.1"));
	a = steps_running_json();
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	a = steps_unacked_json();
	assert_int_equal(json_array_size(a), 2);
	json_array_foreach(a, i, x) {
		if (strcmp(str(x, "step"), done) == 0) {
			assert_string_equal(str(x, "status"), "success");
			seen |= 1;
		} else if (strcmp(str(x, "step"), killed) == 0) {
			assert_string_equal(str(x, "status"), "lost");
			seen |= 2;
		}
	}
	assert_int_equal(seen, 3);
	json_decref(a);
	run_script(killed, "sleep 30", 60);
	assert_int_equal(count("accept", NULL), 0);
	r = last_result(killed);
	assert_string_equal(str(r, "status"), "lost");
	json_decref(r);
	steps_on_ack(done);
	steps_on_ack(killed);
	assert_false(exists("journal/step.", done));
	assert_false(exists("journal/step.", killed));
	assert_false(exists("steps/", killed));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_and_ack, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_run_twice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_background_holds_pipe,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disconnected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
