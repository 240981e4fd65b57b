/*
 * test_engine_agents.c: actions on agents and sub-workflows, in the fake
 * world (engine_world.h): targets (a list, an expression, a label
 * selector), bora.wait_agents, a step that cannot start, sub-workflows
 * that succeed, fail and are cancelled, and forgetting old executions.
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

static void
assert_result(const struct engine_exec *x, const char *name, const char *want)
{
	json_t *t = world_task(x, name);
	char *got = json_dumps(json_object_get(t, "result"), JSON_COMPACT |
	    JSON_SORT_KEYS | JSON_ENCODE_ANY);

	json_decref(t);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "result of %s: %s, want %s\n", name, got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_target_list_fan_out(void **state)
{
	struct engine_exec *x;
	json_t *t, *r;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: [h1, h2]\n"
	    "      input: {script: x}\n", NULL);
	assert_int_equal(W.nsteps, 2);
	assert_string_equal(W.steps[0].agent, "h1");
	assert_string_equal(W.steps[1].agent, "h2");
	world_finish(1, "success", 0, "{\"n\": 2}");
	assert_string_equal(world_task_state(x, "a"), "RUNNING");
	world_finish(0, "success", 0, "{\"n\": 1}");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	t = world_task(x, "a");
	r = json_object_get(t, "result");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r,
	    0), "agent")), "h1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(r, 1), "outputs"), "n")), 2);
	json_decref(t);
}

/* task().result keeps Heat's deploy_status_code beside the exit code (a
 * hook's own code), and takes Heat's names out of outputs. */
static void
test_result_keeps_deploy_status_code(void **state)
{
	struct engine_exec *x;
	json_t *t, *r;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {code: <% $.code %>, out: <% $.out %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.heat_config\n"
	    "      target: h1\n"
	    "      input: {group: script}\n"
	    "      publish:\n"
	    "        code: <% task().result.deploy_status_code %>\n"
	    "        out: <% task().result.stdout %>\n", NULL);
	assert_int_equal(W.nsteps, 1);
	/* the hook's config is named after the task */
	assert_string_equal(json_string_value(json_object_get(W.steps[0].spec,
	    "name")), "a");
	world_finish(0, "success", 0, "{\"deploy_status_code\": 6, "
	    "\"deploy_stdout\": \"hi\", \"v\": 1}");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"code\":6,\"out\":\"hi\"}");
	t = world_task(x, "a");
	r = json_object_get(t, "result");
	assert_int_equal(json_integer_value(json_object_get(r, "exit_code")), 0);
	assert_null(json_object_get(json_object_get(r, "outputs"),
	    "deploy_status_code"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
	    "outputs"), "v")), 1);
	json_decref(t);
}

static void
test_target_list_one_fails(void **state)
{
	struct engine_exec *x;
	char want[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: [h1, h2]\n"
	    "      input: {script: x}\n", NULL);
	world_finish(0, "success", 0, NULL);
	world_finish(1, "failed", 3, "{\"deploy_stderr\": \"one\\ntwo\\n\"}");
	assert_string_equal(engine_exec_state(x), "ERROR");
	snprintf(want, sizeof(want), "step %s on h2: failed (exit 3; "
	    "stderr: two)", W.steps[1].id);
	assert_string_equal(world_task_info(x, "a"), want);
}

static void
test_target_expression(void **state)
{
	struct engine_exec *x;
	json_t *in = json_pack("{s:s}", "host", "db-7"), *t;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [host]\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: <% $.host %>\n"
	    "      input: {script: x}\n"
	    "      on-success: [b]\n"
	    "    b:\n"
	    "      action: bora.script\n"
	    "      target: <% $.h %>\n"
	    "      with-items: h in [w1, w2]\n"
	    "      input: {script: 'on <% $.h %>'}\n", in);
	json_decref(in);
	assert_int_equal(W.nsteps, 1);
	assert_string_equal(W.steps[0].agent, "db-7");
	world_finish(0, "success", 0, NULL);
	/* one name: the result is the step's, not a list */
	t = world_task(x, "a");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    t, "result"), "agent")), "db-7");
	json_decref(t);
	assert_int_equal(W.nsteps, 3);      /* per item, to its host */
	assert_string_equal(W.steps[1].agent, "w1");
	assert_string_equal(W.steps[2].agent, "w2");
	assert_string_equal(json_string_value(json_object_get(W.steps[2].spec,
	    "script")), "on w2");
	world_finish(1, "success", 0, NULL);
	world_finish(2, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_target_expression_errors(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: '<% 3 %>',"
	    " input: {script: x}}\n"
	    "    b: {action: bora.script, target: '<% [] %>',"
	    " input: {script: x}}\n"
	    "    c: {action: bora.script, target: '<% [1] %>',"
	    " input: {script: x}}\n", NULL);
	assert_int_equal(W.nsteps, 0);
	assert_string_equal(world_task_info(x, "a"), "target: expected an "
	    "agent name, a list of names or {labels: {...}}");
	assert_string_equal(world_task_info(x, "b"),
	    "target: an empty list of agents");
	assert_string_equal(world_task_info(x, "c"),
	    "target[0]: expected an agent name");
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_target_labels(void **state)
{
	struct engine_exec *x;
	json_t *t;

	(void)state;
	world_connect("web-2", "{\"role\": \"web\"}");
	world_connect("web-1", "{\"role\": \"web\", \"zone\": \"a\"}");
	world_connect("db-1", "{\"role\": \"db\"}");
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: bora.script\n"
	    "      target: {labels: {role: web}}\n"
	    "      input: {script: x}\n"
	    "      on-success: [b]\n"
	    "    b:\n"
	    "      action: bora.script\n"
	    "      target: {labels: {role: cache}}\n"
	    "      input: {script: x}\n", NULL);
	assert_int_equal(W.nsteps, 2);
	world_finish(0, "success", 0, NULL);
	world_finish(1, "success", 0, NULL);
	t = world_task(x, "a");
	assert_int_equal(json_array_size(json_object_get(t, "result")), 2);
	json_decref(t);
	assert_int_equal(W.nsteps, 2);
	assert_string_equal(world_task_state(x, "b"), "ERROR");
	assert_string_equal(world_task_info(x, "b"), "target: no connected "
	    "agent matches the labels {\"role\":\"cache\"}");
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_wait_agents_names(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    w:\n"
	    "      action: bora.wait_agents\n"
	    "      input: {agents: [a2, a1]}\n", NULL);
	world_connect("a1", NULL);
	world_connect("a3", NULL);
	assert_string_equal(world_task_state(x, "w"), "RUNNING");
	world_connect("a2", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_result(x, "w", "[\"a2\",\"a1\"]");

	/* already there: at once */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    w:\n"
	    "      action: bora.wait_agents\n"
	    "      input: {agents: [a3]}\n", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_result(x, "w", "[\"a3\"]");
}

static void
test_wait_agents_labels_count(void **state)
{
	struct engine_exec *x;

	(void)state;
	world_connect("d1", "{\"role\": \"db\"}");
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    w:\n"
	    "      action: bora.wait_agents\n"
	    "      input: {labels: {role: db}, count: 3, timeout: 60}\n", NULL);
	world_connect("d2", "{\"role\": \"db\"}");
	world_connect("x1", "{\"role\": \"web\"}");
	assert_string_equal(world_task_state(x, "w"), "RUNNING");
	world_advance(30000);
	world_connect("d3", "{\"role\": \"db\"}");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_result(x, "w", "[\"d1\",\"d2\",\"d3\"]");
	assert_int_equal(W.wake, INT64_MAX);    /* its timeout disarmed */
}

static void
test_wait_agents_timeout(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    w:\n"
	    "      action: bora.wait_agents\n"
	    "      input: {labels: {role: db}, timeout: 30}\n", NULL);
	world_connect("x1", "{\"role\": \"web\"}");
	world_advance(29999);
	assert_string_equal(world_task_state(x, "w"), "RUNNING");
	world_advance(1);
	assert_string_equal(world_task_state(x, "w"), "ERROR");
	assert_string_equal(world_task_info(x, "w"),
	    "bora.wait_agents: timed out");
	assert_string_equal(engine_exec_state(x), "ERROR");
	world_connect("d1", "{\"role\": \"db\"}");      /* too late */
	assert_string_equal(world_task_state(x, "w"), "ERROR");
}

static void
test_step_start_fails(void **state)
{
	struct engine_exec *x;

	(void)state;
	W.fail_start = 1;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x}}\n",
	    NULL);
	assert_int_equal(W.nsteps, 0);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_non_null(strstr(world_task_info(x, "a"), "fake start failure"));
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_non_null(strstr(world_exec_info(x), "fake start failure"));
}

static const char *const sub_yaml =
    "version: '2.0'\n"
    "main:\n"
    "  input: [{fail: false}]\n"
    "  output: {r: <% $.r %>}\n"
    "  tasks:\n"
    "    call:\n"
    "      workflow: child v=4 fail=<% $.fail %>\n"
    "      publish: {r: <% task().result.doubled %>}\n"
    "child:\n"
    "  input: [v, fail]\n"
    "  output: {doubled: <% $.v * 2 %>}\n"
    "  tasks:\n"
    "    t:\n"
    "      action: bora.script\n"
    "      target: h1\n"
    "      input: {script: x}\n"
    "      on-success:\n"
    "        - boom: <% $.fail %>\n"
    "    boom: {action: std.fail error_data=\"disk full\"}\n";

static void
test_subworkflow_success(void **state)
{
	struct engine_exec *x, *child;
	char id[64];

	(void)state;
	x = world_start_named(sub_yaml, "main", NULL);
	assert_int_equal(W.nsteps, 1);
	/* the step id starts with the child's execution id */
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(W.steps[0].id, "."),
	    W.steps[0].id);
	child = engine_find(id);
	assert_non_null(child);
	assert_true(child != x);
	assert_string_equal(engine_exec_state(child), "RUNNING");
	world_finish(0, "success", 0, NULL);
	assert_string_equal(engine_exec_state(child), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"r\":8}");
	assert_result(x, "call", "{\"doubled\":8}");
	{
		char *tr = world_trace(x);

		assert_string_equal(tr, "X:RUNNING T:call:RUNNING ~X:RUNNING "
		    "~T:t:RUNNING ~S:t:started ~S:t:success ~T:t:SUCCESS "
		    "~X:SUCCESS T:call:SUCCESS X:SUCCESS");
		free(tr);
	}
}

static void
test_subworkflow_failure(void **state)
{
	struct engine_exec *x;
	json_t *in = json_pack("{s:b}", "fail", 1), *t, *r;

	(void)state;
	x = world_start_named(sub_yaml, "main", in);
	json_decref(in);
	world_finish(0, "success", 0, NULL);
	assert_string_equal(world_task_state(x, "call"), "ERROR");
	assert_string_equal(world_task_info(x, "call"), "task boom: disk full");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task call: task boom: disk full");
	t = world_task(x, "call");
	r = json_object_get(t, "result");
	assert_string_equal(json_string_value(json_object_get(r, "state")),
	    "ERROR");
	assert_non_null(engine_find(json_string_value(json_object_get(r,
	    "execution"))));
	json_decref(t);
}

static void
test_subworkflow_cancel(void **state)
{
	struct engine_exec *x, *child;
	char err[256], id[64];

	(void)state;
	x = world_start_named(sub_yaml, "main", NULL);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(W.steps[0].id, "."),
	    W.steps[0].id);
	child = engine_find(id);
	assert_non_null(child);
	assert_int_equal(engine_cancel(x, "operator", err, sizeof(err)), 0);
	assert_true(W.steps[0].cancelled);
	assert_string_equal(engine_exec_state(child), "CANCELLED");
	assert_string_equal(engine_exec_state(x), "CANCELLED");
	assert_string_equal(world_task_state(x, "call"), "CANCELLED");
	assert_string_equal(world_task_state(child, "t"), "CANCELLED");
	world_finish(0, "cancelled", 0, NULL);  /* late: ignored */
	assert_string_equal(engine_exec_state(x), "CANCELLED");
}

static void
test_subworkflow_child_cancelled(void **state)
{
	struct engine_exec *x, *child;
	char err[256], id[64];

	(void)state;
	/* the operator cancels the child: the parent's task fails */
	x = world_start_named(sub_yaml, "main", NULL);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(W.steps[0].id, "."),
	    W.steps[0].id);
	child = engine_find(id);
	assert_int_equal(engine_cancel(child, "enough", err, sizeof(err)), 0);
	assert_string_equal(world_task_state(x, "call"), "ERROR");
	assert_string_equal(world_task_info(x, "call"), "enough");
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_subworkflow_cannot_start(void **state)
{
	struct engine_exec *x;

	(void)state;
	/* the child's vars fail: the parent's task fails with the reason */
	x = world_start_named(
	    "version: '2.0'\n"
	    "main: {tasks: {call: {workflow: child v=1}}}\n"
	    "child:\n"
	    "  input: [v]\n"
	    "  vars: {w: <% $.v.x %>}\n"
	    "  tasks: {t: {action: std.noop}}\n", "main", NULL);
	assert_string_equal(world_task_state(x, "call"), "ERROR");
	assert_non_null(strstr(world_task_info(x, "call"),
	    "expression '<% $.v.x %>'"));
	assert_string_equal(engine_exec_state(x), "ERROR");
}

static void
test_forget_old_parent_and_child(void **state)
{
	struct engine_exec *x;
	char first[64];
	size_t i;

	(void)state;
	/* 10,000 finished executions are kept; past that the oldest are
	 * forgotten, a parent and its child alike, the child first */
	for (i = 0; i < 5100; i++) {
		x = world_start_named(
		    "version: '2.0'\n"
		    "main: {tasks: {call: {workflow: child}}}\n"
		    "child: {tasks: {t: {action: std.noop}}}\n", "main", NULL);
		assert_string_equal(engine_exec_state(x), "SUCCESS");
		if (i == 0)
			snprintf(first, sizeof(first), "%s", engine_exec_id(x));
	}
	assert_null(engine_find(first));
	assert_non_null(engine_find(engine_exec_id(x)));
}

static void
test_subworkflow_timeout(void **state)
{
	struct engine_exec *x, *child;
	char id[64];

	(void)state;
	x = world_start_named(
	    "version: '2.0'\n"
	    "main: {tasks: {call: {workflow: child, timeout: 5}}}\n"
	    "child:\n"
	    "  tasks:\n"
	    "    t: {action: bora.script, target: h1, input: {script: x}}\n",
	    "main", NULL);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(W.steps[0].id, "."),
	    W.steps[0].id);
	child = engine_find(id);
	assert_non_null(child);
	world_advance(5000);
	assert_true(W.steps[0].cancelled);
	assert_string_equal(engine_exec_state(child), "CANCELLED");
	assert_string_equal(world_task_info(x, "call"), "timed out after 5 s");
	assert_string_equal(engine_exec_state(x), "ERROR");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_target_list_fan_out),
		T(test_result_keeps_deploy_status_code),
		T(test_target_list_one_fails),
		T(test_target_expression),
		T(test_target_expression_errors),
		T(test_target_labels),
		T(test_wait_agents_names),
		T(test_wait_agents_labels_count),
		T(test_wait_agents_timeout),
		T(test_step_start_fails),
		T(test_subworkflow_success),
		T(test_subworkflow_failure),
		T(test_subworkflow_cancel),
		T(test_subworkflow_child_cancelled),
		T(test_subworkflow_cannot_start),
		T(test_subworkflow_timeout),
		T(test_forget_old_parent_and_child),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
