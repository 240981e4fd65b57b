/*
 * api_tokens.c: the enrollment routes of the API (api_int.h):
 *
 *   POST   /v1/tokens              {name?, labels?, ttl_s?, uses?}
 *                                  -> 201 {id, token, ...}: the only time
 *                                  the plain token is shown
 *   GET    /v1/tokens              {tokens: [...]}, never a secret
 *   DELETE /v1/tokens/ID           the token can no longer enroll
 *
 * The enrolled agents and their revocation are agents' routes
 * (api_agents.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api_int.h"
#include "enroll.h"
#include "log.h"
#include "msg.h"
#include "tokens.h"

#define API_TOKEN_MAX_LABELS  64
#define API_TOKEN_MAX_VALUE   256

static int
api_tokens_labels_ok(const json_t *labels, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(labels)) {
		snprintf(err, errlen, "labels: expected an object of strings");
		return -1;
	}
	if (json_object_size(labels) > API_TOKEN_MAX_LABELS) {
		snprintf(err, errlen, "labels: at most %d", API_TOKEN_MAX_LABELS);
		return -1;
	}
	/* jansson's iterator takes json_t * but only reads */
	json_object_foreach((json_t *)(uintptr_t)labels, k, v) {
		if (!bora_name_valid(k)) {
			snprintf(err, errlen, "labels: a label name is 1 to %d of "
			    "A-Z a-z 0-9 . _ -, first a letter or digit",
			    BORA_MAX_NAME);
			return -1;
		}
		if (!json_is_string(v) ||
		    json_string_length(v) > API_TOKEN_MAX_VALUE ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, errlen, "labels.%s: expected a string of at "
			    "most %d bytes", k, API_TOKEN_MAX_VALUE);
			return -1;
		}
	}
	return 0;
}

/* An optional integer field in lo..hi, default dflt. */
static int
api_tokens_int(const json_t *root, const char *key, json_int_t lo,
    json_int_t hi, json_int_t dflt, json_int_t *out, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(root, key);

	*out = dflt;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		snprintf(err, errlen, "%s: expected an integer from %lld to %lld",
		    key, (long long)lo, (long long)hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int
api_tokens_create(struct api_session *ss)
{
	static const char *const known[] = { "name", "labels", "ttl_s", "uses",
	    NULL };
	char err[256], id[TOKENS_ID_LEN], token[PKI_TOKEN_LEN];
	const char *key, *name = NULL;
	json_t *root, *v, *labels = NULL, *out;
	json_int_t ttl, uses;
	size_t i;
	int rc;

	root = api_body_object(ss, 1, &rc);
	if (root == NULL)
		return rc;
	json_object_foreach(root, key, v) {
		for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			snprintf(err, sizeof(err), "%.64s: unknown field (name, "
			    "labels, ttl_s, uses)", key);
			goto bad;
		}
	}
	v = json_object_get(root, "name");
	if (v != NULL && !json_is_null(v)) {
		name = json_string_value(v);
		if (name == NULL || !bora_name_valid(name)) {
			snprintf(err, sizeof(err), "name: expected an agent name (1 "
			    "to %d of A-Z a-z 0-9 . _ -, first a letter or digit)",
			    BORA_MAX_NAME);
			goto bad;
		}
	}
	v = json_object_get(root, "labels");
	if (v != NULL && !json_is_null(v)) {
		if (api_tokens_labels_ok(v, err, sizeof(err)) != 0)
			goto bad;
		labels = v;
	}
	if (api_tokens_int(root, "ttl_s", 1, TOKENS_TTL_MAX_S,
	    TOKENS_TTL_DEFAULT_S, &ttl, err, sizeof(err)) != 0 ||
	    api_tokens_int(root, "uses", 1, TOKENS_USES_MAX, 1, &uses, err,
	    sizeof(err)) != 0)
		goto bad;
	if (tokens_create(name, labels, ttl, uses, id, token, err,
	    sizeof(err)) != 0) {
		json_decref(root);
		return api_error(ss, 500, "internal", "%s", err);
	}
	out = json_pack("{s:s, s:s, s:s?, s:O?, s:I, s:I}", "id", id,
	    "token", token, "name", name, "labels", labels, "ttl_s", ttl,
	    "uses", uses);
	OPENSSL_cleanse(token, sizeof(token));
	json_decref(root);
	return api_reply(ss, 201, out);
bad:
	json_decref(root);
	return api_error(ss, 400, "bad_request", "%s", err);
}

int
api_tokens_list(struct api_session *ss)
{
	return api_reply_list(ss, "tokens", tokens_list());
}

int
api_tokens_delete(struct api_session *ss)
{
	const char *id = ss->params[0];
	char q[96];

	if (tokens_delete(id) != 0)
		return api_error(ss, 404, "not_found", "no token %s (GET "
		    "/v1/tokens lists them)", bora_log_quote(id, q, sizeof(q)));
	return api_respond(ss, 200, json_pack("{s:s, s:b}", "id", id,
	    "revoked", 1), 0, NULL);
}

