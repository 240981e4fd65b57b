/*
 * step_stop.c: ending a step before it ends itself. A timeout or a cancel
 * SIGKILLs the step's whole process group (exec_kill_group); its result,
 * made once the process is reaped (step_watch.c, step_result.c), says
 * which. At agent shutdown every running step is killed and reaped.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "exec.h"
#include "log.h"
#include "utf8.h"

/* A copy of s cut to max bytes on a UTF-8 boundary; malloc'ed (the caller
 * frees it), NULL if no memory. */
static char *
steps_strdup_cut(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		n -= bora_utf8_incomplete_tail(s, n);
	return strndup(s, n);
}

void
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

void
steps_cancel(struct step *st, const char *reason)
{
	char shown[256];

	if (st->finished || st->reaped || st->pid <= 0 || st->cancelled ||
	    st->timed_out) {
		log_info("steps", "cancel for a step that is ending anyway "
		    "step=%s", st->id);
		return;
	}
	st->cancelled = 1;
	if (reason)
		st->cancel_reason = steps_strdup_cut(reason, STEPS_REASON_MAX);
	log_info("steps", "cancelling step, killing its process group step=%s "
	    "pid=%d reason=%s", st->id, (int)st->pid, bora_log_quote(
	    reason ? reason : "-", shown, sizeof(shown)));
	if (exec_kill_group(st->pid) != 0 && errno != ESRCH)
		log_warn("steps", "cannot kill step=%s pid=%d", st->id,
		    (int)st->pid);
}

void
steps_stop_all(void)
{
	struct pollfd pfd;
	struct step *st;
	int64_t deadline;
	int left;

	deadline = bora_wall_ms() + STEPS_STOP_WAIT_MS;
	while ((st = TAILQ_FIRST(&steps.all)) != NULL) {
		if (st->pid > 0 && !st->reaped) {
			log_info("steps", "agent stopping, killing step=%s "
			    "pid=%d", st->id, (int)st->pid);
			(void)exec_kill_group(st->pid);
			/* Give it a moment to die, then reap it. */
			left = (int)(deadline - bora_wall_ms());
			if (st->pid_wsi && left > 0) {
				pfd.fd = lws_get_socket_fd(st->pid_wsi);
				pfd.events = POLLIN;
				(void)poll(&pfd, 1, left);
			}
			(void)waitpid(st->pid, NULL, WNOHANG);
		}
		steps_free(st);
	}
}
