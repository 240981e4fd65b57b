/*
 * test_msg.c: the wire protocol codec: every message type round trips
 * through encode and decode, and each kind of malformed input is refused
 * with the field path and a sentence that says what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"
#include "utf8.h"

/* ---- helpers ---- */

static void
decode_ok(const char *json, size_t len, struct bora_msg *m)
{
	struct bora_limits lim = BORA_LIMITS_DEFAULT;
	struct bora_msg_err err;

	if (bora_msg_decode(json, len, &lim, m, &err) != 0)
		fail_msg("decode failed: path \"%s\": %s", err.path, err.text);
}

/* Decode json (NUL-terminated) with lim (NULL: default) and expect an
 * error at path whose text contains want (or equals it, when exact). */
static void
expect_error_lim(const char *json, size_t len, const struct bora_limits *lim,
    const char *path, const char *want, int exact)
{
	struct bora_msg m, zero;
	struct bora_msg_err err;

	memset(&m, 0x5a, sizeof(m));
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(bora_msg_decode(json, len, lim, &m, &err), -1);
	assert_string_equal(err.path, path);
	if (exact)
		assert_string_equal(err.text, want);
	else if (strstr(err.text, want) == NULL)
		fail_msg("error text \"%s\" lacks \"%s\"", err.text, want);
	/* Errors travel in error messages: they must be valid UTF-8. */
	assert_int_equal(bora_utf8_check(err.path, strlen(err.path)),
	    strlen(err.path));
	assert_int_equal(bora_utf8_check(err.text, strlen(err.text)),
	    strlen(err.text));
	/* Nothing to free on error. */
	assert_memory_equal(&m, &zero, sizeof(m));
}

static void
expect_error(const char *json, const char *path, const char *want)
{
	expect_error_lim(json, strlen(json), NULL, path, want, 0);
}

static void
expect_error_exact(const char *json, const char *path, const char *want)
{
	expect_error_lim(json, strlen(json), NULL, path, want, 1);
}

/* Encode, decode, and hand back the decoded message (and the text). */
static char *
round_trip(const struct bora_msg *in, struct bora_msg *out)
{
	size_t len = 0;
	char *text;

	text = bora_msg_encode(in, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	decode_ok(text, len, out);
	assert_int_equal(out->type, in->type);
	return text;
}

/* A string or NULL, compared with one that should equal it. */
static void
assert_str_or_null(const char *want, const char *got)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
assert_json_same(json_t *want, json_t *got)
{
	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_true(json_equal(want, got));
}

static json_t *
parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
assert_result_same(const struct bora_result *a, const struct bora_result *b)
{
	assert_string_equal(b->step, a->step);
	assert_int_equal(b->status, a->status);
	assert_int_equal(b->has_exit_code, a->has_exit_code);
	assert_int_equal(b->exit_code, a->has_exit_code ? a->exit_code : 0);
	assert_int_equal(b->signal, a->signal);
	assert_json_same(a->outputs, b->outputs);
	assert_int_equal(b->started_ms, a->started_ms);
	assert_int_equal(b->finished_ms, a->finished_ms);
	assert_int_equal(b->stdout_bytes, a->stdout_bytes);
	assert_int_equal(b->stderr_bytes, a->stderr_bytes);
	assert_str_or_null(a->error, b->error);
}

/* "[[[...]]]" nested n deep, in a static buffer. */
static const char *
nested_arrays(int n)
{
	static char buf[512];
	int i;

	assert_true(2 * n + 1 < (int)sizeof(buf));
	for (i = 0; i < n; i++) {
		buf[i] = '[';
		buf[n + i] = ']';
	}
	buf[2 * n] = '\0';
	return buf;
}

/* ---- round trips: every message type, every field ---- */

static void
test_round_trip_hello(void **state)
{
	struct bora_result r0 = {
		.step = "7.deploy.0.1", .status = BORA_STATUS_SUCCESS,
		.has_exit_code = 1, .exit_code = 0, .started_ms = 1700000000000,
		.finished_ms = 1700000001500, .stdout_bytes = 12,
	};
	struct bora_result r1 = {
		.step = "7.deploy.1.1", .status = BORA_STATUS_LOST,
		.error = "agent restarted while the step ran",
	};
	struct bora_msg in = { .type = BORA_MSG_HELLO }, out, m2;
	struct bora_result back;
	struct bora_msg_err err;
	json_t *results;
	char *text;

	(void)state;
	in.u.hello.name = "web-1.example";
	in.u.hello.version = "0.1.0";
	in.u.hello.labels = parse("{\"role\":\"web\",\"zone\":\"eu-1a\",\"empty\":\"\"}");
	in.u.hello.facts = parse("{\"os\":{\"id\":\"debian\",\"ver\":[12,\"bookworm\"]},"
	    "\"cpus\":4,\"mem_gb\":7.5,\"virt\":null,\"tpm\":false}");
	in.u.hello.running = parse("[\"7.build.0.1\",\"7.test:unit.0.2\"]");
	results = json_array();
	json_array_append_new(results, bora_result_to_json(&r0));
	json_array_append_new(results, bora_result_to_json(&r1));
	assert_int_equal(json_array_size(results), 2);
	in.u.hello.results = results;

	text = round_trip(&in, &out);
	assert_string_equal(out.u.hello.name, in.u.hello.name);
	assert_string_equal(out.u.hello.version, in.u.hello.version);
	assert_json_same(in.u.hello.labels, out.u.hello.labels);
	assert_json_same(in.u.hello.facts, out.u.hello.facts);
	assert_json_same(in.u.hello.running, out.u.hello.running);
	assert_json_same(in.u.hello.results, out.u.hello.results);
	assert_int_equal(bora_result_from_json(json_array_get(out.u.hello.results,
	    0), "results[0]", &back, &err), 0);
	assert_result_same(&r0, &back);
	assert_int_equal(bora_result_from_json(json_array_get(out.u.hello.results,
	    1), "results[1]", &back, &err), 0);
	assert_result_same(&r1, &back);
	bora_msg_free(&out);
	free(text);

	/* Only the required fields: the optional ones decode as NULL. */
	memset(&m2, 0, sizeof(m2));
	m2.type = BORA_MSG_HELLO;
	m2.u.hello.name = "a";
	m2.u.hello.version = "1";
	text = round_trip(&m2, &out);
	assert_string_equal(text, "{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\"}");
	assert_null(out.u.hello.labels);
	assert_null(out.u.hello.facts);
	assert_null(out.u.hello.running);
	assert_null(out.u.hello.results);
	bora_msg_free(&out);
	free(text);

	json_decref(in.u.hello.labels);
	json_decref(in.u.hello.facts);
	json_decref(in.u.hello.running);
	json_decref(results);
}

static void
test_round_trip_welcome(void **state)
{
	struct bora_msg in = { .type = BORA_MSG_WELCOME }, out;
	char *text;

	(void)state;
	in.u.welcome.name = "web-1";
	in.u.welcome.version = "0.1.0-rc1+g4b2fa2e";
	in.u.welcome.heartbeat_s = 3600;
	in.u.welcome.max_message = 64 * 1024 * 1024;
	text = round_trip(&in, &out);
	assert_string_equal(out.u.welcome.name, "web-1");
	assert_string_equal(out.u.welcome.version, in.u.welcome.version);
	assert_int_equal(out.u.welcome.heartbeat_s, 3600);
	assert_int_equal(out.u.welcome.max_message, 64 * 1024 * 1024);
	assert_string_equal(text, "{\"type\":\"welcome\",\"name\":\"web-1\","
	    "\"version\":\"0.1.0-rc1+g4b2fa2e\",\"heartbeat\":3600,"
	    "\"max_message\":67108864}");
	bora_msg_free(&out);
	free(text);
}

static void
test_round_trip_run(void **state)
{
	struct bora_msg in = { .type = BORA_MSG_RUN }, out;
	char *text;

	(void)state;
	in.u.run.step = "42.deploy_web.3.1";
	in.u.run.kind = "script";
	in.u.run.spec = parse("{\"script\":\"#!/bin/sh\\necho \\\"hi $name\\\"\\n\"}");
	in.u.run.inputs = parse("{\"name\":\"caf\\u00e9\",\"ports\":[80,443],"
	    "\"opts\":{\"debug\":true}}");
	in.u.run.timeout_s = BORA_MAX_TIMEOUT_S;
	text = round_trip(&in, &out);
	assert_string_equal(out.u.run.step, in.u.run.step);
	assert_string_equal(out.u.run.kind, "script");
	assert_json_same(in.u.run.spec, out.u.run.spec);
	assert_json_same(in.u.run.inputs, out.u.run.inputs);
	assert_int_equal(out.u.run.timeout_s, BORA_MAX_TIMEOUT_S);
	bora_msg_free(&out);
	free(text);

	/* No inputs, the smallest timeout. */
	json_decref(in.u.run.inputs);
	in.u.run.inputs = NULL;
	in.u.run.timeout_s = 1;
	in.u.run.kind = "heat_config.v2";
	text = round_trip(&in, &out);
	assert_null(out.u.run.inputs);
	assert_int_equal(out.u.run.timeout_s, 1);
	assert_string_equal(out.u.run.kind, "heat_config.v2");
	bora_msg_free(&out);
	free(text);
	json_decref(in.u.run.spec);
}

static void
test_round_trip_accept(void **state)
{
	struct bora_msg in = { .type = BORA_MSG_ACCEPT }, out;
	char *text;

	(void)state;
	in.u.accept.step = "s:1";
	in.u.accept.pid = 4194304;
	text = round_trip(&in, &out);
	assert_string_equal(out.u.accept.step, "s:1");
	assert_int_equal(out.u.accept.pid, 4194304);
	assert_string_equal(text, "{\"type\":\"accept\",\"step\":\"s:1\",\"pid\":4194304}");
	bora_msg_free(&out);
	free(text);

	/* pid 0 (not a process) is the default and is left out. */
	in.u.accept.pid = 0;
	text = round_trip(&in, &out);
	assert_int_equal(out.u.accept.pid, 0);
	assert_string_equal(text, "{\"type\":\"accept\",\"step\":\"s:1\"}");
	bora_msg_free(&out);
	free(text);
}

static void
test_round_trip_output(void **state)
{
	static const char data[] = "line 1\n\"quoted\" back\\slash\ttab "
	    "caf\xc3\xa9 \xf0\x9f\x98\x80 \x01\x1f\n";
	struct bora_msg in = { .type = BORA_MSG_OUTPUT }, out;
	char *text, *big;

	(void)state;
	in.u.output.step = "9.t.0.1";
	in.u.output.stream = BORA_STREAM_STDERR;
	in.u.output.seq = UINT64_C(9007199254740992);   /* 2^53 */
	in.u.output.data = data;
	in.u.output.data_len = sizeof(data) - 1;
	text = round_trip(&in, &out);
	assert_string_equal(out.u.output.step, "9.t.0.1");
	assert_int_equal(out.u.output.stream, BORA_STREAM_STDERR);
	assert_int_equal(out.u.output.seq, UINT64_C(9007199254740992));
	assert_int_equal(out.u.output.data_len, sizeof(data) - 1);
	assert_memory_equal(out.u.output.data, data, sizeof(data) - 1);
	bora_msg_free(&out);
	free(text);

	/* An empty chunk on stdout, seq 0. */
	in.u.output.stream = BORA_STREAM_STDOUT;
	in.u.output.seq = 0;
	in.u.output.data = "";
	in.u.output.data_len = 0;
	text = round_trip(&in, &out);
	assert_string_equal(text, "{\"type\":\"output\",\"step\":\"9.t.0.1\","
	    "\"stream\":\"stdout\",\"seq\":0,\"data\":\"\"}");
	assert_int_equal(out.u.output.stream, BORA_STREAM_STDOUT);
	assert_int_equal(out.u.output.seq, 0);
	assert_int_equal(out.u.output.data_len, 0);
	assert_string_equal(out.u.output.data, "");
	bora_msg_free(&out);
	free(text);

	/* The largest chunk. */
	big = malloc(BORA_MAX_OUTPUT_CHUNK);
	assert_non_null(big);
	memset(big, 'x', BORA_MAX_OUTPUT_CHUNK);
	in.u.output.data = big;
	in.u.output.data_len = BORA_MAX_OUTPUT_CHUNK;
	text = round_trip(&in, &out);
	assert_int_equal(out.u.output.data_len, BORA_MAX_OUTPUT_CHUNK);
	assert_memory_equal(out.u.output.data, big, BORA_MAX_OUTPUT_CHUNK);
	bora_msg_free(&out);
	free(text);
	free(big);
}

static void
test_round_trip_result(void **state)
{
	struct bora_msg in = { .type = BORA_MSG_RESULT }, out;
	struct bora_result *r = &in.u.result;
	char *text;

	(void)state;
	r->step = "42.deploy.0.1";
	r->status = BORA_STATUS_FAILED;
	r->has_exit_code = 1;
	r->exit_code = 255;
	r->signal = 64;
	r->outputs = parse("{\"deploy_stdout\":\"ok\\n\",\"deploy_status_code\":255}");
	r->started_ms = INT64_C(1700000000000);
	r->finished_ms = INT64_MAX;
	r->stdout_bytes = (uint64_t)INT64_MAX;
	r->stderr_bytes = 3;
	r->error = "exit status 255";
	text = round_trip(&in, &out);
	assert_result_same(r, &out.u.result);
	bora_msg_free(&out);
	free(text);

	/* Every status name, with no exit code (absent, decodes as has 0). */
	json_decref(r->outputs);
	memset(r, 0, sizeof(*r));
	r->step = "x";
	for (r->status = 0; r->status < BORA_STATUS_COUNT; r->status++) {
		text = round_trip(&in, &out);
		assert_result_same(r, &out.u.result);
		assert_null(strstr(text, "exit_code"));
		bora_msg_free(&out);
		free(text);
	}

	/* Exit code 0 is sent (it is not "no exit code"). */
	r->status = BORA_STATUS_SUCCESS;
	r->has_exit_code = 1;
	r->exit_code = 0;
	text = round_trip(&in, &out);
	assert_string_equal(text, "{\"type\":\"result\",\"step\":\"x\","
	    "\"status\":\"success\",\"exit_code\":0}");
	assert_int_equal(out.u.result.has_exit_code, 1);
	bora_msg_free(&out);
	free(text);
}

static void
test_round_trip_ack_cancel_error(void **state)
{
	struct bora_msg in, out;
	char *text;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.type = BORA_MSG_ACK;
	in.u.ack.step = "A-Z.a_z:0-9";
	text = round_trip(&in, &out);
	assert_string_equal(text, "{\"type\":\"ack\",\"step\":\"A-Z.a_z:0-9\"}");
	assert_string_equal(out.u.ack.step, "A-Z.a_z:0-9");
	bora_msg_free(&out);
	free(text);

	memset(&in, 0, sizeof(in));
	in.type = BORA_MSG_CANCEL;
	in.u.cancel.step = "5.t.0.1";
	in.u.cancel.reason = "execution 5 cancelled by operator \xe2\x80\x9c" "bob\xe2\x80\x9d";
	text = round_trip(&in, &out);
	assert_string_equal(out.u.cancel.step, "5.t.0.1");
	assert_string_equal(out.u.cancel.reason, in.u.cancel.reason);
	bora_msg_free(&out);
	free(text);
	in.u.cancel.reason = NULL;
	text = round_trip(&in, &out);
	assert_null(out.u.cancel.reason);
	bora_msg_free(&out);
	free(text);

	memset(&in, 0, sizeof(in));
	in.type = BORA_MSG_ERROR;
	in.u.error.code = "bad_message";
	in.u.error.detail = "timeout: expected an integer from 1 to 604800, got a string";
	text = round_trip(&in, &out);
	assert_string_equal(out.u.error.code, "bad_message");
	assert_string_equal(out.u.error.detail, in.u.error.detail);
	bora_msg_free(&out);
	free(text);

	in.u.error.detail = "";
	text = round_trip(&in, &out);
	assert_string_equal(out.u.error.detail, "");
	bora_msg_free(&out);
	free(text);
}

/* Field order and whitespace on the wire do not matter. */
static void
test_decode_any_order(void **state)
{
	const char *json = " {\n  \"timeout\" : 60 , \"spec\":{}, \"kind\":\"script\",\n"
	    "  \"step\":\"s\", \"type\":\"run\" }\n";
	struct bora_msg m;

	(void)state;
	decode_ok(json, strlen(json), &m);
	assert_int_equal(m.type, BORA_MSG_RUN);
	assert_int_equal(m.u.run.timeout_s, 60);
	assert_string_equal(m.u.run.step, "s");
	bora_msg_free(&m);
	/* The decoder takes a buffer, not a C string. */
	decode_ok("{\"type\":\"ack\",\"step\":\"s\"}garbage", 25, &m);
	assert_string_equal(m.u.ack.step, "s");
	bora_msg_free(&m);
	/* NULL limits mean the defaults. */
	{
		struct bora_msg_err err;

		assert_int_equal(bora_msg_decode("{\"type\":\"ack\",\"step\":\"s\"}",
		    25, NULL, &m, &err), 0);
		bora_msg_free(&m);
	}
}

/* ---- malformed input ---- */

static void
test_missing_field(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"run\",\"kind\":\"script\",\"spec\":{},"
	    "\"timeout\":10}", "step", "missing required field");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"timeout\":10}", "spec", "missing required field");
	expect_error_exact("{\"type\":\"welcome\",\"name\":\"a\",\"version\":\"1\","
	    "\"heartbeat\":30}", "max_message", "missing required field");
	expect_error_exact("{\"type\":\"output\",\"step\":\"s\",\"stream\":\"stdout\","
	    "\"seq\":0}", "data", "missing required field");
	expect_error_exact("{\"type\":\"error\",\"code\":\"x\"}", "detail",
	    "missing required field");
	expect_error_exact("{\"step\":\"s\"}", "type", "missing required field");
	expect_error_exact("{}", "type", "missing required field");
}

static void
test_wrong_type(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":\"10\"}", "timeout",
	    "expected an integer from 1 to 604800, got a string");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":[],\"timeout\":10}", "spec", "expected an object, got an array");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"inputs\":\"x\",\"timeout\":10}", "inputs",
	    "expected an object, got a string");
	expect_error_exact("{\"type\":\"ack\",\"step\":12}", "step",
	    "expected a step id (1 to 200 bytes of A-Z a-z 0-9 . _ : -), got an integer");
	expect_error_exact("{\"type\":\"ack\",\"step\":null}", "step",
	    "expected a step id (1 to 200 bytes of A-Z a-z 0-9 . _ : -), got null");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"running\":{}}", "running", "expected an array of step ids, got an object");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":true}", "results",
	    "expected an array of result objects, got true");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"facts\":[1]}", "facts", "expected an object, got an array");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"labels\":[]}", "labels",
	    "expected an object of labels (name: string), got an array");
	expect_error_exact("{\"type\":\"output\",\"step\":\"s\",\"stream\":1,"
	    "\"seq\":0,\"data\":\"\"}", "stream",
	    "expected one of stdout, stderr, got an integer");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"lost\","
	    "\"error\":false}", "error",
	    "expected a string of at most 1024 bytes, got false");
	/* Reals are not integers, even whole ones. */
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":10.0}", "timeout",
	    "expected an integer from 1 to 604800, got a real number");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":1e3}", "timeout",
	    "expected an integer from 1 to 604800, got a real number");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"exit_code\":\"1\"}", "exit_code",
	    "expected null or an integer from 0 to 255, got a string");
}

static void
test_unknown_type(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"hullo\",\"name\":\"a\"}", "type",
	    "unknown message type \"hullo\"; expected hello, welcome, run, "
	    "accept, output, result, ack, cancel, error, enroll or enrolled");
	expect_error("{\"type\":\"\"}", "type",
	    "unknown message type \"\"; expected hello");
	expect_error("{\"type\":\"ack\\u0000\"}", "", "\\u0000 is not allowed");
	expect_error_exact("{\"type\":7}", "type",
	    "expected a message type name, got an integer");
	/* Type names are exact. */
	expect_error("{\"type\":\"ACK\",\"step\":\"s\"}", "type",
	    "unknown message type \"ACK\"");
}

static void
test_unknown_field(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"ack\",\"step\":\"s\",\"extra\":1}",
	    "extra", "unknown field");
	/* Checked before the known fields, whatever the order. */
	expect_error_exact("{\"type\":\"ack\",\"Step\":\"s\"}", "Step",
	    "unknown field");
	/* "timeout_s" is the struct's name, not the wire's. */
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout_s\":10}", "timeout_s", "unknown field");
	/* Inside hello.results, "type" is unknown too. */
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":[{\"type\":\"result\",\"step\":\"s\",\"status\":\"lost\"}]}",
	    "results[0].type", "unknown field");
}

/* A long unknown key of multi-byte characters: the path is cut to fit,
 * and cut between characters. */
static void
test_error_path_cut_utf8(void **state)
{
	char json[1024];
	size_t n = 0;
	int i;
	struct bora_msg m;
	struct bora_msg_err err;

	(void)state;
	n += (size_t)sprintf(json, "{\"type\":\"ack\",\"step\":\"s\",\"");
	for (i = 0; i < 100; i++)
		n += (size_t)sprintf(json + n, "\xc3\xa9");       /* é */
	n += (size_t)sprintf(json + n, "x\":1}");
	assert_int_equal(bora_msg_decode(json, n, NULL, &m, &err), -1);
	assert_string_equal(err.text, "unknown field");
	assert_int_equal(strlen(err.path), 126);  /* 63 whole é of 127 bytes */
	assert_int_equal(bora_utf8_check(err.path, strlen(err.path)),
	    strlen(err.path));
	assert_memory_equal(err.path, "\xc3\xa9\xc3\xa9", 4);
}

static void
test_oversize(void **state)
{
	const char *json = "{\"type\":\"ack\",\"step\":\"s\"}";  /* 25 bytes */
	struct bora_limits lim = { 24, BORA_MAX_DEPTH };
	struct bora_msg m;
	struct bora_msg_err err;
	char *big;

	(void)state;
	expect_error_lim(json, strlen(json), &lim, "",
	    "message is 25 bytes; the limit is 24", 1);
	lim.max_bytes = 25;
	assert_int_equal(bora_msg_decode(json, 25, &lim, &m, &err), 0);
	bora_msg_free(&m);

	/* The default: 1 MiB. A valid message just over it is refused before
	 * it is parsed. */
	big = malloc(BORA_MAX_MESSAGE_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', BORA_MAX_MESSAGE_BYTES + 1);
	memcpy(big, json, strlen(json));
	expect_error_lim(big, BORA_MAX_MESSAGE_BYTES + 1, NULL, "",
	    "message is 1048577 bytes; the limit is 1048576", 1);
	decode_ok(big, BORA_MAX_MESSAGE_BYTES, &m);
	bora_msg_free(&m);
	free(big);
}

static void
test_too_deep(void **state)
{
	char json[1024];
	const char *arrays;
	struct bora_limits lim = { BORA_MAX_MESSAGE_BYTES, 4 };
	struct bora_msg m;
	char want[128];
	size_t first;

	(void)state;
	/* 40 arrays in facts: the object is level 1, facts level 2, so the
	 * 31st array is level 33. */
	arrays = nested_arrays(40);
	snprintf(json, sizeof(json), "{\"type\":\"hello\",\"name\":\"a\","
	    "\"version\":\"1\",\"facts\":{\"deep\":%s}}", arrays);
	first = (size_t)(strchr(json, '[') - json);
	snprintf(want, sizeof(want), "nesting deeper than 32 levels at byte "
	    "offset %zu", first + 30);
	expect_error_lim(json, strlen(json), NULL, "", want, 1);

	/* 30 arrays: level 32, the limit, is fine. */
	snprintf(json, sizeof(json), "{\"type\":\"hello\",\"name\":\"a\","
	    "\"version\":\"1\",\"facts\":{\"deep\":%s}}", nested_arrays(30));
	decode_ok(json, strlen(json), &m);
	bora_msg_free(&m);

	/* Brackets inside strings (escaped quotes too) do not count. */
	snprintf(json, sizeof(json), "{\"type\":\"hello\",\"name\":\"a\","
	    "\"version\":\"1\",\"facts\":{\"s\":\"\\\"%s\\\\\",\"t\":\"{{{{{\"}}",
	    nested_arrays(40));
	decode_ok(json, strlen(json), &m);
	bora_msg_free(&m);

	/* The limit is a parameter; a deep bad message is refused for its
	 * depth before its syntax is looked at. */
	expect_error_lim("{\"a\":[{\"b\":[{", 13, &lim, "",
	    "nesting deeper than 4 levels at byte offset 12", 1);
	/* 100000 levels: refused without recursion. */
	{
		size_t n = 100000, i;
		char *deep = malloc(2 * n);

		assert_non_null(deep);
		deep[0] = '{';
		for (i = 1; i < n; i++)
			deep[i] = '[';
		for (; i < 2 * n; i++)
			deep[i] = ']';
		expect_error_lim(deep, 2 * n, NULL, "",
		    "nesting deeper than 32 levels at byte offset 32", 1);
		free(deep);
	}
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"ack\",\"step\":\"s\xff\"}", "",
	    "invalid UTF-8 at byte offset 23");
	/* Overlong '/' (C0 AF). */
	expect_error_exact("{\"type\":\"error\",\"code\":\"x\",\"detail\":\"\xc0\xaf\"}",
	    "", "invalid UTF-8 at byte offset 37");
	/* A surrogate, raw (ED A0 80), in a key. */
	expect_error_exact("{\"\xed\xa0\x80\":1}", "", "invalid UTF-8 at byte offset 2");
	/* Cut short by the end of the message. */
	expect_error_exact("{\"type\":\"ack\",\"step\":\"s\"} \xe2\x82", "",
	    "invalid UTF-8 at byte offset 26");
	/* A lone surrogate escape is jansson's to refuse. */
	expect_error("{\"type\":\"ack\",\"step\":\"\\ud800\"}", "",
	    "invalid Unicode '\\uD800'");
}

static void
test_bad_json(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"ack\",\"step\":\"s\"", "",
	    "invalid JSON at line 1, column 24: '}' expected near end of file");
	expect_error("{\"type\":\"ack\",\"step\":\"s", "",
	    "invalid JSON at line 1, column 23: premature end of input");
	expect_error("", "", "invalid JSON at line 1");
	expect_error("{\"type\":\"ack\",\"step\":\"s\",}", "", "invalid JSON");
	expect_error("{\"type\":\"ack\",\"step\":\"s\"} {}", "",
	    "end of file expected");
	/* Duplicate keys. */
	expect_error("{\"type\":\"ack\",\"step\":\"a\",\"step\":\"b\"}", "",
	    "duplicate object key");
	expect_error("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"facts\":{\"k\":1,\"k\":2}}", "", "duplicate object key");
	/* NUL characters. */
	expect_error("{\"type\":\"ack\",\"step\":\"a\\u0000b\"}", "",
	    "\\u0000 is not allowed");
	/* The top level must be an object. */
	expect_error_exact("[{\"type\":\"ack\",\"step\":\"s\"}]", "",
	    "expected a JSON object, got an array");
	expect_error_exact("\"ack\"", "", "expected a JSON object, got a string");
	expect_error_exact("42", "", "expected a JSON object, got an integer");
	expect_error_exact("null", "", "expected a JSON object, got null");
}

static void
test_out_of_range(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":0}", "timeout",
	    "expected an integer from 1 to 604800, got 0");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":604801}", "timeout",
	    "expected an integer from 1 to 604800, got 604801");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":-9223372036854775808}", "timeout",
	    "expected an integer from 1 to 604800, got -9223372036854775808");
	expect_error_exact("{\"type\":\"welcome\",\"name\":\"a\",\"version\":\"1\","
	    "\"heartbeat\":3601,\"max_message\":1024}", "heartbeat",
	    "expected an integer from 1 to 3600, got 3601");
	expect_error_exact("{\"type\":\"welcome\",\"name\":\"a\",\"version\":\"1\","
	    "\"heartbeat\":1,\"max_message\":1023}", "max_message",
	    "expected an integer from 1024 to 67108864, got 1023");
	expect_error_exact("{\"type\":\"welcome\",\"name\":\"a\",\"version\":\"1\","
	    "\"heartbeat\":1,\"max_message\":67108865}", "max_message",
	    "expected an integer from 1024 to 67108864, got 67108865");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"exit_code\":256}", "exit_code",
	    "expected null or an integer from 0 to 255, got 256");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"exit_code\":-1}", "exit_code",
	    "expected null or an integer from 0 to 255, got -1");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"signal\":65}", "signal", "expected an integer from 0 to 64, got 65");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"started_ms\":-5}", "started_ms",
	    "expected an integer from 0 to 9223372036854775807, got -5");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"stderr_bytes\":-1}", "stderr_bytes",
	    "expected an integer from 0 to 9223372036854775807, got -1");
	expect_error_exact("{\"type\":\"output\",\"step\":\"s\",\"stream\":\"stdout\","
	    "\"seq\":9007199254740993,\"data\":\"\"}", "seq",
	    "expected an integer from 0 to 9007199254740992, got 9007199254740993");
	expect_error_exact("{\"type\":\"accept\",\"step\":\"s\",\"pid\":-1}", "pid",
	    "expected an integer from 0 to 9223372036854775807, got -1");
}

static void
test_huge_numbers(void **state)
{
	(void)state;
	/* jansson refuses numbers it cannot hold; nothing is rounded. */
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":1e400}", "",
	    "invalid JSON at line 1, column 66: real number overflow near '1e400'");
	expect_error("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"script\","
	    "\"spec\":{},\"timeout\":99999999999999999999999}", "",
	    "too big integer");
	expect_error("{\"type\":\"accept\",\"step\":\"s\",\"pid\":-99999999999999999999999}",
	    "", "too big negative integer");
	/* Inside free-form objects too. */
	expect_error("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"facts\":{\"x\":-1e400}}", "", "real number overflow");
	/* 2^63 - 1 is the largest integer; 2^63 is too big. */
	expect_error("{\"type\":\"accept\",\"step\":\"s\",\"pid\":9223372036854775808}",
	    "", "too big integer");
	{
		struct bora_msg m;
		const char *json = "{\"type\":\"accept\",\"step\":\"s\","
		    "\"pid\":9223372036854775807}";

		decode_ok(json, strlen(json), &m);
		assert_int_equal(m.u.accept.pid, INT64_MAX);
		bora_msg_free(&m);
	}
	/* A tiny real underflows to 0.0: still a real, still refused. */
	expect_error_exact("{\"type\":\"accept\",\"step\":\"s\",\"pid\":1e-400}", "pid",
	    "expected an integer from 0 to 9223372036854775807, got a real number");
}

static void
test_bad_enum(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"ok\"}",
	    "status", "expected one of success, failed, timeout, cancelled, "
	    "lost, error, got \"ok\"");
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"Success\"}",
	    "status", "expected one of success, failed, timeout, cancelled, "
	    "lost, error, got \"Success\"");
	expect_error_exact("{\"type\":\"output\",\"step\":\"s\",\"stream\":\"stdin\","
	    "\"seq\":0,\"data\":\"\"}", "stream",
	    "expected one of stdout, stderr, got \"stdin\"");
	/* Odd values are described, not echoed. */
	expect_error_exact("{\"type\":\"output\",\"step\":\"s\",\"stream\":\"a\\nb\","
	    "\"seq\":0,\"data\":\"\"}", "stream",
	    "expected one of stdout, stderr, got a string of 3 bytes");
}

static void
test_deep_result_entry(void **state)
{
	(void)state;
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":[{\"step\":\"s1\",\"status\":\"success\",\"exit_code\":0},"
	    "{\"step\":\"s2\",\"status\":\"done\"}]}", "results[1].status",
	    "expected one of success, failed, timeout, cancelled, lost, error, "
	    "got \"done\"");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":[{\"step\":\"s1\",\"status\":\"success\"},"
	    "{\"status\":\"failed\"}]}", "results[1].step", "missing required field");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":[{\"step\":\"s1\",\"status\":\"success\"},"
	    "{\"step\":\"s2\",\"status\":\"failed\"},\"s3\"]}", "results[2]",
	    "expected a result object, got a string");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":[{\"step\":\"s1\",\"status\":\"failed\",\"exit_code\":1.5}]}",
	    "results[0].exit_code",
	    "expected null or an integer from 0 to 255, got a real number");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"results\":[{\"step\":\"s1\",\"status\":\"failed\",\"outputs\":[]}]}",
	    "results[0].outputs", "expected an object, got an array");
	/* running[i]. */
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"running\":[\"ok.1\",\"a/b\"]}", "running[1]",
	    "expected a step id (1 to 200 bytes of A-Z a-z 0-9 . _ : -), got '/' at byte 1");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"running\":[7]}", "running[0]",
	    "expected a step id (1 to 200 bytes of A-Z a-z 0-9 . _ : -), got an integer");
}

static void
test_labels(void **state)
{
	char json[8192];
	size_t n;
	int i;

	(void)state;
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"labels\":{\"zone\":\"a\",\"role\":5}}", "labels.role",
	    "expected a string of at most 256 bytes, got an integer");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"labels\":{\"bad key\":\"x\"}}", "labels.bad key",
	    "expected a label name of 1 to 64 bytes of A-Z a-z 0-9 . _ -, first a "
	    "letter or digit, got the byte 0x20 at byte 3");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"labels\":{\"_x\":\"x\"}}", "labels._x",
	    "expected a label name of 1 to 64 bytes of A-Z a-z 0-9 . _ -, first a "
	    "letter or digit, got a first character that is not a letter or digit");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"1\","
	    "\"labels\":{\"\":\"x\"}}", "labels.",
	    "expected a label name of 1 to 64 bytes of A-Z a-z 0-9 . _ -, first a "
	    "letter or digit, got an empty string");

	/* 64 labels are fine, 65 are too many. */
	n = (size_t)sprintf(json, "{\"type\":\"hello\",\"name\":\"a\","
	    "\"version\":\"1\",\"labels\":{");
	for (i = 0; i < 64; i++)
		n += (size_t)sprintf(json + n, "%s\"l%d\":\"v\"", i ? "," : "", i);
	strcpy(json + n, "}}");
	{
		struct bora_msg m;

		decode_ok(json, strlen(json), &m);
		assert_int_equal(json_object_size(m.u.hello.labels), 64);
		bora_msg_free(&m);
	}
	strcpy(json + n, ",\"l64\":\"v\"}}");
	expect_error_exact(json, "labels", "expected at most 64 labels, got 65");

	/* A value of 256 bytes is fine, 257 is too long. */
	n = (size_t)sprintf(json, "{\"type\":\"hello\",\"name\":\"a\","
	    "\"version\":\"1\",\"labels\":{\"k\":\"");
	memset(json + n, 'v', 257);
	strcpy(json + n + 257, "\"}}");
	expect_error_exact(json, "labels.k",
	    "expected a string of at most 256 bytes, got 257 bytes");
	strcpy(json + n + 256, "\"}}");
	{
		struct bora_msg m;

		decode_ok(json, strlen(json), &m);
		bora_msg_free(&m);
	}
}

static void
test_bad_strings(void **state)
{
	char json[512];
	size_t n;

	(void)state;
	expect_error_exact("{\"type\":\"ack\",\"step\":\"\"}", "step",
	    "expected a step id (1 to 200 bytes of A-Z a-z 0-9 . _ : -), got an "
	    "empty string");
	expect_error_exact("{\"type\":\"ack\",\"step\":\"caf\\u00e9\"}", "step",
	    "expected a step id (1 to 200 bytes of A-Z a-z 0-9 . _ : -), got the "
	    "byte 0xc3 at byte 3");
	/* Step ids: 200 bytes fine, 201 too long. */
	n = (size_t)sprintf(json, "{\"type\":\"ack\",\"step\":\"");
	memset(json + n, 's', 201);
	strcpy(json + n + 201, "\"}");
	expect_error_exact(json, "step", "expected a step id (1 to 200 bytes of "
	    "A-Z a-z 0-9 . _ : -), got 201 bytes");
	strcpy(json + n + 200, "\"}");
	{
		struct bora_msg m;

		decode_ok(json, strlen(json), &m);
		assert_int_equal(strlen(m.u.ack.step), 200);
		bora_msg_free(&m);
	}
	expect_error_exact("{\"type\":\"hello\",\"name\":\"-web\",\"version\":\"1\"}",
	    "name", "expected a name (1 to 64 bytes of A-Z a-z 0-9 . _ -, first a "
	    "letter or digit), got a first character that is not a letter or digit");
	expect_error_exact("{\"type\":\"welcome\",\"name\":\"web:1\",\"version\":\"1\","
	    "\"heartbeat\":1,\"max_message\":1024}", "name",
	    "expected a name (1 to 64 bytes of A-Z a-z 0-9 . _ -, first a letter "
	    "or digit), got ':' at byte 3");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"Script\","
	    "\"spec\":{},\"timeout\":1}", "kind",
	    "expected a step kind (1 to 32 bytes of a-z 0-9 _ .), got 'S' at byte 0");
	expect_error_exact("{\"type\":\"run\",\"step\":\"s\",\"kind\":\"a-b\","
	    "\"spec\":{},\"timeout\":1}", "kind",
	    "expected a step kind (1 to 32 bytes of a-z 0-9 _ .), got '-' at byte 1");
	/* Version: 1 to 63 bytes. */
	n = (size_t)sprintf(json, "{\"type\":\"hello\",\"name\":\"a\",\"version\":\"");
	memset(json + n, '1', 64);
	strcpy(json + n + 64, "\"}");
	expect_error_exact(json, "version",
	    "expected a string of 1 to 63 bytes, got 64 bytes");
	expect_error_exact("{\"type\":\"hello\",\"name\":\"a\",\"version\":\"\"}",
	    "version", "expected a string of 1 to 63 bytes, got an empty string");
	expect_error_exact("{\"type\":\"error\",\"code\":\"\",\"detail\":\"\"}",
	    "code", "expected a string of 1 to 64 bytes, got an empty string");
}

static void
test_output_data_limit(void **state)
{
	size_t n, cap = BORA_MAX_OUTPUT_CHUNK + 128;
	char *json = malloc(cap);
	struct bora_msg m;

	(void)state;
	assert_non_null(json);
	n = (size_t)sprintf(json, "{\"type\":\"output\",\"step\":\"s\","
	    "\"stream\":\"stdout\",\"seq\":1,\"data\":\"");
	memset(json + n, 'd', BORA_MAX_OUTPUT_CHUNK + 1);
	strcpy(json + n + BORA_MAX_OUTPUT_CHUNK + 1, "\"}");
	expect_error_exact(json, "data",
	    "expected a string of at most 65536 bytes, got 65537 bytes");
	/* The limit counts bytes after unescaping: 65536 × "\n" is fine. */
	free(json);
	cap = 2 * BORA_MAX_OUTPUT_CHUNK + 128;
	json = malloc(cap);
	assert_non_null(json);
	n = (size_t)sprintf(json, "{\"type\":\"output\",\"step\":\"s\","
	    "\"stream\":\"stdout\",\"seq\":1,\"data\":\"");
	for (size_t i = 0; i < BORA_MAX_OUTPUT_CHUNK; i++) {
		json[n++] = '\\';
		json[n++] = 'n';
	}
	strcpy(json + n, "\"}");
	decode_ok(json, strlen(json), &m);
	assert_int_equal(m.u.output.data_len, BORA_MAX_OUTPUT_CHUNK);
	assert_int_equal(m.u.output.data[0], '\n');
	bora_msg_free(&m);
	free(json);
}

static void
test_exit_code_null(void **state)
{
	struct bora_msg m;
	const char *a = "{\"type\":\"result\",\"step\":\"s\",\"status\":\"timeout\","
	    "\"exit_code\":null,\"signal\":9}";
	const char *b = "{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"exit_code\":3}";

	(void)state;
	decode_ok(a, strlen(a), &m);
	assert_int_equal(m.u.result.status, BORA_STATUS_TIMEOUT);
	assert_int_equal(m.u.result.has_exit_code, 0);
	assert_int_equal(m.u.result.signal, 9);
	assert_null(m.u.result.outputs);
	assert_null(m.u.result.error);
	bora_msg_free(&m);
	decode_ok(b, strlen(b), &m);
	assert_int_equal(m.u.result.has_exit_code, 1);
	assert_int_equal(m.u.result.exit_code, 3);
	assert_int_equal(m.u.result.signal, 0);
	bora_msg_free(&m);
	/* null is only "absent" where the protocol says so. */
	expect_error_exact("{\"type\":\"result\",\"step\":\"s\",\"status\":\"failed\","
	    "\"signal\":null}", "signal", "expected an integer from 0 to 64, got null");
	expect_error_exact("{\"type\":\"cancel\",\"step\":\"s\",\"reason\":null}",
	    "reason", "expected a string of at most 1024 bytes, got null");
}

/* ---- encoding refuses what decoding would refuse ---- */

static void
assert_encode_fails(const struct bora_msg *m)
{
	size_t len = 12345;
	char *text = bora_msg_encode(m, &len);

	if (text != NULL)
		fail_msg("encode should have failed, gave %s", text);
	assert_int_equal(len, 12345);
}

static void
test_encode_refuses(void **state)
{
	struct bora_msg m;
	json_t *j, *deep;
	char *big, *text;

	(void)state;
	assert_null(bora_msg_encode(NULL, NULL));
	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_TYPE_COUNT;
	assert_encode_fails(&m);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_ACK;
	assert_encode_fails(&m);                       /* step NULL */
	m.u.ack.step = "a b";
	assert_encode_fails(&m);
	m.u.ack.step = "";
	assert_encode_fails(&m);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_HELLO;
	m.u.hello.name = "web_1";
	m.u.hello.version = "1";
	text = bora_msg_encode(&m, NULL);               /* len may be NULL */
	assert_non_null(text);
	free(text);
	m.u.hello.name = ".web";
	assert_encode_fails(&m);
	m.u.hello.name = "web";
	m.u.hello.labels = parse("{\"role\":1}");
	assert_encode_fails(&m);
	json_decref(m.u.hello.labels);
	m.u.hello.labels = NULL;
	m.u.hello.running = parse("[\"ok\",\"not ok\"]");
	assert_encode_fails(&m);
	json_decref(m.u.hello.running);
	m.u.hello.running = NULL;
	m.u.hello.results = parse("[{\"step\":\"s\",\"status\":\"nope\"}]");
	assert_encode_fails(&m);
	json_decref(m.u.hello.results);
	m.u.hello.results = NULL;
	m.u.hello.facts = parse("[]");
	assert_encode_fails(&m);
	json_decref(m.u.hello.facts);
	/* Facts too deep for the decoder's default limit. */
	m.u.hello.facts = parse("{}");
	deep = parse(nested_arrays(40));
	json_object_set_new(m.u.hello.facts, "deep", deep);
	assert_encode_fails(&m);
	json_object_set_new(m.u.hello.facts, "deep", parse(nested_arrays(30)));
	text = bora_msg_encode(&m, NULL);
	assert_non_null(text);
	free(text);
	/* A NUL in a string or a key deep inside facts. */
	json_object_set_new(m.u.hello.facts, "deep", json_stringn("a\0b", 3));
	assert_encode_fails(&m);
	json_object_del(m.u.hello.facts, "deep");
	json_object_setn_new(m.u.hello.facts, "k\0ey", 4, json_true());
	assert_encode_fails(&m);
	json_decref(m.u.hello.facts);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_RUN;
	m.u.run.step = "s";
	m.u.run.kind = "script";
	m.u.run.timeout_s = 10;
	assert_encode_fails(&m);                        /* spec NULL */
	m.u.run.spec = json_object();
	m.u.run.timeout_s = 0;
	assert_encode_fails(&m);
	m.u.run.timeout_s = BORA_MAX_TIMEOUT_S + 1;
	assert_encode_fails(&m);
	m.u.run.timeout_s = 10;
	m.u.run.kind = "Script";
	assert_encode_fails(&m);
	json_decref(m.u.run.spec);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_OUTPUT;
	m.u.output.step = "s";
	m.u.output.data = "ok\xff";
	m.u.output.data_len = 3;
	assert_encode_fails(&m);                        /* invalid UTF-8 */
	m.u.output.data = "\xc0\xaf";
	m.u.output.data_len = 2;
	assert_encode_fails(&m);                        /* overlong */
	m.u.output.data = "a\0b";
	m.u.output.data_len = 3;
	assert_encode_fails(&m);                        /* NUL */
	m.u.output.data = "ab";
	m.u.output.data_len = 2;
	m.u.output.stream = (enum bora_stream)2;
	assert_encode_fails(&m);
	m.u.output.stream = BORA_STREAM_STDOUT;
	m.u.output.seq = (UINT64_C(1) << 53) + 1;
	assert_encode_fails(&m);
	m.u.output.seq = UINT64_MAX;
	assert_encode_fails(&m);
	m.u.output.seq = 0;
	big = malloc(BORA_MAX_OUTPUT_CHUNK + 1);
	assert_non_null(big);
	memset(big, 'x', BORA_MAX_OUTPUT_CHUNK + 1);
	m.u.output.data = big;
	m.u.output.data_len = BORA_MAX_OUTPUT_CHUNK + 1;
	assert_encode_fails(&m);
	free(big);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_RESULT;
	m.u.result.step = "s";
	m.u.result.status = BORA_STATUS_COUNT;
	assert_encode_fails(&m);
	m.u.result.status = BORA_STATUS_FAILED;
	m.u.result.has_exit_code = 1;
	m.u.result.exit_code = 256;
	assert_encode_fails(&m);
	m.u.result.exit_code = 1;
	m.u.result.signal = -1;
	assert_encode_fails(&m);
	m.u.result.signal = 0;
	m.u.result.stdout_bytes = UINT64_MAX;
	assert_encode_fails(&m);
	m.u.result.stdout_bytes = 0;
	m.u.result.started_ms = -1;
	assert_encode_fails(&m);
	m.u.result.started_ms = 0;
	m.u.result.outputs = j = parse("[1]");
	assert_encode_fails(&m);
	json_decref(j);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_WELCOME;
	m.u.welcome.name = "a";
	m.u.welcome.version = "1";
	m.u.welcome.heartbeat_s = 30;
	m.u.welcome.max_message = 1023;
	assert_encode_fails(&m);

	memset(&m, 0, sizeof(m));
	m.type = BORA_MSG_ERROR;
	m.u.error.code = "bad_message";
	assert_encode_fails(&m);                        /* detail NULL */
}

/* ---- results on their own ---- */

static void
test_result_json(void **state)
{
	struct bora_result r = {
		.step = "1.a.0.1", .status = BORA_STATUS_CANCELLED,
		.signal = 15, .finished_ms = 5,
	}, back;
	struct bora_msg_err err;
	json_t *obj, *bad;
	char *text;

	(void)state;
	obj = bora_result_to_json(&r);
	assert_non_null(obj);
	text = json_dumps(obj, JSON_COMPACT);
	assert_string_equal(text, "{\"step\":\"1.a.0.1\",\"status\":\"cancelled\","
	    "\"signal\":15,\"finished_ms\":5}");
	free(text);
	assert_int_equal(bora_result_from_json(obj, "results[0]", &back, &err), 0);
	assert_result_same(&r, &back);
	json_decref(obj);

	r.status = (enum bora_status)-1;
	assert_null(bora_result_to_json(&r));
	r.status = BORA_STATUS_SUCCESS;
	r.step = "bad step";
	assert_null(bora_result_to_json(&r));

	bad = parse("{\"step\":\"s\",\"status\":\"lost\",\"exit_code\":300}");
	assert_int_equal(bora_result_from_json(bad, "results[3]", &back, &err), -1);
	assert_string_equal(err.path, "results[3].exit_code");
	assert_string_equal(err.text,
	    "expected null or an integer from 0 to 255, got 300");
	assert_int_equal(bora_result_from_json(bad, NULL, &back, &err), -1);
	assert_string_equal(err.path, "exit_code");
	json_decref(bad);
	bad = parse("[]");
	assert_int_equal(bora_result_from_json(bad, "results[3]", &back, &err), -1);
	assert_string_equal(err.path, "results[3]");
	assert_string_equal(err.text, "expected a result object, got an array");
	json_decref(bad);
}

/* ---- enrollment ---- */

static void
test_round_trip_enroll(void **state)
{
	struct bora_msg in, out;
	char *text;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.type = BORA_MSG_ENROLL;
	in.u.enroll.token = "q9Xr-_abc";
	in.u.enroll.csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"
	    "-----END CERTIFICATE REQUEST-----\n";
	in.u.enroll.name = "web-1";
	in.u.enroll.labels = json_pack("{s:s}", "role", "web");
	text = round_trip(&in, &out);
	assert_string_equal(out.u.enroll.token, "q9Xr-_abc");
	assert_string_equal(out.u.enroll.csr, in.u.enroll.csr);
	assert_string_equal(out.u.enroll.name, "web-1");
	assert_json_same(in.u.enroll.labels, out.u.enroll.labels);
	bora_msg_free(&out);
	free(text);
	json_decref(in.u.enroll.labels);

	in.u.enroll.name = NULL;
	in.u.enroll.labels = NULL;
	text = round_trip(&in, &out);
	assert_null(out.u.enroll.name);
	assert_null(out.u.enroll.labels);
	bora_msg_free(&out);
	free(text);

	memset(&in, 0, sizeof(in));
	in.type = BORA_MSG_ENROLLED;
	in.u.enrolled.certificate = "-----BEGIN CERTIFICATE-----\nA\n";
	in.u.enrolled.ca = "-----BEGIN CERTIFICATE-----\nB\n";
	in.u.enrolled.name = "web-1";
	text = round_trip(&in, &out);
	assert_string_equal(out.u.enrolled.certificate,
	    in.u.enrolled.certificate);
	assert_string_equal(out.u.enrolled.ca, in.u.enrolled.ca);
	assert_string_equal(out.u.enrolled.name, "web-1");
	assert_string_equal(bora_msg_type_name(BORA_MSG_ENROLL), "enroll");
	assert_string_equal(bora_msg_type_name(BORA_MSG_ENROLLED), "enrolled");
	bora_msg_free(&out);
	free(text);
}

static void
test_enroll_refused(void **state)
{
	char big[BORA_MAX_CSR + 100];
	int n;

	(void)state;
	expect_error_exact("{\"type\":\"enroll\",\"csr\":\"x\"}", "token",
	    "missing required field");
	expect_error_exact("{\"type\":\"enroll\",\"token\":\"t\"}", "csr",
	    "missing required field");
	expect_error("{\"type\":\"enroll\",\"token\":\"\",\"csr\":\"x\"}",
	    "token", "expected a string of 1 to 128 bytes");
	expect_error("{\"type\":\"enroll\",\"token\":\"t\",\"csr\":\"x\","
	    "\"name\":\"-bad\"}", "name", "expected a name");
	expect_error("{\"type\":\"enroll\",\"token\":\"t\",\"csr\":\"x\","
	    "\"labels\":{\"a\":1}}", "labels.a", "expected a string");
	expect_error("{\"type\":\"enroll\",\"token\":\"t\",\"csr\":\"x\","
	    "\"key\":\"x\"}", "key", "unknown field");
	expect_error("{\"type\":\"enroll\",\"token\":7,\"csr\":\"x\"}",
	    "token", "got an integer");
	n = snprintf(big, sizeof(big), "{\"type\":\"enroll\",\"token\":\"t\","
	    "\"csr\":\"");
	memset(big + n, 'A', BORA_MAX_CSR + 1);
	snprintf(big + n + BORA_MAX_CSR + 1, sizeof(big) - (size_t)n -
	    BORA_MAX_CSR - 1, "\"}");
	expect_error(big, "csr", "expected a string of 1 to 8192 bytes");
	expect_error("{\"type\":\"enrolled\",\"certificate\":\"c\","
	    "\"ca\":\"a\"}", "name", "missing required field");
}

/* ---- names, ids, free ---- */

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(bora_msg_type_name(BORA_MSG_HELLO), "hello");
	assert_string_equal(bora_msg_type_name(BORA_MSG_ERROR), "error");
	assert_null(bora_msg_type_name(BORA_MSG_TYPE_COUNT));
	assert_null(bora_msg_type_name((enum bora_msg_type)-1));
	assert_string_equal(bora_status_name(BORA_STATUS_LOST), "lost");
	assert_null(bora_status_name(BORA_STATUS_COUNT));
	assert_string_equal(bora_stream_name(BORA_STREAM_STDERR), "stderr");
	assert_null(bora_stream_name((enum bora_stream)2));
}

static void
test_ids(void **state)
{
	char s[256];

	(void)state;
	assert_true(bora_step_id_valid("42.deploy:web-1_x.0.1"));
	assert_true(bora_step_id_valid(".starts.with.dot"));
	assert_false(bora_step_id_valid(NULL));
	assert_false(bora_step_id_valid(""));
	assert_false(bora_step_id_valid("a/b"));
	assert_false(bora_step_id_valid("a b"));
	memset(s, 'x', 200);
	s[200] = '\0';
	assert_true(bora_step_id_valid(s));
	s[200] = 'x';
	s[201] = '\0';
	assert_false(bora_step_id_valid(s));

	assert_true(bora_name_valid("web-1.example_com"));
	assert_true(bora_name_valid("9"));
	assert_false(bora_name_valid(NULL));
	assert_false(bora_name_valid(""));
	assert_false(bora_name_valid("-web"));
	assert_false(bora_name_valid(".web"));
	assert_false(bora_name_valid("web:1"));
	assert_false(bora_name_valid("caf\xc3\xa9"));
	memset(s, 'n', 64);
	s[64] = '\0';
	assert_true(bora_name_valid(s));
	s[64] = 'n';
	s[65] = '\0';
	assert_false(bora_name_valid(s));
}

static void
test_free_zeroed(void **state)
{
	struct bora_msg m;
	const char *json = "{\"type\":\"cancel\",\"step\":\"s\",\"reason\":\"r\"}";

	(void)state;
	memset(&m, 0, sizeof(m));
	bora_msg_free(&m);
	bora_msg_free(&m);
	bora_msg_free(NULL);
	decode_ok(json, strlen(json), &m);
	assert_non_null(m.root);
	bora_msg_free(&m);
	assert_null(m.root);
	bora_msg_free(&m);              /* freeing twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_hello),
		cmocka_unit_test(test_round_trip_welcome),
		cmocka_unit_test(test_round_trip_run),
		cmocka_unit_test(test_round_trip_accept),
		cmocka_unit_test(test_round_trip_output),
		cmocka_unit_test(test_round_trip_result),
		cmocka_unit_test(test_round_trip_ack_cancel_error),
		cmocka_unit_test(test_decode_any_order),
		cmocka_unit_test(test_missing_field),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_error_path_cut_utf8),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_huge_numbers),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_deep_result_entry),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_output_data_limit),
		cmocka_unit_test(test_exit_code_null),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_result_json),
		cmocka_unit_test(test_round_trip_enroll),
		cmocka_unit_test(test_enroll_refused),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_free_zeroed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
