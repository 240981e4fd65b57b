/* test_engine.c: the engine's constructs, in a fake world (engine_world.h). */
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

/* x's output (JSON text, compact, sorted) equals want. */
static void
assert_output(const struct engine_exec *x, const char *want)
{
	json_t *j = engine_exec_to_json(x);
	char *got = json_dumps(json_object_get(j, "output"), JSON_COMPACT |
	    JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (got == NULL || strcmp(got, want) != 0)
		fprintf(stderr, "output: %s, want %s\n", got ? got : "(none)",
		    want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

static const char *
info_of(const struct engine_exec *x)
{
	static char buf[600];
	json_t *j = engine_exec_to_json(x);

	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(j,
	    "state_info")) ? json_string_value(json_object_get(j,
	    "state_info")) : "");
	json_decref(j);
	return buf;
}

static void
test_publish_chain(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [{n: 2}]\n"
	    "  output: {total: <% $.total %>, msg: 'got {{ _.word }}'}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% $.n * 10 %>\n"
	    "      publish: {total: <% task().result + 1 %>}\n"
	    "      on-success: [b]\n"
	    "    b:\n"
	    "      action: std.echo output=hello\n"
	    "      publish: {word: <% task().result %>}\n", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_output(x, "{\"msg\":\"got hello\",\"total\":21}");
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
}

static void
test_on_error_path_and_fail(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.fail\n"
	    "      publish-on-error: {why: failed}\n"
	    "      on-error: [cleanup]\n"
	    "      on-success: [never]\n"
	    "    never:\n"
	    "      action: std.noop\n"
	    "    cleanup:\n"
	    "      action: std.noop\n"
	    "      on-success:\n"
	    "        - fail msg=\"a broke\"\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_string_equal(world_task_state(x, "cleanup"), "SUCCESS");
	assert_string_equal(world_task_state(x, "never"), "(none)");
	assert_string_equal(info_of(x), "task cleanup: fail: a broke");
}

static void
test_unhandled_error_names_task(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.fail error_data=\"disk full\"\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(info_of(x), "task a: disk full");
}

static void
test_agent_step_and_outputs(void **state)
{
	struct engine_exec *x;
	json_t *t;
	long i;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {pw: <% $.pw %>}\n"
	    "  tasks:\n"
	    "    make:\n"
	    "      action: bora.script\n"
	    "      target: db-1\n"
	    "      timeout: 30\n"
	    "      input:\n"
	    "        script: echo hi\n"
	    "        inputs: {dir: /tmp}\n"
	    "      publish: {pw: <% task().result.outputs.password %>}\n", NULL);
	assert_string_equal(engine_exec_state(x), "RUNNING");
	assert_int_equal(W.nsteps, 1);
	assert_string_equal(W.steps[0].agent, "db-1");
	assert_string_equal(W.steps[0].kind, "script");
	assert_int_equal(W.steps[0].timeout_s, 30);
	assert_string_equal(json_string_value(json_object_get(W.steps[0].spec,
	    "script")), "echo hi");
	assert_null(json_object_get(W.steps[0].spec, "inputs"));
	assert_string_equal(json_string_value(json_object_get(W.steps[0].inputs,
	    "dir")), "/tmp");
	i = world_find("db-1");
	assert_int_equal(i, 0);
	world_finish(0, "success", 0, "{\"deploy_stdout\": \"hi\\n\", "
	    "\"deploy_stderr\": \"\", \"deploy_status_code\": 0, "
	    "\"password\": \"s3\"}");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_output(x, "{\"pw\":\"s3\"}");
	t = world_task(x, "make");
	assert_string_equal(json_string_value(json_object_get(json_object_get(t,
	    "result"), "stdout")), "hi\n");
	json_decref(t);
}

static void
test_with_items_concurrency(void **state)
{
	struct engine_exec *x;
	size_t i, peak = 0;
	json_t *t;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    each:\n"
	    "      action: bora.script\n"
	    "      target: web-1\n"
	    "      with-items: n in [1, 2, 3]\n"
	    "      concurrency: 2\n"
	    "      input: {script: 'echo <% $.n %>'}\n", NULL);
	for (i = 0; i < 3; i++) {
		if (world_running() > peak)
			peak = world_running();
		world_finish((size_t)world_find(NULL), "success", 0, NULL);
	}
	assert_int_equal(peak, 2);
	assert_int_equal(W.nsteps, 3);
	assert_string_equal(json_string_value(json_object_get(W.steps[2].spec,
	    "script")), "echo 3");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	t = world_task(x, "each");
	assert_int_equal(json_array_size(json_object_get(t, "result")), 3);
	json_decref(t);
}

static void
test_retry_then_success(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    flaky:\n"
	    "      action: bora.script\n"
	    "      target: a1\n"
	    "      input: {script: x}\n"
	    "      retry: {count: 2, delay: 5}\n", NULL);
	world_finish(0, "failed", 1, NULL);
	assert_int_equal(W.nsteps, 1);        /* waits for the delay */
	world_advance(4999);
	assert_int_equal(W.nsteps, 1);
	world_advance(1);
	assert_int_equal(W.nsteps, 2);
	assert_string_equal(W.steps[1].id + strlen(W.steps[1].id) - 6,
	    ".1.0.2");
	world_finish(1, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_join_all(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x},"
	    " on-success: [c]}\n"
	    "    b: {action: bora.script, target: h2, input: {script: x},"
	    " on-success: [c]}\n"
	    "    c: {join: all, action: std.noop}\n", NULL);
	assert_int_equal(W.nsteps, 2);
	world_finish((size_t)world_find("h1"), "success", 0, NULL);
	assert_string_equal(world_task_state(x, "c"), "(none)");
	world_finish((size_t)world_find("h2"), "success", 0, NULL);
	assert_string_equal(world_task_state(x, "c"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_timeout_cancels_step(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    slow: {action: bora.script, target: h1, timeout: 10,"
	    " input: {script: x}}\n", NULL);
	world_advance(10000);
	assert_true(W.steps[0].cancelled);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_task_state(x, "slow"), "ERROR");
	assert_string_equal(info_of(x), "task slow: timed out after 10 s");
	/* the late result of the cancelled step changes nothing */
	world_finish(0, "cancelled", 0, NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_wait_agents(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    wait:\n"
	    "      action: bora.wait_agents\n"
	    "      input: {labels: {role: web}, count: 2}\n"
	    "      publish: {webs: <% task().result %>}\n"
	    "      on-success: [deploy]\n"
	    "    deploy:\n"
	    "      action: bora.script\n"
	    "      target: {labels: {role: web}}\n"
	    "      input: {script: x}\n", NULL);
	world_connect("w1", "{\"role\": \"web\"}");
	world_connect("db", "{\"role\": \"db\"}");
	assert_string_equal(world_task_state(x, "wait"), "RUNNING");
	world_connect("w2", "{\"role\": \"web\"}");
	assert_string_equal(world_task_state(x, "wait"), "SUCCESS");
	assert_int_equal(W.nsteps, 2);      /* fan-out to both web agents */
	world_finish(0, "success", 0, NULL);
	world_finish(1, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_reverse(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  type: reverse\n"
	    "  tasks:\n"
	    "    a: {action: std.echo output=1}\n"
	    "    b: {action: bora.script, target: h, input: {script: x},"
	    " requires: [a]}\n"
	    "    c: {action: std.noop, requires: [a, b]}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(world_task_state(x, "c"), "(none)");
	world_finish(0, "success", 0, NULL);
	assert_string_equal(world_task_state(x, "c"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_subworkflow(void **state)
{
	struct engine_exec *x;

	(void)state;
	/* two workflows in the file: main is named (test_engine_agents.c
	 * has the rest: failure, cancel, events) */
	x = world_start_named(
	    "version: '2.0'\n"
	    "main:\n"
	    "  output: {r: <% $.r %>}\n"
	    "  tasks:\n"
	    "    call:\n"
	    "      workflow: child v=4\n"
	    "      publish: {r: <% task().result.doubled %>}\n"
	    "child:\n"
	    "  input: [v]\n"
	    "  output: {doubled: <% $.v * 2 %>}\n"
	    "  tasks:\n"
	    "    t: {action: std.noop}\n", "main", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_output(x, "{\"r\":8}");
}

static void
test_pause_resume_cancel(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h, input: {script: x},"
	    " on-success: [b]}\n"
	    "    b: {action: bora.script, target: h, input: {script: y}}\n",
	    NULL);
	assert_int_equal(engine_pause(x, err, sizeof(err)), 0);
	world_finish(0, "success", 0, NULL);
	assert_int_equal(W.nsteps, 1);        /* paused: b does not start */
	assert_string_equal(engine_exec_state(x), "PAUSED");
	assert_int_equal(engine_resume(x, err, sizeof(err)), 0);
	assert_int_equal(W.nsteps, 2);
	assert_int_equal(engine_cancel(x, "operator", err, sizeof(err)), 0);
	assert_true(W.steps[1].cancelled);
	assert_string_equal(engine_exec_state(x), "CANCELLED");
	assert_string_equal(world_task_state(x, "b"), "CANCELLED");
	assert_int_equal(engine_cancel(x, "again", err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_on_error_path_and_fail,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unhandled_error_names_task,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_step_and_outputs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_with_items_concurrency,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_then_success, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_join_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_cancels_step,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_agents, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subworkflow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_cancel, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
