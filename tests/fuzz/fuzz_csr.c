/*
 * fuzz_csr.c: the certificate request of an enroll message
 * (coordinator/enroll/include/pki.h pki_sign_csr), which anyone who can reach the agent
 * port may send. An input that starts with '-' is given as it is (PEM);
 * any other is taken as DER and wrapped in PEM first, so that the fuzzer's
 * mutations reach the ASN.1 of the request instead of dying in base64.
 *
 * One CA is made on the first input and kept (reachable, so not a leak).
 * A certificate that comes out must carry exactly the CN asked for and
 * verify against the CA, and not be a CA: the CSR chooses nothing but the
 * key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CSR_MAX (64 * 1024)

static EVP_PKEY *fuzz_ca_key;
static X509 *fuzz_ca;

static int
fuzz_csr_ca(void)
{
	char err[256];

	if (fuzz_ca != NULL)
		return 0;
	fuzz_ca_key = pki_key_new();
	if (fuzz_ca_key != NULL)
		fuzz_ca = pki_ca_new(fuzz_ca_key, "fuzz CA", 1, err,
		    sizeof(err));
	return fuzz_ca != NULL ? 0 : -1;
}

/* The certificate says CN=cn, is no CA whatever the CSR asked, and the CA
 * signed it. */
static void
fuzz_csr_check(X509 *cert, const char *cn)
{
	char got[128];
	EVP_PKEY *ca_pub = X509_get0_pubkey(fuzz_ca);

	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
	    NID_commonName, got, sizeof(got)) < 0 || strcmp(got, cn) != 0)
		abort();
	if (X509_check_ca(cert) != 0)
		abort();
	if (ca_pub == NULL || X509_verify(cert, ca_pub) != 1)
		abort();
}

#define PEM_HEAD "-----BEGIN CERTIFICATE REQUEST-----\n"
#define PEM_TAIL "\n-----END CERTIFICATE REQUEST-----\n"

/* data as the NUL-ended text pki_sign_csr gets (malloc'ed), its length in
 * *len: as it is when it starts with '-', else DER wrapped in PEM. */
static char *
fuzz_csr_text(const uint8_t *data, size_t size, size_t *len)
{
	char *pem;
	size_t n;

	if (size > 0 && data[0] == '-') {
		if ((pem = malloc(size + 1)) == NULL)
			return NULL;
		memcpy(pem, data, size);
		pem[size] = '\0';
		*len = size;
		return pem;
	}
	/* base64 of size bytes: 4 per 3, one line (PEM readers take it) */
	n = sizeof(PEM_HEAD) - 1 + 4 * ((size + 2) / 3) + sizeof(PEM_TAIL);
	if ((pem = malloc(n)) == NULL)
		return NULL;
	memcpy(pem, PEM_HEAD, sizeof(PEM_HEAD) - 1);
	n = sizeof(PEM_HEAD) - 1;
	n += (size_t)EVP_EncodeBlock((unsigned char *)pem + n, data, (int)size);
	memcpy(pem + n, PEM_TAIL, sizeof(PEM_TAIL));
	*len = n + sizeof(PEM_TAIL) - 1;
	return pem;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *pem;
	size_t len;
	X509 *cert;

	if (size > FUZZ_CSR_MAX || fuzz_csr_ca() != 0)
		return 0;
	if ((pem = fuzz_csr_text(data, size, &len)) == NULL)
		return 0;
	cert = pki_sign_csr(fuzz_ca, fuzz_ca_key, pem, len, "agent-1", 1, err,
	    sizeof(err));
	if (cert != NULL) {
		fuzz_csr_check(cert, "agent-1");
		X509_free(cert);
	} else if (err[0] == '\0') {
		abort();   /* a refusal says why */
	}
	free(pem);
	return 0;
}
