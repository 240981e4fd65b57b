/* tls_identity.c: agent identity from its verified certificate. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "msg.h"
#include "tls_identity.h"

int
bora_tls_cn(X509 *cert, char *out, size_t outlen, char *err, size_t errlen)
{
	X509_NAME *subject;
	X509_NAME_ENTRY *entry;
	unsigned char *utf8 = NULL;
	int idx, n, rc = -1;

	subject = X509_get_subject_name(cert);
	if (subject == NULL) {
		snprintf(err, errlen, "certificate has no subject");
		goto out;
	}
	idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (idx < 0) {
		snprintf(err, errlen, "certificate has no commonName");
		goto out;
	}
	if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
		snprintf(err, errlen, "certificate has more than one commonName");
		goto out;
	}
	entry = X509_NAME_get_entry(subject, idx);
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	if (n < 0) {
		snprintf(err, errlen, "certificate commonName is not valid text");
		goto out;
	}
	if ((size_t)n != strlen((char *)utf8)) {
		snprintf(err, errlen, "certificate commonName holds a NUL byte");
		goto out;
	}
	if ((size_t)n >= outlen || !bora_name_valid((char *)utf8)) {
		snprintf(err, errlen, "certificate commonName is not a valid agent "
		    "name (1-%d of A-Z a-z 0-9 . _ -, starting alphanumeric)",
		    BORA_MAX_NAME);
		goto out;
	}
	memcpy(out, utf8, (size_t)n + 1);
	rc = 0;
out:
	OPENSSL_free(utf8);
	return rc;
}

int
bora_tls_peer_name(SSL *ssl, char *out, size_t outlen, char *err, size_t errlen)
{
	X509 *peer;
	long verify;
	int rc;

	if (ssl == NULL) {
		snprintf(err, errlen, "connection is not TLS");
		return -1;
	}
	peer = SSL_get1_peer_certificate(ssl);
	if (peer == NULL) {
		snprintf(err, errlen, "no client certificate");
		return -1;
	}
	verify = SSL_get_verify_result(ssl);
	if (verify != X509_V_OK) {
		snprintf(err, errlen, "client certificate not verified: %s",
		    X509_verify_cert_error_string(verify));
		X509_free(peer);
		return -1;
	}
	rc = bora_tls_cn(peer, out, outlen, err, errlen);
	X509_free(peer);
	return rc;
}

int
bora_tls_file_cn(const char *path, char *out, size_t outlen, char *err,
    size_t errlen)
{
	X509 *cert;
	FILE *f;
	int rc;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		snprintf(err, errlen, "%s holds no PEM certificate", path);
		return -1;
	}
	rc = bora_tls_cn(cert, out, outlen, err, errlen);
	X509_free(cert);
	return rc;
}

int
bora_tls_fingerprint(X509 *cert, char out[BORA_TLS_FP_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	out[0] = '\0';
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &n) != 1 ||
	    n != 32)
		return -1;
	for (i = 0; i < n; i++) {
		out[i * 3] = hex[md[i] >> 4];
		out[i * 3 + 1] = hex[md[i] & 0xf];
		out[i * 3 + 2] = i + 1 < n ? ':' : '\0';
	}
	return 0;
}

/* The next hex digit of *s, skipping colons; -1 at the end, -2 on
 * anything else. */
static int
fp_next(const char **s)
{
	while (**s == ':')
		(*s)++;
	if (**s == '\0')
		return -1;
	if (!isxdigit((unsigned char)**s))
		return -2;
	return toupper((unsigned char)*(*s)++);
}

int
bora_tls_fingerprint_equal(const char *a, const char *b)
{
	int x, y, n = 0;

	if (a == NULL || b == NULL)
		return 0;
	for (;;) {
		x = fp_next(&a);
		y = fp_next(&b);
		if (x == -2 || y == -2 || x != y)
			return 0;
		if (x == -1)
			return n == 64;
		n++;
	}
}
