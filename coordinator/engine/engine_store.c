/*
 * engine_store.c: the engine's documents (engine_save_dirty) written to the
 * coordinator's store (persist.h) as JSON text, queued with the turn.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "engine.h"
#include "engine_glue.h"
#include "persist.h"
#include "store.h"

static void
engine_store_save_action(void *user, const char *exec_id, unsigned task_seq,
    unsigned idx, const json_t *doc)
{
	struct store_action a = { exec_id, task_seq, idx, NULL };
	char err[512], *text = json_dumps(doc, JSON_COMPACT);

	(void)user;
	a.document = text;
	if (text == NULL || store_put_action(persist_store_handle(), &a, NULL,
	    err, sizeof(err)) != 0)
		persist_failed("action", text ? err : "out of memory");
	free(text);
}

static void
engine_store_save_task(void *user, const char *exec_id, unsigned seq,
    const json_t *doc)
{
	char err[512], *text = json_dumps(doc, JSON_COMPACT);

	(void)user;
	if (text == NULL || store_put_task(persist_store_handle(), exec_id, seq,
	    text, NULL, err, sizeof(err)) != 0)
		persist_failed("task", text ? err : "out of memory");
	free(text);
}

static void
engine_store_save_exec(void *user, const char *exec_id, const char *workflow,
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
	    store_put_exec(persist_store_handle(), &x, NULL, err, sizeof(err)) != 0)
		persist_failed("execution", text ? err : "out of memory");
	free(text);
	free(stext);
}

static const struct engine_saver engine_store_saver = {
	engine_store_save_action, engine_store_save_task, engine_store_save_exec
};

/* persist_on_turn's save hook: the documents changed during the turn. */
static void
engine_store_save(void *user)
{
	(void)user;
	if (persist_store_handle() != NULL)
		engine_save_dirty(&engine_store_saver, NULL);
}

int
engine_store_hook(void)
{
	return persist_on_turn(engine_store_save, NULL, NULL);
}
