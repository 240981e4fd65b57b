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
	uint32_t agent_timeout_s;   /* 0: the default */
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
/* A coordinator restart: the engine is shut down (everything it held is
 * gone) and started again; the world (clock, steps, agents) stays. */
void world_restart_engine(void);
/* engine_shutdown and free the world. */
void world_free(void);
/* Parse YAML text and start its workflow; fails the test on errors. */
struct engine_exec *world_start(const char *yaml, const json_t *input);
/* The same for workflow wf of the file (NULL: its only one). */
struct engine_exec *world_start_named(const char *yaml, const char *wf,
    const json_t *input);
/* Parse YAML text (fails the test on errors); a new reference. */
json_t *world_parse(const char *yaml);
/* engine_start of workflow wf of the file with input and task (reverse):
 * the execution, or NULL with engine_start's sentence in err. */
struct engine_exec *world_start_ex(const char *yaml, const char *wf,
    const json_t *input, const char *task, char *err, size_t errlen);
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
/* x's state_info ("" when none), in a static buffer. */
const char *world_exec_info(const struct engine_exec *x);
/* x's task name's state_info ("" when none), in a static buffer. */
const char *world_task_info(const struct engine_exec *x, const char *name);
/* Runs of task name in x. */
size_t world_task_runs(const struct engine_exec *x, const char *name);
/* x's output as compact JSON with sorted keys equals want. */
void world_assert_output(const struct engine_exec *x, const char *want);
/*
 * x's event log as one line of words, in order (free() it):
 *   X:STATE (execution)  T:task:STATE (task)  S:task:state (step)
 *   O:task:stream (output); an event of another (child) execution
 *   has a leading '~'.
 */
char *world_trace(struct engine_exec *x);

#endif
