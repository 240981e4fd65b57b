/*
 * dsl_load.c: a workflow file as a whole. The top level holds version
 * '2.0' and either workflows as keys, or a workbook (name, description,
 * tags, workflows). Each workflow goes through dsl_workflow(); the errors
 * of all of them are reported together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"

static const char *const dsl_wb_attrs[] = {
	"version", "name", "description", "tags", "workflows", "actions", NULL
};

static int
dsl_in_wb(const char *s)
{
	size_t i;

	for (i = 0; dsl_wb_attrs[i] != NULL; i++)
		if (strcmp(s, dsl_wb_attrs[i]) == 0)
			return 1;
	return 0;
}

/* version: '2.0', or the float 2.0 written plain as Mistral accepts. */
static void
dsl_check_version(struct dsl_ctx *cx, const struct dsl_node *root)
{
	const struct dsl_node *v = dsl_map_get(root, "version", NULL);

	if (v == NULL) {
		dsl_error(cx, root, "version: '2.0' is required at the top "
		    "level");
		return;
	}
	if (v->kind == DSL_SCALAR && strcmp(v->text, "2.0") == 0)
		return;
	dsl_error(cx, v, "version: expected '2.0' (Mistral workflow language "
	    "v2)");
}

/* Names of the workflows, each with its input list (or null when that
 * list is bad: its errors come when the workflow itself is read). */
static json_t *
dsl_names(const struct dsl_node *wfs, size_t from)
{
	struct dsl_ctx quiet;
	json_t *names, *in;
	size_t i;

	memset(&quiet, 0, sizeof(quiet));
	quiet.file = "";
	if ((names = json_object()) == NULL)
		return NULL;
	for (i = from; i + 1 < wfs->n; i += 2) {
		if (wfs->kid[i + 1]->kind != DSL_MAP)
			continue;
		in = dsl_workflow_inputs(&quiet, dsl_map_get(wfs->kid[i + 1],
		    "input", NULL));
		json_object_set_new(names, wfs->kid[i]->text,
		    in ? in : json_null());
	}
	dsl_ctx_clear(&quiet);
	return names;
}

static void
dsl_workflows(struct dsl_ctx *cx, const struct dsl_node *wfs, int top,
    json_t *out)
{
	const struct dsl_node *k;
	json_t *names, *all, *wf;
	char show[DSL_SHOW];
	size_t i;

	if ((names = dsl_names(wfs, 0)) == NULL || (all = json_object()) ==
	    NULL) {
		json_decref(names);
		cx->oom = 1;
		return;
	}
	for (i = 0; i + 1 < wfs->n; i += 2) {
		k = wfs->kid[i];
		if (top && strcmp(k->text, "version") == 0)
			continue;
		if (!dsl_name_valid(k->text)) {
			dsl_error(cx, k, "workflow name '%s': use 1 to 255 of "
			    "A-Z a-z 0-9 _ . -", dsl_show(k->text, show,
			    sizeof(show)));
			continue;
		}
		if (json_object_get(all, k->text) != NULL)
			continue;      /* duplicate: reported */
		wf = dsl_workflow(cx, k->text, k, wfs->kid[i + 1], names,
		    json_string_value(json_object_get(out, "name")));
		dsl_set(cx, all, k->text, wf ? wf : json_null());
	}
	if (json_object_size(all) == 0)
		dsl_error(cx, wfs, "no workflow in the file");
	dsl_set(cx, out, "workflows", all);
	json_decref(names);
}

static void
dsl_workbook(struct dsl_ctx *cx, const struct dsl_node *root, json_t *out)
{
	const struct dsl_node *v, *k;
	char show[DSL_SHOW];
	const char *s;
	size_t i;

	for (i = 0; i + 1 < root->n; i += 2) {
		k = root->kid[i];
		v = root->kid[i + 1];
		if (strcmp(k->text, "actions") == 0)
			dsl_error(cx, k, "unsupported: actions (ad-hoc action "
			    "definitions in a workbook)");
		else if (strcmp(k->text, "name") == 0 ||
		    strcmp(k->text, "description") == 0) {
			if ((s = dsl_str(v)) == NULL || (k->text[0] == 'n' &&
			    !dsl_name_valid(s)))
				dsl_error(cx, v, "%s: expected %s", k->text,
				    k->text[0] == 'n' ? "a name of 1 to 255 of "
				    "A-Z a-z 0-9 _ . -" : "a string");
		} else if (strcmp(k->text, "tags") == 0) {
			if (v->kind != DSL_SEQ)
				dsl_error(cx, v, "tags: expected a list of "
				    "strings");
		} else if (!dsl_in_wb(k->text))
			dsl_error(cx, k, "unknown workbook attribute '%s' "
			    "(a workbook holds its workflows under "
			    "workflows:)", dsl_show(k->text, show,
			    sizeof(show)));
	}
	if ((v = dsl_map_get(root, "name", NULL)) != NULL &&
	    (s = dsl_str(v)) != NULL)
		dsl_set(cx, out, "name", json_string(s));
	else if (v == NULL)
		dsl_error(cx, root, "a workbook needs a name");
	if ((v = dsl_map_get(root, "description", NULL)) != NULL &&
	    (s = dsl_str(v)) != NULL)
		dsl_set(cx, out, "description", json_string(s));
	if ((v = dsl_map_get(root, "tags", NULL)) != NULL &&
	    v->kind == DSL_SEQ) {
		for (i = 0; i < v->n; i++)
			if (dsl_str(v->kid[i]) == NULL)
				dsl_error(cx, v->kid[i], "tags: expected a "
				    "string, got %s", dsl_what(v->kid[i]));
		dsl_set(cx, out, "tags", dsl_json(cx, v));
	}
	v = dsl_map_get(root, "workflows", NULL);
	if (v == NULL || v->kind != DSL_MAP) {
		dsl_error(cx, v ? v : root, "workflows: expected a mapping of "
		    "workflows");
		return;
	}
	dsl_workflows(cx, v, 0, out);
}

json_t *
dsl_parse(const char *text, size_t len, const char *filename,
    struct dsl_errors *errs)
{
	struct dsl_ctx cx;
	struct dsl_node *root = NULL;
	json_t *out = NULL;

	memset(&cx, 0, sizeof(cx));
	cx.file = filename ? filename : "-";
	if (len > DSL_FILE_MAX) {
		dsl_error_at(&cx, 0, 0, "the file is over %d bytes",
		    DSL_FILE_MAX);
		goto done;
	}
	if (memchr(text, '\0', len) != NULL) {
		dsl_error_at(&cx, 0, 0, "the file holds a NUL byte; expected "
		    "YAML text");
		goto done;
	}
	if ((root = dsl_yaml_load(&cx, text, len)) == NULL)
		goto done;
	if (root->kind != DSL_MAP) {
		dsl_error(&cx, root, "the top level must be a mapping with "
		    "version: '2.0', got %s", dsl_what(root));
		goto done;
	}
	if ((out = json_object()) == NULL) {
		cx.oom = 1;
		goto done;
	}
	dsl_check_version(&cx, root);
	dsl_set(&cx, out, "version", json_string("2.0"));
	if (dsl_map_get(root, "workflows", NULL) != NULL ||
	    dsl_map_get(root, "name", NULL) != NULL)
		dsl_workbook(&cx, root, out);
	else
		dsl_workflows(&cx, root, 1, out);
done:
	dsl_node_free(root);
	if (cx.n_err > 0 || cx.oom) {
		json_decref(out);
		out = NULL;
		if (cx.n_err == 0)
			cx.oom = 1;
		dsl_errors_flush(&cx, errs);
	}
	dsl_ctx_clear(&cx);
	return out;
}

json_t *
dsl_load_file(const char *path, struct dsl_errors *errs)
{
	struct dsl_ctx cx;
	json_t *out = NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	memset(&cx, 0, sizeof(cx));
	cx.file = path;
	if ((f = fopen(path, "rb")) == NULL) {
		dsl_error_at(&cx, 0, 0, "%s", strerror(errno));
		goto out;
	}
	if ((buf = malloc(DSL_FILE_MAX + 1)) == NULL) {
		cx.oom = 1;
		goto out;
	}
	n = fread(buf, 1, DSL_FILE_MAX + 1, f);
	if (ferror(f))
		dsl_error_at(&cx, 0, 0, "%s", strerror(errno));
	else if (n > DSL_FILE_MAX)
		dsl_error_at(&cx, 0, 0, "the file is over %d bytes",
		    DSL_FILE_MAX);
	else
		out = dsl_parse(buf, n, path, errs);
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	if (cx.n_err > 0 || cx.oom)
		dsl_errors_flush(&cx, errs);
	dsl_ctx_clear(&cx);
	return out;
}
