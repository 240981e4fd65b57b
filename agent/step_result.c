/*
 * step_result.c: a step's result, from wait status to result message.
 *
 * Once the process is reaped and both its pipes are done, the wait status,
 * the timeout or cancel, and the step's runner (its finish(), given the
 * kept end of stdout and stderr) make the result. It must fit one protocol
 * message; it is journaled "finished" before it is sent, kept (JSON) until
 * acked, and sent again whenever the queue had no room for it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "conn.h"
#include "journal.h"
#include "log.h"
#include "utf8.h"

void
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

void
steps_resend_pending(void)
{
	struct step *st;

	if (steps.results_pending == 0)
		return;
	TAILQ_FOREACH(st, &steps.done, done_link)
		if (st->send_pending)
			steps_send_result(st);
}

size_t
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

/* st ended with res (borrowed): journal the result, keep it until ack, log
 * it and send it. */
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

void
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
	res.finished_ms = bora_wall_ms();
	res.error = text;
	steps_complete(st, &res);
}

/* What the stream kept, as valid UTF-8 starting with "...[truncated N
 * bytes]\n" when its start is gone. malloc'ed (the caller frees it); NULL
 * if out of memory. */
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
 * (n bytes) may receive res->error. The streams' kept bytes are freed. */
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

void
steps_maybe_finish(struct step *st)
{
	if (st->finished || !st->reaped || st->pid_wsi != NULL ||
	    !steps_stream_done(&st->s[0]) || !steps_stream_done(&st->s[1]))
		return;
	lws_sul_cancel(&st->grace_sul);
	steps_finish(st);
}
