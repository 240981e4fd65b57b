/*
 * dsl_errors.c: the errors of one parse. Each is kept with its position,
 * up to DSL_ERRORS_MAX; dsl_errors_flush sorts them by position (ties in
 * the order found) and formats "file:line:column: sentence".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"

static void dsl_error_v(struct dsl_ctx *, unsigned, unsigned, const char *,
    va_list) __attribute__((format(printf, 4, 0)));

static void
dsl_error_v(struct dsl_ctx *cx, unsigned line, unsigned col, const char *fmt,
    va_list ap)
{
	struct dsl_err *nv;
	char msg[512];
	size_t cap;

	if (cx->n_err > DSL_ERRORS_MAX)
		return;
	if (cx->n_err == DSL_ERRORS_MAX) {
		/* One more, after every other position: says we stopped. */
		line = ~0u;
		col = ~0u;
		snprintf(msg, sizeof(msg), "too many errors; stopped after %d",
		    DSL_ERRORS_MAX);
	} else
		vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cx->n_err == cx->cap_err) {
		cap = cx->cap_err ? cx->cap_err * 2 : 16;
		nv = realloc(cx->err, cap * sizeof(*nv));
		if (nv == NULL) {
			cx->oom = 1;
			return;
		}
		cx->err = nv;
		cx->cap_err = cap;
	}
	if ((cx->err[cx->n_err].msg = strdup(msg)) == NULL) {
		cx->oom = 1;
		return;
	}
	cx->err[cx->n_err].line = line;
	cx->err[cx->n_err].col = col;
	cx->err[cx->n_err].seq = cx->n_err;
	cx->n_err++;
}

void
dsl_error_at(struct dsl_ctx *cx, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dsl_error_v(cx, line, col, fmt, ap);
	va_end(ap);
}

void
dsl_error(struct dsl_ctx *cx, const struct dsl_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dsl_error_v(cx, at ? at->line : 1, at ? at->col : 1, fmt, ap);
	va_end(ap);
}

static int
dsl_err_cmp(const void *a, const void *b)
{
	const struct dsl_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Append one formatted line to out; on failure the line is lost. */
static void
dsl_errors_append(struct dsl_errors *out, char *line)
{
	char **nv;

	if (line == NULL)
		return;
	nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(line);
		return;
	}
	out->v = nv;
	out->v[out->n++] = line;
}

void
dsl_errors_flush(struct dsl_ctx *cx, struct dsl_errors *out)
{
	char *line;
	size_t i;

	qsort(cx->err, cx->n_err, sizeof(cx->err[0]), dsl_err_cmp);
	for (i = 0; i < cx->n_err; i++) {
		line = NULL;
		if (cx->err[i].line == ~0u) {
			if (asprintf(&line, "%s: %s", cx->file,
			    cx->err[i].msg) < 0)
				line = NULL;
		} else if (cx->err[i].line == 0) {
			/* Not in the text: the file as a whole. */
			if (asprintf(&line, "%s: %s", cx->file,
			    cx->err[i].msg) < 0)
				line = NULL;
		} else if (asprintf(&line, "%s:%u:%u: %s", cx->file,
		    cx->err[i].line, cx->err[i].col, cx->err[i].msg) < 0)
			line = NULL;
		dsl_errors_append(out, line);
	}
	if (cx->oom) {
		if (asprintf(&line, "%s: out of memory", cx->file) < 0)
			line = NULL;
		dsl_errors_append(out, line);
	}
	dsl_ctx_clear(cx);
}

void
dsl_ctx_clear(struct dsl_ctx *cx)
{
	size_t i;

	for (i = 0; i < cx->n_err; i++)
		free(cx->err[i].msg);
	free(cx->err);
	cx->err = NULL;
	cx->n_err = cx->cap_err = 0;
	cx->oom = 0;
}

void
dsl_errors_free(struct dsl_errors *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

const char *
dsl_show(const char *s, char *buf, size_t n)
{
	size_t i, max = 60;

	if (max > n - 4)
		max = n - 4;
	for (i = 0; s[i] != '\0' && i < max; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	/* Do not cut a UTF-8 character in two. */
	if (s[i] != '\0') {
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}
