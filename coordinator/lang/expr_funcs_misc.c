/*
 * expr_funcs_misc.c: YAQL's functions on single values: bool, float,
 * isInteger, isNumber, isString, isList, isDict, isBoolean, startsWith,
 * endsWith, and Mistral's uuid(). Arguments are borrowed; each returns a
 * new reference, or NULL with the error set.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "expr_int.h"

/* bool(x): Python's truth of x. */
json_t *
expr_fn_bool(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	(void)ev;
	(void)n;
	return json_boolean(expr_truthy(args[0]));
}

/* float(x): numbers, booleans and decimal strings (Python's float(),
 * without inf and nan, which JSON cannot hold). */
json_t *
expr_fn_float(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	const char *s;
	char *end;
	double d;

	if (json_is_number(args[0]))
		return json_real(json_number_value(args[0]));
	if (json_is_boolean(args[0]))
		return json_real(json_is_true(args[0]) ? 1.0 : 0.0);
	if (!json_is_string(args[0])) {
		expr_error_set(ev->err, n->off, "float() needs a number, "
		    "string or boolean, not %s", expr_type_name(args[0]));
		return NULL;
	}
	s = json_string_value(args[0]);
	errno = 0;
	d = strtod(s, &end);
	while (end != s && (*end == ' ' || *end == '\t' || *end == '\n'))
		end++;
	if (end == s || *end != '\0' || !isfinite(d) ||
	    strlen(s) != json_string_length(args[0]) ||
	    strpbrk(s, "xXnNiI") != NULL) {
		expr_error_set(ev->err, n->off, "float(): '%.32s' is not a "
		    "number", s);
		return NULL;
	}
	return json_real(d);
}

/* isInteger, isNumber, isString, isList, isDict, isBoolean: the type of
 * x (booleans are not integers, as in yaql). */
json_t *
expr_fn_is(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	const char *t = n->fn->name + 2;
	const json_t *v = args[0];

	(void)ev;
	if (strcmp(t, "Integer") == 0)
		return json_boolean(json_is_integer(v));
	if (strcmp(t, "Number") == 0)
		return json_boolean(json_is_number(v));
	if (strcmp(t, "String") == 0)
		return json_boolean(json_is_string(v));
	if (strcmp(t, "List") == 0)
		return json_boolean(json_is_array(v));
	if (strcmp(t, "Dict") == 0)
		return json_boolean(json_is_object(v));
	return json_boolean(json_is_boolean(v));
}

/* startsWith(s, p1[, p2...]), endsWith(s, p1[, ...]): s begins (ends)
 * with one of the strings. */
json_t *
expr_fn_starts(struct expr_eval *ev, const struct expr_node *n,
    json_t **args)
{
	int end = strcmp(n->fn->name, "endsWith") == 0;
	size_t i, len, plen;
	const char *s;

	for (i = 0; i < n->nkids; i++)
		if (!json_is_string(args[i])) {
			expr_error_set(ev->err, n->off, "%s() needs strings, "
			    "not %s", n->fn->name, expr_type_name(args[i]));
			return NULL;
		}
	s = json_string_value(args[0]);
	len = json_string_length(args[0]);
	for (i = 1; i < n->nkids; i++) {
		plen = json_string_length(args[i]);
		if (expr_charge(ev, plen / EXPR_SCAN_BYTES, n->off) == -1)
			return NULL;
		if (plen <= len && memcmp(s + (end ? len - plen : 0),
		    json_string_value(args[i]), plen) == 0)
			return json_true();
	}
	return json_false();
}

/* uuid(): a new random (version 4) UUID as Mistral's uuid() gives. */
json_t *
expr_fn_uuid(struct expr_eval *ev, const struct expr_node *n, json_t **args)
{
	unsigned char b[16];
	char s[37];

	(void)args;
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		expr_error_set(ev->err, n->off, "uuid(): no random bytes");
		return NULL;
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	snprintf(s, sizeof(s), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return json_string(s);
}
