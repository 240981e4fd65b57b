/* test_evlog.c: event logs and their watchers (coordinator/agents/include/evlog.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evlog.h"

/* A watcher that counts its notifications and what it saw. */
struct probe {
	struct evlog_watcher w;
	int calls;
	int saw_closed;            /* the log was closed at the last call */
	size_t count_seen;         /* evlog_count at the last call */
	int unwatch_at;            /* unwatch itself at this call (0: never) */
	int free_self;             /* and free its own memory then */
};

static void
probe_notify(struct evlog_watcher *w)
{
	struct probe *p = w->user;

	p->calls++;
	p->saw_closed = w->log->closed;
	p->count_seen = evlog_count(w->log);
	if (p->unwatch_at != 0 && p->calls == p->unwatch_at) {
		evlog_unwatch(w);
		if (p->free_self)
			free(p);
	}
}

static void
probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->w.notify = probe_notify;
	p->w.user = p;
}

static json_t *
output_event(const char *data)
{
	return json_pack("{s:s, s:s, s:s}", "event", "output", "stream",
	    "stdout", "data", data);
}

static void
test_append_and_read(void **state)
{
	struct evlog l;
	const char *line;
	size_t len;

	(void)state;
	evlog_init(&l, 1024);
	assert_int_equal(evlog_count(&l), 0);
	assert_null(evlog_line(&l, 0, &len));
	assert_int_equal(evlog_append(&l, json_pack("{s:s, s:i}", "event",
	    "queued", "n", 1)), 0);
	assert_int_equal(evlog_append(&l, output_event("hi\n")), 0);
	assert_int_equal(evlog_count(&l), 2);

	line = evlog_line(&l, 0, &len);
	assert_non_null(line);
	assert_string_equal(line, "{\"event\":\"queued\",\"n\":1}");
	assert_int_equal(len, strlen(line));
	line = evlog_line(&l, 1, NULL);
	assert_string_equal(line, "{\"event\":\"output\",\"stream\":\"stdout\","
	    "\"data\":\"hi\\n\"}");
	assert_null(evlog_line(&l, 2, &len));
	assert_int_equal(l.bytes, strlen(evlog_line(&l, 0, NULL)) +
	    strlen(evlog_line(&l, 1, NULL)));
	assert_int_equal(l.dropped_bytes, 0);

	/* A failed json_pack hands NULL: refused, nothing logged. */
	assert_int_equal(evlog_append(&l, NULL), -1);
	assert_int_equal(evlog_count(&l), 2);
	evlog_free(&l);
}

static void
test_growth(void **state)
{
	struct evlog l;
	char want[64];
	size_t i;

	(void)state;
	evlog_init(&l, 1 << 20);
	for (i = 0; i < 1000; i++)
		assert_int_equal(evlog_append(&l, json_pack("{s:s, s:i}",
		    "event", "x", "i", (int)i)), 0);
	assert_int_equal(evlog_count(&l), 1000);
	for (i = 0; i < 1000; i += 111) {
		snprintf(want, sizeof(want), "{\"event\":\"x\",\"i\":%zu}", i);
		assert_string_equal(evlog_line(&l, i, NULL), want);
	}
	evlog_free(&l);
}

/* Output past the cap is counted (in data bytes) and not kept; other
 * events are kept past it. */
static void
test_cap_drops_output_only(void **state)
{
	struct evlog l;
	size_t first, kept;

	(void)state;
	evlog_init(&l, 120);
	assert_int_equal(evlog_append(&l, output_event("0123456789")), 0);
	first = l.bytes;
	assert_int_equal(first, 56);
	/* this one would pass 120 bytes: dropped, counted by its data */
	assert_int_equal(evlog_append(&l, output_event(
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstuvwxyz")), 0);
	assert_int_equal(evlog_count(&l), 1);
	assert_int_equal(l.dropped_bytes, 78);
	assert_int_equal(l.bytes, first);
	/* a small one still fits: 56 + 47 */
	assert_int_equal(evlog_append(&l, output_event("x")), 0);
	assert_int_equal(evlog_count(&l), 2);
	kept = l.bytes;
	/* a non-output event goes past the cap */
	assert_int_equal(evlog_append(&l, json_pack("{s:s, s:s}", "event",
	    "result", "pad", "................................................"
	    "..................................................")), 0);
	assert_int_equal(evlog_count(&l), 3);
	assert_true(l.bytes > 120);
	assert_true(l.bytes > kept);
	/* and from now on every output is dropped */
	assert_int_equal(evlog_append(&l, output_event("y")), 0);
	assert_int_equal(evlog_count(&l), 3);
	assert_int_equal(l.dropped_bytes, 79);
	evlog_free(&l);
}

static void
test_close(void **state)
{
	struct evlog l;
	struct probe p;

	(void)state;
	probe_init(&p);
	evlog_init(&l, 1024);
	evlog_watch(&l, &p.w);
	assert_int_equal(evlog_append(&l, json_pack("{s:s}", "event", "a")), 0);
	assert_int_equal(p.calls, 1);
	assert_false(p.saw_closed);
	evlog_close(&l);
	assert_int_equal(p.calls, 2);
	assert_true(p.saw_closed);
	assert_int_equal(p.count_seen, 1);
	/* closing twice says nothing new */
	evlog_close(&l);
	assert_int_equal(p.calls, 2);
	/* nothing comes after the close */
	assert_int_equal(evlog_append(&l, json_pack("{s:s}", "event", "b")),
	    -1);
	assert_int_equal(evlog_count(&l), 1);
	assert_int_equal(p.calls, 2);
	/* the lines are still there to replay */
	assert_string_equal(evlog_line(&l, 0, NULL), "{\"event\":\"a\"}");
	evlog_unwatch(&p.w);
	evlog_free(&l);
	assert_int_equal(p.calls, 2);   /* it was not watching any more */
}

static void
test_watchers_unwatch_themselves(void **state)
{
	struct evlog l;
	struct probe a, b, c;

	(void)state;
	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	evlog_init(&l, 1024);
	evlog_watch(&l, &a.w);
	evlog_watch(&l, &b.w);
	evlog_watch(&l, &c.w);
	/* b leaves at its first call, in the middle of the list */
	b.unwatch_at = 1;
	assert_int_equal(evlog_append(&l, json_pack("{s:s}", "event", "1")), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 1);
	assert_null(b.w.log);
	assert_int_equal(evlog_append(&l, json_pack("{s:s}", "event", "2")), 0);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 2);
	assert_int_equal(a.count_seen, 2);

	/* every watcher leaves at the close */
	a.unwatch_at = 3;
	c.unwatch_at = 3;
	evlog_close(&l);
	assert_int_equal(a.calls, 3);
	assert_int_equal(c.calls, 3);
	assert_null(l.watchers);
	/* unwatching twice is harmless */
	evlog_unwatch(&a.w);
	evlog_free(&l);
}

/* evlog_free tells each watcher (with the log closed) and unwatches it;
 * one that unwatches and frees itself in notify is not touched after. */
static void
test_free_notifies_and_unwatches(void **state)
{
	struct evlog l;
	struct probe stay, *leave;

	(void)state;
	probe_init(&stay);
	leave = malloc(sizeof(*leave));
	assert_non_null(leave);
	probe_init(leave);
	leave->unwatch_at = 2;
	leave->free_self = 1;
	evlog_init(&l, 1024);
	evlog_watch(&l, &stay.w);
	evlog_watch(&l, &leave->w);
	assert_int_equal(evlog_append(&l, json_pack("{s:s}", "event", "1")), 0);
	assert_int_equal(stay.calls, 1);
	evlog_free(&l);                  /* leave frees itself in there */
	assert_int_equal(stay.calls, 2);
	assert_true(stay.saw_closed);
	assert_null(stay.w.log);
	assert_null(l.watchers);
	assert_int_equal(evlog_count(&l), 0);

	/* usable again */
	evlog_init(&l, 1024);
	assert_int_equal(evlog_append(&l, json_pack("{s:s}", "event", "1")), 0);
	assert_int_equal(evlog_count(&l), 1);
	evlog_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_read),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_cap_drops_output_only),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_watchers_unwatch_themselves),
		cmocka_unit_test(test_free_notifies_and_unwatches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
