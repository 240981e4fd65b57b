/* utf8.h: UTF-8 checks for the codec and for output streams. */
#ifndef BORA_PROTO_UTF8_H
#define BORA_PROTO_UTF8_H

#include <stddef.h>

/* Offset of the first byte that is not part of valid UTF-8 (overlongs,
 * surrogates and code points past U+10FFFF are invalid), or len if all of
 * buf is valid. A sequence cut short by the end of buf is invalid. */
size_t bora_utf8_check(const char *buf, size_t len);

/* Length of the tail of buf that is the beginning of a multi-byte sequence
 * cut off by the end of buf (0..3): a stream reader keeps those bytes for
 * the next chunk instead of replacing them. */
size_t bora_utf8_incomplete_tail(const char *buf, size_t len);

/* Copy len bytes of in to out replacing each invalid byte with U+FFFD.
 * out must hold 3 * len bytes; returns the bytes written (no NUL). */
size_t bora_utf8_sanitize(const char *in, size_t len, char *out);

#endif
