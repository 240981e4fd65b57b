/* test_step_table.c: the agent's step table (agent/step_table.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_steps_int.h"
#include "steps_fake_conn.h"

#define MANY 3000       /* ids: far more than STEPS_HASH_SIZE buckets */

static int
setup(void **state)
{
	(void)state;
	steps_table_init();
	fake_conn_reset();
	return 0;
}

static int
teardown(void **state)
{
	struct step *st;

	(void)state;
	while ((st = TAILQ_FIRST(&steps.all)) != NULL)
		steps_free(st);
	assert_int_equal(steps.count, 0);
	fake_conn_clear();
	return 0;
}

/* Every one of many ids is found again (chains longer than one), an id
 * not in the table is not, and the kind and timeout are the run's. */
static void
test_new_and_find(void **state)
{
	char id[32];
	struct step *st;
	int i;

	(void)state;
	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "e1.t%d.0.1", i);
		st = steps_new(id, "script", (uint32_t)i + 1);
		assert_non_null(st);
		assert_int_equal(st->s[0].drain_fd, -1);
		assert_int_equal(st->s[1].drain_fd, -1);
		assert_ptr_equal(st->h[STEPS_FD_PIDFD].step, st);
		assert_int_equal(st->h[STEPS_FD_STDERR].fd, STEPS_FD_STDERR);
	}
	assert_int_equal(steps.count, MANY);
	for (i = MANY - 1; i >= 0; i--) {
		snprintf(id, sizeof(id), "e1.t%d.0.1", i);
		st = steps_find(id);
		assert_non_null(st);
		assert_string_equal(st->id, id);
		assert_string_equal(st->kind, "script");
		assert_int_equal(st->timeout_s, (uint32_t)i + 1);
	}
	assert_null(steps_find("e1.t3000.0.1"));
	assert_null(steps_find(""));
}

/* Freeing a step takes it out of the hash, the start order, the done list
 * and the pending count; the others stay, in start order. */
static void
test_free_unlinks(void **state)
{
	struct step *a, *b, *c, *st;
	const char *order[] = { "a", "c" };
	int i = 0;

	(void)state;
	a = steps_new("a", "script", 1);
	b = steps_new("b", "file", 1);
	c = steps_new("c", "puppet", 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	b->finished = 1;
	TAILQ_INSERT_TAIL(&steps.done, b, done_link);
	b->send_pending = 1;
	steps.results_pending = 1;
	b->cancel_reason = strdup("why");
	b->s[0].keep = malloc(16);
	b->result = json_object();
	steps_free(b);
	assert_null(steps_find("b"));
	assert_ptr_equal(steps_find("a"), a);
	assert_ptr_equal(steps_find("c"), c);
	assert_int_equal(steps.count, 2);
	assert_int_equal(steps.results_pending, 0);
	assert_null(TAILQ_FIRST(&steps.done));
	TAILQ_FOREACH(st, &steps.all, all_link)
		assert_string_equal(st->id, order[i++]);
	assert_int_equal(i, 2);
}

/* A paused stream is taken off the paused list; a drain descriptor is
 * closed. */
static void
test_free_closes(void **state)
{
	struct step *st = steps_new("p", "script", 1);
	int fds[2];

	(void)state;
	assert_non_null(st);
	assert_int_equal(pipe(fds), 0);
	st->s[BORA_STREAM_STDERR].drain_fd = fds[0];
	steps_stream_pause(&st->s[BORA_STREAM_STDOUT]);
	assert_ptr_equal(TAILQ_FIRST(&steps.paused),
	    &st->s[BORA_STREAM_STDOUT]);
	steps_free(st);
	assert_null(TAILQ_FIRST(&steps.paused));
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	close(fds[1]);
}

static void
touch(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A step directory goes with all it holds; a symlink in it goes, not what
 * it points to; a missing directory is no error. */
static void
test_rm_dir(void **state)
{
	char base[] = "/tmp/bora-test-step-table-XXXXXX";
	char dir[PATH_MAX], p[PATH_MAX + 32], outside[PATH_MAX];
	struct stat sb;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/step", base);
	snprintf(outside, sizeof(outside), "%s/keep-me", base);
	touch(outside, "precious");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub/deeper", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub/deeper/file", dir);
	touch(p, "x");
	snprintf(p, sizeof(p), "%s/script", dir);
	touch(p, "echo hi");
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink(base, p), 0);
	snprintf(p, sizeof(p), "%s/sub/link-file", dir);
	assert_int_equal(symlink(outside, p), 0);
	steps_rm_dir(dir);
	assert_int_equal(lstat(dir, &sb), -1);
	assert_int_equal(stat(outside, &sb), 0);
	assert_int_equal(sb.st_size, 8);
	steps_rm_dir(dir);              /* gone already */
	assert_int_equal(unlink(outside), 0);
	assert_int_equal(rmdir(base), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_and_find, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_unlinks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_closes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rm_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
