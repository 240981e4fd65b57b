/* test_utf8.c: strict UTF-8 checks, incomplete tails, sanitizing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

/* bora_utf8_check over a literal (sizeof - 1: literals may hold NULs). */
#define CHECK(lit) bora_utf8_check(lit, sizeof(lit) - 1)
#define TAIL(lit) bora_utf8_incomplete_tail(lit, sizeof(lit) - 1)

/* A reference encoder: code point cp as UTF-8 into out, returns bytes. */
static size_t
ref_encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * A reference decoder, written the other way round: decode the bits
 * loosely, then refuse what re-encoding does not give back (overlongs),
 * surrogates and code points past U+10FFFF. Returns the length of the
 * valid sequence at p, 0 if invalid.
 */
static size_t
ref_valid(const unsigned char *p, size_t len)
{
	unsigned char again[4];
	uint32_t cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	else if ((p[0] & 0xE0) == 0xC0)
		n = 2, cp = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		n = 3, cp = p[0] & 0x0F;
	else if ((p[0] & 0xF8) == 0xF0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	if (ref_encode(cp, again) != n || memcmp(again, p, n) != 0)
		return 0;
	return n;
}

static void
test_valid_text(void **state)
{
	(void)state;
	assert_int_equal(bora_utf8_check("", 0), 0);
	assert_int_equal(CHECK("plain ascii, long enough for the word loop"),
	    strlen("plain ascii, long enough for the word loop"));
	assert_int_equal(CHECK("caf\xc3\xa9"), 5);                 /* é */
	assert_int_equal(CHECK("\xe2\x82\xac"), 3);                /* € */
	assert_int_equal(CHECK("\xf0\x9f\x98\x80"), 4);            /* 😀 */
	assert_int_equal(CHECK("a\0b"), 3);          /* NUL is valid UTF-8 */
	/* Boundaries of each length. */
	assert_int_equal(CHECK("\x7f"), 1);
	assert_int_equal(CHECK("\xc2\x80"), 2);                    /* U+0080 */
	assert_int_equal(CHECK("\xdf\xbf"), 2);                    /* U+07FF */
	assert_int_equal(CHECK("\xe0\xa0\x80"), 3);                /* U+0800 */
	assert_int_equal(CHECK("\xed\x9f\xbf"), 3);                /* U+D7FF */
	assert_int_equal(CHECK("\xee\x80\x80"), 3);                /* U+E000 */
	assert_int_equal(CHECK("\xef\xbf\xbf"), 3);                /* U+FFFF */
	assert_int_equal(CHECK("\xf0\x90\x80\x80"), 4);            /* U+10000 */
	assert_int_equal(CHECK("\xf4\x8f\xbf\xbf"), 4);            /* U+10FFFF */
}

static void
test_invalid_offsets(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\x80"), 0);              /* lone continuation */
	assert_int_equal(CHECK("abc\xff"), 3);
	assert_int_equal(CHECK("abc\xfe"), 3);
	assert_int_equal(CHECK("0123456789\xc0\xaf"), 10); /* overlong '/' */
	assert_int_equal(CHECK("\xc1\xbf"), 0);          /* overlong U+007F */
	assert_int_equal(CHECK("\xe0\x80\xaf"), 0);      /* overlong 3-byte */
	assert_int_equal(CHECK("\xe0\x9f\xbf"), 0);      /* overlong U+07FF */
	assert_int_equal(CHECK("\xf0\x8f\xbf\xbf"), 0);  /* overlong U+FFFF */
	assert_int_equal(CHECK("x\xed\xa0\x80"), 1);     /* surrogate D800 */
	assert_int_equal(CHECK("x\xed\xbf\xbf"), 1);     /* surrogate DFFF */
	assert_int_equal(CHECK("\xf4\x90\x80\x80"), 0);  /* U+110000 */
	assert_int_equal(CHECK("\xf5\x80\x80\x80"), 0);
	assert_int_equal(CHECK("\xf8\x88\x80\x80\x80"), 0); /* 5-byte form */
	assert_int_equal(CHECK("ok\xe2\x82"), 2);        /* cut by the end */
	assert_int_equal(CHECK("ok\xf0\x9f\x98"), 2);
	assert_int_equal(CHECK("ok\xc3"), 2);
	assert_int_equal(CHECK("\xe2\x82" "A"), 0);      /* cut in the middle */
	assert_int_equal(CHECK("\xc3\xa9\xc3"), 2);
	/* After a long ASCII run (the word-at-a-time path). */
	assert_int_equal(CHECK("0123456789abcdef0123456789abcdef\x80tail"), 32);
}

/* Every 1- and 2-byte input, and every 3-byte input starting E0..EF,
 * agrees with the reference decoder. */
static void
test_exhaustive_against_reference(void **state)
{
	unsigned char b[4];
	unsigned a, c, d;
	size_t want;

	(void)state;
	for (a = 0; a < 256; a++) {
		b[0] = (unsigned char)a;
		want = ref_valid(b, 1) == 1 ? 1 : 0;
		assert_int_equal(bora_utf8_check((char *)b, 1), want);
		for (c = 0; c < 256; c++) {
			b[1] = (unsigned char)c;
			if (ref_valid(b, 2) == 2 || (b[0] < 0x80 && b[1] < 0x80))
				want = 2;
			else if (b[0] < 0x80)
				want = 1;
			else
				want = 0;
			assert_int_equal(bora_utf8_check((char *)b, 2), want);
		}
	}
	for (a = 0xE0; a <= 0xEF; a++) {
		b[0] = (unsigned char)a;
		for (c = 0x70; c < 0xD0; c++) {
			b[1] = (unsigned char)c;
			for (d = 0; d < 256; d++) {
				b[2] = (unsigned char)d;
				want = ref_valid(b, 3) == 3 ? 3 : 0;
				assert_int_equal(bora_utf8_check((char *)b, 3), want);
			}
		}
	}
}

/* Every code point encodes to something valid, except surrogates. */
static void
test_every_code_point(void **state)
{
	unsigned char b[4];
	uint32_t cp;
	size_t n;

	(void)state;
	for (cp = 0; cp <= 0x10FFFF; cp++) {
		n = ref_encode(cp, b);
		if (cp >= 0xD800 && cp <= 0xDFFF)
			assert_int_equal(bora_utf8_check((char *)b, n), 0);
		else
			assert_int_equal(bora_utf8_check((char *)b, n), n);
	}
}

static void
test_incomplete_tail(void **state)
{
	(void)state;
	assert_int_equal(bora_utf8_incomplete_tail("", 0), 0);
	assert_int_equal(TAIL("abc"), 0);
	assert_int_equal(TAIL("abc\xc3"), 1);
	assert_int_equal(TAIL("abc\xe2"), 1);
	assert_int_equal(TAIL("abc\xe2\x82"), 2);
	assert_int_equal(TAIL("\xf0"), 1);
	assert_int_equal(TAIL("\xf0\x9f"), 2);
	assert_int_equal(TAIL("\xf0\x9f\x98"), 3);
	assert_int_equal(TAIL("\xf0\x9f\x98\x80"), 0);   /* complete */
	assert_int_equal(TAIL("\xe2\x82\xac"), 0);       /* complete */
	assert_int_equal(TAIL("caf\xc3\xa9"), 0);
	/* Not the start of anything valid: nothing to keep. */
	assert_int_equal(TAIL("\x82"), 0);
	assert_int_equal(TAIL("\x80\x80\x80"), 0);
	assert_int_equal(TAIL("\xc0"), 0);
	assert_int_equal(TAIL("\xff"), 0);
	assert_int_equal(TAIL("\xe0\x80"), 0);           /* overlong start */
	assert_int_equal(TAIL("\xed\xa0"), 0);           /* surrogate start */
	assert_int_equal(TAIL("\xf4\x90"), 0);           /* past U+10FFFF */
	assert_int_equal(TAIL("\xe2" "a"), 0);
	/* A chunk cut in the middle of a character: keep the tail, and the
	 * rest joined to the next chunk is valid again. */
	{
		const char text[] = "x\xf0\x9f\x98\x80y";
		size_t cut = 3, tail;
		char joined[16];

		tail = bora_utf8_incomplete_tail(text, cut);
		assert_int_equal(tail, 2);
		assert_int_equal(bora_utf8_check(text, cut - tail), cut - tail);
		memcpy(joined, text + cut - tail, sizeof(text) - 1 - cut + tail);
		assert_int_equal(bora_utf8_check(joined,
		    sizeof(text) - 1 - cut + tail), sizeof(text) - 1 - cut + tail);
	}
}

static void
test_sanitize(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = bora_utf8_sanitize("caf\xc3\xa9 \xe2\x82\xac", 9, out);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "caf\xc3\xa9 \xe2\x82\xac", 9);

	n = bora_utf8_sanitize("a\xff" "b", 3, out);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "a\xef\xbf\xbd" "b", 5);

	/* Overlong: each byte replaced. */
	n = bora_utf8_sanitize("\xc0\xaf", 2, out);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "\xef\xbf\xbd\xef\xbf\xbd", 6);

	/* A cut sequence then ASCII: each byte of the cut part replaced. */
	n = bora_utf8_sanitize("\xe2\x82" "A", 3, out);
	assert_int_equal(n, 7);
	assert_memory_equal(out, "\xef\xbf\xbd\xef\xbf\xbd" "A", 7);

	/* Surrogate. */
	n = bora_utf8_sanitize("\xed\xa0\x80", 3, out);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9);

	assert_int_equal(bora_utf8_sanitize("", 0, out), 0);
}

/* Sanitized output is always valid, and valid input is left alone. */
static void
test_sanitize_random(void **state)
{
	unsigned char in[64];
	char out[3 * sizeof(in)];
	unsigned seed = 12345;
	size_t n, i, len;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = (size_t)(round % (int)sizeof(in));
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly high bytes, to hit multi-byte paths */
			in[i] = (unsigned char)((seed >> 16) | 0x80);
			if ((seed >> 8) % 5 == 0)
				in[i] &= 0x7F;
		}
		n = bora_utf8_sanitize((char *)in, len, out);
		assert_true(n <= 3 * len);
		assert_int_equal(bora_utf8_check(out, n), n);
		if (bora_utf8_check((char *)in, len) == len) {
			assert_int_equal(n, len);
			assert_memory_equal(out, in, len);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_text),
		cmocka_unit_test(test_invalid_offsets),
		cmocka_unit_test(test_exhaustive_against_reference),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_incomplete_tail),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
