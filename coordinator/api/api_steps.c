/*
 * api_steps.c: the steps' routes of the operator API (api_int.h):
 *
 *   POST /v1/steps                  {"agent","kind","spec","inputs","timeout",
 *                                   "secret_inputs"} -> 201 {"step": id, ...}
 *   GET  /v1/steps/ID               state and result
 *   GET  /v1/steps/ID/events        NDJSON stream of the step's events,
 *                                   live until the result, then closed
 *   GET  /v1/steps/ID/output?offset=N&limit=M
 *                                   the step's output from the store (also
 *                                   after a restart), chunk by chunk
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "log.h"
#include "msg.h"
#include "persist.h"
#include "secrets.h"
#include "step_kinds.h"
#include "steps.h"
#include "utf8.h"

#define API_DEFAULT_TIMEOUT 600
#define API_MAX_INPUT_NAME  128
#define API_OUTPUT_DEFAULT   100             /* chunks per page */
#define API_OUTPUT_MAX       1000
#define API_OUTPUT_BYTES     (4 * 1024 * 1024)  /* data bytes per page */

static int
api_kind_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BORA_MAX_KIND)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.") == n;
}

/* An input becomes an environment variable: [A-Za-z_][A-Za-z0-9_]*. */
static int
api_input_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > API_MAX_INPUT_NAME || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") == n;
}

/* spec.FIELD of step kind k (step_kinds.h) is a string. 0, or -1 with
 * err. The agent checks the rest (it knows its runners), and says so in the
 * step's result. */
static int
api_spec_check(const struct bora_action *k, const json_t *spec, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(spec, k->spec_field);

	if (v == NULL || !json_is_string(v)) {
		snprintf(err, errlen, "spec.%s: %s%s%s", k->spec_field,
		    v == NULL ? "required (" : "expected a string",
		    v == NULL ? k->spec_what : "", v == NULL ? ")" : "");
		return -1;
	}
	return 0;
}

/* secret_inputs: a list of names of inputs, whose values are masked
 * wherever the step is shown (secrets.h). */
static int
api_secret_inputs_check(json_t *root, struct api_step_req *rq, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(root, "secret_inputs"), *n;
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		snprintf(err, errlen, "secret_inputs: expected a list of input "
		    "names");
		return -1;
	}
	json_array_foreach(v, i, n) {
		if (!json_is_string(n) || json_object_get(rq->inputs,
		    json_string_value(n)) == NULL) {
			char q[80];

			snprintf(err, errlen, "secret_inputs[%zu]: %s", i,
			    json_is_string(n) ? "not one of inputs" :
			    "expected an input name");
			if (json_is_string(n))
				snprintf(err, errlen, "secret_inputs[%zu]: %s is "
				    "not one of inputs", i, bora_log_quote(
				    json_string_value(n), q, sizeof(q)));
			return -1;
		}
	}
	rq->secret_inputs = v;
	return 0;
}

/*
 * Validate the body of POST /v1/steps; strings and values point into root.
 * 0, or -1 with one sentence in err that starts with the field path.
 */
static int
api_step_req_parse(json_t *root, struct api_step_req *rq, char *err,
    size_t errlen)
{
	static const char *const known[] = {
		"agent", "kind", "spec", "inputs", "timeout", "secret_inputs"
	};
	const char *key;
	const struct bora_action *kind;
	json_t *v, *item;
	size_t i, run_bytes;
	int ok;

	memset(rq, 0, sizeof(*rq));
	rq->timeout_s = API_DEFAULT_TIMEOUT;
	json_object_foreach(root, key, v) {
		for (ok = 0, i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				ok = 1;
		if (!ok) {
			char q[80];

			snprintf(err, errlen, "%s: unknown field (known: agent, "
			    "kind, spec, inputs, timeout, secret_inputs)",
			    bora_log_quote(key, q, sizeof(q)));
			return -1;
		}
	}

	v = json_object_get(root, "agent");
	if (v == NULL) {
		snprintf(err, errlen, "agent: required");
		return -1;
	}
	if (!json_is_string(v) || !bora_name_valid(json_string_value(v))) {
		snprintf(err, errlen, "agent: expected an agent name (1 to %d "
		    "characters of A-Z a-z 0-9 . _ -, starting with a letter or "
		    "digit)", BORA_MAX_NAME);
		return -1;
	}
	rq->agent = json_string_value(v);

	v = json_object_get(root, "kind");
	if (v == NULL) {
		snprintf(err, errlen, "kind: required (\"script\")");
		return -1;
	}
	if (!json_is_string(v) || !api_kind_valid(json_string_value(v))) {
		snprintf(err, errlen, "kind: expected a step kind like "
		    "\"script\"");
		return -1;
	}
	rq->kind = json_string_value(v);

	v = json_object_get(root, "spec");
	if (v == NULL) {
		snprintf(err, errlen, "spec: required (an object)");
		return -1;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "spec: expected an object");
		return -1;
	}
	rq->spec = v;
	if ((kind = bora_step_kind_find(rq->kind)) == NULL) {
		snprintf(err, errlen, "kind: unknown step kind \"%s\" (known: "
		    "%s)", rq->kind, bora_step_kinds_list());
		return -1;
	}
	if (api_spec_check(kind, rq->spec, err, errlen) != 0)
		return -1;

	v = json_object_get(root, "inputs");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_object(v)) {
			snprintf(err, errlen, "inputs: expected an object");
			return -1;
		}
		json_object_foreach(v, key, item) {
			if (!api_input_name_valid(key)) {
				char q[80];

				snprintf(err, errlen, "inputs.%s: an input name "
				    "becomes an environment variable: 1 to %d "
				    "of A-Z a-z 0-9 _, not starting with a digit",
				    bora_log_quote(key, q, sizeof(q)),
				    API_MAX_INPUT_NAME);
				return -1;
			}
		}
		rq->inputs = v;
	}
	if (api_secret_inputs_check(root, rq, err, errlen) != 0)
		return -1;

	v = json_object_get(root, "timeout");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > BORA_MAX_TIMEOUT_S) {
			snprintf(err, errlen, "timeout: expected an integer from "
			    "1 to %d", BORA_MAX_TIMEOUT_S);
			return -1;
		}
		rq->timeout_s = (uint32_t)json_integer_value(v);
	}

	/* The run message must fit what an agent takes; leave room for the
	 * envelope (type, step id, kind, timeout). */
	run_bytes = json_dumpb(rq->spec, NULL, 0, JSON_COMPACT);
	if (rq->inputs)
		run_bytes += json_dumpb(rq->inputs, NULL, 0, JSON_COMPACT);
	if (run_bytes > BORA_MAX_MESSAGE_BYTES - 1024) {
		snprintf(err, errlen, "spec, inputs: %zu bytes as JSON; a step "
		    "must fit in one %d-byte message", run_bytes,
		    BORA_MAX_MESSAGE_BYTES);
		return -1;
	}
	return 0;
}

json_t *
api_step_body_parse(const char *body, size_t len, struct api_step_req *rq,
    char *err, size_t errlen)
{
	json_t *root;

	if ((root = api_json_body(body, len, 0, err, errlen)) == NULL)
		return NULL;
	if (api_step_req_parse(root, rq, err, errlen) != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* POST /v1/steps -> 201 step_to_json, Location: /v1/steps/ID */
int
api_steps_create(struct api_session *ss)
{
	struct api_step_req rq;
	struct coord_step *s;
	json_t *root;
	char err[512], location[BORA_MAX_STEP_ID + 16];

	root = api_step_body_parse(ss->body, ss->body_len, &rq, err,
	    sizeof(err));
	if (root == NULL)
		return api_error(ss, 400, "bad_request", "%s", err);
	s = steps_submit(NULL, rq.agent, rq.kind, rq.spec, rq.inputs,
	    rq.timeout_s, NULL, err, sizeof(err));
	if (s != NULL && rq.secret_inputs != NULL) {
		json_t *set = json_array();

		if (set != NULL && secrets_add_values(set, rq.inputs,
		    rq.secret_inputs) == 0)
			step_set_secrets(s, set);
		json_decref(set);
	}
	json_decref(root);
	if (s == NULL)
		return api_error(ss, 400, "bad_request", "%s", err);
	snprintf(location, sizeof(location), "/v1/steps/%s", step_id(s));
	return api_respond(ss, 201, step_to_json(s), WSI_TOKEN_HTTP_LOCATION,
	    location);
}

static struct coord_step *
api_step_lookup(struct api_session *ss)
{
	const char *id = ss->params[0];

	return bora_step_id_valid(id) ? steps_find(id) : NULL;
}

/* A step's row of the store as step_to_json() shows a step in memory
 * (its result was masked before it was stored), with "stored": true. */
static int
api_step_from_row(void *user, const struct store_step *st)
{
	json_t **out = user;
	json_t *res = st->result ? json_loads(st->result, 0, NULL) : NULL;

	*out = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:b}",
	    "id", st->id, "agent", st->agent, "kind", st->kind,
	    "state", store_step_state_name(st->state),
	    "timeout", (int)st->timeout_s,
	    "created_ms", (json_int_t)st->dispatched_ms,
	    "output_dropped_bytes", (json_int_t)st->output_dropped,
	    "stored", 1);
	if (*out != NULL && res != NULL)
		json_object_set(*out, "result", res);
	json_decref(res);
	return *out != NULL ? 0 : -1;
}

/* GET /v1/steps/ID -> step_to_json, or the store's row of a step no
 * longer in memory (finished before a restart, or long ago) */
int
api_step_get(struct api_session *ss)
{
	struct coord_step *s = api_step_lookup(ss);
	json_t *row = NULL;
	char q[128], err[256];
	int found = 0;

	if (s != NULL)
		return api_respond(ss, 200, step_to_json(s), 0, NULL);
	if (bora_step_id_valid(ss->params[0]) &&
	    persist_get_step(ss->params[0], api_step_from_row, &row, &found,
	    err, sizeof(err)) == 0 && found && row != NULL)
		return api_respond(ss, 200, row, 0, NULL);
	json_decref(row);
	return api_error(ss, 404, "not_found", "no step %s",
	    bora_log_quote(ss->params[0], q, sizeof(q)));
}

/* GET /v1/steps/ID/events -> NDJSON, live until the step is done */
int
api_step_events(struct api_session *ss)
{
	struct coord_step *s = api_step_lookup(ss);
	char q[128];

	if (s == NULL)
		return api_error(ss, 404, "not_found", "no step %s",
		    bora_log_quote(ss->params[0], q, sizeof(q)));
	return api_stream_log(ss, step_log(s));
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
