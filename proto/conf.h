/*
 * conf.h: daemon configuration from a YAML file, then command-line flags.
 *
 * Each daemon describes its settings in one const table of struct
 * bora_conf_item. A YAML file is a mapping; nested mappings give dotted keys
 * ("tls: {cert: x}" sets "tls.cert"). A flag "--tls-cert x" or "--tls-cert=x"
 * (dots become dashes) overrides the file. Unknown keys, wrong types, values
 * out of range and duplicate keys are errors that name file:line:column (or
 * the flag), one sentence each; every error found is reported.
 */
#ifndef BORA_PROTO_CONF_H
#define BORA_PROTO_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

enum bora_conf_type {
	BORA_CONF_STRING,   /* char *: the field starts NULL or malloc'ed; a new
	                       value frees the old one */
	BORA_CONF_PATH,     /* char *, like STRING; relative paths in a file are
	                       taken relative to the file's directory */
	BORA_CONF_INT,      /* long, within [min, max] */
	BORA_CONF_BOOL,     /* int: true/false/yes/no/on/off */
	BORA_CONF_MAP,      /* json_t * object of labels (labels.h); a flag
	                       takes "k=v,k2=v2" */
};

struct bora_conf_item {
	const char *key;           /* "tls.cert" */
	enum bora_conf_type type;
	size_t offset;             /* offsetof() into the daemon's config struct */
	long min, max;             /* BORA_CONF_INT only */
	const char *help;          /* one line for --help */
	int required;              /* no default: load fails when unset */
};

/*
 * A daemon's whole configuration story: its settings table, defaults and
 * the checks that need every source applied. bora_conf_daemon_load() does
 * what both daemons do: zero conf, handle --config FILE and --help, set
 * defaults, load the file, apply flags, refuse stray arguments, report
 * unset required settings, then run check(). Every problem is printed to
 * stderr as "prog: ..." and counted.
 */
struct bora_conf_daemon {
	const char *prog;
	const struct bora_conf_item *items;
	size_t n_items;
	int (*defaults)(void *conf);          /* 0, or -1: out of memory */
	int (*check)(void *conf);             /* number of problems printed */
};

/* 0 (free with bora_conf_free), or -1 with conf already freed. --help
 * prints bora_conf_daemon_usage() and exits 0. */
int bora_conf_daemon_load(const struct bora_conf_daemon *d, void *conf,
    size_t conf_size, int argc, char **argv);
void bora_conf_daemon_usage(const struct bora_conf_daemon *d, FILE *out);

/* Load path into conf (fields not in the file keep their values).
 * Returns 0, or -1 after writing every error to errbuf (lines ending in
 * '\n', truncated to errlen), each "FILE:LINE:COLUMN: sentence" (or
 * "FILE: sentence" when the file cannot be read). Files over 1 MiB, more
 * than one document, a top level that is not a mapping, anchors and aliases
 * are refused. An empty file sets nothing. A relative PATH value is made
 * absolute against the file's directory. A MAP value replaces the map. */
int bora_conf_load_file(const struct bora_conf_item *items, size_t n_items,
    void *conf, const char *path, char *errbuf, size_t errlen);

/* The same for a file's text already read (len bytes; text stays the
 * caller's), named name in errors and for relative PATH values. */
int bora_conf_load_text(const struct bora_conf_item *items, size_t n_items,
    void *conf, const char *name, const char *text, size_t len,
    char *errbuf, size_t errlen);

/*
 * Apply flags from argv[first..argc) that name items. Stops at the first
 * argument that is not a flag ("--" ends flags) and returns its index in
 * *next. Returns 0, or -1 with the errors in errbuf ("--flag: sentence").
 *
 * The flag of key "tls.cert" is --tls-cert, of "max_message_bytes"
 * --max-message-bytes (dots and underscores become dashes); "--name VALUE"
 * and "--name=VALUE" both work, but a separate VALUE may not start with
 * "--". A BOOL flag takes no separate value: "--name" sets it, "--no-name"
 * clears it, "--name=off" works too. A MAP flag replaces the whole map.
 * Relative PATH values from flags are kept as given (relative to the cwd).
 * "--config FILE" / "--config=FILE" is skipped as known: the daemon reads
 * the file itself before calling this (as it handles --help). An unknown
 * flag, including a single-dash one, is an error.
 */
int bora_conf_apply_flags(const struct bora_conf_item *items, size_t n_items,
    void *conf, int argc, char **argv, int first, int *next,
    char *errbuf, size_t errlen);

/*
 * The daemon's own arguments, looked for in argv[first..argc) up to "--":
 * "--config FILE" or "--config=FILE" (the last one wins) sets *path (a
 * pointer into argv, NULL when absent); "--help" or "-h" sets *help.
 * Returns 0, or -1 with the error in errbuf when --config has no value.
 */
int bora_conf_find_config(int argc, char **argv, int first,
    const char **path, int *help, char *errbuf, size_t errlen);

/* Write each line of errbuf to out as "prog: line". */
void bora_conf_print_errors(FILE *out, const char *prog, const char *errbuf);

/* Free the strings and maps the loader allocated in conf. */
void bora_conf_free(const struct bora_conf_item *items, size_t n_items,
    void *conf);

/* Print "  --tls-cert VALUE   help" lines for every item. */
void bora_conf_usage(const struct bora_conf_item *items, size_t n_items,
    FILE *out);

#endif
