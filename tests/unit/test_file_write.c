/* test_file_write.c: the "file" step kind (agent/file_write.h). Runs as root
 * (it lchowns symlinks to another uid). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "file_write.h"

#define OTHER_UID 65534   /* "nobody": owner of the foreign symlinks */

static char tmpdir[64];

/* path of NAME inside the test's directory (a static buffer per slot) */
static const char *
tp(int slot, const char *name)
{
	static char bufs[4][PATH_MAX];

	snprintf(bufs[slot], sizeof(bufs[slot]), "%s/%s", tmpdir, name);
	return bufs[slot];
}

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_file_write.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}

/* Number of entries in dir besides . and .. (catches temporary files). */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
assert_content(const char *path, const char *want, size_t len)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, (ssize_t)len);
	assert_memory_equal(buf, want, len);
}

static void
write_plain(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
do_write(const char *path, const char *content, char *err, size_t errlen)
{
	struct file_write_req req = { 0 };

	req.path = (char *)(uintptr_t)path;
	req.content = (char *)(uintptr_t)content;
	req.length = strlen(content);
	return file_write_atomic(&req, err, errlen);
}

static void
test_writes_content_and_mode(void **state)
{
	struct file_write_req req = { 0 };
	char err[512] = "";
	struct stat st;

	(void)state;
	req.path = (char *)(uintptr_t)tp(0, "f");
	req.content = (char *)(uintptr_t)"hello\0world";
	req.length = 11;
	req.mode_set = true;
	req.mode = 0640;
	assert_int_equal(file_write_atomic(&req, err, sizeof(err)), 0);
	assert_int_equal(stat(tp(0, "f"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 11);
	assert_int_equal(st.st_uid, geteuid());
	assert_content(tp(0, "f"), "hello\0world", 11);
	assert_int_equal(count_entries(tmpdir), 1);

	/* default mode, whatever the umask */
	umask(077);
	assert_int_equal(do_write(tp(0, "g"), "", err, sizeof(err)), 0);
	umask(022);
	assert_int_equal(stat(tp(0, "g"), &st), 0);
	assert_int_equal(st.st_mode & 07777, FILE_WRITE_MODE_DEFAULT);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(count_entries(tmpdir), 2);
}

static void
test_replaces_existing(void **state)
{
	char err[512] = "";
	struct stat before, after;

	(void)state;
	write_plain(tp(0, "f"), "old content that is longer");
	assert_int_equal(stat(tp(0, "f"), &before), 0);
	assert_int_equal(do_write(tp(0, "f"), "new", err, sizeof(err)), 0);
	assert_int_equal(stat(tp(0, "f"), &after), 0);
	assert_content(tp(0, "f"), "new", 3);
	/* a new inode renamed into place, not the old file rewritten */
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(count_entries(tmpdir), 1);
}

static void
test_owner_group_and_setid(void **state)
{
	struct file_write_req req = { 0 };
	struct passwd *pw = getpwuid(OTHER_UID);
	struct group *gr = getgrgid(OTHER_UID);
	char err[512] = "", owner[64], group[64];
	struct stat st;

	(void)state;
	if (pw == NULL || gr == NULL || geteuid() != 0)
		skip();
	snprintf(owner, sizeof(owner), "%s", pw->pw_name);
	snprintf(group, sizeof(group), "%s", gr->gr_name);
	req.path = (char *)(uintptr_t)tp(0, "f");
	req.content = (char *)(uintptr_t)"x";
	req.length = 1;
	req.mode_set = true;
	req.mode = 04750;
	req.owner = owner;
	req.group = group;
	assert_int_equal(file_write_atomic(&req, err, sizeof(err)), 0);
	assert_int_equal(stat(tp(0, "f"), &st), 0);
	assert_int_equal(st.st_uid, OTHER_UID);
	assert_int_equal(st.st_gid, OTHER_UID);
	/* chown before chmod: the set-user-ID bit survives */
	assert_int_equal(st.st_mode & 07777, 04750);
}

static void
test_refuses_bad_paths(void **state)
{
	char err[512] = "", want[PATH_MAX + 100];

	(void)state;
	assert_int_equal(do_write("etc/motd", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "refusing etc/motd: not an absolute path");
	assert_int_equal(do_write("", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "file path is empty");
	snprintf(want, sizeof(want), "%s/../x", tmpdir);
	assert_int_equal(do_write(want, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"..\" components are not allowed"));
	assert_int_equal(do_write(tp(0, "d/"), "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "names a directory"));
	assert_int_equal(count_entries(tmpdir), 0);
}

static void
test_refuses_target_symlink_and_dir(void **state)
{
	char err[512] = "", want[PATH_MAX * 2];

	(void)state;
	write_plain(tp(0, "real"), "keep");
	assert_int_equal(symlink(tp(0, "real"), tp(1, "link")), 0);
	assert_int_equal(do_write(tp(1, "link"), "new", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "refusing %s: it is a symlink",
	    tp(1, "link"));
	assert_string_equal(err, want);
	assert_content(tp(0, "real"), "keep", 4);

	assert_int_equal(mkdir(tp(2, "dir"), 0755), 0);
	assert_int_equal(do_write(tp(2, "dir"), "new", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "refusing %s: it is a directory",
	    tp(2, "dir"));
	assert_string_equal(err, want);
	assert_int_equal(count_entries(tmpdir), 3);
}

static void
test_refuses_foreign_symlinked_parent(void **state)
{
	char err[512] = "", want[PATH_MAX * 3];

	(void)state;
	if (geteuid() != 0)
		skip();	/* lchown to another uid */
	assert_int_equal(mkdir(tp(0, "real"), 0755), 0);
	assert_int_equal(symlink("real", tp(1, "link")), 0);
	assert_int_equal(lchown(tp(1, "link"), OTHER_UID, OTHER_UID), 0);
	assert_int_equal(do_write(tp(2, "link/f"), "x", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "refusing %s: %s is a symlink owned by "
	    "uid %d", tp(2, "link/f"), tp(1, "link"), OTHER_UID);
	assert_string_equal(err, want);
	assert_int_equal(count_entries(tp(0, "real")), 0);

	/* a root-owned link to that foreign link: refused at the inner one */
	assert_int_equal(symlink("link", tp(1, "outer")), 0);
	assert_int_equal(do_write(tp(2, "outer/f"), "x", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "refusing %s: %s is a symlink owned by "
	    "uid %d", tp(2, "outer/f"), tp(1, "link"), OTHER_UID);
	assert_string_equal(err, want);
	assert_int_equal(count_entries(tp(0, "real")), 0);
}

static void
test_follows_own_symlinked_parent(void **state)
{
	char err[512] = "";

	(void)state;
	assert_int_equal(mkdir(tp(0, "real"), 0755), 0);
	assert_int_equal(mkdir(tp(0, "real/sub"), 0755), 0);
	/* relative, absolute and ".." targets, all owned by us (root) */
	assert_int_equal(symlink("real", tp(1, "rel")), 0);
	assert_int_equal(symlink(tp(0, "real/sub"), tp(1, "abs")), 0);
	assert_int_equal(symlink("..", tp(1, "real/sub/up")), 0);
	assert_int_equal(do_write(tp(2, "rel/a"), "1", err, sizeof(err)), 0);
	assert_int_equal(do_write(tp(2, "abs/b"), "2", err, sizeof(err)), 0);
	assert_int_equal(do_write(tp(2, "abs/up/sub/c"), "3", err,
	    sizeof(err)), 0);
	assert_content(tp(0, "real/a"), "1", 1);
	assert_content(tp(0, "real/sub/b"), "2", 1);
	assert_content(tp(0, "real/sub/c"), "3", 1);
}

static void
test_refuses_missing_parent(void **state)
{
	char err[512] = "", want[PATH_MAX * 3];

	(void)state;
	assert_int_equal(do_write(tp(0, "missing/f"), "x", err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "cannot write %s: directory %s does not "
	    "exist", tp(0, "missing/f"), tp(1, "missing"));
	assert_string_equal(err, want);

	write_plain(tp(0, "file"), "");
	assert_int_equal(do_write(tp(0, "file/f"), "x", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "refusing %s: %s is not a directory",
	    tp(0, "file/f"), tp(1, "file"));
	assert_string_equal(err, want);
	assert_int_equal(count_entries(tmpdir), 1);
}

static void
test_unknown_owner_and_group(void **state)
{
	struct file_write_req req = { 0 };
	char err[512] = "";

	(void)state;
	req.path = (char *)(uintptr_t)tp(0, "f");
	req.content = (char *)(uintptr_t)"x";
	req.length = 1;
	req.owner = (char *)(uintptr_t)"no-such-user-bora";
	assert_int_equal(file_write_atomic(&req, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown owner 'no-such-user-bora'");
	req.owner = (char *)(uintptr_t)"root";
	req.group = (char *)(uintptr_t)"no-such-group-bora";
	assert_int_equal(file_write_atomic(&req, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown group 'no-such-group-bora'");
	assert_int_equal(count_entries(tmpdir), 0);
}

/* A write that fails after the temporary file exists leaves nothing. */
static void
test_failed_write_removes_temporary(void **state)
{
	struct rlimit old, small = { 16, 16 };
	char big[4096], err[512] = "";
	int rc;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_plain(tp(0, "f"), "keep");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	small.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = do_write(tp(0, "f"), big, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "File too large"));
	assert_content(tp(0, "f"), "keep", 4);
	assert_int_equal(count_entries(tmpdir), 1);
}

static void
spec_ok(const char *text, struct file_write_req *req)
{
	json_t *spec = json_loads(text, JSON_ALLOW_NUL, NULL);
	char err[512] = "";

	assert_non_null(spec);
	assert_int_equal(file_write_req_from_spec(spec, req, err, sizeof(err)),
	    0);
	json_decref(spec);
}

static void
spec_bad(const char *text, const char *want)
{
	struct file_write_req req;
	json_t *spec = json_loads(text, JSON_ALLOW_NUL, NULL);
	char err[512] = "";

	assert_non_null(spec);
	assert_int_equal(file_write_req_from_spec(spec, &req, err, sizeof(err)),
	    -1);
	assert_string_equal(err, want);
	assert_null(req.path);
	assert_null(req.content);
	json_decref(spec);
}

static void
test_spec_parsing(void **state)
{
	struct file_write_req req;

	(void)state;
	spec_ok("{\"path\": \"/etc/x\", \"content\": \"a\\u0000b\", "
	    "\"mode\": \"0640\", \"owner\": \"root\", \"group\": \"adm\"}", &req);
	assert_string_equal(req.path, "/etc/x");
	assert_int_equal(req.length, 3);
	assert_memory_equal(req.content, "a\0b", 3);
	assert_true(req.mode_set);
	assert_int_equal(req.mode, 0640);
	assert_string_equal(req.owner, "root");
	assert_string_equal(req.group, "adm");
	file_write_req_free(&req);
	assert_null(req.path);

	spec_ok("{\"path\": \"/x\", \"content\": \"\", \"mode\": 420}", &req);
	assert_int_equal(req.mode, 0644);
	assert_null(req.owner);
	file_write_req_free(&req);

	spec_ok("{\"path\": \"/x\", \"content\": \"\"}", &req);
	assert_false(req.mode_set);
	file_write_req_free(&req);

	spec_bad("[]", "spec: expected an object");
	spec_bad("{\"content\": \"\"}", "spec.path: required");
	spec_bad("{\"path\": \"/x\"}", "spec.content: required");
	spec_bad("{\"path\": 3, \"content\": \"\"}",
	    "spec.path: expected a string");
	spec_bad("{\"path\": \"x/y\", \"content\": \"\"}",
	    "spec.path: expected an absolute path, got \"x/y\"");
	spec_bad("{\"path\": \"/x\", \"content\": [1]}",
	    "spec.content: expected a string");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"mode\": \"rw-r--r--\"}",
	    "spec.mode: expected an octal string like \"0644\"");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"mode\": \"0999\"}",
	    "spec.mode: expected an octal string like \"0644\"");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"mode\": \"17777\"}",
	    "spec.mode: expected an octal string like \"0644\"");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"mode\": true}",
	    "spec.mode: expected an octal string like \"0644\"");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"mode\": 4096}",
	    "spec.mode: 4096 is out of range (0 to 07777); write modes as "
	    "octal strings like \"0644\"");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"owner\": 0}",
	    "spec.owner: expected a string");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"group\": \"\"}",
	    "spec.group: expected a name of 1 to 256 bytes");
	spec_bad("{\"path\": \"/x\", \"content\": \"\", \"mdoe\": \"0644\"}",
	    "spec.mdoe: unknown field (expected path, content, mode, owner, "
	    "group)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writes_content_and_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaces_existing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_group_and_setid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_paths,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_refuses_target_symlink_and_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_refuses_foreign_symlinked_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_follows_own_symlinked_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_missing_parent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_owner_and_group,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_write_removes_temporary, setup, teardown),
		cmocka_unit_test(test_spec_parsing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
