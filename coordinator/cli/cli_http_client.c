/*
 * cli_http_client.c: blocking HTTP/1.1 over a unix socket, or over TLS to
 * https://HOST:PORT with a Bearer token (cli_http_client_int.h): one
 * request per connection (cli_http_conn.c), its answer read by
 * cli_http_response.c, or an events websocket by cli_http_ws.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli_http_client_int.h"
#include "cli_http_conn_int.h"
#include "ws_client.h"

#ifndef BORA_VERSION
#define BORA_VERSION "0.0.0-dev"
#endif

void
http_response_free(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- requests ---------------------------------------------------------- */

static int
http_path_valid(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static int
http_exchange(const struct http_request *rq, http_line_fn fn, void *ctx,
    struct http_response *resp, char *err, size_t errlen)
{
	struct http_conn *c = NULL;
	struct http_sink sink;
	struct http_head h;
	char head[1024];
	const char *host, *token;
	int n, ws, rc = HTTP_ERR, hung_up = 0;
	char send_err[256] = "", ws_key[BORA_WS_KEY_LEN + 1] = "";

	memset(resp, 0, sizeof(*resp));
	memset(&sink, 0, sizeof(sink));
	if (!http_path_valid(rq->path) || strlen(rq->path) > 512)
		return http_errf(err, errlen, "bad request path");
	if ((rc = http_conn_open(rq, &c, err, errlen)) != 0)
		return rc;
	rc = HTTP_ERR;
	host = http_endpoint_host();
	token = http_endpoint_token();

	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: bora/" BORA_VERSION "\r\n"
	    "Accept: application/json, application/x-ndjson\r\n",
	    rq->method, rq->path, host ? host : "bora");
	if (rq->websocket != NULL) {
		ws = bora_ws_upgrade_headers(head + n, sizeof(head) - (size_t)n,
		    rq->websocket, ws_key);
		if (ws < 0) {
			http_errf(err, errlen, "cannot make the websocket "
			    "upgrade request");
			goto out;
		}
		n += ws;
	} else
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Connection: close\r\n");
	if (token != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Authorization: Bearer %s\r\n", token);
	if (rq->body != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", rq->body_len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if ((size_t)n >= sizeof(head)) {
		http_errf(err, errlen, "request head too long");
		goto out;
	}
	switch (http_send_all(c, head, (size_t)n, send_err, sizeof(send_err))) {
	case -1:
		http_errf(err, errlen, "%s", send_err);
		goto out;
	case 1:
		hung_up = 1;
		break;
	}
	if (!hung_up && rq->body != NULL) {
		switch (http_send_all(c, rq->body, rq->body_len, send_err,
		    sizeof(send_err))) {
		case -1:
			http_errf(err, errlen, "%s", send_err);
			goto out;
		case 1:
			hung_up = 1;   /* it may have answered (413): read on */
			break;
		}
	}

	if (http_read_head(c, &h, err, errlen) != 0) {
		if (hung_up)
			http_errf(err, errlen, "the coordinator closed the "
			    "connection while the request was being sent");
		goto out;
	}
	resp->status = h.status;
	snprintf(resp->reason, sizeof(resp->reason), "%s", h.reason);
	snprintf(resp->content_type, sizeof(resp->content_type), "%s",
	    h.content_type);

	sink.cap = HTTP_MAX_BODY;
	if (fn != NULL && ((h.status >= 200 && h.status < 300) ||
	    (h.status == 101 && rq->websocket != NULL))) {
		sink.lines = 1;
		sink.cap = HTTP_MAX_LINE;
		sink.fn = fn;
		sink.ctx = ctx;
	}
	if (h.status == 101 && rq->websocket != NULL && sink.lines) {
		if (!bora_ws_accept_ok(ws_key, h.ws_accept))
			rc = http_errf(err, errlen, "the coordinator's websocket "
			    "answer does not match the request");
		else
			rc = http_ws_read(c, &sink, err, errlen);
	} else if (h.status == 101)
		rc = http_errf(err, errlen, "an unexpected upgrade");
	else if (h.status == 204 || h.status == 304 ||
	    strcmp(rq->method, "HEAD") == 0)
		rc = 0;
	else if (h.chunked)
		rc = http_read_chunked(c, &sink, err, errlen);
	else if (h.has_length) {
		if (!sink.lines && h.length > HTTP_MAX_BODY)
			rc = http_errf(err, errlen, "the response body of %llu "
			    "bytes is over %d bytes", h.length, HTTP_MAX_BODY);
		else
			rc = http_read_body_bytes(c, h.length, 0, &sink, err,
			    errlen);
	} else
		rc = http_read_body_bytes(c, 0, 1, &sink, err, errlen);
	if (rc == 0) {
		http_sink_end(&sink);
		if (sink.stopped)
			rc = HTTP_STOPPED;
	}
	if (!sink.lines) {
		if (sink.buf == NULL && (sink.buf = strdup("")) == NULL) {
			rc = http_errf(err, errlen, "out of memory");
			goto out;
		}
		resp->body = sink.buf;
		resp->body_len = sink.len;
		sink.buf = NULL;
	}
out:
	free(sink.buf);
	OPENSSL_cleanse(head, sizeof(head));
	http_conn_close(c);
	return rc;
}

int
http_do(const struct http_request *rq, struct http_response *resp,
    char *err, size_t errlen)
{
	return http_exchange(rq, NULL, NULL, resp, err, errlen);
}

int
http_stream(const struct http_request *rq, http_line_fn fn, void *ctx,
    struct http_response *resp, char *err, size_t errlen)
{
	return http_exchange(rq, fn, ctx, resp, err, errlen);
}
