/*
 * boot_id.c: the machine's boot id (boot_id.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot_id.h"
#include "log.h"

int
boot_id_read(char *out, size_t len)
{
	const char *path = getenv(BOOT_ID_ENV);
	char buf[BOOT_ID_MAX + 1];
	ssize_t r;
	size_t n;
	int fd;

	out[0] = '\0';
	if (path == NULL || path[0] == '\0')
		path = BOOT_ID_PATH;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("agent", "cannot read the boot id file=%s", path);
		return -1;
	}
	do
		r = read(fd, buf, sizeof(buf) - 1);
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r <= 0) {
		log_warnx("agent", "no boot id in file=%s", path);
		return -1;
	}
	buf[r] = '\0';
	n = strcspn(buf, "\r\n");
	if (n == 0 || n >= len) {
		log_warnx("agent", "unusable boot id in file=%s", path);
		return -1;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}
