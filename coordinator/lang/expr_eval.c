/*
 * expr_eval.c: the value of a syntax tree.
 *
 * Every node evaluated costs one step of the budget, every byte of a
 * string built one step, every list item built or value compared one
 * step, and scanning a string one step per EXPR_SCAN_BYTES. Strings built
 * stop at EXPR_MAX_BYTES and lists at EXPR_MAX_ITEMS, whatever the budget.
 * Recursion follows the tree, whose height the parser bounds.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "expr_int.h"

json_t *
expr_ref(const json_t *v)
{
	return json_incref((json_t *)(uintptr_t)v);
}

json_t *
expr_list_new(struct expr_eval *ev, size_t off)
{
	json_t *l = json_array();

	if (l == NULL)
		expr_error_set(ev->err, off, "out of memory");
	return l;
}

int
expr_charge(struct expr_eval *ev, unsigned long n, size_t off)
{
	if (n > ev->budget - ev->steps) {
		ev->steps = ev->budget;
		expr_error_set(ev->err, off, "evaluation budget of %lu steps "
		    "exceeded", ev->budget);
		return -1;
	}
	ev->steps += n;
	return 0;
}

const char *
expr_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

int
expr_equal(struct expr_eval *ev, const json_t *a, const json_t *b, size_t off)
{
	json_t *obj = (json_t *)(uintptr_t)a;   /* foreach only reads it */
	json_t *item, *other;
	const char *key;
	size_t i, klen;
	int r;

	if (expr_charge(ev, 1, off) == -1)
		return -1;
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		if (expr_charge(ev, json_string_length(a) / EXPR_SCAN_BYTES,
		    off) == -1)
			return -1;
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if ((r = expr_equal(ev, json_array_get(a, i),
			    json_array_get(b, i), off)) != 1)
				return r;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(obj, key, item) {
			klen = json_object_iter_key_len(
			    json_object_key_to_iter(key));
			other = json_object_getn(b, key, klen);
			if (other == NULL)
				return 0;
			if ((r = expr_equal(ev, item, other, off)) != 1)
				return r;
		}
		return 1;
	default:      /* true, false, null: the type is the value */
		return 1;
	}
}

static json_t *
eval_fail(struct expr_eval *ev, size_t off, const char *what,
    const json_t *a, const json_t *b)
{
	if (b == NULL)
		expr_error_set(ev->err, off, "%s %s", what, expr_type_name(a));
	else
		expr_error_set(ev->err, off, "%s %s and %s", what,
		    expr_type_name(a), expr_type_name(b));
	return NULL;
}

static json_t *
eval_attr(struct expr_eval *ev, const struct expr_node *n, json_t *obj)
{
	json_t *v;

	if (!json_is_object(obj)) {
		expr_error_set(ev->err, n->off, "cannot read '.%s' of %s",
		    json_string_value(n->val), expr_type_name(obj));
		return NULL;
	}
	v = json_object_getn(obj, json_string_value(n->val),
	    json_string_length(n->val));
	return v ? json_incref(v) : json_null();
}

/* c[i]: lists by integer (negative counts from the end), objects by
 * string; out of range or missing gives null. */
static json_t *
eval_index(struct expr_eval *ev, const struct expr_node *n, json_t *c,
    json_t *i)
{
	json_int_t k;
	json_t *v;

	if (json_is_array(c)) {
		if (!json_is_integer(i))
			return eval_fail(ev, n->off, "list index must be an "
			    "integer, not", i, NULL);
		k = json_integer_value(i);
		if (k < 0)
			k += (json_int_t)json_array_size(c);
		v = k < 0 ? NULL : json_array_get(c, (size_t)k);
	} else if (json_is_object(c)) {
		if (!json_is_string(i))
			return eval_fail(ev, n->off, "object key must be a "
			    "string, not", i, NULL);
		v = json_object_getn(c, json_string_value(i),
		    json_string_length(i));
	} else
		return eval_fail(ev, n->off, "cannot index", c, NULL);
	return v ? json_incref(v) : json_null();
}

static json_t *
eval_list(struct expr_eval *ev, const struct expr_node *n)
{
	json_t *list, *v;
	size_t i;

	if ((list = json_array()) == NULL)
		goto oom;
	for (i = 0; i < n->nkids; i++) {
		if ((v = expr_eval_node(ev, n->kids[i])) == NULL) {
			json_decref(list);
			return NULL;
		}
		if (json_array_append_new(list, v) == -1)
			goto oom;
	}
	return list;
oom:
	json_decref(list);
	expr_error_set(ev->err, n->off, "out of memory");
	return NULL;
}

static json_t *
eval_object(struct expr_eval *ev, const struct expr_node *n)
{
	json_t *obj, *k = NULL, *v = NULL;
	size_t i;

	if ((obj = json_object()) == NULL) {
		expr_error_set(ev->err, n->off, "out of memory");
		return NULL;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = expr_eval_node(ev, n->kids[i])) == NULL)
			goto fail;
		if (!json_is_string(k)) {
			eval_fail(ev, n->kids[i]->off, "object key must be a "
			    "string, not", k, NULL);
			goto fail;
		}
		if ((v = expr_eval_node(ev, n->kids[i + 1])) == NULL)
			goto fail;
		if (json_object_setn_new(obj, json_string_value(k),
		    json_string_length(k), v) == -1) {
			v = NULL;
			expr_error_set(ev->err, n->off, "out of memory");
			goto fail;
		}
		json_decref(k);
		k = v = NULL;
	}
	return obj;
fail:
	json_decref(k);
	json_decref(obj);
	return NULL;
}

static json_t *
eval_call(struct expr_eval *ev, const struct expr_node *n)
{
	json_t *args[EXPR_MAX_ARGS] = { NULL }, *r = NULL;
	size_t i;

	/* The parser checked the count against the function's maximum. */
	if (n->nkids > sizeof(args) / sizeof(args[0])) {
		expr_error_set(ev->err, n->off, "too many arguments");
		return NULL;
	}
	for (i = 0; i < (n->fn->lazy ? 1 : n->nkids); i++)
		if ((args[i] = expr_eval_node(ev, n->kids[i])) == NULL)
			goto out;
	r = n->fn->call(ev, n, args);
out:
	for (i = 0; i < n->nkids; i++)
		json_decref(args[i]);
	return r;
}

static json_t *
eval_unary(struct expr_eval *ev, const struct expr_node *n, json_t *a)
{
	if (n->op == EXPR_NOT)
		return json_boolean(!expr_truthy(a));
	if (json_is_integer(a)) {
		if (n->op == EXPR_POS)
			return json_incref(a);
		if (json_integer_value(a) == EXPR_INT_MIN) {
			expr_error_set(ev->err, n->off, "integer overflow");
			return NULL;
		}
		return json_integer(-json_integer_value(a));
	}
	if (json_is_real(a))
		return json_real(n->op == EXPR_POS ? json_real_value(a) :
		    -json_real_value(a));
	return eval_fail(ev, n->off, n->op == EXPR_NEG ? "cannot negate" :
	    "unary '+' needs a number, not", a, NULL);
}

static json_t *
eval_compare(struct expr_eval *ev, const struct expr_node *n, json_t *a,
    json_t *b)
{
	size_t la, lb;
	int c, eq;
	double x, y;

	if (n->op == EXPR_EQ || n->op == EXPR_NE) {
		if ((eq = expr_equal(ev, a, b, n->off)) == -1)
			return NULL;
		return json_boolean(n->op == EXPR_EQ ? eq : !eq);
	}
	if (json_is_integer(a) && json_is_integer(b)) {
		c = (json_integer_value(a) > json_integer_value(b)) -
		    (json_integer_value(a) < json_integer_value(b));
	} else if (json_is_number(a) && json_is_number(b)) {
		x = json_number_value(a);
		y = json_number_value(b);
		c = (x > y) - (x < y);
	} else if (json_is_string(a) && json_is_string(b)) {
		la = json_string_length(a);
		lb = json_string_length(b);
		if (expr_charge(ev, (la < lb ? la : lb) / EXPR_SCAN_BYTES,
		    n->off) == -1)
			return NULL;
		c = memcmp(json_string_value(a), json_string_value(b),
		    la < lb ? la : lb);
		if (c == 0)
			c = (la > lb) - (la < lb);
	} else
		return eval_fail(ev, n->off, "cannot compare", a, b);
	switch (n->op) {
	case EXPR_LT: return json_boolean(c < 0);
	case EXPR_LE: return json_boolean(c <= 0);
	case EXPR_GT: return json_boolean(c > 0);
	default: return json_boolean(c >= 0);
	}
}

/* a in b: an item of a list, a key of an object, a substring. */
static json_t *
eval_in(struct expr_eval *ev, const struct expr_node *n, json_t *a, json_t *b)
{
	int found = 0;
	size_t i;

	if (json_is_array(b)) {
		for (i = 0; i < json_array_size(b) && !found; i++)
			if ((found = expr_equal(ev, a, json_array_get(b, i),
			    n->off)) == -1)
				return NULL;
	} else if (json_is_object(b)) {
		found = json_is_string(a) && json_object_getn(b,
		    json_string_value(a), json_string_length(a)) != NULL;
	} else if (json_is_string(b)) {
		if (!json_is_string(a))
			return eval_fail(ev, n->off, "'in' a string needs a "
			    "string on the left, not", a, NULL);
		if (expr_charge(ev, json_string_length(b) / EXPR_SCAN_BYTES,
		    n->off) == -1)
			return NULL;
		found = memmem(json_string_value(b), json_string_length(b),
		    json_string_value(a), json_string_length(a)) != NULL;
	} else
		return eval_fail(ev, n->off, "'in' needs a list, object or "
		    "string on the right, not", b, NULL);
	return json_boolean(n->op == EXPR_IN ? found : !found);
}

/* and, or: short-circuit, the result a boolean. */
static json_t *
eval_logic(struct expr_eval *ev, const struct expr_node *n)
{
	json_t *v;
	int t;

	if ((v = expr_eval_node(ev, n->kids[0])) == NULL)
		return NULL;
	t = expr_truthy(v);
	json_decref(v);
	if (t == (n->op == EXPR_OR))
		return json_boolean(t);
	if ((v = expr_eval_node(ev, n->kids[1])) == NULL)
		return NULL;
	t = expr_truthy(v);
	json_decref(v);
	return json_boolean(t);
}

/* Operators on the values of their one or two operands. */
static json_t *
eval_operator(struct expr_eval *ev, const struct expr_node *n)
{
	json_t *a, *b = NULL, *r = NULL;

	if ((a = expr_eval_node(ev, n->kids[0])) == NULL ||
	    (n->nkids > 1 && (b = expr_eval_node(ev, n->kids[1])) == NULL))
		goto out;
	switch (n->op) {
	case EXPR_ATTR:
		r = eval_attr(ev, n, a);
		break;
	case EXPR_NEG:
	case EXPR_POS:
	case EXPR_NOT:
		r = eval_unary(ev, n, a);
		break;
	case EXPR_INDEX:
		r = eval_index(ev, n, a, b);
		break;
	case EXPR_IN:
	case EXPR_NOT_IN:
		r = eval_in(ev, n, a, b);
		break;
	case EXPR_EQ: case EXPR_NE: case EXPR_LT: case EXPR_LE:
	case EXPR_GT: case EXPR_GE:
		r = eval_compare(ev, n, a, b);
		break;
	default:
		r = expr_eval_arith(ev, n, a, b);
		break;
	}
out:
	json_decref(a);
	json_decref(b);
	return r;
}

json_t *
expr_eval_node(struct expr_eval *ev, const struct expr_node *n)
{
	const json_t *ctx = ev->item != NULL ? ev->item : ev->env->ctx;

	if (expr_charge(ev, 1, n->off) == -1)
		return NULL;
	switch (n->op) {
	case EXPR_CONST:
		return json_incref(n->val);
	case EXPR_CTX:
		return ctx ? expr_ref(ctx) : json_object();
	case EXPR_CALL:
		return eval_call(ev, n);
	case EXPR_LIST:
		return eval_list(ev, n);
	case EXPR_OBJECT:
		return eval_object(ev, n);
	case EXPR_AND:
	case EXPR_OR:
		return eval_logic(ev, n);
	default:
		return eval_operator(ev, n);
	}
}

int
expr_truthy(const json_t *v)
{
	if (v == NULL)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT: return json_object_size(v) > 0;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0.0;
	case JSON_TRUE: return 1;
	default: return 0;
	}
}
