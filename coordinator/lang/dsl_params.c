/*
 * dsl_params.c: inline parameters, Mistral's "std.echo output='hi' n=3"
 * and "fail msg='why'". After the first word come name=value pairs
 * separated by spaces. A value runs to the next space outside quotes,
 * <% %>, {{ }} and brackets; it is a string when quoted (' or ", with \
 * escaping the quote and itself in "..."), an expression string when it
 * holds one (also one starting with {{, a Jinja expression, not a YAML
 * mapping), a list or mapping when it starts with [ or { (read as YAML
 * flow), else typed as a plain YAML scalar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_int.h"

#define DSL_PARAMS_MAX 256

static int
dsl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* End of the value at p (exclusive), or NULL when something is unclosed. */
static const char *
dsl_value_end(const char *p)
{
	int depth = 0;
	char q;

	while (*p != '\0' && (depth > 0 || !dsl_is_space(*p))) {
		if (*p == '"' || *p == '\'') {
			q = *p++;
			while (*p != '\0' && *p != q) {
				if (q == '"' && *p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
			if (*p == '\0')
				return NULL;
			p++;
		} else if (strncmp(p, "<%", 2) == 0) {
			if ((p = strstr(p + 2, "%>")) == NULL)
				return NULL;
			p += 2;
		} else if (strncmp(p, "{{", 2) == 0) {
			if ((p = strstr(p + 2, "}}")) == NULL)
				return NULL;
			p += 2;
		} else {
			if (*p == '[' || *p == '{')
				depth++;
			else if ((*p == ']' || *p == '}') && depth > 0)
				depth--;
			p++;
		}
	}
	return depth == 0 ? p : NULL;
}

/* "..." or '...' covering all of v (n bytes) -> its content, else NULL. */
static json_t *
dsl_unquote(const char *v, size_t n)
{
	char *buf, q = v[0];
	size_t i, o = 0;
	json_t *out;

	if (n < 2 || (q != '"' && q != '\'') || v[n - 1] != q)
		return NULL;
	if ((buf = malloc(n)) == NULL)
		return NULL;
	for (i = 1; i + 1 < n; i++) {
		if (v[i] == q && !(q == '"' && i > 1 && v[i - 1] == '\\')) {
			free(buf);
			return NULL;    /* 'a'b' : not one quoted string */
		}
		if (q == '"' && v[i] == '\\' && i + 2 < n &&
		    (v[i + 1] == '"' || v[i + 1] == '\\'))
			i++;
		buf[o++] = v[i];
	}
	out = json_stringn(buf, o);
	free(buf);
	return out;
}

/* A [..] or {..} value read as YAML flow: its JSON, or NULL. */
static json_t *
dsl_flow_value(const char *v, size_t n)
{
	struct dsl_ctx sub;
	struct dsl_node *root;
	json_t *out = NULL;

	memset(&sub, 0, sizeof(sub));
	sub.file = "";
	root = dsl_yaml_load(&sub, v, n);
	if (root != NULL && sub.n_err == 0)
		out = dsl_json(&sub, root);
	if (sub.n_err != 0 || sub.oom) {
		json_decref(out);
		out = NULL;
	}
	dsl_node_free(root);
	dsl_ctx_clear(&sub);
	return out;
}

int
dsl_params_parse(const char *s, size_t *word_len, json_t *params, char *why,
    size_t whylen)
{
	const char *p = s, *name, *eq, *end;
	char show[DSL_SHOW], *text;
	json_t *v;
	size_t n;

	while (*p != '\0' && !dsl_is_space(*p))
		p++;
	*word_len = (size_t)(p - s);
	for (;;) {
		while (dsl_is_space(*p))
			p++;
		if (*p == '\0')
			return 0;
		name = p;
		while (*p != '\0' && *p != '=' && !dsl_is_space(*p))
			p++;
		if (*p != '=' || p == name) {
			snprintf(why, whylen, "expected name=value after the "
			    "first word, got '%s'", dsl_show(name, show,
			    sizeof(show)));
			return -1;
		}
		eq = p;
		if ((end = dsl_value_end(eq + 1)) == NULL) {
			snprintf(why, whylen, "the value of %.*s has an "
			    "unclosed quote, bracket or expression",
			    (int)(eq - name), name);
			return -1;
		}
		n = (size_t)(end - eq - 1);
		if ((text = strndup(eq + 1, n)) == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		if ((v = dsl_unquote(text, n)) != NULL)
			;
		else if (strncmp(text, "{{", 2) == 0 ||
		    strstr(text, "<%") != NULL)
			v = json_stringn(text, n);
		else if (text[0] == '[' || text[0] == '{')
			v = dsl_flow_value(text, n);
		else if (strstr(text, "{{") != NULL)
			v = json_stringn(text, n);
		else
			v = dsl_scalar_json(text, n, 1);
		free(text);
		if (v == NULL) {
			snprintf(why, whylen, "the value of %.*s is not "
			    "understood", (int)(eq - name), name);
			return -1;
		}
		if (json_object_getn(params, name, (size_t)(eq - name)) !=
		    NULL || json_object_size(params) >= DSL_PARAMS_MAX) {
			snprintf(why, whylen, "%.*s is given twice",
			    (int)(eq - name), name);
			json_decref(v);
			return -1;
		}
		if (json_object_setn_new(params, name, (size_t)(eq - name),
		    v) != 0) {
			snprintf(why, whylen, "parameter names must be UTF-8");
			return -1;
		}
		p = end;
	}
}
