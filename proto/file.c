/* file.c: see file.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

/* Open the directory of path for its *at() calls; *base points into path
 * at its last component. The descriptor, or -1 (errno). */
static int
file_open_dir(const char *path, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		*base = path;
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	*base = slash + 1;
	n = slash == path ? 1 : (size_t)(slash - path);   /* "/x": "/" */
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
bora_file_write_all(int fd, const void *data, size_t len)
{
	const char *buf = data;
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int
bora_file_write_at(int dirfd, const char *name, const char *tmp,
    const void *data, size_t len, mode_t mode)
{
	int fd, rc = 0, saved = 0;

	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return BORA_FILE_CREATE;
	if (bora_file_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = BORA_FILE_WRITE;
		saved = errno;
	}
	if (close(fd) != 0 && rc == 0) {
		rc = BORA_FILE_WRITE;
		saved = errno;
	}
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) != 0) {
		rc = BORA_FILE_WRITE;
		saved = errno;
	}
	if (rc != 0) {
		(void)unlinkat(dirfd, tmp, 0);
		errno = saved;
		return rc;
	}
	return fsync(dirfd) == 0 ? 0 : BORA_FILE_SYNC;
}

int
bora_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *base;
	int dirfd, rc, saved;

	if (strlen(path) + sizeof(".tmp") > sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return BORA_FILE_CREATE;
	}
	if ((dirfd = file_open_dir(path, &base)) < 0)
		return BORA_FILE_CREATE;
	snprintf(tmp, sizeof(tmp), "%s.tmp", base);
	rc = bora_file_write_at(dirfd, base, tmp, data, len, mode);
	saved = errno;
	close(dirfd);
	errno = saved;
	return rc;
}

int
bora_file_rename(const char *from, const char *to)
{
	const char *base;
	int dirfd, rc = 0, saved;

	if ((dirfd = file_open_dir(to, &base)) < 0)
		return BORA_FILE_CREATE;
	if (rename(from, to) != 0)
		rc = BORA_FILE_WRITE;
	else if (fsync(dirfd) != 0)
		rc = BORA_FILE_SYNC;
	saved = errno;
	close(dirfd);
	errno = saved;
	return rc;
}
