/*
 * cli_help.c: `bora help [COMMAND]`, `bora version`, and the usage lines
 * the other files print, all read from the one command table (cli_cmd.c).
 */
#include <stdio.h>

#include "cli_int.h"

#ifndef BORA_VERSION
#define BORA_VERSION "0.0.0-dev"
#endif

void
cli_usage_of(FILE *out, const struct cli_cmd *c)
{
	fprintf(out, "usage: bora %s%s%s\n", c->name, c->args[0] ? " " : "",
	    c->args);
}

static int
cmd_version(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	printf("bora %s\n", BORA_VERSION);
	return CLI_OK;
}

void
cli_usage(FILE *out)
{
	const struct cli_cmd *c;
	size_t i;
	int w;

	fprintf(out, "usage: bora [--socket PATH | --url https://HOST:PORT "
	    "[--token-file FILE | --token T] [--ca FILE]] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; (c = cli_cmd_at(i)) != NULL; i++) {
		w = fprintf(out, "  %s %s", c->name, c->args);
		if (w > 40)
			fprintf(out, "\n%42s", "");
		else
			fprintf(out, "%*s", 42 - w, "");
		fprintf(out, "%s\n", c->help);
	}
	fprintf(out, "\n"
	    "The coordinator is reached at --url (HTTPS, with the operator token\n"
	    "of --token-file, --token, $BORA_TOKEN or $BORA_TOKEN_FILE, and the\n"
	    "CA of --ca or $BORA_CA), else $BORA_URL, else --socket PATH, else\n"
	    "$BORA_SOCKET, else url/socket in ~/.config/bora/config, else\n"
	    "%s. --json prints the API's JSON as it is.\n"
	    "step run exits with the script's exit code when it failed, 124 on\n"
	    "timeout, 1 on other failures, 2 on usage errors.\n"
	    "run and watch exit 0 when the execution ends in SUCCESS, else 1.\n"
	    "validate needs no coordinator: it exits 1 when a file has errors\n"
	    "(each file:line:column: sentence, on standard error).\n",
	    CLI_DEFAULT_SOCKET);
}

static int
cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *c;
	int words;

	(void)cli;
	if (argc <= 1) {
		cli_usage(stdout);
		return CLI_OK;
	}
	c = cli_cmd_find(argc - 1, argv + 1, &words);
	if (c != NULL) {
		cli_usage_of(stdout, c);
		printf("%s\n", c->help);
		return CLI_OK;
	}
	if (cli_cmd_group(stdout, argv[1]) > 0)
		return CLI_OK;
	cli_warnx("no command %s; run 'bora help'", argv[1]);
	return CLI_USAGE;
}

const struct cli_cmd cli_cmd_version_entry = {
	"version", "",
	"print the version", cmd_version
};

const struct cli_cmd cli_cmd_help_entry = {
	"help", "[COMMAND]",
	"show this help, or one command's", cmd_help
};
