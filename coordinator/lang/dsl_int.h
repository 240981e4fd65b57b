/*
 * dsl_int.h: what the dsl_*.c files share; not an API outside them.
 *
 *   dsl_errors.c     error list of one parse, sorted and formatted
 *   dsl_yaml.c       libyaml events -> node tree with positions
 *   dsl_value.c      YAML 1.2 core schema scalars, node -> JSON, checks
 *   dsl_params.c     "name k=v k2=v2" inline parameters
 *   dsl_task.c       one task or the task-defaults -> attributes
 *   dsl_transition.c on-success / on-error / on-complete lists
 *   dsl_workflow.c   one workflow: tasks, defaults merged, graph checks
 *   dsl_load.c       the file: version, workbook or workflows; the API
 */
#ifndef BORA_DSL_IMPL_H
#define BORA_DSL_IMPL_H

#include <stddef.h>
#include <jansson.h>

#include "dsl.h"
#include "idmap.h"

enum dsl_kind { DSL_SCALAR, DSL_SEQ, DSL_MAP };

/* One YAML node. Scalars own text (NUL-terminated, no NUL inside); a
 * mapping holds 2n kids, key then value; a sequence n kids. */
struct dsl_node {
	enum dsl_kind kind;
	unsigned line, col;        /* 1-based */
	char *text;                /* scalar */
	size_t len;
	int plain;                 /* scalar: plain style, no tag: typed */
	struct dsl_node **kid;
	size_t n, cap;
	struct idmap *keys;        /* a large mapping: key -> its position + 1
	                              in kid (dsl_map_get without a scan) */
};

/* One parse: the file name and the errors found so far. */
struct dsl_ctx {
	const char *file;
	struct dsl_err {
		unsigned line, col;
		size_t seq;
		char *msg;
	} *err;
	size_t n_err, cap_err;
	int oom;
};

/* ---- dsl_errors.c ---- */
void dsl_error(struct dsl_ctx *cx, const struct dsl_node *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void dsl_error_at(struct dsl_ctx *cx, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Move the errors, sorted, formatted, into *out; cx keeps none. */
void dsl_errors_flush(struct dsl_ctx *cx, struct dsl_errors *out);
void dsl_ctx_clear(struct dsl_ctx *cx);
/* s for an error message: control bytes '?', cut at 60 bytes with "...". */
const char *dsl_show(const char *s, char *buf, size_t n);
#define DSL_SHOW 72

/* ---- dsl_yaml.c ---- */
/* The one document of text, or NULL after reporting why (also for an
 * empty file). Free with dsl_node_free. */
struct dsl_node *dsl_yaml_load(struct dsl_ctx *cx, const char *text,
    size_t len);
void dsl_node_free(struct dsl_node *n);
/* The value of key in mapping m, or NULL; *keyp gets the key node. */
struct dsl_node *dsl_map_get(const struct dsl_node *m, const char *key,
    struct dsl_node **keyp);

/* ---- dsl_value.c ---- */
/* The JSON value of a node (new reference), or NULL after reporting why. */
json_t *dsl_json(struct dsl_ctx *cx, const struct dsl_node *n);
/* The node's text when it is a string scalar, else NULL. */
const char *dsl_str(const struct dsl_node *n);
/* Type of a plain scalar's text by the core schema: a new JSON value;
 * NULL for a text that is not representable (.inf, .nan, int overflow). */
json_t *dsl_scalar_json(const char *text, size_t len, int plain);
/* Describe a node's type for "expected X, got Y". */
const char *dsl_what(const struct dsl_node *n);
/* "got ..." for an error: -1, 'text', a mapping, a list (uses buf). */
const char *dsl_got(const struct dsl_node *n, char *buf, size_t len);
/* Set key to v (stolen) in obj; on failure marks cx out of memory. */
void dsl_set(struct dsl_ctx *cx, json_t *obj, const char *key, json_t *v);
void dsl_push(struct dsl_ctx *cx, json_t *arr, json_t *v);
/* Is the string one expression and nothing else ("<% ... %>")? */
int dsl_is_expr(const char *s);
/* Workflow, task and input names: 1..255 bytes of [A-Za-z0-9_.-]. */
int dsl_name_valid(const char *s);

/* ---- dsl_params.c ---- */
/* Split "word k=v ..." at s: *word_len gets the first word's length;
 * the parameters go into params (a JSON object). 0, or -1 with why. */
int dsl_params_parse(const char *s, size_t *word_len, json_t *params,
    char *why, size_t whylen);

/* ---- dsl_task.c, dsl_transition.c, dsl_workflow.c ---- */
struct dsl_file;               /* dsl_load.c: all workflows of the file */

struct dsl_wf {
	struct dsl_ctx *cx;
	const char *name;
	int reverse;
	const struct dsl_node *tasks;      /* the tasks mapping */
	json_t *workflow_names;            /* object: name -> its input list */
	const char *book;                  /* the workbook's name, or NULL */
};

/* Attribute sets: the task's own, or the task-defaults'. */
json_t *dsl_task_attrs(struct dsl_wf *w, const struct dsl_node *task,
    int defaults);
/* A transition list (canonical array), or NULL after reporting. */
json_t *dsl_transitions(struct dsl_wf *w, const char *attr,
    const struct dsl_node *v);
int dsl_has_task(const struct dsl_wf *w, const char *name);
/* Is v Mistral's mapping form {publish: ..., next: ...}? */
int dsl_is_on_clause(const struct dsl_node *v);
/* The mapping form: the transitions of next (canonical array, empty
 * without next), *branch the publish branch mapping (new reference) or
 * NULL without publish; NULL after reporting. */
json_t *dsl_on_clause(struct dsl_wf *w, const char *attr,
    const struct dsl_node *v, json_t **branch);
/* The canonical workflow, or NULL after reporting. */
json_t *dsl_workflow(struct dsl_ctx *cx, const char *name,
    const struct dsl_node *key, const struct dsl_node *wf,
    json_t *workflow_names, const char *book);
/* tags: a list of strings (JSON, new reference), or NULL after reporting. */
json_t *dsl_tags(struct dsl_ctx *cx, const struct dsl_node *v);
/* The canonical input list of a workflow node, reporting into cx. */
json_t *dsl_workflow_inputs(struct dsl_ctx *cx, const struct dsl_node *wf);

#endif
