/*
 * config.c: bora-coordinator settings. Defaults, then the YAML file named
 * by --config, then flags; then the checks that need every source.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

#define COORD_PROG "bora-coordinator"
#define COORD_ERRLEN 8192

static const struct bora_conf_item coord_items[] = {
	{ "listen", BORA_CONF_STRING, offsetof(struct coord_config, listen),
	  0, 0, "address agents connect to (default 0.0.0.0)" },
	{ "port", BORA_CONF_INT, offsetof(struct coord_config, port),
	  1, 65535, "port agents connect to (default 7443)" },
	{ "tls.cert", BORA_CONF_PATH, offsetof(struct coord_config, tls_cert),
	  0, 0, "server certificate, PEM (required)" },
	{ "tls.key", BORA_CONF_PATH, offsetof(struct coord_config, tls_key),
	  0, 0, "its private key, PEM (required)" },
	{ "tls.ca", BORA_CONF_PATH, offsetof(struct coord_config, tls_ca),
	  0, 0, "CA agents' certificates must chain to, PEM (required)" },
	{ "api_socket", BORA_CONF_PATH,
	  offsetof(struct coord_config, api_socket), 0, 0,
	  "operator API unix socket (default STATE_DIR/api.sock)" },
	{ "state_dir", BORA_CONF_PATH, offsetof(struct coord_config, state_dir),
	  0, 0, "private state directory (default /var/lib/bora)" },
	{ "log.level", BORA_CONF_STRING,
	  offsetof(struct coord_config, log_level), 0, 0,
	  "error, warn, info or debug (default info)" },
	{ "log.format", BORA_CONF_STRING,
	  offsetof(struct coord_config, log_format), 0, 0,
	  "text or json (default text)" },
	{ "max_message_bytes", BORA_CONF_INT,
	  offsetof(struct coord_config, max_message_bytes), 1024, 67108864,
	  "largest message taken from an agent (default 1048576)" },
	{ "heartbeat_s", BORA_CONF_INT,
	  offsetof(struct coord_config, heartbeat_s), 1, 3600,
	  "ping interval announced to agents, seconds (default 30)" },
	{ "max_queue_bytes", BORA_CONF_INT,
	  offsetof(struct coord_config, max_queue_bytes), 65536, 1073741824,
	  "per agent send queue cap (default 8388608)" },
};
#define COORD_N_ITEMS (sizeof(coord_items) / sizeof(coord_items[0]))

/* Settings that have no default. */
static const struct {
	const char *key, *flag, *yaml;
	size_t offset;
} coord_required[] = {
	{ "tls.cert", "--tls-cert", "tls: cert:",
	  offsetof(struct coord_config, tls_cert) },
	{ "tls.key", "--tls-key", "tls: key:",
	  offsetof(struct coord_config, tls_key) },
	{ "tls.ca", "--tls-ca", "tls: ca:",
	  offsetof(struct coord_config, tls_ca) },
};

static int
coord_config_defaults(struct coord_config *cfg)
{
	cfg->listen = strdup("0.0.0.0");
	cfg->port = 7443;
	cfg->state_dir = strdup("/var/lib/bora");
	cfg->log_level = strdup("info");
	cfg->log_format = strdup("text");
	cfg->max_message_bytes = 1048576;
	cfg->heartbeat_s = 30;
	cfg->max_queue_bytes = 8 * 1024 * 1024;
	if (cfg->listen == NULL || cfg->state_dir == NULL ||
	    cfg->log_level == NULL || cfg->log_format == NULL)
		return -1;
	return 0;
}

/* The checks that need the file and the flags both applied; each problem
 * is printed. Returns the number of problems. */
static int
coord_config_check(struct coord_config *cfg)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(coord_required) / sizeof(coord_required[0]);
	    i++) {
		if (*(char **)((char *)cfg + coord_required[i].offset) != NULL)
			continue;
		fprintf(stderr, COORD_PROG ": missing setting %s (%s or %s in "
		    "the config file)\n", coord_required[i].key,
		    coord_required[i].flag, coord_required[i].yaml);
		bad++;
	}
	if (bora_log_level_parse(cfg->log_level) < 0) {
		fprintf(stderr, COORD_PROG ": log.level: expected error, warn, "
		    "info or debug, got '%s'\n", cfg->log_level);
		bad++;
	}
	if (bora_log_format_parse(cfg->log_format) < 0) {
		fprintf(stderr, COORD_PROG ": log.format: expected text or "
		    "json, got '%s'\n", cfg->log_format);
		bad++;
	}
	if (cfg->api_socket == NULL && cfg->state_dir != NULL &&
	    asprintf(&cfg->api_socket, "%s/api.sock", cfg->state_dir) < 0) {
		cfg->api_socket = NULL;
		fprintf(stderr, COORD_PROG ": out of memory\n");
		bad++;
	}
	return bad;
}

/*
 * Fill cfg: defaults, then --config FILE, then flags from argv[1]. "--help"
 * prints the usage and exits 0. Returns 0 (free with coord_config_free), or
 * -1 after printing every error, with cfg already freed.
 */
int
coord_config_load(struct coord_config *cfg, int argc, char **argv)
{
	char err[COORD_ERRLEN];
	const char *path;
	int help, next, bad = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (bora_conf_find_config(argc, argv, 1, &path, &help, err,
	    sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, COORD_PROG, err);
		return -1;
	}
	if (help) {
		coord_config_usage(stdout);
		exit(0);
	}
	if (coord_config_defaults(cfg) < 0) {
		fprintf(stderr, COORD_PROG ": out of memory\n");
		goto fail;
	}
	if (path != NULL && bora_conf_load_file(coord_items, COORD_N_ITEMS,
	    cfg, path, err, sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, COORD_PROG, err);
		bad++;
	}
	if (bora_conf_apply_flags(coord_items, COORD_N_ITEMS, cfg, argc, argv,
	    1, &next, err, sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, COORD_PROG, err);
		bad++;
	}
	if (next < argc) {
		fprintf(stderr, COORD_PROG ": unexpected argument '%s'\n",
		    argv[next]);
		bad++;
	}
	bad += coord_config_check(cfg);
	if (bad == 0)
		return 0;
fail:
	coord_config_free(cfg);
	return -1;
}

/* Safe to call twice: every field is reset. */
void
coord_config_free(struct coord_config *cfg)
{
	bora_conf_free(coord_items, COORD_N_ITEMS, cfg);
}

void
coord_config_usage(FILE *out)
{
	fprintf(out, "usage: " COORD_PROG " [--config FILE] [flags]\n"
	    "Settings come from the YAML file, then from flags, which win.\n"
	    "\n");
	fprintf(out, "%-32s %s\n", "  --config FILE",
	    "read settings from this YAML file");
	fprintf(out, "%-32s %s\n", "  --help", "print this help and exit");
	bora_conf_usage(coord_items, COORD_N_ITEMS, out);
}
