/*
 * expr.c: expressions inside strings, the module's API (expr.h).
 *
 * Finds "<% ... %>" (YAQL) and "{{ ... }}" (Jinja) in a string, parses
 * each once, evaluates it, and either returns its value (the string is one
 * whole expression) or splices its text into the string. The end of an
 * expression is found before it is parsed: "%>" or "}}" outside quoted
 * strings, and for Jinja outside brackets too, so {{ {'a': {'b': 1}} }}
 * ends at the last "}}".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "expr_int.h"

#define EXPR_QUOTE_MAX    80     /* bytes of an expression quoted in errors */
#define EXPR_VALUE_DEPTH  256    /* nesting of a value expr_eval_json walks */

/* One expression in a string. */
struct expr_span {
	enum expr_mode mode;
	size_t open;                 /* "<%" or "{{" */
	size_t start, end;           /* the expression text */
	size_t close;                /* just past "%>" or "}}" */
};

static int
expr_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the expression text that starts at s[i]; 0 with e set when
 * it is not closed. */
static int
expr_find_end(const char *s, size_t len, struct expr_span *sp,
    struct expr_error *e)
{
	size_t i = sp->start, depth = 0, next;

	while (i < len) {
		if (s[i] == '\'' || s[i] == '"') {
			if ((next = expr_lex_skip_string(s, len, i)) == 0) {
				expr_error_set(e, i - sp->start,
				    "unterminated string");
				return -1;
			}
			i = next;
			continue;
		}
		if (sp->mode == EXPR_YAQL && s[i] == '%' && s[i + 1] == '>')
			break;
		if (sp->mode == EXPR_JINJA) {
			if (s[i] == '}' && s[i + 1] == '}' && depth == 0)
				break;
			if (s[i] == '(' || s[i] == '[' || s[i] == '{')
				depth++;
			else if ((s[i] == ')' || s[i] == ']' || s[i] == '}') &&
			    depth > 0)
				depth--;
		}
		i++;
	}
	if (i >= len) {
		expr_error_set(e, len - sp->start, "missing '%s'",
		    sp->mode == EXPR_YAQL ? "%>" : "}}");
		return -1;
	}
	sp->end = i;
	sp->close = i + 2;
	return 0;
}

/* The next expression at or after s[from]: 1, 0 when there is none, -1
 * when it is not closed (sp->open and start are set for the message). */
static int
expr_next(const char *s, size_t len, size_t from, struct expr_span *sp,
    struct expr_error *e)
{
	size_t i;

	for (i = from; i + 1 < len; i++) {
		if (s[i] == '<' && s[i + 1] == '%')
			sp->mode = EXPR_YAQL;
		else if (s[i] == '{' && s[i + 1] == '{')
			sp->mode = EXPR_JINJA;
		else
			continue;
		sp->open = i;
		sp->start = i + 2;
		sp->end = sp->close = len;
		return expr_find_end(s, len, sp, e) == -1 ? -1 : 1;
	}
	return 0;
}

/* "expression '<% ... %>': what at offset N", the expression cut to
 * EXPR_QUOTE_MAX bytes (at a character boundary) and on one line. */
static void
expr_format_error(char *err, size_t errlen, const char *s,
    const struct expr_span *sp, const struct expr_error *e)
{
	char quote[EXPR_QUOTE_MAX + 4];
	size_t n = sp->close - sp->open, i;

	if (errlen == 0)
		return;
	if (n > EXPR_QUOTE_MAX) {
		n = EXPR_QUOTE_MAX - 3;
		while (n > 0 && ((unsigned char)s[sp->open + n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		quote[i] = (unsigned char)s[sp->open + i] < 0x20 ? ' ' :
		    s[sp->open + i];
	quote[i] = '\0';
	if (n < sp->close - sp->open)
		strcat(quote, "...");
	snprintf(err, errlen, "expression '%s': %s at offset %zu", quote,
	    e->msg, e->off);
}

static void
expr_set_err(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

int
expr_has(const char *s)
{
	return strstr(s, "<%") != NULL || strstr(s, "{{") != NULL;
}

/* Parse the expression of sp; NULL with err written. */
static struct expr_node *
expr_parse_span(const char *s, const struct expr_span *sp, char *err,
    size_t errlen)
{
	struct expr_error e = { 0, "" };
	struct expr_node *n;

	n = expr_parse(s + sp->start, sp->end - sp->start, sp->mode, &e);
	if (n == NULL)
		expr_format_error(err, errlen, s, sp, &e);
	return n;
}

int
expr_check(const char *s, char *err, size_t errlen)
{
	struct expr_error e = { 0, "" };
	struct expr_span sp;
	struct expr_node *n;
	size_t len = strlen(s), pos = 0;
	int r;

	while ((r = expr_next(s, len, pos, &sp, &e)) == 1) {
		if ((n = expr_parse_span(s, &sp, err, errlen)) == NULL)
			return -1;
		expr_node_free(n);
		pos = sp.close;
	}
	if (r == -1)
		expr_format_error(err, errlen, s, &sp, &e);
	return r;
}

/* Add the names of task('literal') calls in tree n to names. */
static int
expr_refs_walk(const struct expr_node *n, json_t *names)
{
	const json_t *name;
	size_t i;

	if (n->op == EXPR_CALL && strcmp(n->fn->name, "task") == 0 &&
	    n->nkids == 1 && n->kids[0]->op == EXPR_CONST &&
	    json_is_string(n->kids[0]->val)) {
		name = n->kids[0]->val;
		for (i = 0; i < json_array_size(names); i++)
			if (json_equal(json_array_get(names, i), name))
				break;
		if (i == json_array_size(names) &&
		    json_array_append_new(names, json_deep_copy(name)) == -1)
			return -1;
	}
	for (i = 0; i < n->nkids; i++)
		if (expr_refs_walk(n->kids[i], names) == -1)
			return -1;
	return 0;
}

int
expr_task_refs(const char *s, json_t *names, char *err, size_t errlen)
{
	struct expr_error e = { 0, "" };
	struct expr_span sp;
	struct expr_node *n;
	size_t len = strlen(s), pos = 0;
	int r;

	if (!json_is_array(names)) {
		expr_set_err(err, errlen, "names must be a JSON array");
		return -1;
	}
	while ((r = expr_next(s, len, pos, &sp, &e)) == 1) {
		if ((n = expr_parse_span(s, &sp, err, errlen)) == NULL)
			return -1;
		r = expr_refs_walk(n, names);
		expr_node_free(n);
		if (r == -1) {
			expr_set_err(err, errlen, "out of memory");
			return -1;
		}
		pos = sp.close;
	}
	if (r == -1)
		expr_format_error(err, errlen, s, &sp, &e);
	return r;
}

/* Parse and evaluate the expression of sp. */
static json_t *
expr_eval_span(const char *s, const struct expr_span *sp,
    struct expr_eval *ev, char *err, size_t errlen)
{
	struct expr_error e = { 0, "" };
	struct expr_node *n;
	json_t *v;

	if ((n = expr_parse_span(s, sp, err, errlen)) == NULL)
		return NULL;
	ev->mode = sp->mode;
	ev->err = &e;
	if ((v = expr_eval_node(ev, n)) == NULL)
		expr_format_error(err, errlen, s, sp, &e);
	expr_node_free(n);
	ev->err = NULL;
	return v;
}

/* s holds only the expression sp and whitespace. */
static int
expr_is_whole(const char *s, size_t len, const struct expr_span *sp)
{
	size_t i;

	for (i = 0; i < sp->open; i++)
		if (!expr_is_space(s[i]))
			return 0;
	for (i = sp->close; i < len; i++)
		if (!expr_is_space(s[i]))
			return 0;
	return 1;
}

/* Text with the expressions' values spliced in, starting with sp. */
static json_t *
expr_splice(const char *s, size_t len, struct expr_span *sp,
    struct expr_eval *ev, char *err, size_t errlen)
{
	struct expr_buf b = { NULL, 0, 0, 0 };
	struct expr_error e = { 0, "" };
	json_t *v, *r = NULL;
	size_t pos = 0, before;
	int more = 1;

	while (more == 1) {
		before = b.len;
		if (expr_buf_add(&b, s + pos, sp->open - pos) == -1)
			goto nomem;
		if ((v = expr_eval_span(s, sp, ev, err, errlen)) == NULL)
			goto out;
		e.off = 0;
		ev->err = &e;
		if (expr_buf_add_text(&b, v) == -1) {
			json_decref(v);
			goto nomem;
		}
		json_decref(v);
		if (expr_charge(ev, b.len - before, 0) == -1) {
			expr_format_error(err, errlen, s, sp, &e);
			goto out;
		}
		pos = sp->close;
		if ((more = expr_next(s, len, pos, sp, &e)) == -1) {
			expr_format_error(err, errlen, s, sp, &e);
			goto out;
		}
	}
	if (expr_buf_add(&b, s + pos, len - pos) == -1)
		goto nomem;
	if ((r = json_stringn(b.data ? b.data : "", b.len)) == NULL)
		expr_set_err(err, errlen, "string is not valid UTF-8");
	goto out;
nomem:
	e.off = 0;
	snprintf(e.msg, sizeof(e.msg), b.over ? "result longer than %u bytes" :
	    "out of memory", EXPR_MAX_BYTES);
	expr_format_error(err, errlen, s, sp, &e);
out:
	ev->err = NULL;
	expr_buf_free(&b);
	return r;
}

/* expr_eval_string with the evaluation state (and budget) of a caller. */
static json_t *
expr_eval_str(const char *s, struct expr_eval *ev, char *err, size_t errlen)
{
	struct expr_error e = { 0, "" };
	struct expr_span sp;
	size_t len = strlen(s);
	json_t *v, *copy;
	int r;

	if ((r = expr_next(s, len, 0, &sp, &e)) == -1) {
		expr_format_error(err, errlen, s, &sp, &e);
		return NULL;
	}
	if (r == 0) {
		if ((v = json_string(s)) == NULL)
			expr_set_err(err, errlen, "string is not valid UTF-8");
		return v;
	}
	if (!expr_is_whole(s, len, &sp))
		return expr_splice(s, len, &sp, ev, err, errlen);
	if ((v = expr_eval_span(s, &sp, ev, err, errlen)) == NULL)
		return NULL;
	/* The value may be (or hold) context values: give the caller its
	 * own copy to change. */
	copy = json_deep_copy(v);
	json_decref(v);
	if (copy == NULL)
		expr_set_err(err, errlen, "out of memory");
	return copy;
}

static void
expr_eval_init(struct expr_eval *ev, const struct expr_env *env,
    const struct expr_env *none)
{
	memset(ev, 0, sizeof(*ev));
	ev->env = env ? env : none;
	ev->budget = ev->env->budget ? ev->env->budget : EXPR_BUDGET_DEFAULT;
}

json_t *
expr_eval_string(const char *s, const struct expr_env *env, char *err,
    size_t errlen)
{
	static const struct expr_env none;
	struct expr_eval ev;

	expr_eval_init(&ev, env, &none);
	return expr_eval_str(s, &ev, err, errlen);
}

/* An object key holding expressions: their value as text. */
static json_t *
expr_eval_key(const char *key, struct expr_eval *ev, char *err,
    size_t errlen)
{
	struct expr_buf b = { NULL, 0, 0, 0 };
	json_t *v, *r = NULL;

	if ((v = expr_eval_str(key, ev, err, errlen)) == NULL ||
	    json_is_string(v))
		return v;
	if (expr_buf_add_text(&b, v) == -1 ||
	    (r = json_stringn(b.data, b.len)) == NULL)
		expr_set_err(err, errlen, b.over ? "key longer than 1 MiB" :
		    "out of memory");
	expr_buf_free(&b);
	json_decref(v);
	return r;
}

static json_t *
expr_eval_value(const json_t *v, struct expr_eval *ev, int depth, char *err,
    size_t errlen)
{
	json_t *obj = (json_t *)(uintptr_t)v;   /* foreach only reads it */
	json_t *r, *item, *kv = NULL, *x;
	const char *key;
	size_t i, keylen;

	if (depth > EXPR_VALUE_DEPTH) {
		snprintf(err, errlen, "value nested deeper than %d levels",
		    EXPR_VALUE_DEPTH);
		return NULL;
	}
	if (json_is_string(v))
		return expr_eval_str(json_string_value(v), ev, err, errlen);
	if (!json_is_array(v) && !json_is_object(v)) {
		if ((r = json_deep_copy(v)) == NULL)
			expr_set_err(err, errlen, "out of memory");
		return r;
	}
	if ((r = json_is_array(v) ? json_array() : json_object()) == NULL) {
		expr_set_err(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < json_array_size(v); i++) {
		x = expr_eval_value(json_array_get(v, i), ev, depth + 1, err,
		    errlen);
		if (x == NULL)
			goto fail;
		if (json_array_append_new(r, x) == -1)
			goto nomem;
	}
	json_object_foreach(obj, key, item) {
		keylen = json_object_iter_key_len(json_object_key_to_iter(key));
		if (expr_has(key) &&
		    (kv = expr_eval_key(key, ev, err, errlen)) == NULL)
			goto fail;
		x = expr_eval_value(item, ev, depth + 1, err, errlen);
		if (x == NULL)
			goto fail;
		if (json_object_setn_new(r, kv ? json_string_value(kv) : key,
		    kv ? json_string_length(kv) : keylen, x) == -1)
			goto nomem;
		json_decref(kv);
		kv = NULL;
	}
	return r;
nomem:
	expr_set_err(err, errlen, "out of memory");
fail:
	json_decref(kv);
	json_decref(r);
	return NULL;
}

json_t *
expr_eval_json(const json_t *v, const struct expr_env *env, char *err,
    size_t errlen)
{
	static const struct expr_env none;
	struct expr_eval ev;

	expr_eval_init(&ev, env, &none);
	return expr_eval_value(v, &ev, 0, err, errlen);
}
