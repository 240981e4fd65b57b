/*
 * steps.c: the steps this agent runs, from run message to acked result.
 *
 * A step lives in a hash by id (and in start order on steps.all) from its
 * run message until the coordinator acks its result. Its life:
 *
 *   run ─ runner builds the exec request ─ exec_start ─ "accept"
 *     stdout, stderr and the pidfd are adopted into the lws loop (raw
 *     files, protocol "bora-pipe" on the vhost "default"; the opaque user
 *     pointer of each wsi is a struct steps_handle naming step and fd)
 *   output messages as the pipes are readable, at most 32 KiB of data each
 *   pidfd readable ─ waitpid ─ both pipes at EOF (or 2 s later, closed by
 *     us: a background process may hold them) ─ result
 *   result journaled, kept (JSON) and sent until ack ─ journal entry and
 *     step directory removed, step freed
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
 * into "lost": their process died with an earlier agent) become finished
 * steps waiting for ack, oldest first, so a repeated run gets the stored
 * result and never a second run (design.md, "Steps never run twice").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "clock.h"
#include "exec.h"
#include "journal.h"
#include "log.h"
#include "runners.h"
#include "steps.h"
#include "utf8.h"

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

/* What a wsi's opaque user pointer points to. */
struct steps_handle {
	struct step *step;
	enum steps_fd fd;
};

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
	char *keep;                 /* its last keep_max bytes, raw */
	size_t keep_len, keep_cap, keep_max;
	TAILQ_ENTRY(steps_stream) pause_link;
};

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
	char *cancel_reason;
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

static struct {
	int ready;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	const struct agent_config *cfg;
	struct journal *journal;
	struct step *hash[STEPS_HASH_SIZE];
	struct steps_list all;
	struct steps_list done;
	struct steps_pause_list paused;
	size_t count;
	size_t results_pending;         /* steps with send_pending */
	char in[4 + STEPS_READ_MAX];    /* a stream's tail, then a read */
	char out[3 * (4 + STEPS_READ_MAX)];  /* the same, sanitized */
} steps;

static void steps_maybe_finish(struct step *st);
static void steps_on_grace(lws_sorted_usec_list_t *sul);

/* ---- small helpers ---- */

static int64_t
steps_now_ms(void)
{
	return bora_wall_ms();
}

/* A copy of s cut to max bytes on a UTF-8 boundary; NULL if no memory. */
static char *
steps_strdup_cut(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		n -= bora_utf8_incomplete_tail(s, n);
	return strndup(s, n);
}

static unsigned
steps_hash(const char *id)
{
	uint32_t h = 2166136261u;

	while (*id)
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return h % STEPS_HASH_SIZE;
}

static struct step *
steps_find(const char *id)
{
	struct step *st;

	for (st = steps.hash[steps_hash(id)]; st; st = st->hash_next)
		if (strcmp(st->id, id) == 0)
			return st;
	return NULL;
}

/* A new step of kind in the table (not started). NULL when out of
 * memory. */
static struct step *
steps_new(const char *id, const char *kind, uint32_t timeout_s)
{
	struct step *st;
	unsigned b;
	int i;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->id = strdup(id)) == NULL) {
		free(st);
		return NULL;
	}
	snprintf(st->kind, sizeof(st->kind), "%s", kind);
	st->timeout_s = timeout_s;
	for (i = 0; i < 3; i++) {
		st->h[i].step = st;
		st->h[i].fd = (enum steps_fd)i;
	}
	for (i = 0; i < 2; i++) {
		st->s[i].step = st;
		st->s[i].which = (enum bora_stream)i;
		st->s[i].drain_fd = -1;
	}
	b = steps_hash(id);
	st->hash_next = steps.hash[b];
	steps.hash[b] = st;
	TAILQ_INSERT_TAIL(&steps.all, st, all_link);
	steps.count++;
	return st;
}

static void
steps_stream_pause(struct steps_stream *s)
{
	if (s->paused)
		return;
	log_debug("steps", "send queue full, pausing output step=%s stream=%s",
	    s->step->id, bora_stream_name(s->which));
	s->paused = 1;
	TAILQ_INSERT_TAIL(&steps.paused, s, pause_link);
	if (s->wsi)
		lws_rx_flow_control(s->wsi, 0);
}

/* Off the paused list; POLLIN back on if the pipe is still in the loop. */
static void
steps_stream_unpause(struct steps_stream *s)
{
	if (!s->paused)
		return;
	s->paused = 0;
	TAILQ_REMOVE(&steps.paused, s, pause_link);
	if (s->wsi)
		lws_rx_flow_control(s->wsi, 1);
}

/* Close a wsi of ours now, without telling steps.c about it. */
static void
steps_drop_wsi(struct lws **wsi)
{
	if (*wsi == NULL)
		return;
	lws_set_opaque_user_data(*wsi, NULL);
	lws_set_timeout(*wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_SYNC);
	*wsi = NULL;
}

/* Unlink st from every list and free it, closing whatever it still has
 * (no callback about it reaches steps.c afterwards). */
static void
steps_free(struct step *st)
{
	struct step **pp;
	int i;

	lws_sul_cancel(&st->timeout_sul);
	lws_sul_cancel(&st->grace_sul);
	for (i = 0; i < 2; i++) {
		if (st->s[i].paused)
			TAILQ_REMOVE(&steps.paused, &st->s[i], pause_link);
		st->s[i].paused = 0;
		steps_drop_wsi(&st->s[i].wsi);
		if (st->s[i].drain_fd >= 0)
			close(st->s[i].drain_fd);
		st->s[i].drain_fd = -1;
		free(st->s[i].keep);
	}
	steps_drop_wsi(&st->pid_wsi);
	for (pp = &steps.hash[steps_hash(st->id)]; *pp; pp = &(*pp)->hash_next)
		if (*pp == st) {
			*pp = st->hash_next;
			break;
		}
	TAILQ_REMOVE(&steps.all, st, all_link);
	if (st->finished)
		TAILQ_REMOVE(&steps.done, st, done_link);
	if (st->send_pending)
		steps.results_pending--;
	steps.count--;
	json_decref(st->result);
	json_decref(st->spec);
	json_decref(st->inputs);
	runners_user_free(&st->user);
	free(st->cancel_reason);
	free(st->id);
	free(st);
}

static int
steps_rm_entry(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0 &&
	    errno != ENOENT)
		log_warn("steps", "cannot remove path=%s", path);
	return 0;
}

/* Remove dir and all it holds, without following symlinks or leaving the
 * file system. */
static void
steps_rm_dir(const char *dir)
{
	if (nftw(dir, steps_rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0
	    && errno != ENOENT)
		log_warn("steps", "cannot remove step directory dir=%s", dir);
}

/* ---- results ---- */

static void
steps_send_result(struct step *st)
{
	struct bora_msg m = { .type = BORA_MSG_RESULT };
	struct bora_msg_err err;
	int sent = 0;

	if (!conn_is_up())
		return;         /* hello carries it, and on_connected resends */
	if (bora_result_from_json(st->result, "result", &m.u.result, &err) != 0)
		log_warnx("steps", "stored result does not validate step=%s "
		    "path=%s error=\"%s\"", st->id, err.path, err.text);
	else if (conn_send(&m) == 0)
		sent = 1;
	if (sent && st->send_pending) {
		st->send_pending = 0;
		steps.results_pending--;
	} else if (!sent && !st->send_pending && conn_is_up()) {
		/* The queue is full of output: try again when it drains. */
		st->send_pending = 1;
		steps.results_pending++;
		/* conn calls steps_on_send_space() after this said 0 */
		(void)conn_can_queue(STEPS_QUEUE_RESERVE);
	}
}

/* The compact JSON size of a result. */
static size_t
steps_json_len(const json_t *j)
{
	return j ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
}

/* A result must fit one protocol message (and one journal entry): past
 * that, its outputs are dropped, saying so, and success becomes failed
 * (what the step produced did not arrive). res is not changed. */
static void
steps_result_fit(struct step *st, const struct bora_result *res)
{
	struct bora_result small = *res;
	char text[STEPS_ERR_MAX];

	st->result_len = steps_json_len(st->result);
	if (st->result == NULL || st->result_len <= JOURNAL_RESULT_MAX)
		return;
	log_warnx("steps", "result too large, dropping its outputs step=%s "
	    "bytes=%zu max=%d", st->id, st->result_len, JOURNAL_RESULT_MAX);
	snprintf(text, sizeof(text), "the result (%zu bytes) is larger than "
	    "one protocol message; its outputs were dropped", st->result_len);
	small.outputs = NULL;
	small.error = text;
	if (small.status == BORA_STATUS_SUCCESS)
		small.status = BORA_STATUS_FAILED;
	json_decref(st->result);
	st->result = bora_result_to_json(&small);
	st->result_len = steps_json_len(st->result);
}

/* st ended with res: journal the result, keep it until ack, log it and
 * send it. */
static void
steps_complete(struct step *st, struct bora_result *res)
{
	char code[16] = "-", err[STEPS_ERR_MAX];

	res->step = st->id;
	res->stdout_bytes = st->s[BORA_STREAM_STDOUT].bytes;
	res->stderr_bytes = st->s[BORA_STREAM_STDERR].bytes;
	st->result = bora_result_to_json(res);
	if (st->result == NULL && res->error != NULL) {
		res->error = NULL;     /* an error text it would not take */
		st->result = bora_result_to_json(res);
	}
	if (st->result == NULL) {
		log_errorx("steps", "cannot build the result step=%s", st->id);
		res->status = BORA_STATUS_ERROR;
		res->has_exit_code = 0;
		res->signal = 0;
		st->result = bora_result_to_json(res);
	}
	steps_result_fit(st, res);
	/* Durable before it is sent. If this fails the result still goes
	 * out from memory; an agent restart before the ack would report the
	 * step lost (its "started" entry stays), never run it again. */
	if (st->result != NULL && journal_finish(steps.journal, st->id,
	    st->kind, st->started_ms, st->work[0] ? st->work : NULL,
	    st->result, err, sizeof(err)) != 0)
		log_errorx("steps", "cannot journal the result step=%s "
		    "error=\"%s\"", st->id, err);
	st->finished = 1;
	TAILQ_INSERT_TAIL(&steps.done, st, done_link);
	if (res->has_exit_code)
		snprintf(code, sizeof(code), "%d", res->exit_code);
	log_info("steps", "step finished step=%s pid=%d status=%s exit=%s "
	    "signal=%d stdout_bytes=%llu stderr_bytes=%llu", st->id,
	    (int)st->pid, bora_status_name(res->status), code, res->signal,
	    (unsigned long long)res->stdout_bytes,
	    (unsigned long long)res->stderr_bytes);
	if (res->error)
		log_info("steps", "step error step=%s error=\"%s\"", st->id,
		    res->error);
	if (st->result != NULL)
		steps_send_result(st);
}

/* A step that never ran: status (error or lost) and a sentence. */
static void __attribute__((format(printf, 3, 4)))
steps_fail(struct step *st, enum bora_status status, const char *fmt, ...)
{
	struct bora_result res;
	char text[STEPS_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* vsnprintf may cut a UTF-8 sequence of a quoted name in two */
	text[strlen(text) - bora_utf8_incomplete_tail(text, strlen(text))] =
	    '\0';
	memset(&res, 0, sizeof(res));
	res.status = status;
	res.started_ms = 0;
	res.finished_ms = steps_now_ms();
	res.error = text;
	steps_complete(st, &res);
}

/* What the stream kept, as valid UTF-8 starting with "...[truncated N
 * bytes]\n" when its start is gone. malloc'ed; NULL if out of memory. */
static char *
steps_kept_text(const struct steps_stream *s)
{
	const char *p = s->keep ? s->keep : "";
	size_t len = s->keep_len, skip = 0, i, n, m;
	uint64_t dropped = s->bytes - s->keep_len;
	char *out, *raw;

	if (dropped > 0)        /* do not start inside a UTF-8 sequence */
		while (skip < 3 && skip < len &&
		    ((unsigned char)p[skip] & 0xC0) == 0x80)
			skip++;
	if ((raw = malloc(len - skip + 1)) == NULL)
		return NULL;
	memcpy(raw, p + skip, len - skip);
	for (i = 0; i < len - skip; i++)
		if (raw[i] == '\0')
			raw[i] = (char)0xFF;    /* becomes U+FFFD */
	if ((out = malloc(64 + 3 * (len - skip) + 1)) == NULL) {
		free(raw);
		return NULL;
	}
	m = 0;
	if (dropped > 0)
		m = (size_t)snprintf(out, 64, "...[truncated %llu bytes]\n",
		    (unsigned long long)(dropped + skip));
	n = bora_utf8_sanitize(raw, len - skip, out + m);
	out[m + n] = '\0';
	free(raw);
	return out;
}

/* Let the step's runner map what happened to status and outputs; text
 * (n bytes) may receive res->error. */
static void
steps_finish_runner(struct step *st, struct bora_result *res, char *text,
    size_t n)
{
	struct runner_done d;
	char note[STEPS_ERR_MAX], *out, *err;
	size_t used;
	int i;

	if (st->runner == NULL || st->runner->finish == NULL)
		return;
	out = steps_kept_text(&st->s[BORA_STREAM_STDOUT]);
	err = steps_kept_text(&st->s[BORA_STREAM_STDERR]);
	if (out == NULL || err == NULL) {
		log_errorx("steps", "out of memory making the result step=%s",
		    st->id);
		goto out;
	}
	memset(&d, 0, sizeof(d));
	d.spec = st->spec;
	d.inputs = st->inputs;
	d.dir = st->work[0] ? st->work : st->dir;
	d.named_user = st->user.named;
	d.uid = st->user.uid;
	d.ran_to_end = !st->timed_out && !st->cancelled && !st->wait_errno;
	d.exited = res->has_exit_code;
	d.exit_code = res->exit_code;
	d.signal = res->signal;
	if (st->wait_errno || st->timed_out || st->cancelled) {
		d.exited = !st->wait_errno && WIFEXITED(st->wstatus);
		d.exit_code = d.exited ? WEXITSTATUS(st->wstatus) : 0;
		d.signal = WIFSIGNALED(st->wstatus) ? WTERMSIG(st->wstatus) : 0;
	}
	d.out = out;
	d.out_bytes = st->s[BORA_STREAM_STDOUT].bytes;
	d.err = err;
	note[0] = '\0';
	st->runner->finish(&d, res, note, sizeof(note));
	for (i = 0; i < 2; i++) {       /* say what the output cap dropped */
		const struct steps_stream *ss = &st->s[i];

		if (!ss->capped)
			continue;
		used = strlen(note);
		snprintf(note + used, sizeof(note) - used, "%s%s passed "
		    "max_output_bytes (%ld): %llu of %llu bytes not streamed",
		    used ? "; " : "", bora_stream_name(ss->which),
		    steps.cfg->max_output_bytes, (unsigned long long)(ss->bytes -
		    (uint64_t)steps.cfg->max_output_bytes),
		    (unsigned long long)ss->bytes);
	}
	if (note[0]) {
		/* after an error the step already has, or as the error */
		if (res->error == NULL)
			text[0] = '\0';
		used = strlen(text);
		snprintf(text + used, n - used, "%s%s", used ? "; " : "", note);
		used = strlen(text);
		text[used - bora_utf8_incomplete_tail(text, used)] = '\0';
		res->error = text;
	}
out:
	free(out);
	free(err);
	for (i = 0; i < 2; i++) {       /* the result holds it now */
		free(st->s[i].keep);
		st->s[i].keep = NULL;
		st->s[i].keep_len = st->s[i].keep_cap = 0;
	}
}

/* The process is reaped and every pipe done: make the result. */
static void
steps_finish(struct step *st)
{
	struct bora_result res;
	char text[STEPS_ERR_MAX];
	int ws = st->wstatus;

	memset(&res, 0, sizeof(res));
	text[0] = '\0';
	res.started_ms = st->started_ms;
	res.finished_ms = st->finished_ms;
	res.status = BORA_STATUS_FAILED;
	if (st->wait_errno) {
		snprintf(text, sizeof(text), "cannot read the exit status: %s",
		    strerror(st->wait_errno));
		res.error = text;
	} else if (WIFEXITED(ws)) {
		res.has_exit_code = 1;
		res.exit_code = WEXITSTATUS(ws);
		if (res.exit_code == 0)
			res.status = BORA_STATUS_SUCCESS;
	} else if (WIFSIGNALED(ws)) {
		res.signal = WTERMSIG(ws);
	}
	if (st->timed_out) {
		res.status = BORA_STATUS_TIMEOUT;
		res.has_exit_code = 0;
		res.exit_code = 0;
		snprintf(text, sizeof(text), "timed out after %u s; process "
		    "group killed", st->timeout_s);
		res.error = text;
	} else if (st->cancelled) {
		res.status = BORA_STATUS_CANCELLED;
		res.has_exit_code = 0;
		res.exit_code = 0;
		snprintf(text, sizeof(text), "cancelled%s%s; process group "
		    "killed", st->cancel_reason ? ": " : "",
		    st->cancel_reason ? st->cancel_reason : "");
		text[strlen(text) - bora_utf8_incomplete_tail(text,
		    strlen(text))] = '\0';
		res.error = text;
	}
	steps_finish_runner(st, &res, text, sizeof(text));
	steps_complete(st, &res);
	json_decref(res.outputs);
}

static int
steps_stream_done(const struct steps_stream *s)
{
	return s->wsi == NULL && s->drain_fd < 0;
}

static void
steps_maybe_finish(struct step *st)
{
	if (st->finished || !st->reaped || st->pid_wsi != NULL ||
	    !steps_stream_done(&st->s[0]) || !steps_stream_done(&st->s[1]))
		return;
	lws_sul_cancel(&st->grace_sul);
	steps_finish(st);
}

/* ---- output ---- */

/* Send len bytes of data (any bytes) as output messages of valid UTF-8,
 * at most STEPS_CHUNK_MAX bytes each; dropped while disconnected. */
static void
steps_stream_send(struct steps_stream *s, char *data, size_t len)
{
	struct bora_msg m = { .type = BORA_MSG_OUTPUT };
	size_t i, n, off, piece;

	if (len == 0 || !conn_is_up())
		return;
	/* The protocol refuses NUL in strings: make it invalid, so that
	 * it becomes U+FFFD like any other bad byte. */
	for (i = 0; i < len; i++)
		if (data[i] == '\0')
			data[i] = (char)0xFF;
	n = bora_utf8_sanitize(data, len, steps.out);
	for (off = 0; off < n; off += piece) {
		piece = n - off;
		if (piece > STEPS_CHUNK_MAX) {
			piece = STEPS_CHUNK_MAX;
			while (piece > 0 &&
			    ((unsigned char)steps.out[off + piece] & 0xC0) == 0x80)
				piece--;
		}
		m.u.output.step = s->step->id;
		m.u.output.stream = s->which;
		m.u.output.seq = s->seq;
		m.u.output.data = steps.out + off;
		m.u.output.data_len = piece;
		if (conn_send(&m) == 0)
			s->seq++;
		else
			log_debug("steps", "output dropped step=%s stream=%s "
			    "bytes=%zu", s->step->id, bora_stream_name(s->which),
			    piece);
	}
}

/* n new bytes are in steps.in after the stream's tail: count them, keep a
 * cut UTF-8 sequence for the next read, send the rest up to the cap. */
static void
steps_stream_data(struct steps_stream *s, size_t n)
{
	uint64_t cap = (uint64_t)steps.cfg->max_output_bytes;
	uint64_t before = s->bytes;
	size_t len = s->tail_len + n, keep, t;

	s->bytes += n;
	if (before >= cap || (uint64_t)n > cap - before) {
		/* past the cap: this read is its first byte dropped, even
		 * when the one before ended exactly at the cap */
		if (!s->capped)
			log_info("steps", "output past max_output_bytes is "
			    "counted and dropped step=%s stream=%s max=%llu",
			    s->step->id, bora_stream_name(s->which),
			    (unsigned long long)cap);
		s->capped = 1;
		if (before >= cap) {
			s->tail_len = 0;
			return;
		}
		keep = s->tail_len + (size_t)(cap - before);
		keep -= bora_utf8_incomplete_tail(steps.in, keep);
		s->tail_len = 0;
	} else {
		t = bora_utf8_incomplete_tail(steps.in, len);
		keep = len - t;
		memcpy(s->tail, steps.in + keep, t);
		s->tail_len = t;
	}
	steps_stream_send(s, steps.in, keep);
}

/* End of the stream: what is left of a cut sequence goes out as U+FFFD. */
static void
steps_stream_flush(struct steps_stream *s)
{
	size_t t = s->tail_len;

	s->tail_len = 0;
	if (t == 0)
		return;
	memcpy(steps.in, s->tail, t);
	steps_stream_send(s, steps.in, t);
}

/* Keep the last keep_max bytes the stream wrote (for the result);
 * grows to that size as output comes, so a quiet step costs nothing. */
static void
steps_stream_keep(struct steps_stream *s, const char *data, size_t n)
{
	size_t want, drop, max = s->keep_max ? s->keep_max : STEPS_KEEP_MAX;
	char *nk;

	if (n >= max) {
		data += n - max;
		n = max;
		s->keep_len = 0;
	}
	want = s->keep_len + n;
	if (want > max)
		want = max;
	if (want > s->keep_cap) {
		want = want < 4096 ? 4096 : want;
		if (want < 2 * s->keep_cap)
			want = 2 * s->keep_cap;
		if (want > max)
			want = max;
		if ((nk = realloc(s->keep, want)) == NULL) {
			/* the result's text loses its start; the stream
			 * itself was sent whole */
			s->keep_len = 0;
			return;
		}
		s->keep = nk;
		s->keep_cap = want;
	}
	if (s->keep_len + n > s->keep_cap) {
		drop = s->keep_len + n - s->keep_cap;
		memmove(s->keep, s->keep + drop, s->keep_len - drop);
		s->keep_len -= drop;
	}
	memcpy(s->keep + s->keep_len, data, n);
	s->keep_len += n;
}

/* One read from fd. 1: data, 2: nothing there now, 0: end of file,
 * -1: error (logged). */
static int
steps_stream_read(struct steps_stream *s, int fd)
{
	ssize_t n;

	memcpy(steps.in, s->tail, s->tail_len);
	do
		n = read(fd, steps.in + s->tail_len, STEPS_READ_MAX);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return 2;
		log_warn("steps", "cannot read step output step=%s stream=%s",
		    s->step->id, bora_stream_name(s->which));
		return -1;
	}
	if (n == 0)
		return 0;
	steps_stream_keep(s, steps.in + s->tail_len, (size_t)n);
	steps_stream_data(s, (size_t)n);
	return 1;
}

/* 1 when a read's worth of output may be taken now. */
static int
steps_can_read(void)
{
	return !conn_is_up() || conn_can_queue(STEPS_QUEUE_RESERVE);
}

/* A dup'ed pipe whose writers are gone: read it while the queue has room;
 * at its end close it and maybe finish the step. */
static void
steps_stream_drain(struct steps_stream *s)
{
	while (s->drain_fd >= 0 && steps_can_read()) {
		/* No writer is left, so "nothing there" is the end too. */
		if (steps_stream_read(s, s->drain_fd) == 1)
			continue;
		close(s->drain_fd);
		s->drain_fd = -1;
		steps_stream_unpause(s);
		steps_stream_flush(s);
		steps_maybe_finish(s->step);
	}
}

/* ---- lws callbacks ---- */

static int
steps_on_stream_rx(struct steps_stream *s)
{
	if (!steps_can_read()) {
		steps_stream_pause(s);
		return 0;
	}
	switch (steps_stream_read(s, lws_get_socket_fd(s->wsi))) {
	case 1:
	case 2:
		return 0;
	default:
		return -1;      /* end of file or error: lws closes it */
	}
}

/* lws is closing the pipe's wsi (end of file, error, POLLHUP, or us). */
static void
steps_on_stream_close(struct steps_stream *s, struct lws *wsi)
{
	int fd = lws_get_socket_fd(wsi);

	s->wsi = NULL;
	if (s->paused && !s->closing && fd >= 0) {
		/* POLLHUP while paused: what is left is still in the pipe. */
		s->drain_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		log_debug("steps", "output ended while paused, keeping the "
		    "rest for later step=%s stream=%s", s->step->id,
		    bora_stream_name(s->which));
		if (s->drain_fd < 0)
			log_warn("steps", "cannot keep the pipe for the rest of "
			    "its output step=%s stream=%s", s->step->id,
			    bora_stream_name(s->which));
	}
	if (s->drain_fd < 0) {
		steps_stream_unpause(s);
		steps_stream_flush(s);
	}
	steps_maybe_finish(s->step);
}

/* The pidfd is readable: the process has exited. Reap it. Returns -1 to
 * close the pidfd, 0 to keep watching. */
static int
steps_on_exit(struct step *st)
{
	pid_t r;
	int ws = 0;

	do
		r = waitpid(st->pid, &ws, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0)
		st->wait_errno = errno;
	st->wstatus = ws;
	st->reaped = 1;
	st->finished_ms = steps_now_ms();
	lws_sul_cancel(&st->timeout_sul);
	if (!steps_stream_done(&st->s[0]) || !steps_stream_done(&st->s[1]))
		lws_sul_schedule(steps.ctx, 0, &st->grace_sul, steps_on_grace,
		    STEPS_GRACE_US);
	return -1;
}

static void
steps_on_pidfd_close(struct step *st)
{
	st->pid_wsi = NULL;
	if (!st->reaped) {
		/* Closed without an exit (an error on the pidfd): the step
		 * cannot be watched any more, so end it. */
		log_warnx("steps", "lost the process watch, killing the step "
		    "step=%s pid=%d", st->id, (int)st->pid);
		(void)exec_kill_group(st->pid);
		while (waitpid(st->pid, &st->wstatus, 0) < 0) {
			if (errno != EINTR) {
				st->wait_errno = errno;
				break;
			}
		}
		st->reaped = 1;
		st->finished_ms = steps_now_ms();
		lws_sul_cancel(&st->timeout_sul);
	}
	steps_maybe_finish(st);
}

static int
steps_pipe_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct steps_handle *h = lws_get_opaque_user_data(wsi);

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (h == NULL)
			return -1;
		if (h->fd == STEPS_FD_PIDFD)
			return steps_on_exit(h->step);
		return steps_on_stream_rx(&h->step->s[h->fd]);
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (h == NULL)
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		if (h->fd == STEPS_FD_PIDFD)
			steps_on_pidfd_close(h->step);
		else
			steps_on_stream_close(&h->step->s[h->fd], wsi);
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols steps_pipe_protocol = {
	.name = STEPS_PIPE_PROTOCOL,
	.callback = steps_pipe_callback,
	.per_session_data_size = 0,
	.rx_buffer_size = 0,
};

/* ---- timers ---- */

static void
steps_on_timeout(lws_sorted_usec_list_t *sul)
{
	struct step *st = lws_container_of(sul, struct step, timeout_sul);

	if (st->reaped || st->finished)
		return;
	st->timed_out = 1;
	log_info("steps", "step timed out, killing its process group step=%s "
	    "pid=%d timeout_s=%u", st->id, (int)st->pid, st->timeout_s);
	if (exec_kill_group(st->pid) != 0 && errno != ESRCH)
		log_warn("steps", "cannot kill step=%s pid=%d", st->id,
		    (int)st->pid);
}

/* The process exited 2 s ago but a pipe is still open: something it
 * started in the background holds it. Stop reading; let it be. */
static void
steps_on_grace(lws_sorted_usec_list_t *sul)
{
	struct step *st = lws_container_of(sul, struct step, grace_sul);
	struct steps_stream *s;
	int i;

	for (i = 0; i < 2 && !st->finished; i++) {
		s = &st->s[i];
		if (s->wsi == NULL)
			continue;
		log_info("steps", "output still open after the step exited "
		    "(a background process holds it), closing step=%s "
		    "stream=%s", st->id, bora_stream_name(s->which));
		s->closing = 1;
		/* the close callback runs now and may finish the step */
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_ACK,
		    LWS_TO_KILL_SYNC);
	}
}

/* ---- starting ---- */

/* Adopt fd into the loop for h. NULL (fd closed) on failure. */
static struct lws *
steps_adopt(int fd, struct steps_handle *h)
{
	lws_adopt_desc_t info;
	struct lws *wsi;

	memset(&info, 0, sizeof(info));
	info.vh = steps.vhost;
	info.type = LWS_ADOPT_RAW_FILE_DESC;
	info.fd.filefd = fd;
	info.vh_prot_name = STEPS_PIPE_PROTOCOL;
	info.opaque = h;
	wsi = lws_adopt_descriptor_vhost_via_info(&info);
	if (wsi == NULL) {
		/* lws 4.1 closes only sockets it failed to adopt */
		close(fd);
		return NULL;
	}
	return wsi;
}

/* st->dir = STATE/steps/ID. 0, or -1 when too long. */
static int
steps_dir_path(struct step *st)
{
	return (size_t)snprintf(st->dir, sizeof(st->dir), "%s/steps/%s",
	    steps.cfg->state_dir, st->id) >= sizeof(st->dir) ? -1 : 0;
}

/* mkdir STATE/steps/ID (0700), empty. 0: made, -1: error (err set). */
static int
steps_make_dir(struct step *st, char *err, size_t errlen)
{
	char base[PATH_MAX];
	int n, rc;

	n = snprintf(base, sizeof(base), "%s/steps", steps.cfg->state_dir);
	if (n < 0 || (size_t)n >= sizeof(base) || steps_dir_path(st) != 0) {
		snprintf(err, errlen, "step directory path too long");
		return -1;
	}
	if (mkdir(base, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %.300s: %s", base,
		    strerror(errno));
		return -1;
	}
	rc = mkdir(st->dir, 0700);
	if (rc != 0 && errno == EEXIST) {
		/* Left by a step the journal does not know: one that never
		 * got its "started" entry (so never ran), or whose entry
		 * went with its ack. Nothing in it counts. */
		log_info("steps", "removing a leftover step directory step=%s "
		    "dir=%s", st->id, st->dir);
		steps_rm_dir(st->dir);
		rc = mkdir(st->dir, 0700);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot create %.300s: %s", st->dir,
		    strerror(errno));
		return -1;
	}
	st->has_dir = 1;
	if (chmod(st->dir, 0700) != 0) {       /* whatever the umask said */
		snprintf(err, errlen, "cannot chmod %.300s: %s", st->dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Run the step: its files, its process, its watches, its timeout. */
static void
steps_start(struct step *st, const struct bora_run *run)
{
	struct exec_req req;
	struct exec_proc proc;
	struct bora_msg m = { .type = BORA_MSG_ACCEPT };
	const struct runner *runner;
	char err[STEPS_ERR_MAX];
	int rc;

	if (strcmp(st->id, ".") == 0 || strcmp(st->id, "..") == 0) {
		steps_fail(st, BORA_STATUS_ERROR, "step id '%s' cannot name a "
		    "directory", st->id);
		return;
	}
	if ((runner = runners_find(run->kind)) == NULL) {
		steps_fail(st, BORA_STATUS_ERROR, "unknown step kind '%s'",
		    run->kind);
		return;
	}
	rc = steps_make_dir(st, err, sizeof(err));
	if (rc == 0)
		rc = runners_prepare(runner, run, st->dir, st->work, &st->user,
		    &req, err, sizeof(err));
	if (strcmp(st->work, st->dir) == 0)
		st->work[0] = '\0';
	if (rc != 0) {
		steps_fail(st, BORA_STATUS_ERROR, "%s", err);
		return;
	}
	st->runner = runner;
	st->s[BORA_STREAM_STDOUT].keep_max = runner->keep_stdout;
	st->spec = json_incref(run->spec);
	st->inputs = run->inputs ? json_incref(run->inputs) : NULL;
	st->started_ms = steps_now_ms();
	/* No "started" entry, no run: a step the journal does not know
	 * about could run again after an agent restart. */
	if (journal_start(steps.journal, st->id, st->kind, st->started_ms,
	    st->work[0] ? st->work : NULL, err, sizeof(err)) != 0) {
		exec_req_free(&req);
		st->started_ms = 0;
		log_errorx("steps", "cannot journal the step, not running it "
		    "step=%s error=\"%s\"", st->id, err);
		steps_fail(st, BORA_STATUS_ERROR, "cannot record the step in "
		    "the agent's journal, so it was not run: %s", err);
		return;
	}
	rc = exec_start(&req, &proc, err, sizeof(err));
	exec_req_free(&req);
	if (rc != 0) {
		steps_fail(st, BORA_STATUS_ERROR, "%s", err);
		return;
	}
	st->pid = proc.pid;
	st->s[BORA_STREAM_STDOUT].wsi = steps_adopt(proc.out_fd,
	    &st->h[STEPS_FD_STDOUT]);
	st->s[BORA_STREAM_STDERR].wsi = steps_adopt(proc.err_fd,
	    &st->h[STEPS_FD_STDERR]);
	st->pid_wsi = steps_adopt(proc.pidfd, &st->h[STEPS_FD_PIDFD]);
	if (st->s[0].wsi == NULL || st->s[1].wsi == NULL ||
	    st->pid_wsi == NULL) {
		steps_drop_wsi(&st->s[0].wsi);
		steps_drop_wsi(&st->s[1].wsi);
		steps_drop_wsi(&st->pid_wsi);
		(void)exec_kill_group(st->pid);
		while (waitpid(st->pid, NULL, 0) < 0 && errno == EINTR)
			;
		st->started_ms = 0;
		steps_fail(st, BORA_STATUS_ERROR, "cannot watch the step's "
		    "process (adopting its descriptors failed)");
		return;
	}
	lws_sul_schedule(steps.ctx, 0, &st->timeout_sul, steps_on_timeout,
	    (lws_usec_t)st->timeout_s * LWS_US_PER_SEC);
	log_info("steps", "step started step=%s kind=%s pid=%d timeout_s=%u",
	    st->id, run->kind, (int)st->pid, st->timeout_s);
	m.u.accept.step = st->id;
	m.u.accept.pid = st->pid;
	if (conn_is_up() && conn_send(&m) != 0)
		log_debug("steps", "accept not queued step=%s", st->id);
}

/* ---- the journal at start ---- */

/* A "work" path from the journal, if it is one runners.c makes (it is
 * removed on ack, so nothing else is taken). */
static int
steps_work_ok(const char *work)
{
	size_t n = strlen(STEPS_USER_WORK_PREFIX);

	return strncmp(work, STEPS_USER_WORK_PREFIX, n) == 0 &&
	    work[n] != '\0' && strchr(work + n, '/') == NULL &&
	    strlen(work) < PATH_MAX;
}

/* A journaled result becomes a finished step waiting for its ack. */
static int
steps_adopt_entry(const struct journal_entry *e)
{
	struct step *st;

	if ((st = steps_new(e->step, e->kind, 0)) == NULL)
		return -1;
	st->started_ms = e->started_ms;
	st->finished_ms = e->finished_ms;
	st->result = json_incref(e->result);
	st->result_len = steps_json_len(st->result);
	if (steps_dir_path(st) == 0)
		st->has_dir = 1;        /* removed on ack, if it is there */
	if (e->work != NULL && steps_work_ok(e->work))
		snprintf(st->work, sizeof(st->work), "%s", e->work);
	st->finished = 1;
	TAILQ_INSERT_TAIL(&steps.done, st, done_link);
	log_info("steps", "journaled result waits for its ack step=%s kind=%s "
	    "status=%s", st->id, st->kind, e->lost ? "lost" :
	    json_string_value(json_object_get(e->result, "status")));
	return 0;
}

/* Load the journal into the table, oldest result first. */
static int
steps_load_journal(void)
{
	struct journal_entry *es;
	size_t n, i;

	if (journal_load(steps.journal, STEPS_MAX, &es, &n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (steps_adopt_entry(&es[i]) != 0) {
			log_errorx("steps", "out of memory loading the "
			    "journal");
			journal_entries_free(es, n);
			return -1;
		}
	if (n > 0)
		log_info("steps", "journal loaded results=%zu dir=%s", n,
		    journal_dir(steps.journal));
	journal_entries_free(es, n);
	return 0;
}

/* Step directories of steps the journal does not know never ran (their
 * "started" entry was not written) or were acked: remove them. */
static void
steps_sweep_dirs(const char *base)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || steps_find(de->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", base,
		    de->d_name) >= sizeof(path))
			continue;
		log_info("steps", "removing the directory of a step the "
		    "journal does not know dir=%s", path);
		steps_rm_dir(path);
	}
	closedir(d);
}

/* ---- the API of steps.h ---- */

int
steps_init(struct lws_context *ctx, const struct agent_config *cfg)
{
	char base[PATH_MAX], err[STEPS_ERR_MAX];

	memset(&steps, 0, sizeof(steps));
	TAILQ_INIT(&steps.all);
	TAILQ_INIT(&steps.done);
	TAILQ_INIT(&steps.paused);
	steps.ctx = ctx;
	steps.cfg = cfg;
	steps.vhost = lws_get_vhost_by_name(ctx, STEPS_VHOST);
	if (steps.vhost == NULL) {
		log_errorx("steps", "no vhost named %s in the event loop",
		    STEPS_VHOST);
		return -1;
	}
	if (lws_vhost_name_to_protocol(steps.vhost, STEPS_PIPE_PROTOCOL) ==
	    NULL) {
		log_errorx("steps", "vhost %s lacks the %s protocol",
		    STEPS_VHOST, STEPS_PIPE_PROTOCOL);
		return -1;
	}
	if ((size_t)snprintf(base, sizeof(base), "%s/steps", cfg->state_dir) >=
	    sizeof(base) || (mkdir(base, 0700) != 0 && errno != EEXIST)) {
		log_warn("steps", "cannot create the steps directory dir=%s",
		    base);
		return -1;
	}
	if ((steps.journal = journal_open(cfg->state_dir, err, sizeof(err))) ==
	    NULL) {
		log_errorx("steps", "cannot open the journal: %s", err);
		return -1;
	}
	if (steps_load_journal() != 0) {
		steps.ready = 1;        /* so that shutdown frees what came */
		steps_shutdown();
		return -1;
	}
	steps_sweep_dirs(base);
	steps.ready = 1;
	return 0;
}

void
steps_shutdown(void)
{
	struct pollfd pfd;
	struct step *st;
	int64_t deadline;
	int left;

	if (!steps.ready)
		return;
	deadline = steps_now_ms() + STEPS_STOP_WAIT_MS;
	while ((st = TAILQ_FIRST(&steps.all)) != NULL) {
		if (st->pid > 0 && !st->reaped) {
			log_info("steps", "agent stopping, killing step=%s "
			    "pid=%d", st->id, (int)st->pid);
			(void)exec_kill_group(st->pid);
			/* Give it a moment to die, then reap it. */
			left = (int)(deadline - steps_now_ms());
			if (st->pid_wsi && left > 0) {
				pfd.fd = lws_get_socket_fd(st->pid_wsi);
				pfd.events = POLLIN;
				(void)poll(&pfd, 1, left);
			}
			(void)waitpid(st->pid, NULL, WNOHANG);
		}
		steps_free(st);
	}
	journal_close(steps.journal);
	steps.journal = NULL;
	steps.ready = 0;
}

void
steps_on_run(const struct bora_run *run)
{
	struct step *st;
	struct bora_msg m = { .type = BORA_MSG_RESULT };

	if (!steps.ready)
		return;
	if ((st = steps_find(run->step)) != NULL) {
		if (st->finished) {
			log_info("steps", "run for a finished step, sending its "
			    "result again step=%s", st->id);
			steps_send_result(st);
		} else
			log_info("steps", "run for a running step, not started "
			    "again step=%s pid=%d", st->id, (int)st->pid);
		return;
	}
	if (steps.count >= STEPS_MAX) {
		/* Not kept: the table is what bounds this agent's memory. */
		log_warnx("steps", "too many steps not acked, refusing step=%s "
		    "max=%d", run->step, STEPS_MAX);
		m.u.result.step = run->step;
		m.u.result.status = BORA_STATUS_ERROR;
		m.u.result.finished_ms = steps_now_ms();
		m.u.result.error = "the agent holds too many steps whose "
		    "results are not acknowledged";
		(void)conn_send(&m);
		return;
	}
	if ((st = steps_new(run->step, run->kind, run->timeout_s)) ==
	    NULL) {
		log_errorx("steps", "out of memory, dropping run step=%s",
		    run->step);
		return;
	}
	steps_start(st, run);
}

void
steps_on_cancel(const struct bora_cancel *cancel)
{
	struct step *st;
	char reason[256];

	if (!steps.ready)
		return;
	if ((st = steps_find(cancel->step)) == NULL) {
		log_info("steps", "cancel for an unknown step step=%s",
		    cancel->step);
		return;
	}
	if (st->finished || st->reaped || st->pid <= 0 || st->cancelled ||
	    st->timed_out) {
		log_info("steps", "cancel for a step that is ending anyway "
		    "step=%s", st->id);
		return;
	}
	st->cancelled = 1;
	if (cancel->reason)
		st->cancel_reason = steps_strdup_cut(cancel->reason,
		    STEPS_REASON_MAX);
	log_info("steps", "cancelling step, killing its process group step=%s "
	    "pid=%d reason=%s", st->id, (int)st->pid, bora_log_quote(
	    cancel->reason ? cancel->reason : "-", reason, sizeof(reason)));
	if (exec_kill_group(st->pid) != 0 && errno != ESRCH)
		log_warn("steps", "cannot kill step=%s pid=%d", st->id,
		    (int)st->pid);
}

void
steps_on_ack(const char *step)
{
	struct step *st;

	if (!steps.ready)
		return;
	if ((st = steps_find(step)) == NULL) {
		log_debug("steps", "ack for an unknown step step=%s", step);
		return;
	}
	if (!st->finished) {
		log_warnx("steps", "ack for a step still running, ignored "
		    "step=%s", step);
		return;
	}
	log_debug("steps", "result acked step=%s", st->id);
	if (st->has_dir)
		steps_rm_dir(st->dir);
	if (st->work[0])
		steps_rm_dir(st->work);
	/* After the directories: a crash in between leaves an entry whose
	 * result is sent (and acked) again, not an unknown directory. */
	(void)journal_remove(steps.journal, st->id);
	steps_free(st);
}

void
steps_on_connected(void)
{
	struct step *st;

	if (!steps.ready)
		return;
	TAILQ_FOREACH(st, &steps.done, done_link)
		steps_send_result(st);
	steps_on_send_space();
}

void
steps_on_send_space(void)
{
	struct steps_stream *s, *next;
	struct step *st;

	if (!steps.ready)
		return;
	if (steps.results_pending > 0)
		TAILQ_FOREACH(st, &steps.done, done_link)
			if (st->send_pending)
				steps_send_result(st);
	for (s = TAILQ_FIRST(&steps.paused); s != NULL; s = next) {
		next = TAILQ_NEXT(s, pause_link);
		if (!steps_can_read())
			break;
		if (s->drain_fd >= 0)
			steps_stream_drain(s);
		else
			steps_stream_unpause(s);
	}
}

json_t *
steps_running_json(void)
{
	json_t *a = json_array();
	struct step *st;

	if (a == NULL || !steps.ready)
		return a;
	TAILQ_FOREACH(st, &steps.all, all_link)
		if (!st->finished)
			json_array_append_new(a, json_string(st->id));
	return a;
}

json_t *
steps_unacked_json(void)
{
	json_t *a = json_array();
	struct step *st;
	size_t bytes = 0;

	if (a == NULL || !steps.ready)
		return a;
	/* Oldest first, as many as fit STEPS_HELLO_RESULTS_MAX; the rest
	 * follow the welcome as result messages. */
	TAILQ_FOREACH(st, &steps.done, done_link) {
		if (st->result == NULL)
			continue;
		if (bytes + st->result_len + 1 > STEPS_HELLO_RESULTS_MAX)
			break;
		bytes += st->result_len + 1;
		json_array_append(a, st->result);
	}
	return a;
}
