/*
 * engine.c: executions, the work queue and timers of the engine.
 *
 * Every entry point (engine_start, a step's result, a timer, ...) changes
 * the objects it names and queues what must move next: a task on the
 * work queue, an execution on the check list. engine_drain() then runs
 * the queue until it is empty, so a chain of 1,000 tasks that finish at
 * once is a loop, not a recursion 1,000 deep, and nothing is ever found
 * by scanning all executions or tasks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "engine_int.h"
#include "log.h"
#include "utf8.h"

#define ENGINE_KEEP_DONE 10000   /* finished executions kept for the API */

struct engine engine_state;

static void engine_drain(void);

static const char *const xstate_names[] = {
	"IDLE", "RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"
};
static const char *const tstate_names[] = {
	"IDLE", "WAITING", "RUNNING", "RUNNING_DELAYED", "PAUSED", "SUCCESS",
	"ERROR", "CANCELLED"
};

const char *
engine_tstate_name(enum tstate s)
{
	return tstate_names[s];
}

void
engine_vinfo(char *buf, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(buf, ENGINE_INFO_MAX, fmt, ap);
	n = strlen(buf);        /* the cut may have split a UTF-8 sequence */
	buf[n - bora_utf8_incomplete_tail(buf, n)] = '\0';
}

void
engine_info(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	engine_vinfo(buf, fmt, ap);
	va_end(ap);
}

/* ---- time ---- */

int64_t
engine_now(void)
{
	return engine_state.ops.now_ms(engine_state.ops.user);
}

static void
engine_update_wake(void)
{
	int64_t next = timerheap_next(&engine_state.timers);

	if (next != engine_state.woken_for) {
		engine_state.woken_for = next;
		engine_state.ops.wake_at(engine_state.ops.user, next);
	}
}

void
engine_arm(struct timer *t, int64_t delay_ms)
{
	if (delay_ms < 0)
		delay_ms = 0;
	if (timerheap_arm(&engine_state.timers, t, engine_now() + delay_ms) != 0)
		log_errorx("engine", "out of memory arming a timer");
}

void
engine_disarm(struct timer *t)
{
	timerheap_cancel(&engine_state.timers, t);
}

void
engine_run_timers(void)
{
	struct timer *t;
	int64_t now;

	if (!engine_state.ready)
		return;
	engine_state.woken_for = INT64_MAX - 1;      /* ask again after */
	now = engine_now();
	while ((t = timerheap_pop_due(&engine_state.timers, now)) != NULL) {
		t->fire(t);
		engine_drain();
	}
	engine_drain();
}

/* ---- queue ---- */

void
engine_queue_task(struct engine_task *t)
{
	if (t->queued)
		return;
	t->queued = 1;
	TAILQ_INSERT_TAIL(&engine_state.queue, t, queue_link);
}

void
engine_check_exec(struct engine_exec *x)
{
	if (x->checked)
		return;
	x->checked = 1;
	TAILQ_INSERT_TAIL(&engine_state.check, x, check_link);
}

static void engine_exec_maybe_end(struct engine_exec *x);
static void engine_trim(void);

static void
engine_drain(void)
{
	struct engine_exec *x;
	struct engine_task *t;

	if (engine_state.draining)
		return;
	engine_state.draining = 1;
	for (;;) {
		if ((t = TAILQ_FIRST(&engine_state.queue)) != NULL) {
			TAILQ_REMOVE(&engine_state.queue, t, queue_link);
			t->queued = 0;
			engine_task_advance(t);
			continue;
		}
		if ((x = TAILQ_FIRST(&engine_state.check)) != NULL) {
			TAILQ_REMOVE(&engine_state.check, x, check_link);
			x->checked = 0;
			engine_exec_maybe_end(x);
			continue;
		}
		break;
	}
	engine_trim();
	engine_state.draining = 0;
	engine_update_wake();
}

/* ---- events ---- */

void
engine_emit(struct engine_exec *x, json_t *ev)
{
	struct engine_exec *p;

	if (ev == NULL) {
		log_errorx("engine", "out of memory making an event exec=%s",
		    x->id);
		return;
	}
	if (json_object_get(ev, "exec") == NULL)
		(void)json_object_set_new(ev, "exec", json_string(x->id));
	if (x->secrets != NULL) {
		json_t *m = secrets_mask_json(x->secrets, ev);

		json_decref(ev);
		if ((ev = m) == NULL) {
			log_errorx("engine", "out of memory masking an event "
			    "exec=%s", x->id);
			return;
		}
	}
	/* a sub-workflow's events are part of its parents' stories too */
	for (p = x->parent; p != NULL; p = p->parent)
		if (!p->log.closed)
			(void)evlog_append(&p->log, json_incref(ev));
	if (x->log.closed)
		json_decref(ev);
	else
		(void)evlog_append(&x->log, ev);
}

static void
engine_exec_set_state(struct engine_exec *x, enum xstate s, const char *info)
{
	char q[ENGINE_INFO_MAX + 8], dur[40];

	x->state = s;
	engine_mark_exec(x);
	if (info != NULL)
		engine_info(x->info, "%s", info);
	engine_emit(x, json_pack("{s:s, s:s, s:s, s:s?}", "event", "execution",
	    "workflow", x->wf_name, "state", xstate_names[s], "info",
	    x->info[0] ? x->info : NULL));
	dur[0] = '\0';
	if (x->ended_ms > 0 && x->ended_ms >= x->created_ms)
		snprintf(dur, sizeof(dur), " duration=%lldms",
		    (long long)(x->ended_ms - x->created_ms));
	/* an execution that ends in ERROR is a warning */
	bora_log(s == X_ERROR ? BORA_LOG_WARN : BORA_LOG_INFO, 0, "engine",
	    "execution %s exec=%s workflow=%s%s%s%s", xstate_names[s], x->id,
	    x->wf_name, dur, x->info[0] ? " info=" : "", x->info[0] ?
	    engine_quote(x, x->info, q, sizeof(q)) : "");
}

const char *
engine_quote(const struct engine_exec *x, const char *s, char *q, size_t qlen)
{
	size_t n;
	char *m;
	const char *out;

	if (x->secrets == NULL)
		return bora_log_quote(s, q, qlen);
	m = secrets_mask_mem(x->secrets, s, strlen(s), &n);
	if (m == NULL && secrets_contains(x->secrets, s, strlen(s)))
		return bora_log_quote(SECRET_MASK, q, qlen);
	out = bora_log_quote(m ? m : s, q, qlen);
	free(m);
	return out;
}

const json_t *
engine_step_secrets(const char *step_id)
{
	char id[ENGINE_ID_MAX];
	const char *dot = strchr(step_id, '.');
	struct engine_exec *x;

	if (dot == NULL || (size_t)(dot - step_id) >= sizeof(id))
		return NULL;
	snprintf(id, sizeof(id), "%.*s", (int)(dot - step_id), step_id);
	x = engine_find(id);
	return x != NULL ? x->secrets : NULL;
}

const char *
engine_step_task(const char *step_id)
{
	struct engine_action *a;

	if (!engine_state.ready || (a = idmap_get(&engine_state.steps, step_id)) == NULL)
		return NULL;
	return a->t->name;
}

int
engine_exec_secrets(struct engine_exec *x)
{
	const json_t *d;
	json_t *names, *set;
	size_t i;
	int rc = 0;

	if ((names = json_array()) == NULL || (set = json_array()) == NULL) {
		json_decref(names);
		return -1;
	}
	json_array_foreach(json_object_get(x->wf, "input"), i, d)
		if (json_is_true(json_object_get(d, "secret")))
			rc |= json_array_append(names, json_object_get(d,
			    "name"));
	if (x->parent != NULL && x->parent->secrets != NULL)
		rc |= json_array_extend(set, x->parent->secrets);
	if (x->secrets != NULL)
		rc |= json_array_extend(set, x->secrets);
	rc |= secrets_add_values(set, x->input, names);
	json_decref(names);
	json_decref(x->secrets);
	x->secrets = NULL;
	if (rc != 0 || json_array_size(set) == 0) {
		json_decref(set);
		return rc ? -1 : 0;
	}
	x->secrets = set;
	return 0;
}

/* ---- executions ---- */

static int
engine_new_id(char *buf, size_t n)
{
	unsigned char r[6];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	engine_state.counter++;
	for (i = 0; i < sizeof(r) && 2 * i + 2 < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* input checked against the workflow's input list, defaults filled. */
static json_t *
engine_bind_input(const json_t *wf, const json_t *input, char *err,
    size_t errlen)
{
	const json_t *decl = json_object_get(wf, "input"), *d;
	json_t *out = json_object();
	const char *k;
	json_t *v;
	size_t i;
	int known;

	if (out == NULL)
		goto nomem;
	if (input != NULL && !json_is_null(input) && !json_is_object(input)) {
		snprintf(err, errlen, "input: expected an object");
		goto fail;
	}
	json_object_foreach((json_t *)(uintptr_t)input, k, v) {
		known = 0;
		json_array_foreach(decl, i, d)
			if (strcmp(json_string_value(json_object_get(d, "name")),
			    k) == 0)
				known = 1;
		if (!known) {
			snprintf(err, errlen, "input.%.100s: the workflow takes "
			    "no such input", k);
			goto fail;
		}
		if (json_object_set(out, k, v) != 0)
			goto nomem;
	}
	json_array_foreach(decl, i, d) {
		k = json_string_value(json_object_get(d, "name"));
		if (json_object_get(out, k) != NULL)
			continue;
		v = json_object_get(d, "default");
		if (v == NULL) {
			snprintf(err, errlen, "input.%.100s: required (the "
			    "workflow gives no default)", k);
			goto fail;
		}
		if (json_object_set(out, k, v) != 0)
			goto nomem;
	}
	return out;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	json_decref(out);
	return NULL;
}

/* The workflow named wf in spec, or its only one. */
static const json_t *
engine_pick_workflow(const json_t *spec, const char **wf, char *err,
    size_t errlen)
{
	const json_t *wfs = json_object_get(spec, "workflows"), *w;
	const char *k;

	if (!json_is_object(wfs) || json_object_size(wfs) == 0) {
		snprintf(err, errlen, "the spec holds no workflow");
		return NULL;
	}
	if (*wf != NULL) {
		if ((w = json_object_get(wfs, *wf)) == NULL)
			snprintf(err, errlen, "no workflow named '%.100s' in "
			    "the file", *wf);
		return w;
	}
	if (json_object_size(wfs) > 1) {
		snprintf(err, errlen, "the file holds %zu workflows: name the "
		    "one to run", json_object_size(wfs));
		return NULL;
	}
	json_object_foreach((json_t *)(uintptr_t)wfs, k, w) {
		*wf = k;
		return w;
	}
	return NULL;
}

void
engine_exec_free(struct engine_exec *x)
{
	size_t i;

	engine_unmark(x);
	for (i = 0; i < x->ntasks; i++)
		engine_task_free(x->tasks[i]);
	free(x->tasks);
	for (i = 0; i < x->njoins; i++) {
		free(x->joins[i].name);
		json_decref(x->joins[i].fired);
	}
	free(x->joins);
	evlog_free(&x->log);
	json_decref(x->spec);
	json_decref(x->input);
	json_decref(x->secrets);
	json_decref(x->ctx);
	json_decref(x->output);
	json_decref(x->view);
	json_decref(x->latest);
	json_decref(x->reverse_set);
	free(x->wf_name);
	free(x);
}

struct engine_exec *
engine_exec_new(const json_t *spec, const char *wf_name, const json_t *input,
    const char *task, struct engine_exec *parent, char *err, size_t errlen)
{
	struct engine_exec *x;
	const json_t *wf, *vars, *type;
	json_t *v;
	const char *k;

	if ((wf = engine_pick_workflow(spec, &wf_name, err, errlen)) == NULL)
		return NULL;
	type = json_object_get(wf, "type");
	if (task != NULL && (!json_is_string(type) ||
	    strcmp(json_string_value(type), "reverse") != 0)) {
		snprintf(err, errlen, "task: only a reverse workflow takes a "
		    "task to reach; '%.100s' is direct", wf_name);
		return NULL;
	}
	if (task != NULL && json_object_get(json_object_get(wf, "tasks"),
	    task) == NULL) {
		snprintf(err, errlen, "task: workflow '%.100s' has no task "
		    "'%.100s'", wf_name, task);
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	evlog_init(&x->log, ENGINE_LOG_CAP);
	TAILQ_INIT(&x->dirty_tasks);
	TAILQ_INIT(&x->dirty_actions);
	x->spec = json_incref((json_t *)(uintptr_t)spec);
	x->wf = wf;
	x->reverse = json_is_string(type) &&
	    strcmp(json_string_value(type), "reverse") == 0;
	x->parent = parent;
	x->created_ms = engine_now();
	if ((x->wf_name = strdup(wf_name)) == NULL ||
	    (x->latest = json_object()) == NULL ||
	    engine_new_id(x->id, sizeof(x->id)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((x->input = engine_bind_input(wf, input, err, errlen)) == NULL)
		goto fail;
	if (engine_exec_secrets(x) != 0)
		goto nomem;
	/* $: the input, then vars (which may use the input). A shallow copy:
	 * the values are shared (publish only ever sets keys of $), so a
	 * large input is held once */
	if ((x->ctx = json_copy(x->input)) == NULL)
		goto nomem;
	x->view = json_pack("{s:s, s:s, s:O}", "id", x->id, "workflow",
	    x->wf_name, "input", x->input);
	if (x->view == NULL)
		goto nomem;
	vars = json_object_get(wf, "vars");
	if (json_is_object(vars) && json_object_size(vars) > 0) {
		struct engine_task scope;

		memset(&scope, 0, sizeof(scope));
		scope.x = x;
		scope.spec = wf;
		v = engine_eval_in(&scope, NULL, vars, err, errlen);
		if (v == NULL)
			goto fail;
		json_object_foreach(v, k, vars)
			(void)json_object_set(x->ctx, k, (json_t *)(uintptr_t)vars);
		json_decref(v);
	}
	if (idmap_put(&engine_state.execs, x->id, x) != 0)
		goto nomem;
	TAILQ_INSERT_TAIL(&engine_state.all, x, all_link);
	engine_state.nexecs++;
	if (parent != NULL)
		parent->nchildren++;
	engine_exec_set_state(x, X_RUNNING, NULL);
	if (engine_task_start_first(x, task, err, errlen) != 0) {
		/* it exists now: it ends at once, and says why */
		engine_exec_stop(x, X_ERROR, err);
		return x;
	}
	engine_check_exec(x);
	return x;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	engine_exec_free(x);
	return NULL;
}

struct engine_exec *
engine_start(const json_t *spec, const char *wf, const json_t *input,
    const char *task, char *err, size_t errlen)
{
	struct engine_exec *x;

	if (!engine_state.ready) {
		snprintf(err, errlen, "the engine is not running");
		return NULL;
	}
	x = engine_exec_new(spec, wf, input, task, NULL, err, errlen);
	engine_drain();
	return x;
}

/* Evaluate output (or output-on-error) of x into x->output; -1 with
 * err when an expression fails. */
static int
engine_exec_output(struct engine_exec *x, const char *key, char *err,
    size_t errlen)
{
	const json_t *out = json_object_get(x->wf, key);
	struct engine_task scope;

	if (out == NULL || json_is_null(out))
		return 0;
	memset(&scope, 0, sizeof(scope));
	scope.x = x;
	scope.spec = x->wf;
	x->output = engine_eval_in(&scope, NULL, out, err, errlen);
	return x->output ? 0 : -1;
}

static void
engine_exec_finish(struct engine_exec *x, enum xstate final, const char *info)
{
	char err[ENGINE_INFO_MAX], why[ENGINE_INFO_MAX];

	why[0] = '\0';
	if (info)
		engine_info(why, "%s", info);
	if (final == X_SUCCESS && engine_exec_output(x, "output", err,
	    sizeof(err)) != 0) {
		final = X_ERROR;
		engine_info(why, "output: %s", err);
	} else if (final == X_ERROR && engine_exec_output(x,
	    "output-on-error", err, sizeof(err)) != 0)
		engine_info(why + strlen(why), "; output-on-error: %s", err);
	x->ended_ms = engine_now();
	engine_exec_set_state(x, final, why[0] ? why : NULL);
	evlog_close(&x->log);
	engine_state.ndone++;
	if (x->parent_action != NULL) {
		struct engine_action *a = x->parent_action;

		x->parent_action = NULL;
		engine_action_child_done(a, x);
	}
}

/* A task of x may have reached a join that can never be satisfied, now
 * that nothing runs: it fails with a reason. 1 when one was made. */
static int
engine_exec_fail_joins(struct engine_exec *x)
{
	struct engine_task *t;
	size_t i;
	int made = 0;

	for (i = 0; i < x->njoins; i++) {
		if (x->joins[i].started || json_object_size(x->joins[i].fired) == 0)
			continue;
		x->joins[i].started = 1;
		if ((t = engine_task_new(x, x->joins[i].name)) == NULL)
			continue;
		engine_info(t->info, "join not satisfied: %zu inbound task(s) "
		    "reached it", json_object_size(x->joins[i].fired));
		t->state = T_WAITING;
		t->join_unsatisfiable = 1;  /* engine_task_advance fails it */
		engine_queue_task(t);
		made = 1;
	}
	return made;
}

static void
engine_exec_maybe_end(struct engine_exec *x)
{
	if (x->state == X_SUCCESS || x->state == X_ERROR ||
	    x->state == X_CANCELLED)
		return;
	if (x->ending) {
		engine_exec_stop(x, x->failed ? X_ERROR : X_SUCCESS,
		    x->failed ? x->fail_info : NULL);
		return;
	}
	if (x->active > 0 || x->state == X_PAUSED)
		return;
	if (engine_exec_fail_joins(x))
		return;
	engine_exec_finish(x, x->failed ? X_ERROR : X_SUCCESS,
	    x->failed ? x->fail_info : NULL);
}

void
engine_exec_stop(struct engine_exec *x, enum xstate final, const char *info)
{
	size_t i;

	for (i = 0; i < x->ntasks; i++) {
		struct engine_task *t = x->tasks[i];

		if (t->queued) {
			TAILQ_REMOVE(&engine_state.queue, t, queue_link);
			t->queued = 0;
		}
		engine_task_cancel(t, final == X_CANCELLED ? "execution cancelled" :
		    "execution ended");
	}
	x->active = 0;
	engine_exec_finish(x, final, info);
}

/* Forget the oldest finished executions past the cap, but not one a
 * client is watching or a parent still needs. */
static void
engine_trim(void)
{
	struct engine_exec *x, *next;

	for (x = TAILQ_FIRST(&engine_state.all); x && engine_state.ndone > ENGINE_KEEP_DONE;
	    x = next) {
		next = TAILQ_NEXT(x, all_link);
		/* a parent outlives its children: they point to it (the
		 * oldest first would free the parent, then read it) */
		if (!engine_exec_done(x) || x->log.watchers != NULL ||
		    x->checked || x->nchildren > 0 ||
		    (x->parent && !engine_exec_done(x->parent)))
			continue;
		if (x->parent != NULL)
			x->parent->nchildren--;
		TAILQ_REMOVE(&engine_state.all, x, all_link);
		(void)idmap_del(&engine_state.execs, x->id);
		engine_state.nexecs--;
		engine_state.ndone--;
		engine_exec_free(x);
	}
}

/* ---- the API of engine.h ---- */

int
engine_init(const struct engine_ops *ops)
{
	memset(&engine_state, 0, sizeof(engine_state));
	engine_state.ops = *ops;
	TAILQ_INIT(&engine_state.all);
	TAILQ_INIT(&engine_state.queue);
	TAILQ_INIT(&engine_state.check);
	TAILQ_INIT(&engine_state.waiting);
	TAILQ_INIT(&engine_state.dirty);
	engine_state.woken_for = INT64_MAX;
	engine_state.ready = 1;
	return 0;
}

void
engine_shutdown(void)
{
	struct engine_exec *x;

	if (!engine_state.ready)
		return;
	engine_state.ready = 0;
	/* children first would need an order; nobody runs now, so only
	 * the links between them must not be followed while freeing */
	TAILQ_INIT(&engine_state.queue);
	TAILQ_INIT(&engine_state.check);
	TAILQ_INIT(&engine_state.waiting);
	TAILQ_INIT(&engine_state.dirty);
	while ((x = TAILQ_FIRST(&engine_state.all)) != NULL) {
		x->dirty = 0;           /* the list is gone already */
		TAILQ_INIT(&x->dirty_tasks);
		TAILQ_INIT(&x->dirty_actions);
		TAILQ_REMOVE(&engine_state.all, x, all_link);
		engine_exec_free(x);
	}
	idmap_free(&engine_state.execs);
	idmap_free(&engine_state.steps);
	timerheap_free(&engine_state.timers);
}

struct engine_exec *
engine_find(const char *id)
{
	return id ? idmap_get(&engine_state.execs, id) : NULL;
}

const char *
engine_exec_id(const struct engine_exec *x)
{
	return x->id;
}

const char *
engine_exec_state(const struct engine_exec *x)
{
	return xstate_names[x->state];
}

int
engine_exec_done(const struct engine_exec *x)
{
	return x->state == X_SUCCESS || x->state == X_ERROR ||
	    x->state == X_CANCELLED;
}

const char *
engine_exec_workflow(const struct engine_exec *x)
{
	return x->wf_name;
}

int64_t
engine_exec_created_ms(const struct engine_exec *x)
{
	return x->created_ms;
}

void
engine_foreach(int (*fn)(struct engine_exec *x, void *user), void *user)
{
	struct engine_exec *x;

	TAILQ_FOREACH_REVERSE(x, &engine_state.all, exec_list, all_link)
		if (fn(x, user) != 0)
			return;
}

struct evlog *
engine_exec_log(struct engine_exec *x)
{
	return &x->log;
}

json_t *
engine_exec_to_json(const struct engine_exec *x)
{
	json_t *o, *tasks = json_array();
	size_t i;

	if (tasks == NULL)
		return NULL;
	for (i = 0; i < x->ntasks; i++)
		if (json_array_append_new(tasks, engine_task_to_json(x->tasks[i])) != 0) {
			json_decref(tasks);
			return NULL;
		}
	o = json_pack("{s:s, s:s, s:s, s:s?, s:O, s:O?, s:I, s:o?, s:s?, s:o}",
	    "id", x->id, "workflow", x->wf_name, "state", xstate_names[x->state],
	    "state_info", x->info[0] ? x->info : NULL, "input", x->input,
	    "output", x->output, "created_ms", (json_int_t)x->created_ms,
	    "ended_ms", x->ended_ms ? json_integer(x->ended_ms) : NULL,
	    "parent", x->parent ? x->parent->id : NULL, "tasks", tasks);
	if (o != NULL && x->secrets != NULL) {
		json_t *m = secrets_mask_json(x->secrets, o);

		json_decref(o);
		o = m;
	}
	return o;
}

int
engine_cancel(struct engine_exec *x, const char *reason, char *err,
    size_t errlen)
{
	if (engine_exec_done(x)) {
		snprintf(err, errlen, "execution %s has ended (%s)", x->id,
		    xstate_names[x->state]);
		return -1;
	}
	engine_exec_stop(x, X_CANCELLED, reason ? reason : "cancelled");
	engine_drain();
	return 0;
}

int
engine_pause(struct engine_exec *x, char *err, size_t errlen)
{
	if (x->state != X_RUNNING) {
		snprintf(err, errlen, "execution %s is %s, not RUNNING", x->id,
		    xstate_names[x->state]);
		return -1;
	}
	engine_exec_set_state(x, X_PAUSED, "paused by the operator");
	engine_drain();
	return 0;
}

int
engine_resume(struct engine_exec *x, char *err, size_t errlen)
{
	size_t i;

	if (x->state != X_PAUSED) {
		snprintf(err, errlen, "execution %s is %s, not PAUSED", x->id,
		    xstate_names[x->state]);
		return -1;
	}
	x->info[0] = '\0';
	engine_exec_set_state(x, X_RUNNING, NULL);
	/* what waited for the pause to end moves again: tasks not started,
	 * paused before starting, or done with transitions pending */
	for (i = 0; i < x->ntasks; i++)
		if (!x->tasks[i]->transitions_done)
			engine_queue_task(x->tasks[i]);
	engine_check_exec(x);
	engine_drain();
	return 0;
}

void
engine_step_output(const char *step_id, const char *stream, const char *data,
    size_t len)
{
	struct engine_action *a;

	if (!engine_state.ready || (a = idmap_get(&engine_state.steps, step_id)) == NULL)
		return;
	engine_emit(a->t->x, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s%}",
	    "event", "output", "task", a->t->name, "step", step_id, "agent",
	    a->agent ? a->agent : "", "stream", stream, "data", data, len));
}

void
engine_step_done(const char *step_id, const json_t *result)
{
	struct engine_action *a;

	if (!engine_state.ready || (a = idmap_get(&engine_state.steps, step_id)) == NULL)
		return;
	engine_action_step_done(a, result);
	engine_drain();
}

void
engine_agent_connected(const char *name, const json_t *labels)
{
	(void)name;
	(void)labels;
	if (!engine_state.ready)
		return;
	engine_action_agents_changed();
	engine_drain();
}
