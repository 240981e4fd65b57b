/*
 * tls_client.h: the client side of TLS, one set-up for the CLI (the HTTPS
 * API) and the agent's enrollment, so both check the coordinator the same
 * way: TLS 1.2 or later, and the server's certificate
 *
 *   - verified at the handshake against a CA file (PEM) when one is given,
 *     else against the system's CAs (the CLI without --ca);
 *   - or, pinned, not at the handshake but after it: its chain must hold a
 *     self-signed CA of the pinned sha256 fingerprint, and the certificate
 *     verify against that CA alone (`bora-agent enroll --ca-sha256`);
 *
 * and always for the host dialled: an IP address against the certificate's
 * IP SANs, a DNS name against its DNS names (and sent as SNI).
 */
#ifndef BORA_PROTO_TLS_CLIENT_H
#define BORA_PROTO_TLS_CLIENT_H

#include <stddef.h>
#include <openssl/ssl.h>

enum bora_tls_trust {
	BORA_TLS_TRUST_FILE,       /* the CA file given */
	BORA_TLS_TRUST_SYSTEM,     /* the system's CAs */
	BORA_TLS_TRUST_PIN,        /* bora_tls_client_check_pin() after */
};

/*
 * A new client SSL_CTX for trust (ca_file: the PEM file of
 * BORA_TLS_TRUST_FILE, else unused). The caller frees it with
 * SSL_CTX_free(). NULL with a sentence in err (the CA file that could not
 * be loaded, with OpenSSL's reason).
 */
SSL_CTX *bora_tls_client_ctx(enum bora_tls_trust trust, const char *ca_file,
    char *err, size_t errlen);

/*
 * A new SSL of ctx on the connected socket fd, for host: SNI when host is
 * a DNS name, and the host check of the verification. The caller frees it
 * with SSL_free() (fd stays the caller's to close). NULL with err.
 */
SSL *bora_tls_client_new(SSL_CTX *ctx, int fd, const char *host, char *err,
    size_t errlen);

/*
 * After the handshake of a BORA_TLS_TRUST_PIN connection: 0 when the chain
 * the server sent holds a self-signed CA whose sha256 fingerprint is fp
 * (as bora_tls_fingerprint_equal() compares) and the server's certificate
 * verifies against that CA alone as a TLS server for host; else -1 with
 * err ("... not the pinned one ..." naming both fingerprints).
 */
int bora_tls_client_check_pin(SSL *ssl, const char *host, const char *fp,
    char *err, size_t errlen);

#endif
