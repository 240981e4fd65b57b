/*
 * cli_exec.c: the CLI's workflow executions (cli_int.h):
 *
 *   bora run FILE ...                 POST /v1/executions, then follow
 *                                     GET /v1/executions/ID/events
 *   bora execution cancel|pause|resume ID
 *
 * `bora run` prints one line per event, made for a terminal:
 *
 *   12:00:01 execution RUNNING
 *   12:00:01 task install_db RUNNING
 *   12:00:01   step install_db on db-1 started
 *     [db-1 install_db stdout] a line of the script's output
 *   12:00:04 task install_db SUCCESS
 *   execution SUCCESS (3.2 s) output: {...}
 *
 * and exits 0 when the execution ends in SUCCESS, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "cli_int.h"
#include "dsl.h"
#include "msg.h"

#define CLI_EXEC_ID_MAX  64          /* engine.h ENGINE_ID_MAX */
#define CLI_EXEC_PATH    (CLI_EXEC_ID_MAX + 32)

/* ---- ids --------------------------------------------------------------- */

int
cli_exec_id_valid(const char *id)
{
	return strlen(id) < CLI_EXEC_ID_MAX && bora_step_id_valid(id);
}

int
cli_exec_id_check(const struct cli *cli, const char *id)
{
	if (!cli_exec_id_valid(id))
		return cli_usage_error(cli, "\"%s\" is not an execution id", id);
	return -1;
}

/* ---- the event lines --------------------------------------------------- */

/* Write s (n bytes) to f with control characters but tab shown as '?'. */
void
cli_exec_put_clean(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fputc(((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f ? '?' : s[i], f);
}

const char *
cli_exec_str(const json_t *ev, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s ? s : dflt;
}

struct cli_exec_follow {
	const char *id;            /* the execution followed */
	int live;                  /* print lines (not with --json) */
	size_t bad_lines;
};

/* "HH:MM:SS " of now, local time. */
static void
cli_exec_clock(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%H:%M:%S", &tm);
}

/* The " (in ID)" of an event of a sub-workflow. */
static void
cli_exec_where(const struct cli_exec_follow *f, const json_t *ev, char *buf,
    size_t n)
{
	const char *x = cli_exec_str(ev, "exec", f->id);
	char clean[CLI_EXEC_ID_MAX + 1];

	buf[0] = '\0';
	if (strcmp(x, f->id) != 0)
		snprintf(buf, n, " (in %s)", cli_clean(x, clean, sizeof(clean)));
}

/* Output: one line per line of data, "  [agent task stream] line". */
static void
cli_exec_output(const json_t *ev)
{
	const char *data = cli_exec_str(ev, "data", ""), *nl;
	char agent[128], task[256], stream[16];
	size_t len = json_string_length(json_object_get(ev, "data")), n;

	cli_clean(cli_exec_str(ev, "agent", "?"), agent, sizeof(agent));
	cli_clean(cli_exec_str(ev, "task", "?"), task, sizeof(task));
	cli_clean(cli_exec_str(ev, "stream", "?"), stream, sizeof(stream));
	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		printf("  [%s %s %s] ", agent, task, stream);
		cli_exec_put_clean(stdout, data, n);
		fputc('\n', stdout);
		n += nl ? 1 : 0;
		data += n;
		len -= n;
	}
}

static int
cli_exec_follow_line(const char *line, size_t len, void *ctx)
{
	struct cli_exec_follow *f = ctx;
	const char *kind, *info;
	char clock[16], where[CLI_EXEC_ID_MAX + 8], a[256], b[256], c[128];
	json_t *ev;

	ev = json_loadb(line, len, 0, NULL);
	if (!json_is_object(ev)) {
		f->bad_lines++;
		json_decref(ev);
		return 0;
	}
	if (!f->live)
		goto out;
	kind = cli_exec_str(ev, "event", "?");
	info = cli_exec_str(ev, "info", NULL);
	cli_exec_clock(clock, sizeof(clock));
	cli_exec_where(f, ev, where, sizeof(where));
	if (strcmp(kind, "output") == 0) {
		cli_exec_output(ev);
		goto out;
	}
	if (strcmp(kind, "execution") == 0)
		printf("%s execution %s%s", clock,
		    cli_clean(cli_exec_str(ev, "state", "?"), a, sizeof(a)),
		    where);
	else if (strcmp(kind, "task") == 0)
		printf("%s task %s %s%s", clock,
		    cli_clean(cli_exec_str(ev, "task", "?"), a, sizeof(a)),
		    cli_clean(cli_exec_str(ev, "state", "?"), b, sizeof(b)),
		    where);
	else if (strcmp(kind, "step") == 0)
		printf("%s   step %s on %s %s%s", clock,
		    cli_clean(cli_exec_str(ev, "task", "?"), a, sizeof(a)),
		    cli_clean(cli_exec_str(ev, "agent", "?"), c, sizeof(c)),
		    cli_clean(cli_exec_str(ev, "state", "?"), b, sizeof(b)),
		    where);
	else
		printf("%s %s%s", clock, cli_clean(kind, a, sizeof(a)), where);
	if (info != NULL) {
		fputs(": ", stdout);
		cli_exec_put_clean(stdout, info, strlen(info));
	}
	fputc('\n', stdout);
out:
	fflush(stdout);
	json_decref(ev);
	return ferror(stdout) ? 1 : 0;   /* stdout is gone: stop */
}

/* The last line: "execution SUCCESS (3.2 s) output: {...}". CLI_OK when
 * the execution succeeded. */
static int
cli_exec_summary(const json_t *x)
{
	const char *state = cli_exec_str(x, "state", "?");
	const char *info = cli_exec_str(x, "state_info", NULL);
	json_int_t t0 = json_integer_value(json_object_get(x, "created_ms"));
	json_int_t t1 = json_integer_value(json_object_get(x, "ended_ms"));
	const json_t *out = json_object_get(x, "output");
	char s[32], *text;

	printf("execution %s", cli_clean(state, s, sizeof(s)));
	if (t1 >= t0 && t1 > 0)
		printf(" (%.1f s)", (double)(t1 - t0) / 1000.0);
	if (info != NULL) {
		fputs(": ", stdout);
		cli_exec_put_clean(stdout, info, strlen(info));
	}
	if (out != NULL && !json_is_null(out) &&
	    (text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL) {
		fputs(" output: ", stdout);
		cli_exec_put_clean(stdout, text, strlen(text));
		free(text);
	}
	fputc('\n', stdout);
	fflush(stdout);
	return strcmp(state, "SUCCESS") == 0 ? CLI_OK : CLI_FAIL;
}

/* ---- bora run ---------------------------------------------------------- */

/* The errors of a refused workflow (from index first on) to stderr, one
 * per line as file:line:column: message; how many there were in all. */
size_t
cli_print_workflow_errors(const struct http_response *resp, size_t first)
{
	json_t *doc, *errs, *e;
	char file[300], msg[1024];
	size_t i, n;

	doc = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) :
	    NULL;
	errs = json_object_get(doc, "errors");
	n = json_array_size(errs);
	json_array_foreach(errs, i, e) {
		if (i < first)
			continue;
		fprintf(stderr, "%s:%lld:%lld: %s\n", cli_clean(cli_exec_str(e,
		    "file", "?"), file, sizeof(file)),
		    (long long)json_integer_value(json_object_get(e, "line")),
		    (long long)json_integer_value(json_object_get(e, "column")),
		    cli_clean(cli_exec_str(e, "message", "?"), msg,
		    sizeof(msg)));
	}
	json_decref(doc);
	return n;
}

/* A refused POST: every workflow error, else the API's detail. */
static int
cli_exec_refused(const struct http_response *resp)
{
	if (cli_print_workflow_errors(resp, 0) == 0)
		return cli_status_error(resp);
	return CLI_FAIL;
}

/* POST the request; the new execution's id into id. */
static int
cli_exec_post(const struct cli *cli, const json_t *req, char *id,
    size_t idlen)
{
	struct http_response resp;
	struct http_request rq;
	const char *got;
	char *body, err[512];
	json_t *doc = NULL;
	int rc;

	memset(&resp, 0, sizeof(resp));
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL) {
		cli_warnx("out of memory");
		return CLI_FAIL;
	}
	rq = (struct http_request){ .socket_path = cli_socket(cli),
	    .method = "POST", .path = "/v1/executions", .body = body,
	    .body_len = strlen(body), .timeout_s = 60 };
	rc = http_do(&rq, &resp, err, sizeof(err));
	free(body);
	if (rc != 0) {
		rc = cli_transport_error(cli, rc, err);
		goto out;
	}
	if (resp.status != 201 && resp.status != 200) {
		rc = cli_exec_refused(&resp);
		goto out;
	}
	doc = json_loadb(resp.body, resp.body_len, 0, NULL);
	got = json_string_value(json_object_get(doc, "id"));
	if (got == NULL || !cli_exec_id_valid(got)) {
		cli_warnx("the coordinator's answer has no execution id");
		rc = CLI_FAIL;
		goto out;
	}
	snprintf(id, idlen, "%s", got);
	rc = CLI_OK;
out:
	json_decref(doc);
	http_response_free(&resp);
	return rc;
}

/* Follow the events to the end, then sum up from the final state. */
static int
cli_exec_follow(const struct cli *cli, const char *id, int json)
{
	struct cli_exec_follow f = { id, !json, 0 };
	struct http_response resp;
	char path[CLI_EXEC_PATH];
	json_t *x = NULL;
	int rc;

	memset(&resp, 0, sizeof(resp));
	if ((rc = cli_follow_events(cli, "execution", id, cli_exec_follow_line,
	    &f)) != CLI_OK)
		goto out;
	if (f.bad_lines > 0)
		cli_warnx("%zu event lines of execution %s were not JSON",
		    f.bad_lines, id);

	snprintf(path, sizeof(path), "/v1/executions/%s", id);
	if ((rc = cli_call(cli, "GET", path, NULL, 0, &resp, &x)) != CLI_OK)
		goto out;
	if (json) {
		rc = cli_write_all(1, resp.body, resp.body_len) != 0 ? CLI_FAIL :
		    strcmp(cli_exec_str(x, "state", "?"), "SUCCESS") == 0 ?
		    CLI_OK : CLI_FAIL;
		goto out;
	}
	rc = cli_exec_summary(x);
out:
	signal(SIGINT, SIG_DFL);
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

static int
cmd_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workflow",   required_argument, NULL, 'w' },
		{ "input",      required_argument, NULL, 'i' },
		{ "input-json", required_argument, NULL, 'j' },
		{ "task",       required_argument, NULL, 't' },
		{ "no-follow",  no_argument,       NULL, 'n' },
		{ "json",       no_argument,       NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	json_t *inputs = json_object(), *base = json_object(), *req = NULL;
	const char *workflow = NULL, *task = NULL, *input_json = NULL;
	char *text = NULL, id[CLI_EXEC_ID_MAX + 1];
	size_t len;
	int c, rc, follow = 1, json = 0;

	if (inputs == NULL || base == NULL) {
		rc = CLI_FAIL;
		goto out;
	}
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			workflow = optarg;
			break;
		case 'i':
			if ((rc = cli_input_add(cli, inputs, optarg)) != 0)
				goto out;
			break;
		case 'j':
			input_json = optarg;
			break;
		case 't':
			task = optarg;
			break;
		case 'n':
			follow = 0;
			break;
		case OPT_JSON:
			json = 1;
			break;
		default:
			if ((rc = cli_common_opt(cli, c, argv)) != -1)
				goto out;
		}
	}
	if (argc - optind != 1) {
		rc = cli_usage_error(cli, "expected one workflow FILE (or the "
		    "NAME of a stored workflow)");
		goto out;
	}
	if (input_json != NULL &&
	    (rc = cli_input_json(cli, base, input_json)) != 0)
		goto out;
	json_object_update(base, inputs);     /* --input wins */
	if (strcmp(argv[optind], "-") != 0 && access(argv[optind], F_OK) != 0 &&
	    errno == ENOENT && strchr(argv[optind], '/') == NULL)
		/* not a file: a workflow stored with `bora workflow create` */
		req = json_pack("{s:s, s:O}", "workflow_name", argv[optind],
		    "input", base);
	else if ((text = cli_read_script(argv[optind], DSL_FILE_MAX, &len)) ==
	    NULL) {
		rc = CLI_FAIL;
		goto out;
	} else
		req = json_pack("{s:s%, s:s, s:O}", "workflow", text, len,
		    "file", argv[optind], "input", base);
	if (req == NULL) {
		cli_warnx("%s: not valid UTF-8 text", argv[optind]);
		rc = CLI_FAIL;
		goto out;
	}
	if ((workflow && json_object_set_new(req, "name",
	    json_string(workflow)) != 0) || (task &&
	    json_object_set_new(req, "task", json_string(task)) != 0)) {
		rc = cli_usage_error(cli, "--workflow, --task: expected UTF-8 "
		    "text");
		goto out;
	}
	if ((rc = cli_exec_post(cli, req, id, sizeof(id))) != CLI_OK)
		goto out;
	if (!follow) {
		printf("%s\n", id);
		rc = CLI_OK;
		goto out;
	}
	if (!json)
		printf("execution %s started\n", id);
	rc = cli_exec_follow(cli, id, json);
out:
	json_decref(req);
	json_decref(inputs);
	json_decref(base);
	free(text);
	return rc;
}

/* ---- bora execution cancel | pause | resume ---------------------------- */

/* ID and the options of these commands (--reason for cancel). -1 to go
 * on, else the exit status. */
static int
cli_exec_parse(struct cli *cli, int argc, char **argv, const char **id,
    const char **reason)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "json",   no_argument,       NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'r' && reason != NULL)
			*reason = optarg;
		else if (c == OPT_JSON && reason == NULL) {
			/* show: JSON is all it prints */
		} else if (c == 'r' || c == OPT_JSON)
			return cli_usage_error(cli, "%s is not an option of "
			    "this command", argv[optind - 1]);
		else if ((rc = cli_common_opt(cli, c, argv)) != -1)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one execution id");
	*id = argv[optind];
	return cli_exec_id_check(cli, *id);
}

/* POST /v1/executions/ID/verb; says the new state. */
static int
cli_exec_command(struct cli *cli, int argc, char **argv, const char *verb)
{
	struct http_response resp;
	char path[CLI_EXEC_PATH + 16], state[32], *body = NULL;
	const char *id = NULL, *reason = NULL;
	json_t *x = NULL, *req;
	int rc;

	rc = cli_exec_parse(cli, argc, argv, &id, strcmp(verb, "cancel") == 0 ?
	    &reason : NULL);
	if (rc != -1)
		return rc;
	memset(&resp, 0, sizeof(resp));
	if (reason != NULL) {
		req = json_pack("{s:s}", "reason", reason);
		body = req ? json_dumps(req, JSON_COMPACT) : NULL;
		json_decref(req);
		if (body == NULL)
			return cli_usage_error(cli, "--reason: expected UTF-8 "
			    "text");
	}
	snprintf(path, sizeof(path), "/v1/executions/%s/%s", id, verb);
	rc = cli_call(cli, "POST", path, body, body ? strlen(body) : 0, &resp,
	    &x);
	if (rc == CLI_OK)
		printf("execution %s %s\n", id, cli_clean(cli_exec_str(x,
		    "state", "?"), state, sizeof(state)));
	free(body);
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

static int
cmd_execution_cancel(struct cli *cli, int argc, char **argv)
{
	return cli_exec_command(cli, argc, argv, "cancel");
}

static int
cmd_execution_pause(struct cli *cli, int argc, char **argv)
{
	return cli_exec_command(cli, argc, argv, "pause");
}

static int
cmd_execution_resume(struct cli *cli, int argc, char **argv)
{
	return cli_exec_command(cli, argc, argv, "resume");
}

const struct cli_cmd cli_cmd_run_entry = {
	"run", "[--workflow NAME] [--input K=V]... [--input-json JSON] "
	  "[--task NAME] [--no-follow] FILE|NAME",
	"start a workflow execution (a file, or a stored workflow's NAME) "
	  "and follow it to its end",
	cmd_run
};

const struct cli_cmd cli_cmd_cancel_entry = {
	"cancel", "ID [--reason TEXT]",
	"cancel an execution",
	cmd_execution_cancel
};

const struct cli_cmd cli_cmd_pause_entry = {
	"pause", "ID",
	"pause an execution (running actions go on)",
	cmd_execution_pause
};

const struct cli_cmd cli_cmd_resume_entry = {
	"resume", "ID",
	"resume a paused execution",
	cmd_execution_resume
};

const struct cli_cmd cli_cmd_execution_cancel_entry = {
	"execution cancel", "ID [--reason TEXT]",
	"the same as cancel",
	cmd_execution_cancel
};

const struct cli_cmd cli_cmd_execution_pause_entry = {
	"execution pause", "ID",
	"the same as pause",
	cmd_execution_pause
};

const struct cli_cmd cli_cmd_execution_resume_entry = {
	"execution resume", "ID",
	"the same as resume",
	cmd_execution_resume
};
