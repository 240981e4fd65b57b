/*
 * test_coord_step_durable.c: steps and the store (coordinator/agents/
 * coord_step_durable.c): a run is not sent before the step's row is durable, an
 * ack not before the result's write is, each let out in write order by
 * steps_release(); the rows themselves; restore from a struct store_step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persist.h"
#include "coord_step_int.h"
#include "coord_steps_fixture.h"

/* The store's row of a step, as far as the tests look at it. */
struct row {
	int found;
	char exec_id[64];
	char state[16];
	char result_status[16];
};

static int
row_cb(void *user, const struct store_step *st)
{
	struct row *r = user;
	json_t *res;

	snprintf(r->exec_id, sizeof(r->exec_id), "%s",
	    st->exec_id ? st->exec_id : "");
	snprintf(r->state, sizeof(r->state), "%s",
	    st->state == STORE_STEP_DONE ? "done" :
	    st->state == STORE_STEP_RUNNING ? "running" : "dispatched");
	if (st->result != NULL && (res = json_loads(st->result, 0, NULL))) {
		snprintf(r->result_status, sizeof(r->result_status), "%s",
		    json_string_value(json_object_get(res, "status")));
		json_decref(res);
	}
	return 0;
}

static struct row
row_of(const char *id)
{
	struct row r;
	char err[256];

	memset(&r, 0, sizeof(r));
	assert_int_equal(persist_get_step(id, row_cb, &r, &r.found, err,
	    sizeof(err)), 0);
	return r;
}

static void
test_run_held_until_durable(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s;
	struct row r;

	(void)state;
	s = fx_submit("e1.1.0.1", "web1", fx_owner());
	/* queued, not durable: no run yet, though the agent is here */
	assert_true(s->held);
	assert_true(s->hold_seq > persist_durable());
	assert_string_equal(fx_sent(a), "");
	assert_int_equal((s)->state, STEP_WAITING);
	/* nothing durable yet: nothing let out */
	steps_release(s->hold_seq - 1, NULL);
	assert_string_equal(fx_sent(a), "");
	fx_turn();
	assert_false(s->held);
	assert_string_equal(fx_sent(a), "run e1.1.0.1");
	assert_int_equal((s)->state, STEP_DISPATCHED);
	r = row_of("e1.1.0.1");
	assert_true(r.found);
	assert_string_equal(r.state, "dispatched");
	/* a step with an owner and a dotted id is its execution's */
	assert_string_equal(r.exec_id, "e1");
	fx_submit("lone", "web1", NULL);
	fx_turn();
	assert_string_equal(row_of("lone").exec_id, "");
	/* or the one its owner names */
	fx_submit("named.1", "web1", fx_owner_labelled("x77", "t"));
	fx_turn();
	assert_string_equal(row_of("named.1").exec_id, "x77");
}

static void
test_runs_in_write_order(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s1, *s2, *s3;

	(void)state;
	s1 = fx_submit("r.1", "web1", NULL);
	s2 = fx_submit("r.2", "web1", NULL);
	s3 = fx_submit("r.3", "web1", NULL);
	assert_true(s1->hold_seq < s2->hold_seq);
	assert_true(s2->hold_seq < s3->hold_seq);
	assert_string_equal(fx_sent(a), "");
	steps_release(s1->hold_seq, NULL);
	assert_string_equal(fx_sent(a), "run r.1");
	/* a later write durable means the earlier ones are: in order */
	fx_submit("r.4", "web1", NULL);
	steps_release(s3->hold_seq, NULL);
	assert_string_equal(fx_sent(a), "run r.2, run r.3");
	assert_false(s3->held);
	assert_true(steps_find("r.4")->held);
	fx_turn();
	assert_string_equal(fx_sent(a), "run r.4");
	/* a step whose agent is away stays waiting when released; it goes
	 * when its agent comes */
	fx_submit("o.1", "db1", NULL);
	fx_turn();
	assert_int_equal((steps_find("o.1"))->state, STEP_WAITING);
	fx_hello(fx_agent("db1"), NULL, NULL);
	assert_string_equal(fx_sent(registry_find("db1")), "run o.1");
}

/* Dispatch id on a and let the run out. */
static struct coord_step *
running(struct coord_agent *a, const char *id)
{
	struct coord_step *s = fx_submit(id, a->name, fx_owner());
	struct bora_accept acc = { id, 42 };
	char err[256];

	fx_turn();
	assert_int_equal(steps_on_accept(a, &acc, err, sizeof(err)), 0);
	return s;
}

static void
test_acks_held_until_durable(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s1, *s2;

	(void)state;
	s1 = running(a, "k.1");
	s2 = running(a, "k.2");
	assert_string_equal(fx_sent(a), "run k.1, run k.2");
	assert_int_equal(fx_result(a, "k.1", "success", 0), 0);
	assert_int_equal(fx_result(a, "k.2", "failed", 3), 0);
	/* applied and told at once, acked only once durable */
	assert_int_equal((s1)->state, STEP_DONE);
	assert_int_equal(fx_heard.dones, 2);
	assert_string_equal(fx_sent(a), "");
	assert_true(s1->done_seq < s2->done_seq);
	assert_true(s1->done_seq > persist_durable());
	steps_release(s1->done_seq, NULL);
	assert_string_equal(fx_sent(a), "ack k.1");
	fx_turn();
	assert_string_equal(fx_sent(a), "ack k.2");
	assert_string_equal(row_of("k.2").state, "done");
	assert_string_equal(row_of("k.2").result_status, "failed");
	/* sent again: acked (durable already), not applied twice */
	assert_int_equal(fx_result(a, "k.1", "success", 0), 0);
	assert_string_equal(fx_sent(a), "ack k.1");
	assert_int_equal(fx_heard.dones, 2);
	/* forgotten from memory, done in the store: only acked */
	steps_shutdown();
	assert_int_equal(fx_result(a, "k.2", "failed", 3), 0);
	assert_string_equal(fx_sent(a), "ack k.2");
}

static void
test_ack_for_agent_gone(void **state)
{
	struct coord_agent *a = fx_agent("web1");

	(void)state;
	running(a, "g.1");
	(void)fx_sent(a);
	assert_int_equal(fx_result(a, "g.1", "success", 0), 0);
	fx_gone(a);
	/* let out, but nobody to send it to: its next hello has the
	 * result again, acked then */
	fx_turn();
	assert_true(TAILQ_EMPTY(&stepmod.acks));
	assert_string_equal(fx_sent(a), "");
	fx_hello(a, NULL, NULL);
	assert_string_equal(fx_sent(a), "");
}

static void
test_restore(void **state)
{
	struct store_step st;
	struct coord_step *s;
	struct coord_agent *a;
	json_t *running_ids;
	char err[256], *ev, *log;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.id = "x9.2.0.1";
	st.exec_id = "x9";
	st.agent = "web1";
	st.kind = "script";
	st.state = STORE_STEP_RUNNING;
	st.spec = "{\"script\":\"sleep 9\"}";
	st.inputs = "{\"n\":1}";
	st.dispatched_ms = 1234;
	st.timeout_s = 30;
	/* the rows a coordinator before this one wrote */
	assert_true(persist_put_step(&st) > 0);
	st.id = "x9.3.0.1";
	assert_true(persist_put_step(&st) > 0);
	fx_turn();
	st.id = "x9.2.0.1";
	st.output_kept = 10;            /* filled by loads */
	st.output_dropped = 5;
	fx_log_start();
	assert_int_equal(steps_restore(&st, fx_owner_labelled(NULL, "wait"),
	    err, sizeof(err)), 0);
	log = fx_log_end();
	/* labelled as when it was submitted */
	assert_non_null(strstr(log, "info  steps: step restored step=x9.2.0.1 "
	    "exec=x9 task=wait agent=web1 kind=script state=running\n"));
	free(log);
	s = steps_find("x9.2.0.1");
	assert_non_null(s);
	assert_int_equal((s)->state, STEP_RUNNING);
	assert_true(s->restored);
	assert_int_equal(s->out_bytes, 15);
	assert_int_equal(s->created_ms, 1234);
	assert_int_equal(s->timeout_s, 30);
	assert_false(s->held);     /* its row is durable: it is the store's */
	ev = fx_events(s);
	assert_non_null(strstr(ev, "\"event\":\"restored\""));
	free(ev);
	/* a dispatched one, and one with no timeout stored */
	st.id = "x9.3.0.1";
	st.state = STORE_STEP_DISPATCHED;
	st.timeout_s = 0;
	assert_int_equal(steps_restore(&st, fx_owner(), err, sizeof(err)), 0);
	assert_int_equal((steps_find("x9.3.0.1"))->state, STEP_DISPATCHED);
	assert_int_equal(steps_find("x9.3.0.1")->timeout_s, BORA_MAX_TIMEOUT_S);
	/* refused: a known id, a spec that does not parse */
	assert_int_equal(steps_restore(&st, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists already"));
	st.id = "x9.4.0.1";
	st.spec = "{not json";
	assert_int_equal(steps_restore(&st, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "its stored spec or inputs do not parse");
	assert_null(steps_find("x9.4.0.1"));
	/* its agent comes back running one of them: only the other is
	 * sent again (the agent's journal decides) */
	a = fx_agent("web1");
	running_ids = json_pack("[s]", "x9.2.0.1");
	fx_hello(a, running_ids, NULL);
	json_decref(running_ids);
	assert_string_equal(fx_sent(a), "run x9.3.0.1");
	assert_int_equal((s)->state, STEP_RUNNING);
	/* its result is applied, and acked once durable */
	assert_int_equal(fx_result(a, "x9.2.0.1", "success", 0), 0);
	assert_string_equal(fx_heard.done_step, "x9.2.0.1");
	fx_turn();
	assert_string_equal(fx_sent(a), "ack x9.2.0.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_held_until_durable,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_runs_in_write_order,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_acks_held_until_durable,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ack_for_agent_gone,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_restore, fx_setup_store,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
