/* test_tls_client.c: the TLS client set-up of proto/tls_client.c in real
 * handshakes over a socketpair, against a server (a child process) with
 * certificates made here: a CA file trusted or not, the host checked (DNS
 * name and IP address, SNI only for a name), the pinned CA checked after
 * the handshake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_client.h"
#include "tls_identity.h"

/* Made once: a CA, the server's certificate from it, a foreign CA. */
static struct {
	EVP_PKEY *ca_key, *srv_key, *other_key;
	X509 *ca, *srv, *other;
	char ca_file[64], other_file[64];
	char ca_fp[BORA_TLS_FP_LEN], other_fp[BORA_TLS_FP_LEN];
} pki;

static void
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for cn with key, signed by issuer (NULL: itself). */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
    long serial)
{
	X509 *c = X509_new();
	X509_NAME *name;

	assert_non_null(c);
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_set_pubkey(c, key);
	name = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	if (issuer == NULL) {
		add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(c, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(c, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(c, issuer, NID_subject_alt_name,
		    "DNS:coord.test,IP:127.0.0.1");
	}
	assert_true(X509_sign(c, issuer_key ? issuer_key : key,
	    EVP_sha256()) > 0);
	return c;
}

static void
write_pem(X509 *cert, char path[64], const char *tmpl)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "%s", tmpl);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert), 1);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	pki.ca_key = EVP_EC_gen("P-256");
	pki.srv_key = EVP_EC_gen("P-256");
	pki.other_key = EVP_EC_gen("P-256");
	if (pki.ca_key == NULL || pki.srv_key == NULL || pki.other_key == NULL)
		return -1;
	pki.ca = make_cert("test CA", pki.ca_key, NULL, NULL, 1);
	pki.srv = make_cert("coord.test", pki.srv_key, pki.ca, pki.ca_key, 2);
	pki.other = make_cert("other CA", pki.other_key, NULL, NULL, 3);
	write_pem(pki.ca, pki.ca_file, "/tmp/bora-tls-ca-XXXXXX");
	write_pem(pki.other, pki.other_file, "/tmp/bora-tls-other-XXXXXX");
	if (bora_tls_fingerprint(pki.ca, pki.ca_fp) != 0 ||
	    bora_tls_fingerprint(pki.other, pki.other_fp) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(pki.ca_file);
	unlink(pki.other_file);
	X509_free(pki.ca);
	X509_free(pki.srv);
	X509_free(pki.other);
	EVP_PKEY_free(pki.ca_key);
	EVP_PKEY_free(pki.srv_key);
	EVP_PKEY_free(pki.other_key);
	return 0;
}

/* The server, in a child on fd: its certificate and the CA (the chain a
 * pinning client looks into), one handshake, then it waits for the
 * client to go. Its exit status: 0 when the SNI it got was sni (NULL:
 * none), 2 when another, 1 when the handshake failed. */
static void
serve(int fd, const char *sni)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *got;
	SSL *ssl;
	char b;
	int rc;

	if (ctx == NULL || SSL_CTX_use_certificate(ctx, pki.srv) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pki.srv_key) != 1 ||
	    SSL_CTX_add1_chain_cert(ctx, pki.ca) != 1)
		_exit(3);
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		_exit(3);
	if (SSL_accept(ssl) != 1)
		_exit(1);
	got = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	rc = (sni == NULL && got == NULL) || (sni != NULL && got != NULL &&
	    strcmp(sni, got) == 0) ? 0 : 2;
	(void)SSL_read(ssl, &b, 1);                /* until the client goes */
	_exit(rc);
}

struct shake {
	int connected;             /* SSL_connect() == 1 */
	long verify;               /* SSL_get_verify_result() */
	int server;                /* the server's exit status */
	char pin_err[512];         /* bora_tls_client_check_pin()'s, if asked */
	int pin;                   /* its result */
};

/* One handshake of a client for host with trust (and ca_file); with fp,
 * the pin checked after it, for pin_host. */
static struct shake
handshake(enum bora_tls_trust trust, const char *ca_file, const char *host,
    const char *sni, const char *fp, const char *pin_host)
{
	struct shake r = { 0, 0, -1, "", 0 };
	char err[512];
	SSL_CTX *ctx;
	SSL *ssl;
	pid_t pid;
	int sv[2], st;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		serve(sv[1], sni);
	}
	close(sv[1]);
	ctx = bora_tls_client_ctx(trust, ca_file, err, sizeof(err));
	assert_non_null(ctx);
	ssl = bora_tls_client_new(ctx, sv[0], host, err, sizeof(err));
	assert_non_null(ssl);
	r.connected = SSL_connect(ssl) == 1;
	r.verify = SSL_get_verify_result(ssl);
	if (r.connected && fp != NULL)
		r.pin = bora_tls_client_check_pin(ssl, pin_host, fp, r.pin_err,
		    sizeof(r.pin_err));
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r.server = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r;
}

static void
test_ca_file_and_dns_name(void **state)
{
	struct shake r;

	(void)state;
	r = handshake(BORA_TLS_TRUST_FILE, pki.ca_file, "coord.test",
	    "coord.test", NULL, NULL);
	assert_true(r.connected);
	assert_int_equal(r.verify, X509_V_OK);
	assert_int_equal(r.server, 0);            /* SNI: the DNS name */
}

static void
test_ca_file_and_ip_address(void **state)
{
	struct shake r;

	(void)state;
	r = handshake(BORA_TLS_TRUST_FILE, pki.ca_file, "127.0.0.1", NULL,
	    NULL, NULL);
	assert_true(r.connected);
	assert_int_equal(r.verify, X509_V_OK);
	assert_int_equal(r.server, 0);            /* no SNI for an address */
}

static void
test_wrong_host_refused(void **state)
{
	struct shake r;

	(void)state;
	r = handshake(BORA_TLS_TRUST_FILE, pki.ca_file, "other.test",
	    "other.test", NULL, NULL);
	assert_false(r.connected);
	assert_int_equal(r.verify, X509_V_ERR_HOSTNAME_MISMATCH);
	r = handshake(BORA_TLS_TRUST_FILE, pki.ca_file, "127.0.0.2", NULL,
	    NULL, NULL);
	assert_false(r.connected);
	assert_int_equal(r.verify, X509_V_ERR_IP_ADDRESS_MISMATCH);
}

static void
test_foreign_ca_refused(void **state)
{
	struct shake r;

	(void)state;
	r = handshake(BORA_TLS_TRUST_FILE, pki.other_file, "coord.test",
	    "coord.test", NULL, NULL);
	assert_false(r.connected);
	assert_int_not_equal(r.verify, X509_V_OK);
}

static void
test_unreadable_ca_file(void **state)
{
	char err[512];

	(void)state;
	assert_null(bora_tls_client_ctx(BORA_TLS_TRUST_FILE,
	    "/nonexistent/ca.crt", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot load the CA certificate "
	    "/nonexistent/ca.crt: not a readable PEM file"));
	assert_null(bora_tls_client_ctx(BORA_TLS_TRUST_FILE, NULL, err,
	    sizeof(err)));
}

static void
test_pinned_ca(void **state)
{
	char fp[BORA_TLS_FP_LEN];
	struct shake r;
	size_t i, j;

	(void)state;
	/* the handshake itself trusts nothing: the pin decides */
	r = handshake(BORA_TLS_TRUST_PIN, NULL, "coord.test", "coord.test",
	    pki.ca_fp, "coord.test");
	assert_true(r.connected);
	assert_int_equal(r.pin, 0);
	/* case and colons do not matter; an address is checked as one */
	for (i = j = 0; pki.ca_fp[i] != '\0'; i++)
		if (pki.ca_fp[i] != ':')
			fp[j++] = (char)tolower((unsigned char)pki.ca_fp[i]);
	fp[j] = '\0';
	r = handshake(BORA_TLS_TRUST_PIN, NULL, "127.0.0.1", NULL, fp,
	    "127.0.0.1");
	assert_int_equal(r.pin, 0);
	assert_int_equal(r.server, 0);
	/* another CA's fingerprint */
	r = handshake(BORA_TLS_TRUST_PIN, NULL, "coord.test", "coord.test",
	    pki.other_fp, "coord.test");
	assert_true(r.connected);
	assert_int_equal(r.pin, -1);
	assert_non_null(strstr(r.pin_err, "not the pinned one"));
	assert_non_null(strstr(r.pin_err, pki.ca_fp));    /* what it saw */
	/* the right CA, but not for this host */
	r = handshake(BORA_TLS_TRUST_PIN, NULL, "coord.test", "coord.test",
	    pki.ca_fp, "other.test");
	assert_int_equal(r.pin, -1);
	assert_non_null(strstr(r.pin_err, "does not verify against the pinned "
	    "CA"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_file_and_dns_name),
		cmocka_unit_test(test_ca_file_and_ip_address),
		cmocka_unit_test(test_wrong_host_refused),
		cmocka_unit_test(test_foreign_ca_refused),
		cmocka_unit_test(test_unreadable_ca_file),
		cmocka_unit_test(test_pinned_ca),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
