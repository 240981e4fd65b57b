/*
 * step_output.c: a step's stdout and stderr, from pipe to output messages.
 *
 * Each read (at most STEPS_READ_MAX bytes) is counted, its end kept for the
 * result (the last keep_max bytes, raw), and sent as output messages of
 * valid UTF-8 (a sequence cut by a read waits in the stream's tail for the
 * next one; NUL and bad bytes become U+FFFD), at most STEPS_CHUNK_MAX bytes
 * each. Output past max_output_bytes and output while disconnected are
 * counted and dropped. The pipe is read only while the send queue has room
 * for one read (agent_steps_int.h, "Backpressure").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "conn.h"
#include "log.h"
#include "utf8.h"

static char steps_in[4 + STEPS_READ_MAX];       /* a stream's tail, a read */
static char steps_out[3 * (4 + STEPS_READ_MAX)];  /* the same, sanitized */

void
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

void
steps_stream_unpause(struct steps_stream *s)
{
	if (!s->paused)
		return;
	s->paused = 0;
	TAILQ_REMOVE(&steps.paused, s, pause_link);
	if (s->wsi)
		lws_rx_flow_control(s->wsi, 1);
}

/* Send len bytes of data (any bytes; changed in place) as output messages
 * of valid UTF-8, at most STEPS_CHUNK_MAX bytes each; dropped while
 * disconnected. */
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
	n = bora_utf8_sanitize(data, len, steps_out);
	for (off = 0; off < n; off += piece) {
		piece = n - off;
		if (piece > STEPS_CHUNK_MAX) {
			piece = STEPS_CHUNK_MAX;
			while (piece > 0 &&
			    ((unsigned char)steps_out[off + piece] & 0xC0) == 0x80)
				piece--;
		}
		m.u.output.step = s->step->id;
		m.u.output.stream = s->which;
		m.u.output.seq = s->seq;
		m.u.output.data = steps_out + off;
		m.u.output.data_len = piece;
		if (conn_send(&m) == 0)
			s->seq++;
		else
			log_debug("steps", "output dropped step=%s stream=%s "
			    "bytes=%zu", s->step->id, bora_stream_name(s->which),
			    piece);
	}
}

/* n new bytes are in steps_in after the stream's tail: count them, keep a
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
		keep -= bora_utf8_incomplete_tail(steps_in, keep);
		s->tail_len = 0;
	} else {
		t = bora_utf8_incomplete_tail(steps_in, len);
		keep = len - t;
		memcpy(s->tail, steps_in + keep, t);
		s->tail_len = t;
	}
	steps_stream_send(s, steps_in, keep);
}

void
steps_stream_flush(struct steps_stream *s)
{
	size_t t = s->tail_len;

	s->tail_len = 0;
	if (t == 0)
		return;
	memcpy(steps_in, s->tail, t);
	steps_stream_send(s, steps_in, t);
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

int
steps_stream_read(struct steps_stream *s, int fd)
{
	ssize_t n;

	memcpy(steps_in, s->tail, s->tail_len);
	do
		n = read(fd, steps_in + s->tail_len, STEPS_READ_MAX);
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
	steps_stream_keep(s, steps_in + s->tail_len, (size_t)n);
	steps_stream_data(s, (size_t)n);
	return 1;
}

int
steps_stream_done(const struct steps_stream *s)
{
	return s->wsi == NULL && s->drain_fd < 0;
}

int
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

void
steps_output_resume(void)
{
	struct steps_stream *s, *next;

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
