/*
 * cli_main.c: the operator CLI `bora`: the options before the command
 * (--socket, --url, --token, --token-file, --ca, --help, --version), where
 * the coordinator is (cli_endpoint.c), then the command of the table
 * (cli_cmd.c), which sees its last word as argv[0].
 *
 * It talks to the coordinator's API (docs/api.md) on its unix socket or
 * over HTTPS.
 *
 * Exit status: 0 ok, 1 failure, 2 usage error; `step run` passes on the
 * step's exit code when it failed with one, and 124 for a timeout (like
 * timeout(1)).
 */
#include <stdio.h>
#include <string.h>

#include "cli_int.h"

int
main(int argc, char **argv)
{
	struct cli cli = { NULL, NULL, NULL, NULL, NULL, NULL };
	const struct cli_cmd *c;
	int i, words;

	/* Options before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			cli.socket = argv[++i];
		else if (strncmp(argv[i], "--socket=", 9) == 0)
			cli.socket = argv[i] + 9;
		else if (cli_global_opt(&cli, argc, argv, &i))
			continue;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cli_usage(stdout);
			return CLI_OK;
		} else if (strcmp(argv[i], "--version") == 0)
			return cli_cmd_version_entry.run(&cli, 0, NULL);
		else
			return cli_usage_error(&cli, "unknown option %s",
			    argv[i]);
	}
	if (i == argc) {
		cli_usage(stderr);
		return CLI_USAGE;
	}
	if ((words = cli_endpoint_setup(&cli)) != CLI_OK)
		return words;
	c = cli_cmd_find(argc - i, argv + i, &words);
	if (c == NULL && cli_cmd_group(NULL, argv[i]) > 0) {
		/* a group of the table ("token"): say what it has */
		if (i + 1 < argc && argv[i + 1][0] != '-')
			cli_warnx("%s has no subcommand %s; it has:", argv[i],
			    argv[i + 1]);
		else
			cli_warnx("%s needs a subcommand:", argv[i]);
		cli_cmd_group(stderr, argv[i]);
		return CLI_USAGE;
	}
	if (c == NULL)
		return cli_usage_error(&cli, "unknown command %s", argv[i]);
	cli.cmd = c;
	/* The command sees its last word as argv[0]. */
	return c->run(&cli, argc - i - words + 1, argv + i + words - 1);
}
