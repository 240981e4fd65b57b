/*
 * runner_heat.c: kind "heat_config": run the image's heat-agents hook for
 * a SoftwareConfig group, as 55-heat-config does (heat_hooks.h).
 *
 * spec {"group": NAME, "config": ANY, "options": {...}, "outputs": [...],
 * "name": TEXT, "creation_time": TEXT} plus the common "user" and "cwd";
 * the step's inputs become the hook's inputs list. The hook's stdin is
 * DIR/hook-input.json (0600); its environment is PATH, LANG, HOME and
 * every HEAT_* variable of the agent's own environment (how operators
 * configured hooks under os-collect-config, e.g. HEAT_SCRIPT_WORKING).
 *
 * Result, as Heat reads the signal: the JSON object the hook printed is
 * the outputs; the step failed when deploy_status_code is not 0 (Heat's
 * rule) and also, unlike 55-heat-config which only logs it, when the hook
 * exited non-zero: a hook that crashed after printing is not a success.
 * Output that is not one JSON object fails the step with Heat's fallback
 * signal {deploy_stdout, deploy_stderr, deploy_status_code: exit code}.
 * A missing hook fails before anything runs, naming the group and the
 * directories searched.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "heat_hooks.h"
#include "log.h"
#include "runners.h"

extern char **environ;

static const char *const heat_fields[] = {
	"group", "config", "options", "outputs", "name", "creation_time", NULL
};

/* spec.NAME as a string or NULL; -1 with err when it is another type. */
static int
heat_opt_string(const json_t *spec, const char *name, const char **out,
    char *err, size_t errlen)
{
	const json_t *v = json_object_get(spec, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "spec.%s: expected a string", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* The hook's stdin, written to path. 0, or -1 with err. */
static int
heat_write_input(const struct runner_ctx *ctx, const char *group,
    const char *path, char *err, size_t errlen)
{
	const json_t *options = json_object_get(ctx->spec, "options");
	const json_t *outputs = json_object_get(ctx->spec, "outputs");
	const char *name, *ctime;
	char now[32];
	struct tm tm;
	time_t t = time(NULL);
	json_t *in;
	char *text;
	int rc;

	if (heat_opt_string(ctx->spec, "name", &name, err, errlen) != 0 ||
	    heat_opt_string(ctx->spec, "creation_time", &ctime, err,
	    errlen) != 0)
		return -1;
	/* Heat always sends both, and hooks use them (hook-puppet passes the
	 * name to re.sub): the step's id and the time it starts when the
	 * spec gives none */
	if (name == NULL)
		name = ctx->step_id;
	if (ctime == NULL && gmtime_r(&t, &tm) != NULL &&
	    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		ctime = now;
	if (options != NULL && !json_is_null(options) &&
	    !json_is_object(options)) {
		snprintf(err, errlen, "spec.options: expected an object");
		return -1;
	}
	if (outputs != NULL && !json_is_null(outputs) &&
	    !json_is_array(outputs) && !json_is_object(outputs)) {
		snprintf(err, errlen, "spec.outputs: expected a list of names "
		    "or {\"name\": ...} objects, or an object by name");
		return -1;
	}
	in = heat_hook_input(ctx->step_id, name, group,
	    json_object_get(ctx->spec, "config"), json_is_null(options) ? NULL :
	    options, ctx->inputs, json_is_null(outputs) ? NULL : outputs, ctime);
	if (in == NULL) {
		snprintf(err, errlen, "spec.outputs: each output must be a name "
		    "or an object with a \"name\"");
		return -1;
	}
	text = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory writing the hook's input");
		return -1;
	}
	rc = runners_write_file(path, text, strlen(text), 0600, err, errlen);
	free(text);
	return rc;
}

/* HEAT_* of the agent's environment, after the step's own. */
static int
heat_env_passthrough(struct runners_vec *env)
{
	char **e;

	for (e = environ; e && *e; e++)
		if (strncmp(*e, "HEAT_", 5) == 0 && strchr(*e, '=') &&
		    runners_vec_push(env, strdup(*e)) != 0)
			return -1;
	return 0;
}

static int
heat_build(const struct runner_ctx *ctx, struct exec_req *req, char *err,
    size_t errlen)
{
	struct runners_vec env = { NULL, 0, 0 }, argv = { NULL, 0, 0 };
	char hook[PATH_MAX], input[PATH_MAX];
	const json_t *group = json_object_get(ctx->spec, "group");
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (group == NULL || !json_is_string(group)) {
		snprintf(err, errlen, "spec.group: %s", group == NULL ?
		    "required (the SoftwareConfig group, which names the hook)" :
		    "expected a string");
		return -1;
	}
	if (heat_hook_find(json_string_value(group), NULL, hook, sizeof(hook),
	    err, errlen) != 0)
		return -1;
	if ((size_t)snprintf(input, sizeof(input), "%s/hook-input.json",
	    ctx->dir) >= sizeof(input)) {
		snprintf(err, errlen, "step directory path too long");
		return -1;
	}
	if (heat_write_input(ctx, json_string_value(group), input, err,
	    errlen) != 0)
		return -1;
	if (runners_build_env(NULL, "", ctx->dir, ctx->user, &env, err,
	    errlen) != 0)
		goto out;
	if (heat_env_passthrough(&env) != 0 ||
	    runners_vec_push(&argv, strdup(hook)) != 0 ||
	    (req->path = strdup(hook)) == NULL ||
	    (req->stdin_path = strdup(input)) == NULL) {
		snprintf(err, errlen, "out of memory preparing the hook");
		goto out;
	}
	rc = 0;
out:
	return runners_build_end(rc, req, &argv, &env);
}

/* 55-heat-config's signal when the hook printed no JSON object. */
static json_t *
heat_fallback_outputs(const struct runner_done *d)
{
	return json_pack("{s:s, s:s, s:i}", "deploy_stdout", d->out,
	    "deploy_stderr", d->err, "deploy_status_code", d->exited ?
	    d->exit_code : -d->signal);
}

static void
heat_finish(const struct runner_done *d, struct bora_result *res,
    char *err, size_t errlen)
{
	json_t *outputs = NULL;
	int code = 0, rc;

	err[0] = '\0';
	if (!d->ran_to_end || !d->exited) {
		res->outputs = heat_fallback_outputs(d);
		return;
	}
	if (d->out_bytes > HEAT_HOOK_OUTPUT_MAX) {
		snprintf(err, errlen, "hook printed %llu bytes on stdout, more "
		    "than the %d a result can hold", d->out_bytes,
		    HEAT_HOOK_OUTPUT_MAX);
		res->status = BORA_STATUS_FAILED;
		return;
	}
	rc = heat_hook_parse_output(d->out, strlen(d->out), &outputs, &code,
	    err, errlen);
	if (rc == -2 && d->exit_code == 0) {
		/* as 55-heat-config: a hook that exits 0 without a JSON result
		 * completes the deployment, with its fallback signal */
		/* not its stdout: the log is no place for a config's text */
		log_warnx("heat", "hook printed no JSON result dir=%s "
		    "stdout_bytes=%llu; completed as Heat does, with no "
		    "outputs of its own", d->dir, d->out_bytes);
		err[0] = '\0';
		res->status = BORA_STATUS_SUCCESS;
		res->outputs = heat_fallback_outputs(d);
		return;
	}
	if (rc != 0) {
		res->status = BORA_STATUS_FAILED;
		res->outputs = heat_fallback_outputs(d);
		return;
	}
	res->outputs = outputs;
	if (code != 0) {
		res->status = BORA_STATUS_FAILED;
		snprintf(err, errlen, "hook reported deploy_status_code %d",
		    code);
	} else if (d->exit_code != 0) {
		res->status = BORA_STATUS_FAILED;
		snprintf(err, errlen, "hook exited with %d after printing its "
		    "result", d->exit_code);
	} else
		res->status = BORA_STATUS_SUCCESS;
}

const struct runner runner_heat_config = {
	.kind = "heat_config",
	.fields = heat_fields,
	.keep_stdout = HEAT_HOOK_OUTPUT_MAX,
	.build = heat_build,
	.finish = heat_finish,
};
