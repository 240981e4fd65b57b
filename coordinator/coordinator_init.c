/*
 * coordinator_init.c: `bora-coordinator init DIR [--dns NAME]... [--ip ADDR]... [--force]`
 *
 * Makes DIR (0700) a coordinator state directory with its PKI:
 *   ca.key (0600), ca.crt          the CA agents are enrolled by (10 years)
 *   server.key (0600), server.crt  the coordinator's certificate for the
 *                                  names given, followed by ca.crt (agents
 *                                  that pin the CA fingerprint find the
 *                                  root in the chain the server sends)
 *   operator.token (0600)          the operator token, the only plain copy;
 *                                  the store (bora.db) keeps its sha256
 * and prints the CA certificate's sha256 fingerprint for `bora-agent
 * enroll --ca-sha256`. An existing CA is kept unless --force.
 *
 * `bora-coordinator operator-token rotate DIR [--api-socket PATH]`
 * replaces the operator token alone: a new one, its sha256 into DIR's
 * store, the token into DIR/operator.token (0600), then SIGHUP to the
 * coordinator serving DIR's API socket, which reads the hash again
 * (tokens_operator_reload()) before its next HTTPS request.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "file.h"
#include "coordinator_init.h"
#include "persist.h"
#include "pki.h"
#include "store.h"
#include "tls_identity.h"

#define INIT_MAX_NAMES 32

struct init_opts {
	const char *dir;
	const char *dns[INIT_MAX_NAMES];
	const char *ips[INIT_MAX_NAMES];
	size_t ndns, nips;
	int force;
};

static void
init_usage(FILE *out)
{
	fprintf(out, "usage: bora-coordinator init DIR [--dns NAME]... "
	    "[--ip ADDR]... [--force]\n"
	    "  makes DIR (mode 0700) with the CA (ca.key, ca.crt), the server\n"
	    "  certificate for the names given (server.key, server.crt) and the\n"
	    "  operator token (operator.token, mode 0600; stored hashed)\n"
	    "  With neither --dns nor --ip: --dns localhost --ip 127.0.0.1.\n"
	    "  --force replaces an existing CA: every enrolled agent must\n"
	    "  enroll again.\n");
}

static int
init_parse(struct init_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dns", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'i':
			if ((c == 'd' ? o->ndns : o->nips) == INIT_MAX_NAMES) {
				fprintf(stderr, "bora-coordinator init: at most %d "
				    "--dns and %d --ip\n", INIT_MAX_NAMES,
				    INIT_MAX_NAMES);
				return 2;
			}
			if (c == 'd')
				o->dns[o->ndns++] = optarg;
			else
				o->ips[o->nips++] = optarg;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'h':
			init_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "bora-coordinator init: %s needs a value\n",
			    argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "bora-coordinator init: unknown option %s\n",
			    argv[optind - 1]);
			init_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		init_usage(stderr);
		return 2;
	}
	o->dir = argv[optind];
	if (o->ndns + o->nips == 0) {
		o->dns[o->ndns++] = "localhost";
		o->ips[o->nips++] = "127.0.0.1";
	}
	return -1;
}

static int
init_path(char *out, size_t n, const char *dir, const char *file)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, file) >= n) {
		fprintf(stderr, "bora-coordinator init: %s: path too long\n", dir);
		return -1;
	}
	return 0;
}

static int
init_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "bora-coordinator init: cannot create %s: %s\n",
		    dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0)) {
		fprintf(stderr, "bora-coordinator init: %s is not a private "
		    "directory\n", dir);
		return -1;
	}
	return 0;
}

/* Store hash as the operator token's (id "operator") in DIR's store, and
 * commit. 0, or -1 with err. */
static int
init_store_operator_hash(const char *dir, const char *hash, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	struct store_token t;
	struct store *s;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    PERSIST_DB_NAME) >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((s = store_open(&store_sqlite_ops, path, NULL, err, errlen)) == NULL)
		return -1;
	memset(&t, 0, sizeof(t));
	t.id = "operator";
	t.hash = hash;
	t.uses_left = -1;               /* not an enrollment token */
	t.created_ms = bora_wall_ms();
	if (store_put_token(s, &t, NULL, err, errlen) != 0) {
		store_abandon(s);
		return -1;
	}
	return store_close(s, err, errlen);   /* commits */
}

/* The operator token: its hash into the store (id "operator"), the plain
 * token into DIR/operator.token, mode 0600. */
static int
init_operator_token(const char *dir)
{
	char path[PATH_MAX], err[512], line[PKI_TOKEN_LEN + 1];
	char token[PKI_TOKEN_LEN], hash[PKI_HASH_LEN];
	int rc = -1;

	if (pki_token_new(token) != 0)
		goto out;
	pki_token_hash(token, hash);
	if (init_store_operator_hash(dir, hash, err, sizeof(err)) != 0) {
		fprintf(stderr, "bora-coordinator init: store: %s\n", err);
		goto out;
	}
	if (init_path(path, sizeof(path), dir, "operator.token") != 0)
		goto out;
	snprintf(line, sizeof(line), "%s\n", token);
	if (bora_file_write(path, line, strlen(line), 0600) != 0) {
		fprintf(stderr, "bora-coordinator init: cannot write %s: %s\n",
		    path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

int
coord_init_main(int argc, char **argv)
{
	struct init_opts o;
	char ca_key_path[PATH_MAX], ca_path[PATH_MAX], key_path[PATH_MAX];
	char cert_path[PATH_MAX], err[512], fp[BORA_TLS_FP_LEN];
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL, *chain[2];
	int rc;

	if ((rc = init_parse(&o, argc, argv)) != -1)
		return rc;
	rc = 1;
	if (init_path(ca_key_path, sizeof(ca_key_path), o.dir, "ca.key") ||
	    init_path(ca_path, sizeof(ca_path), o.dir, "ca.crt") ||
	    init_path(key_path, sizeof(key_path), o.dir, "server.key") ||
	    init_path(cert_path, sizeof(cert_path), o.dir, "server.crt"))
		return 1;
	if (!o.force && (access(ca_key_path, F_OK) == 0 ||
	    access(ca_path, F_OK) == 0)) {
		fprintf(stderr, "bora-coordinator init: %s already holds a CA; "
		    "keeping it (--force replaces it, and every agent must "
		    "enroll again)\n", o.dir);
		return 1;
	}
	if (init_dir(o.dir) != 0)
		return 1;
	ca_key = pki_key_new();
	key = pki_key_new();
	if (ca_key == NULL || key == NULL) {
		fprintf(stderr, "bora-coordinator init: cannot make EC keys\n");
		goto out;
	}
	ca = pki_ca_new(ca_key, "Bora CA", PKI_CA_DAYS, err, sizeof(err));
	if (ca != NULL)
		cert = pki_server_new(ca, ca_key, key, o.dns, o.ndns, o.ips,
		    o.nips, PKI_CA_DAYS, err, sizeof(err));
	if (ca == NULL || cert == NULL) {
		fprintf(stderr, "bora-coordinator init: %s\n", err);
		goto out;
	}
	chain[0] = cert;
	chain[1] = ca;
	if (pki_write_key(ca_key_path, ca_key, err, sizeof(err)) != 0 ||
	    pki_write_certs(ca_path, &ca, 1, err, sizeof(err)) != 0 ||
	    pki_write_key(key_path, key, err, sizeof(err)) != 0 ||
	    pki_write_certs(cert_path, chain, 2, err, sizeof(err)) != 0) {
		fprintf(stderr, "bora-coordinator init: %s\n", err);
		goto out;
	}
	if (init_operator_token(o.dir) != 0)
		goto out;
	if (bora_tls_fingerprint(ca, fp) != 0) {
		fprintf(stderr, "bora-coordinator init: cannot hash the CA\n");
		goto out;
	}
	printf("initialized %s\n"
	    "  CA:             %s (key %s, mode 0600)\n"
	    "  server:         %s (key %s)\n"
	    "  operator token: %s/operator.token (mode 0600)\n"
	    "CA fingerprint (sha256): %s\n"
	    "run: bora-coordinator --state-dir %s --tls-cert %s --tls-key %s "
	    "--tls-ca %s\n", o.dir, ca_path, ca_key_path, cert_path, key_path,
	    o.dir, fp, o.dir, cert_path, key_path, ca_path);
	rc = 0;
out:
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}

/* ---- bora-coordinator operator-token rotate ---------------------------- */

#define ROTATE_TRIES     50        /* the store busy with the coordinator's */
#define ROTATE_PAUSE_MS  100       /* commit: tries, and the pause between */

static void
rotate_usage(FILE *out)
{
	fprintf(out, "usage: bora-coordinator operator-token rotate DIR "
	    "[--api-socket PATH]\n"
	    "  makes a new operator token for the coordinator whose state\n"
	    "  directory is DIR: its hash replaces the old one in DIR/bora.db,\n"
	    "  the token goes to DIR/operator.token (mode 0600), and the\n"
	    "  coordinator listening on the API socket (default DIR/api.sock)\n"
	    "  gets SIGHUP: from its next request on it takes the new token\n"
	    "  and refuses the old one.\n");
}

/* The pid of the process that listens on unix socket path when it is
 * ours (same user), or -1. */
static pid_t
rotate_listener_pid(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	pid_t pid = -1;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
	    cr.pid > 0 && cr.uid == geteuid())
		pid = cr.pid;
	close(fd);
	return pid;
}

/* Store hash in DIR's store, trying again while the running coordinator
 * holds the write lock. 0, or -1 with err. */
static int
rotate_store(const char *dir, const char *hash, char *err, size_t errlen)
{
	struct timespec pause = { 0, ROTATE_PAUSE_MS * 1000000L };
	int i;

	for (i = 0; i < ROTATE_TRIES; i++) {
		if (init_store_operator_hash(dir, hash, err, errlen) == 0)
			return 0;
		nanosleep(&pause, NULL);
	}
	return -1;
}

/* The token into DIR/operator.token.new (0600) before the store changes,
 * renamed over operator.token after: the plain token is never lost. */
static int
rotate_run(const char *dir, const char *sock)
{
	char db[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], err[512];
	char token[PKI_TOKEN_LEN], hash[PKI_HASH_LEN], line[PKI_TOKEN_LEN + 1];
	char sockbuf[PATH_MAX];
	pid_t pid;
	int rc = 1;

	if (init_path(db, sizeof(db), dir, PERSIST_DB_NAME) != 0 ||
	    init_path(path, sizeof(path), dir, "operator.token") != 0 ||
	    init_path(tmp, sizeof(tmp), dir, "operator.token.new") != 0 ||
	    init_path(sockbuf, sizeof(sockbuf), dir, "api.sock") != 0)
		return 1;
	if (access(db, F_OK) != 0) {
		fprintf(stderr, "bora-coordinator operator-token: %s has no "
		    "store (%s); is it a coordinator's state directory? "
		    "(bora-coordinator init DIR makes one)\n", dir, db);
		return 1;
	}
	if (pki_token_new(token) != 0) {
		fprintf(stderr, "bora-coordinator operator-token: cannot make a "
		    "token\n");
		return 1;
	}
	pki_token_hash(token, hash);
	snprintf(line, sizeof(line), "%s\n", token);
	if (bora_file_write(tmp, line, strlen(line), 0600) != 0) {
		fprintf(stderr, "bora-coordinator operator-token: cannot write "
		    "%s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (rotate_store(dir, hash, err, sizeof(err)) != 0) {
		fprintf(stderr, "bora-coordinator operator-token: store: %s; the "
		    "old token stays\n", err);
		unlink(tmp);
		goto out;
	}
	switch (bora_file_rename(tmp, path)) {
	case 0:
		break;
	case BORA_FILE_SYNC:
		/* In place; until the directory is on disk a crash may bring
		 * back operator.token.new, which holds the new token too. */
		fprintf(stderr, "bora-coordinator operator-token: warning: "
		    "cannot fsync %s (%s); after a crash the new token may be "
		    "in %s\n", dir, strerror(errno), tmp);
		break;
	default:
		fprintf(stderr, "bora-coordinator operator-token: the new token "
		    "is stored but cannot be renamed to %s (%s): it is in %s\n",
		    path, strerror(errno), tmp);
		goto out;
	}
	printf("new operator token in %s (mode 0600); the old one is no "
	    "longer valid\n", path);
	sock = sock ? sock : sockbuf;
	pid = rotate_listener_pid(sock);
	if (pid > 0 && kill(pid, SIGHUP) == 0)
		printf("coordinator pid %ld (api socket %s) told to reload it\n",
		    (long)pid, sock);
	else
		printf("no coordinator answers on %s: a coordinator reads the "
		    "token at start, or send it SIGHUP\n", sock);
	rc = 0;
out:
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

int
coord_operator_token_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = NULL;
	int c;

	if (argc < 2 || strcmp(argv[1], "rotate") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			rotate_usage(stdout);
			return 0;
		}
		rotate_usage(stderr);
		return 2;
	}
	argc--;
	argv++;                         /* argv[0] is "rotate" */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'h':
			rotate_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "bora-coordinator operator-token: %s needs "
			    "a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "bora-coordinator operator-token: unknown "
			    "option %s\n", argv[optind - 1]);
			rotate_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		rotate_usage(stderr);
		return 2;
	}
	return rotate_run(argv[optind], sock);
}
