/*
 * cli_http_conn_int.h: what the files of the CLI's HTTP client share, and
 * nothing else includes:
 *
 *   cli_http_conn.c      the endpoint, connections, bytes both ways
 *   cli_http_response.c  a response's head and body, into a sink
 *   cli_http_ws.c        an events websocket after a 101
 *   cli_http_client.c    a request (cli_http_client_int.h's API)
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
	char *buf;                   /* malloc'ed; the collected body */
	size_t len, alloc, cap;
	http_line_fn fn;
	void *ctx;
	int stopped;
};

/* A response's head, as http_read_head() parsed it. */
struct http_head {
	int status;
	int chunked;
	int has_length;
	unsigned long long length;
	char reason[64];
	char content_type[128];
	char ws_accept[64];          /* Sec-WebSocket-Accept */
};

/* ---- cli_http_conn.c --------------------------------------------------- */

/* One sentence into err; returns HTTP_ERR. */
int http_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The host of the endpoint (for Host:), and its operator token; NULL when
 * no endpoint is set (or no token). Not copies. */
const char *http_endpoint_host(void);
const char *http_endpoint_token(void);
/*
 * Connect for rq: to the endpoint over TLS when one is set, else to rq's
 * unix socket. 0 with *out (malloc'ed: http_conn_close() frees it), or
 * HTTP_ERR / HTTP_ERR_CONNECT with err (*out NULL).
 */
int http_conn_open(const struct http_request *rq, struct http_conn **out,
    char *err, size_t errlen);
/* Shut down, close and free c (NULL: nothing). */
void http_conn_close(struct http_conn *c);
/* All of buf: 0; 1 when the server hung up; -1 (err set). */
int http_send_all(struct http_conn *c, const char *buf, size_t len,
    char *err, size_t errlen);
/* More bytes after c->end: how many, 0 at the end, -1 (err set). */
ssize_t http_fill(struct http_conn *c, char *err, size_t errlen);

/* ---- cli_http_response.c ----------------------------------------------- */

/* Read and parse the response head; 1xx interim responses but 101 are
 * skipped. 0, or HTTP_ERR. */
int http_read_head(struct http_conn *c, struct http_head *h, char *err,
    size_t errlen);
/* Exactly len body bytes (or, with until_eof, all until the server
 * closes) to the sink. 0, or HTTP_ERR. */
int http_read_body_bytes(struct http_conn *c, unsigned long long len,
    int until_eof, struct http_sink *s, char *err, size_t errlen);
/* A chunked body (and its trailer) to the sink. 0, or HTTP_ERR. */
int http_read_chunked(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen);
/* End of body: a last line without a newline still goes to s->fn. */
void http_sink_end(struct http_sink *s);

/* ---- cli_http_ws.c ----------------------------------------------------- */

/* Read websocket messages from c (after the 101) until the server's close:
 * each text message (at most s->cap bytes) to s as one line; pings
 * answered. 0, or HTTP_ERR. */
int http_ws_read(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen);

#endif
