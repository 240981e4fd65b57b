/*
 * runner_file.c: kind "file": write one file atomically (file_write.h).
 *
 * spec {"path": ABS, "content": TEXT, "mode": "0640", "owner": NAME,
 * "group": NAME} plus the common "user" and "cwd".
 *
 * The write happens in a process of its own, like every step: the agent
 * runs its own binary (/proc/self/exe, so an upgraded binary on disk does
 * not matter) with RUNNER_FILE_FLAG and a private copy of the spec. That
 * process gets the step's user, timeout and process group from exec.c, so
 * a step run as "nobody" writes with nobody's rights and no more, and a
 * write stuck on a dead NFS mount is killed by the step's timeout instead
 * of blocking the agent's loop.
 *
 * Result: success with outputs {"path", "bytes", "mode"}; failed (exit 1)
 * with the sentence the writer printed on stderr as the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "file_write.h"
#include "runners.h"

#define RUNNER_FILE_SPEC_MAX (2 * 1024 * 1024)  /* bytes of spec.json read */

static const char *const file_fields[] = {
	"path", "content", "mode", "owner", "group", NULL
};

/* spec without the common fields, which file_write does not know. */
static json_t *
file_own_spec(const json_t *spec)
{
	json_t *copy = json_copy((json_t *)(uintptr_t)spec);

	if (copy != NULL) {
		(void)json_object_del(copy, "user");
		(void)json_object_del(copy, "cwd");
	}
	return copy;
}

static int
file_build(const struct runner_ctx *ctx, struct exec_req *req, char *err,
    size_t errlen)
{
	struct runners_vec env = { NULL, 0, 0 }, argv = { NULL, 0, 0 };
	struct file_write_req check;
	char path[PATH_MAX], *text = NULL;
	json_t *own;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	memset(&check, 0, sizeof(check));
	if ((own = file_own_spec(ctx->spec)) == NULL) {
		snprintf(err, errlen, "out of memory preparing the file");
		return -1;
	}
	/* the spec's errors now, with their field names, not from the child */
	if (file_write_req_from_spec(own, &check, err, errlen) != 0)
		goto out;
	if ((size_t)snprintf(path, sizeof(path), "%s/file.json", ctx->dir) >=
	    sizeof(path)) {
		snprintf(err, errlen, "step directory path too long");
		goto out;
	}
	if ((text = json_dumps(own, JSON_COMPACT)) == NULL)
		goto nomem;
	if (runners_write_file(path, text, strlen(text), 0600, err,
	    errlen) != 0)
		goto out;
	if (runners_build_env(NULL, "", ctx->dir, ctx->user, &env, err,
	    errlen) != 0)
		goto out;
	if (runners_vec_push(&argv, strdup("bora-agent")) != 0 ||
	    runners_vec_push(&argv, strdup(RUNNER_FILE_FLAG)) != 0 ||
	    runners_vec_push(&argv, strdup(path)) != 0 ||
	    (req->path = strdup("/proc/self/exe")) == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory preparing the file");
out:
	free(text);
	json_decref(own);
	file_write_req_free(&check);
	return runners_build_end(rc, req, &argv, &env);
}

/* The first line of text, without its newline, into err. */
static void
file_first_line(const char *text, char *err, size_t errlen)
{
	size_t n = strcspn(text, "\n");

	if (n >= errlen)
		n = errlen - 1;
	memcpy(err, text, n);
	err[n] = '\0';
}

static void
file_finish(const struct runner_done *d, struct bora_result *res,
    char *err, size_t errlen)
{
	const json_t *path = json_object_get(d->spec, "path");
	struct stat sb;

	err[0] = '\0';
	if (!d->ran_to_end || !d->exited)
		return;
	if (d->exit_code != 0) {
		file_first_line(d->err[0] ? d->err : "the file writer failed "
		    "without saying why", err, errlen);
		return;
	}
	res->outputs = json_object();
	if (res->outputs == NULL || !json_is_string(path))
		return;
	(void)json_object_set(res->outputs, "path", (json_t *)(uintptr_t)path);
	if (lstat(json_string_value(path), &sb) == 0) {
		char mode[8];

		snprintf(mode, sizeof(mode), "%04o", (unsigned)(sb.st_mode &
		    07777));
		(void)json_object_set_new(res->outputs, "bytes",
		    json_integer((json_int_t)sb.st_size));
		(void)json_object_set_new(res->outputs, "mode",
		    json_string(mode));
	}
}

/* Read the whole file at path (at most max bytes) into a new string. */
static char *
file_slurp(const char *path, size_t max, size_t *len)
{
	char *buf;
	ssize_t n;
	size_t used = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (used <= max) {
		n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (n < 0 || used > max) {
		free(buf);
		errno = n < 0 ? errno : EFBIG;
		return NULL;
	}
	buf[used] = '\0';
	*len = used;
	return buf;
}

int
runner_file_child(const char *spec_path)
{
	struct file_write_req req;
	json_error_t jerr;
	char err[1024], *text;
	json_t *spec;
	size_t len = 0;
	int rc = 1;

	memset(&req, 0, sizeof(req));
	if ((text = file_slurp(spec_path, RUNNER_FILE_SPEC_MAX, &len)) == NULL) {
		fprintf(stderr, "cannot read the step's spec %s: %s\n",
		    spec_path, strerror(errno));
		return 1;
	}
	spec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (spec == NULL) {
		fprintf(stderr, "cannot parse the step's spec %s: %s\n",
		    spec_path, jerr.text);
		return 1;
	}
	if (file_write_req_from_spec(spec, &req, err, sizeof(err)) != 0 ||
	    file_write_atomic(&req, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	printf("wrote %s (%zu bytes)\n", req.path, req.length);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	file_write_req_free(&req);
	json_decref(spec);
	return rc;
}

const struct runner runner_file = {
	.kind = "file",
	.fields = file_fields,
	.keep_stdout = 0,
	.build = file_build,
	.finish = file_finish,
};
