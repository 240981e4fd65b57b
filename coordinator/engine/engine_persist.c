/*
 * engine_persist.c: executions to documents and back, so that a restarted
 * coordinator carries on every execution where the store left it.
 *
 * What changed is tracked, not scanned for: engine_mark() puts a task (and
 * its execution) on the dirty lists when it changes; engine_save_dirty()
 * hands the glue one document for each dirty execution (its own fields,
 * small) and one for each dirty task (with its actions), then clears the
 * lists. The glue writes them to the store in the loop turn's one
 * transaction. The workflow spec is handed over once, when the execution
 * is first saved.
 *
 * engine_restore() rebuilds an execution from its documents: tasks,
 * actions, joins, context, timers (deadlines are wall-clock times, re-armed
 * as they were; a deadline passed while the coordinator was down fires at
 * once), actions waiting for steps (their step ids map to them again, and
 * the steps' results arrive through engine_step_done as usual), and the
 * links between parents and sub-workflows. engine_restore_done() then
 * moves every unfinished task on. Event logs start empty after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"

/* ---- dirty lists ---- */

void
engine_mark_exec(struct engine_exec *x)
{
	if (x->dirty)
		return;
	x->dirty = 1;
	TAILQ_INSERT_TAIL(&engine_state.dirty, x, dirty_link);
}

void
engine_mark(struct engine_task *t)
{
	engine_mark_exec(t->x);
	if (t->dirty)
		return;
	t->dirty = 1;
	TAILQ_INSERT_TAIL(&t->x->dirty_tasks, t, dirty_link);
}

void
engine_mark_action(struct engine_action *a)
{
	engine_mark(a->t);
	if (a->dirty)
		return;
	a->dirty = 1;
	TAILQ_INSERT_TAIL(&a->t->x->dirty_actions, a, dirty_link);
}

/* Forget x's dirt (it is being freed). */
void
engine_unmark(struct engine_exec *x)
{
	struct engine_action *a;
	struct engine_task *t;

	while ((a = TAILQ_FIRST(&x->dirty_actions)) != NULL) {
		TAILQ_REMOVE(&x->dirty_actions, a, dirty_link);
		a->dirty = 0;
	}
	while ((t = TAILQ_FIRST(&x->dirty_tasks)) != NULL) {
		TAILQ_REMOVE(&x->dirty_tasks, t, dirty_link);
		t->dirty = 0;
	}
	if (x->dirty) {
		TAILQ_REMOVE(&engine_state.dirty, x, dirty_link);
		x->dirty = 0;
	}
}

/* ---- save ---- */

static json_t *
persist_at(const struct timer *t)
{
	return timer_armed(t) ? json_integer(t->at) : NULL;
}

static json_t *
persist_action(const struct engine_action *a)
{
	return json_pack("{s:i, s:i, s:O?, s:s?, s:i, s:i, s:s, s:b, s:O?, "
	    "s:b, s:b, s:o?, s:b, s:O?, s:s?, s:s?}",
	    "task", (int)a->t->seq,
	    "index", (int)a->index, "vars", a->vars, "agent", a->agent,
	    "state", (int)a->state, "attempt", (int)a->attempt,
	    "step", a->step_id, "step_live", a->step_live, "result", a->result,
	    "ok", a->ok, "retry_due", a->retry_due,
	    "timer_at", persist_at(&a->timer), "waiting", a->waiting,
	    "wait_spec", a->wait_spec, "child", a->child ? a->child->id : NULL,
	    "child_id", a->child_id[0] ? a->child_id : NULL);
}

/* The task's own fields; its actions are saved apart (persist_action). */
static json_t *
persist_task(const struct engine_task *t)
{
	json_t *d;

	d = json_pack("{s:s, s:i, s:i, s:s, s:O?, s:O?, s:I, s:I, s:i, s:i, "
	    "s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
	    "s:o?, s:o?, s:i}",
	    "name", t->name, "seq", (int)t->seq, "state", (int)t->state,
	    "info", t->info, "result", t->result, "published", t->published,
	    "started_ms", (json_int_t)t->started_ms,
	    "finished_ms", (json_int_t)t->finished_ms,
	    "next_act", (int)t->next_act, "running", (int)t->running,
	    "finished", (int)t->finished, "retries_due", (int)t->retries_due,
	    "concurrency", (int)t->concurrency, "many", t->many,
	    "paused_once", t->paused_once, "waited_before", t->waited_before,
	    "waited_after", t->waited_after, "in_wait_after", t->in_wait_after,
	    "completed", t->completed, "transitions_done", t->transitions_done,
	    "timed_out", t->timed_out, "join_unsatisfiable",
	    t->join_unsatisfiable, "timer_at", persist_at(&t->timer),
	    "timeout_at", persist_at(&t->timeout), "nacts", (int)t->nacts);
	return d;
}

/*
 * $ as saved: only the keys whose value is not the input's own (vars and
 * what was published), since $ starts as a copy of the input and shares
 * its values; restore_ctx() puts the two together again. So an input is
 * written once per save, not twice. New reference, or NULL.
 */
static json_t *
persist_ctx_set(const struct engine_exec *x)
{
	json_t *set = json_object(), *v;
	const char *k;

	if (set == NULL)
		return NULL;
	json_object_foreach(x->ctx, k, v)
		if (json_object_get(x->input, k) != v &&
		    json_object_set(set, k, v) != 0) {
			json_decref(set);
			return NULL;
		}
	return set;
}

static json_t *
persist_exec(const struct engine_exec *x)
{
	json_t *joins = json_array(), *j, *ctx_set;
	size_t i;

	if (joins == NULL)
		return NULL;
	for (i = 0; i < x->njoins; i++) {
		j = json_pack("{s:s, s:O, s:i, s:b}", "name", x->joins[i].name,
		    "fired", x->joins[i].fired, "need", (int)x->joins[i].need,
		    "started", x->joins[i].started);
		if (json_array_append_new(joins, j) != 0) {
			json_decref(joins);
			return NULL;
		}
	}
	if ((ctx_set = persist_ctx_set(x)) == NULL) {
		json_decref(joins);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:O, s:o, s:O?, s:i, s:s, s:I, s:I, s:i, "
	    "s:b, s:s, s:b, s:O, s:o, s:O?, s:s?, s:i, s:i}",
	    "id", x->id, "workflow", x->wf_name, "input", x->input,
	    "ctx_set", ctx_set, "output", x->output, "state", (int)x->state,
	    "info", x->info, "created_ms", (json_int_t)x->created_ms,
	    "ended_ms", (json_int_t)x->ended_ms, "active", (int)x->active,
	    "failed", x->failed, "fail_info", x->fail_info,
	    "ending", x->ending, "latest", x->latest, "joins", joins,
	    "reverse_set", x->reverse_set,
	    "parent", x->parent ? x->parent->id : NULL,
	    "parent_task", x->parent_action ? (int)x->parent_action->t->seq : 0,
	    "parent_index", x->parent_action ? (int)x->parent_action->index : 0);
}

void
engine_save_dirty(const struct engine_saver *s, void *user)
{
	struct engine_exec *x;
	struct engine_action *a;
	struct engine_task *t;
	json_t *doc;

	while ((x = TAILQ_FIRST(&engine_state.dirty)) != NULL) {
		while ((a = TAILQ_FIRST(&x->dirty_actions)) != NULL) {
			TAILQ_REMOVE(&x->dirty_actions, a, dirty_link);
			a->dirty = 0;
			if ((doc = persist_action(a)) == NULL)
				log_errorx("engine", "out of memory saving an "
				    "action exec=%s task=%s", x->id, a->t->name);
			else
				s->action(user, x->id, a->t->seq,
				    (unsigned)a->index, doc);
			json_decref(doc);
		}
		while ((t = TAILQ_FIRST(&x->dirty_tasks)) != NULL) {
			TAILQ_REMOVE(&x->dirty_tasks, t, dirty_link);
			t->dirty = 0;
			if ((doc = persist_task(t)) == NULL)
				log_errorx("engine", "out of memory saving a "
				    "task exec=%s task=%s", x->id, t->name);
			else
				s->task(user, x->id, t->seq, doc);
			json_decref(doc);
		}
		TAILQ_REMOVE(&engine_state.dirty, x, dirty_link);
		x->dirty = 0;
		if ((doc = persist_exec(x)) == NULL) {
			log_errorx("engine", "out of memory saving an execution "
			    "exec=%s", x->id);
			continue;
		}
		s->exec(user, x->id, x->wf_name, engine_exec_state(x), doc,
		    x->saved ? NULL : x->spec);
		x->saved = 1;
		json_decref(doc);
	}
}

int
engine_dirty(void)
{
	return !TAILQ_EMPTY(&engine_state.dirty);
}

/* ---- restore ---- */

static int64_t
restore_int(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static int
restore_bool(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static json_t *
restore_ref(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return v && !json_is_null(v) ? json_incref(v) : NULL;
}

/* $ of a saved execution: the input with "ctx_set" on top; documents saved
 * before that field have the whole of $ in "ctx". New reference, or NULL. */
static json_t *
restore_ctx(const json_t *doc, const json_t *input)
{
	const json_t *set = json_object_get(doc, "ctx_set");
	json_t *ctx;

	if (set == NULL)
		return restore_ref(doc, "ctx");
	if (input == NULL || (ctx = json_copy((json_t *)(uintptr_t)input)) ==
	    NULL)
		return NULL;
	if (json_object_update(ctx, (json_t *)(uintptr_t)set) != 0) {
		json_decref(ctx);
		return NULL;
	}
	return ctx;
}

static void
restore_info(char *buf, const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	engine_info(buf, "%s", s ? s : "");
}

static void
restore_timer(struct timer *t, const json_t *o, const char *k)
{
	const json_t *at = json_object_get(o, k);

	if (json_is_integer(at))
		(void)timerheap_arm(&engine_state.timers, t, json_integer_value(at));
}

static int
restore_action(struct engine_task *t, const json_t *d, char *err, size_t errlen)
{
	struct engine_action *a;
	const char *agent = json_string_value(json_object_get(d, "agent"));
	const char *step = json_string_value(json_object_get(d, "step"));

	int64_t idx = restore_int(d, "index");

	if (idx < 0 || (size_t)idx >= t->nacts || t->acts[idx] != NULL) {
		snprintf(err, errlen, "task %s: action %lld out of place",
		    t->name, (long long)idx);
		return -1;
	}
	a = engine_action_new(t, (size_t)idx, json_object_get(d, "vars"), agent);
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (json_is_null(json_object_get(d, "vars")) && a->vars != NULL) {
		json_decref(a->vars);
		a->vars = NULL;
	}
	t->acts[idx] = a;
	a->state = (enum astate)restore_int(d, "state");
	a->attempt = (unsigned)restore_int(d, "attempt");
	snprintf(a->step_id, sizeof(a->step_id), "%s", step ? step : "");
	snprintf(a->child_id, sizeof(a->child_id), "%s", json_string_value(
	    json_object_get(d, "child_id")) ? json_string_value(
	    json_object_get(d, "child_id")) : "");
	a->result = restore_ref(d, "result");
	a->ok = restore_bool(d, "ok");
	a->retry_due = restore_bool(d, "retry_due");
	a->wait_spec = restore_ref(d, "wait_spec");
	restore_timer(&a->timer, d, "timer_at");
	if (restore_bool(d, "step_live") && a->step_id[0]) {
		if (idmap_put(&engine_state.steps, a->step_id, a) != 0) {
			snprintf(err, errlen, "step %s restored twice",
			    a->step_id);
			return -1;
		}
		a->step_live = 1;
	}
	if (restore_bool(d, "waiting")) {
		TAILQ_INSERT_TAIL(&engine_state.waiting, a, wait_link);
		a->waiting = 1;
	}
	return 0;
}

static int
restore_task(struct engine_exec *x, const json_t *d, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	int64_t nacts = restore_int(d, "nacts");
	struct engine_task *t;

	if (name == NULL || json_object_get(json_object_get(x->wf, "tasks"),
	    name) == NULL) {
		snprintf(err, errlen, "a task the workflow does not have");
		return -1;
	}
	if ((t = engine_task_new(x, name)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->active--;            /* engine_task_new counted it; "active" is restored */
	if ((unsigned)restore_int(d, "seq") != t->seq) {
		snprintf(err, errlen, "task %s is out of order", name);
		return -1;
	}
	t->state = (enum tstate)restore_int(d, "state");
	restore_info(t->info, d, "info");
	t->result = restore_ref(d, "result");
	t->published = restore_ref(d, "published");
	t->started_ms = restore_int(d, "started_ms");
	t->finished_ms = restore_int(d, "finished_ms");
	t->next_act = (size_t)restore_int(d, "next_act");
	t->running = (size_t)restore_int(d, "running");
	t->finished = (size_t)restore_int(d, "finished");
	t->retries_due = (size_t)restore_int(d, "retries_due");
	t->concurrency = (size_t)restore_int(d, "concurrency");
	t->many = (int)restore_int(d, "many");
	t->paused_once = (int)restore_int(d, "paused_once");
	t->waited_before = (int)restore_int(d, "waited_before");
	t->waited_after = (int)restore_int(d, "waited_after");
	t->in_wait_after = (int)restore_int(d, "in_wait_after");
	t->completed = (int)restore_int(d, "completed");
	t->transitions_done = (int)restore_int(d, "transitions_done");
	t->timed_out = (int)restore_int(d, "timed_out");
	t->join_unsatisfiable = (int)restore_int(d, "join_unsatisfiable");
	if (t->timed_out < 0) {     /* saved before it had a name of its own */
		t->timed_out = 0;
		t->join_unsatisfiable = 1;
	}
	restore_timer(&t->timer, d, "timer_at");
	restore_timer(&t->timeout, d, "timeout_at");
	/* the actions come after every task (restore_actions) */
	if (nacts < 0 || (nacts > 0 && (t->acts = calloc((size_t)nacts,
	    sizeof(*t->acts))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->nacts = (size_t)nacts;
	return 0;
}

/* Each action document into its task's slot; every slot must be filled. */
static int
restore_actions(struct engine_exec *x, const json_t *actions, char *err,
    size_t errlen)
{
	const json_t *d;
	int64_t seq;
	size_t i, j;

	json_array_foreach(actions, i, d) {
		seq = restore_int(d, "task");
		if (seq < 1 || (size_t)seq > x->ntasks) {
			snprintf(err, errlen, "an action of a task that is not "
			    "there (%lld)", (long long)seq);
			return -1;
		}
		if (restore_action(x->tasks[seq - 1], d, err, errlen) != 0)
			return -1;
	}
	for (i = 0; i < x->ntasks; i++)
		for (j = 0; j < x->tasks[i]->nacts; j++)
			if (x->tasks[i]->acts[j] == NULL) {
				/* engine_task_free walks nacts: keep it consistent */
				x->tasks[i]->nacts = j;
				snprintf(err, errlen, "task %s: action %zu is "
				    "missing", x->tasks[i]->name, j);
				return -1;
			}
	return 0;
}

static int
restore_joins(struct engine_exec *x, const json_t *joins, char *err,
    size_t errlen)
{
	const json_t *j;
	size_t i;

	if (json_array_size(joins) == 0)
		return 0;
	if ((x->joins = calloc(json_array_size(joins), sizeof(*x->joins))) ==
	    NULL)
		goto nomem;
	json_array_foreach(joins, i, j) {
		struct join_state *s = &x->joins[x->njoins];
		const char *name = json_string_value(json_object_get(j, "name"));

		if ((s->name = strdup(name ? name : "")) == NULL)
			goto nomem;
		x->njoins++;
		s->fired = json_is_object(json_object_get(j, "fired")) ?
		    json_incref(json_object_get(j, "fired")) : json_object();
		s->need = (size_t)restore_int(j, "need");
		s->started = restore_bool(j, "started");
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Link x to the action of its parent that waits for it. */
static int
restore_parent(struct engine_exec *x, const json_t *doc, char *err,
    size_t errlen)
{
	const char *pid = json_string_value(json_object_get(doc, "parent"));
	int64_t seq = restore_int(doc, "parent_task");
	int64_t index = restore_int(doc, "parent_index");
	struct engine_exec *p;
	struct engine_task *t;

	if (pid == NULL)
		return 0;
	if ((p = idmap_get(&engine_state.execs, pid)) == NULL) {
		if (engine_exec_done(x))
			return 0;   /* an old parent not kept: no link needed */
		snprintf(err, errlen, "its parent execution %s is not there",
		    pid);
		return -1;
	}
	x->parent = p;
	p->nchildren++;
	if (p->secrets != NULL && engine_exec_secrets(x) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (seq < 1 || (size_t)seq > p->ntasks || engine_exec_done(x))
		return 0;
	t = p->tasks[seq - 1];
	if (index < 0 || (size_t)index >= t->nacts)
		return 0;
	x->parent_action = t->acts[index];
	t->acts[index]->child = x;
	snprintf(t->acts[index]->child_id, sizeof(t->acts[index]->child_id),
	    "%s", x->id);
	return 0;
}

int
engine_restore(const json_t *spec, const json_t *doc, const json_t *tasks,
    const json_t *actions, char *err, size_t errlen)
{
	const char *id = json_string_value(json_object_get(doc, "id"));
	const char *wf = json_string_value(json_object_get(doc, "workflow"));
	const json_t *w, *type, *td;
	struct engine_exec *x;
	size_t i;

	if (!engine_state.ready || id == NULL || wf == NULL || strlen(id) >=
	    sizeof(x->id) || (w = json_object_get(json_object_get(spec,
	    "workflows"), wf)) == NULL) {
		snprintf(err, errlen, "not an execution of this spec");
		return -1;
	}
	if (idmap_get(&engine_state.execs, id) != NULL) {
		snprintf(err, errlen, "execution %s is there already", id);
		return -1;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		goto nomem;
	evlog_init(&x->log, ENGINE_LOG_CAP);
	TAILQ_INIT(&x->dirty_tasks);
	TAILQ_INIT(&x->dirty_actions);
	snprintf(x->id, sizeof(x->id), "%s", id);
	x->spec = json_incref((json_t *)(uintptr_t)spec);
	x->wf = w;
	type = json_object_get(w, "type");
	x->reverse = json_is_string(type) &&
	    strcmp(json_string_value(type), "reverse") == 0;
	x->saved = 1;
	if ((x->wf_name = strdup(wf)) == NULL)
		goto nomem_free;
	x->input = restore_ref(doc, "input");
	x->ctx = restore_ctx(doc, x->input);
	x->output = restore_ref(doc, "output");
	x->latest = json_object();
	x->reverse_set = restore_ref(doc, "reverse_set");
	if (x->input == NULL || x->ctx == NULL || x->latest == NULL ||
	    engine_exec_secrets(x) != 0)
		goto nomem_free;
	x->view = json_pack("{s:s, s:s, s:O}", "id", x->id, "workflow",
	    x->wf_name, "input", x->input);
	x->state = (enum xstate)restore_int(doc, "state");
	restore_info(x->info, doc, "info");
	x->created_ms = restore_int(doc, "created_ms");
	x->ended_ms = restore_int(doc, "ended_ms");
	x->failed = restore_bool(doc, "failed");
	restore_info(x->fail_info, doc, "fail_info");
	x->ending = restore_bool(doc, "ending");
	if (restore_joins(x, json_object_get(doc, "joins"), err, errlen) != 0)
		goto fail;
	if (idmap_put(&engine_state.execs, x->id, x) != 0)
		goto nomem_free;
	TAILQ_INSERT_TAIL(&engine_state.all, x, all_link);
	engine_state.nexecs++;
	if (engine_exec_done(x)) {
		engine_state.ndone++;
		evlog_close(&x->log);
	}
	json_array_foreach(tasks, i, td)
		if (restore_task(x, td, err, errlen) != 0)
			goto registered;
	if (restore_actions(x, actions, err, errlen) != 0)
		goto registered;
	x->active = (size_t)restore_int(doc, "active");
	if (restore_parent(x, doc, err, errlen) != 0)
		goto registered;
	return 0;
registered:
	/* keep what is there (others may point to it), stopped with why */
	log_errorx("engine", "cannot restore execution exec=%s: %s", x->id, err);
	if (!engine_exec_done(x))
		engine_exec_stop(x, X_ERROR, "the coordinator could not restore "
		    "it after a restart");
	return -1;
nomem_free:
	snprintf(err, errlen, "out of memory");
fail:
	engine_exec_free(x);
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
engine_restore_done(void)
{
	struct engine_exec *x;
	size_t i;

	TAILQ_FOREACH(x, &engine_state.all, all_link) {
		if (engine_exec_done(x))
			continue;
		log_info("engine", "execution resumed after restart exec=%s "
		    "workflow=%s state=%s tasks=%zu", x->id, x->wf_name,
		    engine_exec_state(x), x->ntasks);
		for (i = 0; i < x->ntasks; i++)
			if (!x->tasks[i]->transitions_done)
				engine_queue_task(x->tasks[i]);
		engine_check_exec(x);
	}
	engine_run_timers();    /* deadlines passed while down; then drain */
}
