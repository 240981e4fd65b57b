/* test_step_output.c: a step's output from pipe to output messages
 * (agent/step_output.c), with a fake connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "steps_fake_conn.h"
#include "utf8.h"

static struct agent_config cfg;
static struct step *st;
static int fds[2];              /* the step's stdout: read, write end */

static int
setup(void **state)
{
	(void)state;
	steps_table_init();
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_output_bytes = 16 * 1024 * 1024;
	steps.cfg = &cfg;
	fake_conn_reset();
	st = steps_new("e1.t1.0.1", "script", 60);
	assert_non_null(st);
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	steps_free(st);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	fake_conn_clear();
	return 0;
}

static struct steps_stream *
out_stream(void)
{
	return &st->s[BORA_STREAM_STDOUT];
}

static void
put(const void *data, size_t n)
{
	assert_int_equal(write(fds[1], data, n), (ssize_t)n);
}

static void
assert_output(const char *want)
{
	char *got = fake_conn_output(st->id, "stdout");

	assert_string_equal(got, want);
	free(got);
}

static size_t
count_outputs(void)
{
	json_t *a = fake_conn_find("output", st->id);
	size_t n = json_array_size(a);

	json_decref(a);
	return n;
}

/* A UTF-8 sequence cut by a read waits for the next one; NUL and a bad
 * byte become U+FFFD; an empty pipe says 2, a closed one 0; a sequence
 * left cut at the end goes out as U+FFFD on flush. */
static void
test_utf8_across_reads(void **state)
{
	struct steps_stream *s = out_stream();

	(void)state;
	assert_int_equal(steps_stream_read(s, fds[0]), 2);
	put("a\xC3", 2);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_output("a");
	assert_int_equal(s->tail_len, 1);
	put("\xA9" "b", 2);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_output("a\xC3\xA9" "b");
	put("x\0y\xFFz\xE2\x82", 7);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	close(fds[1]);
	fds[1] = -1;
	assert_int_equal(steps_stream_read(s, fds[0]), 0);
	steps_stream_flush(s);
	assert_output("a\xC3\xA9" "bx\xEF\xBF\xBDy\xEF\xBF\xBDz"
	    "\xEF\xBF\xBD\xEF\xBF\xBD");	/* each bad byte */
	assert_int_equal(s->bytes, 11);
	assert_int_equal(s->seq, count_outputs());
}

/* One read that sanitizes to more than a message takes is cut into
 * messages of at most STEPS_CHUNK_MAX bytes, each whole UTF-8. */
static void
test_chunks(void **state)
{
	struct steps_stream *s = out_stream();
	json_t *outs, *m;
	char *bad = malloc(20000);
	const char *d;
	size_t i, total = 0;

	(void)state;
	assert_non_null(bad);
	memset(bad, 0xFF, 20000);
	put(bad, 20000);
	free(bad);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	outs = fake_conn_find("output", st->id);
	assert_int_equal(json_array_size(outs), 2);
	json_array_foreach(outs, i, m) {
		d = json_string_value(json_object_get(m, "data"));
		assert_true(strlen(d) <= STEPS_CHUNK_MAX);
		assert_int_equal(bora_utf8_check(d, strlen(d)), strlen(d));
		total += strlen(d);
	}
	assert_int_equal(total, 3 * 20000);
	json_decref(outs);
}

/* Past max_output_bytes output is counted, not sent; the cut is on a
 * UTF-8 boundary. */
static void
test_cap(void **state)
{
	struct steps_stream *s = out_stream();

	(void)state;
	cfg.max_output_bytes = 10;
	put("012345678\xC3\xA9rest", 15);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_output("012345678");
	assert_true(s->capped);
	put("more", 4);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_output("012345678");
	assert_int_equal(s->bytes, 19);
}

/* While disconnected output is read and counted, and kept for the
 * result, but nothing is sent. */
static void
test_disconnected(void **state)
{
	struct steps_stream *s = out_stream();

	(void)state;
	fake_conn.up = 0;
	put("lost", 4);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_int_equal(json_array_size(fake_conn.sent), 0);
	assert_int_equal(s->bytes, 4);
	assert_int_equal(s->seq, 0);
	assert_int_equal(s->keep_len, 4);
	assert_memory_equal(s->keep, "lost", 4);
}

/* The stream keeps only its last keep_max bytes. */
static void
test_keep_tail(void **state)
{
	struct steps_stream *s = out_stream();

	(void)state;
	s->keep_max = 8;
	put("hello ", 6);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	put("world", 5);
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_int_equal(s->keep_len, 8);
	assert_memory_equal(s->keep, "lo world", 8);
	put("0123456789", 10);          /* more than keep_max at once */
	assert_int_equal(steps_stream_read(s, fds[0]), 1);
	assert_int_equal(s->keep_len, 8);
	assert_memory_equal(s->keep, "23456789", 8);
	assert_output("hello world0123456789");
}

/* A full queue stops reading; a paused pipe whose writers are gone is
 * drained when room comes, and the stream is then done. */
static void
test_backpressure_drain(void **state)
{
	struct steps_stream *s = out_stream();

	(void)state;
	assert_true(steps_can_read());
	fake_conn.room = STEPS_QUEUE_RESERVE - 1;
	assert_false(steps_can_read());
	fake_conn.up = 0;
	assert_true(steps_can_read());  /* read and dropped */
	fake_conn.up = 1;
	steps_stream_pause(s);
	steps_stream_pause(s);          /* once on the list */
	assert_ptr_equal(TAILQ_FIRST(&steps.paused), s);
	assert_null(TAILQ_NEXT(s, pause_link));
	put("kept for later\xC3", 15);
	close(fds[1]);
	fds[1] = -1;
	s->drain_fd = fds[0];
	fds[0] = -1;
	assert_false(steps_stream_done(s));
	steps_output_resume();          /* still no room */
	assert_ptr_equal(TAILQ_FIRST(&steps.paused), s);
	assert_int_equal(count_outputs(), 0);
	fake_conn.room = STEPS_QUEUE_RESERVE;
	steps_output_resume();
	assert_null(TAILQ_FIRST(&steps.paused));
	assert_false(s->paused);
	assert_int_equal(s->drain_fd, -1);
	assert_true(steps_stream_done(s));
	assert_output("kept for later\xEF\xBF\xBD");
}

/* A paused stream still in the loop is only unpaused. */
static void
test_resume_unpauses(void **state)
{
	struct steps_stream *o = out_stream(), *e = &st->s[BORA_STREAM_STDERR];

	(void)state;
	steps_stream_pause(o);
	steps_stream_pause(e);
	steps_output_resume();
	assert_null(TAILQ_FIRST(&steps.paused));
	assert_false(o->paused);
	assert_false(e->paused);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_utf8_across_reads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keep_tail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backpressure_drain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resume_unpauses, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
