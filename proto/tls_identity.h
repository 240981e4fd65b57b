/*
 * tls_identity.h: who is on the other end of a TLS connection.
 * The agent's name is the commonName of its verified certificate, read with
 * OpenSSL's X509_NAME API (never by cutting the one-line subject string).
 */
#ifndef BORA_PROTO_TLS_IDENTITY_H
#define BORA_PROTO_TLS_IDENTITY_H

#include <stddef.h>
#include <openssl/ssl.h>

/*
 * Read the certificate in the PEM file at path and copy its CN (as
 * bora_tls_cn). The agent uses it to know its own name.
 */
int bora_tls_file_cn(const char *path, char *out, size_t outlen, char *err,
    size_t errlen);

/*
 * Copy the single commonName of cert into out (size outlen) as UTF-8.
 * Refuses (returns -1 with a sentence in err) a certificate with no CN,
 * more than one, an embedded NUL, or a CN that is not a valid agent name.
 */
int bora_tls_cn(X509 *cert, char *out, size_t outlen, char *err,
    size_t errlen);

/*
 * The verified peer name of an established TLS connection: checks that
 * OpenSSL's verification succeeded and a certificate was presented, then
 * takes its CN. 0, or -1 with the reason in err.
 */
int bora_tls_peer_name(SSL *ssl, char *out, size_t outlen, char *err,
    size_t errlen);

/* "AB:CD:...": the sha256 fingerprint of cert's DER, as
 * `openssl x509 -fingerprint -sha256` prints it (95 characters + NUL). */
#define BORA_TLS_FP_LEN 96
int bora_tls_fingerprint(X509 *cert, char out[BORA_TLS_FP_LEN]);

/* 1 when two fingerprints name the same digest: case and colons do not
 * matter ("ab:cd..." equals "ABCD..."); else 0. */
int bora_tls_fingerprint_equal(const char *a, const char *b);

#endif
