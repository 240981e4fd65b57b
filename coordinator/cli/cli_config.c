/*
 * cli_config.c: the CLI's config file (cli_config_int.h), parsed by
 * libyaml through proto/conf.c after the older "key = value" lines are
 * turned into "key: value".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_config_int.h"
#include "conf.h"

#define CLI_CONFIG_MAX  (1024 * 1024)      /* as conf.c's files */

static const struct bora_conf_item cli_config_items[] = {
	{ "url", BORA_CONF_STRING, offsetof(struct cli_config, url), 0, 0,
	  "the coordinator's HTTPS API: https://HOST:PORT", 0 },
	{ "token_file", BORA_CONF_STRING, offsetof(struct cli_config,
	  token_file), 0, 0, "the operator token's file", 0 },
	{ "ca", BORA_CONF_STRING, offsetof(struct cli_config, ca), 0, 0,
	  "the coordinator's CA (PEM)", 0 },
	{ "socket", BORA_CONF_STRING, offsetof(struct cli_config, socket), 0,
	  0, "the coordinator's API socket", 0 },
};
#define CLI_CONFIG_N (sizeof(cli_config_items) / sizeof(cli_config_items[0]))

/* Where the '=' of a "key =" line[0..n) is (blanks, a name, blanks, '='),
 * *name where its name starts; 0 when the line is not one. */
static size_t
cli_config_eq_key(const char *line, size_t n, size_t *name)
{
	size_t i = 0;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*name = i;
	while (i < n && (isalnum((unsigned char)line[i]) || line[i] == '_'))
		i++;
	if (i == *name || isdigit((unsigned char)line[*name]))
		return 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && line[i] == '=' ? i : 0;
}

/*
 * text with each "key = value" line as "key: value" (flat: without the
 * blanks before key; a blank after the ':' when none followed the '='):
 * malloc'ed, NUL-terminated, the caller frees it; *outlen its length. NULL
 * when out of memory.
 */
static char *
cli_config_yaml(const char *text, size_t len, size_t *outlen)
{
	const char *line = text, *end = text + len, *eol;
	size_t n, k, name, o = 0;
	char *out;

	if ((out = malloc(2 * len + 1)) == NULL)   /* a line grows by 1 */
		return NULL;
	for (; line < end; line = eol) {
		eol = memchr(line, '\n', (size_t)(end - line));
		eol = eol ? eol + 1 : end;
		n = (size_t)(eol - line);
		if ((k = cli_config_eq_key(line, n, &name)) == 0) {
			memcpy(out + o, line, n);
			o += n;
			continue;
		}
		memcpy(out + o, line + name, k - name);
		o += k - name;
		out[o++] = ':';
		if (k + 1 < n && line[k + 1] != ' ' && line[k + 1] != '\t' &&
		    line[k + 1] != '\r' && line[k + 1] != '\n')
			out[o++] = ' ';
		memcpy(out + o, line + k + 1, n - k - 1);
		o += n - k - 1;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

int
cli_config_parse(const char *name, const char *text, size_t len,
    struct cli_config *cfg, char *errbuf, size_t errlen)
{
	char *yaml;
	size_t ylen;
	int rc;

	if ((yaml = cli_config_yaml(text, len, &ylen)) == NULL) {
		snprintf(errbuf, errlen, "%s: out of memory\n", name);
		return -1;
	}
	rc = bora_conf_load_text(cli_config_items, CLI_CONFIG_N, cfg, name,
	    yaml, ylen, errbuf, errlen);
	free(yaml);
	return rc;
}

int
cli_config_read(const char *path, struct cli_config *cfg, char *errbuf,
    size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, rc = -1;

	errbuf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, errlen, "cannot read %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if ((text = malloc(CLI_CONFIG_MAX + 1)) == NULL) {
		snprintf(errbuf, errlen, "%s: out of memory\n", path);
		goto out;
	}
	while (len <= CLI_CONFIG_MAX) {
		r = read(fd, text + len, CLI_CONFIG_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(errbuf, errlen, "cannot read %s: %s\n", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CLI_CONFIG_MAX) {
		snprintf(errbuf, errlen, "%s: the file is larger than 1 MiB\n",
		    path);
		goto out;
	}
	rc = cli_config_parse(path, text, len, cfg, errbuf, errlen);
out:
	free(text);
	close(fd);
	return rc;
}

void
cli_config_free(struct cli_config *cfg)
{
	bora_conf_free(cli_config_items, CLI_CONFIG_N, cfg);
	memset(cfg, 0, sizeof(*cfg));
}
