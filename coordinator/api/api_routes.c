/*
 * api_routes.c: the operator API's one const route table (docs/api.md
 * has a curl example for each row; tests/docs/check_api_docs.py checks
 * both ways), and matching a request's path against it.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"

static const struct api_route api_routes[] = {
	/* method, path, handler, has a body, websocket upgrade */
	{ "GET",  "/v1/agents",               api_agents_list,  0, NULL },
	{ "GET",  "/v1/agents/*",             api_agent_get,    0, NULL },
	{ "POST", "/v1/steps",                api_steps_create, 1, NULL },
	{ "GET",  "/v1/steps/*",              api_step_get,     0, NULL },
	{ "GET",  "/v1/steps/*/events",       api_step_events,  0, NULL },
	{ "GET",  "/v1/steps/*/output",       api_step_output,  0, NULL },
	{ "POST", "/v1/workflows",            api_workflows_create, 1, NULL },
	{ "GET",  "/v1/workflows",            api_workflows_list, 0, NULL },
	{ "GET",  "/v1/workflows/*",          api_workflows_get, 0, NULL },
	{ "DELETE", "/v1/workflows/*",        api_workflows_delete, 0, NULL },
	{ "GET",  "/v1/executions",           api_exec_list,    0, NULL },
	{ "POST", "/v1/executions",           api_exec_create,  1, NULL },
	{ "GET",  "/v1/executions/*",         api_exec_get,     0, NULL },
	{ "GET",  "/v1/executions/*/events",  api_exec_events,  0, api_ws_confirm },
	{ "GET",  "/v1/executions/*/tasks",   api_exec_tasks,   0, NULL },
	{ "POST", "/v1/executions/*/cancel",  api_exec_cancel,  1, NULL },
	{ "POST", "/v1/executions/*/pause",   api_exec_pause,   1, NULL },
	{ "POST", "/v1/executions/*/resume",  api_exec_resume,  1, NULL },
	{ "POST", "/v1/tokens",               api_tokens_create, 1, NULL },
	{ "GET",  "/v1/tokens",               api_tokens_list,  0, NULL },
	{ "DELETE", "/v1/tokens/*",           api_tokens_delete, 0, NULL },
	{ "GET",  "/v1/enrolled",             api_enrolled_list, 0, NULL },
	{ "POST", "/v1/agents/*/revoke",      api_agent_revoke, 1, NULL },
};
#define API_N_ROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

/* ---- matching ---------------------------------------------------------- */

/* Match path against pattern segment by segment; "*" captures one
 * non-empty segment into ss->params. 1 on a match. */
static int
api_route_match(const char *pattern, const char *path,
    char params[API_MAX_PARAMS][API_MAX_PATH + 1])
{
	int np = 0;

	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			if (n == 0 || np == API_MAX_PARAMS || n > API_MAX_PATH)
				return 0;
			memcpy(params[np], path, n);
			params[np][n] = '\0';
			np++;
			pattern++;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

const struct api_route *
api_route_find(const char *method, const char *path,
    char params[API_MAX_PARAMS][API_MAX_PATH + 1], char *allow,
    size_t allowlen, int *path_hit)
{
	size_t i;

	allow[0] = '\0';
	*path_hit = 0;
	for (i = 0; i < API_N_ROUTES; i++) {
		if (!api_route_match(api_routes[i].pattern, path, params))
			continue;
		*path_hit = 1;
		if (method && strcmp(method, api_routes[i].method) == 0)
			return &api_routes[i];
		if (!strstr(allow, api_routes[i].method))
			snprintf(allow + strlen(allow), allowlen - strlen(allow),
			    "%s%s", allow[0] ? ", " : "", api_routes[i].method);
	}
	return NULL;
}
