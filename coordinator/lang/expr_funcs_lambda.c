/*
 * expr_funcs_lambda.c: YAQL's functions that take an expression run once
 * per item, with $ the item (yaql's queries): where(l, pred),
 * select(l, expr), any(l[, pred]), all(l, pred). The expression is the
 * call's second kid, evaluated here (expr_func.lazy) with ev->item set;
 * the list (args[0]) is borrowed. Each returns a new reference, or NULL
 * with the error set.
 */
#include <string.h>

#include "expr_int.h"

/* The value of n's lambda for item v: a new reference, or NULL. */
static json_t *
lambda_eval(struct expr_eval *ev, const struct expr_node *n, const json_t *v)
{
	const json_t *saved = ev->item;
	json_t *r;

	ev->item = v;
	r = expr_eval_node(ev, n->kids[1]);
	ev->item = saved;
	return r;
}

/* where(l, pred): the items for which pred is true. select(l, expr): expr
 * of each item. */
json_t *
expr_fn_where(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	int select = strcmp(n->fn->name, "select") == 0;
	json_t *out, *v, *r;
	size_t i;

	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list", args[0]);
	if ((out = expr_list_new(ev, n->off)) == NULL)
		return NULL;
	json_array_foreach(args[0], i, v) {
		if ((r = lambda_eval(ev, n, v)) == NULL)
			goto fail;
		if (!select) {
			if (!expr_truthy(r)) {
				json_decref(r);
				continue;
			}
			json_decref(r);
			r = expr_ref(v);
		}
		/* the input list is under EXPR_MAX_ITEMS: so is out */
		if (json_array_append_new(out, r) == -1) {
			expr_error_set(ev->err, n->off, "out of memory");
			goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* any(l[, pred]): some item (pred of some item) is true; all(l, pred):
 * pred of every item is true. Stops at the first that decides. */
json_t *
expr_fn_any(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	int all = strcmp(n->fn->name, "all") == 0, t;
	json_t *v, *r;
	size_t i;

	if (!json_is_array(args[0]))
		return expr_func_bad_arg(ev, n, "a list", args[0]);
	json_array_foreach(args[0], i, v) {
		if (n->nkids < 2)
			t = expr_truthy(v);
		else {
			if ((r = lambda_eval(ev, n, v)) == NULL)
				return NULL;
			t = expr_truthy(r);
			json_decref(r);
		}
		if (t != all)
			return json_boolean(!all);
	}
	return json_boolean(all);
}
