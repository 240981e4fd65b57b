/*
 * cli_follow.c: following GET /v1/steps/ID/events (NDJSON) or an
 * execution's events (a websocket, docs/api.md) until the coordinator ends
 * the stream (cli_int.h). Ctrl-C stops following and says that the step or
 * execution goes on.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_int.h"
#include "msg.h"            /* BORA_MAX_STEP_ID */

/* The SIGINT message: we stop following, the step or execution goes on. */
static char cli_sigint_msg[BORA_MAX_STEP_ID * 2 + 128];

static void
cli_on_sigint(int sig)
{
	(void)sig;
	(void)!write(2, cli_sigint_msg, strlen(cli_sigint_msg));
	_exit(130);
}

int
cli_follow_events(const struct cli *cli, const char *what, const char *id,
    http_line_fn fn, void *ctx)
{
	return cli_follow_events_idle(cli, what, id, fn, ctx, 0, NULL);
}

int
cli_follow_events_idle(const struct cli *cli, const char *what,
    const char *id, http_line_fn fn, void *ctx, int idle_ms,
    int (*on_idle)(void *ctx))
{
	struct http_response resp;
	struct http_request rq;
	char path[BORA_MAX_STEP_ID + 64], err[512];
	int rc;

	memset(&resp, 0, sizeof(resp));
	snprintf(cli_sigint_msg, sizeof(cli_sigint_msg), "\nbora: stopped "
	    "following %s %s; it goes on (bora %s show %s)\n", what, id, what,
	    id);
	signal(SIGINT, cli_on_sigint);
	snprintf(path, sizeof(path), "/v1/%ss/%s/events", what, id);
	rq = (struct http_request){ .socket_path = cli_socket(cli),
	    .method = "GET", .path = path, .timeout_s = 0, .idle_ms = idle_ms,
	    .on_idle = on_idle, .idle_ctx = ctx,
	    /* an execution's events come as a websocket (docs/api.md) */
	    .websocket = strcmp(what, "execution") == 0 ? BORA_EVENTS_SUBPROTOCOL :
	    NULL };
	rc = http_stream(&rq, fn, ctx, &resp, err, sizeof(err));
	if (rc != 0 && rc != HTTP_STOPPED) {
		cli_transport_error(cli, rc, err);
		cli_warnx("%s %s goes on; see: bora %s show %s", what, id, what,
		    id);
		rc = CLI_FAIL;
	} else if (resp.status != 200 && resp.status != 101)
		rc = cli_status_error(&resp);
	else
		rc = CLI_OK;
	http_response_free(&resp);
	return rc;
}
