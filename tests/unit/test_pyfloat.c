/* test_pyfloat.c: doubles as Python's str() writes them (proto/pyfloat.h);
 * the expected texts are Python 3's own. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pyfloat.h"

static void
test_as_python_writes_them(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 1.1, "1.1" }, { 0.1, "0.1" }, { 100.0, "100.0" },
		{ 1e16, "1e+16" }, { 1e15, "1000000000000000.0" },
		{ 1e-5, "1e-05" }, { 0.0001, "0.0001" },
		{ 123456789.123, "123456789.123" }, { -2.5, "-2.5" },
		{ 0.0, "0.0" }, { -0.0, "-0.0" }, { 1.5e16, "1.5e+16" },
		{ 5e-324, "5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 12345678901234567890.0, "1.2345678901234567e+19" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 3.0, "3.0" }, { 1e22, "1e+22" },
	};
	char buf[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(bora_py_float(cases[i].v, buf, sizeof(buf)),
		    cases[i].want);
	assert_string_equal(bora_py_float(INFINITY, buf, sizeof(buf)), "inf");
	assert_string_equal(bora_py_float(-INFINITY, buf, sizeof(buf)),
	    "-inf");
	assert_string_equal(bora_py_float(NAN, buf, sizeof(buf)), "nan");
	/* a small buffer gets the text cut, never overrun */
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(bora_py_float(-1.7976931348623157e308, buf, 6),
	    "-1.79");
	assert_int_equal(buf[6], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as_python_writes_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
