/*
 * api_ops.c: the operators' read routes of the API (api_int.h), what the
 * CLI's executions, show, logs and watch are made of:
 *
 *   GET /v1/executions?state=S&workflow=W&limit=N&offset=M
 *                                   newest first: {executions, total, ...}
 *   GET /v1/executions/ID/tasks     {exec, state, tasks}
 *   GET /v1/steps/ID/output?offset=N&limit=M
 *                                   the step's output from the store (also
 *                                   after a restart), chunk by chunk
 *   GET /v1/agents                  every agent enrolled or connected:
 *                                   {agents: [...]} sorted by name
 *   GET /v1/agents/NAME             one of them and its unfinished steps
 *
 * Query values are checked (400 with the parameter named); an unknown
 * parameter is refused too, so a typo does not silently list everything.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_int.h"
#include "engine.h"
#include "enroll.h"
#include "log.h"
#include "msg.h"
#include "persist.h"
#include "registry.h"
#include "steps.h"
#include "utf8.h"

#define API_LIST_DEFAULT     50
#define API_LIST_MAX         1000
#define API_OUTPUT_DEFAULT   100             /* chunks per page */
#define API_OUTPUT_MAX       1000
#define API_OUTPUT_BYTES     (4 * 1024 * 1024)  /* data bytes per page */
#define API_QUERY_MAX        256             /* bytes of one query value */

/* ---- the query string -------------------------------------------------- */

/*
 * Every name=value of the query is one of known (NULL-terminated). 0, or
 * the handler's result after answering 400.
 */
static int
api_query_check(struct api_session *ss, const char *const *known, int *rc)
{
	char frag[API_QUERY_MAX + 64], q[96];
	size_t i, n;
	int idx;

	for (idx = 0; lws_hdr_copy_fragment(ss->wsi, frag, sizeof(frag),
	    WSI_TOKEN_HTTP_URI_ARGS, idx) >= 0; idx++) {
		n = strcspn(frag, "=");
		for (i = 0; known[i] != NULL; i++)
			if (strlen(known[i]) == n &&
			    strncmp(frag, known[i], n) == 0)
				break;
		if (known[i] == NULL) {
			frag[n] = '\0';
			*rc = api_error(ss, 400, "bad_request", "unknown query "
			    "parameter %s (see docs/api.md)",
			    bora_log_quote(frag, q, sizeof(q)));
			return -1;
		}
	}
	return 0;
}

/* The value of query parameter name into buf, or NULL when absent. */
static const char *
api_query(struct api_session *ss, const char *name, char *buf, size_t n)
{
	char key[32];

	snprintf(key, sizeof(key), "%s=", name);
	return lws_get_urlarg_by_name(ss->wsi, key, buf, (int)n);
}

/* Query parameter name as an integer from min to max (dflt when absent).
 * 0, or -1 after answering 400 (*rc). */
static int
api_query_uint(struct api_session *ss, const char *name, uint64_t dflt,
    uint64_t min, uint64_t max, uint64_t *out, int *rc)
{
	char buf[API_QUERY_MAX + 64], *end;
	const char *v = api_query(ss, name, buf, sizeof(buf));
	unsigned long long u;

	*out = dflt;
	if (v == NULL)
		return 0;
	errno = 0;
	u = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    u < min || u > max) {
		*rc = api_error(ss, 400, "bad_request", "%s: expected an "
		    "integer from %llu to %llu", name, (unsigned long long)min,
		    (unsigned long long)max);
		return -1;
	}
	*out = u;
	return 0;
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

/* ---- GET /v1/steps/ID/output ------------------------------------------- */

struct api_output_page {
	json_t *step;               /* {"step", "agent", ...} from the row */
	json_t *chunks;
	size_t bytes;               /* data bytes in chunks */
	uint64_t next;              /* seq after the last chunk taken */
	int full;                   /* API_OUTPUT_BYTES reached */
	int failed;
};

static int
api_output_step(void *user, const struct store_step *st)
{
	struct api_output_page *pg = user;

	pg->step = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:I, s:I}",
	    "step", st->id, "agent", st->agent, "exec", st->exec_id,
	    "state", store_step_state_name(st->state),
	    "chunks_total", (json_int_t)st->output_chunks,
	    "bytes_total", (json_int_t)st->output_kept,
	    "dropped_bytes", (json_int_t)st->output_dropped);
	return pg->step ? 0 : -1;
}

/* One stored chunk: its data as UTF-8 (invalid bytes become U+FFFD). */
static int
api_output_chunk(void *user, const struct store_output *o)
{
	struct api_output_page *pg = user;
	char *text;
	size_t n;
	json_t *c;

	if (pg->full || pg->failed)
		return 0;
	if (pg->bytes > 0 && pg->bytes + o->len > API_OUTPUT_BYTES) {
		pg->full = 1;          /* the next page starts here */
		return 0;
	}
	if ((text = malloc(3 * o->len + 1)) == NULL) {
		pg->failed = 1;
		return 0;
	}
	n = bora_utf8_sanitize(o->data, o->len, text);
	c = json_pack("{s:I, s:s, s:s%}", "seq", (json_int_t)o->seq,
	    "stream", o->stream, "data", text, n);
	free(text);
	if (c == NULL || json_array_append_new(pg->chunks, c) != 0) {
		pg->failed = 1;
		return 0;
	}
	pg->bytes += o->len;
	pg->next = o->seq + 1;
	return 0;
}

int
api_step_output(struct api_session *ss)
{
	static const char *const known[] = { "offset", "limit", NULL };
	struct api_output_page pg;
	const char *id = ss->params[0];
	uint64_t offset, limit, total;
	char err[512], q[128];
	json_t *o;
	int rc = 0, found = 0;

	memset(&pg, 0, sizeof(pg));
	if (api_query_check(ss, known, &rc) != 0 ||
	    api_query_uint(ss, "offset", 0, 0, INT64_MAX, &offset, &rc) != 0 ||
	    api_query_uint(ss, "limit", API_OUTPUT_DEFAULT, 1,
	    API_OUTPUT_MAX, &limit, &rc) != 0)
		return rc;
	if (!bora_step_id_valid(id))
		return api_error(ss, 404, "not_found", "no step %s",
		    bora_log_quote(id, q, sizeof(q)));
	if (persist_get_step(id, api_output_step, &pg, &found, err,
	    sizeof(err)) != 0) {
		json_decref(pg.step);
		log_warnx("api", "cannot read step output step=%s error=%s", id,
		    bora_log_quote(err, q, sizeof(q)));
		return api_error(ss, 503, "unavailable", "cannot read the "
		    "store: %s", err);
	}
	if (!found || pg.step == NULL)
		return api_error(ss, 404, "not_found", "no step %s in the "
		    "store", bora_log_quote(id, q, sizeof(q)));
	pg.next = offset;
	pg.chunks = json_array();
	if (pg.chunks == NULL || persist_load_output(id, offset, limit,
	    api_output_chunk, &pg, err, sizeof(err)) != 0 || pg.failed) {
		json_decref(pg.step);
		json_decref(pg.chunks);
		return api_error(ss, 503, "unavailable", "cannot read the "
		    "output of step %s: %s", id, pg.failed ? "out of memory" :
		    err);
	}
	total = (uint64_t)json_integer_value(json_object_get(pg.step,
	    "chunks_total"));
	o = pg.step;
	rc = json_object_set_new(o, "offset", json_integer((json_int_t)offset));
	rc |= json_object_set_new(o, "next_offset",
	    json_integer((json_int_t)pg.next));
	rc |= json_object_set_new(o, "more", json_boolean(pg.next < total));
	rc |= json_object_set_new(o, "chunks", pg.chunks);  /* taken */
	if (rc != 0) {
		json_decref(o);
		return api_error(ss, 500, "internal", "out of memory");
	}
	return api_respond(ss, 200, o, 0, NULL);
}

/* ---- GET /v1/agents, GET /v1/agents/NAME ------------------------------- */

/* ms since the epoch as RFC 3339 (UTC), or null when 0. New reference. */
static json_t *
api_time_json(int64_t ms)
{
	char buf[32];
	struct tm tm;
	time_t t;

	if (ms <= 0)
		return json_null();
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(buf);
}

/*
 * The document of agent name, connected or not: en is its enrollment
 * (an entry of enroll_agents_json(), borrowed) or NULL when the
 * coordinator's CA did not enroll it; live is its connection or NULL. One
 * of them is set. A new reference, or NULL when out of memory.
 */
static json_t *
api_agent_doc(const char *name, const json_t *en, const struct coord_agent *live)
{
	int64_t revoked_ms = json_integer_value(json_object_get(en,
	    "revoked_ms"));
	json_t *o, *labels = json_object_get(en, "labels"), *steps;
	int rc;

	if (live != NULL)
		o = agent_to_json(live);    /* name, addr, version, labels, ... */
	else
		o = json_pack("{s:s, s:n, s:n, s:o, s:n, s:n, s:i}", "name",
		    name, "addr", "version", "labels", labels ?
		    json_incref(labels) : json_object(), "facts",
		    "connected_since", "bad_messages", 0);
	steps = steps_of_agent_json(name);
	if (o == NULL || steps == NULL) {
		json_decref(o);
		json_decref(steps);
		return NULL;
	}
	rc = json_object_set_new(o, "connected", json_boolean(live != NULL));
	rc |= json_object_set_new(o, "state", json_string(revoked_ms != 0 ?
	    "revoked" : live != NULL ? "connected" : "disconnected"));
	rc |= json_object_set_new(o, "enrolled", json_boolean(en != NULL));
	rc |= json_object_set(o, "serial", en && json_object_get(en, "serial") ?
	    json_object_get(en, "serial") : json_null());
	rc |= json_object_set(o, "fingerprint", en && json_object_get(en,
	    "fingerprint") ? json_object_get(en, "fingerprint") : json_null());
	rc |= json_object_set_new(o, "enrolled_at", api_time_json(
	    json_integer_value(json_object_get(en, "enrolled_ms"))));
	rc |= json_object_set_new(o, "revoked", json_boolean(revoked_ms != 0));
	rc |= json_object_set_new(o, "revoked_at", api_time_json(revoked_ms));
	rc |= json_object_set_new(o, "running_steps",
	    json_integer((json_int_t)json_array_size(steps)));
	rc |= json_object_set_new(o, "steps", steps);       /* taken */
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct api_agent_names {
	const char **v;
	size_t n, cap;
};

static void
api_agent_name_add(struct coord_agent *a, void *ctx)
{
	struct api_agent_names *l = ctx;

	if (l->n < l->cap)
		l->v[l->n++] = a->name;
}

static int
api_agent_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Enrolled agents (enroll.c) and connected ones (registry.c), one entry
 * per name, sorted by name. */
int
api_agents_list(struct api_session *ss)
{
	struct api_agent_names l = { NULL, 0, 0 };
	json_t *enrolled = enroll_agents_json(), *by = json_object(), *arr;
	json_t *e, *o;
	const char *name;
	size_t i;

	arr = json_array();
	if (enrolled == NULL || by == NULL || arr == NULL)
		goto oom;
	json_array_foreach(enrolled, i, e) {
		name = json_string_value(json_object_get(e, "name"));
		if (name != NULL && json_object_set(by, name, e) != 0)
			goto oom;
	}
	l.cap = json_object_size(by) + registry_count();
	if (l.cap > 0 && (l.v = calloc(l.cap, sizeof(*l.v))) == NULL)
		goto oom;
	json_object_foreach(by, name, e)
		l.v[l.n++] = name;     /* keys live as long as by */
	registry_foreach(api_agent_name_add, &l);
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), api_agent_name_cmp);
	for (i = 0; i < l.n; i++) {
		if (i > 0 && strcmp(l.v[i], l.v[i - 1]) == 0)
			continue;      /* enrolled and connected */
		o = api_agent_doc(l.v[i], json_object_get(by, l.v[i]),
		    registry_find(l.v[i]));
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto oom;
	}
	free(l.v);
	json_decref(by);
	json_decref(enrolled);
	return api_respond(ss, 200, json_pack("{s:o}", "agents", arr), 0, NULL);
oom:
	free(l.v);
	json_decref(arr);
	json_decref(by);
	json_decref(enrolled);
	return api_error(ss, 500, "internal", "out of memory");
}

int
api_agent_get(struct api_session *ss)
{
	const char *name = ss->params[0];
	struct coord_agent *a = NULL;
	json_t *enrolled = NULL, *en = NULL, *e, *o;
	char q[128];
	size_t i;

	if (!bora_name_valid(name))
		goto absent;
	a = registry_find(name);
	if ((enrolled = enroll_agents_json()) == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	json_array_foreach(enrolled, i, e)
		if (strcmp(json_string_value(json_object_get(e, "name")) ?
		    json_string_value(json_object_get(e, "name")) : "",
		    name) == 0) {
			en = e;
			break;
		}
	if (a == NULL && en == NULL)
		goto absent;
	o = api_agent_doc(name, en, a);
	json_decref(enrolled);
	if (o == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	return api_respond(ss, 200, o, 0, NULL);
absent:
	json_decref(enrolled);
	return api_error(ss, 404, "not_found", "no agent %s is enrolled or "
	    "connected (GET /v1/agents lists them)",
	    bora_log_quote(name, q, sizeof(q)));
}
