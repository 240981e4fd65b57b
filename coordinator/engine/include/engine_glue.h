/*
 * engine_glue.h: the engine (engine.h) bound to the running coordinator:
 * its clock and timer on the lws event loop, its steps through steps.h,
 * its agents through registry.c.
 */
#ifndef BORA_COORD_ENGINE_GLUE_H
#define BORA_COORD_ENGINE_GLUE_H

#include <libwebsockets.h>

#include "steps.h"

/* engine_init() with the real world, on ctx's event loop (service thread
 * 0), and hook the agents' welcomes. 0, or -1 after logging why. */
int engine_glue_init(struct lws_context *ctx);

/* Before ctx is destroyed: drop the timer and the welcome hook, then
 * engine_shutdown(). Harmless when engine_glue_init() failed or was not
 * called. */
void engine_glue_shutdown(void);

/* Write the engine's changed documents to the store at each turn
 * (engine_store.c: a persist_on_turn() save hook). 0, or -1. */
int engine_store_hook(void);

/* The owner of the engine's steps (their output and results go to the
 * engine): for steps restored from the store. */
const struct step_owner *engine_glue_step_owner(void);

#endif
