/*
 * expr_arith.c: + - * / mod (%) and ~ on values.
 *
 * Integers stay integers and overflow is an error; a real on either side
 * gives a real. "/" follows each syntax's Python origin: YAQL divides two
 * integers to an integer (floored, yaql's int / int), Jinja to a real.
 * mod and % take the sign of the divisor, as in Python. + joins two
 * strings or two lists, * repeats a string or list, ~ joins the text of
 * any two values. What these build is charged to the budget before it is
 * built, and capped at EXPR_MAX_BYTES / EXPR_MAX_ITEMS.
 */
#include <math.h>
#include <string.h>

#include "expr_int.h"

_Static_assert(sizeof(json_int_t) == sizeof(long long),
    "EXPR_INT_MIN assumes json_int_t is long long");

static json_t *
arith_fail(struct expr_eval *ev, const struct expr_node *n, const char *what,
    const json_t *a, const json_t *b)
{
	expr_error_set(ev->err, n->off, "cannot %s %s and %s", what,
	    expr_type_name(a), expr_type_name(b));
	return NULL;
}

static json_t *
arith_real(struct expr_eval *ev, const struct expr_node *n, double d)
{
	if (!isfinite(d)) {
		expr_error_set(ev->err, n->off, "number out of range");
		return NULL;
	}
	return json_real(d);
}

static json_t *
arith_int(struct expr_eval *ev, const struct expr_node *n, json_int_t x,
    json_int_t y)
{
	json_int_t r, q;
	int over = 0;

	switch (n->op) {
	case EXPR_ADD:
		over = __builtin_add_overflow(x, y, &r);
		break;
	case EXPR_SUB:
		over = __builtin_sub_overflow(x, y, &r);
		break;
	case EXPR_MUL:
		over = __builtin_mul_overflow(x, y, &r);
		break;
	default:                      /* DIV, MOD: floored */
		if (y == 0) {
			expr_error_set(ev->err, n->off, "division by zero");
			return NULL;
		}
		if (x == EXPR_INT_MIN && y == -1) {
			over = n->op == EXPR_DIV;
			r = 0;
			break;
		}
		q = x / y;
		r = x % y;
		if (r != 0 && (r < 0) != (y < 0)) {
			q--;
			r += y;
		}
		if (n->op == EXPR_DIV)
			r = q;
		break;
	}
	if (over) {
		expr_error_set(ev->err, n->off, "integer overflow");
		return NULL;
	}
	return json_integer(r);
}

static json_t *
arith_number(struct expr_eval *ev, const struct expr_node *n, json_t *a,
    json_t *b)
{
	double x, y, r;

	if (json_is_integer(a) && json_is_integer(b) && (n->op != EXPR_DIV ||
	    ev->mode == EXPR_YAQL))
		return arith_int(ev, n, json_integer_value(a),
		    json_integer_value(b));
	x = json_number_value(a);
	y = json_number_value(b);
	if ((n->op == EXPR_DIV || n->op == EXPR_MOD) && y == 0.0) {
		expr_error_set(ev->err, n->off, "division by zero");
		return NULL;
	}
	switch (n->op) {
	case EXPR_ADD: r = x + y; break;
	case EXPR_SUB: r = x - y; break;
	case EXPR_MUL: r = x * y; break;
	case EXPR_DIV: r = x / y; break;
	default:
		r = fmod(x, y);
		if (r != 0.0 && (r < 0.0) != (y < 0.0))
			r += y;
		break;
	}
	return arith_real(ev, n, r);
}

/* The text of a and b, count times (count 1 for joins, b NULL for
 * repetition). */
static json_t *
arith_text(struct expr_eval *ev, const struct expr_node *n, const json_t *a,
    const json_t *b, json_int_t count)
{
	struct expr_buf buf = { NULL, 0, 0, 0 }, piece = { NULL, 0, 0, 0 };
	json_t *r = NULL;

	if (count < 0)
		count = 0;
	if (expr_buf_add_text(&piece, a) == -1 ||
	    (b != NULL && expr_buf_add_text(&piece, b) == -1))
		goto nomem;
	if (piece.len == 0)
		count = 0;      /* "" repeated: no loop of count turns */
	if (piece.len > 0 && (size_t)count > EXPR_MAX_BYTES / piece.len) {
		buf.over = 1;
		goto nomem;
	}
	if (expr_charge(ev, (unsigned long)piece.len * (unsigned long)count,
	    n->off) == -1)
		goto out;
	for (; count > 0; count--)
		if (expr_buf_add(&buf, piece.data, piece.len) == -1)
			goto nomem;
	r = expr_string_new(buf.len ? buf.data : "", buf.len, ev->err, n->off);
	goto out;
nomem:
	if (buf.over || piece.over)
		expr_error_set(ev->err, n->off, "string longer than %u bytes",
		    EXPR_MAX_BYTES);
	else
		expr_error_set(ev->err, n->off, "out of memory");
out:
	expr_buf_free(&piece);
	expr_buf_free(&buf);
	return r;
}

/* a + b for lists, or a repeated count times (b NULL). */
static json_t *
arith_list(struct expr_eval *ev, const struct expr_node *n, json_t *a,
    json_t *b, json_int_t count)
{
	size_t one = json_array_size(a) + (b ? json_array_size(b) : 0);
	json_t *r;

	if (count < 0 || one == 0)
		count = 0;      /* [] repeated: no loop of count turns (a
		                   fuzzer's [] * 44444444444 ran for 995 s) */
	if (one > 0 && (size_t)count > EXPR_MAX_ITEMS / one) {
		expr_error_set(ev->err, n->off, "list longer than %u items",
		    EXPR_MAX_ITEMS);
		return NULL;
	}
	if (expr_charge(ev, (unsigned long)(one * (size_t)count), n->off) == -1)
		return NULL;
	if ((r = json_array()) == NULL)
		goto oom;
	for (; count > 0; count--)
		if (json_array_extend(r, a) == -1 ||
		    (b != NULL && json_array_extend(r, b) == -1))
			goto oom;
	return r;
oom:
	json_decref(r);
	expr_error_set(ev->err, n->off, "out of memory");
	return NULL;
}

/* String or list times integer, either way round. */
static json_t *
arith_repeat(struct expr_eval *ev, const struct expr_node *n, json_t *a,
    json_t *b)
{
	json_t *seq = json_is_integer(a) ? b : a;
	json_t *times = json_is_integer(a) ? a : b;

	if (!json_is_integer(times))
		return arith_fail(ev, n, "multiply", a, b);
	if (json_is_string(seq))
		return arith_text(ev, n, seq, NULL, json_integer_value(times));
	if (json_is_array(seq))
		return arith_list(ev, n, seq, NULL, json_integer_value(times));
	return arith_fail(ev, n, "multiply", a, b);
}

json_t *
expr_eval_arith(struct expr_eval *ev, const struct expr_node *n, json_t *a,
    json_t *b)
{
	static const char *const verbs[] = {
		[EXPR_ADD] = "add", [EXPR_SUB] = "subtract",
		[EXPR_MUL] = "multiply", [EXPR_DIV] = "divide",
		[EXPR_MOD] = "take the modulo of",
	};

	if (n->op == EXPR_CAT)
		return arith_text(ev, n, a, b, 1);
	if (json_is_number(a) && json_is_number(b))
		return arith_number(ev, n, a, b);
	if (n->op == EXPR_ADD && json_is_string(a) && json_is_string(b))
		return arith_text(ev, n, a, b, 1);
	if (n->op == EXPR_ADD && json_is_array(a) && json_is_array(b))
		return arith_list(ev, n, a, b, 1);
	if (n->op == EXPR_MUL)
		return arith_repeat(ev, n, a, b);
	return arith_fail(ev, n, verbs[n->op], a, b);
}
