/* test_exec.c: starting and killing step processes (agent/exec.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"

#define WAIT_MS 10000           /* every wait in here is bounded by this */
#define BIG     (1024 * 1024)   /* bytes for the large-output test */

static char tmpdir[] = "/tmp/test_exec.XXXXXX";

struct output {
	char *out, *err;
	size_t out_len, err_len;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char **
strv(const char *const *v)
{
	size_t n = 0, i;
	char **r;

	while (v[n])
		n++;
	r = calloc(n + 1, sizeof(*r));
	assert_non_null(r);
	for (i = 0; i < n; i++)
		assert_non_null(r[i] = strdup(v[i]));
	return r;
}

/* An exec request the way runners.c makes them: everything malloc'ed. */
static void
req_make(struct exec_req *req, const char *path, const char *const *argv,
    const char *const *envp, const char *dir)
{
	assert_non_null(req->path = strdup(path));
	req->argv = strv(argv);
	req->envp = strv(envp);
	assert_non_null(req->dir = strdup(dir));
}

/* Start sh -c script in tmpdir with a small environment; asserts. */
static void
start_sh(struct exec_proc *proc, const char *script)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct exec_req req;
	char err[256] = "";

	memset(&req, 0, sizeof(req));
	req_make(&req, "/bin/sh", argv, envp, tmpdir);
	if (exec_start(&req, proc, err, sizeof(err)) != 0)
		fail_msg("exec_start: %s", err);
	exec_req_free(&req);
	assert_null(req.argv);           /* freed and zeroed */
}

/* before_exec: records the group it saw, then says yes (*arg 0) or no. */
static pid_t gate_seen;

static int
gate_cb(void *arg, pid_t pgid, char *err, size_t errlen)
{
	gate_seen = pgid;
	if (*(int *)arg == 0)
		return 0;
	snprintf(err, errlen, "the gate said no");
	return -1;
}

/* With before_exec the child runs only once the callback said yes, with
 * the group the callback was told; a no ends it before it ran anything. */
static void
test_gate(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo ran > gate.out", NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct exec_proc proc;
	struct exec_req req;
	char err[256] = "", out[512];
	int no = 1, yes = 0, ws;

	(void)state;
	snprintf(out, sizeof(out), "%s/gate.out", tmpdir);
	memset(&req, 0, sizeof(req));
	req_make(&req, "/bin/sh", argv, envp, tmpdir);
	req.before_exec = gate_cb;
	req.before_arg = &no;
	assert_int_equal(exec_start(&req, &proc, err, sizeof(err)), -1);
	assert_string_equal(err, "the gate said no");
	assert_true(gate_seen > 1);
	assert_int_equal(access(out, F_OK), -1);

	req.before_arg = &yes;
	assert_int_equal(exec_start(&req, &proc, err, sizeof(err)), 0);
	assert_int_equal(gate_seen, proc.pid);
	assert_int_equal(waitpid(proc.pid, &ws, 0), proc.pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(access(out, F_OK), 0);
	close(proc.pidfd);
	close(proc.out_fd);
	close(proc.err_fd);
	unlink(out);
	exec_req_free(&req);
}

static void
append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	assert_non_null(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Read stdout and stderr to end of file (bounded), closing both. */
static void
read_all(struct exec_proc *proc, struct output *o)
{
	struct pollfd p[2];
	char buf[65536];
	int64_t deadline = now_ms() + WAIT_MS;
	ssize_t n;
	int i, open_fds = 2;

	memset(o, 0, sizeof(*o));
	append(&o->out, &o->out_len, "", 0);
	append(&o->err, &o->err_len, "", 0);
	p[0].fd = proc->out_fd;
	p[1].fd = proc->err_fd;
	p[0].events = p[1].events = POLLIN;
	while (open_fds > 0) {
		int left = (int)(deadline - now_ms());

		if (left <= 0)
			fail_msg("pipes still open after %d ms", WAIT_MS);
		if (poll(p, 2, left) < 0 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				append(&o->out, &o->out_len, buf, (size_t)n);
			else
				append(&o->err, &o->err_len, buf, (size_t)n);
		}
	}
	proc->out_fd = proc->err_fd = -1;
}

static void
output_free(struct output *o)
{
	free(o->out);
	free(o->err);
}

/* Wait (bounded) for the pidfd, reap, close it; the wait status. */
static int
wait_exit(struct exec_proc *proc)
{
	struct pollfd p = { .fd = proc->pidfd, .events = POLLIN };
	int status = 0;

	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_int_equal(waitpid(proc->pid, &status, WNOHANG), proc->pid);
	close(proc->pidfd);
	proc->pidfd = -1;
	return status;
}

/* 1 while pid is a live process (a zombie is not). */
static int
alive(pid_t pid)
{
	char path[64], stat[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	p = strrchr(stat, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void
test_exit_code_and_streams(void **state)
{
	struct exec_proc proc;
	struct output o;
	int status;

	(void)state;
	start_sh(&proc, "echo out; echo err >&2; printf 'no newline'; exit 3");
	assert_true(proc.pid > 1);
	assert_true(proc.pidfd >= 0);
	/* Our ends: close-on-exec and non-blocking. */
	assert_true(fcntl(proc.out_fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(proc.err_fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(proc.pidfd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(proc.out_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(proc.err_fd, F_GETFL) & O_NONBLOCK);
	/* Its own process group. */
	assert_int_equal(getpgid(proc.pid), proc.pid);

	read_all(&proc, &o);
	status = wait_exit(&proc);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_string_equal(o.out, "out\nno newline");
	assert_string_equal(o.err, "err\n");
	output_free(&o);
}

static void
test_success_and_signal(void **state)
{
	struct exec_proc proc;
	struct output o;
	int status;

	(void)state;
	start_sh(&proc, "true");
	read_all(&proc, &o);
	status = wait_exit(&proc);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(o.out_len, 0);
	output_free(&o);

	start_sh(&proc, "echo before; kill -TERM $$; echo after");
	read_all(&proc, &o);
	status = wait_exit(&proc);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_string_equal(o.out, "before\n");
	output_free(&o);
}

/* Exactly the given environment, the given directory, stdin at EOF. */
static void
test_environment_dir_stdin(void **state)
{
	const char *argv[] = { "env", NULL };
	const char *envp[] = { "A=1", "B=two words", NULL };
	struct exec_req req;
	struct exec_proc proc;
	struct output o;
	char err[256], want[PATH_MAX + 2], real[PATH_MAX];

	(void)state;
	memset(&req, 0, sizeof(req));
	req_make(&req, "/usr/bin/env", argv, envp, tmpdir);
	assert_int_equal(exec_start(&req, &proc, err, sizeof(err)), 0);
	exec_req_free(&req);
	read_all(&proc, &o);
	assert_int_equal(WEXITSTATUS(wait_exit(&proc)), 0);
	assert_string_equal(o.out, "A=1\nB=two words\n");
	output_free(&o);

	assert_non_null(realpath(tmpdir, real));
	snprintf(want, sizeof(want), "%s\n", real);
	start_sh(&proc, "pwd -P");
	read_all(&proc, &o);
	assert_int_equal(WEXITSTATUS(wait_exit(&proc)), 0);
	assert_string_equal(o.out, want);
	output_free(&o);

	/* cat of stdin ends at once: /dev/null */
	start_sh(&proc, "cat; echo done");
	read_all(&proc, &o);
	assert_int_equal(WEXITSTATUS(wait_exit(&proc)), 0);
	assert_string_equal(o.out, "done\n");
	output_free(&o);
}

/* Descriptors of the agent do not leak; ignored signals are reset. */
static void
test_no_leaks_into_child(void **state)
{
	struct exec_proc proc;
	struct output o;
	char script[256];
	int leak;
	void (*old)(int);

	(void)state;
	leak = open("/dev/null", O_RDONLY);     /* no O_CLOEXEC on purpose */
	assert_true(leak > 2);
	snprintf(script, sizeof(script), "if [ -e /proc/$$/fd/%d ]; then echo "
	    "open; else echo closed; fi; grep '^SigIgn' /proc/$$/status", leak);
	old = signal(SIGPIPE, SIG_IGN);
	start_sh(&proc, script);
	signal(SIGPIPE, old);
	read_all(&proc, &o);
	assert_int_equal(WEXITSTATUS(wait_exit(&proc)), 0);
	assert_string_equal(o.out, "closed\nSigIgn:\t0000000000000000\n");
	output_free(&o);
	close(leak);
}

static void
test_large_output(void **state)
{
	struct exec_proc proc;
	struct output o;
	size_t i;

	(void)state;
	start_sh(&proc, "head -c 1048576 /dev/zero | tr '\\0' x; "
	    "head -c 1048576 /dev/zero | tr '\\0' y >&2");
	read_all(&proc, &o);
	assert_int_equal(WEXITSTATUS(wait_exit(&proc)), 0);
	assert_int_equal(o.out_len, BIG);
	assert_int_equal(o.err_len, BIG);
	for (i = 0; i < BIG; i++)
		if (o.out[i] != 'x' || o.err[i] != 'y')
			fail_msg("byte %zu differs", i);
	output_free(&o);
}

/* A failed exec is an error of exec_start, with no child left behind. */
static void
test_exec_failures(void **state)
{
	const char *argv[] = { "nothing", NULL };
	const char *envp[] = { NULL };
	struct exec_req req;
	struct exec_proc proc;
	char err[256] = "";

	(void)state;
	memset(&req, 0, sizeof(req));
	req_make(&req, "/nonexistent/bora-test-program", argv, envp, tmpdir);
	assert_int_equal(exec_start(&req, &proc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exec failed: ENOENT"));
	assert_int_equal(proc.pid, -1);
	assert_int_equal(proc.out_fd, -1);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	exec_req_free(&req);

	/* Not executable: EACCES */
	req_make(&req, "/dev/null", argv, envp, tmpdir);
	assert_int_equal(exec_start(&req, &proc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exec failed: EACCES"));
	exec_req_free(&req);

	/* A working directory that is not there */
	req_make(&req, "/bin/true", argv, envp, "/nonexistent/bora-test-dir");
	assert_int_equal(exec_start(&req, &proc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chdir failed: ENOENT"));
	exec_req_free(&req);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* Killing the group kills what the step started in the background. */
static void
test_group_kill(void **state)
{
	struct exec_proc proc;
	struct pollfd p;
	char line[64] = "";
	size_t len = 0;
	ssize_t n;
	pid_t bg, r;
	int status;
	int64_t deadline;

	(void)state;
	/* Orphans are ours to reap, so "gone" means gone, not zombie. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	start_sh(&proc, "sleep 100 & echo $!; sleep 100");

	deadline = now_ms() + WAIT_MS;
	p.fd = proc.out_fd;
	p.events = POLLIN;
	while (memchr(line, '\n', len) == NULL) {
		int left = (int)(deadline - now_ms());

		assert_true(left > 0);
		assert_true(poll(&p, 1, left) >= 0);
		n = read(proc.out_fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EAGAIN)
			continue;
		assert_true(n > 0);
		len += (size_t)n;
		line[len] = '\0';
	}
	bg = (pid_t)atoi(line);
	assert_true(bg > 1);
	assert_true(alive(bg));
	assert_int_equal(getpgid(bg), proc.pid);

	assert_int_equal(exec_kill_group(proc.pid), 0);
	status = wait_exit(&proc);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	/* Reap every orphan of the group (the sleeps), bounded. The shell
	 * may have reaped the background sleep itself between the group's
	 * SIGKILLs, so it is not necessarily among them. */
	deadline = now_ms() + WAIT_MS;
	for (;;) {
		r = waitpid(-1, &status, WNOHANG);
		if (r < 0) {
			assert_int_equal(errno, ECHILD);
			break;
		}
		if (r == 0) {
			assert_true(now_ms() < deadline);
			usleep(10000);
			continue;
		}
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
	}
	assert_int_equal(kill(bg, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_false(alive(bg));
	assert_false(alive(proc.pid));

	close(proc.out_fd);
	close(proc.err_fd);
	/* The group is empty now. */
	assert_int_equal(exec_kill_group(proc.pid), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

static void
test_kill_group_refuses_special_ids(void **state)
{
	(void)state;
	assert_int_equal(exec_kill_group(0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(exec_kill_group(1), -1);
	assert_int_equal(exec_kill_group(-5), -1);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code_and_streams),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_success_and_signal),
		cmocka_unit_test(test_environment_dir_stdin),
		cmocka_unit_test(test_no_leaks_into_child),
		cmocka_unit_test(test_large_output),
		cmocka_unit_test(test_exec_failures),
		cmocka_unit_test(test_group_kill),
		cmocka_unit_test(test_kill_group_refuses_special_ids),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
