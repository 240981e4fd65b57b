/*
 * steps.h: steps the coordinator has pushed (or will push) to agents.
 *
 * A step is created for one agent; it is sent at once when the agent is
 * connected, else when it connects. Its life is an event log of NDJSON lines
 * ({"event":"queued"|"dispatched"|"accepted"|"output"|"result", ...}) kept
 * per step in a struct evlog up to a byte cap (output past the cap is
 * counted, not kept; the result event always is). API watchers replay the
 * log from any index and are notified as it grows; an owner (the engine)
 * hears of output and the result through callbacks. Each step also has a
 * row in the store (persist.h), and its run and its result's ack wait for
 * their writes to be durable. The module's files are coord_step_table.c,
 * coord_step_durable.c, coord_step_output.c and coord_step_protocol.c (coord_step_int.h).
 */
#ifndef BORA_COORD_STEPS_H
#define BORA_COORD_STEPS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "evlog.h"
#include "msg.h"
#include "registry.h"
#include "store.h"

struct lws_context;

enum coord_step_state {
	STEP_WAITING,      /* agent not connected yet */
	STEP_DISPATCHED,   /* run sent */
	STEP_RUNNING,      /* agent accepted */
	STEP_DONE,         /* result applied */
};

struct coord_step;

/*
 * Who started a step and wants to hear of it (the engine), without
 * polling: on_output for each output chunk kept or not (data is not
 * NUL-terminated), on_done once with the result object (borrowed: take a
 * reference to keep it). Both are called after the event is in the step's
 * log, never from inside steps_submit(); on_done of a step cancelled while
 * it waited for its agent comes from inside steps_cancel(). Any may be
 * NULL.
 *
 * exec and task label the step: every log line of it carries exec=EXEC
 * task=TASK after its step=, so that `grep exec=ID` tells an execution's
 * whole story. They are borrowed for the call of steps_submit() or
 * steps_restore() and copied (a task name is cut at STEP_TASK_MAX bytes);
 * step_set_owner() leaves a step's labels as they are. exec NULL: the
 * step id's part before its first dot when on_done is set (the engine's
 * ids are EXEC.TASKSEQ.ITEM.ATTEMPT), else none; the store's row of the
 * step names that execution too. task NULL: none.
 */
#define STEP_TASK_MAX 255
struct step_owner {
	void (*on_output)(void *user, const char *step_id, const char *stream,
	    const char *data, size_t len);
	void (*on_done)(void *user, const char *step_id, const json_t *result);
	void *user;
	const char *exec;
	const char *task;
};

/*
 * Create a step for `agent`. id: the caller's step id (bora_step_id_valid;
 * an id already known is an error), or NULL for a generated one. Takes
 * new references to spec and inputs (inputs may be NULL). owner is copied
 * (NULL: none). Returns the step, or NULL with a sentence in err.
 */
struct coord_step *steps_submit(const char *id, const char *agent,
    const char *kind, json_t *spec, json_t *inputs, uint32_t timeout_s,
    const struct step_owner *owner, char *err, size_t errlen);

/*
 * Stop a step. One still waiting for its agent is taken off the agent's
 * queue and finished here with the result {status: "cancelled", error:
 * reason}; a dispatched or running one gets a cancel message (now, or when
 * its agent is back), and its result comes later as usual. A finished
 * step is left alone. reason may be NULL.
 */
void steps_cancel(struct coord_step *s, const char *reason);

/* Replace the step's owner (copied, but for its labels; NULL: none), e.g.
 * to stop hearing of a step one has cancelled. */
void step_set_owner(struct coord_step *s, const struct step_owner *owner);

/* Values to mask (secrets.h) in the step's output events, stored output,
 * logged output, result and what its owner hears; added to those it has.
 * Set right after steps_submit/steps_restore, before any output. */
void step_set_secrets(struct coord_step *s, const json_t *set);
/* How long s's agent may stay away before s is lost (coord_step_away.c);
 * 0: its timeout plus 3 heartbeats. Set right after steps_submit; not
 * stored (a restored step has the default). */
void step_set_agent_timeout(struct coord_step *s, uint32_t secs);

struct coord_step *steps_find(const char *id);
const char *step_id(const struct coord_step *s);
const char *step_state_name(enum coord_step_state st);

/* Summary for the API (id, agent, kind, state, timeout, and the result
 * object once done). New reference. */
json_t *step_to_json(const struct coord_step *s);

/* The unfinished steps of agent (waiting, dispatched or running), each as
 * step_to_json, in the order they were given to it. A new array, or NULL
 * when out of memory. */
json_t *steps_of_agent_json(const char *agent);

/*
 * The step's event log (evlog.h), closed after the result event. The log
 * lives as long as the step; a finished step is not forgotten while its
 * log has watchers, which must unwatch before they are freed.
 */
struct evlog *step_log(struct coord_step *s);

/* From agent_server.c, after a message passed the codec. Each returns 0, or -1
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

/* coordinator_restore.c: a step of the store, rebuilt at start (dispatched or
 * running; its agent gets its run again when it connects). 0, or -1. */
int steps_restore(const struct store_step *st, const struct step_owner *owner,
    char *err, size_t errlen);
/* A persist_on_turn() release hook: after a commit, send the runs and acks
 * that waited for writes up to durable. */
void steps_release(uint64_t durable, void *user);

/* Log every line of output (log.step_output; off by default). */
void steps_set_log_output(int on);

/* Bound the absence of a step's agent (coord_step_away.c): ctx (borrowed
 * until steps_away_shutdown(); NULL: no wake-ups) runs its timer, and
 * heartbeat_s is the welcome's heartbeat. */
void steps_away_init(struct lws_context *ctx, uint32_t heartbeat_s);
/* Lose the steps whose agent's absence passed its bound by now_ms (the
 * timer's callback; tests call it). */
void steps_away_run(int64_t now_ms);
void steps_away_shutdown(void);

void steps_shutdown(void);

#endif
