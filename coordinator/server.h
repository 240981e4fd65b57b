/*
 * server.h: the coordinator's libwebsockets context, one event loop:
 * the agent vhost (WSS, mutual TLS, subprotocol bora.v1) and the operator
 * API vhost (unix socket).
 */
#ifndef BORA_COORD_SERVER_H
#define BORA_COORD_SERVER_H

#include <libwebsockets.h>

#include "config.h"

/* Listen (agent port, API socket). 0, or -1 after logging why; call
 * server_stop() either way. cfg must outlive the server. */
int server_start(const struct coord_config *cfg);
/* The event loop's context, once started (NULL before and after). */
struct lws_context *server_context(void);
/* Serve until SIGINT/SIGTERM. 0, or -1 when the loop failed. */
int server_loop(void);
/* Close every connection, free the steps, remove the API socket. */
void server_stop(void);

#endif
