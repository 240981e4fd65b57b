/*
 * cli_main.c: the operator CLI `bora`, one const table of subcommands.
 *
 * It talks to the coordinator's API (docs/api.md) on its unix socket:
 * --socket PATH, else $BORA_SOCKET, else CLI_DEFAULT_SOCKET.
 *
 * Exit status: 0 ok, 1 failure, 2 usage error; `step run` passes on the
 * step's exit code when it failed with one, and 124 for a timeout (like
 * timeout(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "api.h"            /* API_WS_PROTOCOL */
#include "cli_int.h"
#include "dsl.h"
#include "cli_http_client_int.h"
#include "msg.h"

#ifndef BORA_VERSION
#define BORA_VERSION "0.0.0-dev"
#endif

#define CLI_DEFAULT_SOCKET  "/var/lib/bora/api.sock"
#define CLI_TIMEOUT_S       60       /* for answers that are not streams */
#define CLI_MAX_SCRIPT      (BORA_MAX_MESSAGE_BYTES - 64 * 1024)

static int cmd_agents(struct cli *, int, char **);
static int cmd_step_run(struct cli *, int, char **);
static int cmd_step_show(struct cli *, int, char **);
static int cmd_step_events(struct cli *, int, char **);
static int cmd_validate(struct cli *, int, char **);
static int cmd_version(struct cli *, int, char **);
static int cmd_help(struct cli *, int, char **);

static const struct cli_cmd cli_cmds[] = {
	{ "agents", "[--json]",
	  "list the agents, enrolled or connected, and their state",
	  cmd_agents },
	{ "step run", "--agent NAME [--timeout S] [--input K=V]... [--json] "
	  "FILE|-",
	  "run a script on an agent and follow its output", cmd_step_run },
	{ "step show", "ID [--json]",
	  "show a step's state and result", cmd_step_show },
	{ "step events", "ID",
	  "print a step's events as NDJSON, live until it ends",
	  cmd_step_events },
	{ "run", "[--workflow NAME] [--input K=V]... [--input-json JSON] "
	  "[--task NAME] [--no-follow] FILE|NAME",
	  "start a workflow execution (a file, or a stored workflow's NAME) "
	  "and follow it to its end", cmd_run },
	{ "executions", "[--state S] [--workflow W] [--limit N] [--json]",
	  "list executions, newest first", cmd_executions },
	{ "show", "ID [--json]",
	  "show an execution: its state, tasks, agents, durations",
	  cmd_show },
	{ "logs", "ID [TASK] [--follow] [--json]",
	  "print the output of an execution's steps", cmd_logs },
	{ "watch", "ID",
	  "watch an execution live until it ends", cmd_watch },
	{ "cancel", "ID [--reason TEXT]",
	  "cancel an execution", cmd_execution_cancel },
	{ "pause", "ID",
	  "pause an execution (running actions go on)", cmd_execution_pause },
	{ "resume", "ID",
	  "resume a paused execution", cmd_execution_resume },
	{ "execution show", "ID [--json]",
	  "the same as show", cmd_show },
	{ "execution cancel", "ID [--reason TEXT]",
	  "the same as cancel", cmd_execution_cancel },
	{ "execution pause", "ID",
	  "the same as pause", cmd_execution_pause },
	{ "execution resume", "ID",
	  "the same as resume", cmd_execution_resume },
	{ "token create", "[--name N] [--labels k=v,...] [--ttl 1h] "
	  "[--uses N] [--json]",
	  "make an enrollment token (shown once)", cmd_token_create },
	{ "workflow create", "[--replace] [--json] FILE",
	  "store a workflow file on the coordinator (then: bora run NAME)",
	  cmd_workflow_create },
	{ "workflow list", "[--json]",
	  "list the stored workflows", cmd_workflow_list },
	{ "workflow show", "NAME [--json]",
	  "print a stored workflow's YAML (--json: and its canonical form)",
	  cmd_workflow_show },
	{ "workflow delete", "NAME",
	  "forget a stored workflow", cmd_workflow_delete },
	{ "token list", "[--json]",
	  "list enrollment tokens (never their secret)", cmd_token_list },
	{ "token revoke", "ID",
	  "make a token unusable", cmd_token_revoke },
	{ "agent revoke", "NAME",
	  "revoke an agent's certificate and disconnect it", cmd_agent_revoke },
	{ "validate", "[--quiet] FILE|-...",
	  "check workflow files (locally) and print their canonical JSON",
	  cmd_validate },
	{ "version", "",
	  "print the version", cmd_version },
	{ "help", "[COMMAND]",
	  "show this help, or one command's", cmd_help },
};
#define CLI_N_CMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

/* ---- small helpers ----------------------------------------------------- */

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("bora: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Write all of buf to fd, unbuffered. */
int
cli_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy s for a terminal cell: control characters become '?'. */
const char *
cli_clean(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

const char *
cli_socket(const struct cli *cli)
{
	const char *env;

	if (cli->socket != NULL)
		return cli->socket;
	env = getenv("BORA_SOCKET");
	return env && env[0] ? env : CLI_DEFAULT_SOCKET;
}

static void
cli_usage_of(FILE *out, const struct cli_cmd *c)
{
	fprintf(out, "usage: bora %s%s%s\n", c->name, c->args[0] ? " " : "",
	    c->args);
}

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

/* ---- talking to the coordinator ---------------------------------------- */

/* Say why the request did not get an answer, with what to do next. */
int
cli_transport_error(const struct cli *cli, int rc, const char *err)
{
	if (cli->url != NULL && rc == HTTP_ERR_CONNECT)
		cli_warnx("cannot reach coordinator at %s: %s; is it running, "
		    "with its HTTPS API on (api.port)?", cli->url, err);
	else if (cli->url != NULL)
		cli_warnx("coordinator at %s: %s", cli->url, err);
	else if (rc == HTTP_ERR_CONNECT && strcmp(err, strerror(EACCES)) == 0)
		cli_warnx("cannot reach coordinator at %s: %s; the API socket "
		    "is for the coordinator's user only (run bora as that user)",
		    cli_socket(cli), err);
	else if (rc == HTTP_ERR_CONNECT)
		cli_warnx("cannot reach coordinator at %s: %s; is it running? "
		    "(bora-coordinator --api-socket %s)%s", cli_socket(cli), err,
		    cli_socket(cli), cli->socket == NULL && getenv("BORA_SOCKET")
		    == NULL ? "; or give bora its socket: --socket PATH or "
		    "BORA_SOCKET" : "");
	else
		cli_warnx("coordinator at %s: %s; it may be overloaded or "
		    "stuck: see its log, then try again", cli_socket(cli), err);
	return CLI_FAIL;
}

/* Say what the API refused: its {"error","detail"} document if any. */
int
cli_status_error(const struct http_response *resp)
{
	json_t *doc = NULL;
	const char *detail = NULL, *code = NULL;

	if (resp->body != NULL)
		doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (json_is_object(doc)) {
		detail = json_string_value(json_object_get(doc, "detail"));
		code = json_string_value(json_object_get(doc, "error"));
	}
	if (resp->status == 401)
		cli_warnx("the coordinator refused the operator token (HTTP 401 "
		    "unauthorized): %s; give bora the token of "
		    "bora-coordinator init: --token-file FILE, BORA_TOKEN or "
		    "token_file in ~/.config/bora/config",
		    detail ? detail : "no detail");
	else if (detail != NULL)
		cli_warnx("%s (HTTP %d %s)", detail, resp->status,
		    code ? code : "");
	else
		cli_warnx("the coordinator answered HTTP %d %s", resp->status,
		    resp->reason);
	json_decref(doc);
	return CLI_FAIL;
}

/*
 * One request; on a 2xx answer returns CLI_OK with the body in *resp (and
 * parsed into *doc when doc is set: a new reference). Otherwise says why
 * and returns CLI_FAIL. resp is the caller's to free either way.
 */
int
cli_call(const struct cli *cli, const char *method, const char *path,
    const char *body, size_t body_len, struct http_response *resp,
    json_t **doc)
{
	struct http_request rq = {
		.socket_path = cli_socket(cli), .method = method, .path = path,
		.body = body, .body_len = body_len, .timeout_s = CLI_TIMEOUT_S,
	};
	json_error_t jerr;
	char err[512];
	int rc;

	rc = http_do(&rq, resp, err, sizeof(err));
	if (rc != 0)
		return cli_transport_error(cli, rc, err);
	if (resp->status < 200 || resp->status > 299)
		return cli_status_error(resp);
	if (doc != NULL) {
		*doc = json_loadb(resp->body, resp->body_len, 0, &jerr);
		if (!json_is_object(*doc)) {
			json_decref(*doc);
			*doc = NULL;
			cli_warnx("the coordinator's answer to %s %s is not a "
			    "JSON object: %s", method, path, jerr.text);
			return CLI_FAIL;
		}
	}
	return CLI_OK;
}

void
cli_print_compact(const json_t *v, const char *dflt)
{
	char *text = json_dumps(v, JSON_COMPACT);

	printf("%s\n", text ? text : dflt);
	free(text);
}

/* ---- option parsing ---------------------------------------------------- */

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
static int
cli_json_loop(struct cli *cli, int argc, char **argv, int *json,
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

	if ((rc = cli_json_loop(cli, argc, argv, json, NULL)) != -1)
		return rc;
	if (nargs == 0 && optind != argc)
		return cli_usage_error(cli, "unexpected argument %s",
		    argv[optind]);
	if (nargs == 1 && argc - optind != 1)
		return cli_usage_error(cli, "expected one %s", what);
	return -1;
}

/* A command that takes one step id and maybe --json. */
static int
cli_parse_id(struct cli *cli, int argc, char **argv, int allow_json,
    const char **id, int *json)
{
	int rc;

	*json = 0;
	if ((rc = cli_json_loop(cli, argc, argv, allow_json ? json : NULL,
	    "--json is not an option of this command")) != -1)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one step id");
	*id = argv[optind];
	if (!bora_step_id_valid(*id))
		return cli_usage_error(cli, "\"%s\" is not a step id (like "
		    "step-1a2b3c4d-7)", *id);
	return -1;
}

/* ---- bora agents ------------------------------------------------------- */

static void
cli_age(time_t since, char *buf, size_t n)
{
	long long s = (long long)(time(NULL) - since);

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, n, "%llds", s);
	else if (s < 3600)
		snprintf(buf, n, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, n, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

/* "2026-11-22T05:04:42Z" -> how long ago, or the text as is. */
static void
cli_since(const char *rfc3339, char *buf, size_t n)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = rfc3339 ? strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (end == NULL) {
		snprintf(buf, n, "%s", rfc3339 ? rfc3339 : "-");
		return;
	}
	cli_age(timegm(&tm), buf, n);
}

static int
cli_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels {"k":"v",...} -> "k=v,k2=v2" sorted by key */
static void
cli_labels(json_t *labels, char *buf, size_t n)
{
	const char *keys[64], *key;
	size_t nk = 0, i, used = 0;
	json_t *v;
	char *text;

	buf[0] = '\0';
	json_object_foreach(labels, key, v)
		if (nk < sizeof(keys) / sizeof(keys[0]))
			keys[nk++] = key;
	qsort(keys, nk, sizeof(keys[0]), cli_strcmp_p);
	for (i = 0; i < nk && used + 1 < n; i++) {
		v = json_object_get(labels, keys[i]);
		text = json_is_string(v) ? NULL :
		    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		used += (size_t)snprintf(buf + used, n - used, "%s%s=%s",
		    i ? "," : "", keys[i], text ? text : json_string_value(v));
		free(text);
	}
	if (used >= n && n > 4)
		strcpy(buf + n - 4, "...");
	if (nk == 0)
		snprintf(buf, n, "-");
}

#define CLI_COLS 6

static int
cmd_agents(struct cli *cli, int argc, char **argv)
{
	static const char *const head[CLI_COLS] = {
		"NAME", "STATE", "ADDRESS", "VERSION", "CONNECTED", "LABELS"
	};
	struct http_response resp;
	json_t *doc = NULL, *agents, *a;
	char (*cells)[CLI_COLS][256] = NULL;
	char raw[1024];
	size_t i, n, w[CLI_COLS];
	int rc, json = 0, col;

	if ((rc = cli_json_opts(cli, argc, argv, &json, 0, NULL)) != -1)
		return rc;

	rc = cli_call(cli, "GET", "/v1/agents", NULL, 0, &resp,
	    json ? NULL : &doc);
	if (rc != CLI_OK)
		goto out;
	if (json) {
		if (cli_write_all(1, resp.body, resp.body_len) != 0)
			rc = CLI_FAIL;
		goto out;
	}
	agents = json_object_get(doc, "agents");
	n = json_array_size(agents);
	if (n == 0) {
		fprintf(stderr, "no agents enrolled or connected\n");
		goto out;
	}
	cells = calloc(n, sizeof(*cells));
	if (cells == NULL) {
		cli_warnx("out of memory");
		rc = CLI_FAIL;
		goto out;
	}
	for (col = 0; col < CLI_COLS; col++)
		w[col] = strlen(head[col]);
	json_array_foreach(agents, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *addr = json_string_value(json_object_get(a, "addr"));
		const char *ver = json_string_value(json_object_get(a,
		    "version"));
		const char *state = json_string_value(json_object_get(a,
		    "state"));

		cli_clean(name ? name : "?", cells[i][0], sizeof(cells[i][0]));
		/* an older coordinator lists connected agents only */
		cli_clean(state ? state : "connected", cells[i][1],
		    sizeof(cells[i][1]));
		cli_clean(addr ? addr : "-", cells[i][2], sizeof(cells[i][2]));
		cli_clean(ver && ver[0] ? ver : "-", cells[i][3],
		    sizeof(cells[i][3]));
		cli_since(json_string_value(json_object_get(a,
		    "connected_since")), cells[i][4], sizeof(cells[i][4]));
		cli_labels(json_object_get(a, "labels"), raw, sizeof(raw));
		cli_clean(raw, cells[i][5], sizeof(cells[i][5]));
		for (col = 0; col < CLI_COLS; col++)
			if (strlen(cells[i][col]) > w[col])
				w[col] = strlen(cells[i][col]);
	}
	for (col = 0; col < CLI_COLS - 1; col++)
		printf("%-*s  ", (int)w[col], head[col]);
	printf("%s\n", head[CLI_COLS - 1]);
	for (i = 0; i < n; i++) {
		for (col = 0; col < CLI_COLS - 1; col++)
			printf("%-*s  ", (int)w[col], cells[i][col]);
		printf("%s\n", cells[i][CLI_COLS - 1]);
	}
out:
	free(cells);
	json_decref(doc);
	http_response_free(&resp);
	return rc;
}

/* ---- bora step run ----------------------------------------------------- */

/* "90", "90s", "5m", "2h", "1d" -> seconds in 1..BORA_MAX_TIMEOUT_S, or -1 */
static long
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

/* Read FILE (or stdin for "-"), up to max bytes. Returns a malloc'ed
 * NUL-terminated buffer and its length, or NULL after saying why. */
char *
cli_read_script(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	const char *name = f == stdin ? "standard input" : path;
	char *buf;
	size_t n;

	if (f == NULL) {
		cli_warnx("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 2);
	if (buf == NULL) {
		cli_warnx("out of memory");
		goto fail;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		cli_warnx("%s: %s", name, strerror(errno));
		goto fail;
	}
	if (n > max) {
		cli_warnx("%s: over the limit of %zu bytes (a step's script "
		    "fits in one protocol message; a workflow file in 1 MiB)",
		    name, max);
		goto fail;
	}
	if (memchr(buf, '\0', n) != NULL) {
		cli_warnx("%s: holds a NUL byte; expected text", name);
		goto fail;
	}
	buf[n] = '\0';
	*len = n;
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

/* The SIGINT message: we stop following, the step or execution goes on. */
static char cli_sigint_msg[BORA_MAX_STEP_ID * 2 + 128];

static void
cli_on_sigint(int sig)
{
	(void)sig;
	(void)!write(2, cli_sigint_msg, strlen(cli_sigint_msg));
	_exit(130);
}

int
cli_follow_events(const struct cli *cli, const char *what, const char *id,
    http_line_fn fn, void *ctx)
{
	return cli_follow_events_idle(cli, what, id, fn, ctx, 0, NULL);
}

int
cli_follow_events_idle(const struct cli *cli, const char *what,
    const char *id, http_line_fn fn, void *ctx, int idle_ms,
    int (*on_idle)(void *ctx))
{
	struct http_response resp;
	struct http_request rq;
	char path[BORA_MAX_STEP_ID + 64], err[512];
	int rc;

	memset(&resp, 0, sizeof(resp));
	snprintf(cli_sigint_msg, sizeof(cli_sigint_msg), "\nbora: stopped "
	    "following %s %s; it goes on (bora %s show %s)\n", what, id, what,
	    id);
	signal(SIGINT, cli_on_sigint);
	snprintf(path, sizeof(path), "/v1/%ss/%s/events", what, id);
	rq = (struct http_request){ .socket_path = cli_socket(cli),
	    .method = "GET", .path = path, .timeout_s = 0, .idle_ms = idle_ms,
	    .on_idle = on_idle, .idle_ctx = ctx,
	    /* an execution's events come as a websocket (docs/api.md) */
	    .websocket = strcmp(what, "execution") == 0 ? API_WS_PROTOCOL :
	    NULL };
	rc = http_stream(&rq, fn, ctx, &resp, err, sizeof(err));
	if (rc != 0 && rc != HTTP_STOPPED) {
		cli_transport_error(cli, rc, err);
		cli_warnx("%s %s goes on; see: bora %s show %s", what, id, what,
		    id);
		rc = CLI_FAIL;
	} else if (resp.status != 200 && resp.status != 101)
		rc = cli_status_error(&resp);
	else
		rc = CLI_OK;
	http_response_free(&resp);
	return rc;
}

struct cli_follow {
	int live;                  /* print output events */
	json_t *result;            /* from the result event */
	size_t bad_lines;
	char last[3];              /* last byte written to fd 1, 2 */
};

static int
cli_follow_line(const char *line, size_t len, void *ctx)
{
	struct cli_follow *f = ctx;
	const char *event, *stream, *data;
	json_t *ev;
	size_t dlen;
	int fd;

	ev = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(ev)) {
		f->bad_lines++;
		json_decref(ev);
		return 0;
	}
	event = json_string_value(json_object_get(ev, "event"));
	if (event != NULL && strcmp(event, "output") == 0 && f->live) {
		stream = json_string_value(json_object_get(ev, "stream"));
		data = json_string_value(json_object_get(ev, "data"));
		dlen = json_string_length(json_object_get(ev, "data"));
		fd = stream && strcmp(stream, "stderr") == 0 ? 2 : 1;
		if (data != NULL && dlen > 0) {
			(void)cli_write_all(fd, data, dlen);
			f->last[fd] = data[dlen - 1];
		}
	} else if (event != NULL && strcmp(event, "result") == 0) {
		json_decref(f->result);
		f->result = json_incref(json_object_get(ev, "result"));
	}
	json_decref(ev);
	return 0;
}

/* Print the final line and choose the exit status. */
static int
cli_step_summary(const char *id, const json_t *step, const json_t *res)
{
	const char *status = json_string_value(json_object_get(res, "status"));
	const char *error = json_string_value(json_object_get(res, "error"));
	const json_t *code = json_object_get(res, "exit_code");
	json_int_t sig = json_integer_value(json_object_get(res, "signal"));
	json_int_t t0 = json_integer_value(json_object_get(res, "started_ms"));
	json_int_t t1 = json_integer_value(json_object_get(res, "finished_ms"));
	json_int_t dropped = json_integer_value(json_object_get(step,
	    "output_dropped_bytes"));
	char took[32] = "", why[512] = "";
	int rc = CLI_FAIL;

	if (t0 > 0 && t1 >= t0)
		snprintf(took, sizeof(took), " (%.1f s)", (double)(t1 - t0) / 1e3);
	if (error != NULL)
		cli_clean(error, why, sizeof(why));
	if (status == NULL) {
		fprintf(stderr, "step %s: finished without a status\n", id);
	} else if (strcmp(status, "success") == 0) {
		fprintf(stderr, "step %s: success exit=%lld%s\n", id,
		    json_is_integer(code) ? (long long)json_integer_value(code)
		    : 0LL, took);
		rc = CLI_OK;
	} else if (strcmp(status, "failed") == 0 && json_is_integer(code)) {
		fprintf(stderr, "step %s: failed exit=%lld%s%s%s\n", id,
		    (long long)json_integer_value(code), took,
		    why[0] ? ": " : "", why);
		rc = (int)json_integer_value(code);
		if (rc < 1 || rc > 255)
			rc = CLI_FAIL;
	} else if (strcmp(status, "failed") == 0 && sig > 0) {
		fprintf(stderr, "step %s: failed signal=%lld (%s)%s\n", id,
		    (long long)sig, strsignal((int)sig), took);
	} else if (strcmp(status, "timeout") == 0) {
		fprintf(stderr, "step %s: timeout after %lld s\n", id,
		    (long long)json_integer_value(json_object_get(step,
		    "timeout")));
		rc = CLI_TIMEOUT;
	} else if (strcmp(status, "lost") == 0) {
		fprintf(stderr, "step %s: lost: the agent stopped while the step "
		    "ran%s%s\n", id, why[0] ? ": " : "", why);
	} else {
		fprintf(stderr, "step %s: %s%s%s%s\n", id, status, took,
		    why[0] ? ": " : "", why);
	}
	if (dropped > 0)
		fprintf(stderr, "step %s: %lld bytes of output were over the "
		    "coordinator's cap and were not kept\n", id,
		    (long long)dropped);
	return rc;
}

static int
cmd_step_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agent",   required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "input",   required_argument, NULL, 'i' },
		{ "json",    no_argument,       NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct http_response resp;
	struct cli_follow follow = { 1, NULL, 0, "" };
	json_t *inputs = NULL, *req = NULL, *step = NULL, *final = NULL, *script;
	const char *agent = NULL, *res_state;
	char *text = NULL, *body = NULL, *eq, path[BORA_MAX_STEP_ID + 32];
	char id[BORA_MAX_STEP_ID + 1];
	size_t len;
	long timeout = 0;
	int c, rc, json = 0;

	memset(&resp, 0, sizeof(resp));
	if ((inputs = json_object()) == NULL)
		return CLI_FAIL;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			agent = optarg;
			break;
		case 't':
			timeout = cli_parse_duration(optarg);
			if (timeout < 0) {
				rc = cli_usage_error(cli, "--timeout: expected "
				    "seconds from 1 to %d (or with s, m, h, d)",
				    BORA_MAX_TIMEOUT_S);
				goto out;
			}
			break;
		case 'i':
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				rc = cli_usage_error(cli, "--input: expected "
				    "NAME=VALUE, got \"%s\"", optarg);
				goto out;
			}
			*eq = '\0';
			if (json_object_get(inputs, optarg) != NULL) {
				rc = cli_usage_error(cli, "--input: %s given "
				    "twice", optarg);
				goto out;
			}
			if (json_object_size(inputs) >= CLI_MAX_INPUTS ||
			    json_object_set_new(inputs, optarg,
			    json_string(eq + 1)) != 0) {
				rc = cli_usage_error(cli, "--input %s: the value "
				    "must be UTF-8 text", optarg);
				goto out;
			}
			break;
		case OPT_JSON:
			json = 1;
			follow.live = 0;
			break;
		default:
			if ((rc = cli_common_opt(cli, c, argv)) != -1)
				goto out;
		}
	}
	if (agent == NULL) {
		rc = cli_usage_error(cli, "--agent NAME is required");
		goto out;
	}
	if (!bora_name_valid(agent)) {
		rc = cli_usage_error(cli, "--agent: \"%s\" is not an agent name",
		    agent);
		goto out;
	}
	if (argc - optind != 1) {
		rc = cli_usage_error(cli, "expected one script FILE (or - for "
		    "standard input)");
		goto out;
	}
	text = cli_read_script(argv[optind], CLI_MAX_SCRIPT, &len);
	if (text == NULL) {
		rc = CLI_FAIL;
		goto out;
	}
	script = json_stringn(text, len);
	if (script == NULL) {
		cli_warnx("%s: not valid UTF-8 text", argv[optind]);
		rc = CLI_FAIL;
		goto out;
	}
	req = json_pack("{s:s, s:s, s:{s:o}}", "agent", agent, "kind", "script",
	    "spec", "script", script);
	if (req != NULL && json_object_size(inputs) > 0)
		json_object_set(req, "inputs", inputs);
	if (req != NULL && timeout > 0)
		json_object_set_new(req, "timeout", json_integer(timeout));
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (body == NULL) {
		cli_warnx("out of memory");
		rc = CLI_FAIL;
		goto out;
	}

	rc = cli_call(cli, "POST", "/v1/steps", body, strlen(body), &resp,
	    &step);
	if (rc != CLI_OK)
		goto out;
	if (!json_is_string(json_object_get(step, "id")) ||
	    !bora_step_id_valid(json_string_value(json_object_get(step, "id")))) {
		cli_warnx("the coordinator's answer has no step id");
		rc = CLI_FAIL;
		goto out;
	}
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(step,
	    "id")));
	http_response_free(&resp);
	if (isatty(2))
		fprintf(stderr, "step %s: queued for agent %s\n", id, agent);
	if ((rc = cli_follow_events(cli, "step", id, cli_follow_line,
	    &follow)) != CLI_OK)
		goto out;
	if (follow.bad_lines > 0)
		cli_warnx("%zu event lines of step %s were not JSON",
		    follow.bad_lines, id);

	/* The final state (and the result, should the stream have lost it). */
	snprintf(path, sizeof(path), "/v1/steps/%s", id);
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, &final);
	if (rc != CLI_OK)
		goto out;
	res_state = json_string_value(json_object_get(final, "state"));
	if (follow.result == NULL && json_is_object(json_object_get(final,
	    "result")))
		follow.result = json_incref(json_object_get(final, "result"));
	if (follow.result == NULL) {
		cli_warnx("the event stream of step %s ended before its result "
		    "(state %s); see: bora step show %s", id,
		    res_state ? res_state : "?", id);
		rc = CLI_FAIL;
		goto out;
	}
	if (json && cli_write_all(1, resp.body, resp.body_len) != 0) {
		rc = CLI_FAIL;
		goto out;
	}
	/* The summary starts a line of its own, also after output that did
	 * not end with a newline (on stderr, or on a shared terminal). */
	if ((follow.last[2] && follow.last[2] != '\n') || (follow.last[1] &&
	    follow.last[1] != '\n' && isatty(1) && isatty(2)))
		fputc('\n', stderr);
	rc = cli_step_summary(id, final, follow.result);
out:
	signal(SIGINT, SIG_DFL);
	json_decref(follow.result);
	json_decref(inputs);
	json_decref(req);
	json_decref(step);
	json_decref(final);
	free(body);
	free(text);
	http_response_free(&resp);
	return rc;
}

/* ---- bora step show / events ------------------------------------------- */

static void
cli_show_field(const char *key, const char *value)
{
	char clean[1024];

	printf("%-10s %s\n", key, cli_clean(value, clean, sizeof(clean)));
}

static void
cli_show_ms(const char *key, json_int_t ms)
{
	char buf[64];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0)
		return;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
	    (int)(ms % 1000));
	cli_show_field(key, buf);
}

static int
cmd_step_show(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *step = NULL, *res, *v;
	const char *id, *key;
	char path[BORA_MAX_STEP_ID + 32], buf[1024], *text;
	int rc, json;

	memset(&resp, 0, sizeof(resp));
	if ((rc = cli_parse_id(cli, argc, argv, 1, &id, &json)) != -1)
		return rc;
	snprintf(path, sizeof(path), "/v1/steps/%s", id);
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, json ? NULL : &step);
	if (rc != CLI_OK)
		goto out;
	if (json) {
		if (cli_write_all(1, resp.body, resp.body_len) != 0)
			rc = CLI_FAIL;
		goto out;
	}
	cli_show_field("step", json_string_value(json_object_get(step, "id"))
	    ?: id);
	cli_show_field("agent", json_string_value(json_object_get(step,
	    "agent")) ?: "?");
	cli_show_field("kind", json_string_value(json_object_get(step,
	    "kind")) ?: "?");
	cli_show_field("state", json_string_value(json_object_get(step,
	    "state")) ?: "?");
	snprintf(buf, sizeof(buf), "%lld s", (long long)json_integer_value(
	    json_object_get(step, "timeout")));
	cli_show_field("timeout", buf);
	cli_show_ms("created", json_integer_value(json_object_get(step,
	    "created_ms")));
	res = json_object_get(step, "result");
	if (json_is_object(res)) {
		cli_show_field("status", json_string_value(json_object_get(res,
		    "status")) ?: "?");
		if (json_is_integer(json_object_get(res, "exit_code"))) {
			snprintf(buf, sizeof(buf), "%lld", (long long)
			    json_integer_value(json_object_get(res,
			    "exit_code")));
			cli_show_field("exit", buf);
		}
		if (json_integer_value(json_object_get(res, "signal")) > 0) {
			snprintf(buf, sizeof(buf), "%lld", (long long)
			    json_integer_value(json_object_get(res, "signal")));
			cli_show_field("signal", buf);
		}
		cli_show_ms("started", json_integer_value(json_object_get(res,
		    "started_ms")));
		cli_show_ms("finished", json_integer_value(json_object_get(res,
		    "finished_ms")));
		if (json_is_string(json_object_get(res, "error")))
			cli_show_field("error", json_string_value(
			    json_object_get(res, "error")));
		json_object_foreach(json_object_get(res, "outputs"), key, v) {
			text = json_is_string(v) ? NULL :
			    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			snprintf(buf, sizeof(buf), "%s=%s", key,
			    text ? text : json_string_value(v));
			free(text);
			cli_show_field("output", buf);
		}
	}
	if (json_integer_value(json_object_get(step, "output_dropped_bytes")) > 0) {
		snprintf(buf, sizeof(buf), "%lld bytes not kept", (long long)
		    json_integer_value(json_object_get(step,
		    "output_dropped_bytes")));
		cli_show_field("dropped", buf);
	}
	printf("(output: bora step events %s)\n", id);
out:
	json_decref(step);
	http_response_free(&resp);
	return rc;
}

static int
cli_print_line(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (cli_write_all(1, line, len) != 0 || cli_write_all(1, "\n", 1) != 0)
		return 1;          /* stdout is gone: stop */
	return 0;
}

static int
cmd_step_events(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	struct http_request rq;
	const char *id;
	char path[BORA_MAX_STEP_ID + 32], err[512];
	int rc, json;

	if ((rc = cli_parse_id(cli, argc, argv, 0, &id, &json)) != -1)
		return rc;
	snprintf(path, sizeof(path), "/v1/steps/%s/events", id);
	rq = (struct http_request){ .socket_path = cli_socket(cli),
	    .method = "GET", .path = path, .timeout_s = 0 };
	rc = http_stream(&rq, cli_print_line, NULL, &resp, err, sizeof(err));
	if (rc == HTTP_STOPPED)
		rc = CLI_FAIL;
	else if (rc != 0)
		rc = cli_transport_error(cli, rc, err);
	else if (resp.status != 200)
		rc = cli_status_error(&resp);
	else
		rc = CLI_OK;
	http_response_free(&resp);
	return rc;
}

/* ---- bora validate ---------------------------------------------------- */

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

/* ---- version, help ----------------------------------------------------- */

static int
cmd_version(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	printf("bora %s\n", BORA_VERSION);
	return CLI_OK;
}

static void
cli_usage(FILE *out)
{
	size_t i;
	int w;

	fprintf(out, "usage: bora [--socket PATH | --url https://HOST:PORT "
	    "[--token-file FILE | --token T] [--ca FILE]] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; i < CLI_N_CMDS; i++) {
		w = fprintf(out, "  %s %s", cli_cmds[i].name, cli_cmds[i].args);
		if (w > 40)
			fprintf(out, "\n%42s", "");
		else
			fprintf(out, "%*s", 42 - w, "");
		fprintf(out, "%s\n", cli_cmds[i].help);
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

static const struct cli_cmd *
cli_find(int argc, char **argv, int *words)
{
	char two[64];
	size_t i;

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (i = 0; i < CLI_N_CMDS; i++)
			if (strcmp(cli_cmds[i].name, two) == 0) {
				*words = 2;
				return &cli_cmds[i];
			}
	}
	for (i = 0; argc >= 1 && i < CLI_N_CMDS; i++)
		if (strcmp(cli_cmds[i].name, argv[0]) == 0) {
			*words = 1;
			return &cli_cmds[i];
		}
	return NULL;
}

/* Commands that start with word (for "bora step"). */
static int
cli_list_group(FILE *out, const char *word)
{
	size_t i, n = strlen(word), found = 0;

	for (i = 0; i < CLI_N_CMDS; i++)
		if (strncmp(cli_cmds[i].name, word, n) == 0 &&
		    cli_cmds[i].name[n] == ' ') {
			fprintf(out, "  bora %s %s\n", cli_cmds[i].name,
			    cli_cmds[i].args);
			found++;
		}
	return (int)found;
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
	c = cli_find(argc - 1, argv + 1, &words);
	if (c != NULL) {
		cli_usage_of(stdout, c);
		printf("%s\n", c->help);
		return CLI_OK;
	}
	if (cli_list_group(stdout, argv[1]) > 0)
		return CLI_OK;
	cli_warnx("no command %s; run 'bora help'", argv[1]);
	return CLI_USAGE;
}

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
			return cmd_version(&cli, 0, NULL);
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
	c = cli_find(argc - i, argv + i, &words);
	if (c == NULL) {
		if (strcmp(argv[i], "step") == 0 ||
		    strcmp(argv[i], "workflow") == 0 ||
		    strcmp(argv[i], "execution") == 0) {
			fprintf(stderr, "bora: %s needs a subcommand:\n",
			    argv[i]);
			cli_list_group(stderr, argv[i]);
			return CLI_USAGE;
		}
		return cli_usage_error(&cli, "unknown command %s", argv[i]);
	}
	cli.cmd = c;
	/* The command sees its last word as argv[0]. */
	return c->run(&cli, argc - i - words + 1, argv + i + words - 1);
}
