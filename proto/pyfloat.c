/* pyfloat.c: see pyfloat.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyfloat.h"

/* Into out (at most 32 bytes, NUL included, for any finite double: a sign,
 * 17 digits, a point and "e+308"; or 16 digits, a point, a zero). */
static void
py_float_finite(double v, char out[40])
{
	const size_t n = 40;
	char *buf = out;
	char e[40], digits[20];
	size_t nd = 0, i;
	int p, exp = 0, len = 0;
	const char *m;

	/* the shortest precision that reads back the same */
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is [-]D[.DDD]e(+|-)XX: its digits without trailing zeros */
	m = e[0] == '-' ? e + 1 : e;
	for (; *m && *m != 'e'; m++)
		if (*m >= '0' && *m <= '9' && nd < sizeof(digits) - 1)
			digits[nd++] = *m;
	if (*m == 'e')
		exp = atoi(m + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (signbit(v))
		len += snprintf(buf + len, n - (size_t)len, "-");
	if (exp < -4 || exp >= 16) {
		len += snprintf(buf + len, n - (size_t)len, "%c%s%.*s", digits[0],
		    nd > 1 ? "." : "", (int)(nd - 1), digits + 1);
		snprintf(buf + len, n - (size_t)len, "e%c%02d",
		    exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	} else if (exp < 0) {
		len += snprintf(buf + len, n - (size_t)len, "0.");
		for (i = 0; i < (size_t)(-exp - 1); i++)
			len += snprintf(buf + len, n - (size_t)len, "0");
		snprintf(buf + len, n - (size_t)len, "%s", digits);
	} else {
		for (i = 0; i <= (size_t)exp; i++)
			len += snprintf(buf + len, n - (size_t)len, "%c",
			    i < nd ? digits[i] : '0');
		snprintf(buf + len, n - (size_t)len, ".%s",
		    nd > (size_t)exp + 1 ? digits + exp + 1 : "0");
	}
}

const char *
bora_py_float(double v, char *buf, size_t n)
{
	char out[40];

	if (isnan(v))
		snprintf(buf, n, "nan");
	else if (isinf(v))
		snprintf(buf, n, "%sinf", v < 0 ? "-" : "");
	else {
		/* composed where it always fits, then cut to n if it must */
		py_float_finite(v, out);
		snprintf(buf, n, "%s", out);
	}
	return buf;
}
