/*
 * dsl_transition.c: on-success, on-error and on-complete. A transition
 * list is a string, or a list of strings and single-key mappings
 * {target: guard}; a target is a task name or an engine command: fail,
 * succeed, pause, noop, optionally with msg=... (but noop), also
 * written as a call: fail(msg='why'). Canonical entries: {"task",
 * "when"?} or {"command", "when"?, "msg"?}. Mistral's mapping form
 * {publish: {branch: {...}}, next: ...} is read by dsl_on_clause; its
 * publish is merged into the task's by dsl_task.c.
 */
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"

static const char *const dsl_commands[] = { "fail", "succeed", "pause",
	"noop", NULL };

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
	char why[256], show[DSL_SHOW], *call = NULL;
	json_t *out = NULL, *params = NULL, *msg;
	const char *g, *open;
	size_t wl, n = strlen(target);

	if ((params = json_object()) == NULL)
		goto oom;
	/* fail(msg='why'): Mistral's call form of "fail msg='why'". */
	if ((open = strchr(target, '(')) != NULL && n > 0 &&
	    target[n - 1] == ')' && dsl_is_command(target,
	    (size_t)(open - target))) {
		if ((call = strndup(target, n - 1)) == NULL)
			goto oom;
		call[open - target] = ' ';
		target = call;
	}
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
		    (msg != NULL && strncmp(target, "noop", wl) == 0)) {
			dsl_error(w->cx, at, "%s: %.*s takes %s", attr, (int)wl,
			    target, strncmp(target, "noop", wl) == 0 ?
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
	free(call);
	return out;
oom:
	w->cx->oom = 1;
	goto out;
bad:
	json_decref(out);
	out = NULL;
out:
	json_decref(params);
	free(call);
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

	if (v->kind == DSL_MAP && v->n != 2) {
		dsl_error(w->cx, v, "%s: expected a task name, a list, "
		    "{task: <%% condition %%>} or {publish: ..., next: ...}, "
		    "got a mapping of several keys", attr);
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
	for (i = 0; i < (v->kind == DSL_MAP ? 1 : v->n); i++) {
		it = v->kind == DSL_MAP ? v : v->kid[i];
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

int
dsl_is_on_clause(const struct dsl_node *v)
{
	return v->kind == DSL_MAP && (dsl_map_get(v, "publish", NULL) !=
	    NULL || dsl_map_get(v, "next", NULL) != NULL);
}

/* publish: {branch: {...}} of a mapping-form clause: a new reference to
 * the branch mapping, or NULL after reporting. */
static json_t *
dsl_on_clause_publish(struct dsl_wf *w, const char *attr,
    const struct dsl_node *p)
{
	const struct dsl_node *k;
	char show[DSL_SHOW];
	json_t *branch = NULL;
	size_t i;
	int bad = 0;

	if (p->kind != DSL_MAP || p->n == 0) {
		dsl_error(w->cx, p, "%s: publish: expected a mapping of "
		    "branch (and global, atomic), got %s", attr, dsl_what(p));
		return NULL;
	}
	for (i = 0; i + 1 < p->n; i += 2) {
		k = p->kid[i];
		if (strcmp(k->text, "global") == 0 ||
		    strcmp(k->text, "atomic") == 0) {
			dsl_error(w->cx, k, "unsupported: %s publish scope "
			    "'%s' (only branch)", attr, k->text);
			bad = 1;
		} else if (strcmp(k->text, "branch") != 0) {
			dsl_error(w->cx, k, "%s: publish: unknown scope '%s' "
			    "(branch, global, atomic)", attr,
			    dsl_show(k->text, show, sizeof(show)));
			bad = 1;
		} else if (p->kid[i + 1]->kind != DSL_MAP ||
		    p->kid[i + 1]->n == 0) {
			dsl_error(w->cx, p->kid[i + 1], "%s: publish: branch: "
			    "expected a non-empty mapping, got %s", attr,
			    dsl_what(p->kid[i + 1]));
			bad = 1;
		} else if ((branch = dsl_json(w->cx, p->kid[i + 1])) == NULL)
			bad = 1;
	}
	if (bad) {
		json_decref(branch);
		return NULL;
	}
	return branch;
}

json_t *
dsl_on_clause(struct dsl_wf *w, const char *attr, const struct dsl_node *v,
    json_t **branch)
{
	const struct dsl_node *k, *next = NULL, *pub = NULL;
	char show[DSL_SHOW];
	json_t *out;
	size_t i;
	int bad = 0;

	*branch = NULL;
	for (i = 0; i + 1 < v->n; i += 2) {
		k = v->kid[i];
		if (strcmp(k->text, "next") == 0)
			next = v->kid[i + 1];
		else if (strcmp(k->text, "publish") == 0)
			pub = v->kid[i + 1];
		else {
			dsl_error(w->cx, k, "%s: unknown key '%s' (publish, "
			    "next)", attr, dsl_show(k->text, show,
			    sizeof(show)));
			bad = 1;
		}
	}
	if (pub != NULL && (*branch = dsl_on_clause_publish(w, attr, pub)) ==
	    NULL)
		bad = 1;
	if (next == NULL || (next->kind == DSL_SCALAR && next->plain &&
	    strcmp(dsl_what(next), "null") == 0)) {
		if ((out = json_array()) == NULL)
			w->cx->oom = 1;
	} else
		out = dsl_transitions(w, attr, next);
	if (out == NULL || bad) {
		json_decref(out);
		json_decref(*branch);
		*branch = NULL;
		return NULL;
	}
	return out;
}
