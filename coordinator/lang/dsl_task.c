/*
 * dsl_task.c: the attributes of one task, or of task-defaults, checked
 * and converted one by one through a const table. The result is an object
 * of canonical attribute values; dsl_workflow.c merges the defaults in,
 * orders the keys and does the checks that need the whole workflow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"
#include "msg.h"
#include "step_kinds.h"

#define A_TASK     0x1u   /* allowed in a task */
#define A_DEFAULTS 0x2u   /* allowed in task-defaults */
#define A_DIRECT   0x4u   /* direct workflows only */
#define A_REVERSE  0x8u   /* reverse workflows only */

struct dsl_task {
	struct dsl_wf *w;
	json_t *attrs;             /* the result */
	json_t *inline_input;      /* from "action: name k=v" */
	const struct dsl_node *runs;  /* the action or workflow key */
	int defaults;              /* these are the task-defaults */
};

struct dsl_attr {
	const char *name;
	unsigned flags;
	/* Convert v; 0, or -1 after reporting. */
	int (*parse)(struct dsl_task *t, const struct dsl_attr *a,
	    const struct dsl_node *k, const struct dsl_node *v);
};

/* Mistral task attributes outside the subset, and why. */
static const char *const dsl_task_unsupported[][2] = {
	{ "policies", "policies (write retry, timeout... on the task)" },
	{ "on-skip", "on-skip (Bora never skips a task: no skip command)" },
	{ "publish-on-skip", "publish-on-skip (Bora never skips a task: no "
	    "skip command)" },
	{ NULL, NULL }
};

/* Mistral's own actions that Bora does not run, and why. */
static const char *const dsl_mistral_actions[][2] = {
	{ "std.async_noop", "an asynchronous action, completed from outside "
	    "through Mistral's API" },
	{ "std.http", "HTTP requests from the coordinator" },
	{ "std.mistral_http", "HTTP requests from the coordinator" },
	{ "std.email", "e-mail from the coordinator" },
	{ "std.ssh", "SSH from the coordinator; run bora.script on the agent" },
	{ "std.ssh_proxied", "SSH from the coordinator; run bora.script on "
	    "the agent" },
	{ "std.wait_ssh", "SSH from the coordinator; use bora.wait_agents" },
	{ "std.javascript", "JavaScript on the coordinator" },
	{ "std.js", "JavaScript on the coordinator" },
	{ NULL, NULL }
};

/* Inputs of Mistral's actions that Bora's same-named actions do not take,
 * and what they do there. */
static const char *const dsl_mistral_inputs[][3] = {
	{ "std.echo", "delay", "Mistral's echo after a delay" },
	{ NULL, NULL, NULL }
};

static void
dsl_put(struct dsl_task *t, const char *key, json_t *v)
{
	dsl_set(t->w->cx, t->attrs, key, v);
}

/* ---- value kinds -------------------------------------------------------- */

static int
dsl_expect(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *v, const char *what)
{
	char got[DSL_SHOW + 2];

	dsl_error(t->w->cx, v, "%s: expected %s, got %s", a->name, what,
	    dsl_got(v, got, sizeof(got)));
	return -1;
}

/* An integer >= min, or a string holding one expression. */
static json_t *
dsl_int_or_expr(struct dsl_task *t, const char *name,
    const struct dsl_node *v, long long min)
{
	const char *s = dsl_str(v);
	char got[DSL_SHOW + 2];
	json_t *j;

	if (s != NULL && dsl_is_expr(s))
		return json_string(s);
	if (v->kind == DSL_SCALAR && v->plain) {
		j = dsl_scalar_json(v->text, v->len, 1);
		if (json_is_integer(j) && json_integer_value(j) >= min)
			return j;
		json_decref(j);
	}
	dsl_error(t->w->cx, v, "%s: expected an integer of at least %lld or "
	    "an expression, got %s", name, min, dsl_got(v, got, sizeof(got)));
	return NULL;
}

static int
dsl_bool(const struct dsl_node *v, int *out)
{
	json_t *j;

	if (v->kind != DSL_SCALAR || !v->plain)
		return -1;
	j = dsl_scalar_json(v->text, v->len, 1);
	if (!json_is_boolean(j)) {
		json_decref(j);
		return -1;
	}
	*out = json_is_true(j);
	json_decref(j);
	return 0;
}

/* ---- attribute parsers -------------------------------------------------- */

static int
dsl_a_runs(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	const char *s = dsl_str(v);
	char why[256], show[DSL_SHOW], *name;
	size_t wl, i = 0;
	int known = 0;

	if (t->runs != NULL) {
		dsl_error(t->w->cx, k, "a task has one of action or workflow, "
		    "not both ('%s' at line %u)", t->runs->text, t->runs->line);
		return -1;
	}
	t->runs = k;
	if (s == NULL || s[0] == '\0')
		return dsl_expect(t, a, v, a->name[0] == 'a' ?
		    "an action name" : "a workflow name");
	if (strncmp(s, "<%", 2) == 0 || strncmp(s, "{{", 2) == 0) {
		dsl_error(t->w->cx, v, "unsupported: %s name from an "
		    "expression (the name is checked before the run)",
		    a->name);
		return -1;
	}
	if ((t->inline_input = json_object()) == NULL) {
		t->w->cx->oom = 1;
		return -1;
	}
	if (dsl_params_parse(s, &wl, t->inline_input, why, sizeof(why)) != 0) {
		dsl_error(t->w->cx, v, "%s: %s", a->name, why);
		return -1;
	}
	if ((name = strndup(s, wl)) == NULL) {
		t->w->cx->oom = 1;
		return -1;
	}
	if (strcmp(a->name, "action") == 0) {
		known = bora_action_find(name) != NULL;
		for (i = 0; dsl_mistral_actions[i][0] != NULL; i++)
			if (strcmp(name, dsl_mistral_actions[i][0]) == 0)
				break;
		if (!known && dsl_mistral_actions[i][0] != NULL)
			dsl_error(t->w->cx, v, "unsupported: action %s (%s)",
			    name, dsl_mistral_actions[i][1]);
		else if (!known)
			dsl_error(t->w->cx, v, "unknown action '%s'; Bora runs "
			    "%s", dsl_show(name, show, sizeof(show)),
			    bora_actions_list(0));
	} else {
		/* wb.child in workbook wb is its workflow child (Mistral) */
		wl = t->w->book != NULL ? strlen(t->w->book) : 0;
		if (wl > 0 && strncmp(name, t->w->book, wl) == 0 &&
		    name[wl] == '.' && json_object_get(t->w->workflow_names,
		    name) == NULL && json_object_get(t->w->workflow_names,
		    name + wl + 1) != NULL)
			memmove(name, name + wl + 1, strlen(name + wl + 1) + 1);
		known = json_object_get(t->w->workflow_names, name) != NULL;
		if (!known)
			dsl_error(t->w->cx, v, "workflow: no workflow '%s' in "
			    "this file", dsl_show(name, show, sizeof(show)));
	}
	if (known)
		dsl_put(t, a->name, json_string(name));
	free(name);
	return known ? 0 : -1;
}

static int
dsl_a_map(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	json_t *j;

	(void)k;
	if (v->kind == DSL_SCALAR && v->plain && strcmp(dsl_what(v), "null")
	    == 0)
		j = json_object();   /* "publish:" with nothing: empty */
	else if (v->kind != DSL_MAP)
		return dsl_expect(t, a, v, "a mapping");
	else if ((j = dsl_json(t->w->cx, v)) == NULL)
		return -1;
	dsl_put(t, a->name, j);
	return 0;
}

static int
dsl_a_string(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	const char *s = dsl_str(v);

	(void)k;
	if (s == NULL)
		return dsl_expect(t, a, v, "a string");
	dsl_put(t, a->name, json_string(s));
	return 0;
}

static int
dsl_a_transitions(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	char key[32];
	json_t *j, *branch;

	(void)k;
	if (!dsl_is_on_clause(v)) {
		if ((j = dsl_transitions(t->w, a->name, v)) == NULL)
			return -1;
		dsl_put(t, a->name, j);
		return 0;
	}
	if (t->defaults) {
		dsl_error(t->w->cx, v, "unsupported: %s with publish/next (the "
		    "mapping form) in task-defaults", a->name);
		return -1;
	}
	if ((j = dsl_on_clause(t->w, a->name, v, &branch)) == NULL)
		return -1;
	dsl_put(t, a->name, j);
	if (branch != NULL) {
		snprintf(key, sizeof(key), "publish %s", a->name);
		dsl_put(t, key, branch);
	}
	return 0;
}

/* A copy of a the object at key of attrs updated with b's keys (b wins);
 * a or b may be NULL. NULL when out of memory. */
static json_t *
dsl_publish_over(json_t *attrs, const char *a, const json_t *b)
{
	json_t *out = json_object_get(attrs, a);

	out = out != NULL ? json_copy(out) : json_object();
	if (out != NULL && b != NULL && json_object_update(out,
	    (json_t *)(uintptr_t)b) != 0) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

/* The publish of the mapping form, merged as Mistral's task spec does
 * (get_publish): on success, on-success's branch updated with the task's
 * publish updated with on-complete's; on error the same with on-error
 * and publish-on-error. */
static void
dsl_task_merge_publish(struct dsl_task *t)
{
	static const char *const states[][2] = {
		{ "publish", "publish on-success" },
		{ "publish-on-error", "publish on-error" },
	};
	json_t *done = json_object_get(t->attrs, "publish on-complete");
	json_t *own, *out;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (done == NULL && json_object_get(t->attrs,
		    states[i][1]) == NULL)
			continue;
		own = dsl_publish_over(t->attrs, states[i][0], done);
		out = own != NULL ? dsl_publish_over(t->attrs, states[i][1],
		    own) : NULL;
		json_decref(own);
		if (out == NULL)
			t->w->cx->oom = 1;
		else
			dsl_put(t, states[i][0], out);
		json_object_del(t->attrs, states[i][1]);
	}
	json_object_del(t->attrs, "publish on-complete");
}

static int
dsl_a_tags(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	json_t *j;

	(void)k;
	if ((j = dsl_tags(t->w->cx, v)) == NULL)
		return -1;
	dsl_put(t, a->name, j);
	return 0;
}

static int
dsl_a_join(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	const char *s = dsl_str(v);
	json_t *j;

	(void)k;
	if (s != NULL && (strcmp(s, "all") == 0 || strcmp(s, "one") == 0)) {
		dsl_put(t, a->name, json_string(s));
		return 0;
	}
	if (v->kind == DSL_SCALAR && v->plain) {
		j = dsl_scalar_json(v->text, v->len, 1);
		if (json_is_integer(j) && json_integer_value(j) >= 1) {
			dsl_put(t, a->name, j);
			return 0;
		}
		json_decref(j);
	}
	return dsl_expect(t, a, v, "all, one or a positive integer");
}

static int
dsl_a_requires(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	char show[DSL_SHOW];
	const struct dsl_node *it;
	const char *s;
	json_t *out;
	size_t i, n = v->kind == DSL_SEQ ? v->n : 1;
	int bad = 0;

	(void)k;
	if (v->kind == DSL_MAP)
		return dsl_expect(t, a, v, "a task name or a list of them");
	if ((out = json_array()) == NULL) {
		t->w->cx->oom = 1;
		return -1;
	}
	for (i = 0; i < n; i++) {
		it = v->kind == DSL_SEQ ? v->kid[i] : v;
		if ((s = dsl_str(it)) == NULL) {
			dsl_error(t->w->cx, it, "requires: expected a task "
			    "name, got %s", dsl_what(it));
			bad = 1;
		} else if (!dsl_has_task(t->w, s)) {
			dsl_error(t->w->cx, it, "requires: no task '%s' in "
			    "workflow '%s'", dsl_show(s, show, sizeof(show)),
			    t->w->name);
			bad = 1;
		} else
			dsl_push(t->w->cx, out, json_string(s));
	}
	if (bad) {
		json_decref(out);
		return -1;
	}
	dsl_put(t, a->name, out);
	return 0;
}

/* "x in <% expr %>" or "x in [1, 2]" -> {"var", "source"}. */
static json_t *
dsl_with_item(struct dsl_task *t, const struct dsl_node *v)
{
	struct dsl_ctx sub;
	struct dsl_node *root;
	const char *s = dsl_str(v), *in, *src;
	char var[256];
	json_t *source = NULL, *out;
	size_t vl;

	if (s == NULL)
		goto bad;
	while (*s == ' ')
		s++;
	if ((in = strstr(s, " in ")) == NULL)
		goto bad;
	vl = (size_t)(in - s);
	if (vl == 0 || vl >= sizeof(var))
		goto bad;
	memcpy(var, s, vl);
	var[vl] = '\0';
	if (!dsl_name_valid(var) || strchr(var, '.') != NULL ||
	    strchr(var, '-') != NULL)
		goto bad;
	src = in + 4;
	while (*src == ' ')
		src++;
	if (dsl_is_expr(src)) {
		source = json_string(src);
	} else if (*src == '[') {
		memset(&sub, 0, sizeof(sub));
		sub.file = "";
		root = dsl_yaml_load(&sub, src, strlen(src));
		if (root != NULL && root->kind == DSL_SEQ && sub.n_err == 0)
			source = dsl_json(&sub, root);
		if (sub.n_err != 0) {
			json_decref(source);
			source = NULL;
		}
		dsl_node_free(root);
		dsl_ctx_clear(&sub);
	}
	if (source == NULL)
		goto bad;
	out = json_object();
	if (out == NULL) {
		json_decref(source);
		t->w->cx->oom = 1;
		return NULL;
	}
	dsl_set(t->w->cx, out, "var", json_string(var));
	dsl_set(t->w->cx, out, "source", source);
	return out;
bad:
	dsl_error(t->w->cx, v, "with-items: expected 'NAME in <%% expression "
	    "%%>' or 'NAME in [a list]', got %s", s ? "other text" :
	    dsl_what(v));
	return NULL;
}

static int
dsl_a_with_items(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	json_t *out, *one, *prev;
	size_t i, j, n = v->kind == DSL_SEQ ? v->n : 1;
	int bad = 0;

	(void)k;
	if (v->kind == DSL_MAP || n == 0)
		return dsl_expect(t, a, v, "'NAME in SOURCE' or a list of them");
	if ((out = json_array()) == NULL) {
		t->w->cx->oom = 1;
		return -1;
	}
	for (i = 0; i < n; i++) {
		one = dsl_with_item(t, v->kind == DSL_SEQ ? v->kid[i] : v);
		if (one == NULL) {
			bad = 1;
			continue;
		}
		json_array_foreach(out, j, prev)
			if (json_equal(json_object_get(prev, "var"),
			    json_object_get(one, "var"))) {
				dsl_error(t->w->cx, v->kind == DSL_SEQ ?
				    v->kid[i] : v, "with-items: %s is used "
				    "twice", json_string_value(json_object_get(
				    one, "var")));
				bad = 1;
			}
		dsl_push(t->w->cx, out, one);
	}
	if (bad) {
		json_decref(out);
		return -1;
	}
	dsl_put(t, a->name, out);
	return 0;
}

static int
dsl_a_count(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	json_t *j;

	(void)k;
	/* concurrency: at least 1; timeout and waits: at least 0. */
	j = dsl_int_or_expr(t, a->name, v,
	    strcmp(a->name, "concurrency") == 0 ? 1 : 0);
	if (j == NULL)
		return -1;
	dsl_put(t, a->name, j);
	return 0;
}

static int
dsl_a_bool(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	int b;

	(void)k;
	if (dsl_bool(v, &b) != 0)
		return dsl_expect(t, a, v, "true or false");
	dsl_put(t, a->name, json_boolean(b));
	return 0;
}

/* true/false, or an expression judged at run time (pause-before,
 * fail-on). */
static int
dsl_a_bool_or_expr(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	const char *s = dsl_str(v);

	if (s != NULL && dsl_is_expr(s)) {
		dsl_put(t, a->name, json_string(s));
		return 0;
	}
	return dsl_a_bool(t, a, k, v);
}

/* One retry value of the one-line form: an integer >= min, or an
 * expression (break-on and continue-on: an expression only). */
static json_t *
dsl_retry_value(struct dsl_task *t, const struct dsl_node *v,
    const char *key, json_t *j)
{
	const char *s = json_string_value(j);
	long long min = strcmp(key, "count") == 0;

	if (s != NULL && dsl_is_expr(s))
		return json_incref(j);
	if ((strcmp(key, "count") == 0 || strcmp(key, "delay") == 0) &&
	    json_is_integer(j) && json_integer_value(j) >= min)
		return json_incref(j);
	if (strcmp(key, "count") == 0 || strcmp(key, "delay") == 0)
		dsl_error(t->w->cx, v, "retry: %s: expected an integer of at "
		    "least %lld or an expression", key, min);
	else
		dsl_error(t->w->cx, v, "retry: %s: expected an expression",
		    key);
	return NULL;
}

/* retry: count=3 delay=1 (Mistral's one-line form). */
static int
dsl_retry_line(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *v)
{
	static const char *const keys[] = { "count", "delay", "break-on",
	    "continue-on", NULL };
	char why[256], show[DSL_SHOW], *line;
	json_t *params, *out, *j;
	const char *key;
	size_t wl, i;
	int bad = 0;

	params = json_object();
	out = json_pack("{s:i, s:i}", "count", 0, "delay", 0);
	if (params == NULL || out == NULL || asprintf(&line, "retry %s",
	    dsl_str(v)) == -1) {
		t->w->cx->oom = 1;
		json_decref(params);
		json_decref(out);
		return -1;
	}
	if (dsl_params_parse(line, &wl, params, why, sizeof(why)) != 0) {
		dsl_error(t->w->cx, v, "retry: %s", why);
		bad = 1;
	} else if (json_object_get(params, "count") == NULL) {
		dsl_error(t->w->cx, v, "retry: count is required");
		bad = 1;
	}
	for (i = 0; !bad && keys[i] != NULL; i++)
		if ((j = json_object_get(params, keys[i])) != NULL) {
			if ((j = dsl_retry_value(t, v, keys[i], j)) == NULL)
				bad = 1;
			else
				dsl_set(t->w->cx, out, keys[i], j);
		}
	json_object_foreach(params, key, j)
		if (!bad && json_object_get(out, key) == NULL) {
			dsl_error(t->w->cx, v, "retry: unknown attribute "
			    "'%s' (count, delay, break-on, continue-on)",
			    dsl_show(key, show, sizeof(show)));
			bad = 1;
		}
	free(line);
	json_decref(params);
	if (bad) {
		json_decref(out);
		return -1;
	}
	dsl_put(t, a->name, out);
	return 0;
}

static int
dsl_a_retry(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	char show[DSL_SHOW];
	const struct dsl_node *rk, *rv;
	const char *s;
	json_t *out, *j;
	size_t i;
	int bad = 0;

	(void)k;
	if (v->kind == DSL_SCALAR && dsl_str(v) != NULL)
		return dsl_retry_line(t, a, v);
	if (v->kind != DSL_MAP)
		return dsl_expect(t, a, v, "a mapping of count, delay, "
		    "break-on, continue-on");
	if (dsl_map_get(v, "count", NULL) == NULL) {
		dsl_error(t->w->cx, v, "retry: count is required");
		return -1;
	}
	if ((out = json_object()) == NULL) {
		t->w->cx->oom = 1;
		return -1;
	}
	/* Canonical order: count, delay, break-on, continue-on. */
	dsl_set(t->w->cx, out, "count", json_integer(0));
	dsl_set(t->w->cx, out, "delay", json_integer(0));
	for (i = 0; i + 1 < v->n; i += 2) {
		rk = v->kid[i];
		rv = v->kid[i + 1];
		j = NULL;
		if (strcmp(rk->text, "count") == 0)
			j = dsl_int_or_expr(t, "retry: count", rv, 1);
		else if (strcmp(rk->text, "delay") == 0)
			j = dsl_int_or_expr(t, "retry: delay", rv, 0);
		else if (strcmp(rk->text, "break-on") == 0 ||
		    strcmp(rk->text, "continue-on") == 0) {
			if ((s = dsl_str(rv)) != NULL && dsl_is_expr(s))
				j = json_string(s);
			else
				dsl_error(t->w->cx, rv, "retry: %s: expected "
				    "an expression, got %s", rk->text,
				    s ? "text" : dsl_what(rv));
		} else
			dsl_error(t->w->cx, rk, "retry: unknown attribute "
			    "'%s' (count, delay, break-on, continue-on)",
			    dsl_show(rk->text, show, sizeof(show)));
		if (j == NULL)
			bad = 1;
		else
			dsl_set(t->w->cx, out, rk->text, j);
	}
	if (bad) {
		json_decref(out);
		return -1;
	}
	dsl_put(t, a->name, out);
	return 0;
}

/* An agent name or an expression. */
static int
dsl_target_one(struct dsl_task *t, const struct dsl_node *v, json_t *arr)
{
	char show[DSL_SHOW];
	const char *s = dsl_str(v);

	if (s != NULL && (dsl_is_expr(s) || bora_name_valid(s))) {
		dsl_push(t->w->cx, arr, json_string(s));
		return 0;
	}
	if (s != NULL)
		dsl_error(t->w->cx, v, "target: '%s' is neither an agent name "
		    "(up to %d of A-Z a-z 0-9 . _ -, first a letter or digit) "
		    "nor an expression", dsl_show(s, show, sizeof(show)),
		    BORA_MAX_NAME);
	else
		dsl_error(t->w->cx, v, "target: expected an agent name, a "
		    "list, an expression or {labels: {...}}, got %s",
		    dsl_what(v));
	return -1;
}

static int
dsl_a_target(struct dsl_task *t, const struct dsl_attr *a,
    const struct dsl_node *k, const struct dsl_node *v)
{
	const struct dsl_node *labels;
	json_t *arr, *out;
	const char *s;
	size_t i;
	int bad = 0;

	(void)k;
	if (v->kind == DSL_MAP) {
		labels = dsl_map_get(v, "labels", NULL);
		if (labels == NULL || v->n != 2 || labels->kind != DSL_MAP ||
		    labels->n == 0) {
			dsl_error(t->w->cx, v, "target: a mapping must be "
			    "{labels: {name: value, ...}} and nothing else");
			return -1;
		}
		for (i = 0; i + 1 < labels->n; i += 2)
			if (labels->kid[i + 1]->kind != DSL_SCALAR ||
			    (s = dsl_str(labels->kid[i + 1])) == NULL) {
				dsl_error(t->w->cx, labels->kid[i + 1],
				    "target: label values are strings (quote "
				    "them), got %s",
				    dsl_what(labels->kid[i + 1]));
				bad = 1;
			}
		if (bad || (out = dsl_json(t->w->cx, v)) == NULL)
			return -1;
		dsl_put(t, a->name, out);
		return 0;
	}
	if ((arr = json_array()) == NULL) {
		t->w->cx->oom = 1;
		return -1;
	}
	if (v->kind == DSL_SEQ) {
		if (v->n == 0)
			bad = dsl_expect(t, a, v, "a non-empty list");
		for (i = 0; i < v->n; i++)
			if (dsl_target_one(t, v->kid[i], arr) != 0)
				bad = 1;
		if (!bad) {
			dsl_put(t, a->name, arr);
			return 0;
		}
	} else if (dsl_target_one(t, v, arr) == 0) {
		dsl_put(t, a->name, json_incref(json_array_get(arr, 0)));
		json_decref(arr);
		return 0;
	}
	json_decref(arr);
	return -1;
}

static const struct dsl_attr dsl_attrs[] = {
	{ "description", A_TASK, dsl_a_string },
	{ "tags", A_TASK, dsl_a_tags },
	{ "action", A_TASK, dsl_a_runs },
	{ "workflow", A_TASK, dsl_a_runs },
	{ "input", A_TASK, dsl_a_map },
	{ "publish", A_TASK, dsl_a_map },
	{ "publish-on-error", A_TASK, dsl_a_map },
	{ "on-success", A_TASK | A_DEFAULTS | A_DIRECT, dsl_a_transitions },
	{ "on-error", A_TASK | A_DEFAULTS | A_DIRECT, dsl_a_transitions },
	{ "on-complete", A_TASK | A_DEFAULTS | A_DIRECT, dsl_a_transitions },
	{ "join", A_TASK | A_DIRECT, dsl_a_join },
	{ "requires", A_TASK | A_DEFAULTS | A_REVERSE, dsl_a_requires },
	{ "with-items", A_TASK, dsl_a_with_items },
	{ "concurrency", A_TASK | A_DEFAULTS, dsl_a_count },
	{ "retry", A_TASK | A_DEFAULTS, dsl_a_retry },
	{ "timeout", A_TASK | A_DEFAULTS, dsl_a_count },
	{ "wait-before", A_TASK | A_DEFAULTS, dsl_a_count },
	{ "wait-after", A_TASK | A_DEFAULTS, dsl_a_count },
	{ "pause-before", A_TASK | A_DEFAULTS, dsl_a_bool_or_expr },
	{ "fail-on", A_TASK | A_DEFAULTS, dsl_a_bool_or_expr },
	{ "safe-rerun", A_TASK | A_DEFAULTS, dsl_a_bool },
	{ "agent-timeout", A_TASK | A_DEFAULTS, dsl_a_count },
	{ "target", A_TASK | A_DEFAULTS, dsl_a_target },
	{ "keep-result", A_TASK | A_DEFAULTS, dsl_a_bool },
};
#define DSL_N_ATTRS (sizeof(dsl_attrs) / sizeof(dsl_attrs[0]))

static const struct dsl_attr *
dsl_attr_find(const char *name)
{
	size_t i;

	for (i = 0; i < DSL_N_ATTRS; i++)
		if (strcmp(dsl_attrs[i].name, name) == 0)
			return &dsl_attrs[i];
	return NULL;
}

/* May attribute a stand here? Reports why not. */
static int
dsl_attr_allowed(struct dsl_wf *w, const struct dsl_attr *a,
    const struct dsl_node *k, int defaults)
{
	if (defaults && !(a->flags & A_DEFAULTS)) {
		dsl_error(w->cx, k, "task-defaults cannot hold %s", a->name);
		return 0;
	}
	if ((a->flags & A_DIRECT) && w->reverse) {
		dsl_error(w->cx, k, "%s is for direct workflows; '%s' is "
		    "reverse", a->name, w->name);
		return 0;
	}
	if ((a->flags & A_REVERSE) && !w->reverse) {
		dsl_error(w->cx, k, "%s is for reverse workflows; '%s' is "
		    "direct", a->name, w->name);
		return 0;
	}
	return 1;
}

/* input: + the inline parameters; a name in both is an error. */
static int
dsl_task_merge_input(struct dsl_task *t, const struct dsl_node *node)
{
	const struct dsl_node *in;
	struct dsl_node *ik;
	json_t *input = json_object_get(t->attrs, "input");
	const char *key;
	json_t *v;
	char show[DSL_SHOW];
	int bad = 0;

	if (t->inline_input == NULL || json_object_size(t->inline_input) == 0)
		return 0;
	if (input == NULL) {
		dsl_put(t, "input", json_incref(t->inline_input));
		return 0;
	}
	in = dsl_map_get(node, "input", NULL);
	json_object_foreach(t->inline_input, key, v) {
		if (json_object_get(input, key) == NULL)
			continue;
		ik = NULL;
		dsl_map_get(in, key, &ik);
		dsl_error(t->w->cx, ik ? ik : in, "input: '%s' is also given inline in "
		    "%s", dsl_show(key, show, sizeof(show)), t->runs->text);
		bad = 1;
	}
	if (bad)
		return -1;
	/* Inline first, in its order, then input:. */
	if (json_object_update_missing(t->inline_input, input) != 0)
		t->w->cx->oom = 1;
	dsl_put(t, "input", json_incref(t->inline_input));
	return 0;
}

/* The input of an action the coordinator runs names only what it takes
 * (Mistral refuses an unexpected parameter too). Errors at the key in
 * input:, else at the action. */
static int
dsl_task_check_input(struct dsl_task *t, const struct dsl_node *node)
{
	const struct bora_action *act = bora_action_find(json_string_value(
	    json_object_get(t->attrs, "action")));
	const struct dsl_node *in = dsl_map_get(node, "input", NULL), *at;
	struct dsl_node *ik;
	char show[DSL_SHOW], takes[128];
	const char *key;
	json_t *v;
	size_t i, u, o = 0;
	int bad = 0;

	if (act == NULL || act->inputs == NULL)
		return 0;
	takes[0] = '\0';
	for (i = 0; act->inputs[i] != NULL && o < sizeof(takes); i++)
		o += (size_t)snprintf(takes + o, sizeof(takes) - o, "%s%s",
		    i ? ", " : "", act->inputs[i]);
	json_object_foreach(json_object_get(t->attrs, "input"), key, v) {
		for (i = 0; act->inputs[i] != NULL; i++)
			if (strcmp(act->inputs[i], key) == 0)
				break;
		if (act->inputs[i] != NULL)
			continue;
		ik = NULL;
		if (in != NULL)
			dsl_map_get(in, key, &ik);
		at = ik != NULL ? ik : dsl_map_get(node, "action", NULL);
		for (u = 0; dsl_mistral_inputs[u][0] != NULL; u++)
			if (strcmp(act->action, dsl_mistral_inputs[u][0]) ==
			    0 && strcmp(key, dsl_mistral_inputs[u][1]) == 0)
				break;
		if (dsl_mistral_inputs[u][0] != NULL)
			dsl_error(t->w->cx, at, "unsupported: %s input %s (%s)",
			    act->action, key, dsl_mistral_inputs[u][2]);
		else
			dsl_error(t->w->cx, at, "input: %s takes no input '%s' "
			    "(%s%s)", act->action, dsl_show(key, show,
			    sizeof(show)), takes[0] ? "it takes " :
			    "it takes none", takes);
		bad = 1;
	}
	return bad ? -1 : 0;
}

json_t *
dsl_task_attrs(struct dsl_wf *w, const struct dsl_node *node, int defaults)
{
	struct dsl_task t;
	const struct dsl_attr *a;
	const struct dsl_node *k;
	char show[DSL_SHOW];
	size_t i;
	int bad = 0;

	memset(&t, 0, sizeof(t));
	t.w = w;
	t.defaults = defaults;
	if (node->kind != DSL_MAP) {
		dsl_error(w->cx, node, "%s: expected a mapping of attributes, "
		    "got %s", defaults ? "task-defaults" : "a task",
		    dsl_what(node));
		return NULL;
	}
	if ((t.attrs = json_object()) == NULL) {
		w->cx->oom = 1;
		return NULL;
	}
	for (i = 0; i + 1 < node->n; i += 2) {
		k = node->kid[i];
		if ((a = dsl_attr_find(k->text)) == NULL) {
			size_t u;
			const char *unsup = NULL;

			for (u = 0; dsl_task_unsupported[u][0] != NULL; u++)
				if (strcmp(k->text, dsl_task_unsupported[u][0])
				    == 0)
					unsup = dsl_task_unsupported[u][1];
			if (unsup != NULL)
				dsl_error(w->cx, k, "unsupported: %s", unsup);
			else
				dsl_error(w->cx, k, "unknown %s attribute '%s'",
				    defaults ? "task-defaults" : "task",
				    dsl_show(k->text, show, sizeof(show)));
			bad = 1;
			continue;
		}
		if (json_object_get(t.attrs, a->name) != NULL)
			continue;          /* duplicate key: reported */
		if (!dsl_attr_allowed(w, a, k, defaults) ||
		    a->parse(&t, a, k, node->kid[i + 1]) != 0)
			bad = 1;
	}
	if (!bad && !defaults && dsl_task_merge_input(&t, node) != 0)
		bad = 1;
	if (!bad && !defaults)
		dsl_task_merge_publish(&t);
	if (!bad && !defaults && dsl_task_check_input(&t, node) != 0)
		bad = 1;
	json_decref(t.inline_input);
	if (bad) {
		json_decref(t.attrs);
		return NULL;
	}
	return t.attrs;
}
