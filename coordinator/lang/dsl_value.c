/*
 * dsl_value.c: YAML values as JSON. Plain scalars are typed by the YAML
 * 1.2 core schema (null ~ true false, ints in decimal, 0o octal and 0x
 * hex, floats); quoted scalars and the !!str tag are strings. .inf and
 * .nan have no JSON form and are refused, as are ints past 64 bits.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"

static int
dsl_is_one_of(const char *s, const char *const *v)
{
	for (; *v != NULL; v++)
		if (strcmp(s, *v) == 0)
			return 1;
	return 0;
}

static int
dsl_all_digits(const char *s, const char *set)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (strchr(set, *s) == NULL)
			return 0;
	return 1;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int
dsl_is_float(const char *s)
{
	int digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	while (*s >= '0' && *s <= '9') {
		s++;
		digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

json_t *
dsl_scalar_json(const char *s, size_t len, int plain)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
	    NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	static const char *const special[] = { ".inf", ".Inf", ".INF",
	    "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
	    ".NaN", ".NAN", NULL };
	const char *d = s;
	char *end;
	long long v;
	double f;
	int base = 10;

	if (!plain)
		return json_stringn(s, len);
	if (dsl_is_one_of(s, nulls))
		return json_null();
	if (dsl_is_one_of(s, trues))
		return json_true();
	if (dsl_is_one_of(s, falses))
		return json_false();
	if (dsl_is_one_of(s, special))
		return NULL;
	if (strncmp(s, "0o", 2) == 0 && dsl_all_digits(s + 2, "01234567")) {
		d = s + 2;
		base = 8;
	} else if (strncmp(s, "0x", 2) == 0 &&
	    dsl_all_digits(s + 2, "0123456789abcdefABCDEF")) {
		d = s + 2;
		base = 16;
	} else if (!dsl_all_digits(s + (*s == '-' || *s == '+'),
	    "0123456789")) {
		if (!dsl_is_float(s))
			return json_stringn(s, len);
		errno = 0;
		f = strtod(s, &end);
		if (errno != 0 || !isfinite(f))
			return NULL;
		return json_real(f);
	}
	errno = 0;
	v = strtoll(d, &end, base);
	if (errno != 0 || *end != '\0')
		return NULL;
	return json_integer(v);
}

json_t *
dsl_json(struct dsl_ctx *cx, const struct dsl_node *n)
{
	char show[DSL_SHOW];
	json_t *out, *v;
	size_t i;

	switch (n->kind) {
	case DSL_SCALAR:
		out = dsl_scalar_json(n->text, n->len, n->plain);
		if (out == NULL)
			dsl_error(cx, n, "%s has no JSON value (infinite, "
			    "not a number, or an integer past 64 bits)",
			    dsl_show(n->text, show, sizeof(show)));
		return out;
	case DSL_SEQ:
		if ((out = json_array()) == NULL)
			break;
		for (i = 0; i < n->n; i++) {
			if ((v = dsl_json(cx, n->kid[i])) == NULL) {
				json_decref(out);
				return NULL;
			}
			dsl_push(cx, out, v);
		}
		return out;
	case DSL_MAP:
		if ((out = json_object()) == NULL)
			break;
		for (i = 0; i + 1 < n->n; i += 2) {
			if ((v = dsl_json(cx, n->kid[i + 1])) == NULL) {
				json_decref(out);
				return NULL;
			}
			if (json_object_get(out, n->kid[i]->text) != NULL)
				json_decref(v);   /* duplicate: reported */
			else
				dsl_set(cx, out, n->kid[i]->text, v);
		}
		return out;
	}
	cx->oom = 1;
	return NULL;
}

const char *
dsl_str(const struct dsl_node *n)
{
	json_t *v;
	int is_str;

	if (n == NULL || n->kind != DSL_SCALAR)
		return NULL;
	if (!n->plain)
		return n->text;
	v = dsl_scalar_json(n->text, n->len, 1);
	is_str = json_is_string(v);
	json_decref(v);
	return is_str ? n->text : NULL;
}

const char *
dsl_what(const struct dsl_node *n)
{
	json_t *v;
	const char *what;

	if (n->kind == DSL_MAP)
		return "a mapping";
	if (n->kind == DSL_SEQ)
		return "a list";
	if (!n->plain)
		return "a string";
	/* NULL: .inf or .nan, a number JSON cannot hold */
	if ((v = dsl_scalar_json(n->text, n->len, 1)) == NULL)
		return "a number";
	switch (json_typeof(v)) {
	case JSON_NULL:
		what = "null";
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		what = "a boolean";
		break;
	case JSON_INTEGER:
		what = "an integer";
		break;
	case JSON_REAL:
		what = "a number";
		break;
	default:
		what = "a string";
	}
	json_decref(v);
	return what;
}

void
dsl_set(struct dsl_ctx *cx, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		cx->oom = 1;
}

void
dsl_push(struct dsl_ctx *cx, json_t *arr, json_t *v)
{
	if (v == NULL || json_array_append_new(arr, v) != 0)
		cx->oom = 1;
}

int
dsl_is_expr(const char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n < 4)
		return 0;
	if (strncmp(s, "<%", 2) == 0 && strncmp(s + n - 2, "%>", 2) == 0)
		return strstr(s + 2, "%>") == s + n - 2;
	if (strncmp(s, "{{", 2) == 0 && strncmp(s + n - 2, "}}", 2) == 0)
		return strstr(s + 2, "}}") == s + n - 2;
	return 0;
}

int
dsl_name_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 255)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

const char *
dsl_got(const struct dsl_node *n, char *buf, size_t len)
{
	char show[DSL_SHOW];

	if (n->kind != DSL_SCALAR)
		return dsl_what(n);
	if (dsl_str(n) != NULL)
		snprintf(buf, len, "'%s'", dsl_show(n->text, show,
		    sizeof(show)));
	else
		snprintf(buf, len, "%s", dsl_show(n->text[0] ? n->text :
		    "null", show, sizeof(show)));
	return buf;
}
