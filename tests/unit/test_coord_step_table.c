/*
 * test_coord_step_table.c: the step table (coordinator/agents/coord_step_table.c):
 * steps submitted for an agent that is not connected, found by id and by
 * agent, ids given and generated, fields refused, finished steps kept
 * within their count and byte caps, and the ones eviction must spare.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coord_step_int.h"
#include "coord_steps_fixture.h"

/* The ids of steps_of_agent_json(agent), "a b c". */
static const char *
ids_of_agent(const char *agent)
{
	static char buf[1024];
	json_t *arr = steps_of_agent_json(agent), *v;
	size_t i, n = 0;

	assert_non_null(arr);
	buf[0] = '\0';
	json_array_foreach(arr, i, v)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    n ? " " : "", json_string_value(json_object_get(v, "id")));
	json_decref(arr);
	return buf;
}

static void
test_submit_not_connected(void **state)
{
	struct coord_step *s;
	json_t *j;
	char *ev;

	(void)state;
	s = fx_submit("x1.1.0.1", "web1", NULL);
	assert_ptr_equal(steps_find("x1.1.0.1"), s);
	assert_null(steps_find("x1.1.0.2"));
	assert_string_equal(step_id(s), "x1.1.0.1");
	assert_int_equal((s)->state, STEP_WAITING);
	j = step_to_json(s);
	assert_string_equal(json_string_value(json_object_get(j, "agent")),
	    "web1");
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
	    "script");
	assert_string_equal(json_string_value(json_object_get(j, "state")),
	    "waiting");
	assert_int_equal(json_integer_value(json_object_get(j, "timeout")), 60);
	assert_null(json_object_get(j, "result"));
	json_decref(j);
	ev = fx_events(s);
	assert_non_null(strstr(ev, "\"event\":\"queued\""));
	assert_null(strstr(ev, "dispatched"));
	free(ev);
	assert_string_equal(ids_of_agent("web1"), "x1.1.0.1");
	assert_string_equal(ids_of_agent("db1"), "");
}

static void
test_ids(void **state)
{
	json_t *spec = json_object(), *list = json_array();
	uint64_t n = stepmod.counter;
	char err[256];

	(void)state;
	/* generated: step-BOOT-N, one boot part per start */
	assert_non_null(fx_submit(NULL, "web1", NULL));
	assert_non_null(fx_submit(NULL, "web1", NULL));
	assert_int_equal(strlen(stepmod.boot), 8);
	assert_int_equal(stepmod.counter, n + 2);
	snprintf(err, sizeof(err), "step-%s-%llu", stepmod.boot,
	    (unsigned long long)(n + 2));
	assert_non_null(steps_find(err));
	/* a given id is checked and must be new */
	assert_non_null(fx_submit("a.1", "web1", NULL));
	assert_null(steps_submit("a.1", "db1", "script", spec, NULL, 60, NULL,
	    err, sizeof(err)));
	assert_string_equal(err, "id: step a.1 exists already");
	assert_null(steps_submit("a b", "web1", "script", spec, NULL, 60, NULL,
	    err, sizeof(err)));
	assert_non_null(strstr(err, "id: expected"));
	/* and the other fields */
	assert_null(steps_submit("b.1", "-web", "script", spec, NULL, 60, NULL,
	    err, sizeof(err)));
	assert_string_equal(err, "agent: not a valid agent name");
	assert_null(steps_submit("b.1", "web1", "", spec, NULL, 60, NULL, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "kind:"));
	assert_null(steps_submit("b.1", "web1", "script", list, NULL, 60, NULL,
	    err, sizeof(err)));
	assert_string_equal(err, "spec and inputs must be objects");
	assert_null(steps_submit("b.1", "web1", "script", spec, list, 60, NULL,
	    err, sizeof(err)));
	assert_null(steps_submit("b.1", "web1", "script", spec, NULL, 0, NULL,
	    err, sizeof(err)));
	assert_non_null(strstr(err, "timeout:"));
	assert_null(steps_submit("b.1", "web1", "script", spec, NULL,
	    BORA_MAX_TIMEOUT_S + 1, NULL, err, sizeof(err)));
	/* nothing of the refused ones was kept */
	assert_null(steps_find("b.1"));
	assert_null(step_table_agent("-web"));
	assert_string_equal(ids_of_agent("db1"), "");
	json_decref(spec);
	json_decref(list);
}

static void
test_by_agent(void **state)
{
	struct coord_agent a;
	char err[256];

	(void)state;
	fx_submit("w.1", "web1", NULL);
	fx_submit("d.1", "db1", NULL);
	fx_submit("w.2", "web1", NULL);
	fx_submit("w.3", "web1", NULL);
	/* the newest first */
	assert_string_equal(ids_of_agent("web1"), "w.3 w.2 w.1");
	assert_string_equal(ids_of_agent("db1"), "d.1");
	/* a finished step leaves its agent's list, not the table */
	steps_cancel(steps_find("w.2"), "no");
	assert_string_equal(ids_of_agent("web1"), "w.3 w.1");
	assert_int_equal((steps_find("w.2"))->state, STEP_DONE);
	assert_int_equal(stepmod.done_count, 1);
	/* a step is its agent's only */
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "db1");
	assert_ptr_equal(step_table_of_agent(&a, "d.1", err, sizeof(err)),
	    steps_find("d.1"));
	assert_null(step_table_of_agent(&a, "w.1", err, sizeof(err)));
	assert_string_equal(err, "step w.1 belongs to another agent");
	assert_null(step_table_of_agent(&a, "nope", err, sizeof(err)));
	assert_string_equal(err, "unknown step nope");
}

/* Submit and finish (cancel while waiting) step id. */
static void
finish_one(const char *id)
{
	steps_cancel(fx_submit(id, "web1", NULL), NULL);
}

static void
test_evict_count(void **state)
{
	char id[32];
	int i;

	(void)state;
	assert_int_equal(stepmod.keep_done, STEPS_KEEP_DONE);
	stepmod.keep_done = 3;
	for (i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "c.%d", i);
		finish_one(id);
		assert_true(stepmod.done_count <= 3);
	}
	assert_int_equal(stepmod.done_count, 3);
	/* the oldest went first */
	assert_null(steps_find("c.1"));
	assert_null(steps_find("c.2"));
	assert_non_null(steps_find("c.3"));
	assert_non_null(steps_find("c.5"));
	assert_ptr_equal(TAILQ_FIRST(&stepmod.done), steps_find("c.3"));
	/* an unfinished step is never forgotten */
	fx_submit("c.6", "web1", NULL);
	finish_one("c.7");
	assert_non_null(steps_find("c.6"));
	assert_null(steps_find("c.3"));
	stepmod.keep_done = STEPS_KEEP_DONE;
}

static void
test_evict_bytes(void **state)
{
	struct coord_step *s;
	size_t one, sum;
	char id[32];
	int i;

	(void)state;
	finish_one("b.1");
	one = steps_find("b.1")->log.bytes;
	assert_true(one > 0);
	assert_int_equal(stepmod.done_bytes, one);
	/* room for two and a half logs of that size */
	stepmod.keep_done_bytes = one * 5 / 2;
	for (i = 2; i <= 6; i++) {
		snprintf(id, sizeof(id), "b.%d", i);
		finish_one(id);
		assert_true(stepmod.done_bytes <= stepmod.keep_done_bytes);
	}
	assert_int_equal(stepmod.done_count, 2);
	assert_null(steps_find("b.4"));
	assert_non_null(steps_find("b.5"));
	assert_non_null(steps_find("b.6"));
	/* done_bytes is the sum of the kept logs */
	sum = 0;
	TAILQ_FOREACH(s, &stepmod.done, done_link)
		sum += s->log.bytes;
	assert_int_equal(stepmod.done_bytes, sum);
	stepmod.keep_done_bytes = STEPS_KEEP_DONE_BYTES;
}

static void
watcher_notify(struct evlog_watcher *w)
{
	(void)w;
}

static void
test_evict_spares_watched(void **state)
{
	struct evlog_watcher w;

	(void)state;
	stepmod.keep_done = 1;
	finish_one("v.1");
	memset(&w, 0, sizeof(w));
	w.notify = watcher_notify;
	evlog_watch(step_log(steps_find("v.1")), &w);
	/* the oldest is watched: nothing after it goes either */
	finish_one("v.2");
	finish_one("v.3");
	assert_non_null(steps_find("v.1"));
	assert_non_null(steps_find("v.2"));
	assert_int_equal(stepmod.done_count, 3);
	/* unwatched: forgotten at the next eviction, down to the cap */
	evlog_unwatch(&w);
	finish_one("v.4");
	assert_int_equal(stepmod.done_count, 1);
	assert_null(steps_find("v.1"));
	assert_null(steps_find("v.3"));
	assert_non_null(steps_find("v.4"));
	stepmod.keep_done = STEPS_KEEP_DONE;
}

static void
test_shutdown(void **state)
{
	(void)state;
	fx_submit("s.1", "web1", NULL);
	finish_one("s.2");
	steps_shutdown();
	assert_null(steps_find("s.1"));
	assert_null(steps_find("s.2"));
	assert_null(step_table_agent("web1"));
	assert_int_equal(stepmod.done_count, 0);
	assert_int_equal(stepmod.done_bytes, 0);
	assert_true(TAILQ_EMPTY(&stepmod.done));
	/* usable again */
	fx_submit("s.1", "web1", NULL);
	assert_string_equal(ids_of_agent("web1"), "s.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_not_connected,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ids, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_by_agent, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_evict_count, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_evict_bytes, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_evict_spares_watched,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
