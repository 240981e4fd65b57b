/* errbuf.c: see errbuf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "utf8.h"

void
bora_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	len = strlen(err);
	err[len - bora_utf8_incomplete_tail(err, len)] = '\0';
}
