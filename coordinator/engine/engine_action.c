/*
 * engine_action.c: the actions of a task, each an item on a target.
 *
 * On agents (bora.script, bora.puppet, bora.file, bora.heat_config): a
 * step whose id is EXEC.TASKSEQ.INDEX.ATTEMPT, started through
 * engine_ops.step_start; the action input's "inputs" become the step's
 * inputs, its "timeout" the step's timeout, the rest the step's spec.
 * On the coordinator: std.noop, std.echo (output), std.fail (error_data),
 * std.sleep (seconds), bora.wait_agents (labels or names, count, timeout),
 * and sub-workflows (an execution whose parent is this one).
 *
 * An attempt that ends calls action_done(), which applies the task's
 * retry policy (count, delay, break-on, continue-on) before the action
 * is finished for good and its task is queued.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "expr.h"
#include "log.h"
#include "msg.h"
#include "step_kinds.h"

static void action_on_timer(struct timer *tm);

struct engine_action *
engine_action_new(struct engine_task *t, size_t index, json_t *vars, const char *agent)
{
	struct engine_action *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if (agent != NULL && (a->agent = strdup(agent)) == NULL) {
		free(a);
		return NULL;
	}
	a->t = t;
	a->index = index;
	a->vars = vars ? json_incref(vars) : NULL;
	a->state = A_PENDING;
	timer_init(&a->timer, action_on_timer);
	return a;
}

static void
action_forget_step(struct engine_action *a)
{
	if (a->step_live) {
		(void)idmap_del(&engine_state.steps, a->step_id);
		a->step_live = 0;
	}
}

static void
action_unwait(struct engine_action *a)
{
	if (a->waiting) {
		TAILQ_REMOVE(&engine_state.waiting, a, wait_link);
		a->waiting = 0;
	}
}

void
engine_action_free(struct engine_action *a)
{
	engine_disarm(&a->timer);
	action_forget_step(a);
	action_unwait(a);
	if (a->child != NULL)
		a->child->parent_action = NULL;
	json_decref(a->vars);
	json_decref(a->result);
	json_decref(a->wait_spec);
	free(a->agent);
	free(a);
}

static enum akind
action_kind(const struct engine_task *t, const char **name)
{
	static const struct {
		const char *name;
		enum akind kind;
	} table[] = {
		{ "std.noop", AK_NOOP }, { "std.echo", AK_ECHO },
		{ "std.fail", AK_FAIL }, { "std.sleep", AK_SLEEP },
		{ "bora.wait_agents", AK_WAIT_AGENTS },
	};
	size_t i;

	if ((*name = json_string_value(json_object_get(t->spec,
	    "workflow"))) != NULL)
		return AK_WORKFLOW;
	if ((*name = json_string_value(json_object_get(t->spec,
	    "action"))) == NULL)
		*name = "std.noop";
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, *name) == 0)
			return table[i].kind;
	return AK_STEP;
}

static void
action_emit_step(struct engine_action *a, const char *state, const json_t *extra)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "event",
	    "step", "task", a->t->name, "step", a->step_id, "agent", a->agent,
	    "state", state, "attempt", (int)a->attempt);

	if (ev != NULL && extra != NULL)
		(void)json_object_update(ev, (json_t *)(uintptr_t)extra);
	engine_emit(a->t->x, ev);
}

/* Retry this attempt? (the task's retry policy, in its scope with this
 * attempt's result). 1 yes, 0 no, -1 when the policy's expressions fail:
 * the attempt's result is then that error. */
static int
action_should_retry(struct engine_action *a, int ok, int lost, int64_t *delay)
{
	const json_t *r = json_object_get(a->t->spec, "retry");
	char err[ENGINE_INFO_MAX];
	json_t *v, *e;
	uint64_t count = 0, d = 0;
	int again;

	*delay = 0;
	if (lost && !json_is_true(json_object_get(a->t->spec, "safe-rerun")))
		return 0;       /* a lost step may have done its work */
	if (!json_is_object(r))     /* safe-rerun alone: run a lost step
	                               again, as Mistral, a few times */
		return lost && a->attempt <= ENGINE_LOST_RERUNS;
	if ((v = engine_eval_in(a->t, a, r, err, sizeof(err))) == NULL)
		goto bad;
	if ((e = json_object_get(v, "count")) != NULL && engine_eval_uint(e,
	    &count) != 0) {
		snprintf(err, sizeof(err), "expected a number");
		json_decref(v);
		goto bad;
	}
	if ((e = json_object_get(v, "delay")) != NULL && engine_eval_uint(e, &d) != 0)
		d = 0;
	if (a->attempt > count) {
		json_decref(v);
		return 0;
	}
	if (ok)
		again = json_object_get(v, "continue-on") != NULL &&
		    expr_truthy(json_object_get(v, "continue-on"));
	else
		again = !expr_truthy(json_object_get(v, "break-on"));
	json_decref(v);
	*delay = d > 86400 ? 86400 * 1000 : (int64_t)d * 1000;
	return again;
bad:
	json_decref(a->result);
	a->result = json_pack("{s:s+}", "error", "retry: ", err);
	return -1;
}

/* The attempt ended with result (taken). */
static void
action_done_ex(struct engine_action *a, int ok, json_t *result, int lost)
{
	int64_t delay;
	int retry;

	if (a->state != A_RUNNING) {
		json_decref(result);
		return;
	}
	engine_mark_action(a);
	engine_disarm(&a->timer);
	action_unwait(a);
	json_decref(a->result);
	a->result = result ? result : json_null();
	a->ok = ok;
	retry = action_should_retry(a, ok, lost, &delay);
	if (retry > 0) {
		a->state = A_DELAYED;
		log_info("engine", "retrying exec=%s task=%s item=%zu attempt=%u "
		    "delay_ms=%lld", a->t->x->id, a->t->name, a->index,
		    a->attempt + 1, (long long)delay);
		engine_arm(&a->timer, delay);
		return;
	}
	if (retry < 0)
		ok = 0;
	a->state = ok ? A_SUCCESS : A_ERROR;
	a->t->running--;
	a->t->finished++;
	engine_queue_task(a->t);
}

static void
action_done(struct engine_action *a, int ok, json_t *result)
{
	action_done_ex(a, ok, result, 0);
}

static json_t *action_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* {"error": sentence}, a failed attempt's result */
static json_t *
action_error(const char *fmt, ...)
{
	char buf[ENGINE_INFO_MAX];
	va_list ap;

	va_start(ap, fmt);
	engine_vinfo(buf, fmt, ap);
	va_end(ap);
	return json_pack("{s:s}", "error", buf);
}

/* ---- bora.wait_agents ---- */

/* The agents the wait asks for, when they are there: a new array; NULL
 * while waiting. */
static json_t *
action_wait_check(const struct engine_action *a)
{
	const json_t *labels = json_object_get(a->wait_spec, "labels");
	const json_t *names = json_object_get(a->wait_spec, "agents"), *n, *m;
	json_t *have, *empty = NULL, *out;
	uint64_t count = 1;
	size_t i, j;
	int found;

	if (!json_is_object(labels))
		labels = empty = json_object();
	have = engine_state.ops.agents_matching(engine_state.ops.user, labels);
	json_decref(empty);
	if (have == NULL)
		return NULL;
	if (json_is_array(names)) {
		out = json_array();
		json_array_foreach(names, i, n) {
			found = 0;
			json_array_foreach(have, j, m)
				if (json_equal(n, m))
					found = 1;
			if (found)
				(void)json_array_append(out, (json_t *)(uintptr_t)n);
		}
		json_decref(have);
		count = json_array_size(names);
		have = out;
	}
	if (json_object_get(a->wait_spec, "count") != NULL)
		(void)engine_eval_uint(json_object_get(a->wait_spec, "count"), &count);
	if (json_array_size(have) >= count)
		return have;
	json_decref(have);
	return NULL;
}

static void
action_start_wait(struct engine_action *a, json_t *input)
{
	json_t *have;
	uint64_t s = 0;

	json_decref(a->wait_spec);
	a->wait_spec = json_incref(input);
	if ((have = action_wait_check(a)) != NULL) {
		action_done(a, 1, have);
		return;
	}
	TAILQ_INSERT_TAIL(&engine_state.waiting, a, wait_link);
	a->waiting = 1;
	if (json_object_get(input, "timeout") != NULL &&
	    engine_eval_uint(json_object_get(input, "timeout"), &s) == 0 && s > 0)
		engine_arm(&a->timer, (int64_t)s * 1000);
}

void
engine_action_agents_changed(void)
{
	struct engine_action *a, *next;
	json_t *have;

	for (a = TAILQ_FIRST(&engine_state.waiting); a != NULL; a = next) {
		next = TAILQ_NEXT(a, wait_link);
		if ((have = action_wait_check(a)) != NULL)
			action_done(a, 1, have);
	}
}

/* ---- steps on agents ---- */

static void
action_start_step(struct engine_action *a, const char *name, json_t *input)
{
	struct engine_task *t = a->t;
	char err[ENGINE_INFO_MAX];
	const json_t *inputs = json_object_get(input, "inputs"), *to;
	json_t *spec;
	uint64_t timeout = 0, away = 0;
	int rc;

	snprintf(a->step_id, sizeof(a->step_id), "%s.%u.%zu.%u", t->x->id,
	    t->seq, a->index, a->attempt);
	if (inputs != NULL && !json_is_object(inputs) && !json_is_null(inputs)) {
		action_done(a, 0, action_error("input.inputs: expected "
		    "an object"));
		return;
	}
	if ((to = json_object_get(input, "timeout")) == NULL)
		to = json_object_get(t->spec, "timeout");
	if (to != NULL && engine_eval_uint(to, &timeout) != 0)
		timeout = 0;
	if (timeout == 0 || timeout > 7 * 86400)
		timeout = ENGINE_STEP_TIMEOUT_DEFAULT;
	/* agent-timeout: 0, absent or not a number is the default bound */
	to = json_object_get(t->spec, "agent-timeout");
	if (to == NULL || engine_eval_uint(to, &away) != 0 ||
	    away > BORA_MAX_TIMEOUT_S)
		away = 0;
	if ((spec = json_copy(input)) == NULL) {
		action_done(a, 0, action_error("%s", "out of memory"));
		return;
	}
	(void)json_object_del(spec, "inputs");
	(void)json_object_del(spec, "timeout");
	/* a Heat hook gets its config's name: the task's, unless given */
	if (bora_action_kind(name) != NULL &&
	    strcmp(bora_action_kind(name), "heat_config") == 0 &&
	    json_object_get(spec, "name") == NULL)
		(void)json_object_set_new(spec, "name", json_string(t->name));
	if (idmap_put(&engine_state.steps, a->step_id, a) != 0) {
		json_decref(spec);
		action_done(a, 0, action_error("step id %s is in use",
		    a->step_id));
		return;
	}
	a->step_live = 1;
	rc = engine_state.ops.step_start(engine_state.ops.user, a->step_id, a->agent,
	    bora_action_kind(name),
	    spec, json_is_object(inputs) ? inputs : NULL, (uint32_t)timeout,
	    (uint32_t)away, err, sizeof(err));
	json_decref(spec);
	if (rc != 0) {
		action_forget_step(a);
		action_done(a, 0, action_error("%s", err));
		return;
	}
	action_emit_step(a, "started", NULL);
}

void
engine_action_step_done(struct engine_action *a, const json_t *res)
{
	const char *status = json_string_value(json_object_get(res, "status"));
	const json_t *outs = json_object_get(res, "outputs");
	json_t *r, *rest;
	int ok = status && strcmp(status, "success") == 0;
	int lost = status && strcmp(status, "lost") == 0;

	action_forget_step(a);
	rest = json_is_object(outs) ? json_copy((json_t *)(uintptr_t)outs) :
	    json_object();
	(void)json_object_del(rest, "deploy_stdout");
	(void)json_object_del(rest, "deploy_stderr");
	(void)json_object_del(rest, "deploy_status_code");
	/* deploy_status_code is kept: a Heat hook's code (heat_config, puppet)
	 * is not always its process's exit code */
	r = json_pack("{s:s, s:s, s:s?, s:O?, s:O?, s:O?, s:O?, s:O?, s:o, "
	    "s:O?}",
	    "agent", a->agent, "step", a->step_id, "status", status,
	    "exit_code", json_object_get(res, "exit_code"),
	    "signal", json_object_get(res, "signal"),
	    "deploy_status_code", json_object_get(outs, "deploy_status_code"),
	    "stdout", json_object_get(outs, "deploy_stdout"),
	    "stderr", json_object_get(outs, "deploy_stderr"),
	    "outputs", rest, "error", json_object_get(res, "error"));
	action_emit_step(a, status ? status : "done", r);
	action_done_ex(a, ok, r, lost);
}

/* ---- sub-workflows ---- */

static void
action_start_workflow(struct engine_action *a, const char *name, json_t *input)
{
	char err[ENGINE_INFO_MAX];
	struct engine_exec *child;

	child = engine_exec_new(a->t->x->spec, name, input, NULL, a->t->x, err,
	    sizeof(err));
	if (child == NULL) {
		action_done(a, 0, action_error("%s", err));
		return;
	}
	snprintf(a->child_id, sizeof(a->child_id), "%s", child->id);
	if (engine_exec_done(child)) {
		engine_action_child_done(a, child);
		return;
	}
	a->child = child;
	child->parent_action = a;
}

void
engine_action_child_done(struct engine_action *a, struct engine_exec *child)
{
	json_t *r;

	a->child = NULL;
	if (child->state == X_SUCCESS) {
		action_done(a, 1, child->output ?
		    json_incref(child->output) : json_null());
		return;
	}
	r = json_pack("{s:s, s:s, s:s, s:O?}", "error", child->info[0] ?
	    child->info : "sub-workflow failed", "execution", child->id,
	    "state", engine_exec_state(child), "output", child->output);
	action_done(a, 0, r);
}

/* ---- start, timers, cancel ---- */

void
engine_action_start(struct engine_action *a)
{
	char err[ENGINE_INFO_MAX];
	const char *name;
	enum akind kind = action_kind(a->t, &name);
	json_t *input, *v;
	uint64_t s = 0;

	a->state = A_RUNNING;
	a->attempt++;
	engine_mark_action(a);
	input = engine_eval_field(a->t, a, "input", err, sizeof(err));
	if (input == NULL && err[0]) {
		action_done(a, 0, action_error("input: %s", err));
		return;
	}
	if (input == NULL)
		input = json_object();
	if (!json_is_object(input)) {
		json_decref(input);
		action_done(a, 0, action_error("%s",
		    "input: expected an object"));
		return;
	}
	switch (kind) {
	case AK_NOOP:
		action_done(a, 1, json_null());
		break;
	case AK_ECHO:
		v = json_object_get(input, "output");
		action_done(a, 1, v ? json_incref(v) : json_null());
		break;
	case AK_FAIL:
		v = json_object_get(input, "error_data");
		action_done(a, 0, json_is_string(v) ? json_pack("{s:O}",
		    "error", v) : v ? json_pack("{s:s, s:O}", "error",
		    "std.fail", "error_data", v) : action_error("%s",
		    "std.fail"));
		break;
	case AK_SLEEP:
		v = json_object_get(input, "seconds");
		if (v != NULL && engine_eval_uint(v, &s) != 0) {
			action_done(a, 0, action_error("%s",
			    "input.seconds: expected a number"));
			break;
		}
		engine_arm(&a->timer, (int64_t)(s > 86400 ? 86400 : s) * 1000);
		break;
	case AK_WAIT_AGENTS:
		action_start_wait(a, input);
		break;
	case AK_STEP:
		action_start_step(a, name, input);
		break;
	case AK_WORKFLOW:
		action_start_workflow(a, name, input);
		break;
	}
	json_decref(input);
}

static void
action_on_timer(struct timer *tm)
{
	struct engine_action *a = container_of(tm, struct engine_action, timer);
	char buf[64];

	switch (a->state) {
	case A_DELAYED:                 /* a retry is due */
		engine_mark_action(a);
		if (a->t->x->state != X_RUNNING) {
			/* nothing starts while paused: resume does it */
			a->retry_due = 1;
			a->t->retries_due++;
			break;
		}
		engine_action_start(a);
		break;
	case A_RUNNING:
		if (a->waiting) {
			snprintf(buf, sizeof(buf), "%s", "bora.wait_agents: "
			    "timed out");
			action_done(a, 0, action_error("%s", buf));
		} else          /* std.sleep */
			action_done(a, 1, json_null());
		break;
	default:
		break;
	}
}

void
engine_action_cancel(struct engine_action *a, const char *why)
{
	struct engine_exec *child = a->child;

	engine_mark_action(a);
	engine_disarm(&a->timer);
	action_unwait(a);
	if (a->step_live) {
		engine_state.ops.step_cancel(engine_state.ops.user, a->step_id, why);
		action_emit_step(a, "cancelled", NULL);
		action_forget_step(a);
	}
	if (child != NULL) {
		a->child = NULL;
		child->parent_action = NULL;
		if (!engine_exec_done(child))
			engine_exec_stop(child, X_CANCELLED, why);
	}
	if (a->retry_due) {
		a->retry_due = 0;
		a->t->retries_due--;
	}
	if (a->state == A_PENDING || a->state == A_RUNNING ||
	    a->state == A_DELAYED)
		a->state = A_CANCELLED;
}

json_t *
engine_action_to_json(const struct engine_action *a)
{
	static const char *const names[] = { "PENDING", "RUNNING", "DELAYED",
	    "SUCCESS", "ERROR", "CANCELLED" };

	return json_pack("{s:i, s:s, s:i, s:s?, s:s?, s:s?, s:O?, s:O?}",
	    "index", (int)a->index, "state", names[a->state], "attempt",
	    (int)a->attempt, "agent", a->agent, "step", a->step_id[0] ?
	    a->step_id : NULL, "execution", a->child_id[0] ? a->child_id : NULL,
	    "vars", a->vars, "result", a->result);
}
