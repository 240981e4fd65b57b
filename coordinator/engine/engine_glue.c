/*
 * engine_glue.c: engine_ops (engine.h) on the real world (engine_glue.h).
 *
 *   now_ms          bora_wall_ms() (the wall clock, ms)
 *   wake_at         one lws_sorted_usec_list_t on the event loop's context,
 *                   calling engine_run_timers()
 *   step_start      steps_submit() with the engine's step id and an owner
 *                   whose callbacks are engine_step_output/engine_step_done,
 *                   labelled with the step's task (engine_step_task)
 *   step_cancel     steps_cancel(), after the owner is detached
 *   agents_matching registry_matching()
 *   welcome hook    engine_agent_connected()
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "clock.h"
#include "engine_glue.h"
#include "log.h"
#include "registry.h"
#include "steps.h"

static struct lws_context *glue_ctx;   /* NULL: not bound (or shut down) */
static lws_sorted_usec_list_t glue_sul;

static int64_t
glue_now_ms(void *user)
{
	(void)user;
	/* wall clock: timers are deadlines that a restarted coordinator
	 * re-arms from the store */
	return bora_wall_ms();
}

static void
glue_timer_fired(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	engine_run_timers();
}

static void
glue_wake_at(void *user, int64_t at_ms)
{
	int64_t delay_ms;

	if (glue_ctx == NULL)
		return;
	if (at_ms == INT64_MAX) {
		lws_sul_cancel(&glue_sul);
		return;
	}
	delay_ms = at_ms - glue_now_ms(user);
	if (delay_ms < 0)
		delay_ms = 0;
	/* lws_sul_schedule() replaces a pending schedule of the same sul. */
	lws_sul_schedule(glue_ctx, 0, &glue_sul, glue_timer_fired,
	    (lws_usec_t)delay_ms * LWS_US_PER_MS);
}

static void
glue_step_output(void *user, const char *step_id, const char *stream,
    const char *data, size_t len)
{
	(void)user;
	engine_step_output(step_id, stream, data, len);
}

static void
glue_step_done(void *user, const char *step_id, const json_t *result)
{
	(void)user;
	engine_step_done(step_id, result);
}

static const struct step_owner glue_owner = {
	.on_output = glue_step_output,
	.on_done = glue_step_done,
};

const struct step_owner *
engine_glue_step_owner(void)
{
	return &glue_owner;
}

static int
glue_step_start(void *user, const char *step_id, const char *agent,
    const char *kind, const json_t *spec, const json_t *inputs,
    uint32_t timeout_s, uint32_t agent_timeout_s, char *err, size_t errlen)
{
	struct step_owner owner = glue_owner;
	struct coord_step *s;

	(void)user;
	/* the step's log lines name its execution (the id's part before its
	 * first dot) and its task */
	owner.task = engine_step_task(step_id);
	/* steps.c takes its own references and never changes them: the
	 * casts only satisfy jansson's non-const json_incref(). */
	s = steps_submit(step_id, agent, kind, (json_t *)(uintptr_t)spec,
	    (json_t *)(uintptr_t)inputs, timeout_s, &owner, err, errlen);
	if (s == NULL)
		return -1;
	step_set_secrets(s, engine_step_secrets(step_id));
	step_set_agent_timeout(s, agent_timeout_s);
	return 0;
}

static void
glue_step_cancel(void *user, const char *step_id, const char *reason)
{
	struct coord_step *s = steps_find(step_id);

	(void)user;
	if (s == NULL)
		return;
	/* The engine ignores what comes of a step it cancelled; detaching
	 * first also keeps a step cancelled while it waited (finished
	 * inside steps_cancel) from calling back into the engine while the
	 * engine is in the middle of cancelling it. */
	step_set_owner(s, NULL);
	steps_cancel(s, reason);
}

static json_t *
glue_agents_matching(void *user, const json_t *labels)
{
	(void)user;
	return registry_matching(labels);
}

static void
glue_agent_welcomed(void *user, const char *name, const json_t *labels)
{
	(void)user;
	engine_agent_connected(name, labels);
}

int
engine_glue_init(struct lws_context *ctx)
{
	const struct engine_ops ops = {
		.now_ms = glue_now_ms,
		.wake_at = glue_wake_at,
		.step_start = glue_step_start,
		.step_cancel = glue_step_cancel,
		.agents_matching = glue_agents_matching,
		.user = NULL,
	};

	memset(&glue_sul, 0, sizeof(glue_sul));
	glue_ctx = ctx;
	if (engine_init(&ops) != 0) {
		glue_ctx = NULL;
		log_errorx("engine", "cannot start the workflow engine "
		    "reason=\"out of memory\"");
		return -1;
	}
	if (engine_store_hook() != 0) {
		engine_shutdown();
		glue_ctx = NULL;
		return -1;
	}
	registry_set_welcome_hook(glue_agent_welcomed, NULL);
	return 0;
}

void
engine_glue_shutdown(void)
{
	if (glue_ctx == NULL)
		return;
	registry_set_welcome_hook(NULL, NULL);
	lws_sul_cancel(&glue_sul);
	glue_ctx = NULL;            /* wake_at from here on is a no-op */
	engine_shutdown();
}
