/* test_conf.c: YAML settings files and flags (proto/conf.h). */
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

#include "conf.h"

/* A daemon's settings, as the tests' own table describes them. */
struct tconf {
	char *name;
	char *cert;
	char *key;
	long port;
	long max_message_bytes;
	int verbose;
	json_t *labels;
	char *level;
	long min_ms;
};

static const struct bora_conf_item titems[] = {
	{ "name", BORA_CONF_STRING, offsetof(struct tconf, name), 0, 0,
	  "a name", 0 },
	{ "tls.cert", BORA_CONF_PATH, offsetof(struct tconf, cert), 0, 0,
	  "certificate", 0 },
	{ "tls.key", BORA_CONF_PATH, offsetof(struct tconf, key), 0, 0,
	  "key", 0 },
	{ "port", BORA_CONF_INT, offsetof(struct tconf, port), 1, 65535,
	  "port", 0 },
	{ "max_message_bytes", BORA_CONF_INT,
	  offsetof(struct tconf, max_message_bytes), 1024, 67108864,
	  "largest message", 0 },
	{ "verbose", BORA_CONF_BOOL, offsetof(struct tconf, verbose), 0, 0,
	  "say more", 0 },
	{ "labels", BORA_CONF_MAP, offsetof(struct tconf, labels), 0, 0,
	  "labels", 0 },
	{ "log.level", BORA_CONF_STRING, offsetof(struct tconf, level), 0, 0,
	  "log level", 0 },
	{ "reconnect.min_ms", BORA_CONF_INT, offsetof(struct tconf, min_ms),
	  10, 600000, "first delay", 0 },
};
#define NT (sizeof(titems) / sizeof(titems[0]))

/* ---- helpers ---------------------------------------------------------- */

/* Write len bytes to a new file in /tmp; path gets its name. */
static void
write_temp_len(const char *text, size_t len, char path[64])
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/bora-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
write_temp(const char *text, char path[64])
{
	write_temp_len(text, strlen(text), path);
}

/* Load text as a file into c; the file is removed again. */
static int
load_text(const char *text, struct tconf *c, char *err, size_t errlen,
    char path[64])
{
	int rc;

	write_temp(text, path);
	rc = bora_conf_load_file(titems, NT, c, path, err, errlen);
	unlink(path);
	return rc;
}

/* want with every '@' replaced by path. */
static char *
expand(const char *want, const char *path)
{
	size_t n = strlen(want) * 2 + 64 * 8;
	char *out = malloc(n), *o = out;

	assert_non_null(out);
	for (; *want != '\0'; want++) {
		if (*want == '@') {
			strcpy(o, path);
			o += strlen(path);
		} else
			*o++ = *want;
	}
	*o = '\0';
	return out;
}

static void
tconf_init(struct tconf *c)
{
	memset(c, 0, sizeof(*c));
	c->name = strdup("default");
	c->port = 7443;
	c->max_message_bytes = 1048576;
	c->min_ms = 500;
	c->labels = json_object();
}

static int
flags(struct tconf *c, int argc, char **argv, int *next, char *err,
    size_t errlen)
{
	return bora_conf_apply_flags(titems, NT, c, argc, argv, 1,
	    next, err, errlen);
}

/* ---- files ------------------------------------------------------------ */

static void
test_good_file(void **state)
{
	struct tconf c;
	char err[1024], path[64];

	(void)state;
	tconf_init(&c);
	assert_int_equal(load_text(
	    "# a comment\n"
	    "port: 8443\n"
	    "verbose: yes\n"
	    "tls:\n"
	    "  cert: certs/a.pem\n"
	    "  key: /etc/bora/k.pem\n"
	    "log:\n"
	    "  level: debug\n"
	    "labels:\n"
	    "  role: web\n"
	    "  zone: \"a b\"\n"
	    "max_message_bytes: 2048\n"
	    "reconnect: {min_ms: 20}\n",
	    &c, err, sizeof(err), path), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.name, "default");    /* not in the file: kept */
	assert_int_equal(c.port, 8443);
	assert_int_equal(c.verbose, 1);
	assert_string_equal(c.cert, "/tmp/certs/a.pem");
	assert_string_equal(c.key, "/etc/bora/k.pem");
	assert_string_equal(c.level, "debug");
	assert_int_equal(c.max_message_bytes, 2048);
	assert_int_equal(c.min_ms, 20);
	assert_int_equal(json_object_size(c.labels), 2);
	assert_string_equal(json_string_value(json_object_get(c.labels,
	    "role")), "web");
	assert_string_equal(json_string_value(json_object_get(c.labels,
	    "zone")), "a b");

	/* a second file overrides, and replaces the map */
	assert_int_equal(load_text(
	    "name: 'second'\n"
	    "verbose: Off\n"
	    "labels: {role: db}\n"
	    "tls.cert: /abs.pem\n",
	    &c, err, sizeof(err), path), 0);
	assert_string_equal(c.name, "second");
	assert_int_equal(c.verbose, 0);
	assert_string_equal(c.cert, "/abs.pem");
	assert_int_equal(json_object_size(c.labels), 1);
	assert_null(json_object_get(c.labels, "zone"));

	bora_conf_free(titems, NT, &c);
	assert_null(c.name);
	assert_null(c.cert);
	assert_null(c.labels);
	bora_conf_free(titems, NT, &c);     /* twice is harmless */
}

static void
test_empty_files(void **state)
{
	static const char *const texts[] = {
		"", "# only a comment\n", "---\n", "---\n...\n", "~\n",
		"tls:\n", "labels:\n",
	};
	struct tconf c;
	char err[256], path[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		tconf_init(&c);
		assert_int_equal(load_text(texts[i], &c, err, sizeof(err),
		    path), 0);
		assert_string_equal(err, "");
		assert_string_equal(c.name, "default");
		assert_int_equal(c.port, 7443);
		assert_non_null(c.labels);
		bora_conf_free(titems, NT, &c);
	}
}

/* Relative paths follow the file, also when it was named relatively. */
static void
test_relative_path(void **state)
{
	struct tconf c;
	char err[256], path[64], cwd[4096];
	char *here, *want;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	write_temp("tls: {cert: c.pem, key: ./sub/k.pem}\n", path);
	assert_int_equal(chdir("/tmp"), 0);
	here = getcwd(NULL, 0);
	assert_non_null(here);
	tconf_init(&c);
	assert_int_equal(bora_conf_load_file(titems, NT, &c, path + 5, err,
	    sizeof(err)), 0);
	assert_int_equal(chdir(cwd), 0);
	unlink(path);
	assert_int_equal(asprintf(&want, "%s/c.pem", here) > 0, 1);
	assert_string_equal(c.cert, want);
	free(want);
	assert_int_equal(asprintf(&want, "%s/./sub/k.pem", here) > 0, 1);
	assert_string_equal(c.key, want);
	free(want);
	free(here);
	bora_conf_free(titems, NT, &c);
}

struct err_case {
	const char *text;
	const char *want;            /* '@' stands for the file's path */
};

static const struct err_case err_cases[] = {
	{ "nmae: x\n", "@:1:1: unknown key 'nmae'\n" },
	{ "tls:\n  cret: x\n", "@:2:3: unknown key 'tls.cret'\n" },
	{ "port: abc\n",
	  "@:1:7: port: expected an integer from 1 to 65535, got 'abc'\n" },
	{ "name: x\nport: 70000\n",
	  "@:2:7: port: expected an integer from 1 to 65535, got '70000'\n" },
	{ "port: 12abc\n",
	  "@:1:7: port: expected an integer from 1 to 65535, got '12abc'\n" },
	{ "max_message_bytes: 99999999999999999999999\n",
	  "@:1:20: max_message_bytes: expected an integer from 1024 to "
	  "67108864, got '99999999999999999999999'\n" },
	{ "port: [1, 2]\n",
	  "@:1:7: port: expected an integer, got a sequence\n" },
	{ "name:\n  a: b\n", "@:2:3: name: expected a string, got a mapping\n" },
	{ "port:\n", "@:1:6: port: missing value (expected an integer)\n" },
	{ "verbose: maybe\n",
	  "@:1:10: verbose: expected true or false, got 'maybe'\n" },
	{ "name: a\nport: 1\nname: b\n",
	  "@:3:1: duplicate key 'name' (first at line 1)\n" },
	{ "tls:\n  cert: a\ntls.cert: b\n",
	  "@:3:1: duplicate key 'tls.cert' (first set at line 2)\n" },
	{ "tls: {cert: a}\ntls: {key: b}\n",
	  "@:2:1: duplicate key 'tls' (first at line 1)\n" },
	{ "name: &a x\nlog:\n  level: *a\n",
	  "@:1:7: anchors and aliases are not allowed in configuration\n"
	  "@:3:10: aliases are not allowed in configuration\n" },
	{ "- a\n- b\n",
	  "@:1:1: the top level must be a mapping of settings, got a "
	  "sequence\n" },
	{ "just text\n",
	  "@:1:1: the top level must be a mapping of settings, got a "
	  "scalar\n" },
	{ "tls: x\n", "@:1:6: tls: expected a mapping, got a scalar\n" },
	{ "labels: [a]\n",
	  "@:1:9: labels: expected a mapping of names to values, got a "
	  "sequence\n" },
	{ "labels:\n  a: [1]\n",
	  "@:2:6: labels.a: expected a string, got a sequence\n" },
	{ "labels:\n  a: 1\n  a: 2\n", "@:3:3: duplicate key 'labels.a'\n" },
	{ "labels:\n  bad name: 1\n",
	  "@:2:3: labels: 'bad name' is not a label name (1 to 64 bytes of "
	  "A-Z a-z 0-9 . _ -, first a letter or digit)\n" },
	{ "port: 1\n---\nport: 2\n",
	  "@:2:1: only one YAML document is allowed\n" },
	{ "name: \"a\\0b\"\n",
	  "@:1:7: name: the value contains a NUL byte\n" },
	{ "[a]: 1\n", "@:1:1: keys must be names, got a sequence\n" },
	{ "name: \xff\n",
	  "@:1:7: invalid leading UTF-8 octet\n" },
};

static void
test_errors(void **state)
{
	struct tconf c;
	char err[1024], path[64];
	char *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		tconf_init(&c);
		assert_int_equal(load_text(err_cases[i].text, &c, err,
		    sizeof(err), path), -1);
		want = expand(err_cases[i].want, path);
		if (strcmp(err, want) != 0)
			print_message("case %zu: %s", i, err_cases[i].text);
		assert_string_equal(err, want);
		free(want);
		bora_conf_free(titems, NT, &c);
	}
}

/* Syntax errors name libyaml's place and problem. */
static void
test_syntax_error(void **state)
{
	struct tconf c;
	char err[1024], path[64];
	char *want;

	(void)state;
	tconf_init(&c);
	assert_int_equal(load_text("name: x\nport: [1, 2\n", &c, err,
	    sizeof(err), path), -1);
	/* what was read before the syntax error is still checked */
	want = expand("@:2:7: port: expected an integer, got a sequence\n"
	    "@:3:1: did not find expected ',' or ']' (while "
	    "parsing a flow sequence at line 2, column 7)\n", path);
	assert_string_equal(err, want);
	free(want);
	bora_conf_free(titems, NT, &c);

	tconf_init(&c);
	assert_int_equal(load_text("name: x\n  port: 1\n", &c, err,
	    sizeof(err), path), -1);
	want = expand("@:2:7: mapping values are not allowed in this "
	    "context\n", path);
	assert_string_equal(err, want);
	free(want);
	bora_conf_free(titems, NT, &c);
}

static void
test_many_errors(void **state)
{
	struct tconf c;
	char err[2048], path[64];
	char *want;

	(void)state;
	tconf_init(&c);
	assert_int_equal(load_text(
	    "nmae: x\n"
	    "port: abc\n"
	    "verbose: maybe\n"
	    "tls:\n"
	    "  cert: ok.pem\n"
	    "  bad: 1\n"
	    "name: fine\n",
	    &c, err, sizeof(err), path), -1);
	want = expand(
	    "@:1:1: unknown key 'nmae'\n"
	    "@:2:7: port: expected an integer from 1 to 65535, got 'abc'\n"
	    "@:3:10: verbose: expected true or false, got 'maybe'\n"
	    "@:6:3: unknown key 'tls.bad'\n", path);
	assert_string_equal(err, want);
	free(want);
	/* the good settings around the bad ones were applied */
	assert_string_equal(c.cert, "/tmp/ok.pem");
	assert_string_equal(c.name, "fine");
	assert_int_equal(c.port, 7443);
	bora_conf_free(titems, NT, &c);
}

static void
test_too_many_errors(void **state)
{
	struct tconf c;
	char text[4096], err[8192], path[64];
	size_t len = 0;
	int i, lines = 0;
	const char *p;

	(void)state;
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "bad%d: 1\n", i);
	tconf_init(&c);
	assert_int_equal(load_text(text, &c, err, sizeof(err), path), -1);
	for (p = err; *p != '\0'; p++)
		if (*p == '\n')
			lines++;
	assert_int_equal(lines, 33);
	assert_non_null(strstr(err, ": too many errors, stopping\n"));
	bora_conf_free(titems, NT, &c);

	/* a small error buffer is cut, still ending in a newline */
	tconf_init(&c);
	assert_int_equal(load_text(text, &c, err, 40, path), -1);
	assert_int_equal(strlen(err), 39);
	assert_int_equal(err[38], '\n');
	bora_conf_free(titems, NT, &c);
}

static void
test_file_refused(void **state)
{
	struct tconf c;
	char err[512], path[64];
	char *big, *want;
	size_t n = 1024 * 1024 + 1;

	(void)state;
	tconf_init(&c);
	big = malloc(n);
	assert_non_null(big);
	memset(big, '#', n);
	big[n - 1] = '\n';
	write_temp_len(big, n, path);
	free(big);
	assert_int_equal(bora_conf_load_file(titems, NT, &c, path, err,
	    sizeof(err)), -1);
	unlink(path);
	want = expand("@: the file is larger than 1 MiB\n", path);
	assert_string_equal(err, want);
	free(want);

	/* exactly 1 MiB is fine */
	big = malloc(n - 1);
	assert_non_null(big);
	memset(big, '#', n - 1);
	big[n - 2] = '\n';
	write_temp_len(big, n - 1, path);
	free(big);
	assert_int_equal(bora_conf_load_file(titems, NT, &c, path, err,
	    sizeof(err)), 0);
	unlink(path);

	assert_int_equal(bora_conf_load_file(titems, NT, &c,
	    "/nonexistent/bora.yaml", err, sizeof(err)), -1);
	assert_string_equal(err,
	    "/nonexistent/bora.yaml: No such file or directory\n");
	assert_int_equal(bora_conf_load_file(titems, NT, &c, "/tmp", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "/tmp: Is a directory\n");
	bora_conf_free(titems, NT, &c);
}

/* ---- flags ------------------------------------------------------------ */

static void
test_flags_override_file(void **state)
{
	struct tconf c;
	char err[512], path[64];
	char *argv[] = { "prog", "--port", "9000", "--tls-cert=x.pem",
	    "--name=a=b", "--max-message-bytes", "4096",
	    "--reconnect-min-ms=50", "--log-level", "warn" };
	int next = -1;

	(void)state;
	tconf_init(&c);
	assert_int_equal(load_text("port: 8443\ntls: {cert: f.pem}\n"
	    "name: file\nlog: {level: info}\n", &c, err, sizeof(err), path),
	    0);
	assert_int_equal(flags(&c, 10, argv, &next, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(next, 10);
	assert_int_equal(c.port, 9000);
	assert_string_equal(c.cert, "x.pem");  /* relative to the cwd: kept */
	assert_string_equal(c.name, "a=b");
	assert_int_equal(c.max_message_bytes, 4096);
	assert_int_equal(c.min_ms, 50);
	assert_string_equal(c.level, "warn");
	bora_conf_free(titems, NT, &c);
}

static void
test_flags_bool_and_map(void **state)
{
	struct tconf c;
	char err[512];
	char *a1[] = { "prog", "--verbose", "--labels",
	    "role=web,zone=a" };
	char *a2[] = { "prog", "--no-verbose", "--labels=" };
	char *a3[] = { "prog", "--verbose=on" };
	char *a4[] = { "prog", "--verbose=maybe", "--no-verbose=1",
	    "--labels", "role", "--labels=a=1,a=2", "--no-port" };
	int next;

	(void)state;
	tconf_init(&c);
	assert_int_equal(flags(&c, 4, a1, &next, err, sizeof(err)), 0);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(json_object_size(c.labels), 2);
	assert_string_equal(json_string_value(json_object_get(c.labels,
	    "zone")), "a");
	assert_int_equal(flags(&c, 3, a2, &next, err, sizeof(err)), 0);
	assert_int_equal(c.verbose, 0);
	assert_int_equal(json_object_size(c.labels), 0);
	assert_int_equal(flags(&c, 2, a3, &next, err, sizeof(err)), 0);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(flags(&c, 7, a4, &next, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "--verbose: expected true or false, got 'maybe'\n"
	    "--no-verbose: takes no value\n"
	    "--labels: expected name=value pairs separated by commas, "
	    "got 'role'\n"
	    "--labels: duplicate name 'a'\n"
	    "--no-port: unknown flag\n");
	bora_conf_free(titems, NT, &c);
}

static void
test_flags_errors(void **state)
{
	struct tconf c;
	char err[1024];
	char *a1[] = { "prog", "--bogus", "-x", "--port", "abc",
	    "--tls_cert=y", "--port", "--name", "n", "--max-message-bytes",
	    "1023" };
	char *a2[] = { "prog", "--name" };
	char *a3[] = { "prog", "--bogus", "value", "--name", "n" };
	int next;

	(void)state;
	tconf_init(&c);
	assert_int_equal(flags(&c, 11, a1, &next, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "--bogus: unknown flag\n"
	    "-x: unknown flag\n"
	    "--port: expected an integer from 1 to 65535, got 'abc'\n"
	    "--tls_cert: unknown flag\n"
	    "--port: needs a value\n"
	    "--max-message-bytes: expected an integer from 1024 to 67108864, "
	    "got '1023'\n");
	assert_int_equal(next, 11);
	assert_string_equal(c.name, "n");
	bora_conf_free(titems, NT, &c);

	/* the word after an unknown flag is taken as the first non-flag */
	tconf_init(&c);
	assert_int_equal(flags(&c, 5, a3, &next, err, sizeof(err)), -1);
	assert_string_equal(err, "--bogus: unknown flag\n");
	assert_int_equal(next, 2);
	bora_conf_free(titems, NT, &c);

	tconf_init(&c);
	assert_int_equal(flags(&c, 2, a2, &next, err, sizeof(err)), -1);
	assert_string_equal(err, "--name: needs a value\n");
	assert_string_equal(c.name, "default");
	bora_conf_free(titems, NT, &c);
}

static void
test_flags_stop(void **state)
{
	struct tconf c;
	char err[256];
	char *a1[] = { "prog", "--port", "1", "--", "--name", "x" };
	char *a2[] = { "prog", "--port", "2", "run", "--name", "x" };
	char *a3[] = { "prog", "--config", "f.yaml", "--port", "3",
	    "--config=g.yaml", "-", "--name", "x" };
	char *a4[] = { "prog" };
	int next;

	(void)state;
	tconf_init(&c);
	assert_int_equal(flags(&c, 6, a1, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 4);
	assert_int_equal(c.port, 1);
	assert_string_equal(c.name, "default");
	assert_int_equal(flags(&c, 6, a2, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 3);
	assert_int_equal(c.port, 2);
	assert_string_equal(c.name, "default");
	/* --config is the daemon's, skipped here; "-" is not a flag */
	assert_int_equal(flags(&c, 9, a3, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 6);
	assert_int_equal(c.port, 3);
	assert_int_equal(flags(&c, 1, a4, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 1);
	/* starting later in argv */
	assert_int_equal(bora_conf_apply_flags(titems, NT, &c, 6,
	    a2, 4, &next, err, sizeof(err)), 0);
	assert_string_equal(c.name, "x");
	assert_int_equal(next, 6);
	bora_conf_free(titems, NT, &c);
}

static void
test_find_config(void **state)
{
	char *a1[] = { "prog", "--port", "1", "--config", "a.yaml",
	    "--name", "x" };
	char *a2[] = { "prog", "--config=b.yaml", "--help" };
	char *a3[] = { "prog", "-h", "--", "--config", "c.yaml" };
	char *a4[] = { "prog", "--config" };
	char *a5[] = { "prog", "--config=" };
	const char *path;
	char err[256];
	int help;

	(void)state;
	assert_int_equal(bora_conf_find_config(7, a1, 1, &path,
	    &help, err, sizeof(err)), 0);
	assert_string_equal(path, "a.yaml");
	assert_int_equal(help, 0);
	assert_int_equal(bora_conf_find_config(3, a2, 1, &path,
	    &help, err, sizeof(err)), 0);
	assert_string_equal(path, "b.yaml");
	assert_int_equal(help, 1);
	assert_int_equal(bora_conf_find_config(5, a3, 1, &path,
	    &help, err, sizeof(err)), 0);
	assert_null(path);
	assert_int_equal(help, 1);
	assert_int_equal(bora_conf_find_config(2, a4, 1, &path,
	    &help, err, sizeof(err)), -1);
	assert_string_equal(err, "--config: needs a value\n");
	assert_int_equal(bora_conf_find_config(2, a5, 1, &path,
	    &help, err, sizeof(err)), -1);
	assert_string_equal(err, "--config: needs a value\n");
}

static void
test_usage_and_print(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	bora_conf_usage(titems, NT, f);
	bora_conf_print_errors(f, "prog", "a: one\nb: two\n");
	fclose(f);
	assert_non_null(strstr(buf, "  --name VALUE "));
	assert_non_null(strstr(buf, "  --tls-cert PATH "));
	assert_non_null(strstr(buf, "  --port N "));
	assert_non_null(strstr(buf, " port (1..65535)\n"));
	assert_non_null(strstr(buf, "  --max-message-bytes N "));
	assert_non_null(strstr(buf, "  --verbose, --no-verbose "));
	assert_non_null(strstr(buf, "  --labels K=V,... "));
	assert_non_null(strstr(buf, "  --reconnect-min-ms N "));
	assert_non_null(strstr(buf, "prog: a: one\nprog: b: two\n"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_file_refused),
		cmocka_unit_test(test_flags_override_file),
		cmocka_unit_test(test_flags_bool_and_map),
		cmocka_unit_test(test_flags_errors),
		cmocka_unit_test(test_flags_stop),
		cmocka_unit_test(test_find_config),
		cmocka_unit_test(test_usage_and_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
