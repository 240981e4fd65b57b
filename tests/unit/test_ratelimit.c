/* test_ratelimit.c: refusals per source address (coordinator/enroll/ratelimit.c),
 * the rule of enrollment tokens and of the operator token: N refusals in
 * the window block the address for the block time, other addresses are
 * not affected, and the table does not grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ratelimit.h"

#define T0 1800000000000LL        /* some wall-clock time, in ms */

static struct ratelimit rl;

static int
setup(void **state)
{
	(void)state;
	ratelimit_init(&rl, 5, 60, 60);
	return 0;
}

static void
test_blocks_after_max_fails(void **state)
{
	int i;

	(void)state;
	assert_int_equal(ratelimit_blocked(&rl, "10.0.0.1", T0), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ratelimit_fail(&rl, "10.0.0.1", T0 + i), 0);
		assert_int_equal(ratelimit_blocked(&rl, "10.0.0.1", T0 + i), 0);
	}
	assert_int_equal(ratelimit_fail(&rl, "10.0.0.1", T0 + 4), 1);
	assert_int_equal(ratelimit_blocked(&rl, "10.0.0.1", T0 + 4), 60000);
	assert_int_equal(ratelimit_blocked(&rl, "10.0.0.1", T0 + 30004), 30000);
	/* another address is not touched */
	assert_int_equal(ratelimit_blocked(&rl, "10.0.0.2", T0 + 5), 0);
	/* the block ends */
	assert_int_equal(ratelimit_blocked(&rl, "10.0.0.1", T0 + 60004), 0);
	/* and counting starts again from zero */
	assert_int_equal(ratelimit_fail(&rl, "10.0.0.1", T0 + 60005), 0);
	assert_int_equal(ratelimit_blocked(&rl, "10.0.0.1", T0 + 60005), 0);
}

static void
test_window_forgets_old_fails(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(ratelimit_fail(&rl, "::1", T0 + i * 1000), 0);
	/* the fifth comes after the window: a new window, no block */
	assert_int_equal(ratelimit_fail(&rl, "::1", T0 + 61000), 0);
	assert_int_equal(ratelimit_blocked(&rl, "::1", T0 + 61000), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_fail(&rl, "::1", T0 + 62000 + i), 0);
	assert_int_equal(ratelimit_fail(&rl, "::1", T0 + 63000), 1);
	assert_true(ratelimit_blocked(&rl, "::1", T0 + 63000) > 0);
}

/* More addresses than slots: the table stays bounded, and a blocked
 * address is kept rather than one that merely failed once. */
static void
test_full_table_keeps_blocked(void **state)
{
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		ratelimit_fail(&rl, "192.0.2.66", T0);
	assert_true(ratelimit_blocked(&rl, "192.0.2.66", T0) > 0);
	for (i = 0; i < 3 * RATELIMIT_SLOTS; i++) {
		snprintf(key, sizeof(key), "198.51.%d.%d", i / 250, i % 250);
		assert_int_equal(ratelimit_fail(&rl, key, T0 + 1 + i), 0);
	}
	assert_true(ratelimit_blocked(&rl, "192.0.2.66", T0 + 1000) > 0);
	/* a key past the slot's size is cut, consistently */
	{
		char longkey[RATELIMIT_KEY_MAX * 2];

		memset(longkey, 'a', sizeof(longkey) - 1);
		longkey[sizeof(longkey) - 1] = '\0';
		for (i = 0; i < 4; i++)
			assert_int_equal(ratelimit_fail(&rl, longkey, T0 + 2000),
			    0);
		assert_int_equal(ratelimit_fail(&rl, longkey, T0 + 2000), 1);
		assert_true(ratelimit_blocked(&rl, longkey, T0 + 2001) > 0);
	}
}

static void
test_init_clamps(void **state)
{
	(void)state;
	ratelimit_init(&rl, 0, 0, 0);          /* nonsense: one refusal, 1 s */
	assert_int_equal(ratelimit_fail(&rl, "a", T0), 1);
	assert_int_equal(ratelimit_blocked(&rl, "a", T0), 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_blocks_after_max_fails, setup),
		cmocka_unit_test_setup(test_window_forgets_old_fails, setup),
		cmocka_unit_test_setup(test_full_table_keeps_blocked, setup),
		cmocka_unit_test_setup(test_init_clamps, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
