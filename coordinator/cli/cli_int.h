/*
 * cli_int.h: what the files of the CLI `bora` share; nothing outside
 * coordinator/cli/ includes it. One section per file:
 *
 *   cli_main.c       main(): the options before the command, then the command
 *   cli_cmd.c        the one const table of commands, found by their words
 *   cli_help.c       bora help, bora version, usage lines
 *   cli_out.c        warnings, whole writes, terminal-safe text
 *   cli_opts.c       option parsing the commands share
 *   cli_input.c      --input and --input-json of run and step run
 *   cli_file.c       a script or workflow file read whole, capped
 *   cli_call.c       one request to the coordinator, failures said
 *   cli_follow.c     following an events stream
 *   cli_endpoint.c   where the coordinator is: flags, environment, config
 *   cli_config.c     the config file (cli_config_int.h)
 *   cli_agents.c     bora agents
 *   cli_step_run.c   bora step run
 *   cli_step_show.c  bora step show, step events
 *   cli_validate.c   bora validate
 *   cli_exec.c       bora run, cancel, pause, resume (and execution ...)
 *   cli_ops.c        bora executions, show; helpers of the live views
 *   cli_logs.c       bora logs
 *   cli_watch.c      bora watch
 *   cli_workflows.c  bora workflow create, list, show, delete
 *   cli_tokens.c     bora token create, list, revoke; agent revoke
 *   cli_http_*.c     the HTTP client (cli_http_client_int.h)
 */
#ifndef BORA_CLI_INT_H
#define BORA_CLI_INT_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "cli_http_client_int.h"

#define CLI_DEFAULT_SOCKET  "/var/lib/bora/api.sock"
#define CLI_MAX_INPUTS      1024

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_TIMEOUT = 124 };

struct cli {
	const char *socket;        /* --socket, resolved in cli_socket() */
	const struct cli_cmd *cmd;
	/* The HTTPS API (cli_endpoint.c): set when the coordinator is reached
	 * at a URL rather than a unix socket. */
	const char *url, *token, *token_file, *ca;
};

/* One command: an entry of the table in cli_cmd.c, defined in the file
 * of its group. */
struct cli_cmd {
	const char *name;          /* one or two words: "step run" */
	const char *args;          /* its usage after the name */
	const char *help;          /* one line */
	/* argv[0] is the command's last word; returns the exit status */
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* ---- cli_cmd.c --------------------------------------------------------- */

/* The command named by argv's first one or two words (*words: how many),
 * or NULL. */
const struct cli_cmd *cli_cmd_find(int argc, char **argv, int *words);
/* How many commands are "word SUBCOMMAND" (a group: "step", "token");
 * each is printed to out as "  bora NAME ARGS" unless out is NULL. */
size_t cli_cmd_group(FILE *out, const char *word);
/* The i-th command in help's order, NULL past the last. */
const struct cli_cmd *cli_cmd_at(size_t i);

extern const struct cli_cmd cli_cmd_agents_entry;          /* cli_agents.c */
extern const struct cli_cmd cli_cmd_step_run_entry;        /* cli_step_run.c */
extern const struct cli_cmd cli_cmd_step_show_entry;       /* cli_step_show.c */
extern const struct cli_cmd cli_cmd_step_events_entry;
extern const struct cli_cmd cli_cmd_run_entry;             /* cli_exec.c */
extern const struct cli_cmd cli_cmd_cancel_entry;
extern const struct cli_cmd cli_cmd_pause_entry;
extern const struct cli_cmd cli_cmd_resume_entry;
extern const struct cli_cmd cli_cmd_execution_cancel_entry;
extern const struct cli_cmd cli_cmd_execution_pause_entry;
extern const struct cli_cmd cli_cmd_execution_resume_entry;
extern const struct cli_cmd cli_cmd_executions_entry;      /* cli_ops.c */
extern const struct cli_cmd cli_cmd_show_entry;
extern const struct cli_cmd cli_cmd_execution_show_entry;
extern const struct cli_cmd cli_cmd_logs_entry;            /* cli_logs.c */
extern const struct cli_cmd cli_cmd_watch_entry;           /* cli_watch.c */
extern const struct cli_cmd cli_cmd_token_create_entry;    /* cli_tokens.c */
extern const struct cli_cmd cli_cmd_token_list_entry;
extern const struct cli_cmd cli_cmd_token_revoke_entry;
extern const struct cli_cmd cli_cmd_agent_revoke_entry;
extern const struct cli_cmd cli_cmd_workflow_create_entry; /* cli_workflows.c */
extern const struct cli_cmd cli_cmd_workflow_list_entry;
extern const struct cli_cmd cli_cmd_workflow_show_entry;
extern const struct cli_cmd cli_cmd_workflow_delete_entry;
extern const struct cli_cmd cli_cmd_validate_entry;        /* cli_validate.c */
extern const struct cli_cmd cli_cmd_version_entry;         /* cli_help.c */
extern const struct cli_cmd cli_cmd_help_entry;

/* ---- cli_help.c -------------------------------------------------------- */

/* "usage: bora NAME ARGS" of one command. */
void cli_usage_of(FILE *out, const struct cli_cmd *c);
/* The whole usage: global options, every command, how bora finds the
 * coordinator, the exit statuses. */
void cli_usage(FILE *out);

/* ---- cli_out.c --------------------------------------------------------- */

/* "bora: " and the sentence on stderr. */
void cli_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write all of buf to fd, unbuffered. 0 or -1. */
int cli_write_all(int fd, const char *buf, size_t len);
/* Copy s into buf (n bytes, truncated) for a terminal cell: control
 * characters become '?'. Returns buf. */
const char *cli_clean(const char *s, char *buf, size_t n);
/* v as one line of compact JSON on stdout, or dflt when it is NULL. */
void cli_print_compact(const json_t *v, const char *dflt);

/* ---- cli_opts.c -------------------------------------------------------- */

enum { OPT_SOCKET = 1000, OPT_JSON, OPT_HELP };

#define CLI_COMMON_OPTS \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "help",   no_argument,       NULL, OPT_HELP }

/* Say what is wrong and how the command is used; returns CLI_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An option every command takes, or a getopt error: -1 when handled and
 * parsing goes on, else the exit status. */
int cli_common_opt(struct cli *cli, int c, char **argv);
void cli_getopt_reset(void);
/* --json (sets *json) and the common options; with json NULL, --json is
 * refused with the sentence refusal (NULL: "unknown option --json"). -1
 * to go on, optind at the first operand, else the exit status. */
int cli_json_flag(struct cli *cli, int argc, char **argv, int *json,
    const char *refusal);
/*
 * The options of a command that takes only --json (set: *json = 1; json
 * NULL: not an option) and the common ones, then nargs operands, 0 or 1
 * ("expected one WHAT"). -1 to go on, optind at the first operand, else
 * the exit status.
 */
int cli_json_opts(struct cli *cli, int argc, char **argv, int *json,
    int nargs, const char *what);
/* "90", "90s", "5m", "2h", "1d" -> seconds in 1..BORA_MAX_TIMEOUT_S, or
 * -1. */
long cli_parse_duration(const char *s);

/* ---- cli_input.c ------------------------------------------------------- */

/* --input NAME=VALUE into inputs (arg is changed: its '=' becomes NUL; the
 * name is copied): VALUE as JSON when it parses as JSON, else the string.
 * 0, or the exit status after saying why (naming the input). */
int cli_input_add(struct cli *cli, json_t *inputs, char *arg);
/* --input-json OBJECT: its members into base where base has none. 0, or
 * the exit status after saying why. */
int cli_input_json(struct cli *cli, json_t *base, const char *text);

/* ---- cli_file.c -------------------------------------------------------- */

/* FILE (or stdin for "-"), up to max bytes: a malloc'ed NUL-terminated
 * buffer (the caller frees it) and its length, or NULL after saying why. */
char *cli_read_script(const char *path, size_t max, size_t *len);

/* ---- cli_call.c -------------------------------------------------------- */

/* --socket, else $BORA_SOCKET, else CLI_DEFAULT_SOCKET (not a copy). */
const char *cli_socket(const struct cli *cli);
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

/* ---- cli_follow.c ------------------------------------------------------ */

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

/* ---- cli_endpoint.c ---------------------------------------------------- */

/* --url, --token, --token-file, --ca before the command (1 when argv[*i]
 * was one, *i moved past its value). The pointers stay argv's. */
int cli_global_opt(struct cli *cli, int argc, char **argv, int *i);
/* Then the URL, token, CA or socket from flags, environment or
 * ~/.config/bora/config. CLI_OK, or the exit status after saying why. */
int cli_endpoint_setup(struct cli *cli);

/* ---- cli_exec.c -------------------------------------------------------- */

int cli_exec_id_valid(const char *id);
/* -1 when id is an execution id, else says so and returns CLI_USAGE. */
int cli_exec_id_check(const struct cli *cli, const char *id);
/* ev.key when a string (ev's, not a copy), else dflt. */
const char *cli_exec_str(const json_t *ev, const char *key, const char *dflt);
/* Write s (n bytes) to f with control characters but tab shown as '?'. */
void cli_exec_put_clean(FILE *f, const char *s, size_t n);
/* The errors of a refused workflow (from index first on) to stderr as
 * file:line:column: message; how many the answer held. */
size_t cli_print_workflow_errors(const struct http_response *resp,
    size_t first);

/* ---- cli_ops.c --------------------------------------------------------- */

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

#endif
