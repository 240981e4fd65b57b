/* errbuf.c: see errbuf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

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

void
bora_errf_ssl(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	bora_errf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}
