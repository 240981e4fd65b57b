/*
 * cli_call.c: one request to the coordinator (cli_int.h): where it goes
 * (--socket, $BORA_SOCKET, the default; or the URL of cli_endpoint.c), and
 * when it gets no answer or a refusal, a sentence that says why and what to
 * do next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli_int.h"

#define CLI_TIMEOUT_S       60       /* for answers that are not streams */

const char *
cli_socket(const struct cli *cli)
{
	const char *env;

	if (cli->socket != NULL)
		return cli->socket;
	env = getenv("BORA_SOCKET");
	return env && env[0] ? env : CLI_DEFAULT_SOCKET;
}

/* Say why the request did not get an answer, with what to do next. */
int
cli_transport_error(const struct cli *cli, int rc, const char *err)
{
	if (cli->url != NULL && rc == HTTP_ERR_CONNECT)
		cli_warnx("cannot reach coordinator at %s: %s; is it running, "
		    "with its HTTPS API on (api.port)?", cli->url, err);
	else if (cli->url != NULL)
		cli_warnx("coordinator at %s: %s", cli->url, err);
	else if (rc == HTTP_ERR_CONNECT && strcmp(err, strerror(EACCES)) == 0)
		cli_warnx("cannot reach coordinator at %s: %s; the API socket "
		    "is for the coordinator's user only (run bora as that user)",
		    cli_socket(cli), err);
	else if (rc == HTTP_ERR_CONNECT)
		cli_warnx("cannot reach coordinator at %s: %s; is it running? "
		    "(bora-coordinator --api-socket %s)%s", cli_socket(cli), err,
		    cli_socket(cli), cli->socket == NULL && getenv("BORA_SOCKET")
		    == NULL ? "; or give bora its socket: --socket PATH or "
		    "BORA_SOCKET" : "");
	else
		cli_warnx("coordinator at %s: %s; it may be overloaded or "
		    "stuck: see its log, then try again", cli_socket(cli), err);
	return CLI_FAIL;
}

/* Say what the API refused: its {"error","detail"} document if any. */
int
cli_status_error(const struct http_response *resp)
{
	json_t *doc = NULL;
	const char *detail = NULL, *code = NULL;

	if (resp->body != NULL)
		doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (json_is_object(doc)) {
		detail = json_string_value(json_object_get(doc, "detail"));
		code = json_string_value(json_object_get(doc, "error"));
	}
	if (resp->status == 401)
		cli_warnx("the coordinator refused the operator token (HTTP 401 "
		    "unauthorized): %s; give bora the token of "
		    "bora-coordinator init: --token-file FILE, BORA_TOKEN or "
		    "token_file in ~/.config/bora/config",
		    detail ? detail : "no detail");
	else if (detail != NULL)
		cli_warnx("%s (HTTP %d %s)", detail, resp->status,
		    code ? code : "");
	else
		cli_warnx("the coordinator answered HTTP %d %s", resp->status,
		    resp->reason);
	json_decref(doc);
	return CLI_FAIL;
}

/*
 * One request; on a 2xx answer returns CLI_OK with the body in *resp (and
 * parsed into *doc when doc is set: a new reference). Otherwise says why
 * and returns CLI_FAIL. resp is the caller's to free either way.
 */
int
cli_call(const struct cli *cli, const char *method, const char *path,
    const char *body, size_t body_len, struct http_response *resp,
    json_t **doc)
{
	struct http_request rq = {
		.socket_path = cli_socket(cli), .method = method, .path = path,
		.body = body, .body_len = body_len, .timeout_s = CLI_TIMEOUT_S,
	};
	json_error_t jerr;
	char err[512];
	int rc;

	rc = http_do(&rq, resp, err, sizeof(err));
	if (rc != 0)
		return cli_transport_error(cli, rc, err);
	if (resp->status < 200 || resp->status > 299)
		return cli_status_error(resp);
	if (doc != NULL) {
		*doc = json_loadb(resp->body, resp->body_len, 0, &jerr);
		if (!json_is_object(*doc)) {
			json_decref(*doc);
			*doc = NULL;
			cli_warnx("the coordinator's answer to %s %s is not a "
			    "JSON object: %s", method, path, jerr.text);
			return CLI_FAIL;
		}
	}
	return CLI_OK;
}
