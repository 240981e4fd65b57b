/*
 * cli_http_client.c: blocking HTTP/1.1 over a unix socket, or over TLS to
 * https://HOST:PORT with a Bearer token (cli_http_client_int.h).
 *
 * A connection reads into one fixed buffer (struct http_conn); the headers
 * must fit in it, and the body passes through it to a sink: either a growing
 * buffer capped at HTTP_MAX_BODY, or a line splitter that hands each NDJSON
 * line to the caller as soon as its newline arrives.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netdb.h>
#include <signal.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cli_http_client_int.h"
#include "cli_http_conn_int.h"
#include "tls_client.h"
#include "ws_client.h"

#ifndef BORA_VERSION
#define BORA_VERSION "0.0.0-dev"
#endif

#define HTTP_MAX_CHUNK_LINE  4096      /* "1a2b;ext\r\n" */


/* The endpoint of every request when a URL is set (http_set_endpoint). */
static struct {
	int set;
	char host[256];              /* without IPv6 brackets */
	char port[8];
	char *token;
	char *ca_file;
} http_ep;

int
http_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return HTTP_ERR;
}

void
http_response_free(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- connection -------------------------------------------------------- */

static int
http_connect(const struct http_request *rq, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(rq->socket_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path is over %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return HTTP_ERR_CONNECT;
	}
	memcpy(sun.sun_path, rq->socket_path, strlen(rq->socket_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return HTTP_ERR;
	}
	do
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return HTTP_ERR_CONNECT;
	}
	if (rq->timeout_s > 0) {
		tv.tv_sec = rq->timeout_s;
		tv.tv_usec = 0;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* ---- TLS ---------------------------------------------------------------- */

int
http_set_endpoint(const struct http_endpoint *ep, char *err, size_t errlen)
{
	const char *p, *hs, *he, *port;
	char *end;
	long v;

	if (http_ep.token != NULL)
		OPENSSL_clear_free(http_ep.token, strlen(http_ep.token));
	free(http_ep.ca_file);
	memset(&http_ep, 0, sizeof(http_ep));
	if (ep == NULL || ep->url == NULL)
		return 0;
	if (strncmp(ep->url, "https://", 8) != 0) {
		snprintf(err, errlen, "%s: expected https://HOST:PORT", ep->url);
		return -1;
	}
	p = ep->url + 8;
	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL) {
			snprintf(err, errlen, "%s: no ] after the IPv6 address",
			    ep->url);
			return -1;
		}
		port = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/");
		port = he;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(http_ep.host)) {
		snprintf(err, errlen, "%s: expected https://HOST:PORT", ep->url);
		return -1;
	}
	memcpy(http_ep.host, hs, (size_t)(he - hs));
	http_ep.host[he - hs] = '\0';
	if (*port == ':') {
		v = strtol(port + 1, &end, 10);
		if (end == port + 1 || v < 1 || v > 65535 ||
		    (*end != '\0' && strcmp(end, "/") != 0)) {
			snprintf(err, errlen, "%s: the port must be 1 to 65535",
			    ep->url);
			return -1;
		}
		snprintf(http_ep.port, sizeof(http_ep.port), "%ld", v);
	} else if (*port == '\0' || strcmp(port, "/") == 0)
		snprintf(http_ep.port, sizeof(http_ep.port), "443");
	else {
		snprintf(err, errlen, "%s: expected https://HOST:PORT (no path)",
		    ep->url);
		return -1;
	}
	if (ep->token != NULL && (http_ep.token = OPENSSL_strdup(ep->token)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ep->ca_file != NULL && (http_ep.ca_file = strdup(ep->ca_file)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	http_ep.set = 1;
	return 0;
}

/* TCP to the endpoint; fd, or HTTP_ERR_CONNECT with strerror() in err. */
static int
http_tcp_connect(int timeout_s, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv;
	int fd = -1, rc, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(http_ep.host, http_ep.port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", http_ep.host,
		    gai_strerror(rc));
		return HTTP_ERR;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (timeout_s > 0) {
			tv.tv_sec = timeout_s;
			tv.tv_usec = 0;
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			    sizeof(tv));
		}
		do
			rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		while (rc < 0 && errno == EINTR);
		if (rc == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(saved));
		return HTTP_ERR_CONNECT;
	}
	return fd;
}

/* The TLS client side on c->fd (proto/tls_client.c): the server's
 * certificate must chain to the CA file (or the system's CAs) and name the
 * host (DNS or IP). */
static int
http_tls_start(struct http_conn *c, char *err, size_t errlen)
{
	char terr[512], ebuf[256];
	unsigned long e;
	long vr;
	int rc;

	c->ssl_ctx = bora_tls_client_ctx(http_ep.ca_file != NULL ?
	    BORA_TLS_TRUST_FILE : BORA_TLS_TRUST_SYSTEM, http_ep.ca_file, terr,
	    sizeof(terr));
	if (c->ssl_ctx == NULL && http_ep.ca_file != NULL)
		return http_errf(err, errlen, "%s (--ca, BORA_CA)", terr);
	if (c->ssl_ctx == NULL)
		return http_errf(err, errlen, "%s; give bora the coordinator's "
		    "CA: --ca FILE", terr);
	c->ssl = bora_tls_client_new(c->ssl_ctx, c->fd, http_ep.host, terr,
	    sizeof(terr));
	if (c->ssl == NULL)
		return http_errf(err, errlen, "%s", terr);
	ERR_clear_error();
	rc = SSL_connect(c->ssl);
	if (rc == 1)
		return 0;
	vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK)
		return http_errf(err, errlen, "TLS handshake with %s:%s failed: "
		    "the coordinator's certificate was not accepted: %s; check "
		    "--ca FILE (BORA_CA) and that the URL's host is in the "
		    "certificate", http_ep.host, http_ep.port,
		    X509_verify_cert_error_string(vr));
	e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	else if (SSL_get_error(c->ssl, rc) == SSL_ERROR_SYSCALL && errno != 0)
		snprintf(ebuf, sizeof(ebuf), "%s", strerror(errno));
	else
		snprintf(ebuf, sizeof(ebuf), "the connection was closed");
	return http_errf(err, errlen, "TLS handshake with %s:%s failed: %s; "
	    "is that the coordinator's HTTPS API port (api.port)?",
	    http_ep.host, http_ep.port, ebuf);
}

/* SSL_write() writes to the socket with write(): a peer that hung up
 * would raise SIGPIPE. Hold it back and take it away if it came. */
static int
http_ssl_write(SSL *ssl, const char *buf, size_t len, size_t *written)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	int rc, saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	ERR_clear_error();
	rc = SSL_write_ex(ssl, buf, len, written);
	saved = errno;
	if (rc != 1)
		rc = SSL_get_error(ssl, rc) == SSL_ERROR_SSL ? -2 : -1;
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

static ssize_t
http_io_send(struct http_conn *c, const char *buf, size_t len)
{
	size_t w = 0;
	int rc;

	if (c->ssl == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	rc = http_ssl_write(c->ssl, buf, len, &w);
	if (rc == 1)
		return (ssize_t)w;
	if (rc == -2 || errno == 0 || errno == EPIPE)
		errno = EPIPE;
	return -1;
}

static ssize_t
http_io_recv(struct http_conn *c, char *buf, size_t len)
{
	size_t n = 0;
	int rc;

	if (c->ssl == NULL)
		return recv(c->fd, buf, len, 0);
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(c->ssl, buf, len, &n);
	if (rc == 1)
		return (ssize_t)n;
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			return 0;
		return -1;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		if (errno != EINTR)
			errno = EAGAIN;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

static void
http_conn_close(struct http_conn *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ssl_ctx);
	c->ssl = NULL;
	c->ssl_ctx = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Send all of buf. 0; 1 when the server hung up (it may have answered
 * already: read on); -1 on other errors. */
int
http_send_all(struct http_conn *c, const char *buf, size_t len, char *err,
    size_t errlen)
{
	ssize_t n;

	while (len > 0) {
		n = http_io_send(c, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return 1;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			http_errf(err, errlen, "sending the request: no progress "
			    "within %d s", c->timeout_s);
			return -1;
		}
		if (n < 0) {
			http_errf(err, errlen, "sending the request: %s",
			    strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* With rq->idle_ms: wait until the connection has bytes to read, calling
 * rq->on_idle every idle_ms meanwhile. 0, or -1 (err set). */
static int
http_wait_readable(struct http_conn *c, char *err, size_t errlen)
{
	const struct http_request *rq = c->rq;
	struct pollfd p;
	int n;

	if (rq == NULL || rq->idle_ms <= 0 || rq->on_idle == NULL)
		return 0;
	for (;;) {
		if (c->ssl != NULL && SSL_pending(c->ssl) > 0)
			return 0;
		p.fd = c->fd;
		p.events = POLLIN;
		p.revents = 0;
		n = poll(&p, 1, rq->idle_ms);
		if (n > 0)
			return 0;      /* readable, or an error recv() will say */
		if (n < 0 && errno != EINTR) {
			http_errf(err, errlen, "waiting for the response: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0 && rq->on_idle(rq->idle_ctx) != 0) {
			http_errf(err, errlen, "stopped while waiting");
			return -1;
		}
	}
}

/* Read more bytes after c->end (moving unread bytes to the front when the
 * buffer is full). Returns the bytes read, 0 at end of stream, -1 on error
 * (err set). */
ssize_t
http_fill(struct http_conn *c, char *err, size_t errlen)
{
	ssize_t n;

	if (c->end == sizeof(c->buf)) {
		if (c->start == 0)
			return 0;      /* callers check for a full buffer */
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (http_wait_readable(c, err, errlen) != 0)
		return -1;
	for (;;) {
		n = http_io_recv(c, c->buf + c->end, sizeof(c->buf) - c->end);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			http_errf(err, errlen, "no answer from the coordinator "
			    "within %d s", c->timeout_s);
		else
			http_errf(err, errlen, "reading the response: %s",
			    strerror(errno));
		return -1;
	}
	c->end += (size_t)n;
	return n;
}

/* ---- sinks ------------------------------------------------------------- */

int
http_buf_append(struct http_sink *s, const char *data, size_t len,
    char *err, size_t errlen, const char *what)
{
	size_t want;
	char *grown;

	if (len > s->cap - s->len)
		return http_errf(err, errlen, "%s is over %zu bytes", what,
		    s->cap);
	if (s->len + len + 1 > s->alloc) {
		want = s->alloc ? s->alloc : 16 * 1024;
		while (want < s->len + len + 1)
			want *= 2;
		if (want > s->cap + 1)
			want = s->cap + 1;
		grown = realloc(s->buf, want);
		if (grown == NULL)
			return http_errf(err, errlen, "out of memory");
		s->buf = grown;
		s->alloc = want;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

/* Hand the line in s->buf (without its newline) to the callback. */
int
http_sink_emit(struct http_sink *s)
{
	size_t len = s->len;

	if (len > 0 && s->buf[len - 1] == '\r')
		len--;
	if (len > 0) {
		s->buf[len] = '\0';
		if (s->fn(s->buf, len, s->ctx) != 0)
			s->stopped = 1;
	}
	s->len = 0;
	return 0;
}

static int
http_sink_write(struct http_sink *s, const char *data, size_t len, char *err,
    size_t errlen)
{
	const char *nl;
	size_t n;

	if (!s->lines)
		return http_buf_append(s, data, len, err, errlen,
		    "the response body");
	while (len > 0 && !s->stopped) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		if (http_buf_append(s, data, n, err, errlen,
		    "one line of the response") != 0)
			return HTTP_ERR;
		if (nl == NULL)
			break;
		http_sink_emit(s);
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* End of body: a last line without a newline still counts. */
static void
http_sink_end(struct http_sink *s)
{
	if (s->lines && !s->stopped && s->len > 0)
		http_sink_emit(s);
}

/* ---- response parsing -------------------------------------------------- */

struct http_head {
	int status;
	int chunked;
	int has_length;
	unsigned long long length;
	char reason[64];
	char content_type[128];
	char ws_accept[64];          /* Sec-WebSocket-Accept */
};

static void
http_trim(char **s, char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' ||
	    (*e)[-1] == '\r'))
		(*e)--;
}

/* Transfer-Encoding: 1 when the codings are "chunked" (identity aside);
 * any other coding (gzip, ...) sets *other: we cannot decode it. */
static int
http_te_chunked(const char *v, size_t len, int *other)
{
	const char *p = v, *e = v + len, *t;
	size_t n;
	int chunked = 0;

	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		t = p;
		while (p < e && *p != ',')
			p++;
		n = (size_t)(p - t);
		while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (n == 7 && strncasecmp(t, "chunked", 7) == 0)
			chunked = 1;
		else if (!(n == 8 && strncasecmp(t, "identity", 8) == 0))
			*other = 1;
	}
	return chunked;
}

/* Parse the header block head[0..len) (lines end in \n or \r\n, the
 * last line is empty). */
static int
http_parse_head(char *head, size_t len, struct http_head *h, char *err,
    size_t errlen)
{
	char *line = head, *end = head + len, *eol, *colon, *vs, *ve, *p;
	unsigned long long v;
	int first = 1, other_te = 0;

	memset(h, 0, sizeof(*h));
	while (line < end) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		ve = eol;
		if (ve > line && ve[-1] == '\r')
			ve--;
		if (ve == line)
			break;                     /* the empty line */
		if (first) {
			/* HTTP/1.1 200 OK */
			if (ve - line < 12 || strncmp(line, "HTTP/1.", 7) != 0 ||
			    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
			    !isdigit((unsigned char)line[10]) ||
			    !isdigit((unsigned char)line[11]) ||
			    (ve - line > 12 && line[12] != ' '))
				return http_errf(err, errlen, "not an HTTP "
				    "response (is this the coordinator's API "
				    "socket?)");
			h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
			    (line[11] - '0');
			if (ve - line > 13)
				snprintf(h->reason, sizeof(h->reason), "%.*s",
				    (int)(ve - line - 13), line + 13);
			first = 0;
			line = eol + 1;
			continue;
		}
		colon = memchr(line, ':', (size_t)(ve - line));
		if (colon == NULL || colon == line)
			return http_errf(err, errlen, "malformed response "
			    "header line");
		vs = colon + 1;
		p = ve;
		http_trim(&vs, &p);
		ve = p;
		if ((size_t)(colon - line) == 14 &&
		    strncasecmp(line, "Content-Length", 14) == 0) {
			if (vs == ve)
				return http_errf(err, errlen, "empty "
				    "Content-Length in the response");
			for (v = 0, p = vs; p < ve; p++) {
				if (!isdigit((unsigned char)*p) ||
				    v > (ULLONG_MAX - 9) / 10)
					return http_errf(err, errlen, "bad "
					    "Content-Length in the response");
				v = v * 10 + (unsigned long long)(*p - '0');
			}
			if (h->has_length && h->length != v)
				return http_errf(err, errlen, "conflicting "
				    "Content-Length headers in the response");
			h->has_length = 1;
			h->length = v;
		} else if ((size_t)(colon - line) == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			h->chunked = http_te_chunked(vs, (size_t)(ve - vs),
			    &other_te);
		} else if ((size_t)(colon - line) == 20 &&
		    strncasecmp(line, "Sec-WebSocket-Accept", 20) == 0) {
			snprintf(h->ws_accept, sizeof(h->ws_accept), "%.*s",
			    (int)(ve - vs), vs);
		} else if ((size_t)(colon - line) == 12 &&
		    strncasecmp(line, "Content-Type", 12) == 0) {
			snprintf(h->content_type, sizeof(h->content_type),
			    "%.*s", (int)(ve - vs), vs);
		}
		line = eol + 1;
	}
	if (first)
		return http_errf(err, errlen, "empty response");
	if (other_te)
		return http_errf(err, errlen, "unsupported Transfer-Encoding "
		    "in the response");
	return 0;
}

/* Find the end of the header block in c's unread bytes: the offset just
 * past the empty line, or 0 when it has not arrived yet. */
static size_t
http_head_end(const struct http_conn *c)
{
	const char *p = c->buf + c->start, *e = c->buf + c->end, *nl;

	while ((nl = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if (nl + 1 < e && nl[1] == '\n')
			return (size_t)(nl + 2 - (c->buf + c->start));
		if (nl + 2 < e && nl[1] == '\r' && nl[2] == '\n')
			return (size_t)(nl + 3 - (c->buf + c->start));
		p = nl + 1;
	}
	return 0;
}

/* Read and parse the response head; 1xx interim responses but 101
 * (Switching Protocols) are skipped. */
static int
http_read_head(struct http_conn *c, struct http_head *h, char *err,
    size_t errlen)
{
	size_t n;
	ssize_t r;

	for (;;) {
		while ((n = http_head_end(c)) == 0) {
			if (c->end - c->start >= HTTP_MAX_HEADER)
				return http_errf(err, errlen, "response headers "
				    "are over %d bytes", HTTP_MAX_HEADER);
			r = http_fill(c, err, errlen);
			if (r < 0)
				return HTTP_ERR;
			if (r == 0)
				return http_errf(err, errlen, "the coordinator "
				    "closed the connection %s",
				    c->end == c->start ? "without answering" :
				    "in the middle of the response headers");
		}
		if (http_parse_head(c->buf + c->start, n, h, err, errlen) != 0)
			return HTTP_ERR;
		c->start += n;
		if (h->status >= 200 || h->status == 101)
			return 0;      /* 101: a websocket from here on */
	}
}

/* One line of the chunked coding (size line, CRLF after data, trailer),
 * without its line ending, NUL-terminated in line. */
static int
http_read_line(struct http_conn *c, char *line, size_t max, char *err,
    size_t errlen)
{
	char *nl;
	size_t n;
	ssize_t r;

	for (;;) {
		nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		if (nl != NULL)
			break;
		if (c->end - c->start >= max)
			return http_errf(err, errlen, "chunked body: line over "
			    "%zu bytes", max);
		r = http_fill(c, err, errlen);
		if (r < 0)
			return HTTP_ERR;
		if (r == 0)
			return http_errf(err, errlen, "the coordinator closed "
			    "the connection in the middle of the body");
	}
	n = (size_t)(nl - (c->buf + c->start));
	if (n >= max)
		return http_errf(err, errlen, "chunked body: line over %zu "
		    "bytes", max);
	memcpy(line, c->buf + c->start, n);
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	c->start += (size_t)(nl - (c->buf + c->start)) + 1;
	return 0;
}

/* Pass exactly len body bytes (or, with until_eof, all of them until the
 * server closes) to the sink. */
static int
http_read_body_bytes(struct http_conn *c, unsigned long long len,
    int until_eof, struct http_sink *s, char *err, size_t errlen)
{
	size_t n;
	ssize_t r;

	while ((until_eof || len > 0) && !s->stopped) {
		if (c->start == c->end) {
			c->start = c->end = 0;
			r = http_fill(c, err, errlen);
			if (r < 0)
				return HTTP_ERR;
			if (r == 0) {
				if (until_eof)
					return 0;
				return http_errf(err, errlen, "the coordinator "
				    "closed the connection %llu bytes before "
				    "the end of the body", len);
			}
		}
		n = c->end - c->start;
		if (!until_eof && n > len)
			n = (size_t)len;
		if (http_sink_write(s, c->buf + c->start, n, err, errlen) != 0)
			return HTTP_ERR;
		c->start += n;
		len -= until_eof ? 0 : n;
	}
	return 0;
}

static int
http_read_chunked(struct http_conn *c, struct http_sink *s, char *err,
    size_t errlen)
{
	char line[HTTP_MAX_CHUNK_LINE];
	unsigned long long size;
	size_t trailer = 0;
	char *p;
	int digits;

	for (;;) {
		if (http_read_line(c, line, sizeof(line), err, errlen) != 0)
			return HTTP_ERR;
		size = 0;
		digits = 0;
		for (p = line; isxdigit((unsigned char)*p); p++, digits++) {
			if (size > (ULLONG_MAX >> 4))
				return http_errf(err, errlen, "chunked body: "
				    "chunk size too large");
			size = size * 16 + (unsigned long long)(isdigit(
			    (unsigned char)*p) ? *p - '0' :
			    (tolower((unsigned char)*p) - 'a' + 10));
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (digits == 0 || (*p != '\0' && *p != ';'))
			return http_errf(err, errlen, "chunked body: bad chunk "
			    "size line");
		if (size == 0)
			break;
		if (http_read_body_bytes(c, size, 0, s, err, errlen) != 0)
			return HTTP_ERR;
		if (s->stopped)
			return 0;
		if (http_read_line(c, line, sizeof(line), err, errlen) != 0)
			return HTTP_ERR;
		if (line[0] != '\0')
			return http_errf(err, errlen, "chunked body: missing "
			    "CRLF after a chunk");
	}
	/* Trailer fields, up to the empty line. */
	for (;;) {
		if (http_read_line(c, line, sizeof(line), err, errlen) != 0)
			return HTTP_ERR;
		if (line[0] == '\0')
			return 0;
		trailer += strlen(line);
		if (trailer > HTTP_MAX_HEADER)
			return http_errf(err, errlen, "chunked body: trailer "
			    "over %d bytes", HTTP_MAX_HEADER);
	}
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
	int n, ws, rc = HTTP_ERR, fd, hung_up = 0;
	char send_err[256] = "", ws_key[BORA_WS_KEY_LEN + 1] = "";

	memset(resp, 0, sizeof(*resp));
	memset(&sink, 0, sizeof(sink));
	if (!http_path_valid(rq->path) || strlen(rq->path) > 512)
		return http_errf(err, errlen, "bad request path");
	fd = http_ep.set ? http_tcp_connect(rq->timeout_s, err, errlen) :
	    http_connect(rq, err, errlen);
	if (fd < 0)
		return fd;
	c = malloc(sizeof(*c));
	if (c == NULL) {
		close(fd);
		return http_errf(err, errlen, "out of memory");
	}
	c->fd = fd;
	c->ssl = NULL;
	c->ssl_ctx = NULL;
	c->timeout_s = rq->timeout_s;
	c->rq = rq;
	c->start = c->end = 0;
	if (http_ep.set && (rc = http_tls_start(c, err, errlen)) != 0)
		goto out;
	rc = HTTP_ERR;

	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: bora/" BORA_VERSION "\r\n"
	    "Accept: application/json, application/x-ndjson\r\n",
	    rq->method, rq->path, http_ep.set ? http_ep.host : "bora");
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
	if (http_ep.set && http_ep.token != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Authorization: Bearer %s\r\n", http_ep.token);
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
	free(c);
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
