/*
 * cli_opts.c: option parsing the commands share (cli_int.h): the options
 * every command takes (--socket, --help), --json, usage errors, durations.
 * Commands parse with getopt_long(); cli_getopt_reset() before each loop.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_int.h"
#include "msg.h"            /* BORA_MAX_TIMEOUT_S */

int
cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("bora: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cli->cmd != NULL)
		cli_usage_of(stderr, cli->cmd);
	else
		fputs("run 'bora help' for the commands\n", stderr);
	return CLI_USAGE;
}

/* Handle an option every command takes, or a getopt error. Returns -1 when
 * it was handled and parsing goes on, else the exit status. */
int
cli_common_opt(struct cli *cli, int c, char **argv)
{
	switch (c) {
	case OPT_SOCKET:
		cli->socket = optarg;
		return -1;
	case OPT_HELP:
		cli_usage_of(stdout, cli->cmd);
		printf("%s\n", cli->cmd->help);
		return CLI_OK;
	case ':':
		return cli_usage_error(cli, "%s needs a value", argv[optind - 1]);
	default:
		return cli_usage_error(cli, "unknown option %s", argv[optind - 1]);
	}
}

void
cli_getopt_reset(void)
{
	optind = 0;        /* glibc: full re-initialisation */
	opterr = 0;
}

/* --json and the common options; when json is NULL, --json is refused
 * with refusal (NULL: "unknown option --json"). -1 to go on, else the exit
 * status. */
int
cli_json_flag(struct cli *cli, int argc, char **argv, int *json,
    const char *refusal)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == OPT_JSON && json != NULL)
			*json = 1;
		else if (c == OPT_JSON && refusal != NULL)
			return cli_usage_error(cli, "%s", refusal);
		else if (c == OPT_JSON)
			return cli_usage_error(cli, "unknown option %s",
			    argv[optind - 1]);
		else if ((rc = cli_common_opt(cli, c, argv)) != -1)
			return rc;
	}
	return -1;
}

int
cli_json_opts(struct cli *cli, int argc, char **argv, int *json, int nargs,
    const char *what)
{
	int rc;

	if ((rc = cli_json_flag(cli, argc, argv, json, NULL)) != -1)
		return rc;
	if (nargs == 0 && optind != argc)
		return cli_usage_error(cli, "unexpected argument %s",
		    argv[optind]);
	if (nargs == 1 && argc - optind != 1)
		return cli_usage_error(cli, "expected one %s", what);
	return -1;
}

/* "90", "90s", "5m", "2h", "1d" -> seconds in 1..BORA_MAX_TIMEOUT_S, or -1 */
long
cli_parse_duration(const char *s)
{
	char *end;
	long v, mul = 1;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || v > BORA_MAX_TIMEOUT_S)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
	}
	v *= mul;
	return v >= 1 && v <= BORA_MAX_TIMEOUT_S ? v : -1;
}
