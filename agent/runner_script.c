/*
 * runner_script.c: kind "script", Heat's heat-config-script contract.
 *
 * spec {"script": TEXT, "outputs": [NAME | {"name": NAME}, ...]} plus the
 * common "user" and "cwd". TEXT is written to DIR/script (0700, created
 * exclusively, fsynced); with a "#!" first line it is executed directly,
 * otherwise run by /bin/sh. The environment is runners_build_env()'s.
 *
 * Result: status success for exit 0, failed otherwise (with the exit
 * code); outputs deploy_stdout, deploy_stderr, deploy_status_code and each
 * declared output read from $heat_outputs_path.NAME as it is (like Heat,
 * whatever the exit code; a missing file leaves it out).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runners.h"

static const char *const script_fields[] = { "script", "outputs", NULL };

static int
script_build(const struct runner_ctx *ctx, struct exec_req *req, char *err,
    size_t errlen)
{
	struct runners_vec env = { NULL, 0, 0 }, argv = { NULL, 0, 0 };
	char path[PATH_MAX];
	const json_t *script;
	const char *text;
	size_t len;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	script = json_object_get(ctx->spec, "script");
	if (script == NULL || !json_is_string(script)) {
		snprintf(err, errlen, "spec.script: %s", script == NULL ?
		    "required (the script text)" : "expected a string");
		goto out;
	}
	if (runners_outputs_check(ctx->spec, err, errlen) != 0)
		goto out;
	if ((size_t)snprintf(path, sizeof(path), "%s/script", ctx->dir) >=
	    sizeof(path)) {
		snprintf(err, errlen, "step directory path too long");
		goto out;
	}
	if (runners_build_env(ctx->inputs, "", ctx->dir, ctx->user, &env, err,
	    errlen) != 0)
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
	if (runners_vec_push(&argv, strdup(path)) != 0 || req->path == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory preparing the script");
out:
	return runners_build_end(rc, req, &argv, &env);
}

static void
script_finish(const struct runner_done *d, struct bora_result *res,
    char *err, size_t errlen)
{
	res->outputs = runners_heat_outputs(d, err, errlen);
}

const struct runner runner_script = {
	.kind = "script",
	.fields = script_fields,
	.build = script_build,
	.finish = script_finish,
};
