/*
 * evlog.h: an append-only log of events (one compact JSON object a line)
 * with live watchers: a step's events (agents/coord_step_*.c), an execution's (engine).
 *
 * Watchers replay the log from any index and are notified as it grows and
 * when it is closed (no event comes after). Output events past the byte
 * cap are counted, not kept; every other event is always kept, so a
 * result or a final state is never lost to a chatty step.
 */
#ifndef BORA_COORD_EVLOG_H
#define BORA_COORD_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evlog;

struct evlog_watcher {
	struct evlog_watcher *next, *prev;  /* evlog.c's while watching */
	struct evlog *log;                  /* NULL once unwatched */
	/* the log grew or was closed; may unwatch itself (not others) */
	void (*notify)(struct evlog_watcher *w);
	void *user;
};

struct evlog_line {
	char *text;         /* NUL-terminated, no newline */
	size_t len;
};

struct evlog {
	struct evlog_line *lines;
	size_t n, cap;
	size_t bytes;               /* of the lines kept */
	size_t cap_bytes;           /* output events kept up to this */
	uint64_t dropped_bytes;     /* output event bytes not kept */
	int closed;
	struct evlog_watcher *watchers;
};

void evlog_init(struct evlog *l, size_t cap_bytes);
/*
 * Append ev (taken: the reference is released). An object whose "event"
 * is "output" is dropped (and counted) when it would pass cap_bytes. 0,
 * or -1 when out of memory or the log is closed (ev released).
 */
int evlog_append(struct evlog *l, json_t *ev);
/* No more events; watchers are notified. */
void evlog_close(struct evlog *l);
/* Unwatch every watcher (notified first, with the log closed) and free
 * the lines; l can be evlog_init'ed again. */
void evlog_free(struct evlog *l);

size_t evlog_count(const struct evlog *l);
/* Line i, or NULL past the end. */
const char *evlog_line(const struct evlog *l, size_t i, size_t *len);

void evlog_watch(struct evlog *l, struct evlog_watcher *w);
void evlog_unwatch(struct evlog_watcher *w);

#endif
