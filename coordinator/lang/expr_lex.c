/*
 * expr_lex.c: tokens of the expression grammar.
 *
 * The lexer is the same for YAQL and Jinja; the parser decides which
 * tokens a syntax accepts. Tokens are spans of the source: a string
 * literal is decoded only when the parser keeps it (expr_lex_string).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

void
expr_error_set(struct expr_error *e, size_t off, const char *fmt, ...)
{
	va_list ap;

	e->off = off;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static int
lex_is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
lex_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

size_t
expr_lex_skip_string(const char *s, size_t len, size_t i)
{
	char q = s[i];

	for (i++; i < len; i++) {
		if (s[i] == '\\') {
			if (++i == len)
				break;
		} else if (s[i] == q)
			return i + 1;
	}
	return 0;
}

/* A number: digits, then an optional fraction (a dot and a digit: "1.a"
 * is 1 then .a) and exponent. */
static size_t
lex_number(const char *s, size_t len, size_t i, enum expr_tok_kind *kind)
{
	size_t j;

	*kind = TOK_INT;
	while (i < len && lex_is_digit(s[i]))
		i++;
	if (i + 1 < len && s[i] == '.' && lex_is_digit(s[i + 1])) {
		*kind = TOK_REAL;
		for (i++; i < len && lex_is_digit(s[i]); i++)
			;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		j = i + 1;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < len && lex_is_digit(s[j])) {
			*kind = TOK_REAL;
			for (i = j; i < len && lex_is_digit(s[i]); i++)
				;
		}
	}
	return i;
}

/* One- and two-character operators. */
static const struct {
	char text[3];
	enum expr_tok_kind kind;
} lex_ops[] = {
	{ "==", TOK_EQ }, { "!=", TOK_NE }, { "<=", TOK_LE }, { ">=", TOK_GE },
	{ "(", TOK_LPAREN }, { ")", TOK_RPAREN }, { "[", TOK_LBRACK },
	{ "]", TOK_RBRACK }, { "{", TOK_LBRACE }, { "}", TOK_RBRACE },
	{ ",", TOK_COMMA }, { ":", TOK_COLON }, { ".", TOK_DOT },
	{ "+", TOK_PLUS }, { "-", TOK_MINUS }, { "*", TOK_STAR },
	{ "/", TOK_SLASH }, { "%", TOK_PERCENT }, { "~", TOK_TILDE },
	{ "|", TOK_PIPE }, { "=", TOK_ASSIGN }, { "<", TOK_LT },
	{ ">", TOK_GT }, { "$", TOK_DOLLAR },
};

int
expr_lex_next(struct expr_lexer *lx, struct expr_tok *t, struct expr_error *e)
{
	const char *s = lx->src;
	size_t i = lx->pos, end, k, n;
	unsigned char c;

	while (i < lx->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	t->off = i;
	t->len = 0;
	if (i == lx->len) {
		t->kind = TOK_END;
		lx->pos = i;
		return 0;
	}
	if (s[i] == '\'' || s[i] == '"') {
		if ((end = expr_lex_skip_string(s, lx->len, i)) == 0) {
			expr_error_set(e, i, "unterminated string");
			return -1;
		}
		t->kind = TOK_STRING;
	} else if (lex_is_digit(s[i])) {
		end = lex_number(s, lx->len, i, &t->kind);
	} else if (lex_is_name_start(s[i])) {
		for (end = i + 1; end < lx->len && (lex_is_name_start(s[end]) ||
		    lex_is_digit(s[end])); end++)
			;
		t->kind = TOK_NAME;
	} else {
		for (k = 0; k < sizeof(lex_ops) / sizeof(lex_ops[0]); k++) {
			n = strlen(lex_ops[k].text);
			if (i + n <= lx->len &&
			    memcmp(s + i, lex_ops[k].text, n) == 0)
				break;
		}
		if (k == sizeof(lex_ops) / sizeof(lex_ops[0])) {
			c = (unsigned char)s[i];
			if (c > 0x20 && c < 0x7f)
				expr_error_set(e, i,
				    "unexpected character '%c'", c);
			else
				expr_error_set(e, i,
				    "unexpected character 0x%02x", c);
			return -1;
		}
		t->kind = lex_ops[k].kind;
		end = i + n;
	}
	t->len = end - i;
	lx->pos = end;
	return 0;
}

static int
lex_hex4(const char *p, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		*v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*v |= (uint32_t)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			*v |= (uint32_t)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			*v |= (uint32_t)(p[i] - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static size_t
lex_utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * \uXXXX at p (a surrogate pair takes two): the code point, and in *used
 * the source bytes it takes. -1 for bad hex, a lone surrogate or U+0000
 * (strings stay C strings).
 */
static int
lex_unicode(const char *p, const char *end, uint32_t *cp, size_t *used)
{
	uint32_t lo;

	if (end - p < 6 || lex_hex4(p + 2, cp) == -1 || *cp == 0)
		return -1;
	*used = 6;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return -1;
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
		    lex_hex4(p + 8, &lo) == -1 || lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
		*used = 12;
	}
	return 0;
}

json_t *
expr_lex_string(const char *src, const struct expr_tok *t,
    struct expr_error *e)
{
	const char *p = src + t->off + 1, *end = src + t->off + t->len - 1;
	char *out, *o;
	json_t *v = NULL;
	uint32_t cp;
	size_t used;

	/* Decoded text is never longer than the literal. */
	if ((o = out = malloc(t->len + 1)) == NULL) {
		expr_error_set(e, t->off, "out of memory");
		return NULL;
	}
	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		switch (p[1]) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case '\\': case '\'': case '"': case '/':
			*o++ = p[1];
			break;
		case 'u':
			if (lex_unicode(p, end, &cp, &used) == -1) {
				expr_error_set(e, (size_t)(p - src),
				    "bad \\u escape");
				goto out;
			}
			o += lex_utf8_put(cp, o);
			p += used;
			continue;
		default:
			expr_error_set(e, (size_t)(p - src),
			    "bad escape '\\%c'",
			    p[1] > 0x20 && p[1] < 0x7f ? p[1] : '?');
			goto out;
		}
		p += 2;
	}
	v = expr_string_new(out, (size_t)(o - out), e, t->off);
out:
	free(out);
	return v;
}
