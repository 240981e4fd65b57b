/*
 * cli_ops.c: the CLI's operator views of executions (cli_int.h):
 *
 *   bora executions [--state S] [--workflow W] [--limit N] [--json]
 *                                     GET /v1/executions, as a table
 *   bora show ID [--json]             GET /v1/executions/ID, summed up
 *   bora logs ID [TASK] [--follow] [--json]
 *                                     the output of its steps: from the
 *                                     store (GET /v1/steps/ID/output), or
 *                                     live from the events stream
 *
 * Every line of output is "[agent task stream] text", as `bora run` prints
 * it.
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
#define CLI_OUTPUT_PAGE     500       /* chunks per GET of output */
#define CLI_PENDING_MAX     (1024 * 1024)  /* a line held for its end */

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

/* ---- bora logs ---------------------------------------------------------- */

/*
 * Output is cut into lines per step and stream: a chunk's text up to its
 * last newline is printed, the rest waits for the next chunk of the same
 * stream (or the step's end).
 */
struct cli_logs {
	const char *task;          /* only this task, or NULL */
	int json;
	char step[160];            /* whose pending text this is */
	char *pending[2];          /* stdout, other streams (stderr) */
	size_t plen[2];
	char pstream[2][16];       /* the stream of what is pending */
	char agent[128], tname[256];
	const char *exec;          /* the execution followed */
	size_t bad_lines;
};

static void
cli_logs_line(const char *agent, const char *task, const char *stream,
    const char *s, size_t n)
{
	printf("[%s %s %s] ", agent, task, stream);
	cli_exec_put_clean(stdout, s, n);
	fputc('\n', stdout);
}

/* Print what waits of the current step. */
static void
cli_logs_flush(struct cli_logs *l)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (l->plen[i] > 0)
			cli_logs_line(l->agent, l->tname, l->pstream[i],
			    l->pending[i], l->plen[i]);
		free(l->pending[i]);
		l->pending[i] = NULL;
		l->plen[i] = 0;
	}
	l->step[0] = '\0';
}

/* One chunk of step's output, as lines. */
static void
cli_logs_chunk(struct cli_logs *l, const char *step, const char *agent,
    const char *task, const char *stream, const char *data, size_t len)
{
	int k = strcmp(stream, "stdout") == 0 ? 0 : 1;
	const char *nl;
	char *grown, sname[16];
	size_t n;

	if (l->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s%}", "task", task,
		    "agent", agent, "step", step, "stream", stream, "data", data,
		    len);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (text != NULL)
			printf("%s\n", text);
		free(text);
		json_decref(o);
		return;
	}
	if (strcmp(l->step, step) != 0) {
		cli_logs_flush(l);
		snprintf(l->step, sizeof(l->step), "%s", step);
		cli_clean(agent, l->agent, sizeof(l->agent));
		cli_clean(task, l->tname, sizeof(l->tname));
	}
	stream = cli_clean(stream, sname, sizeof(sname));
	while (len > 0) {
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			if (l->plen[k] + len > CLI_PENDING_MAX) {
				/* a very long line: out in pieces */
				cli_logs_line(l->agent, l->tname, stream,
				    l->pending[k], l->plen[k]);
				l->plen[k] = 0;
			}
			grown = realloc(l->pending[k], l->plen[k] + len);
			if (grown == NULL)
				return;
			cli_clean(stream, l->pstream[k], sizeof(l->pstream[k]));
			memcpy(grown + l->plen[k], data, len);
			l->pending[k] = grown;
			l->plen[k] += len;
			return;
		}
		n = (size_t)(nl - data);
		if (l->plen[k] > 0) {
			grown = realloc(l->pending[k], l->plen[k] + n);
			if (grown != NULL) {
				memcpy(grown + l->plen[k], data, n);
				l->pending[k] = grown;
				cli_logs_line(l->agent, l->tname, stream, grown,
				    l->plen[k] + n);
			}
			l->plen[k] = 0;
		} else
			cli_logs_line(l->agent, l->tname, stream, data, n);
		data += n + 1;
		len -= n + 1;
	}
}

/* Every stored chunk of one step. */
static int
cli_logs_step(const struct cli *cli, struct cli_logs *l, const char *step,
    const char *agent, const char *task)
{
	struct http_response resp;
	char path[CLI_OPS_PATH];
	const json_t *chunks, *ch;
	json_int_t offset = 0;
	json_t *doc;
	size_t i;
	int rc, more = 1;

	while (more) {
		memset(&resp, 0, sizeof(resp));
		doc = NULL;
		snprintf(path, sizeof(path), "/v1/steps/%s/output?offset=%lld&"
		    "limit=%d", step, (long long)offset, CLI_OUTPUT_PAGE);
		rc = cli_call(cli, "GET", path, NULL, 0, &resp, &doc);
		if (rc != CLI_OK) {
			http_response_free(&resp);
			return rc;
		}
		chunks = json_object_get(doc, "chunks");
		json_array_foreach(chunks, i, ch)
			cli_logs_chunk(l, step, agent, task, cli_exec_str(ch,
			    "stream", "?"), cli_exec_str(ch, "data", ""),
			    json_string_length(json_object_get(ch, "data")));
		more = json_is_true(json_object_get(doc, "more")) &&
		    json_integer_value(json_object_get(doc, "next_offset")) >
		    offset;
		offset = json_integer_value(json_object_get(doc, "next_offset"));
		if (json_integer_value(json_object_get(doc, "dropped_bytes")) >
		    0 && !more && !l->json)
			printf("[%s %s] (%lld bytes of output past the "
			    "coordinator's cap were not kept)\n", l->agent,
			    l->tname, (long long)json_integer_value(
			    json_object_get(doc, "dropped_bytes")));
		json_decref(doc);
		http_response_free(&resp);
	}
	if (!l->json)
		cli_logs_flush(l);
	return CLI_OK;
}

#define CLI_LOGS_DEPTH 16        /* sub-workflows within sub-workflows */

static int cli_logs_tasks(const struct cli *cli, struct cli_logs *l,
    const json_t *x, const char *prefix, int depth);

/* The stored output of sub-workflow execution id, its tasks named
 * "prefix/task". */
static int
cli_logs_child(const struct cli *cli, struct cli_logs *l, const char *id,
    const char *prefix, int depth)
{
	struct http_response resp;
	char path[CLI_OPS_PATH];
	json_t *x = NULL;
	int rc;

	if (depth >= CLI_LOGS_DEPTH || !cli_exec_id_valid(id))
		return CLI_OK;
	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/executions/%s", id);
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, &x);
	if (rc == CLI_OK)
		rc = cli_logs_tasks(cli, l, x, prefix, depth + 1);
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

/* The stored output of every step of x's tasks, in task order, and of
 * its sub-workflows' (their tasks shown as "task/subtask"); at the top
 * (depth 0) of task l->task only. */
static int
cli_logs_tasks(const struct cli *cli, struct cli_logs *l, const json_t *x,
    const char *prefix, int depth)
{
	const json_t *tasks = json_object_get(x, "tasks"), *t, *a;
	const char *name, *step, *child;
	char full[256];
	size_t i, j;
	int rc, found = 0;

	json_array_foreach(tasks, i, t) {
		name = cli_exec_str(t, "name", "?");
		if (depth == 0 && l->task && strcmp(l->task, name) != 0)
			continue;
		found = 1;
		snprintf(full, sizeof(full), "%s%s", prefix, name);
		json_array_foreach(json_object_get(t, "actions"), j, a) {
			step = json_string_value(json_object_get(a, "step"));
			child = json_string_value(json_object_get(a,
			    "execution"));
			rc = CLI_OK;
			if (step != NULL)
				rc = cli_logs_step(cli, l, step, cli_exec_str(a,
				    "agent", "?"), full);
			else if (child != NULL) {
				char sub[sizeof(full) + 1];

				snprintf(sub, sizeof(sub), "%s/", full);
				rc = cli_logs_child(cli, l, child, sub, depth);
			}
			if (rc != CLI_OK)
				return rc;
		}
	}
	if (depth == 0 && l->task && !found) {
		cli_warnx("execution %s has no task %s (yet)", l->exec,
		    l->task);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int
cli_logs_stored(const struct cli *cli, struct cli_logs *l, const json_t *x)
{
	return cli_logs_tasks(cli, l, x, "", 0);
}

/* --follow: the output events of the execution's stream, live. */
static int
cli_logs_event(const char *line, size_t len, void *ctx)
{
	struct cli_logs *l = ctx;
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *task;

	if (!json_is_object(ev)) {
		l->bad_lines++;
		json_decref(ev);
		return 0;
	}
	task = cli_exec_str(ev, "task", "?");
	if (strcmp(cli_exec_str(ev, "event", ""), "output") == 0 &&
	    (l->task == NULL || strcmp(l->task, task) == 0))
		cli_logs_chunk(l, cli_exec_str(ev, "step", "?"),
		    cli_exec_str(ev, "agent", "?"), task,
		    cli_exec_str(ev, "stream", "?"), cli_exec_str(ev, "data", ""),
		    json_string_length(json_object_get(ev, "data")));
	else if (strcmp(cli_exec_str(ev, "event", ""), "step") == 0 &&
	    strcmp(cli_exec_str(ev, "step", ""), l->step) == 0 &&
	    strcmp(cli_exec_str(ev, "state", ""), "started") != 0 &&
	    !l->json)
		cli_logs_flush(l);     /* its last line without a newline */
	json_decref(ev);
	fflush(stdout);
	return ferror(stdout) ? 1 : 0;
}

static int
cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json",   no_argument, NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cli_logs l;
	struct http_response resp;
	char path[CLI_OPS_PATH];
	json_t *x = NULL;
	int c, rc, follow = 0;

	memset(&l, 0, sizeof(l));
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		if (c == 'f')
			follow = 1;
		else if (c == OPT_JSON)
			l.json = 1;
		else if ((rc = cli_common_opt(cli, c, argv)) != -1)
			return rc;
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error(cli, "expected an execution id and "
		    "maybe a task name");
	l.exec = argv[optind];
	l.task = argc - optind == 2 ? argv[optind + 1] : NULL;
	if ((rc = cli_exec_id_check(cli, l.exec)) != -1)
		return rc;
	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/executions/%s", l.exec);
	if ((rc = cli_call(cli, "GET", path, NULL, 0, &resp, &x)) != CLI_OK)
		goto out;
	/* An execution that runs: its events stream holds its output from
	 * the start, and goes on live. One that ended: the store's. */
	if (follow && json_object_get(x, "ended_ms") != NULL &&
	    !json_is_null(json_object_get(x, "ended_ms")))
		follow = 0;
	if (follow) {
		rc = cli_follow_events(cli, "execution", l.exec,
		    cli_logs_event, &l);
		if (!l.json)
			cli_logs_flush(&l);
	} else
		rc = cli_logs_stored(cli, &l, x);
	if (fflush(stdout) != 0 && rc == CLI_OK) {
		cli_warnx("cannot write to standard output");
		rc = CLI_FAIL;
	}
out:
	cli_logs_flush(&l);
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

const struct cli_cmd cli_cmd_logs_entry = {
	"logs", "ID [TASK] [--follow] [--json]",
	"print the output of an execution's steps",
	cmd_logs
};

const struct cli_cmd cli_cmd_execution_show_entry = {
	"execution show", "ID [--json]",
	"the same as show",
	cmd_show
};
