/*
 * idmap.h: a hash from string ids to pointers (executions, steps of the
 * engine). Keys are copied; values are the caller's. idmap_hash() is the
 * one string hash (FNV-1a) for tables that chain their own entries.
 */
#ifndef BORA_PROTO_IDMAP_H
#define BORA_PROTO_IDMAP_H

#include <stddef.h>

struct idmap_entry;

/* FNV-1a of the NUL-terminated s: reduce it with % or & yourself. */
size_t idmap_hash(const char *s);

struct idmap {
	struct idmap_entry **buckets;
	size_t nbuckets;
	size_t count;
};

/* 0, or -1 when out of memory or key is there already. */
int idmap_put(struct idmap *m, const char *key, void *value);
void *idmap_get(const struct idmap *m, const char *key);
/* The value removed, or NULL when key was not there. */
void *idmap_del(struct idmap *m, const char *key);
/* Free the map itself (not the values); it is empty and reusable after. */
void idmap_free(struct idmap *m);

#endif
