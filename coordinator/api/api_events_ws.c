/*
 * api_events_ws.c: an execution's events over a websocket (docs/api.md).
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
#include "log_gate.h"
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

/* Answer the upgrade request with status and {error, detail}. 1, or -1
 * when it cannot be written. */
static int
api_ws_refuse(struct lws *wsi, unsigned status, const char *code,
    const char *detail)
{
	unsigned char head[LWS_PRE + 512], body[LWS_PRE + 512];
	unsigned char *start = head + LWS_PRE, *p = start;
	json_t *o = json_pack("{s:s, s:s}", "error", code, "detail", detail);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t n = text ? strlen(text) : 0;
	int rc = -1;

	if (text != NULL && n < sizeof(body) - LWS_PRE) {
		memcpy(body + LWS_PRE, text, n);
		if (lws_add_http_common_headers(wsi, status, "application/json",
		    n, &p, head + sizeof(head)) == 0 &&
		    lws_finalize_write_http_header(wsi, start, &p,
		    head + sizeof(head)) == 0 &&
		    lws_write(wsi, body + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) ==
		    (int)n)
			rc = 1;
	}
	free(text);
	json_decref(o);
	return rc;
}

/*
 * The checks of an upgrade, in order: the caller may use the API, the
 * path names a known execution, from= is an index. 0 with the execution
 * (and *from), else the refusal's status, code and detail (logged).
 */
static unsigned
api_ws_check(struct lws *wsi, char *id, size_t idlen, struct engine_exec **x,
    long long *from, const char **code, char *detail, size_t dlen)
{
	char path[API_WS_PATH_MAX], q[128], addr[64] = "?";
	unsigned status;

	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
		path[0] = '\0';
	if ((status = api_auth_upgrade(wsi, path)) != 0) {   /* logged */
		*code = status == 429 ? "rate_limited" : "unauthorized";
		snprintf(detail, dlen, "%s", status == 429 ? "too many refused "
		    "operator tokens; try again later" : "the HTTPS API takes "
		    "\"Authorization: Bearer TOKEN\" with the operator token");
		return status;
	}
	lws_get_peer_simple(wsi, addr, sizeof(addr));
	if (api_ws_path_id(path, id, idlen) != 0 ||
	    (*x = engine_find(id)) == NULL) {
		*code = "not_found";
		snprintf(detail, dlen, "no execution %s", bora_log_quote(
		    api_ws_path_id(path, id, idlen) == 0 ? id : path, q,
		    sizeof(q)));
		status = 404;
	} else if ((*from = api_ws_from(wsi)) < 0) {
		*code = "bad_request";
		snprintf(detail, dlen, "from: expected an event index");
		status = 400;
	} else
		return 0;
	log_limited(BORA_LOG_WARN, "api", "refused_websocket", addr,
	    "refused events websocket addr=%s path=%s "
	    "reason=\"%s\"", addr, bora_log_quote(path, q, sizeof(q)), detail);
	return status;
}

int
api_ws_confirm(struct lws *wsi)
{
	char id[ENGINE_ID_MAX], detail[200];
	const char *code = "";
	struct engine_exec *x = NULL;
	long long from = 0;
	unsigned status;

	status = api_ws_check(wsi, id, sizeof(id), &x, &from, &code, detail,
	    sizeof(detail));
	return status == 0 ? 0 : api_ws_refuse(wsi, status, code, detail);
}

/* The protocol's own handshake callback: start watching (checked again:
 * nothing changed between the two callbacks, but this one must not trust
 * the other was called). 0 to accept, non-zero to refuse. */
static int
api_ws_accept(struct api_ws_session *ws, struct lws *wsi)
{
	char detail[200];
	const char *code = "";
	struct engine_exec *x = NULL;
	long long from = 0;

	if (api_ws_check(wsi, ws->id, sizeof(ws->id), &x, &from, &code,
	    detail, sizeof(detail)) != 0)
		return -1;
	ws->wsi = wsi;
	ws->index = (size_t)from;
	ws->watch.notify = api_ws_notify;
	ws->watch.user = ws;
	evlog_watch(engine_exec_log(x), &ws->watch);
	log_info("api", "events websocket exec=%s from=%zu", ws->id,
	    ws->index);
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
