/*
 * test_coord_secrets.c: masking secret values (coordinator/agents/secrets.h):
 * inside one chunk, across chunks (the held tail), several secrets,
 * overlapping ones, a secret that is a prefix of another, empty and very
 * short values, UTF-8, JSON documents and the values an input set gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secrets.h"

/* A set of the given values (NULL-terminated). */
static json_t *
set_of(const char *first, ...)
{
	json_t *set = json_array();
	const char *v;
	va_list ap;

	assert_non_null(set);
	va_start(ap, first);
	for (v = first; v != NULL; v = va_arg(ap, const char *))
		assert_int_equal(json_array_append_new(set, json_string(v)), 0);
	va_end(ap);
	return set;
}

/* data masked with set, as a NUL-terminated copy the caller frees (data
 * itself copied when nothing is to be masked). */
static char *
masked(const json_t *set, const char *data)
{
	size_t n = 0;
	char *m = secrets_mask_mem(set, data, strlen(data), &n);

	if (m == NULL) {
		assert_false(secrets_contains(set, data, strlen(data)));
		m = strdup(data);
		assert_non_null(m);
		return m;
	}
	assert_int_equal(n, strlen(m));
	return m;
}

static void
assert_masks_to(const json_t *set, const char *data, const char *want)
{
	char *m = masked(set, data);

	assert_string_equal(m, want);
	free(m);
}

/*
 * A stream cut in chunks, shown the way coord_step_output.c shows it: each chunk
 * after what was held back of the last one, its end that may start a
 * secret held back again, the rest masked; the last chunk flushed. What
 * was shown, concatenated, into out (size n).
 */
static void
stream_masked(const json_t *set, const char *const *chunks, char *out,
    size_t n)
{
	char buf[512], shown[512], *m;
	size_t held = 0, len, hold, i;

	out[0] = '\0';
	for (i = 0; chunks[i] != NULL; i++) {
		len = strlen(chunks[i]);
		assert_true(held + len < sizeof(buf));
		memcpy(buf + held, chunks[i], len);
		len += held;
		hold = chunks[i + 1] != NULL ? secrets_tail_hold(set, buf, len) :
		    0;
		memcpy(shown, buf, len - hold);
		shown[len - hold] = '\0';
		m = masked(set, shown);
		/* no piece shown holds a whole secret */
		assert_false(secrets_contains(set, m, strlen(m)));
		assert_true(strlen(out) + strlen(m) < n);
		strcat(out, m);
		free(m);
		memmove(buf, buf + len - hold, hold);
		held = hold;
	}
}

static void
test_one_chunk(void **state)
{
	json_t *set = set_of("hunter2", NULL);
	size_t n = 99;

	(void)state;
	assert_masks_to(set, "pass hunter2 done", "pass ****** done");
	assert_masks_to(set, "hunter2", "******");
	assert_masks_to(set, "hunter2hunter2", "************");
	/* nothing to mask: NULL, and *outlen left alone */
	assert_null(secrets_mask_mem(set, "hunter", 6, &n));
	assert_int_equal(n, 99);
	assert_false(secrets_contains(set, "hunter", 6));
	assert_true(secrets_contains(set, "a hunter2", 9));
	/* data is a length, not a C string */
	assert_false(secrets_contains(set, "hunter2", 6));
	assert_masks_to(set, "hunter 2 hunte r2", "hunter 2 hunte r2");
	json_decref(set);
}

static void
test_held_tail(void **state)
{
	json_t *set = set_of("hunter2", NULL);
	const char *const two[] = { "the password is hunt", "er2 ok", NULL };
	const char *const three[] = { "h", "unter", "2!", NULL };
	const char *const not_it[] = { "the password is hunt", "ing", NULL };
	char out[256];

	(void)state;
	/* the end of a chunk that may start a secret is held back */
	assert_int_equal(secrets_tail_hold(set, "is hunt", 7), 4);
	assert_int_equal(secrets_tail_hold(set, "is h", 4), 1);
	assert_int_equal(secrets_tail_hold(set, "hunter", 6), 6);
	assert_int_equal(secrets_tail_hold(set, "is hunter2", 10), 0);
	assert_int_equal(secrets_tail_hold(set, "is hum", 6), 0);
	assert_int_equal(secrets_tail_hold(set, "", 0), 0);
	stream_masked(set, two, out, sizeof(out));
	assert_string_equal(out, "the password is ****** ok");
	stream_masked(set, three, out, sizeof(out));
	assert_string_equal(out, "******!");
	/* held back, then not a secret after all: shown as it was */
	stream_masked(set, not_it, out, sizeof(out));
	assert_string_equal(out, "the password is hunting");
	json_decref(set);
}

static void
test_several(void **state)
{
	json_t *set = set_of("alpha", "beta", "gamma", NULL);
	const char *const chunks[] = { "alpha and be", "ta and gam", "ma.",
		NULL };
	char out[256];

	(void)state;
	assert_masks_to(set, "alpha and beta and alpha, not delta",
	    "****** and ****** and ******, not delta");
	assert_masks_to(set, "alphabetagamma", "******************");
	stream_masked(set, chunks, out, sizeof(out));
	assert_string_equal(out, "****** and ****** and ******.");
	/* the longest tail any of them may start */
	assert_int_equal(secrets_tail_hold(set, "x gam", 5), 3);
	assert_int_equal(secrets_tail_hold(set, "x alph", 6), 4);
	json_decref(set);
}

static void
test_overlapping(void **state)
{
	json_t *set = set_of("cd", "abcdef", NULL);
	json_t *chain = set_of("abcd", "cdef", NULL);
	const char *const chunks[] = { "xxab", "cd", "efxx", NULL };
	char out[256], *m;

	(void)state;
	/* one inside another: the longer one is masked whole */
	assert_masks_to(set, "xxabcdefxx", "xx******xx");
	assert_masks_to(set, "xxcdxx", "xx******xx");
	stream_masked(set, chunks, out, sizeof(out));
	assert_string_equal(out, "xx******xx");
	/* two that overlap: the first from the left is masked, and what is
	 * left of the other is no longer a whole secret */
	m = masked(chain, "abcdef");
	assert_string_equal(m, "******ef");
	assert_false(secrets_contains(chain, m, strlen(m)));
	free(m);
	assert_masks_to(chain, "xcdefx", "x******x");
	json_decref(set);
	json_decref(chain);
}

static void
test_prefix_of_another(void **state)
{
	json_t *set = set_of("pass", "password1", NULL);
	json_t *reversed = set_of("password1", "pass", NULL);
	const char *const whole[] = { "my pass", "word1 is set", NULL };
	const char *const shorter[] = { "my pass", "!", NULL };
	char out[256];

	(void)state;
	/* the longest secret at a place wins, in either order of the set */
	assert_masks_to(set, "password1 and pass", "****** and ******");
	assert_masks_to(set, "passwor", "******wor");
	assert_masks_to(reversed, "password1 and pass", "****** and ******");
	/* a whole short secret at the end is held back: it may be the
	 * start of the longer one */
	assert_int_equal(secrets_tail_hold(set, "my pass", 7), 4);
	assert_int_equal(secrets_tail_hold(set, "my passw", 8), 5);
	stream_masked(set, whole, out, sizeof(out));
	assert_string_equal(out, "my ****** is set");
	stream_masked(set, shorter, out, sizeof(out));
	assert_string_equal(out, "my ******!");
	json_decref(set);
	json_decref(reversed);
}

static void
test_empty_and_short(void **state)
{
	json_t *empty = json_array(), *none = set_of("", NULL);
	json_t *one = set_of("x", NULL), *inputs, *names, *set;
	size_t n;

	(void)state;
	/* an empty set or a NULL one masks nothing */
	assert_null(secrets_mask_mem(empty, "abc", 3, &n));
	assert_false(secrets_contains(NULL, "abc", 3));
	assert_int_equal(secrets_tail_hold(empty, "abc", 3), 0);
	/* an empty value is never a secret, nor the start of one */
	assert_false(secrets_contains(none, "abc", 3));
	assert_null(secrets_mask_mem(none, "abc", 3, &n));
	assert_int_equal(secrets_tail_hold(none, "abc", 3), 0);
	assert_int_equal(secrets_tail_hold(none, "", 0), 0);
	/* one byte: every one masked, nothing held (no proper prefix) */
	assert_masks_to(one, "xox", "******o******");
	assert_int_equal(secrets_tail_hold(one, "ox", 2), 0);
	assert_masks_to(one, "", "");
	/* secrets_add_values leaves out empty strings */
	inputs = json_pack("{s:s, s:s, s:s}", "a", "", "b", "y", "c", "");
	names = json_pack("[s, s, s]", "a", "b", "c");
	set = json_array();
	assert_int_equal(secrets_add_values(set, inputs, names), 0);
	assert_int_equal(json_array_size(set), 1);
	assert_string_equal(json_string_value(json_array_get(set, 0)), "y");
	json_decref(set);
	json_decref(names);
	json_decref(inputs);
	json_decref(empty);
	json_decref(none);
	json_decref(one);
}

static void
test_utf8(void **state)
{
	/* "pässwörd" and "密码": multi-byte sequences */
	json_t *set = set_of("p\xc3\xa4ssw\xc3\xb6rd", "\xe5\xaf\x86\xe7\xa0\x81",
	    NULL);
	const char *const cut[] = { "mein p\xc3", "\xa4ssw\xc3\xb6rd!", NULL };
	const char *const cut_cjk[] = { "\xe5\xaf", "\x86\xe7", "\xa0\x81 ok",
		NULL };
	char out[256];

	(void)state;
	assert_masks_to(set, "mein p\xc3\xa4ssw\xc3\xb6rd!", "mein ******!");
	assert_masks_to(set, "\xe5\xaf\x86\xe7\xa0\x81\xe5\xaf\x86",
	    "******\xe5\xaf\x86");
	/* a chunk cut inside a character of a secret holds back its bytes */
	assert_int_equal(secrets_tail_hold(set, "mein p\xc3", 7), 2);
	assert_int_equal(secrets_tail_hold(set, "\xe5\xaf", 2), 2);
	/* the same character in another text is no secret */
	assert_int_equal(secrets_tail_hold(set, "\xc3\xa4", 2), 0);
	stream_masked(set, cut, out, sizeof(out));
	assert_string_equal(out, "mein ******!");
	stream_masked(set, cut_cjk, out, sizeof(out));
	assert_string_equal(out, "****** ok");
	json_decref(set);
}

static void
test_mask_json(void **state)
{
	json_t *set = set_of("s3cret", NULL), *empty = json_array();
	json_t *doc, *m;
	char *text;

	(void)state;
	doc = json_pack("{s:s, s:[s, i, {s:s}], s:b, s:n}", "error",
	    "login s3cret refused", "list", "s3cret", 7, "s3cret", "deep s3cret",
	    "ok", 1, "nothing");
	m = secrets_mask_json(set, doc);
	assert_non_null(m);
	assert_ptr_not_equal(m, doc);
	text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	/* values are masked, keys are not */
	assert_string_equal(text, "{\"error\":\"login ****** refused\","
	    "\"list\":[\"******\",7,{\"s3cret\":\"deep ******\"}],"
	    "\"nothing\":null,\"ok\":true}");
	free(text);
	json_decref(m);
	/* an empty set: the same document, one more reference */
	m = secrets_mask_json(empty, doc);
	assert_ptr_equal(m, doc);
	json_decref(m);
	assert_null(secrets_mask_json(set, NULL));
	json_decref(doc);
	json_decref(set);
	json_decref(empty);
}

static void
test_add_values(void **state)
{
	json_t *inputs, *names, *set = json_array();
	size_t i;
	static const char *const want[] = {
		"pw", "42", "true", "{\"user\":\"bob\",\"key\":\"k1\"}", "bob",
		"k1", "[\"a1\",[\"b2\"]]", "a1", "[\"b2\"]", "b2",
	};

	(void)state;
	inputs = json_pack("{s:s, s:i, s:b, s:{s:s, s:s}, s:[s, [s]], s:n, "
	    "s:s}", "password", "pw", "pin", 42, "flag", 1, "creds", "user",
	    "bob", "key", "k1", "list", "a1", "b2", "gone", "plain", "seen");
	names = json_pack("[s, s, s, s, s, s, s, i, s]", "password", "pin",
	    "flag", "creds", "list", "gone", "missing", 3, "password");
	assert_int_equal(secrets_add_values(set, inputs, names), 0);
	/* in order, each once; null, missing names and non-strings left out,
	 * and an input not named ("plain") is no secret */
	assert_int_equal(json_array_size(set), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(json_string_value(json_array_get(set, i)),
		    want[i]);
	assert_masks_to(set, "user bob with seen", "user ****** with seen");
	json_decref(set);
	json_decref(names);
	json_decref(inputs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_chunk),
		cmocka_unit_test(test_held_tail),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_overlapping),
		cmocka_unit_test(test_prefix_of_another),
		cmocka_unit_test(test_empty_and_short),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_mask_json),
		cmocka_unit_test(test_add_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
