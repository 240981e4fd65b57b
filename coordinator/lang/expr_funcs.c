/*
 * expr_funcs.c: the functions expressions may call, one table.
 *
 * The parser looks names up here (an unknown function is a parse error,
 * so expr_check finds it) and checks the argument count; a function gets
 * its arguments evaluated and borrows them.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

json_t *
expr_func_bad_arg(struct expr_eval *ev, const struct expr_node *n,
    const char *needs, const json_t *v)
{
	expr_error_set(ev->err, n->off, "%s() needs %s, not %s", n->fn->name,
	    needs, expr_type_name(v));
	return NULL;
}

/* task(name) or task(): the object the engine gives for the task. */
static json_t *
func_task(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	const struct expr_env *env = ev->env;
	const char *name = NULL;
	const json_t *t = NULL;

	if (args[0] != NULL) {
		if (!json_is_string(args[0]))
			return expr_func_bad_arg(ev, n, "a task name", args[0]);
		name = json_string_value(args[0]);
	}
	if (env->task != NULL)
		t = env->task(env->user, name);
	if (t != NULL)
		return expr_ref(t);
	if (name == NULL)
		expr_error_set(ev->err, n->off, "no current task");
	else
		expr_error_set(ev->err, n->off, "task '%.64s' not found", name);
	return NULL;
}

static json_t *
func_env(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	(void)n;
	(void)args;
	return ev->env->env ? expr_ref(ev->env->env) : json_object();
}

static json_t *
func_execution(struct expr_eval *ev, const struct expr_node *n,
    json_t **args)
{
	(void)n;
	(void)args;
	return ev->env->execution ? expr_ref(ev->env->execution) :
	    json_object();
}

/* Items of a list or object; characters (code points) of a string. */
static json_t *
func_len(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	const json_t *v = args[0];
	const char *s;
	size_t i, len, count = 0;

	if (json_is_array(v))
		return json_integer((json_int_t)json_array_size(v));
	if (json_is_object(v))
		return json_integer((json_int_t)json_object_size(v));
	if (!json_is_string(v))
		return expr_func_bad_arg(ev, n, "a string, list or object", v);
	s = json_string_value(v);
	len = json_string_length(v);
	if (expr_charge(ev, len / EXPR_SCAN_BYTES, n->off) == -1)
		return NULL;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return json_integer((json_int_t)count);
}

static json_t *
func_json_parse(struct expr_eval *ev, const struct expr_node *n,
    json_t **args)
{
	json_error_t jerr;
	json_t *v;

	if (!json_is_string(args[0]))
		return expr_func_bad_arg(ev, n, "a string", args[0]);
	if (expr_charge(ev, json_string_length(args[0]) / EXPR_SCAN_BYTES,
	    n->off) == -1)
		return NULL;
	v = json_loadb(json_string_value(args[0]), json_string_length(args[0]),
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (v == NULL)
		expr_error_set(ev->err, n->off, "json_parse(): %s at "
		    "character %d", jerr.text, jerr.position);
	return v;
}

/* Compact JSON (json_dump) or text (str) of the argument. */
static json_t *
func_text(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	struct expr_buf b = { NULL, 0, 0, 0 };
	json_t *r = NULL;
	int rc;

	if (strcmp(n->fn->name, "str") == 0)
		rc = expr_buf_add_text(&b, args[0]);
	else
		rc = expr_buf_add_json(&b, args[0]);
	if (rc == -1) {
		if (b.over)
			expr_error_set(ev->err, n->off, "%s() output longer "
			    "than %u bytes", n->fn->name, EXPR_MAX_BYTES);
		else
			expr_error_set(ev->err, n->off, "out of memory");
	} else if (expr_charge(ev, b.len, n->off) == 0)
		r = expr_string_new(b.len ? b.data : "", b.len, ev->err,
		    n->off);
	expr_buf_free(&b);
	return r;
}

/* Python's int(): reals toward zero, strings of decimal digits (spaces
 * around allowed), booleans as 0 and 1. */
static json_t *
func_int(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	const json_t *v = args[0];
	const char *s, *p;
	char *end;
	long long i;
	double d;

	if (json_is_integer(v))
		return json_incref(args[0]);
	if (json_is_boolean(v))
		return json_integer(json_is_true(v));
	if (json_is_real(v)) {
		d = trunc(json_real_value(v));
		/* 2^63: json_int_t's range, NaN fails both tests. */
		if (!(d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0)) {
			expr_error_set(ev->err, n->off, "int(): number out of "
			    "range");
			return NULL;
		}
		return json_integer((json_int_t)d);
	}
	if (!json_is_string(v))
		return expr_func_bad_arg(ev, n, "a number, string or boolean", v);
	s = json_string_value(v);
	for (p = s; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	if (*p == '+' || *p == '-')
		p++;
	errno = 0;
	if (*p >= '0' && *p <= '9') {
		i = strtoll(s, &end, 10);
		for (p = end; *p == ' ' || *p == '\t' || *p == '\n'; p++)
			;
		if (*p == '\0' && (size_t)(p - s) == json_string_length(v)) {
			if (errno != ERANGE)
				return json_integer(i);
			expr_error_set(ev->err, n->off, "int(): number out "
			    "of range");
			return NULL;
		}
	}
	expr_error_set(ev->err, n->off, "int(): '%.32s' is not an integer", s);
	return NULL;
}

static const struct expr_func expr_funcs[] = {
	{ "task", 0, 1, 0, func_task, 0 },
	{ "env", 0, 0, 0, func_env, 0 },
	{ "execution", 0, 0, 0, func_execution, 0 },
	{ "uuid", 0, 0, 0, expr_fn_uuid, 0 },
	{ "len", 1, 1, 1, func_len, 0 },
	{ "json_parse", 1, 1, 1, func_json_parse, 0 },
	{ "json_dump", 1, 1, 1, func_text, 0 },
	{ "str", 1, 1, 1, func_text, 0 },
	{ "int", 1, 1, 1, func_int, 0 },
	{ "float", 1, 1, 1, expr_fn_float, 0 },
	{ "bool", 1, 1, 1, expr_fn_bool, 0 },
	{ "isInteger", 1, 1, 1, expr_fn_is, 0 },
	{ "isNumber", 1, 1, 1, expr_fn_is, 0 },
	{ "isString", 1, 1, 1, expr_fn_is, 0 },
	{ "isList", 1, 1, 1, expr_fn_is, 0 },
	{ "isDict", 1, 1, 1, expr_fn_is, 0 },
	{ "isBoolean", 1, 1, 1, expr_fn_is, 0 },
	{ "startsWith", 2, EXPR_MAX_ARGS, 1, expr_fn_starts, 0 },
	{ "endsWith", 2, EXPR_MAX_ARGS, 1, expr_fn_starts, 0 },
	{ "list", 0, EXPR_MAX_ARGS, 0, expr_fn_list, 0 },
	{ "range", 1, 3, 0, expr_fn_range, 0 },
	{ "keys", 1, 1, 1, expr_fn_keys, 0 },
	{ "values", 1, 1, 1, expr_fn_keys, 0 },
	{ "items", 1, 1, 1, expr_fn_keys, 0 },
	{ "get", 2, 3, 1, expr_fn_get, 0 },
	{ "contains", 2, 2, 1, expr_fn_contains, 0 },
	{ "containsKey", 2, 2, 1, expr_fn_contains, 0 },
	{ "first", 1, 2, 1, expr_fn_first, 0 },
	{ "last", 1, 2, 1, expr_fn_first, 0 },
	{ "distinct", 1, 1, 1, expr_fn_distinct, 0 },
	{ "flatten", 1, 1, 1, expr_fn_flatten, 0 },
	{ "sum", 1, 1, 1, expr_fn_sum, 0 },
	{ "min", 1, 2, 1, expr_fn_min, 0 },
	{ "max", 1, 2, 1, expr_fn_min, 0 },
	{ "join", 2, 2, 1, expr_fn_join, 0 },
	{ "where", 2, 2, 1, expr_fn_where, 1 },
	{ "select", 2, 2, 1, expr_fn_where, 1 },
	{ "any", 1, 2, 1, expr_fn_any, 1 },
	{ "all", 2, 2, 1, expr_fn_any, 1 },
};

const struct expr_func *
expr_func_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(expr_funcs) / sizeof(expr_funcs[0]); i++)
		if (strlen(expr_funcs[i].name) == len &&
		    memcmp(expr_funcs[i].name, name, len) == 0)
			return &expr_funcs[i];
	return NULL;
}
