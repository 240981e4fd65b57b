/*
 * runners.h: the kinds of step this agent runs, as one const table, and
 * the helpers the runner modules share.
 *
 * A runner turns a run message (its spec and inputs) into an exec request
 * for exec_start(), writing what the process needs (a script, a manifest)
 * into the step's private directory; when the process has ended, its
 * finish() maps what it did (exit code, signal, the kept end of stdout and
 * stderr, files in the directory) to the result's status and outputs.
 * Kinds: script (runner_script.c), puppet (runner_puppet.c), file
 * (runner_file.c), heat_config (runner_heat.c).
 */
#ifndef BORA_AGENT_RUNNERS_H
#define BORA_AGENT_RUNNERS_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "exec.h"
#include "msg.h"

/* Fixed part of every step's environment, before its inputs. */
#define RUNNERS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RUNNERS_LANG "C.UTF-8"
#define RUNNERS_OUTPUT_MAX   (1024 * 1024)  /* bytes read of one output file */
/* Bytes of encoded outputs a result may carry: the 1 MiB protocol message
 * less room for the envelope and the error sentence. */
#define RUNNERS_RESULT_BUDGET (1024 * 1024 - 16 * 1024)
#define RUNNERS_MAX_OUTPUTS  256           /* declared outputs per step */

/* Who a step runs as (spec.user). */
struct runner_user {
	int named;                  /* 0: the agent's own user (root) */
	char name[64];
	uid_t uid;
	gid_t gid;
	gid_t *groups;              /* owned; runners_user_free() */
	size_t ngroups;
	char home[PATH_MAX];
};

/* What build() gets. */
struct runner_ctx {
	const char *step_id;
	const json_t *spec;         /* object */
	const json_t *inputs;       /* object or NULL */
	const char *dir;            /* the step's files: exists, 0700, empty,
	                               owned by the step's user */
	const struct runner_user *user;
};

/* What the process did, for finish(). */
struct runner_done {
	const json_t *spec;
	const json_t *inputs;       /* may be NULL */
	const char *dir;            /* as given to build() */
	int named_user;             /* output files must belong to uid */
	uid_t uid;
	int ran_to_end;             /* not timed out, cancelled, or lost */
	int exited;                 /* exit_code is valid */
	int exit_code;
	int signal;                 /* or 0 */
	const char *out;            /* kept stdout, valid UTF-8, NUL-ended */
	unsigned long long out_bytes;   /* stdout the process wrote in all */
	const char *err;            /* kept stderr */
};

struct runner {
	const char *kind;
	/* spec fields of this kind, besides the common "user" and "cwd"
	 * (which runners_prepare() checks); NULL-terminated */
	const char *const *fields;
	/* bytes of the end of stdout kept for finish(); 0: the default
	 * (64 KiB, what deploy_stdout carries) */
	size_t keep_stdout;
	/*
	 * Fill *req (path, argv, envp) for ctx. 0, or -1 with one sentence
	 * in err that names the field or input at fault (the step's result
	 * is then status "error"). On -1 *req holds nothing of its own.
	 */
	int (*build)(const struct runner_ctx *ctx, struct exec_req *req,
	    char *err, size_t errlen);
	/*
	 * res->status is set already (success for exit 0, failed otherwise,
	 * timeout, cancelled); adjust it when the process ran to its end,
	 * set res->outputs (a new reference the caller releases), and write
	 * a sentence to err (errlen bytes, "" when none) for res->error.
	 */
	void (*finish)(const struct runner_done *d, struct bora_result *res,
	    char *err, size_t errlen);
};

extern const struct runner runner_script;
extern const struct runner runner_puppet;
extern const struct runner runner_file;
extern const struct runner runner_heat_config;

/* The runner for kind, or NULL when this agent has none. */
const struct runner *runners_find(const char *kind);

/*
 * Everything before exec_start(): check the spec's fields, resolve
 * spec.user and spec.cwd, choose the directory for the step's files (dir
 * itself for root; for a named user a new 0700 directory of that user's
 * under /tmp, since the agent's state directory is root's alone), call
 * r->build() and set the request's identity and working directory.
 * work (PATH_MAX bytes) receives the files' directory, "" on failure;
 * the caller removes it when it is not dir. *user is filled (free with
 * runners_user_free). 0, or -1 with err set; on -1 *req holds nothing.
 */
int runners_prepare(const struct runner *r, const struct bora_run *run,
    const char *dir, char *work, struct runner_user *user,
    struct exec_req *req, char *err, size_t errlen);

void runners_user_free(struct runner_user *user);

/* ---- shared by the runner modules ---- */

/* A growing, NULL-terminated array of malloc'ed strings. */
struct runners_vec {
	char **v;
	size_t n, cap;
};

/* Append s (taken; NULL is out of memory). 0, or -1 (s freed). */
int runners_vec_push(struct runners_vec *vec, char *s);
void runners_vec_free(struct runners_vec *vec);
/* Hand the NULL-terminated array over (the vec is left empty); free it
 * with runners_strv_free(). */
char **runners_vec_take(struct runners_vec *vec);
void runners_strv_free(char **v);

/*
 * The step's environment into env: each input as PREFIX+name (strings as
 * they are, other JSON values JSON-encoded, compact), then PATH, LANG,
 * HOME (and USER, LOGNAME for a named user) unless an input of that name
 * set them, then PREFIX+heat_outputs_path=DIR/outputs. 0, or -1 with err.
 */
int runners_build_env(const json_t *inputs, const char *prefix,
    const char *dir, const struct runner_user *user, struct runners_vec *env,
    char *err, size_t errlen);

/*
 * The end of a build(): with rc 0 hand argv and env over to req (its argv
 * and envp), otherwise free what req holds; both vecs are left empty.
 * Returns rc.
 */
int runners_build_end(int rc, struct exec_req *req, struct runners_vec *argv,
    struct runners_vec *env);

/* "name=value"; NULL when out of memory. */
char *runners_env_entry(const char *name, const char *value, size_t len);

/* Write len bytes to a new file path (mode, exclusive, no symlink
 * followed), fsynced. 0, or -1 with err set (nothing left behind). */
int runners_write_file(const char *path, const char *data, size_t len,
    mode_t mode, char *err, size_t errlen);

/* name cut for an error message. */
const char *runners_show(const char *name, char *buf, size_t n);

/* Check spec.outputs: absent, or an array of names or of {"name": N}
 * objects; names [A-Za-z0-9_.-], not "." or "..". 0, or -1 with err. */
int runners_outputs_check(const json_t *spec, char *err, size_t errlen);

/*
 * Heat's result for a hook: the declared outputs read from
 * DIR/outputs.NAME (a missing file leaves the output out; one bigger
 * than RUNNERS_OUTPUT_MAX, or past RUNNERS_RESULT_BUDGET in all, is left
 * out and named in err), then deploy_stdout, deploy_stderr and
 * deploy_status_code. A new object, or NULL when out of memory.
 */
json_t *runners_heat_outputs(const struct runner_done *d, char *err,
    size_t errlen);

/* kind "file" (runner_file.c): the agent binary run with this flag and a
 * spec file writes that file and exits 0, or 1 with a sentence on stderr.
 * main() calls runner_file_child() for it before anything else. */
#define RUNNER_FILE_FLAG "--write-file"
int runner_file_child(const char *spec_path);

/* puppet's testable parts (runner_puppet.c). */
/* argv for spec into *argv (free with runners_strv_free). 0, or -1. */
int runner_puppet_argv(const json_t *spec, const char *puppet,
    const char *manifest, const char *hiera_config, char ***argv,
    char *err, size_t errlen);
/* envp: FACTER_<input>, FACTER_heat_outputs_path, FACTER_fqdn, PATH,
 * LANG, HOME... 0, or -1 with err. */
int runner_puppet_env(const json_t *inputs, const char *dir,
    const char *fqdn, const struct runner_user *user, char ***envp,
    char *err, size_t errlen);
/* The first executable "puppet" in the directories of path into buf.
 * 0, or -1 when none. */
int runner_puppet_find(const char *path, char *buf, size_t n);

#endif
