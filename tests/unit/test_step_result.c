/* test_step_result.c: making, journaling and sending a step's result
 * (agent/step_result.c), with a real journal and a fake connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "journal.h"
#include "steps_fake_conn.h"
#include "utf8.h"
#include "test_support.h"

static struct agent_config cfg;
static char state_dir[] = "/tmp/bora-test-step-result-XXXXXX";

/* What the fake runner's finish() saw, and what it answers. */
static struct {
	int called;
	char out[256];
	int ran_to_end, exited, exit_code, signal;
	size_t big;             /* an output of this many bytes */
	const char *note;       /* its error sentence */
} fr;

static void
fake_finish(const struct runner_done *d, struct bora_result *res, char *err,
    size_t errlen)
{
	char *big;

	fr.called++;
	snprintf(fr.out, sizeof(fr.out), "%s", d->out);
	fr.ran_to_end = d->ran_to_end;
	fr.exited = d->exited;
	fr.exit_code = d->exit_code;
	fr.signal = d->signal;
	if (fr.big > 0) {
		big = malloc(fr.big + 1);
		assert_non_null(big);
		memset(big, 'o', fr.big);
		big[fr.big] = '\0';
		res->outputs = json_pack("{s:s}", "huge", big);
		free(big);
	} else
		res->outputs = json_pack("{s:s}", "seen", d->out);
	snprintf(err, errlen, "%s", fr.note ? fr.note : "");
}

static const struct runner fake_runner = {
	.kind = "fake",
	.finish = fake_finish,
};

static int
setup_all(void **state)
{
	(void)state;
	return mkdtemp(state_dir) == NULL ? -1 : 0;
}

static int
teardown_all(void **state)
{
	(void)state;
	return test_rmtree(state_dir);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	steps_table_init();
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_output_bytes = 16 * 1024 * 1024;
	cfg.state_dir = state_dir;
	steps.cfg = &cfg;
	steps.journal = journal_open(state_dir, err, sizeof(err));
	if (steps.journal == NULL)
		fail_msg("journal_open: %s", err);
	memset(&fr, 0, sizeof(fr));
	fake_conn_reset();
	return 0;
}

static int
teardown(void **state)
{
	struct step *st;

	(void)state;
	while ((st = TAILQ_FIRST(&steps.all)) != NULL) {
		(void)journal_remove(steps.journal, st->id);
		steps_free(st);
	}
	journal_close(steps.journal);
	fake_conn_clear();
	return 0;
}

/* A step whose process ended with wstatus, pipes closed. */
static struct step *
ended(const char *id, int wstatus)
{
	struct step *st = steps_new(id, "script", 5);

	assert_non_null(st);
	st->pid = 4242;
	st->reaped = 1;
	st->wstatus = wstatus;
	st->started_ms = 1000;
	st->finished_ms = 2000;
	return st;
}

/* The one result message sent for id (a new reference). */
static json_t *
sent_result(const char *id)
{
	json_t *a = fake_conn_find("result", id), *r;

	assert_int_equal(json_array_size(a), 1);
	r = json_incref(json_array_get(a, 0));
	json_decref(a);
	return r;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The journal holds id's entry with exactly the result sent. */
static void
assert_journaled(const char *id, const json_t *sent)
{
	struct journal_entry *es;
	json_t *r = json_deep_copy(sent);
	size_t n, i;
	int found = 0;

	json_object_del(r, "type");
	assert_int_equal(journal_load(steps.journal, 100, NULL, &es, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(es[i].step, id) == 0) {
			found = 1;
			assert_true(json_equal(es[i].result, r));
		}
	assert_true(found);
	journal_entries_free(es, n);
	json_decref(r);
}

/* Exit 0 is success, with exit code, timings and byte counts; it is
 * journaled, kept on the done list, and sent once. */
static void
test_exit_success(void **state)
{
	struct step *st = ended("e1.ok.0.1", W_EXITCODE(0, 0));
	json_t *r;

	(void)state;
	st->s[BORA_STREAM_STDOUT].bytes = 12;
	st->s[BORA_STREAM_STDERR].bytes = 3;
	steps_maybe_finish(st);
	assert_true(st->finished);
	assert_ptr_equal(TAILQ_FIRST(&steps.done), st);
	assert_non_null(st->result);
	assert_int_equal(st->result_len, steps_json_len(st->result));
	r = sent_result(st->id);
	assert_string_equal(str(r, "status"), "success");
	assert_int_equal(json_integer_value(json_object_get(r,
	    "exit_code")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "started_ms")),
	    1000);
	assert_int_equal(json_integer_value(json_object_get(r,
	    "finished_ms")), 2000);
	assert_int_equal(json_integer_value(json_object_get(r,
	    "stdout_bytes")), 12);
	assert_int_equal(json_integer_value(json_object_get(r,
	    "stderr_bytes")), 3);
	assert_journaled(st->id, r);
	json_decref(r);
	steps_maybe_finish(st);         /* once only */
	json_decref(sent_result(st->id));
}

/* Non-zero exit is failed with its code; a signal is failed with the
 * signal and no exit code. */
static void
test_exit_failed_and_signal(void **state)
{
	struct step *a = ended("e1.three.0.1", W_EXITCODE(3, 0));
	struct step *b = ended("e1.killed.0.1", SIGKILL);
	json_t *r;

	(void)state;
	steps_maybe_finish(a);
	steps_maybe_finish(b);
	r = sent_result(a->id);
	assert_string_equal(str(r, "status"), "failed");
	assert_int_equal(json_integer_value(json_object_get(r,
	    "exit_code")), 3);
	json_decref(r);
	r = sent_result(b->id);
	assert_string_equal(str(r, "status"), "failed");
	assert_int_equal(json_integer_value(json_object_get(r, "signal")),
	    SIGKILL);
	assert_true(json_object_get(r, "exit_code") == NULL ||
	    json_is_null(json_object_get(r, "exit_code")));
	json_decref(r);
}

/* Timeout and cancel name themselves in status and error; the runner
 * hears the process did not run to its end, and how it died. */
static void
test_timeout_and_cancel(void **state)
{
	struct step *t = ended("e1.slow.0.1", SIGKILL);
	struct step *c = ended("e1.cancel.0.1", SIGKILL);
	json_t *r;

	(void)state;
	t->timed_out = 1;
	t->runner = &fake_runner;
	steps_maybe_finish(t);
	assert_int_equal(fr.called, 1);
	assert_false(fr.ran_to_end);
	assert_false(fr.exited);
	assert_int_equal(fr.signal, SIGKILL);
	r = sent_result(t->id);
	assert_string_equal(str(r, "status"), "timeout");
	assert_string_equal(str(r, "error"),
	    "timed out after 5 s; process group killed");
	json_decref(r);
	c->cancelled = 1;
	c->cancel_reason = strdup("operator said so");
	steps_maybe_finish(c);
	r = sent_result(c->id);
	assert_string_equal(str(r, "status"), "cancelled");
	assert_string_equal(str(r, "error"),
	    "cancelled: operator said so; process group killed");
	json_decref(r);
}

/* No result while the process is not reaped or a pipe is not done. */
static void
test_waits_for_pipes(void **state)
{
	struct step *st = ended("e1.wait.0.1", W_EXITCODE(0, 0));
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	st->reaped = 0;
	steps_maybe_finish(st);
	assert_false(st->finished);
	st->reaped = 1;
	st->s[BORA_STREAM_STDERR].drain_fd = fds[0];
	steps_maybe_finish(st);
	assert_false(st->finished);
	assert_int_equal(json_array_size(fake_conn.sent), 0);
	close(fds[0]);
	close(fds[1]);
	st->s[BORA_STREAM_STDERR].drain_fd = -1;
	steps_maybe_finish(st);
	assert_true(st->finished);
}

/* The runner gets the kept end of stdout as text: marked truncated, not
 * starting inside a UTF-8 sequence, NUL as U+FFFD; the output cap is
 * said in the error after the runner's own sentence. */
static void
test_runner_kept_text_and_cap(void **state)
{
	struct step *st = ended("e1.kept.0.1", W_EXITCODE(0, 0));
	struct steps_stream *s = &st->s[BORA_STREAM_STDOUT];
	json_t *r;

	(void)state;
	cfg.max_output_bytes = 10;
	st->runner = &fake_runner;
	fr.note = "runner note";
	s->keep = malloc(6);
	assert_non_null(s->keep);
	memcpy(s->keep, "\xA9ta\0il", 6);
	s->keep_len = s->keep_cap = 6;
	s->bytes = 100;
	s->capped = 1;
	steps_maybe_finish(st);
	assert_string_equal(fr.out,
	    "...[truncated 95 bytes]\nta\xEF\xBF\xBDil");
	assert_true(fr.ran_to_end);
	assert_true(fr.exited);
	assert_null(s->keep);           /* the result holds it now */
	r = sent_result(st->id);
	assert_string_equal(str(r, "status"), "success");
	assert_string_equal(str(json_object_get(r, "outputs"), "seen"),
	    fr.out);
	assert_string_equal(str(r, "error"), "runner note; stdout passed "
	    "max_output_bytes (10): 90 of 100 bytes not streamed");
	json_decref(r);
}

/* A result larger than one message loses its outputs and its success. */
static void
test_result_too_large(void **state)
{
	struct step *st = ended("e1.big.0.1", W_EXITCODE(0, 0));
	json_t *r;

	(void)state;
	st->runner = &fake_runner;
	fr.big = JOURNAL_RESULT_MAX + 1;
	steps_maybe_finish(st);
	assert_true(st->result_len <= JOURNAL_RESULT_MAX);
	r = sent_result(st->id);
	assert_string_equal(str(r, "status"), "failed");
	assert_null(json_object_get(r, "outputs"));
	assert_non_null(strstr(str(r, "error"), "is larger than one protocol "
	    "message; its outputs were dropped"));
	assert_journaled(st->id, r);
	json_decref(r);
}

/* A step that never ran: the status and sentence given, no start time,
 * the sentence cut on a UTF-8 boundary. */
static void
test_fail(void **state)
{
	struct step *st = steps_new("e1.never.0.1", "nope", 5);
	char name[601];
	const char *e;
	json_t *r;
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		memcpy(name + 2 * i, "\xC3\xA9", 2);
	name[600] = '\0';
	/* 14 bytes, then 497 of the name fit: the last é is cut in two */
	steps_fail(st, BORA_STATUS_ERROR, "unknown kind '%s'", name);
	assert_true(st->finished);
	r = sent_result(st->id);
	assert_string_equal(str(r, "status"), "error");
	assert_int_equal(json_integer_value(json_object_get(r, "started_ms")),
	    0);
	e = str(r, "error");
	assert_true(strncmp(e, "unknown kind '\xC3\xA9", 16) == 0);
	assert_int_equal(strlen(e), STEPS_ERR_MAX - 2);
	assert_int_equal(bora_utf8_check(e, strlen(e)), strlen(e));
	json_decref(r);
}

/* A full queue: the result waits, counted, and goes with the next room;
 * disconnected: nothing is sent and nothing waits (hello carries it). */
static void
test_send_pending(void **state)
{
	struct step *st = ended("e1.later.0.1", W_EXITCODE(0, 0));
	struct step *off = ended("e1.off.0.1", W_EXITCODE(0, 0));
	json_t *r;

	(void)state;
	fake_conn.refuse = 1;
	steps_maybe_finish(st);
	assert_true(st->send_pending);
	assert_int_equal(steps.results_pending, 1);
	steps_resend_pending();         /* still full */
	assert_int_equal(steps.results_pending, 1);
	fake_conn.refuse = 0;
	steps_resend_pending();
	assert_false(st->send_pending);
	assert_int_equal(steps.results_pending, 0);
	r = sent_result(st->id);
	assert_string_equal(str(r, "status"), "success");
	json_decref(r);
	fake_conn.up = 0;
	steps_maybe_finish(off);
	assert_true(off->finished);
	assert_false(off->send_pending);
	fake_conn.up = 1;
	steps_send_result(off);
	json_decref(sent_result(off->id));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_success, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exit_failed_and_signal,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_cancel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_pipes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runner_kept_text_and_cap,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_too_large, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_pending, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
