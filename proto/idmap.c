/* idmap.c: chained hash, FNV-1a, doubled when the load passes 1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"

struct idmap_entry {
	struct idmap_entry *next;
	void *value;
	char key[];
};

size_t
idmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h;
}

static int
idmap_grow(struct idmap *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 64, i, b;
	struct idmap_entry **nb, *e, *next;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return -1;
	for (i = 0; i < m->nbuckets; i++)
		for (e = m->buckets[i]; e; e = next) {
			next = e->next;
			b = idmap_hash(e->key) & (n - 1);
			e->next = nb[b];
			nb[b] = e;
		}
	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
	return 0;
}

int
idmap_put(struct idmap *m, const char *key, void *value)
{
	struct idmap_entry *e;
	size_t len = strlen(key), b;

	if (idmap_get(m, key) != NULL)
		return -1;
	if (m->count >= m->nbuckets && idmap_grow(m) != 0)
		return -1;
	if ((e = malloc(sizeof(*e) + len + 1)) == NULL)
		return -1;
	memcpy(e->key, key, len + 1);
	e->value = value;
	b = idmap_hash(key) & (m->nbuckets - 1);
	e->next = m->buckets[b];
	m->buckets[b] = e;
	m->count++;
	return 0;
}

void *
idmap_get(const struct idmap *m, const char *key)
{
	struct idmap_entry *e;

	if (m->nbuckets == 0)
		return NULL;
	for (e = m->buckets[idmap_hash(key) & (m->nbuckets - 1)]; e;
	    e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->value;
	return NULL;
}

void *
idmap_del(struct idmap *m, const char *key)
{
	struct idmap_entry **pp, *e;
	void *v;

	if (m->nbuckets == 0)
		return NULL;
	for (pp = &m->buckets[idmap_hash(key) & (m->nbuckets - 1)]; (e = *pp);
	    pp = &e->next)
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			v = e->value;
			free(e);
			m->count--;
			return v;
		}
	return NULL;
}

void
idmap_free(struct idmap *m)
{
	struct idmap_entry *e, *next;
	size_t i;

	for (i = 0; i < m->nbuckets; i++)
		for (e = m->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}
