/*
 * test_coord_step_output.c: a step's output as it is shown (coordinator/agents/
 * coord_step_output.c): the step's events, the store and the owner; secrets
 * masked in each, also one cut across chunks, and what was held back shown
 * when the result comes; output lines in the coordinator's log; the output
 * lost in a restart filled in from the result.
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

/* A dispatched step of a, its run taken off the queue. */
static struct coord_step *
dispatched(struct coord_agent *a, const char *id)
{
	struct coord_step *s = fx_submit(id, a->name, fx_owner());

	fx_turn();
	assert_int_equal((s)->state, STEP_DISPATCHED);
	(void)fx_sent(a);
	return s;
}

static void
test_output_shown(void **state)
{
	struct coord_agent *a = fx_agent("web1"), *b = fx_agent("db1");
	struct coord_step *s = dispatched(a, "o.1");
	char *out;

	(void)state;
	assert_int_equal(fx_output(a, "o.1", "stdout", 0, "hello "), 0);
	assert_int_equal(fx_output(a, "o.1", "stderr", 0, "oops\n"), 0);
	assert_int_equal(fx_output(a, "o.1", "stdout", 1, "world\n"), 0);
	out = fx_event_output(s, "stdout");
	assert_string_equal(out, "hello world\n");
	free(out);
	out = fx_event_output(s, "stderr");
	assert_string_equal(out, "oops\n");
	free(out);
	assert_string_equal(fx_heard.output, "hello oops\nworld\n");
	assert_int_equal(fx_heard.outputs, 3);
	assert_int_equal(s->out_bytes, 17);
	/* another agent's step, an unknown one: refused */
	assert_int_equal(fx_output(b, "o.1", "stdout", 2, "x"), -1);
	assert_int_equal(fx_output(a, "o.9", "stdout", 0, "x"), -1);
	/* after the result: ignored */
	assert_int_equal(fx_result(a, "o.1", "success", 0), 0);
	assert_int_equal(fx_output(a, "o.1", "stdout", 2, "late"), 0);
	assert_int_equal(fx_heard.outputs, 3);
	assert_int_equal(s->out_bytes, 17);
}

/* The kept output of a step in the store, one stream. */
struct stored {
	char text[1024];
	const char *stream;
};

static int
stored_cb(void *user, const struct store_output *o)
{
	struct stored *st = user;
	size_t have = strlen(st->text);

	if (strcmp(o->stream, st->stream) == 0 &&
	    have + o->len < sizeof(st->text)) {
		memcpy(st->text + have, o->data, o->len);
		st->text[have + o->len] = '\0';
	}
	return 0;
}

static const char *
stored_output(const char *id, const char *stream)
{
	static struct stored st;
	char err[256];

	memset(&st, 0, sizeof(st));
	st.stream = stream;
	fx_turn();
	assert_int_equal(persist_load_output(id, 0, 1000, stored_cb, &st, err,
	    sizeof(err)), 0);
	return st.text;
}

static void
test_secret_across_chunks(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s = dispatched(a, "m.1");
	json_t *set = json_pack("[s, s]", "hunter2", "");
	char *out, *ev;

	(void)state;
	step_set_secrets(s, set);
	json_decref(set);
	/* the empty value is left out */
	assert_int_equal(json_array_size(s->secrets), 1);
	assert_int_equal(fx_output(a, "m.1", "stdout", 0, "pass: hun"), 0);
	/* the end that may start the secret is held back */
	assert_string_equal(fx_heard.output, "pass: ");
	assert_int_equal(s->hold_len[0], 3);
	assert_int_equal(fx_output(a, "m.1", "stdout", 1, "ter2 ok\n"), 0);
	assert_int_equal(s->hold_len[0], 0);
	out = fx_event_output(s, "stdout");
	assert_string_equal(out, "pass: ****** ok\n");
	free(out);
	assert_string_equal(fx_heard.output, "pass: ****** ok\n");
	assert_string_equal(stored_output("m.1", "stdout"), "pass: ****** ok\n");
	/* the agent's byte count, not the masked one */
	assert_int_equal(s->out_bytes, 17);
	ev = fx_events(s);
	assert_null(strstr(ev, "hunter2"));
	free(ev);
}

static void
test_held_tail_at_result(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s = dispatched(a, "t.1");
	json_t *set = json_pack("[s]", "s3cret");
	struct bora_result r;
	char err[256], *out, *ev;

	(void)state;
	step_set_secrets(s, set);
	json_decref(set);
	assert_int_equal(fx_output(a, "t.1", "stdout", 0, "key s3c"), 0);
	assert_int_equal(fx_output(a, "t.1", "stderr", 0, "the s3"), 0);
	assert_string_equal(fx_heard.output, "key the ");
	/* the result: what was held is no secret, shown as it was, before
	 * the result event; the result masked */
	memset(&r, 0, sizeof(r));
	r.step = "t.1";
	r.status = BORA_STATUS_FAILED;
	r.has_exit_code = 1;
	r.exit_code = 1;
	r.error = "bad s3cret given";
	assert_int_equal(steps_on_result(a, &r, err, sizeof(err)), 0);
	out = fx_event_output(s, "stdout");
	assert_string_equal(out, "key s3c");
	free(out);
	out = fx_event_output(s, "stderr");
	assert_string_equal(out, "the s3");
	free(out);
	ev = fx_events(s);
	assert_non_null(strstr(ev, "\"data\":\"s3c\""));
	assert_true(strstr(ev, "\"data\":\"s3c\"") <
	    strstr(ev, "\"event\":\"result\""));
	assert_null(strstr(ev, "s3cret"));
	assert_non_null(strstr(ev, "bad ****** given"));
	free(ev);
	assert_string_equal(json_string_value(json_object_get(s->result,
	    "error")), "bad ****** given");
	assert_string_equal(stored_output("t.1", "stderr"), "the s3");
}

static void
test_log_output(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct coord_step *s = fx_submit("ex7.1.0.1", "web1",
	    fx_owner_labelled(NULL, "build"));
	json_t *set = json_pack("[s]", "pw9");
	char *log;

	(void)state;
	fx_turn();
	(void)fx_sent(a);
	step_set_secrets(s, set);
	json_decref(set);
	/* off by default */
	fx_log_start();
	assert_int_equal(fx_output(a, "ex7.1.0.1", "stdout", 0, "quiet\n"), 0);
	log = fx_log_end();
	assert_null(strstr(log, "quiet"));
	free(log);
	steps_set_log_output(1);
	fx_log_start();
	assert_int_equal(fx_output(a, "ex7.1.0.1", "stdout", 1,
	    "line one\nthe pw9 here\nno end"), 0);
	log = fx_log_end();
	steps_set_log_output(0);
	/* a line each, the unfinished one too, quoted, masked */
	assert_non_null(strstr(log, "info  steps: output step=ex7.1.0.1 "
	    "exec=ex7 task=build agent=web1 stream=stdout line=\"line one\"\n"));
	assert_non_null(strstr(log, "line=\"the ****** here\"\n"));
	assert_non_null(strstr(log, "line=\"no end\"\n"));
	assert_null(strstr(log, "pw9"));
	free(log);
}

/* A restored running step of web1 whose store row had kept bytes of
 * output. */
static struct coord_step *
restored(const char *id, uint64_t kept)
{
	struct store_step st;
	char err[256];

	memset(&st, 0, sizeof(st));
	st.id = id;
	st.exec_id = "rx";
	st.agent = "web1";
	st.kind = "script";
	st.state = STORE_STEP_RUNNING;
	st.spec = "{}";
	st.timeout_s = 60;
	assert_true(persist_put_step(&st) > 0);
	fx_turn();
	st.output_kept = kept;
	assert_int_equal(steps_restore(&st, fx_owner(), err, sizeof(err)), 0);
	return steps_find(id);
}

static void
test_lost_output_filled(void **state)
{
	struct coord_agent *a = fx_agent("web1");
	struct bora_result r;
	char err[256];
	const char *text;

	(void)state;
	restored("rx.1.0.1", 4);
	restored("rx.2.0.1", 0);
	fx_hello(a, NULL, NULL);
	(void)fx_sent(a);
	assert_int_equal(fx_output(a, "rx.1.0.1", "stdout", 7, "more"), 0);
	/* it wrote 20 bytes; 4 stored before and 4 received: 12 lost */
	memset(&r, 0, sizeof(r));
	r.step = "rx.1.0.1";
	r.status = BORA_STATUS_SUCCESS;
	r.has_exit_code = 1;
	r.stdout_bytes = 16;
	r.stderr_bytes = 4;
	r.outputs = json_pack("{s:s, s:s}", "deploy_stdout", "the end\n",
	    "deploy_stderr", "");
	assert_int_equal(steps_on_result(a, &r, err, sizeof(err)), 0);
	json_decref(r.outputs);
	text = stored_output("rx.1.0.1", "stdout");
	assert_non_null(strstr(text, "more[bora: the coordinator restarted "
	    "while this step ran; 12 bytes of its output were not received; "
	    "the end of its stdout follows]\nthe end\n"));
	assert_string_equal(stored_output("rx.1.0.1", "stderr"), "");
	/* all of it received: nothing added */
	assert_int_equal(fx_output(a, "rx.2.0.1", "stdout", 0, "all of it"), 0);
	r.step = "rx.2.0.1";
	r.stdout_bytes = 9;
	r.stderr_bytes = 0;
	r.outputs = json_pack("{s:s}", "deploy_stdout", "all of it");
	assert_int_equal(steps_on_result(a, &r, err, sizeof(err)), 0);
	json_decref(r.outputs);
	assert_string_equal(stored_output("rx.2.0.1", "stdout"), "all of it");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output_shown,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_secret_across_chunks,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_held_tail_at_result,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_log_output,
		    fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lost_output_filled,
		    fx_setup_store, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
