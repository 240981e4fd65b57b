/*
 * cli_int.h: what the CLI's files share (cli_main.c: the command table, helpers,
 * agents, steps, validate; cli_exec.c: workflow executions; cli_ops.c: listings,
 * show, logs; cli_watch.c: the live view; cli_tokens.c: enrollment tokens and
 * revocation).
 */
#ifndef BORA_CLI_INT_H
#define BORA_CLI_INT_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "cli_http_client_int.h"

#define CLI_MAX_INPUTS      1024

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_TIMEOUT = 124 };

struct cli {
	const char *socket;        /* --socket, resolved in cli_socket() */
	const struct cli_cmd *cmd;
	/* The HTTPS API (cli_endpoint.c): set when the coordinator is reached
	 * at a URL rather than a unix socket. */
	const char *url, *token, *token_file, *ca;
};

struct cli_cmd {
	const char *name;          /* one or two words: "step run" */
	const char *args;
	const char *help;
	int (*run)(struct cli *cli, int argc, char **argv);
};

enum { OPT_SOCKET = 1000, OPT_JSON, OPT_HELP };

#define CLI_COMMON_OPTS \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "help",   no_argument,       NULL, OPT_HELP }

void cli_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write all of buf to fd, unbuffered. 0 or -1. */
int cli_write_all(int fd, const char *buf, size_t len);
/* Copy s for a terminal cell: control characters become '?'. */
const char *cli_clean(const char *s, char *buf, size_t n);
const char *cli_socket(const struct cli *cli);
/* Say what is wrong and how the command is used; returns CLI_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Say why a request got no answer; returns CLI_FAIL. */
int cli_transport_error(const struct cli *cli, int rc, const char *err);
/* Say what the API refused (its {"error","detail"}); returns CLI_FAIL. */
int cli_status_error(const struct http_response *resp);
/*
 * One request; on a 2xx answer returns CLI_OK with the body in *resp (and
 * parsed into *doc when doc is set: a new reference). Otherwise says why
 * and returns CLI_FAIL. resp is the caller's to free either way.
 */
int cli_call(const struct cli *cli, const char *method, const char *path,
    const char *body, size_t body_len, struct http_response *resp,
    json_t **doc);
/* v as one line of compact JSON on stdout, or dflt when it is NULL. */
void cli_print_compact(const json_t *v, const char *dflt);
/* An option every command takes, or a getopt error: -1 when handled and
 * parsing goes on, else the exit status. */
int cli_common_opt(struct cli *cli, int c, char **argv);
void cli_getopt_reset(void);
/*
 * The options of a command that takes only --json (set: *json = 1; json
 * NULL: not an option) and the common ones, then nargs operands, 0 or 1
 * ("expected one WHAT"). -1 to go on, optind at the first operand, else
 * the exit status.
 */
int cli_json_opts(struct cli *cli, int argc, char **argv, int *json,
    int nargs, const char *what);
/* FILE (or stdin for "-"), up to max bytes: a malloc'ed NUL-terminated
 * buffer and its length, or NULL after saying why. */
char *cli_read_script(const char *path, size_t max, size_t *len);

/*
 * Follow GET /v1/WHATs/ID/events ("step" or "execution"), fn called on
 * each line, until the coordinator ends the stream; Ctrl-C says that the
 * step or execution goes on. CLI_OK, or CLI_FAIL after saying why.
 */
int cli_follow_events(const struct cli *cli, const char *what, const char *id,
    http_line_fn fn, void *ctx);
/* The same, with on_idle(ctx) every idle_ms without events (non-zero from
 * it stops following with an error). */
int cli_follow_events_idle(const struct cli *cli, const char *what,
    const char *id, http_line_fn fn, void *ctx, int idle_ms,
    int (*on_idle)(void *ctx));

/* cli_endpoint.c: --url, --token, --token-file, --ca before the command
 * (1 when argv[*i] was one, *i moved past its value), then the URL, token,
 * CA or socket from flags, environment or ~/.config/bora/config. */
int cli_global_opt(struct cli *cli, int argc, char **argv, int *i);
int cli_endpoint_setup(struct cli *cli);
void cli_endpoint_free(void);

/* cli_workflows.c */
int cmd_workflow_create(struct cli *cli, int argc, char **argv);
int cmd_workflow_list(struct cli *cli, int argc, char **argv);
int cmd_workflow_show(struct cli *cli, int argc, char **argv);
int cmd_workflow_delete(struct cli *cli, int argc, char **argv);

/* cli_exec.c */
int cli_exec_id_valid(const char *id);
/* -1 when id is an execution id, else says so and returns CLI_USAGE. */
int cli_exec_id_check(const struct cli *cli, const char *id);
/* ev.key when a string, else dflt. */
const char *cli_exec_str(const json_t *ev, const char *key, const char *dflt);
/* Write s (n bytes) to f with control characters but tab shown as '?'. */
void cli_exec_put_clean(FILE *f, const char *s, size_t n);
/* The errors of a refused workflow (from index first on) to stderr as
 * file:line:column: message; how many the answer held. */
size_t cli_print_workflow_errors(const struct http_response *resp,
    size_t first);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_execution_cancel(struct cli *cli, int argc, char **argv);
int cmd_execution_pause(struct cli *cli, int argc, char **argv);
int cmd_execution_resume(struct cli *cli, int argc, char **argv);

/* cli_ops.c */
/* Columns of the terminal on fd, or 0 when fd is not a terminal. */
int cli_term_width(int fd);
/* Rows of the terminal on fd, or 0. */
int cli_term_height(int fd);
/* "1.2s", "3m04s", "2h05m". */
void cli_duration(json_int_t ms, char *buf, size_t n);
/* Wall-clock milliseconds (the coordinator's _ms times are these). */
json_int_t cli_now_ms(void);
/* o.to - o.from, or until now when o.to is missing; "-" without from. */
void cli_span(const json_t *o, const char *from, const char *to, char *buf,
    size_t n);
/* The distinct agents of a task document's actions: "a,b", or "-". */
void cli_task_agents(const json_t *task, char *buf, size_t n);
int cmd_executions(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);

/* cli_tokens.c */
int cmd_token_create(struct cli *cli, int argc, char **argv);
int cmd_token_list(struct cli *cli, int argc, char **argv);
int cmd_token_revoke(struct cli *cli, int argc, char **argv);
int cmd_agent_revoke(struct cli *cli, int argc, char **argv);

/* cli_watch.c */
int cmd_watch(struct cli *cli, int argc, char **argv);

#endif
