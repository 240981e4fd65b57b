/*
 * cli_endpoint.c: where `bora` finds the coordinator, and with what token.
 *
 *   --url https://HOST:PORT, else $BORA_URL, else "url" in the config file:
 *   the HTTPS API (config api.port), with the operator token from
 *   --token T, --token-file F, $BORA_TOKEN, $BORA_TOKEN_FILE, or
 *   "token_file" in the config file (first found), and the coordinator's
 *   CA from --ca FILE, $BORA_CA or "ca" (else the system's CAs).
 *
 *   Without a URL: the unix socket, --socket PATH, else $BORA_SOCKET, else
 *   "socket" in the config file, else the default. A --socket flag beats a
 *   URL from the environment or the config file.
 *
 * The config file is $BORA_CONFIG, else $XDG_CONFIG_HOME/bora/config, else
 * ~/.config/bora/config: "key = value" or "key: value" lines (so a flat
 * YAML map works), '#' comments, values optionally quoted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli_int.h"

#define CLI_TOKEN_MAX  4096

static struct {
	char *url, *token_file, *ca, *socket;
	char path[4096];
	int loaded;
} cli_conf;

static char *cli_token_buf;        /* a token read from a file */

static const char *
cli_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static void
cli_conf_path(char *out, size_t n)
{
	const char *v;

	if ((v = cli_env("BORA_CONFIG")) != NULL)
		snprintf(out, n, "%s", v);
	else if ((v = cli_env("XDG_CONFIG_HOME")) != NULL)
		snprintf(out, n, "%s/bora/config", v);
	else if ((v = cli_env("HOME")) != NULL)
		snprintf(out, n, "%s/.config/bora/config", v);
	else
		out[0] = '\0';
}

static char *
cli_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Read the config file once; a missing one is no error. */
static int
cli_conf_load(void)
{
	char line[4096], *k, *v, *sep, **slot;
	unsigned lineno = 0;
	size_t vl;
	FILE *f;

	if (cli_conf.loaded)
		return 0;
	cli_conf.loaded = 1;
	cli_conf_path(cli_conf.path, sizeof(cli_conf.path));
	if (cli_conf.path[0] == '\0')
		return 0;
	f = fopen(cli_conf.path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		cli_warnx("cannot read %s: %s", cli_conf.path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		k = cli_trim(line);
		if (*k == '\0' || *k == '#' || strcmp(k, "---") == 0)
			continue;
		sep = k + strcspn(k, "=:");
		if (*sep == '\0') {
			cli_warnx("%s:%u: expected key = value", cli_conf.path,
			    lineno);
			fclose(f);
			return -1;
		}
		*sep = '\0';
		k = cli_trim(k);
		v = cli_trim(sep + 1);
		vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		if (strcmp(k, "url") == 0)
			slot = &cli_conf.url;
		else if (strcmp(k, "token_file") == 0)
			slot = &cli_conf.token_file;
		else if (strcmp(k, "ca") == 0)
			slot = &cli_conf.ca;
		else if (strcmp(k, "socket") == 0)
			slot = &cli_conf.socket;
		else {
			cli_warnx("%s:%u: unknown key %s (known: url, token_file, "
			    "ca, socket)", cli_conf.path, lineno, k);
			fclose(f);
			return -1;
		}
		free(*slot);
		if ((*slot = strdup(v)) == NULL) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* The token in path: its first line, without surrounding blanks. */
static int
cli_read_token(const char *path)
{
	char *t;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL) {
		cli_warnx("cannot read the token file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	cli_token_buf = OPENSSL_zalloc(CLI_TOKEN_MAX + 1);
	if (cli_token_buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(cli_token_buf, 1, CLI_TOKEN_MAX, f);
	fclose(f);
	cli_token_buf[n] = '\0';
	cli_token_buf[strcspn(cli_token_buf, "\r\n")] = '\0';
	t = cli_trim(cli_token_buf);
	if (*t == '\0') {
		cli_warnx("the token file %s is empty", path);
		return -1;
	}
	memmove(cli_token_buf, t, strlen(t) + 1);
	return 0;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; the value or NULL. */
static const char *
cli_opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int
cli_global_opt(struct cli *cli, int argc, char **argv, int *i)
{
	const char *v;

	if ((v = cli_opt_value(argc, argv, i, "--url")) != NULL)
		cli->url = v;
	else if ((v = cli_opt_value(argc, argv, i, "--token-file")) != NULL)
		cli->token_file = v;
	else if ((v = cli_opt_value(argc, argv, i, "--token")) != NULL)
		cli->token = v;
	else if ((v = cli_opt_value(argc, argv, i, "--ca")) != NULL)
		cli->ca = v;
	else
		return 0;
	return 1;
}

int
cli_endpoint_setup(struct cli *cli)
{
	struct http_endpoint ep = { NULL, NULL, NULL };
	const char *token_file = NULL, *v;
	char err[512];

	if (cli_conf_load() != 0)
		return CLI_USAGE;
	if (cli->url == NULL && cli->socket == NULL) {
		if ((v = cli_env("BORA_URL")) != NULL)
			cli->url = v;
		else if (cli_env("BORA_SOCKET") == NULL) {
			if (cli_conf.url != NULL)
				cli->url = cli_conf.url;
			else if (cli_conf.socket != NULL)
				cli->socket = cli_conf.socket;
		}
	}
	if (cli->url == NULL)
		return CLI_OK;
	if (cli->token == NULL && cli->token_file == NULL) {
		if ((v = cli_env("BORA_TOKEN")) != NULL)
			cli->token = v;
		else if ((v = cli_env("BORA_TOKEN_FILE")) != NULL)
			cli->token_file = v;
		else
			cli->token_file = cli_conf.token_file;
	}
	token_file = cli->token_file;
	if (cli->token == NULL && token_file != NULL) {
		if (cli_read_token(token_file) != 0)
			return CLI_FAIL;
		cli->token = cli_token_buf;
	}
	if (cli->ca == NULL)
		cli->ca = (v = cli_env("BORA_CA")) != NULL ? v : cli_conf.ca;
	ep.url = cli->url;
	ep.token = cli->token;
	ep.ca_file = cli->ca;
	if (http_set_endpoint(&ep, err, sizeof(err)) != 0) {
		cli_warnx("--url %s", err);
		return CLI_USAGE;
	}
	return CLI_OK;
}

void
cli_endpoint_free(void)
{
	http_endpoint_free();
	if (cli_token_buf != NULL)
		OPENSSL_clear_free(cli_token_buf, CLI_TOKEN_MAX + 1);
	cli_token_buf = NULL;
	free(cli_conf.url);
	free(cli_conf.token_file);
	free(cli_conf.ca);
	free(cli_conf.socket);
	memset(&cli_conf, 0, sizeof(cli_conf));
}
