/*
 * api.h: the operator API, HTTP/1.1 + JSON on a unix socket (mode 0600, so
 * file permissions decide who is an operator), and over HTTPS when
 * api.port is set (the operator token in "Authorization: Bearer",
 * api_auth.c). One const route table (api_routes.c):
 *
 *   GET  /v1/agents                 enrolled or connected agents
 *   GET  /v1/agents/NAME            one agent and its unfinished steps
 *   POST /v1/steps                  {"agent","kind","spec","inputs","timeout"}
 *                                   -> 201 {"step": id, ...}
 *   GET  /v1/steps/ID               state and result
 *   GET  /v1/steps/ID/events        NDJSON stream of the step's events,
 *                                   live until the result, then closed
 *   GET  /v1/steps/ID/output?offset=N&limit=M
 *                                   the step's stored output, paged
 *   POST /v1/workflows              YAML body, or {"yaml","file","replace"}
 *                                   -> 201 {"name",...}
 *   GET  /v1/workflows              stored workflows: names, created_ms
 *   GET  /v1/workflows/NAME         its yaml and canonical JSON
 *   DELETE /v1/workflows/NAME       forget it
 *   GET  /v1/executions?state=S&workflow=W&limit=N&offset=M
 *                                   newest first
 *   POST /v1/executions             {"workflow": YAML | "workflow_name",
 *                                   "name", "input", "task", "file"}
 *                                   -> 201 execution
 *   GET  /v1/executions/ID          state, tasks, output
 *   GET  /v1/executions/ID/events   NDJSON, live until the execution ends
 *   GET  /v1/executions/ID/tasks    its tasks
 *   POST /v1/executions/ID/cancel|pause|resume
 *   POST /v1/tokens                 {"name","labels","ttl_s","uses"} -> 201
 *                                   {"id","token",...}: the only plain copy
 *   GET  /v1/tokens                 enrollment tokens, no secrets
 *   DELETE /v1/tokens/ID            the token can no longer enroll
 *   GET  /v1/enrolled               enrolled agents, serials, fingerprints
 *   POST /v1/agents/NAME/revoke     revoke, close its connection
 *
 * Errors: status + {"error": short, "detail": sentence}. Bodies over
 * API_MAX_BODY are refused with 413.
 */
#ifndef BORA_COORD_API_H
#define BORA_COORD_API_H

#include <libwebsockets.h>

#include "coordinator_config.h"
#include "msg.h"

#define API_MAX_BODY (4 * 1024 * 1024)

/* The vhost of the API over HTTPS (config api.port): every request there
 * needs "Authorization: Bearer OPERATOR_TOKEN" (api_auth.c). */
#define API_VHOST_HTTPS "api-https"

/* The HTTP protocol of the API vhost (first in its protocol list). */
extern const struct lws_protocols api_protocol;

/* An execution's events as a websocket, on the same vhosts (api_events_ws.c). */
#define API_WS_PROTOCOL BORA_EVENTS_SUBPROTOCOL
extern const struct lws_protocols api_ws_protocol;

/* Listen on ctx (api_listen.c): the unix socket cfg->api_socket (a stale
 * one is removed, one a live coordinator answers on is not), and HTTPS on
 * cfg->api_port when set. 0, or -1 after logging why. */
int api_listen(struct lws_context *ctx, const struct coord_config *cfg);
/* After the context is destroyed: remove the socket file we made. */
void api_unlisten(void);

#endif
