/*
 * file_write.h: the "file" step kind: write one file atomically.
 *
 * The content goes to a temporary file ".NAME.XXXXXX" in the target's own
 * directory (created O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600), which is
 * chowned, chmodded, written in full and fsynced, then renamed over the
 * target; the directory is fsynced last. A reader therefore sees the old
 * file or the new one, never a part of either. On every failure the
 * temporary file is removed and the target is left as it was.
 *
 * The path is resolved one component at a time from "/" (never by the
 * kernel's own symlink following), so that every symlink met on the way,
 * in the path or inside a link's target, can be checked: a symlink owned
 * by neither root nor the caller's euid is refused, as is a target that is
 * itself a symlink, a directory or anything but a regular file, and a
 * parent directory that does not exist (nothing is created on the way).
 */
#ifndef BORA_AGENT_FILE_WRITE_H
#define BORA_AGENT_FILE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* What to write. Every pointer is owned by the request (file_write_req_free);
 * a zeroed request plus path and content is a valid one. */
struct file_write_req {
	char *path;       /* absolute; "." and ".." components are refused */
	char *content;    /* length bytes, may hold NULs; NULL when length is 0 */
	size_t length;
	bool mode_set;    /* false: FILE_WRITE_MODE_DEFAULT */
	mode_t mode;      /* permission bits, at most 07777 */
	char *owner;      /* user name, or NULL: the caller's euid */
	char *group;      /* group name, or NULL: the caller's egid */
};

#define FILE_WRITE_MODE_DEFAULT 0644

/* Free what req owns and zero it; safe on a zeroed request. */
void file_write_req_free(struct file_write_req *req);

/*
 * Fill *req from a step spec object {path, content, mode, owner, group}:
 * path and content strings are required; mode is an octal string such as
 * "0640" or an integer (taken as the mode's value, so 420 is 0644); owner
 * and group are non-empty names. Unknown fields and wrong types are refused
 * with the field's path, e.g. "spec.mode: expected an octal string like
 * \"0644\"". Returns 0, or -1 with one sentence in err; on failure *req is
 * left zeroed. spec is borrowed; *req must be zeroed or freed beforehand
 * and is freed by the caller with file_write_req_free().
 */
int file_write_req_from_spec(const json_t *spec, struct file_write_req *req,
    char *err, size_t errlen);

/*
 * Write req->content to req->path as described above. Owner and group are
 * looked up with getpwnam_r/getgrnam_r; an unknown name is an error naming
 * it. Returns 0, or -1 with one sentence in err such as "refusing /a/b/c:
 * /a/b is a symlink owned by uid 1000". req is only borrowed.
 */
int file_write_atomic(const struct file_write_req *req, char *err,
    size_t errlen);

#endif
