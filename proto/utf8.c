/*
 * utf8.c: strict UTF-8 checks (RFC 3629, Unicode table 3-7).
 *
 * Valid sequences, by lead byte:
 *   00..7F
 *   C2..DF  80..BF
 *   E0      A0..BF  80..BF          (E0 80..9F would be overlong)
 *   E1..EC  80..BF  80..BF
 *   ED      80..9F  80..BF          (ED A0..BF would be a surrogate)
 *   EE..EF  80..BF  80..BF
 *   F0      90..BF  80..BF  80..BF  (F0 80..8F would be overlong)
 *   F1..F3  80..BF  80..BF  80..BF
 *   F4      80..8F  80..BF  80..BF  (F4 90.. would be past U+10FFFF)
 * C0, C1 and F5..FF never appear; neither does a lone continuation byte.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* Bytes in the sequence that lead byte c starts (1..4), 0 if c cannot
 * start one. */
static size_t
utf8_need(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/* 1 when c2 may follow lead byte c as its second byte. */
static int
utf8_second_ok(unsigned char c, unsigned char c2)
{
	switch (c) {
	case 0xE0:
		return c2 >= 0xA0 && c2 <= 0xBF;
	case 0xED:
		return c2 >= 0x80 && c2 <= 0x9F;
	case 0xF0:
		return c2 >= 0x90 && c2 <= 0xBF;
	case 0xF4:
		return c2 >= 0x80 && c2 <= 0x8F;
	default:
		return c2 >= 0x80 && c2 <= 0xBF;
	}
}

/*
 * How many of the avail bytes at p are a valid prefix of the sequence
 * that p[0] starts (at most its length); 0 when p[0] is not a lead byte.
 * Sets *need to the length of the whole sequence.
 */
static size_t
utf8_prefix(const unsigned char *p, size_t avail, size_t *need)
{
	size_t n, i;

	n = utf8_need(p[0]);
	*need = n;
	if (n <= 1)
		return n;
	for (i = 1; i < n && i < avail; i++) {
		if (i == 1 ? !utf8_second_ok(p[0], p[1])
		    : (p[i] & 0xC0) != 0x80)
			break;
	}
	return i;
}

/* Length of the valid sequence at p (1..4), 0 if it is invalid or cut. */
static size_t
utf8_seq(const unsigned char *p, size_t avail)
{
	size_t need, got;

	got = utf8_prefix(p, avail, &need);
	return got == need ? need : 0;
}

/* Bytes of ASCII at the start of p, a word at a time. */
static size_t
utf8_ascii_run(const unsigned char *p, size_t len)
{
	size_t i = 0;
	uint64_t w;

	while (len - i >= sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if (w & UINT64_C(0x8080808080808080))
			break;
		i += sizeof(w);
	}
	while (i < len && p[i] < 0x80)
		i++;
	return i;
}

size_t
bora_utf8_check(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0, n;

	while (i < len) {
		i += utf8_ascii_run(p + i, len - i);
		if (i == len)
			break;
		n = utf8_seq(p + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

size_t
bora_utf8_incomplete_tail(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t k, need, got;

	for (k = 1; k <= 3 && k <= len; k++) {
		unsigned char c = p[len - k];

		if ((c & 0xC0) == 0x80)
			continue;       /* continuation: the lead is further back */
		got = utf8_prefix(p + len - k, k, &need);
		return (need > k && got == k) ? k : 0;
	}
	return 0;
}

size_t
bora_utf8_sanitize(const char *in, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0, n;

	while (i < len) {
		n = utf8_ascii_run(p + i, len - i);
		if (n > 0) {
			memcpy(out + o, in + i, n);
			i += n;
			o += n;
			continue;
		}
		n = utf8_seq(p + i, len - i);
		if (n == 0) {
			out[o++] = (char)0xEF;
			out[o++] = (char)0xBF;
			out[o++] = (char)0xBD;
			i++;
		} else {
			memcpy(out + o, in + i, n);
			i += n;
			o += n;
		}
	}
	return o;
}
