/* test_log_gate.c: repeated log events rate limited per kind and source
 * (proto/log_gate.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "log_gate.h"

static int
setup(void **state)
{
	(void)state;
	bora_log_gate_reset();
	return 0;
}

/* How many of n events of (kind, source) at time t pass. */
static int
passes(const char *kind, const char *source, int64_t t, int n, char *last,
    size_t lastlen)
{
	char sfx[40];
	int i, ok = 0;

	for (i = 0; i < n; i++)
		if (bora_log_gate_at(kind, source, t, sfx, sizeof(sfx))) {
			ok++;
			snprintf(last, lastlen, "%s", sfx);
		}
	return ok;
}

static void
test_burst_per_source_then_count(void **state)
{
	char sfx[40] = "x";

	(void)state;
	assert_int_equal(passes("err", "10.0.0.1:5", 1000, 1000, sfx,
	    sizeof(sfx)), LOG_GATE_BURST);
	assert_string_equal(sfx, "");
	/* another source of the same kind is not held back by the first */
	assert_int_equal(passes("err", "10.0.0.2:5", 1000, 3, sfx,
	    sizeof(sfx)), 3);
	/* within the window: still held back */
	assert_int_equal(passes("err", "10.0.0.1:5", 1000 + LOG_GATE_WINDOW_MS
	    - 1, 1, sfx, sizeof(sfx)), 0);
	/* the next window: the first line says how many were left out */
	assert_int_equal(bora_log_gate_at("err", "10.0.0.1:5", 1000 +
	    LOG_GATE_WINDOW_MS, sfx, sizeof(sfx)), 1);
	assert_string_equal(sfx, " suppressed=996");
	assert_int_equal(bora_log_gate_at("err", "10.0.0.1:5", 1000 +
	    LOG_GATE_WINDOW_MS, sfx, sizeof(sfx)), 1);
	assert_string_equal(sfx, "");
}

/* Many sources cannot add up to a flood: a kind has its own budget. */
static void
test_kind_budget_over_many_sources(void **state)
{
	char src[32], sfx[40];
	int i, ok = 0;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d:%d", i % 250, i);
		ok += passes("handshake", src, 5000, 2, sfx, sizeof(sfx));
	}
	assert_int_equal(ok, LOG_GATE_KIND_BURST);
	/* other kinds keep their own budget */
	assert_int_equal(passes("disk", "store", 5000, 2, sfx, sizeof(sfx)),
	    2);
}

/* Kinds are told apart by their text, sources past the cap by their first
 * LOG_GATE_SOURCE_MAX bytes. */
static void
test_kinds_and_long_sources(void **state)
{
	char kind_a[] = "same", kind_b[] = "same", big[200], sfx[40];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(passes(kind_a, big, 7, LOG_GATE_BURST, sfx,
	    sizeof(sfx)), LOG_GATE_BURST);
	assert_int_equal(passes(kind_b, big, 7, 1, sfx, sizeof(sfx)), 0);
	assert_int_equal(passes("other", NULL, 7, 1, sfx, sizeof(sfx)), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_burst_per_source_then_count, setup),
		cmocka_unit_test_setup(test_kind_budget_over_many_sources,
		    setup),
		cmocka_unit_test_setup(test_kinds_and_long_sources, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
