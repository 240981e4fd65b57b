/* file.h: a small file written whole (keys, certificates, tokens, configs). */
#ifndef BORA_PROTO_FILE_H
#define BORA_PROTO_FILE_H

#include <stddef.h>
#include <sys/types.h>

enum { BORA_FILE_CREATE = -1, BORA_FILE_WRITE = -2 };

/*
 * Write len bytes of data to path through "path.tmp" (made anew with mode,
 * fsync'ed, then renamed over path): path is the old file or the whole new
 * one. 0; BORA_FILE_CREATE when path.tmp cannot be made, BORA_FILE_WRITE
 * when it cannot be written or renamed (it is removed); errno says why.
 * data stays the caller's.
 */
int bora_file_write(const char *path, const void *data, size_t len,
    mode_t mode);

#endif
