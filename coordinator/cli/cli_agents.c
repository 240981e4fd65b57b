/*
 * cli_agents.c: `bora agents` (GET /v1/agents) as a table: NAME, STATE,
 * ADDRESS, VERSION, CONNECTED (how long), LABELS; --json prints the API's
 * answer as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "cli_int.h"

static void
cli_age(time_t since, char *buf, size_t n)
{
	long long s = (long long)(time(NULL) - since);

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, n, "%llds", s);
	else if (s < 3600)
		snprintf(buf, n, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, n, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

/* "2026-11-22T05:04:42Z" -> how long ago, or the text as is. */
static void
cli_since(const char *rfc3339, char *buf, size_t n)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = rfc3339 ? strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (end == NULL) {
		snprintf(buf, n, "%s", rfc3339 ? rfc3339 : "-");
		return;
	}
	cli_age(timegm(&tm), buf, n);
}

static int
cli_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels {"k":"v",...} -> "k=v,k2=v2" sorted by key */
static void
cli_labels(json_t *labels, char *buf, size_t n)
{
	const char *keys[64], *key;
	size_t nk = 0, i, used = 0;
	json_t *v;
	char *text;

	buf[0] = '\0';
	json_object_foreach(labels, key, v)
		if (nk < sizeof(keys) / sizeof(keys[0]))
			keys[nk++] = key;
	qsort(keys, nk, sizeof(keys[0]), cli_strcmp_p);
	for (i = 0; i < nk && used + 1 < n; i++) {
		v = json_object_get(labels, keys[i]);
		text = json_is_string(v) ? NULL :
		    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		used += (size_t)snprintf(buf + used, n - used, "%s%s=%s",
		    i ? "," : "", keys[i], text ? text : json_string_value(v));
		free(text);
	}
	if (used >= n && n > 4)
		strcpy(buf + n - 4, "...");
	if (nk == 0)
		snprintf(buf, n, "-");
}

#define CLI_COLS 6

static int
cmd_agents(struct cli *cli, int argc, char **argv)
{
	static const char *const head[CLI_COLS] = {
		"NAME", "STATE", "ADDRESS", "VERSION", "CONNECTED", "LABELS"
	};
	struct http_response resp;
	json_t *doc = NULL, *agents, *a;
	char (*cells)[CLI_COLS][256] = NULL;
	char raw[1024];
	size_t i, n, w[CLI_COLS];
	int rc, json = 0, col;

	if ((rc = cli_json_opts(cli, argc, argv, &json, 0, NULL)) != -1)
		return rc;

	rc = cli_call(cli, "GET", "/v1/agents", NULL, 0, &resp,
	    json ? NULL : &doc);
	if (rc != CLI_OK)
		goto out;
	if (json) {
		if (cli_write_all(1, resp.body, resp.body_len) != 0)
			rc = CLI_FAIL;
		goto out;
	}
	agents = json_object_get(doc, "agents");
	n = json_array_size(agents);
	if (n == 0) {
		fprintf(stderr, "no agents enrolled or connected\n");
		goto out;
	}
	cells = calloc(n, sizeof(*cells));
	if (cells == NULL) {
		cli_warnx("out of memory");
		rc = CLI_FAIL;
		goto out;
	}
	for (col = 0; col < CLI_COLS; col++)
		w[col] = strlen(head[col]);
	json_array_foreach(agents, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *addr = json_string_value(json_object_get(a, "addr"));
		const char *ver = json_string_value(json_object_get(a,
		    "version"));
		const char *state = json_string_value(json_object_get(a,
		    "state"));

		cli_clean(name ? name : "?", cells[i][0], sizeof(cells[i][0]));
		/* an older coordinator lists connected agents only */
		cli_clean(state ? state : "connected", cells[i][1],
		    sizeof(cells[i][1]));
		cli_clean(addr ? addr : "-", cells[i][2], sizeof(cells[i][2]));
		cli_clean(ver && ver[0] ? ver : "-", cells[i][3],
		    sizeof(cells[i][3]));
		cli_since(json_string_value(json_object_get(a,
		    "connected_since")), cells[i][4], sizeof(cells[i][4]));
		cli_labels(json_object_get(a, "labels"), raw, sizeof(raw));
		cli_clean(raw, cells[i][5], sizeof(cells[i][5]));
		for (col = 0; col < CLI_COLS; col++)
			if (strlen(cells[i][col]) > w[col])
				w[col] = strlen(cells[i][col]);
	}
	for (col = 0; col < CLI_COLS - 1; col++)
		printf("%-*s  ", (int)w[col], head[col]);
	printf("%s\n", head[CLI_COLS - 1]);
	for (i = 0; i < n; i++) {
		for (col = 0; col < CLI_COLS - 1; col++)
			printf("%-*s  ", (int)w[col], cells[i][col]);
		printf("%s\n", cells[i][CLI_COLS - 1]);
	}
out:
	free(cells);
	json_decref(doc);
	http_response_free(&resp);
	return rc;
}

const struct cli_cmd cli_cmd_agents_entry = {
	"agents", "[--json]",
	"list the agents, enrolled or connected, and their state",
	cmd_agents
};
