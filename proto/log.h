/*
 * log.h: one event per line, to stderr.
 *
 *   2026-11-22T05:04:42.123Z info  server: agent connected agent=web1 addr=127.0.0.1:50312
 *
 * RFC 3339 UTC time, level, component, message, then key=value context that
 * the caller writes into the format (exec= task= agent= step= addr=), so that
 * `grep agent=web1` tells one agent's story. With BORA_LOG_JSON each event is
 * one JSON object: {"time","level","component","msg", and one member per
 * key=value pair found at the end of the message}.
 *
 * log_warn() appends ": strerror(errno)" to the message, before its trailing
 * key=value context (so that context stays parseable), log_warnx() does not
 * (OpenBSD). A line is at most 8 KiB; a longer one is cut and ends in "...".
 * Text lines write control bytes of the message (other than tab) as \n, \r
 * or \xNN, so an event is always one line.
 * In JSON, the members time, level, component and msg are never taken from
 * key=value tokens (such a token stays in msg).
 * Values that could hold spaces are quoted by the caller with "%s" -> use
 * bora_log_quote() when a value comes from the network.
 */
#ifndef BORA_PROTO_LOG_H
#define BORA_PROTO_LOG_H

#include <stddef.h>

enum bora_log_level {
	BORA_LOG_ERROR, BORA_LOG_WARN, BORA_LOG_INFO, BORA_LOG_DEBUG
};
enum bora_log_format { BORA_LOG_TEXT, BORA_LOG_JSON };

/* Defaults: info, text. Also routes libwebsockets' own log lines here
 * (errors and warnings, as component "lws"). */
void bora_log_init(enum bora_log_level level, enum bora_log_format format);

/* "error" "warn" "info" "debug" -> level; -1 when unknown. */
int bora_log_level_parse(const char *s);
int bora_log_format_parse(const char *s);   /* "text" "json" */

/* For config checks: print "prog: log.level: ..." for a value that does
 * not parse (same for log.format); returns the number of problems. */
int bora_log_check_settings(const char *prog, const char *level,
    const char *format);

void bora_log(enum bora_log_level level, int with_errno, const char *component,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_errorx(c, ...) bora_log(BORA_LOG_ERROR, 0, c, __VA_ARGS__)
#define log_warn(c, ...)   bora_log(BORA_LOG_WARN, 1, c, __VA_ARGS__)
#define log_warnx(c, ...)  bora_log(BORA_LOG_WARN, 0, c, __VA_ARGS__)
#define log_info(c, ...)   bora_log(BORA_LOG_INFO, 0, c, __VA_ARGS__)
#define log_debug(c, ...)  bora_log(BORA_LOG_DEBUG, 0, c, __VA_ARGS__)

/*
 * Copy s into buf (size n) so it is safe as one key=value value: printable
 * ASCII without spaces, quotes or '=' is kept as is; anything else gives a
 * double-quoted string with \" \\ \n \t and \xNN escapes. Truncated with
 * "..." when it does not fit. Returns buf.
 */
const char *bora_log_quote(const char *s, char *buf, size_t n);

#endif
