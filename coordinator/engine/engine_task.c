/*
 * engine_task.c: a task's life, from the transition that made it to the
 * transitions it takes.
 *
 *   IDLE ─ pause-before (execution PAUSED) ─ wait-before (RUNNING_DELAYED)
 *     ─ RUNNING: actions = with-items × targets, started up to concurrency,
 *       each retried by the retry policy; timeout cancels what runs
 *     ─ wait-after ─ publish / publish-on-error ─ fail-on ─ SUCCESS | ERROR
 *     ─ transitions (direct: on-success / on-error / on-complete with
 *       guards, joins, engine commands; reverse: tasks whose requires are
 *       all done)
 *
 * engine_task_advance() is the one place that moves a task; everything else
 * queues the task (engine_queue_task) after changing what it depends on.
 * While the execution is PAUSED, tasks neither start nor take their
 * transitions; engine_resume() queues them again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "expr.h"
#include "log.h"
#include "step_kinds.h"

static void task_on_timer(struct timer *tm);
static void task_on_timeout(struct timer *tm);

struct engine_task *
engine_task_new(struct engine_exec *x, const char *name)
{
	struct engine_task *t, **nv;
	size_t ncap;

	if (x->ntasks == x->cap_tasks) {
		ncap = x->cap_tasks ? x->cap_tasks * 2 : 16;
		if ((nv = realloc(x->tasks, ncap * sizeof(*nv))) == NULL)
			return NULL;
		x->tasks = nv;
		x->cap_tasks = ncap;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->name = strdup(name)) == NULL) {
		free(t);
		return NULL;
	}
	t->x = x;
	t->spec = json_object_get(json_object_get(x->wf, "tasks"), name);
	t->seq = (unsigned)x->ntasks + 1;
	t->state = T_IDLE;
	timer_init(&t->timer, task_on_timer);
	timer_init(&t->timeout, task_on_timeout);
	x->tasks[x->ntasks] = t;
	(void)json_object_set_new(x->latest, name,
	    json_integer((json_int_t)x->ntasks));
	x->ntasks++;
	x->active++;
	return t;
}

void
engine_task_free(struct engine_task *t)
{
	size_t i;

	engine_disarm(&t->timer);
	engine_disarm(&t->timeout);
	for (i = 0; i < t->nacts; i++)
		if (t->acts[i] != NULL)     /* a restore may stop half way */
			engine_action_free(t->acts[i]);
	free(t->acts);
	json_decref(t->result);
	json_decref(t->published);
	free(t->name);
	free(t);
}

void
engine_task_set_state(struct engine_task *t, enum tstate s, const char *info)
{
	char q[ENGINE_INFO_MAX + 8];
	int final = s == T_SUCCESS || s == T_ERROR || s == T_CANCELLED;

	t->state = s;
	engine_mark(t);
	if (info != NULL && info != t->info)
		engine_info(t->info, "%s", info);
	engine_emit(t->x, json_pack("{s:s, s:s, s:i, s:s, s:s?, s:O?}",
	    "event", "task", "task", t->name, "seq", (int)t->seq, "state",
	    engine_tstate_name(s), "info", t->info[0] ? t->info : NULL,
	    "result", final ? t->result : NULL));
	/* a task that ends in ERROR is a warning */
	bora_log(s == T_ERROR ? BORA_LOG_WARN : BORA_LOG_INFO, 0, "engine",
	    "task %s exec=%s task=%s%s%s", engine_tstate_name(s), t->x->id,
	    t->name, t->info[0] ? " info=" : "", t->info[0] ?
	    engine_quote(t->x, t->info, q, sizeof(q)) : "");
}

/* ---- timers ---- */

static void
task_on_timer(struct timer *tm)
{
	engine_queue_task(container_of(tm, struct engine_task, timer));
}

static void
task_on_timeout(struct timer *tm)
{
	struct engine_task *t = container_of(tm, struct engine_task, timeout);
	size_t i;

	if (t->state != T_RUNNING || t->in_wait_after)
		return;
	t->timed_out = 1;
	engine_mark(t);
	for (i = 0; i < t->nacts; i++)
		engine_action_cancel(t->acts[i], "task timed out");
	t->running = 0;
	t->next_act = t->finished = t->nacts;
	engine_queue_task(t);
}

/* spec.KEY as a non-negative whole number up to max (0 when absent, max
 * when above); -1 with t's info set, saying it expected `what`. */
static int64_t
task_count(struct engine_task *t, const char *key, const char *what,
    uint64_t max)
{
	char err[ENGINE_INFO_MAX];
	json_t *v = engine_eval_field(t, NULL, key, err, sizeof(err));
	uint64_t n = 0;

	if (v == NULL && err[0]) {
		engine_info(t->info, "%s: %s", key, err);
		return -1;
	}
	if (v != NULL && engine_eval_uint(v, &n) != 0) {
		engine_info(t->info, "%s: expected %s", key, what);
		json_decref(v);
		return -1;
	}
	json_decref(v);
	return n > max ? (int64_t)max : (int64_t)n;
}

/* spec.KEY as seconds (0 when absent), at most a year. */
static int64_t
task_seconds(struct engine_task *t, const char *key)
{
	return task_count(t, key, "a number of seconds", 366ULL * 24 * 3600);
}

/* ---- actions: with-items × targets ---- */

/* The targets of the action with vars, as a new array of names; *many is
 * set when the target is not one plain name. NULL with t's info set. */
static json_t *
task_targets(struct engine_task *t, json_t *vars, int *many)
{
	struct engine_action probe;
	char err[ENGINE_INFO_MAX];
	json_t *v, *out = NULL, *e;
	const json_t *labels = NULL;
	size_t i;

	memset(&probe, 0, sizeof(probe));
	probe.t = t;
	probe.vars = vars;
	v = engine_eval_field(t, &probe, "target", err, sizeof(err));
	if (v == NULL) {
		engine_info(t->info, "target: %s", err[0] ? err :
		    "an agent action needs a target");
		return NULL;
	}
	if (json_is_string(v)) {
		out = json_pack("[O]", v);
	} else if (json_is_array(v)) {
		*many = 1;
		json_array_foreach(v, i, e)
			if (!json_is_string(e)) {
				engine_info(t->info, "target[%zu]: expected an "
				    "agent name", i);
				goto out;
			}
		out = json_incref(v);
	} else if (json_is_object(v) && json_is_object(labels =
	    json_object_get(v, "labels"))) {
		*many = 1;
		out = engine_state.ops.agents_matching(engine_state.ops.user, labels);
	} else
		engine_info(t->info, "target: expected an agent name, a list "
		    "of names or {labels: {...}}");
out:
	/* say which selector matched nothing (an empty list said nothing) */
	if (out != NULL && json_array_size(out) == 0) {
		char *sel = json_is_object(v) ? json_dumps(labels,
		    JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		if (json_is_object(v))
			engine_info(t->info, "target: no connected agent "
			    "matches the labels %s", sel ? sel : "given");
		else
			engine_info(t->info, "target: an empty list of agents");
		free(sel);
		json_decref(out);
		out = NULL;
	}
	json_decref(v);
	return out;
}

/* The with-items variables of each item (a new array of objects), or
 * NULL with t's info set. No with-items: one item without variables. */
static json_t *
task_items(struct engine_task *t)
{
	const json_t *wi = json_object_get(t->spec, "with-items"), *spec;
	char err[ENGINE_INFO_MAX];
	json_t *lists = json_array(), *items = json_array(), *v, *vars;
	size_t i, j, n = 0;

	if (lists == NULL || items == NULL)
		goto nomem;
	if (wi == NULL || !json_is_array(wi)) {
		if (json_array_append_new(items, json_null()) != 0)
			goto nomem;
		json_decref(lists);
		return items;
	}
	t->many = 1;
	json_array_foreach(wi, i, spec) {
		v = engine_eval_in(t, NULL, json_object_get(spec, "source"), err,
		    sizeof(err));
		if (v == NULL || !json_is_array(v)) {
			engine_info(t->info, "with-items %s: %s",
			    json_string_value(json_object_get(spec, "var")),
			    v ? "expected a list" : err);
			json_decref(v);
			goto fail;
		}
		if (i > 0 && json_array_size(v) != n) {
			engine_info(t->info, "with-items: the lists have "
			    "different lengths (%zu and %zu)", n,
			    json_array_size(v));
			json_decref(v);
			goto fail;
		}
		n = json_array_size(v);
		(void)json_array_append_new(lists, v);
	}
	for (j = 0; j < n; j++) {
		if ((vars = json_object()) == NULL ||
		    json_array_append_new(items, vars) != 0)
			goto nomem;
		json_array_foreach(wi, i, spec)
			(void)json_object_set(vars, json_string_value(
			    json_object_get(spec, "var")), json_array_get(
			    json_array_get(lists, i), j));
	}
	json_decref(lists);
	return items;
nomem:
	engine_info(t->info, "out of memory");
fail:
	json_decref(lists);
	json_decref(items);
	return NULL;
}

static int
task_is_agent_action(const struct engine_task *t)
{
	return bora_action_kind(json_string_value(json_object_get(t->spec,
	    "action"))) != NULL;
}

static int
task_add_action(struct engine_task *t, json_t *vars, const char *agent)
{
	struct engine_action *a, **nv;

	if ((nv = realloc(t->acts, (t->nacts + 1) * sizeof(*nv))) == NULL)
		return -1;
	t->acts = nv;
	if ((a = engine_action_new(t, t->nacts, vars, agent)) == NULL)
		return -1;
	t->acts[t->nacts++] = a;
	engine_mark_action(a);
	return 0;
}

/* Make t's actions. 0, or -1 with t's info set. */
static int
task_expand(struct engine_task *t)
{
	json_t *items, *vars, *targets = NULL, *name;
	size_t i, j;
	int64_t conc;
	int many = 0, agent = task_is_agent_action(t);

	if ((items = task_items(t)) == NULL)
		return -1;
	json_array_foreach(items, i, vars) {
		if (json_is_null(vars))
			vars = NULL;
		if (!agent) {
			if (task_add_action(t, vars, NULL) != 0)
				goto nomem;
			continue;
		}
		if ((targets = task_targets(t, vars, &many)) == NULL)
			goto fail;
		json_array_foreach(targets, j, name)
			if (task_add_action(t, vars, json_string_value(name)) != 0)
				goto nomem;
		json_decref(targets);
		targets = NULL;
	}
	if (many)
		t->many = 1;
	json_decref(items);
	if ((conc = task_count(t, "concurrency", "a number of actions at once",
	    SIZE_MAX)) < 0)
		return -1;
	t->concurrency = (size_t)conc;
	return 0;
nomem:
	engine_info(t->info, "out of memory");
fail:
	json_decref(targets);
	json_decref(items);
	return -1;
}

/* ---- finishing ---- */

/* A sentence for the first failed action of t. */
static void
task_failure_info(struct engine_task *t)
{
	const json_t *r, *err;
	size_t i;

	if (t->info[0])
		return;
	for (i = 0; i < t->nacts; i++) {
		if (t->acts[i]->state != A_ERROR)
			continue;
		r = t->acts[i]->result;
		err = json_object_get(r, "error");
		if (t->acts[i]->agent)
			engine_info(t->info, "step %s on %s: %s%s%s",
			    t->acts[i]->step_id, t->acts[i]->agent,
			    json_string_value(json_object_get(r, "status")) ?
			    json_string_value(json_object_get(r, "status")) :
			    "failed", json_is_string(err) ? ": " : "",
			    json_is_string(err) ? json_string_value(err) : "");
		else
			engine_info(t->info, "%s", json_is_string(err) ?
			    json_string_value(err) : "action failed");
		if (json_is_integer(json_object_get(r, "exit_code")) &&
		    json_integer_value(json_object_get(r, "exit_code")) != 0) {
			size_t n = strlen(t->info);
			const char *se = json_string_value(json_object_get(r,
			    "stderr"));
			char tail[160];
			size_t len;

			tail[0] = '\0';
			if (se != NULL && (len = strlen(se)) > 0) {
				while (len > 0 && se[len - 1] == '\n')
					len--;
				i = len;
				while (i > 0 && se[i - 1] != '\n' && len - i < 150)
					i--;
				snprintf(tail, sizeof(tail), "; stderr: %.*s",
				    (int)(len - i), se + i);
			}
			engine_info(t->info + n, " (exit %lld%s)",
			    (long long)json_integer_value(json_object_get(r,
			    "exit_code")), tail);
		}
		return;
	}
	engine_info(t->info, "failed");
}

static void task_transitions(struct engine_task *t);

/* fail-on (Mistral's FailOnPolicy): after a success and its publish, a
 * true value (or an error evaluating it) makes the task an ERROR. 1 then,
 * with t->info set. */
static int
task_fail_on(struct engine_task *t)
{
	char err[ENGINE_INFO_MAX];
	json_t *v;
	int fail;

	if (json_object_get(t->spec, "fail-on") == NULL)
		return 0;
	v = engine_eval_field(t, NULL, "fail-on", err, sizeof(err));
	if (v == NULL && err[0]) {
		engine_info(t->info, "fail-on: %s", err);
		return 1;
	}
	fail = expr_truthy(v);
	json_decref(v);
	if (fail)
		engine_info(t->info, "Failed by 'fail-on' policy");
	return fail;
}

/* Every action has ended: result, wait-after, publish, final state. */
static void
task_finish(struct engine_task *t)
{
	char err[ENGINE_INFO_MAX];
	json_t *pub, *list;
	const char *k;
	json_t *v;
	size_t i;
	int ok = !t->timed_out;
	int64_t wait;

	for (i = 0; i < t->nacts; i++)
		if (t->acts[i]->state != A_SUCCESS)
			ok = 0;
	if (!t->in_wait_after) {
		json_decref(t->result);
		if (t->many) {
			if ((list = json_array()) != NULL)
				for (i = 0; i < t->nacts; i++)
					(void)json_array_append(list,
					    t->acts[i]->result ?
					    t->acts[i]->result : json_null());
			t->result = list;
		} else
			t->result = t->nacts && t->acts[0]->result ?
			    json_incref(t->acts[0]->result) : json_null();
		if (t->timed_out) {
			int64_t s = task_seconds(t, "timeout");

			engine_info(t->info, "timed out after %lld s",
			    (long long)s);
		}
		if (!ok)
			task_failure_info(t);
		if (!t->waited_after) {
			t->waited_after = 1;
			wait = task_seconds(t, "wait-after");
			if (wait < 0)   /* t->info says why: not a success */
				ok = 0;
			else if (wait > 0) {
				/* RUNNING_DELAYED while waiting, as Mistral's
				 * wait-after policy (engine_task_advance comes back
				 * here, not to task_begin) */
				t->in_wait_after = 1;
				engine_task_set_state(t, T_RUNNING_DELAYED, NULL);
				engine_arm(&t->timer, wait * 1000);
				return;
			}
		}
	} else if (timer_armed(&t->timer))
		return;
	t->in_wait_after = 0;
	engine_disarm(&t->timeout);

	pub = engine_eval_field(t, NULL, ok ? "publish" : "publish-on-error", err,
	    sizeof(err));
	if (pub == NULL && err[0]) {
		engine_info(t->info, "%s: %s", ok ? "publish" :
		    "publish-on-error", err);
		ok = 0;
	}
	if (json_is_object(pub))
		json_object_foreach(pub, k, v)
			(void)json_object_set(t->x->ctx, k, v);
	t->published = pub;
	if (ok && task_fail_on(t))      /* after publish, as Mistral */
		ok = 0;
	t->finished_ms = engine_now();
	t->completed = 1;
	engine_task_set_state(t, ok ? T_SUCCESS : T_ERROR, NULL);
	task_transitions(t);
}

/* ---- transitions ---- */

/* How many distinct tasks of wf have a transition to name. */
static size_t
task_inbound(const json_t *wf, const char *name)
{
	static const char *const keys[] = { "on-success", "on-error",
	    "on-complete" };
	const json_t *tasks = json_object_get(wf, "tasks"), *spec, *c;
	const char *k, *to;
	size_t n = 0, i, j;
	int found;

	json_object_foreach((json_t *)(uintptr_t)tasks, k, spec) {
		found = 0;
		for (j = 0; j < 3 && !found; j++)
			json_array_foreach(json_object_get(spec, keys[j]), i, c)
				if ((to = json_string_value(json_object_get(c,
				    "task"))) != NULL && strcmp(to, name) == 0)
					found = 1;
		n += found;
	}
	return n;
}

/* The join state of name in x, made on first use with the number of
 * fired sources it needs (join: all counts the inbound tasks once). */
static struct join_state *
task_join(struct engine_exec *x, const char *name, const json_t *join)
{
	struct join_state *j;
	size_t i;

	for (i = 0; i < x->njoins; i++)
		if (strcmp(x->joins[i].name, name) == 0)
			return &x->joins[i];
	if ((j = realloc(x->joins, (x->njoins + 1) * sizeof(*j))) == NULL)
		return NULL;
	x->joins = j;
	j = &x->joins[x->njoins];
	memset(j, 0, sizeof(*j));
	if ((j->name = strdup(name)) == NULL || (j->fired = json_object()) ==
	    NULL) {
		free(j->name);
		return NULL;
	}
	if (json_is_string(join) && strcmp(json_string_value(join), "one") == 0)
		j->need = 1;
	else if (json_is_integer(join))
		j->need = (size_t)json_integer_value(join);
	else
		j->need = task_inbound(x->wf, name);
	x->njoins++;
	return j;
}

/* source's transition reaches name. */
static void
task_trigger(struct engine_exec *x, const char *name, const char *source)
{
	const json_t *spec = json_object_get(json_object_get(x->wf, "tasks"),
	    name), *join = json_object_get(spec, "join");
	struct join_state *j;
	struct engine_task *t;

	if (join != NULL && !json_is_null(join)) {
		if ((j = task_join(x, name, join)) == NULL || j->started)
			return;
		(void)json_object_set_new(j->fired, source, json_true());
		engine_mark_exec(x);
		if (json_object_size(j->fired) < j->need)
			return;
		j->started = 1;
	}
	if ((t = engine_task_new(x, name)) == NULL) {
		log_errorx("engine", "out of memory starting a task exec=%s",
		    x->id);
		return;
	}
	engine_queue_task(t);
}

static void
task_fail_exec(struct engine_task *t, const char *why)
{
	struct engine_exec *x = t->x;

	if (x->failed)
		return;
	x->failed = 1;
	engine_info(x->fail_info, "task %s: %s", t->name, why);
}

/* Run one transition list; 1 when a clause fired. */
static int
task_clauses(struct engine_task *t, const char *key)
{
	const json_t *list = json_object_get(t->spec, key), *c, *when;
	struct engine_exec *x = t->x;
	char err[ENGINE_INFO_MAX], why[ENGINE_INFO_MAX];
	const char *cmd, *to, *msg;
	json_t *v;
	size_t i;
	int fired = 0, go;

	json_array_foreach(list, i, c) {
		when = json_object_get(c, "when");
		go = 1;
		if (when != NULL && !json_is_null(when)) {
			v = engine_eval_in(t, NULL, when, err, sizeof(err));
			if (v == NULL) {
				engine_info(why, "%s[%zu].when: %s", key, i, err);
				task_fail_exec(t, why);
				continue;
			}
			go = expr_truthy(v);
			json_decref(v);
		}
		if (!go)
			continue;
		fired = 1;
		if ((to = json_string_value(json_object_get(c, "task"))) != NULL) {
			task_trigger(x, to, t->name);
			continue;
		}
		cmd = json_string_value(json_object_get(c, "command"));
		msg = json_string_value(json_object_get(c, "msg"));
		if (cmd == NULL)
			continue;
		if (strcmp(cmd, "fail") == 0) {
			engine_info(why, "fail%s%s", msg ? ": " : "",
			    msg ? msg : "");
			if (t->state == T_ERROR && !msg)
				engine_info(why, "failed: %s", t->info);
			task_fail_exec(t, why);
			x->ending = 1;
		} else if (strcmp(cmd, "succeed") == 0) {
			x->failed = 0;
			x->ending = 1;
		} else if (strcmp(cmd, "pause") == 0 && x->state == X_RUNNING) {
			x->state = X_PAUSED;
			engine_mark_exec(x);
			engine_info(why, "pause command in task %s%s%s",
			    t->name, msg ? ": " : "", msg ? msg : "");
			engine_info(x->info, "%s", why);
			engine_emit(x, json_pack("{s:s, s:s, s:s, s:s}", "event",
			    "execution", "workflow", x->wf_name, "state",
			    "PAUSED", "info", why));
		}
	}
	return fired;
}

/* reverse: start the tasks of the set whose requires are all done. */
/* reverse: start the tasks that require t and have all they require
 * done (x->reverse_set maps each task to those that require it). */
static void
task_reverse_next(struct engine_task *t)
{
	struct engine_exec *x = t->x;
	const json_t *tasks = json_object_get(x->wf, "tasks"), *r, *idx, *d;
	const char *k;
	size_t i, j;
	int ready;

	json_array_foreach(json_object_get(x->reverse_set, t->name), j, d) {
		k = json_string_value(d);
		if (json_object_get(x->latest, k) != NULL)
			continue;
		ready = 1;
		json_array_foreach(json_object_get(json_object_get(tasks, k),
		    "requires"), i, r) {
			idx = json_object_get(x->latest, json_string_value(r));
			if (idx == NULL || x->tasks[json_integer_value(idx)]->
			    state != T_SUCCESS)
				ready = 0;
		}
		if (ready) {
			struct engine_task *n = engine_task_new(x, k);

			if (n != NULL)
				engine_queue_task(n);
		}
	}
}

static void
task_transitions(struct engine_task *t)
{
	struct engine_exec *x = t->x;
	int ok = t->state == T_SUCCESS, handled;

	if (x->state != X_RUNNING || t->transitions_done)
		return;         /* resume (or nothing) brings it back */
	t->transitions_done = 1;
	x->active--;
	if (x->reverse) {
		if (ok)
			task_reverse_next(t);
		else
			task_fail_exec(t, t->info[0] ? t->info : "failed");
	} else {
		handled = task_clauses(t, ok ? "on-success" : "on-error");
		(void)task_clauses(t, "on-complete");
		if (!ok && !handled)
			task_fail_exec(t, t->info[0] ? t->info : "failed");
	}
	engine_check_exec(x);
}

/* ---- the state machine ---- */

static void
task_fail_now(struct engine_task *t)
{
	engine_disarm(&t->timer);
	engine_disarm(&t->timeout);
	json_decref(t->result);
	t->result = json_null();
	t->finished_ms = engine_now();
	t->completed = 1;
	engine_task_set_state(t, T_ERROR, NULL);
	task_transitions(t);
}

/* Not started yet: pause-before, wait-before, then the actions. 1 when
 * it runs now. */
static int
task_begin(struct engine_task *t)
{
	struct engine_exec *x = t->x;
	char err[ENGINE_INFO_MAX], why[ENGINE_INFO_MAX];
	json_t *v;
	int64_t s;

	if (x->state != X_RUNNING)
		return 0;
	if (t->state == T_RUNNING_DELAYED && timer_armed(&t->timer))
		return 0;
	if (!t->paused_once) {
		t->paused_once = 1;
		v = engine_eval_field(t, NULL, "pause-before", err, sizeof(err));
		if (v == NULL && err[0]) {
			engine_info(t->info, "pause-before: %s", err);
			task_fail_now(t);
			return 0;
		}
		if (expr_truthy(v)) {
			json_decref(v);
			engine_task_set_state(t, T_PAUSED, "pause-before");
			x->state = X_PAUSED;
			engine_mark_exec(x);
			engine_info(why, "pause-before task %s", t->name);
			engine_info(x->info, "%s", why);
			engine_emit(x, json_pack("{s:s, s:s, s:s, s:s}", "event",
			    "execution", "workflow", x->wf_name, "state",
			    "PAUSED", "info", why));
			return 0;
		}
		json_decref(v);
	}
	if (!t->waited_before) {
		t->waited_before = 1;
		if ((s = task_seconds(t, "wait-before")) < 0) {
			task_fail_now(t);
			return 0;
		}
		if (s > 0) {
			engine_task_set_state(t, T_RUNNING_DELAYED, NULL);
			engine_arm(&t->timer, s * 1000);
			return 0;
		}
	}
	t->started_ms = engine_now();
	if (task_expand(t) != 0) {
		task_fail_now(t);
		return 0;
	}
	if ((s = task_seconds(t, "timeout")) < 0) {
		task_fail_now(t);
		return 0;
	}
	if (s > 0)
		engine_arm(&t->timeout, s * 1000);
	engine_task_set_state(t, T_RUNNING, NULL);
	return 1;
}

void
engine_task_advance(struct engine_task *t)
{
	struct engine_exec *x = t->x;
	struct engine_action *a;
	size_t i;

	if (engine_exec_done(x))
		return;
	engine_mark(t);
	if (t->completed) {
		task_transitions(t);
		return;
	}
	if (t->join_unsatisfiable) {
		task_fail_now(t);
		return;
	}
	if (t->in_wait_after) {         /* every action has ended */
		task_finish(t);
		return;
	}
	if (t->state != T_RUNNING && !task_begin(t))
		return;
	for (i = 0; t->retries_due > 0 && x->state == X_RUNNING &&
	    i < t->nacts; i++)
		if (t->acts[i]->retry_due) {    /* delayed by a pause */
			t->acts[i]->retry_due = 0;
			t->retries_due--;
			engine_action_start(t->acts[i]);
		}
	while (x->state == X_RUNNING && t->next_act < t->nacts &&
	    (t->concurrency == 0 || t->running < t->concurrency)) {
		a = t->acts[t->next_act++];
		t->running++;
		engine_action_start(a);
	}
	if (t->finished == t->nacts)
		task_finish(t);
}

void
engine_task_cancel(struct engine_task *t, const char *why)
{
	size_t i;

	engine_disarm(&t->timer);
	engine_disarm(&t->timeout);
	for (i = 0; i < t->nacts; i++)
		engine_action_cancel(t->acts[i], why);
	t->transitions_done = 1;
	t->completed = 1;
	if (t->state != T_SUCCESS && t->state != T_ERROR &&
	    t->state != T_CANCELLED) {
		t->finished_ms = engine_now();
		engine_task_set_state(t, T_CANCELLED, why);
	}
}

/* ---- the first tasks ---- */

/* Add name and what it requires, transitively, to set. */
static void
task_reverse_closure(const json_t *tasks, const char *name, json_t *set)
{
	const json_t *r;
	size_t i;

	if (json_object_get(set, name) != NULL)
		return;
	(void)json_object_set_new(set, name, json_array());
	json_array_foreach(json_object_get(json_object_get(tasks, name),
	    "requires"), i, r)
		task_reverse_closure(tasks, json_string_value(r), set);
}

int
engine_task_start_first(struct engine_exec *x, const char *target, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "on-success", "on-error",
	    "on-complete" };
	const json_t *tasks = json_object_get(x->wf, "tasks"), *spec, *c;
	json_t *targeted = json_object(), *on;
	const char *k, *to;
	struct engine_task *t;
	size_t i, j;

	if (targeted == NULL)
		goto nomem;
	if (x->reverse) {
		x->reverse_set = json_object();
		if (x->reverse_set == NULL)
			goto nomem;
		if (target != NULL)
			task_reverse_closure(tasks, target, x->reverse_set);
		else
			json_object_foreach((json_t *)(uintptr_t)tasks, k, spec)
				task_reverse_closure(tasks, k, x->reverse_set);
		/* each task of the set -> the tasks of the set requiring it */
		json_object_foreach(x->reverse_set, k, on)
			json_array_foreach(json_object_get(json_object_get(tasks,
			    k), "requires"), i, c)
				(void)json_array_append_new(json_object_get(
				    x->reverse_set, json_string_value(c)),
				    json_string(k));
		json_object_foreach(x->reverse_set, k, on) {
			spec = json_object_get(tasks, k);
			if (json_array_size(json_object_get(spec,
			    "requires")) > 0)
				continue;
			if ((t = engine_task_new(x, k)) == NULL)
				goto nomem;
			engine_queue_task(t);
		}
		json_decref(targeted);
		return 0;
	}
	/* direct: the tasks no transition leads to */
	json_object_foreach((json_t *)(uintptr_t)tasks, k, spec)
		for (j = 0; j < 3; j++)
			json_array_foreach(json_object_get(spec, keys[j]), i, c)
				if ((to = json_string_value(json_object_get(c,
				    "task"))) != NULL)
					(void)json_object_set_new(targeted, to,
					    json_true());
	json_object_foreach((json_t *)(uintptr_t)tasks, k, spec) {
		if (json_object_get(targeted, k) != NULL)
			continue;
		if ((t = engine_task_new(x, k)) == NULL)
			goto nomem;
		engine_queue_task(t);
	}
	json_decref(targeted);
	return 0;
nomem:
	json_decref(targeted);
	snprintf(err, errlen, "out of memory starting the workflow");
	return -1;
}

json_t *
engine_task_to_json(const struct engine_task *t)
{
	json_t *acts = json_array();
	size_t i;

	if (acts == NULL)
		return NULL;
	for (i = 0; i < t->nacts; i++)
		(void)json_array_append_new(acts, engine_action_to_json(t->acts[i]));
	return json_pack("{s:s, s:i, s:s, s:s?, s:O?, s:O?, s:o?, s:o?, s:o}",
	    "name", t->name, "seq", (int)t->seq, "state",
	    engine_tstate_name(t->state), "state_info", t->info[0] ? t->info :
	    NULL, "result", t->result, "published", t->published,
	    "started_ms", t->started_ms ? json_integer(t->started_ms) : NULL,
	    "finished_ms", t->finished_ms ? json_integer(t->finished_ms) : NULL,
	    "actions", acts);
}
