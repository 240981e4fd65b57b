/*
 * step_launch.c: starting a step. Its directory STATE/steps/ID (0700,
 * empty), its runner's exec request (runners.c), the journal's "started"
 * entry (no entry, no run), exec_start, its descriptors adopted into the
 * loop (step_watch.c), its timeout armed (step_stop.c), "accept" sent. A
 * step that cannot start gets an error result at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "conn.h"
#include "exec.h"
#include "journal.h"
#include "log.h"
#include "step_kinds.h"

int
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

/* The process started but cannot be watched: kill and reap it, and say
 * so in its result. */
static void
steps_unwatchable(struct step *st)
{
	steps_drop_wsi(&st->s[0].wsi);
	steps_drop_wsi(&st->s[1].wsi);
	steps_drop_wsi(&st->pid_wsi);
	(void)exec_kill_group(st->pid);
	while (waitpid(st->pid, NULL, 0) < 0 && errno == EINTR)
		;
	st->started_ms = 0;
	steps_fail(st, BORA_STATUS_ERROR, "cannot watch the step's process "
	    "(adopting its descriptors failed)");
}

/* exec_req.before_exec: the step's "started" journal entry, with its
 * process group, durable before it may exec: a step the journal does not
 * know about could run again after an agent restart, and a later agent
 * ends what this one leaves behind by its group (step_orphan.c). If it
 * cannot be written the step never runs. */
static int
steps_journal_pgid(void *arg, pid_t pgid, char *err, size_t errlen)
{
	struct step *st = arg;
	char why[STEPS_ERR_MAX];

	if (journal_start(steps.journal, st->id, st->kind, st->started_ms,
	    st->work[0] ? st->work : NULL, pgid, why, sizeof(why)) == 0)
		return 0;
	log_errorx("steps", "cannot journal the step, not running it "
	    "step=%s error=\"%s\"", st->id, why);
	snprintf(err, errlen, "cannot record the step in the agent's "
	    "journal, so it was not run: %s", why);
	return -1;
}

void
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
		steps_fail(st, BORA_STATUS_ERROR, "unknown step kind '%s' "
		    "(known: %s)", run->kind, bora_step_kinds_list());
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
	st->started_ms = bora_wall_ms();
	/* No "started" entry, no run: the entry is written with the step's
	 * process group by steps_journal_pgid() between fork and exec (the
	 * child waits for it), once per step. An agent dying before it leaves
	 * no entry and a step that never ran. */
	req.before_exec = steps_journal_pgid;
	req.before_arg = st;
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
		steps_unwatchable(st);
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
