/*
 * coordinator_loop.c: the coordinator's one event loop. One libwebsockets
 * context, one thread: the agent vhost (agent_server.c) and the operator
 * API's listeners (api_listen.c) on it; after every lws_service() the
 * turn's writes are committed at once (persist_turn).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "agent_server.h"
#include "api.h"
#include "conn_guard.h"
#include "coordinator_loop.h"
#include "log.h"
#include "persist.h"
#include "registry.h"

static struct lws_context *loop_ctx;
static volatile sig_atomic_t loop_stopping;

/* A commit that failed (a full disk) is tried again on a timer, backing
 * off, so what waits for it goes out soon after the disk has room, even
 * when nothing else wakes the loop. */
#define LOOP_RETRY_MIN_MS 100
#define LOOP_RETRY_MAX_MS 5000
static lws_sorted_usec_list_t loop_retry;
static int64_t loop_retry_ms;       /* 0: the last commit went through */

static void
loop_retry_fired(lws_sorted_usec_list_t *sul)
{
	(void)sul;          /* waking the loop is the point: it commits */
}

static void
loop_commit(void)
{
	if (persist_turn() == 0) {
		loop_retry_ms = 0;
		return;
	}
	loop_retry_ms = loop_retry_ms == 0 ? LOOP_RETRY_MIN_MS :
	    loop_retry_ms * 2 > LOOP_RETRY_MAX_MS ? LOOP_RETRY_MAX_MS :
	    loop_retry_ms * 2;
	lws_sul_schedule(loop_ctx, 0, &loop_retry, loop_retry_fired,
	    loop_retry_ms * LWS_US_PER_MS);
}

static void
loop_on_signal(int sig)
{
	(void)sig;
	loop_stopping = 1;
	if (loop_ctx)
		lws_cancel_service(loop_ctx);
}

static int
loop_prepare_state_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_warn("server", "cannot create state directory dir=%s", dir);
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_warnx("server", "state directory is not a directory dir=%s",
		    dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
		log_warn("server", "cannot make state directory private dir=%s",
		    dir);
		return -1;
	}
	return 0;
}

/* Descriptors kept out of TLS connections' reach: the store, the log,
 * the API socket and its operators' connections. */
#define LOOP_FD_RESERVE 64

/*
 * Raise the soft limit on descriptors to the hard one (systemd's default
 * soft limit is 1,024, well below a fleet of agents). The TLS connections
 * are then capped below it (lws stops accepting at the cap and starts
 * again when one closes), so accept() never fails for want of a
 * descriptor: no EMFILE, no loop turning on a listener it cannot empty.
 * The limit in force, or 0 when it cannot be read.
 */
static rlim_t
loop_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("server", "cannot raise the descriptor limit "
			    "to %llu", (unsigned long long)want);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

int
coord_loop_start(const struct coord_config *cfg)
{
	struct lws_context_creation_info info;
	rlim_t fds = loop_raise_fd_limit();
	size_t cap;

	if (loop_prepare_state_dir(cfg->state_dir) != 0)
		return -1;
	if (fds == 0 || fds == RLIM_INFINITY || fds > 1048576)
		fds = 1048576;          /* what lws sizes its tables by, too */
	if (fds <= 2 * LOOP_FD_RESERVE) {
		log_errorx("server", "descriptor limit %llu is too low: raise "
		    "LimitNOFILE (or ulimit -n) to at least %d",
		    (unsigned long long)fds, 4 * LOOP_FD_RESERVE);
		return -1;
	}
	cap = (size_t)fds - LOOP_FD_RESERVE;
	if (conn_guard_init((size_t)cfg->max_unauth,
	    (size_t)cfg->max_unauth_per_source, (size_t)fds) != 0) {
		log_errorx("server", "out of memory");
		return -1;
	}
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
	    LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.fd_limit_per_thread = (unsigned int)fds;
	info.simultaneous_ssl_restriction = (int)cap;
	/* a connection that does not finish its handshake soon is closed */
	info.timeout_secs = (unsigned int)cfg->handshake_timeout_s;
	loop_ctx = lws_create_context(&info);
	if (loop_ctx == NULL) {
		log_errorx("server", "cannot create the event loop");
		return -1;
	}
	if (agent_server_listen(loop_ctx, cfg) != 0 ||
	    api_listen(loop_ctx, cfg) != 0)
		return -1;
	signal(SIGINT, loop_on_signal);
	signal(SIGTERM, loop_on_signal);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);    /* past a file size limit: EFBIG, kept */
	log_info("server", "listening for agents addr=%s port=%ld api=%s "
	    "version=%s fd_limit=%llu max_tls=%zu max_unauthenticated=%ld "
	    "max_unauthenticated_per_address=%ld", cfg->listen, cfg->port,
	    cfg->api_socket, BORA_VERSION, (unsigned long long)fds, cap,
	    cfg->max_unauth, cfg->max_unauth_per_source);
	return 0;
}

struct lws_context *
coord_loop_context(void)
{
	return loop_ctx;
}

int
coord_loop_run(void)
{
	while (!loop_stopping) {
		if (lws_service(loop_ctx, 0) < 0)
			break;
		loop_commit();      /* the turn's writes in one commit */
	}
	log_info("server", "stopping agents=%zu bad_messages=%llu",
	    registry_count(),
	    (unsigned long long)agent_server_bad_messages());
	return loop_stopping ? 0 : -1;
}

void
coord_loop_stop(void)
{
	if (loop_ctx != NULL) {
		lws_sul_cancel(&loop_retry);
		lws_context_destroy(loop_ctx);  /* closes every session first */
	}
	loop_ctx = NULL;
	agent_server_shutdown();
	api_unlisten();
}
