/* timerheap.c: see timerheap.h. */
#include <stdlib.h>
#include <string.h>

#include "timerheap.h"

void
timer_init(struct timer *t, void (*fire)(struct timer *t))
{
	t->at = 0;
	t->index = SIZE_MAX;
	t->fire = fire;
}

int
timer_armed(const struct timer *t)
{
	return t->index != SIZE_MAX;
}

static void
th_set(struct timerheap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->index = i;
}

static void
th_up(struct timerheap *h, size_t i)
{
	struct timer *t = h->v[i];

	while (i > 0 && h->v[(i - 1) / 2]->at > t->at) {
		th_set(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	th_set(h, i, t);
}

static void
th_down(struct timerheap *h, size_t i)
{
	struct timer *t = h->v[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->at < h->v[c]->at)
			c++;
		if (h->v[c]->at >= t->at)
			break;
		th_set(h, i, h->v[c]);
		i = c;
	}
	th_set(h, i, t);
}

void
timerheap_cancel(struct timerheap *h, struct timer *t)
{
	struct timer *moved;
	size_t i = t->index;

	if (i == SIZE_MAX)
		return;
	t->index = SIZE_MAX;
	if (--h->n == i)
		return;
	moved = h->v[h->n];     /* the last one fills the hole */
	th_set(h, i, moved);
	th_up(h, i);
	th_down(h, moved->index);
}

int
timerheap_arm(struct timerheap *h, struct timer *t, int64_t at)
{
	struct timer **nv;
	size_t ncap;

	timerheap_cancel(h, t);
	if (h->n == h->cap) {
		ncap = h->cap ? h->cap * 2 : 64;
		if ((nv = realloc(h->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		h->v = nv;
		h->cap = ncap;
	}
	t->at = at;
	th_set(h, h->n, t);
	h->n++;
	th_up(h, h->n - 1);
	return 0;
}

int64_t
timerheap_next(const struct timerheap *h)
{
	return h->n ? h->v[0]->at : INT64_MAX;
}

struct timer *
timerheap_pop_due(struct timerheap *h, int64_t now)
{
	struct timer *t;

	if (h->n == 0 || h->v[0]->at > now)
		return NULL;
	t = h->v[0];
	timerheap_cancel(h, t);
	return t;
}

void
timerheap_free(struct timerheap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		h->v[i]->index = SIZE_MAX;
	free(h->v);
	memset(h, 0, sizeof(*h));
}
