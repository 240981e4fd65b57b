/* file_write.c: write one file atomically, refusing foreign symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "file.h"
#include "file_write.h"

#define FW_MAX_LINKS  40         /* symlinks followed per path, as Linux */
#define FW_TMP_TRIES  100        /* temporary names tried before giving up */
#define FW_TMP_EXTRA  8          /* "." NAME "." XXXXXX */
#define FW_NSS_MAX    (1 << 20)  /* cap on the getpwnam_r/getgrnam_r buffer */
#define FW_NAME_MAX   256        /* cap on owner and group names in a spec */

void
file_write_req_free(struct file_write_req *req)
{
	free(req->path);
	free(req->content);
	free(req->owner);
	free(req->group);
	memset(req, 0, sizeof(*req));
}

/* An absolute path, shorter than PATH_MAX, naming a file (no trailing "/"),
 * without "." or ".." components. */
static int
fw_check_path(const char *path, char *err, size_t errlen)
{
	const char *p;
	size_t n;

	if (path == NULL || path[0] == '\0') {
		bora_errf(err, errlen, "file path is empty");
		return -1;
	}
	if (path[0] != '/') {
		bora_errf(err, errlen, "refusing %s: not an absolute path", path);
		return -1;
	}
	if (strlen(path) >= PATH_MAX) {
		bora_errf(err, errlen, "refusing %.200s...: path too long", path);
		return -1;
	}
	if (path[strlen(path) - 1] == '/') {
		bora_errf(err, errlen, "refusing %s: names a directory", path);
		return -1;
	}
	for (p = path; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			bora_errf(err, errlen, "refusing %s: \".\" and \"..\" "
			    "components are not allowed", path);
			return -1;
		}
		if (n > NAME_MAX) {
			bora_errf(err, errlen, "refusing %s: a component is longer "
			    "than %d bytes", path, NAME_MAX);
			return -1;
		}
	}
	return 0;
}

/* Drop the last component of shown ("" is "/"). */
static void
fw_shown_pop(char *shown)
{
	char *slash = strrchr(shown, '/');

	if (slash != NULL)
		*slash = '\0';
}

/*
 * Walk the directory part of path (its first dirlen bytes) from "/", one
 * component at a time, following symlinks by hand so each can be checked.
 * On success *out is an O_PATH descriptor of the parent directory (the
 * caller closes it). path is only used in messages.
 */
static int
fw_walk_dir(const char *path, size_t dirlen, int *out, char *err,
    size_t errlen)
{
	char todo[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	char shown[PATH_MAX], here[PATH_MAX], comp[NAME_MAX + 1];
	int dirfd = -1, fd = -1, links = 0, rc = -1;
	size_t pos = 0, n;
	ssize_t len;
	struct stat st;

	memcpy(todo, path, dirlen);
	todo[dirlen] = '\0';
	shown[0] = '\0';
	if ((dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		bora_errf(err, errlen, "cannot write %s: /: %s", path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		pos += strspn(todo + pos, "/");
		if (todo[pos] == '\0')
			break;
		n = strcspn(todo + pos, "/");
		if (n > NAME_MAX) {
			bora_errf(err, errlen, "refusing %s: a symlink on the way "
			    "names a component longer than %d bytes", path,
			    NAME_MAX);
			goto out;
		}
		memcpy(comp, todo + pos, n);
		comp[n] = '\0';
		pos += n;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* only from a symlink's target: the user's path has none */
			fd = openat(dirfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd == -1) {
				bora_errf(err, errlen, "cannot write %s: %s/..: %s",
				    path, shown, strerror(errno));
				goto out;
			}
			close(dirfd);
			dirfd = fd;
			fd = -1;
			fw_shown_pop(shown);
			continue;
		}
		if ((size_t)snprintf(here, sizeof(here), "%s/%s", shown, comp) >=
		    sizeof(here)) {
			bora_errf(err, errlen, "refusing %s: path too long after "
			    "following symlinks", path);
			goto out;
		}
		fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			if (errno == ENOENT)
				bora_errf(err, errlen, "cannot write %s: directory "
				    "%s does not exist", path, here);
			else
				bora_errf(err, errlen, "cannot write %s: %s: %s",
				    path, here, strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) == -1) {
			bora_errf(err, errlen, "cannot write %s: %s: %s", path, here,
			    strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			close(dirfd);
			dirfd = fd;
			fd = -1;
			memcpy(shown, here, strlen(here) + 1);
			continue;
		}
		if (!S_ISLNK(st.st_mode)) {
			bora_errf(err, errlen, "refusing %s: %s is not a directory",
			    path, here);
			goto out;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			bora_errf(err, errlen, "refusing %s: %s is a symlink owned "
			    "by uid %u", path, here, (unsigned)st.st_uid);
			goto out;
		}
		if (++links > FW_MAX_LINKS) {
			bora_errf(err, errlen, "refusing %s: more than %d symlinks "
			    "on the way (at %s)", path, FW_MAX_LINKS, here);
			goto out;
		}
		/* read the link we checked, not whatever the name holds now */
		len = readlinkat(fd, "", target, sizeof(target));
		if (len == -1) {
			bora_errf(err, errlen, "cannot write %s: readlink %s: %s",
			    path, here, strerror(errno));
			goto out;
		}
		if (len == 0 || (size_t)len >= sizeof(target)) {
			bora_errf(err, errlen, "refusing %s: symlink %s is %s", path,
			    here, len == 0 ? "empty" : "too long");
			goto out;
		}
		target[len] = '\0';
		close(fd);
		fd = -1;
		if ((size_t)snprintf(next, sizeof(next), "%s/%s", target,
		    todo + pos) >= sizeof(next)) {
			bora_errf(err, errlen, "refusing %s: path too long after "
			    "following %s", path, here);
			goto out;
		}
		memcpy(todo, next, strlen(next) + 1);
		pos = 0;
		if (target[0] == '/') {
			fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd == -1) {
				bora_errf(err, errlen, "cannot write %s: /: %s",
				    path, strerror(errno));
				goto out;
			}
			close(dirfd);
			dirfd = fd;
			fd = -1;
			shown[0] = '\0';
		}
	}
	*out = dirfd;
	dirfd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (dirfd != -1)
		close(dirfd);
	return rc;
}

/* Look name up with getpwnam_r (user) or getgrnam_r (!user); the buffer
 * grows on ERANGE up to FW_NSS_MAX. */
static int
fw_lookup_id(const char *name, int user, unsigned *id, char *err,
    size_t errlen)
{
	struct passwd pw, *pwres = NULL;
	struct group gr, *grres = NULL;
	const char *what = user ? "owner" : "group";
	char *buf = NULL, *nbuf;
	size_t size = 1024;
	int e, rc = -1;

	for (;;) {
		if ((nbuf = realloc(buf, size)) == NULL) {
			bora_errf(err, errlen, "cannot look up %s '%s': out of "
			    "memory", what, name);
			goto out;
		}
		buf = nbuf;
		if (user)
			e = getpwnam_r(name, &pw, buf, size, &pwres);
		else
			e = getgrnam_r(name, &gr, buf, size, &grres);
		if (e != ERANGE || size >= FW_NSS_MAX)
			break;
		size *= 2;
	}
	/* "not found" is 0 with a NULL result, or one of these (getpwnam_r(3)) */
	if ((e == 0 && (user ? pwres == NULL : grres == NULL)) ||
	    e == ENOENT || e == ESRCH || e == EBADF || e == EPERM) {
		bora_errf(err, errlen, "unknown %s '%s'", what, name);
		goto out;
	}
	if (e != 0) {
		bora_errf(err, errlen, "cannot look up %s '%s': %s", what, name,
		    strerror(e));
		goto out;
	}
	*id = user ? (unsigned)pw.pw_uid : (unsigned)gr.gr_gid;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Create ".NAME.XXXXXX" in dirfd, mode 0600; its name goes to tmpname
 * (NAME_MAX + 1 bytes). Returns the descriptor or -1. */
static int
fw_tmp_create(int dirfd, const char *path, const char *name, char *tmpname,
    char *err, size_t errlen)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	int fd, i;
	size_t k;

	if (strlen(name) + FW_TMP_EXTRA > NAME_MAX) {
		bora_errf(err, errlen, "refusing %s: file name too long for a "
		    "temporary name beside it", path);
		return -1;
	}
	for (i = 0; i < FW_TMP_TRIES; i++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			bora_errf(err, errlen, "cannot write %s: getrandom: %s",
			    path, strerror(errno));
			return -1;
		}
		k = (size_t)snprintf(tmpname, NAME_MAX + 1, ".%s.", name);
		for (size_t j = 0; j < sizeof(rnd); j++)
			tmpname[k++] = alnum[rnd[j] % (sizeof(alnum) - 1)];
		tmpname[k] = '\0';
		fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			return fd;
		if (errno != EEXIST) {
			bora_errf(err, errlen, "cannot write %s: creating a "
			    "temporary file: %s", path, strerror(errno));
			return -1;
		}
	}
	bora_errf(err, errlen, "cannot write %s: no free temporary name after %d "
	    "tries", path, FW_TMP_TRIES);
	return -1;
}

int
file_write_atomic(const struct file_write_req *req, char *err, size_t errlen)
{
	const char *path = req->path, *name;
	char tmpname[NAME_MAX + 1];
	unsigned uid = (unsigned)-1, gid = (unsigned)-1;
	int dirfd = -1, tmpfd = -1, syncfd = -1, tmp_made = 0, rc = -1;
	mode_t mode = req->mode_set ? req->mode : FILE_WRITE_MODE_DEFAULT;
	struct stat st;

	if (fw_check_path(path, err, errlen) == -1)
		goto out;
	if (mode & ~(mode_t)07777) {
		bora_errf(err, errlen, "refusing %s: mode %o is not a permission "
		    "mode", path, (unsigned)mode);
		goto out;
	}
	if (req->length > 0 && req->content == NULL) {
		bora_errf(err, errlen, "cannot write %s: no content", path);
		goto out;
	}
	if (req->owner != NULL &&
	    fw_lookup_id(req->owner, 1, &uid, err, errlen) == -1)
		goto out;
	if (req->group != NULL &&
	    fw_lookup_id(req->group, 0, &gid, err, errlen) == -1)
		goto out;
	name = strrchr(path, '/') + 1;
	if (fw_walk_dir(path, (size_t)(name - path), &dirfd, err, errlen) == -1)
		goto out;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			bora_errf(err, errlen, "refusing %s: it is %s", path,
			    S_ISLNK(st.st_mode) ? "a symlink" :
			    S_ISDIR(st.st_mode) ? "a directory" :
			    "not a regular file");
			goto out;
		}
	} else if (errno != ENOENT) {
		bora_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	tmpfd = fw_tmp_create(dirfd, path, name, tmpname, err, errlen);
	if (tmpfd == -1)
		goto out;
	tmp_made = 1;
	/* chown before chmod: chown clears the set-user/group-ID bits */
	if ((req->owner != NULL || req->group != NULL) &&
	    fchown(tmpfd, (uid_t)uid, (gid_t)gid) == -1) {
		bora_errf(err, errlen, "cannot write %s: chown: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fchmod(tmpfd, mode) == -1) {
		bora_errf(err, errlen, "cannot write %s: chmod: %s", path,
		    strerror(errno));
		goto out;
	}
	if (bora_file_write_all(tmpfd, req->content, req->length) == -1 ||
	    fsync(tmpfd) == -1) {
		bora_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(tmpfd) == -1) {
		tmpfd = -1;
		bora_errf(err, errlen, "cannot write %s: close: %s", path,
		    strerror(errno));
		goto out;
	}
	tmpfd = -1;
	if (renameat(dirfd, tmpname, dirfd, name) == -1) {
		bora_errf(err, errlen, "cannot write %s: rename: %s", path,
		    strerror(errno));
		goto out;
	}
	tmp_made = 0;
	syncfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (syncfd == -1 || fsync(syncfd) == -1) {
		bora_errf(err, errlen, "wrote %s but could not sync its directory: "
		    "%s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (tmpfd != -1)
		close(tmpfd);
	if (tmp_made)
		unlinkat(dirfd, tmpname, 0);
	if (syncfd != -1)
		close(syncfd);
	if (dirfd != -1)
		close(dirfd);
	return rc;
}

/* The spec's fields, one parser each (file_write_req_from_spec). */

static int
fw_spec_path(const json_t *v, struct file_write_req *req, char *err,
    size_t errlen)
{
	const char *s;

	if (!json_is_string(v)) {
		bora_errf(err, errlen, "spec.path: expected a string");
		return -1;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || s[0] != '/') {
		bora_errf(err, errlen, "spec.path: expected an absolute path, got "
		    "\"%.200s\"", s);
		return -1;
	}
	if ((req->path = strdup(s)) == NULL) {
		bora_errf(err, errlen, "spec.path: out of memory");
		return -1;
	}
	return 0;
}

static int
fw_spec_content(const json_t *v, struct file_write_req *req, char *err,
    size_t errlen)
{
	size_t len;

	if (!json_is_string(v)) {
		bora_errf(err, errlen, "spec.content: expected a string");
		return -1;
	}
	len = json_string_length(v);
	if ((req->content = malloc(len + 1)) == NULL) {
		bora_errf(err, errlen, "spec.content: out of memory");
		return -1;
	}
	memcpy(req->content, json_string_value(v), len + 1);
	req->length = len;
	return 0;
}

static int
fw_spec_mode(const json_t *v, struct file_write_req *req, char *err,
    size_t errlen)
{
	const char *s;
	json_int_t i;
	size_t n;

	if (json_is_integer(v)) {
		i = json_integer_value(v);
		if (i < 0 || i > 07777) {
			bora_errf(err, errlen, "spec.mode: %" JSON_INTEGER_FORMAT
			    " is out of range (0 to 07777); write modes as "
			    "octal strings like \"0644\"", i);
			return -1;
		}
		req->mode = (mode_t)i;
		req->mode_set = true;
		return 0;
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = strlen(s);
		if (n >= 1 && n <= 5 && n == json_string_length(v) &&
		    strspn(s, "01234567") == n && strtoul(s, NULL, 8) <= 07777) {
			req->mode = (mode_t)strtoul(s, NULL, 8);
			req->mode_set = true;
			return 0;
		}
	}
	bora_errf(err, errlen, "spec.mode: expected an octal string like \"0644\"");
	return -1;
}

static int
fw_spec_name(const json_t *v, const char *field, char **out, char *err,
    size_t errlen)
{
	const char *s;
	size_t n;

	if (!json_is_string(v)) {
		bora_errf(err, errlen, "spec.%s: expected a string", field);
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > FW_NAME_MAX || strlen(s) != n) {
		bora_errf(err, errlen, "spec.%s: expected a name of 1 to %d bytes",
		    field, FW_NAME_MAX);
		return -1;
	}
	if ((*out = strdup(s)) == NULL) {
		bora_errf(err, errlen, "spec.%s: out of memory", field);
		return -1;
	}
	return 0;
}

static int
fw_spec_owner(const json_t *v, struct file_write_req *req, char *err,
    size_t errlen)
{
	return fw_spec_name(v, "owner", &req->owner, err, errlen);
}

static int
fw_spec_group(const json_t *v, struct file_write_req *req, char *err,
    size_t errlen)
{
	return fw_spec_name(v, "group", &req->group, err, errlen);
}

static const struct fw_spec_field {
	const char *name;
	int required;
	int (*parse)(const json_t *, struct file_write_req *, char *, size_t);
} fw_spec_fields[] = {
	{ "path",    1, fw_spec_path },
	{ "content", 1, fw_spec_content },
	{ "mode",    0, fw_spec_mode },
	{ "owner",   0, fw_spec_owner },
	{ "group",   0, fw_spec_group },
};

#define FW_NFIELDS (sizeof(fw_spec_fields) / sizeof(fw_spec_fields[0]))

int
file_write_req_from_spec(const json_t *spec, struct file_write_req *req,
    char *err, size_t errlen)
{
	const struct fw_spec_field *f;
	const char *key;
	json_t *v;
	size_t i;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (!json_is_object(spec)) {
		bora_errf(err, errlen, "spec: expected an object");
		goto out;
	}
	/* jansson's iteration macro takes a non-const object; it only reads */
	json_object_foreach((json_t *)(uintptr_t)spec, key, v) {
		for (i = 0; i < FW_NFIELDS; i++)
			if (strcmp(key, fw_spec_fields[i].name) == 0)
				break;
		if (i == FW_NFIELDS) {
			bora_errf(err, errlen, "spec.%.100s: unknown field (expected "
			    "path, content, mode, owner, group)", key);
			goto out;
		}
	}
	for (i = 0; i < FW_NFIELDS; i++) {
		f = &fw_spec_fields[i];
		v = json_object_get(spec, f->name);
		if (v == NULL) {
			if (f->required) {
				bora_errf(err, errlen, "spec.%s: required", f->name);
				goto out;
			}
			continue;
		}
		if (f->parse(v, req, err, errlen) == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		file_write_req_free(req);
	return rc;
}
