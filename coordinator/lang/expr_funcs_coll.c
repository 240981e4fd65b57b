/*
 * expr_funcs_coll.c: YAQL's functions on lists and objects (yaql's
 * standard library, queries and collections): list, range, keys, values,
 * items, get, contains, containsKey, first, last, distinct, flatten, sum,
 * min, max, join. Each may also be called as a method, x.f(a) being
 * f(x, a). Arguments are borrowed; each returns a new reference, or NULL
 * with the error set. Every item built or visited costs a step.
 */
#include <string.h>

#include "expr_int.h"

/* Append a new reference v to list l (stolen); -1 with the error set. */
static int
coll_append(struct expr_eval *ev, const struct expr_node *n, json_t *l,
    json_t *v)
{
	if (v == NULL || json_array_size(l) >= EXPR_MAX_ITEMS ||
	    expr_charge(ev, 1, n->off) == -1 || json_array_append_new(l,
	    v) == -1) {
		if (v != NULL && json_array_size(l) >= EXPR_MAX_ITEMS)
			expr_error_set(ev->err, n->off, "%s(): more than %u "
			    "items", n->fn->name, EXPR_MAX_ITEMS);
		else if (v == NULL || ev->err->msg[0] == '\0')
			expr_error_set(ev->err, n->off, "out of memory");
		json_decref(v);
		return -1;
	}
	return 0;
}

/* list(a, b, ...): the arguments as a list. */
json_t *
expr_fn_list(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	json_t *l = expr_list_new(ev, n->off);
	size_t i;

	if (l == NULL)
		return NULL;
	for (i = 0; i < n->nkids; i++)
		if (coll_append(ev, n, l, expr_ref(args[i])) == -1) {
			json_decref(l);
			return NULL;
		}
	return l;
}

/* range(stop), range(start, stop), range(start, stop, step): integers,
 * as Python's range. */
json_t *
expr_fn_range(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	json_int_t start = 0, stop, step = 1, i;
	json_t *l;
	size_t k;

	for (k = 0; k < n->nkids; k++)
		if (!json_is_integer(args[k]))
			return expr_func_bad_arg(ev, n, "integers", args[k]);
	if (n->nkids == 1)
		stop = json_integer_value(args[0]);
	else {
		start = json_integer_value(args[0]);
		stop = json_integer_value(args[1]);
		if (n->nkids == 3)
			step = json_integer_value(args[2]);
	}
	if (step == 0) {
		expr_error_set(ev->err, n->off, "range(): step must not be "
		    "zero");
		return NULL;
	}
	if ((l = expr_list_new(ev, n->off)) == NULL)
		return NULL;
	for (i = start; step > 0 ? i < stop : i > stop; ) {
		if (coll_append(ev, n, l, json_integer(i)) == -1) {
			json_decref(l);
			return NULL;
		}
		if (__builtin_add_overflow(i, step, &i))
			break;
	}
	return l;
}

/* keys(d), values(d), items(d): lists in the object's order; items are
 * [key, value] pairs. */
json_t *
expr_fn_keys(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	json_t *obj = args[0], *l, *v, *item;
	const char *k, *fn = n->fn->name;
	int which = strcmp(fn, "keys") == 0 ? 0 : strcmp(fn, "values") == 0 ?
	    1 : 2;

	if (!json_is_object(obj))
		return expr_func_bad_arg(ev, n, "an object", obj);
	if ((l = expr_list_new(ev, n->off)) == NULL)
		return NULL;
	json_object_foreach(obj, k, v) {
		if (which == 0)
			item = json_string(k);
		else if (which == 1)
			item = expr_ref(v);
		else
			item = json_pack("[sO]", k, v);
		if (coll_append(ev, n, l, item) == -1) {
			json_decref(l);
			return NULL;
		}
	}
	return l;
}

/* get(d, key[, default]): d's value at key, else default (null). */
json_t *
expr_fn_get(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	json_t *v;

	if (!json_is_object(args[0]))
		return expr_func_bad_arg(ev, n, "an object", args[0]);
	if (json_is_string(args[1]) &&
	    (v = json_object_get(args[0], json_string_value(args[1]))) != NULL)
		return expr_ref(v);
	return args[2] != NULL ? expr_ref(args[2]) : json_null();
}

/* contains(collection, x): x is an item of a list (deep equality) or a
 * key of an object. containsKey(d, k): k is a key of object d. */
json_t *
expr_fn_contains(struct expr_eval *ev, const struct expr_node *n,
    json_t **args)
{
	size_t i;
	int eq;

	if (json_is_object(args[0]))
		return json_boolean(json_is_string(args[1]) &&
		    json_object_get(args[0], json_string_value(args[1])) !=
		    NULL);
	if (strcmp(n->fn->name, "containsKey") == 0 ||
	    !json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, strcmp(n->fn->name, "contains") ?
		    "an object" : "a list or object", args[0]);
	for (i = 0; i < json_array_size(args[0]); i++) {
		eq = expr_equal(ev, json_array_get(args[0], i), args[1],
		    n->off);
		if (eq == -1)
			return NULL;
		if (eq)
			return json_true();
	}
	return json_false();
}

/* first(l[, default]), last(l[, default]): an empty list without a
 * default is an error, as in yaql. */
json_t *
expr_fn_first(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	size_t len;

	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list", args[0]);
	len = json_array_size(args[0]);
	if (len == 0) {
		if (args[1] != NULL)
			return expr_ref(args[1]);
		expr_error_set(ev->err, n->off, "%s(): the list is empty",
		    n->fn->name);
		return NULL;
	}
	return expr_ref(json_array_get(args[0],
	    strcmp(n->fn->name, "first") == 0 ? 0 : len - 1));
}

/* distinct(l): the items of l without repeats, first one kept. */
json_t *
expr_fn_distinct(struct expr_eval *ev, const struct expr_node *n,
    json_t **args)
{
	json_t *l, *v;
	size_t i, j;
	int eq = 0;

	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list", args[0]);
	if ((l = expr_list_new(ev, n->off)) == NULL)
		return NULL;
	for (i = 0; i < json_array_size(args[0]); i++) {
		v = json_array_get(args[0], i);
		for (j = 0, eq = 0; j < json_array_size(l) && eq == 0; j++)
			eq = expr_equal(ev, json_array_get(l, j), v, n->off);
		if (eq == -1 || (eq == 0 && coll_append(ev, n, l,
		    expr_ref(v)) == -1)) {
			json_decref(l);
			return NULL;
		}
	}
	return l;
}

/* flatten(l): the items of l, those that are lists spliced in, to any
 * depth (yaql's flatten). */
static int
coll_flatten(struct expr_eval *ev, const struct expr_node *n, json_t *out,
    const json_t *l, unsigned depth)
{
	size_t i;
	json_t *v;

	if (depth > EXPR_MAX_HEIGHT) {
		expr_error_set(ev->err, n->off, "flatten(): lists nested "
		    "deeper than %d", EXPR_MAX_HEIGHT);
		return -1;
	}
	for (i = 0; i < json_array_size(l); i++) {
		v = json_array_get(l, i);
		if (json_is_array(v)) {
			if (coll_flatten(ev, n, out, v, depth + 1) == -1)
				return -1;
		} else if (coll_append(ev, n, out, expr_ref(v)) == -1)
			return -1;
	}
	return 0;
}

json_t *
expr_fn_flatten(struct expr_eval *ev, const struct expr_node *n,
    json_t **args)
{
	json_t *l;

	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list", args[0]);
	if ((l = expr_list_new(ev, n->off)) == NULL)
		return NULL;
	if (coll_flatten(ev, n, l, args[0], 0) == -1) {
		json_decref(l);
		return NULL;
	}
	return l;
}

/* sum(l): the numbers of l added ('+' rules: integers stay integers,
 * overflow is an error); sum([]) is 0. */
json_t *
expr_fn_sum(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	struct expr_node add = *n;  /* '+' on each item, errors at n */
	json_t *acc, *next;
	size_t i;

	add.op = EXPR_ADD;
	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list", args[0]);
	if ((acc = json_integer(0)) == NULL) {
		expr_error_set(ev->err, n->off, "out of memory");
		return NULL;
	}
	for (i = 0; i < json_array_size(args[0]); i++) {
		if (!json_is_number(json_array_get(args[0], i))) {
			json_decref(acc);
			return expr_func_bad_arg(ev, n, "a list of numbers",
			    json_array_get(args[0], i));
		}
		next = expr_eval_arith(ev, &add, acc, json_array_get(args[0], i));
		json_decref(acc);
		if ((acc = next) == NULL)
			return NULL;
	}
	return acc;
}

/* -1, 0 or 1 for two numbers or two strings; -2 (error set) otherwise. */
static int
coll_order(struct expr_eval *ev, const struct expr_node *n, const json_t *a,
    const json_t *b)
{
	double x, y;
	int c;

	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return (json_integer_value(a) > json_integer_value(b)) -
			    (json_integer_value(a) < json_integer_value(b));
		x = json_number_value(a);
		y = json_number_value(b);
		return (x > y) - (x < y);
	}
	if (json_is_string(a) && json_is_string(b)) {
		c = strcmp(json_string_value(a), json_string_value(b));
		return (c > 0) - (c < 0);
	}
	expr_error_set(ev->err, n->off, "%s(): cannot compare %s with %s",
	    n->fn->name, expr_type_name(a), expr_type_name(b));
	return -2;
}

/* min(l), max(l) of a non-empty list; min(a, b), max(a, b) of two
 * numbers or two strings. */
json_t *
expr_fn_min(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	int want = strcmp(n->fn->name, "min") == 0 ? -1 : 1, c;
	const json_t *best;
	size_t i;

	if (args[1] != NULL) {
		if ((c = coll_order(ev, n, args[1], args[0])) == -2)
			return NULL;
		return expr_ref(c == want ? args[1] : args[0]);
	}
	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list or two values", args[0]);
	if (json_array_size(args[0]) == 0) {
		expr_error_set(ev->err, n->off, "%s(): the list is empty",
		    n->fn->name);
		return NULL;
	}
	best = json_array_get(args[0], 0);
	for (i = 1; i < json_array_size(args[0]); i++) {
		if (expr_charge(ev, 1, n->off) == -1 ||
		    (c = coll_order(ev, n, json_array_get(args[0], i),
		    best)) == -2)
			return NULL;
		if (c == want)
			best = json_array_get(args[0], i);
	}
	return expr_ref(best);
}

/* join(l, sep) or join(sep, l): the items of l as text (strings as they
 * are, others as compact JSON) with sep between. */
json_t *
expr_fn_join(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	struct expr_buf b = { NULL, 0, 0, 0 };
	const json_t *l = args[0], *sep = args[1];
	json_t *r = NULL;
	size_t i;

	if (json_is_string(l) && json_is_array(sep)) {
		l = args[1];
		sep = args[0];
	}
	if (!json_is_array(l) || !json_is_string(sep))
		return expr_func_bad_arg(ev, n, "a list and a string", args[0]);
	for (i = 0; i < json_array_size(l); i++)
		if ((i > 0 && expr_buf_add(&b, json_string_value(sep),
		    json_string_length(sep)) == -1) ||
		    expr_buf_add_text(&b, json_array_get(l, i)) == -1) {
			expr_error_set(ev->err, n->off, b.over ? "join(): "
			    "output longer than the limit" : "out of memory");
			goto out;
		}
	if (expr_charge(ev, b.len, n->off) == 0)
		r = expr_string_new(b.len ? b.data : "", b.len, ev->err,
		    n->off);
out:
	expr_buf_free(&b);
	return r;
}
