/* test_pki.c: the coordinator's CA (coordinator/enroll/pki.c): CSR signing forces
 * the CN, makes unique serials, sets the usages, and refuses bad CSRs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "tls_identity.h"

struct ca { EVP_PKEY *key; X509 *cert; };

static int
ca_setup(void **state)
{
	static struct ca ca;
	char err[256];

	ca.key = pki_key_new();
	assert_non_null(ca.key);
	ca.cert = pki_ca_new(ca.key, "Test CA", 30, err, sizeof(err));
	assert_non_null(ca.cert);
	*state = &ca;
	return 0;
}

static int
ca_teardown(void **state)
{
	struct ca *ca = *state;

	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	return 0;
}

/* A PEM CSR for key with subject CN=cn and, when evil, extensions asking
 * for CA:TRUE and serverAuth. Caller frees. */
static char *
make_csr(EVP_PKEY *key, const char *cn, int evil)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	if (evil) {
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    NID_basic_constraints, "critical,CA:TRUE"));
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    NID_ext_key_usage, "serverAuth"));
		X509_REQ_add_extensions(req, exts);
	}
	X509_REQ_set_pubkey(req, key);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	PEM_write_bio_X509_REQ(bio, req);
	n = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(bio);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return out;
}

static X509 *
sign(struct ca *ca, const char *csr, const char *cn)
{
	char err[256];
	X509 *c = pki_sign_csr(ca->cert, ca->key, csr, strlen(csr), cn, 365,
	    err, sizeof(err));

	if (c == NULL)
		fail_msg("sign: %s", err);
	return c;
}

static void
test_cn_forced(void **state)
{
	struct ca *ca = *state;
	EVP_PKEY *key = pki_key_new();
	char *csr = make_csr(key, "i-want-to-be-root", 1);
	char name[80], err[256];
	X509 *c = sign(ca, csr, "web-1");

	assert_int_equal(bora_tls_cn(c, name, sizeof(name), err, sizeof(err)), 0);
	assert_string_equal(name, "web-1");
	/* the CSR's key, not one of ours */
	assert_int_equal(X509_check_private_key(c, key), 1);
	/* the CSR's extensions are ignored: not a CA, client only */
	assert_int_equal(X509_check_ca(c), 0);
	assert_int_equal(X509_check_purpose(c, X509_PURPOSE_SSL_CLIENT, 0), 1);
	assert_int_equal(X509_check_purpose(c, X509_PURPOSE_SSL_SERVER, 0), 0);
	assert_true(X509_get_extended_key_usage(c) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(c) & XKU_SSL_SERVER);
	assert_true(X509_get_key_usage(c) & KU_DIGITAL_SIGNATURE);
	assert_false(X509_get_key_usage(c) & KU_KEY_CERT_SIGN);
	/* it chains to the CA */
	assert_int_equal(X509_check_issued(ca->cert, c), X509_V_OK);
	assert_int_equal(X509_verify(c, ca->key), 1);
	X509_free(c);
	free(csr);
	EVP_PKEY_free(key);
}

static void
test_serial_unique(void **state)
{
	struct ca *ca = *state;
	EVP_PKEY *key = pki_key_new();
	char *csr = make_csr(key, "x", 0);
	char s[20][PKI_SERIAL_LEN];
	int i, j;

	for (i = 0; i < 20; i++) {
		X509 *c = sign(ca, csr, "x");

		assert_int_equal(pki_serial_hex(c, s[i], sizeof(s[i])), 0);
		assert_int_equal(strlen(s[i]), 32);     /* 128 bits */
		for (j = 0; j < i; j++)
			assert_string_not_equal(s[i], s[j]);
		X509_free(c);
	}
	free(csr);
	EVP_PKEY_free(key);
}

static void
test_bad_csr_refused(void **state)
{
	struct ca *ca = *state;
	EVP_PKEY *key = pki_key_new();
	char *csr = make_csr(key, "x", 0), *p, err[256];
	X509 *c;

	c = pki_sign_csr(ca->cert, ca->key, "garbage", 7, "x", 1, err,
	    sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "not a PEM certificate request"));
	/* a flipped byte in the signature: no proof of the key */
	p = strstr(csr, "-----END");
	assert_non_null(p);
	p[-6] = p[-6] == 'A' ? 'B' : 'A';
	c = pki_sign_csr(ca->cert, ca->key, csr, strlen(csr), "x", 1, err,
	    sizeof(err));
	assert_null(c);
	free(csr);
	EVP_PKEY_free(key);
}

static void
test_tokens_and_fingerprints(void **state)
{
	char a[PKI_TOKEN_LEN], b[PKI_TOKEN_LEN], h[PKI_HASH_LEN];
	char fp[BORA_TLS_FP_LEN], bare[65];
	struct ca *ca = *state;
	size_t i, j = 0;

	assert_int_equal(pki_token_new(a), 0);
	assert_int_equal(pki_token_new(b), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_"), 43);
	pki_token_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad");
	assert_int_equal(bora_tls_fingerprint(ca->cert, fp), 0);
	assert_int_equal(strlen(fp), 95);
	for (i = 0; fp[i]; i++)
		if (fp[i] != ':')
			bare[j++] = (char)(fp[i] >= 'A' ? fp[i] + 32 : fp[i]);
	bare[j] = '\0';
	assert_true(bora_tls_fingerprint_equal(fp, bare));
	bare[0] = bare[0] == '0' ? '1' : '0';
	assert_false(bora_tls_fingerprint_equal(fp, bare));
	assert_false(bora_tls_fingerprint_equal(fp, "AB:CD"));
}

static void
test_server_cert(void **state)
{
	struct ca *ca = *state;
	EVP_PKEY *key = pki_key_new();
	const char *dns[] = { "coord.example" }, *ips[] = { "127.0.0.1" };
	const char *bad[] = { "no spaces" };
	char err[256];
	X509 *c = pki_server_new(ca->cert, ca->key, key, dns, 1, ips, 1, 30,
	    err, sizeof(err));

	assert_non_null(c);
	assert_int_equal(X509_check_host(c, "coord.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(c, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_purpose(c, X509_PURPOSE_SSL_SERVER, 0), 1);
	X509_free(c);
	assert_null(pki_server_new(ca->cert, ca->key, key, bad, 1, NULL, 0, 30,
	    err, sizeof(err)));
	assert_null(pki_server_new(ca->cert, ca->key, key, NULL, 0, NULL, 0, 30,
	    err, sizeof(err)));
	assert_int_equal(X509_check_ca(ca->cert), 1);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cn_forced),
		cmocka_unit_test(test_serial_unique),
		cmocka_unit_test(test_bad_csr_refused),
		cmocka_unit_test(test_tokens_and_fingerprints),
		cmocka_unit_test(test_server_cert),
	};

	return cmocka_run_group_tests(tests, ca_setup, ca_teardown);
}
