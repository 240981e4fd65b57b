/*
 * api_executions.c: the executions' routes of the operator API (api_int.h):
 *
 *   GET  /v1/executions?state=S&workflow=W&limit=N&offset=M
 *                                     newest first: {executions, total, ...}
 *   POST /v1/executions               {"workflow": YAML text, "name"?,
 *                                      "input"?, "task"?, "file"?}
 *   GET  /v1/executions/ID            engine_exec_to_json
 *   GET  /v1/executions/ID/events     NDJSON, live until the execution ends
 *   POST /v1/executions/ID/cancel     {"reason"?}
 *   POST /v1/executions/ID/pause
 *   POST /v1/executions/ID/resume
 *   GET  /v1/executions/ID/tasks      {exec, state, tasks}
 *
 * The workflow text is parsed here (dsl.h) on every POST: the engine only
 * ever sees a canonical, validated spec.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "dsl.h"
#include "engine.h"
#include "log.h"
#include "msg.h"

#define API_EXEC_FILE_MAX   128      /* bytes of "file" (names errors) */
#define API_EXEC_REASON_MAX 256      /* bytes of a cancel reason */
#define API_LIST_DEFAULT    50
#define API_LIST_MAX        1000

/* Every key of root is one of known (n names). 0, or -1 with err. */
static int
api_exec_fields_known(const json_t *root, const char *const *known,
    size_t n, const char *list, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;
	char q[80];

	json_object_foreach((json_t *)(uintptr_t)root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == n) {
			snprintf(err, errlen, "%s: unknown field (known: %s)",
			    bora_log_quote(key, q, sizeof(q)), list);
			return -1;
		}
	}
	return 0;
}

/* The optional string field key of root: its value, NULL when absent or
 * null, or -1 (with err) when not a string of 1 to max bytes. */
static int
api_exec_opt_string(const json_t *root, const char *key, size_t max,
    const char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(root, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s: expected a string of 1 to %zu bytes",
		    key, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
api_exec_req_parse(const json_t *root, struct api_exec_req *rq,
    struct dsl_errors *errs, char *err, size_t errlen)
{
	static const char *const known[] = {
		"workflow", "name", "input", "task", "file", "workflow_name"
	};
	const json_t *text, *input, *stored;

	memset(rq, 0, sizeof(*rq));
	if (api_exec_fields_known(root, known, sizeof(known) /
	    sizeof(known[0]), "workflow, workflow_name, name, input, task, "
	    "file", err, errlen) != 0)
		return -1;
	text = json_object_get(root, "workflow");
	stored = json_object_get(root, "workflow_name");
	if (stored != NULL && text != NULL) {
		snprintf(err, errlen, "workflow, workflow_name: give one, the "
		    "file's text or a stored workflow's name");
		return -1;
	}
	if (stored != NULL && !json_is_string(stored)) {
		snprintf(err, errlen, "workflow_name: expected a string (a "
		    "workflow stored with POST /v1/workflows)");
		return -1;
	}
	if (text == NULL && stored == NULL) {
		snprintf(err, errlen, "workflow: required (the workflow "
		    "file's text), or workflow_name (a stored workflow)");
		return -1;
	}
	if (text != NULL && !json_is_string(text)) {
		snprintf(err, errlen, "workflow: expected a string (the "
		    "workflow file's text)");
		return -1;
	}
	if (text != NULL && json_string_length(text) > DSL_FILE_MAX) {
		snprintf(err, errlen, "workflow: %zu bytes; the limit is %d",
		    json_string_length(text), DSL_FILE_MAX);
		return -1;
	}
	if (api_exec_opt_string(root, "name", 255, &rq->name, err,
	    errlen) != 0 ||
	    api_exec_opt_string(root, "task", 255, &rq->task, err,
	    errlen) != 0 ||
	    api_exec_opt_string(root, "file", API_EXEC_FILE_MAX, &rq->file,
	    err, errlen) != 0)
		return -1;
	input = json_object_get(root, "input");
	if (input != NULL && json_is_null(input))
		input = NULL;
	if (input != NULL && !json_is_object(input)) {
		snprintf(err, errlen, "input: expected an object");
		return -1;
	}
	rq->input = input;

	if (text == NULL) {
		char q[128];

		rq->spec = api_workflow_spec(json_string_value(stored));
		if (rq->spec == NULL) {
			snprintf(err, errlen, "workflow_name: no stored workflow "
			    "%s (GET /v1/workflows lists them)", bora_log_quote(
			    json_string_value(stored), q, sizeof(q)));
			return -1;
		}
		return 0;
	}
	rq->spec = dsl_parse(json_string_value(text), json_string_length(text),
	    rq->file ? rq->file : "workflow", errs);
	return rq->spec == NULL ? -2 : 0;
}

/* POST /v1/executions -> 201 engine_exec_to_json, Location:
 * /v1/executions/ID */
static int
api_exec_create_from(struct api_session *ss, const json_t *root)
{
	struct dsl_errors errs = { NULL, 0 };
	struct api_exec_req rq;
	struct engine_exec *x;
	char err[512], location[ENGINE_ID_MAX + 32];
	int rc;

	rc = api_exec_req_parse(root, &rq, &errs, err, sizeof(err));
	if (rc == -1)
		return api_error(ss, 400, "bad_request", "%s", err);
	if (rc == -2) {
		rc = api_invalid_workflow(ss, &errs);
		dsl_errors_free(&errs);
		return rc;
	}
	dsl_errors_free(&errs);
	x = engine_start(rq.spec, rq.name, rq.input, rq.task, err,
	    sizeof(err));
	json_decref(rq.spec);
	if (x == NULL)
		return api_error(ss, 400, "bad_request", "%s", err);
	log_info("api", "execution started exec=%s", engine_exec_id(x));
	snprintf(location, sizeof(location), "/v1/executions/%s",
	    engine_exec_id(x));
	return api_respond(ss, 201, engine_exec_to_json(x),
	    WSI_TOKEN_HTTP_LOCATION, location);
}

int
api_exec_create(struct api_session *ss)
{
	json_t *root;
	int rc;

	if ((root = api_body_object(ss, 0, &rc)) == NULL)
		return rc;
	rc = api_exec_create_from(ss, root);
	json_decref(root);
	return rc;
}

/* The execution named by the path, or NULL after answering 404. */
static struct engine_exec *
api_exec_lookup(struct api_session *ss, int *rc)
{
	const char *id = ss->params[0];
	struct engine_exec *x = NULL;
	char q[128];

	if (strlen(id) < ENGINE_ID_MAX && bora_step_id_valid(id))
		x = engine_find(id);
	if (x == NULL)
		*rc = api_error(ss, 404, "not_found", "no execution %s",
		    bora_log_quote(id, q, sizeof(q)));
	return x;
}

int
api_exec_get(struct api_session *ss)
{
	struct engine_exec *x;
	int rc;

	if ((x = api_exec_lookup(ss, &rc)) == NULL)
		return rc;
	return api_respond(ss, 200, engine_exec_to_json(x), 0, NULL);
}

int
api_exec_events(struct api_session *ss)
{
	struct engine_exec *x;
	int rc;

	if ((x = api_exec_lookup(ss, &rc)) == NULL)
		return rc;
	return api_stream_log(ss, engine_exec_log(x));
}

enum api_exec_cmd { API_EXEC_CANCEL, API_EXEC_PAUSE, API_EXEC_RESUME };

/* POST /v1/executions/ID/{cancel,pause,resume} -> 200 engine_exec_to_json,
 * or 409 when the execution's state does not allow it. */
static int
api_exec_command(struct api_session *ss, enum api_exec_cmd cmd)
{
	static const char *const known_cancel[] = { "reason" };
	struct engine_exec *x;
	const char *reason = NULL;
	char err[512];
	json_t *root;
	int rc;

	if ((x = api_exec_lookup(ss, &rc)) == NULL)
		return rc;
	if ((root = api_body_object(ss, 1, &rc)) == NULL)
		return rc;
	/* cancel may say why; pause and resume take no fields */
	rc = api_exec_fields_known(root, known_cancel,
	    cmd == API_EXEC_CANCEL ? 1 : 0, cmd == API_EXEC_CANCEL ?
	    "reason" : "none", err, sizeof(err));
	if (rc == 0)
		rc = api_exec_opt_string(root, "reason", API_EXEC_REASON_MAX,
		    &reason, err, sizeof(err));
	if (rc != 0) {
		json_decref(root);
		return api_error(ss, 400, "bad_request", "%s", err);
	}
	switch (cmd) {
	case API_EXEC_CANCEL:
		rc = engine_cancel(x, reason ? reason : "cancelled by the "
		    "operator", err, sizeof(err));
		break;
	case API_EXEC_PAUSE:
		rc = engine_pause(x, err, sizeof(err));
		break;
	default:
		rc = engine_resume(x, err, sizeof(err));
		break;
	}
	json_decref(root);
	if (rc != 0)
		return api_error(ss, 409, "conflict", "%s", err);
	log_info("api", "execution %s exec=%s", cmd == API_EXEC_CANCEL ?
	    "cancelled" : cmd == API_EXEC_PAUSE ? "paused" : "resumed",
	    engine_exec_id(x));
	return api_respond(ss, 200, engine_exec_to_json(x), 0, NULL);
}

int
api_exec_cancel(struct api_session *ss)
{
	return api_exec_command(ss, API_EXEC_CANCEL);
}

int
api_exec_pause(struct api_session *ss)
{
	return api_exec_command(ss, API_EXEC_PAUSE);
}

int
api_exec_resume(struct api_session *ss)
{
	return api_exec_command(ss, API_EXEC_RESUME);
}

/* ---- GET /v1/executions ------------------------------------------------ */

struct api_exec_list {
	struct engine_exec **v;
	size_t n, cap;
	const char *state, *workflow;   /* filters, NULL: any */
};

static int
api_exec_collect(struct engine_exec *x, void *user)
{
	struct api_exec_list *l = user;
	struct engine_exec **grown;

	if (l->state && strcasecmp(engine_exec_state(x), l->state) != 0)
		return 0;
	if (l->workflow && strcmp(engine_exec_workflow(x), l->workflow) != 0)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		grown = realloc(l->v, l->cap * sizeof(*l->v));
		if (grown == NULL)
			return -1;
		l->v = grown;
	}
	l->v[l->n++] = x;
	return 0;
}

/* Newest first; the same start time by id, so pages are stable. */
static int
api_exec_cmp(const void *a, const void *b)
{
	const struct engine_exec *x = *(struct engine_exec *const *)a;
	const struct engine_exec *y = *(struct engine_exec *const *)b;
	int64_t tx = engine_exec_created_ms(x), ty = engine_exec_created_ms(y);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return strcmp(engine_exec_id(x), engine_exec_id(y));
}

/* The listing's summary of x: the document without input, output and
 * task details; tasks become counts by state. */
static json_t *
api_exec_summary(const struct engine_exec *x)
{
	json_t *doc = engine_exec_to_json(x), *tasks, *t, *counts;
	const char *st;
	size_t i;

	if (doc == NULL || (counts = json_object()) == NULL) {
		json_decref(doc);
		return NULL;
	}
	tasks = json_object_get(doc, "tasks");
	json_array_foreach(tasks, i, t) {
		st = json_string_value(json_object_get(t, "state"));
		if (st != NULL)
			(void)json_object_set_new(counts, st, json_integer(
			    json_integer_value(json_object_get(counts, st)) + 1));
	}
	(void)json_object_set_new(doc, "task_count",
	    json_integer((json_int_t)json_array_size(tasks)));
	(void)json_object_set_new(doc, "task_states", counts);
	(void)json_object_del(doc, "tasks");
	(void)json_object_del(doc, "input");
	(void)json_object_del(doc, "output");
	return doc;
}

int
api_exec_list(struct api_session *ss)
{
	static const char *const known[] = {
		"state", "workflow", "limit", "offset", NULL
	};
	static const char *const states[] = {
		"IDLE", "RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED",
		NULL
	};
	struct api_exec_list l;
	char sbuf[API_QUERY_MAX + 64], wbuf[API_QUERY_MAX + 64], q[96];
	uint64_t limit, offset, i;
	json_t *arr = NULL, *o;
	size_t k;
	int rc = 0;

	memset(&l, 0, sizeof(l));
	if (api_query_check(ss, known, &rc) != 0 ||
	    api_query_uint(ss, "limit", API_LIST_DEFAULT, 1, API_LIST_MAX,
	    &limit, &rc) != 0 ||
	    api_query_uint(ss, "offset", 0, 0, UINT32_MAX, &offset, &rc) != 0)
		return rc;
	l.state = api_query(ss, "state", sbuf, sizeof(sbuf));
	l.workflow = api_query(ss, "workflow", wbuf, sizeof(wbuf));
	if (l.state != NULL) {
		for (k = 0; states[k] && strcasecmp(states[k], l.state); k++)
			;
		if (states[k] == NULL)
			return api_error(ss, 400, "bad_request", "state: %s is "
			    "not a state (IDLE, RUNNING, PAUSED, SUCCESS, ERROR, "
			    "CANCELLED)", bora_log_quote(l.state, q, sizeof(q)));
	}
	if (l.workflow != NULL && l.workflow[0] == '\0')
		l.workflow = NULL;

	engine_foreach(api_exec_collect, &l);
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), api_exec_cmp);
	arr = json_array();
	for (i = offset; arr != NULL && i < l.n && i < offset + limit; i++) {
		o = api_exec_summary(l.v[i]);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	o = arr ? json_pack("{s:o, s:I, s:I, s:I}", "executions", arr,
	    "total", (json_int_t)l.n, "offset", (json_int_t)offset, "limit",
	    (json_int_t)limit) : NULL;
	free(l.v);
	return api_reply(ss, 200, o);
}

/* ---- GET /v1/executions/ID/tasks --------------------------------------- */

int
api_exec_tasks(struct api_session *ss)
{
	const char *id = ss->params[0];
	struct engine_exec *x = NULL;
	json_t *doc, *o;
	char q[128];

	if (strlen(id) < ENGINE_ID_MAX && bora_step_id_valid(id))
		x = engine_find(id);
	if (x == NULL)
		return api_error(ss, 404, "not_found", "no execution %s",
		    bora_log_quote(id, q, sizeof(q)));
	if ((doc = engine_exec_to_json(x)) == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	o = json_pack("{s:s, s:s, s:O}", "exec", engine_exec_id(x), "state",
	    engine_exec_state(x), "tasks", json_object_get(doc, "tasks"));
	json_decref(doc);
	return api_reply(ss, 200, o);
}
