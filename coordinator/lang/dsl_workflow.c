/*
 * dsl_workflow.c: one workflow to its canonical form. Attributes are
 * checked, task-defaults merged into every task (Mistral's rules, see
 * docs/workflow-language.md), then the checks that need the whole
 * workflow: targets of agent actions, sub-workflow inputs, cycles in a
 * reverse workflow's requires, and every expression (parsed, and its
 * task('name') references resolved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"
#include "expr.h"
#include "step_kinds.h"

/* Task names the engine takes as commands. */
static const char *const dsl_reserved[] = { "fail", "succeed", "pause", NULL };

static int
dsl_in(const char *s, const char *const *v)
{
	for (; s != NULL && *v != NULL; v++)
		if (strcmp(s, *v) == 0)
			return 1;
	return 0;
}

json_t *
dsl_workflow_inputs(struct dsl_ctx *cx, const struct dsl_node *v)
{
	char show[DSL_SHOW];
	const struct dsl_node *it, *name;
	json_t *out, *one, *def;
	size_t i, j;
	int bad = 0;

	if ((out = json_array()) == NULL) {
		cx->oom = 1;
		return NULL;
	}
	if (v == NULL)
		return out;
	if (v->kind != DSL_SEQ) {
		dsl_error(cx, v, "input: expected a list of names and "
		    "{name: default} mappings, got %s", dsl_what(v));
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < v->n; i++) {
		it = v->kid[i];
		name = it->kind == DSL_MAP && it->n == 2 ? it->kid[0] : it;
		if (name->kind != DSL_SCALAR || (it->kind == DSL_SCALAR &&
		    dsl_str(it) == NULL) || !dsl_name_valid(name->text)) {
			dsl_error(cx, it, "input: expected a name (A-Z a-z 0-9 "
			    "_ . -) or {name: default}, got %s",
			    name->kind == DSL_SCALAR && (it->kind == DSL_MAP ||
			    dsl_str(it) != NULL) ? "a bad name" :
			    it->kind == DSL_MAP ? "a mapping of several keys" :
			    dsl_what(it));
			bad = 1;
			continue;
		}
		json_array_foreach(out, j, one)
			if (strcmp(json_string_value(json_object_get(one,
			    "name")), name->text) == 0) {
				dsl_error(cx, name, "input: '%s' is declared "
				    "twice", dsl_show(name->text, show,
				    sizeof(show)));
				bad = 1;
			}
		one = json_pack("{s:s}", "name", name->text);
		if (one == NULL) {
			cx->oom = 1;
			bad = 1;
			continue;
		}
		if (it->kind == DSL_MAP) {
			if ((def = dsl_json(cx, it->kid[1])) == NULL)
				bad = 1;
			else
				dsl_set(cx, one, "default", def);
		}
		dsl_push(cx, out, one);
	}
	if (bad) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* on-*: the task's own when it has some, else the defaults' without the
 * transitions to the task itself. */
static json_t *
dsl_merge_transitions(json_t *own, json_t *def, const char *self)
{
	json_t *out, *e;
	size_t i;

	if (json_array_size(own) > 0)
		return json_incref(own);
	if ((out = json_array()) == NULL)
		return NULL;
	json_array_foreach(def, i, e) {
		const char *t = json_string_value(json_object_get(e, "task"));

		if (t == NULL || strcmp(t, self) != 0)
			json_array_append(out, e);
	}
	return out;
}

/* requires: the task's own, then the defaults' not in it, never itself. */
static json_t *
dsl_merge_requires(json_t *own, json_t *def, const char *self)
{
	json_t *out, *e, *srcs[2] = { own, def }, *x;
	size_t i, j, s;
	int dup;

	if ((out = json_array()) == NULL)
		return NULL;
	for (s = 0; s < 2; s++)
		json_array_foreach(srcs[s], i, e) {
			if (s == 1 && strcmp(json_string_value(e), self) == 0)
				continue;
			dup = 0;
			json_array_foreach(out, j, x)
				if (json_equal(x, e))
					dup = 1;
			if (!dup)
				json_array_append(out, e);
		}
	return out;
}

/* The canonical task: attrs merged with the defaults, keys in order. */
static json_t *
dsl_task_canon(struct dsl_wf *w, const struct dsl_node *k,
    const struct dsl_node *node, json_t *own, json_t *def)
{
	static const char *const order[] = {
		"description", "tags", "action", "workflow", "input", "target",
		"publish", "publish-on-error", "on-success", "on-error",
		"on-complete", "join", "requires", "with-items", "concurrency",
		"retry", "timeout", "agent-timeout", "wait-before", "wait-after",
		"pause-before", "fail-on", "safe-rerun", "keep-result", NULL
	};
	struct dsl_ctx *cx = w->cx;
	const char *action, *key;
	json_t *out, *v;
	size_t i;
	int agent;

	if ((out = json_object()) == NULL) {
		cx->oom = 1;
		return NULL;
	}
	action = json_string_value(json_object_get(own, "action"));
	if (action == NULL && json_object_get(own, "workflow") == NULL)
		action = "std.noop";
	agent = bora_action_kind(action) != NULL;
	for (i = 0; order[i] != NULL; i++) {
		key = order[i];
		v = json_object_get(own, key);
		if (strcmp(key, "action") == 0) {
			if (action != NULL)
				dsl_set(cx, out, key, json_string(action));
		} else if (strcmp(key, "input") == 0 ||
		    strcmp(key, "publish") == 0 ||
		    strcmp(key, "publish-on-error") == 0) {
			dsl_set(cx, out, key, v ? json_incref(v) :
			    json_object());
		} else if (strncmp(key, "on-", 3) == 0) {
			if (!w->reverse)
				dsl_set(cx, out, key, dsl_merge_transitions(v,
				    json_object_get(def, key), k->text));
		} else if (strcmp(key, "requires") == 0) {
			if (w->reverse)
				dsl_set(cx, out, key, dsl_merge_requires(v,
				    json_object_get(def, key), k->text));
		} else if (strcmp(key, "target") == 0) {
			if (v != NULL && !agent)
				dsl_error(cx, dsl_map_get(node, "target", NULL),
				    "target: %s%s runs on the coordinator; only "
				    "%s take a target",
				    action ? "" : "a sub-workflow",
				    action ? action : "", bora_actions_list(1));
			if (v == NULL && agent)
				v = json_object_get(def, key);
			if (v == NULL && agent)
				dsl_error(cx, k, "task '%s': %s runs on an agent "
				    "and needs a target (in the task or in "
				    "task-defaults)", k->text, action);
			if (v != NULL && agent)
				dsl_set(cx, out, key, json_incref(v));
		} else if (strcmp(key, "safe-rerun") == 0 ||
		    strcmp(key, "keep-result") == 0) {
			if (v == NULL)
				v = json_object_get(def, key);
			dsl_set(cx, out, key, v ? json_incref(v) :
			    json_boolean(key[0] == 'k'));
		} else {
			if (v == NULL)
				v = json_object_get(def, key);
			if (v != NULL)
				dsl_set(cx, out, key, json_incref(v));
		}
	}
	/* Mistral's retry policy runs after fail-on and retries a task it
	 * failed; Bora retries failed actions only. */
	if (json_object_get(out, "fail-on") != NULL &&
	    json_object_get(out, "retry") != NULL)
		dsl_error(cx, dsl_map_get(node, "fail-on", NULL),
		    "unsupported: fail-on with retry (Mistral retries a task "
		    "that fail-on failed; Bora retries failed actions only)");
	if (json_object_get(own, "concurrency") != NULL &&
	    json_object_get(own, "with-items") == NULL)
		dsl_error(cx, k, "task '%s': concurrency needs with-items",
		    k->text);
	dsl_set(cx, out, "line", json_integer(k->line));
	return out;
}

/* A sub-workflow's input: every name declared, every required one given. */
static void
dsl_check_subflow(struct dsl_wf *w, const struct dsl_node *k,
    const struct dsl_node *node, json_t *task)
{
	const char *sub = json_string_value(json_object_get(task, "workflow"));
	json_t *decl, *input = json_object_get(task, "input"), *d, *v;
	const struct dsl_node *in = dsl_map_get(node, "input", NULL);
	struct dsl_node *ik;
	const char *key, *name;
	char show[DSL_SHOW];
	size_t i;
	int found;

	if (sub == NULL || !json_is_array(decl = json_object_get(
	    w->workflow_names, sub)))
		return;
	json_object_foreach(input, key, v) {
		found = 0;
		json_array_foreach(decl, i, d)
			if (strcmp(json_string_value(json_object_get(d, "name")),
			    key) == 0)
				found = 1;
		if (found)
			continue;
		ik = NULL;
		dsl_map_get(in, key, &ik);
		dsl_error(w->cx, ik ? ik : dsl_map_get(node, "workflow", NULL),
		    "input: workflow '%s' has no input '%s'", sub,
		    dsl_show(key, show, sizeof(show)));
	}
	json_array_foreach(decl, i, d) {
		name = json_string_value(json_object_get(d, "name"));
		if (json_object_get(d, "default") == NULL &&
		    json_object_get(input, name) == NULL)
			dsl_error(w->cx, k, "task '%s': workflow '%s' needs "
			    "input '%s'", k->text, sub, name);
	}
}

/* ---- reverse: cycles in requires ------------------------------------- */

struct dsl_graph {
	json_t *tasks;             /* canonical tasks */
	const char **name;
	const struct dsl_node **key;
	int *state;                /* 0 new, 1 on the path, 2 done */
	size_t *path, depth, n;
};

static size_t
dsl_graph_index(const struct dsl_graph *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->name[i], name) == 0)
			return i;
	return g->n;
}

/* 1 when a cycle was found and reported. */
static int
dsl_graph_visit(struct dsl_ctx *cx, struct dsl_graph *g, size_t u)
{
	json_t *req, *r;
	size_t i, j, v, at;
	char buf[512];
	int used;

	g->state[u] = 1;
	g->path[g->depth++] = u;
	req = json_object_get(json_object_get(g->tasks, g->name[u]),
	    "requires");
	json_array_foreach(req, i, r) {
		v = dsl_graph_index(g, json_string_value(r));
		if (v >= g->n || g->state[v] == 2)
			continue;
		if (g->state[v] == 1) {
			for (at = 0; g->path[at] != v; at++)
				;
			used = 0;
			for (j = at; j < g->depth && used < (int)sizeof(buf);
			    j++)
				used += snprintf(buf + used, sizeof(buf) -
				    (size_t)used, "%s -> ", g->name[g->path[j]]);
			if (used < (int)sizeof(buf))
				snprintf(buf + used, sizeof(buf) - (size_t)used,
				    "%s", g->name[v]);
			dsl_error(cx, g->key[v], "requires: a cycle: %s", buf);
			return 1;
		}
		if (dsl_graph_visit(cx, g, v))
			return 1;
	}
	g->depth--;
	g->state[u] = 2;
	return 0;
}

static void
dsl_check_cycles(struct dsl_ctx *cx, const struct dsl_node *tasks,
    json_t *canon)
{
	struct dsl_graph g;
	size_t i;

	memset(&g, 0, sizeof(g));
	g.tasks = canon;
	g.n = tasks->n / 2;
	g.name = calloc(g.n + 1, sizeof(*g.name));
	g.key = calloc(g.n + 1, sizeof(*g.key));
	g.state = calloc(g.n + 1, sizeof(*g.state));
	g.path = calloc(g.n + 1, sizeof(*g.path));
	if (g.name == NULL || g.key == NULL || g.state == NULL ||
	    g.path == NULL) {
		cx->oom = 1;
		goto out;
	}
	for (i = 0; i < g.n; i++) {
		g.name[i] = tasks->kid[2 * i]->text;
		g.key[i] = tasks->kid[2 * i];
	}
	for (i = 0; i < g.n; i++)
		if (g.state[i] == 0 && dsl_graph_visit(cx, &g, i))
			break;         /* one cycle is enough to say */
out:
	free(g.name);
	free(g.key);
	free(g.state);
	free(g.path);
}

/* ---- expressions ------------------------------------------------------ */

static void
dsl_check_exprs(struct dsl_wf *w, const struct dsl_node *n)
{
	char err[256], show[DSL_SHOW];
	const char *s;
	json_t *refs, *r;
	size_t i;

	if (n->kind != DSL_SCALAR) {
		for (i = 0; i < n->n; i++)
			if (n->kind == DSL_SEQ || i % 2 == 1)
				dsl_check_exprs(w, n->kid[i]);
		return;
	}
	if ((s = dsl_str(n)) == NULL || !expr_has(s))
		return;
	if (expr_check(s, err, sizeof(err)) != 0) {
		dsl_error(w->cx, n, "%s", err);
		return;
	}
	if ((refs = json_array()) == NULL) {
		w->cx->oom = 1;
		return;
	}
	if (expr_task_refs(s, refs, err, sizeof(err)) != 0)
		dsl_error(w->cx, n, "%s", err);
	json_array_foreach(refs, i, r)
		if (!dsl_has_task(w, json_string_value(r)))
			dsl_error(w->cx, n, "task('%s'): no task '%s' in "
			    "workflow '%s'", dsl_show(json_string_value(r),
			    show, sizeof(show)), show, w->name);
	json_decref(refs);
}

/* Every attribute value but descriptions and tags. */
static void
dsl_check_wf_exprs(struct dsl_wf *w, const struct dsl_node *wf)
{
	const struct dsl_node *k, *v, *task;
	size_t i, j, t;

	for (i = 0; i + 1 < wf->n; i += 2) {
		k = wf->kid[i];
		v = wf->kid[i + 1];
		if (strcmp(k->text, "description") == 0 ||
		    strcmp(k->text, "tags") == 0)
			continue;
		if (strcmp(k->text, "tasks") != 0 || v->kind != DSL_MAP) {
			dsl_check_exprs(w, v);
			continue;
		}
		for (t = 1; t < v->n; t += 2) {
			task = v->kid[t];
			if (task->kind != DSL_MAP)
				continue;
			for (j = 0; j + 1 < task->n; j += 2)
				if (strcmp(task->kid[j]->text,
				    "description") != 0 &&
				    strcmp(task->kid[j]->text, "tags") != 0)
					dsl_check_exprs(w, task->kid[j + 1]);
		}
	}
}

/* ---- the workflow ----------------------------------------------------- */

static const char *const dsl_wf_attrs[] = {
	"type", "description", "tags", "input", "secret-inputs", "output",
	"output-on-error", "vars", "task-defaults", "tasks", NULL
};

/* secret-inputs: [names] (a Bora extension): each a declared input, marked
 * "secret": true in the canonical input list. */
static void
dsl_wf_secret_inputs(struct dsl_ctx *cx, const struct dsl_node *v,
    json_t *inputs)
{
	char show[DSL_SHOW];
	const struct dsl_node *it;
	json_t *d, *hit;
	size_t i, j;

	if (v->kind != DSL_SEQ) {
		dsl_error(cx, v, "secret-inputs: expected a list of input "
		    "names, got %s", dsl_what(v));
		return;
	}
	for (i = 0; i < v->n; i++) {
		it = v->kid[i];
		if (dsl_str(it) == NULL) {
			dsl_error(cx, it, "secret-inputs: expected an input "
			    "name, got %s", dsl_what(it));
			continue;
		}
		hit = NULL;
		json_array_foreach(inputs, j, d)
			if (strcmp(json_string_value(json_object_get(d, "name")),
			    dsl_str(it)) == 0)
				hit = d;
		if (hit == NULL) {
			dsl_error(cx, it, "secret-inputs: '%s' is not an input "
			    "of this workflow", dsl_show(dsl_str(it), show,
			    sizeof(show)));
			continue;
		}
		dsl_set(cx, hit, "secret", json_true());
	}
}

json_t *
dsl_tags(struct dsl_ctx *cx, const struct dsl_node *v)
{
	size_t i;

	if (v->kind != DSL_SEQ) {
		dsl_error(cx, v, "tags: expected a list of strings, got %s",
		    dsl_what(v));
		return NULL;
	}
	for (i = 0; i < v->n; i++)
		if (dsl_str(v->kid[i]) == NULL) {
			dsl_error(cx, v->kid[i], "tags: expected a string, "
			    "got %s", dsl_what(v->kid[i]));
			return NULL;
		}
	return dsl_json(cx, v);
}

json_t *
dsl_workflow(struct dsl_ctx *cx, const char *name, const struct dsl_node *key,
    const struct dsl_node *wf, json_t *workflow_names, const char *book)
{
	struct dsl_wf w;
	const struct dsl_node *k, *v, *tasks, *type, *tk;
	json_t *out = NULL, *def = NULL, *canon = NULL, *own, *t, *j;
	char show[DSL_SHOW];
	const char *s;
	size_t i;
	size_t errs0 = cx->n_err;

	memset(&w, 0, sizeof(w));
	w.cx = cx;
	w.name = name;
	w.workflow_names = workflow_names;
	w.book = book;
	if (wf->kind != DSL_MAP) {
		dsl_error(cx, wf, "workflow '%s': expected a mapping, got %s",
		    name, dsl_what(wf));
		return NULL;
	}
	if (dsl_map_get(wf, "base", NULL) != NULL &&
	    dsl_map_get(wf, "tasks", NULL) == NULL) {
		dsl_error(cx, key, "unsupported: actions (an ad-hoc action "
		    "'%s' with base:, not a workflow)", dsl_show(name, show,
		    sizeof(show)));
		return NULL;
	}
	for (i = 0; i + 1 < wf->n; i += 2)
		if (!dsl_in(wf->kid[i]->text, dsl_wf_attrs))
			dsl_error(cx, wf->kid[i], "unknown workflow attribute "
			    "'%s'", dsl_show(wf->kid[i]->text, show,
			    sizeof(show)));
	if ((type = dsl_map_get(wf, "type", NULL)) != NULL) {
		s = dsl_str(type);
		if (s == NULL || (strcmp(s, "direct") != 0 &&
		    strcmp(s, "reverse") != 0))
			dsl_error(cx, type, "type: expected direct or reverse");
		else
			w.reverse = strcmp(s, "reverse") == 0;
	}
	tasks = dsl_map_get(wf, "tasks", NULL);
	if (tasks == NULL || tasks->kind != DSL_MAP || tasks->n == 0) {
		dsl_error(cx, tasks ? tasks : key, "workflow '%s': tasks must "
		    "be a mapping of at least one task", name);
		return NULL;
	}
	w.tasks = tasks;

	if ((out = json_object()) == NULL || (canon = json_object()) == NULL)
		goto oom;
	dsl_set(cx, out, "type", json_string(w.reverse ? "reverse" : "direct"));
	if ((v = dsl_map_get(wf, "description", NULL)) != NULL) {
		if ((s = dsl_str(v)) == NULL)
			dsl_error(cx, v, "description: expected a string, got "
			    "%s", dsl_what(v));
		else
			dsl_set(cx, out, "description", json_string(s));
	}
	if ((v = dsl_map_get(wf, "tags", NULL)) != NULL &&
	    (j = dsl_tags(cx, v)) != NULL)
		dsl_set(cx, out, "tags", j);
	if ((j = dsl_workflow_inputs(cx, dsl_map_get(wf, "input", NULL)))
	    != NULL) {
		if ((v = dsl_map_get(wf, "secret-inputs", NULL)) != NULL)
			dsl_wf_secret_inputs(cx, v, j);
		dsl_set(cx, out, "input", j);
	}
	if ((v = dsl_map_get(wf, "output", NULL)) != NULL &&
	    (j = dsl_json(cx, v)) != NULL)
		dsl_set(cx, out, "output", j);
	if ((v = dsl_map_get(wf, "output-on-error", NULL)) != NULL &&
	    (j = dsl_json(cx, v)) != NULL)
		dsl_set(cx, out, "output-on-error", j);
	if ((v = dsl_map_get(wf, "vars", NULL)) != NULL && v->kind != DSL_MAP)
		dsl_error(cx, v, "vars: expected a mapping, got %s",
		    dsl_what(v));
	else if (v != NULL && (j = dsl_json(cx, v)) != NULL)
		dsl_set(cx, out, "vars", j);
	else
		dsl_set(cx, out, "vars", json_object());

	if ((v = dsl_map_get(wf, "task-defaults", NULL)) != NULL)
		def = dsl_task_attrs(&w, v, 1);
	for (i = 0; i + 1 < tasks->n; i += 2) {
		tk = tasks->kid[i];
		if (!dsl_name_valid(tk->text) || dsl_in(tk->text,
		    dsl_reserved)) {
			dsl_error(cx, tk, "task name '%s': %s", dsl_show(
			    tk->text, show, sizeof(show)), dsl_in(tk->text,
			    dsl_reserved) ? "fail, succeed and pause are engine "
			    "commands" : "use 1 to 255 of A-Z a-z 0-9 _ . -");
			continue;
		}
		if (json_object_get(canon, tk->text) != NULL)
			continue;  /* duplicate: reported */
		if ((own = dsl_task_attrs(&w, tasks->kid[i + 1], 0)) == NULL)
			continue;
		t = dsl_task_canon(&w, tk, tasks->kid[i + 1], own, def);
		json_decref(own);
		if (t == NULL)
			continue;
		dsl_check_subflow(&w, tk, tasks->kid[i + 1], t);
		dsl_set(cx, canon, tk->text, t);
	}
	if (w.reverse && cx->n_err == errs0)
		dsl_check_cycles(cx, tasks, canon);
	dsl_check_wf_exprs(&w, wf);
	dsl_set(cx, out, "tasks", json_incref(canon));
	(void)k;
	json_decref(def);
	json_decref(canon);
	if (cx->n_err != errs0 || cx->oom) {
		json_decref(out);
		return NULL;
	}
	return out;
oom:
	cx->oom = 1;
	json_decref(out);
	json_decref(canon);
	return NULL;
}
