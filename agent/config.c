/*
 * config.c: bora-agent settings. Defaults, then the YAML file named by
 * --config, then flags; then the checks that need every source.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

#define AGENT_PROG "bora-agent"
#define AGENT_ERRLEN 8192

static const struct bora_conf_item agent_items[] = {
	{ "url", BORA_CONF_STRING, offsetof(struct agent_config, url),
	  0, 0, "coordinator, wss://HOST:PORT/ (required)" },
	{ "tls.cert", BORA_CONF_PATH, offsetof(struct agent_config, tls_cert),
	  0, 0, "this agent's certificate, PEM (required)" },
	{ "tls.key", BORA_CONF_PATH, offsetof(struct agent_config, tls_key),
	  0, 0, "its private key, PEM (required)" },
	{ "tls.ca", BORA_CONF_PATH, offsetof(struct agent_config, tls_ca),
	  0, 0, "CA that signed the coordinator, PEM (required)" },
	{ "state_dir", BORA_CONF_PATH, offsetof(struct agent_config, state_dir),
	  0, 0, "private state directory (default /var/lib/bora-agent)" },
	{ "labels", BORA_CONF_MAP, offsetof(struct agent_config, labels),
	  0, 0, "labels sent in hello, e.g. role=web,zone=a" },
	{ "log.level", BORA_CONF_STRING,
	  offsetof(struct agent_config, log_level), 0, 0,
	  "error, warn, info or debug (default info)" },
	{ "log.format", BORA_CONF_STRING,
	  offsetof(struct agent_config, log_format), 0, 0,
	  "text or json (default text)" },
	{ "reconnect.min_ms", BORA_CONF_INT,
	  offsetof(struct agent_config, reconnect_min_ms), 10, 600000,
	  "first reconnect delay, ms (default 500)" },
	{ "reconnect.max_ms", BORA_CONF_INT,
	  offsetof(struct agent_config, reconnect_max_ms), 100, 3600000,
	  "longest reconnect delay, ms (default 30000)" },
	{ "max_output_bytes", BORA_CONF_INT,
	  offsetof(struct agent_config, max_output_bytes), 1024, 1073741824,
	  "output kept per step and stream (default 16777216)" },
};
#define AGENT_N_ITEMS (sizeof(agent_items) / sizeof(agent_items[0]))

/* Settings that have no default. */
static const struct {
	const char *key, *flag, *yaml;
	size_t offset;
} agent_required[] = {
	{ "url", "--url", "url:", offsetof(struct agent_config, url) },
	{ "tls.cert", "--tls-cert", "tls: cert:",
	  offsetof(struct agent_config, tls_cert) },
	{ "tls.key", "--tls-key", "tls: key:",
	  offsetof(struct agent_config, tls_key) },
	{ "tls.ca", "--tls-ca", "tls: ca:",
	  offsetof(struct agent_config, tls_ca) },
};

static int
agent_config_defaults(struct agent_config *cfg)
{
	cfg->state_dir = strdup("/var/lib/bora-agent");
	cfg->labels = json_object();
	cfg->log_level = strdup("info");
	cfg->log_format = strdup("text");
	cfg->reconnect_min_ms = 500;
	cfg->reconnect_max_ms = 30000;
	cfg->max_output_bytes = 16 * 1024 * 1024;
	if (cfg->state_dir == NULL || cfg->labels == NULL ||
	    cfg->log_level == NULL || cfg->log_format == NULL)
		return -1;
	return 0;
}

/* The checks that need the file and the flags both applied; each problem
 * is printed. Returns the number of problems. */
static int
agent_config_check(const struct agent_config *cfg)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(agent_required) / sizeof(agent_required[0]);
	    i++) {
		if (*(char *const *)((const char *)cfg +
		    agent_required[i].offset) != NULL)
			continue;
		fprintf(stderr, AGENT_PROG ": missing setting %s (%s or %s in "
		    "the config file)\n", agent_required[i].key,
		    agent_required[i].flag, agent_required[i].yaml);
		bad++;
	}
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
	if (bora_log_level_parse(cfg->log_level) < 0) {
		fprintf(stderr, AGENT_PROG ": log.level: expected error, warn, "
		    "info or debug, got '%s'\n", cfg->log_level);
		bad++;
	}
	if (bora_log_format_parse(cfg->log_format) < 0) {
		fprintf(stderr, AGENT_PROG ": log.format: expected text or "
		    "json, got '%s'\n", cfg->log_format);
		bad++;
	}
	return bad;
}

/*
 * Fill cfg: defaults, then --config FILE, then flags from argv[1] (argv
 * starts after any subcommand). "--help" prints the usage and exits 0.
 * Returns 0 (free with agent_config_free), or -1 after printing every
 * error, with cfg already freed.
 */
int
agent_config_load(struct agent_config *cfg, int argc, char **argv)
{
	char err[AGENT_ERRLEN];
	const char *path;
	int help, next, bad = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (bora_conf_find_config(argc, argv, 1, &path, &help, err,
	    sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, AGENT_PROG, err);
		return -1;
	}
	if (help) {
		agent_config_usage(stdout);
		exit(0);
	}
	if (agent_config_defaults(cfg) < 0) {
		fprintf(stderr, AGENT_PROG ": out of memory\n");
		goto fail;
	}
	if (path != NULL && bora_conf_load_file(agent_items, AGENT_N_ITEMS,
	    cfg, path, err, sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, AGENT_PROG, err);
		bad++;
	}
	if (bora_conf_apply_flags(agent_items, AGENT_N_ITEMS, cfg, argc, argv,
	    1, &next, err, sizeof(err)) < 0) {
		bora_conf_print_errors(stderr, AGENT_PROG, err);
		bad++;
	}
	if (next < argc) {
		fprintf(stderr, AGENT_PROG ": unexpected argument '%s'\n",
		    argv[next]);
		bad++;
	}
	bad += agent_config_check(cfg);
	if (bad == 0)
		return 0;
fail:
	agent_config_free(cfg);
	return -1;
}

/* Safe to call twice: every field is reset. */
void
agent_config_free(struct agent_config *cfg)
{
	bora_conf_free(agent_items, AGENT_N_ITEMS, cfg);
}

void
agent_config_usage(FILE *out)
{
	fprintf(out, "usage: " AGENT_PROG " [--config FILE] [flags]\n"
	    "Settings come from the YAML file, then from flags, which win.\n"
	    "\n");
	fprintf(out, "%-32s %s\n", "  --config FILE",
	    "read settings from this YAML file");
	fprintf(out, "%-32s %s\n", "  --help", "print this help and exit");
	bora_conf_usage(agent_items, AGENT_N_ITEMS, out);
}
