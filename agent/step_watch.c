/*
 * step_watch.c: a running step's three descriptors in the lws loop.
 *
 * stdout, stderr and the pidfd are adopted as raw files of the protocol
 * "bora-pipe" (steps_pipe_protocol); each wsi's opaque user pointer is the
 * struct steps_handle naming its step and descriptor. A readable pipe goes
 * to step_output.c; a readable pidfd means the process has exited and it is
 * reaped here. Pipes still open 2 s after the exit are held by something the
 * step started in the background: they are closed then (the grace timer).
 * Once the process is reaped and both pipes are done, step_result.c makes
 * the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "exec.h"
#include "log.h"

struct lws *
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

void
steps_drop_wsi(struct lws **wsi)
{
	if (*wsi == NULL)
		return;
	lws_set_opaque_user_data(*wsi, NULL);
	lws_set_timeout(*wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_SYNC);
	*wsi = NULL;
}

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
	st->finished_ms = bora_wall_ms();
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
		st->finished_ms = bora_wall_ms();
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
