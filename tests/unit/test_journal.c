/* test_journal.c: the agent's on-disk step journal (agent/journal.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "test_support.h"

struct fixture {
	char state[64];
	char dir[128];
	struct journal *j;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->state, sizeof(f->state), "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(f->state));
	f->j = journal_open(f->state, err, sizeof(err));
	if (f->j == NULL)
		fail_msg("journal_open: %s", err);
	snprintf(f->dir, sizeof(f->dir), "%s/journal", f->state);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	journal_close(f->j);
	test_rmtree(f->state);
	free(f);
	return 0;
}

/* A result object of step with status and finished_ms; new reference. */
static json_t *
result_of(const char *step, enum bora_status status, int64_t finished_ms)
{
	struct bora_result r;
	json_t *o;

	memset(&r, 0, sizeof(r));
	r.step = step;
	r.status = status;
	r.has_exit_code = status == BORA_STATUS_SUCCESS;
	r.started_ms = finished_ms > 10 ? finished_ms - 10 : 0;
	r.finished_ms = finished_ms;
	r.outputs = json_pack("{s:s}", "deploy_stdout", "hello\n");
	o = bora_result_to_json(&r);
	json_decref(r.outputs);
	assert_non_null(o);
	return o;
}

static void
finish(struct fixture *f, const char *step, enum bora_status status,
    int64_t finished_ms)
{
	json_t *res = result_of(step, status, finished_ms);
	char err[256];

	if (journal_finish(f->j, step, "script", finished_ms - 10, NULL, res,
	    err, sizeof(err)) != 0)
		fail_msg("journal_finish %s: %s", step, err);
	json_decref(res);
}

static void
start(struct fixture *f, const char *step, int64_t started_ms)
{
	char err[256];

	if (journal_start(f->j, step, "script", started_ms, NULL, 0, err,
	    sizeof(err)) != 0)
		fail_msg("journal_start %s: %s", step, err);
}

static const char *
status_of(const struct journal_entry *e)
{
	return json_string_value(json_object_get(e->result, "status"));
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static int
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &sb) == 0;
}

/* Files in dir, "." and ".." excluded. */
static int
count_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_open_private(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	struct journal *j2;
	char err[256];

	assert_int_equal(stat(f->dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_string_equal(journal_dir(f->j), f->dir);
	/* A second open takes the directory as it is, made private. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_non_null(j2 = journal_open(f->state, err, sizeof(err)));
	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	journal_close(j2);
	/* A state directory that is not there is an error, not a crash. */
	assert_null(journal_open("/nonexistent/bora", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create"));
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	json_t *res;
	size_t n;
	char err[256];

	start(f, "42.deploy.0.1", 1000);
	res = result_of("42.deploy.0.1", BORA_STATUS_SUCCESS, 2000);
	assert_int_equal(journal_finish(f->j, "42.deploy.0.1", "script", 1000,
	    "/tmp/bora-step-abcdef", res, err, sizeof(err)), 0);
	assert_int_equal(count_files(f->dir), 1);   /* no temporary left */
	assert_true(exists(f->dir, "step.42.deploy.0.1"));

	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].step, "42.deploy.0.1");
	assert_string_equal(e[0].kind, "script");
	assert_string_equal(e[0].work, "/tmp/bora-step-abcdef");
	assert_int_equal(e[0].started_ms, 1000);
	assert_int_equal(e[0].finished_ms, 2000);
	assert_int_equal(e[0].lost, 0);
	/* the very object the result message carries */
	assert_true(json_equal(e[0].result, res));
	journal_entries_free(e, n);
	json_decref(res);

	assert_int_equal(journal_remove(f->j, "42.deploy.0.1"), 0);
	assert_int_equal(journal_remove(f->j, "42.deploy.0.1"), 0); /* gone */
	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 0);
	assert_null(e);
	assert_int_equal(count_files(f->dir), 0);
}

static void
test_started_only_is_lost(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	int64_t fin;
	size_t n;

	start(f, "7.a.0.1", 5000);
	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].lost, 1);
	assert_string_equal(status_of(&e[0]), "lost");
	assert_string_equal(json_string_value(json_object_get(e[0].result,
	    "error")), JOURNAL_LOST_ERROR);
	assert_int_equal(e[0].started_ms, 5000);
	assert_true(e[0].finished_ms >= 5000);
	fin = e[0].finished_ms;
	journal_entries_free(e, n);

	/* It was written back as finished: the next load reads the same. */
	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].lost, 0);
	assert_string_equal(status_of(&e[0]), "lost");
	assert_int_equal(e[0].finished_ms, fin);
	journal_entries_free(e, n);
}

/* What on_left saw of the entry, and whether it was still started-only
 * on disk then. */
static struct {
	int calls;
	int64_t pgid;
	char boot_id[80];
	int had_result;
	const char *dir;
} left_seen;

static void
on_left(const struct journal *j, const struct journal_entry *e)
{
	char path[256], buf[4096];
	ssize_t r;
	int fd;

	(void)j;
	left_seen.calls++;
	left_seen.pgid = e->pgid;
	snprintf(left_seen.boot_id, sizeof(left_seen.boot_id), "%s",
	    e->boot_id ? e->boot_id : "");
	snprintf(path, sizeof(path), "%s/step.%s", left_seen.dir, e->step);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(r > 0);
	buf[r] = '\0';
	left_seen.had_result = strstr(buf, "\"result\"") != NULL;
}

/* The process group and boot id of a running step come back with its
 * entry, shown to on_left before the lost result is written; a finished
 * entry is not shown. The boot id is the file $BORA_BOOT_ID_FILE names. */
static void
test_pgid_and_boot_id(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	char boot[128], err[256];
	struct journal *j;
	FILE *fp;
	size_t n;

	snprintf(boot, sizeof(boot), "%s/boot_id", f->state);
	assert_non_null(fp = fopen(boot, "w"));
	fputs("boot-of-the-test\n", fp);
	fclose(fp);
	setenv("BORA_BOOT_ID_FILE", boot, 1);
	j = journal_open(f->state, err, sizeof(err));
	unsetenv("BORA_BOOT_ID_FILE");
	assert_non_null(j);
	assert_string_equal(journal_boot_id(j), "boot-of-the-test");
	assert_int_equal(journal_start(j, "p.1", "script", 10, NULL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(journal_start(j, "p.1", "script", 10, NULL, 4242, err,
	    sizeof(err)), 0);
	assert_int_equal(journal_start(j, "p.2", "script", 10, NULL, 4343, err,
	    sizeof(err)), 0);
	journal_close(j);
	finish(f, "p.2", BORA_STATUS_SUCCESS, 20);

	memset(&left_seen, 0, sizeof(left_seen));
	left_seen.dir = f->dir;
	assert_int_equal(journal_load(f->j, 10, on_left, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(left_seen.calls, 1);
	assert_int_equal(left_seen.pgid, 4242);
	assert_string_equal(left_seen.boot_id, "boot-of-the-test");
	assert_int_equal(left_seen.had_result, 0);
	journal_entries_free(e, n);
}

/* A child writes "started" and dies without a word, like an agent under
 * kill -9 in the middle of a step: the next load says lost. */
static void
test_crash_simulation(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	int ws = 0;
	size_t n;
	pid_t pid;

	finish(f, "1.done.0.1", BORA_STATUS_SUCCESS, 100);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct journal *j = journal_open(f->state, err, sizeof(err));

		if (j == NULL || journal_start(j, "2.crash.0.1", "script",
		    200, NULL, 0, err, sizeof(err)) != 0)
			_exit(1);
		_exit(0);       /* no close, no cleanup */
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);

	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].step, "1.done.0.1");
	assert_string_equal(status_of(&e[0]), "success");
	assert_int_equal(e[0].lost, 0);
	assert_string_equal(e[1].step, "2.crash.0.1");
	assert_string_equal(status_of(&e[1]), "lost");
	assert_int_equal(e[1].lost, 1);
	assert_null(json_object_get(e[1].result, "exit_code"));
	journal_entries_free(e, n);
}

static void
test_corrupt_and_foreign(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	char path[PATH_MAX], sub[PATH_MAX];
	size_t n;
	int fd;

	finish(f, "ok.1", BORA_STATUS_FAILED, 10);
	write_file(f->dir, "step.garbage", "{\"journal\":1,\"step\":");
	write_file(f->dir, "step.empty", "");
	write_file(f->dir, "step.array", "[1,2,3]");
	write_file(f->dir, "step.other", "{\"journal\":1,\"step\":\"someone\","
	    "\"kind\":\"script\",\"started_ms\":1}");
	write_file(f->dir, "step.v2", "{\"journal\":2,\"step\":\"v2\","
	    "\"kind\":\"script\",\"started_ms\":1}");
	write_file(f->dir, "step.extra", "{\"journal\":1,\"step\":\"extra\","
	    "\"kind\":\"script\",\"started_ms\":1,\"color\":\"red\"}");
	write_file(f->dir, "step.badres", "{\"journal\":1,\"step\":\"badres\","
	    "\"kind\":\"script\",\"started_ms\":1,\"result\":{\"step\":"
	    "\"badres\",\"status\":\"done\"}}");
	write_file(f->dir, "step.elses", "{\"journal\":1,\"step\":\"elses\","
	    "\"kind\":\"script\",\"started_ms\":1,\"result\":{\"step\":"
	    "\"ok.1\",\"status\":\"success\"}}");
	write_file(f->dir, "step.dup", "{\"journal\":1,\"journal\":1,\"step\":"
	    "\"dup\",\"kind\":\"script\",\"started_ms\":1}");
	write_file(f->dir, "step.bin", "\xff\xfe\x00garbage");
	write_file(f->dir, "README", "not ours\n");
	write_file(f->dir, "step.bad id", "{}");
	write_file(f->dir, "tmp.ok.2.Ab12Cd", "{\"journal\":1,\"step\":\"ok.2\"");
	snprintf(sub, sizeof(sub), "%s/step.adir", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/step.link", f->dir);
	assert_int_equal(symlink("step.ok.1", path), 0);
	/* larger than any entry may be (sparse, no disk used) */
	snprintf(path, sizeof(path), "%s/step.huge", f->dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(ftruncate(fd, JOURNAL_ENTRY_MAX + 1), 0);
	close(fd);

	assert_int_equal(journal_load(f->j, 100, NULL, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].step, "ok.1");
	assert_string_equal(status_of(&e[0]), "failed");
	journal_entries_free(e, n);
	/* the temporary file is gone; the rest is left as it was */
	assert_false(exists(f->dir, "tmp.ok.2.Ab12Cd"));
	assert_true(exists(f->dir, "README"));
	assert_true(exists(f->dir, "step.garbage"));
	assert_true(exists(f->dir, "step.adir"));
	/* a corrupt entry is not turned lost, and a new write replaces it */
	start(f, "garbage", 1);
	assert_int_equal(journal_load(f->j, 100, NULL, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[1].step, "garbage");
	assert_string_equal(status_of(&e[1]), "lost");
	journal_entries_free(e, n);
}

static void
test_order(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	size_t n;

	finish(f, "c", BORA_STATUS_SUCCESS, 300);
	finish(f, "b", BORA_STATUS_SUCCESS, 200);
	finish(f, "a", BORA_STATUS_FAILED, 200);
	finish(f, "z", BORA_STATUS_SUCCESS, 100);
	start(f, "y", 50);                 /* lost now: finished last */
	finish(f, "x", BORA_STATUS_SUCCESS, 250);
	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(e[0].step, "z");
	assert_string_equal(e[1].step, "a");
	assert_string_equal(e[2].step, "b");
	assert_string_equal(e[3].step, "x");
	assert_string_equal(e[4].step, "c");
	assert_string_equal(e[5].step, "y");
	assert_string_equal(status_of(&e[5]), "lost");
	journal_entries_free(e, n);
}

static void
test_bounds(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	struct bora_result r;
	json_t *res, *big;
	char err[256], *text;
	size_t n;

	/* a result larger than one message is refused, nothing written */
	text = malloc(JOURNAL_RESULT_MAX + 1);
	assert_non_null(text);
	memset(text, 'x', JOURNAL_RESULT_MAX);
	text[JOURNAL_RESULT_MAX] = '\0';
	memset(&r, 0, sizeof(r));
	r.step = "big";
	r.status = BORA_STATUS_SUCCESS;
	r.outputs = big = json_pack("{s:s}", "deploy_stdout", text);
	assert_non_null(big);
	assert_non_null(res = bora_result_to_json(&r));
	assert_int_equal(journal_finish(f->j, "big", "script", 1, NULL, res,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(count_files(f->dir), 0);
	json_decref(res);
	json_decref(big);
	free(text);

	/* bad ids and kinds, a result of another step */
	assert_int_equal(journal_start(f->j, "a/b", "script", 1, NULL, 0, err,
	    sizeof(err)), -1);
	assert_int_equal(journal_start(f->j, "", "script", 1, NULL, 0, err,
	    sizeof(err)), -1);
	assert_int_equal(journal_start(f->j, "ok", "", 1, NULL, 0, err,
	    sizeof(err)), -1);
	res = result_of("other", BORA_STATUS_SUCCESS, 5);
	assert_int_equal(journal_finish(f->j, "ok", "script", 1, NULL, res,
	    err, sizeof(err)), -1);
	json_decref(res);
	assert_int_equal(count_files(f->dir), 0);

	/* load takes at most max entries */
	finish(f, "s1", BORA_STATUS_SUCCESS, 10);
	finish(f, "s2", BORA_STATUS_SUCCESS, 20);
	finish(f, "s3", BORA_STATUS_SUCCESS, 30);
	assert_int_equal(journal_load(f->j, 2, NULL, &e, &n), 0);
	assert_int_equal(n, 2);
	journal_entries_free(e, n);
	assert_int_equal(journal_load(f->j, 0, NULL, &e, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(count_files(f->dir), 3);   /* none dropped */
}

/* finish replaces start; start again (a resent run never does this, but
 * the file is simply replaced) */
static void
test_replace(void **state)
{
	struct fixture *f = *state;
	struct journal_entry *e;
	size_t n;

	start(f, "r.1", 10);
	finish(f, "r.1", BORA_STATUS_CANCELLED, 20);
	assert_int_equal(journal_load(f->j, 10, NULL, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(status_of(&e[0]), "cancelled");
	assert_int_equal(e[0].lost, 0);
	journal_entries_free(e, n);
	assert_int_equal(count_files(f->dir), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_private, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_started_only_is_lost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_simulation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pgid_and_boot_id, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_foreign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
