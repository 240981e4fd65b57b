/*
 * agent_server.h: the agent vhost (WSS, mutual TLS, subprotocol bora.v1)
 * on the coordinator's event loop (coordinator_loop.c): every message an
 * agent sends goes through the codec to the registry and the steps;
 * connections without a certificate go to enrollment.
 */
#ifndef BORA_COORD_AGENT_SERVER_H
#define BORA_COORD_AGENT_SERVER_H

#include <stdint.h>

#include <libwebsockets.h>

#include "coordinator_config.h"

/* Listen for agents on ctx (cfg->listen, cfg->port). 0, or -1 after
 * logging why. cfg must outlive the context. */
int agent_server_listen(struct lws_context *ctx, const struct coord_config *cfg);
/* Messages refused so far, all agents together. */
uint64_t agent_server_bad_messages(void);
/* After the context is destroyed (every session closed): free the steps. */
void agent_server_shutdown(void);

#endif
