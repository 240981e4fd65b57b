/*
 * expr_int.h: the parts of the expression module shared by its files
 * (lexer, parser, evaluator, functions); not for other modules.
 *
 * Offsets are bytes from the start of the expression text, the text
 * between "<%" and "%>" (or "{{" and "}}").
 */
#ifndef BORA_COORD_EXPR_IMPL_H
#define BORA_COORD_EXPR_IMPL_H

#include <limits.h>
#include <stddef.h>
#include <jansson.h>

#include "expr.h"

#define EXPR_MAX_NEST    64          /* parser recursion: ( [ { not - */
#define EXPR_MAX_HEIGHT  256         /* tree height, so evaluation recursion */
#define EXPR_MAX_BYTES   (1u << 20)  /* any string built */
#define EXPR_MAX_ITEMS   (1u << 17)  /* any list or object built */
#define EXPR_SCAN_BYTES  64          /* bytes scanned per evaluation step */

/* json_int_t is long long (JSON_INTEGER_IS_LONG_LONG on Debian). */
#define EXPR_INT_MIN     LLONG_MIN

enum expr_mode { EXPR_YAQL, EXPR_JINJA };

/* The first error of a parse or evaluation: what and where. */
struct expr_error {
	size_t off;
	char msg[160];
};

void expr_error_set(struct expr_error *e, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lexer. */
enum expr_tok_kind {
	TOK_END, TOK_INT, TOK_REAL, TOK_STRING, TOK_NAME, TOK_DOLLAR,
	TOK_LPAREN, TOK_RPAREN, TOK_LBRACK, TOK_RBRACK, TOK_LBRACE, TOK_RBRACE,
	TOK_COMMA, TOK_COLON, TOK_DOT, TOK_PLUS, TOK_MINUS, TOK_STAR,
	TOK_SLASH, TOK_PERCENT, TOK_TILDE, TOK_PIPE, TOK_ASSIGN, TOK_EQ,
	TOK_NE, TOK_LT, TOK_LE, TOK_GT, TOK_GE,
};

struct expr_tok {
	enum expr_tok_kind kind;
	size_t off, len;             /* the token's text in the source */
};

struct expr_lexer {
	const char *src;
	size_t len, pos;
};

/* The next token, or -1 with e set (bad character, unterminated string). */
int expr_lex_next(struct expr_lexer *lx, struct expr_tok *t,
    struct expr_error *e);

/* The value of a TOK_STRING (escapes decoded) as a new json string, or
 * NULL with e set. */
json_t *expr_lex_string(const char *src, const struct expr_tok *t,
    struct expr_error *e);

/* The end of a quoted string starting at s[i] (a quote): the offset just
 * past the closing quote, or 0 when the string is not closed. */
size_t expr_lex_skip_string(const char *s, size_t len, size_t i);

/* Syntax tree. */
enum expr_op {
	EXPR_CONST,     /* val */
	EXPR_CTX,       /* $ or _ */
	EXPR_ATTR,      /* kids[0].val */
	EXPR_INDEX,     /* kids[0][kids[1]] */
	EXPR_CALL,      /* fn(kids...) */
	EXPR_LIST,      /* [kids...] */
	EXPR_OBJECT,    /* {kids[0]: kids[1], ...} */
	EXPR_NEG, EXPR_POS, EXPR_NOT,
	EXPR_AND, EXPR_OR,
	EXPR_ADD, EXPR_SUB, EXPR_MUL, EXPR_DIV, EXPR_MOD, EXPR_CAT,
	EXPR_EQ, EXPR_NE, EXPR_LT, EXPR_LE, EXPR_GT, EXPR_GE,
	EXPR_IN, EXPR_NOT_IN,
};

struct expr_func;

struct expr_node {
	enum expr_op op;
	size_t off;                  /* where errors about this node point */
	unsigned height;             /* 1 + the height of the tallest kid */
	json_t *val;                 /* EXPR_CONST value, EXPR_ATTR key */
	const struct expr_func *fn;  /* EXPR_CALL */
	struct expr_node **kids;
	size_t nkids;
};

/* Parse the expression text src[0..len) into a tree the caller frees with
 * expr_node_free, or NULL with e set. */
struct expr_node *expr_parse(const char *src, size_t len, enum expr_mode mode,
    struct expr_error *e);
void expr_node_free(struct expr_node *n);

/* Evaluation. */
struct expr_eval {
	const struct expr_env *env;  /* never NULL */
	const json_t *item;          /* $ inside a lambda (where, select...),
	                                else NULL: env->ctx */
	enum expr_mode mode;
	unsigned long steps, budget;
	struct expr_error *err;
};

/* The value of n: a new reference, or NULL with ev->err set. */
json_t *expr_eval_node(struct expr_eval *ev, const struct expr_node *n);

/* + - * / mod ~ on two values (expr_arith.c): new reference, or NULL
 * with ev->err set. */
json_t *expr_eval_arith(struct expr_eval *ev, const struct expr_node *n,
    json_t *a, json_t *b);

/* Add n steps; -1 with the error set when that passes the budget. */
int expr_charge(struct expr_eval *ev, unsigned long n, size_t off);

/* A new reference to a borrowed value. jansson's reference count is the
 * only thing changed: borrowed values are never modified. */
json_t *expr_ref(const json_t *v);
/* A new empty list, or NULL with "out of memory" set at off. */
json_t *expr_list_new(struct expr_eval *ev, size_t off);

/* Deep equality; integers and reals compare by value. Charges a step per
 * value visited: -1 on budget error, else 0 or 1. */
int expr_equal(struct expr_eval *ev, const json_t *a, const json_t *b,
    size_t off);

/* Growable byte buffer capped at EXPR_MAX_BYTES. */
struct expr_buf {
	char *data;
	size_t len, cap;
	int over;                    /* an append passed the cap */
};

int expr_buf_add(struct expr_buf *b, const char *p, size_t n);
void expr_buf_free(struct expr_buf *b);

/* Append v as text: strings as they are, other values compact JSON
 * (reals in the shortest form that reads back the same). -1 when the
 * buffer would pass its cap or jansson fails. */
int expr_buf_add_text(struct expr_buf *b, const json_t *v);

/* Compact JSON of v (any value) appended to b; -1 past the cap. */
int expr_buf_add_json(struct expr_buf *b, const json_t *v);

/* A json string from bytes that should be UTF-8; NULL with e set. */
json_t *expr_string_new(const char *p, size_t n, struct expr_error *e,
    size_t off);

/* Functions (expr_funcs.c). args are new references the callee borrows;
 * args[i] past the ones given (up to max_args) are NULL. A function with
 * method set may be written x.f(a) for f(x, a), as in YAQL. */
#define EXPR_MAX_ARGS 8

typedef json_t *expr_fn(struct expr_eval *ev, const struct expr_node *n,
    json_t **args);

struct expr_func {
	const char *name;
	size_t min_args, max_args;
	int method;
	expr_fn *call;
	int lazy;                    /* only args[0] is evaluated; the call
	                                evaluates n->kids[1...] itself */
};

/* Sets "f() needs NEEDS, not <v's type>" at n; NULL. */
json_t *expr_func_bad_arg(struct expr_eval *ev, const struct expr_node *n,
    const char *needs, const json_t *v);

/* expr_funcs_coll.c */
expr_fn expr_fn_list, expr_fn_range, expr_fn_keys, expr_fn_get,
    expr_fn_contains, expr_fn_first, expr_fn_distinct, expr_fn_flatten,
    expr_fn_sum, expr_fn_min, expr_fn_join;
/* expr_funcs_lambda.c */
expr_fn expr_fn_where, expr_fn_select, expr_fn_any;
/* expr_funcs_misc.c */
expr_fn expr_fn_bool, expr_fn_float, expr_fn_is, expr_fn_starts,
    expr_fn_uuid;

const struct expr_func *expr_func_find(const char *name, size_t len);

/* Short human names of value types: "a number", "a list". */
const char *expr_type_name(const json_t *v);

#endif
