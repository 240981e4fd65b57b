/*
 * step_orphan.c: what an earlier agent process left running. journal_load()
 * calls steps_end_left() for each step that was only started when that
 * process died, before the step's "lost" result is written and long before
 * it is sent: so a coordinator that reruns the step (safe-rerun) never
 * finds its first copy still running.
 *
 * The step's process group was journaled once the process ran
 * (step_launch.c), with the boot id (boot_id.h). Same boot: the group may
 * still run (a group outlives its agent); it is SIGKILLed and awaited.
 * Another boot: the machine restarted, nothing of the step is left and the
 * number may be someone else's now, so nothing is killed. No pgid: the
 * agent died between exec and that second entry; nothing is known to kill.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "journal.h"
#include "log.h"

#define STEPS_ORPHAN_WAIT_MS  2000  /* for a killed group to be gone */
#define STEPS_ORPHAN_POLL_MS  10

/* 1 once no process of group pgid is left (zombies not yet reaped by
 * their new parent count as left). */
static int
steps_group_gone(pid_t pgid)
{
	return kill(-pgid, 0) != 0 && errno == ESRCH;
}

void
steps_end_left(const struct journal *j, const struct journal_entry *e)
{
	const char *boot = journal_boot_id(j);
	struct timespec pause = { 0, STEPS_ORPHAN_POLL_MS * 1000000L };
	pid_t pgid = (pid_t)e->pgid;
	int64_t deadline;

	if (pgid <= 1)
		return;
	if (e->boot_id == NULL || boot[0] == '\0' ||
	    strcmp(e->boot_id, boot) != 0) {
		log_info("steps", "the machine restarted since the step "
		    "started, nothing of it is left step=%s pgid=%d",
		    e->step, (int)pgid);
		return;
	}
	if (steps_group_gone(pgid))
		return;
	log_info("steps", "killing the process group an earlier agent left "
	    "step=%s pgid=%d", e->step, (int)pgid);
	if (kill(-pgid, SIGKILL) != 0 && errno != ESRCH) {
		log_warn("steps", "cannot kill step=%s pgid=%d", e->step,
		    (int)pgid);
		return;
	}
	/* Not our children: they die when their new parent reaps them. */
	deadline = bora_wall_ms() + STEPS_ORPHAN_WAIT_MS;
	while (!steps_group_gone(pgid) && bora_wall_ms() < deadline)
		(void)nanosleep(&pause, NULL);
	if (steps_group_gone(pgid))
		log_info("steps", "process group gone step=%s pgid=%d",
		    e->step, (int)pgid);
	else
		log_warnx("steps", "process group killed but not yet reaped "
		    "step=%s pgid=%d", e->step, (int)pgid);
}
