/*
 * enroll_tls.c: the one connection of `bora-agent enroll` (agent_enroll.h): TLS
 * to the coordinator, checked against a pinned CA fingerprint or a CA file
 * (proto/tls_client.c), then a websocket (proto/ws_client.c: the upgrade
 * and its accept check, text messages both ways). A blocking socket with a
 * deadline: the command does nothing else.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "agent_enroll.h"
#include "errbuf.h"
#include "tls_client.h"
#include "ws_client.h"

#define ENROLL_HEAD_MAX (16 * 1024)

static int
etls_tcp(const char *host, int port, int timeout_s, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { timeout_s, 0 };
	char ports[16];
	int fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ports, sizeof(ports), "%d", port);
	if ((e = getaddrinfo(host, ports, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int
etls_open(struct etls *t, const struct etls_target *to, char *err,
    size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->ctx = bora_tls_client_ctx(to->ca_file != NULL ? BORA_TLS_TRUST_FILE :
	    BORA_TLS_TRUST_PIN, to->ca_file, err, errlen);
	if (t->ctx == NULL)
		return -1;
	t->fd = etls_tcp(to->host, to->port, to->timeout_s, err, errlen);
	if (t->fd < 0)
		return -1;
	t->ssl = bora_tls_client_new(t->ctx, t->fd, to->host, err, errlen);
	if (t->ssl == NULL)
		return -1;
	if (SSL_connect(t->ssl) != 1) {
		long v = SSL_get_verify_result(t->ssl);

		if (to->ca_file != NULL && v != X509_V_OK)
			snprintf(err, errlen, "the coordinator's certificate "
			    "is refused: %s", X509_verify_cert_error_string(v));
		else
			bora_errf_ssl(err, errlen, "TLS handshake failed");
		return -1;
	}
	if (to->ca_sha256 != NULL && bora_tls_client_check_pin(t->ssl,
	    to->host, to->ca_sha256, err, errlen) != 0)
		return -1;
	return 0;
}

static int
etls_write(struct etls *t, const void *buf, size_t len, char *err,
    size_t errlen)
{
	size_t n;

	if (SSL_write_ex(t->ssl, buf, len, &n) != 1 || n != len) {
		bora_errf_ssl(err, errlen, "cannot send to the coordinator");
		return -1;
	}
	return 0;
}

/* Read exactly len bytes. */
static int
etls_read(struct etls *t, void *buf, size_t len, char *err, size_t errlen)
{
	size_t got = 0, n;

	while (got < len) {
		if (SSL_read_ex(t->ssl, (char *)buf + got, len - got,
		    &n) != 1) {
			bora_errf_ssl(err, errlen, "the coordinator closed the "
			    "connection");
			return -1;
		}
		got += n;
	}
	return 0;
}

/* struct bora_ws_io over the TLS connection. */
static ssize_t
etls_io_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	struct etls *t = ctx;
	size_t n;

	if (SSL_read_ex(t->ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	if (SSL_get_error(t->ssl, 0) == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		return 0;                  /* ws_client says what it missed */
	}
	bora_errf_ssl(err, errlen, "the coordinator closed the connection");
	return -1;
}

static int
etls_io_write(void *ctx, const void *buf, size_t len, char *err,
    size_t errlen)
{
	return etls_write(ctx, buf, len, err, errlen);
}

static struct bora_ws_io
etls_io(struct etls *t)
{
	struct bora_ws_io io = { etls_io_read, etls_io_write, t,
	    "the coordinator" };

	return io;
}

int
etls_ws_upgrade(struct etls *t, const struct etls_target *to, char *err,
    size_t errlen)
{
	char key[BORA_WS_KEY_LEN + 1], req[1024], head[ENROLL_HEAD_MAX + 1];
	size_t n = 0;
	int len, ws = 0;

	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n",
	    to->path, to->host, to->port);
	if (len < 0 || (size_t)len >= sizeof(req) ||
	    (ws = bora_ws_upgrade_headers(req + len, sizeof(req) - (size_t)len,
	    "bora.v1", key)) < 0 || (size_t)(len + ws) + 2 >= sizeof(req)) {
		snprintf(err, errlen, "cannot make the websocket upgrade "
		    "request");
		return -1;
	}
	len += ws;
	memcpy(req + len, "\r\n", 3);
	if (etls_write(t, req, (size_t)len + 2, err, errlen) != 0)
		return -1;
	/* the answer's head, up to its empty line, byte by byte: what follows
	 * it is the websocket's */
	while (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) {
		if (n == ENROLL_HEAD_MAX) {
			snprintf(err, errlen, "the coordinator's answer to the "
			    "upgrade is too long");
			return -1;
		}
		if (etls_read(t, head + n, 1, err, errlen) != 0)
			return -1;
		n++;
	}
	head[n] = '\0';
	return bora_ws_response_check(head, n, key, "the coordinator", err,
	    errlen);
}

int
etls_ws_send(struct etls *t, const char *text, size_t len, char *err,
    size_t errlen)
{
	struct bora_ws_io io = etls_io(t);

	return bora_ws_send(&io, BORA_WS_OP_TEXT, text, len, err, errlen);
}

char *
etls_ws_recv(struct etls *t, size_t max, size_t *len, char *err,
    size_t errlen)
{
	struct bora_ws_io io = etls_io(t);
	char *msg;

	switch (bora_ws_recv(&io, max, &msg, len, err, errlen)) {
	case 1:
		return msg;
	case 0:
		snprintf(err, errlen, "the coordinator closed the connection "
		    "without an answer");
		return NULL;
	default:
		return NULL;
	}
}

void
etls_close(struct etls *t)
{
	if (t->ssl != NULL) {
		SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}
