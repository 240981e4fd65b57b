/*
 * cli_logs.c: `bora logs ID [TASK] [--follow] [--json]`: the output of an
 * execution's steps (into its sub-workflows), from the store (GET
 * /v1/steps/ID/output, a page at a time) or, with --follow, live from the
 * events stream. Every line is "[agent task stream] text", as `bora run`
 * prints it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli_int.h"

#define CLI_OPS_PATH        512
#define CLI_OUTPUT_PAGE     500       /* chunks per GET of output */
#define CLI_PENDING_MAX     (1024 * 1024)  /* a line held for its end */

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

const struct cli_cmd cli_cmd_logs_entry = {
	"logs", "ID [TASK] [--follow] [--json]",
	"print the output of an execution's steps",
	cmd_logs
};
