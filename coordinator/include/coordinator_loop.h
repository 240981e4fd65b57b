/*
 * coordinator_loop.h: the coordinator's libwebsockets context, one event
 * loop for the agent vhost and the operator API (coordinator_loop.c).
 */
#ifndef BORA_COORD_LOOP_H
#define BORA_COORD_LOOP_H

#include <libwebsockets.h>

#include "coordinator_config.h"

/* Make the state directory private, create the context and listen (agent
 * port, API socket, HTTPS API). 0, or -1 after logging why; call
 * coord_loop_stop() either way. cfg must outlive the loop. */
int coord_loop_start(const struct coord_config *cfg);
/* The event loop's context, once started (NULL before and after). */
struct lws_context *coord_loop_context(void);
/* Serve until SIGINT/SIGTERM. 0, or -1 when the loop failed. */
int coord_loop_run(void);
/* Close every connection, free the steps, remove the API socket. */
void coord_loop_stop(void);

#endif
