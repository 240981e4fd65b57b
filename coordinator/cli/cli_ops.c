/*
 * cli_ops.c: the CLI's operator views of executions (cli_int.h), and the
 * helpers the live views share (terminal size, durations, a task's agents):
 *
 *   bora executions [--state S] [--workflow W] [--limit N] [--json]
 *                                     GET /v1/executions, as a table
 *   bora show ID [--json]             GET /v1/executions/ID, summed up
 *
 * `bora logs` is cli_logs.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "cli_int.h"

#define CLI_OPS_PATH        512

/* ---- small helpers ----------------------------------------------------- */

int
cli_term_width(int fd)
{
	struct winsize ws;

	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

int
cli_term_height(int fd)
{
	struct winsize ws;

	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0)
		return 0;
	return ws.ws_row;
}

void
cli_duration(json_int_t ms, char *buf, size_t n)
{
	if (ms < 0)
		ms = 0;
	if (ms < 60 * 1000)
		snprintf(buf, n, "%.1fs", (double)ms / 1000.0);
	else if (ms < 3600 * 1000)
		snprintf(buf, n, "%lldm%02llds", (long long)(ms / 60000),
		    (long long)(ms / 1000 % 60));
	else
		snprintf(buf, n, "%lldh%02lldm", (long long)(ms / 3600000),
		    (long long)(ms / 60000 % 60));
}

json_int_t
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long ago wall time ms was: "5m02s ago". */
static void
cli_ago(json_int_t ms, char *buf, size_t n)
{
	char d[32];

	cli_duration(cli_now_ms() - ms, d, sizeof(d));
	snprintf(buf, n, "%s ago", d);
}

/* A task's (or an execution's) duration so far, from its _ms fields. */
void
cli_span(const json_t *o, const char *from, const char *to, char *buf,
    size_t n)
{
	json_int_t t0 = json_integer_value(json_object_get(o, from));
	json_int_t t1 = json_integer_value(json_object_get(o, to));

	if (t0 <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	cli_duration((t1 >= t0 ? t1 : cli_now_ms()) - t0, buf, n);
}

/* The distinct agents of a task's actions, "a,b", or "-". */
void
cli_task_agents(const json_t *task, char *buf, size_t n)
{
	const json_t *acts = json_object_get(task, "actions"), *a;
	const char *name;
	char clean[128];
	size_t i, len = 0;

	buf[0] = '\0';
	json_array_foreach(acts, i, a) {
		name = json_string_value(json_object_get(a, "agent"));
		if (name == NULL)
			continue;
		cli_clean(name, clean, sizeof(clean));
		/* already listed? (a with-items task runs often on one) */
		if (strstr(buf, clean) != NULL)
			continue;
		len = strlen(buf);
		if (len + strlen(clean) + 5 >= n) {
			snprintf(buf + len, n - len, "%s...", len ? "," : "");
			break;
		}
		snprintf(buf + len, n - len, "%s%s", len ? "," : "", clean);
	}
	if (buf[0] == '\0')
		snprintf(buf, n, "-");
}

/* s cut to at most w columns (bytes; "..." marks the cut), into buf. */
static const char *
cli_fit(const char *s, int w, char *buf, size_t n)
{
	cli_clean(s, buf, n);
	if (w > 3 && strlen(buf) > (size_t)w)
		snprintf(buf + w - 3, n - (size_t)(w - 3), "...");
	return buf;
}

static int
cli_print_json(const json_t *doc)
{
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		cli_warnx("cannot write to standard output");
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* s percent-encoded for a query value: a malloc'ed string, or NULL when
 * out of memory or over 256 bytes. */
static char *
cli_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = strlen(s);
	char *out, *o;

	if (n > 256 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ---- bora executions ---------------------------------------------------- */

/* "done/total" tasks of a listing's task_states. */
static void
cli_task_counts(const json_t *x, char *buf, size_t n)
{
	const json_t *st = json_object_get(x, "task_states");
	json_int_t total = json_integer_value(json_object_get(x, "task_count"));
	json_int_t done = json_integer_value(json_object_get(st, "SUCCESS")) +
	    json_integer_value(json_object_get(st, "ERROR")) +
	    json_integer_value(json_object_get(st, "CANCELLED"));

	snprintf(buf, n, "%lld/%lld", (long long)done, (long long)total);
}

static int
cmd_executions(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state",    required_argument, NULL, 's' },
		{ "workflow", required_argument, NULL, 'w' },
		{ "limit",    required_argument, NULL, 'l' },
		{ "json",     no_argument,       NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *state = NULL, *workflow = NULL, *limit = "50";
	char path[CLI_OPS_PATH], *qs = NULL, *qw = NULL;
	char id[32], wf[64], st[16], tasks[24], ago[40], dur[24];
	struct http_response resp;
	const json_t *list, *x;
	json_t *doc = NULL;
	size_t i;
	int c, rc, json = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 's')
			state = optarg;
		else if (c == 'w')
			workflow = optarg;
		else if (c == 'l')
			limit = optarg;
		else if (c == OPT_JSON)
			json = 1;
		else if ((rc = cli_common_opt(cli, c, argv)) != -1)
			return rc;
	}
	if (argc != optind)
		return cli_usage_error(cli, "unexpected argument %s",
		    argv[optind]);
	if (strspn(limit, "0123456789") != strlen(limit) || !limit[0] ||
	    strlen(limit) > 6)
		return cli_usage_error(cli, "--limit: expected a number");
	memset(&resp, 0, sizeof(resp));
	if ((state && (qs = cli_url_escape(state)) == NULL) ||
	    (workflow && (qw = cli_url_escape(workflow)) == NULL)) {
		rc = cli_usage_error(cli, "--state, --workflow: too long");
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/executions?limit=%s%s%s%s%s", limit,
	    qs ? "&state=" : "", qs ? qs : "", qw ? "&workflow=" : "",
	    qw ? qw : "");
	if ((rc = cli_call(cli, "GET", path, NULL, 0, &resp, &doc)) != CLI_OK)
		goto out;
	if (json) {
		rc = cli_print_json(doc);
		goto out;
	}
	list = json_object_get(doc, "executions");
	if (json_array_size(list) == 0) {
		fprintf(stderr, "no executions%s\n", state || workflow ?
		    " match" : "");
		goto out;
	}
	printf("%-12s  %-20s  %-9s  %-7s  %-13s  %s\n", "ID", "WORKFLOW",
	    "STATE", "TASKS", "STARTED", "DURATION");
	json_array_foreach(list, i, x) {
		cli_fit(cli_exec_str(x, "id", "?"), 12, id, sizeof(id));
		cli_fit(cli_exec_str(x, "workflow", "?"), 20, wf, sizeof(wf));
		cli_fit(cli_exec_str(x, "state", "?"), 9, st, sizeof(st));
		cli_task_counts(x, tasks, sizeof(tasks));
		cli_ago(json_integer_value(json_object_get(x, "created_ms")),
		    ago, sizeof(ago));
		cli_span(x, "created_ms", "ended_ms", dur, sizeof(dur));
		printf("%-12s  %-20s  %-9s  %-7s  %-13s  %s\n", id, wf, st,
		    tasks, ago, dur);
	}
	if ((size_t)json_integer_value(json_object_get(doc, "total")) > i)
		printf("(%zu of %lld; --limit N for more)\n", i, (long long)
		    json_integer_value(json_object_get(doc, "total")));
	if (fflush(stdout) != 0)
		rc = CLI_FAIL;
out:
	free(qs);
	free(qw);
	json_decref(doc);
	http_response_free(&resp);
	return rc;
}

/* ---- bora show ---------------------------------------------------------- */

/* The human view of an execution document. */
static void
cli_show_print(const json_t *x)
{
	const char *info = cli_exec_str(x, "state_info", NULL);
	const json_t *tasks = json_object_get(x, "tasks"), *t, *out;
	char a[256], b[64], c[256], d[32], e[1024];
	int width = cli_term_width(1), w;
	char *text;
	size_t i;

	printf("execution  %s\n", cli_clean(cli_exec_str(x, "id", "?"), a,
	    sizeof(a)));
	printf("workflow   %s\n", cli_clean(cli_exec_str(x, "workflow", "?"), a,
	    sizeof(a)));
	if (json_is_string(json_object_get(x, "parent")))
		printf("parent     %s\n", cli_clean(cli_exec_str(x, "parent",
		    "?"), a, sizeof(a)));
	printf("state      %s\n", cli_clean(cli_exec_str(x, "state", "?"), a,
	    sizeof(a)));
	if (info != NULL)
		printf("info       %s\n", cli_clean(info, e, sizeof(e)));
	cli_ago(json_integer_value(json_object_get(x, "created_ms")), a,
	    sizeof(a));
	printf("started    %s\n", a);
	cli_span(x, "created_ms", "ended_ms", a, sizeof(a));
	printf("duration   %s%s\n", a, json_is_integer(json_object_get(x,
	    "ended_ms")) ? "" : " (running)");
	out = json_object_get(x, "output");
	if (out != NULL && !json_is_null(out) &&
	    (text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL) {
		printf("output     %s\n", cli_clean(text, e, sizeof(e)));
		free(text);
	}
	if (json_array_size(tasks) == 0)
		return;
	printf("\n%-20s  %-15s  %-16s  %-8s  %s\n", "TASK", "STATE", "AGENTS",
	    "DURATION", "INFO");
	json_array_foreach(tasks, i, t) {
		cli_task_agents(t, c, sizeof(c));
		cli_span(t, "started_ms", "finished_ms", d, sizeof(d));
		/* the info in full on a pipe, cut to the terminal's width */
		w = width > 70 ? width - 69 : width ? 4 : 0;
		cli_fit(cli_exec_str(t, "state_info", ""), w, e, sizeof(e));
		printf("%-20s  %-15s  %-16s  %-8s%s%s\n",
		    cli_fit(cli_exec_str(t, "name", "?"), 20, a, sizeof(a)),
		    cli_fit(cli_exec_str(t, "state", "?"), 15, b, sizeof(b)),
		    cli_fit(c, 16, c, sizeof(c)), d, e[0] ? "  " : "", e);
	}
}

static int
cmd_show(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	char path[CLI_OPS_PATH];
	json_t *x = NULL;
	int rc, json = 0;

	if ((rc = cli_json_opts(cli, argc, argv, &json, 1,
	    "execution id")) != -1 ||
	    (rc = cli_exec_id_check(cli, argv[optind])) != -1)
		return rc;
	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/executions/%s", argv[optind]);
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, &x);
	if (rc == CLI_OK && json)
		rc = cli_print_json(x);
	else if (rc == CLI_OK) {
		cli_show_print(x);
		if (fflush(stdout) != 0)
			rc = CLI_FAIL;
	}
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

const struct cli_cmd cli_cmd_executions_entry = {
	"executions", "[--state S] [--workflow W] [--limit N] [--json]",
	"list executions, newest first",
	cmd_executions
};

const struct cli_cmd cli_cmd_show_entry = {
	"show", "ID [--json]",
	"show an execution: its state, tasks, agents, durations",
	cmd_show
};

const struct cli_cmd cli_cmd_execution_show_entry = {
	"execution show", "ID [--json]",
	"the same as show",
	cmd_show
};
