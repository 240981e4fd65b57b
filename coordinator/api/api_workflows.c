/*
 * api_workflows.c: stored workflows (docs/api.md, "Workflows").
 *
 *   POST   /v1/workflows        a workflow file: the YAML text as the body
 *                               (Content-Type text/yaml or application/yaml)
 *                               or JSON {"yaml": TEXT, "file"?, "replace"?}
 *                               -> 201 {name, created_ms, workflows}; a file
 *                               that does not validate -> 400 with every
 *                               error's file, line, column and message
 *   GET    /v1/workflows        {"workflows": [{name, created_ms}]} by name
 *   GET    /v1/workflows/NAME   {name, created_ms, yaml, canonical}
 *   DELETE /v1/workflows/NAME   forget it (executions started keep their
 *                               own copy of the spec)
 *
 * A stored workflow is named by its file's workflow when the file has one,
 * else by the file's "name". The store's workflows table keeps the YAML
 * text and the canonical JSON; this file keeps them in memory too (a
 * jansson object by name), read from the store on first use.
 * POST /v1/executions {"workflow_name": NAME} runs one (api_executions.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "clock.h"
#include "dsl.h"
#include "log.h"
#include "persist.h"

#define API_WF_NAME_MAX 255

/* name -> {"yaml": text, "canonical": text, "created_ms": int} */
static json_t *api_wf;

static int
api_wf_load_one(void *user, const struct store_workflow *w)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:I}", "yaml", w->yaml, "canonical",
	    w->canonical, "created_ms", (json_int_t)w->created_ms);
	if (o == NULL)
		return -1;
	return json_object_set_new((json_t *)user, w->name, o);
}

/* The table, read from the store on first use; NULL when out of memory. */
static json_t *
api_wf_table(void)
{
	char err[256];

	if (api_wf != NULL)
		return api_wf;
	if ((api_wf = json_object()) == NULL)
		return NULL;
	if (persist_store_handle() != NULL &&
	    persist_load_workflows(api_wf_load_one, api_wf, err,
	    sizeof(err)) != 0)
		log_warnx("api", "cannot read the stored workflows "
		    "reason=\"%s\"", err);
	return api_wf;
}

static int
api_wf_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return i > 0 && i <= API_WF_NAME_MAX && s[0] != '.';
}

json_t *
api_workflow_spec(const char *name)
{
	json_t *t = api_wf_table(), *o;

	o = t ? json_object_get(t, name) : NULL;
	if (o == NULL)
		return NULL;
	return json_loads(json_string_value(json_object_get(o, "canonical")),
	    0, NULL);
}

/* "file:line:column: message" -> {file, line, column, message}. */
static json_t *
api_wf_error(const char *e)
{
	const char *p;
	unsigned line, col;
	int n;

	for (p = strchr(e, ':'); p != NULL; p = strchr(p + 1, ':')) {
		n = 0;
		if (sscanf(p, ":%u:%u: %n", &line, &col, &n) == 2 && n > 0)
			return json_pack("{s:s%, s:i, s:i, s:s}", "file", e,
			    (size_t)(p - e), "line", (int)line, "column",
			    (int)col, "message", p + n);
	}
	return json_pack("{s:n, s:i, s:i, s:s}", "file", "line", 0, "column",
	    0, "message", e);
}

/* 400 {"error":"invalid_workflow", "detail": first, "errors":[{...}]} */
int
api_invalid_workflow(struct api_session *ss, const struct dsl_errors *errs)
{
	json_t *list = json_array(), *doc;
	size_t i;

	for (i = 0; list != NULL && i < errs->n; i++)
		if (json_array_append_new(list, api_wf_error(errs->v[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	if (list == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	doc = json_pack("{s:s, s:s, s:o}", "error", "invalid_workflow",
	    "detail", errs->n > 0 ? errs->v[0] : "the workflow is not valid",
	    "errors", list);
	if (doc == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	return api_respond(ss, 400, doc, 0, NULL);
}

/* The request's Content-Type, lower case, without parameters; "" when
 * absent. */
static void
api_wf_content_type(struct api_session *ss, char *ct, size_t n)
{
	size_t i;

	ct[0] = '\0';
	if (lws_hdr_total_length(ss->wsi, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0 ||
	    lws_hdr_copy(ss->wsi, ct, (int)n, WSI_TOKEN_HTTP_CONTENT_TYPE) < 0) {
		ct[0] = '\0';
		return;
	}
	ct[strcspn(ct, "; \t")] = '\0';
	for (i = 0; ct[i]; i++)
		if (ct[i] >= 'A' && ct[i] <= 'Z')
			ct[i] = (char)(ct[i] - 'A' + 'a');
}

static int
api_wf_is_yaml_type(const char *ct)
{
	return strcmp(ct, "text/yaml") == 0 || strcmp(ct, "application/yaml") ==
	    0 || strcmp(ct, "application/x-yaml") == 0 ||
	    strcmp(ct, "text/x-yaml") == 0 || strcmp(ct, "text/plain") == 0;
}

/* The name a stored spec goes by: its only workflow, else its "name". */
static const char *
api_wf_spec_name(const json_t *spec)
{
	json_t *wfs = json_object_get(spec, "workflows"), *v;
	const char *key;

	if (json_object_size(wfs) == 1)
		json_object_foreach(wfs, key, v)
			return key;
	return json_string_value(json_object_get(spec, "name"));
}

static int
api_wf_store(struct api_session *ss, const char *text, size_t len,
    const char *file, int replace)
{
	struct dsl_errors errs = { NULL, 0 };
	struct store_workflow sw;
	json_t *spec, *t, *o, *names, *doc = NULL;
	const char *name, *key;
	char *canonical, *yaml, err[256] = "", q[80];
	char location[API_WF_NAME_MAX + 20] = "";
	json_int_t now = (json_int_t)bora_wall_ms();
	int rc, existed;

	if (len > DSL_FILE_MAX)
		return api_error(ss, 413, "too_large", "the workflow file is %zu "
		    "bytes; the limit is %d", len, DSL_FILE_MAX);
	if ((t = api_wf_table()) == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	spec = dsl_parse(text, len, file, &errs);
	if (spec == NULL) {
		rc = api_invalid_workflow(ss, &errs);
		dsl_errors_free(&errs);
		return rc;
	}
	dsl_errors_free(&errs);
	name = api_wf_spec_name(spec);
	if (name == NULL) {
		json_decref(spec);
		return api_error(ss, 400, "bad_request", "the file has %zu "
		    "workflows: give it a top-level name to store it by",
		    json_object_size(json_object_get(spec, "workflows")));
	}
	if (!api_wf_name_valid(name)) {
		rc = api_error(ss, 400, "bad_request", "workflow name %s: 1 to "
		    "%d of A-Z a-z 0-9 . _ - (not starting with .) to be "
		    "stored", bora_log_quote(name, q, sizeof(q)),
		    API_WF_NAME_MAX);
		json_decref(spec);
		return rc;
	}
	existed = json_object_get(t, name) != NULL;
	if (existed && !replace) {
		rc = api_error(ss, 409, "conflict", "workflow %s is already "
		    "stored: DELETE /v1/workflows/%s first, or replace it "
		    "(\"replace\": true; bora workflow create --replace)",
		    name, name);
		json_decref(spec);
		return rc;
	}
	names = json_array();
	json_object_foreach(json_object_get(spec, "workflows"), key, o)
		json_array_append_new(names, json_string(key));
	canonical = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	yaml = strndup(text, len);
	o = json_pack("{s:s, s:s, s:I}", "yaml", yaml ? yaml : "",
	    "canonical", canonical ? canonical : "", "created_ms", now);
	memset(&sw, 0, sizeof(sw));
	sw.name = name;
	sw.yaml = yaml;
	sw.canonical = canonical;
	sw.created_ms = now;
	rc = -1;
	if (names == NULL || canonical == NULL || yaml == NULL || o == NULL)
		snprintf(err, sizeof(err), "out of memory");
	else if (persist_put_workflow(&sw, err, sizeof(err)) == 0)
		rc = 0;
	if (rc == 0) {
		snprintf(location, sizeof(location), "/v1/workflows/%s", name);
		doc = json_pack("{s:s, s:I, s:O, s:b}", "name", name,
		    "created_ms", now, "workflows", names, "replaced", existed);
		log_info("api", "workflow stored workflow=%s replaced=%s", name,
		    existed ? "yes" : "no");
		json_object_set_new(t, name, o);   /* name points into spec */
		o = NULL;
	}
	json_decref(o);
	json_decref(names);
	free(canonical);
	free(yaml);
	if (rc != 0) {
		json_decref(spec);
		return api_error(ss, 500, "internal", "cannot store the "
		    "workflow: %s", err);
	}
	json_decref(spec);
	return api_respond(ss, existed ? 200 : 201, doc,
	    WSI_TOKEN_HTTP_LOCATION, location);
}

int
api_workflows_create(struct api_session *ss)
{
	const char *body = ss->body ? ss->body : "";
	json_t *root, *v;
	const char *file = "workflow";
	char ct[64];
	size_t i;
	int rc, replace = 0;

	api_wf_content_type(ss, ct, sizeof(ct));
	for (i = 0; i < ss->body_len && (body[i] == ' ' || body[i] == '\n' ||
	    body[i] == '\r' || body[i] == '\t'); i++)
		;
	if (api_wf_is_yaml_type(ct) || (ct[0] == '\0' && (i == ss->body_len ||
	    body[i] != '{')))
		return api_wf_store(ss, body, ss->body_len, file, 0);
	if (ct[0] != '\0' && strcmp(ct, "application/json") != 0)
		return api_error(ss, 415, "unsupported_media_type", "send the "
		    "workflow as text/yaml, or as application/json "
		    "{\"yaml\": TEXT}");
	if ((root = api_body_object(ss, 0, &rc)) == NULL)
		return rc;
	v = json_object_get(root, "yaml");
	if (!json_is_string(v)) {
		json_decref(root);
		return api_error(ss, 400, "bad_request", "yaml: %s",
		    v ? "expected a string (the workflow file's text)" :
		    "required (the workflow file's text)");
	}
	if (json_is_string(json_object_get(root, "file")))
		file = json_string_value(json_object_get(root, "file"));
	if (json_object_get(root, "replace") != NULL) {
		if (!json_is_boolean(json_object_get(root, "replace"))) {
			json_decref(root);
			return api_error(ss, 400, "bad_request",
			    "replace: expected true or false");
		}
		replace = json_is_true(json_object_get(root, "replace"));
	}
	rc = api_wf_store(ss, json_string_value(v), json_string_length(v), file,
	    replace);
	json_decref(root);
	return rc;
}

static int
api_wf_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
api_workflows_list(struct api_session *ss)
{
	json_t *t = api_wf_table(), *list, *o;
	const char *name;
	const char **names;
	size_t n = 0, i;

	if (t == NULL || (list = json_array()) == NULL)
		return api_error(ss, 500, "internal", "out of memory");
	names = calloc(json_object_size(t) + 1, sizeof(*names));
	if (names == NULL) {
		json_decref(list);
		return api_error(ss, 500, "internal", "out of memory");
	}
	json_object_foreach(t, name, o)
		names[n++] = name;
	qsort(names, n, sizeof(*names), api_wf_cmp);
	for (i = 0; i < n; i++) {
		o = json_object_get(t, names[i]);
		json_array_append_new(list, json_pack("{s:s, s:O}", "name",
		    names[i], "created_ms", json_object_get(o, "created_ms")));
	}
	free(names);
	return api_respond(ss, 200, json_pack("{s:o}", "workflows", list), 0,
	    NULL);
}

static json_t *
api_wf_lookup(struct api_session *ss, int *rc)
{
	json_t *t = api_wf_table(), *o;
	char q[128];

	o = t ? json_object_get(t, ss->params[0]) : NULL;
	if (o == NULL)
		*rc = api_error(ss, 404, "not_found", "no stored workflow %s "
		    "(GET /v1/workflows lists them)",
		    bora_log_quote(ss->params[0], q, sizeof(q)));
	return o;
}

int
api_workflows_get(struct api_session *ss)
{
	json_t *o, *canonical;
	int rc = 0;

	if ((o = api_wf_lookup(ss, &rc)) == NULL)
		return rc;
	canonical = json_loads(json_string_value(json_object_get(o,
	    "canonical")), 0, NULL);
	return api_respond(ss, 200, json_pack("{s:s, s:O, s:O, s:o*}", "name",
	    ss->params[0], "created_ms", json_object_get(o, "created_ms"),
	    "yaml", json_object_get(o, "yaml"), "canonical", canonical), 0,
	    NULL);
}

int
api_workflows_delete(struct api_session *ss)
{
	char err[256];
	int rc = 0;

	if (api_wf_lookup(ss, &rc) == NULL)
		return rc;
	if (persist_delete_workflow(ss->params[0], err, sizeof(err)) != 0)
		return api_error(ss, 500, "internal", "cannot delete the "
		    "workflow: %s", err);
	json_object_del(api_wf, ss->params[0]);
	log_info("api", "workflow deleted workflow=%s", ss->params[0]);
	return api_respond(ss, 200, json_pack("{s:s, s:b}", "name",
	    ss->params[0], "deleted", 1), 0, NULL);
}
