/*
 * expr_parse.c: recursive descent from tokens to a syntax tree.
 *
 * Precedence, loosest first, as in Python (and Jinja):
 *   or; and; not; comparisons and (not) in; ~ (Jinja);
 *   + -; * / % (Jinja) mod (YAQL); unary - +; postfix . [] and calls.
 * Comparisons do not chain ("a < b < c" is an error, not Python's meaning).
 *
 * Two limits keep hostile input from overflowing the stack: parser
 * recursion (parentheses, brackets, unary operators) stops at
 * EXPR_MAX_NEST, and the tree (which evaluation walks recursively) at
 * EXPR_MAX_HEIGHT, which left-leaning chains like 1+1+...+1 would pass.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

struct parser {
	struct expr_lexer lx;
	struct expr_tok tok;         /* the current token */
	enum expr_mode mode;
	unsigned nest;
	struct expr_error *e;
};

static struct expr_node *parse_expr(struct parser *);
static struct expr_node *parse_not(struct parser *);
static struct expr_node *parse_unary(struct parser *);

void
expr_node_free(struct expr_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		expr_node_free(n->kids[i]);
	free(n->kids);
	json_decref(n->val);
	free(n);
}

static struct expr_node *
node_new(struct parser *p, enum expr_op op, size_t off)
{
	struct expr_node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		expr_error_set(p->e, off, "out of memory");
		return NULL;
	}
	n->op = op;
	n->off = off;
	n->height = 1;
	return n;
}

/* Append kid to n; n owns kid even when this fails (then both are freed,
 * and NULL returned), so callers can chain without cleanup. */
static struct expr_node *
node_add(struct parser *p, struct expr_node *n, struct expr_node *kid)
{
	struct expr_node **k;

	if (n == NULL || kid == NULL)
		goto fail;
	if ((n->nkids & (n->nkids - 1)) == 0) {     /* 0, 1, 2, 4...: grow */
		k = realloc(n->kids, (n->nkids ? 2 * n->nkids : 1) *
		    sizeof(*k));
		if (k == NULL) {
			expr_error_set(p->e, kid->off, "out of memory");
			goto fail;
		}
		n->kids = k;
	}
	n->kids[n->nkids++] = kid;
	if (kid->height + 1 > n->height)
		n->height = kid->height + 1;
	if (n->height > EXPR_MAX_HEIGHT) {
		expr_error_set(p->e, n->off,
		    "expression deeper than %d levels", EXPR_MAX_HEIGHT);
		expr_node_free(n);
		return NULL;
	}
	return n;
fail:
	expr_node_free(n);
	expr_node_free(kid);
	return NULL;
}

static struct expr_node *
node_binary(struct parser *p, enum expr_op op, size_t off,
    struct expr_node *l, struct expr_node *r)
{
	struct expr_node *n;

	if (l == NULL || r == NULL) {
		expr_node_free(l);
		expr_node_free(r);
		return NULL;
	}
	if ((n = node_new(p, op, off)) == NULL) {
		expr_node_free(l);
		expr_node_free(r);
		return NULL;
	}
	return node_add(p, node_add(p, n, l), r);
}

static int
advance(struct parser *p)
{
	return expr_lex_next(&p->lx, &p->tok, p->e);
}

/* The current token is the name w. */
static int
is_word(const struct parser *p, const char *w)
{
	return p->tok.kind == TOK_NAME && p->tok.len == strlen(w) &&
	    memcmp(p->lx.src + p->tok.off, w, p->tok.len) == 0;
}

static void
unexpected(struct parser *p)
{
	const struct expr_tok *t = &p->tok;

	if (t->kind == TOK_END)
		expr_error_set(p->e, t->off, "unexpected end");
	else if (t->kind == TOK_PIPE && p->mode == EXPR_JINJA)
		expr_error_set(p->e, t->off, "filters are not supported");
	else if (t->kind == TOK_DOLLAR && p->mode == EXPR_JINJA)
		expr_error_set(p->e, t->off, "unexpected '$' (the context "
		    "is '_' in Jinja)");
	else if (t->kind == TOK_ASSIGN && p->mode == EXPR_JINJA)
		expr_error_set(p->e, t->off, "unexpected '=' (use '==')");
	else
		expr_error_set(p->e, t->off, "unexpected '%.*s'",
		    t->len > 24 ? 24 : (int)t->len, p->lx.src + t->off);
}

/* Consume a token of kind k, else fail naming what was expected. */
static int
expect(struct parser *p, enum expr_tok_kind k, const char *what)
{
	const struct expr_tok *t = &p->tok;

	if (t->kind == k)
		return advance(p);
	if (t->kind == TOK_END)
		expr_error_set(p->e, t->off, "expected %s but found the end",
		    what);
	else if (t->kind == TOK_PIPE && p->mode == EXPR_JINJA)
		unexpected(p);
	else
		expr_error_set(p->e, t->off, "expected %s but found '%.*s'",
		    what, t->len > 24 ? 24 : (int)t->len, p->lx.src + t->off);
	return -1;
}

static int
nest_enter(struct parser *p)
{
	if (++p->nest > EXPR_MAX_NEST) {
		expr_error_set(p->e, p->tok.off,
		    "nesting deeper than %d levels", EXPR_MAX_NEST);
		return -1;
	}
	return 0;
}

static struct expr_node *
parse_number(struct parser *p)
{
	const struct expr_tok *t = &p->tok;
	struct expr_node *n;
	char buf[64];
	long long i;
	double d;
	json_t *v;

	if (t->len >= sizeof(buf)) {
		expr_error_set(p->e, t->off, "number too long");
		return NULL;
	}
	memcpy(buf, p->lx.src + t->off, t->len);
	buf[t->len] = '\0';
	errno = 0;
	if (t->kind == TOK_INT) {
		i = strtoll(buf, NULL, 10);
		if (errno == ERANGE) {
			expr_error_set(p->e, t->off, "integer too large");
			return NULL;
		}
		v = json_integer(i);
	} else {
		d = strtod(buf, NULL);
		if (!isfinite(d)) {
			expr_error_set(p->e, t->off, "number out of range");
			return NULL;
		}
		v = json_real(d);
	}
	if (v == NULL || (n = node_new(p, EXPR_CONST, t->off)) == NULL) {
		if (v == NULL)
			expr_error_set(p->e, t->off, "out of memory");
		json_decref(v);
		return NULL;
	}
	n->val = v;
	if (advance(p) == -1) {
		expr_node_free(n);
		return NULL;
	}
	return n;
}

static struct expr_node *
parse_const(struct parser *p, json_t *v)
{
	struct expr_node *n;

	if ((n = node_new(p, EXPR_CONST, p->tok.off)) == NULL)
		return NULL;
	n->val = v;
	if (advance(p) == -1) {
		expr_node_free(n);
		return NULL;
	}
	return n;
}

/* Items up to the closing token: "[a, b]", "f(a, b)", "{k: v, k: v}"
 * (pairs: a colon between key and value). A trailing comma is allowed
 * except in calls, which also take no pairs. */
static struct expr_node *
parse_items(struct parser *p, struct expr_node *n, enum expr_tok_kind close,
    const char *what, int pairs)
{
	while (p->tok.kind != close) {
		if ((n = node_add(p, n, parse_expr(p))) == NULL)
			return NULL;
		if (pairs && (expect(p, TOK_COLON, "':'") == -1 ||
		    (n = node_add(p, n, parse_expr(p))) == NULL))
			goto fail;
		if (p->tok.kind != TOK_COMMA)
			break;
		if (advance(p) == -1)
			goto fail;
		if (n->op == EXPR_CALL && p->tok.kind == close) {
			unexpected(p);
			goto fail;
		}
	}
	if (expect(p, close, what) == -1)
		goto fail;
	return n;
fail:
	expr_node_free(n);
	return NULL;
}

/* task(name) with the name unquoted, as Mistral's documents write it:
 * a bare word that is the only argument is the task's name. */
static int
task_bare_name(const struct parser *p)
{
	struct expr_lexer ahead = p->lx;
	struct expr_tok next;
	struct expr_error ignore;

	return expr_lex_next(&ahead, &next, &ignore) == 0 &&
	    next.kind == TOK_RPAREN && !is_word(p, "true") &&
	    !is_word(p, "false") && !is_word(p, "null");
}

/* The arguments of call n up to ')' (the current token is the first
 * after '('), checked against the function's count; recv is 1 for a
 * method call, whose receiver is already n's first kid. n is freed on
 * error. */
static struct expr_node *
parse_args(struct parser *p, struct expr_node *n, size_t recv)
{
	const struct expr_func *fn = n->fn;
	size_t off = n->off;

	if ((n = parse_items(p, n, TOK_RPAREN, "')'", 0)) == NULL)
		return NULL;
	if (n->nkids < fn->min_args || n->nkids > fn->max_args) {
		if (fn->min_args == fn->max_args)
			expr_error_set(p->e, off, "%s() takes %zu "
			    "argument%s", fn->name, fn->min_args - recv,
			    fn->min_args - recv == 1 ? "" : "s");
		else
			expr_error_set(p->e, off, "%s() takes %zu to %zu "
			    "arguments", fn->name, fn->min_args - recv,
			    fn->max_args - recv);
		expr_node_free(n);
		return NULL;
	}
	return n;
}

/* x.name(args): the call name(x, args); the current token is '('. */
static struct expr_node *
parse_method(struct parser *p, struct expr_node *recv,
    const struct expr_tok *name)
{
	const struct expr_func *fn;
	struct expr_node *n;

	fn = expr_func_find(p->lx.src + name->off, name->len);
	if (fn == NULL || !fn->method) {
		expr_error_set(p->e, name->off, fn == NULL ? "unknown method "
		    "'%.*s'" : "'%.*s' is not a method; call it as a "
		    "function", name->len > 32 ? 32 : (int)name->len,
		    p->lx.src + name->off);
		expr_node_free(recv);
		return NULL;
	}
	if ((n = node_add(p, node_new(p, EXPR_CALL, name->off), recv)) ==
	    NULL)
		return NULL;
	n->fn = fn;
	if (advance(p) == -1) {                        /* the ( */
		expr_node_free(n);
		return NULL;
	}
	return parse_args(p, n, 1);
}

static struct expr_node *
parse_call(struct parser *p)
{
	const struct expr_tok name = p->tok;
	const struct expr_func *fn;
	struct expr_node *n;

	fn = expr_func_find(p->lx.src + name.off, name.len);
	if (fn == NULL) {
		expr_error_set(p->e, name.off, "unknown function '%.*s'",
		    name.len > 32 ? 32 : (int)name.len, p->lx.src + name.off);
		return NULL;
	}
	if ((n = node_new(p, EXPR_CALL, name.off)) == NULL)
		return NULL;
	n->fn = fn;
	if (advance(p) == -1 || advance(p) == -1) {   /* the name and ( */
		expr_node_free(n);
		return NULL;
	}
	if (strcmp(fn->name, "task") == 0 && p->tok.kind == TOK_NAME &&
	    task_bare_name(p) &&
	    (n = node_add(p, n, parse_const(p, json_stringn(p->lx.src +
	    p->tok.off, p->tok.len)))) == NULL)
		return NULL;
	return parse_args(p, n, 0);
}

/* A name: a constant, a function call, in YAQL a keyword string, else
 * an error. */
static struct expr_node *
parse_name(struct parser *p)
{
	static const char *const reserved[] = { "and", "or", "not", "in",
	    "mod" };
	struct expr_lexer ahead = p->lx;
	struct expr_tok next;
	struct expr_error ignore;
	int jinja = p->mode == EXPR_JINJA;
	size_t i;

	if (is_word(p, "true") || (jinja && is_word(p, "True")))
		return parse_const(p, json_true());
	if (is_word(p, "false") || (jinja && is_word(p, "False")))
		return parse_const(p, json_false());
	if (is_word(p, "null") || (jinja && (is_word(p, "None") ||
	    is_word(p, "none"))))
		return parse_const(p, json_null());
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (is_word(p, reserved[i])) {
			unexpected(p);
			return NULL;
		}
	if (expr_lex_next(&ahead, &next, &ignore) == 0 &&
	    next.kind == TOK_LPAREN)
		return parse_call(p);
	/* YAQL's keyword strings: a bare name is the string it spells
	 * ($.get(key), task(build), name in $.keys()). */
	if (!jinja && !(p->tok.len >= 2 && p->lx.src[p->tok.off] == '_' &&
	    p->lx.src[p->tok.off + 1] == '_'))
		return parse_const(p, json_stringn(p->lx.src + p->tok.off,
		    p->tok.len));
	expr_error_set(p->e, p->tok.off, "unknown name '%.*s'",
	    p->tok.len > 32 ? 32 : (int)p->tok.len, p->lx.src + p->tok.off);
	return NULL;
}

static struct expr_node *
parse_primary(struct parser *p)
{
	struct expr_node *n;
	json_t *v;

	switch (p->tok.kind) {
	case TOK_INT:
	case TOK_REAL:
		return parse_number(p);
	case TOK_STRING:
		if ((v = expr_lex_string(p->lx.src, &p->tok, p->e)) == NULL)
			return NULL;
		return parse_const(p, v);
	case TOK_DOLLAR:
		if (p->mode != EXPR_YAQL)
			break;
		if ((n = node_new(p, EXPR_CTX, p->tok.off)) != NULL &&
		    advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		return n;
	case TOK_NAME:
		if (p->mode == EXPR_JINJA && is_word(p, "_")) {
			if ((n = node_new(p, EXPR_CTX, p->tok.off)) != NULL &&
			    advance(p) == -1) {
				expr_node_free(n);
				return NULL;
			}
			return n;
		}
		return parse_name(p);
	case TOK_LPAREN:
		if (advance(p) == -1 || (n = parse_expr(p)) == NULL)
			return NULL;
		if (expect(p, TOK_RPAREN, "')'") == -1) {
			expr_node_free(n);
			return NULL;
		}
		return n;
	case TOK_LBRACK:
	case TOK_LBRACE:
		n = node_new(p, p->tok.kind == TOK_LBRACK ? EXPR_LIST :
		    EXPR_OBJECT, p->tok.off);
		if (n == NULL || advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		if (n->op == EXPR_LIST)
			return parse_items(p, n, TOK_RBRACK, "']'", 0);
		return parse_items(p, n, TOK_RBRACE, "'}'", 1);
	default:
		break;
	}
	unexpected(p);
	return NULL;
}

static struct expr_node *
parse_postfix(struct parser *p)
{
	struct expr_node *n, *idx;
	struct expr_tok name;
	size_t off;

	if ((n = parse_primary(p)) == NULL)
		return NULL;
	for (;;) {
		off = p->tok.off;
		if (p->tok.kind == TOK_DOT) {
			if (advance(p) == -1)
				goto fail;
			name = p->tok;
			if (name.kind != TOK_NAME) {
				expect(p, TOK_NAME, "a name after '.'");
				goto fail;
			}
			if (advance(p) == -1)
				goto fail;
			if (p->tok.kind == TOK_LPAREN && p->mode == EXPR_JINJA) {
				expr_error_set(p->e, name.off, "method calls are "
				    "not supported in Jinja (YAQL's x.f() is)");
				goto fail;
			}
			if (p->tok.kind == TOK_LPAREN) {
				if ((n = parse_method(p, n, &name)) == NULL)
					return NULL;
				continue;
			}
			if ((n = node_add(p, node_new(p, EXPR_ATTR, off), n)) ==
			    NULL)
				return NULL;
			n->val = json_stringn(p->lx.src + name.off, name.len);
			if (n->val == NULL) {
				expr_error_set(p->e, name.off, "out of memory");
				goto fail;
			}
		} else if (p->tok.kind == TOK_LBRACK) {
			if (advance(p) == -1)
				goto fail;
			if ((idx = parse_expr(p)) == NULL)
				goto fail;
			if (expect(p, TOK_RBRACK, "']'") == -1) {
				expr_node_free(idx);
				goto fail;
			}
			n = node_binary(p, EXPR_INDEX, off, n, idx);
			if (n == NULL)
				return NULL;
		} else
			return n;
	}
fail:
	expr_node_free(n);
	return NULL;
}

static struct expr_node *
parse_unary(struct parser *p)
{
	struct expr_node *n;
	enum expr_op op;
	size_t off = p->tok.off;

	if (p->tok.kind != TOK_MINUS && p->tok.kind != TOK_PLUS)
		return parse_postfix(p);
	op = p->tok.kind == TOK_MINUS ? EXPR_NEG : EXPR_POS;
	if (nest_enter(p) == -1 || advance(p) == -1)
		return NULL;
	n = node_add(p, node_new(p, op, off), parse_unary(p));
	p->nest--;
	return n;
}

/* The multiplicative operator at the current token, or 0 (EXPR_CONST). */
static enum expr_op
mul_op(const struct parser *p)
{
	if (p->tok.kind == TOK_STAR)
		return EXPR_MUL;
	if (p->tok.kind == TOK_SLASH)
		return EXPR_DIV;
	if (p->mode == EXPR_JINJA ? p->tok.kind == TOK_PERCENT :
	    is_word(p, "mod"))
		return EXPR_MOD;
	return EXPR_CONST;
}

static struct expr_node *
parse_mul(struct parser *p)
{
	struct expr_node *n;
	enum expr_op op;
	size_t off;

	n = parse_unary(p);
	while (n != NULL && (op = mul_op(p)) != EXPR_CONST) {
		off = p->tok.off;
		if (advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		n = node_binary(p, op, off, n, parse_unary(p));
	}
	return n;
}

static struct expr_node *
parse_add(struct parser *p)
{
	struct expr_node *n;
	enum expr_op op;
	size_t off;

	n = parse_mul(p);
	while (n != NULL && (p->tok.kind == TOK_PLUS ||
	    p->tok.kind == TOK_MINUS)) {
		op = p->tok.kind == TOK_PLUS ? EXPR_ADD : EXPR_SUB;
		off = p->tok.off;
		if (advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		n = node_binary(p, op, off, n, parse_mul(p));
	}
	return n;
}

static struct expr_node *
parse_cat(struct parser *p)
{
	struct expr_node *n;
	size_t off;

	n = parse_add(p);
	while (n != NULL && p->mode == EXPR_JINJA && p->tok.kind == TOK_TILDE) {
		off = p->tok.off;
		if (advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		n = node_binary(p, EXPR_CAT, off, n, parse_add(p));
	}
	return n;
}

/* The comparison at the current token, or 0 (EXPR_CONST); *ntok is how
 * many tokens it takes ("not in" two). */
static enum expr_op
cmp_op(const struct parser *p, int *ntok)
{
	struct expr_lexer ahead = p->lx;
	struct expr_tok next;
	struct expr_error ignore;

	*ntok = 1;
	switch (p->tok.kind) {
	case TOK_EQ: return EXPR_EQ;
	case TOK_ASSIGN: return p->mode == EXPR_YAQL ? EXPR_EQ : EXPR_CONST;
	case TOK_NE: return EXPR_NE;
	case TOK_LT: return EXPR_LT;
	case TOK_LE: return EXPR_LE;
	case TOK_GT: return EXPR_GT;
	case TOK_GE: return EXPR_GE;
	default: break;
	}
	if (is_word(p, "in"))
		return EXPR_IN;
	if (is_word(p, "not") && expr_lex_next(&ahead, &next, &ignore) == 0 &&
	    next.kind == TOK_NAME && next.len == 2 &&
	    memcmp(p->lx.src + next.off, "in", 2) == 0) {
		*ntok = 2;
		return EXPR_NOT_IN;
	}
	return EXPR_CONST;
}

static struct expr_node *
parse_cmp(struct parser *p)
{
	struct expr_node *n;
	enum expr_op op;
	size_t off;
	int ntok;

	if ((n = parse_cat(p)) == NULL ||
	    (op = cmp_op(p, &ntok)) == EXPR_CONST)
		return n;
	off = p->tok.off;
	if (advance(p) == -1 || (ntok == 2 && advance(p) == -1)) {
		expr_node_free(n);
		return NULL;
	}
	if ((n = node_binary(p, op, off, n, parse_cat(p))) == NULL)
		return NULL;
	if (cmp_op(p, &ntok) != EXPR_CONST) {
		expr_error_set(p->e, p->tok.off,
		    "comparisons cannot be chained");
		expr_node_free(n);
		return NULL;
	}
	return n;
}

static struct expr_node *
parse_not(struct parser *p)
{
	struct expr_node *n;
	size_t off = p->tok.off;

	if (!is_word(p, "not"))
		return parse_cmp(p);
	if (nest_enter(p) == -1 || advance(p) == -1)
		return NULL;
	n = node_add(p, node_new(p, EXPR_NOT, off), parse_not(p));
	p->nest--;
	return n;
}

static struct expr_node *
parse_and(struct parser *p)
{
	struct expr_node *n;
	size_t off;

	n = parse_not(p);
	while (n != NULL && is_word(p, "and")) {
		off = p->tok.off;
		if (advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		n = node_binary(p, EXPR_AND, off, n, parse_not(p));
	}
	return n;
}

static struct expr_node *
parse_or(struct parser *p)
{
	struct expr_node *n;
	size_t off;

	n = parse_and(p);
	while (n != NULL && is_word(p, "or")) {
		off = p->tok.off;
		if (advance(p) == -1) {
			expr_node_free(n);
			return NULL;
		}
		n = node_binary(p, EXPR_OR, off, n, parse_and(p));
	}
	return n;
}

static struct expr_node *
parse_expr(struct parser *p)
{
	struct expr_node *n;

	if (nest_enter(p) == -1)
		return NULL;
	n = parse_or(p);
	p->nest--;
	return n;
}

struct expr_node *
expr_parse(const char *src, size_t len, enum expr_mode mode,
    struct expr_error *e)
{
	struct parser p = {
		.lx = { .src = src, .len = len, .pos = 0 },
		.mode = mode,
		.nest = 0,
		.e = e,
	};
	struct expr_node *n;

	if (advance(&p) == -1)
		return NULL;
	if (p.tok.kind == TOK_END) {
		expr_error_set(e, p.tok.off, "empty expression");
		return NULL;
	}
	if ((n = parse_expr(&p)) != NULL && p.tok.kind != TOK_END) {
		unexpected(&p);
		expr_node_free(n);
		return NULL;
	}
	return n;
}
