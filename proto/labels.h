/*
 * labels.h: an agent's labels, the JSON object of label name -> value that
 * hello and enroll carry (and `bora token create` binds to a token): the
 * one parser of their text form "role=web,zone=a" and the one check of
 * each label, for the agent's flags and config file and for enroll.
 *
 * A name is a label name (bora_name_valid: 1 to BORA_MAX_NAME bytes of
 * A-Z a-z 0-9 . _ -, first a letter or digit); a value is UTF-8 without
 * NUL, at most BORA_LABEL_VALUE_MAX bytes; an agent has at most
 * BORA_LABELS_MAX labels. These are the limits the protocol checks (msg.c),
 * so what passes here is never refused later.
 */
#ifndef BORA_PROTO_LABELS_H
#define BORA_PROTO_LABELS_H

#include <stddef.h>
#include <jansson.h>

#define BORA_LABELS_MAX       64    /* msg.c: MSG_MAX_LABELS */
#define BORA_LABEL_VALUE_MAX  256   /* msg.c: MSG_MAX_LABEL_VALUE */

/*
 * Add the label name (nlen bytes) = value (vlen bytes) to the object
 * labels (borrowed). 0, or -1 with one sentence in err that names the
 * label: not a label name, a duplicate name, a bad or too long value, one
 * label too many.
 */
int bora_labels_add(json_t *labels, const char *name, size_t nlen,
    const char *value, size_t vlen, char *err, size_t errlen);

/*
 * Parse len bytes of s, "name=value" items separated by commas ("" is no
 * label; a comma may end the list; a value may hold '='), into a new
 * object the caller releases with json_decref(). NULL with one sentence in
 * err naming the item at fault, e.g. "expected name=value pairs separated
 * by commas, got 'role'" or "duplicate name 'a'".
 */
json_t *bora_labels_parse(const char *s, size_t len, char *err,
    size_t errlen);

#endif
