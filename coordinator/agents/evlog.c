/*
 * evlog.c: append-only event logs with live watchers (evlog.h).
 *
 * Lines are kept in one growing array of pointers; a watcher keeps its own
 * read index, so replay from any point costs nothing here. Watchers are a
 * doubly linked list so that unwatching is O(1) from anywhere, including
 * from inside its own notify.
 */
#include <stdlib.h>
#include <string.h>

#include "evlog.h"

#define EVLOG_FIRST_CAP 8

void
evlog_init(struct evlog *l, size_t cap_bytes)
{
	memset(l, 0, sizeof(*l));
	l->cap_bytes = cap_bytes;
}

/* Wake every watcher. Each may unwatch itself (never another), so the next
 * one is read before the call. */
static void
evlog_notify_all(struct evlog *l)
{
	struct evlog_watcher *w, *next;

	for (w = l->watchers; w; w = next) {
		next = w->next;
		w->notify(w);
	}
}

/* 1 when ev is an output event. *data_len: the bytes of its "data" string
 * (what an operator calls output), else 0. */
static int
evlog_is_output(const json_t *ev, size_t *data_len)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));
	const json_t *data = json_object_get(ev, "data");

	*data_len = json_is_string(data) ? json_string_length(data) : 0;
	return kind != NULL && strcmp(kind, "output") == 0;
}

int
evlog_append(struct evlog *l, json_t *ev)
{
	struct evlog_line *grown;
	size_t len, data_len, cap;
	char *text;
	int output;

	if (ev == NULL)                 /* json_pack() failed: out of memory */
		return -1;
	if (l->closed) {
		json_decref(ev);
		return -1;
	}
	output = evlog_is_output(ev, &data_len);
	text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (text == NULL)
		return -1;
	len = strlen(text);
	if (output && l->bytes + len > l->cap_bytes) {
		/* Counted in output bytes (the data), so that the count means
		 * what the operator expects; the JSON envelope is ours. */
		l->dropped_bytes += data_len ? data_len : len;
		free(text);
		return 0;
	}
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : EVLOG_FIRST_CAP;
		grown = realloc(l->lines, cap * sizeof(*grown));
		if (grown == NULL) {
			free(text);
			return -1;
		}
		l->lines = grown;
		l->cap = cap;
	}
	l->lines[l->n].text = text;
	l->lines[l->n].len = len;
	l->n++;
	l->bytes += len;
	evlog_notify_all(l);
	return 0;
}

void
evlog_close(struct evlog *l)
{
	if (l->closed)
		return;
	l->closed = 1;
	evlog_notify_all(l);
}

void
evlog_free(struct evlog *l)
{
	struct evlog_watcher *w;
	size_t cap_bytes = l->cap_bytes, i;

	/* Always the head: a watcher that unwatched itself in notify may be
	 * freed already, so w is touched after the call only while it is
	 * still first in the list (still watching). */
	l->closed = 1;
	while ((w = l->watchers) != NULL) {
		w->notify(w);
		if (l->watchers == w)
			evlog_unwatch(w);
	}
	for (i = 0; i < l->n; i++)
		free(l->lines[i].text);
	free(l->lines);
	evlog_init(l, cap_bytes);
	l->closed = 1;                  /* until evlog_init'ed again */
}

size_t
evlog_count(const struct evlog *l)
{
	return l->n;
}

const char *
evlog_line(const struct evlog *l, size_t i, size_t *len)
{
	if (i >= l->n)
		return NULL;
	if (len != NULL)
		*len = l->lines[i].len;
	return l->lines[i].text;
}

void
evlog_watch(struct evlog *l, struct evlog_watcher *w)
{
	w->log = l;
	w->prev = NULL;
	w->next = l->watchers;
	if (l->watchers)
		l->watchers->prev = w;
	l->watchers = w;
}

void
evlog_unwatch(struct evlog_watcher *w)
{
	struct evlog *l = w->log;

	if (l == NULL)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		l->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->log = NULL;
}
