/*
 * step_orphan.c: what an earlier agent process left running. journal_load()
 * calls steps_end_left() for each step that was only started when that
 * process died, before the step's "lost" result is written and long before
 * it is sent: so a coordinator that reruns the step (safe-rerun) never
 * finds its first copy still running.
 *
 * The step's process group was journaled before it could exec
 * (step_launch.c), with the boot id (boot_id.h). Same boot: the group may
 * still run (a group outlives its agent); it is SIGKILLed and awaited
 * until no live (non-zombie) process of it is left, read from /proc.
 * Another boot: the machine restarted, nothing of the step is left and the
 * number may be someone else's now, so nothing is killed. No pgid: the
 * agent died before the second entry, and its child, waiting on the exec
 * gate until then (exec.h), ended unrun.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "journal.h"
#include "log.h"

#define STEPS_ORPHAN_WAIT_MS  2000  /* for a killed group to be gone */
#define STEPS_ORPHAN_POLL_MS  10

/* The state letter and process group of /proc/PID/stat's text; 0, or -1
 * when it does not parse. comm, in parentheses, may hold anything: the
 * fields are after its last ')'. */
static int
steps_stat_parse(const char *text, char *state, long *pgrp)
{
	const char *p = strrchr(text, ')');
	long ppid;

	if (p == NULL || sscanf(p + 1, " %c %ld %ld", state, &ppid, pgrp) != 3)
		return -1;
	return 0;
}

/* 1 while a live process (not a zombie waiting for its new parent) is in
 * group pgid: /proc is read, since kill(-pgid, 0) counts zombies too. */
static int
steps_group_alive(pid_t pgid)
{
	char path[64], text[512], state;
	struct dirent *de;
	long pgrp;
	size_t n;
	FILE *f;
	DIR *d;
	int alive = 0;

	if (kill(-pgid, 0) != 0 && errno == ESRCH)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 1;               /* cannot tell: assume it lives */
	while (!alive && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;       /* gone meanwhile */
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		if (steps_stat_parse(text, &state, &pgrp) == 0 &&
		    pgrp == (long)pgid && state != 'Z' && state != 'X')
			alive = 1;
	}
	closedir(d);
	return alive;
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
	if (!steps_group_alive(pgid))
		return;
	log_info("steps", "killing the process group an earlier agent left "
	    "step=%s pgid=%d", e->step, (int)pgid);
	if (kill(-pgid, SIGKILL) != 0 && errno != ESRCH) {
		log_warn("steps", "cannot kill step=%s pgid=%d", e->step,
		    (int)pgid);
		return;
	}
	/* Not our children: SIGKILLed, they are zombies until their new parent
	 * reaps them, and a zombie runs nothing. */
	deadline = bora_wall_ms() + STEPS_ORPHAN_WAIT_MS;
	while (steps_group_alive(pgid) && bora_wall_ms() < deadline)
		(void)nanosleep(&pause, NULL);
	if (!steps_group_alive(pgid))
		log_info("steps", "process group gone step=%s pgid=%d",
		    e->step, (int)pgid);
	else
		log_warnx("steps", "process group killed but still alive "
		    "after %d ms step=%s pgid=%d", STEPS_ORPHAN_WAIT_MS,
		    e->step, (int)pgid);
}
