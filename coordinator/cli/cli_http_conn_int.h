/*
 * cli_http_conn_int.h: what cli_http_client.c shares with cli_http_ws.c (the
 * websocket reader of the events stream), and nothing else includes.
 */
#ifndef BORA_CLI_HTTP_CONN_INT_H
#define BORA_CLI_HTTP_CONN_INT_H

#include <stddef.h>
#include <sys/types.h>
#include <openssl/ssl.h>

#include "cli_http_client_int.h"

#define HTTP_RBUF  (HTTP_MAX_HEADER + 1)

/* One connection: the unix socket, or TCP with TLS. */
struct http_conn {
	int fd;
	SSL *ssl;                    /* NULL on the unix socket */
	SSL_CTX *ssl_ctx;
	int timeout_s;
	const struct http_request *rq;   /* for its on_idle */
	size_t start, end;           /* unread bytes: buf[start..end) */
	char buf[HTTP_RBUF];
};

/* Where body bytes (or websocket messages) go. */
struct http_sink {
	int lines;                   /* 0: collect; 1: split lines */
	char *buf;
	size_t len, alloc, cap;
	http_line_fn fn;
	void *ctx;
	int stopped;
};

/* One sentence into err; returns HTTP_ERR. */
int http_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* All of buf: 0; 1 when the server hung up; -1 (err set). */
int http_send_all(struct http_conn *c, const char *buf, size_t len,
    char *err, size_t errlen);
/* More bytes after c->end: how many, 0 at the end, -1 (err set). */
ssize_t http_fill(struct http_conn *c, char *err, size_t errlen);
/* Append len bytes to s->buf, within s->cap ("what is over ..."). */
int http_buf_append(struct http_sink *s, const char *data, size_t len,
    char *err, size_t errlen, const char *what);
/* Hand s->buf to s->fn as one line, and empty it. */
int http_sink_emit(struct http_sink *s);

/* cli_http_ws.c: read websocket messages from c (after the 101) until the
 * server's close: each text message (at most s->cap bytes) to s as one
 * line; pings answered. 0, or HTTP_ERR. */
int http_ws_read(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen);

#endif
