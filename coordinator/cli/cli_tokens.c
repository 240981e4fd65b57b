/*
 * cli_tokens.c: enrollment tokens and revocation in the CLI.
 *
 *   bora token create [--name N] [--labels k=v,...] [--ttl 1h] [--uses N]
 *                     [--json]
 *   bora token list [--json]
 *   bora token revoke ID
 *   bora agent revoke NAME
 *
 * `token create` prints the plain token: the only time anyone sees it.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_int.h"
#include "labels.h"
#include "msg.h"

enum { OPT_NAME = 2000, OPT_LABELS, OPT_TTL, OPT_USES };

/* "90", "90s", "15m", "1h", "2d" -> seconds; -1 when not a duration. */
static long long
cli_tokens_ttl(const char *s)
{
	char *end;
	long long n = strtoll(s, &end, 10), mult = 1;

	if (end == s || n <= 0)
		return -1;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n > 366LL * 86400 / mult)
		return -1;
	return n * mult;
}

/* "k=v,k2=v2" -> object (proto/labels.h); NULL after saying why. */
static json_t *
cli_tokens_labels(const struct cli *cli, const char *s)
{
	char err[256];
	json_t *o = bora_labels_parse(s, strlen(s), err, sizeof(err));

	if (o == NULL)
		cli_usage_error(cli, "--labels: %s", err);
	return o;
}

static void
cli_tokens_time(json_int_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "-");
}

static int
cmd_token_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "labels", required_argument, NULL, OPT_LABELS },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "uses", required_argument, NULL, OPT_USES },
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct http_response resp;
	json_t *req = json_object(), *labels, *x = NULL;
	char *body = NULL, *end, cell[256];
	long long ttl, uses;
	int c, rc, json = 0;

	if (req == NULL)
		return CLI_FAIL;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			if (!bora_name_valid(optarg)) {
				rc = cli_usage_error(cli, "--name: '%s' is not an "
				    "agent name", optarg);
				goto out;
			}
			json_object_set_new(req, "name", json_string(optarg));
			break;
		case OPT_LABELS:
			if ((labels = cli_tokens_labels(cli, optarg)) == NULL) {
				rc = CLI_USAGE;
				goto out;
			}
			json_object_set_new(req, "labels", labels);
			break;
		case OPT_TTL:
			if ((ttl = cli_tokens_ttl(optarg)) < 0) {
				rc = cli_usage_error(cli, "--ttl: expected a duration "
				    "like 90s, 15m, 1h or 2d (at most 366d)");
				goto out;
			}
			json_object_set_new(req, "ttl_s", json_integer(ttl));
			break;
		case OPT_USES:
			uses = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || uses < 1 ||
			    uses > 1000000) {
				rc = cli_usage_error(cli, "--uses: expected 1 to "
				    "1000000");
				goto out;
			}
			json_object_set_new(req, "uses", json_integer(uses));
			break;
		case OPT_JSON:
			json = 1;
			break;
		default:
			if ((rc = cli_common_opt(cli, c, argv)) != -1)
				goto out;
		}
	}
	if (optind != argc) {
		rc = cli_usage_error(cli, "unexpected argument %s", argv[optind]);
		goto out;
	}
	body = json_dumps(req, JSON_COMPACT);
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, "POST", "/v1/tokens", body, body ? strlen(body) : 0,
	    &resp, &x);
	if (rc == CLI_OK && json)
		cli_print_compact(x, "{}");
	else if (rc == CLI_OK) {
		printf("id:      %s\n", cli_clean(cli_exec_str(x, "id", "?"),
		    cell, sizeof(cell)));
		printf("token:   %s\n", cli_clean(cli_exec_str(x, "token", "?"),
		    cell, sizeof(cell)));
		printf("name:    %s\n", cli_clean(cli_exec_str(x, "name", "-"),
		    cell, sizeof(cell)));
		printf("uses:    %lld\n", (long long)json_integer_value(
		    json_object_get(x, "uses")));
		printf("ttl:     %llds\n", (long long)json_integer_value(
		    json_object_get(x, "ttl_s")));
		printf("The token is shown only now; give it to one agent "
		    "(bora-agent enroll --token ...).\n");
	}
	http_response_free(&resp);
out:
	free(body);
	json_decref(req);
	json_decref(x);
	return rc;
}

/* The labels object as "k=v,k2=v2". */
static void
cli_tokens_labels_text(const json_t *labels, char *buf, size_t n)
{
	const char *k;
	json_t *v;
	size_t len = 0;

	buf[0] = '\0';
	if (!json_is_object(labels) || json_object_size(labels) == 0) {
		snprintf(buf, n, "-");
		return;
	}
	json_object_foreach((json_t *)(uintptr_t)labels, k, v)
		if (len < n)
			len += (size_t)snprintf(buf + len, n - len, "%s%s=%s",
			    len ? "," : "", k, json_string_value(v) ?
			    json_string_value(v) : "");
}

static int
cmd_token_list(struct cli *cli, int argc, char **argv)
{
	struct http_response resp;
	json_t *x = NULL, *t;
	char a[64], b[80], l[256], e[32], st[16];
	size_t i;
	int rc, json = 0;

	if ((rc = cli_json_opts(cli, argc, argv, &json, 0, NULL)) != -1)
		return rc;
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, "GET", "/v1/tokens", NULL, 0, &resp, &x);
	if (rc == CLI_OK && json)
		cli_print_compact(json_object_get(x, "tokens"), "[]");
	else if (rc == CLI_OK) {
		printf("%-21s %-8s %-5s %-20s %-16s %s\n", "ID", "STATE", "USES",
		    "EXPIRES", "NAME", "LABELS");
		json_array_foreach(json_object_get(x, "tokens"), i, t) {
			cli_tokens_time(json_integer_value(json_object_get(t,
			    "expires_ms")), e, sizeof(e));
			cli_tokens_labels_text(json_object_get(t, "labels"), l,
			    sizeof(l));
			printf("%-21s %-8s %-5lld %-20s %-16s %s\n",
			    cli_clean(cli_exec_str(t, "id", "?"), a, sizeof(a)),
			    cli_clean(cli_exec_str(t, "state", "?"), st,
			    sizeof(st)), (long long)json_integer_value(
			    json_object_get(t, "uses_left")), e,
			    cli_clean(cli_exec_str(t, "name", "-"), b, sizeof(b)),
			    cli_clean(l, l, sizeof(l)));
		}
	}
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

/* A command of one argument: METHOD prefix ARG suffix. */
static int
cli_tokens_one(struct cli *cli, int argc, char **argv, const char *method,
    const char *prefix, const char *suffix, const char *what, int is_name)
{
	struct http_response resp;
	json_t *x = NULL;
	char path[256];
	int rc;

	if ((rc = cli_json_opts(cli, argc, argv, NULL, 1, what)) != -1)
		return rc;
	if (!bora_name_valid(argv[optind]))
		return cli_usage_error(cli, "'%s' is not a %s", argv[optind],
		    what);
	snprintf(path, sizeof(path), "%s%s%s", prefix, argv[optind], suffix);
	memset(&resp, 0, sizeof(resp));
	rc = cli_call(cli, method, path, is_name ? "{}" : NULL, is_name ? 2 : 0,
	    &resp, &x);
	if (rc == CLI_OK && is_name)
		printf("agent %s revoked (serial %s)%s\n", argv[optind],
		    cli_exec_str(x, "serial", "?"),
		    json_is_true(json_object_get(x, "disconnected")) ?
		    "; its connection was closed" : "");
	else if (rc == CLI_OK)
		printf("token %s revoked\n", argv[optind]);
	json_decref(x);
	http_response_free(&resp);
	return rc;
}

static int
cmd_token_revoke(struct cli *cli, int argc, char **argv)
{
	return cli_tokens_one(cli, argc, argv, "DELETE", "/v1/tokens/", "",
	    "token id", 0);
}

static int
cmd_agent_revoke(struct cli *cli, int argc, char **argv)
{
	return cli_tokens_one(cli, argc, argv, "POST", "/v1/agents/",
	    "/revoke", "agent name", 1);
}

const struct cli_cmd cli_cmd_token_create_entry = {
	"token create", "[--name N] [--labels k=v,...] [--ttl 1h] "
	  "[--uses N] [--json]",
	"make an enrollment token (shown once)",
	cmd_token_create
};

const struct cli_cmd cli_cmd_token_list_entry = {
	"token list", "[--json]",
	"list enrollment tokens (never their secret)",
	cmd_token_list
};

const struct cli_cmd cli_cmd_token_revoke_entry = {
	"token revoke", "ID",
	"make a token unusable",
	cmd_token_revoke
};

const struct cli_cmd cli_cmd_agent_revoke_entry = {
	"agent revoke", "NAME",
	"revoke an agent's certificate and disconnect it",
	cmd_agent_revoke
};
