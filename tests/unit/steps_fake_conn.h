/*
 * steps_fake_conn.h: the agent's connection (conn.h) as the step module's
 * unit tests see it. A test linked with
 *   -Wl,--wrap=conn_is_up,--wrap=conn_send,--wrap=conn_can_queue
 * gets these instead of conn.c: every message the module queues is kept,
 * encoded then decoded, in fake_conn.sent.
 */
#ifndef BORA_TEST_STEPS_FAKE_CONN_H
#define BORA_TEST_STEPS_FAKE_CONN_H

#include <stddef.h>
#include <jansson.h>

struct fake_conn {
	int up;                 /* what conn_is_up() says */
	int refuse;             /* conn_send() fails (a full queue) */
	size_t room;            /* conn_can_queue(n) says n <= room */
	json_t *sent;           /* array of the messages queued, owned */
};

extern struct fake_conn fake_conn;

/* Connected, room for anything, nothing sent yet. */
void fake_conn_reset(void);
/* Free what was sent. */
void fake_conn_clear(void);
/* The messages of type (NULL: any) for step (NULL: any), as a new array. */
json_t *fake_conn_find(const char *type, const char *step);
/* The concatenated data of the output messages of step and stream, with
 * their seq numbers checked to run 0, 1, 2 ...; malloc'ed. */
char *fake_conn_output(const char *step, const char *stream);

#endif
