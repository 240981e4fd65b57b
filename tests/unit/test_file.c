/* test_file.c: bora_file_write (proto/file.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static char dir[] = "/tmp/bora-test-file-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char p[PATH_MAX];

	(void)state;
	snprintf(p, sizeof(p), "%s/f", dir);
	unlink(p);
	return rmdir(dir);
}

static void
read_back(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got;

	assert_non_null(f);
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
}

/* A new file, then one over it: the whole text, the mode, no path.tmp. */
static void
test_write_replaces(void **state)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], buf[64];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(bora_file_write(path, "one\n", 4, 0600), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(bora_file_write(path, "two", 3, 0644), 0);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "two");
	assert_int_equal(access(tmp, F_OK), -1);
}

/* No directory for path.tmp: BORA_FILE_CREATE with errno; too long a
 * path: ENAMETOOLONG. */
static void
test_write_create_fails(void **state)
{
	char path[PATH_MAX], *big;

	(void)state;
	snprintf(path, sizeof(path), "%s/none/f", dir);
	errno = 0;
	assert_int_equal(bora_file_write(path, "x", 1, 0600),
	    BORA_FILE_CREATE);
	assert_int_equal(errno, ENOENT);
	big = malloc(PATH_MAX + 16);
	assert_non_null(big);
	memset(big, 'a', PATH_MAX + 15);
	big[PATH_MAX + 15] = '\0';
	assert_int_equal(bora_file_write(big, "x", 1, 0600), BORA_FILE_CREATE);
	assert_int_equal(errno, ENAMETOOLONG);
	free(big);
}

/* path is a directory: the rename fails, path.tmp is removed. */
static void
test_write_rename_fails(void **state)
{
	char tmp[PATH_MAX + 8];

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	assert_int_equal(bora_file_write(dir, "x", 1, 0600), BORA_FILE_WRITE);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(access(tmp, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replaces),
		cmocka_unit_test(test_write_create_fails),
		cmocka_unit_test(test_write_rename_fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
