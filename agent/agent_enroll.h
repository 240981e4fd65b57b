/*
 * agent_enroll.h: `bora-agent enroll` (agent_enroll.c), and its one TLS
 * websocket connection (enroll_tls.c).
 *
 * The agent has no CA yet: it trusts the coordinator only when the chain
 * the server sends holds a self-signed CA whose sha256 fingerprint is the
 * pinned one (--ca-sha256) and the server certificate verifies against it
 * for the host dialled, or when it verifies against --ca-file.
 */
#ifndef BORA_AGENT_AGENT_ENROLL_H
#define BORA_AGENT_AGENT_ENROLL_H

#include <stddef.h>
#include <openssl/ssl.h>

/* argv[0] is "enroll". Returns the exit status. */
int agent_enroll_main(int argc, char **argv);

struct etls_target {
	const char *host;
	int port;
	const char *path;          /* "/..." */
	const char *ca_sha256;     /* pinning, or NULL */
	const char *ca_file;       /* or this */
	int timeout_s;             /* per read or write */
};

struct etls {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

/* Connect and check the coordinator. 0, or -1 with err. Close with
 * etls_close() either way. */
int etls_open(struct etls *t, const struct etls_target *to, char *err,
    size_t errlen);
int etls_ws_upgrade(struct etls *t, const struct etls_target *to, char *err,
    size_t errlen);
int etls_ws_send(struct etls *t, const char *text, size_t len, char *err,
    size_t errlen);
/* The next text message (at most max bytes): malloc'ed, NUL-terminated,
 * the caller frees; NULL with err. */
char *etls_ws_recv(struct etls *t, size_t max, size_t *len, char *err,
    size_t errlen);
void etls_close(struct etls *t);

#endif
