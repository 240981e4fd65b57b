/* persist.c: see persist.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "log_gate.h"
#include "persist.h"
#include "store.h"

static struct store *persist_store;
static uint64_t persist_last_logged_failure;

/* What the layers above asked to be called each turn (persist_on_turn). */
#define PERSIST_HOOKS_MAX 8
static struct persist_hook {
	persist_save_fn *save;
	persist_release_fn *release;
	void *user;
} persist_hooks[PERSIST_HOOKS_MAX];
static size_t persist_nhooks;

struct store *
persist_store_handle(void)
{
	return persist_store;
}

uint64_t
persist_durable(void)
{
	return persist_store ? store_durable_seq(persist_store) : UINT64_MAX;
}

/* A queued write failed (out of memory, or the queue is full because the
 * disk has not taken a flush for a long time): say so once per flush. */
void
persist_failed(const char *what, const char *err)
{
	struct store_stats st;

	store_get_stats(persist_store, &st);
	if (persist_last_logged_failure == st.flushes + 1)
		return;
	persist_last_logged_failure = st.flushes + 1;
	log_errorx("store", "cannot queue a write what=%s reason=\"%s\"", what,
	    err);
}

uint64_t
persist_put_step(const struct store_step *st)
{
	char err[512];
	uint64_t seq = 0;

	if (persist_store == NULL)
		return 0;
	if (store_put_step(persist_store, st, &seq, err, sizeof(err)) != 0) {
		persist_failed("step", err);
		return UINT64_MAX;      /* never durable: held until restart */
	}
	return seq;
}

uint64_t
persist_step_done(const char *id, const char *result_json,
    int64_t finished_ms)
{
	char err[512];
	uint64_t seq = 0;

	if (persist_store == NULL)
		return 0;
	if (store_update_step(persist_store, id, STORE_STEP_DONE, result_json,
	    finished_ms, &seq, err, sizeof(err)) != 0) {
		persist_failed("result", err);
		return UINT64_MAX;      /* not acked: the agent sends it again */
	}
	return seq;
}

void
persist_step_running(const char *id)
{
	char err[512];

	if (persist_store != NULL && store_update_step(persist_store, id,
	    STORE_STEP_RUNNING, NULL, 0, NULL, err, sizeof(err)) != 0)
		persist_failed("step state", err);
}

void
persist_output(const char *id, const char *stream, const char *data,
    size_t len)
{
	char err[512];

	if (persist_store != NULL && store_append_output(persist_store, id,
	    stream, data, len, NULL, err, sizeof(err)) != 0)
		persist_failed("output", err);
}

int
persist_get_step(const char *id, store_step_cb cb, void *user, int *found,
    char *err, size_t errlen)
{
	if (persist_store == NULL) {
		snprintf(err, errlen, "the coordinator has no store");
		return -1;
	}
	return store_get_step(persist_store, id, cb, user, found, err, errlen);
}

int
persist_load_output(const char *id, uint64_t offset, uint64_t limit,
    store_output_cb cb, void *user, char *err, size_t errlen)
{
	if (persist_store == NULL) {
		snprintf(err, errlen, "the coordinator has no store");
		return -1;
	}
	return store_load_output(persist_store, id, offset, limit, cb, user,
	    err, errlen);
}

struct persist_done_q {
	const char *agent;
	int done;
};

static int
persist_found_done(void *user, const struct store_step *st)
{
	struct persist_done_q *q = user;

	q->done = st->state == STORE_STEP_DONE &&
	    strcmp(st->agent, q->agent) == 0;
	return 0;
}

int
persist_step_is_done(const char *id, const char *agent)
{
	struct persist_done_q q = { agent, 0 };
	char err[512];
	int found = 0;

	if (persist_store == NULL)
		return 0;
	if (store_get_step(persist_store, id, persist_found_done, &q,
	    &found, err, sizeof(err)) != 0) {
		log_errorx("store", "cannot read a step step=%s reason=\"%s\"",
		    id, err);
		return 0;
	}
	return found && q.done;
}

int
persist_on_turn(persist_save_fn *save, persist_release_fn *release,
    void *user)
{
	if (persist_nhooks == PERSIST_HOOKS_MAX)
		return -1;
	persist_hooks[persist_nhooks++] = (struct persist_hook){ save, release,
	    user };
	return 0;
}

static void
persist_save_all(void)
{
	size_t i;

	for (i = 0; i < persist_nhooks; i++)
		if (persist_hooks[i].save != NULL)
			persist_hooks[i].save(persist_hooks[i].user);
}

int
persist_turn(void)
{
	char err[512];
	uint64_t durable;
	size_t i;

	if (persist_store == NULL)
		return 0;
	persist_save_all();
	if (!store_pending(persist_store))
		return 0;
	if (store_flush(persist_store, err, sizeof(err)) != 0) {
		/* kept queued: the next turn tries again; nothing waiting
		 * for durability is let out meanwhile */
		log_limited(BORA_LOG_ERROR, "store", "commit_failed", "store",
		    "cannot commit reason=\"%s\"", err);
		return -1;
	}
	durable = store_durable_seq(persist_store);
	for (i = 0; i < persist_nhooks; i++)
		if (persist_hooks[i].release != NULL)
			persist_hooks[i].release(durable, persist_hooks[i].user);
	return 0;
}

int
persist_open(const char *state_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir,
	    PERSIST_DB_NAME) >= sizeof(path)) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	persist_store = store_open(&store_sqlite_ops, path, NULL, err, errlen);
	if (persist_store == NULL)
		return -1;
	log_info("store", "opened path=%s", path);
	return 0;
}

void
persist_abandon(void)
{
	if (persist_store != NULL)
		store_abandon(persist_store);
	persist_store = NULL;
}

void
persist_close(void)
{
	char err[512];

	if (persist_store == NULL)
		return;
	persist_save_all();
	if (store_close(persist_store, err, sizeof(err)) != 0)
		log_errorx("store", "cannot commit at exit reason=\"%s\"", err);
	persist_store = NULL;
	persist_nhooks = 0;
}

int
persist_put_workflow(const struct store_workflow *w, char *err, size_t errlen)
{
	if (persist_store == NULL)
		return 0;
	return store_put_workflow(persist_store, w, NULL, err, errlen);
}

int
persist_delete_workflow(const char *name, char *err, size_t errlen)
{
	if (persist_store == NULL)
		return 0;
	return store_delete_workflow(persist_store, name, NULL, err, errlen);
}

int
persist_load_workflows(store_workflow_cb cb, void *user, char *err,
    size_t errlen)
{
	if (persist_store == NULL) {
		snprintf(err, errlen, "no store");
		return -1;
	}
	return store_load_workflows(persist_store, cb, user, err, errlen);
}
