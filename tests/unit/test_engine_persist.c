/* test_engine_persist.c: executions saved as documents and rebuilt after a
 * "restart" of the engine carry on where they were (engine_persist.c). */
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

/* A store in memory: exec id -> {spec, doc, tasks: {seq: doc},
 * actions: {"seq.idx": doc}}. */
static json_t *saved;
static size_t saves;

/* The saved record of exec_id, made on first use. */
static json_t *
saved_exec(const char *exec_id)
{
	json_t *x = json_object_get(saved, exec_id);

	if (x == NULL) {
		x = json_pack("{s:{}, s:{}}", "tasks", "actions");
		json_object_set_new(saved, exec_id, x);
	}
	return x;
}

static size_t action_saves;

static void
save_action(void *user, const char *exec_id, unsigned task_seq, unsigned idx,
    const json_t *doc)
{
	char key[32];

	(void)user;
	snprintf(key, sizeof(key), "%08u.%08u", task_seq, idx);
	json_object_set_new(json_object_get(saved_exec(exec_id), "actions"),
	    key, json_deep_copy(doc));
	action_saves++;
}

static void
save_task(void *user, const char *exec_id, unsigned seq, const json_t *doc)
{
	json_t *x = saved_exec(exec_id);
	char key[16];

	(void)user;
	snprintf(key, sizeof(key), "%08u", seq);
	/* a copy, as a store would keep: later changes must be saved again */
	json_object_set_new(json_object_get(x, "tasks"), key,
	    json_deep_copy(doc));
}

static void
save_exec(void *user, const char *exec_id, const char *workflow,
    const char *state, const json_t *doc, const json_t *spec)
{
	json_t *x = saved_exec(exec_id);

	(void)user;
	(void)workflow;
	(void)state;
	if (spec != NULL)
		json_object_set_new(x, "spec", json_deep_copy(spec));
	assert_non_null(json_object_get(x, "spec"));  /* given the first time */
	json_object_set_new(x, "doc", json_deep_copy(doc));
	saves++;
}

static const struct engine_saver saver = { save_action, save_task,
	save_exec };

/* What a coordinator does at the end of each loop turn. */
static void
flush(void)
{
	engine_save_dirty(&saver, NULL);
	assert_false(engine_dirty());
}

/* Restart: drop the engine, rebuild every saved execution (parents were
 * created first: their ids sort by creation here via a "created" field
 * order we keep in insertion order of the object). */
static void
restart(void)
{
	const char *id;
	json_t *x, *tasks, *actions, *t;
	const char *k;
	char err[256];

	world_restart_engine();
	json_object_foreach(saved, id, x) {
		tasks = json_array();
		actions = json_array();
		json_object_foreach(json_object_get(x, "tasks"), k, t)
			json_array_append(tasks, t);
		json_object_foreach(json_object_get(x, "actions"), k, t)
			json_array_append(actions, t);
		if (engine_restore(json_object_get(x, "spec"),
		    json_object_get(x, "doc"), tasks, actions, err,
		    sizeof(err)) != 0)
			fail_msg("restore %s: %s", id, err);
		json_decref(tasks);
		json_decref(actions);
	}
	engine_restore_done();
	flush();
}

static int
setup(void **state)
{
	(void)state;
	world_init();
	saved = json_object();
	saves = 0;
	action_saves = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	world_free();
	json_decref(saved);
	return 0;
}

static const char *MYSQLISH =
    "version: '2.0'\n"
    "wf:\n"
    "  output: {pw: <% $.pw %>, items: <% task(each).result %>}\n"
    "  tasks:\n"
    "    a:\n"
    "      action: bora.script\n"
    "      target: db\n"
    "      input: {script: x}\n"
    "      publish: {pw: <% task().result.outputs.password %>}\n"
    "      on-success: [c]\n"
    "    b:\n"
    "      action: std.sleep seconds=30\n"
    "      on-success: [c]\n"
    "    c:\n"
    "      join: all\n"
    "      action: bora.script\n"
    "      target: web\n"
    "      with-items: n in [1, 2, 3]\n"
    "      concurrency: 2\n"
    "      input: {script: 'echo <% $.n %> <% $.pw %>'}\n"
    "      on-success: [each]\n"
    "    each:\n"
    "      action: std.echo output=<% $.pw %>\n";

static void
test_restart_mid_execution(void **state)
{
	struct engine_exec *x;
	char id[64];

	(void)state;
	x = world_start(MYSQLISH, NULL);
	snprintf(id, sizeof(id), "%s", engine_exec_id(x));
	flush();
	/* a's step runs on db; b sleeps; restart before either ends */
	assert_int_equal(W.nsteps, 1);
	restart();
	x = engine_find(id);
	assert_non_null(x);
	assert_string_equal(engine_exec_state(x), "RUNNING");
	assert_int_equal(W.nsteps, 1);       /* nothing ran twice */
	world_finish(0, "success", 0, "{\"password\": \"pw1\"}");
	flush();
	restart();                           /* the join has one of two */
	x = engine_find(id);
	assert_string_equal(world_task_state(x, "a"), "SUCCESS");
	assert_string_equal(world_task_state(x, "c"), "(none)");
	world_advance(30000);                /* b's sleep ends, as armed */
	flush();
	assert_string_equal(world_task_state(x, "c"), "RUNNING");
	assert_int_equal(W.nsteps, 3);       /* concurrency 2 of 3 items */
	assert_string_equal(json_string_value(json_object_get(W.steps[1].spec,
	    "script")), "echo 1 pw1");
	world_finish(1, "success", 0, NULL);
	flush();
	restart();
	x = engine_find(id);
	assert_int_equal(W.nsteps, 4);       /* the third item, once */
	world_finish(2, "success", 0, NULL);
	world_finish(3, "success", 0, NULL);
	flush();
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"items\":\"pw1\",\"pw\":\"pw1\"}");
	restart();                           /* a finished one stays so */
	x = engine_find(id);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	assert_int_equal(W.nsteps, 4);
}

/* $ shares the input's values and is saved as what was set on top of it
 * ("ctx_set"), so an input is written once; a document of the older form
 * (the whole of $ in "ctx") restores the same. */
static void
test_input_saved_once(void **state)
{
	static const char yaml[] =
	    "version: '2.0'\n"
	    "wf:\n"
	    "  input: [big, n]\n"
	    "  vars: {v: 1}\n"
	    "  output: {n: <% $.n %>, got: <% $.got %>, v: <% $.v %>}\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      action: std.echo output=<% $.n %>\n"
	    "      publish: {got: <% task().result %>}\n"
	    "      on-success: [b]\n"
	    "    b:\n"
	    "      action: std.sleep seconds=5\n";
	json_t *input = json_pack("{s:s, s:i}", "big", "a large value", "n", 7);
	json_t *doc, *set, *ctx;
	struct engine_exec *x;
	char id[64];

	(void)state;
	x = world_start(yaml, input);
	json_decref(input);
	assert_non_null(x);
	snprintf(id, sizeof(id), "%s", engine_exec_id(x));
	flush();
	doc = json_object_get(json_object_get(saved, id), "doc");
	set = json_object_get(doc, "ctx_set");
	assert_non_null(set);
	assert_null(json_object_get(doc, "ctx"));
	assert_null(json_object_get(set, "big"));     /* the input's own */
	assert_null(json_object_get(set, "n"));
	assert_int_equal(json_integer_value(json_object_get(set, "v")), 1);
	assert_int_equal(json_integer_value(json_object_get(set, "got")), 7);
	/* the older form: the whole of $ */
	ctx = json_copy(json_object_get(doc, "input"));
	json_object_update(ctx, set);
	json_object_set_new(doc, "ctx", ctx);
	json_object_del(doc, "ctx_set");
	restart();
	x = engine_find(id);
	assert_non_null(x);
	world_advance(5000);
	flush();
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"got\":7,\"n\":7,\"v\":1}");
	/* and the newer form again after that restart */
	restart();
	x = engine_find(id);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"got\":7,\"n\":7,\"v\":1}");
}

static void
test_restart_timers_and_retry(void **state)
{
	struct engine_exec *x;
	char id[64];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    a: {action: bora.script, target: h, input: {script: x},"
	    " retry: {count: 2, delay: 60}, timeout: 600}\n", NULL);
	snprintf(id, sizeof(id), "%s", engine_exec_id(x));
	world_finish(0, "failed", 1, NULL);
	flush();
	world_advance(20000);
	restart();                           /* 40 s of the delay are left */
	world_advance(39999);
	assert_int_equal(W.nsteps, 1);
	world_advance(1);
	assert_int_equal(W.nsteps, 2);
	flush();
	restart();
	world_advance(600000);               /* the task's timeout, kept */
	x = engine_find(id);
	assert_string_equal(engine_exec_state(x), "ERROR");
	assert_true(W.steps[1].cancelled);
}

static void
test_restart_subworkflow(void **state)
{
	struct engine_exec *x;
	char id[64];

	(void)state;
	x = world_start_named(
	    "version: '2.0'\n"
	    "main:\n"
	    "  output: {r: <% $.r %>}\n"
	    "  tasks:\n"
	    "    call:\n"
	    "      workflow: child v=4\n"
	    "      publish: {r: <% task().result.v %>}\n"
	    "child:\n"
	    "  input: [v]\n"
	    "  output: {v: <% $.v %>}\n"
	    "  tasks:\n"
	    "    t: {action: bora.script, target: h, input: {script: x}}\n",
	    "main", NULL);
	snprintf(id, sizeof(id), "%s", engine_exec_id(x));
	flush();
	restart();
	world_finish(0, "success", 0, NULL);
	x = engine_find(id);
	assert_string_equal(engine_exec_state(x), "SUCCESS");
	world_assert_output(x, "{\"r\":4}");
}

static void
test_only_changes_saved(void **state)
{
	struct engine_exec *x;
	size_t before;

	(void)state;
	x = world_start(MYSQLISH, NULL);
	flush();
	before = saves;
	flush();                             /* nothing changed */
	assert_int_equal(saves, before);
	world_finish(0, "success", 0, "{\"password\": \"p\"}");
	flush();
	assert_int_equal(saves, before + 1);
	(void)x;
}

/* A task of many items: a change to one item saves that item only. */
static void
test_items_saved_apart(void **state)
{
	struct engine_exec *x;
	size_t before;
	char id[64];

	(void)state;
	x = world_start(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  tasks:\n"
	    "    each:\n"
	    "      action: bora.script\n"
	    "      target: h\n"
	    "      with-items: n in <% [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] %>\n"
	    "      concurrency: 2\n"
	    "      input: {script: x}\n", NULL);
	snprintf(id, sizeof(id), "%s", engine_exec_id(x));
	flush();
	assert_int_equal(action_saves, 10);  /* all made, two started */
	before = action_saves;
	world_finish(0, "success", 0, NULL);
	flush();
	/* the finished item and the one started in its place */
	assert_int_equal(action_saves, before + 2);
	restart();
	x = engine_find(id);
	assert_non_null(x);
	while (world_find(NULL) >= 0) {
		world_finish((size_t)world_find(NULL), "success", 0, NULL);
		flush();
	}
	assert_int_equal(W.nsteps, 10);      /* none ran twice */
	assert_string_equal(engine_exec_state(x), "SUCCESS");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_mid_execution,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_saved_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart_timers_and_retry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_subworkflow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_changes_saved,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_items_saved_apart,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
