/* pki.c: the coordinator's CA, server certificate and CSR signing (pki.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "errbuf.h"
#include "file.h"
#include "pki.h"

/* Clock skew between coordinator and agents: certificates are valid from
 * a few minutes before they are made. */
#define PKI_BACKDATE_S (5 * 60)

/* err = what + OpenSSL's last error, the queue emptied. */
EVP_PKEY *
pki_key_new(void)
{
	return EVP_EC_gen("P-256");
}

static int
pki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	rc = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* A random positive 128-bit serial. */
static int
pki_set_random_serial(X509 *cert)
{
	unsigned char b[16];
	BIGNUM *bn;
	int rc = -1;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7f;           /* positive in DER */
	b[0] |= 0x40;           /* and always 16 bytes long */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		rc = 0;
	BN_free(bn);
	return rc;
}

/* A new certificate: version 3, random serial, subject (O=Bora if org),
 * CN=cn, key, valid days; issuer set to its own subject. */
static X509 *
pki_cert_base(EVP_PKEY *key, const char *cn, int org, int days)
{
	X509 *cert = X509_new();
	X509_NAME *name;

	if (cert == NULL)
		return NULL;
	name = X509_get_subject_name(cert);
	if (X509_set_version(cert, 2) != 1 || pki_set_random_serial(cert) ||
	    (org && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Bora", -1, -1, 0) != 1) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -PKI_BACKDATE_S) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, NULL) == NULL ||
	    X509_set_pubkey(cert, key) != 1) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

X509 *
pki_ca_new(EVP_PKEY *key, const char *cn, int days, char *err, size_t errlen)
{
	X509 *cert = pki_cert_base(key, cn, 1, days);

	if (cert == NULL ||
	    pki_add_ext(cert, cert, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") ||
	    pki_add_ext(cert, cert, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    pki_add_ext(cert, cert, NID_subject_key_identifier, "hash") ||
	    pki_add_ext(cert, cert, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(cert, key, EVP_sha256()) <= 0) {
		bora_errf_ssl(err, errlen, "cannot make the CA certificate");
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Sign cert (issuer set to ca's subject first) with the common
 * extensions of a leaf certificate and the extended usage eku. */
static int
pki_sign_leaf(X509 *cert, X509 *ca, EVP_PKEY *ca_key, const char *eku)
{
	if (X509_set_issuer_name(cert, X509_get_subject_name(ca)) != 1 ||
	    pki_add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    pki_add_ext(cert, ca, NID_key_usage, "critical,digitalSignature") ||
	    pki_add_ext(cert, ca, NID_ext_key_usage, eku) ||
	    pki_add_ext(cert, ca, NID_subject_key_identifier, "hash") ||
	    pki_add_ext(cert, ca, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(cert, ca_key, EVP_sha256()) <= 0)
		return -1;
	return 0;
}

static int
pki_dns_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' ||
		    (s[i] == '*' && i == 0)))
			return 0;
	return 1;
}

X509 *
pki_server_new(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key,
    const char *const *dns, size_t ndns, const char *const *ips, size_t nips,
    int days, char *err, size_t errlen)
{
	unsigned char addr[16];
	char san[4096];
	size_t i, len = 0;
	X509 *cert = NULL;

	if (ndns + nips == 0) {
		snprintf(err, errlen, "the server certificate needs at least one "
		    "DNS name or IP address");
		return NULL;
	}
	san[0] = '\0';
	for (i = 0; i < ndns; i++) {
		if (!pki_dns_valid(dns[i])) {
			snprintf(err, errlen, "--dns %s: not a DNS name", dns[i]);
			return NULL;
		}
		len += (size_t)snprintf(san + len, len < sizeof(san) ?
		    sizeof(san) - len : 0, "%sDNS:%s", len ? "," : "", dns[i]);
	}
	for (i = 0; i < nips; i++) {
		if (inet_pton(AF_INET, ips[i], addr) != 1 &&
		    inet_pton(AF_INET6, ips[i], addr) != 1) {
			snprintf(err, errlen, "--ip %s: not an IP address", ips[i]);
			return NULL;
		}
		len += (size_t)snprintf(san + len, len < sizeof(san) ?
		    sizeof(san) - len : 0, "%sIP:%s", len ? "," : "", ips[i]);
	}
	if (len >= sizeof(san)) {
		snprintf(err, errlen, "too many names for one certificate");
		return NULL;
	}
	cert = pki_cert_base(key, ndns ? dns[0] : ips[0], 1, days);
	if (cert == NULL ||
	    pki_add_ext(cert, ca, NID_subject_alt_name, san) ||
	    pki_sign_leaf(cert, ca, ca_key, "serverAuth")) {
		bora_errf_ssl(err, errlen, "cannot make the server certificate");
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* The CSR's key is one we sign for. */
static int
pki_key_acceptable(EVP_PKEY *key, char *err, size_t errlen)
{
	char group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(key, "group", group,
		    sizeof(group), &glen) == 1 &&
		    (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0 ||
		    strcmp(group, "secp384r1") == 0 ||
		    strcmp(group, "P-384") == 0))
			return 0;
		snprintf(err, errlen, "the CSR's EC key is not on P-256 or P-384");
		return -1;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(key) >= 2048)
			return 0;
		snprintf(err, errlen, "the CSR's RSA key is shorter than 2048 bits");
		return -1;
	default:
		snprintf(err, errlen, "the CSR's key is neither EC nor RSA");
		return -1;
	}
}

X509 *
pki_sign_csr(X509 *ca, EVP_PKEY *ca_key, const char *csr_pem, size_t len,
    const char *cn, int days, char *err, size_t errlen)
{
	X509_REQ *req = NULL;
	EVP_PKEY *key;
	X509 *cert = NULL;
	BIO *bio;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(csr_pem, (int)len)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (req == NULL) {
		bora_errf_ssl(err, errlen, "csr is not a PEM certificate request");
		goto out;
	}
	key = X509_REQ_get0_pubkey(req);
	if (key == NULL) {
		bora_errf_ssl(err, errlen, "the CSR holds no usable public key");
		goto out;
	}
	if (pki_key_acceptable(key, err, errlen) != 0)
		goto out;
	if (X509_REQ_verify(req, key) != 1) {
		bora_errf_ssl(err, errlen, "the CSR's signature does not verify");
		goto out;
	}
	cert = pki_cert_base(key, cn, 0, days);
	if (cert == NULL || pki_sign_leaf(cert, ca, ca_key, "clientAuth")) {
		bora_errf_ssl(err, errlen, "cannot sign the certificate");
		X509_free(cert);
		cert = NULL;
	}
out:
	X509_REQ_free(req);
	return cert;
}

int
pki_serial_hex(X509 *cert, char *out, size_t outlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, *p;
	int rc = -1;

	if (hex != NULL && strlen(hex) < outlen) {
		for (p = hex; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
		snprintf(out, outlen, "%s", hex);
		rc = 0;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

char *
pki_cert_pem(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_X509(bio, cert) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(bio);
	return out;
}

/* The PEM text of key and certs through path.tmp (mode), then renamed
 * over path. */
static int
pki_write_file(const char *path, mode_t mode, EVP_PKEY *key,
    X509 *const *certs, size_t n, char *err, size_t errlen)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len = 0;
	size_t i;
	int ok, rc = BORA_FILE_WRITE;   /* a PEM failure too */

	if (strlen(path) + sizeof(".tmp") > 4096) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	ok = (bio = BIO_new(BIO_s_mem())) != NULL;
	if (ok && key != NULL)
		ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
		    NULL) == 1;
	for (i = 0; ok && i < n; i++)
		ok = PEM_write_bio_X509(bio, certs[i]) == 1;
	if (ok && (len = BIO_get_mem_data(bio, &data)) > 0)
		rc = bora_file_write(path, data, (size_t)len, mode);
	if (rc == BORA_FILE_CREATE)
		snprintf(err, errlen, "cannot create %s.tmp: %s", path,
		    strerror(errno));
	else if (rc != 0)
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
	if (len > 0)
		OPENSSL_cleanse(data, (size_t)len);
	BIO_free(bio);
	return rc == 0 ? 0 : -1;
}

int
pki_write_key(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	return pki_write_file(path, 0600, key, NULL, 0, err, errlen);
}

int
pki_write_certs(const char *path, X509 *const *certs, size_t n, char *err,
    size_t errlen)
{
	return pki_write_file(path, 0644, NULL, certs, n, err, errlen);
}

EVP_PKEY *
pki_read_key(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL)
		bora_errf_ssl(err, errlen, "no PEM private key in the file");
	return key;
}

X509 *
pki_read_cert(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	X509 *cert;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL)
		bora_errf_ssl(err, errlen, "no PEM certificate in the file");
	return cert;
}

int
pki_token_new(char out[PKI_TOKEN_LEN])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[33];    /* 256 bits + 8 to make whole 6-bit groups */
	size_t i, o = 0;
	uint32_t v;

	if (RAND_bytes(r, 32) != 1)
		return -1;
	r[32] = 0;
	for (i = 0; i < 33; i += 3) {
		v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	/* 44 characters encode 264 bits; the last one holds only padding */
	out[PKI_TOKEN_LEN - 1] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

void
pki_token_hash(const char *s, char out[PKI_HASH_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256((const unsigned char *)s, strlen(s), md);
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * sizeof(md)] = '\0';
}
