/*
 * ratelimit.h: refusals counted per source address, for secrets that can
 * be guessed over the network (enrollment tokens, enroll.c; the operator
 * token, api_auth.c).
 *
 * max_fails refusals from one key (an address without its port) within
 * window_s seconds block that key for block_s seconds: every attempt from
 * it is refused meanwhile, right or wrong, so that guessing learns nothing.
 * A fixed table of RATELIMIT_SLOTS keys, the least recently failing one
 * reused: memory does not grow with the number of addresses. Pure: the
 * caller passes the time, so that tests need no clock.
 */
#ifndef BORA_COORD_RATELIMIT_H
#define BORA_COORD_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_SLOTS   256       /* source addresses remembered */
#define RATELIMIT_KEY_MAX 64

struct ratelimit_slot {
	char key[RATELIMIT_KEY_MAX];   /* "" when free */
	int64_t window_ms;             /* start of the failures' window */
	int64_t blocked_until_ms;
	int64_t last_ms;               /* last failure: the eviction order */
	int fails;
};

struct ratelimit {
	int max_fails;
	int window_s;
	int block_s;
	struct ratelimit_slot slot[RATELIMIT_SLOTS];
};

/* Zero rl and set its rule (each argument >= 1). */
void ratelimit_init(struct ratelimit *rl, int max_fails, int window_s,
    int block_s);

/* Milliseconds key stays blocked after now_ms; 0 when it is not. */
int64_t ratelimit_blocked(const struct ratelimit *rl, const char *key,
    int64_t now_ms);

/* Count one refusal from key at now_ms. 1 when it starts a block (the
 * caller logs that), else 0. */
int ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now_ms);

#endif
