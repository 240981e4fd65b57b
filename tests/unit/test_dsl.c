/* test_dsl.c: workflow files to canonical specs (coordinator/lang/include/dsl.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "dsl.h"

static const char good[] =
    "version: '2.0'\n"
    "wf:\n"
    "  input:\n"
    "    - host\n"
    "    - port: 80\n"
    "  task-defaults:\n"
    "    target: web-1\n"
    "    on-error: [cleanup]\n"
    "    timeout: 30\n"
    "  tasks:\n"
    "    first:\n"
    "      action: bora.wait_agents agents=[a, b] count=2\n"
    "      input: {timeout: 30}\n"
    "      publish:\n"
    "        out: <% task().result %>\n"
    "      on-success:\n"
    "        - run: <% $.port > 0 %>\n"
    "        - fail msg='no port'\n"
    "    run:\n"
    "      action: bora.script\n"
    "      with-items: h in [a, b]\n"
    "      retry: {count: 2}\n"
    "      timeout: 5\n"
    "    cleanup:\n"
    "      action: std.noop\n";

/* ---- helpers ---------------------------------------------------------- */

static json_t *
parse(const char *text, struct dsl_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return dsl_parse(text, strlen(text), "t.yaml", errs);
}

/* Parse text expecting failure; returns the errors joined by newlines. */
static char *
errors_of(const char *text)
{
	struct dsl_errors errs;
	json_t *spec = parse(text, &errs);
	char *all = NULL;
	size_t i, len = 0;

	assert_null(spec);
	assert_true(errs.n > 0);
	for (i = 0; i < errs.n; i++)
		len += strlen(errs.v[i]) + 1;
	all = calloc(1, len + 1);
	assert_non_null(all);
	for (i = 0; i < errs.n; i++) {
		strcat(all, errs.v[i]);
		strcat(all, "\n");
	}
	dsl_errors_free(&errs);
	return all;
}

static void
assert_error(const char *text, const char *want)
{
	char *all = errors_of(text);

	if (strstr(all, want) == NULL)
		fail_msg("expected an error with \"%s\", got:\n%s", want, all);
	free(all);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_canonical(void **state)
{
	struct dsl_errors errs;
	json_t *spec, *wf, *first, *run, *cleanup, *tr;

	(void)state;
	spec = parse(good, &errs);
	assert_int_equal(errs.n, 0);
	assert_non_null(spec);
	assert_string_equal(json_string_value(json_object_get(spec, "version")),
	    "2.0");
	assert_null(json_object_get(spec, "name"));
	wf = json_object_get(json_object_get(spec, "workflows"), "wf");
	assert_string_equal(json_string_value(json_object_get(wf, "type")),
	    "direct");
	assert_int_equal(json_array_size(json_object_get(wf, "input")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(wf, "input"), 1), "default")), 80);

	first = json_object_get(json_object_get(wf, "tasks"), "first");
	assert_string_equal(json_string_value(json_object_get(first,
	    "action")), "bora.wait_agents");
	/* Inline input first, then input:, each with its JSON type. */
	assert_true(json_is_array(json_object_get(json_object_get(first,
	    "input"), "agents")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    first, "input"), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    first, "input"), "timeout")), 30);
	/* wait_agents runs on the coordinator: the default target is not its. */
	assert_null(json_object_get(first, "target"));
	assert_int_equal(json_integer_value(json_object_get(first, "line")),
	    11);
	tr = json_object_get(first, "on-success");
	assert_int_equal(json_array_size(tr), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(tr, 0), "when")), "<% $.port > 0 %>");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(tr, 1), "command")), "fail");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(tr, 1), "msg")), "no port");
	/* Defaults: on-error and timeout. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(first, "on-error"), 0), "task")), "cleanup");
	assert_int_equal(json_integer_value(json_object_get(first, "timeout")),
	    30);
	assert_true(json_is_false(json_object_get(first, "safe-rerun")));
	assert_true(json_is_true(json_object_get(first, "keep-result")));

	run = json_object_get(json_object_get(wf, "tasks"), "run");
	assert_string_equal(json_string_value(json_object_get(run, "target")),
	    "web-1");
	assert_int_equal(json_integer_value(json_object_get(run, "timeout")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    run, "retry"), "delay")), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(run, "with-items"), 0), "var")), "h");
	assert_int_equal(json_array_size(json_object_get(json_array_get(
	    json_object_get(run, "with-items"), 0), "source")), 2);

	/* The defaults' on-error minus the task itself. */
	cleanup = json_object_get(json_object_get(wf, "tasks"), "cleanup");
	assert_int_equal(json_array_size(json_object_get(cleanup, "on-error")),
	    0);
	json_decref(spec);
}

static void
test_reverse_requires(void **state)
{
	struct dsl_errors errs;
	json_t *spec, *b;

	(void)state;
	spec = parse("version: '2.0'\nw:\n  type: reverse\n"
	    "  task-defaults: {requires: [a]}\n  tasks:\n"
	    "    a: {action: std.noop}\n"
	    "    b: {action: std.noop, requires: c}\n"
	    "    c: {action: std.noop}\n", &errs);
	assert_non_null(spec);
	b = json_object_get(json_object_get(json_object_get(json_object_get(
	    spec, "workflows"), "w"), "tasks"), "b");
	assert_int_equal(json_array_size(json_object_get(b, "requires")), 2);
	assert_null(json_object_get(b, "on-success"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(
	    json_object_get(json_object_get(json_object_get(spec, "workflows"),
	    "w"), "tasks"), "a"), "requires")), 0);
	json_decref(spec);

	assert_error("version: '2.0'\nw:\n  type: reverse\n  tasks:\n"
	    "    a: {requires: b}\n    b: {requires: a}\n",
	    "t.yaml:5:5: requires: a cycle: a -> b -> a");
}

static void
test_errors_all_sorted(void **state)
{
	struct dsl_errors errs;
	json_t *spec;

	(void)state;
	spec = parse("version: '2.0'\nw:\n  tasks:\n"
	    "    a:\n      action: std.nope\n      on-success: zz\n"
	    "      timeout: x\n      timeout: 3\n", &errs);
	assert_null(spec);
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.v[0], "t.yaml:5:15: unknown action "
	    "'std.nope'; Bora runs bora.script, bora.puppet, bora.file, "
	    "bora.heat_config, bora.wait_agents, std.noop, std.echo, std.fail "
	    "and std.sleep");
	assert_string_equal(errs.v[1], "t.yaml:6:19: on-success: no task 'zz' "
	    "in workflow 'w'");
	assert_string_equal(errs.v[2], "t.yaml:7:16: timeout: expected an "
	    "integer of at least 0 or an expression, got 'x'");
	assert_string_equal(errs.v[3], "t.yaml:8:7: duplicate key 'timeout' "
	    "(first at line 7)");
	dsl_errors_free(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.v);
}

static void
test_version(void **state)
{
	struct dsl_errors errs;
	json_t *spec;

	(void)state;
	spec = parse("version: 2.0\nw: {tasks: {a: {action: std.noop}}}\n",
	    &errs);
	assert_non_null(spec);
	json_decref(spec);
	assert_error("version: 2\nw: {tasks: {a: {action: std.noop}}}\n",
	    "t.yaml:1:10: version: expected '2.0'");
	assert_error("version: '2.1'\nw: {tasks: {a: {action: std.noop}}}\n",
	    "version: expected '2.0'");
	assert_error("w: {tasks: {a: {action: std.noop}}}\n",
	    "version: '2.0' is required");
}

static void
test_workbook(void **state)
{
	struct dsl_errors errs;
	json_t *spec;

	(void)state;
	spec = parse("version: '2.0'\nname: book\nworkflows:\n"
	    "  a: {tasks: {t: {workflow: b}}}\n"
	    "  b: {tasks: {t: {action: std.noop}}}\n", &errs);
	assert_non_null(spec);
	assert_string_equal(json_string_value(json_object_get(spec, "name")),
	    "book");
	assert_int_equal(json_object_size(json_object_get(spec, "workflows")),
	    2);
	json_decref(spec);
	assert_error("version: '2.0'\nname: book\nactions: {}\nworkflows:\n"
	    "  b: {tasks: {t: {action: std.noop}}}\n",
	    "t.yaml:3:1: unsupported: actions");
}

static void
test_limits(void **state)
{
	struct dsl_errors errs;
	json_t *spec;
	char *big;
	size_t i, n;

	(void)state;
	/* Over 1 MiB. */
	n = DSL_FILE_MAX + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, '#', n);
	memset(&errs, 0, sizeof(errs));
	spec = dsl_parse(big, n, "big.yaml", &errs);
	assert_null(spec);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0], "big.yaml: the file is over 1048576 "
	    "bytes");
	dsl_errors_free(&errs);
	free(big);

	/* More than DSL_NODES_MAX nodes, well under 1 MiB. */
	n = 16 + (DSL_NODES_MAX + 10) * 2;
	big = malloc(n + 8);
	assert_non_null(big);
	strcpy(big, "x: [");
	for (i = 0; i < DSL_NODES_MAX + 10; i++)
		memcpy(big + 4 + i * 2, "0,", 3);
	strcat(big, "0]\n");
	assert_error(big, "more than 100000 YAML nodes");
	free(big);

	/* Deeper than DSL_DEPTH_MAX. */
	big = calloc(1, 4 * DSL_DEPTH_MAX + 64);
	assert_non_null(big);
	strcpy(big, "x: ");
	for (i = 0; i < DSL_DEPTH_MAX + 1; i++)
		strcat(big, "[");
	for (i = 0; i < DSL_DEPTH_MAX + 1; i++)
		strcat(big, "]");
	assert_error(big, "nesting deeper than 64 levels");
	free(big);

	/* NUL bytes, anchors. */
	memset(&errs, 0, sizeof(errs));
	spec = dsl_parse("version: '2.0'\0x", 17, "nul.yaml", &errs);
	assert_null(spec);
	assert_string_equal(errs.v[0], "nul.yaml: the file holds a NUL byte; "
	    "expected YAML text");
	dsl_errors_free(&errs);
	assert_error("a: &x [1, 2]\nb: *x\n",
	    "t.yaml:1:4: unsupported: YAML anchors and aliases (&x)");
	/* The classic alias bomb is refused at its first anchor. */
	assert_error("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n",
	    "unsupported: YAML anchors and aliases");
}

static void
test_load_file(void **state)
{
	struct dsl_errors errs = { NULL, 0 };
	char path[] = "/tmp/test_dsl_XXXXXX";
	json_t *spec;
	FILE *f;
	int fd;

	(void)state;
	spec = dsl_load_file("/nonexistent/wf.yaml", &errs);
	assert_null(spec);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0], "/nonexistent/wf.yaml: No such file or "
	    "directory");
	dsl_errors_free(&errs);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(good, f);
	fclose(f);
	spec = dsl_load_file(path, &errs);
	assert_non_null(spec);
	assert_int_equal(errs.n, 0);
	json_decref(spec);
	unlink(path);
}

static void
test_transitions(void **state)
{
	(void)state;
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      on-success: {next: [b], publish: {global: {x: 1}}}\n"
	    "    b: {}\n",
	    "t.yaml:5:41: unsupported: on-success publish scope 'global'");
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      on-success: {next: [nosuch]}\n",
	    "t.yaml:5:27: on-success: no task 'nosuch'");
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      on-error: [noop msg=x]\n", "noop takes no parameters");
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      on-error: ['fail(reason=x)']\n", "fail takes only msg=...");
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      on-error: [{a: 3}]\n", "must be one expression");
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      on-error: [{a: <% 1 %>, b: <% 2 %>}]\n",
	    "a mapping of several keys");
	assert_error("version: '2.0'\nw:\n  tasks:\n    a:\n"
	    "      action: std.echo output=\"unclosed\n",
	    "unclosed quote");
}

/* Truncated and garbled versions of a valid file: never a crash, always
 * exactly one of a spec or errors. */
static void
test_fuzz(void **state)
{
	struct dsl_errors errs;
	size_t len = strlen(good), cut, i;
	unsigned seed = 12345;
	char *buf = malloc(len + 1);
	json_t *spec;
	int round;

	(void)state;
	assert_non_null(buf);
	for (cut = 0; cut <= len; cut++) {
		memset(&errs, 0, sizeof(errs));
		spec = dsl_parse(good, cut, "cut.yaml", &errs);
		assert_true((spec != NULL) != (errs.n > 0));
		json_decref(spec);
		dsl_errors_free(&errs);
	}
	for (round = 0; round < 3000; round++) {
		static const char junk[] = "-:[]{}&*!|>'\"%#@`,? \n\t<>x0~";

		memcpy(buf, good, len + 1);
		for (i = 0; i < 1 + (size_t)(round % 5); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = junk[(seed >> 20) %
			    (sizeof(junk) - 1)];
		}
		memset(&errs, 0, sizeof(errs));
		spec = dsl_parse(buf, len, "fuzz.yaml", &errs);
		assert_true((spec != NULL) != (errs.n > 0));
		json_decref(spec);
		dsl_errors_free(&errs);
	}
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_reverse_requires),
		cmocka_unit_test(test_errors_all_sorted),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_workbook),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
