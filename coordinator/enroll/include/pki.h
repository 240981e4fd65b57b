/*
 * pki.h: the coordinator's certificate authority (docs/security.md).
 *
 * EC P-256 keys; a self-signed CA; the coordinator's server certificate;
 * agent certificates signed from a CSR whose key the agent made (the
 * coordinator never makes an agent's key); random 256-bit tokens stored
 * only as their sha256.
 *
 * Ownership: every EVP_PKEY * and X509 * returned is new, the caller frees
 * it (EVP_PKEY_free, X509_free); the pointers taken are borrowed. Every
 * function that can fail returns NULL or -1 with one sentence in err.
 */
#ifndef BORA_COORD_PKI_H
#define BORA_COORD_PKI_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define PKI_CA_DAYS       3650   /* the CA and the server certificate */
#define PKI_AGENT_DAYS    365    /* an enrolled agent's certificate */
#define PKI_SERIAL_LEN    33     /* 128 bits as hex + NUL */
#define PKI_TOKEN_LEN     44     /* 256 bits as base64url (43) + NUL */
#define PKI_HASH_LEN      65     /* sha256 as hex + NUL */

/* A new EC P-256 key, or NULL. */
EVP_PKEY *pki_key_new(void);

/* A self-signed CA certificate for key (CA:TRUE, pathlen 0, keyCertSign),
 * valid days from now, subject O=Bora, CN=cn. */
X509 *pki_ca_new(EVP_PKEY *key, const char *cn, int days, char *err,
    size_t errlen);

/* The coordinator's certificate for key, signed by ca/ca_key: serverAuth,
 * subjectAltName DNS:dns[i]..., IP:ips[i]... (at least one of them). */
X509 *pki_server_new(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key,
    const char *const *dns, size_t ndns, const char *const *ips, size_t nips,
    int days, char *err, size_t errlen);

/*
 * Sign the PEM CSR (len bytes) for an agent: its signature must verify (the
 * agent holds the key) and its key be EC P-256/P-384 or RSA >= 2048 bits.
 * Everything but the key is the coordinator's choice: subject CN=cn only,
 * a random 128-bit serial, days of validity, CA:FALSE, digitalSignature,
 * extendedKeyUsage clientAuth; the CSR's own extensions are ignored.
 */
X509 *pki_sign_csr(X509 *ca, EVP_PKEY *ca_key, const char *csr_pem,
    size_t len, const char *cn, int days, char *err, size_t errlen);

/* The serial as lowercase hex, no leading zeros ("0" for zero). */
int pki_serial_hex(X509 *cert, char *out, size_t outlen);

/* PEM text of cert: malloc'ed, the caller frees. NULL on failure. */
char *pki_cert_pem(X509 *cert);

/* Files. Keys are written mode 0600, certificates 0644, each through a
 * temporary file renamed over path. certs: n certificates, in order. */
int pki_write_key(const char *path, EVP_PKEY *key, char *err, size_t errlen);
int pki_write_certs(const char *path, X509 *const *certs, size_t n,
    char *err, size_t errlen);
EVP_PKEY *pki_read_key(const char *path, char *err, size_t errlen);
X509 *pki_read_cert(const char *path, char *err, size_t errlen);

/* A new random 256-bit token, base64url without padding, into out
 * (PKI_TOKEN_LEN bytes). 0 or -1. */
int pki_token_new(char out[PKI_TOKEN_LEN]);
/* sha256 of s as lowercase hex. */
void pki_token_hash(const char *s, char out[PKI_HASH_LEN]);

#endif
