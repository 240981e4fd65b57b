/*
 * coord_steps_fixture.h: what the unit tests of the coordinator's steps
 * (coordinator/agents/coord_step_*.c) share: agents connected in memory (a
 * struct coord_agent whose send queue the test reads; its wsi is one end
 * of a pipe adopted by an lws context that is never serviced, so there is
 * no network), an optional store in a temporary directory whose turns the
 * test makes, an owner that records what it hears, and the coordinator's
 * log captured around calls.
 */
#ifndef BORA_TEST_STEPS_FIXTURE_H
#define BORA_TEST_STEPS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "registry.h"
#include "steps.h"

#define FX_MAX_AGENTS 8

/* What an owner (fx_owner()) heard. */
struct fx_heard {
	char output[4096];          /* every chunk, in order */
	size_t outputs;             /* chunks */
	size_t dones;
	char done_step[256];        /* of the last on_done */
	char done_status[32];       /* its result's status */
	char order[1024];           /* "ID ID ..." of the on_done calls */
};

extern struct fx_heard fx_heard;

/* Fresh steps, registry and log; with_store: a store in a new temporary
 * directory, with steps_release as its turn's release hook. 0 (cmocka
 * setup). */
int fx_setup(void **state);
int fx_setup_store(void **state);
/* Everything freed, the directory removed. 0 (cmocka teardown). */
int fx_teardown(void **state);

/* An agent connected and welcomed, without a hello applied: owned by the
 * fixture (freed at teardown). */
struct coord_agent *fx_agent(const char *name);
/* Its hello: running and results are arrays (NULL: none), borrowed. */
void fx_hello(struct coord_agent *a, json_t *running, json_t *results);
/* The agent goes away (still owned by the fixture). */
void fx_gone(struct coord_agent *a);
/*
 * What was sent to the agent since the last call, one "TYPE STEP" per
 * message, separated by ", " ("run s1, ack s2"), "" for nothing; the
 * queue is emptied. The string is the fixture's, valid until the next
 * call.
 */
const char *fx_sent(struct coord_agent *a);

/* A loop turn of the store: commit, then the release hooks. */
void fx_turn(void);

/* An owner whose callbacks fill fx_heard; the second one labels the step
 * with exec and task (static, valid until the next call). */
const struct step_owner *fx_owner(void);
const struct step_owner *fx_owner_labelled(const char *exec,
    const char *task);

/* A step submitted with a spec {"script": "true"}, timeout 60; it must
 * succeed. */
struct coord_step *fx_submit(const char *id, const char *agent,
    const struct step_owner *owner);

/* Results and output as an agent sends them. */
int fx_result(struct coord_agent *a, const char *step, const char *status,
    int exit_code);
int fx_output(struct coord_agent *a, const char *step, const char *stream,
    uint64_t seq, const char *data);

/* The coordinator's log between the two calls (stderr captured, at level
 * info; outside them only errors are logged); the text is malloc'ed, the
 * caller frees it. */
void fx_log_start(void);
char *fx_log_end(void);

/* The step's event log as one string of its lines, each ending in '\n';
 * malloc'ed, the caller frees it. */
char *fx_events(struct coord_step *s);
/* The concatenated data of its output events of stream. Malloc'ed. */
char *fx_event_output(struct coord_step *s, const char *stream);

#endif
