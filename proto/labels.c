/* labels.c: see labels.h. */
#include <stdio.h>
#include <string.h>

#include "labels.h"
#include "msg.h"
#include "utf8.h"

#define LABELS_SHOW_MAX 64      /* bytes of an item an error quotes */

/* n bytes of s for an error message, in buf (at least 3 * LABELS_SHOW_MAX
 * + 4 bytes): at most LABELS_SHOW_MAX of them, cut on a UTF-8 boundary
 * ("..." after a cut), bad bytes as U+FFFD, control characters as '?'. */
static const char *
labels_show(const char *s, size_t n, char *buf)
{
	size_t max = n, i, m;

	if (max > LABELS_SHOW_MAX) {
		max = LABELS_SHOW_MAX;
		max -= bora_utf8_incomplete_tail(s, max);
	}
	m = bora_utf8_sanitize(s, max, buf);
	for (i = 0; i < m; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if (max < n) {
		memcpy(buf + m, "...", 3);
		m += 3;
	}
	buf[m] = '\0';
	return buf;
}

int
bora_labels_add(json_t *labels, const char *name, size_t nlen,
    const char *value, size_t vlen, char *err, size_t errlen)
{
	char key[BORA_MAX_NAME + 1], show[3 * LABELS_SHOW_MAX + 4];
	json_t *v;

	key[0] = '\0';
	if (nlen <= BORA_MAX_NAME) {
		memcpy(key, name, nlen);
		key[nlen] = '\0';
	}
	if (nlen > BORA_MAX_NAME || memchr(name, '\0', nlen) != NULL ||
	    !bora_name_valid(key)) {
		snprintf(err, errlen, "'%s' is not a label name (1 to %d bytes "
		    "of A-Z a-z 0-9 . _ -, first a letter or digit)",
		    labels_show(name, nlen, show), BORA_MAX_NAME);
		return -1;
	}
	if (json_object_get(labels, key) != NULL) {
		snprintf(err, errlen, "duplicate name '%s'", key);
		return -1;
	}
	if (json_object_size(labels) >= BORA_LABELS_MAX) {
		snprintf(err, errlen, "more than %d labels, at '%s'",
		    BORA_LABELS_MAX, key);
		return -1;
	}
	if (vlen > BORA_LABEL_VALUE_MAX) {
		snprintf(err, errlen, "the value of '%s' has %zu bytes, more "
		    "than %d", key, vlen, BORA_LABEL_VALUE_MAX);
		return -1;
	}
	if (memchr(value, '\0', vlen) != NULL ||
	    (v = json_stringn(value, vlen)) == NULL) {
		snprintf(err, errlen, "the value of '%s' is not UTF-8 text",
		    key);
		return -1;
	}
	if (json_object_set_new(labels, key, v) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

json_t *
bora_labels_parse(const char *s, size_t len, char *err, size_t errlen)
{
	char show[3 * LABELS_SHOW_MAX + 4];
	const char *p = s, *end = s + len, *comma, *eq;
	json_t *obj;

	if ((obj = json_object()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (p < end) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		eq = memchr(p, '=', (size_t)(comma - p));
		if (eq == NULL || eq == p) {
			snprintf(err, errlen, "expected name=value pairs "
			    "separated by commas, got '%s'",
			    labels_show(p, (size_t)(comma - p), show));
			goto fail;
		}
		if (bora_labels_add(obj, p, (size_t)(eq - p), eq + 1,
		    (size_t)(comma - eq - 1), err, errlen) != 0)
			goto fail;
		p = comma + 1;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}
