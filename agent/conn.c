/*
 * conn.c: the agent's connection to its coordinator.
 *
 * Reconnects forever: each failed attempt doubles the delay from
 * reconnect.min_ms up to reconnect.max_ms, with "equal jitter" (half the
 * delay fixed, half random) so that agents of a restarted coordinator do not
 * all come back at once; a connection that got a welcome resets it.
 * libwebsockets 4.1 can close a failed client connection without
 * CONNECTION_ERROR or CLOSED, so WSI_DESTROY schedules the retry as well;
 * conn_schedule_retry() is idempotent, so however many of the three
 * arrive, exactly one retry is pending.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "log.h"
#include "rxbuf.h"
#include "sendq.h"
#include "agent_steps.h"
#include "tls_identity.h"

#define CONN_QUEUE_CAP (4 * 1024 * 1024)  /* bytes waiting for the socket */

static struct {
	struct lws_context *ctx;
	const struct agent_config *cfg;
	struct lws *wsi;               /* the live or pending connection */
	lws_sorted_usec_list_t retry_sul;
	int retry_pending;
	unsigned attempt;              /* failed attempts since the last welcome */
	int up;                        /* welcomed */
	int want_space;                /* a sender was refused: tell steps */
	int stopping;
	struct bora_sendq q;
	struct bora_rxbuf rx;
	char name[BORA_MAX_NAME + 1];  /* our certificate's CN */
	char url_host[256];
	char url_path[512];
	int url_port;
	lws_retry_bo_t idle_policy;    /* websocket ping when idle */
} conn;

static void conn_connect(lws_sorted_usec_list_t *sul);

static unsigned
conn_backoff_ms(void)
{
	unsigned long delay = (unsigned long)conn.cfg->reconnect_min_ms;
	uint32_t r = 0;
	unsigned i;

	for (i = 0; i < conn.attempt && delay < (unsigned long)
	    conn.cfg->reconnect_max_ms; i++)
		delay *= 2;
	if (delay > (unsigned long)conn.cfg->reconnect_max_ms)
		delay = (unsigned long)conn.cfg->reconnect_max_ms;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)getpid();
	return (unsigned)(delay / 2 + r % (delay / 2 + 1));
}

static void
conn_schedule_retry(const char *why)
{
	unsigned ms;

	if (conn.stopping || conn.retry_pending)
		return;
	ms = conn_backoff_ms();
	conn.attempt++;
	conn.retry_pending = 1;
	log_info("conn", "reconnecting in %u ms attempt=%u reason=\"%s\"", ms,
	    conn.attempt, why);
	lws_sul_schedule(conn.ctx, 0, &conn.retry_sul, conn_connect,
	    (lws_usec_t)ms * LWS_US_PER_MS);
}

/* The session ended one way or another: forget it, try again later. */
static void
conn_lost(const char *why)
{
	if (conn.up)
		log_warnx("conn", "disconnected from coordinator url=%s reason="
		    "\"%s\"", conn.cfg->url, why);
	conn.up = 0;
	conn.wsi = NULL;
	bora_sendq_clear(&conn.q);
	/* Paused pipes resume: while disconnected their output is counted and
	 * dropped instead of blocking the step on a full pipe. */
	if (conn.want_space && !conn.stopping) {
		conn.want_space = 0;
		steps_on_send_space();
	}
	conn_schedule_retry(why);
}

static int
conn_queue(const struct bora_msg *m)
{
	char *text;
	size_t len;
	int rc;

	if (conn.wsi == NULL)
		return -1;
	text = bora_msg_encode(m, &len);
	if (text == NULL) {
		log_warnx("conn", "cannot encode %s message",
		    bora_msg_type_name(m->type));
		return -1;
	}
	rc = bora_sendq_push(&conn.q, text, len);
	free(text);
	if (rc != 0) {
		conn.want_space = 1;
		return -1;
	}
	lws_callback_on_writable(conn.wsi);
	return 0;
}

int
conn_send(const struct bora_msg *m)
{
	if (!conn.up)
		return -1;
	return conn_queue(m);
}

int
conn_can_queue(size_t bytes)
{
	if (conn.up && conn.q.bytes + bytes <= conn.q.cap)
		return 1;
	conn.want_space = 1;
	return 0;
}

int
conn_is_up(void)
{
	return conn.up;
}

static json_t *
conn_facts(void)
{
	struct utsname u;
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	if (uname(&u) != 0)
		return json_pack("{s:s}", "hostname", host);
	return json_pack("{s:s, s:s, s:s, s:s}", "hostname", host,
	    "os", u.sysname, "kernel", u.release, "arch", u.machine);
}

static void
conn_send_hello(void)
{
	struct bora_msg m = { .type = BORA_MSG_HELLO };

	m.u.hello.name = conn.name;
	m.u.hello.version = BORA_VERSION;
	m.u.hello.labels = conn.cfg->labels;
	m.u.hello.facts = conn_facts();
	m.u.hello.running = steps_running_json();
	m.u.hello.results = steps_unacked_json();
	if (conn_queue(&m) != 0)
		log_warnx("conn", "cannot queue hello");
	json_decref(m.u.hello.facts);
	json_decref(m.u.hello.running);
	json_decref(m.u.hello.results);
}

static void
conn_on_message(const char *buf, size_t len)
{
	struct bora_limits lim = BORA_LIMITS_DEFAULT;
	struct bora_msg_err err;
	struct bora_msg m;

	if (bora_msg_decode(buf ? buf : "", len, &lim, &m, &err) != 0) {
		/* The coordinator is trusted but may be newer than us: say so
		 * in the log and go on. */
		log_warnx("conn", "bad message from coordinator path=%s "
		    "error=\"%s\"", err.path[0] ? err.path : "-", err.text);
		return;
	}
	switch (m.type) {
	case BORA_MSG_WELCOME:
		conn.up = 1;
		conn.attempt = 0;
		log_info("conn", "connected to coordinator url=%s agent=%s "
		    "coordinator_version=%s", conn.cfg->url, m.u.welcome.name,
		    m.u.welcome.version);
		steps_on_connected();
		break;
	case BORA_MSG_RUN:
		steps_on_run(&m.u.run);
		break;
	case BORA_MSG_CANCEL:
		steps_on_cancel(&m.u.cancel);
		break;
	case BORA_MSG_ACK:
		steps_on_ack(m.u.ack.step);
		break;
	case BORA_MSG_ERROR:
		log_warnx("conn", "coordinator refused a message code=%s "
		    "detail=\"%s\"", m.u.error.code, m.u.error.detail);
		break;
	default:
		log_warnx("conn", "unexpected %s message from coordinator",
		    bora_msg_type_name(m.type));
		break;
	}
	bora_msg_free(&m);
}

static int
conn_writeable(struct lws *wsi)
{
	struct bora_sendq_item *it = bora_sendq_peek(&conn.q);

	if (it == NULL)
		return 0;
	if (lws_write(wsi, it->buf + conn.q.headroom, it->len, LWS_WRITE_TEXT) <
	    (int)it->len)
		return -1;
	bora_sendq_pop(&conn.q);
	if (bora_sendq_peek(&conn.q) != NULL)
		lws_callback_on_writable(wsi);
	if (conn.want_space && conn.q.bytes <= conn.q.cap / 2) {
		conn.want_space = 0;
		steps_on_send_space();
	}
	return 0;
}

/* Check the coordinator's certificate names the host we dialled: an IP
 * literal against its IP SANs, a DNS name against its DNS SANs/CN. */
static int
conn_verify_server(X509_STORE_CTX *xctx, int preverify_ok)
{
	unsigned char ip[16];
	X509 *cert;
	int ok;

	if (!preverify_ok) {
		log_warnx("conn", "coordinator certificate refused url=%s "
		    "reason=\"%s\"", conn.cfg->url, X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(xctx)));
		return 1;
	}
	if (X509_STORE_CTX_get_error_depth(xctx) != 0)
		return 0;
	cert = X509_STORE_CTX_get_current_cert(xctx);
	if (inet_pton(AF_INET, conn.url_host, ip) == 1 ||
	    inet_pton(AF_INET6, conn.url_host, ip) == 1)
		ok = X509_check_ip_asc(cert, conn.url_host, 0) == 1;
	else
		ok = X509_check_host(cert, conn.url_host, 0, 0, NULL) == 1;
	if (!ok) {
		log_warnx("conn", "coordinator certificate refused url=%s "
		    "reason=\"certificate is not for %s\"", conn.cfg->url,
		    conn.url_host);
		return 1;
	}
	return 0;
}

static int
conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	char why[256];

	/* lws may hand this first protocol events of other connections (the
	 * step pipes' WSI_DESTROY): only the one we tagged at connect is ours. */
	if (wsi != NULL && lws_get_opaque_user_data(wsi) != &conn &&
	    reason != LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION)
		return 0;

	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		return conn_verify_server(user, (int)len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		log_debug("conn", "websocket open, sending hello url=%s",
		    conn.cfg->url);
		bora_rxbuf_init(&conn.rx, BORA_MAX_MESSAGE_BYTES);
		conn_send_hello();
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		switch (bora_rxbuf_add(&conn.rx, in, len,
		    lws_is_first_fragment(wsi), lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi))) {
		case BORA_RX_READY:
			conn_on_message(conn.rx.buf, conn.rx.len);
			break;
		case BORA_RX_OVERSIZE:
			log_warnx("conn", "message from coordinator too large "
			    "bytes=%zu", conn.rx.total);
			break;
		case BORA_RX_NOMEM:
			return -1;
		case BORA_RX_MORE:
			break;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return conn_writeable(wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(why, sizeof(why), "%.*s", in ? (int)len : 0,
		    in ? (const char *)in : "");
		log_warnx("conn", "cannot connect to coordinator url=%s "
		    "reason=\"%s\"", conn.cfg->url, why[0] ? why : "unknown");
		conn_lost(why[0] ? why : "connection error");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_lost("connection closed");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		/* There is one connection at a time, so whichever of these
		 * three comes (lws 4.1 may send only this one) ends it. */
		conn_lost("connection destroyed");
		bora_rxbuf_free(&conn.rx);
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols conn_protocol = {
	.name = BORA_SUBPROTOCOL,
	.callback = conn_callback,
	.per_session_data_size = 0,
	.rx_buffer_size = 4096,     /* rxbuf.c joins larger messages */
};

static void
conn_connect(lws_sorted_usec_list_t *sul)
{
	struct lws_client_connect_info i;

	(void)sul;
	conn.retry_pending = 0;
	if (conn.stopping)
		return;
	memset(&i, 0, sizeof(i));
	i.context = conn.ctx;
	i.address = conn.url_host;
	i.port = conn.url_port;
	i.path = conn.url_path;
	i.host = conn.url_host;
	i.origin = conn.url_host;
	i.protocol = BORA_SUBPROTOCOL;
	i.local_protocol_name = BORA_SUBPROTOCOL;
	/* conn_verify_server checks the name; lws's own check cannot match
	 * an IP literal against an IP SAN. */
	i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	i.retry_and_idle_policy = &conn.idle_policy;
	i.pwsi = &conn.wsi;
	i.opaque_user_data = &conn;
	log_debug("conn", "connecting url=%s", conn.cfg->url);
	if (lws_client_connect_via_info(&i) == NULL) {
		conn.wsi = NULL;
		conn_schedule_retry("connect failed at once");
	}
}

/* wss://host[:port][/path] -> conn.url_*; 0 or -1. */
static int
conn_parse_url(const char *url)
{
	char copy[1024];
	const char *prot, *host, *path;
	int port;

	if (strlen(url) >= sizeof(copy))
		return -1;
	snprintf(copy, sizeof(copy), "%s", url);
	if (lws_parse_uri(copy, &prot, &host, &port, &path) != 0 ||
	    strcmp(prot, "wss") != 0 || strlen(host) == 0 ||
	    strlen(host) >= sizeof(conn.url_host))
		return -1;
	if (strstr(url, "://") && !strchr(strstr(url, "://") + 3, ':'))
		port = 443;
	snprintf(conn.url_host, sizeof(conn.url_host), "%s", host);
	snprintf(conn.url_path, sizeof(conn.url_path), "/%s", path);
	conn.url_port = port;
	return 0;
}

int
conn_start(struct lws_context *ctx, const struct agent_config *cfg)
{
	char err[256];

	memset(&conn, 0, sizeof(conn));
	conn.ctx = ctx;
	conn.cfg = cfg;
	if (conn_parse_url(cfg->url) != 0) {
		log_errorx("conn", "bad url url=%s (expected wss://HOST:PORT/)",
		    cfg->url);
		return -1;
	}
	if (bora_tls_file_cn(cfg->tls_cert, conn.name, sizeof(conn.name), err,
	    sizeof(err)) != 0) {
		log_errorx("conn", "cannot take the agent name from tls.cert: %s",
		    err);
		return -1;
	}
	bora_sendq_init(&conn.q, LWS_PRE, CONN_QUEUE_CAP);
	/* a coordinator gone silent (a cut link, not a closed one) is
	 * noticed by the missing pong, then reconnected to */
	conn.idle_policy.secs_since_valid_ping = (uint16_t)cfg->heartbeat_s;
	conn.idle_policy.secs_since_valid_hangup =
	    (uint16_t)(cfg->heartbeat_s * 3);
	log_info("conn", "agent starting agent=%s url=%s", conn.name, cfg->url);
	conn.retry_pending = 1;
	lws_sul_schedule(ctx, 0, &conn.retry_sul, conn_connect, 1);
	return 0;
}

void
conn_stop(void)
{
	conn.stopping = 1;
	lws_sul_cancel(&conn.retry_sul);
	bora_sendq_clear(&conn.q);
	bora_rxbuf_free(&conn.rx);
}
