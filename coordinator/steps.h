/*
 * steps.h: steps the coordinator has pushed (or will push) to agents.
 *
 * A step is created for one agent; it is sent at once when the agent is
 * connected, else when it connects. Its life is an event log of NDJSON lines
 * ({"event":"queued"|"dispatched"|"accepted"|"output"|"result", ...}) kept
 * per step up to a byte cap (output past the cap is counted, not kept; the
 * result event always is). API watchers replay the log from any index and
 * are notified as it grows. In memory for now; the store comes later.
 */
#ifndef BORA_COORD_STEPS_H
#define BORA_COORD_STEPS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "msg.h"
#include "registry.h"

enum coord_step_state {
	STEP_WAITING,      /* agent not connected yet */
	STEP_DISPATCHED,   /* run sent */
	STEP_RUNNING,      /* agent accepted */
	STEP_DONE,         /* result applied */
};

struct coord_step;

struct step_watcher {
	struct step_watcher *next, *prev;   /* owned by steps.c while watching */
	struct coord_step *step;
	void (*notify)(struct step_watcher *w);  /* the log grew or the step ended */
	void *user;
};

/*
 * Create a step for `agent`. Takes new references to spec and inputs
 * (inputs may be NULL). Returns the step, or NULL with a sentence in err.
 */
struct coord_step *steps_submit(const char *agent, const char *kind,
    json_t *spec, json_t *inputs, uint32_t timeout_s, char *err, size_t errlen);

struct coord_step *steps_find(const char *id);
const char *step_id(const struct coord_step *s);
enum coord_step_state step_state(const struct coord_step *s);
const char *step_state_name(enum coord_step_state st);

/* Summary for the API (id, agent, kind, state, timeout, and the result
 * object once done). New reference. */
json_t *step_to_json(const struct coord_step *s);

/* The event log: count, and line i (NUL-terminated, no newline). */
size_t step_event_count(const struct coord_step *s);
const char *step_event(const struct coord_step *s, size_t i, size_t *len);

/* Notified on every new event; the watcher's memory is the caller's and
 * must be unwatched before it is freed. */
void step_watch(struct coord_step *s, struct step_watcher *w);
void step_unwatch(struct step_watcher *w);

/* From server.c, after a message passed the codec. Each returns 0, or -1
 * when the message breaks the rules (a step of another agent, ...): the
 * server then answers with an error message and counts it. */
void steps_on_agent_welcomed(struct coord_agent *a, const struct bora_hello *h);
void steps_on_agent_gone(struct coord_agent *a);
int steps_on_accept(struct coord_agent *a, const struct bora_accept *m,
    char *err, size_t errlen);
int steps_on_output(struct coord_agent *a, const struct bora_output *m,
    char *err, size_t errlen);
int steps_on_result(struct coord_agent *a, const struct bora_result *m,
    char *err, size_t errlen);

void steps_shutdown(void);

#endif
