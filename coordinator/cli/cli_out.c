/*
 * cli_out.c: what the CLI writes: warnings, whole buffers to a file
 * descriptor, text made safe for a terminal cell, compact JSON lines
 * (cli_int.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

#include "cli_int.h"

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("bora: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Write all of buf to fd, unbuffered. */
int
cli_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy s for a terminal cell: control characters become '?'. */
const char *
cli_clean(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

void
cli_print_compact(const json_t *v, const char *dflt)
{
	char *text = json_dumps(v, JSON_COMPACT);

	printf("%s\n", text ? text : dflt);
	free(text);
}
