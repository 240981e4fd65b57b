/* test_cli_config.c: the CLI's config file (coordinator/cli/cli_config.c):
 * YAML through proto/conf.c, the older "key = value" lines, errors at
 * file:line:column, the file's cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_config_int.h"

/* Parse text as the file "cfg"; its result, errors in errbuf. */
static int
parse(const char *text, struct cli_config *c, char *errbuf, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	return cli_config_parse("cfg", text, strlen(text), c, errbuf, errlen);
}

static void
test_documented_yaml(void **state)
{
	/* docs/api.md's example */
	static const char text[] = "# ~/.config/bora/config\n"
	    "url: https://coord.example:7444\n"
	    "token_file: /home/ops/.config/bora/operator.token\n"
	    "ca: /home/ops/.config/bora/ca.crt\n";
	struct cli_config c;
	char err[1024];

	(void)state;
	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.url, "https://coord.example:7444");
	assert_string_equal(c.token_file,
	    "/home/ops/.config/bora/operator.token");
	assert_string_equal(c.ca, "/home/ops/.config/bora/ca.crt");
	assert_null(c.socket);
	cli_config_free(&c);
	assert_null(c.url);
}

static void
test_key_equals_value_lines(void **state)
{
	/* the mix test_api_https.py writes, and the other spellings */
	static const char text[] = "# bora\n---\n"
	    "url: https://127.0.0.1:7444\n"
	    "token_file = \"/tmp/a token\"\n"
	    "ca='/tmp/ca.crt'\r\n"
	    "  socket\t=/run/bora.sock   # a comment\n";
	struct cli_config c;
	char err[1024];

	(void)state;
	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.url, "https://127.0.0.1:7444");
	assert_string_equal(c.token_file, "/tmp/a token");
	assert_string_equal(c.ca, "/tmp/ca.crt");
	assert_string_equal(c.socket, "/run/bora.sock");
	cli_config_free(&c);
}

static void
test_values_keep_their_equals_and_colons(void **state)
{
	struct cli_config c;
	char err[1024];

	(void)state;
	assert_int_equal(parse("url: https://h:7444/?a=b\n"
	    "ca = /x/a=b:c\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.url, "https://h:7444/?a=b");
	assert_string_equal(c.ca, "/x/a=b:c");
	cli_config_free(&c);
	/* empty or only comments: nothing set */
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	assert_int_equal(parse("# nothing\n\n", &c, err, sizeof(err)), 0);
	assert_null(c.url);
	assert_null(c.socket);
}

/* Each refused with exactly this first error line. */
static void
test_errors_name_line_and_column(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} t[] = {
		{ "url: https://h:1\nbogus: 1\n",
		  "cfg:2:1: unknown key 'bogus'\n" },
		{ "bogus = 1\n", "cfg:1:1: unknown key 'bogus'\n" },
		{ "url: a\nurl = b\n",
		  "cfg:2:1: duplicate key 'url' (first at line 1)\n" },
		{ "socket: [a, b]\n",
		  "cfg:1:9: socket: expected a string, got a sequence\n" },
		{ "url:\n",
		  "cfg:1:5: url: missing value (expected a string)\n" },
		{ "- url\n", "cfg:1:1: the top level must be a mapping of "
		  "settings, got a sequence\n" },
		{ "just words\n", "cfg:1:1: the top level must be a mapping of "
		  "settings, got a scalar\n" },
	};
	struct cli_config c;
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse(t[i].text, &c, err, sizeof(err)), -1);
		if (strncmp(err, t[i].err, strlen(t[i].err)) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].text, err,
			    t[i].err);
		cli_config_free(&c);
	}
	/* a YAML syntax error, with its place */
	assert_int_equal(parse("url: \"open\n", &c, err, sizeof(err)), -1);
	assert_true(strncmp(err, "cfg:2:1: ", 9) == 0);
	cli_config_free(&c);
}

static void
test_read_file(void **state)
{
	char path[] = "/tmp/bora-cli-config-XXXXXX", err[1024], *big;
	struct cli_config c;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("url = https://[::1]:7444\n", f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	assert_int_equal(cli_config_read(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.url, "https://[::1]:7444");
	cli_config_free(&c);

	/* over 1 MiB: refused, nothing parsed */
	big = malloc(1024 * 1024 + 2);
	assert_non_null(big);
	memset(big, '#', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(big, f);
	fclose(f);
	free(big);
	assert_int_equal(cli_config_read(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 1 MiB"));
	assert_non_null(strstr(err, path));

	/* missing: no error, nothing set */
	unlink(path);
	assert_int_equal(cli_config_read(path, &c, err, sizeof(err)), 0);
	assert_null(c.url);
	/* a directory cannot be read as one */
	assert_int_equal(cli_config_read("/", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read /"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented_yaml),
		cmocka_unit_test(test_key_equals_value_lines),
		cmocka_unit_test(test_values_keep_their_equals_and_colons),
		cmocka_unit_test(test_errors_name_line_and_column),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
