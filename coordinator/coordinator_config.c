/*
 * coordinator_config.c: bora-coordinator settings. Defaults, then the YAML file named
 * by --config, then flags; then the checks that need every source.
 */
#include "coordinator_config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

#define COORD_PROG "bora-coordinator"

static const struct bora_conf_item coord_items[] = {
	{ "listen", BORA_CONF_STRING, offsetof(struct coord_config, listen),
	  0, 0, "address agents connect to (default 0.0.0.0)", 0 },
	{ "port", BORA_CONF_INT, offsetof(struct coord_config, port),
	  1, 65535, "port agents connect to (default 7443)", 0 },
	{ "tls.cert", BORA_CONF_PATH, offsetof(struct coord_config, tls_cert),
	  0, 0, "server certificate, PEM (required)", 1 },
	{ "tls.key", BORA_CONF_PATH, offsetof(struct coord_config, tls_key),
	  0, 0, "its private key, PEM (required)", 1 },
	{ "tls.ca", BORA_CONF_PATH, offsetof(struct coord_config, tls_ca),
	  0, 0, "CA agents' certificates must chain to, PEM (required)", 1 },
	{ "api_socket", BORA_CONF_PATH,
	  offsetof(struct coord_config, api_socket), 0, 0,
	  "operator API unix socket (default STATE_DIR/api.sock)", 0 },
	{ "api.listen", BORA_CONF_STRING,
	  offsetof(struct coord_config, api_listen), 0, 0,
	  "address of the HTTPS operator API (default: listen)", 0 },
	{ "api.port", BORA_CONF_INT, offsetof(struct coord_config, api_port),
	  0, 65535, "port of the HTTPS operator API, which needs the operator "
	  "token (default 0: off)", 0 },
	{ "state_dir", BORA_CONF_PATH, offsetof(struct coord_config, state_dir),
	  0, 0, "private state directory (default /var/lib/bora)", 0 },
	{ "log.level", BORA_CONF_STRING,
	  offsetof(struct coord_config, log_level), 0, 0,
	  "error, warn, info or debug (default info)", 0 },
	{ "log.format", BORA_CONF_STRING,
	  offsetof(struct coord_config, log_format), 0, 0,
	  "text or json (default text)", 0 },
	{ "log.step_output", BORA_CONF_BOOL,
	  offsetof(struct coord_config, log_step_output), 0, 0,
	  "log each line of steps' output (default off)", 0 },
	{ "max_message_bytes", BORA_CONF_INT,
	  offsetof(struct coord_config, max_message_bytes), 1024, 67108864,
	  "largest message taken from an agent (default 1048576)", 0 },
	{ "heartbeat_s", BORA_CONF_INT,
	  offsetof(struct coord_config, heartbeat_s), 1, 3600,
	  "ping interval announced to agents, seconds (default 30)", 0 },
	{ "max_queue_bytes", BORA_CONF_INT,
	  offsetof(struct coord_config, max_queue_bytes), 65536, 1073741824,
	  "per agent send queue cap (default 8388608)", 0 },
	{ "max_rx_messages", BORA_CONF_INT,
	  offsetof(struct coord_config, max_rx_messages), 0, 1000000000,
	  "messages per second one agent connection may send, averaged over "
	  "2 s; past it the connection is closed (default 5000, 0: no cap)", 0 },
	{ "max_rx_bytes", BORA_CONF_INT,
	  offsetof(struct coord_config, max_rx_bytes), 0, 1073741824,
	  "bytes per second one agent connection may send, averaged over "
	  "2 s; past it the connection is closed (default 33554432, 0: no "
	  "cap)", 0 },
	{ "max_unauth_connections", BORA_CONF_INT,
	  offsetof(struct coord_config, max_unauth), 1, 1000000,
	  "connections to the agent port not yet authenticated (in the TLS "
	  "handshake, or enrolling), all addresses together; more are "
	  "closed at once (default 1024)", 0 },
	{ "max_unauth_per_source", BORA_CONF_INT,
	  offsetof(struct coord_config, max_unauth_per_source), 1, 1000000,
	  "the same from one address (default 128)", 0 },
	{ "handshake_timeout_s", BORA_CONF_INT,
	  offsetof(struct coord_config, handshake_timeout_s), 1, 600,
	  "seconds a new connection has to finish its TLS handshake and "
	  "upgrade (default 10)", 0 },
};
#define COORD_N_ITEMS (sizeof(coord_items) / sizeof(coord_items[0]))

static int
coord_config_defaults(void *conf)
{
	struct coord_config *cfg = conf;

	cfg->listen = strdup("0.0.0.0");
	cfg->port = 7443;
	cfg->state_dir = strdup("/var/lib/bora");
	cfg->log_level = strdup("info");
	cfg->log_format = strdup("text");
	cfg->max_message_bytes = 1048576;
	cfg->heartbeat_s = 30;
	cfg->max_queue_bytes = 8 * 1024 * 1024;
	cfg->max_unauth = 1024;
	cfg->max_unauth_per_source = 128;
	cfg->handshake_timeout_s = 10;
	cfg->max_rx_messages = 5000;
	cfg->max_rx_bytes = 32 * 1024 * 1024;
	if (cfg->listen == NULL || cfg->state_dir == NULL ||
	    cfg->log_level == NULL || cfg->log_format == NULL)
		return -1;
	return 0;
}

/* The checks that need the file and the flags both applied; each problem
 * is printed. Returns the number of problems. */
static int
coord_config_check(void *conf)
{
	struct coord_config *cfg = conf;
	int bad = bora_log_check_settings(COORD_PROG, cfg->log_level,
	    cfg->log_format);

	if (cfg->api_socket == NULL && cfg->state_dir != NULL &&
	    asprintf(&cfg->api_socket, "%s/api.sock", cfg->state_dir) < 0) {
		cfg->api_socket = NULL;
		fprintf(stderr, COORD_PROG ": out of memory\n");
		bad++;
	}
	return bad;
}

static const struct bora_conf_daemon coord_daemon = {
	COORD_PROG, coord_items, COORD_N_ITEMS, coord_config_defaults,
	coord_config_check,
};

int
coord_config_load(struct coord_config *cfg, int argc, char **argv)
{
	return bora_conf_daemon_load(&coord_daemon, cfg, sizeof(*cfg), argc,
	    argv);
}

/* Safe to call twice: every field is reset. */
void
coord_config_free(struct coord_config *cfg)
{
	bora_conf_free(coord_items, COORD_N_ITEMS, cfg);
}
