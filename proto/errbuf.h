/*
 * errbuf.h: write one error sentence into a caller's fixed buffer.
 */
#ifndef BORA_PROTO_ERRBUF_H
#define BORA_PROTO_ERRBUF_H

#include <stddef.h>

/* printf into err (errlen bytes; nothing when err is NULL or errlen 0),
 * never ending inside a UTF-8 sequence that the cut split. */
void bora_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* err = what, and OpenSSL's reason when it left one in its error queue
 * ("what: reason"); the queue is cleared. */
void bora_errf_ssl(char *err, size_t errlen, const char *what);

#endif
