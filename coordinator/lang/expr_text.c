/*
 * expr_text.c: values as text, into buffers capped at EXPR_MAX_BYTES.
 *
 * Our own compact JSON writer rather than json_dumps: jansson writes reals
 * with 17 digits (0.1 as 0.10000000000000001), we write the shortest form
 * that reads back the same (0.1), as Python does; and the cap stops the
 * output as it grows instead of after the whole dump is built.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

int
expr_buf_add(struct expr_buf *b, const char *p, size_t n)
{
	size_t cap;
	char *d;

	if (n == 0)
		return 0;
	if (n > EXPR_MAX_BYTES - b->len) {
		b->over = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void
expr_buf_free(struct expr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Shortest %g that reads back as d, with ".0" when it looks like an
 * integer (1.0 stays a real when read back). */
static int
text_real(struct expr_buf *b, double d)
{
	char buf[40];
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17g", d);
	if (strpbrk(buf, ".eEn") == NULL)     /* n: inf, nan */
		strcat(buf, ".0");
	return expr_buf_add(b, buf, strlen(buf));
}

/* A JSON string: quotes, backslashes and control bytes escaped, other
 * bytes (UTF-8) as they are, like jansson's default. */
static int
text_string(struct expr_buf *b, const char *p, size_t n)
{
	char esc[8];
	size_t i, run = 0;

	if (expr_buf_add(b, "\"", 1) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (expr_buf_add(b, p + run, i - run) == -1)
			return -1;
		run = i + 1;
		switch (c) {
		case '"': strcpy(esc, "\\\""); break;
		case '\\': strcpy(esc, "\\\\"); break;
		case '\n': strcpy(esc, "\\n"); break;
		case '\t': strcpy(esc, "\\t"); break;
		case '\r': strcpy(esc, "\\r"); break;
		case '\b': strcpy(esc, "\\b"); break;
		case '\f': strcpy(esc, "\\f"); break;
		default: snprintf(esc, sizeof(esc), "\\u%04x", c); break;
		}
		if (expr_buf_add(b, esc, strlen(esc)) == -1)
			return -1;
	}
	if (expr_buf_add(b, p + run, n - run) == -1)
		return -1;
	return expr_buf_add(b, "\"", 1);
}

int
expr_buf_add_json(struct expr_buf *b, const json_t *v)
{
	/* json_object_foreach wants a mutable object; it only reads it. */
	json_t *obj = (json_t *)(uintptr_t)v;
	const char *key;
	json_t *item;
	char buf[32];
	size_t i;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (expr_buf_add(b, "{", 1) == -1)
			return -1;
		json_object_foreach(obj, key, item) {
			if ((!first && expr_buf_add(b, ",", 1) == -1) ||
			    text_string(b, key, json_object_iter_key_len(
			    json_object_key_to_iter(key))) == -1 ||
			    expr_buf_add(b, ":", 1) == -1 ||
			    expr_buf_add_json(b, item) == -1)
				return -1;
			first = 0;
		}
		return expr_buf_add(b, "}", 1);
	case JSON_ARRAY:
		if (expr_buf_add(b, "[", 1) == -1)
			return -1;
		for (i = 0; i < json_array_size(v); i++)
			if ((i > 0 && expr_buf_add(b, ",", 1) == -1) ||
			    expr_buf_add_json(b, json_array_get(v, i)) == -1)
				return -1;
		return expr_buf_add(b, "]", 1);
	case JSON_STRING:
		return text_string(b, json_string_value(v),
		    json_string_length(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return expr_buf_add(b, buf, strlen(buf));
	case JSON_REAL:
		return text_real(b, json_real_value(v));
	case JSON_TRUE:
		return expr_buf_add(b, "true", 4);
	case JSON_FALSE:
		return expr_buf_add(b, "false", 5);
	default:
		return expr_buf_add(b, "null", 4);
	}
}

int
expr_buf_add_text(struct expr_buf *b, const json_t *v)
{
	if (json_is_string(v))
		return expr_buf_add(b, json_string_value(v),
		    json_string_length(v));
	return expr_buf_add_json(b, v);
}

json_t *
expr_string_new(const char *p, size_t n, struct expr_error *e, size_t off)
{
	json_t *v;

	if ((v = json_stringn(p, n)) == NULL)
		expr_error_set(e, off, "string is not valid UTF-8");
	return v;
}
