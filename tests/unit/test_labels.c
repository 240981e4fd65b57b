/* test_labels.c: the one label parser (proto/labels.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "msg.h"

static json_t *
parse(const char *s, char *err, size_t n)
{
	err[0] = '\0';
	return bora_labels_parse(s, strlen(s), err, n);
}

/* Names and values as given; a value may hold '=' or be empty; a comma
 * may end the list; "" is no label. */
static void
test_parse_good(void **state)
{
	char err[256];
	json_t *o;

	(void)state;
	o = parse("role=web,zone=eu-1.a,note=a=b,empty=,", err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 4);
	assert_string_equal(json_string_value(json_object_get(o, "role")),
	    "web");
	assert_string_equal(json_string_value(json_object_get(o, "zone")),
	    "eu-1.a");
	assert_string_equal(json_string_value(json_object_get(o, "note")),
	    "a=b");
	assert_string_equal(json_string_value(json_object_get(o, "empty")),
	    "");
	json_decref(o);
	o = parse("", err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 0);
	json_decref(o);
	o = parse("k=\xC3\xA9t\xC3\xA9", err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "k")),
	    "\xC3\xA9t\xC3\xA9");
	json_decref(o);
}

/* Only len bytes count. */
static void
test_parse_len(void **state)
{
	char err[256];
	json_t *o;

	(void)state;
	o = bora_labels_parse("a=1,b=2", 3, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 1);
	assert_string_equal(json_string_value(json_object_get(o, "a")), "1");
	json_decref(o);
}

/* Each error names the item at fault. */
static void
test_parse_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} cases[] = {
		{ "role", "expected name=value pairs separated by commas, "
		  "got 'role'" },
		{ "a=1,,b=2", "expected name=value pairs separated by commas, "
		  "got ''" },
		{ "a=1,=x", "expected name=value pairs separated by commas, "
		  "got '=x'" },
		{ "a=1,a=2", "duplicate name 'a'" },
		{ "a=1,bad name=2", "'bad name' is not a label name (1 to 64 "
		  "bytes of A-Z a-z 0-9 . _ -, first a letter or digit)" },
		{ "-x=1", "'-x' is not a label name (1 to 64 bytes of A-Z a-z "
		  "0-9 . _ -, first a letter or digit)" },
		{ "ok=1,t\x01=2", "'t?' is not a label name (1 to 64 bytes of "
		  "A-Z a-z 0-9 . _ -, first a letter or digit)" },
		{ "k=\xFF", "the value of 'k' is not UTF-8 text" },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(parse(cases[i].in, err, sizeof(err)));
		assert_string_equal(err, cases[i].err);
	}
}

/* The protocol's limits: name length, value length, label count; a long
 * item is shown cut. */
static void
test_parse_limits(void **state)
{
	char in[4096], err[512], want[256];
	json_t *o;
	size_t n = 0;
	int i;

	(void)state;
	memset(in, 'n', BORA_MAX_NAME);
	snprintf(in + BORA_MAX_NAME, sizeof(in) - BORA_MAX_NAME, "=v");
	o = parse(in, err, sizeof(err));       /* 64 bytes: a name */
	assert_non_null(o);
	json_decref(o);
	memset(in, 'n', BORA_MAX_NAME + 1);
	snprintf(in + BORA_MAX_NAME + 1, sizeof(in) - BORA_MAX_NAME - 1, "=v");
	assert_null(parse(in, err, sizeof(err)));
	memset(want, 'n', 64);
	snprintf(want + 64, sizeof(want) - 64, "...' is not a label name");
	assert_non_null(strstr(err, want));
	n = (size_t)snprintf(in, sizeof(in), "k=");
	memset(in + n, 'v', BORA_LABEL_VALUE_MAX);
	in[n + BORA_LABEL_VALUE_MAX] = '\0';
	o = parse(in, err, sizeof(err));
	assert_non_null(o);
	json_decref(o);
	in[n + BORA_LABEL_VALUE_MAX] = 'v';
	in[n + BORA_LABEL_VALUE_MAX + 1] = '\0';
	assert_null(parse(in, err, sizeof(err)));
	assert_string_equal(err, "the value of 'k' has 257 bytes, more than "
	    "256");
	n = 0;
	for (i = 0; i <= BORA_LABELS_MAX; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "%sl%d=%d",
		    i ? "," : "", i, i);
	assert_null(parse(in, err, sizeof(err)));
	assert_string_equal(err, "more than 64 labels, at 'l64'");
	in[n - strlen(",l64=64")] = '\0';
	o = parse(in, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(json_object_size(o), BORA_LABELS_MAX);
	json_decref(o);
}

/* 1 when a hello carrying labels encodes (the protocol takes them). */
static int
hello_takes(json_t *labels)
{
	struct bora_msg m = { .type = BORA_MSG_HELLO };
	char *text;

	m.u.hello.name = "agent-1";
	m.u.hello.version = "1";
	m.u.hello.labels = labels;
	text = bora_msg_encode(&m, NULL);
	free(text);
	return text != NULL;
}

/* The limits are the protocol's: labels at every limit are taken by a
 * hello, one past any of them is not. */
static void
test_protocol_limits(void **state)
{
	char name[BORA_MAX_NAME + 1], value[BORA_LABEL_VALUE_MAX + 2], err[256];
	json_t *o = json_object(), *c;
	int i;

	(void)state;
	assert_non_null(o);
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (i = 0; i < BORA_LABELS_MAX; i++) {
		memset(name, 'a' + i % 26, BORA_MAX_NAME);
		snprintf(name, sizeof(name), "%02d", i);
		name[2] = 'x';
		name[BORA_MAX_NAME] = '\0';
		assert_int_equal(bora_labels_add(o, name, strlen(name), value,
		    BORA_LABEL_VALUE_MAX, err, sizeof(err)), 0);
	}
	assert_true(hello_takes(o));
	c = json_deep_copy(o);
	json_object_set_new(c, "one-more", json_string("x"));
	assert_false(hello_takes(c));
	json_decref(c);
	c = json_deep_copy(o);
	json_object_set_new(c, "00x", json_string(value));     /* 257 bytes */
	assert_false(hello_takes(c));
	json_decref(c);
	json_decref(o);
}

/* bora_labels_add: one label into an object that has some already. */
static void
test_add(void **state)
{
	json_t *o = json_pack("{s:s}", "a", "1");
	char err[256];

	(void)state;
	assert_non_null(o);
	assert_int_equal(bora_labels_add(o, "bx", 1, "2", 1, err,
	    sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(o, "b")), "2");
	assert_int_equal(bora_labels_add(o, "a", 1, "3", 1, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "duplicate name 'a'");
	assert_int_equal(bora_labels_add(o, "n\0x", 3, "3", 1, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "'n?x' is not a label name (1 to 64 bytes "
	    "of A-Z a-z 0-9 . _ -, first a letter or digit)");
	assert_int_equal(bora_labels_add(o, "c", 1, "x\0y", 3, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "the value of 'c' is not UTF-8 text");
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_protocol_limits),
		cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
