/* enroll.c: enrollment connections and revocation (enroll.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "clock.h"
#include "coordinator_config.h"
#include "enroll.h"
#include "log.h"
#include "log_gate.h"
#include "msg.h"
#include "peer_addr.h"
#include "persist.h"
#include "pki.h"
#include "ratelimit.h"
#include "store.h"
#include "tls_identity.h"
#include "tokens.h"

#define ENROLL_IDLE_S       30      /* an enrollment connection's life */

struct enroll_conn {
	struct lws *wsi;
	char addr[64];             /* ip:port */
	char ip[64];               /* the rate limit's key */
	unsigned char *out;        /* LWS_PRE + the answer */
	size_t out_len;
	uint64_t wait_seq;         /* durable before the answer goes */
	int answered;
	int waiting;               /* on enroll_waiting */
	struct enroll_conn *next;
};

static struct {
	struct store *store;
	X509 *ca;                  /* NULL: enrollment disabled */
	EVP_PKEY *ca_key;
	char *ca_pem;
	json_t *agents;            /* name -> {serial, fingerprint, labels,
	                              enrolled_ms, revoked_ms} */
	json_t *revoked;           /* serial -> revoked_ms */
	struct enroll_conn *waiting;
	struct ratelimit rl;       /* refused tokens per source address */
} en;

/* The agents connected now, as the agent server tells (enroll.h). */
static const struct enroll_live_agents *enroll_live;

void
enroll_set_live_agents(const struct enroll_live_agents *live)
{
	enroll_live = live;
}

/* ---- start -------------------------------------------------------------- */

static int
enroll_load_agent(void *user, const struct store_agent *a)
{
	json_t *labels = a->labels ? json_loads(a->labels, 0, NULL) : NULL;
	json_t *o;

	(void)user;
	o = json_pack("{s:s?, s:s?, s:o, s:I, s:I}", "serial", a->cert_serial,
	    "fingerprint", a->cert_fingerprint,
	    "labels", labels ? labels : json_object(),
	    "enrolled_ms", (json_int_t)a->enrolled_ms,
	    "revoked_ms", (json_int_t)a->revoked_ms);
	return o && json_object_set_new(en.agents, a->name, o) == 0 ? 0 : -1;
}

static int
enroll_load_revocation(void *user, const struct store_revocation *r)
{
	(void)user;
	return json_object_set_new(en.revoked, r->serial,
	    json_integer(r->revoked_ms));
}

/* The whole file at path (at most max bytes) as a string, or NULL. */
static char *
enroll_read_text(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (buf == NULL || n == 0 || n > max) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void
enroll_load_ca(const struct coord_config *cfg)
{
	char path[PATH_MAX], err[256];

	snprintf(path, sizeof(path), "%s/ca.key", cfg->state_dir);
	if (access(path, F_OK) != 0) {
		log_info("enroll", "enrollment disabled: no CA key path=%s "
		    "(bora-coordinator init makes one)", path);
		return;
	}
	en.ca_key = pki_read_key(path, err, sizeof(err));
	en.ca = en.ca_key ? pki_read_cert(cfg->tls_ca, err, sizeof(err)) : NULL;
	en.ca_pem = en.ca ? enroll_read_text(cfg->tls_ca, BORA_MAX_CERT_PEM) :
	    NULL;
	if (en.ca == NULL || en.ca_pem == NULL ||
	    X509_check_private_key(en.ca, en.ca_key) != 1) {
		log_errorx("enroll", "enrollment disabled: %s path=%s ca=%s",
		    en.ca_key == NULL || en.ca == NULL ? err :
		    "the CA key does not match tls.ca", path, cfg->tls_ca);
		X509_free(en.ca);
		EVP_PKEY_free(en.ca_key);
		free(en.ca_pem);
		en.ca = NULL;
		en.ca_key = NULL;
		en.ca_pem = NULL;
		return;
	}
	log_info("enroll", "enrollment enabled ca=%s", cfg->tls_ca);
}

int
enroll_init(const struct coord_config *cfg, struct store *s, char *err,
    size_t errlen)
{
	en.store = s;
	ratelimit_init(&en.rl, ENROLL_RL_FAILS, ENROLL_RL_WINDOW_S,
	    ENROLL_RL_BLOCK_S);
	en.agents = json_object();
	en.revoked = json_object();
	if (en.agents == NULL || en.revoked == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (store_load_agents(s, enroll_load_agent, NULL, err, errlen) != 0 ||
	    store_load_revocations(s, enroll_load_revocation, NULL, err,
	    errlen) != 0 || tokens_load(s, err, errlen) != 0)
		return -1;
	enroll_load_ca(cfg);
	log_info("enroll", "loaded enrolled_agents=%zu revoked=%zu",
	    json_object_size(en.agents), json_object_size(en.revoked));
	return 0;
}

void
enroll_shutdown(void)
{
	tokens_shutdown();
	X509_free(en.ca);
	EVP_PKEY_free(en.ca_key);
	free(en.ca_pem);
	json_decref(en.agents);
	json_decref(en.revoked);
	memset(&en, 0, sizeof(en));
}

int
enroll_serial_revoked(const char *serial)
{
	return en.revoked != NULL && json_object_get(en.revoked, serial) != NULL;
}

const json_t *
enroll_agent_labels(const char *name)
{
	json_t *a = en.agents ? json_object_get(en.agents, name) : NULL;

	return a ? json_object_get(a, "labels") : NULL;
}

/* ---- the rate limit (ratelimit.c) ------------------------------------ */

static int
enroll_rl_blocked(const char *ip)
{
	return ratelimit_blocked(&en.rl, ip, bora_wall_ms()) > 0;
}

static void
enroll_rl_fail(const char *ip)
{
	if (ratelimit_fail(&en.rl, ip, bora_wall_ms()))
		log_warnx("enroll", "rate limiting enrollment addr=%s failures=%d "
		    "window_s=%d blocked_s=%d", ip, ENROLL_RL_FAILS,
		    ENROLL_RL_WINDOW_S, ENROLL_RL_BLOCK_S);
}

/* ---- answers ------------------------------------------------------------ */

static void
enroll_unwait(struct enroll_conn *c)
{
	struct enroll_conn **pp;

	for (pp = &en.waiting; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->waiting = 0;
	c->next = NULL;
}

/* Queue m as the answer, sent once write seq is durable. */
static void
enroll_answer(struct enroll_conn *c, const struct bora_msg *m, uint64_t seq)
{
	size_t len;
	char *text = bora_msg_encode(m, &len);

	c->answered = 1;
	if (text == NULL) {
		log_errorx("enroll", "cannot encode the answer addr=%s", c->addr);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	c->out = malloc(LWS_PRE + len);
	if (c->out == NULL) {
		free(text);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	memcpy(c->out + LWS_PRE, text, len);
	c->out_len = len;
	OPENSSL_cleanse(text, len);
	free(text);
	c->wait_seq = seq;
	if (seq <= persist_durable()) {
		lws_callback_on_writable(c->wsi);
		return;
	}
	c->waiting = 1;
	c->next = en.waiting;
	en.waiting = c;
}

static void
enroll_refuse(struct enroll_conn *c, const char *code, const char *detail)
{
	struct bora_msg m = { .type = BORA_MSG_ERROR };
	char q[600], host[64];

	log_limited(BORA_LOG_WARN, "enroll", "enrollment_refused",
	    bora_addr_host(c->addr, host, sizeof(host)), "enrollment refused "
	    "addr=%s code=%s reason=%s", c->addr, code,
	    bora_log_quote(detail, q, sizeof(q)));
	m.u.error.code = code;
	m.u.error.detail = detail;
	enroll_answer(c, &m, 0);
}

void
enroll_release(uint64_t durable, void *user)
{
	struct enroll_conn **pp = &en.waiting, *c;

	(void)user;
	while ((c = *pp) != NULL) {
		if (c->wait_seq <= durable) {
			*pp = c->next;
			c->waiting = 0;
			c->next = NULL;
			lws_callback_on_writable(c->wsi);
		} else
			pp = &c->next;
	}
}

int
enroll_conn_writeable(struct enroll_conn *c)
{
	static const char bye[] = "enrollment done";

	if (c->out == NULL || c->waiting || c->wait_seq > persist_durable())
		return 0;
	if (lws_write(c->wsi, c->out + LWS_PRE, c->out_len, LWS_WRITE_TEXT) <
	    (int)c->out_len)
		return -1;
	OPENSSL_cleanse(c->out, LWS_PRE + c->out_len);
	free(c->out);
	c->out = NULL;
	lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL,
	    (unsigned char *)(uintptr_t)bye, sizeof(bye) - 1);
	return -1;
}

/* ---- enrolling ---------------------------------------------------------- */

static int
enroll_name_taken(const char *name)
{
	json_t *a = json_object_get(en.agents, name);

	if (a != NULL && json_integer_value(json_object_get(a,
	    "revoked_ms")) == 0)
		return 1;
	return enroll_live != NULL && enroll_live->connected(name);
}

/* Store and remember agent name's new certificate; *seq of the write. */
static int
enroll_record(const char *name, json_t *labels, const char *serial,
    const char *fp, uint64_t *seq, char *err, size_t errlen)
{
	struct store_agent sa;
	char *ltext = json_dumps(labels, JSON_COMPACT);
	json_t *o;
	int rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.name = name;
	sa.labels = ltext;
	sa.enrolled_ms = bora_wall_ms();
	sa.cert_serial = serial;
	sa.cert_fingerprint = fp;
	o = json_pack("{s:s, s:s, s:O, s:I, s:I}", "serial", serial,
	    "fingerprint", fp, "labels", labels,
	    "enrolled_ms", (json_int_t)sa.enrolled_ms, "revoked_ms",
	    (json_int_t)0);
	if (ltext == NULL || o == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (store_put_agent(en.store, &sa, seq, err, errlen) != 0)
		goto out;
	json_object_set(en.agents, name, o);
	rc = 0;
out:
	json_decref(o);
	free(ltext);
	return rc;
}

static void
enroll_do(struct enroll_conn *c, const struct bora_enroll *rq)
{
	struct bora_msg m = { .type = BORA_MSG_ENROLLED };
	struct tokens_entry te;
	char why[256], serial[PKI_SERIAL_LEN], fp[BORA_TLS_FP_LEN];
	const char *name;
	json_t *labels;
	X509 *cert = NULL;
	char *pem = NULL;
	uint64_t seq = 0;

	if (en.ca == NULL) {
		enroll_refuse(c, "enrollment_disabled", "this coordinator has no "
		    "CA key; run bora-coordinator init");
		return;
	}
	if (enroll_rl_blocked(c->ip)) {
		snprintf(why, sizeof(why), "too many refused tokens from %s; try "
		    "again in %d s", c->ip, ENROLL_RL_BLOCK_S);
		enroll_refuse(c, "rate_limited", why);
		return;
	}
	if (tokens_check(rq->token, &te, why, sizeof(why)) != 0) {
		enroll_rl_fail(c->ip);
		enroll_refuse(c, "bad_token", why);
		return;
	}
	name = te.name ? te.name : rq->name;
	if (name == NULL) {
		enroll_refuse(c, "name_required", "the token binds no name: send "
		    "one (a valid agent name)");
		return;
	}
	if (enroll_name_taken(name)) {
		snprintf(why, sizeof(why), "an agent named %s is already "
		    "enrolled", name);
		enroll_refuse(c, "name_taken", why);
		return;
	}
	labels = te.labels ? te.labels : rq->labels;
	cert = pki_sign_csr(en.ca, en.ca_key, rq->csr, strlen(rq->csr), name,
	    PKI_AGENT_DAYS, why, sizeof(why));
	if (cert == NULL) {
		enroll_refuse(c, "bad_csr", why);
		return;
	}
	pem = pki_cert_pem(cert);
	if (pem == NULL || pki_serial_hex(cert, serial, sizeof(serial)) != 0 ||
	    bora_tls_fingerprint(cert, fp) != 0) {
		enroll_refuse(c, "internal", "cannot encode the certificate");
		goto out;
	}
	labels = labels ? json_incref(labels) : json_object();
	if (tokens_consume(rq->token, NULL, why, sizeof(why)) != 0 ||
	    enroll_record(name, labels, serial, fp, &seq, why,
	    sizeof(why)) != 0) {
		json_decref(labels);
		log_errorx("enroll", "cannot store the enrollment agent=%s "
		    "reason=\"%s\"", name, why);
		enroll_refuse(c, "internal", "the coordinator cannot store the "
		    "enrollment");
		goto out;
	}
	log_info("enroll", "agent enrolled agent=%s addr=%s token_id=%s "
	    "serial=%s fingerprint=%s", name, c->addr, te.id, serial, fp);
	m.u.enrolled.certificate = pem;
	m.u.enrolled.ca = en.ca_pem;
	m.u.enrolled.name = name;
	m.u.enrolled.labels = labels;
	enroll_answer(c, &m, seq);
	json_decref(labels);
out:
	free(pem);
	X509_free(cert);
}

/* ---- the connection ----------------------------------------------------- */

struct enroll_conn *
enroll_conn_new(struct lws *wsi, const char *addr)
{
	struct enroll_conn *c = calloc(1, sizeof(*c));
	const char *colon;

	if (c == NULL)
		return NULL;
	c->wsi = wsi;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	colon = strrchr(addr, ':');
	snprintf(c->ip, sizeof(c->ip), "%.*s", colon ? (int)(colon - addr) :
	    (int)strlen(addr), addr);
	/* one message, one answer: no reason to stay long */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, ENROLL_IDLE_S);
	log_debug("enroll", "connection without certificate addr=%s", addr);
	return c;
}

void
enroll_conn_message(struct enroll_conn *c, const char *buf, size_t len,
    int is_binary, size_t max_bytes)
{
	struct bora_limits lim = BORA_LIMITS_DEFAULT;
	struct bora_msg_err err;
	struct bora_msg m;
	char detail[512];

	if (c->answered)
		return;                 /* one message per connection */
	lim.max_bytes = max_bytes;
	if (is_binary) {
		enroll_refuse(c, "bad_message", "binary frames are not part of "
		    "bora.v1; send JSON text");
		return;
	}
	if (bora_msg_decode(buf ? buf : "", len, &lim, &m, &err) != 0) {
		snprintf(detail, sizeof(detail), "%s%s%s", err.path,
		    err.path[0] ? ": " : "", err.text);
		enroll_refuse(c, "bad_message", detail);
		return;
	}
	if (m.type != BORA_MSG_ENROLL) {
		snprintf(detail, sizeof(detail), "a connection without a client "
		    "certificate may only send enroll, not %s",
		    bora_msg_type_name(m.type));
		enroll_refuse(c, "enroll_only", detail);
	} else
		enroll_do(c, &m.u.enroll);
	bora_msg_free(&m);
}

void
enroll_conn_free(struct enroll_conn *c)
{
	if (c == NULL)
		return;
	if (c->waiting)
		enroll_unwait(c);
	if (c->out != NULL)
		OPENSSL_cleanse(c->out, LWS_PRE + c->out_len);
	free(c->out);
	free(c);
}

/* ---- revocation --------------------------------------------------------- */

int
enroll_revoke(const char *name, json_t **out, char *err, size_t errlen)
{
	struct store_revocation r;
	struct store_agent sa;
	int live;
	json_t *a = en.agents ? json_object_get(en.agents, name) : NULL;
	const char *serial;
	char *ltext = NULL;
	int64_t now = bora_wall_ms();
	int rc = -2;

	*out = NULL;
	serial = json_string_value(json_object_get(a, "serial"));
	if (a == NULL || serial == NULL)
		return -1;
	if (json_integer_value(json_object_get(a, "revoked_ms")) != 0)
		now = json_integer_value(json_object_get(a, "revoked_ms"));
	ltext = json_dumps(json_object_get(a, "labels"), JSON_COMPACT);
	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.revoked_ms = now;
	memset(&sa, 0, sizeof(sa));
	sa.name = name;
	sa.labels = ltext ? ltext : "{}";
	sa.enrolled_ms = json_integer_value(json_object_get(a, "enrolled_ms"));
	sa.cert_serial = serial;
	sa.cert_fingerprint = json_string_value(json_object_get(a,
	    "fingerprint"));
	sa.revoked_ms = now;
	if (store_put_revocation(en.store, &r, NULL, err, errlen) != 0 ||
	    store_put_agent(en.store, &sa, NULL, err, errlen) != 0)
		goto out;
	json_object_set_new(en.revoked, serial, json_integer(now));
	json_object_set_new(a, "revoked_ms", json_integer(now));
	live = enroll_live != NULL && enroll_live->hang_up(name);
	log_warnx("enroll", "agent revoked agent=%s serial=%s disconnected=%s",
	    name, serial, live ? "yes" : "no");
	*out = json_pack("{s:s, s:s, s:I, s:b}", "name", name, "serial", serial,
	    "revoked_ms", (json_int_t)now, "disconnected", live);
	rc = *out ? 0 : -2;
	if (rc != 0)
		snprintf(err, errlen, "out of memory");
out:
	free(ltext);
	return rc;
}

json_t *
enroll_agents_json(void)
{
	json_t *arr = json_array(), *a, *o;
	const char *name;

	if (arr == NULL || en.agents == NULL)
		return arr;
	json_object_foreach(en.agents, name, a) {
		o = json_deep_copy(a);
		if (o == NULL || json_object_set_new(o, "name",
		    json_string(name)) || json_array_append_new(arr, o)) {
			json_decref(o);
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
