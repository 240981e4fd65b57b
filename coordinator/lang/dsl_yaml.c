/*
 * dsl_yaml.c: one YAML document -> a tree of dsl_node, each with its
 * line and column, from libyaml's events (not its document loader, which
 * has no limits).
 *
 * Refused: more than one document, nesting past DSL_DEPTH_MAX, more than
 * DSL_NODES_MAX nodes, anchors and aliases (no alias bombs, and no YAML
 * 1.1 merge keys that Mistral's loader would read differently), tags
 * other than the standard str/seq/map ones, non-scalar keys, duplicate
 * keys (at the second), and NUL characters in scalars.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <yaml.h>

#include "dsl_int.h"

#define DSL_TAG_STR "tag:yaml.org,2002:str"
#define DSL_TAG_SEQ "tag:yaml.org,2002:seq"
#define DSL_TAG_MAP "tag:yaml.org,2002:map"

struct dsl_yaml {
	struct dsl_ctx *cx;
	yaml_parser_t parser;
	const char *text;
	size_t len;
	size_t nodes;
	int fatal;
};

void
dsl_node_free(struct dsl_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		dsl_node_free(n->kid[i]);
	if (n->keys != NULL) {
		idmap_free(n->keys);
		free(n->keys);
	}
	free(n->kid);
	free(n->text);
	free(n);
}

/* Mappings with more keys than this get an index: a workflow's tasks are
 * looked up by name for every transition, so a scan would make loading
 * quadratic in the number of tasks. */
#define DSL_MAP_INDEX_MIN 16

/* The position in m->kid of key (the first one, as YAML's duplicates are
 * refused), or -1. */
static ssize_t
dsl_map_find(const struct dsl_node *m, const char *key)
{
	size_t i;

	if (m->keys != NULL) {
		void *v = idmap_get(m->keys, key);

		return v != NULL ? (ssize_t)((uintptr_t)v - 1) : -1;
	}
	for (i = 0; i + 1 < m->n; i += 2)
		if (strcmp(m->kid[i]->text, key) == 0)
			return (ssize_t)i;
	return -1;
}

/* Key k was just added to mapping m at position m->n - 1: index it (and
 * the keys before it, once the mapping is large). 0, or -1 when out of
 * memory. */
static int
dsl_map_index(struct dsl_node *m)
{
	size_t i, at = m->n - 1;

	if (m->keys == NULL) {
		if (m->n / 2 + 1 < DSL_MAP_INDEX_MIN)
			return 0;
		if ((m->keys = calloc(1, sizeof(*m->keys))) == NULL)
			return -1;
		for (i = 0; i + 1 < at; i += 2)
			if (idmap_get(m->keys, m->kid[i]->text) == NULL &&
			    idmap_put(m->keys, m->kid[i]->text,
			    (void *)(uintptr_t)(i + 1)) != 0)
				return -1;
	}
	if (idmap_get(m->keys, m->kid[at]->text) != NULL)
		return 0;               /* a duplicate: the first one stays */
	return idmap_put(m->keys, m->kid[at]->text,
	    (void *)(uintptr_t)(at + 1));
}

struct dsl_node *
dsl_map_get(const struct dsl_node *m, const char *key, struct dsl_node **keyp)
{
	ssize_t i;

	if (m == NULL || m->kind != DSL_MAP || (i = dsl_map_find(m, key)) < 0 ||
	    (size_t)i + 1 >= m->n)
		return NULL;
	if (keyp != NULL)
		*keyp = m->kid[i];
	return m->kid[i + 1];
}

static void
dsl_yaml_syntax(struct dsl_yaml *y)
{
	const yaml_parser_t *p = &y->parser;
	yaml_mark_t m = p->problem_mark;
	size_t i;

	y->fatal = 1;
	if (p->error == YAML_MEMORY_ERROR) {
		y->cx->oom = 1;
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors only give a byte offset. */
		memset(&m, 0, sizeof(m));
		for (i = 0; i < p->problem_offset && i < y->len; i++) {
			if (y->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else if (((unsigned char)y->text[i] & 0xc0) != 0x80)
				m.column++;
		}
	}
	if (p->context != NULL)
		dsl_error_at(y->cx, (unsigned)m.line + 1, (unsigned)m.column + 1,
		    "YAML syntax: %s (%s at line %zu, column %zu)",
		    p->problem ? p->problem : "error", p->context,
		    p->context_mark.line + 1, p->context_mark.column + 1);
	else
		dsl_error_at(y->cx, (unsigned)m.line + 1, (unsigned)m.column + 1,
		    "YAML syntax: %s", p->problem ? p->problem : "error");
}

static int
dsl_yaml_next(struct dsl_yaml *y, yaml_event_t *ev)
{
	if (y->fatal)
		return -1;
	if (!yaml_parser_parse(&y->parser, ev)) {
		dsl_yaml_syntax(y);
		return -1;
	}
	return 0;
}

static struct dsl_node *
dsl_node_new(struct dsl_yaml *y, enum dsl_kind kind, const yaml_mark_t *m)
{
	struct dsl_node *n;

	if (++y->nodes > DSL_NODES_MAX) {
		dsl_error_at(y->cx, (unsigned)m->line + 1, (unsigned)m->column + 1,
		    "the file has more than %d YAML nodes", DSL_NODES_MAX);
		y->fatal = 1;
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		y->cx->oom = 1;
		y->fatal = 1;
		return NULL;
	}
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static int
dsl_node_add(struct dsl_yaml *y, struct dsl_node *parent, struct dsl_node *k)
{
	struct dsl_node **nv;
	size_t cap;

	if (parent->n == parent->cap) {
		cap = parent->cap ? parent->cap * 2 : 4;
		nv = realloc(parent->kid, cap * sizeof(*nv));
		if (nv == NULL) {
			y->cx->oom = 1;
			y->fatal = 1;
			return -1;
		}
		parent->kid = nv;
		parent->cap = cap;
	}
	parent->kid[parent->n++] = k;
	return 0;
}

/* Anchors and unknown tags, common to every node event. */
static int
dsl_yaml_props(struct dsl_yaml *y, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag, const char *std)
{
	char show[DSL_SHOW];

	if (anchor != NULL) {
		dsl_error_at(y->cx, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1,
		    "unsupported: YAML anchors and aliases (&%s)",
		    dsl_show((const char *)anchor, show, sizeof(show)));
		return -1;
	}
	if (tag != NULL && strcmp((const char *)tag, std) != 0 &&
	    strcmp((const char *)tag, "!") != 0) {
		dsl_error_at(y->cx, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1,
		    "unsupported: YAML tag %s",
		    dsl_show((const char *)tag, show, sizeof(show)));
		return -1;
	}
	return 0;
}

static struct dsl_node *dsl_yaml_node(struct dsl_yaml *, yaml_event_t *,
    int);

static struct dsl_node *
dsl_yaml_scalar(struct dsl_yaml *y, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct dsl_node *n;
	int bad;

	bad = dsl_yaml_props(y, ev, ev->data.scalar.anchor,
	    ev->data.scalar.tag, DSL_TAG_STR);
	if (memchr(v, '\0', len) != NULL) {
		dsl_error_at(y->cx, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1,
		    "a string holds a NUL character");
		bad = -1;
	}
	if ((n = dsl_node_new(y, DSL_SCALAR, &ev->start_mark)) == NULL)
		return NULL;
	if ((n->text = malloc(len + 1)) == NULL) {
		y->cx->oom = 1;
		y->fatal = 1;
		free(n);
		return NULL;
	}
	memcpy(n->text, v, len);
	n->text[len] = '\0';
	n->len = bad ? strlen(n->text) : len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    ev->data.scalar.tag == NULL;
	return n;
}

/* Children of a collection, until its end event. */
static int
dsl_yaml_kids(struct dsl_yaml *y, struct dsl_node *n, int depth)
{
	struct dsl_node *k, *prev;
	yaml_event_t ev;
	int is_map = n->kind == DSL_MAP, done = 0;
	size_t i;
	char show[DSL_SHOW];

	while (!done) {
		if (dsl_yaml_next(y, &ev) != 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		k = dsl_yaml_node(y, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (k == NULL)
			return -1;
		if (is_map && n->n % 2 == 0 && k->kind != DSL_SCALAR) {
			dsl_error(y->cx, k, "a mapping key must be a scalar, "
			    "not a %s", k->kind == DSL_MAP ? "mapping" :
			    "sequence");
			/* Keep the shape: an empty key stands in. */
			k->kind = DSL_SCALAR;
			for (i = 0; i < k->n; i++)
				dsl_node_free(k->kid[i]);
			k->n = 0;
			if ((k->text = strdup("")) == NULL) {
				dsl_node_free(k);
				y->cx->oom = 1;
				return -1;
			}
		}
		if (is_map && n->n % 2 == 0) {
			ssize_t at = dsl_map_find(n, k->text);

			if (at >= 0) {
				prev = n->kid[at];
				dsl_error(y->cx, k, "duplicate key '%s' (first "
				    "at line %u)", dsl_show(k->text, show,
				    sizeof(show)), prev->line);
			}
		}
		if (dsl_node_add(y, n, k) != 0) {
			dsl_node_free(k);
			return -1;
		}
		if (is_map && n->n % 2 == 1 && dsl_map_index(n) != 0) {
			y->cx->oom = 1;
			y->fatal = 1;
			return -1;
		}
	}
	return 0;
}

/* The node that starts with event ev (which the caller deletes). */
static struct dsl_node *
dsl_yaml_node(struct dsl_yaml *y, yaml_event_t *ev, int depth)
{
	struct dsl_node *n;
	enum dsl_kind kind;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return dsl_yaml_scalar(y, ev);
	case YAML_ALIAS_EVENT:
		dsl_error_at(y->cx, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1,
		    "unsupported: YAML anchors and aliases (*%s)",
		    (const char *)ev->data.alias.anchor);
		y->fatal = 1;
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
		kind = DSL_SEQ;
		dsl_yaml_props(y, ev, ev->data.sequence_start.anchor,
		    ev->data.sequence_start.tag, DSL_TAG_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		kind = DSL_MAP;
		dsl_yaml_props(y, ev, ev->data.mapping_start.anchor,
		    ev->data.mapping_start.tag, DSL_TAG_MAP);
		break;
	default:
		dsl_error_at(y->cx, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1,
		    "YAML: unexpected event");
		y->fatal = 1;
		return NULL;
	}
	if (depth > DSL_DEPTH_MAX) {
		dsl_error_at(y->cx, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1,
		    "nesting deeper than %d levels", DSL_DEPTH_MAX);
		y->fatal = 1;
		return NULL;
	}
	if ((n = dsl_node_new(y, kind, &ev->start_mark)) == NULL)
		return NULL;
	if (dsl_yaml_kids(y, n, depth) != 0) {
		dsl_node_free(n);
		return NULL;
	}
	return n;
}

struct dsl_node *
dsl_yaml_load(struct dsl_ctx *cx, const char *text, size_t len)
{
	struct dsl_yaml y;
	struct dsl_node *root = NULL;
	yaml_event_t ev;
	int docs = 0;

	memset(&y, 0, sizeof(y));
	y.cx = cx;
	y.text = text;
	y.len = len;
	if (!yaml_parser_initialize(&y.parser)) {
		cx->oom = 1;
		return NULL;
	}
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text,
	    len);
	yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (dsl_yaml_next(&y, &ev) != 0)
			goto fail;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			dsl_error_at(cx, (unsigned)ev.start_mark.line + 1,
			    (unsigned)ev.start_mark.column + 1,
			    "a workflow file holds one YAML document");
			yaml_event_delete(&ev);
			goto fail;
		}
		if (ev.type == YAML_SCALAR_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_ALIAS_EVENT) {
			root = dsl_yaml_node(&y, &ev, 1);
			yaml_event_delete(&ev);
			if (root == NULL)
				goto fail;
			continue;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y.parser);
	if (root == NULL)
		dsl_error_at(cx, 1, 1, "the file is empty; expected "
		    "version: '2.0' and workflows");
	return root;
fail:
	dsl_node_free(root);
	yaml_parser_delete(&y.parser);
	return NULL;
}
