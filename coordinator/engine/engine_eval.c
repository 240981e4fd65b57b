/*
 * engine_eval.c: expressions in the scope of a task.
 *
 * $ (and _) is the execution's context (input, vars, what tasks
 * published), plus the with-items variables of the action being
 * evaluated. task() is the current task, with the current action's
 * result while one is being judged (retry's break-on, continue-on);
 * task(name) is the latest run of that task in the execution.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "expr.h"

struct eval_scope {
	const struct engine_task *t;
	const struct engine_action *a;
	json_t *made;               /* objects handed out, freed after */
};

/* {"result", "state", "published"} of t (a new object kept in sc). */
static const json_t *
eval_task_view(struct eval_scope *sc, const struct engine_task *t,
    const json_t *result)
{
	json_t *o = json_pack("{s:O?, s:s, s:O?}", "result", result,
	    "state", engine_tstate_name(t->state), "published", t->published);

	if (o == NULL || json_array_append_new(sc->made, o) != 0)
		return NULL;
	return o;
}

static const json_t *
eval_task(void *user, const char *name)
{
	struct eval_scope *sc = user;
	const struct engine_exec *x = sc->t->x;
	const json_t *idx;

	if (name == NULL)
		return eval_task_view(sc, sc->t, sc->a && sc->a->result ?
		    sc->a->result : sc->t->result);
	idx = json_object_get(x->latest, name);
	if (idx == NULL)
		return NULL;
	return eval_task_view(sc, x->tasks[json_integer_value(idx)],
	    x->tasks[json_integer_value(idx)]->result);
}

/* The data context ($) of t's expressions: its execution's, or for an
 * action with with-items variables a copy with them set on top. NULL when
 * out of memory; the caller frees it when it is not t->x->ctx. */
static json_t *
eval_context(const struct engine_task *t, const struct engine_action *a)
{
	json_t *ctx, *val;
	const char *k;

	if (a == NULL || a->vars == NULL)
		return t->x->ctx;
	if ((ctx = json_copy(t->x->ctx)) == NULL)
		return NULL;
	json_object_foreach(a->vars, k, val)
		if (json_object_set(ctx, k, val) != 0) {
			json_decref(ctx);
			return NULL;
		}
	return ctx;
}

json_t *
engine_eval_in(const struct engine_task *t, const struct engine_action *a,
    const json_t *v, char *err, size_t errlen)
{
	struct eval_scope sc = { t, a, json_array() };
	struct expr_env env;
	json_t *ctx = eval_context(t, a), *out = NULL;

	memset(&env, 0, sizeof(env));
	if (sc.made == NULL || ctx == NULL) {
		snprintf(err, errlen, "out of memory evaluating expressions");
	} else {
		env.ctx = ctx;
		env.execution = t->x->view;
		env.task = eval_task;
		env.user = &sc;
		out = expr_eval_json(v, &env, err, errlen);
	}
	if (ctx != t->x->ctx)
		json_decref(ctx);
	json_decref(sc.made);
	return out;
}

json_t *
engine_eval_field(const struct engine_task *t, const struct engine_action *a, const char *key,
    char *err, size_t errlen)
{
	const json_t *v = json_object_get(t->spec, key);

	err[0] = '\0';
	if (v == NULL || json_is_null(v))
		return NULL;
	return engine_eval_in(t, a, v, err, errlen);
}

int
engine_eval_uint(const json_t *v, uint64_t *out)
{
	const char *s;
	char *end;
	unsigned long long n;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) < 1e15) {
		*out = (uint64_t)json_real_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		if (*s < '0' || *s > '9')
			return -1;
		n = strtoull(s, &end, 10);
		if (*end == '\0') {
			*out = n;
			return 0;
		}
	}
	return -1;
}
