/*
 * api_http.c: the HTTP side of the operator API (api.h): requests routed
 * through the route table (api_routes.c) to the handlers of each resource
 * (api_steps.c, api_executions.c, api_workflows.c, api_agents.c,
 * api_tokens.c), responses, event streams, query strings.
 *
 * Life of a request (one struct api_session per HTTP transaction, zeroed by
 * lws; a keep-alive connection gets a fresh one per request):
 *
 *   LWS_CALLBACK_HTTP            method + path -> route; GET routes answer
 *                                now, POST routes wait for their body
 *   LWS_CALLBACK_HTTP_BODY       accumulate, capped at API_MAX_BODY
 *   LWS_CALLBACK_HTTP_BODY_COMPLETION   dispatch the POST
 *   LWS_CALLBACK_HTTP_WRITEABLE  write the JSON body or the event stream,
 *                                API_WRITE_CHUNK bytes per call
 *   LWS_CALLBACK_HTTP_DROP_PROTOCOL / LWS_CALLBACK_CLOSED_HTTP: release
 *
 * Every answer is written the same way: headers at once (with content-length
 * for JSON), then the body from WRITEABLE, the last piece with
 * LWS_WRITE_HTTP_FINAL, then lws_http_transaction_completed().
 *
 * The events stream has no content-length: lws_add_http_common_headers()
 * then adds "connection: close" on HTTP/1.1, and the end of the body is the
 * end of the connection: after the last event of a closed log we write
 * LWS_WRITE_HTTP_FINAL and lws_http_transaction_completed() answers 1
 * (close), or defers the close until lws has flushed what the kernel did
 * not take yet.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_int.h"
#include "evlog.h"
#include "log.h"
#include "msg.h"

#define API_WRITE_CHUNK     (16 * 1024)  /* body bytes per WRITEABLE */
#define API_HEADER_SPACE    1024
#define API_N_ROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

static const struct {
	enum lws_token_indexes token;
	const char *name;
} api_methods[] = {
	{ WSI_TOKEN_GET_URI,     "GET" },
	{ WSI_TOKEN_POST_URI,    "POST" },
#if defined(LWS_WITH_HTTP_UNCOMMON_HEADERS)
	{ WSI_TOKEN_PUT_URI,     "PUT" },
	{ WSI_TOKEN_PATCH_URI,   "PATCH" },
	{ WSI_TOKEN_DELETE_URI,  "DELETE" },
	{ WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
#endif
	{ WSI_TOKEN_HEAD_URI,    "HEAD" },
};

/* One buffer for every write: lws runs one event loop on one thread and
 * lws_write() copies what the kernel does not take at once. */
static unsigned char api_wbuf[LWS_PRE + API_WRITE_CHUNK];

static const char *
api_method_name(struct lws *wsi)
{
	size_t i;

	for (i = 0; i < sizeof(api_methods) / sizeof(api_methods[0]); i++)
		if (lws_hdr_total_length(wsi, api_methods[i].token) > 0)
			return api_methods[i].name;
	return NULL;
}

/* ---- responses --------------------------------------------------------- */

static void
api_session_release(struct api_session *ss)
{
	evlog_unwatch(&ss->watch);         /* no-op when not watching */
	ss->streaming = 0;
	free(ss->body);
	ss->body = NULL;
	ss->body_len = ss->body_alloc = 0;
	free(ss->resp);
	ss->resp = NULL;
	ss->resp_len = ss->resp_off = 0;
}

static void
api_log_request(const struct api_session *ss)
{
	char qpath[128];

	log_debug("api", "request method=%s path=%s status=%d",
	    ss->method[0] ? ss->method : "?",
	    bora_log_quote(ss->path, qpath, sizeof(qpath)), ss->status);
}

int
api_respond(struct api_session *ss, unsigned status, json_t *body,
    enum lws_token_indexes extra_token, const char *extra_value)
{
	unsigned char *start = &api_wbuf[LWS_PRE], *p = start;
	unsigned char *end = start + API_HEADER_SPACE;
	char *text;
	size_t len;

	ss->answered = 1;
	ss->status = (int)status;
	api_log_request(ss);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		log_warnx("api", "cannot encode response status=%u", status);
		return -1;
	}
	/* One newline at the end, for terminals and line tools. */
	len = strlen(text);
	free(ss->resp);
	ss->resp = malloc(len + 2);
	if (ss->resp == NULL) {
		free(text);
		return -1;
	}
	memcpy(ss->resp, text, len);
	free(text);
	ss->resp[len++] = '\n';
	ss->resp[len] = '\0';
	ss->resp_len = len;
	ss->resp_off = 0;

	if (lws_add_http_common_headers(ss->wsi, status, "application/json",
	    (lws_filepos_t)len, &p, end))
		return -1;
	if (extra_value != NULL &&
	    lws_add_http_header_by_token(ss->wsi, extra_token,
	    (const unsigned char *)extra_value, (int)strlen(extra_value),
	    &p, end))
		return -1;
	if (ss->close_after &&
	    lws_add_http_header_by_token(ss->wsi, WSI_TOKEN_CONNECTION,
	    (const unsigned char *)"close", 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(ss->wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(ss->wsi);
	return 0;
}

int
api_reply(struct api_session *ss, unsigned status, json_t *body)
{
	if (body == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	return api_respond(ss, status, body, 0, NULL);
}

int
api_error_h(struct api_session *ss, unsigned status, const char *code,
    enum lws_token_indexes extra_token, const char *extra_value,
    const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	for (i = 0; detail[i]; i++)
		if ((unsigned char)detail[i] < 0x20 ||
		    (unsigned char)detail[i] >= 0x7f)
			detail[i] = '?';
	return api_respond(ss, status, json_pack("{s:s, s:s}", "error", code,
	    "detail", detail), extra_token, extra_value);
}

/* Write the next piece of a JSON body; after the last, end the
 * transaction. 0, or -1 to hang up. */
static int
api_write_json(struct api_session *ss)
{
	size_t n = ss->resp_len - ss->resp_off;
	enum lws_write_protocol wp = LWS_WRITE_HTTP_FINAL;

	if (n > API_WRITE_CHUNK) {
		n = API_WRITE_CHUNK;
		wp = LWS_WRITE_HTTP;
	}
	memcpy(&api_wbuf[LWS_PRE], ss->resp + ss->resp_off, n);
	if (lws_write(ss->wsi, &api_wbuf[LWS_PRE], n, wp) != (int)n)
		return -1;
	ss->resp_off += n;
	if (wp == LWS_WRITE_HTTP) {
		lws_callback_on_writable(ss->wsi);
		return 0;
	}
	free(ss->resp);
	ss->resp = NULL;
	if (ss->close_after)
		return -1;
	return lws_http_transaction_completed(ss->wsi) ? -1 : 0;
}

/* ---- the event stream -------------------------------------------------- */

static void
api_events_notify(struct evlog_watcher *w)
{
	struct api_session *ss = w->user;

	lws_rx_flow_control(ss->wsi, 1);
	lws_callback_on_writable(ss->wsi);
}

/*
 * Copy the events from ss->ev_index on (each line + "\n") into one write of
 * at most API_WRITE_CHUNK bytes; a long line spans several writes. When the
 * log is closed and every event is out, that write is the final one and the
 * transaction ends (the connection closes: no content-length).
 */
static int
api_write_events(struct api_session *ss)
{
	struct evlog *l = ss->watch.log;
	struct lws *wsi = ss->wsi;
	unsigned char *out = &api_wbuf[LWS_PRE];
	size_t n = 0, len, take;
	const char *line;
	int done;

	if (l == NULL)                     /* the log was freed */
		return -1;
	while (n < API_WRITE_CHUNK &&
	    (line = evlog_line(l, ss->ev_index, &len)) != NULL) {
		/* line bytes, then its newline at offset len */
		take = len + 1 - ss->ev_off;
		if (take > API_WRITE_CHUNK - n)
			take = API_WRITE_CHUNK - n;
		if (ss->ev_off + take > len) {
			memcpy(out + n, line + ss->ev_off, len - ss->ev_off);
			out[n + len - ss->ev_off] = '\n';
		} else
			memcpy(out + n, line + ss->ev_off, take);
		n += take;
		ss->ev_off += take;
		if (ss->ev_off == len + 1) {
			ss->ev_index++;
			ss->ev_off = 0;
		}
	}
	done = l->closed && ss->ev_index == evlog_count(l);
	if (n > 0 && lws_write(ss->wsi, out, n,
	    done ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	if (!done) {
		if (ss->ev_index < evlog_count(l))
			lws_callback_on_writable(ss->wsi);
		else
			/* Idle until the log has news. lws 4.1 does not read
			 * a connection whose response is still going out, so
			 * a client that hung up would leave POLLIN set and the
			 * loop spinning: stop polling for input meanwhile; the
			 * hang-up shows at the next write. */
			lws_rx_flow_control(ss->wsi, 0);
		return 0;
	}
	log_debug("api", "events stream ended path=%s events=%zu",
	    ss->path, ss->ev_index);
	evlog_unwatch(&ss->watch);
	ss->streaming = 0;
	/* ss may be gone after this call (lws frees it on a new transaction) */
	if (lws_http_transaction_completed(wsi))
		return -1;
	/* Deferred until lws has flushed the tail; a backstop in case. */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 30);
	return 0;
}

int
api_reply_list(struct api_session *ss, const char *key, json_t *list)
{
	if (list == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	return api_respond(ss, 200, json_pack("{s:o}", key, list), 0, NULL);
}

/* ---- request bodies ---------------------------------------------------- */

json_t *
api_json_body(const char *body, size_t len, int allow_empty, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	if (len == 0 && allow_empty)
		return json_object();
	if (len == 0) {
		snprintf(err, errlen,
		    "body: expected a JSON object, got an empty body");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen,
		    "body: invalid JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen, "body: expected a JSON object");
		return NULL;
	}
	return root;
}

json_t *
api_body_object(struct api_session *ss, int allow_empty, int *rc)
{
	char err[512];
	json_t *root;

	root = api_json_body(ss->body, ss->body_len, allow_empty, err,
	    sizeof(err));
	if (root == NULL)
		*rc = api_error(ss, 400, "bad_request", "%s", err);
	return root;
}

int
api_stream_log(struct api_session *ss, struct evlog *l)
{
	unsigned char *start = &api_wbuf[LWS_PRE], *p = start;
	unsigned char *end = start + API_HEADER_SPACE;

	ss->answered = 1;
	ss->status = 200;
	api_log_request(ss);
	/* No content-length: lws adds "connection: close" (HTTP/1.1). */
	if (lws_add_http_common_headers(ss->wsi, 200, "application/x-ndjson",
	    LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end))
		return -1;
	if (lws_add_http_header_by_token(ss->wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
	    (const unsigned char *)"no-store", 8, &p, end))
		return -1;
	if (lws_finalize_write_http_header(ss->wsi, start, &p, end))
		return -1;
	/* Long-lived: give back the header table (a pooled resource) and
	 * drop the pending HTTP timeout. (lws_http_mark_sse() does both but
	 * logs an error on HTTP/1.) */
	lws_http_headers_detach(ss->wsi);
	lws_set_timeout(ss->wsi, NO_PENDING_TIMEOUT, 0);
	ss->watch.notify = api_events_notify;
	ss->watch.user = ss;
	evlog_watch(l, &ss->watch);
	ss->streaming = 1;
	ss->ev_index = ss->ev_off = 0;
	lws_callback_on_writable(ss->wsi);
	return 0;
}

/* ---- the query string -------------------------------------------------- */

/*
 * Every name=value of the query is one of known (NULL-terminated). 0, or
 * the handler's result after answering 400.
 */
int
api_query_check(struct api_session *ss, const char *const *known, int *rc)
{
	char frag[API_QUERY_MAX + 64], q[96];
	size_t i, n;
	int idx;

	for (idx = 0; lws_hdr_copy_fragment(ss->wsi, frag, sizeof(frag),
	    WSI_TOKEN_HTTP_URI_ARGS, idx) >= 0; idx++) {
		n = strcspn(frag, "=");
		for (i = 0; known[i] != NULL; i++)
			if (strlen(known[i]) == n &&
			    strncmp(frag, known[i], n) == 0)
				break;
		if (known[i] == NULL) {
			frag[n] = '\0';
			*rc = api_error(ss, 400, "bad_request", "unknown query "
			    "parameter %s (see docs/api.md)",
			    bora_log_quote(frag, q, sizeof(q)));
			return -1;
		}
	}
	return 0;
}

/* The value of query parameter name into buf, or NULL when absent. */
const char *
api_query(struct api_session *ss, const char *name, char *buf, size_t n)
{
	char key[32];

	snprintf(key, sizeof(key), "%s=", name);
	return lws_get_urlarg_by_name(ss->wsi, key, buf, (int)n);
}

/* Query parameter name as an integer from min to max (dflt when absent).
 * 0, or -1 after answering 400 (*rc). */
int
api_query_uint(struct api_session *ss, const char *name, uint64_t dflt,
    uint64_t min, uint64_t max, uint64_t *out, int *rc)
{
	char buf[API_QUERY_MAX + 64], *end;
	const char *v = api_query(ss, name, buf, sizeof(buf));
	unsigned long long u;

	*out = dflt;
	if (v == NULL)
		return 0;
	errno = 0;
	u = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    u < min || u > max) {
		*rc = api_error(ss, 400, "bad_request", "%s: expected an "
		    "integer from %llu to %llu", name, (unsigned long long)min,
		    (unsigned long long)max);
		return -1;
	}
	*out = u;
	return 0;
}

/* ---- the protocol callback --------------------------------------------- */

/* Content-Length of the request: 0 and *len, -1 when absent, -2 when
 * malformed. */
static int
api_content_length(struct lws *wsi, size_t *len)
{
	char buf[32], *endp;
	unsigned long long v;
	int n;

	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (n <= 0)
		return -1;
	if (n >= (int)sizeof(buf) ||
	    lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
		return -2;
	if (buf[0] < '0' || buf[0] > '9')
		return -2;
	errno = 0;
	v = strtoull(buf, &endp, 10);
	if (errno != 0 || *endp != '\0')
		return -2;
	*len = v > (unsigned long long)SIZE_MAX ? SIZE_MAX : (size_t)v;
	return 0;
}

/* "Expect: 100-continue" (curl sends it for large bodies): say so, or the
 * client waits a second before it sends the body. HTTP/1.1 only. */
static int
api_maybe_continue(struct api_session *ss)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	char buf[32];

	if (lws_hdr_total_length(ss->wsi, WSI_TOKEN_HTTP_EXPECT) <= 0 ||
	    lws_hdr_copy(ss->wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_EXPECT) < 0 ||
	    strcasecmp(buf, "100-continue") != 0)
		return 0;
	memcpy(&api_wbuf[LWS_PRE], cont, sizeof(cont) - 1);
	if (lws_write(ss->wsi, &api_wbuf[LWS_PRE], sizeof(cont) - 1,
	    LWS_WRITE_HTTP) != (int)sizeof(cont) - 1)
		return -1;
	return 0;
}

/* A new request: route it. 0, or -1 to hang up. */
static int
api_on_request(struct api_session *ss, struct lws *wsi, const char *in,
    size_t len)
{
	const struct api_route *r;
	const char *method;
	char allow[64], q[128];
	size_t body_len = 0;
	int path_hit = 0, cl;

	api_session_release(ss);
	memset(ss, 0, sizeof(*ss));
	ss->wsi = wsi;
	method = api_method_name(wsi);
	snprintf(ss->method, sizeof(ss->method), "%s", method ? method : "?");
	if (method != NULL && strcmp(method, "HEAD") == 0)
		ss->close_after = 1;   /* we answer with a body: no reuse */
	if (len > API_MAX_PATH) {
		snprintf(ss->path, sizeof(ss->path), "%.*s...", 64, in);
		ss->close_after = 1;
		return api_error(ss, 414, "uri_too_long",
		    "request path is over %d bytes", API_MAX_PATH);
	}
	memcpy(ss->path, in, len);
	ss->path[len] = '\0';
	if ((cl = api_auth_check(ss)) != 0)
		return cl < 0 ? -1 : 0;

	ss->route = api_route_find(method, ss->path, ss->params, allow,
	    sizeof(allow), &path_hit);
	r = ss->route;
	cl = api_content_length(wsi, &body_len);
	if (r == NULL && !path_hit)
		return api_error(ss, 404, "not_found", "no route %s %s "
		    "(see docs/api.md)", ss->method,
		    bora_log_quote(ss->path, q, sizeof(q)));
	if (r == NULL)
		return api_error_h(ss, 405, "method_not_allowed",
		    WSI_TOKEN_HTTP_ALLOW, allow, "%s takes %s",
		    bora_log_quote(ss->path, q, sizeof(q)), allow);
	if (!r->has_body)
		return r->handler(ss);

	/* POST: the body comes in LWS_CALLBACK_HTTP_BODY. lws 4.1 reads a
	 * request body by Content-Length only: a chunked one is refused. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		ss->close_after = 1;   /* the chunks would follow */
		return api_error(ss, 411, "length_required",
		    "send the body with a Content-Length header, not chunked");
	}
	if (cl == -1)                  /* no length, no coding: no body */
		return r->handler(ss);
	if (cl == -2) {
		ss->close_after = 1;
		return api_error(ss, 400, "bad_request",
		    "Content-Length: expected a decimal number");
	}
	if (body_len > API_MAX_BODY) {
		ss->close_after = 1;
		return api_error(ss, 413, "too_large", "request body of %zu "
		    "bytes is over the limit of %d bytes", body_len,
		    API_MAX_BODY);
	}
	return api_maybe_continue(ss);
}

/* A piece of the request body. 0, or -1 to hang up. */
static int
api_on_body(struct api_session *ss, const void *in, size_t len)
{
	size_t want;
	char *grown;

	if (ss->answered || len == 0)
		return 0;
	if (ss->body_len + len > API_MAX_BODY) {
		ss->close_after = 1;
		return api_error(ss, 413, "too_large", "request body is over "
		    "the limit of %d bytes", API_MAX_BODY);
	}
	if (ss->body_len + len > ss->body_alloc) {
		want = ss->body_alloc ? ss->body_alloc : 16 * 1024;
		while (want < ss->body_len + len)
			want *= 2;
		if (want > API_MAX_BODY)
			want = API_MAX_BODY;
		grown = realloc(ss->body, want);
		if (grown == NULL) {
			ss->close_after = 1;
			return api_error(ss, 500, "internal", "out of memory");
		}
		ss->body = grown;
		ss->body_alloc = want;
	}
	memcpy(ss->body + ss->body_len, in, len);
	ss->body_len += len;
	return 0;
}

/* A websocket upgrade: for the events protocol, and nothing else, on a
 * path whose route has an upgrade handler. 0 to accept, 1 when refused
 * with an HTTP answer, -1 to hang up. */
static int
api_upgrade(struct lws *wsi)
{
	char proto[64], path[API_MAX_PATH + 1], allow[64];
	char params[API_MAX_PARAMS][API_MAX_PATH + 1];
	const struct api_route *r;
	int path_hit;

	if (lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) <= 0 ||
	    strcmp(proto, API_WS_PROTOCOL) != 0)
		return -1;
	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
		return -1;
	path[strcspn(path, "?")] = '\0';
	r = api_route_find("GET", path, params, allow, sizeof(allow), &path_hit);
	/* an unknown path still goes to the one upgrade handler there is:
	 * it answers 404 (or 401) in the API's shape */
	if (r == NULL || r->upgrade == NULL)
		return api_ws_confirm(wsi);
	return r->upgrade(wsi);
}

static int
api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct api_session *ss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (ss == NULL)
			return -1;
		return api_on_request(ss, wsi, in ? in : "", in ? len : 0)
		    ? -1 : 0;

	case LWS_CALLBACK_HTTP_BODY:
		if (ss == NULL || ss->route == NULL)
			return 0;
		return api_on_body(ss, in, len) ? -1 : 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (ss == NULL || ss->route == NULL || ss->answered)
			return 0;
		return ss->route->handler(ss) ? -1 : 0;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (ss == NULL)
			return 0;
		if (ss->resp != NULL)
			return api_write_json(ss) ? -1 : 0;
		if (ss->streaming)
			return api_write_events(ss) ? -1 : 0;
		return 0;

	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (ss != NULL)
			api_session_release(ss);
		return 0;

	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* a websocket only where the route table has one */
		return api_upgrade(wsi);

	default:
		return 0;
	}
}

const struct lws_protocols api_protocol = {
	.name = "http",
	.callback = api_callback,
	.per_session_data_size = sizeof(struct api_session),
	.rx_buffer_size = 0,
	.tx_packet_size = API_WRITE_CHUNK,
};
