/*
 * api_listen.c: the operator API's listeners on the coordinator's event
 * loop: HTTP on a private unix socket (mode 0600), and HTTPS with the
 * coordinator's certificate and the operator token when api.port is set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api.h"
#include "log.h"
#include "log_gate.h"
#include "peer_addr.h"

static const char *api_socket_made;   /* cfg->api_socket, once we made it */

/* A socket file left by a coordinator that died is removed; one that a
 * live coordinator answers on is not. */
static int
api_prepare_unix_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_errorx("server", "api socket path too long path=%s", path);
		return -1;
	}
	if (access(path, F_OK) != 0)
		return 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		log_errorx("server", "another coordinator is serving path=%s",
		    path);
		return -1;
	}
	if (unlink(path) != 0) {
		log_warn("server", "cannot remove stale socket path=%s", path);
		return -1;
	}
	return 0;
}

/* The HTTPS API's connections are the API's (api_http.c), but a failed TLS
 * handshake never reaches it: lws 4.1 hands LWS_CALLBACK_SSL_INFO to the
 * accepted connection's protocol, so the HTTPS vhost gets a copy of the
 * API protocol whose callback logs those first. */
static lws_callback_function *api_https_inner_callback;

/* The SSL object's ex_data slot for the peer's address, taken when the
 * handshake starts: a client that refused our certificate has often closed
 * its socket (getpeername() fails) by the time its alert is read. */
static int api_addr_idx = -1;

static void
api_addr_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/*
 * SSL_CB_HANDSHAKE_START: keep the peer's address. SSL_CB_ACCEPT_EXIT:
 * SSL_accept() returned; ret <= 0 is a wait for more bytes (not logged) or
 * the handshake's failure (logged, with the peer's address and OpenSSL's
 * reason: a plain-HTTP client, an alert from a client that refused our
 * certificate, no shared protocol...).
 */
static void
api_tls_info(struct lws *wsi, const struct lws_ssl_info *si)
{
	SSL *ssl = lws_get_ssl(wsi);
	unsigned long e;
	const char *why, *kept;
	char addr[64], host[64];
	int err;

	if (ssl == NULL)
		return;
	kept = api_addr_idx >= 0 ? SSL_get_ex_data(ssl,
	    api_addr_idx) : NULL;
	if (si->where & SSL_CB_HANDSHAKE_START) {
		char *copy;

		if (kept != NULL || api_addr_idx < 0)
			return;
		bora_ssl_peer_addr(ssl, addr, sizeof(addr));
		if ((copy = strdup(addr)) != NULL &&
		    SSL_set_ex_data(ssl, api_addr_idx, copy) != 1)
			free(copy);
		return;
	}
	if (!(si->where & SSL_CB_EXIT) || !(si->where & SSL_ST_ACCEPT) ||
	    si->ret > 0)
		return;
	err = SSL_get_error(ssl, si->ret);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return;
	e = ERR_peek_error();          /* left for lws to clear */
	why = e != 0 ? ERR_reason_error_string(e) : NULL;
	if (kept != NULL)
		snprintf(addr, sizeof(addr), "%s", kept);
	else
		bora_ssl_peer_addr(ssl, addr, sizeof(addr));
	log_limited(BORA_LOG_WARN, "api", "refused_connection",
	    bora_addr_host(addr, host, sizeof(host)), "refused connection "
	    "addr=%s reason=\"tls handshake failed: %s\"", addr,
	    why ? why : "the client closed the connection");
}

static int
api_https_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	if (reason == LWS_CALLBACK_SSL_INFO) {
		api_tls_info(wsi, in);
		return 0;
	}
	return api_https_inner_callback(wsi, reason, user, in, len);
}

/* The operator API over HTTPS (api.port): the same protocol as the unix
 * socket, with the coordinator's certificate; no client certificate, the
 * operator token instead (api_auth.c). */
static int
api_listen_https(struct lws_context *ctx, const struct coord_config *cfg,
    const struct lws_protocols *protocols)
{
	static struct lws_protocols https_list[3];   /* lws keeps the pointer */
	struct lws_context_creation_info info;
	const char *iface = cfg->api_listen ? cfg->api_listen : cfg->listen;

	memset(https_list, 0, sizeof(https_list));
	https_list[0] = protocols[0];
	api_https_inner_callback = protocols[0].callback;
	https_list[0].callback = api_https_callback;
	https_list[1] = protocols[1];              /* the events websocket */
	memset(&info, 0, sizeof(info));
	info.vhost_name = API_VHOST_HTTPS;
	info.port = (int)cfg->api_port;
	info.iface = iface;
	info.protocols = https_list;
	/* lws passes events whose bits meet the mask: not every state
	 * (SSL_CB_ACCEPT_EXIT would let SSL_CB_ACCEPT_LOOP through too) */
	info.ssl_info_event_mask = SSL_CB_HANDSHAKE_START | SSL_CB_EXIT;
	if (api_addr_idx < 0)
		api_addr_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    api_addr_free);
	info.ssl_cert_filepath = cfg->tls_cert;
	info.ssl_private_key_filepath = cfg->tls_key;
	info.alpn = "http/1.1";
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (lws_create_vhost(ctx, &info) == NULL) {
		log_errorx("server", "cannot listen for the HTTPS api addr=%s "
		    "port=%ld (check tls.cert, tls.key and that the port is "
		    "free)", iface, cfg->api_port);
		return -1;
	}
	log_info("server", "listening for the HTTPS api addr=%s port=%ld "
	    "auth=operator-token", iface, cfg->api_port);
	return 0;
}

int
api_listen(struct lws_context *ctx, const struct coord_config *cfg)
{
	static struct lws_protocols api_list[3];   /* lws keeps the pointer */
	struct lws_context_creation_info info;

	if (api_prepare_unix_socket(cfg->api_socket) != 0)
		return -1;
	memset(&info, 0, sizeof(info));
	memset(api_list, 0, sizeof(api_list));
	api_list[0] = api_protocol;
	api_list[1] = api_ws_protocol;
	info.vhost_name = "api";
	info.options = LWS_SERVER_OPTION_UNIX_SOCK;
	info.iface = cfg->api_socket;
	info.port = 0;
	info.protocols = api_list;
	if (lws_create_vhost(ctx, &info) == NULL) {
		log_errorx("server", "cannot listen on the api socket path=%s",
		    cfg->api_socket);
		return -1;
	}
	api_socket_made = cfg->api_socket;
	if (chmod(cfg->api_socket, 0600) != 0) {
		log_warn("server", "cannot make api socket private path=%s",
		    cfg->api_socket);
		return -1;
	}
	if (cfg->api_port > 0 && api_listen_https(ctx, cfg, api_list) != 0)
		return -1;
	return 0;
}

void
api_unlisten(void)
{
	if (api_socket_made != NULL)
		unlink(api_socket_made);
	api_socket_made = NULL;
}
