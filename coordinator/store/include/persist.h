/*
 * persist.h: the coordinator's state in its store (store.h), written once
 * per event-loop turn, and read back at start.
 *
 * During a turn, the steps (agents/coord_step_*.c) and the engine change things in memory and queue
 * their writes (no I/O). persist_turn(), called by the event loop after
 * every lws_service(), lets the layers above queue what they changed (their
 * save hooks: the engine's dirty documents), commits everything in one
 * transaction (one fsync however many results came in), and only then
 * calls their release hooks, which let out what had to wait for
 * durability: the run messages of new steps ("dispatched" is durable
 * before run is sent), the acks of results (the agent forgets a result
 * only once it is durable), enrollment answers. The store knows nothing of
 * those layers: they register with persist_on_turn(), so a result flows
 * down and never calls back up. docs/store.md.
 *
 * Rebuilding steps and executions at start is the start-up's job
 * (coordinator_restore.c), which reads the store through
 * persist_store_handle().
 */
#ifndef BORA_COORD_PERSIST_H
#define BORA_COORD_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define PERSIST_DB_NAME "bora.db"

/* Open STATE_DIR/bora.db. 0, or -1 with err. */
int persist_open(const char *state_dir, char *err, size_t errlen);
/* Close it without committing (a start-up that failed half way). */
void persist_abandon(void);

/* Called at each turn: save() before the commit, to queue writes;
 * release(durable) after a commit, with every write up to sequence number
 * `durable` on disk. Either may be NULL; user is handed back. At most 8
 * hooks; 0, or -1 when full. Hooks are forgotten at persist_close(). */
typedef void persist_save_fn(void *user);
typedef void persist_release_fn(uint64_t durable, void *user);
int persist_on_turn(persist_save_fn *save, persist_release_fn *release,
    void *user);
/* The end of a loop turn: save hooks, commit, release hooks. 0, or -1
 * when the commit failed (a full disk...): the writes stay queued and what
 * waits for them stays held until a later turn commits; the caller makes
 * sure one comes (coordinator_loop.c retries on a timer). */
int persist_turn(void);
/* Run the save hooks, commit what is queued and close. */
void persist_close(void);
/* A write could not be queued (what: "step", "task"...): logged once per
 * flush, not once per write. */
void persist_failed(const char *what, const char *err);

/* For the steps (agents/coord_step_durable.c). Each returns the write's sequence number (0: no store, so
 * everything counts as durable at once). */
uint64_t persist_put_step(const struct store_step *st);
uint64_t persist_step_done(const char *id, const char *result_json,
    int64_t finished_ms);
/* The agent has started step id: its row says running (not waited for:
 * a restart before it is durable finds it dispatched, which the agent's
 * journal answers the same way). */
void persist_step_running(const char *id);
void persist_output(const char *id, const char *stream, const char *data,
    size_t len);
/* Every write with a sequence number up to this one is durable. */
uint64_t persist_durable(void);
/* 1 when the store has step id of agent finished (a result sent again for
 * a step the coordinator no longer holds in memory). */
int persist_step_is_done(const char *id, const char *agent);

/* For the API: the store's row of step id (store_get_step) and its kept
 * output (store_load_output), also of steps finished before a restart.
 * 0, or -1 with err (also when there is no store). */
int persist_get_step(const char *id, store_step_cb cb, void *user,
    int *found, char *err, size_t errlen);
int persist_load_output(const char *id, uint64_t offset, uint64_t limit,
    store_output_cb cb, void *user, char *err, size_t errlen);

/* For the API's stored workflows (api_workflows.c): queue a put or a
 * delete (committed with the turn), or read them all. 0, or -1 with err
 * (the load also when there is no store). */
int persist_put_workflow(const struct store_workflow *w, char *err,
    size_t errlen);
int persist_delete_workflow(const char *name, char *err, size_t errlen);
int persist_load_workflows(store_workflow_cb cb, void *user, char *err,
    size_t errlen);

/* The open store (NULL before persist_open), for the enrollment state
 * (tokens.c, enroll.c), which queues its writes to it; they commit with
 * the turn, and enroll_release() hears of each commit. */
struct store *persist_store_handle(void);

#endif
