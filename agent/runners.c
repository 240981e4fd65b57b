/*
 * runners.c: the const table of step kinds, the spec fields every kind
 * takes (user, cwd), and what the runner modules share: the environment,
 * private files, Heat's outputs.
 *
 * Environment: exactly each input (strings as they are, any other JSON
 * value JSON-encoded, compact), then PATH, LANG and HOME (USER and LOGNAME
 * for a named user) unless an input set them, then heat_outputs_path
 * (Heat's hooks set it after the inputs as well, so an input cannot move
 * it). Nothing of the agent's own environment leaks into a step.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pyfloat.h"
#include "runners.h"
#include "utf8.h"

#define RUNNERS_MAX_ENV_NAME 255   /* bytes of an input's name */
#define RUNNERS_SHOW_NAME    64    /* bytes of a name quoted in an error */
#define RUNNERS_MAX_GROUPS   65536
#define RUNNERS_USER_BASE    "/tmp/bora-step-XXXXXX"

/* A runner for every step kind of proto/step_kinds.h (test_runners checks
 * both ways); "script" first. */
static const struct runner *const runners_table[] = {
	&runner_script,
	&runner_puppet,
	&runner_file,
	&runner_heat_config,
};

const struct runner *
runners_find(const char *kind)
{
	size_t i;

	if (kind == NULL)
		return NULL;
	for (i = 0; i < sizeof(runners_table) / sizeof(runners_table[0]); i++)
		if (strcmp(runners_table[i]->kind, kind) == 0)
			return runners_table[i];
	return NULL;
}

/* ---- string vectors ---- */

int
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

void
runners_vec_free(struct runners_vec *vec)
{
	size_t i;

	for (i = 0; i < vec->n; i++)
		free(vec->v[i]);
	free(vec->v);
	memset(vec, 0, sizeof(*vec));
}

char **
runners_vec_take(struct runners_vec *vec)
{
	char **v = vec->v;

	memset(vec, 0, sizeof(*vec));
	return v;
}

void
runners_strv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p; p++)
		free(*p);
	free(v);
}

int
runners_build_end(int rc, struct exec_req *req, struct runners_vec *argv,
    struct runners_vec *env)
{
	if (rc == 0) {
		req->argv = runners_vec_take(argv);
		req->envp = runners_vec_take(env);
	}
	runners_vec_free(env);
	runners_vec_free(argv);
	if (rc != 0)
		exec_req_free(req);
	return rc;
}

/* ---- environment ---- */

char *
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

const char *
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

/* prefix+name=value onto env. 0, or -1 when out of memory. */
static int
runners_env_push(struct runners_vec *env, const char *prefix,
    const char *name, const char *value, size_t len)
{
	char full[RUNNERS_MAX_ENV_NAME + 32];

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	return runners_vec_push(env, runners_env_entry(full, value, len));
}

int
runners_build_env(const json_t *inputs, const char *prefix, const char *dir,
    const struct runner_user *user, struct runners_vec *env, char *err,
    size_t errlen)
{
	static const char *const fixed[] = {
		"PATH", "LANG", "HOME", "USER", "LOGNAME"
	};
	char show[RUNNERS_SHOW_NAME + 8], *text;
	const char *name, *values[5];
	json_t *value;
	size_t i, len, nfixed;
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
			rc = runners_env_push(env, prefix, name,
			    json_string_value(value), len);
		} else if (json_is_real(value)) {
			char num[40];

			/* as Python writes it, as heat-config-script does */
			bora_py_float(json_real_value(value), num, sizeof(num));
			rc = runners_env_push(env, prefix, name, num,
			    strlen(num));
		} else {
			text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
			rc = text ? runners_env_push(env, prefix, name, text,
			    strlen(text)) : -1;
			free(text);
		}
		if (rc != 0)
			goto nomem;
	}

	values[0] = RUNNERS_PATH;
	values[1] = RUNNERS_LANG;
	values[2] = user->home;
	values[3] = values[4] = user->name;
	nfixed = user->named ? 5 : 3;
	for (i = 0; i < nfixed; i++) {
		if (prefix[0] == '\0' && inputs &&
		    json_object_get(inputs, fixed[i]))
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
	rc = runners_env_push(env, prefix, "heat_outputs_path", text,
	    strlen(text));
	free(text);
	if (rc != 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory building the environment");
	return -1;
}

/* ---- files ---- */

int
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

/* ---- user and cwd ---- */

void
runners_user_free(struct runner_user *user)
{
	free(user->groups);
	user->groups = NULL;
	user->ngroups = 0;
}

/* The agent's own user: root, HOME from passwd. */
static void
runners_user_self(struct runner_user *user)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	memset(user, 0, sizeof(*user));
	user->uid = getuid();
	user->gid = getgid();
	if (getpwuid_r(user->uid, &pw, tmp, sizeof(tmp), &res) == 0 &&
	    res != NULL && res->pw_dir != NULL && res->pw_dir[0] == '/' &&
	    strlen(res->pw_dir) < sizeof(user->home)) {
		snprintf(user->home, sizeof(user->home), "%s", res->pw_dir);
		snprintf(user->name, sizeof(user->name), "%s", res->pw_name);
		return;
	}
	snprintf(user->home, sizeof(user->home), "%s",
	    user->uid == 0 ? "/root" : "/");
}

/* user named name: uid, gid, groups (getgrouplist), HOME. 0, or -1. */
static int
runners_user_lookup(const char *name, struct runner_user *user, char *err,
    size_t errlen)
{
	struct passwd pw, *res = NULL;
	char tmp[16384], show[RUNNERS_SHOW_NAME + 8];
	gid_t *g = NULL, *ng;
	int n = 32, rc;

	memset(user, 0, sizeof(*user));
	if (strlen(name) >= sizeof(user->name) ||
	    (rc = getpwnam_r(name, &pw, tmp, sizeof(tmp), &res)) != 0 ||
	    res == NULL) {
		snprintf(err, errlen, "spec.user: no user '%s' on this host",
		    runners_show(name, show, sizeof(show)));
		return -1;
	}
	for (;;) {
		if ((ng = realloc(g, (size_t)n * sizeof(*g))) == NULL) {
			free(g);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		g = ng;
		rc = n;
		if (getgrouplist(name, pw.pw_gid, g, &rc) >= 0) {
			n = rc;
			break;
		}
		if (rc <= n || rc > RUNNERS_MAX_GROUPS) {
			free(g);
			snprintf(err, errlen, "spec.user: cannot list the "
			    "groups of '%s'", name);
			return -1;
		}
		n = rc;
	}
	user->named = 1;
	snprintf(user->name, sizeof(user->name), "%s", name);
	user->uid = pw.pw_uid;
	user->gid = pw.pw_gid;
	user->groups = g;
	user->ngroups = (size_t)n;
	snprintf(user->home, sizeof(user->home), "%s",
	    pw.pw_dir && pw.pw_dir[0] == '/' ? pw.pw_dir : "/");
	return 0;
}

static int
runners_field_known(const struct runner *r, const char *key)
{
	const char *const *f;

	if (strcmp(key, "user") == 0 || strcmp(key, "cwd") == 0)
		return 1;
	for (f = r->fields; f && *f; f++)
		if (strcmp(*f, key) == 0)
			return 1;
	return 0;
}

/* Check the spec's field names and the common ones' values; user and cwd
 * are set to the strings (or NULL). */
static int
runners_check_spec(const struct runner *r, const json_t *spec,
    const char **user, const char **cwd, char *err, size_t errlen)
{
	char show[RUNNERS_SHOW_NAME + 8];
	const char *key;
	json_t *v;
	struct stat sb;

	*user = *cwd = NULL;
	json_object_foreach((json_t *)(uintptr_t)spec, key, v) {
		if (!runners_field_known(r, key)) {
			snprintf(err, errlen, "spec.%s: unknown field for kind "
			    "'%s'", runners_show(key, show, sizeof(show)),
			    r->kind);
			return -1;
		}
	}
	v = json_object_get(spec, "user");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			snprintf(err, errlen, "spec.user: expected a user name");
			return -1;
		}
		*user = json_string_value(v);
	}
	v = json_object_get(spec, "cwd");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_value(v)[0] != '/' ||
		    json_string_length(v) >= PATH_MAX) {
			snprintf(err, errlen, "spec.cwd: expected an absolute "
			    "path");
			return -1;
		}
		*cwd = json_string_value(v);
		if (stat(*cwd, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			snprintf(err, errlen, "spec.cwd: %s is not a directory",
			    runners_show(*cwd, show, sizeof(show)));
			return -1;
		}
	}
	return 0;
}

/* Give dir and what build() wrote in it (one level) to user. 0, or -1. */
static int
runners_chown_dir(const char *dir, const struct runner_user *user)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fchownat(dirfd(d), de->d_name, user->uid, user->gid,
		    AT_SYMLINK_NOFOLLOW) != 0)
			rc = -1;
	}
	closedir(d);
	if (lchown(dir, user->uid, user->gid) != 0)
		rc = -1;
	return rc;
}

int
runners_prepare(const struct runner *r, const struct bora_run *run,
    const char *dir, char *work, struct runner_user *user,
    struct exec_req *req, char *err, size_t errlen)
{
	struct runner_ctx ctx;
	const char *uname, *cwd;
	gid_t *groups = NULL;
	int rc = -1;

	work[0] = '\0';
	memset(req, 0, sizeof(*req));
	memset(user, 0, sizeof(*user));
	if (runners_check_spec(r, run->spec, &uname, &cwd, err, errlen) != 0)
		return -1;
	if (uname != NULL && strcmp(uname, "root") != 0) {
		if (runners_user_lookup(uname, user, err, errlen) != 0)
			return -1;
	} else
		runners_user_self(user);

	if (user->named) {
		/* The state directory is root's (0700): the user's files go
		 * to a directory of its own. */
		snprintf(work, PATH_MAX, "%s", RUNNERS_USER_BASE);
		if (mkdtemp(work) == NULL) {
			snprintf(err, errlen, "cannot create a directory in "
			    "/tmp: %s", strerror(errno));
			work[0] = '\0';
			return -1;
		}
	} else
		snprintf(work, PATH_MAX, "%s", dir);

	ctx.step_id = run->step;
	ctx.spec = run->spec;
	ctx.inputs = run->inputs;
	ctx.dir = work;
	ctx.user = user;
	if (r->build(&ctx, req, err, errlen) != 0)
		goto out;
	if ((req->dir = strdup(cwd ? cwd : work)) == NULL)
		goto nomem;
	if (user->named) {
		if (runners_chown_dir(work, user) != 0) {
			snprintf(err, errlen, "cannot give %s to user %s: %s",
			    work, user->name, strerror(errno));
			goto out;
		}
		if (user->ngroups > 0 && (groups = malloc(user->ngroups *
		    sizeof(*groups))) == NULL)
			goto nomem;
		if (user->ngroups > 0)
			memcpy(groups, user->groups, user->ngroups *
			    sizeof(*groups));
		req->set_ids = 1;
		req->uid = user->uid;
		req->gid = user->gid;
		req->groups = groups;
		req->ngroups = user->ngroups;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory preparing the step");
out:
	if (rc != 0) {
		exec_req_free(req);
		runners_user_free(user);
	}
	return rc;
}

/* ---- Heat's outputs ---- */

static int
runners_output_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/* The name of declared output i, or NULL when malformed. */
static const char *
runners_output_name(const json_t *item)
{
	if (json_is_object(item))
		item = json_object_get(item, "name");
	if (!json_is_string(item))
		return NULL;
	return json_string_value(item);
}

int
runners_outputs_check(const json_t *spec, char *err, size_t errlen)
{
	const json_t *outs = json_object_get(spec, "outputs"), *item;
	char show[RUNNERS_SHOW_NAME + 8];
	const char *name;
	size_t i;

	if (outs == NULL || json_is_null(outs))
		return 0;
	if (!json_is_array(outs) || json_array_size(outs) > RUNNERS_MAX_OUTPUTS) {
		snprintf(err, errlen, "spec.outputs: expected an array of at "
		    "most %d names or {\"name\": ...} objects",
		    RUNNERS_MAX_OUTPUTS);
		return -1;
	}
	for (i = 0; i < json_array_size(outs); i++) {
		item = json_array_get(outs, i);
		name = runners_output_name(item);
		if (name == NULL) {
			snprintf(err, errlen, "spec.outputs[%zu]: expected a "
			    "name or {\"name\": ...}", i);
			return -1;
		}
		if (!runners_output_name_valid(name)) {
			snprintf(err, errlen, "spec.outputs[%zu]: '%s' is not "
			    "a valid output name ([A-Za-z0-9_.-], not . or ..)",
			    i, runners_show(name, show, sizeof(show)));
			return -1;
		}
	}
	return 0;
}

/* Append ", what" (or "what") to err. */
static void
runners_note(char *err, size_t errlen, const char *what, const char *name)
{
	size_t used = strlen(err);

	if (used + 4 >= errlen)
		return;
	snprintf(err + used, errlen - used, "%s%s '%s'", used ? "; " : "",
	    what, name);
}

/*
 * Read DIR/outputs.NAME: at most RUNNERS_OUTPUT_MAX bytes, a regular file
 * (no symlink followed, no FIFO waited for), owned by the step's user
 * when it is a named one. 1 and a malloc'ed *text of valid UTF-8 (bad
 * bytes U+FFFD), 0 when there is no such file, -1 with note for err.
 */
static int
runners_read_output(const struct runner_done *d, const char *name,
    char **text, const char **why)
{
	char path[PATH_MAX], *buf = NULL, *out = NULL;
	struct stat sb;
	size_t len = 0, i, n;
	ssize_t r;
	int fd, rc = -1;

	*text = NULL;
	*why = "cannot read output";
	if ((size_t)snprintf(path, sizeof(path), "%s/outputs.%s", d->dir,
	    name) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		*why = "output is not a regular file";
		goto out;
	}
	if (d->named_user && sb.st_uid != d->uid) {
		*why = "output file belongs to another user";
		goto out;
	}
	if (sb.st_size > RUNNERS_OUTPUT_MAX) {
		*why = "output over 1 MiB left out";
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	while (len < (size_t)sb.st_size) {
		r = read(fd, buf + len, (size_t)sb.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = (char)0xFF;
	if ((out = malloc(3 * len + 1)) == NULL)
		goto out;
	n = bora_utf8_sanitize(buf, len, out);
	out[n] = '\0';
	*text = out;
	out = NULL;
	rc = 1;
out:
	free(buf);
	free(out);
	close(fd);
	return rc;
}

/* Bytes value takes in the encoded result under key. */
static size_t
runners_cost(const char *key, const json_t *value)
{
	size_t n = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

	return n + strlen(key) * 6 + 4;
}

/* No spec.outputs: every DIR/outputs.NAME file is an output (names
 * sorted, at most RUNNERS_MAX_OUTPUTS). A new array; NULL if none. */
static json_t *
runners_outputs_found(const char *dir)
{
	struct dirent **list = NULL;
	json_t *a = json_array();
	int i, n;

	if (a == NULL)
		return NULL;
	n = scandir(dir, &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (strncmp(list[i]->d_name, "outputs.", 8) == 0 &&
		    runners_output_name_valid(list[i]->d_name + 8) &&
		    json_array_size(a) < RUNNERS_MAX_OUTPUTS)
			(void)json_array_append_new(a,
			    json_string(list[i]->d_name + 8));
		free(list[i]);
	}
	free(list);
	return a;
}

json_t *
runners_heat_outputs(const struct runner_done *d, char *err, size_t errlen)
{
	const json_t *outs = json_object_get(d->spec, "outputs");
	json_t *o = json_object(), *v, *found = NULL;
	const char *name, *why;
	size_t i, used = 0;
	char *text;
	int rc;

	err[0] = '\0';
	if (o == NULL)
		return NULL;
	/* Heat's names first: they always fit (64 KiB each). */
	if (json_object_set_new(o, "deploy_stdout", json_string(d->out)) ||
	    json_object_set_new(o, "deploy_stderr", json_string(d->err)) ||
	    json_object_set_new(o, "deploy_status_code", json_integer(
	    d->exited ? d->exit_code : -d->signal)))
		goto nomem;
	used = json_dumpb(o, NULL, 0, JSON_COMPACT);
	if (outs == NULL || json_is_null(outs))
		outs = found = runners_outputs_found(d->dir);
	for (i = 0; json_is_array(outs) && i < json_array_size(outs); i++) {
		name = runners_output_name(json_array_get(outs, i));
		/* Heat writes its deploy_* over a declared one of that name */
		if (name == NULL || json_object_get(o, name) != NULL)
			continue;
		rc = runners_read_output(d, name, &text, &why);
		if (rc == 0)
			continue;
		if (rc < 0) {
			runners_note(err, errlen, why, name);
			continue;
		}
		v = json_string(text);
		free(text);
		if (v == NULL)
			goto nomem;
		if (used + runners_cost(name, v) > RUNNERS_RESULT_BUDGET) {
			json_decref(v);
			runners_note(err, errlen, "outputs past the 1 MiB "
			    "result left out, from", name);
			continue;
		}
		used += runners_cost(name, v);
		if (json_object_set_new(o, name, v) != 0)
			goto nomem;
	}
	json_decref(found);
	return o;
nomem:
	json_decref(found);
	json_decref(o);
	return NULL;
}
