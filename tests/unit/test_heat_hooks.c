/* test_heat_hooks.c: Heat's hook contract (agent/heat_hooks.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "heat_hooks.h"

static char tmpdir[64];
static char d1[96], d2[96], d3[96];

static void
make_file(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_heat_hooks.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(d1, sizeof(d1), "%s/d1", tmpdir);
	snprintf(d2, sizeof(d2), "%s/d2", tmpdir);
	snprintf(d3, sizeof(d3), "%s/d3", tmpdir);
	if (mkdir(d1, 0755) || mkdir(d2, 0755) || mkdir(d3, 0755))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	unsetenv("HEAT_CONFIG_HOOKS");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_find_in_second_dir(void **state)
{
	const char *dirs[] = { d1, d2, d3, NULL };
	char out[PATH_MAX], err[512] = "", want[PATH_MAX];

	(void)state;
	make_file(d2, "ansible", 0755);
	make_file(d3, "ansible", 0755);
	make_file(d1, "salt", 0755);
	assert_int_equal(heat_hook_find("ansible", dirs, out, sizeof(out), err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/ansible", d2);
	assert_string_equal(out, want);
}

static void
test_skips_non_executable_and_dirs(void **state)
{
	const char *dirs[] = { d1, d2, d3, NULL };
	char out[PATH_MAX], err[512] = "", want[PATH_MAX], sub[PATH_MAX];

	(void)state;
	make_file(d1, "script", 0644);          /* not executable */
	snprintf(sub, sizeof(sub), "%s/script", d2);
	assert_int_equal(mkdir(sub, 0755), 0);  /* a directory */
	make_file(d3, "script", 0700);
	assert_int_equal(heat_hook_find("script", dirs, out, sizeof(out), err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/script", d3);
	assert_string_equal(out, want);
}

static void
test_missing_hook_lists_dirs(void **state)
{
	const char *dirs[] = { d1, "", d2, d3, NULL };
	const char *none[] = { NULL };
	char out[PATH_MAX], err[512] = "", want[1024];

	(void)state;
	make_file(d1, "ansible", 0644);
	assert_int_equal(heat_hook_find("ansible", dirs, out, sizeof(out), err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "no heat-config hook for group 'ansible' "
	    "(searched: %s, %s, %s)", d1, d2, d3);
	assert_string_equal(err, want);
	assert_string_equal(out, "");

	assert_int_equal(heat_hook_find("ansible", none, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "no heat-config hook for group 'ansible' "
	    "(searched: no directories)");
}

static void
test_default_dirs(void **state)
{
	char out[PATH_MAX], err[512] = "", want[1024];

	(void)state;
	setenv("HEAT_CONFIG_HOOKS", d1, 1);
	make_file(d1, "bora-test-hook", 0755);
	assert_int_equal(heat_hook_find("bora-test-hook", NULL, out,
	    sizeof(out), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/bora-test-hook", d1);
	assert_string_equal(out, want);

	assert_int_equal(heat_hook_find("bora_no_such_group", NULL, out,
	    sizeof(out), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "no heat-config hook for group "
	    "'bora_no_such_group' (searched: %s, /usr/libexec/heat-config/hooks,"
	    " /var/lib/heat-config/hooks)", d1);
	assert_string_equal(err, want);

	unsetenv("HEAT_CONFIG_HOOKS");
	assert_int_equal(heat_hook_find("bora_no_such_group", NULL, out,
	    sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "no heat-config hook for group "
	    "'bora_no_such_group' (searched: /usr/libexec/heat-config/hooks, "
	    "/var/lib/heat-config/hooks)");
}

static void
test_bad_group_refused(void **state)
{
	static const char *const bad[] = {
		"", "../script", "a/b", ".", "..", "a b", "a.b", "ans\nible",
	};
	const char *dirs[] = { d1, NULL };
	char out[PATH_MAX], err[512];
	size_t i;

	(void)state;
	make_file(tmpdir, "script", 0755);   /* d1/../script exists */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(heat_hook_find(bad[i], dirs, out, sizeof(out),
		    err, sizeof(err)), -1);
		assert_non_null(strstr(err, "invalid heat-config group"));
	}
	assert_int_equal(heat_hook_find(NULL, dirs, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "invalid heat-config group '': expected 1 to "
	    "255 letters, digits, '_' or '-'");
}

static void
assert_json(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);
	char *g;

	assert_non_null(want);
	assert_non_null(got);
	if (!json_equal(got, want)) {
		g = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s", g);
	}
	json_decref(want);
}

static void
test_input_shape(void **state)
{
	json_t *inputs, *outputs, *options, *config, *in;

	(void)state;
	inputs = json_loads("{\"foo\": \"bar\", \"looks_json\": \"[1, 2]\", "
	    "\"n\": 3, \"r\": 1.1, \"b\": false, \"map\": {\"a\": 1}, "
	    "\"list\": [1], \"nil\": null}", 0, NULL);
	outputs = json_loads("[\"result\", {\"name\": \"other\", "
	    "\"error_output\": true}]", 0, NULL);
	options = json_loads("{\"modulepath\": \"/m\"}", 0, NULL);
	config = json_string("#!/bin/sh\necho hi\n");
	in = heat_hook_input("4a6d", "cfg", "script", config, options, inputs,
	    outputs, "2026-11-22T06:00:00Z");
	assert_json(in, "{\"id\": \"4a6d\", \"name\": \"cfg\", "
	    "\"group\": \"script\", \"config\": \"#!/bin/sh\\necho hi\\n\", "
	    "\"options\": {\"modulepath\": \"/m\"}, "
	    "\"inputs\": ["
	    "{\"name\": \"foo\", \"value\": \"bar\", \"type\": \"String\", "
	    "\"description\": \"\"}, "
	    "{\"name\": \"looks_json\", \"value\": \"[1, 2]\", "
	    "\"type\": \"String\", \"description\": \"\"}, "
	    "{\"name\": \"n\", \"value\": \"3\", \"type\": \"String\", "
	    "\"description\": \"\"}, "
	    "{\"name\": \"r\", \"value\": \"1.1\", \"type\": \"String\", "
	    "\"description\": \"\"}, "
	    "{\"name\": \"b\", \"value\": \"False\", \"type\": \"String\", "
	    "\"description\": \"\"}, "
	    "{\"name\": \"map\", \"value\": {\"a\": 1}, \"type\": \"Json\", "
	    "\"description\": \"\"}, "
	    "{\"name\": \"list\", \"value\": [1], \"type\": \"Json\", "
	    "\"description\": \"\"}, "
	    "{\"name\": \"nil\", \"value\": \"\", \"type\": \"String\", "
	    "\"description\": \"\"}], "
	    "\"outputs\": [{\"name\": \"result\"}, "
	    "{\"name\": \"other\", \"error_output\": true}], "
	    "\"creation_time\": \"2026-11-22T06:00:00Z\"}");
	/* a deep copy: changing ours leaves the hook's input alone */
	json_object_set_new(inputs, "foo", json_string("changed"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(in, "inputs"), 0), "value")), "bar");
	json_decref(in);
	json_decref(inputs);
	json_decref(outputs);
	json_decref(options);
	json_decref(config);
}

static void
test_input_defaults_and_forms(void **state)
{
	json_t *in, *v, *heat_inputs;

	(void)state;
	in = heat_hook_input("id1", NULL, "ansible", NULL, NULL, NULL, NULL,
	    NULL);
	assert_json(in, "{\"id\": \"id1\", \"name\": null, \"group\": "
	    "\"ansible\", \"config\": \"\", \"options\": {}, \"inputs\": [], "
	    "\"outputs\": [], \"creation_time\": null}");
	json_decref(in);

	/* outputs as an object; inputs already in Heat's list form */
	v = json_loads("{\"a\": null, \"b\": {\"type\": \"String\"}}", 0, NULL);
	heat_inputs = json_loads("[{\"name\": \"x\", \"value\": 1, "
	    "\"type\": \"Number\"}]", 0, NULL);
	in = heat_hook_input("id2", "n", "salt", NULL, NULL, heat_inputs, v,
	    "t");
	assert_non_null(in);
	assert_true(json_equal(json_object_get(in, "inputs"), heat_inputs));
	assert_json(json_object_get(in, "outputs"),
	    "[{\"name\": \"a\"}, {\"name\": \"b\", \"type\": \"String\"}]");
	json_decref(in);
	json_decref(v);
	json_decref(heat_inputs);

	/* wrong types and missing id or group */
	v = json_string("x");
	assert_null(heat_hook_input(NULL, "n", "g", NULL, NULL, NULL, NULL,
	    NULL));
	assert_null(heat_hook_input("i", "n", NULL, NULL, NULL, NULL, NULL,
	    NULL));
	assert_null(heat_hook_input("i", "n", "g", NULL, v, NULL, NULL, NULL));
	assert_null(heat_hook_input("i", "n", "g", NULL, NULL, v, NULL, NULL));
	assert_null(heat_hook_input("i", "n", "g", NULL, NULL, NULL, v, NULL));
	json_decref(v);
	v = json_loads("[{\"value\": 1}]", 0, NULL);
	assert_null(heat_hook_input("i", "n", "g", NULL, NULL, v, NULL, NULL));
	assert_null(heat_hook_input("i", "n", "g", NULL, NULL, NULL, v, NULL));
	json_decref(v);
}

static int
parse(const char *text, json_t **out, int *code, char *err, size_t errlen)
{
	return heat_hook_parse_output(text, strlen(text), out, code, err,
	    errlen);
}

/* text parses, with status code want */
static void
status_is(const char *text, int want)
{
	json_t *out = NULL;
	int code = -99;
	char err[512] = "";

	assert_int_equal(heat_hook_parse_output(text, strlen(text), &out,
	    &code, err, sizeof(err)), 0);
	assert_int_equal(code, want);
	json_decref(out);
}

static void
test_parse_output_good(void **state)
{
	json_t *out = NULL;
	int code = -1;
	char err[512] = "";

	(void)state;
	/* 16 levels, the hook's object included */
	assert_int_equal(parse("{\"a\": [[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}", &out,
	    &code, err, sizeof(err)), 0);
	json_decref(out);
	assert_int_equal(parse("{\"deploy_stdout\": \"out\\n\", "
	    "\"deploy_stderr\": \"\", \"deploy_status_code\": 2, "
	    "\"result\": \"42\"}\n", &out, &code, err, sizeof(err)), 0);
	assert_int_equal(code, 2);
	assert_json(out, "{\"deploy_stdout\": \"out\\n\", "
	    "\"deploy_stderr\": \"\", \"deploy_status_code\": 2, "
	    "\"result\": \"42\"}");
	json_decref(out);

	code = -1;
	assert_int_equal(parse("  {\"result\": [1]}", &out, &code, err,
	    sizeof(err)), 0);
	assert_int_equal(code, 0);     /* absent: 0 */
	json_decref(out);

	/* Heat's rule: failed when status_code and str(status_code) != '0' */
	status_is("{\"deploy_status_code\": \"0\"}", 0);
	status_is("{\"deploy_status_code\": \"\"}", 0);
	status_is("{\"deploy_status_code\": null}", 0);
	status_is("{\"deploy_status_code\": false}", 0);
	status_is("{\"deploy_status_code\": \"3\"}", 3);
	status_is("{\"deploy_status_code\": \"-2\"}", -2);
	status_is("{\"deploy_status_code\": \"failed\"}", 1);
	status_is("{\"deploy_status_code\": 1e3}", 1);
	status_is("{\"deploy_status_code\": true}", 1);
}

static void
parse_bad_rc(const char *text, size_t len, const char *want, int rc)
{
	json_t *out = (json_t *)1;
	int code = -7;
	char err[512] = "";

	assert_int_equal(heat_hook_parse_output(text, len, &out, &code, err,
	    sizeof(err)), rc);
	assert_null(out);
	assert_int_equal(code, -7);
	assert_string_equal(err, want);
}

/* Refused by Bora (-1), or no JSON object at all (-2: Heat's fallback). */
static void
parse_bad(const char *text, size_t len, const char *want)
{
	parse_bad_rc(text, len, want, strstr(want, "no JSON result") ? -2 :
	    -1);
}

static void
test_parse_output_bad(void **state)
{
	char *big, want[300];
	size_t n;

	(void)state;
	parse_bad("Traceback (most recent call last):\n  File x", 43,
	    "hook printed no JSON result: Traceback (most recent call last):"
	    "   File x");
	parse_bad("", 0, "hook printed no JSON result: (no output)");
	parse_bad("[1, 2]", 6, "hook printed no JSON result: [1, 2]");
	parse_bad("{} trailing", 11, "hook printed no JSON result: {} trailing");
	parse_bad("{\"a\": 1, \"a\": 2}", 16,
	    "hook result: duplicate object key near '\"a\"'");
	parse_bad("{\"deploy_status_code\": 99999999999}", 35,
	    "hook result.deploy_status_code: 99999999999 is out of range");

	parse_bad("{\"out\": \"a\\u0000b\"}", 19,
	    "hook result: a string holds \\u0000, which a step result cannot "
	    "carry");
	parse_bad("{\"a\": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", 40,
	    "hook result: nested deeper than 16 levels");  /* 17 */
	/* invalid UTF-8 and control characters are not quoted as they are */
	parse_bad("ab\xff\tc", 5, "hook printed no JSON result: "
	    "ab\xef\xbf\xbd c");

	/* only the first 200 bytes are quoted, cut on a character boundary */
	n = 300;
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	big[199] = '\xc3';
	big[200] = '\xa9';
	snprintf(want, sizeof(want), "hook printed no JSON result: %.199s", big);
	parse_bad(big, n, want);
	free(big);

	n = 300;
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	snprintf(want, sizeof(want), "hook printed no JSON result: %.200s", big);
	want[29 + 200] = '\0';
	parse_bad(big, n, want);
	free(big);

	/* past the cap, not parsed at all */
	n = HEAT_HOOK_OUTPUT_MAX + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	parse_bad(big, n, "hook result is 1048577 bytes, more than the "
	    "1048576 byte limit");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find_in_second_dir,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_skips_non_executable_and_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_hook_lists_dirs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_dirs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_group_refused,
		    setup, teardown),
		cmocka_unit_test(test_input_shape),
		cmocka_unit_test(test_input_defaults_and_forms),
		cmocka_unit_test(test_parse_output_good),
		cmocka_unit_test(test_parse_output_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
