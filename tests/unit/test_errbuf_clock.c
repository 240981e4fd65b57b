/* test_errbuf_clock.c: bora_errf's cut at a UTF-8 boundary, and the two
 * millisecond clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "clock.h"
#include "errbuf.h"
#include "utf8.h"

static void
test_errf_fits(void **state)
{
	char err[32];

	(void)state;
	bora_errf(err, sizeof(err), "%s:%d: %s", "a.yaml", 7, "bad");
	assert_string_equal(err, "a.yaml:7: bad");
}

/* "é" is two bytes; a cut between them must drop the lead byte, so that
 * the error is always valid UTF-8 (it is sent in JSON). */
static void
test_errf_cut_never_splits_a_sequence(void **state)
{
	char err[64];
	size_t n;

	(void)state;
	for (n = 1; n <= 12; n++) {
		memset(err, 'X', sizeof(err));
		bora_errf(err, n, "%s", "ab\xc3\xa9\xe2\x82\xac" "cd");
		assert_true(strlen(err) < n);
		assert_int_equal(bora_utf8_check(err, strlen(err)), strlen(err));
		/* nothing but what fits of the whole characters */
		assert_memory_equal(err, "ab\xc3\xa9\xe2\x82\xac" "cd",
		    strlen(err));
	}
	bora_errf(err, 4, "%s", "ab\xc3\xa9");
	assert_string_equal(err, "ab");
	bora_errf(err, 5, "%s", "ab\xc3\xa9");
	assert_string_equal(err, "ab\xc3\xa9");
}

static void
test_errf_null_or_empty_buffer(void **state)
{
	char one[1] = { 'X' };

	(void)state;
	bora_errf(NULL, 10, "%s", "ignored");
	bora_errf(one, 0, "%s", "ignored");
	assert_int_equal(one[0], 'X');
	bora_errf(one, 1, "%s", "anything");
	assert_int_equal(one[0], '\0');
}

static void
test_wall_clock_is_epoch_ms(void **state)
{
	int64_t ms = bora_wall_ms();
	time_t now = time(NULL);

	(void)state;
	/* within two seconds of time(2), in milliseconds */
	assert_true(ms / 1000 >= (int64_t)now - 2);
	assert_true(ms / 1000 <= (int64_t)now + 2);
}

static void
test_mono_clock_moves_forward(void **state)
{
	struct timespec d = { 0, 20 * 1000000L };
	int64_t a, b;

	(void)state;
	a = bora_mono_ms();
	nanosleep(&d, NULL);
	b = bora_mono_ms();
	assert_true(b >= a + 20);
	assert_true(b < a + 20000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errf_fits),
		cmocka_unit_test(test_errf_cut_never_splits_a_sequence),
		cmocka_unit_test(test_errf_null_or_empty_buffer),
		cmocka_unit_test(test_wall_clock_is_epoch_ms),
		cmocka_unit_test(test_mono_clock_moves_forward),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
