/*
 * heat_hooks.c: find a heat-agents hook, build its stdin, parse its stdout.
 *
 * Follows openstack/heat-agents heat-config/os-refresh-config/configure.d/
 * 55-heat-config (find_hook_path, invoke_hook) and the hooks it runs, e.g.
 * heat-config-script/install.d/hook-script.py, which read c['id'],
 * c['config'], c['inputs'] as a list of {name, value} and c['outputs'] as a
 * list of {name}, and print {deploy_stdout, deploy_stderr,
 * deploy_status_code, <output name>: ...} as one JSON object.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "errbuf.h"
#include "heat_hooks.h"
#include "pyfloat.h"
#include "utf8.h"

#define HH_GROUP_MAX   255   /* a group is a file name */
#define HH_SNIPPET     200   /* bytes of bad output quoted in an error */
#define HH_SEARCHED    1024  /* cap on the "searched: ..." list */

/* [A-Za-z0-9_-]+. 55-heat-config drops other characters from the group
 * before using it as a file name; we refuse them instead, so that a group
 * never names a hook it does not spell. */
static int
hh_group_ok(const char *group)
{
	size_t n;

	if (group == NULL)
		return 0;
	n = strspn(group, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-");
	return n > 0 && n <= HH_GROUP_MAX && group[n] == '\0';
}

/* Append ", dir" (or "dir" first) to the list, marking truncation. */
static void
hh_searched_add(char *list, size_t size, const char *dir)
{
	size_t used = strlen(list);
	int n;

	if (used + 4 >= size)
		return;
	n = snprintf(list + used, size - used, "%s%s", used ? ", " : "", dir);
	if (n < 0 || (size_t)n >= size - used)
		memcpy(list + size - 4, "...", 4);
}

int
heat_hook_find(const char *group, const char *const *dirs, char *out,
    size_t outlen, char *err, size_t errlen)
{
	const char *defaults[4];
	char searched[HH_SEARCHED];
	const char *env;
	struct stat st;
	size_t nd = 0, i;
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (!hh_group_ok(group)) {
		bora_errf(err, errlen, "invalid heat-config group '%.100s': "
		    "expected 1 to %d letters, digits, '_' or '-'",
		    group ? group : "", HH_GROUP_MAX);
		return -1;
	}
	if (dirs == NULL) {
		/* 55-heat-config HOOKS_DIR_PATHS: one directory from the
		 * environment, then the two image locations */
		env = getenv("HEAT_CONFIG_HOOKS");
		if (env != NULL && env[0] != '\0')
			defaults[nd++] = env;
		defaults[nd++] = "/usr/libexec/heat-config/hooks";
		defaults[nd++] = "/var/lib/heat-config/hooks";
		defaults[nd] = NULL;
		dirs = defaults;
	}
	searched[0] = '\0';
	for (i = 0; dirs[i] != NULL; i++) {
		if (dirs[i][0] == '\0')
			continue;
		hh_searched_add(searched, sizeof(searched), dirs[i]);
		n = snprintf(out, outlen, "%s/%s", dirs[i], group);
		if (n < 0 || (size_t)n >= outlen)
			continue;
		/* 55-heat-config takes any existing path; a file we cannot
		 * execute would only fail later, so it is skipped here */
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    faccessat(AT_FDCWD, out, X_OK, AT_EACCESS) == 0)
			return 0;
	}
	if (outlen > 0)
		out[0] = '\0';
	bora_errf(err, errlen, "no heat-config hook for group '%s' (searched: %s)",
	    group, searched[0] ? searched : "no directories");
	return -1;
}

/*
 * One of our inputs as Heat passes an input value that has no declared
 * input: heat's SoftwareDeployment._build_derived_inputs gives it type
 * "String", and 55-heat-config then turns every String input whose value is
 * not a string into str(value) (bug 1333992). So numbers become their
 * decimal text and booleans Python's "True"/"False"; null becomes "" (not
 * Python's "None"). Maps and lists keep their value with type "Json", as a
 * declared Json input would, so hooks get them as data (heat-config-script
 * JSON-encodes them into the environment).
 */
static json_t *
hh_input_item(const char *key, const json_t *v)
{
	const char *type = "String";
	json_t *value;
	char *text;

	switch (json_typeof(v)) {
	case JSON_STRING:
		value = json_deep_copy(v);
		break;
	case JSON_INTEGER:
		text = json_dumps(v, JSON_ENCODE_ANY);
		value = text ? json_string(text) : NULL;
		free(text);
		break;
	case JSON_REAL: {
		char num[40];

		/* Heat gives a hook str() of the number: Python's digits */
		value = json_string(bora_py_float(json_real_value(v), num,
		    sizeof(num)));
		break;
	}
	case JSON_TRUE:
		value = json_string("True");
		break;
	case JSON_FALSE:
		value = json_string("False");
		break;
	case JSON_NULL:
		value = json_string("");
		break;
	default:
		type = "Json";
		value = json_deep_copy(v);
		break;
	}
	return json_pack("{s:s, s:o, s:s, s:s}", "name", key, "value", value,
	    "type", type, "description", "");
}

/* Our {name: value} (or Heat's own list) as Heat's list of inputs. */
static json_t *
hh_inputs(const json_t *inputs)
{
	json_t *list = NULL, *v;
	const char *key;
	size_t i;

	if (inputs == NULL)
		return json_array();
	if (json_is_array(inputs)) {
		json_array_foreach(inputs, i, v) {
			if (!json_is_object(v) ||
			    !json_is_string(json_object_get(v, "name")))
				return NULL;
		}
		return json_deep_copy(inputs);
	}
	if (!json_is_object(inputs) || (list = json_array()) == NULL)
		return NULL;
	json_object_foreach((json_t *)(uintptr_t)inputs, key, v) {
		if (json_array_append_new(list, hh_input_item(key, v)) == -1) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* Declared outputs as Heat's list of {name, ...}. */
static json_t *
hh_outputs(const json_t *outputs)
{
	json_t *list = NULL, *item, *v;
	const char *key;
	size_t i;

	if (outputs == NULL)
		return json_array();
	if ((list = json_array()) == NULL)
		return NULL;
	if (json_is_array(outputs)) {
		json_array_foreach(outputs, i, v) {
			if (json_is_string(v))
				item = json_pack("{s:s}", "name",
				    json_string_value(v));
			else if (json_is_object(v) &&
			    json_is_string(json_object_get(v, "name")))
				item = json_deep_copy(v);
			else
				item = NULL;
			if (json_array_append_new(list, item) == -1)
				goto fail;
		}
		return list;
	}
	if (!json_is_object(outputs))
		goto fail;
	json_object_foreach((json_t *)(uintptr_t)outputs, key, v) {
		if (json_is_object(v))
			item = json_deep_copy(v);
		else if (json_is_null(v))
			item = json_object();
		else
			item = NULL;
		if (item != NULL &&
		    json_object_set_new(item, "name", json_string(key)) == -1) {
			json_decref(item);
			item = NULL;
		}
		if (json_array_append_new(list, item) == -1)
			goto fail;
	}
	return list;
fail:
	json_decref(list);
	return NULL;
}

json_t *
heat_hook_input(const char *id, const char *name, const char *group,
    const json_t *config, const json_t *options, const json_t *inputs,
    const json_t *outputs, const char *creation_time)
{
	json_t *cfg, *opts;

	if (id == NULL || group == NULL)
		return NULL;
	if (options != NULL && !json_is_object(options))
		return NULL;
	cfg = config ? json_deep_copy(config) : json_string("");
	opts = options ? json_deep_copy(options) : json_object();
	/* "o" steals each reference, also when json_pack fails (and a NULL
	 * one makes it fail) */
	return json_pack("{s:s, s:s?, s:s, s:o, s:o, s:o, s:o, s:s?}",
	    "id", id, "name", name, "group", group, "config", cfg,
	    "options", opts, "inputs", hh_inputs(inputs),
	    "outputs", hh_outputs(outputs), "creation_time", creation_time);
}

/* The first HH_SNIPPET bytes of text for an error message: cut on a
 * character boundary, control characters as spaces, invalid UTF-8 as
 * U+FFFD (the message travels in JSON). buf holds 3 * HH_SNIPPET + 1. */
static void
hh_snippet(const char *text, size_t len, char *buf)
{
	char raw[HH_SNIPPET];
	size_t n = len < HH_SNIPPET ? len : HH_SNIPPET, i;

	if (n < len)
		n -= bora_utf8_incomplete_tail(text, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		raw[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	buf[bora_utf8_sanitize(raw, n, buf)] = '\0';
}

/* Whether v nests at most left arrays and objects deep (v included). The
 * recursion is bounded by left. */
static int
hh_depth_ok(const json_t *v, int left)
{
	const char *key;
	json_t *e;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return 1;
	if (left == 0)
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (!hh_depth_ok(e, left - 1))
				return 0;
		return 1;
	}
	json_object_foreach((json_t *)(uintptr_t)v, key, e)
		if (!hh_depth_ok(e, left - 1))
			return 0;
	return 1;
}

/*
 * Heat's rule (SoftwareDeployment: failed when status_code and
 * str(status_code) != '0'): absent, null, false, 0 and "" are 0; an
 * integer or a string holding one is its value; anything else is 1.
 * 0, or -1 when the value does not fit an int (*c holds it).
 */
static int
heat_hook_status_code(const json_t *code, json_int_t *c)
{
	const char *s;
	char *end;
	long long v;

	*c = 0;
	if (code == NULL || json_is_null(code) || json_is_false(code))
		return 0;
	if (json_is_integer(code))
		*c = json_integer_value(code);
	else if (json_is_string(code)) {
		s = json_string_value(code);
		if (s[0] == '\0')
			return 0;
		errno = 0;
		v = strtoll(s, &end, 10);
		*c = (*end == '\0' && errno == 0 && strlen(s) ==
		    json_string_length(code)) ? (json_int_t)v : 1;
	} else
		*c = 1;
	return *c < INT32_MIN || *c > INT32_MAX ? -1 : 0;
}

int
heat_hook_parse_output(const char *stdout_text, size_t len, json_t **outputs,
    int *status_code, char *err, size_t errlen)
{
	char snippet[3 * HH_SNIPPET + 1];
	json_error_t jerr;
	json_t *root = NULL, *code;
	json_int_t c;
	int rc = -1;

	*outputs = NULL;
	if (len > HEAT_HOOK_OUTPUT_MAX) {
		bora_errf(err, errlen, "hook result is %zu bytes, more than the "
		    "%d byte limit", len, HEAT_HOOK_OUTPUT_MAX);
		goto out;
	}
	root = json_loadb(stdout_text ? stdout_text : "", len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL && json_error_code(&jerr) == json_error_duplicate_key) {
		bora_errf(err, errlen, "hook result: %s", jerr.text);
		goto out;
	}
	if (root == NULL && json_error_code(&jerr) == json_error_null_character) {
		/* the protocol refuses "\u0000" too (proto/msg.c) */
		bora_errf(err, errlen, "hook result: a string holds \\u0000, which "
		    "a step result cannot carry");
		goto out;
	}
	if (root == NULL || !json_is_object(root)) {
		hh_snippet(stdout_text ? stdout_text : "", len, snippet);
		bora_errf(err, errlen, "hook printed no JSON result: %s",
		    len ? snippet : "(no output)");
		rc = -2;
		goto out;
	}
	if (!hh_depth_ok(root, HEAT_HOOK_MAX_DEPTH)) {
		bora_errf(err, errlen, "hook result: nested deeper than %d levels",
		    HEAT_HOOK_MAX_DEPTH);
		goto out;
	}
	code = json_object_get(root, "deploy_status_code");
	if (heat_hook_status_code(code, &c) != 0) {
		bora_errf(err, errlen, "hook result.deploy_status_code: "
		    "%" JSON_INTEGER_FORMAT " is out of range", c);
		goto out;
	}
	*status_code = (int)c;
	*outputs = root;
	root = NULL;
	rc = 0;
out:
	json_decref(root);
	return rc;
}
