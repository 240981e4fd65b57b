/*
 * tls_client.c: the client side of TLS (tls_client.h): the context by
 * trust, the connection's host check, and the pinned-CA check made after
 * the handshake (moved from the agent's enrollment).
 */
#include "errbuf.h"
#include "tls_client.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls_identity.h"

static int
tls_client_is_ip(const char *host)
{
	unsigned char ip[16];

	return inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
}

/* Check the name we dialled: an IP against IP SANs, else DNS names. */
static int
tls_client_set_host(X509_VERIFY_PARAM *p, const char *host)
{
	if (tls_client_is_ip(host))
		return X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1;
	return X509_VERIFY_PARAM_set1_host(p, host, 0) == 1 ? 0 : -1;
}

SSL_CTX *
bora_tls_client_ctx(enum bora_tls_trust trust, const char *ca_file,
    char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char what[512];

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		bora_errf_ssl(err, errlen, "cannot set up TLS");
		goto fail;
	}
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a peer that closes without close_notify ends the stream */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	switch (trust) {
	case BORA_TLS_TRUST_FILE:
		if (ca_file == NULL ||
		    SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			snprintf(what, sizeof(what), "cannot load the CA "
			    "certificate %s: not a readable PEM file",
			    ca_file ? ca_file : "(none given)");
			bora_errf_ssl(err, errlen, what);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		break;
	case BORA_TLS_TRUST_SYSTEM:
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			bora_errf_ssl(err, errlen, "cannot load the system's "
			    "CA certificates");
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		break;
	case BORA_TLS_TRUST_PIN:
		/* checked after the handshake: bora_tls_client_check_pin() */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		break;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
bora_tls_client_new(SSL_CTX *ctx, int fd, const char *host, char *err,
    size_t errlen)
{
	char name[256];            /* the SNI macro takes a char * */
	SSL *ssl;

	if (strlen(host) >= sizeof(name)) {
		snprintf(err, errlen, "cannot set up TLS: the host name is over "
		    "%zu bytes", sizeof(name) - 1);
		return NULL;
	}
	memcpy(name, host, strlen(host) + 1);
	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    (!tls_client_is_ip(host) &&
	    SSL_set_tlsext_host_name(ssl, name) != 1) ||
	    tls_client_set_host(SSL_get0_param(ssl), host) != 0) {
		bora_errf_ssl(err, errlen, "cannot set up TLS");
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

int
bora_tls_client_check_pin(SSL *ssl, const char *host, const char *fp,
    char *err, size_t errlen)
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
		    X509_check_ca(c) > 0 &&
		    X509_check_issued(c, c) == X509_V_OK) {
			root = c;
			break;
		}
	}
	if (root == NULL) {
		snprintf(err, errlen, "the coordinator's CA is not the pinned "
		    "one (its chain's root has sha256 %s, the pin is %s)",
		    seen[0] ? seen : "(none sent)", fp);
		return -1;
	}
	ERR_clear_error();
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL ||
	    X509_STORE_add_cert(store, root) != 1 ||
	    X509_STORE_CTX_init(ctx, store, leaf, chain) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1 ||
	    tls_client_set_host(X509_STORE_CTX_get0_param(ctx), host) != 0) {
		bora_errf_ssl(err, errlen, "cannot check the coordinator's "
		    "chain");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		snprintf(err, errlen, "the coordinator's certificate does not "
		    "verify against the pinned CA: %s",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}
