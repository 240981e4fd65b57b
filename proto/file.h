/*
 * file.h: a small file written whole, atomically and durably (keys,
 * certificates, tokens, configs, the agent's journal entries): the one
 * writer both daemons use.
 *
 * A write makes a temporary file anew in the same directory (exclusive, so
 * a symlink left there is not followed), writes all of data, fsyncs it,
 * renames it over the file, then fsyncs the directory so that the rename
 * itself survives a crash. After a crash the file is the old one or the
 * whole new one, never a mix.
 */
#ifndef BORA_PROTO_FILE_H
#define BORA_PROTO_FILE_H

#include <stddef.h>
#include <sys/types.h>

enum {
	BORA_FILE_CREATE = -1,  /* the directory or the temporary file cannot
	                           be opened or made; nothing changed */
	BORA_FILE_WRITE = -2,   /* it cannot be written, fsynced or renamed;
	                           it is removed, the file is untouched */
	BORA_FILE_SYNC = -3,    /* the file is the new one, but its directory
	                           cannot be fsynced: a crash may bring the old
	                           one back */
};

/*
 * Write len bytes of data to path through "path.tmp" (made with mode).
 * 0, or one of the codes above with errno saying why. data stays the
 * caller's.
 */
int bora_file_write(const char *path, const void *data, size_t len,
    mode_t mode);

/*
 * The same in the open directory dirfd (borrowed, not closed): name is
 * written through tmp, a name in that directory (a stale tmp is removed
 * first). For callers that hold their directory open.
 */
int bora_file_write_at(int dirfd, const char *name, const char *tmp,
    const void *data, size_t len, mode_t mode);

/*
 * Rename from over to (both in one directory, written already, say by
 * bora_file_write), then fsync that directory: the last step of a write
 * whose caller must do something between writing and replacing. 0,
 * BORA_FILE_CREATE (the directory cannot be opened; nothing renamed),
 * BORA_FILE_WRITE (the rename failed; nothing changed) or BORA_FILE_SYNC;
 * errno says why.
 */
int bora_file_rename(const char *from, const char *to);

/* Write all len bytes of buf to fd (borrowed), again after EINTR and short
 * writes: the loop of every writer above, for writers that need more
 * (agent/file_write.c: a random temporary name, owner and mode set before
 * the data). 0, or -1 with errno (EIO when write() wrote nothing). */
int bora_file_write_all(int fd, const void *buf, size_t len);

#endif
