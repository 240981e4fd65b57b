/* agent_main.c: bora-agent, runs the steps its coordinator pushes. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "agent_config.h"
#include "conn.h"
#include "agent_enroll.h"
#include "log.h"
#include "runners.h"
#include "agent_steps.h"

static struct lws_context *agent_ctx;
static volatile sig_atomic_t agent_stopping;

static void
agent_on_signal(int sig)
{
	(void)sig;
	agent_stopping = 1;
	if (agent_ctx)
		lws_cancel_service(agent_ctx);
}

static int
agent_prepare_state_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_warn("main", "cannot create state directory dir=%s", dir);
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_warnx("main", "state directory is not a directory dir=%s", dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
		log_warn("main", "cannot make state directory private dir=%s", dir);
		return -1;
	}
	return 0;
}

/* Steps run in directories under the state directory and are given paths
 * in it, so it must not depend on the current directory. */
static int
agent_absolute_state_dir(struct agent_config *cfg)
{
	char *abs = realpath(cfg->state_dir, NULL);

	if (abs == NULL) {
		log_warn("main", "cannot resolve state directory dir=%s",
		    cfg->state_dir);
		return -1;
	}
	free(cfg->state_dir);
	cfg->state_dir = abs;
	return 0;
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct agent_config cfg;
	const struct lws_protocols *protocols[] = { &conn_protocol,
	    &steps_pipe_protocol, NULL };
	struct lws_protocols list[3];
	int rc = 1;

	/* the process of a "file" step (runner_file.c), not a daemon */
	if (argc == 3 && strcmp(argv[1], RUNNER_FILE_FLAG) == 0)
		return runner_file_child(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "enroll") == 0)
		return agent_enroll_main(argc - 1, argv + 1);
	if (agent_config_load(&cfg, argc, argv) != 0)
		return 2;
	bora_log_init((enum bora_log_level)bora_log_level_parse(cfg.log_level),
	    (enum bora_log_format)bora_log_format_parse(cfg.log_format));
	if (agent_prepare_state_dir(cfg.state_dir) != 0 ||
	    agent_absolute_state_dir(&cfg) != 0)
		goto out;

	/* conn_protocol must come first: it answers the server certificate
	 * verification callback, which lws sends to protocol[0]. */
	memset(list, 0, sizeof(list));
	list[0] = *protocols[0];
	list[1] = *protocols[1];
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = list;
	info.vhost_name = "default";
	/* trust exactly tls.ca: not the system's CAs as well, which would let
	 * any publicly trusted certificate for the coordinator's name in (and
	 * loading them costs tens of ms of CPU at every start) */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
	    LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_cert_filepath = cfg.tls_cert;
	info.client_ssl_private_key_filepath = cfg.tls_key;
	info.client_ssl_ca_filepath = cfg.tls_ca;
	agent_ctx = lws_create_context(&info);
	if (agent_ctx == NULL) {
		log_errorx("main", "cannot create the event loop (check tls.cert, "
		    "tls.key and tls.ca)");
		goto out;
	}
	signal(SIGINT, agent_on_signal);
	signal(SIGTERM, agent_on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (steps_init(agent_ctx, &cfg) != 0 || conn_start(agent_ctx, &cfg) != 0)
		goto out;

	while (!agent_stopping)
		if (lws_service(agent_ctx, 0) < 0)
			break;
	log_info("main", "stopping");
	rc = 0;
out:
	conn_stop();
	steps_shutdown();
	if (agent_ctx)
		lws_context_destroy(agent_ctx);
	agent_ctx = NULL;
	agent_config_free(&cfg);
	return rc;
}
