/*
 * server.h: the coordinator's libwebsockets context, one event loop:
 * the agent vhost (WSS, mutual TLS, subprotocol bora.v1) and the operator
 * API vhost (unix socket).
 */
#ifndef BORA_COORD_SERVER_H
#define BORA_COORD_SERVER_H

#include "config.h"

int server_run(const struct coord_config *cfg);  /* until SIGINT/SIGTERM */

#endif
