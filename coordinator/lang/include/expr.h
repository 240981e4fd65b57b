/*
 * expr.h: expressions in workflow definitions (Mistral v2 style).
 *
 * A string may hold YAQL expressions "<% ... %>" and Jinja expressions
 * "{{ ... }}"; both share one small grammar (docs/expressions.md) and are
 * evaluated over jansson values. A string that is one whole expression
 * (whitespace around it allowed) gives the expression's value with its JSON
 * type; expressions inside other text are stringified into it.
 *
 * Errors are one sentence naming the expression (quoted, cut to about 80
 * bytes) and the byte offset inside it, counted from just after "<%" or
 * "{{", e.g. "expression '<% $.a + %>': unexpected end at offset 7".
 * The caller adds the place (file:line:col or field path).
 *
 * Nothing here keeps state between calls: every function is reentrant.
 */
#ifndef BORA_COORD_EXPR_H
#define BORA_COORD_EXPR_H

#include <stddef.h>
#include <jansson.h>

/* What task(name) and friends see during evaluation. */
struct expr_env {
	const json_t *ctx;         /* $ and _: the data context (an object; NULL = {}) */
	const json_t *env;         /* env(); NULL = {} */
	const json_t *execution;   /* execution(); NULL = {} */
	/* task(name): name NULL means the current task. Returns a borrowed
	 * object {"result": ..., "state": "SUCCESS"...} or NULL when there is
	 * no such task (then task(name).x is an error naming the task). */
	const json_t *(*task)(void *user, const char *name);
	void *user;
	unsigned long budget;      /* evaluation steps; 0 means EXPR_BUDGET_DEFAULT */
};

#define EXPR_BUDGET_DEFAULT 100000UL

/* 1 when s holds "<%" or "{{" (it is, or contains, an expression). */
int expr_has(const char *s);

/* Parse every expression in s (no evaluation). 0, or -1 with one sentence
 * in err. */
int expr_check(const char *s, char *err, size_t errlen);

/*
 * Evaluate the string s (whole expression keeps its type; embedded ones are
 * stringified; no expression: a copy of s). New reference, or NULL with err.
 * env may be NULL (everything empty, default budget). The result shares
 * nothing with env: the caller may change it.
 */
json_t *expr_eval_string(const char *s, const struct expr_env *env,
    char *err, size_t errlen);

/*
 * v with every string in it (recursively through arrays and object values;
 * object keys too if they hold expressions) evaluated. New reference, or
 * NULL with err. A key's value is stringified; when two keys end up equal
 * the later one wins. One budget covers the whole of v.
 */
json_t *expr_eval_json(const json_t *v, const struct expr_env *env,
    char *err, size_t errlen);

/* Mistral truthiness: null, false, 0, 0.0, "", [] and {} are false (and a
 * NULL pointer); everything else is true. */
int expr_truthy(const json_t *v);

/*
 * Task names referenced as task('literal') in s, appended to names (a JSON
 * array of strings; a name already in it is not added twice); 0, or -1 on
 * a parse error. Used by the validator and the engine.
 */
int expr_task_refs(const char *s, json_t *names, char *err, size_t errlen);

#endif
