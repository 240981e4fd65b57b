/*
 * secrets.h: masking secret input values wherever the coordinator shows
 * them (docs/security.md). A secret set is a JSON array of the secret
 * values as strings (non-empty); masking replaces every occurrence of
 * each value by "******". The agent still gets the real values in run.
 */
#ifndef BORA_COORD_SECRETS_H
#define BORA_COORD_SECRETS_H

#include <stddef.h>
#include <jansson.h>

#define SECRET_MASK "******"

/* Add to set (an array) the values of inputs named in names (an array of
 * strings): a string as it is, a number or boolean as its JSON text, an
 * array or object as its compact JSON and each string inside it. Empty
 * strings are not secrets. 0, or -1 when out of memory. */
int secrets_add_values(json_t *set, const json_t *inputs, const json_t *names);

/* A copy of data (len bytes) with every secret replaced, NUL-terminated,
 * its length in *outlen; NULL when nothing is to be replaced (or out of
 * memory: the caller then must not show data, see secrets_contains). */
char *secrets_mask_mem(const json_t *set, const char *data, size_t len,
    size_t *outlen);
/* 1 when data holds any secret. */
int secrets_contains(const json_t *set, const char *data, size_t len);

/* A masked deep copy of v (a new reference; v itself when the set is
 * empty or NULL, with a new reference). NULL when out of memory. */
json_t *secrets_mask_json(const json_t *set, const json_t *v);

/* Of the output of a stream cut in chunks: how many bytes at the end of
 * data may be the start of a secret that the next chunk completes. */
size_t secrets_tail_hold(const json_t *set, const char *data, size_t len);

#endif
