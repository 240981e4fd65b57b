/*
 * registry.h: the agents connected now, by name (the CN of their verified
 * certificate). One entry per live websocket; lookups by name are O(1).
 */
#ifndef BORA_COORD_REGISTRY_H
#define BORA_COORD_REGISTRY_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <libwebsockets.h>
#include "msg.h"
#include "sendq.h"

struct coord_agent {
	char name[BORA_MAX_NAME + 1];  /* from the certificate's CN */
	char addr[64];                 /* peer address, for logs */
	struct lws *wsi;
	struct bora_sendq q;           /* messages waiting for WRITEABLE */
	int welcomed;                  /* hello taken, welcome queued */
	int registered;                /* in the name table */
	json_t *labels;                /* from hello; owned */
	json_t *facts;                 /* from hello; owned */
	char version[64];
	time_t connected_at;
	uint64_t bad_messages;         /* refused messages from this agent */
	int dropping;                  /* closing: its send queue overflowed */
	struct coord_agent *hash_next;
};

/* Add a (welcomed) agent under its name. A live agent of the same name is
 * replaced: returns the old one (the caller closes it) or NULL. */
struct coord_agent *registry_add(struct coord_agent *a);
void registry_remove(struct coord_agent *a);
struct coord_agent *registry_find(const char *name);
size_t registry_count(void);

/* Call fn on every agent (listings only; no per-event scans). */
void registry_foreach(void (*fn)(struct coord_agent *, void *), void *ctx);

/*
 * Names of the connected agents whose hello labels hold every key/value
 * of labels (an object; NULL or {} matches every agent), sorted. A new
 * array, or NULL when out of memory or labels is not an object. Walks every agent: for listings and
 * target selection, never per message.
 */
json_t *registry_matching(const json_t *labels);

/* Who hears of each agent welcomed (its hello taken, its waiting steps
 * sent): one hook, NULL to remove. labels are borrowed. */
typedef void (*registry_welcome_fn)(void *user, const char *name,
    const json_t *labels);
void registry_set_welcome_hook(registry_welcome_fn fn, void *user);
/* From agent_server.c, once the agent is welcomed: calls the hook. */
void registry_welcomed(const struct coord_agent *a);

/* Queue m for the agent and ask for WRITEABLE. 0, or -1 when encoding
 * fails or the queue is over its cap: then the agent is not reading, and
 * its connection is closed (logged once; the caller keeps what did not go
 * out for the agent's return). */
int agent_send(struct coord_agent *a, const struct bora_msg *m);

/* JSON summary for the API: name, addr, labels, facts, version,
 * connected_since (RFC 3339). New reference. */
json_t *agent_to_json(const struct coord_agent *a);

#endif
