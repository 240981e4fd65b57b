/*
 * engine_world.h: a fake world for the engine's unit tests: a clock the
 * test moves, agents the test connects, steps the test finishes. Every
 * step the engine starts is recorded in order; nothing happens unless the
 * test says so, so every run is deterministic.
 */
#ifndef BORA_TEST_ENGINE_WORLD_H
#define BORA_TEST_ENGINE_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine.h"

#define WORLD_MAX_STEPS 4096

struct world_step {
	char id[128];
	char agent[64];
	char kind[32];
	json_t *spec, *inputs;
	uint32_t timeout_s;
	int done;                   /* finished by the test */
	int cancelled;              /* cancelled by the engine */
};

struct world {
	int64_t now;
	int64_t wake;               /* last wake_at */
	struct world_step steps[WORLD_MAX_STEPS];
	size_t nsteps;
	json_t *agents;             /* name -> labels, the connected ones */
	int fail_start;             /* step_start fails */
};

extern struct world W;

/* engine_init with the fake world (fresh). */
void world_init(void);
/* engine_shutdown and free the world. */
void world_free(void);
/* Parse YAML text and start its workflow; fails the test on errors. */
struct engine_exec *world_start(const char *yaml, const json_t *input);
/* Move the clock by ms and fire what is due. */
void world_advance(int64_t ms);
void world_connect(const char *name, const char *labels_json);
/* Finish step i (index in W.steps) with status, exit code and the
 * outputs JSON text (may be NULL). */
void world_finish(size_t i, const char *status, int exit_code,
    const char *outputs_json);
/* Steps started and not finished or cancelled. */
size_t world_running(void);
/* The index of the first unfinished step of agent (or any, NULL). */
long world_find(const char *agent);
/* x's task named name, as JSON (state, result, ...), or NULL (a new
 * reference). */
json_t *world_task(const struct engine_exec *x, const char *name);
const char *world_task_state(const struct engine_exec *x, const char *name);

#endif
