/*
 * journal.h: the agent's on-disk record of the steps it started and the
 * results it has not had acked (docs/protocol.md, "Steps never run twice,
 * results are never lost").
 *
 * STATE_DIR/journal/ (0700) holds one small file per step, "step.<ID>",
 * each one compact JSON object:
 *
 *   started:  {"journal":1,"step":ID,"kind":KIND,"started_ms":N[,"work":P]}
 *             written before fork, then again after fork and before exec
 *             (exec.h, before_exec) with [,"pgid":G,"boot_id":B]: its
 *             process group and the boot (boot_id.h) it runs in
 *   finished: the same plus "result": the result object exactly as the
 *             result message carries it (bora_result_to_json()).
 *
 * Every write is atomic and durable (proto/file.h): a temporary file
 * "tmp.<ID>" in the same directory, write, fsync, rename over the entry,
 * fsync the directory. So after a crash an entry is either the old one or the new
 * one, never a mix. "started" is written before the step's process is
 * exec'ed; "finished" before its result is sent; the entry is deleted when
 * the coordinator acks the result.
 *
 * Bounds: an entry is at most JOURNAL_ENTRY_MAX bytes (a result fits one
 * protocol message), and journal_load() returns at most `max` entries.
 */
#ifndef BORA_AGENT_JOURNAL_H
#define BORA_AGENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "msg.h"

/* The largest result object (compact JSON) a journal entry takes: one
 * result message of BORA_MAX_MESSAGE_BYTES, less room for its "type". */
#define JOURNAL_RESULT_MAX  (BORA_MAX_MESSAGE_BYTES - 64)
/* The largest entry file: the result and the entry's own fields. */
#define JOURNAL_ENTRY_MAX   (BORA_MAX_MESSAGE_BYTES + 8 * 1024)
#define JOURNAL_LOST_ERROR  "the agent restarted while the step ran; not " \
                            "run again"

struct journal;

/* One loaded entry. Every pointer is owned by the entry
 * (journal_entries_free). A step that was only started when an earlier
 * agent process died comes back finished, with a "lost" result and
 * lost = 1. */
struct journal_entry {
	char *step;
	char *kind;
	char *work;             /* the step's files outside its directory, or
	                           NULL (as given to journal_start) */
	int64_t pgid;           /* the step's process group, 0 if unknown */
	char *boot_id;          /* the boot it ran in, NULL if unknown */
	int64_t started_ms;
	int64_t finished_ms;    /* the result's finished_ms */
	json_t *result;         /* the result object, never NULL */
	int lost;               /* turned lost by this load */
};

/*
 * Open (creating it 0700 if need be) STATE_DIR/journal. Returns a handle
 * the caller frees with journal_close(), or NULL with err filled.
 */
struct journal *journal_open(const char *state_dir, char *err,
    size_t errlen);
void journal_close(struct journal *j);

/* The directory's path (for logs and tests); owned by j. */
const char *journal_dir(const struct journal *j);
/* This boot's id as read at journal_open(), "" if unknown; owned by j. */
const char *journal_boot_id(const struct journal *j);

/*
 * Record that step (a valid step id) of kind is about to start (pgid 0) or
 * runs in process group pgid (> 0, recorded with this boot's id); work may
 * be NULL. Durable when this returns 0; -1 with err filled otherwise (the
 * step must not run then).
 */
int journal_start(struct journal *j, const char *step, const char *kind,
    int64_t started_ms, const char *work, int64_t pgid, char *err,
    size_t errlen);

/*
 * Record the step's result (borrowed; its "step" must be step), replacing
 * whatever the entry held. -1 with err filled when it cannot be written or
 * is larger than JOURNAL_RESULT_MAX.
 */
int journal_finish(struct journal *j, const char *step, const char *kind,
    int64_t started_ms, const char *work, const json_t *result, char *err,
    size_t errlen);

/* Drop the step's entry (its result was acked). 0, also when there was
 * none; -1 (logged) when it cannot be removed. */
int journal_remove(struct journal *j, const char *step);

/* Called by journal_load() for each started-only entry (borrowed) before
 * its lost result is written: where the caller ends what is left of it. */
typedef void (*journal_left_fn)(const struct journal *j,
    const struct journal_entry *e);

/*
 * Read the journal: removes stale temporary files, logs and skips corrupt
 * or foreign files, turns started-only entries into "lost" results (written
 * back as finished) after on_left (may be NULL) has seen each, and returns at most max entries in *out (malloc'ed
 * array of *n entries, oldest first: by finished_ms, then step id; free
 * with journal_entries_free). 0, or -1 when the directory cannot be read
 * or memory runs out (nothing returned).
 */
int journal_load(struct journal *j, size_t max, journal_left_fn on_left,
    struct journal_entry **out, size_t *n);
void journal_entries_free(struct journal_entry *e, size_t n);

#endif
