/*
 * test_coord_step_protocol.c: what submitters and agents do to steps
 * (coordinator/agents/coord_step_protocol.c), without a store (every write
 * durable at once): submit to an agent here or away, accept, result,
 * results kept in a hello and owners told after it, runs sent again on
 * reconnection, cancel in each state, messages about another agent's step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "coord_step_int.h"
#include "coord_steps_fixture.h"

static int
accept_step(struct coord_agent *a, const char *id)
{
	struct bora_accept m = { id, 77 };
	char err[256];

	return steps_on_accept(a, &m, err, sizeof(err));
}

static void
test_life(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s;
	char *ev, *log;

	(void)state;
	fx_log_start();
	s = fx_submit("l.1", "web1", fx_owner());
	/* no store: durable at once, sent at once */
	assert_string_equal(fx_sent(a), "run l.1");
	assert_int_equal((s)->state, STEP_DISPATCHED);
	assert_int_equal(accept_step(a, "l.1"), 0);
	assert_int_equal((s)->state, STEP_RUNNING);
	assert_int_equal(accept_step(a, "l.1"), 0);     /* a duplicate */
	assert_int_equal(fx_heard.dones, 0);
	assert_int_equal(fx_result(a, "l.1", "success", 0), 0);
	log = fx_log_end();
	assert_int_equal((s)->state, STEP_DONE);
	assert_string_equal(fx_sent(a), "ack l.1");
	assert_int_equal(fx_heard.dones, 1);
	assert_string_equal(fx_heard.done_status, "success");
	assert_true(step_log(s)->closed);
	ev = fx_events(s);
	assert_non_null(strstr(ev, "\"event\":\"queued\""));
	assert_non_null(strstr(ev, "\"event\":\"dispatched\""));
	assert_non_null(strstr(ev, "\"event\":\"accepted\",\"pid\":77"));
	assert_non_null(strstr(ev, "\"event\":\"result\""));
	/* "accepted" once */
	assert_null(strstr(strstr(ev, "accepted") + 1, "accepted"));
	free(ev);
	/* an owner that hears of the result, a dotted id: the part before
	 * the dot is its execution */
	assert_non_null(strstr(log, "info  steps: step queued step=l.1 exec=l "
	    "agent=web1 kind=script timeout=60\n"));
	assert_non_null(strstr(log, "step dispatched step=l.1 exec=l "
	    "agent=web1 "));
	assert_non_null(strstr(log, "step started step=l.1 exec=l agent=web1 "
	    "pid=77"));
	assert_non_null(strstr(log, "info  steps: step finished step=l.1 "
	    "exec=l agent=web1 status=success exit=0 duration_ms=250"));
	free(log);
	/* late ones change nothing */
	assert_int_equal(accept_step(a, "l.1"), 0);
	assert_int_equal((s)->state, STEP_DONE);
}

/* An agent away past a step's bound (its timeout, 60 s here, plus 3
 * heartbeats of 30 s) has lost it: finished here, the owner told; back
 * still running it, it is told to cancel it, and its late result is only
 * acked. A step whose agent is back in time is not touched. */
static void
test_agent_away_past_bound(void **state)
{
	struct coord_agent *a;
	struct coord_step *s;
	int64_t gone;
	json_t *run;

	(void)state;
	fx_submit("x.1", "web1", fx_owner());
	fx_submit("x.2", "web1", fx_owner());
	a = fx_agent("web1");
	fx_hello(a, NULL, NULL);
	assert_string_equal(fx_sent(a), "run x.2, run x.1");
	assert_int_equal(accept_step(a, "x.1"), 0);
	assert_int_equal(step_away_bound_s(steps_find("x.1")), 150);
	gone = bora_wall_ms();
	fx_gone(a);
	steps_away_run(gone + 149 * 1000);
	assert_int_equal(fx_heard.dones, 0);
	steps_away_run(gone + 152 * 1000);
	assert_int_equal(fx_heard.dones, 2);
	assert_string_equal(fx_heard.done_status, "lost");
	s = steps_find("x.1");
	assert_int_equal(s->state, STEP_DONE);
	assert_string_equal(json_string_value(json_object_get(s->result,
	    "error")), "agent web1 was away longer than 150 s while the step "
	    "ran");
	run = json_pack("[s]", "x.1");
	fx_hello(a, run, NULL);
	json_decref(run);
	assert_string_equal(fx_sent(a), "cancel x.1");

	/* back in time: the deadline goes with the welcome */
	fx_submit("x.3", "web1", fx_owner());
	assert_string_equal(fx_sent(a), "run x.3");
	gone = bora_wall_ms();
	fx_gone(a);
	run = json_pack("[s]", "x.3");
	fx_hello(a, run, NULL);
	json_decref(run);
	steps_away_run(gone + 1000 * 1000);
	assert_int_equal(fx_heard.dones, 2);
	assert_int_equal(steps_find("x.3")->state, STEP_RUNNING);
}

static void
test_agent_away_then_here(void **state)
{
	struct coord_agent *a;

	(void)state;
	fx_submit("w.1", "web1", NULL);
	fx_submit("w.2", "web1", NULL);
	fx_submit("d.1", "db1", NULL);
	a = fx_agent("web1");
	/* connected but not through its hello yet: nothing */
	assert_string_equal(fx_sent(a), "");
	fx_hello(a, NULL, NULL);
	assert_string_equal(fx_sent(a), "run w.2, run w.1");
	assert_int_equal((steps_find("w.1"))->state, STEP_DISPATCHED);
	assert_int_equal((steps_find("d.1"))->state, STEP_WAITING);
	/* back after a cut: a run that may have been lost is sent again,
	 * one the agent says it runs is not */
	assert_int_equal(accept_step(a, "w.1"), 0);
	fx_gone(a);
	fx_submit("w.3", "web1", NULL);
	assert_string_equal(fx_sent(a), "");
	{
		json_t *run = json_pack("[s]", "w.1");

		fx_hello(a, run, NULL);
		json_decref(run);
	}
	assert_string_equal(fx_sent(a), "run w.3, run w.2");
	assert_int_equal((steps_find("w.1"))->state, STEP_RUNNING);
	/* a dispatched step the agent runs is running */
	{
		json_t *run = json_pack("[s, s]", "w.2", "w.3");

		fx_gone(a);
		fx_hello(a, run, NULL);
		json_decref(run);
	}
	assert_string_equal(fx_sent(a), "run w.1");
	assert_int_equal((steps_find("w.2"))->state, STEP_RUNNING);
}

/* An owner that submits a step for the same agent when it hears of a
 * result: allowed, as the agent's list is not being walked then. */
static void
resubmit_on_done(void *user, const char *step_id, const json_t *result)
{
	char id[64];

	(void)result;
	snprintf(id, sizeof(id), "%s.again", step_id);
	(void)fx_submit(id, (const char *)user, NULL);
	fx_owner()->on_done(NULL, step_id, result);
}

static void
test_hello_results(void **state)
{
	struct step_owner owner = *fx_owner();
	struct coord_agent *a;
	json_t *results;

	(void)state;
	owner.on_done = resubmit_on_done;
	owner.user = (void *)"web1";
	fx_submit("h.1", "web1", &owner);
	fx_submit("h.2", "web1", &owner);
	a = fx_agent("web1");
	fx_hello(a, NULL, NULL);
	assert_string_equal(fx_sent(a), "run h.2, run h.1");
	fx_gone(a);
	/* both finished while the agent was away; one of them twice, and
	 * one of a step nobody knows */
	results = json_pack("[{s:s, s:s, s:i, s:I, s:I}, {s:s, s:s, s:i, s:I, "
	    "s:I}, {s:s, s:s, s:i, s:I, s:I}, {s:s, s:s, s:i, s:I, s:I}]",
	    "step", "h.1", "status", "success", "exit_code", 0,
	    "started_ms", (json_int_t)1, "finished_ms", (json_int_t)2,
	    "step", "h.2", "status", "failed", "exit_code", 2,
	    "started_ms", (json_int_t)1, "finished_ms", (json_int_t)2,
	    "step", "h.1", "status", "success", "exit_code", 0,
	    "started_ms", (json_int_t)1, "finished_ms", (json_int_t)2,
	    "step", "zz", "status", "success", "exit_code", 0,
	    "started_ms", (json_int_t)1, "finished_ms", (json_int_t)2);
	fx_hello(a, NULL, results);
	json_decref(results);
	/* each applied once and acked, in order; the owner told after the
	 * hello, oldest first; what it submitted then sent */
	assert_string_equal(fx_heard.order, "h.1 h.2");
	assert_int_equal((steps_find("h.1"))->state, STEP_DONE);
	assert_string_equal(fx_sent(a), "ack h.1, ack h.2, ack h.1, "
	    "run h.1.again, run h.2.again");
	assert_true(TAILQ_EMPTY(&stepmod.notify));
}

static void
test_cancel(void **state)
{
	struct coord_agent *a;
	struct coord_step *w, *d, *r;
	json_t *run;
	char *log;

	(void)state;
	/* waiting: finished here, the owner told at once */
	w = fx_submit("c.1", "web1", fx_owner());
	fx_log_start();
	steps_cancel(w, "not today");
	log = fx_log_end();
	assert_int_equal((w)->state, STEP_DONE);
	assert_string_equal(fx_heard.done_status, "cancelled");
	assert_string_equal(json_string_value(json_object_get(w->result,
	    "error")), "cancelled: not today; agent web1 was not running it");
	assert_non_null(strstr(log, "info  steps: step finished step=c.1 "
	    "exec=c agent=web1 status=cancelled where=coordinator"));
	free(log);
	steps_cancel(w, "again");              /* finished: left alone */
	assert_int_equal(fx_heard.dones, 1);
	/* dispatched, agent here: cancel sent; the result comes as usual */
	a = fx_agent("web1");
	fx_hello(a, NULL, NULL);
	d = fx_submit("c.2", "web1", fx_owner());
	assert_string_equal(fx_sent(a), "run c.2");
	steps_cancel(d, "stop");
	steps_cancel(d, "stop twice");         /* asked already */
	assert_string_equal(fx_sent(a), "cancel c.2");
	assert_int_equal((d)->state, STEP_DISPATCHED);
	assert_int_equal(fx_result(a, "c.2", "cancelled", 0), 0);
	assert_int_equal((d)->state, STEP_DONE);
	assert_null(d->cancel_reason);
	/* agent away: kept for its return */
	r = fx_submit("c.3", "web1", fx_owner());
	fx_submit("c.4", "web1", fx_owner());
	(void)fx_sent(a);
	fx_gone(a);
	steps_cancel(r, NULL);
	steps_cancel(steps_find("c.4"), "gone");
	assert_string_equal(r->cancel_reason, "");
	/* back running c.3: told to cancel it; not running c.4: it never
	 * starts, finished here */
	run = json_pack("[s]", "c.3");
	fx_hello(a, run, NULL);
	json_decref(run);
	assert_string_equal(fx_sent(a), "cancel c.3");
	assert_int_equal((r)->state, STEP_RUNNING);
	assert_int_equal((steps_find("c.4"))->state, STEP_DONE);
	assert_string_equal(fx_heard.done_step, "c.4");
}

/* Every line of log that names step id carries want. */
static void
assert_lines_carry(const char *log, const char *id, const char *want)
{
	char needle[128];
	const char *p, *end;
	size_t lines = 0;

	snprintf(needle, sizeof(needle), "step=%s ", id);
	for (p = log; (p = strstr(p, needle)) != NULL; p = end) {
		end = strchr(p, '\n');
		assert_non_null(end);
		if (memmem(p, (size_t)(end - p), want, strlen(want)) == NULL)
			fail_msg("a line of %s without %s: %.*s", id, want,
			    (int)(end - p), p);
		lines++;
	}
	assert_true(lines > 0);
}

static void
test_labels(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s;
	char task[32], *log;

	(void)state;
	fx_hello(a, NULL, NULL);
	snprintf(task, sizeof(task), "install");
	fx_log_start();
	s = fx_submit("e5.3.0.1", "web1", fx_owner_labelled(NULL, task));
	/* copied: the caller's string may go */
	snprintf(task, sizeof(task), "changed");
	assert_int_equal(accept_step(a, "e5.3.0.1"), 0);
	/* detached (the engine does so before it cancels): still labelled */
	step_set_owner(s, NULL);
	steps_cancel(s, "stop");
	assert_int_equal(fx_result(a, "e5.3.0.1", "failed", 3), 0);
	/* an explicit execution, a task name that must be quoted */
	fx_submit("plain", "web1", fx_owner_labelled("run-42", "deploy web"));
	/* no owner: no labels */
	fx_submit("api.1", "web1", NULL);
	assert_int_equal(fx_result(a, "plain", "timeout", 0), 0);
	assert_int_equal(fx_result(a, "api.1", "cancelled", 0), 0);
	log = fx_log_end();
	assert_lines_carry(log, "e5.3.0.1", " exec=e5 task=install agent=web1");
	assert_non_null(strstr(log, "step queued step=e5.3.0.1 exec=e5 "
	    "task=install agent=web1 kind=script"));
	assert_non_null(strstr(log, "step dispatched step=e5.3.0.1 exec=e5 "
	    "task=install agent=web1"));
	assert_non_null(strstr(log, "step started step=e5.3.0.1 exec=e5 "
	    "task=install agent=web1"));
	assert_non_null(strstr(log, "step cancel sent step=e5.3.0.1 exec=e5 "
	    "task=install agent=web1"));
	/* failed: a warning */
	assert_non_null(strstr(log, "warn  steps: step finished step=e5.3.0.1 "
	    "exec=e5 task=install agent=web1 status=failed exit=3"));
	assert_null(strstr(log, "changed"));
	assert_lines_carry(log, "plain",
	    " exec=run-42 task=\"deploy web\" agent=web1");
	assert_non_null(strstr(log, "warn  steps: step finished step=plain "
	    "exec=run-42 task=\"deploy web\" agent=web1 status=timeout"));
	assert_lines_carry(log, "api.1", "step=api.1 agent=web1");
	/* cancelled on the agent: not a failure */
	assert_non_null(strstr(log, "info  steps: step finished step=api.1 "
	    "agent=web1 status=cancelled"));
	assert_null(strstr(log, "step=api.1 exec="));
	free(log);
	assert_string_equal(s->exec, "e5");
	assert_string_equal(steps_find("plain")->exec, "run-42");
	assert_string_equal(steps_find("api.1")->exec, "");
}

static void
test_other_agents_step(void **state)
{
	struct coord_agent *a = fx_agent("web1"), *b = fx_agent("db1");
	struct bora_accept m = { "o.1", 1 };
	struct bora_result r;
	char err[256];

	(void)state;
	fx_submit("o.1", "web1", fx_owner());
	(void)fx_sent(a);
	assert_int_equal(steps_on_accept(b, &m, err, sizeof(err)), -1);
	assert_string_equal(err, "step o.1 belongs to another agent");
	memset(&r, 0, sizeof(r));
	r.step = "o.1";
	r.status = BORA_STATUS_SUCCESS;
	assert_int_equal(steps_on_result(b, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "step o.1 belongs to another agent");
	r.step = "nope";
	assert_int_equal(steps_on_result(a, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown step nope");
	/* nothing changed, nothing sent */
	assert_int_equal((steps_find("o.1"))->state, STEP_DISPATCHED);
	assert_int_equal(fx_heard.dones, 0);
	assert_string_equal(fx_sent(a), "");
	assert_string_equal(fx_sent(b), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_life, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_agent_away_past_bound,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_agent_away_then_here,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hello_results, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_labels, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_other_agents_step,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
