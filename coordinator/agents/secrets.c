/*
 * secrets.c: masking secret values (secrets.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

static int
set_add(json_t *set, const char *s)
{
	size_t i;
	json_t *v;

	if (s == NULL || *s == '\0')
		return 0;
	json_array_foreach(set, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 0;
	return json_array_append_new(set, json_string(s));
}

static int
add_value(json_t *set, const json_t *v, int top)
{
	const char *k;
	json_t *e;
	size_t i;
	char *text;
	int rc = 0;

	if (json_is_string(v))
		return set_add(set, json_string_value(v));
	if (json_is_null(v))
		return 0;
	if (!top && !json_is_object(v) && !json_is_array(v))
		return 0;
	if ((text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return -1;
	rc = set_add(set, text);
	free(text);
	if (json_is_object(v))
		json_object_foreach((json_t *)(uintptr_t)v, k, e)
			rc |= add_value(set, e, 0);
	else if (json_is_array(v))
		json_array_foreach(v, i, e)
			rc |= add_value(set, e, 0);
	return rc ? -1 : 0;
}

int
secrets_add_values(json_t *set, const json_t *inputs, const json_t *names)
{
	size_t i;
	json_t *n, *v;

	json_array_foreach(names, i, n) {
		if (!json_is_string(n))
			continue;
		v = json_object_get(inputs, json_string_value(n));
		if (v != NULL && add_value(set, v, 1) != 0)
			return -1;
	}
	return 0;
}

/* The longest secret that starts at data[0..len), or 0. */
static size_t
match_at(const json_t *set, const char *data, size_t len)
{
	size_t i, n, best = 0;
	json_t *v;

	json_array_foreach(set, i, v) {
		n = json_string_length(v);
		if (n > 0 && n <= len && n > best &&
		    memcmp(data, json_string_value(v), n) == 0)
			best = n;
	}
	return best;
}

int
secrets_contains(const json_t *set, const char *data, size_t len)
{
	size_t i;

	if (set == NULL || json_array_size(set) == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (match_at(set, data + i, len - i) > 0)
			return 1;
	return 0;
}

char *
secrets_mask_mem(const json_t *set, const char *data, size_t len,
    size_t *outlen)
{
	size_t i, m, cap, o = 0;
	char *out;

	if (!secrets_contains(set, data, len))
		return NULL;
	/* the mask may be longer than a secret */
	cap = len * (sizeof(SECRET_MASK) - 1) + 1;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; i < len;) {
		if ((m = match_at(set, data + i, len - i)) > 0) {
			memcpy(out + o, SECRET_MASK, sizeof(SECRET_MASK) - 1);
			o += sizeof(SECRET_MASK) - 1;
			i += m;
		} else
			out[o++] = data[i++];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static json_t *
mask_copy(const json_t *set, const json_t *v)
{
	const char *k;
	json_t *out, *e, *c;
	size_t i, n;
	char *m;

	if (json_is_string(v)) {
		m = secrets_mask_mem(set, json_string_value(v),
		    json_string_length(v), &n);
		if (m == NULL)
			return secrets_contains(set, json_string_value(v),
			    json_string_length(v)) ? NULL :
			    json_incref((json_t *)(uintptr_t)v);
		out = json_stringn_nocheck(m, n);
		free(m);
		return out;
	}
	if (json_is_object(v)) {
		if ((out = json_object()) == NULL)
			return NULL;
		json_object_foreach((json_t *)(uintptr_t)v, k, e) {
			if ((c = mask_copy(set, e)) == NULL ||
			    json_object_set_new(out, k, c) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_array(v)) {
		if ((out = json_array()) == NULL)
			return NULL;
		json_array_foreach(v, i, e) {
			if ((c = mask_copy(set, e)) == NULL ||
			    json_array_append_new(out, c) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_incref((json_t *)(uintptr_t)v);
}

json_t *
secrets_mask_json(const json_t *set, const json_t *v)
{
	if (v == NULL)
		return NULL;
	if (set == NULL || json_array_size(set) == 0)
		return json_incref((json_t *)(uintptr_t)v);
	return mask_copy(set, v);
}

size_t
secrets_tail_hold(const json_t *set, const char *data, size_t len)
{
	size_t i, j, n, hold = 0;
	json_t *v;

	json_array_foreach(set, i, v) {
		if ((n = json_string_length(v)) == 0)
			continue;       /* no secret (n - 1 would wrap) */
		/* the longest proper prefix of v that data ends with */
		for (j = n - 1 < len ? n - 1 : len; j > hold; j--)
			if (memcmp(data + len - j, json_string_value(v), j) == 0) {
				hold = j;
				break;
			}
	}
	return hold;
}
