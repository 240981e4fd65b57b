/*
 * coord_step_away.c: steps whose agent stays away (issue 14).
 *
 * A disconnection does not stop a step, so the coordinator waits for the
 * agent to come back with its result. It does not wait forever: when an
 * agent goes (or, after a coordinator restart, before it first comes), each
 * of its dispatched or running steps gets a deadline, its away bound from
 * now: the task's agent-timeout, or by default the step's own timeout plus
 * STEP_AWAY_HEARTBEATS heartbeats (by then an agent that is alive has
 * ended the step and would have said so). The
 * agent's welcome disarms them; a deadline passed finishes the step here,
 * `lost`, and the engine goes on by the task's rules (safe-rerun, retry,
 * on-error). An agent that comes back later still running such a step is
 * told to cancel it (coord_step_protocol.c), and its result is only acked.
 *
 * One timerheap (proto/timerheap.h) holds the deadlines; one lws sul on
 * the loop's context is due at the earliest. Without a context (unit
 * tests) deadlines are kept but fire only through steps_away_run().
 */
#include <stdint.h>
#include <stdio.h>

#include <libwebsockets.h>

#include "clock.h"
#include "coord_step_int.h"
#include "log.h"

static struct {
	struct lws_context *ctx;        /* borrowed; NULL: no wake-ups */
	lws_sorted_usec_list_t sul;
	struct timerheap heap;
	uint32_t heartbeat_s;
} away = { .heartbeat_s = 30 };

static void steps_away_fired(lws_sorted_usec_list_t *sul);

/* The sul is due at the earliest deadline, or cancelled. */
static void
steps_away_wake(void)
{
	int64_t next = timerheap_next(&away.heap), delay;

	if (away.ctx == NULL)
		return;
	if (next == INT64_MAX) {
		lws_sul_cancel(&away.sul);
		return;
	}
	delay = next - bora_wall_ms();
	if (delay < 0)
		delay = 0;
	lws_sul_schedule(away.ctx, 0, &away.sul, steps_away_fired,
	    (lws_usec_t)delay * LWS_US_PER_MS);
}

static void
steps_away_fired(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	steps_away_run(bora_wall_ms());
}

void
steps_away_run(int64_t now_ms)
{
	struct timer *t;
	struct coord_step *s;
	char text[BORA_MAX_NAME + 128];

	while ((t = timerheap_pop_due(&away.heap, now_ms)) != NULL) {
		s = container_of(t, struct coord_step, away);
		snprintf(text, sizeof(text), "agent %s was away longer than "
		    "%u s while the step ran", s->agent, step_away_bound_s(s));
		log_warnx("steps", "step finished step=%s%s agent=%s "
		    "status=lost where=coordinator reason=\"agent away longer "
		    "than %u s\"", s->id, s->labels, s->agent,
		    step_away_bound_s(s));
		step_finish_here(s, "lost", text);  /* may free s */
	}
	steps_away_wake();
}

void
steps_away_init(struct lws_context *ctx, uint32_t heartbeat_s)
{
	away.ctx = ctx;
	if (heartbeat_s > 0)
		away.heartbeat_s = heartbeat_s;
	steps_away_wake();
}

void
steps_away_shutdown(void)
{
	if (away.ctx != NULL)
		lws_sul_cancel(&away.sul);
	away.ctx = NULL;
	timerheap_free(&away.heap);
}

uint32_t
step_away_bound_s(const struct coord_step *s)
{
	uint64_t b = (uint64_t)s->timeout_s +
	    (uint64_t)STEP_AWAY_HEARTBEATS * away.heartbeat_s;

	if (s->agent_timeout_s > 0)
		return s->agent_timeout_s;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

void
step_set_agent_timeout(struct coord_step *s, uint32_t secs)
{
	s->agent_timeout_s = secs;
}

void
step_away_arm(struct coord_step *s)
{
	int64_t at = bora_wall_ms() + (int64_t)step_away_bound_s(s) * 1000;

	if (s->state != STEP_DISPATCHED && s->state != STEP_RUNNING)
		return;
	if (timerheap_arm(&away.heap, &s->away, at) != 0) {
		log_warnx("steps", "cannot bound the agent's absence step=%s%s "
		    "reason=\"out of memory\"", s->id, s->labels);
		return;
	}
	log_debug("steps", "agent away, step bounded step=%s%s agent=%s "
	    "bound_s=%u", s->id, s->labels, s->agent, step_away_bound_s(s));
	steps_away_wake();
}

void
step_away_disarm(struct coord_step *s)
{
	if (!timer_armed(&s->away))
		return;
	timerheap_cancel(&away.heap, &s->away);
	steps_away_wake();
}
