/*
 * api_int.h: what the API's files share: routing (api_routes.c), requests,
 * responses, event streams and query strings (api_http.c), and the handlers
 * of each resource. Not for other modules.
 */
#ifndef BORA_COORD_API_INT_H
#define BORA_COORD_API_INT_H

#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include <jansson.h>

#include "evlog.h"

#define API_MAX_PATH        512        /* longer request paths get 414 */
#define API_MAX_PARAMS      2

struct api_session;

struct api_route {
	const char *method;
	const char *pattern;       /* "*" matches one non-empty path segment */
	int (*handler)(struct api_session *ss);  /* 0, or -1 to hang up */
	int has_body;              /* dispatched on BODY_COMPLETION */
	/* a websocket on the same path (upgrade asking for API_WS_PROTOCOL):
	 * checks it, 0 to accept (api_events_ws.c); NULL: none */
	int (*upgrade)(struct lws *wsi);
};

/*
 * The route of method on path (api_routes.c): its "*" segments copied
 * into params. NULL when none; then *path_hit says whether the path is
 * known under other methods, which allow lists ("GET, POST").
 */
const struct api_route *api_route_find(const char *method, const char *path,
    char params[API_MAX_PARAMS][API_MAX_PATH + 1], char *allow,
    size_t allowlen, int *path_hit);

struct api_session {
	struct lws *wsi;
	char method[8];
	char path[API_MAX_PATH + 1];
	char params[API_MAX_PARAMS][API_MAX_PATH + 1];
	const struct api_route *route;

	/* request body: grows up to the announced content-length */
	char *body;
	size_t body_len, body_alloc;
	int answered;              /* response under way: the body is ignored */

	/* JSON response: headers are out, body written from WRITEABLE */
	char *resp;
	size_t resp_len, resp_off;
	int status;
	int close_after;           /* hang up after the answer (413, 411) */

	/* events stream: a step's or an execution's log */
	int streaming;
	struct evlog_watcher watch; /* watch.log is NULL once unwatched */
	size_t ev_index;           /* next event to write */
	size_t ev_off;             /* bytes of it already written */
};

/*
 * Answer with status and the JSON value body (the reference is taken).
 * extra_token/extra_value add one header (Location, Allow) when set.
 * Writes the headers now and the body from WRITEABLE. 0, or -1 to hang up.
 */
int api_respond(struct api_session *ss, unsigned status, json_t *body,
    enum lws_token_indexes extra_token, const char *extra_value);
/* api_respond() with body, or 500 "out of memory" when body is NULL. */
int api_reply(struct api_session *ss, unsigned status, json_t *body);
/* 200 {key: list} (the reference is taken), or 500 when list is NULL. */
int api_reply_list(struct api_session *ss, const char *key, json_t *list);

/*
 * status + {"error": code, "detail": printf(fmt, ...)}, with one more header
 * when extra_value is set. The detail is made printable ASCII (it may quote
 * what the client sent), so that it always encodes.
 */
int api_error_h(struct api_session *ss, unsigned status, const char *code,
    enum lws_token_indexes extra_token, const char *extra_value,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define api_error(ss, status, code, ...) \
	api_error_h(ss, status, code, 0, NULL, __VA_ARGS__)

/*
 * The request body as a JSON object (a new reference), or NULL after
 * answering 400 (then *rc is what the handler returns). An empty body is
 * {} when allow_empty, else an error.
 */
json_t *api_body_object(struct api_session *ss, int allow_empty, int *rc);

/* Answer 200 with the NDJSON stream of l from its first event, live
 * until l is closed. 0, or -1 to hang up. */
int api_stream_log(struct api_session *ss, struct evlog *l);

/*
 * The pure parsers of request bodies (no session, no engine: the fuzz
 * harness tests/fuzz/fuzz_api_body.c calls them directly).
 *
 * api_json_body: len bytes of body as a JSON object, a new reference, or
 * NULL with one sentence in err. An empty body is {} when allow_empty.
 */
json_t *api_json_body(const char *body, size_t len, int allow_empty,
    char *err, size_t errlen);

/* A validated POST /v1/steps body; pointers into the root it came with. */
struct api_step_req {
	const char *agent;
	const char *kind;
	json_t *spec;
	json_t *inputs;            /* NULL when absent or null */
	json_t *secret_inputs;     /* names of inputs to mask; NULL: none */
	uint32_t timeout_s;
};

/* Parse and validate the body of POST /v1/steps: the root (the caller's
 * reference, rq points into it), or NULL with err (starts with the field
 * path). */
json_t *api_step_body_parse(const char *body, size_t len,
    struct api_step_req *rq, char *err, size_t errlen);

/* A validated POST /v1/executions body: strings and input point into the
 * root; spec is the canonical workflow, the caller's reference. */
struct api_exec_req {
	const char *name, *task, *file;   /* NULL when absent or null */
	const json_t *input;              /* NULL when absent or null */
	json_t *spec;
};

struct dsl_errors;

/* 400 {"error":"invalid_workflow", "detail": the first error, "errors":
 * [{file, line, column, message}, ...]}: every error at its place. */
int api_invalid_workflow(struct api_session *ss, const struct dsl_errors *errs);

/* Validate root (the body of POST /v1/executions) and parse its workflow.
 * 0; -1 with err (a bad field); -2 with the workflow's errors appended to
 * *errs. rq->spec is set only on 0. */
int api_exec_req_parse(const json_t *root, struct api_exec_req *rq,
    struct dsl_errors *errs, char *err, size_t errlen);

/* api_auth.c: 0 when the request may go on (unix socket, or HTTPS with
 * the operator token); else answered 401 (or 429 when the address is rate
 * limited): 1, or -1 to hang up. */
int api_auth_check(struct api_session *ss);
/* The same check for a websocket upgrade to path (refusals logged): 0 to
 * go on, else the HTTP status to refuse it with (401, 429). */
unsigned api_auth_upgrade(struct lws *wsi, const char *path);
/* api_events_ws.c: an upgrade request for the events websocket, checked
 * before lws switches protocols: 0 to go on; 1 when refused with an HTTP
 * answer (status and {error, detail}, written here); -1 to hang up. */
int api_ws_confirm(struct lws *wsi);

/* api_http.c: query strings. Every name=value of the query is one of known
 * (NULL-terminated): 0, or the handler's result in *rc after answering
 * 400. api_query: the value of name (decoded into buf), or NULL.
 * api_query_uint: name as a whole number in [lo, hi] (dflt when absent):
 * 0, or -1 with *rc after answering 400. */
int api_query_check(struct api_session *ss, const char *const *known, int *rc);
const char *api_query(struct api_session *ss, const char *name, char *buf,
    size_t n);
int api_query_uint(struct api_session *ss, const char *name, uint64_t dflt,
    uint64_t lo, uint64_t hi, uint64_t *out, int *rc);
#define API_QUERY_MAX 256      /* bytes of one query value */

/* The handlers of the route table, by resource. */
/* api_steps.c */
int api_steps_create(struct api_session *ss);
int api_step_get(struct api_session *ss);
int api_step_events(struct api_session *ss);
int api_step_output(struct api_session *ss);
/* api_workflows.c: stored workflows. */
int api_workflows_create(struct api_session *ss);
int api_workflows_list(struct api_session *ss);
int api_workflows_get(struct api_session *ss);
int api_workflows_delete(struct api_session *ss);
/* The canonical spec of stored workflow name (a new reference), or NULL. */
json_t *api_workflow_spec(const char *name);
/* api_executions.c */
int api_exec_list(struct api_session *ss);
int api_exec_create(struct api_session *ss);
int api_exec_get(struct api_session *ss);
int api_exec_events(struct api_session *ss);
int api_exec_tasks(struct api_session *ss);
int api_exec_cancel(struct api_session *ss);
int api_exec_pause(struct api_session *ss);
int api_exec_resume(struct api_session *ss);
/* api_agents.c */
int api_agents_list(struct api_session *ss);
int api_agent_get(struct api_session *ss);
int api_enrolled_list(struct api_session *ss);
int api_agent_revoke(struct api_session *ss);
/* api_tokens.c: enrollment tokens. */
int api_tokens_create(struct api_session *ss);
int api_tokens_list(struct api_session *ss);
int api_tokens_delete(struct api_session *ss);

#endif
