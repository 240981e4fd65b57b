/* test_log.c: log lines, text and JSON, and bora_log_quote (proto/log.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "log.h"

#define TIME_RE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* ---- stderr capture --------------------------------------------------- */

static int cap_fd = -1, cap_saved = -1;

static void
cap_start(void)
{
	char tmpl[] = "/tmp/bora-test-log-XXXXXX";

	cap_fd = mkstemp(tmpl);
	assert_true(cap_fd >= 0);
	unlink(tmpl);
	fflush(stderr);
	cap_saved = dup(STDERR_FILENO);
	assert_true(cap_saved >= 0);
	assert_true(dup2(cap_fd, STDERR_FILENO) >= 0);
}

/* What was written to stderr since cap_start(); the caller frees it. */
static char *
cap_stop(void)
{
	char *buf;
	off_t size;
	ssize_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	size = lseek(cap_fd, 0, SEEK_END);
	assert_true(size >= 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	n = pread(cap_fd, buf, (size_t)size, 0);
	assert_int_equal(n, size);
	buf[size] = '\0';
	close(cap_fd);
	cap_fd = -1;
	return buf;
}

static int
matches(const char *re, const char *s)
{
	regex_t rx;
	int rc;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	if (!rc)
		print_message("no match:\n  re:   %s\n  line: %s\n", re, s);
	return rc;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* ---- quote ------------------------------------------------------------ */

static void
check_quote(const char *in, const char *want)
{
	char buf[128];

	assert_ptr_equal(bora_log_quote(in, buf, sizeof(buf)), buf);
	assert_string_equal(buf, want);
}

static void
test_quote(void **state)
{
	char buf[16];

	(void)state;
	check_quote("web1", "web1");
	check_quote("127.0.0.1:50312", "127.0.0.1:50312");
	check_quote("/a/b-c_d.e", "/a/b-c_d.e");
	check_quote("", "\"\"");
	check_quote(NULL, "\"\"");
	check_quote("a b", "\"a b\"");
	check_quote("k=v", "\"k=v\"");
	check_quote("say \"hi\"", "\"say \\\"hi\\\"\"");
	check_quote("back\\slash ", "\"back\\\\slash \"");
	check_quote("a\nb\tc", "\"a\\nb\\tc\"");
	check_quote("\x01\x7f", "\"\\x01\\x7f\"");
	check_quote("caf\xc3\xa9", "\"caf\\xc3\\xa9\"");

	/* truncation, plain and quoted; never splits an escape */
	bora_log_quote("abcdefghij", buf, 8);
	assert_string_equal(buf, "abcd...");
	bora_log_quote("abcdefg", buf, 8);
	assert_string_equal(buf, "abcdefg");
	bora_log_quote("a b c d e f", buf, 10);
	assert_string_equal(buf, "\"a b ...\"");
	bora_log_quote("\n\n\n\n\n\n", buf, 8);
	assert_string_equal(buf, "\"\\n...\"");
	bora_log_quote("a b", buf, 6);
	assert_string_equal(buf, "\"a b\"");
	bora_log_quote("a bc", buf, 6);
	assert_int_equal(strlen(buf), 5);
	assert_int_equal(buf[0], '"');
	bora_log_quote("abc", buf, 1);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	bora_log_quote("abc", buf, 0);     /* nothing written */
	assert_int_equal(buf[0], 'x');
}

static void
test_parse(void **state)
{
	(void)state;
	assert_int_equal(bora_log_level_parse("error"), BORA_LOG_ERROR);
	assert_int_equal(bora_log_level_parse("warn"), BORA_LOG_WARN);
	assert_int_equal(bora_log_level_parse("info"), BORA_LOG_INFO);
	assert_int_equal(bora_log_level_parse("debug"), BORA_LOG_DEBUG);
	assert_int_equal(bora_log_level_parse("verbose"), -1);
	assert_int_equal(bora_log_level_parse(""), -1);
	assert_int_equal(bora_log_level_parse(NULL), -1);
	assert_int_equal(bora_log_format_parse("text"), BORA_LOG_TEXT);
	assert_int_equal(bora_log_format_parse("json"), BORA_LOG_JSON);
	assert_int_equal(bora_log_format_parse("xml"), -1);
	assert_int_equal(bora_log_format_parse(NULL), -1);
}

/* ---- text ------------------------------------------------------------- */

static void
test_text_line(void **state)
{
	char q[64];
	char *out;

	(void)state;
	bora_log_init(BORA_LOG_DEBUG, BORA_LOG_TEXT);
	cap_start();
	log_info("server", "agent connected agent=%s addr=%s", "web1",
	    "127.0.0.1:50312");
	log_errorx("engine", "execution failed exec=42 reason=%s",
	    bora_log_quote("bad input", q, sizeof(q)));
	log_warnx("dispatch", "queue full");
	log_debug("store", "batch written rows=3");
	log_info("x", "two\nlines\r and\ttab \x01 k=v");
	out = cap_stop();
	assert_int_equal(count_lines(out), 5);
	assert_true(matches("^" TIME_RE " info  server: agent connected "
	    "agent=web1 addr=127\\.0\\.0\\.1:50312\n"
	    TIME_RE " error engine: execution failed exec=42 "
	    "reason=\"bad input\"\n"
	    TIME_RE " warn  dispatch: queue full\n"
	    TIME_RE " debug store: batch written rows=3\n"
	    TIME_RE " info  x: two\\\\nlines\\\\r and\ttab \\\\x01 k=v\n$",
	    out));
	free(out);
}

static void
test_level_filter(void **state)
{
	char *out;

	(void)state;
	bora_log_init(BORA_LOG_WARN, BORA_LOG_TEXT);
	cap_start();
	log_debug("x", "hidden debug");
	log_info("x", "hidden info");
	log_warnx("x", "shown warn");
	log_errorx("x", "shown error");
	out = cap_stop();
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "warn  x: shown warn\n"));
	assert_non_null(strstr(out, "error x: shown error\n"));
	assert_int_equal(count_lines(out), 2);
	free(out);

	bora_log_init(BORA_LOG_ERROR, BORA_LOG_TEXT);
	cap_start();
	log_warnx("x", "hidden");
	log_errorx("x", "shown");
	out = cap_stop();
	assert_int_equal(count_lines(out), 1);
	assert_null(strstr(out, "hidden"));
	free(out);
}

static void
test_warn_errno(void **state)
{
	char *out;

	(void)state;
	bora_log_init(BORA_LOG_INFO, BORA_LOG_TEXT);
	cap_start();
	errno = ENOENT;
	log_warn("agent", "open failed");
	assert_int_equal(errno, ENOENT);          /* errno is kept */
	errno = EACCES;
	log_warn("agent", "open failed path=%s step=%d", "/x", 7);
	assert_int_equal(errno, EACCES);
	errno = ENOENT;
	log_warnx("agent", "no errno here");
	out = cap_stop();
	assert_true(matches("^" TIME_RE " warn  agent: open failed: "
	    "No such file or directory\n"
	    TIME_RE " warn  agent: open failed: Permission denied "
	    "path=/x step=7\n"
	    TIME_RE " warn  agent: no errno here\n$", out));
	free(out);
}

static void
test_long_line(void **state)
{
	char *big, *out;
	size_t len;

	(void)state;
	big = malloc(20001);
	assert_non_null(big);
	memset(big, 'a', 20000);
	big[20000] = '\0';
	bora_log_init(BORA_LOG_INFO, BORA_LOG_TEXT);
	cap_start();
	log_info("big", "%s", big);
	log_info("big", "after");
	out = cap_stop();
	assert_int_equal(count_lines(out), 2);
	len = (size_t)(strchr(out, '\n') - out) + 1;
	assert_true(len <= 8192);
	assert_true(len > 8000);
	assert_memory_equal(out + len - 4, "...\n", 4);
	assert_non_null(strstr(out + len, "big: after\n"));
	free(out);
	free(big);
}

/* ---- JSON ------------------------------------------------------------- */

/* Parse each line of s as one JSON object into an array. */
static json_t *
json_lines(const char *s)
{
	json_t *arr = json_array(), *obj;
	json_error_t jerr;
	const char *nl;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		obj = json_loadb(s, (size_t)(nl - s), 0, &jerr);
		if (obj == NULL)
			print_message("bad JSON line: %s: %.*s\n", jerr.text,
			    (int)(nl - s), s);
		assert_non_null(obj);
		assert_true(json_is_object(obj));
		json_array_append_new(arr, obj);
		s = nl + 1;
	}
	return arr;
}

static const char *
member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		print_message("no member %s\n", key);
		return NULL;
	}
	return json_string_value(v);
}

static void
test_json(void **state)
{
	char q[64];
	char *out;
	json_t *lines, *o;

	(void)state;
	bora_log_init(BORA_LOG_INFO, BORA_LOG_JSON);
	cap_start();
	log_info("engine", "step done exec=42 task=%s note=%s", "t1",
	    bora_log_quote("a b \"c\" \\ =\n", q, sizeof(q)));
	errno = ENOENT;
	log_warn("agent", "open failed path=/x");
	log_info("api", "got \"quoted\" text\twith tab and ctl \x01 msg=mine");
	log_info("api", "bad utf8 \xff\xfe here");
	log_debug("api", "hidden");
	out = cap_stop();
	assert_int_equal(count_lines(out), 4);
	lines = json_lines(out);
	assert_int_equal(json_array_size(lines), 4);

	o = json_array_get(lines, 0);
	assert_true(matches("^" TIME_RE "$", member(o, "time")));
	assert_string_equal(member(o, "level"), "info");
	assert_string_equal(member(o, "component"), "engine");
	assert_string_equal(member(o, "msg"), "step done");
	assert_string_equal(member(o, "exec"), "42");
	assert_string_equal(member(o, "task"), "t1");
	assert_string_equal(member(o, "note"), "a b \"c\" \\ =\n");
	assert_int_equal(json_object_size(o), 7);

	o = json_array_get(lines, 1);
	assert_string_equal(member(o, "level"), "warn");
	assert_string_equal(member(o, "msg"),
	    "open failed: No such file or directory");
	assert_string_equal(member(o, "path"), "/x");

	/* no key=value context: the whole text is msg; a reserved key
	 * stays in the message */
	o = json_array_get(lines, 2);
	assert_string_equal(member(o, "msg"),
	    "got \"quoted\" text\twith tab and ctl \x01 msg=mine");
	assert_int_equal(json_object_size(o), 4);

	o = json_array_get(lines, 3);
	assert_string_equal(member(o, "msg"),
	    "bad utf8 \xef\xbf\xbd\xef\xbf\xbd here");
	json_decref(lines);
	free(out);
}

static void
test_json_kv_shapes(void **state)
{
	char *out;
	json_t *lines, *o;

	(void)state;
	bora_log_init(BORA_LOG_INFO, BORA_LOG_JSON);
	cap_start();
	/* only the trailing run counts */
	log_info("c", "set a=b then x=1 y=\"two words\"");
	/* a bad token ends the run */
	log_info("c", "x=1 Bad=2");
	/* all context, no text */
	log_info("c", "x=1");
	/* unterminated quote is not a value */
	log_info("c", "oops x=\"open");
	out = cap_stop();
	lines = json_lines(out);
	assert_int_equal(json_array_size(lines), 4);

	o = json_array_get(lines, 0);
	assert_string_equal(member(o, "msg"), "set a=b then");
	assert_string_equal(member(o, "x"), "1");
	assert_string_equal(member(o, "y"), "two words");
	assert_null(json_object_get(o, "a"));

	o = json_array_get(lines, 1);
	assert_string_equal(member(o, "msg"), "x=1 Bad=2");
	assert_null(json_object_get(o, "x"));

	o = json_array_get(lines, 2);
	assert_string_equal(member(o, "msg"), "");
	assert_string_equal(member(o, "x"), "1");

	o = json_array_get(lines, 3);
	assert_string_equal(member(o, "msg"), "oops x=\"open");
	json_decref(lines);
	free(out);
}

static void
test_json_long(void **state)
{
	char *big, *out;
	json_t *lines;
	size_t len;

	(void)state;
	big = malloc(20001);
	assert_non_null(big);
	memset(big, '"', 20000);         /* every byte doubles when escaped */
	big[20000] = '\0';
	bora_log_init(BORA_LOG_INFO, BORA_LOG_JSON);
	cap_start();
	log_info("big", "%s", big);
	out = cap_stop();
	len = strlen(out);
	assert_true(len <= 8192);
	lines = json_lines(out);
	assert_int_equal(json_array_size(lines), 1);
	assert_non_null(strstr(member(json_array_get(lines, 0), "msg"),
	    "..."));
	json_decref(lines);
	free(out);
	free(big);
}

/* libwebsockets' own errors and warnings come out as component "lws". */
static void
test_lws_routing(void **state)
{
	char *out;

	(void)state;
	bora_log_init(BORA_LOG_INFO, BORA_LOG_TEXT);
	cap_start();
	lwsl_err("something broke %d\n", 7);
	lwsl_warn("a warning\n");
	lwsl_notice("not routed\n");
	out = cap_stop();
	assert_true(matches("^" TIME_RE " error lws: something broke 7\n"
	    TIME_RE " warn  lws: a warning\n$", out));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_level_filter),
		cmocka_unit_test(test_warn_errno),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_kv_shapes),
		cmocka_unit_test(test_json_long),
		cmocka_unit_test(test_lws_routing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
