/*
 * agent_server.c: the agent vhost of the coordinator's event loop
 * (coordinator_loop.c).
 *
 * The agent vhost takes WSS with a
 * client certificate that must chain to the configured CA: libwebsockets
 * 4.1 accepts any certificate unless the vhost's FIRST protocol answers
 * LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION, so the agent
 * protocol comes first and does. The agent's name is the CN of that
 * verified certificate (tls_identity.c); a revoked certificate's serial is
 * refused there too. A connection WITHOUT a client certificate is let in
 * for enrollment only (enroll.c): one enroll message, one answer. Every message goes through the
 * codec; a refused one is answered with an error message, counted and
 * logged, and never reaches the steps.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn_guard.h"
#include "enroll.h"
#include "log.h"
#include "log_gate.h"
#include "msg.h"
#include "registry.h"
#include "rxbuf.h"
#include "peer_addr.h"
#include "pki.h"
#include "agent_server.h"
#include "steps.h"
#include "tls_identity.h"

/* An agent that keeps sending refused messages is cut off. */
#define SERVER_MAX_BAD_MESSAGES 100

struct agent_session {
	struct lws *wsi;               /* set at ESTABLISHED */
	struct coord_agent *agent;     /* NULL until ESTABLISHED */
	struct enroll_conn *enroll;    /* instead, without a certificate */
	struct bora_rxbuf rx;
	time_t rx_window;              /* start of the rate window (2 s) */
	uint64_t rx_msgs, rx_bytes;    /* received in it */
	int rx_over;                   /* past the cap: closing */
};

#define SERVER_RX_WINDOW_S 2

static int agent_rate_check(struct lws *wsi, struct agent_session *pss,
    uint64_t msgs, uint64_t bytes);
static void server_count_records(struct lws *wsi, struct agent_session *pss,
    int on);

static const struct coord_config *server_cfg;
static uint64_t server_bad_messages;   /* refused messages, all agents */

/* A refused connection's line: a few per source address and window, then
 * counted (log_gate.h), so a flood of handshakes is not a flood of lines. */
static void server_log_refused(const char *addr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
server_log_refused(const char *addr, const char *fmt, ...)
{
	char host[64], why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_limited(BORA_LOG_WARN, "server", "refused_connection",
	    bora_addr_host(addr, host, sizeof(host)),
	    "refused connection addr=%s %s", addr, why);
}

/* A TLS handshake we end with a fatal alert (no client certificate, an
 * unknown CA, a plain-text client on the TLS port...) is a refusal. */
static void
server_tls_alert(struct lws *wsi, const struct lws_ssl_info *si)
{
	char addr[64];

	if (!(si->where & SSL_CB_WRITE_ALERT) ||
	    (si->ret >> 8) != SSL3_AL_FATAL)
		return;
	bora_wsi_peer_addr(wsi, addr, sizeof(addr));
	/* TLS 1.3's certificate_required (116) is newer than OpenSSL's
	 * alert names. */
	server_log_refused(addr, "reason=\"tls handshake failed: %s\"",
	    (si->ret & 0xff) == 116 ?
	    "no client certificate" : SSL_alert_desc_string_long(si->ret));
}

/* The peer's address and the subject of cert ("?" when NULL), quoted, for
 * the log line of a refused connection. */
static void
server_refused_who(SSL *ssl, X509 *cert, char *addr, size_t addrlen,
    char *subj, size_t subjlen)
{
	char subject[256] = "?";

	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), subject,
		    sizeof(subject));
	bora_ssl_peer_addr(ssl, addr, addrlen);
	bora_log_quote(subject, subj, subjlen);
}

/* OpenSSL's verdict on each certificate of the chain the agent sent. */
static int
server_verify_cert(X509_STORE_CTX *xctx, SSL *ssl, int preverify_ok)
{
	char addr[64], q[300];
	X509 *cert;
	int err;

	cert = X509_STORE_CTX_get_current_cert(xctx);
	if (preverify_ok) {
		char serial[PKI_SERIAL_LEN];

		if (X509_STORE_CTX_get_error_depth(xctx) != 0 || cert == NULL ||
		    pki_serial_hex(cert, serial, sizeof(serial)) != 0 ||
		    !enroll_serial_revoked(serial))
			return 0;
		X509_STORE_CTX_set_error(xctx, X509_V_ERR_CERT_REVOKED);
		server_refused_who(ssl, cert, addr, sizeof(addr), q, sizeof(q));
		server_log_refused(addr, "reason=\"certificate revoked\" "
		    "serial=%s subject=%s", serial, q);
		return 1;
	}
	err = X509_STORE_CTX_get_error(xctx);
	server_refused_who(ssl, cert, addr, sizeof(addr), q, sizeof(q));
	server_log_refused(addr, "reason=\"certificate verify failed: %s\" "
	    "depth=%d subject=%s", X509_verify_cert_error_string(err),
	    X509_STORE_CTX_get_error_depth(xctx), q);
	return 1;
}

static void
agent_refuse_message(struct coord_agent *a, const char *path, const char *text)
{
	struct bora_msg m = { .type = BORA_MSG_ERROR };
	char detail[512], q[600];

	a->bad_messages++;
	server_bad_messages++;
	if (path && *path)
		snprintf(detail, sizeof(detail), "%s: %s", path, text);
	else
		snprintf(detail, sizeof(detail), "%s", text);
	log_limited(BORA_LOG_WARN, "server", "bad_message", a->name,
	    "bad message agent=%s addr=%s error=%s count=%llu", a->name,
	    a->addr, bora_log_quote(detail, q, sizeof(q)),
	    (unsigned long long)a->bad_messages);
	m.u.error.code = "bad_message";
	m.u.error.detail = detail;
	if (agent_send(a, &m) == 0 &&
	    a->bad_messages > SERVER_MAX_BAD_MESSAGES) {
		log_warnx("server", "dropping agent agent=%s addr=%s "
		    "reason=\"too many bad messages\"", a->name, a->addr);
		lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

/*
 * The labels an agent is known by (a new reference). An enrolled agent's
 * are the ones it enrolled with: targets choose agents by label, so an
 * agent must not pick its own steps (and their secrets) by claiming a
 * label; different ones in its hello are ignored, and logged. An agent
 * with a certificate made outside the coordinator's enrollment is trusted
 * with the labels its hello says.
 */
static json_t *
agent_hello_labels(const struct coord_agent *a, const struct bora_hello *h)
{
	const json_t *enrolled = enroll_agent_labels(a->name);
	char q[200];
	char *said;

	if (enrolled == NULL)
		return h->labels ? json_incref(h->labels) : json_object();
	if (h->labels != NULL && json_object_size(h->labels) > 0 &&
	    !json_equal(h->labels, enrolled)) {
		said = json_dumps(h->labels, JSON_COMPACT | JSON_SORT_KEYS);
		log_warnx("server", "hello labels ignored agent=%s addr=%s "
		    "labels=%s reason=\"the labels it enrolled with apply\"",
		    a->name, a->addr, bora_log_quote(said ? said : "?", q,
		    sizeof(q)));
		free(said);
	}
	return json_deep_copy(enrolled);
}

static void
agent_on_hello(struct coord_agent *a, const struct bora_hello *h)
{
	struct bora_msg w = { .type = BORA_MSG_WELCOME };
	struct coord_agent *old;
	char detail[200];

	if (a->welcomed) {
		agent_refuse_message(a, "type", "hello was already received");
		return;
	}
	if (strcmp(h->name, a->name) != 0) {
		snprintf(detail, sizeof(detail), "hello name '%s' is not the "
		    "certificate's name '%s'", h->name, a->name);
		agent_refuse_message(a, "name", detail);
		return;
	}
	snprintf(a->version, sizeof(a->version), "%s", h->version);
	json_decref(a->labels);
	json_decref(a->facts);
	a->labels = agent_hello_labels(a, h);
	a->facts = h->facts ? json_incref(h->facts) : json_object();
	a->welcomed = 1;
	old = registry_add(a);
	if (old != NULL) {
		/* The newer connection wins: the old one is most likely a dead
		 * half-open socket that has not timed out yet. */
		log_warnx("server", "replacing connection agent=%s old_addr=%s "
		    "addr=%s", a->name, old->addr, a->addr);
		lws_set_timeout(old->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	}
	log_info("server", "agent connected agent=%s addr=%s version=%s "
	    "agents=%zu", a->name, a->addr, a->version, registry_count());
	w.u.welcome.name = a->name;
	w.u.welcome.version = BORA_VERSION;
	w.u.welcome.heartbeat_s = (uint32_t)server_cfg->heartbeat_s;
	w.u.welcome.max_message = (uint32_t)server_cfg->max_message_bytes;
	if (agent_send(a, &w) != 0)
		return;
	steps_on_agent_welcomed(a, h);
	registry_welcomed(a);          /* the engine: targets waiting for it */
}

/* One complete text message from an agent. */
static void
agent_on_message(struct coord_agent *a, const char *buf, size_t len)
{
	struct bora_limits lim = BORA_LIMITS_DEFAULT;
	struct bora_msg_err err;
	struct bora_msg m;
	char detail[256];
	int rc = 0;

	lim.max_bytes = (size_t)server_cfg->max_message_bytes;
	if (bora_msg_decode(buf ? buf : "", len, &lim, &m, &err) != 0) {
		agent_refuse_message(a, err.path, err.text);
		return;
	}
	if (!a->welcomed && m.type != BORA_MSG_HELLO) {
		agent_refuse_message(a, "type", "the first message must be hello");
		bora_msg_free(&m);
		return;
	}
	detail[0] = '\0';
	switch (m.type) {
	case BORA_MSG_HELLO:
		agent_on_hello(a, &m.u.hello);
		break;
	case BORA_MSG_ACCEPT:
		rc = steps_on_accept(a, &m.u.accept, detail, sizeof(detail));
		break;
	case BORA_MSG_OUTPUT:
		rc = steps_on_output(a, &m.u.output, detail, sizeof(detail));
		break;
	case BORA_MSG_RESULT:
		rc = steps_on_result(a, &m.u.result, detail, sizeof(detail));
		break;
	case BORA_MSG_ERROR:
		log_limited(BORA_LOG_WARN, "server", "agent_error", a->name,
		    "agent reports error agent=%s code=%s", a->name,
		    m.u.error.code);
		break;
	default:
		snprintf(detail, sizeof(detail), "%s is not a message an agent "
		    "sends", bora_msg_type_name(m.type));
		rc = -1;
		break;
	}
	if (rc != 0)
		agent_refuse_message(a, "step", detail);
	bora_msg_free(&m);
}

static void
agent_session_free(struct agent_session *pss)
{
	struct coord_agent *a = pss->agent;

	if (pss->wsi != NULL)
		server_count_records(pss->wsi, pss, 0);
	pss->wsi = NULL;
	bora_rxbuf_free(&pss->rx);
	enroll_conn_free(pss->enroll);
	pss->enroll = NULL;
	if (a == NULL)
		return;
	if (a->registered) {
		registry_remove(a);
		steps_on_agent_gone(a);
		log_info("server", "agent disconnected agent=%s addr=%s agents=%zu",
		    a->name, a->addr, registry_count());
	} else if (a->welcomed) {
		log_info("server", "replaced connection closed agent=%s addr=%s",
		    a->name, a->addr);
	}
	bora_sendq_clear(&a->q);
	json_decref(a->labels);
	json_decref(a->facts);
	free(a);
	pss->agent = NULL;
}

/*
 * Every TLS record the agent sends counts its bytes against the inbound
 * cap: websocket control frames too (pings, pongs), which libwebsockets
 * answers itself without a callback, so a ping flood is dropped like any
 * other flood.
 */
static void
server_tls_record(int write_p, int version, int content_type,
    const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct agent_session *pss = arg;
	const unsigned char *h = buf;

	(void)version;
	(void)ssl;
	if (write_p || content_type != SSL3_RT_HEADER || len < 5 ||
	    pss == NULL || pss->wsi == NULL || pss->rx_over)
		return;
	/* past the cap on bytes it is closed at once: what it sends in a
	 * second of grace could be many more megabytes to read */
	if (agent_rate_check(pss->wsi, pss, 0, (uint64_t)h[3] << 8 | h[4]) != 0)
		lws_set_timeout(pss->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

static void
server_count_records(struct lws *wsi, struct agent_session *pss, int on)
{
	SSL *ssl = lws_get_ssl(wsi);

	if (ssl == NULL)
		return;
	SSL_set_msg_callback(ssl, on ? server_tls_record : NULL);
	SSL_set_msg_callback_arg(ssl, on ? pss : NULL);
}

static int
agent_established(struct lws *wsi, struct agent_session *pss)
{
	struct coord_agent *a;
	char name[BORA_MAX_NAME + 1], err[256], addr[64];
	X509 *peer;

	pss->wsi = wsi;
	server_count_records(wsi, pss, 1);
	bora_wsi_peer_addr(wsi, addr, sizeof(addr));
	peer = lws_get_ssl(wsi) ? SSL_get0_peer_certificate(lws_get_ssl(wsi)) :
	    NULL;
	if (peer == NULL && lws_get_ssl(wsi) != NULL) {
		/* no certificate: enrollment only (enroll.c) */
		pss->enroll = enroll_conn_new(wsi, addr);
		if (pss->enroll == NULL)
			return -1;
		bora_rxbuf_init(&pss->rx, (size_t)server_cfg->max_message_bytes);
		return 0;
	}
	if (bora_tls_peer_name(lws_get_ssl(wsi), name, sizeof(name), err,
	    sizeof(err)) != 0) {
		server_log_refused(addr, "reason=\"%s\"", err);
		return -1;
	}
	conn_guard_authenticated(wsi);   /* a verified agent: not capped */
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -1;
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->wsi = wsi;
	a->connected_at = time(NULL);
	bora_sendq_init(&a->q, LWS_PRE, (size_t)server_cfg->max_queue_bytes);
	bora_rxbuf_init(&pss->rx, (size_t)server_cfg->max_message_bytes);
	pss->agent = a;
	log_debug("server", "tls session established agent=%s addr=%s",
	    name, addr);
	return 0;
}

static int
agent_writeable(struct lws *wsi, struct coord_agent *a)
{
	struct bora_sendq_item *it = bora_sendq_peek(&a->q);

	if (it == NULL)
		return 0;
	if (lws_write(wsi, it->buf + a->q.headroom, it->len, LWS_WRITE_TEXT) <
	    (int)it->len) {
		log_warnx("server", "write failed agent=%s", a->name);
		return -1;
	}
	bora_sendq_pop(&a->q);
	if (bora_sendq_peek(&a->q) != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

/*
 * The inbound rate cap: frames and bytes a connection sends per second,
 * counted over a window of SERVER_RX_WINDOW_S. Past it, an error message,
 * a log line, and the connection is closed (the caller returns -1). 0 when
 * under the cap.
 */
static int
agent_rate_check(struct lws *wsi, struct agent_session *pss, uint64_t msgs,
    uint64_t bytes)
{
	time_t now = time(NULL);
	uint64_t max_m = (uint64_t)server_cfg->max_rx_messages *
	    SERVER_RX_WINDOW_S;
	uint64_t max_b = (uint64_t)server_cfg->max_rx_bytes *
	    SERVER_RX_WINDOW_S;
	struct coord_agent *a = pss->agent;
	char addr[64];

	if (now - pss->rx_window >= SERVER_RX_WINDOW_S) {
		pss->rx_window = now;
		pss->rx_msgs = pss->rx_bytes = 0;
	}
	pss->rx_msgs += msgs;
	pss->rx_bytes += bytes;
	if ((max_m == 0 || pss->rx_msgs <= max_m) &&
	    (max_b == 0 || pss->rx_bytes <= max_b))
		return 0;
	pss->rx_over = 1;
	server_bad_messages++;
	bora_rxbuf_free(&pss->rx);
	if (a != NULL) {
		struct bora_msg m = { .type = BORA_MSG_ERROR };

		m.u.error.code = "rate_limited";
		m.u.error.detail = "too many messages or bytes per second; "
		    "the connection is closed";
		(void)agent_send(a, &m);
	}
	bora_wsi_peer_addr(wsi, addr, sizeof(addr));
	log_warnx("server", "dropping agent agent=%s addr=%s reason=\"inbound "
	    "rate over the cap\" messages=%llu bytes=%llu window_s=%d "
	    "max_messages_per_s=%ld max_bytes_per_s=%ld", a ? a->name :
	    "(enrolling)", addr, (unsigned long long)pss->rx_msgs,
	    (unsigned long long)pss->rx_bytes, SERVER_RX_WINDOW_S,
	    server_cfg->max_rx_messages, server_cfg->max_rx_bytes);
	return -1;
}

static int
agent_receive(struct lws *wsi, struct agent_session *pss, void *in, size_t len)
{
	struct coord_agent *a = pss->agent;
	char text[128];

	if (a == NULL && pss->enroll == NULL)
		return -1;
	if (pss->rx_over)
		return 0;               /* closing: what it sends is dropped */
	/* bytes are counted as TLS records arrive (server_tls_record) */
	if (agent_rate_check(wsi, pss, lws_is_first_fragment(wsi) ? 1 : 0,
	    0) != 0) {
		if (a == NULL)
			return -1;
		/* the error message goes out, then the connection closes */
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 1);
		return 0;
	}
	switch (bora_rxbuf_add(&pss->rx, in, len, lws_is_first_fragment(wsi),
	    lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))) {
	case BORA_RX_MORE:
		return 0;
	case BORA_RX_NOMEM:
		return -1;
	case BORA_RX_OVERSIZE:
		snprintf(text, sizeof(text), "message is %zu bytes; the limit "
		    "is %ld", pss->rx.total, server_cfg->max_message_bytes);
		if (a == NULL) {
			char addr[64];

			bora_wsi_peer_addr(wsi, addr, sizeof(addr));
			server_log_refused(addr, "reason=\"enrollment %s\"",
			    text);
			return -1;
		}
		agent_refuse_message(a, "", text);
		return 0;
	case BORA_RX_READY:
		break;
	}
	if (a == NULL) {
		enroll_conn_message(pss->enroll, pss->rx.buf, pss->rx.len,
		    lws_frame_is_binary(wsi),
		    (size_t)server_cfg->max_message_bytes);
		return 0;
	}
	if (lws_frame_is_binary(wsi)) {
		agent_refuse_message(a, "", "binary frames are not part of "
		    "bora.v1; send JSON text");
		return 0;
	}
	agent_on_message(a, pss->rx.buf, pss->rx.len);
	return 0;
}

static int
agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct agent_session *pss = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
		/* accepted, before TLS: the caps on unauthenticated ones */
		const struct lws_filter_network_conn_args *f = user;

		return conn_guard_admit((int)(intptr_t)in,
		    (const struct sockaddr *)&f->cli_addr, f->clilen) ? 0 : 1;
	}
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		conn_guard_bind(wsi, (int)lws_get_socket_fd(wsi));
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		conn_guard_release(wsi);
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		return server_verify_cert(user, in, (int)len);
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* Idle TLS sessions give their read/write buffers back. */
		SSL_CTX_set_mode((SSL_CTX *)user, SSL_MODE_RELEASE_BUFFERS);
		return 0;
	case LWS_CALLBACK_SSL_INFO:
		server_tls_alert(wsi, in);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		return agent_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return agent_receive(wsi, pss, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss->enroll != NULL)
			return enroll_conn_writeable(pss->enroll);
		return pss->agent ? agent_writeable(wsi, pss->agent) : -1;
	case LWS_CALLBACK_CLOSED:
		agent_session_free(pss);
		return 0;
	case LWS_CALLBACK_HTTP: {
		/* Only websocket upgrades belong here. */
		char addr[64];

		bora_wsi_peer_addr(wsi, addr, sizeof(addr));
		server_log_refused(addr, "%s", "reason=\"plain HTTP request "
		    "on the agent port\"");
		lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST,
		    "bora agent port: websocket subprotocol bora.v1 only");
		return -1;
	}
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols agent_protocols[] = {
	{
		.name = BORA_SUBPROTOCOL,
		.callback = agent_callback,
		.per_session_data_size = sizeof(struct agent_session),
		/* lws keeps a buffer this size per connection; larger messages
		 * arrive in pieces that rxbuf.c joins. Small keeps an idle agent
		 * cheap. */
		.rx_buffer_size = 4096,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* enroll.h's view of the connected agents (enrollment sits below us). */
static int
server_agent_connected(const char *name)
{
	return registry_find(name) != NULL;
}

static int
server_agent_hang_up(const char *name)
{
	struct coord_agent *a = registry_find(name);

	if (a == NULL)
		return 0;
	lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	return 1;
}

static const struct enroll_live_agents server_live_agents = {
	server_agent_connected, server_agent_hang_up
};

int
agent_server_listen(struct lws_context *ctx, const struct coord_config *cfg)
{
	static lws_retry_bo_t idle;               /* lws keeps the pointer */
	struct lws_context_creation_info info;

	server_cfg = cfg;
	/* WSS; a client certificate, when sent, must chain to tls.ca (and not
	 * be revoked); without one, enrollment only. */
	memset(&info, 0, sizeof(info));
	info.vhost_name = "agents";
	info.port = (int)cfg->port;
	info.iface = cfg->listen;
	info.protocols = agent_protocols;
	info.ssl_cert_filepath = cfg->tls_cert;
	info.ssl_private_key_filepath = cfg->tls_key;
	info.ssl_ca_filepath = cfg->tls_ca;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
	    LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
	    LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
	/* Ping an agent that has been silent for a heartbeat; hang up after
	 * three without an answer. */
	idle.secs_since_valid_ping = (uint16_t)cfg->heartbeat_s;
	idle.secs_since_valid_hangup = (uint16_t)(cfg->heartbeat_s * 3);
	info.retry_and_idle_policy = &idle;
	info.ssl_info_event_mask = SSL_CB_ALERT;
	if (lws_create_vhost(ctx, &info) == NULL) {
		log_errorx("server", "cannot listen for agents addr=%s port=%ld "
		    "(check tls.cert, tls.key, tls.ca and that the port is free)",
		    cfg->listen, cfg->port);
		return -1;
	}
	enroll_set_live_agents(&server_live_agents);
	return 0;
}

uint64_t
agent_server_bad_messages(void)
{
	return server_bad_messages;
}

void
agent_server_shutdown(void)
{
	enroll_set_live_agents(NULL);
	steps_shutdown();
	conn_guard_shutdown();
}
