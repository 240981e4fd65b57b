/* log_gate.c: see log_gate.h. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "idmap.h"
#include "log_gate.h"

#define LOG_GATE_SLOTS 1024   /* pairs; a power of two */
#define LOG_GATE_KINDS 64     /* kinds; past that, kinds share the last */

struct log_gate_count {
	int64_t window_start;
	unsigned passed;          /* in the window */
	uint64_t suppressed;      /* since the last line that passed */
};

struct log_gate_slot {
	const char *kind;         /* NULL: free */
	char source[LOG_GATE_SOURCE_MAX + 1];
	struct log_gate_count n;
};

static struct log_gate_slot log_gate_slots[LOG_GATE_SLOTS];
static struct {
	const char *kind;
	struct log_gate_count n;
} log_gate_kinds[LOG_GATE_KINDS];

void
bora_log_gate_reset(void)
{
	memset(log_gate_slots, 0, sizeof(log_gate_slots));
	memset(log_gate_kinds, 0, sizeof(log_gate_kinds));
}

static struct log_gate_count *
log_gate_kind(const char *kind)
{
	size_t i;

	for (i = 0; i < LOG_GATE_KINDS - 1; i++) {
		if (log_gate_kinds[i].kind == NULL)
			log_gate_kinds[i].kind = kind;
		if (log_gate_kinds[i].kind == kind ||
		    strcmp(log_gate_kinds[i].kind, kind) == 0)
			return &log_gate_kinds[i].n;
	}
	return &log_gate_kinds[LOG_GATE_KINDS - 1].n;
}

static struct log_gate_slot *
log_gate_slot(const char *kind, const char *source)
{
	size_t h = (idmap_hash(kind) * 31 + idmap_hash(source)) &
	    (LOG_GATE_SLOTS - 1);
	struct log_gate_slot *s = &log_gate_slots[h];

	if (s->kind == NULL || strcmp(s->kind, kind) != 0 ||
	    strncmp(s->source, source, LOG_GATE_SOURCE_MAX) != 0) {
		memset(s, 0, sizeof(*s));
		s->kind = kind;
		snprintf(s->source, sizeof(s->source), "%s", source);
	}
	return s;
}

/* A new window once the old one is over. */
static void
log_gate_tick(struct log_gate_count *c, int64_t now_ms)
{
	if (c->window_start == 0 || now_ms - c->window_start >=
	    LOG_GATE_WINDOW_MS || now_ms < c->window_start) {
		c->window_start = now_ms;
		c->passed = 0;
	}
}

int
bora_log_gate_at(const char *kind, const char *source, int64_t now_ms,
    char *suffix, size_t suffixlen)
{
	struct log_gate_slot *s = log_gate_slot(kind, source ? source : "");
	struct log_gate_count *k = log_gate_kind(kind);

	if (now_ms == 0)
		now_ms = 1;            /* 0 marks a count never started */
	log_gate_tick(&s->n, now_ms);
	log_gate_tick(k, now_ms);
	if (s->n.passed >= LOG_GATE_BURST || k->passed >= LOG_GATE_KIND_BURST) {
		s->n.suppressed++;
		return 0;
	}
	s->n.passed++;
	k->passed++;
	if (s->n.suppressed > 0)
		snprintf(suffix, suffixlen, " suppressed=%llu",
		    (unsigned long long)s->n.suppressed);
	else if (suffixlen > 0)
		suffix[0] = '\0';
	s->n.suppressed = 0;
	return 1;
}

int
bora_log_gate(const char *kind, const char *source, char *suffix,
    size_t suffixlen)
{
	return bora_log_gate_at(kind, source, bora_mono_ms(), suffix,
	    suffixlen);
}
