/*
 * cli_http_client_int.h: the CLI's small blocking HTTP/1.1 client, over a unix
 * socket, or over TLS (OpenSSL) to https://HOST:PORT when an endpoint is
 * set (http_set_endpoint): then every request goes there, with
 * "Authorization: Bearer TOKEN", and its socket_path is not used.
 *
 * One request per connection ("Connection: close"). The response body is
 * read by Content-Length, by chunked transfer coding, or until the server
 * closes. Everything read from the network is capped: the status line and
 * headers (HTTP_MAX_HEADER), a collected body (HTTP_MAX_BODY), one streamed
 * line (HTTP_MAX_LINE), one chunk-size line.
 */
#ifndef BORA_CLI_HTTP_CLIENT_INT_H
#define BORA_CLI_HTTP_CLIENT_INT_H

#include <stddef.h>

#define HTTP_MAX_HEADER  (64 * 1024)
#define HTTP_MAX_BODY    (64 * 1024 * 1024)
#define HTTP_MAX_LINE    (16 * 1024 * 1024)

/* Results: 0, HTTP_ERR (err says what), HTTP_ERR_CONNECT (could not
 * connect; err holds only strerror() so the caller can add its hint),
 * HTTP_STOPPED (the line callback asked to stop). */
#define HTTP_ERR          (-1)
#define HTTP_ERR_CONNECT  (-2)
#define HTTP_STOPPED      (-3)

struct http_request {
	const char *socket_path;   /* AF_UNIX path */
	const char *method;        /* "GET", "POST" */
	const char *path;          /* "/v1/agents": printable ASCII, no spaces */
	const char *body;          /* JSON, or NULL for none */
	size_t body_len;
	int timeout_s;             /* per read/write; 0 waits forever */
	/* While waiting for more of a response, on_idle(idle_ctx) every
	 * idle_ms without bytes (0: never); non-zero from it stops the
	 * exchange with an error. */
	int idle_ms;
	int (*on_idle)(void *idle_ctx);
	void *idle_ctx;
	/* A websocket subprotocol: the request asks to upgrade, and each text
	 * message of a 101 answer goes to the line callback as one line
	 * (resp->status is then 101). NULL: plain HTTP. */
	const char *websocket;
};

struct http_response {
	int status;                /* 200, 404, ... */
	char reason[64];
	char content_type[128];
	char *body;                /* malloc'ed, NUL-terminated (the bytes may
	                              hold NULs: use body_len); NULL when the
	                              body went to a line callback */
	size_t body_len;
};

/* Called per line of a streamed body, without its "\n" (or "\r\n"), NUL-
 * terminated at line[len]; empty lines are skipped. Return 0 to go on,
 * non-zero to stop reading (http_stream() then returns HTTP_STOPPED). */
typedef int (*http_line_fn)(const char *line, size_t len, void *ctx);

/*
 * Send rq, read the whole response into *resp (free with
 * http_response_free(), also after an error). Returns 0 for any HTTP
 * status; the status is the caller's to judge.
 */
int http_do(const struct http_request *rq, struct http_response *resp,
    char *err, size_t errlen);

/*
 * Like http_do(), but a 2xx body is handed to fn line by line as bytes
 * arrive (NDJSON), and resp->body stays NULL; any other status is collected
 * into resp->body (an error document).
 */
int http_stream(const struct http_request *rq, http_line_fn fn, void *ctx,
    struct http_response *resp, char *err, size_t errlen);

void http_response_free(struct http_response *resp);

/* Where every request goes instead of its unix socket. */
struct http_endpoint {
	const char *url;           /* "https://HOST:PORT" ([v6addr] too);
	                              NULL: each request's socket_path */
	const char *token;         /* the operator token, or NULL */
	const char *ca_file;       /* PEM CA the server's certificate must
	                              chain to; NULL: the system's CAs */
};

/* Copy ep (the server's certificate is verified against ca_file and must
 * name the URL's host, DNS name or IP address); ep stays the caller's. It
 * replaces the endpoint set before; NULL, or a NULL url, clears it (and
 * wipes the token's copy). 0, or -1 with err. */
int http_set_endpoint(const struct http_endpoint *ep, char *err,
    size_t errlen);

#endif
