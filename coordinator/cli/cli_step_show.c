/*
 * cli_step_show.c: `bora step show ID` (GET /v1/steps/ID, summed up) and
 * `bora step events ID` (GET /v1/steps/ID/events, each NDJSON line as it
 * comes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "cli_int.h"
#include "msg.h"

/* A command that takes one step id and maybe --json: -1 to go on with
 * *id (argv's) set, else the exit status with *id NULL. */
static int
cli_parse_id(struct cli *cli, int argc, char **argv, int allow_json,
    const char **id, int *json)
{
	int rc;

	*id = NULL;
	*json = 0;
	if ((rc = cli_json_flag(cli, argc, argv, allow_json ? json : NULL,
	    "--json is not an option of this command")) != -1)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one step id");
	*id = argv[optind];
	if (!bora_step_id_valid(*id))
		return cli_usage_error(cli, "\"%s\" is not a step id (like "
		    "step-1a2b3c4d-7)", *id);
	return -1;
}

static void
cli_show_field(const char *key, const char *value)
{
	char clean[1024];

	printf("%-10s %s\n", key, cli_clean(value, clean, sizeof(clean)));
}

static void
cli_show_ms(const char *key, json_int_t ms)
{
	char buf[64];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0)
		return;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
	    (int)(ms % 1000));
	cli_show_field(key, buf);
}

static int
cmd_step_show(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *step = NULL, *res, *v;
	const char *id, *key;
	char path[BORA_MAX_STEP_ID + 32], buf[1024], *text;
	int rc, json;

	memset(&resp, 0, sizeof(resp));
	if ((rc = cli_parse_id(cli, argc, argv, 1, &id, &json)) != -1)
		return rc;
	snprintf(path, sizeof(path), "/v1/steps/%s", id);
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, json ? NULL : &step);
	if (rc != CLI_OK)
		goto out;
	if (json) {
		if (cli_write_all(1, resp.body, resp.body_len) != 0)
			rc = CLI_FAIL;
		goto out;
	}
	cli_show_field("step", json_string_value(json_object_get(step, "id"))
	    ?: id);
	cli_show_field("agent", json_string_value(json_object_get(step,
	    "agent")) ?: "?");
	cli_show_field("kind", json_string_value(json_object_get(step,
	    "kind")) ?: "?");
	cli_show_field("state", json_string_value(json_object_get(step,
	    "state")) ?: "?");
	snprintf(buf, sizeof(buf), "%lld s", (long long)json_integer_value(
	    json_object_get(step, "timeout")));
	cli_show_field("timeout", buf);
	cli_show_ms("created", json_integer_value(json_object_get(step,
	    "created_ms")));
	res = json_object_get(step, "result");
	if (json_is_object(res)) {
		cli_show_field("status", json_string_value(json_object_get(res,
		    "status")) ?: "?");
		if (json_is_integer(json_object_get(res, "exit_code"))) {
			snprintf(buf, sizeof(buf), "%lld", (long long)
			    json_integer_value(json_object_get(res,
			    "exit_code")));
			cli_show_field("exit", buf);
		}
		if (json_integer_value(json_object_get(res, "signal")) > 0) {
			snprintf(buf, sizeof(buf), "%lld", (long long)
			    json_integer_value(json_object_get(res, "signal")));
			cli_show_field("signal", buf);
		}
		cli_show_ms("started", json_integer_value(json_object_get(res,
		    "started_ms")));
		cli_show_ms("finished", json_integer_value(json_object_get(res,
		    "finished_ms")));
		if (json_is_string(json_object_get(res, "error")))
			cli_show_field("error", json_string_value(
			    json_object_get(res, "error")));
		json_object_foreach(json_object_get(res, "outputs"), key, v) {
			text = json_is_string(v) ? NULL :
			    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			snprintf(buf, sizeof(buf), "%s=%s", key,
			    text ? text : json_string_value(v));
			free(text);
			cli_show_field("output", buf);
		}
	}
	if (json_integer_value(json_object_get(step, "output_dropped_bytes")) > 0) {
		snprintf(buf, sizeof(buf), "%lld bytes not kept", (long long)
		    json_integer_value(json_object_get(step,
		    "output_dropped_bytes")));
		cli_show_field("dropped", buf);
	}
	printf("(output: bora step events %s)\n", id);
out:
	json_decref(step);
	http_response_free(&resp);
	return rc;
}

static int
cli_print_line(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	if (cli_write_all(1, line, len) != 0 || cli_write_all(1, "\n", 1) != 0)
		return 1;          /* stdout is gone: stop */
	return 0;
}

static int
cmd_step_events(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	struct http_request rq;
	const char *id;
	char path[BORA_MAX_STEP_ID + 32], err[512];
	int rc, json;

	if ((rc = cli_parse_id(cli, argc, argv, 0, &id, &json)) != -1)
		return rc;
	snprintf(path, sizeof(path), "/v1/steps/%s/events", id);
	rq = (struct http_request){ .socket_path = cli_socket(cli),
	    .method = "GET", .path = path, .timeout_s = 0 };
	rc = http_stream(&rq, cli_print_line, NULL, &resp, err, sizeof(err));
	if (rc == HTTP_STOPPED)
		rc = CLI_FAIL;
	else if (rc != 0)
		rc = cli_transport_error(cli, rc, err);
	else if (resp.status != 200)
		rc = cli_status_error(&resp);
	else
		rc = CLI_OK;
	http_response_free(&resp);
	return rc;
}

const struct cli_cmd cli_cmd_step_show_entry = {
	"step show", "ID [--json]",
	"show a step's state and result",
	cmd_step_show
};

const struct cli_cmd cli_cmd_step_events_entry = {
	"step events", "ID",
	"print a step's events as NDJSON, live until it ends",
	cmd_step_events
};
