/*
 * api_ws.c: an execution's events over a websocket (docs/api.md).
 *
 *   GET /v1/executions/ID/events[?from=N]   Upgrade: websocket
 *   Sec-WebSocket-Protocol: bora-events
 *
 * On both API vhosts (the unix socket, and HTTPS with the operator token:
 * api_auth_upgrade). Each event is one text message, the same JSON object
 * as a line of the NDJSON stream, from event N on (default 0: the whole
 * story, then live); when the execution has ended and every event is out,
 * a close 1000. One message goes out per WRITEABLE, read from the event
 * log where it is kept, so a client that does not read costs one message
 * of buffer, never a copy of the log. What the client sends is ignored
 * (lws answers pings and closes).
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "api.h"
#include "api_int.h"
#include "engine.h"
#include "evlog.h"
#include "log.h"
#include "msg.h"

#define API_WS_PATH_MAX 256
#define API_WS_PREFIX   "/v1/executions/"
#define API_WS_SUFFIX   "/events"

struct api_ws_session {
	struct lws *wsi;
	struct evlog_watcher watch;
	size_t index;              /* next event to send */
	char id[ENGINE_ID_MAX];
};

/* One message at a time, with LWS_PRE in front: grown as lines need. */
static unsigned char *api_ws_buf;
static size_t api_ws_buf_len;

static void
api_ws_notify(struct evlog_watcher *w)
{
	struct api_ws_session *ws = w->user;

	lws_callback_on_writable(ws->wsi);
}

/* The execution id of "/v1/executions/ID/events" into id; 0, or -1. */
static int
api_ws_path_id(const char *path, char *id, size_t idlen)
{
	size_t plen = strlen(API_WS_PREFIX), slen = strlen(API_WS_SUFFIX);
	size_t len = strlen(path), n;

	if (len <= plen + slen || strncmp(path, API_WS_PREFIX, plen) != 0 ||
	    strcmp(path + len - slen, API_WS_SUFFIX) != 0)
		return -1;
	n = len - plen - slen;
	if (n >= idlen)
		return -1;
	memcpy(id, path + plen, n);
	id[n] = '\0';
	return bora_step_id_valid(id) ? 0 : -1;
}

/* ?from=N, 0 when absent; -1 when not a number. */
static long long
api_ws_from(struct lws *wsi)
{
	char buf[32];
	const char *v;
	char *end;
	long long n;

	v = lws_get_urlarg_by_name(wsi, "from=", buf, sizeof(buf));
	if (v == NULL)
		return 0;
	if (*v == '=')
		v++;
	n = strtoll(v, &end, 10);
	return end == v || *end != '\0' || n < 0 ? -1 : n;
}

/* The handshake: the path names a known execution, the caller may use the
 * API. 0 to accept, non-zero to refuse (logged). */
static int
api_ws_accept(struct api_ws_session *ws, struct lws *wsi)
{
	char path[API_WS_PATH_MAX], q[128], addr[64] = "?";
	struct engine_exec *x;
	long long from;

	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
		return -1;
	if (api_auth_upgrade(wsi, path) != 0)
		return -1;             /* logged there */
	lws_get_peer_simple(wsi, addr, sizeof(addr));
	if (api_ws_path_id(path, ws->id, sizeof(ws->id)) != 0 ||
	    (x = engine_find(ws->id)) == NULL) {
		log_warnx("api", "refused events websocket addr=%s path=%s "
		    "reason=\"no such execution\"", addr,
		    bora_log_quote(path, q, sizeof(q)));
		return -1;
	}
	if ((from = api_ws_from(wsi)) < 0) {
		log_warnx("api", "refused events websocket addr=%s path=%s "
		    "reason=\"from is not an event index\"", addr,
		    bora_log_quote(path, q, sizeof(q)));
		return -1;
	}
	ws->wsi = wsi;
	ws->index = (size_t)from;
	ws->watch.notify = api_ws_notify;
	ws->watch.user = ws;
	evlog_watch(engine_exec_log(x), &ws->watch);
	log_debug("api", "events websocket exec=%s from=%zu addr=%s", ws->id,
	    ws->index, addr);
	return 0;
}

/* Send the next event, or close when the log is done. 0, or -1 to close. */
static int
api_ws_write(struct api_ws_session *ws)
{
	struct evlog *l = ws->watch.log;
	const char *line;
	unsigned char *grown;
	size_t len;

	if (l == NULL) {               /* the execution was forgotten */
		lws_close_reason(ws->wsi, LWS_CLOSE_STATUS_GOINGAWAY, NULL, 0);
		return -1;
	}
	line = evlog_line(l, ws->index, &len);
	if (line == NULL) {
		if (!l->closed)
			return 0;      /* until the log has news */
		lws_close_reason(ws->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	if (LWS_PRE + len > api_ws_buf_len) {
		grown = realloc(api_ws_buf, LWS_PRE + len);
		if (grown == NULL)
			return -1;
		api_ws_buf = grown;
		api_ws_buf_len = LWS_PRE + len;
	}
	memcpy(api_ws_buf + LWS_PRE, line, len);
	if (lws_write(ws->wsi, api_ws_buf + LWS_PRE, len, LWS_WRITE_TEXT) !=
	    (int)len)
		return -1;
	ws->index++;
	/* the last event out: come back to close */
	if (ws->index < evlog_count(l) || l->closed)
		lws_callback_on_writable(ws->wsi);
	return 0;
}

static int
api_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct api_ws_session *ws = user;

	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (ws == NULL)
			return -1;
		memset(ws, 0, sizeof(*ws));
		return api_ws_accept(ws, wsi) ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws != NULL && api_ws_write(ws) ? -1 : 0;
	case LWS_CALLBACK_CLOSED:
		if (ws != NULL && ws->watch.log != NULL)
			evlog_unwatch(&ws->watch);
		return 0;
	case LWS_CALLBACK_PROTOCOL_DESTROY:
		free(api_ws_buf);
		api_ws_buf = NULL;
		api_ws_buf_len = 0;
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols api_ws_protocol = {
	.name = API_WS_PROTOCOL,
	.callback = api_ws_callback,
	.per_session_data_size = sizeof(struct api_ws_session),
	.rx_buffer_size = 0,
	.tx_packet_size = 0,
};
