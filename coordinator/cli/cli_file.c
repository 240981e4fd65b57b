/*
 * cli_file.c: a script or workflow file (or standard input) read whole,
 * with a cap (cli_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"

/* Read FILE (or stdin for "-"), up to max bytes. Returns a malloc'ed
 * NUL-terminated buffer and its length, or NULL after saying why. */
char *
cli_read_script(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	const char *name = f == stdin ? "standard input" : path;
	char *buf;
	size_t n;

	if (f == NULL) {
		cli_warnx("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 2);
	if (buf == NULL) {
		cli_warnx("out of memory");
		goto fail;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		cli_warnx("%s: %s", name, strerror(errno));
		goto fail;
	}
	if (n > max) {
		cli_warnx("%s: over the limit of %zu bytes (a step's script "
		    "fits in one protocol message; a workflow file in 1 MiB)",
		    name, max);
		goto fail;
	}
	if (memchr(buf, '\0', n) != NULL) {
		cli_warnx("%s: holds a NUL byte; expected text", name);
		goto fail;
	}
	buf[n] = '\0';
	*len = n;
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}
