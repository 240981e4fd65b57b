/* ratelimit.c: refusals counted per source address (ratelimit.h). */
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, int max_fails, int window_s, int block_s)
{
	memset(rl, 0, sizeof(*rl));
	rl->max_fails = max_fails > 0 ? max_fails : 1;
	rl->window_s = window_s > 0 ? window_s : 1;
	rl->block_s = block_s > 0 ? block_s : 1;
}

/* The slot index of key, or -1. A key longer than a slot is cut: the same
 * cut key finds the same slot. */
static int
ratelimit_index(const struct ratelimit *rl, const char *key)
{
	int i;

	for (i = 0; i < RATELIMIT_SLOTS; i++)
		if (rl->slot[i].key[0] != '\0' &&
		    strncmp(rl->slot[i].key, key, RATELIMIT_KEY_MAX - 1) == 0)
			return i;
	return -1;
}

/* 1 when slot a is a better one to reuse than b: one not blocked before
 * one blocked, then the one that failed longest ago. */
static int
ratelimit_older(const struct ratelimit_slot *a, const struct ratelimit_slot *b,
    int64_t now_ms)
{
	int ab = a->blocked_until_ms > now_ms, bb = b->blocked_until_ms > now_ms;

	if (ab != bb)
		return bb;
	return a->last_ms < b->last_ms;
}

/* A slot for a new key: a free one, else the oldest (ratelimit_older). */
static struct ratelimit_slot *
ratelimit_victim(struct ratelimit *rl, int64_t now_ms)
{
	struct ratelimit_slot *best = &rl->slot[0];
	int i;

	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		if (rl->slot[i].key[0] == '\0')
			return &rl->slot[i];
		if (ratelimit_older(&rl->slot[i], best, now_ms))
			best = &rl->slot[i];
	}
	return best;
}

int64_t
ratelimit_blocked(const struct ratelimit *rl, const char *key, int64_t now_ms)
{
	int i = ratelimit_index(rl, key);

	if (i < 0 || rl->slot[i].blocked_until_ms <= now_ms)
		return 0;
	return rl->slot[i].blocked_until_ms - now_ms;
}

int
ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	struct ratelimit_slot *s;
	int i = ratelimit_index(rl, key);

	if (i >= 0)
		s = &rl->slot[i];
	else {
		s = ratelimit_victim(rl, now_ms);
		memset(s, 0, sizeof(*s));
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window_ms = now_ms;
	}
	s->last_ms = now_ms;
	if (now_ms - s->window_ms > (int64_t)rl->window_s * 1000) {
		s->window_ms = now_ms;
		s->fails = 0;
	}
	if (++s->fails < rl->max_fails)
		return 0;
	s->blocked_until_ms = now_ms + (int64_t)rl->block_s * 1000;
	s->fails = 0;
	s->window_ms = now_ms;
	return 1;
}
