/*
 * sendq.h: a FIFO of outgoing websocket messages with a byte cap.
 *
 * libwebsockets writes only from the WRITEABLE callback and wants `headroom`
 * (LWS_PRE) free bytes before each payload; a sendq keeps messages in that
 * shape until the connection can take them. The cap bounds what one slow
 * peer can make us hold: bora_sendq_push() refuses past it and the owner
 * decides (the coordinator drops a non-reading agent; the agent stops
 * reading its step pipes: backpressure).
 */
#ifndef BORA_PROTO_SENDQ_H
#define BORA_PROTO_SENDQ_H

#include <stddef.h>

struct bora_sendq_item {
	struct bora_sendq_item *next;
	size_t len;                /* payload bytes */
	unsigned char buf[];       /* headroom + payload */
};

struct bora_sendq {
	struct bora_sendq_item *head, *tail;
	size_t headroom;           /* LWS_PRE */
	size_t bytes;              /* payload bytes queued */
	size_t count;
	size_t cap;                /* max payload bytes queued */
};

void bora_sendq_init(struct bora_sendq *q, size_t headroom, size_t cap);

/* Copy len bytes of data to the tail. 0, or -1 when it would pass the cap
 * (nothing queued) or malloc fails. An empty queue takes one message of
 * any size: the cap bounds a backlog, not a message. */
int bora_sendq_push(struct bora_sendq *q, const void *data, size_t len);

/* The head (payload at item->buf + q->headroom), or NULL when empty. */
struct bora_sendq_item *bora_sendq_peek(const struct bora_sendq *q);

/* Remove and free the head. */
void bora_sendq_pop(struct bora_sendq *q);

/* Free everything queued. */
void bora_sendq_clear(struct bora_sendq *q);

#endif
