/*
 * runner_puppet.c: kind "puppet", Heat's heat-config-puppet contract.
 *
 * spec {"manifest": TEXT, "modulepath": DIRS, "tags": TAGS (a string or
 * an array of strings, joined by commas), "debug": BOOL, "verbose": BOOL,
 * "hiera": true (the inputs as hiera data, Heat's enable_hiera) or an
 * object (that data), "outputs": [...]} plus the common "user" and "cwd".
 *
 * TEXT goes to DIR/manifest.pp (0600); hiera data to DIR/hiera.json with
 * DIR/hiera.yaml (hiera 5) naming it, passed as --hiera_config. The
 * process: puppet apply --color false --detailed-exitcodes --logdest
 * console [--modulepath X] [--tags X] [--debug] [--verbose]
 * [--hiera_config F] DIR/manifest.pp, with FACTER_<input> for each input,
 * FACTER_heat_outputs_path and FACTER_fqdn, plus PATH, LANG and HOME.
 *
 * Exit 0 (nothing changed) and 2 (changes made) are success, with
 * outputs.changed false or true; anything else (4 failures, 6 changes and
 * failures) is failed with that code.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "runners.h"

#define PUPPET_TAGS_MAX 4096    /* bytes of the joined --tags value */

static const char *const puppet_fields[] = {
	"manifest", "modulepath", "tags", "debug", "verbose", "hiera",
	"outputs", NULL
};

int
runner_puppet_find(const char *path, char *buf, size_t n)
{
	const char *p = path, *end;
	size_t len;

	while (*p) {
		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len > 0 && p[0] == '/' &&
		    (size_t)snprintf(buf, n, "%.*s/puppet", (int)len, p) < n &&
		    access(buf, X_OK) == 0)
			return 0;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return -1;
}

/* spec.tags as one comma-joined string into buf. 0, 1 (absent), -1. */
static int
puppet_tags(const json_t *spec, char *buf, size_t n, char *err, size_t errlen)
{
	const json_t *tags = json_object_get(spec, "tags"), *t;
	size_t i, used = 0, len;

	buf[0] = '\0';
	if (tags == NULL || json_is_null(tags))
		return 1;
	if (json_is_string(tags)) {
		if (json_string_length(tags) == 0)
			return 1;
		if (json_string_length(tags) >= n)
			goto toolong;
		snprintf(buf, n, "%s", json_string_value(tags));
		return 0;
	}
	if (!json_is_array(tags)) {
		snprintf(err, errlen, "spec.tags: expected a string or an "
		    "array of strings");
		return -1;
	}
	json_array_foreach(tags, i, t) {
		if (!json_is_string(t) || json_string_length(t) == 0 ||
		    strchr(json_string_value(t), ',')) {
			snprintf(err, errlen, "spec.tags[%zu]: expected a tag "
			    "(a string without commas)", i);
			return -1;
		}
		len = json_string_length(t);
		if (used + len + 2 > n)
			goto toolong;
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, json_string_value(t), len + 1);
		used += len;
	}
	return used ? 0 : 1;
toolong:
	snprintf(err, errlen, "spec.tags: longer than %d bytes",
	    PUPPET_TAGS_MAX);
	return -1;
}

/* spec.NAME as a flag: absent/false 0, true 1, else -1 with err. */
static int
puppet_flag(const json_t *spec, const char *name, char *err, size_t errlen)
{
	const json_t *v = json_object_get(spec, name);

	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_true(v))
		return 1;
	snprintf(err, errlen, "spec.%s: expected true or false", name);
	return -1;
}

int
runner_puppet_argv(const json_t *spec, const char *puppet,
    const char *manifest, const char *hiera_config, char ***argv, char *err,
    size_t errlen)
{
	static const char *const head[] = {
		"apply", "--color", "false", "--detailed-exitcodes",
		"--logdest", "console"
	};
	struct runners_vec v = { NULL, 0, 0 };
	const json_t *mp = json_object_get(spec, "modulepath");
	char tags[PUPPET_TAGS_MAX];
	int debug, verbose, has_tags, rc = -1;
	size_t i;

	*argv = NULL;
	if (mp != NULL && !json_is_null(mp) && (!json_is_string(mp) ||
	    json_string_length(mp) == 0)) {
		snprintf(err, errlen, "spec.modulepath: expected a string "
		    "(directories separated by ':')");
		return -1;
	}
	if ((has_tags = puppet_tags(spec, tags, sizeof(tags), err,
	    errlen)) < 0 ||
	    (debug = puppet_flag(spec, "debug", err, errlen)) < 0 ||
	    (verbose = puppet_flag(spec, "verbose", err, errlen)) < 0)
		return -1;
	if (runners_vec_push(&v, strdup(puppet)) != 0)
		goto out;
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		if (runners_vec_push(&v, strdup(head[i])) != 0)
			goto out;
	if (json_is_string(mp) && (runners_vec_push(&v,
	    strdup("--modulepath")) != 0 || runners_vec_push(&v,
	    strdup(json_string_value(mp))) != 0))
		goto out;
	if (has_tags == 0 && (runners_vec_push(&v, strdup("--tags")) != 0 ||
	    runners_vec_push(&v, strdup(tags)) != 0))
		goto out;
	if (debug && runners_vec_push(&v, strdup("--debug")) != 0)
		goto out;
	if (verbose && runners_vec_push(&v, strdup("--verbose")) != 0)
		goto out;
	if (hiera_config && (runners_vec_push(&v,
	    strdup("--hiera_config")) != 0 || runners_vec_push(&v,
	    strdup(hiera_config)) != 0))
		goto out;
	if (runners_vec_push(&v, strdup(manifest)) != 0)
		goto out;
	*argv = runners_vec_take(&v);
	rc = 0;
out:
	if (rc != 0)
		snprintf(err, errlen, "out of memory building puppet's "
		    "arguments");
	runners_vec_free(&v);
	return rc;
}

int
runner_puppet_env(const json_t *inputs, const char *dir, const char *fqdn,
    const struct runner_user *user, char ***envp, char *err, size_t errlen)
{
	struct runners_vec env = { NULL, 0, 0 };

	*envp = NULL;
	if (runners_build_env(inputs, "FACTER_", dir, user, &env, err,
	    errlen) != 0)
		goto fail;
	if (fqdn && fqdn[0] && (inputs == NULL ||
	    json_object_get(inputs, "fqdn") == NULL) &&
	    runners_vec_push(&env, runners_env_entry("FACTER_fqdn", fqdn,
	    strlen(fqdn))) != 0) {
		snprintf(err, errlen, "out of memory building the environment");
		goto fail;
	}
	*envp = runners_vec_take(&env);
	return 0;
fail:
	runners_vec_free(&env);
	return -1;
}

/* DIR/hiera.json with data and DIR/hiera.yaml naming it; the latter's
 * path into cfg. 0, or -1 with err. */
static int
puppet_write_hiera(const char *dir, const json_t *data, char *cfg, size_t n,
    char *err, size_t errlen)
{
	char path[PATH_MAX], *json = NULL, *qdir = NULL, *yaml = NULL;
	json_t *jdir = NULL;
	int rc = -1, len;

	if ((size_t)snprintf(path, sizeof(path), "%s/hiera.json", dir) >=
	    sizeof(path) || (size_t)snprintf(cfg, n, "%s/hiera.yaml", dir) >=
	    n) {
		snprintf(err, errlen, "step directory path too long");
		return -1;
	}
	if ((json = json_dumps(data, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL ||
	    (jdir = json_string(dir)) == NULL ||
	    (qdir = json_dumps(jdir, JSON_ENCODE_ANY)) == NULL) {
		snprintf(err, errlen, "spec.hiera: cannot encode the data");
		goto out;
	}
	/* A JSON string is a YAML double-quoted scalar. */
	len = asprintf(&yaml, "---\nversion: 5\ndefaults:\n  datadir: %s\n"
	    "  data_hash: json_data\nhierarchy:\n  - name: \"bora step\"\n"
	    "    path: \"hiera.json\"\n", qdir);
	if (len < 0) {
		yaml = NULL;
		snprintf(err, errlen, "out of memory writing hiera data");
		goto out;
	}
	if (runners_write_file(path, json, strlen(json), 0600, err,
	    errlen) != 0 || runners_write_file(cfg, yaml, (size_t)len, 0600,
	    err, errlen) != 0)
		goto out;
	rc = 0;
out:
	free(json);
	free(qdir);
	free(yaml);
	json_decref(jdir);
	return rc;
}

static int
puppet_build(const struct runner_ctx *ctx, struct exec_req *req, char *err,
    size_t errlen)
{
	char puppet[PATH_MAX], manifest[PATH_MAX], hcfg[PATH_MAX], fqdn[256];
	const json_t *text = json_object_get(ctx->spec, "manifest");
	const json_t *hiera = json_object_get(ctx->spec, "hiera");
	json_t *empty = NULL;
	int has_hiera = 0, rc = -1;

	memset(req, 0, sizeof(*req));
	if (text == NULL || !json_is_string(text)) {
		snprintf(err, errlen, "spec.manifest: %s", text == NULL ?
		    "required (the manifest text)" : "expected a string");
		return -1;
	}
	if (hiera != NULL && !json_is_null(hiera) && !json_is_false(hiera)) {
		if (!json_is_true(hiera) && !json_is_object(hiera)) {
			snprintf(err, errlen, "spec.hiera: expected true (the "
			    "inputs as hiera data) or an object");
			return -1;
		}
		has_hiera = 1;
	}
	if (runners_outputs_check(ctx->spec, err, errlen) != 0)
		return -1;
	if (runner_puppet_find(RUNNERS_PATH, puppet, sizeof(puppet)) != 0) {
		snprintf(err, errlen, "puppet is not installed (looked in PATH "
		    "%s)", RUNNERS_PATH);
		return -1;
	}
	if ((size_t)snprintf(manifest, sizeof(manifest), "%s/manifest.pp",
	    ctx->dir) >= sizeof(manifest)) {
		snprintf(err, errlen, "step directory path too long");
		return -1;
	}
	if (has_hiera) {
		if (json_is_true(hiera) && ctx->inputs == NULL &&
		    (empty = json_object()) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rc = puppet_write_hiera(ctx->dir, json_is_true(hiera) ?
		    (ctx->inputs ? ctx->inputs : empty) : hiera, hcfg,
		    sizeof(hcfg), err, errlen);
		json_decref(empty);
		if (rc != 0)
			return -1;
		rc = -1;
	}
	if (gethostname(fqdn, sizeof(fqdn)) != 0)
		fqdn[0] = '\0';
	fqdn[sizeof(fqdn) - 1] = '\0';
	if (runner_puppet_argv(ctx->spec, puppet, manifest, has_hiera ? hcfg :
	    NULL, &req->argv, err, errlen) != 0 ||
	    runner_puppet_env(ctx->inputs, ctx->dir, fqdn, ctx->user,
	    &req->envp, err, errlen) != 0)
		goto out;
	if (runners_write_file(manifest, json_string_value(text),
	    json_string_length(text), 0600, err, errlen) != 0)
		goto out;
	if ((req->path = strdup(puppet)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		exec_req_free(req);
	return rc;
}

static void
puppet_finish(const struct runner_done *d, struct bora_result *res,
    char *err, size_t errlen)
{
	if (d->ran_to_end && d->exited)
		res->status = d->exit_code == 0 || d->exit_code == 2 ?
		    BORA_STATUS_SUCCESS : BORA_STATUS_FAILED;
	res->outputs = runners_heat_outputs(d, err, errlen);
	if (res->outputs && d->ran_to_end && d->exited &&
	    (d->exit_code == 0 || d->exit_code == 2)) {
		(void)json_object_set_new(res->outputs, "changed",
		    json_boolean(d->exit_code == 2));
		/* as heat-config-puppet: changes made (2) is a deployment
		 * that succeeded, and Heat fails any code but 0 */
		(void)json_object_set_new(res->outputs, "deploy_status_code",
		    json_integer(0));
	}
}

const struct runner runner_puppet = {
	.kind = "puppet",
	.fields = puppet_fields,
	.build = puppet_build,
	.finish = puppet_finish,
};
