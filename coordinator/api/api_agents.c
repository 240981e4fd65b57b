/*
 * api_agents.c: the agents' routes of the operator API (api_int.h):
 *
 *   GET  /v1/agents                 every agent enrolled or connected:
 *                                   {agents: [...]} sorted by name
 *   GET  /v1/agents/NAME            one of them and its unfinished steps
 *   GET  /v1/enrolled               enrolled agents, serials, fingerprints
 *   POST /v1/agents/NAME/revoke     revoke, close its connection
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "enroll.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "steps.h"

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

int
api_enrolled_list(struct api_session *ss)
{
	return api_reply_list(ss, "agents", enroll_agents_json());
}

int
api_agent_revoke(struct api_session *ss)
{
	const char *name = ss->params[0];
	char err[256], q[128];
	json_t *out = NULL;
	int rc = -1;

	if (bora_name_valid(name))
		rc = enroll_revoke(name, &out, err, sizeof(err));
	if (rc == -1)
		return api_error(ss, 404, "not_found", "no enrolled agent %s",
		    bora_log_quote(name, q, sizeof(q)));
	if (rc != 0)
		return api_error(ss, 500, "internal", "%s", err);
	return api_respond(ss, 200, out, 0, NULL);
}
