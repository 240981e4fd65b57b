/* tokens.c: enrollment tokens (tokens.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "clock.h"
#include "log.h"
#include "store.h"
#include "tokens.h"

/* hash -> {id, name, labels, created_ms, expires_ms, uses_left}; and
 * id -> hash. jansson objects are hash tables: lookups are O(1). */
static json_t *tokens_by_hash;
/* The operator token's sha256 (hex), "" when the store has none. */
static char tokens_operator_hash[PKI_HASH_LEN];
static json_t *tokens_by_id;
static struct store *tokens_store;
/* Set by tokens_operator_reload_ask() (a signal handler). */
static volatile sig_atomic_t tokens_operator_stale;

static int
tokens_tables(void)
{
	if (tokens_by_hash == NULL)
		tokens_by_hash = json_object();
	if (tokens_by_id == NULL)
		tokens_by_id = json_object();
	return tokens_by_hash && tokens_by_id ? 0 : -1;
}

static int
tokens_add(const char *id, const char *hash, const char *name,
    json_t *labels, int64_t created_ms, int64_t expires_ms, int64_t uses)
{
	json_t *t = json_pack("{s:s, s:I, s:I, s:I}", "id", id,
	    "created_ms", (json_int_t)created_ms,
	    "expires_ms", (json_int_t)expires_ms,
	    "uses_left", (json_int_t)uses);

	if (t == NULL || (name && json_object_set_new(t, "name",
	    json_string(name))) || (labels && json_object_set(t, "labels",
	    labels)) || json_object_set_new(tokens_by_hash, hash, t) ||
	    json_object_set_new(tokens_by_id, id, json_string(hash)))
		return -1;
	return 0;
}

static int
tokens_load_one(void *user, const struct store_token *st)
{
	json_t *labels = NULL;
	int rc;

	(void)user;
	if (strcmp(st->id, "operator") == 0) {
		snprintf(tokens_operator_hash, sizeof(tokens_operator_hash),
		    "%s", st->hash);
		return 0;
	}
	if (strncmp(st->id, "tok-", 4) != 0)
		return 0;
	if (st->labels != NULL)
		labels = json_loads(st->labels, 0, NULL);
	rc = tokens_add(st->id, st->hash, st->name, labels, st->created_ms,
	    st->expires_ms, st->uses_left);
	json_decref(labels);
	return rc;
}

int
tokens_load(struct store *s, char *err, size_t errlen)
{
	tokens_store = s;
	if (tokens_tables() != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return store_load_tokens(s, tokens_load_one, NULL, err, errlen);
}

void
tokens_shutdown(void)
{
	json_decref(tokens_by_hash);
	json_decref(tokens_by_id);
	tokens_by_hash = tokens_by_id = NULL;
	memset(tokens_operator_hash, 0, sizeof(tokens_operator_hash));
	tokens_store = NULL;
}

/* Queue the row of token t (hash) to the store. */
static int
tokens_save(const char *hash, const json_t *t, uint64_t *seq, char *err,
    size_t errlen)
{
	struct store_token st;
	json_t *labels = json_object_get(t, "labels");
	char *ltext = labels ? json_dumps(labels, JSON_COMPACT) : NULL;
	int rc;

	if (tokens_store == NULL) {
		snprintf(err, errlen, "the coordinator has no store");
		free(ltext);
		return -1;
	}
	memset(&st, 0, sizeof(st));
	st.id = json_string_value(json_object_get(t, "id"));
	st.hash = hash;
	st.name = json_string_value(json_object_get(t, "name"));
	st.labels = ltext;
	st.created_ms = json_integer_value(json_object_get(t, "created_ms"));
	st.expires_ms = json_integer_value(json_object_get(t, "expires_ms"));
	st.uses_left = json_integer_value(json_object_get(t, "uses_left"));
	rc = store_put_token(tokens_store, &st, seq, err, errlen);
	free(ltext);
	return rc;
}

int
tokens_create(const char *name, const json_t *labels, int64_t ttl_s,
    int64_t uses, char id[TOKENS_ID_LEN], char token[PKI_TOKEN_LEN],
    char *err, size_t errlen)
{
	unsigned char r[8];
	char hash[PKI_HASH_LEN];
	json_t *lcopy = NULL;
	int64_t now = bora_wall_ms();
	size_t i;
	int rc = -1;

	if (tokens_tables() != 0 || RAND_bytes(r, sizeof(r)) != 1 ||
	    pki_token_new(token) != 0) {
		snprintf(err, errlen, "cannot make a token");
		return -1;
	}
	memcpy(id, "tok-", 4);
	for (i = 0; i < sizeof(r); i++)
		snprintf(id + 4 + 2 * i, 3, "%02x", r[i]);
	pki_token_hash(token, hash);
	if (labels != NULL)
		lcopy = json_deep_copy(labels);
	if ((labels != NULL && lcopy == NULL) || tokens_add(id, hash, name,
	    lcopy, now, now + ttl_s * 1000, uses) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (tokens_save(hash, json_object_get(tokens_by_hash, hash), NULL, err,
	    errlen) != 0) {
		json_object_del(tokens_by_hash, hash);
		json_object_del(tokens_by_id, id);
		goto out;
	}
	log_info("tokens", "token created token_id=%s name=%s uses=%lld "
	    "ttl_s=%lld", id, name ? name : "-", (long long)uses,
	    (long long)ttl_s);
	rc = 0;
out:
	json_decref(lcopy);
	if (rc != 0)
		OPENSSL_cleanse(token, PKI_TOKEN_LEN);
	return rc;
}

static int
tokens_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "created_ms"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "created_ms"));

	return x < y ? -1 : x > y;
}

json_t *
tokens_list(void)
{
	json_t *out = json_array(), *t, *c, **v = NULL;
	const char *hash;
	size_t n = 0, i;
	int64_t now = bora_wall_ms();

	if (out == NULL || tokens_tables() != 0)
		goto fail;
	v = calloc(json_object_size(tokens_by_hash) + 1, sizeof(*v));
	if (v == NULL)
		goto fail;
	json_object_foreach(tokens_by_hash, hash, t)
		v[n++] = t;
	qsort(v, n, sizeof(*v), tokens_cmp);
	for (i = 0; i < n; i++) {
		c = json_deep_copy(v[i]);
		if (c == NULL || json_object_set_new(c, "state", json_string(
		    json_integer_value(json_object_get(c, "uses_left")) <= 0 ?
		    "used" : json_integer_value(json_object_get(c,
		    "expires_ms")) <= now ? "expired" : "valid")) ||
		    json_array_append_new(out, c)) {
			json_decref(c);
			goto fail;
		}
	}
	free(v);
	return out;
fail:
	free(v);
	json_decref(out);
	return NULL;
}

int
tokens_delete(const char *id)
{
	const char *hash;
	char err[256];

	if (tokens_tables() != 0 ||
	    (hash = json_string_value(json_object_get(tokens_by_id, id))) ==
	    NULL)
		return -1;
	json_object_del(tokens_by_hash, hash);
	if (tokens_store != NULL && store_delete_token(tokens_store, id, NULL,
	    err, sizeof(err)) != 0)
		log_errorx("tokens", "cannot queue a write what=token "
		    "reason=\"%s\"", err);
	log_info("tokens", "token revoked token_id=%s", id);
	json_object_del(tokens_by_id, id);   /* hash pointed into it */
	return 0;
}

int
tokens_check(const char *token, struct tokens_entry *e, char *why,
    size_t whylen)
{
	char hash[PKI_HASH_LEN];
	json_t *t;

	memset(e, 0, sizeof(*e));
	pki_token_hash(token, hash);
	t = tokens_by_hash ? json_object_get(tokens_by_hash, hash) : NULL;
	if (t == NULL) {
		snprintf(why, whylen, "unknown token");
		return -1;
	}
	e->id = json_string_value(json_object_get(t, "id"));
	if (json_integer_value(json_object_get(t, "uses_left")) <= 0) {
		snprintf(why, whylen, "token %s has no uses left", e->id);
		return -1;
	}
	if (json_integer_value(json_object_get(t, "expires_ms")) <=
	    bora_wall_ms()) {
		snprintf(why, whylen, "token %s has expired", e->id);
		return -1;
	}
	e->name = json_string_value(json_object_get(t, "name"));
	e->labels = json_object_get(t, "labels");
	return 0;
}

int
tokens_consume(const char *token, uint64_t *seq, char *err, size_t errlen)
{
	char hash[PKI_HASH_LEN];
	json_t *t;
	json_int_t left;

	pki_token_hash(token, hash);
	t = tokens_by_hash ? json_object_get(tokens_by_hash, hash) : NULL;
	if (t == NULL) {
		snprintf(err, errlen, "unknown token");
		return -1;
	}
	left = json_integer_value(json_object_get(t, "uses_left"));
	json_object_set_new(t, "uses_left", json_integer(left - 1));
	if (tokens_save(hash, t, seq, err, errlen) != 0) {
		json_object_set_new(t, "uses_left", json_integer(left));
		return -1;
	}
	return 0;
}

int
tokens_operator_check(const char *token, char *why, size_t whylen)
{
	char hash[PKI_HASH_LEN];

	if (tokens_operator_hash[0] == '\0') {
		snprintf(why, whylen, "the coordinator has no operator token "
		    "(bora-coordinator init DIR makes one)");
		return -1;
	}
	pki_token_hash(token, hash);
	/* Constant time: the comparison says nothing of how much matched. */
	if (strlen(tokens_operator_hash) != PKI_HASH_LEN - 1 ||
	    CRYPTO_memcmp(hash, tokens_operator_hash, PKI_HASH_LEN - 1) != 0) {
		snprintf(why, whylen, "wrong operator token");
		return -1;
	}
	return 0;
}

/* The operator row only: its hash into user (PKI_HASH_LEN bytes). */
static int
tokens_operator_row(void *user, const struct store_token *st)
{
	if (strcmp(st->id, "operator") == 0)
		snprintf(user, PKI_HASH_LEN, "%s", st->hash ? st->hash : "");
	return 0;
}

int
tokens_operator_reload(char *err, size_t errlen)
{
	char hash[PKI_HASH_LEN] = "";
	int changed;

	if (tokens_store == NULL) {
		snprintf(err, errlen, "the coordinator has no store");
		return -1;
	}
	if (store_load_tokens(tokens_store, tokens_operator_row, hash, err,
	    errlen) != 0)
		return -1;
	changed = strcmp(hash, tokens_operator_hash) != 0;
	memcpy(tokens_operator_hash, hash, sizeof(hash));
	OPENSSL_cleanse(hash, sizeof(hash));
	log_info("tokens", "operator token reloaded changed=%s present=%s",
	    changed ? "yes" : "no", tokens_operator_hash[0] ? "yes" : "no");
	return 0;
}

void
tokens_operator_reload_ask(void)
{
	tokens_operator_stale = 1;
}

void
tokens_operator_reload_if_asked(void)
{
	char err[256];

	if (!tokens_operator_stale)
		return;
	tokens_operator_stale = 0;
	if (tokens_operator_reload(err, sizeof(err)) != 0)
		log_errorx("tokens", "cannot reload the operator token, keeping "
		    "the one in memory reason=\"%s\"", err);
}
