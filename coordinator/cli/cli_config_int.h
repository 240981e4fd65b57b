/*
 * cli_config_int.h: the CLI's config file (cli_config.c), for
 * cli_endpoint.c and the unit test; nothing else includes it.
 *
 * A YAML mapping read with libyaml through proto/conf.c: url, token_file,
 * ca, socket (strings), '#' comments, values plain or quoted:
 *
 *   url: https://coord.example:7444
 *   token_file: /home/ops/.config/bora/operator.token
 *
 * Lines of the CLI's older form "key = value" (blanks before the key
 * allowed) are read as "key: value".
 * Errors name FILE:LINE:COLUMN.
 */
#ifndef BORA_CLI_CONFIG_INT_H
#define BORA_CLI_CONFIG_INT_H

#include <stddef.h>

struct cli_config {
	char *url;                 /* each malloc'ed, or NULL when not set */
	char *token_file;
	char *ca;
	char *socket;
};

/*
 * Read the file at path into cfg (which starts zeroed): 0 (a missing file
 * sets nothing), or -1 with every error in errbuf, one line each. Files
 * over 1 MiB are refused. cfg is the caller's to free either way.
 */
int cli_config_read(const char *path, struct cli_config *cfg, char *errbuf,
    size_t errlen);

/* The same for the file's text (len bytes, stays the caller's), named
 * name in the errors. */
int cli_config_parse(const char *name, const char *text, size_t len,
    struct cli_config *cfg, char *errbuf, size_t errlen);

/* Free what cfg holds and zero it. */
void cli_config_free(struct cli_config *cfg);

#endif
