/*
 * coordinator_restore.c: at start, rebuild from the store what was running:
 * the last finished executions (kept for the API), the unfinished ones
 * (engine_restore; parents before their sub-workflows) and the unfinished
 * steps (they wait for their agents, whose journals decide). It sits above
 * the engine, the agents and the store, and calls down into each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coordinator_restore.h"
#include "engine.h"
#include "engine_glue.h"
#include "log.h"
#include "persist.h"
#include "steps.h"
#include "store.h"

#define RESTORE_FINISHED_KEPT 1000  /* finished executions loaded at start */

struct restore_state {
	json_t *tasks;          /* of the execution being loaded */
	json_t *actions;        /* its actions */
	json_t *finished;       /* newest first: [id, workflow, state, doc,
	                           spec] */
	size_t steps, execs, failed;
};

static int
restore_step(void *user, const struct store_step *st)
{
	struct restore_state *pl = user;
	struct step_owner owner = *engine_glue_step_owner();
	char err[256];

	/* labelled with its task, as when the engine started it */
	owner.task = engine_step_task(st->id);
	if (steps_restore(st, st->exec_id ? &owner : NULL, err,
	    sizeof(err)) != 0) {
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
restore_task(void *user, const char *exec_id, unsigned seq,
    const char *document)
{
	struct restore_state *pl = user;
	json_t *doc = json_loads(document, 0, NULL);

	(void)exec_id;
	(void)seq;
	if (doc == NULL || json_array_append_new(pl->tasks, doc) != 0)
		return -1;
	return 0;
}

static int
restore_action(void *user, const char *exec_id, unsigned task_seq,
    unsigned idx, const char *document)
{
	struct restore_state *pl = user;
	json_t *doc = json_loads(document, 0, NULL);

	(void)exec_id;
	(void)task_seq;
	(void)idx;
	if (doc == NULL || json_array_append_new(pl->actions, doc) != 0)
		return -1;
	return 0;
}

static int
restore_exec(void *user, const struct store_exec *x)
{
	struct restore_state *pl = user;
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
	if (store_load_tasks(persist_store_handle(), x->id, restore_task, pl, err,
	    sizeof(err)) != 0 || store_load_actions(persist_store_handle(), x->id,
	    restore_action, pl, err, sizeof(err)) != 0)
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
 * oldest first (restore_finished). */
static int
restore_keep_finished(void *user, const struct store_exec *x)
{
	struct restore_state *pl = user;

	return json_array_append_new(pl->finished, json_pack("[s,s,s,s,s?]",
	    x->id, x->workflow, x->state, x->document, x->spec)) == 0 ? 0 : -1;
}

static void
restore_finished(struct restore_state *pl)
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
		(void)restore_exec(pl, &x);
	}
}

int
coord_restore(char *err, size_t errlen)
{
	struct restore_state pl = { NULL, NULL, NULL, 0, 0, 0 };
	struct store *s = persist_store_handle();

	if (s == NULL) {
		snprintf(err, errlen, "the store is not open");
		return -1;
	}
	/* finished ones first, oldest first, then the active ones in
	 * creation order: parents before their sub-workflows */
	if ((pl.finished = json_array()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (store_load_finished_execs(s, 0, RESTORE_FINISHED_KEPT,
	    restore_keep_finished, &pl, err, errlen) != 0)
		goto fail;
	restore_finished(&pl);
	if (store_load_active_execs(s, restore_exec, &pl, err, errlen) != 0 ||
	    store_load_unfinished_steps(s, restore_step, &pl, err, errlen) != 0)
		goto fail;
	json_decref(pl.finished);
	engine_restore_done();
	log_info("store", "restored executions=%zu steps=%zu not_restored=%zu",
	    pl.execs, pl.steps, pl.failed);
	(void)persist_turn();     /* a failure is retried by the loop */
	return 0;
fail:
	json_decref(pl.finished);
	return -1;
}
