/*
 * exec.c: fork/exec of a step with pipes, a process group and a pidfd.
 *
 * Between fork() and execve() the child only makes system calls (it may be
 * a copy of a process with other threads in libraries, and ASan's
 * allocator must not be entered there). What it cannot do it writes as a
 * struct exec_report to the report pipe, which is close-on-exec: the parent
 * reads end of file when execve() succeeded, a report when it did not.
 * With req->before_exec the child, in its group, first waits for one byte
 * on a gate pipe, which the parent writes once the callback said yes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "exec.h"

#define EXEC_FD_LIMIT 65536    /* fallback close-on-exec sweep bound */

/* Where the child failed, and errno there. */
enum exec_stage {
	EXEC_STAGE_SETPGID = 1,
	EXEC_STAGE_STDIN,
	EXEC_STAGE_FDS,
	EXEC_STAGE_CHDIR,
	EXEC_STAGE_IDS,
	EXEC_STAGE_EXEC,
};

struct exec_report {
	int stage;
	int err;
};

static const char *
exec_stage_name(int stage)
{
	switch (stage) {
	case EXEC_STAGE_SETPGID:
		return "setpgid";
	case EXEC_STAGE_STDIN:
		return "open stdin";
	case EXEC_STAGE_FDS:
		return "dup2";
	case EXEC_STAGE_CHDIR:
		return "chdir";
	case EXEC_STAGE_IDS:
		return "setgroups/setgid/setuid";
	default:
		return "exec";
	}
}

void
exec_req_free(struct exec_req *req)
{
	char **p;

	if (req == NULL)
		return;
	if (req->argv)
		for (p = req->argv; *p; p++)
			free(*p);
	if (req->envp)
		for (p = req->envp; *p; p++)
			free(*p);
	free(req->argv);
	free(req->envp);
	free(req->path);
	free(req->dir);
	free(req->stdin_path);
	free(req->groups);
	memset(req, 0, sizeof(*req));
}

int
exec_kill_group(pid_t pgid)
{
	if (pgid <= 1) {
		errno = EINVAL;
		return -1;
	}
	return kill(-pgid, SIGKILL);
}

/* Write "what failed: ENAME (text)" to err. */
static void
exec_format_err(char *err, size_t errlen, const char *what, int e)
{
	const char *name = strerrorname_np(e);

	if (name)
		snprintf(err, errlen, "%s failed: %s (%s)", what, name,
		    strerror(e));
	else
		snprintf(err, errlen, "%s failed: errno %d", what, e);
}

/* In the child: report and end. */
static void __attribute__((noreturn))
exec_child_fail(int rep_w, int stage)
{
	struct exec_report r;
	ssize_t n;

	r.stage = stage;
	r.err = errno;
	do
		n = write(rep_w, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* In the child: a copy of fd numbered 3 or more (close-on-exec), so that
 * the dup2() onto 0, 1 and 2 below cannot clobber a source. */
static int
exec_child_high(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* In the child: mark every descriptor from 3 up close-on-exec. */
static int
exec_child_cloexec_rest(void)
{
	struct rlimit rl;
	unsigned long fd, max;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* Kernels before 5.11: sweep up to the descriptor limit. */
	max = EXEC_FD_LIMIT;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < max)
		max = (unsigned long)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* In the child, in its group: wait for the parent's byte on gate_r (its
 * own copy of gate_w closed, so the parent's death is end of file). */
static void
exec_child_wait_gate(int gate_r, int gate_w)
{
	ssize_t n;
	char c;

	if (gate_r < 0)
		return;
	close(gate_w);
	do
		n = read(gate_r, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);     /* not let go: the parent says why, or died */
	close(gate_r);
}

static void __attribute__((noreturn))
exec_child(const struct exec_req *req, int out_w, int err_w, int rep_w,
    const int gate[2])
{
	struct sigaction sa;
	sigset_t none;
	int sig, in_fd;

	/* The agent ignores SIGPIPE, and ignored signals survive execve():
	 * give the step the defaults a shell would get. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	if ((rep_w = exec_child_high(rep_w)) < 0)
		_exit(127);
	if (setpgid(0, 0) != 0)
		exec_child_fail(rep_w, EXEC_STAGE_SETPGID);
	exec_child_wait_gate(gate[0], gate[1]);
	/* opened before dropping ids: the file is the agent's */
	in_fd = req->stdin_path ? open(req->stdin_path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW) : open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in_fd < 0)
		exec_child_fail(rep_w, EXEC_STAGE_STDIN);
	if ((in_fd = exec_child_high(in_fd)) < 0 ||
	    (out_w = exec_child_high(out_w)) < 0 ||
	    (err_w = exec_child_high(err_w)) < 0 ||
	    dup2(in_fd, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		exec_child_fail(rep_w, EXEC_STAGE_FDS);
	if (req->set_ids && (setgroups(req->ngroups, req->groups) != 0 ||
	    setgid(req->gid) != 0 || setuid(req->uid) != 0))
		exec_child_fail(rep_w, EXEC_STAGE_IDS);
	/* after dropping: the user must be able to enter its directory */
	if (chdir(req->dir) != 0)
		exec_child_fail(rep_w, EXEC_STAGE_CHDIR);
	exec_child_cloexec_rest();
	execve(req->path, req->argv, req->envp);
	exec_child_fail(rep_w, EXEC_STAGE_EXEC);
}

/* Close *fd if open and mark it closed. */
static void
exec_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
exec_start(const struct exec_req *req, struct exec_proc *proc, char *err,
    size_t errlen)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };
	int gate[2] = { -1, -1 };
	struct exec_report r;
	pid_t pid = -1;
	int pidfd = -1, rc = -1, e;
	ssize_t n;

	proc->pid = -1;
	proc->pidfd = proc->out_fd = proc->err_fd = -1;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 ||
	    pipe2(rep, O_CLOEXEC) != 0 || (req->before_exec != NULL &&
	    pipe2(gate, O_CLOEXEC) != 0)) {
		exec_format_err(err, errlen, "pipe", errno);
		goto out;
	}
	if (fcntl(outp[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(errp[0], F_SETFL, O_NONBLOCK) != 0) {
		exec_format_err(err, errlen, "fcntl", errno);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		exec_format_err(err, errlen, "fork", errno);
		goto out;
	}
	if (pid == 0)
		exec_child(req, outp[1], errp[1], rep[1], gate);
	/* Also from here, so that no kill(-pid) can miss the group. */
	(void)setpgid(pid, pid);
	exec_close(&outp[1]);
	exec_close(&errp[1]);
	exec_close(&rep[1]);
	exec_close(&gate[0]);
	if (req->before_exec != NULL) {
		e = 0;
		if (req->before_exec(req->before_arg, pid, err, errlen) != 0 ||
		    (e = -1, write(gate[1], "g", 1) != 1)) {
			if (e != 0)
				exec_format_err(err, errlen, "gate", errno);
			(void)exec_kill_group(pid);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			goto out;
		}
		exec_close(&gate[1]);
	}

	/* End of file once execve() succeeded; a report if it failed. */
	do
		n = read(rep[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		e = errno;
		(void)exec_kill_group(pid);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(r))
			exec_format_err(err, errlen, exec_stage_name(r.stage),
			    r.err);
		else if (n < 0)
			exec_format_err(err, errlen, "reading the exec report",
			    e);
		else
			snprintf(err, errlen, "exec failed: short report");
		goto out;
	}
	pidfd = pidfd_open(pid, 0);    /* close-on-exec by definition */
	if (pidfd < 0) {
		exec_format_err(err, errlen, "pidfd_open", errno);
		(void)exec_kill_group(pid);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	proc->pid = pid;
	proc->pidfd = pidfd;
	proc->out_fd = outp[0];
	proc->err_fd = errp[0];
	outp[0] = errp[0] = -1;
	rc = 0;
out:
	exec_close(&outp[0]);
	exec_close(&outp[1]);
	exec_close(&errp[0]);
	exec_close(&errp[1]);
	exec_close(&rep[0]);
	exec_close(&rep[1]);
	exec_close(&gate[0]);
	exec_close(&gate[1]);
	return rc;
}
