/*
 * exec.h: start a step's process and kill its process group.
 *
 * The process runs in a process group of its own (pgid == pid), with stdin
 * from /dev/null (or the request's stdin file), stdout and stderr on two pipes, the given working
 * directory, no other open descriptors, default signal dispositions, an
 * empty signal mask and exactly the environment it is given. A failure
 * between fork and exec (chdir, execve, ...) is reported to the parent
 * through a close-on-exec pipe, so "the interpreter does not exist" is an
 * error of exec_start(), not an exit code 127. With set_ids the child
 * drops to the request's uid, gid and supplementary groups (computed by
 * the caller: initgroups() is not safe between fork and exec).
 *
 * No threads, no signal handlers: the caller watches the pidfd (readable
 * once the process has exited) and reaps the pid with waitpid().
 */
#ifndef BORA_AGENT_EXEC_H
#define BORA_AGENT_EXEC_H

#include <stddef.h>
#include <sys/types.h>

/* What to run. Every pointer is owned by the request (exec_req_free). */
struct exec_req {
	char *path;     /* program given to execve() */
	char **argv;    /* NULL-terminated, argv[0] included */
	char **envp;    /* NULL-terminated: the process's whole environment */
	char *dir;      /* working directory */
	char *stdin_path; /* file read as stdin (opened before dropping ids),
	                     or NULL for /dev/null */
	int set_ids;    /* 1: become uid/gid with groups before execve() */
	uid_t uid;
	gid_t gid;
	gid_t *groups;  /* supplementary groups (owned), ngroups of them */
	size_t ngroups;
	/* Called in the parent once the child is in its own process group
	 * (pgid == pid) and before it may exec: the child waits on a pipe
	 * until this returns 0; -1 (err filled) or the parent's death ends
	 * it before it runs anything. NULL: no wait. */
	int (*before_exec)(void *arg, pid_t pgid, char *err, size_t errlen);
	void *before_arg;   /* borrowed */
};

/* Free what req owns and zero it; safe on a zeroed request. */
void exec_req_free(struct exec_req *req);

/* A started process. The caller owns the three descriptors (close-on-exec;
 * out_fd and err_fd non-blocking) and must reap pid. */
struct exec_proc {
	pid_t pid;      /* also its process group id */
	int pidfd;      /* pidfd_open(pid): readable once it has exited */
	int out_fd;     /* read end of its stdout */
	int err_fd;     /* read end of its stderr */
};

/*
 * Start req. Returns 0 and fills *proc, or -1 and writes one sentence to
 * err (errlen bytes), such as "exec failed: ENOENT (No such file or
 * directory)"; on failure nothing is left open and no child is left
 * unreaped. req is only borrowed.
 */
int exec_start(const struct exec_req *req, struct exec_proc *proc, char *err,
    size_t errlen);

/* SIGKILL the whole process group pgid (never pgid <= 1). 0, or -1 with
 * errno (ESRCH: nothing left in the group). */
int exec_kill_group(pid_t pgid);

#endif
