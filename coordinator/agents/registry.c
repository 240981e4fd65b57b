/* registry.c: connected agents by name, in a chained hash table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idmap.h"
#include "log.h"
#include "registry.h"

#define REGISTRY_BUCKETS 4096   /* sized for 10,000 agents: short chains */

static struct coord_agent *registry_table[REGISTRY_BUCKETS];
static size_t registry_n;

static unsigned
registry_hash(const char *name)
{
	return (unsigned)(idmap_hash(name) % REGISTRY_BUCKETS);
}

struct coord_agent *
registry_find(const char *name)
{
	struct coord_agent *a;

	for (a = registry_table[registry_hash(name)]; a; a = a->hash_next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

struct coord_agent *
registry_add(struct coord_agent *a)
{
	struct coord_agent *old = registry_find(a->name);
	unsigned h = registry_hash(a->name);

	if (old != NULL)
		registry_remove(old);
	a->hash_next = registry_table[h];
	registry_table[h] = a;
	a->registered = 1;
	registry_n++;
	return old;
}

void
registry_remove(struct coord_agent *a)
{
	struct coord_agent **pp;

	if (!a->registered)
		return;
	for (pp = &registry_table[registry_hash(a->name)]; *pp;
	    pp = &(*pp)->hash_next) {
		if (*pp == a) {
			*pp = a->hash_next;
			a->hash_next = NULL;
			a->registered = 0;
			registry_n--;
			return;
		}
	}
}

size_t
registry_count(void)
{
	return registry_n;
}

void
registry_foreach(void (*fn)(struct coord_agent *, void *), void *ctx)
{
	struct coord_agent *a, *next;
	size_t i;

	for (i = 0; i < REGISTRY_BUCKETS; i++)
		for (a = registry_table[i]; a; a = next) {
			next = a->hash_next;
			fn(a, ctx);
		}
}

static registry_welcome_fn registry_welcome_hook;
static void *registry_welcome_user;

void
registry_set_welcome_hook(registry_welcome_fn fn, void *user)
{
	registry_welcome_hook = fn;
	registry_welcome_user = user;
}

void
registry_welcomed(const struct coord_agent *a)
{
	if (registry_welcome_hook != NULL)
		registry_welcome_hook(registry_welcome_user, a->name, a->labels);
}

/* 1 when have holds every key of want with an equal value. */
static int
registry_labels_hold(const json_t *have, const json_t *want)
{
	const char *key;
	json_t *v;

	/* json_object_foreach only reads the object it walks. */
	json_object_foreach((json_t *)(uintptr_t)want, key, v)
		if (!json_equal(json_object_get(have, key), v))
			return 0;
	return 1;
}

struct registry_match {
	const json_t *labels;
	json_t *names;
	int failed;
};

static void
registry_match_one(struct coord_agent *a, void *ctx)
{
	struct registry_match *m = ctx;

	if (m->failed || !registry_labels_hold(a->labels, m->labels))
		return;
	if (json_array_append_new(m->names, json_string(a->name)) != 0)
		m->failed = 1;
}

static int
registry_name_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

json_t *
registry_matching(const json_t *labels)
{
	struct registry_match m = { labels, json_array(), 0 };
	const char **v = NULL;
	json_t *sorted = NULL;
	size_t i, n;

	if (m.names == NULL)
		return NULL;
	if (labels != NULL && !json_is_object(labels))
		m.failed = 1;
	else
		registry_foreach(registry_match_one, &m);
	n = json_array_size(m.names);
	if (m.failed || (n > 0 && (v = calloc(n, sizeof(*v))) == NULL))
		goto out;
	for (i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(m.names, i));
	qsort(v, n, sizeof(*v), registry_name_cmp);
	if ((sorted = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(sorted, json_string(v[i])) != 0) {
			json_decref(sorted);
			sorted = NULL;
			goto out;
		}
out:
	free(v);
	json_decref(m.names);
	return sorted;
}

/*
 * The agent does not read what it is sent (its socket and then its send
 * queue are full): close it, once, rather than hold more of its messages.
 * Nothing is lost: a step whose run did not go out is still waiting and
 * goes out when the agent is back; an ack not sent makes the agent resend
 * its result, which is taken once.
 */
static void
agent_drop_not_reading(struct coord_agent *a, size_t len)
{
	if (a->dropping)
		return;
	a->dropping = 1;
	log_warnx("registry", "dropping agent agent=%s addr=%s reason=\"send "
	    "queue full: the agent is not reading\" queued=%zu cap=%zu "
	    "message=%zu", a->name, a->addr, a->q.bytes, a->q.cap, len);
	lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int
agent_send(struct coord_agent *a, const struct bora_msg *m)
{
	char *text;
	size_t len;
	int rc;

	text = bora_msg_encode(m, &len);
	if (text == NULL) {
		log_warnx("registry", "cannot encode %s message agent=%s",
		    bora_msg_type_name(m->type), a->name);
		return -1;
	}
	rc = bora_sendq_push(&a->q, text, len);
	free(text);
	if (rc != 0) {
		agent_drop_not_reading(a, len);
		return -1;
	}
	lws_callback_on_writable(a->wsi);
	return 0;
}

json_t *
agent_to_json(const struct coord_agent *a)
{
	char since[32];
	struct tm tm;

	gmtime_r(&a->connected_at, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:I}",
	    "name", a->name,
	    "addr", a->addr,
	    "version", a->version,
	    "labels", a->labels ? json_incref(a->labels) : json_object(),
	    "facts", a->facts ? json_incref(a->facts) : json_object(),
	    "connected_since", since,
	    "bad_messages", (json_int_t)a->bad_messages);
}
