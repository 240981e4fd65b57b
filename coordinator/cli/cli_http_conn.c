/*
 * cli_http_conn.c: the connections of the CLI's HTTP client
 * (cli_http_conn_int.h): where every request goes (the unix socket, or the
 * endpoint of http_set_endpoint: TCP, then TLS through proto/tls_client.c),
 * and the bytes both ways, through one fixed read buffer, with the request's
 * timeout and idle callback.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The endpoint of every request when a URL is set (http_set_endpoint). */
static struct http_ep {
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

/* ---- the endpoint, TCP and TLS ------------------------------------------ */

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

const char *
http_endpoint_host(void)
{
	return http_ep.set ? http_ep.host : NULL;
}

const char *
http_endpoint_token(void)
{
	return http_ep.set ? http_ep.token : NULL;
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

int
http_conn_open(const struct http_request *rq, struct http_conn **out,
    char *err, size_t errlen)
{
	struct http_conn *c;
	int fd;

	*out = NULL;
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
	if (http_ep.set && http_tls_start(c, err, errlen) != 0) {
		http_conn_close(c);
		return HTTP_ERR;
	}
	*out = c;
	return 0;
}

void
http_conn_close(struct http_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ssl_ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
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
