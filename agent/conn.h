/*
 * conn.h: the agent's one websocket connection to its coordinator.
 *
 * Connects out with the agent's certificate, verifies the coordinator
 * against the CA, sends hello and reconnects forever with exponential
 * backoff and jitter (reset after a connection that got a welcome).
 */
#ifndef BORA_AGENT_CONN_H
#define BORA_AGENT_CONN_H

#include <stddef.h>
#include <libwebsockets.h>
#include "msg.h"
#include "agent_config.h"

/* The client protocol, first in the vhost's protocol list. */
extern const struct lws_protocols conn_protocol;

/* Start connecting (the first attempt is scheduled at once). */
int conn_start(struct lws_context *ctx, const struct agent_config *cfg);
void conn_stop(void);

/* 1 when the coordinator has welcomed us and messages can be sent. */
int conn_is_up(void);

/* Queue a message for the coordinator. 0, or -1 when not connected or the
 * send queue is over its cap (the caller keeps what it needs: a result is
 * sent again on reconnect). Output senders check conn_can_queue() first. */
int conn_send(const struct bora_msg *m);

/* 1 when at least `bytes` more can be queued now. When this said 0, the
 * connection calls steps_on_send_space() once the queue has drained. */
int conn_can_queue(size_t bytes);

#endif
