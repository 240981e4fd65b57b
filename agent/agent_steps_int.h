/*
 * agent_steps_int.h: what the files of the agent's step module share;
 * agent_steps.h is its API. Included only by those files and their unit
 * tests.
 *
 * A step lives in the table from its run message until the coordinator
 * acks its result. Its life, and the file that does each part:
 *
 *   step_table.c    the table: by id (a chained hash) and in start order
 *   step_launch.c   run: the step's directory, its runner's exec request,
 *                   the journal's "started", exec_start, "accept", the
 *                   timeout armed
 *   step_watch.c    stdout, stderr and the pidfd adopted into the lws loop
 *                   (raw files, protocol "bora-pipe" on the vhost
 *                   "default"; each wsi's opaque user pointer is a struct
 *                   steps_handle naming step and fd); pidfd readable:
 *                   waitpid; pipes still open 2 s after that (a background
 *                   process holds them) closed by us
 *   step_output.c   output messages as the pipes are readable, at most
 *                   32 KiB of data each; backpressure; the output cap
 *   step_stop.c     timeout and cancel kill the process group; so does
 *                   shutdown
 *   step_result.c   reaped and both pipes at EOF: the result is made,
 *                   journaled "finished", kept (JSON) and sent until ack
 *   step_journal.c  at start the journal's entries become finished steps
 *                   waiting for ack; on ack the entry and the step's
 *                   directories go and the step is freed
 *   step_orphan.c   at start, before a started-only entry becomes "lost":
 *                   its journaled process group, if still running in this
 *                   boot, is killed
 *
 * Backpressure: a pipe is read only while the connection's send queue can
 * take the worst case of one read (STEPS_QUEUE_RESERVE); otherwise its
 * POLLIN is turned off (lws_rx_flow_control) and it waits on steps.paused
 * for steps_on_send_space(). lws closes a raw file on POLLHUP even while
 * its POLLIN is off, so a pipe whose writers all exit while paused is
 * kept as a dup'ed descriptor (drain_fd) and drained, without the loop,
 * when space comes: its writers are gone, so reads never block and what
 * is left is at most one pipe buffer. While disconnected, output is read,
 * counted and dropped; so is output past max_output_bytes.
 *
 * The journal (journal.c) makes this survive the agent: "started" is
 * written before exec (no entry, no run), "finished" with the result before
 * the result is sent, and the entry goes on ack. At start, steps_init()
 * loads it: finished entries (and started-only ones, which journal.c turns
 * into "lost" once step_orphan.c has killed what is left of their process
 * group) become finished
 * steps waiting for ack, oldest first, so a repeated run gets the stored
 * result and never a second run (docs/protocol.md, "Steps never run
 * twice, results are never lost").
 *
 * Everything runs on the one lws thread; nothing here is thread-safe.
 */
#ifndef BORA_AGENT_AGENT_STEPS_INT_H
#define BORA_AGENT_AGENT_STEPS_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "agent_config.h"
#include "agent_steps.h"
#include "msg.h"
#include "runners.h"

#define STEPS_VHOST         "default"      /* agent_main.c: vhost_name */
#define STEPS_PIPE_PROTOCOL "bora-pipe"
#define STEPS_READ_MAX      (32 * 1024)    /* bytes read from a pipe at once */
#define STEPS_CHUNK_MAX     (32 * 1024)    /* bytes of data per output message */
/* Queue room one read can need: 32 KiB + 3 tail bytes, each byte at worst
 * 6 bytes of JSON (a control byte as \u00XX), plus four message headers. */
#define STEPS_QUEUE_RESERVE (6 * (STEPS_READ_MAX + 4) + 4 * 1024)
#define STEPS_GRACE_US      (2 * LWS_US_PER_SEC)
#define STEPS_HASH_SIZE     256
#define STEPS_MAX           1000   /* running plus finished-not-acked */
#define STEPS_ERR_MAX       512    /* result.error; the protocol takes 1024 */
#define STEPS_REASON_MAX    256    /* bytes of a cancel reason we keep */
#define STEPS_STOP_WAIT_MS  1000   /* at shutdown, for killed steps to die */
#define STEPS_KEEP_MAX      (64 * 1024)  /* last bytes of a stream kept for
                                            the result (deploy_stdout) */
/* Bytes of results hello carries; the rest follow it as result messages
 * (steps_on_connected), so hello stays one message whatever is pending. */
#define STEPS_HELLO_RESULTS_MAX (512 * 1024)
#define STEPS_USER_WORK_PREFIX  "/tmp/bora-step-"  /* runners.c's mkdtemp */

enum steps_fd { STEPS_FD_STDOUT, STEPS_FD_STDERR, STEPS_FD_PIDFD };

struct step;

/* What a wsi's opaque user pointer points to (inside its struct step). */
struct steps_handle {
	struct step *step;
	enum steps_fd fd;
};

/* One of a step's two output pipes. */
struct steps_stream {
	struct step *step;
	enum bora_stream which;
	struct lws *wsi;            /* adopted read end, NULL once closed */
	int drain_fd;               /* see the top of the file; -1 if none */
	int paused;                 /* on steps.paused */
	int closing;                /* we close it: do not drain */
	int capped;                 /* max_output_bytes reached (logged) */
	uint64_t seq;               /* next output sequence number */
	uint64_t bytes;             /* bytes the step wrote, kept or not */
	char tail[4];               /* start of a UTF-8 sequence cut by a read */
	size_t tail_len;
	char *keep;                 /* its last keep_max bytes, raw (owned) */
	size_t keep_len, keep_cap, keep_max;
	TAILQ_ENTRY(steps_stream) pause_link;
};

/* A step, owned by the table (steps_new, steps_free). */
struct step {
	char *id;
	char kind[BORA_MAX_KIND + 1];   /* of the run, for the journal */
	struct step *hash_next;
	TAILQ_ENTRY(step) all_link;     /* steps.all, by start */
	TAILQ_ENTRY(step) done_link;    /* steps.done, by finish */
	int finished;                   /* result made, waiting for ack */
	int send_pending;               /* result could not be queued */
	pid_t pid;                      /* 0 if it never started */
	int reaped;
	int wstatus;
	int wait_errno;                 /* waitpid() failed with this */
	struct lws *pid_wsi;
	struct steps_handle h[3];       /* by enum steps_fd */
	struct steps_stream s[2];       /* by enum bora_stream */
	uint32_t timeout_s;
	int timed_out;
	int cancelled;
	char *cancel_reason;            /* owned */
	int64_t started_ms, finished_ms;
	lws_sorted_usec_list_t timeout_sul;
	lws_sorted_usec_list_t grace_sul;
	int has_dir;                    /* remove dir on ack */
	char dir[PATH_MAX];
	char work[PATH_MAX];            /* the step's files, if not dir ("") */
	const struct runner *runner;    /* NULL until the runner is known */
	struct runner_user user;
	json_t *spec, *inputs;          /* of the run (references), for finish */
	json_t *result;                 /* bora_result_to_json(), owned */
	size_t result_len;              /* its compact JSON size */
};

TAILQ_HEAD(steps_list, step);
TAILQ_HEAD(steps_pause_list, steps_stream);

/* The module's state: one table per agent process (step_table.c). ctx, vhost
 * and cfg are borrowed from agent_main.c; the journal and every step are
 * owned. */
struct steps_state {
	int ready;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	const struct agent_config *cfg;
	struct journal *journal;
	struct step *hash[STEPS_HASH_SIZE];
	struct steps_list all;          /* every step, by start */
	struct steps_list done;         /* finished ones, by finish */
	struct steps_pause_list paused; /* streams waiting for queue room */
	size_t count;
	size_t results_pending;         /* steps with send_pending */
};

extern struct steps_state steps;

/* ---- step_table.c ---- */

/* Empty the table (forgetting what it held: call after steps_free() of
 * each step, or at start). */
void steps_table_init(void);
/* The step of id, or NULL; the table keeps it. */
struct step *steps_find(const char *id);
/* A new step of kind in the table (not started), or NULL when out of
 * memory; id and kind are copied. The table owns it until steps_free(). */
struct step *steps_new(const char *id, const char *kind, uint32_t timeout_s);
/* Unlink st from every list and free it, closing whatever it still has
 * (no callback about it reaches the module afterwards). */
void steps_free(struct step *st);
/* Remove dir and all it holds, without following symlinks or leaving the
 * file system; failures are logged. */
void steps_rm_dir(const char *dir);

/* ---- step_launch.c ---- */

/* st->dir = STATE/steps/ID. 0, or -1 when too long. */
int steps_dir_path(struct step *st);
/* Run the step (run is borrowed; st takes references to its spec and
 * inputs): its files, its process, its watches, its timeout. A step that
 * cannot start gets its error result at once. */
void steps_start(struct step *st, const struct bora_run *run);

/* ---- step_watch.c ---- */

/* Adopt fd (taken) into the loop for h. NULL (fd closed) on failure. */
struct lws *steps_adopt(int fd, struct steps_handle *h);
/* Close a wsi of ours now, without telling the module about it; *wsi
 * becomes NULL. */
void steps_drop_wsi(struct lws **wsi);

/* ---- step_output.c ---- */

void steps_stream_pause(struct steps_stream *s);
/* Off the paused list; POLLIN back on if the pipe is still in the loop. */
void steps_stream_unpause(struct steps_stream *s);
/* One read from fd into the stream: counted, kept for the result, sent
 * (if connected and under the cap). 1: data, 2: nothing there now, 0: end
 * of file, -1: error (logged). */
int steps_stream_read(struct steps_stream *s, int fd);
/* End of the stream: what is left of a cut UTF-8 sequence goes out as
 * U+FFFD. */
void steps_stream_flush(struct steps_stream *s);
/* 1 when the stream's pipe is closed and drained. */
int steps_stream_done(const struct steps_stream *s);
/* 1 when a read's worth of output may be taken now. */
int steps_can_read(void);
/* Resume the paused streams, oldest first, while the queue has room:
 * POLLIN back on, or a kept pipe drained (which may finish its step). */
void steps_output_resume(void);

/* ---- step_stop.c ---- */

/* The timeout_sul callback that step_launch.c arms. */
void steps_on_timeout(lws_sorted_usec_list_t *sul);
/* Kill the running st's process group for a cancel; reason (borrowed, may
 * be NULL) is kept for the result. Logged and ignored when st is ending
 * anyway. */
void steps_cancel(struct step *st, const char *reason);
/* Shutdown: kill every running step's process group, give them
 * STEPS_STOP_WAIT_MS in all to die, reap them, free every step. */
void steps_stop_all(void);

/* ---- step_result.c ---- */

/* A step that never ran: status (error or lost) and a sentence. */
void steps_fail(struct step *st, enum bora_status status, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Make the result once the process is reaped and both pipes are done;
 * otherwise nothing. */
void steps_maybe_finish(struct step *st);
/* Queue st's result; when the queue is full, mark it to go on
 * steps_resend_pending(). Nothing while disconnected. */
void steps_send_result(struct step *st);
/* Send the results that found the queue full. */
void steps_resend_pending(void);
/* The compact JSON size of j (0 for NULL). */
size_t steps_json_len(const json_t *j);

/* ---- step_journal.c ---- */

/* Load the journal into the table, oldest result first. 0, or -1. */
int steps_load_journal(void);
/* Remove the directories under base of steps the table does not know. */
void steps_sweep_dirs(const char *base);
/* The finished st was acked: its directories, its journal entry, then st
 * itself go. */
void steps_forget(struct step *st);

/* ---- step_orphan.c ---- */

/* journal_load()'s journal_left_fn: e's process group, journaled in this
 * boot and still there, is SIGKILLed and awaited (at most 2 s). */
struct journal;
struct journal_entry;
void steps_end_left(const struct journal *j, const struct journal_entry *e);

#endif
