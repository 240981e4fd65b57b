/*
 * tokens.h: enrollment tokens (docs/security.md). In memory, keyed by the
 * token's sha256 (the plain token is never kept), loaded from the store at
 * start; every change is queued to the store (persist.c commits it with the
 * loop turn).
 *
 * A token has an id ("tok-" + 16 hex digits, not secret), an expiry, a
 * number of uses left (1 by default), and optionally the agent name and
 * labels it enrolls. The operator token (id "operator", coordinator_init.c) shares the
 * store's table but is never an enrollment token.
 */
#ifndef BORA_COORD_TOKENS_H
#define BORA_COORD_TOKENS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "pki.h"

#define TOKENS_ID_LEN        21          /* "tok-" + 16 hex + NUL */
#define TOKENS_TTL_DEFAULT_S 3600
#define TOKENS_TTL_MAX_S     (366 * 24 * 3600)
#define TOKENS_USES_MAX      1000000

struct store;

/* Load the enrollment tokens of s (kept for the writes). 0 or -1. */
int tokens_load(struct store *s, char *err, size_t errlen);
void tokens_shutdown(void);

/*
 * A new token: ttl_s seconds, uses (>= 1), name (NULL: none) and labels
 * (NULL or an object of strings; borrowed, copied). On 0, id and token
 * (the only plain copy, for the answer) are filled.
 */
int tokens_create(const char *name, const json_t *labels, int64_t ttl_s,
    int64_t uses, char id[TOKENS_ID_LEN], char token[PKI_TOKEN_LEN],
    char *err, size_t errlen);

/* Every enrollment token, oldest first, without secrets: [{id, name,
 * labels, created_ms, expires_ms, uses_left, state}]. New reference. */
json_t *tokens_list(void);

/* Forget token id (store too). 0, or -1 when there is none. */
int tokens_delete(const char *id);

/* A usable token as the enrollment sees it: pointers into the table,
 * valid until the next tokens_* call that changes it. */
struct tokens_entry {
	const char *id;
	const char *name;          /* bound name or NULL */
	json_t *labels;            /* bound labels or NULL */
};

/*
 * Look token up: 0 with *e filled when it exists, is unexpired and has
 * uses left; else -1 with why (never quoting the token).
 */
int tokens_check(const char *token, struct tokens_entry *e, char *why,
    size_t whylen);

/* Take one use of the token tokens_check() accepted; *seq gets the store
 * write's sequence number. 0, or -1 when the write cannot be queued. */
int tokens_consume(const char *token, uint64_t *seq, char *err,
    size_t errlen);

/*
 * The operator token (coordinator_init.c stores its sha256 with id "operator"): 0 when
 * token hashes to it (constant-time compare), else -1 with why (never
 * quoting the token). Loaded by tokens_load().
 */
int tokens_operator_check(const char *token, char *why, size_t whylen);

/*
 * Read the operator token's hash from the store again (after `bora-
 * coordinator operator-token rotate`): from now on only the stored token
 * is accepted. 0, or -1 with err (the hash in memory is kept).
 */
int tokens_operator_reload(char *err, size_t errlen);
/* Async-signal-safe (SIGHUP): ask for tokens_operator_reload() ... */
void tokens_operator_reload_ask(void);
/* ... which this does, once, when it was asked (api_auth.c calls it
 * before checking a request; a failure is logged). */
void tokens_operator_reload_if_asked(void);

#endif
