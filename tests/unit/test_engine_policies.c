/*
 * test_engine_policies.c: a task's policies in the fake world
 * (engine_world.h): pause-before, wait-before, wait-after, std.sleep,
 * retry (break-on, continue-on, count, delay), safe-rerun, timeout,
 * with-items and concurrency, and the operator's pause and cancel while
 * something is pending.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine.h"
#include "engine_world.h"

static int
setup(void **state)
{
	(void)state;
	world_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	world_free();
	return 0;
}

/* t's field key as an integer (-1 when absent). */
static long long
task_int(const struct engine_exec *x, const char *name, const char *key)
{
	json_t *t = world_task(x, name);
	json_t *v = json_object_get(t, key);
	long long n = json_is_integer(v) ? json_integer_value(v) : -1;

	json_decref(t);
	return n;
}

/* x's task name's result, compact JSON (free() it). */
static char *
task_result(const struct engine_exec *x, const char *name)
{
	json_t *t = world_task(x, name);
	char *s = json_dumps(json_object_get(t, "result"), JSON_COMPACT |
	    JSON_SORT_KEYS | JSON_ENCODE_ANY);

	json_decref(t);
	assert_non_null(s);
	return s;
}

static void
assert_result(const struct engine_exec *x, const char *name, const char *want)
{
	char *got = task_result(x, name);

	if (strcmp(got, want) != 0)
		fprintf(stderr, "result of %s: %s, want %s\n", name, got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_pause_before_then_resume(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=1\n"
	    "      pause-before: true\n"
	    "      on-success: [b]\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_string_equal(engine_exec_state(x), "PAUSED");
	assert_string_equal(world_exec_info(x), "pause-before task a");
	assert_string_equal(world_task_state(x, "a"), "PAUSED");
	assert_string_equal(world_task_state(x, "b"), "(none)");
	/* nothing moves while paused, whatever the clock does */
	world_advance(60000);
	assert_string_equal(world_task_state(x, "a"), "PAUSED");
	assert_int_equal(engine_pause(x, err, sizeof(err)), -1);
	assert_int_equal(engine_resume(x, err, sizeof(err)), 0);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_int_equal(engine_resume(x, err, sizeof(err)), -1);
}

static void
test_pause_before_expression(void **state)
{
	struct engine_exec *x;
	json_t *in = json_pack("{s:b}", "p", 0);

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [p]\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, pause-before: <% $.p %>}\n", in);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	json_decref(in);

	/* an expression that fails fails the task, naming the field */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, pause-before: <% $.no.such %>}\n",
	    NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_true(strncmp(world_task_info(x, "a"), "pause-before: ",
	    14) == 0);
}

static void
test_wait_before_exact(void **state)
{
	struct engine_exec *x;
	int64_t t0 = W.now;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.echo output=hi, wait-before: 3}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "RUNNING_DELAYED");
	assert_int_equal(W.wake, t0 + 3000);
	world_advance(2999);
	assert_string_equal(world_task_state(x, "a"), "RUNNING_DELAYED");
	world_advance(1);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_int_equal(task_int(x, "a", "started_ms"), t0 + 3000);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_wait_before_across_pause(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, wait-before: 2}\n", NULL);
	assert_int_equal(engine_pause(x, err, sizeof(err)), 0);
	world_advance(5000);                /* due, but paused */
	assert_string_equal(world_task_state(x, "a"), "RUNNING_DELAYED");
	assert_int_equal(engine_resume(x, err, sizeof(err)), 0);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_wait_after_exact(void **state)
{
	struct engine_exec *x;
	int64_t t0;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {v: <% $.v %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      input: {script: x}\n"
	    "      wait-after: 2\n"
	    "      publish: {v: <% task().result.exit_code %>}\n"
	    "      on-success: [b]\n"
	    "    b: {action: std.noop}\n", NULL);
	world_advance(500);
	t0 = W.now;
	world_finish(0, "success", 0, NULL);
	/* Mistral: RUNNING_DELAYED while waiting after, then the state */
	assert_string_equal(world_task_state(x, "a"), "RUNNING_DELAYED");
	assert_string_equal(world_task_state(x, "b"), "(none)");
	assert_int_equal(W.wake, t0 + 2000);
	world_advance(1999);
	assert_string_equal(world_task_state(x, "a"), "RUNNING_DELAYED");
	world_advance(1);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_int_equal(task_int(x, "a", "finished_ms"), t0 + 2000);
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"v\":0}");
}

static void
test_wait_after_on_error(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, wait-after: 1}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "RUNNING_DELAYED");
	assert_string_equal(engine_exec_state(x), "RUNNING");
	world_advance(1000);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task a: std.fail");
}

static void
test_std_sleep(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.sleep seconds=5, on-success: [b]}\n"
	    "    b: {action: std.sleep seconds=0}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "RUNNING");
	world_advance(4999);
	assert_string_equal(world_task_state(x, "a"), "RUNNING");
	world_advance(1);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_result(x, "a", "null");
	/* zero seconds: due in the same timer run */
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");

	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.sleep seconds=soon}\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_task_info(x, "a"),
	    "input.seconds: expected a number");
}

static void
test_echo_and_fail_inputs(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    e: {action: 'std.echo output={a: [1, 2]}'}\n"
	    "    n: {action: std.echo}\n"
	    "    f0: {action: std.fail, on-error: [h]}\n"
	    "    f1: {action: std.fail error_data=boom, on-error: [h]}\n"
	    "    f2: {action: 'std.fail error_data={code: 3}', on-error: [h]}\n"
	    "    h: {action: std.noop}\n", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_result(x, "e", "{\"a\":[1,2]}");
	assert_result(x, "n", "null");
	assert_result(x, "f0", "{\"error\":\"std.fail\"}");
	assert_string_equal(world_task_info(x, "f0"), "std.fail");
	assert_result(x, "f1", "{\"error\":\"boom\"}");
	assert_string_equal(world_task_info(x, "f1"), "boom");
	assert_result(x, "f2",
	    "{\"error\":\"std.fail\",\"error_data\":{\"code\":3}}");
	assert_string_equal(world_task_state(x, "f2"), "ERROR");
	assert_int_equal(world_task_runs(x, "h"), 3);
}

static void
test_retry_break_on(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      input: {script: x}\n"
	    "      retry:\n"
	    "        count: 5\n"
	    "        break-on: <% task().result.exit_code = 2 %>\n", NULL);
	world_finish(0, "failed", 1, NULL);
	assert_int_equal(W.nsteps, 1);      /* delay 0: at the next timer run */
	world_advance(0);
	assert_int_equal(W.nsteps, 2);
	world_finish(1, "failed", 2, NULL);
	world_advance(10000);
	assert_int_equal(W.nsteps, 2);      /* break-on: no third attempt */
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_non_null(strstr(world_task_info(x, "a"), "(exit 2)"));
}

static void
test_retry_continue_on(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {n: <% $.n %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      input: {script: x}\n"
	    "      publish: {n: <% task().result.outputs.n %>}\n"
	    "      retry:\n"
	    "        count: 3\n"
	    "        delay: 2\n"
	    "        continue-on: <% task().result.outputs.n < 2 %>\n", NULL);
	world_finish(0, "success", 0, "{\"n\": 1}");
	world_advance(1999);
	assert_int_equal(W.nsteps, 1);
	world_advance(1);
	assert_int_equal(W.nsteps, 2);
	world_finish(1, "success", 0, "{\"n\": 2}");
	world_advance(10000);
	assert_int_equal(W.nsteps, 2);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"n\":2}");
}

static void
test_retry_count_exhausted(void **state)
{
	struct engine_exec *x;
	json_t *t;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      input: {script: x}\n"
	    "      retry: {count: 2, delay: 1}\n", NULL);
	world_finish(0, "failed", 1, NULL);
	world_advance(999);
	assert_int_equal(W.nsteps, 1);
	world_advance(1);
	world_finish(1, "failed", 1, NULL);
	world_advance(1000);
	assert_int_equal(W.nsteps, 3);
	assert_string_equal(world_task_state(x, "a"), "RUNNING");
	world_finish(2, "failed", 7, NULL);
	world_advance(60000);
	assert_int_equal(W.nsteps, 3);      /* 1 + count attempts */
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_non_null(strstr(world_task_info(x, "a"), "(exit 7)"));
	t = world_task(x, "a");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(t, "actions"), 0), "attempt")), 3);
	json_decref(t);
}

#define LOST_YAML(safe) \
    "version: '2.0'\n" \
    "wf:\n" \
    "  tasks:\n" \
    "    a:\n" \
    "      action: bora.script\n" \
    "      target: h1\n" \
    "      input: {script: x}\n" \
    "      retry: {count: 2}\n" \
    "      safe-rerun: " safe "\n"

static void
test_lost_needs_safe_rerun(void **state)
{
	struct engine_exec *x;
	(void)state;
	x = world_start(LOST_YAML("false"), NULL);
	world_finish(0, "lost", 0, NULL);
	world_advance(1000);
	assert_int_equal(W.nsteps, 1);      /* may have done its work */
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_non_null(strstr(world_task_info(x, "a"), ": lost"));

	x = world_start(LOST_YAML("true"), NULL);
	world_finish(1, "lost", 0, NULL);
	world_advance(0);
	assert_int_equal(W.nsteps, 3);
	assert_string_equal(W.steps[2].agent, "h1");
	world_finish(2, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_safe_rerun_without_retry(void **state)
{
	struct engine_exec *x;
	size_t i;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, safe-rerun: true,"
	    " input: {script: x}}\n", NULL);
	/* lost again and again: run again ENGINE_LOST_RERUNS (3) times,
	 * then the task fails; never a loop without end */
	for (i = 0; i < 4; i++) {
		assert_int_equal(W.nsteps, i + 1);
		world_finish(i, "lost", 0, NULL);
		world_advance(0);           /* the re-run's (zero) delay */
	}
	assert_int_equal(W.nsteps, 4);
	assert_string_equal(engine_exec_state(x), "ERROR");

	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x}}\n",
	    NULL);
	world_finish(4, "lost", 0, NULL);    /* no safe-rerun: not again */
	world_advance(0);
	assert_int_equal(W.nsteps, 5);
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_retry_due_while_paused(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x},"
	    " retry: {count: 1, delay: 10}}\n", NULL);
	world_finish(0, "failed", 1, NULL);
	assert_int_equal(engine_pause(x, err, sizeof(err)), 0);
	world_advance(10000);               /* due, but paused */
	assert_int_equal(W.nsteps, 1);
	world_advance(60000);
	assert_int_equal(W.nsteps, 1);
	assert_int_equal(engine_resume(x, err, sizeof(err)), 0);
	assert_int_equal(W.nsteps, 2);      /* the retry starts on resume */
	world_finish(1, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_timeout_disconnected_agent(void **state)
{
	struct engine_exec *x;

	(void)state;
	/* h9 never connects: the step waits for it until the timeout */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h9, timeout: 5,"
	    " input: {script: x}, on-error: [b]}\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_int_equal(W.nsteps, 1);
	assert_int_equal(W.steps[0].timeout_s, 5);
	world_advance(4999);
	assert_string_equal(world_task_state(x, "a"), "RUNNING");
	world_advance(1);
	assert_true(W.steps[0].cancelled);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_string_equal(world_task_info(x, "a"), "timed out after 5 s");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_connect("h9", NULL);          /* too late: nothing starts */
	assert_int_equal(W.nsteps, 1);
}

static void
test_timeout_cancels_pending_items(void **state)
{
	struct engine_exec *x;
	json_t *t;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      with-items: i in [1, 2, 3]\n"
	    "      concurrency: 1\n"
	    "      timeout: 10\n"
	    "      input: {script: x}\n", NULL);
	world_finish(0, "success", 0, NULL);
	world_advance(10000);
	assert_int_equal(W.nsteps, 2);
	assert_true(W.steps[1].cancelled);
	assert_string_equal(engine_exec_state(x), "ERROR");
	t = world_task(x, "a");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(t, "actions"), 2), "state")), "CANCELLED");
	json_decref(t);
}

static void
test_concurrency_one(void **state)
{
	struct engine_exec *x;
	char want[32];
	size_t i;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      with-items: i in [1, 2, 3, 4, 5]\n"
	    "      concurrency: 1\n"
	    "      input: {script: 'n=<% $.i %>'}\n", NULL);
	for (i = 0; i < 5; i++) {
		assert_int_equal(world_running(), 1);
		assert_int_equal(W.nsteps, i + 1);
		snprintf(want, sizeof(want), "n=%zu", i + 1);
		assert_string_equal(json_string_value(json_object_get(
		    W.steps[i].spec, "script")), want);
		world_finish(i, "success", 0, NULL);
	}
	assert_int_equal(world_running(), 0);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_with_items_zip(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=\"<% $.x %><% $.y %>\"\n"
	    "      with-items:\n"
	    "        - x in [1, 2]\n"
	    "        - y in <% ['a', 'b'] %>\n", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_result(x, "a", "[\"1a\",\"2b\"]");
}

static void
test_with_items_errors_and_empty(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% $.x %>\n"
	    "      with-items:\n"
	    "        - x in [1, 2]\n"
	    "        - y in [a]\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_task_info(x, "a"),
	    "with-items: the lists have different lengths (2 and 1)");

	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% $.x %>\n"
	    "      with-items: x in <% 'text' %>\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_task_info(x, "a"),
	    "with-items x: expected a list");

	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      input: {script: x}\n"
	    "      with-items: x in []\n", NULL);
	assert_int_equal(W.nsteps, 0);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_result(x, "a", "[]");
}

static void
test_cancel_during_retry_delay(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: h1\n"
	    "      input: {script: x}\n"
	    "      retry: {count: 3, delay: 10}\n", NULL);
	world_finish(0, "failed", 1, NULL);
	world_advance(5000);
	assert_int_equal(engine_cancel(x, "stop", err, sizeof(err)), 0);
	assert_string_equal(engine_exec_state(x), "CANCELLED");
	assert_string_equal(world_task_state(x, "a"), "CANCELLED");
	assert_int_equal(W.wake, INT64_MAX);    /* nothing left to wake for */
	world_advance(60000);
	assert_int_equal(W.nsteps, 1);
}

static void
test_pause_then_cancel(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x},"
	    " on-success: [b]}\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_int_equal(engine_pause(x, err, sizeof(err)), 0);
	assert_string_equal(engine_exec_state(x), "PAUSED");
	assert_int_equal(engine_cancel(x, "operator", err, sizeof(err)), 0);
	assert_string_equal(engine_exec_state(x), "CANCELLED");
	assert_string_equal(world_exec_info(x), "operator");
	assert_true(W.steps[0].cancelled);
	assert_string_equal(world_task_state(x, "a"), "CANCELLED");
	assert_int_equal(engine_resume(x, err, sizeof(err)), -1);
	world_finish(0, "cancelled", 0, NULL);  /* late: ignored */
	assert_string_equal(world_task_state(x, "b"), "(none)");
	assert_string_equal(engine_exec_state(x), "CANCELLED");
}

static void
test_seconds_fields_errors(void **state)
{
	static const char *const fields[] = { "wait-before", "timeout",
	    "wait-after", "concurrency" };
	struct engine_exec *x;
	char yaml[512], want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(yaml, sizeof(yaml),
		    "version: '2.0'\n"
		    "wf:\n"
		    "  tasks:\n"
		    "    a:\n"
		    "      action: std.noop\n"
		    "      with-items: i in [1]\n"
		    "      %s: <%% 'soon' %%>\n"
		    "      on-success: [s]\n"
		    "      on-error: [e]\n"
		    "    s: {action: std.noop}\n"
		    "    e: {action: std.noop}\n", fields[i]);
		x = world_start(yaml, NULL);
		/* concurrency is a count, the others are durations */
		snprintf(want, sizeof(want), "%s: expected %s", fields[i],
		    strcmp(fields[i], "concurrency") == 0 ?
		    "a number of actions at once" : "a number of seconds");
		if (strcmp(world_task_state(x, "a"), "ERROR") != 0)
			fprintf(stderr, "%s: task %s (%s)\n", fields[i],
			    world_task_state(x, "a"), world_task_info(x, "a"));
		assert_string_equal(world_task_state(x, "a"), "ERROR");
		assert_string_equal(world_task_info(x, "a"), want);
		assert_string_equal(world_task_state(x, "s"), "(none)");
		assert_string_equal(world_task_state(x, "e"), "SUCCESS");
		assert_string_equal(engine_exec_state(x), "SUCCESS");
	}
	/* an expression that fails names the field */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, timeout: <% $.no.such %>}\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_true(strncmp(world_task_info(x, "a"), "timeout: expression ",
	    20) == 0);
}

static void
test_step_timeout_and_inputs(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x}}\n"
	    "    b: {action: bora.script, target: h2, agent-timeout: 7,"
	    " input: {script: x, timeout: 20}}\n"
	    "    c: {action: bora.script, target: h3,"
	    " input: {script: x, inputs: [1]}}\n"
	    "    d: {action: bora.script, target: h4,"
	    " input: {script: <% $.no.such %>}}\n", NULL);
	assert_int_equal(W.nsteps, 2);
	assert_int_equal(W.steps[0].timeout_s, ENGINE_STEP_TIMEOUT_DEFAULT);
	assert_int_equal(W.steps[1].timeout_s, 20);
	/* the task's agent-timeout, or 0: the steps module's default */
	assert_int_equal(W.steps[0].agent_timeout_s, 0);
	assert_int_equal(W.steps[1].agent_timeout_s, 7);
	assert_null(json_object_get(W.steps[1].spec, "timeout"));
	assert_null(json_object_get(W.steps[1].spec, "agent-timeout"));
	assert_null(W.steps[1].inputs);
	assert_string_equal(world_task_state(x, "c"), "ERROR");
	assert_non_null(strstr(world_task_info(x, "c"),
	    "input.inputs: expected an object"));
	assert_string_equal(world_task_state(x, "d"), "ERROR");
	assert_non_null(strstr(world_task_info(x, "d"), "input: expression"));
	world_finish(0, "success", 0, NULL);
	world_finish(1, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_retry_policy_errors(void **state)
{
	struct engine_exec *x;
	json_t *in = json_pack("{s:s}", "n", "many");

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [n]\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, retry: {count: <% $.n %>}}\n"
	    "    b:\n"
	    "      action: std.fail\n"
	    "      retry: {count: 2, break-on: <% $.no.such %>}\n", in);
	json_decref(in);
	assert_string_equal(world_task_info(x, "a"),
	    "retry: expected a number");
	assert_true(strncmp(world_task_info(x, "b"), "retry: expression ",
	    18) == 0);
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_timeout_while_waiting_agents(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    w:\n"
	    "      action: bora.wait_agents\n"
	    "      input: {agents: [a1]}\n"
	    "      timeout: 5\n", NULL);
	world_advance(5000);
	assert_string_equal(world_task_info(x, "w"), "timed out after 5 s");
	assert_string_equal(engine_exec_state(x), "ERROR");
	world_connect("a1", NULL);          /* no longer waited for */
	assert_string_equal(world_task_state(x, "w"), "ERROR");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_pause_before_then_resume),
		T(test_pause_before_expression),
		T(test_wait_before_exact),
		T(test_wait_before_across_pause),
		T(test_wait_after_exact),
		T(test_wait_after_on_error),
		T(test_std_sleep),
		T(test_echo_and_fail_inputs),
		T(test_retry_break_on),
		T(test_retry_continue_on),
		T(test_retry_count_exhausted),
		T(test_lost_needs_safe_rerun),
		T(test_safe_rerun_without_retry),
		T(test_retry_due_while_paused),
		T(test_timeout_disconnected_agent),
		T(test_timeout_cancels_pending_items),
		T(test_concurrency_one),
		T(test_with_items_zip),
		T(test_with_items_errors_and_empty),
		T(test_cancel_during_retry_delay),
		T(test_pause_then_cancel),
		T(test_seconds_fields_errors),
		T(test_step_timeout_and_inputs),
		T(test_retry_policy_errors),
		T(test_timeout_while_waiting_agents),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
