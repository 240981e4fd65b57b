/* coordinator_config.h: bora-coordinator settings (YAML file, then flags; proto/conf.h). */
#ifndef BORA_COORD_CONFIG_H
#define BORA_COORD_CONFIG_H

#include <stdio.h>

struct coord_config {
	char *listen;              /* address of the agent vhost (default 0.0.0.0) */
	long port;                 /* agent vhost port (default 7443) */
	char *tls_cert;            /* server certificate */
	char *tls_key;             /* its key */
	char *tls_ca;              /* CA whose certificates agents must present */
	char *api_socket;          /* operator API, unix socket (mode 0600) */
	char *api_listen;          /* operator API over HTTPS: address (default:
	                              listen) */
	long api_port;             /* its port; 0 (default): no HTTPS API */
	char *state_dir;           /* private (0700) */
	char *log_level;
	char *log_format;
	int log_step_output;       /* log each line of steps' output */
	long max_message_bytes;    /* largest agent message taken */
	long heartbeat_s;          /* ping interval announced in welcome */
	long max_queue_bytes;      /* per agent send queue cap */
	long max_rx_messages;      /* per connection, per second (0: no cap) */
	long max_rx_bytes;         /* per connection, per second (0: no cap) */
	long max_unauth;           /* connections not yet authenticated, all
	                              sources together */
	long max_unauth_per_source;  /* the same from one address */
	long handshake_timeout_s;  /* to finish TLS and the upgrade */
};

int coord_config_load(struct coord_config *cfg, int argc, char **argv);
void coord_config_free(struct coord_config *cfg);

#endif
