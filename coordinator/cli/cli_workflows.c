/*
 * cli_workflows.c: bora workflow create | list | show | delete (stored
 * workflows, docs/api.md "Workflows"); `bora run NAME` runs one (cli_exec.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "cli_int.h"
#include "dsl.h"

/* Options: --json (when json is set) and the common ones; the remaining
 * arguments must be nargs. -1 to go on, else the exit status. */
static int
cli_wf_opts(struct cli *cli, int argc, char **argv, int *json, int *replace,
    int nargs, const char *what)
{
	static const struct option opts[] = {
		{ "json",    no_argument, NULL, OPT_JSON },
		{ "replace", no_argument, NULL, 'r' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == OPT_JSON && json != NULL)
			*json = 1;
		else if (c == 'r' && replace != NULL)
			*replace = 1;
		else if (c == OPT_JSON || c == 'r')
			return cli_usage_error(cli, "unknown option %s",
			    argv[optind - 1]);
		else if ((rc = cli_common_opt(cli, c, argv)) != -1)
			return rc;
	}
	if (argc - optind != nargs)
		return cli_usage_error(cli, nargs ? "expected one %s" :
		    "unexpected argument%s", nargs ? what : "");
	return -1;
}

/* The workflow name as a path segment: the API's names are A-Z a-z 0-9 . _ - */
static int
cli_wf_name_ok(const struct cli *cli, const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
	    "rstuvwxyz0123456789._-");

	if (name[0] == '\0' || name[n] != '\0' || name[0] == '.' || n > 255) {
		cli_usage_error(cli, "'%s' is not a workflow name", name);
		return 0;
	}
	return 1;
}

static void
cli_wf_time(json_int_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, n, "-");
	else
		strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static int
cmd_workflow_create(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *req = NULL, *x = NULL;
	char *text, *body = NULL, b[300];
	size_t len;
	int rc, json = 0, replace = 0;

	if ((rc = cli_wf_opts(cli, argc, argv, &json, &replace, 1,
	    "workflow FILE")) != -1)
		return rc;
	if ((text = cli_read_script(argv[optind], DSL_FILE_MAX, &len)) == NULL)
		return CLI_FAIL;
	req = json_pack("{s:s%, s:s, s:b}", "yaml", text, len, "file",
	    argv[optind], "replace", replace);
	free(text);
	if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		json_decref(req);
		cli_warnx("%s: not valid UTF-8 text", argv[optind]);
		return CLI_FAIL;
	}
	json_decref(req);
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, "POST", "/v1/workflows", body, strlen(body), &resp,
	    &x);
	free(body);
	if (rc != CLI_OK && resp.status == 400 && resp.body != NULL)
		/* the first error was said by cli_call */
		(void)cli_print_workflow_errors(&resp, 1);
	else if (rc == CLI_OK && json)
		printf("%.*s", (int)resp.body_len, resp.body);
	else if (rc == CLI_OK)
		printf("workflow %s %s\n", cli_clean(cli_exec_str(x, "name", "?"),
		    b, sizeof(b)), json_is_true(json_object_get(x,
		    "replaced")) ? "replaced" : "stored");
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

static int
cmd_workflow_list(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *x = NULL, *w;
	char name[256], t[32];
	size_t i;
	int rc, json = 0;

	if ((rc = cli_wf_opts(cli, argc, argv, &json, NULL, 0, "")) != -1)
		return rc;
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, "GET", "/v1/workflows", NULL, 0, &resp, &x);
	if (rc == CLI_OK && json)
		cli_print_compact(json_object_get(x, "workflows"), "[]");
	else if (rc == CLI_OK) {
		printf("%-32s %s\n", "NAME", "CREATED");
		json_array_foreach(json_object_get(x, "workflows"), i, w) {
			cli_wf_time(json_integer_value(json_object_get(w,
			    "created_ms")), t, sizeof(t));
			printf("%-32s %s\n", cli_clean(cli_exec_str(w, "name",
			    "?"), name, sizeof(name)), t);
		}
	}
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

static int
cmd_workflow_show(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *x = NULL;
	char path[300], t[32];
	const char *yaml;
	int rc, json = 0;

	if ((rc = cli_wf_opts(cli, argc, argv, &json, NULL, 1,
	    "workflow NAME")) != -1)
		return rc;
	if (!cli_wf_name_ok(cli, argv[optind]))
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/v1/workflows/%s", argv[optind]);
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, &x);
	if (rc == CLI_OK && json)
		printf("%.*s", (int)resp.body_len, resp.body);
	else if (rc == CLI_OK) {
		cli_wf_time(json_integer_value(json_object_get(x, "created_ms")),
		    t, sizeof(t));
		yaml = cli_exec_str(x, "yaml", "");
		printf("# workflow %s, stored %s\n", argv[optind], t);
		while (*yaml) {
			size_t n = strcspn(yaml, "\n");

			cli_exec_put_clean(stdout, yaml, n);
			putchar('\n');
			yaml += n + (yaml[n] == '\n');
		}
	}
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

static int
cmd_workflow_delete(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *x = NULL;
	char path[300];
	int rc;

	if ((rc = cli_wf_opts(cli, argc, argv, NULL, NULL, 1,
	    "workflow NAME")) != -1)
		return rc;
	if (!cli_wf_name_ok(cli, argv[optind]))
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/v1/workflows/%s", argv[optind]);
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, "DELETE", path, NULL, 0, &resp, &x);
	if (rc == CLI_OK)
		printf("workflow %s deleted\n", argv[optind]);
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

const struct cli_cmd cli_cmd_workflow_create_entry = {
	"workflow create", "[--replace] [--json] FILE",
	"store a workflow file on the coordinator (then: bora run NAME)",
	cmd_workflow_create
};

const struct cli_cmd cli_cmd_workflow_list_entry = {
	"workflow list", "[--json]",
	"list the stored workflows",
	cmd_workflow_list
};

const struct cli_cmd cli_cmd_workflow_show_entry = {
	"workflow show", "NAME [--json]",
	"print a stored workflow's YAML (--json: and its canonical form)",
	cmd_workflow_show
};

const struct cli_cmd cli_cmd_workflow_delete_entry = {
	"workflow delete", "NAME",
	"forget a stored workflow",
	cmd_workflow_delete
};
