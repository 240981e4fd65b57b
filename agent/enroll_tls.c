/*
 * enroll_tls.c: the one connection of `bora-agent enroll` (enroll.h): TLS
 * to the coordinator, checked against a pinned CA fingerprint or a CA
 * file, then a websocket upgrade (RFC 6455, client side, text frames
 * only). A blocking socket with a deadline: the command does nothing else.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "enroll.h"
#include "tls_identity.h"

#define ENROLL_HEAD_MAX (16 * 1024)

static void
etls_ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

/* Check the name we dialled: an IP against IP SANs, else DNS SANs. */
static int
etls_set_host(X509_VERIFY_PARAM *p, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1;
	return X509_VERIFY_PARAM_set1_host(p, host, 0) == 1 ? 0 : -1;
}

/*
 * Pinning: the chain the server sent must hold a self-signed CA whose
 * sha256 fingerprint is fp, and the server certificate must verify
 * against that CA alone, for the host we dialled.
 */
static int
etls_check_pin(SSL *ssl, const char *host, const char *fp, char *err,
    size_t errlen)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl), *root = NULL, *c;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	char got[BORA_TLS_FP_LEN], seen[BORA_TLS_FP_LEN] = "";
	int i, rc = -1;

	if (chain == NULL || leaf == NULL) {
		snprintf(err, errlen, "the coordinator sent no certificate");
		return -1;
	}
	for (i = 0; i < sk_X509_num(chain); i++) {
		c = sk_X509_value(chain, i);
		if (bora_tls_fingerprint(c, got) != 0)
			continue;
		if (X509_check_issued(c, c) == X509_V_OK)
			snprintf(seen, sizeof(seen), "%s", got);
		if (bora_tls_fingerprint_equal(got, fp) &&
		    X509_check_ca(c) > 0 && X509_check_issued(c, c) == X509_V_OK) {
			root = c;
			break;
		}
	}
	if (root == NULL) {
		snprintf(err, errlen, "the coordinator's CA is not the pinned one "
		    "(its chain's root has sha256 %s, --ca-sha256 is %s)",
		    seen[0] ? seen : "(none sent)", fp);
		return -1;
	}
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL || X509_STORE_add_cert(store, root) != 1 ||
	    X509_STORE_CTX_init(ctx, store, leaf, chain) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1 ||
	    etls_set_host(X509_STORE_CTX_get0_param(ctx), host) != 0) {
		etls_ssl_err(err, errlen, "cannot check the coordinator's chain");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		snprintf(err, errlen, "the coordinator's certificate does not "
		    "verify against the pinned CA: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

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
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL ||
	    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		etls_ssl_err(err, errlen, "cannot make a TLS context");
		return -1;
	}
	if (to->ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(t->ctx, to->ca_file, NULL) != 1) {
			etls_ssl_err(err, errlen, "cannot load --ca-file");
			return -1;
		}
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL); /* pinned below */
	t->fd = etls_tcp(to->host, to->port, to->timeout_s, err, errlen);
	if (t->fd < 0)
		return -1;
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, t->fd) != 1 ||
	    SSL_set_tlsext_host_name(t->ssl, to->host) != 1 ||
	    (to->ca_file != NULL && etls_set_host(SSL_get0_param(t->ssl),
	    to->host) != 0)) {
		etls_ssl_err(err, errlen, "cannot set up TLS");
		return -1;
	}
	if (SSL_connect(t->ssl) != 1) {
		long v = SSL_get_verify_result(t->ssl);

		if (to->ca_file != NULL && v != X509_V_OK)
			snprintf(err, errlen, "the coordinator's certificate is "
			    "refused: %s", X509_verify_cert_error_string(v));
		else
			etls_ssl_err(err, errlen, "TLS handshake failed");
		return -1;
	}
	if (to->ca_sha256 != NULL &&
	    etls_check_pin(t->ssl, to->host, to->ca_sha256, err, errlen) != 0)
		return -1;
	return 0;
}

static int
etls_write(struct etls *t, const void *buf, size_t len, char *err,
    size_t errlen)
{
	size_t n;

	if (SSL_write_ex(t->ssl, buf, len, &n) != 1 || n != len) {
		etls_ssl_err(err, errlen, "cannot send to the coordinator");
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
		if (SSL_read_ex(t->ssl, (char *)buf + got, len - got, &n) != 1) {
			etls_ssl_err(err, errlen, "the coordinator closed the "
			    "connection");
			return -1;
		}
		got += n;
	}
	return 0;
}

int
etls_ws_upgrade(struct etls *t, const struct etls_target *to, char *err,
    size_t errlen)
{
	unsigned char key[16];
	char k64[32], req[1024], head[ENROLL_HEAD_MAX + 1];
	size_t n = 0;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)k64, key, sizeof(key));
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Protocol: bora.v1\r\n\r\n", to->path, to->host,
	    to->port, k64);
	if (etls_write(t, req, strlen(req), err, errlen) != 0)
		return -1;
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
	if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
		snprintf(err, errlen, "the coordinator refused the websocket "
		    "upgrade: %.*s", (int)strcspn(head, "\r\n"), head);
		return -1;
	}
	return 0;
}

int
etls_ws_send(struct etls *t, const char *text, size_t len, char *err,
    size_t errlen)
{
	unsigned char hdr[14], *frame;
	size_t h = 0, i;
	int rc;

	hdr[h++] = 0x81;                         /* FIN, text */
	if (len < 126)
		hdr[h++] = (unsigned char)(0x80 | len);
	else if (len < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			hdr[h++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	if (RAND_bytes(hdr + h, 4) != 1)
		return -1;
	h += 4;
	frame = malloc(h + len);
	if (frame == NULL)
		return -1;
	memcpy(frame, hdr, h);
	for (i = 0; i < len; i++)
		frame[h + i] = (unsigned char)text[i] ^ hdr[h - 4 + (i & 3)];
	rc = etls_write(t, frame, h + len, err, errlen);
	OPENSSL_cleanse(frame, h + len);
	free(frame);
	return rc;
}

char *
etls_ws_recv(struct etls *t, size_t max, size_t *len, char *err,
    size_t errlen)
{
	unsigned char h[2], ext[8];
	char *msg = NULL, *p;
	size_t total = 0, n, i;
	int op;

	for (;;) {
		if (etls_read(t, h, 2, err, errlen) != 0)
			goto fail;
		op = h[0] & 0x0f;
		n = h[1] & 0x7f;
		if (n == 126 || n == 127) {
			if (etls_read(t, ext, n == 126 ? 2 : 8, err, errlen) != 0)
				goto fail;
			size_t k = n == 126 ? 2 : 8, v = 0;

			for (i = 0; i < k; i++)
				v = v << 8 | ext[i];
			n = v;
		}
		if (h[1] & 0x80 || n > max || total + n > max) {
			snprintf(err, errlen, "bad frame from the coordinator");
			goto fail;
		}
		if (op == 0x8) {
			snprintf(err, errlen, "the coordinator closed the "
			    "connection without an answer");
			goto fail;
		}
		p = realloc(msg, total + n + 1);
		if (p == NULL)
			goto fail;
		msg = p;
		if (etls_read(t, msg + total, n, err, errlen) != 0)
			goto fail;
		if (op == 0x9 || op == 0xa)      /* ping, pong: not data */
			continue;
		total += n;
		if (h[0] & 0x80)
			break;
	}
	msg[total] = '\0';
	*len = total;
	return msg;
fail:
	free(msg);
	return NULL;
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
