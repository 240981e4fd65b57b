/*
 * agent_enroll.c: bora-agent enroll --url wss://HOST:PORT --token T
 *     (--ca-sha256 FP | --ca-file F) [--name N] [--labels k=v,...]
 *     [--state-dir D] [--config-out FILE] [--force]
 *
 * Makes an EC P-256 key here (STATE/agent.key, mode 0600; it never leaves
 * this machine), sends a CSR with the token, and stores what the
 * coordinator signed: STATE/agent.crt, STATE/ca.crt, and a config file
 * (default STATE/agent.yaml) for `bora-agent --config FILE`. An agent that
 * already has agent.crt and agent.key is left alone unless --force.
 * The token is never written anywhere nor printed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agent_enroll.h"
#include "file.h"
#include "labels.h"
#include "msg.h"
#include "tls_identity.h"

#define ENROLL_PROG       "bora-agent enroll"
#define ENROLL_TIMEOUT_S  30

struct enroll_opts {
	const char *url, *token, *ca_sha256, *ca_file, *name, *labels;
	const char *state_dir, *config_out, *token_file;
	char *token_buf;               /* read from token_file; cleansed */
	int force;
	char host[256], path[512];
	int port;
};

static void
enroll_usage(FILE *out)
{
	fprintf(out, "usage: bora-agent enroll --url wss://HOST:PORT "
	    "(--token T | --token-file F)\n"
	    "           (--ca-sha256 FP | --ca-file F) [--name N] "
	    "[--labels k=v,...]\n"
	    "           [--state-dir D] [--config-out FILE] [--force]\n"
	    "  --ca-sha256  the coordinator CA's fingerprint, as printed by\n"
	    "               bora-coordinator init\n"
	    "  --state-dir  default /var/lib/bora-agent; agent.key, agent.crt\n"
	    "               and ca.crt go there\n"
	    "  --config-out default STATE/agent.yaml\n"
	    "  --token-file a file holding the token (kept off the command\n"
	    "               line and out of ps); mode 0600 please\n");
}

static int
enroll_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
enroll_fail(const char *fmt, ...)
{
	va_list ap;

	fputs(ENROLL_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* wss://host[:port][/path]; [v6] hosts too. */
static int
enroll_parse_url(struct enroll_opts *o)
{
	const char *p = o->url, *h, *e;
	char *end;
	long port = 443;

	if (strncmp(p, "wss://", 6) != 0)
		return -1;
	h = p + 6;
	if (*h == '[') {
		e = strchr(h, ']');
		if (e == NULL)
			return -1;
		snprintf(o->host, sizeof(o->host), "%.*s", (int)(e - h - 1), h + 1);
		e++;
	} else {
		e = h + strcspn(h, ":/");
		snprintf(o->host, sizeof(o->host), "%.*s", (int)(e - h), h);
	}
	if (o->host[0] == '\0')
		return -1;
	if (*e == ':') {
		port = strtol(e + 1, &end, 10);
		if (end == e + 1 || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '/'))
			return -1;
		e = end;
	}
	o->port = (int)port;
	snprintf(o->path, sizeof(o->path), "%s", *e == '/' ? e : "/");
	return 0;
}

#define ENROLL_TOKEN_FILE_MAX 256

/* The token from o->token_file into o->token_buf (malloc'ed), without
 * trailing white space. A file others may read is used, with a warning:
 * the token is spent by the enrollment anyway. 0, or -1 (said). */
static int
enroll_read_token(struct enroll_opts *o)
{
	char buf[ENROLL_TOKEN_FILE_MAX + 1];
	struct stat st;
	size_t n;
	FILE *f;

	if ((f = fopen(o->token_file, "r")) == NULL || fstat(fileno(f),
	    &st) != 0) {
		enroll_fail("--token-file %s: %s", o->token_file,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (st.st_mode & 077)
		fprintf(stderr, ENROLL_PROG ": warning: %s may be read by "
		    "others (mode %03o); a token is a secret: chmod 600\n",
		    o->token_file, (unsigned)(st.st_mode & 0777));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == 0 || n > ENROLL_TOKEN_FILE_MAX || memchr(buf, '\0', n) ||
	    memchr(buf, '\n', n)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		enroll_fail("--token-file %s: expected one line with the token",
		    o->token_file);
		return -1;
	}
	o->token_buf = malloc(n + 1);
	if (o->token_buf != NULL) {
		memcpy(o->token_buf, buf, n);
		o->token_buf[n] = '\0';
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (o->token_buf == NULL) {
		enroll_fail("out of memory");
		return -1;
	}
	return 0;
}

static int
enroll_parse(struct enroll_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "ca-sha256", required_argument, NULL, 's' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "labels", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "config-out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->state_dir = "/var/lib/bora-agent";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 't': o->token = optarg; break;
		case 'T': o->token_file = optarg; break;
		case 's': o->ca_sha256 = optarg; break;
		case 'c': o->ca_file = optarg; break;
		case 'n': o->name = optarg; break;
		case 'l': o->labels = optarg; break;
		case 'd': o->state_dir = optarg; break;
		case 'o': o->config_out = optarg; break;
		case 'f': o->force = 1; break;
		case 'h': enroll_usage(stdout); return 0;
		case ':':
			enroll_fail("%s needs a value", argv[optind - 1]);
			return 2;
		default:
			enroll_fail("unknown option %s", argv[optind - 1]);
			enroll_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		enroll_fail("unexpected argument %s", argv[optind]);
		return 2;
	}
	if (o->token != NULL && o->token_file != NULL) {
		enroll_fail("give --token or --token-file, not both");
		return 2;
	}
	if (o->token_file != NULL) {
		if (enroll_read_token(o) != 0)
			return 2;
		o->token = o->token_buf;
	}
	if (o->url == NULL || o->token == NULL ||
	    (o->ca_sha256 == NULL) == (o->ca_file == NULL)) {
		enroll_fail("--url, --token (or --token-file) and one of "
		    "--ca-sha256 or --ca-file are required");
		enroll_usage(stderr);
		return 2;
	}
	if (enroll_parse_url(o) != 0) {
		enroll_fail("--url: expected wss://HOST:PORT/, got %s", o->url);
		return 2;
	}
	if (o->ca_sha256 && !bora_tls_fingerprint_equal(o->ca_sha256,
	    o->ca_sha256)) {
		enroll_fail("--ca-sha256: expected 32 bytes of hex (AB:CD:...)");
		return 2;
	}
	if (o->name != NULL && !bora_name_valid(o->name)) {
		enroll_fail("--name: '%s' is not an agent name", o->name);
		return 2;
	}
	return -1;
}

/* --labels "k=v,k2=v2" (or none) -> a new object, NULL after saying why. */
static json_t *
enroll_labels(const char *s)
{
	char err[256];
	json_t *o;

	if (s == NULL)
		return json_object();
	if ((o = bora_labels_parse(s, strlen(s), err, sizeof(err))) == NULL)
		enroll_fail("--labels: %s", err);
	return o;
}

/* A CSR for key (CN: the requested name; the coordinator sets its own). */
static char *
enroll_csr(EVP_PKEY *key, const char *name)
{
	X509_REQ *req = X509_REQ_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (req == NULL || bio == NULL ||
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_UTF8, (const unsigned char *)(name ? name : "bora-agent"),
	    -1, -1, 0) != 1 || X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
	    PEM_write_bio_X509_REQ(bio, req) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
out:
	BIO_free(bio);
	X509_REQ_free(req);
	return out;
}

/* Write len bytes to path through path.tmp, mode. */
static int
enroll_write(const char *path, const char *data, size_t len, mode_t mode)
{
	int rc = bora_file_write(path, data, len, mode);

	if (rc == BORA_FILE_CREATE)
		return enroll_fail("cannot create %s.tmp: %s", path,
		    strerror(errno));
	if (rc != 0)
		return enroll_fail("cannot write %s: %s", path, strerror(errno));
	return 0;
}

static int
enroll_write_key(const char *path, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = 1;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0) {
		rc = enroll_write(path, data, (size_t)n, 0600);
		OPENSSL_cleanse(data, (size_t)n);
	}
	BIO_free(bio);
	return rc;
}

/* A JSON string is a YAML double-quoted scalar. */
static int
enroll_yaml_str(FILE *f, const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	if (q == NULL)
		return -1;
	fputs(q, f);
	free(q);
	return 0;
}

static int
enroll_write_config(const char *path, const char *url, const char *dir,
    const json_t *labels)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *k;
	json_t *v;
	char p[PATH_MAX + 32];
	int rc;

	if (f == NULL)
		return 1;
	fputs("# written by bora-agent enroll\nurl: ", f);
	enroll_yaml_str(f, url);
	fputs("\ntls:\n  cert: ", f);
	snprintf(p, sizeof(p), "%s/agent.crt", dir);
	enroll_yaml_str(f, p);
	fputs("\n  key: ", f);
	snprintf(p, sizeof(p), "%s/agent.key", dir);
	enroll_yaml_str(f, p);
	fputs("\n  ca: ", f);
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	enroll_yaml_str(f, p);
	fputs("\nstate_dir: ", f);
	enroll_yaml_str(f, dir);
	fputs("\n", f);
	if (json_object_size(labels) > 0) {
		fputs("labels:\n", f);
		json_object_foreach((json_t *)(uintptr_t)labels, k, v) {
			fprintf(f, "  %s: ", k);
			enroll_yaml_str(f, json_string_value(v) ?
			    json_string_value(v) : "");
			fputs("\n", f);
		}
	}
	if (fclose(f) != 0) {
		free(text);
		return 1;
	}
	rc = enroll_write(path, text, len, 0644);
	free(text);
	return rc;
}

/* The answer checks out: its certificate is for our key and chains to
 * its CA, which is the pinned one (or verifies with --ca-file). */
static int
enroll_check_answer(const struct enroll_opts *o, EVP_PKEY *key,
    const struct bora_enrolled *e)
{
	BIO *b1 = BIO_new_mem_buf(e->certificate, -1);
	BIO *b2 = BIO_new_mem_buf(e->ca, -1);
	X509 *cert = b1 ? PEM_read_bio_X509(b1, NULL, NULL, NULL) : NULL;
	X509 *ca = b2 ? PEM_read_bio_X509(b2, NULL, NULL, NULL) : NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char fp[BORA_TLS_FP_LEN];
	int rc = 1;

	if (cert == NULL || ca == NULL || store == NULL || ctx == NULL) {
		enroll_fail("the coordinator's answer holds no certificate");
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		enroll_fail("the certificate is not for this agent's key");
		goto out;
	}
	if (o->ca_sha256 && (bora_tls_fingerprint(ca, fp) != 0 ||
	    !bora_tls_fingerprint_equal(fp, o->ca_sha256))) {
		enroll_fail("the CA sent is not the pinned one (%s)", fp);
		goto out;
	}
	if ((o->ca_file ? X509_STORE_load_file(store, o->ca_file) :
	    X509_STORE_add_cert(store, ca)) != 1 ||
	    X509_STORE_CTX_init(ctx, store, cert, NULL) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1 ||
	    X509_verify_cert(ctx) != 1) {
		enroll_fail("the certificate does not verify: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cert);
	X509_free(ca);
	BIO_free(b1);
	BIO_free(b2);
	return rc;
}

/* Send the enroll message, read the answer into *m. 0 or exit status. */
static int
enroll_exchange(const struct enroll_opts *o, const char *csr,
    json_t *labels, struct bora_msg *m)
{
	struct etls_target to = { o->host, o->port, o->path, o->ca_sha256,
	    o->ca_file, ENROLL_TIMEOUT_S };
	struct bora_msg rq = { .type = BORA_MSG_ENROLL };
	struct bora_msg_err merr;
	struct etls t;
	char err[512], *text = NULL, *answer = NULL;
	size_t len = 0;
	int rc = 1;

	rq.u.enroll.token = o->token;
	rq.u.enroll.csr = csr;
	rq.u.enroll.name = o->name;
	rq.u.enroll.labels = json_object_size(labels) ? labels : NULL;
	text = bora_msg_encode(&rq, &len);
	if (text == NULL) {
		rc = enroll_fail("cannot encode the request (is the token 1 to "
		    "%d bytes?)", BORA_MAX_TOKEN);
		goto out;
	}
	if (etls_open(&t, &to, err, sizeof(err)) != 0 ||
	    etls_ws_upgrade(&t, &to, err, sizeof(err)) != 0 ||
	    etls_ws_send(&t, text, len, err, sizeof(err)) != 0 ||
	    (answer = etls_ws_recv(&t, BORA_MAX_MESSAGE_BYTES, &len, err,
	    sizeof(err))) == NULL) {
		etls_close(&t);
		rc = enroll_fail("%s (url %s)", err, o->url);
		goto out;
	}
	etls_close(&t);
	if (bora_msg_decode(answer, len, NULL, m, &merr) != 0) {
		rc = enroll_fail("bad answer from the coordinator: %s: %s",
		    merr.path, merr.text);
		goto out;
	}
	if (m->type == BORA_MSG_ERROR) {
		rc = enroll_fail("enrollment refused: %s: %s", m->u.error.code,
		    m->u.error.detail);
		bora_msg_free(m);
		goto out;
	}
	if (m->type != BORA_MSG_ENROLLED) {
		rc = enroll_fail("unexpected %s answer from the coordinator",
		    bora_msg_type_name(m->type));
		bora_msg_free(m);
		goto out;
	}
	rc = 0;
out:
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	free(answer);
	return rc;
}

/* The directory that will hold path, checked before the token is spent:
 * an enrollment whose configuration cannot be written leaves an agent
 * that cannot start and a token that is gone. 0, or -1 said. */
static int
enroll_check_out_dir(const char *opt, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *why = NULL;
	struct stat sb;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);

	if (stat(dir, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(sb.st_mode))
		why = "not a directory";
	else if (access(dir, W_OK | X_OK) != 0)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	enroll_fail("%s %s: %s: %s; nothing sent, the token is not spent",
	    opt, path, dir, why);
	return -1;
}

static int
enroll_run(struct enroll_opts *o, int argc, char **argv)
{
	struct bora_msg m;
	char dir[PATH_MAX], kp[PATH_MAX + 16], cp[PATH_MAX + 16];
	char ap[PATH_MAX + 16], cfgp[PATH_MAX + 16], name[BORA_MAX_NAME + 1];
	char err[256];
	EVP_PKEY *key = NULL;
	json_t *labels = NULL;
	char *csr = NULL, *abs;
	int rc;

	memset(&m, 0, sizeof(m));
	if ((rc = enroll_parse(o, argc, argv)) != -1)
		return rc;
	rc = 1;
	if (mkdir(o->state_dir, 0700) != 0 && errno != EEXIST)
		return enroll_fail("cannot create %s: %s", o->state_dir,
		    strerror(errno));
	if ((abs = realpath(o->state_dir, NULL)) == NULL)
		return enroll_fail("cannot resolve %s: %s", o->state_dir,
		    strerror(errno));
	snprintf(dir, sizeof(dir), "%s", abs);
	free(abs);
	chmod(dir, 0700);
	snprintf(kp, sizeof(kp), "%s/agent.key", dir);
	snprintf(cp, sizeof(cp), "%s/agent.crt", dir);
	snprintf(ap, sizeof(ap), "%s/ca.crt", dir);
	if (o->config_out)
		snprintf(cfgp, sizeof(cfgp), "%s", o->config_out);
	else
		snprintf(cfgp, sizeof(cfgp), "%s/agent.yaml", dir);
	if (!o->force && access(kp, F_OK) == 0 && access(cp, F_OK) == 0) {
		if (bora_tls_file_cn(cp, name, sizeof(name), err,
		    sizeof(err)) != 0)
			snprintf(name, sizeof(name), "?");
		printf("already enrolled as %s (%s); nothing done (--force "
		    "enrolls again)\n", name, cp);
		return 0;
	}
	if (enroll_check_out_dir("--config-out", cfgp) != 0)
		return 1;
	if ((labels = enroll_labels(o->labels)) == NULL)
		return 2;
	key = EVP_EC_gen("P-256");
	csr = key ? enroll_csr(key, o->name) : NULL;
	if (csr == NULL) {
		enroll_fail("cannot make a key and a CSR");
		goto out;
	}
	if ((rc = enroll_exchange(o, csr, labels, &m)) != 0)
		goto out;
	rc = 1;
	if (enroll_check_answer(o, key, &m.u.enrolled) != 0)
		goto out;
	if (enroll_write_key(kp, key) != 0 ||
	    enroll_write(cp, m.u.enrolled.certificate,
	    strlen(m.u.enrolled.certificate), 0644) != 0 ||
	    enroll_write(ap, m.u.enrolled.ca, strlen(m.u.enrolled.ca),
	    0644) != 0 ||
	    enroll_write_config(cfgp, o->url, dir, m.u.enrolled.labels ?
	    m.u.enrolled.labels : labels) != 0)
		goto out;
	printf("enrolled as %s\n  key:         %s (mode 0600, never sent)\n"
	    "  certificate: %s\n  ca:          %s\n  config:      %s\n"
	    "run: bora-agent --config %s\n", m.u.enrolled.name, kp, cp, ap,
	    cfgp, cfgp);
	rc = 0;
out:
	bora_msg_free(&m);
	json_decref(labels);
	free(csr);
	EVP_PKEY_free(key);
	return rc;
}

int
agent_enroll_main(int argc, char **argv)
{
	struct enroll_opts o;
	int rc;

	rc = enroll_run(&o, argc, argv);
	if (o.token_buf != NULL) {
		OPENSSL_cleanse(o.token_buf, strlen(o.token_buf));
		free(o.token_buf);
	}
	return rc;
}
