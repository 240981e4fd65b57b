/*
 * cli_watch.c: `bora watch ID`, an execution as it runs (cli_int.h).
 *
 * It follows GET /v1/executions/ID/events (which replays from the start,
 * then goes on live) until the execution ends, and exits 0 when it ended
 * in SUCCESS, 1 otherwise.
 *
 * On a terminal the view is redrawn in place: a header with the state and
 * duration, then one row per task (state, target agents, duration, the
 * last line of its output). Events only mark the view stale; it is
 * redrawn from a fresh GET /v1/executions/ID at most WATCH_FPS times a
 * second, by moving the cursor up over the previous drawing and clearing
 * to the end of the screen. Rows are cut to the terminal's width (a
 * wrapped row would break the count of lines to move up over) and to its
 * height. Without events it is redrawn every second all the same, so the
 * durations of running tasks go on counting.
 *
 * Anywhere else (a pipe, a file, a CI log) it appends one plain line per
 * change instead, from the events themselves (so no state is skipped):
 *
 *   12:00:01 execution RUNNING
 *   12:00:01 task install RUNNING
 *   12:00:01   step install on db-1 started
 *   12:00:04 task install ERROR (3.1s): step ... (exit 3; stderr: ...)
 *   execution ERROR (3.2s): task install failed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "cli_int.h"

#define WATCH_FPS          10
#define WATCH_TICK_MS      1000      /* redraw without events (durations) */
#define WATCH_PATH         256
#define WATCH_LINE_MAX     512       /* bytes kept of a task's last line */
#define WATCH_MAX_TASKS    4096      /* tasks whose last line is kept */

struct watch {
	const struct cli *cli;
	const char *id;
	int tty;                   /* redraw in place */
	int width, height;         /* of the terminal */
	int drawn;                 /* lines of the last drawing */
	int stale;                 /* events since the last drawing */
	json_int_t last_draw;      /* ms */
	json_t *last_line;         /* task name -> its last output line */
	int failed;                /* a refresh could not be made */
};

/* ---- the terminal view -------------------------------------------------- */

/* The last non-empty line of data (len bytes), into buf. */
static void
watch_last_line(const char *data, size_t len, char *buf, size_t n)
{
	size_t end = len, start;

	while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && data[start - 1] != '\n')
		start--;
	if (end - start >= n)
		start = end - (n - 1);
	memcpy(buf, data + start, end - start);
	buf[end - start] = '\0';
}

/* One row into the drawing, cut to the width; counts lines. */
static void
watch_row(struct watch *w, const char *text)
{
	char clean[1024];
	size_t n;

	cli_clean(text, clean, sizeof(clean));
	n = strlen(clean);
	if (w->width > 0 && n >= (size_t)w->width)
		n = (size_t)w->width - 1;
	fwrite(clean, 1, n, stdout);
	fputs("\033[K\n", stdout);
	w->drawn++;
}

/* Redraw the view from the execution's document x. */
static void
watch_draw(struct watch *w, const json_t *x)
{
	const json_t *tasks = json_object_get(x, "tasks"), *t;
	char row[1024], dur[32], agents[128], name[64], st[32], id[80];
	const char *last, *info = cli_exec_str(x, "state_info", NULL);
	int rows_left;
	size_t i;

	/* back to the top of the last drawing, clear what follows */
	if (w->drawn > 0)
		printf("\033[%dA", w->drawn);
	fputs("\r\033[J", stdout);
	w->drawn = 0;
	cli_span(x, "created_ms", "ended_ms", dur, sizeof(dur));
	cli_clean(cli_exec_str(x, "id", "?"), id, sizeof(id));
	snprintf(row, sizeof(row), "execution %s  %s  %s  %s%s%s", id,
	    cli_exec_str(x, "workflow", "?"), cli_exec_str(x, "state", "?"),
	    dur, info ? "  " : "", info ? info : "");
	watch_row(w, row);
	snprintf(row, sizeof(row), "%-20s %-15s %-16s %-8s %s", "TASK", "STATE",
	    "AGENTS", "DURATION", "LAST OUTPUT");
	watch_row(w, row);
	rows_left = w->height > 4 ? w->height - 4 : 1000;
	json_array_foreach(tasks, i, t) {
		if (rows_left-- == 0) {
			snprintf(row, sizeof(row), "... %zu more tasks (bora show "
			    "%s)", json_array_size(tasks) - i, id);
			watch_row(w, row);
			break;
		}
		cli_task_agents(t, agents, sizeof(agents));
		if (strlen(agents) > 16)
			snprintf(agents + 13, sizeof(agents) - 13, "...");
		cli_span(t, "started_ms", "finished_ms", dur, sizeof(dur));
		snprintf(name, sizeof(name), "%s", cli_exec_str(t, "name", "?"));
		snprintf(st, sizeof(st), "%s", cli_exec_str(t, "state", "?"));
		last = json_string_value(json_object_get(w->last_line,
		    cli_exec_str(t, "name", "")));
		snprintf(row, sizeof(row), "%-20.20s %-15.15s %-16s %-8s %s",
		    name, st, agents, dur, last ? last : "");
		watch_row(w, row);
	}
	fflush(stdout);
	w->last_draw = cli_now_ms();
	w->stale = 0;
}

/* GET the execution and redraw. */
static int
watch_refresh(struct watch *w, json_t **out)
{
	struct http_response resp;
	char path[WATCH_PATH];
	json_t *x = NULL;
	int rc;

	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/executions/%s", w->id);
	rc = cli_call(w->cli, "GET", path, NULL, 0, &resp, &x);
	http_response_free(&resp);
	if (rc != CLI_OK) {
		w->failed = 1;
		return rc;
	}
	if (w->tty)
		watch_draw(w, x);
	if (out != NULL)
		*out = x;
	else
		json_decref(x);
	return CLI_OK;
}

/* ---- the events --------------------------------------------------------- */

/* The document of the task of event ev (by exec and seq), from a fresh
 * GET: a new reference, or NULL. */
static json_t *
watch_task(struct watch *w, const json_t *ev)
{
	struct http_response resp;
	char path[WATCH_PATH];
	json_t *x = NULL, *t, *found = NULL;
	json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
	size_t i;

	memset(&resp, 0, sizeof(resp));
	snprintf(path, sizeof(path), "/v1/executions/%s",
	    cli_exec_str(ev, "exec", w->id));
	if (cli_exec_id_valid(cli_exec_str(ev, "exec", w->id)) &&
	    cli_call(w->cli, "GET", path, NULL, 0, &resp, &x) == CLI_OK)
		json_array_foreach(json_object_get(x, "tasks"), i, t)
			if (json_integer_value(json_object_get(t, "seq")) == seq)
				found = json_incref(t);
	json_decref(x);
	http_response_free(&resp);
	return found;
}

/* Plain mode: one line per execution, task and step event. */
static void
watch_plain(struct watch *w, const json_t *ev, const char *kind)
{
	const char *info = cli_exec_str(ev, "info", NULL);
	const char *state = cli_exec_str(ev, "state", "?");
	char clock[16], a[256], b[128], c[64], dur[40];
	time_t now = time(NULL);
	struct tm tm;
	json_t *t;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	dur[0] = '\0';
	cli_clean(state, c, sizeof(c));
	if (strcmp(kind, "execution") == 0)
		printf("%s execution %s", clock, c);
	else if (strcmp(kind, "task") == 0) {
		/* an ended task: its duration from the coordinator's times
		 * (the events may be a replay) */
		if ((strcmp(state, "SUCCESS") == 0 ||
		    strcmp(state, "ERROR") == 0 ||
		    strcmp(state, "CANCELLED") == 0) &&
		    (t = watch_task(w, ev)) != NULL) {
			dur[0] = ' ';
			dur[1] = '(';
			cli_span(t, "started_ms", "finished_ms", dur + 2,
			    sizeof(dur) - 3);
			strcat(dur, ")");
			json_decref(t);
		}
		printf("%s task %s %s%s", clock, cli_clean(cli_exec_str(ev,
		    "task", "?"), a, sizeof(a)), c, dur);
	} else {
		printf("%s   step %s on %s %s", clock, cli_clean(cli_exec_str(ev,
		    "task", "?"), a, sizeof(a)), cli_clean(cli_exec_str(ev,
		    "agent", "?"), b, sizeof(b)), c);
	}
	if (strcmp(cli_exec_str(ev, "exec", w->id), w->id) != 0)
		printf(" (in %s)", cli_clean(cli_exec_str(ev, "exec", "?"), a,
		    sizeof(a)));
	if (info != NULL) {
		fputs(": ", stdout);
		cli_exec_put_clean(stdout, info, strlen(info));
	}
	fputc('\n', stdout);
	fflush(stdout);
}

static int
watch_event(const char *line, size_t len, void *ctx)
{
	struct watch *w = ctx;
	const char *kind, *data;
	char last[WATCH_LINE_MAX];
	json_t *ev;
	size_t n;

	ev = json_loadb(line, len, 0, NULL);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return 0;
	}
	kind = cli_exec_str(ev, "event", "?");
	if (strcmp(kind, "output") == 0) {
		data = cli_exec_str(ev, "data", "");
		n = json_string_length(json_object_get(ev, "data"));
		watch_last_line(data, n, last, sizeof(last));
		if (last[0] && (json_object_size(w->last_line) <
		    WATCH_MAX_TASKS || json_object_get(w->last_line,
		    cli_exec_str(ev, "task", "?")) != NULL))
			(void)json_object_set_new(w->last_line, cli_exec_str(ev,
			    "task", "?"), json_string(last));
	} else if (!w->tty && (strcmp(kind, "execution") == 0 ||
	    strcmp(kind, "task") == 0 || strcmp(kind, "step") == 0))
		watch_plain(w, ev, kind);
	json_decref(ev);
	w->stale = 1;
	if (w->tty && cli_now_ms() - w->last_draw >= 1000 / WATCH_FPS &&
	    watch_refresh(w, NULL) != CLI_OK)
		return 1;
	return ferror(stdout) ? 1 : 0;
}

/* No event for a while: redraw anyway on a terminal, so that the
 * durations of running tasks go on counting. */
static int
watch_idle(void *ctx)
{
	struct watch *w = ctx;

	if (!w->tty)
		return 0;
	return watch_refresh(w, NULL) != CLI_OK;
}

static int
cmd_watch(struct cli *cli, int argc, char **argv)
{
	struct watch w;
	json_t *x = NULL;
	const char *state, *info;
	char dur[32];
	int rc;

	if ((rc = cli_json_opts(cli, argc, argv, NULL, 1,
	    "execution id")) != -1 ||
	    (rc = cli_exec_id_check(cli, argv[optind])) != -1)
		return rc;
	memset(&w, 0, sizeof(w));
	w.cli = cli;
	w.id = argv[optind];
	w.width = cli_term_width(1);
	w.tty = w.width > 0 && getenv("TERM") != NULL &&
	    strcmp(getenv("TERM"), "dumb") != 0;
	w.height = w.tty ? cli_term_height(1) : 0;
	w.last_line = json_object();
	if (w.last_line == NULL) {
		rc = CLI_FAIL;
		goto out;
	}
	/* one drawing at once, even before the first event */
	if (w.tty && (rc = watch_refresh(&w, NULL)) != CLI_OK)
		goto out;
	rc = cli_follow_events_idle(cli, "execution", w.id, watch_event, &w,
	    w.tty ? WATCH_TICK_MS : 0, watch_idle);
	if (rc != CLI_OK || w.failed) {
		rc = CLI_FAIL;
		goto out;
	}
	/* the end: the last drawing, then one line that sums up */
	if ((rc = watch_refresh(&w, &x)) != CLI_OK)
		goto out;
	state = cli_exec_str(x, "state", "?");
	info = cli_exec_str(x, "state_info", NULL);
	cli_span(x, "created_ms", "ended_ms", dur, sizeof(dur));
	printf("execution %s (%s)", state, dur);
	if (info != NULL) {
		fputs(": ", stdout);
		cli_exec_put_clean(stdout, info, strlen(info));
	}
	fputc('\n', stdout);
	rc = strcmp(state, "SUCCESS") == 0 ? CLI_OK : CLI_FAIL;
	if (fflush(stdout) != 0)
		rc = CLI_FAIL;
out:
	json_decref(x);
	json_decref(w.last_line);
	return rc;
}

const struct cli_cmd cli_cmd_watch_entry = {
	"watch", "ID",
	"watch an execution live until it ends",
	cmd_watch
};
