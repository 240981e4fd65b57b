/*
 * dsl_transition.c: on-success, on-error and on-complete. A transition
 * list is a string, or a list of strings and single-key mappings
 * {target: guard}; a target is a task name or an engine command: fail,
 * succeed, pause, optionally with msg=... (fail and succeed). Canonical
 * entries: {"task", "when"?} or {"command", "when"?, "msg"?}.
 * Mistral's mapping form ({publish, next}) is unsupported.
 */
#include <string.h>

#include "dsl_int.h"

static const char *const dsl_commands[] = { "fail", "succeed", "pause", NULL };

static int
dsl_is_command(const char *s, size_t n)
{
	size_t i;

	for (i = 0; dsl_commands[i] != NULL; i++)
		if (strlen(dsl_commands[i]) == n &&
		    strncmp(dsl_commands[i], s, n) == 0)
			return 1;
	return 0;
}

int
dsl_has_task(const struct dsl_wf *w, const char *name)
{
	return dsl_map_get(w->tasks, name, NULL) != NULL;
}

/* One entry: target text at node at, guard node or NULL. */
static json_t *
dsl_transition_one(struct dsl_wf *w, const char *attr,
    const struct dsl_node *at, const char *target,
    const struct dsl_node *guard)
{
	char why[256], show[DSL_SHOW];
	json_t *out = NULL, *params = NULL, *msg;
	const char *g;
	size_t wl;

	if ((params = json_object()) == NULL)
		goto oom;
	if (dsl_params_parse(target, &wl, params, why, sizeof(why)) != 0) {
		dsl_error(w->cx, at, "%s: %s", attr, why);
		goto out;
	}
	if ((out = json_object()) == NULL)
		goto oom;
	if (dsl_is_command(target, wl)) {
		dsl_set(w->cx, out, "command", json_stringn(target, wl));
		msg = json_object_get(params, "msg");
		if (json_object_size(params) > (msg != NULL ? 1u : 0u) ||
		    (msg != NULL && strncmp(target, "pause", wl) == 0)) {
			dsl_error(w->cx, at, "%s: %.*s takes %s", attr, (int)wl,
			    target, strncmp(target, "pause", wl) == 0 ?
			    "no parameters" : "only msg=...");
			goto bad;
		}
		if (msg != NULL && !json_is_string(msg)) {
			dsl_error(w->cx, at, "%s: msg must be a string", attr);
			goto bad;
		}
	} else {
		if (json_object_size(params) > 0) {
			dsl_error(w->cx, at, "%s: a task name takes no "
			    "parameters ('%s')", attr, dsl_show(target, show,
			    sizeof(show)));
			goto bad;
		}
		if (!dsl_has_task(w, target)) {
			dsl_error(w->cx, at, "%s: no task '%s' in workflow "
			    "'%s'", attr, dsl_show(target, show, sizeof(show)),
			    w->name);
			goto bad;
		}
		dsl_set(w->cx, out, "task", json_string(target));
	}
	if (guard != NULL) {
		g = dsl_str(guard);
		if (g == NULL || !dsl_is_expr(g)) {
			dsl_error(w->cx, guard, "%s: the condition of a "
			    "transition must be one expression (<%% ... %%> or "
			    "{{ ... }}), got %s", attr, g ? "text" :
			    dsl_what(guard));
			goto bad;
		}
		dsl_set(w->cx, out, "when", json_string(g));
	}
	if ((msg = json_object_get(params, "msg")) != NULL)
		dsl_set(w->cx, out, "msg", json_incref(msg));
	json_decref(params);
	return out;
oom:
	w->cx->oom = 1;
	goto out;
bad:
	json_decref(out);
	out = NULL;
out:
	json_decref(params);
	return out;
}

json_t *
dsl_transitions(struct dsl_wf *w, const char *attr, const struct dsl_node *v)
{
	const struct dsl_node *it, *key;
	json_t *out, *one;
	const char *s;
	size_t i;
	int bad = 0;

	if (v->kind == DSL_MAP) {
		dsl_error(w->cx, v, "unsupported: %s with publish/next (the "
		    "mapping form); use a list of tasks and publish", attr);
		return NULL;
	}
	if ((out = json_array()) == NULL) {
		w->cx->oom = 1;
		return NULL;
	}
	if (v->kind == DSL_SCALAR) {
		if ((s = dsl_str(v)) == NULL || s[0] == '\0') {
			dsl_error(w->cx, v, "%s: expected a task name or a "
			    "list, got %s", attr, dsl_what(v));
			json_decref(out);
			return NULL;
		}
		if ((one = dsl_transition_one(w, attr, v, s, NULL)) == NULL) {
			json_decref(out);
			return NULL;
		}
		dsl_push(w->cx, out, one);
		return out;
	}
	for (i = 0; i < v->n; i++) {
		it = v->kid[i];
		one = NULL;
		if (it->kind == DSL_MAP && it->n == 2) {
			key = it->kid[0];
			if (key->text[0] == '\0')
				dsl_error(w->cx, key, "%s: empty task name",
				    attr);
			else
				one = dsl_transition_one(w, attr, key,
				    key->text, it->kid[1]);
		} else if ((s = dsl_str(it)) != NULL && s[0] != '\0') {
			one = dsl_transition_one(w, attr, it, s, NULL);
		} else {
			dsl_error(w->cx, it, "%s: an entry must be a task name "
			    "or {task: <%% condition %%>}, got %s", attr,
			    it->kind == DSL_MAP ? "a mapping of several keys" :
			    dsl_what(it));
		}
		if (one == NULL)
			bad = 1;
		else
			dsl_push(w->cx, out, one);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}
