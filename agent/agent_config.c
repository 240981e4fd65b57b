/*
 * agent_config.c: bora-agent settings. Defaults, then the YAML file named
 * by --config, then flags; then the checks that need every source.
 */
#include "agent_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

#define AGENT_PROG "bora-agent"

static const struct bora_conf_item agent_items[] = {
	{ "url", BORA_CONF_STRING, offsetof(struct agent_config, url),
	  0, 0, "coordinator, wss://HOST:PORT/ (required)", 1 },
	{ "tls.cert", BORA_CONF_PATH, offsetof(struct agent_config, tls_cert),
	  0, 0, "this agent's certificate, PEM (required)", 1 },
	{ "tls.key", BORA_CONF_PATH, offsetof(struct agent_config, tls_key),
	  0, 0, "its private key, PEM (required)", 1 },
	{ "tls.ca", BORA_CONF_PATH, offsetof(struct agent_config, tls_ca),
	  0, 0, "CA that signed the coordinator, PEM (required)", 1 },
	{ "state_dir", BORA_CONF_PATH, offsetof(struct agent_config, state_dir),
	  0, 0, "private state directory (default /var/lib/bora-agent)", 0 },
	{ "labels", BORA_CONF_MAP, offsetof(struct agent_config, labels),
	  0, 0, "labels sent in hello, e.g. role=web,zone=a", 0 },
	{ "log.level", BORA_CONF_STRING,
	  offsetof(struct agent_config, log_level), 0, 0,
	  "error, warn, info or debug (default info)", 0 },
	{ "log.format", BORA_CONF_STRING,
	  offsetof(struct agent_config, log_format), 0, 0,
	  "text or json (default text)", 0 },
	{ "reconnect.min_ms", BORA_CONF_INT,
	  offsetof(struct agent_config, reconnect_min_ms), 10, 600000,
	  "first reconnect delay, ms (default 500)", 0 },
	{ "reconnect.max_ms", BORA_CONF_INT,
	  offsetof(struct agent_config, reconnect_max_ms), 100, 3600000,
	  "longest reconnect delay, ms (default 30000)", 0 },
	{ "heartbeat_s", BORA_CONF_INT,
	  offsetof(struct agent_config, heartbeat_s), 1, 3600,
	  "ping a silent coordinator after this many seconds, hang up "
	  "after three times as long (default 30)", 0 },
	{ "max_output_bytes", BORA_CONF_INT,
	  offsetof(struct agent_config, max_output_bytes), 1024, 1073741824,
	  "output kept per step and stream (default 16777216)", 0 },
};
#define AGENT_N_ITEMS (sizeof(agent_items) / sizeof(agent_items[0]))

static int
agent_config_defaults(void *conf)
{
	struct agent_config *cfg = conf;

	cfg->state_dir = strdup("/var/lib/bora-agent");
	cfg->labels = json_object();
	cfg->log_level = strdup("info");
	cfg->log_format = strdup("text");
	cfg->reconnect_min_ms = 500;
	cfg->reconnect_max_ms = 30000;
	cfg->heartbeat_s = 30;
	cfg->max_output_bytes = 16 * 1024 * 1024;
	if (cfg->state_dir == NULL || cfg->labels == NULL ||
	    cfg->log_level == NULL || cfg->log_format == NULL)
		return -1;
	return 0;
}

/* The checks that need the file and the flags both applied; each problem
 * is printed. Returns the number of problems. */
static int
agent_config_check(void *conf)
{
	const struct agent_config *cfg = conf;
	int bad = bora_log_check_settings(AGENT_PROG, cfg->log_level,
	    cfg->log_format);

	if (cfg->url != NULL && (strncmp(cfg->url, "wss://", 6) != 0 ||
	    cfg->url[6] == '\0')) {
		fprintf(stderr, AGENT_PROG ": url: expected wss://HOST:PORT/, "
		    "got '%s'\n", cfg->url);
		bad++;
	}
	if (cfg->reconnect_min_ms > cfg->reconnect_max_ms) {
		fprintf(stderr, AGENT_PROG ": reconnect.min_ms (%ld) is above "
		    "reconnect.max_ms (%ld)\n", cfg->reconnect_min_ms,
		    cfg->reconnect_max_ms);
		bad++;
	}
	return bad;
}

static const struct bora_conf_daemon agent_daemon = {
	AGENT_PROG, agent_items, AGENT_N_ITEMS, agent_config_defaults,
	agent_config_check,
};

/* Defaults, then --config FILE, then flags from argv[1] (argv starts
 * after any subcommand); see bora_conf_daemon_load(). */
int
agent_config_load(struct agent_config *cfg, int argc, char **argv)
{
	return bora_conf_daemon_load(&agent_daemon, cfg, sizeof(*cfg), argc,
	    argv);
}

/* Safe to call twice: every field is reset. */
void
agent_config_free(struct agent_config *cfg)
{
	bora_conf_free(agent_items, AGENT_N_ITEMS, cfg);
}
