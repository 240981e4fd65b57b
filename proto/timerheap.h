/*
 * timerheap.h: deadlines in a binary min-heap. A timer is embedded in its
 * owner; arming, disarming and firing are O(log n), and freeing an owner
 * only needs timerheap_cancel() on its timers first.
 */
#ifndef BORA_PROTO_TIMERHEAP_H
#define BORA_PROTO_TIMERHEAP_H

#include <stddef.h>
#include <stdint.h>

struct timer {
	int64_t at;                     /* deadline, ms */
	size_t index;                   /* in the heap; SIZE_MAX when idle */
	void (*fire)(struct timer *t);  /* owner found with container_of */
};

struct timerheap {
	struct timer **v;
	size_t n, cap;
};

void timer_init(struct timer *t, void (*fire)(struct timer *t));
int timer_armed(const struct timer *t);
/* (Re)arm t for at. 0, or -1 when out of memory. */
int timerheap_arm(struct timerheap *h, struct timer *t, int64_t at);
void timerheap_cancel(struct timerheap *h, struct timer *t);
/* The earliest deadline, INT64_MAX when none. */
int64_t timerheap_next(const struct timerheap *h);
/* Disarm and return the earliest timer due at now, or NULL. */
struct timer *timerheap_pop_due(struct timerheap *h, int64_t now);
void timerheap_free(struct timerheap *h);

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
