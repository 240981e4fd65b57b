/*
 * runners.c: step kinds, one row each in runners_table.
 *
 * script: spec {"script": TEXT}. TEXT is written to DIR/script (0700,
 * created exclusively, fsynced); with a "#!" first line it is executed
 * directly, otherwise run by /bin/sh. Its environment is exactly: each
 * input as a variable (strings as they are, any other JSON value
 * JSON-encoded, compact), then PATH, LANG and HOME unless an input set
 * them, then heat_outputs_path=DIR/outputs (Heat's hooks set it after the
 * inputs as well, so an input cannot move it). Nothing of the agent's own
 * environment leaks into a step.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "runners.h"
#include "utf8.h"

#define RUNNERS_MAX_ENV_NAME 255   /* bytes of an input's name */
#define RUNNERS_SHOW_NAME    64    /* bytes of a name quoted in an error */

/* A growing, NULL-terminated array of malloc'ed strings. Bounded by the
 * run message: one entry per input plus the fixed ones. */
struct runners_vec {
	char **v;
	size_t n, cap;
};

static int
runners_vec_push(struct runners_vec *vec, char *s)
{
	char **nv;
	size_t ncap;

	if (s == NULL)
		return -1;
	if (vec->n + 1 >= vec->cap) {
		ncap = vec->cap ? vec->cap * 2 : 16;
		if ((nv = realloc(vec->v, ncap * sizeof(*nv))) == NULL) {
			free(s);
			return -1;
		}
		vec->v = nv;
		vec->cap = ncap;
	}
	vec->v[vec->n++] = s;
	vec->v[vec->n] = NULL;
	return 0;
}

/* Free the strings and the array; safe on an empty vec. */
static void
runners_vec_free(struct runners_vec *vec)
{
	size_t i;

	for (i = 0; i < vec->n; i++)
		free(vec->v[i]);
	free(vec->v);
	memset(vec, 0, sizeof(*vec));
}

/* Hand the NULL-terminated array over (the vec is left empty). */
static char **
runners_vec_take(struct runners_vec *vec)
{
	char **v = vec->v;

	memset(vec, 0, sizeof(*vec));
	return v;
}

/* "name=value" from value_len bytes of value; NULL when out of memory. */
static char *
runners_env_entry(const char *name, const char *value, size_t value_len)
{
	size_t nlen = strlen(name);
	char *s;

	if (value_len > SIZE_MAX - nlen - 2 ||
	    (s = malloc(nlen + value_len + 2)) == NULL)
		return NULL;
	memcpy(s, name, nlen);
	s[nlen] = '=';
	memcpy(s + nlen + 1, value, value_len);
	s[nlen + 1 + value_len] = '\0';
	return s;
}

/* [A-Za-z_][A-Za-z0-9_]*, at most RUNNERS_MAX_ENV_NAME bytes. */
static int
runners_env_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RUNNERS_MAX_ENV_NAME || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") == n;
}

/* name cut to RUNNERS_SHOW_NAME bytes on a UTF-8 boundary, for errors. */
static const char *
runners_show(const char *name, char *buf, size_t n)
{
	size_t len = strlen(name);

	if (len > RUNNERS_SHOW_NAME) {
		len = RUNNERS_SHOW_NAME;
		len -= bora_utf8_incomplete_tail(name, len);
		snprintf(buf, n, "%.*s...", (int)len, name);
	} else
		snprintf(buf, n, "%s", name);
	return buf;
}

/* The home directory of the user we run as. */
static void
runners_home(char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) == 0 &&
	    res != NULL && res->pw_dir != NULL && res->pw_dir[0] == '/' &&
	    strlen(res->pw_dir) < n) {
		snprintf(buf, n, "%s", res->pw_dir);
		return;
	}
	snprintf(buf, n, "%s", getuid() == 0 ? "/root" : "/");
}

/*
 * Append each input as a variable to env, then the fixed ones. dir is the
 * step's directory. 0, or -1 with err set.
 */
static int
runners_build_env(const json_t *inputs, const char *dir,
    struct runners_vec *env, char *err, size_t errlen)
{
	static const char *const fixed[] = { "PATH", "LANG", "HOME" };
	char home[PATH_MAX], show[RUNNERS_SHOW_NAME + 8], *text;
	const char *name, *values[3];
	json_t *value;
	size_t i, len;
	int rc;

	json_object_foreach((json_t *)(uintptr_t)inputs, name, value) {
		if (!runners_env_name_valid(name)) {
			snprintf(err, errlen, "input '%s' is not a valid "
			    "environment variable name ([A-Za-z_][A-Za-z0-9_]*"
			    ", at most %d bytes)", runners_show(name, show,
			    sizeof(show)), RUNNERS_MAX_ENV_NAME);
			return -1;
		}
		if (strcmp(name, "heat_outputs_path") == 0)
			continue;
		if (json_is_string(value)) {
			len = json_string_length(value);
			if (memchr(json_string_value(value), '\0', len)) {
				snprintf(err, errlen, "input '%s' holds a NUL "
				    "byte, which an environment variable "
				    "cannot", name);
				return -1;
			}
			rc = runners_vec_push(env, runners_env_entry(name,
			    json_string_value(value), len));
		} else {
			text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
			rc = text ? runners_vec_push(env, runners_env_entry(
			    name, text, strlen(text))) : -1;
			free(text);
		}
		if (rc != 0)
			goto nomem;
	}

	runners_home(home, sizeof(home));
	values[0] = RUNNERS_PATH;
	values[1] = RUNNERS_LANG;
	values[2] = home;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (inputs && json_object_get(inputs, fixed[i]))
			continue;
		if (runners_vec_push(env, runners_env_entry(fixed[i],
		    values[i], strlen(values[i]))) != 0)
			goto nomem;
	}
	len = strlen(dir);
	if ((text = malloc(len + sizeof("/outputs"))) == NULL)
		goto nomem;
	memcpy(text, dir, len);
	memcpy(text + len, "/outputs", sizeof("/outputs"));
	rc = runners_vec_push(env, runners_env_entry("heat_outputs_path", text,
	    strlen(text)));
	free(text);
	if (rc != 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory building the environment");
	return -1;
}

/* Write len bytes to a new file path (mode, exclusive, no symlink
 * followed), fsynced. 0, or -1 with err set (nothing left behind). */
static int
runners_write_file(const char *path, const char *data, size_t len,
    mode_t mode, char *err, size_t errlen)
{
	size_t off = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0)      /* whatever the umask said */
		goto fail;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	rc = 0;
fail:
	if (rc != 0)
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(path);
	return rc;
}

static int
runners_script(const struct bora_run *run, const char *dir,
    struct exec_req *req, char *err, size_t errlen)
{
	struct runners_vec env = { NULL, 0, 0 }, argv = { NULL, 0, 0 };
	char path[PATH_MAX], show[RUNNERS_SHOW_NAME + 8];
	const json_t *script;
	const char *key, *text;
	json_t *v;
	size_t len;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	json_object_foreach((json_t *)(uintptr_t)run->spec, key, v) {
		if (strcmp(key, "script") != 0) {
			snprintf(err, errlen, "spec.%s: unknown field for kind "
			    "'script' (expected only spec.script)",
			    runners_show(key, show, sizeof(show)));
			goto out;
		}
	}
	script = json_object_get(run->spec, "script");
	if (script == NULL || !json_is_string(script)) {
		snprintf(err, errlen, "spec.script: %s", script == NULL ?
		    "required (the script text)" : "expected a string");
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/script", dir) >=
	    sizeof(path)) {
		snprintf(err, errlen, "step directory path too long");
		goto out;
	}
	if (runners_build_env(run->inputs, dir, &env, err, errlen) != 0)
		goto out;
	text = json_string_value(script);
	len = json_string_length(script);
	if (runners_write_file(path, text, len, 0700, err, errlen) != 0)
		goto out;

	if (len >= 2 && text[0] == '#' && text[1] == '!') {
		req->path = strdup(path);
	} else {
		req->path = strdup("/bin/sh");
		if (runners_vec_push(&argv, strdup("/bin/sh")) != 0)
			goto nomem;
	}
	if (runners_vec_push(&argv, strdup(path)) != 0 || req->path == NULL ||
	    (req->dir = strdup(dir)) == NULL)
		goto nomem;
	req->argv = runners_vec_take(&argv);
	req->envp = runners_vec_take(&env);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory preparing the script");
out:
	runners_vec_free(&env);
	runners_vec_free(&argv);
	if (rc != 0)
		exec_req_free(req);
	return rc;
}

/* Every step kind this agent knows; "script" first. */
static const struct runner runners_table[] = {
	{ "script", runners_script },
};

const struct runner *
runners_find(const char *kind)
{
	size_t i;

	if (kind == NULL)
		return NULL;
	for (i = 0; i < sizeof(runners_table) / sizeof(runners_table[0]); i++)
		if (strcmp(runners_table[i].kind, kind) == 0)
			return &runners_table[i];
	return NULL;
}
