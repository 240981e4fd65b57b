/* test_file.c: the atomic file writer (proto/file.h). fsync is wrapped
 * (-Wl,--wrap=fsync) to see what is synced when, and to make it fail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "test_support.h"

static char dir[] = "/tmp/bora-test-file-XXXXXX";

/* What the wrapped fsync saw. At a directory's fsync, `watch` (if set) is
 * read: was the rename done already? */
static struct {
	int files, dirs;        /* calls on a regular file, on a directory */
	ino_t dir_ino;          /* the directory last synced */
	const char *watch;
	const char *want;       /* watch's contents after the rename */
	int renamed_first;      /* at the directory's fsync: watch == want
	                           and watch.tmp gone */
	int fail_file, fail_dir;        /* that kind of call fails, EIO */
} fs;

int __real_fsync(int fd);
int __wrap_fsync(int fd);

static void read_back(const char *path, char *buf, size_t n);

int
__wrap_fsync(int fd)
{
	char tmp[PATH_MAX + 8], buf[64];
	struct stat sb;

	assert_int_equal(fstat(fd, &sb), 0);
	if (S_ISDIR(sb.st_mode)) {
		fs.dirs++;
		fs.dir_ino = sb.st_ino;
		if (fs.watch != NULL) {
			snprintf(tmp, sizeof(tmp), "%s.tmp", fs.watch);
			read_back(fs.watch, buf, sizeof(buf));
			fs.renamed_first = strcmp(buf, fs.want) == 0 &&
			    access(tmp, F_OK) != 0;
		}
		if (fs.fail_dir) {
			errno = EIO;
			return -1;
		}
	} else {
		fs.files++;
		if (fs.fail_file) {
			errno = EIO;
			return -1;
		}
	}
	return __real_fsync(fd);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return test_rmtree(dir);
}

static int
reset(void **state)
{
	(void)state;
	memset(&fs, 0, sizeof(fs));
	return 0;
}

static void
read_back(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got;

	buf[0] = '\0';
	if (f == NULL)
		return;
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

static ino_t
ino_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_ino;
}

/* The file is fsynced, then renamed, then its directory fsynced. */
static void
test_write_syncs_dir(void **state)
{
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/synced", dir);
	assert_int_equal(bora_file_write(path, "old", 3, 0600), 0);
	memset(&fs, 0, sizeof(fs));
	fs.watch = path;
	fs.want = "new";
	assert_int_equal(bora_file_write(path, "new", 3, 0600), 0);
	assert_int_equal(fs.files, 1);
	assert_int_equal(fs.dirs, 1);
	assert_true(fs.renamed_first);
	assert_int_equal(fs.dir_ino, ino_of(dir));
}

/* The directory's fsync fails: BORA_FILE_SYNC, but the file is new. */
static void
test_write_dir_sync_fails(void **state)
{
	char path[PATH_MAX], buf[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/dirsync", dir);
	assert_int_equal(bora_file_write(path, "old", 3, 0600), 0);
	fs.fail_dir = 1;
	errno = 0;
	assert_int_equal(bora_file_write(path, "new", 3, 0600),
	    BORA_FILE_SYNC);
	assert_int_equal(errno, EIO);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "new");
}

/* The file's fsync fails: BORA_FILE_WRITE, the old file stays, the
 * temporary file is gone, nothing was renamed so no directory sync. */
static void
test_write_file_sync_fails(void **state)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], buf[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/filesync", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(bora_file_write(path, "old", 3, 0600), 0);
	memset(&fs, 0, sizeof(fs));
	fs.fail_file = 1;
	errno = 0;
	assert_int_equal(bora_file_write(path, "new", 3, 0600),
	    BORA_FILE_WRITE);
	assert_int_equal(errno, EIO);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "old");
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(fs.dirs, 0);
}

/* In an open directory, through a temporary name of the caller's: a
 * stale one (here a symlink to a file elsewhere) is removed, not
 * followed. */
static void
test_write_at(void **state)
{
	char tmp[PATH_MAX], entry[PATH_MAX], outside[PATH_MAX], buf[64];
	struct stat sb;
	int dfd;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/tmp.e1", dir);
	snprintf(entry, sizeof(entry), "%s/step.e1", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	assert_int_equal(bora_file_write(outside, "keep", 4, 0600), 0);
	assert_int_equal(symlink(outside, tmp), 0);
	memset(&fs, 0, sizeof(fs));
	fs.watch = entry;
	fs.want = "{\"journal\":1}";
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(bora_file_write_at(dfd, "step.e1", "tmp.e1",
	    fs.want, strlen(fs.want), 0600), 0);
	read_back(entry, buf, sizeof(buf));
	assert_string_equal(buf, fs.want);
	assert_int_equal(lstat(tmp, &sb), -1);
	read_back(outside, buf, sizeof(buf));
	assert_string_equal(buf, "keep");
	assert_int_equal(lstat(entry, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_true(fs.renamed_first);
	assert_int_equal(fs.files, 1);
	assert_int_equal(fs.dirs, 1);
	assert_int_equal(fcntl(dfd, F_GETFD), FD_CLOEXEC);      /* still open */
	close(dfd);
}

/* A rename of a written file, then the directory's fsync; a missing one
 * is BORA_FILE_WRITE and syncs nothing. */
static void
test_rename(void **state)
{
	char from[PATH_MAX], to[PATH_MAX], buf[64];

	(void)state;
	snprintf(from, sizeof(from), "%s/token.new", dir);
	snprintf(to, sizeof(to), "%s/token", dir);
	assert_int_equal(bora_file_write(from, "secret\n", 7, 0600), 0);
	memset(&fs, 0, sizeof(fs));
	assert_int_equal(bora_file_rename(from, to), 0);
	read_back(to, buf, sizeof(buf));
	assert_string_equal(buf, "secret\n");
	assert_int_equal(access(from, F_OK), -1);
	assert_int_equal(fs.dirs, 1);
	assert_int_equal(fs.dir_ino, ino_of(dir));
	memset(&fs, 0, sizeof(fs));
	errno = 0;
	assert_int_equal(bora_file_rename(from, to), BORA_FILE_WRITE);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fs.dirs, 0);
	fs.fail_dir = 1;
	assert_int_equal(bora_file_write(from, "again\n", 6, 0600),
	    BORA_FILE_SYNC);
	assert_int_equal(bora_file_rename(from, to), BORA_FILE_SYNC);
	read_back(to, buf, sizeof(buf));
	assert_string_equal(buf, "again\n");
}

/* Everything is written, or -1 with errno. */
static void
test_write_all(void **state)
{
	char path[PATH_MAX];
	size_t n = 3 * 1024 * 1024 + 7;
	char *big = malloc(n), *back = malloc(n);
	struct stat sb;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(big);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i * 31 % 251);
	snprintf(path, sizeof(path), "%s/all", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(bora_file_write_all(fd, big, n), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, n);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, n, f), n);
	fclose(f);
	assert_memory_equal(big, back, n);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	errno = 0;
	assert_int_equal(bora_file_write_all(fd, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	close(fd);
	free(big);
	free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_write_replaces, reset),
		cmocka_unit_test_setup(test_write_create_fails, reset),
		cmocka_unit_test_setup(test_write_rename_fails, reset),
		cmocka_unit_test_setup(test_write_syncs_dir, reset),
		cmocka_unit_test_setup(test_write_dir_sync_fails, reset),
		cmocka_unit_test_setup(test_write_file_sync_fails, reset),
		cmocka_unit_test_setup(test_write_at, reset),
		cmocka_unit_test_setup(test_rename, reset),
		cmocka_unit_test_setup(test_write_all, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
