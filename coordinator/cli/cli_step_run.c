/*
 * cli_step_run.c: `bora step run`: POST /v1/steps with a script, follow the
 * step's events (its output to our stdout and stderr as it comes), then the
 * final line and the exit status: 0 on success, the script's exit code when
 * it failed with one, 124 for a timeout (like timeout(1)), else 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "cli_int.h"
#include "msg.h"

#define CLI_MAX_SCRIPT      (BORA_MAX_MESSAGE_BYTES - 64 * 1024)

struct cli_follow {
	int live;                  /* print output events */
	json_t *result;            /* from the result event */
	size_t bad_lines;
	char last[3];              /* last byte written to fd 1, 2 */
};

static int
cli_follow_line(const char *line, size_t len, void *ctx)
{
	struct cli_follow *f = ctx;
	const char *event, *stream, *data;
	json_t *ev;
	size_t dlen;
	int fd;

	ev = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(ev)) {
		f->bad_lines++;
		json_decref(ev);
		return 0;
	}
	event = json_string_value(json_object_get(ev, "event"));
	if (event != NULL && strcmp(event, "output") == 0 && f->live) {
		stream = json_string_value(json_object_get(ev, "stream"));
		data = json_string_value(json_object_get(ev, "data"));
		dlen = json_string_length(json_object_get(ev, "data"));
		fd = stream && strcmp(stream, "stderr") == 0 ? 2 : 1;
		if (data != NULL && dlen > 0) {
			(void)cli_write_all(fd, data, dlen);
			f->last[fd] = data[dlen - 1];
		}
	} else if (event != NULL && strcmp(event, "result") == 0) {
		json_decref(f->result);
		f->result = json_incref(json_object_get(ev, "result"));
	}
	json_decref(ev);
	return 0;
}

/* Print the final line and choose the exit status. */
static int
cli_step_summary(const char *id, const json_t *step, const json_t *res)
{
	const char *status = json_string_value(json_object_get(res, "status"));
	const char *error = json_string_value(json_object_get(res, "error"));
	const json_t *code = json_object_get(res, "exit_code");
	json_int_t sig = json_integer_value(json_object_get(res, "signal"));
	json_int_t t0 = json_integer_value(json_object_get(res, "started_ms"));
	json_int_t t1 = json_integer_value(json_object_get(res, "finished_ms"));
	json_int_t dropped = json_integer_value(json_object_get(step,
	    "output_dropped_bytes"));
	char took[32] = "", why[512] = "";
	int rc = CLI_FAIL;

	if (t0 > 0 && t1 >= t0)
		snprintf(took, sizeof(took), " (%.1f s)", (double)(t1 - t0) / 1e3);
	if (error != NULL)
		cli_clean(error, why, sizeof(why));
	if (status == NULL) {
		fprintf(stderr, "step %s: finished without a status\n", id);
	} else if (strcmp(status, "success") == 0) {
		fprintf(stderr, "step %s: success exit=%lld%s\n", id,
		    json_is_integer(code) ? (long long)json_integer_value(code)
		    : 0LL, took);
		rc = CLI_OK;
	} else if (strcmp(status, "failed") == 0 && json_is_integer(code)) {
		fprintf(stderr, "step %s: failed exit=%lld%s%s%s\n", id,
		    (long long)json_integer_value(code), took,
		    why[0] ? ": " : "", why);
		rc = (int)json_integer_value(code);
		if (rc < 1 || rc > 255)
			rc = CLI_FAIL;
	} else if (strcmp(status, "failed") == 0 && sig > 0) {
		fprintf(stderr, "step %s: failed signal=%lld (%s)%s\n", id,
		    (long long)sig, strsignal((int)sig), took);
	} else if (strcmp(status, "timeout") == 0) {
		fprintf(stderr, "step %s: timeout after %lld s\n", id,
		    (long long)json_integer_value(json_object_get(step,
		    "timeout")));
		rc = CLI_TIMEOUT;
	} else if (strcmp(status, "lost") == 0) {
		fprintf(stderr, "step %s: lost: the agent stopped while the step "
		    "ran%s%s\n", id, why[0] ? ": " : "", why);
	} else {
		fprintf(stderr, "step %s: %s%s%s%s\n", id, status, took,
		    why[0] ? ": " : "", why);
	}
	if (dropped > 0)
		fprintf(stderr, "step %s: %lld bytes of output were over the "
		    "coordinator's cap and were not kept\n", id,
		    (long long)dropped);
	return rc;
}

static int
cmd_step_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agent",   required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "input",   required_argument, NULL, 'i' },
		{ "json",    no_argument,       NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct http_response resp;
	struct cli_follow follow = { 1, NULL, 0, "" };
	json_t *inputs = NULL, *req = NULL, *step = NULL, *final = NULL, *script;
	const char *agent = NULL, *res_state;
	char *text = NULL, *body = NULL, path[BORA_MAX_STEP_ID + 32];
	char id[BORA_MAX_STEP_ID + 1];
	size_t len;
	long timeout = 0;
	int c, rc, json = 0;

	memset(&resp, 0, sizeof(resp));
	if ((inputs = json_object()) == NULL)
		return CLI_FAIL;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			agent = optarg;
			break;
		case 't':
			timeout = cli_parse_duration(optarg);
			if (timeout < 0) {
				rc = cli_usage_error(cli, "--timeout: expected "
				    "seconds from 1 to %d (or with s, m, h, d)",
				    BORA_MAX_TIMEOUT_S);
				goto out;
			}
			break;
		case 'i':
			if ((rc = cli_input_add(cli, inputs, optarg)) != 0)
				goto out;
			break;
		case OPT_JSON:
			json = 1;
			follow.live = 0;
			break;
		default:
			if ((rc = cli_common_opt(cli, c, argv)) != -1)
				goto out;
		}
	}
	if (agent == NULL) {
		rc = cli_usage_error(cli, "--agent NAME is required");
		goto out;
	}
	if (!bora_name_valid(agent)) {
		rc = cli_usage_error(cli, "--agent: \"%s\" is not an agent name",
		    agent);
		goto out;
	}
	if (argc - optind != 1) {
		rc = cli_usage_error(cli, "expected one script FILE (or - for "
		    "standard input)");
		goto out;
	}
	text = cli_read_script(argv[optind], CLI_MAX_SCRIPT, &len);
	if (text == NULL) {
		rc = CLI_FAIL;
		goto out;
	}
	script = json_stringn(text, len);
	if (script == NULL) {
		cli_warnx("%s: not valid UTF-8 text", argv[optind]);
		rc = CLI_FAIL;
		goto out;
	}
	req = json_pack("{s:s, s:s, s:{s:o}}", "agent", agent, "kind", "script",
	    "spec", "script", script);
	if (req != NULL && json_object_size(inputs) > 0)
		json_object_set(req, "inputs", inputs);
	if (req != NULL && timeout > 0)
		json_object_set_new(req, "timeout", json_integer(timeout));
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (body == NULL) {
		cli_warnx("out of memory");
		rc = CLI_FAIL;
		goto out;
	}

	rc = cli_call(cli, "POST", "/v1/steps", body, strlen(body), &resp,
	    &step);
	if (rc != CLI_OK)
		goto out;
	if (!json_is_string(json_object_get(step, "id")) ||
	    !bora_step_id_valid(json_string_value(json_object_get(step, "id")))) {
		cli_warnx("the coordinator's answer has no step id");
		rc = CLI_FAIL;
		goto out;
	}
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(step,
	    "id")));
	http_response_free(&resp);
	if (isatty(2))
		fprintf(stderr, "step %s: queued for agent %s\n", id, agent);
	if ((rc = cli_follow_events(cli, "step", id, cli_follow_line,
	    &follow)) != CLI_OK)
		goto out;
	if (follow.bad_lines > 0)
		cli_warnx("%zu event lines of step %s were not JSON",
		    follow.bad_lines, id);

	/* The final state (and the result, should the stream have lost it). */
	snprintf(path, sizeof(path), "/v1/steps/%s", id);
	rc = cli_call(cli, "GET", path, NULL, 0, &resp, &final);
	if (rc != CLI_OK)
		goto out;
	res_state = json_string_value(json_object_get(final, "state"));
	if (follow.result == NULL && json_is_object(json_object_get(final,
	    "result")))
		follow.result = json_incref(json_object_get(final, "result"));
	if (follow.result == NULL) {
		cli_warnx("the event stream of step %s ended before its result "
		    "(state %s); see: bora step show %s", id,
		    res_state ? res_state : "?", id);
		rc = CLI_FAIL;
		goto out;
	}
	if (json && cli_write_all(1, resp.body, resp.body_len) != 0) {
		rc = CLI_FAIL;
		goto out;
	}
	/* The summary starts a line of its own, also after output that did
	 * not end with a newline (on stderr, or on a shared terminal). */
	if ((follow.last[2] && follow.last[2] != '\n') || (follow.last[1] &&
	    follow.last[1] != '\n' && isatty(1) && isatty(2)))
		fputc('\n', stderr);
	rc = cli_step_summary(id, final, follow.result);
out:
	signal(SIGINT, SIG_DFL);
	json_decref(follow.result);
	json_decref(inputs);
	json_decref(req);
	json_decref(step);
	json_decref(final);
	free(body);
	free(text);
	http_response_free(&resp);
	return rc;
}

const struct cli_cmd cli_cmd_step_run_entry = {
	"step run", "--agent NAME [--timeout S] [--input K=V]... [--json] "
	  "FILE|-",
	"run a script on an agent and follow its output",
	cmd_step_run
};
