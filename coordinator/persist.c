/* persist.c: see persist.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "engine.h"
#include "engine_glue.h"
#include "enroll.h"
#include "log.h"
#include "persist.h"
#include "steps.h"
#include "store.h"
#include "store_sqlite.h"

static struct store *persist_store;
static uint64_t persist_last_logged_failure;

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
static void
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

/* ---- the engine's documents ---- */

static void
persist_save_action(void *user, const char *exec_id, unsigned task_seq,
    unsigned idx, const json_t *doc)
{
	struct store_action a = { exec_id, task_seq, idx, NULL };
	char err[512], *text = json_dumps(doc, JSON_COMPACT);

	(void)user;
	a.document = text;
	if (text == NULL || store_put_action(persist_store, &a, NULL, err,
	    sizeof(err)) != 0)
		persist_failed("action", text ? err : "out of memory");
	free(text);
}

static void
persist_save_task(void *user, const char *exec_id, unsigned seq,
    const json_t *doc)
{
	char err[512], *text = json_dumps(doc, JSON_COMPACT);

	(void)user;
	if (text == NULL || store_put_task(persist_store, exec_id, seq, text,
	    NULL, err, sizeof(err)) != 0)
		persist_failed("task", text ? err : "out of memory");
	free(text);
}

static void
persist_save_exec(void *user, const char *exec_id, const char *workflow,
    const char *state, const json_t *doc, const json_t *spec)
{
	struct store_exec x;
	char err[512], *text = json_dumps(doc, JSON_COMPACT), *stext = NULL;

	(void)user;
	if (spec != NULL)
		stext = json_dumps(spec, JSON_COMPACT);
	memset(&x, 0, sizeof(x));
	x.id = exec_id;
	x.workflow = workflow;
	x.state = state;
	x.document = text;
	x.spec = stext;
	x.updated_ms = bora_wall_ms();
	if (text == NULL || (spec != NULL && stext == NULL) ||
	    store_put_exec(persist_store, &x, NULL, err, sizeof(err)) != 0)
		persist_failed("execution", text ? err : "out of memory");
	free(text);
	free(stext);
}

static const struct engine_saver persist_saver = {
	persist_save_action, persist_save_task, persist_save_exec
};

void
persist_turn(void)
{
	char err[512];

	if (persist_store == NULL)
		return;
	engine_save_dirty(&persist_saver, NULL);
	if (!store_pending(persist_store))
		return;
	if (store_flush(persist_store, err, sizeof(err)) != 0) {
		/* kept queued: the next turn tries again; nothing waiting
		 * for durability is let out meanwhile */
		log_errorx("store", "cannot commit reason=\"%s\"", err);
		return;
	}
	steps_release(store_durable_seq(persist_store));
	enroll_release(store_durable_seq(persist_store));
}

/* ---- start-up ---- */

#define PERSIST_FINISHED_KEPT 1000  /* finished executions loaded at start */

struct persist_load {
	json_t *tasks;          /* of the execution being loaded */
	json_t *actions;        /* its actions */
	json_t *finished;       /* newest first: [id, workflow, state, doc,
	                           spec] */
	size_t steps, execs, failed;
};

static int
persist_load_step(void *user, const struct store_step *st)
{
	struct persist_load *pl = user;
	char err[256];

	if (steps_restore(st, st->exec_id ? engine_glue_step_owner() : NULL,
	    err, sizeof(err)) != 0) {
		log_errorx("store", "cannot restore a step step=%s reason=\"%s\"",
		    st->id, err);
		pl->failed++;
		return 0;
	}
	if (st->exec_id != NULL && steps_find(st->id) != NULL)
		step_set_secrets(steps_find(st->id),
		    engine_step_secrets(st->id));
	pl->steps++;
	return 0;
}

static int
persist_load_task(void *user, const char *exec_id, unsigned seq,
    const char *document)
{
	struct persist_load *pl = user;
	json_t *doc = json_loads(document, 0, NULL);

	(void)exec_id;
	(void)seq;
	if (doc == NULL || json_array_append_new(pl->tasks, doc) != 0)
		return -1;
	return 0;
}

static int
persist_load_action(void *user, const char *exec_id, unsigned task_seq,
    unsigned idx, const char *document)
{
	struct persist_load *pl = user;
	json_t *doc = json_loads(document, 0, NULL);

	(void)exec_id;
	(void)task_seq;
	(void)idx;
	if (doc == NULL || json_array_append_new(pl->actions, doc) != 0)
		return -1;
	return 0;
}

static int
persist_load_exec(void *user, const struct store_exec *x)
{
	struct persist_load *pl = user;
	json_t *doc = NULL, *spec = NULL;
	char err[512];

	pl->tasks = json_array();
	pl->actions = json_array();
	if (pl->actions == NULL || x->spec == NULL || (spec = json_loads(x->spec, 0, NULL)) == NULL ||
	    (doc = json_loads(x->document, 0, NULL)) == NULL ||
	    pl->tasks == NULL) {
		snprintf(err, sizeof(err), "its stored documents do not parse");
		goto fail;
	}
	if (store_load_tasks(persist_store, x->id, persist_load_task, pl, err,
	    sizeof(err)) != 0 || store_load_actions(persist_store, x->id,
	    persist_load_action, pl, err, sizeof(err)) != 0)
		goto fail;
	if (engine_restore(spec, doc, pl->tasks, pl->actions, err,
	    sizeof(err)) != 0)
		goto fail;
	pl->execs++;
	goto out;
fail:
	log_errorx("store", "cannot restore an execution exec=%s reason=\"%s\"",
	    x->id, err);
	pl->failed++;
out:
	json_decref(pl->tasks);
	json_decref(pl->actions);
	pl->tasks = pl->actions = NULL;
	json_decref(doc);
	json_decref(spec);
	return 0;
}

/* A finished execution, kept for the API: restored after the others,
 * oldest first (persist_restore_finished). */
static int
persist_keep_finished(void *user, const struct store_exec *x)
{
	struct persist_load *pl = user;

	return json_array_append_new(pl->finished, json_pack("[s,s,s,s,s?]",
	    x->id, x->workflow, x->state, x->document, x->spec)) == 0 ? 0 : -1;
}

static void
persist_restore_finished(struct persist_load *pl)
{
	struct store_exec x;
	size_t i = json_array_size(pl->finished);
	json_t *e;

	while (i-- > 0) {
		e = json_array_get(pl->finished, i);
		memset(&x, 0, sizeof(x));
		x.id = json_string_value(json_array_get(e, 0));
		x.workflow = json_string_value(json_array_get(e, 1));
		x.state = json_string_value(json_array_get(e, 2));
		x.document = json_string_value(json_array_get(e, 3));
		x.spec = json_string_value(json_array_get(e, 4));
		(void)persist_load_exec(pl, &x);
	}
}

int
persist_open(const char *state_dir, char *err, size_t errlen)
{
	struct persist_load pl = { NULL, NULL, NULL, 0, 0, 0 };
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir,
	    PERSIST_DB_NAME) >= sizeof(path)) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	persist_store = store_open(&store_sqlite_ops, path, NULL, err, errlen);
	if (persist_store == NULL)
		return -1;
	/* finished ones first, oldest first, then the active ones in
	 * creation order: parents before their sub-workflows */
	if ((pl.finished = json_array()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (store_load_finished_execs(persist_store, 0, PERSIST_FINISHED_KEPT,
	    persist_keep_finished, &pl, err, errlen) != 0)
		goto fail;
	persist_restore_finished(&pl);
	if (store_load_active_execs(persist_store, persist_load_exec, &pl, err,
	    errlen) != 0 || store_load_unfinished_steps(persist_store,
	    persist_load_step, &pl, err, errlen) != 0)
		goto fail;
	json_decref(pl.finished);
	engine_restore_done();
	log_info("store", "opened path=%s executions=%zu steps=%zu "
	    "not_restored=%zu", path, pl.execs, pl.steps, pl.failed);
	persist_turn();
	return 0;
fail:
	json_decref(pl.finished);
	store_abandon(persist_store);
	persist_store = NULL;
	return -1;
}

void
persist_close(void)
{
	char err[512];

	if (persist_store == NULL)
		return;
	engine_save_dirty(&persist_saver, NULL);
	if (store_close(persist_store, err, sizeof(err)) != 0)
		log_errorx("store", "cannot commit at exit reason=\"%s\"", err);
	persist_store = NULL;
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
