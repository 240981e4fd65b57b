/*
 * cli_validate.c: `bora validate FILE|-...`: each workflow file checked
 * locally (coordinator/lang), its canonical JSON on stdout, or every error
 * as file:line:column: sentence on stderr. Needs no coordinator.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli_int.h"
#include "dsl.h"

/* One file (or "-": standard input): its canonical JSON on stdout, or
 * every error on stderr. CLI_OK or CLI_FAIL. */
static int
cli_validate_one(const char *path, int quiet)
{
	struct dsl_errors errs = { NULL, 0 };
	json_t *spec;
	char *text;
	size_t i, len;
	int rc = CLI_OK;

	if (strcmp(path, "-") == 0) {
		if ((text = cli_read_script("-", DSL_FILE_MAX, &len)) == NULL)
			return CLI_FAIL;
		spec = dsl_parse(text, len, "<stdin>", &errs);
		free(text);
	} else
		spec = dsl_load_file(path, &errs);
	if (spec == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: not valid\n", path);
		rc = CLI_FAIL;
	} else if (!quiet && (json_dumpf(spec, stdout, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) != 0 ||
	    fputc('\n', stdout) == EOF)) {
		cli_warnx("cannot write to standard output");
		rc = CLI_FAIL;
	}
	json_decref(spec);
	dsl_errors_free(&errs);
	return rc;
}

static int
cmd_validate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc, status = CLI_OK, quiet_flag = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		if (c == 'q')
			quiet_flag = 1;
		else if ((rc = cli_common_opt(cli, c, argv)) != -1)
			return rc;
	}
	if (optind == argc)
		return cli_usage_error(cli, "expected one or more workflow "
		    "FILEs (or - for standard input)");
	for (; optind < argc; optind++)
		if (cli_validate_one(argv[optind], quiet_flag) != CLI_OK)
			status = CLI_FAIL;
	fflush(stdout);
	return status;
}

const struct cli_cmd cli_cmd_validate_entry = {
	"validate", "[--quiet] FILE|-...",
	"check workflow files (locally) and print their canonical JSON",
	cmd_validate
};
