/*
 * store_private.c: the SQLite store's files are the coordinator user's
 * alone (store_sqlite_int.h, store_sqlite_private): directory 0700, files
 * 0600, checked and fixed at every open; a symbolic link, a hard-linked
 * file or another user's file is refused rather than fixed, and so is a
 * directory that cannot be the store's own (/, or sticky like /tmp).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "store_sqlite_int.h"

/* The files SQLite keeps beside the database. */
static const char *const store_sidecars[] = { "-wal", "-shm", "-journal" };

/* Refuse what is not ours; make what is ours private. fd: open on the
 * object (a directory or the database file), name for messages. */
static int
store_private_fd(int fd, const char *name, mode_t mode, char *err,
    size_t errlen)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0) {
		bora_errf(err, errlen, "store open: cannot stat %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		bora_errf(err, errlen, "store open: refusing %s: it belongs to "
		    "uid %u, not to this user (uid %u)", name,
		    (unsigned)sb.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) && (!S_ISREG(sb.st_mode) ||
	    sb.st_nlink > 1)) {
		bora_errf(err, errlen, "store open: refusing %s: %s", name,
		    S_ISREG(sb.st_mode) ? "it has more than one hard link" :
		    "not a regular file");
		return -1;
	}
	if ((sb.st_mode & 07777) != mode && fchmod(fd, mode) != 0) {
		bora_errf(err, errlen, "store open: cannot make %s private "
		    "(mode %o): %s", name, (unsigned)mode, strerror(errno));
		return -1;
	}
	return 0;
}

/* The directory is made 0700, so it must be the store's own: the root
 * directory or a shared one (sticky, as /tmp) is refused, never fixed. */
static int
store_private_shared(int dirfd, const char *name, char *err, size_t errlen)
{
	struct stat sb, root;

	if (fstat(dirfd, &sb) != 0 || stat("/", &root) != 0) {
		bora_errf(err, errlen, "store open: cannot stat %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if ((sb.st_dev == root.st_dev && sb.st_ino == root.st_ino) ||
	    (sb.st_mode & S_ISVTX)) {
		bora_errf(err, errlen, "store open: refusing %s as the store's "
		    "directory: it is %s; give the store a directory of its own",
		    name, (sb.st_mode & S_ISVTX) ? "shared (sticky)" : "/");
		return -1;
	}
	return 0;
}

/* Open the database file, with no symbolic link followed, and check it. */
static int
store_private_file(int dirfd, const char *base, const char *name, char *err,
    size_t errlen)
{
	int fd, rc;

	fd = openat(dirfd, base, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			bora_errf(err, errlen, "store open: refusing %s: it is a "
			    "symbolic link", name);
		else
			bora_errf(err, errlen, "store open: cannot open %s: %s",
			    name, strerror(errno));
		return -1;
	}
	rc = store_private_fd(fd, name, 0600, err, errlen);
	close(fd);
	return rc;
}

/* -wal, -shm, -journal: absent is fine; a link is refused. */
static int
store_private_sidecar(int dirfd, const char *base, const char *path,
    const char *suffix, char *err, size_t errlen)
{
	char name[PATH_MAX], file[PATH_MAX];
	struct stat sb;
	int fd, rc;

	snprintf(name, sizeof(name), "%s%s", base, suffix);
	snprintf(file, sizeof(file), "%s%s", path, suffix);
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : (bora_errf(err, errlen, "store "
		    "open: cannot stat %s: %s", file, strerror(errno)), -1);
	if (S_ISLNK(sb.st_mode)) {
		bora_errf(err, errlen, "store open: refusing %s: it is a "
		    "symbolic link", file);
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0) {
		bora_errf(err, errlen, "store open: cannot open %s: %s", file,
		    strerror(errno));
		return -1;
	}
	rc = store_private_fd(fd, file, 0600, err, errlen);
	close(fd);
	return rc;
}

int
store_sqlite_private(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	size_t i;
	int dirfd, rc = -1;

	if (strlen(path) >= sizeof(dir)) {
		bora_errf(err, errlen, "store open: path too long");
		return -1;
	}
	if (slash == NULL) {
		strcpy(dir, ".");
		base = path;
	} else if (slash == path) {
		strcpy(dir, "/");
		base = slash + 1;
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		base = slash + 1;
	}
	if (*base == '\0') {
		bora_errf(err, errlen, "store open: %s names a directory, not "
		    "a file", path);
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		bora_errf(err, errlen, "store open: cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		bora_errf(err, errlen, "store open: cannot open %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (store_private_shared(dirfd, dir, err, errlen) != 0 ||
	    store_private_fd(dirfd, dir, 0700, err, errlen) != 0 ||
	    store_private_file(dirfd, base, path, err, errlen) != 0)
		goto out;
	for (i = 0; i < sizeof(store_sidecars) / sizeof(store_sidecars[0]);
	    i++)
		if (store_private_sidecar(dirfd, base, path, store_sidecars[i],
		    err, errlen) != 0)
			goto out;
	rc = 0;
out:
	close(dirfd);
	return rc;
}
