/* agent_config.h: bora-agent settings (YAML file, then flags; see
 * proto/conf.h). */
#ifndef BORA_AGENT_AGENT_CONFIG_H
#define BORA_AGENT_AGENT_CONFIG_H

#include <jansson.h>
#include <stddef.h>

struct agent_config {
	char *url;                 /* wss://host:port/ of the coordinator */
	char *tls_cert;            /* this agent's certificate (CN = its name) */
	char *tls_key;             /* its private key, mode 0600 */
	char *tls_ca;              /* CA that signed the coordinator */
	char *state_dir;           /* private (0700): step files, later journal */
	json_t *labels;            /* sent in hello */
	char *log_level;
	char *log_format;
	long reconnect_min_ms;     /* first retry delay */
	long reconnect_max_ms;     /* backoff ceiling */
	long heartbeat_s;          /* idle ping; hang up after 3x */
	long max_output_bytes;     /* per step and stream, then counted+dropped */
};

/* Fill defaults, read --config FILE (if given) then flags from argv.
 * Returns 0, or -1 after printing errors to stderr. */
int agent_config_load(struct agent_config *cfg, int argc, char **argv);
void agent_config_free(struct agent_config *cfg);

#endif
