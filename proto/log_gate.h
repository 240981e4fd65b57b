/*
 * log_gate.h: repeated log events, rate limited per kind and source, so a
 * hostile peer or a full disk cannot turn into a log line per packet or per
 * loop turn. In each window of LOG_GATE_WINDOW_MS, a (kind, source) pair
 * passes LOG_GATE_BURST events and a kind LOG_GATE_KIND_BURST events over
 * all its sources; the rest are counted, and the next line that passes for
 * that pair says how many were left out (" suppressed=N").
 *
 *   log_limited(BORA_LOG_WARN, "server", "bad_message", addr,
 *       "bad message addr=%s error=%s", addr, why);
 *
 * kind must be a string that lives for the process (a literal); source is
 * copied (cut to LOG_GATE_SOURCE_MAX bytes). The table is fixed in size: a
 * pair that falls on the slot of another takes it over.
 */
#ifndef BORA_PROTO_LOG_GATE_H
#define BORA_PROTO_LOG_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define LOG_GATE_WINDOW_MS  10000
#define LOG_GATE_BURST      5
#define LOG_GATE_KIND_BURST 50
#define LOG_GATE_SOURCE_MAX 63

/* 1 when an event of kind from source may be logged now, with suffix set
 * to "" or " suppressed=N" (N of this pair held back since its last line);
 * 0 when it is held back (counted). At time now_ms (monotonic). */
int bora_log_gate_at(const char *kind, const char *source, int64_t now_ms,
    char *suffix, size_t suffixlen);
/* The same at bora_mono_ms(). */
int bora_log_gate(const char *kind, const char *source, char *suffix,
    size_t suffixlen);
/* Forget every count (tests). */
void bora_log_gate_reset(void);

#define log_limited(level, c, kind, source, fmt, ...) do {                  \
	char log_gate_sfx_[40];                                             \
	if (bora_log_gate((kind), (source), log_gate_sfx_,                  \
	    sizeof(log_gate_sfx_)))                                         \
		bora_log((level), 0, (c), fmt "%s", __VA_ARGS__,            \
		    log_gate_sfx_);                                         \
} while (0)

#endif
