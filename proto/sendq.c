/*
 * sendq.c: FIFO of outgoing messages, each stored with LWS_PRE bytes of
 * headroom in front of its payload, bounded by a cap on payload bytes.
 */
#include "sendq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
bora_sendq_init(struct bora_sendq *q, size_t headroom, size_t cap)
{
	q->head = q->tail = NULL;
	q->headroom = headroom;
	q->bytes = 0;
	q->count = 0;
	q->cap = cap;
}

/* The item owns a copy of data; the queue frees it on pop or clear. */
int
bora_sendq_push(struct bora_sendq *q, const void *data, size_t len)
{
	struct bora_sendq_item *it;

	/* an empty queue takes any one message (its size has its own limit):
	 * the cap bounds the backlog of a peer that does not read */
	if (q->count > 0 && (len > q->cap || q->bytes > q->cap - len))
		return -1;
	if (q->headroom > SIZE_MAX - sizeof(*it) ||
	    len > SIZE_MAX - sizeof(*it) - q->headroom)
		return -1;
	if ((it = malloc(sizeof(*it) + q->headroom + len)) == NULL)
		return -1;
	it->next = NULL;
	it->len = len;
	if (len > 0)
		memcpy(it->buf + q->headroom, data, len);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += len;
	q->count++;
	return 0;
}

struct bora_sendq_item *
bora_sendq_peek(const struct bora_sendq *q)
{
	return q->head;
}

void
bora_sendq_pop(struct bora_sendq *q)
{
	struct bora_sendq_item *it = q->head;

	if (it == NULL)
		return;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= it->len;
	q->count--;
	free(it);
}

void
bora_sendq_clear(struct bora_sendq *q)
{
	while (q->head != NULL)
		bora_sendq_pop(q);
}
