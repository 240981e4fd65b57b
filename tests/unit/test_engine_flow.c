/*
 * test_engine_flow.c: how an execution flows, in the fake world
 * (engine_world.h): joins, transitions and their guards, engine commands,
 * handled and unhandled errors, output, input, vars, reverse workflows,
 * the event log, and 1,000-task chains and fan-outs.
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
assert_trace(struct engine_exec *x, const char *want)
{
	char *got = world_trace(x);

	if (strcmp(got, want) != 0)
		fprintf(stderr, "trace: %s\n want: %s\n", got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
assert_prefix(const char *got, const char *want)
{
	if (strncmp(got, want, strlen(want)) != 0)
		fprintf(stderr, "got '%s', want a start of '%s'\n", got, want);
	assert_true(strncmp(got, want, strlen(want)) == 0);
}

static void
test_join_one(void **state)
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
	    "    c: {join: one, action: std.noop}\n", NULL);
	world_finish((size_t)world_find("h2"), "success", 0, NULL);
	assert_string_equal(world_task_state(x, "c"), "SUCCESS");
	world_finish((size_t)world_find("h1"), "success", 0, NULL);
	assert_int_equal(world_task_runs(x, "c"), 1);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_join_count(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x},"
	    " on-success: [d]}\n"
	    "    b: {action: bora.script, target: h2, input: {script: x},"
	    " on-success: [d]}\n"
	    "    c: {action: bora.script, target: h3, input: {script: x},"
	    " on-success: [d]}\n"
	    "    d: {join: 2, action: std.noop}\n", NULL);
	world_finish((size_t)world_find("h3"), "success", 0, NULL);
	assert_string_equal(world_task_state(x, "d"), "(none)");
	world_finish((size_t)world_find("h1"), "success", 0, NULL);
	assert_string_equal(world_task_state(x, "d"), "SUCCESS");
	world_finish((size_t)world_find("h2"), "success", 0, NULL);
	assert_int_equal(world_task_runs(x, "d"), 1);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_join_not_satisfied(void **state)
{
	struct engine_exec *x;

	(void)state;
	/* b fails and its error goes elsewhere: c's join all never fills */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, on-success: [c]}\n"
	    "    b: {action: std.fail, on-success: [c], on-error: [h]}\n"
	    "    h: {action: std.noop}\n"
	    "    c: {join: all, action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "b"), "ERROR");
	assert_string_equal(world_task_state(x, "h"), "SUCCESS");
	assert_string_equal(world_task_state(x, "c"), "ERROR");
	assert_string_equal(world_task_info(x, "c"),
	    "join not satisfied: 1 inbound task(s) reached it");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x),
	    "task c: join not satisfied: 1 inbound task(s) reached it");
}

static void
test_on_complete_after_on_success(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, on-complete: [c], on-success: [s],"
	    " on-error: [e]}\n"
	    "    s: {action: std.noop}\n"
	    "    e: {action: std.noop}\n"
	    "    c: {action: std.noop}\n", NULL);
	assert_trace(x, "X:RUNNING T:a:RUNNING T:a:SUCCESS T:s:RUNNING "
	    "T:s:SUCCESS T:c:RUNNING T:c:SUCCESS X:SUCCESS");
}

static void
test_on_complete_after_on_error(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, on-complete: [c], on-success: [s],"
	    " on-error: [e]}\n"
	    "    s: {action: std.noop}\n"
	    "    e: {action: std.noop}\n"
	    "    c: {action: std.noop}\n", NULL);
	assert_trace(x, "X:RUNNING T:a:RUNNING T:a:ERROR T:e:RUNNING "
	    "T:e:SUCCESS T:c:RUNNING T:c:SUCCESS X:SUCCESS");

	/* on-complete alone does not handle the error */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, on-complete: [c]}\n"
	    "    c: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "c"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task a: std.fail");
}

static void
test_guards(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=3\n"
	    "      on-success:\n"
	    "        - t_yes: <% task().result = 3 %>\n"
	    "        - t_no: <% task().result = 4 %>\n"
	    "        - t_also\n"
	    "    t_yes: {action: std.noop}\n"
	    "    t_no: {action: std.noop}\n"
	    "    t_also: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "t_yes"), "SUCCESS");
	assert_string_equal(world_task_state(x, "t_no"), "(none)");
	assert_string_equal(world_task_state(x, "t_also"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_guard_error(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      on-success:\n"
	    "        - b: <% $.missing.x %>\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(world_task_state(x, "b"), "(none)");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_prefix(world_exec_info(x), "task a: on-success[0].when: "
	    "expression '<% $.missing.x %>': cannot read '.x' of null");
}

static void
test_command_succeed(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {done: yes}\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, on-error: [succeed]}\n"
	    "    b: {action: bora.script, target: h1, input: {script: x}}\n",
	    NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_true(W.steps[0].cancelled);      /* b stopped: the end */
	assert_string_equal(world_task_state(x, "b"), "CANCELLED");
	world_assert_output(x, "{\"done\":\"yes\"}");
}

/* noop: the clause fires (so the error is handled) and does nothing. */
static void
test_command_noop(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {done: yes}\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, on-error: [noop]}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"done\":\"yes\"}");
}

/* fail(msg='...'): the call form of "fail msg='...'". */
static void
test_command_call_form(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      on-complete:\n"
	    "        - fail(msg='stop here'): <% true %>\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task a: fail: stop here");
}

/* The mapping form: next runs, publish merged as Mistral's get_publish
 * (the task's publish over on-success's, on-complete's over both). */
static void
test_on_clause_publish(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {x: <% $.x %>, y: <% $.y %>, z: <% $.z %>, "
	    "w: <% $.w %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      publish: {x: 1, y: 1}\n"
	    "      on-success:\n"
	    "        publish: {branch: {y: 2, z: 2}}\n"
	    "        next: b\n"
	    "      on-complete:\n"
	    "        publish: {branch: {x: 3}}\n"
	    "    b:\n"
	    "      action: std.fail\n"
	    "      on-error:\n"
	    "        publish: {branch: {w: <% $.z + 1 %>}}\n"
	    "        next: [noop]\n", NULL);
	assert_string_equal(world_task_state(x, "b"), "ERROR");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"w\":3,\"x\":3,\"y\":1,\"z\":2}");
}

/* fail-on: after the publish of a success, a true value makes the task
 * an ERROR that on-error handles; false leaves it a success. */
static void
test_fail_on(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {p: <% $.p %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=4\n"
	    "      publish: {p: <% task().result %>}\n"
	    "      fail-on: <% $.p <= 4 %>\n"
	    "      on-error: [b]\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_string_equal(world_task_info(x, "a"),
	    "Failed by 'fail-on' policy");
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"p\":4}");

	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.echo output=5, fail-on: <% task().result <= 4 %>}\n",
	    NULL);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");

	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, fail-on: <% $.no.such %>}\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_prefix(world_task_info(x, "a"), "fail-on: expression");
}

static void
test_command_fail(void **state)
{
	struct engine_exec *x;

	(void)state;
	/* without msg: the task's own error */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.fail error_data=\"no space\", on-error: [fail]}\n",
	    NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task a: failed: no space");

	/* with msg, after a successful task, stopping what runs */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      on-success:\n"
	    "        - fail msg=\"stop here\"\n"
	    "    b: {action: bora.script, target: h1, input: {script: x}}\n",
	    NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task a: fail: stop here");
	assert_true(W.steps[0].cancelled);

	/* a guard that is false does not fire */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      on-success:\n"
	    "        - fail: <% false %>\n", NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_command_pause(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      on-success: [pause, b]\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_string_equal(engine_exec_state(x), "PAUSED");
	assert_string_equal(world_exec_info(x), "pause command in task a");
	assert_string_equal(world_task_state(x, "b"), "IDLE");
	assert_int_equal(engine_resume(x, err, sizeof(err)), 0);
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_trace(x, "X:RUNNING T:a:RUNNING T:a:SUCCESS X:PAUSED "
	    "X:RUNNING T:b:RUNNING T:b:SUCCESS X:SUCCESS");

	/* a pause as the last thing: resume ends the execution */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop, on-success: [pause]}\n", NULL);
	assert_string_equal(engine_exec_state(x), "PAUSED");
	assert_int_equal(engine_resume(x, err, sizeof(err)), 0);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

static void
test_error_handled_or_not(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: std.fail, on-error: [h]}\n"
	    "    h: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_string_equal(engine_exec_state(x), "SUCCESS");

	/* an on-error whose guard is false leaves it unhandled */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.fail error_data=bad\n"
	    "      on-error:\n"
	    "        - h: <% false %>\n"
	    "    h: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "h"), "(none)");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task a: bad");
}

static void
test_output_and_output_on_error(void **state)
{
	struct engine_exec *x;
	json_t *in;

	(void)state;
	in = json_pack("{s:i}", "n", 1);
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [n]\n"
	    "  output: {ok: true}\n"
	    "  output-on-error: {why: failed, n: <% $.n %>,"
	    " got: <% task('a').state %>}\n"
	    "  tasks:\n"
	    "    a: {action: std.fail}\n", in);
	json_decref(in);
	assert_string_equal(engine_exec_state(x), "ERROR");
	world_assert_output(x, "{\"got\":\"ERROR\",\"n\":1,\"why\":\"failed\"}");

	/* an output that fails to evaluate fails the execution */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output: {v: <% $.nope.x %>}\n"
	    "  tasks:\n"
	    "    a: {action: std.noop}\n", NULL);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_prefix(world_exec_info(x), "output: expression");
	world_assert_output(x, "null");
}

static const char *const input_yaml =
    "version: '2.0'\n"
    "wf:\n"
    "  input: [host, {port: 80}, {tags: [a]}]\n"
    "  output: {host: <% $.host %>, port: <% $.port %>, tags: <% $.tags %>}\n"
    "  tasks:\n"
    "    a: {action: std.noop}\n";

static void
test_input_validation(void **state)
{
	struct engine_exec *x;
	char err[256];
	json_t *in;

	(void)state;
	in = json_pack("{s:s, s:s}", "host", "db", "bogus", "1");
	x = world_start_ex(input_yaml, NULL, in, NULL, err, sizeof(err));
	json_decref(in);
	assert_null(x);
	assert_string_equal(err, "input.bogus: the workflow takes no such input");

	in = json_pack("{s:i}", "port", 8080);
	x = world_start_ex(input_yaml, NULL, in, NULL, err, sizeof(err));
	json_decref(in);
	assert_null(x);
	assert_string_equal(err,
	    "input.host: required (the workflow gives no default)");

	in = json_pack("[s]", "db");
	x = world_start_ex(input_yaml, NULL, in, NULL, err, sizeof(err));
	json_decref(in);
	assert_null(x);
	assert_string_equal(err, "input: expected an object");

	in = json_pack("{s:s, s:i}", "host", "db", "port", 8080);
	x = world_start_ex(input_yaml, NULL, in, NULL, err, sizeof(err));
	json_decref(in);
	assert_non_null(x);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"host\":\"db\",\"port\":8080,\"tags\":[\"a\"]}");
}

static void
test_workflow_choice(void **state)
{
	static const char *const two =
	    "version: '2.0'\n"
	    "one: {tasks: {a: {action: std.noop}}}\n"
	    "two: {tasks: {b: {action: std.noop}}}\n";
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start_ex(two, NULL, NULL, NULL, err, sizeof(err));
	assert_null(x);
	assert_string_equal(err,
	    "the file holds 2 workflows: name the one to run");
	x = world_start_ex(two, "three", NULL, NULL, err, sizeof(err));
	assert_null(x);
	assert_string_equal(err, "no workflow named 'three' in the file");
	x = world_start_ex(two, "one", NULL, "a", err, sizeof(err));
	assert_null(x);
	assert_string_equal(err, "task: only a reverse workflow takes a task "
	    "to reach; 'one' is direct");
	x = world_start_named(two, "two", NULL);
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(world_task_state(x, "a"), "(none)");
}

static void
test_vars(void **state)
{
	struct engine_exec *x;
	char err[256];
	json_t *in;

	(void)state;
	in = json_pack("{s:i}", "n", 4);
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [n]\n"
	    "  vars: {m: <% $.n + 1 %>, fixed: text}\n"
	    "  output: {m: <% $.m %>, fixed: <% $.fixed %>, p: <% $.p %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% $.m * 2 %>\n"
	    "      publish: {p: <% task().result %>}\n", in);
	json_decref(in);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"fixed\":\"text\",\"m\":5,\"p\":10}");

	/* vars that fail to evaluate: no execution */
	x = world_start_ex(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  vars: {m: <% $.n.x %>}\n"
	    "  tasks:\n"
	    "    a: {action: std.noop}\n", NULL, NULL, NULL, err, sizeof(err));
	assert_null(x);
	assert_prefix(err, "expression '<% $.n.x %>'");
}

static const char *const reverse_yaml =
    "version: '2.0'\n"
    "wf:\n"
    "  type: reverse\n"
    "  tasks:\n"
    "    a: {action: std.noop}\n"
    "    b: {action: std.noop, requires: [a]}\n"
    "    c: {action: std.noop, requires: [b]}\n"
    "    d: {action: std.noop}\n"
    "    e: {action: std.noop, requires: [d, c]}\n";

static void
test_reverse_target_task(void **state)
{
	struct engine_exec *x;
	char err[256];

	(void)state;
	x = world_start_ex(reverse_yaml, NULL, NULL, "c", err, sizeof(err));
	assert_non_null(x);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(world_task_state(x, "b"), "SUCCESS");
	assert_string_equal(world_task_state(x, "c"), "SUCCESS");
	assert_string_equal(world_task_state(x, "d"), "(none)");
	assert_string_equal(world_task_state(x, "e"), "(none)");

	x = world_start_ex(reverse_yaml, NULL, NULL, "zz", err, sizeof(err));
	assert_null(x);
	assert_string_equal(err, "task: workflow 'wf' has no task 'zz'");

	/* no task: all of them, each once */
	x = world_start_ex(reverse_yaml, NULL, NULL, NULL, err, sizeof(err));
	assert_non_null(x);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_int_equal(world_task_runs(x, "e"), 1);
	assert_int_equal(world_task_runs(x, "a"), 1);
}

static void
test_reverse_failure(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  type: reverse\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x}}\n"
	    "    b: {action: std.fail error_data=broken}\n"
	    "    c: {action: std.noop, requires: [a, b]}\n", NULL);
	assert_string_equal(engine_exec_state(x), "RUNNING");
	world_finish(0, "success", 0, NULL);
	assert_string_equal(world_task_state(x, "c"), "(none)");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_string_equal(world_exec_info(x), "task b: broken");
}

static void
test_event_order(void **state)
{
	struct engine_exec *x;
	const struct evlog *l;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x}}\n",
	    NULL);
	assert_trace(x, "X:RUNNING T:a:RUNNING S:a:started");
	engine_step_output(W.steps[0].id, "stdout", "hi\n", 3);
	world_finish(0, "success", 0, NULL);
	assert_trace(x, "X:RUNNING T:a:RUNNING S:a:started O:a:stdout "
	    "S:a:success T:a:SUCCESS X:SUCCESS");
	l = engine_exec_log(x);
	assert_true(l->closed);
	/* nothing is added once the execution has ended */
	engine_step_output(W.steps[0].id, "stdout", "late\n", 5);
	assert_int_equal(evlog_count(l), 7);
}

static void
test_unknown_step_ignored(void **state)
{
	struct engine_exec *x;
	json_t *res = json_pack("{s:s}", "status", "success");

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h1, input: {script: x}}\n",
	    NULL);
	engine_step_done("nosuch.1.0.1", res);
	engine_step_output("nosuch.1.0.1", "stdout", "x", 1);
	json_decref(res);
	assert_string_equal(engine_exec_state(x), "RUNNING");
	assert_trace(x, "X:RUNNING T:a:RUNNING S:a:started");
	world_finish(0, "success", 0, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	/* the same step again (a duplicate result) is unknown now */
	W.steps[0].done = 0;
	world_finish(0, "failed", 1, NULL);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

/* n tasks t0..t(n-1); chain: each to the next; else a fan-out from s,
 * joined by j. */
static char *
big_yaml(size_t n, int chain)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	fprintf(f, "version: '2.0'\nwf:\n  tasks:\n");
	if (!chain) {
		fprintf(f, "    s:\n      on-success:\n");
		for (i = 0; i < n; i++)
			fprintf(f, "        - t%zu\n", i);
		fprintf(f, "    j: {join: all, action: std.noop}\n");
	}
	for (i = 0; i < n; i++) {
		fprintf(f, "    t%zu: {action: std.noop", i);
		if (chain && i + 1 < n)
			fprintf(f, ", on-success: [t%zu]", i + 1);
		else if (!chain)
			fprintf(f, ", on-success: [j]");
		fprintf(f, "}\n");
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_chain_1000(void **state)
{
	struct engine_exec *x;
	json_t *j;
	char *yaml = big_yaml(1000, 1);

	(void)state;
	x = world_start(yaml, NULL);
	free(yaml);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	j = engine_exec_to_json(x);
	assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1000);
	json_decref(j);
	assert_string_equal(world_task_state(x, "t999"), "SUCCESS");
	assert_int_equal(evlog_count(engine_exec_log(x)), 2 + 2 * 1000);
}

static void
test_fan_out_1000(void **state)
{
	struct engine_exec *x;
	json_t *j;
	char *yaml = big_yaml(1000, 0);

	(void)state;
	x = world_start(yaml, NULL);
	free(yaml);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	j = engine_exec_to_json(x);
	assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1002);
	json_decref(j);
	assert_int_equal(world_task_runs(x, "j"), 1);
	assert_string_equal(world_task_state(x, "j"), "SUCCESS");
}

static void
test_publish_errors(void **state)
{
	struct engine_exec *x;

	(void)state;
	/* publish that fails: the task is in ERROR and takes on-error */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output-on-error: {why: <% $.why %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.noop\n"
	    "      publish: {v: <% $.no.such %>}\n"
	    "      publish-on-error: {why: publish failed}\n"
	    "      on-success: [s]\n"
	    "      on-error: [e]\n"
	    "    s: {action: std.noop}\n"
	    "    e: {action: std.noop, on-success: [fail]}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_prefix(world_task_info(x, "a"), "publish: expression");
	assert_string_equal(world_task_state(x, "s"), "(none)");
	assert_string_equal(world_task_state(x, "e"), "SUCCESS");
	assert_string_equal(engine_exec_state(x), "ERROR");
	/* publish-on-error is not evaluated after a failed publish */
	world_assert_output(x, "{\"why\":null}");

	/* publish-on-error that fails; output-on-error that fails too */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  output-on-error: {n: <% $.no.such %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.fail\n"
	    "      publish-on-error: {v: <% $.no.such %>}\n", NULL);
	assert_prefix(world_task_info(x, "a"), "publish-on-error: expression");
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_prefix(world_exec_info(x), "task a: publish-on-error: "
	    "expression");
	assert_non_null(strstr(world_exec_info(x), "; output-on-error: "
	    "expression"));
}

static void
test_task_of_a_task_not_run(void **state)
{
	struct engine_exec *x;

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% task('b').result %>\n"
	    "    b: {action: std.noop, wait-before: 5}\n", NULL);
	/* b was there (waiting before) when a ran: its result is null */
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	world_advance(5000);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	/* b has not run yet: an error naming it */
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% task('b').result %>\n"
	    "      on-success: [b]\n"
	    "    b: {action: std.noop}\n", NULL);
	assert_string_equal(world_task_state(x, "a"), "ERROR");
	assert_non_null(strstr(world_task_info(x, "a"), "task 'b' not found"));
}

static void
test_engine_not_running_and_bad_spec(void **state)
{
	struct engine_exec *x;
	char err[256];
	json_t *spec = json_pack("{s:{}}", "workflows");

	(void)state;
	x = engine_start(spec, NULL, NULL, NULL, err, sizeof(err));
	assert_null(x);
	assert_string_equal(err, "the spec holds no workflow");
	engine_shutdown();
	x = engine_start(spec, NULL, NULL, NULL, err, sizeof(err));
	assert_null(x);
	assert_string_equal(err, "the engine is not running");
	engine_step_done("x.1.0.1", spec);      /* ignored, no crash */
	engine_agent_connected("a", spec);
	engine_run_timers();
	json_decref(spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_join_one),
		T(test_join_count),
		T(test_join_not_satisfied),
		T(test_on_complete_after_on_success),
		T(test_on_complete_after_on_error),
		T(test_guards),
		T(test_guard_error),
		T(test_command_succeed),
		T(test_command_noop),
		T(test_command_call_form),
		T(test_on_clause_publish),
		T(test_fail_on),
		T(test_command_fail),
		T(test_command_pause),
		T(test_error_handled_or_not),
		T(test_output_and_output_on_error),
		T(test_input_validation),
		T(test_workflow_choice),
		T(test_vars),
		T(test_reverse_target_task),
		T(test_reverse_failure),
		T(test_event_order),
		T(test_unknown_step_ignored),
		T(test_chain_1000),
		T(test_fan_out_1000),
		T(test_publish_errors),
		T(test_task_of_a_task_not_run),
		T(test_engine_not_running_and_bad_spec),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
