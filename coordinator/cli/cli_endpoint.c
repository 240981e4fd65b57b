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
 * ~/.config/bora/config: a YAML mapping (cli_config.c; "key = value" lines
 * too), read once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli_config_int.h"
#include "cli_int.h"
#include "conf.h"

#define CLI_TOKEN_MAX  4096

static struct {
	struct cli_config file;
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

/* Read the config file once; a missing one is no error. 0, or -1 after
 * saying what is wrong with it. */
static int
cli_conf_load(void)
{
	char errbuf[4096];

	if (cli_conf.loaded)
		return 0;
	cli_conf.loaded = 1;
	cli_conf_path(cli_conf.path, sizeof(cli_conf.path));
	if (cli_conf.path[0] == '\0')
		return 0;
	if (cli_config_read(cli_conf.path, &cli_conf.file, errbuf,
	    sizeof(errbuf)) == 0)
		return 0;
	bora_conf_print_errors(stderr, "bora", errbuf);
	if (strstr(errbuf, ": unknown key ") != NULL)
		fprintf(stderr, "bora: the keys of %s are url, token_file, ca "
		    "and socket\n", cli_conf.path);
	cli_config_free(&cli_conf.file);
	return -1;
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
			if (cli_conf.file.url != NULL)
				cli->url = cli_conf.file.url;
			else if (cli_conf.file.socket != NULL)
				cli->socket = cli_conf.file.socket;
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
			cli->token_file = cli_conf.file.token_file;
	}
	token_file = cli->token_file;
	if (cli->token == NULL && token_file != NULL) {
		if (cli_read_token(token_file) != 0)
			return CLI_FAIL;
		cli->token = cli_token_buf;
	}
	if (cli->ca == NULL)
		cli->ca = (v = cli_env("BORA_CA")) != NULL ? v : cli_conf.file.ca;
	ep.url = cli->url;
	ep.token = cli->token;
	ep.ca_file = cli->ca;
	if (http_set_endpoint(&ep, err, sizeof(err)) != 0) {
		cli_warnx("--url %s", err);
		return CLI_USAGE;
	}
	return CLI_OK;
}
