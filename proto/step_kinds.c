/* step_kinds.c: see step_kinds.h. */
#include <stdio.h>
#include <string.h>

#include "step_kinds.h"

/* The inputs of the actions the coordinator runs (coordinator/engine/
 * engine_action.c reads these and no other). */
static const char *const in_none[] = { NULL };
static const char *const in_echo[] = { "output", NULL };
static const char *const in_fail[] = { "error_data", NULL };
static const char *const in_sleep[] = { "seconds", NULL };
static const char *const in_wait[] = { "labels", "agents", "count",
	"timeout", NULL };

const struct bora_action bora_actions[] = {
	{ "bora.script", "script", "script", "the script text", NULL },
	{ "bora.puppet", "puppet", "manifest", "the manifest text", NULL },
	{ "bora.file", "file", "path", "the absolute path to write", NULL },
	{ "bora.heat_config", "heat_config", "group",
	  "the SoftwareConfig group, naming the hook", NULL },
	{ "bora.wait_agents", NULL, NULL, NULL, in_wait },
	{ "std.noop", NULL, NULL, NULL, in_none },
	{ "std.echo", NULL, NULL, NULL, in_echo },
	{ "std.fail", NULL, NULL, NULL, in_fail },
	{ "std.sleep", NULL, NULL, NULL, in_sleep },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct bora_action *
bora_action_find(const char *action)
{
	const struct bora_action *a;

	for (a = bora_actions; action != NULL && a->action != NULL; a++)
		if (strcmp(a->action, action) == 0)
			return a;
	return NULL;
}

const struct bora_action *
bora_step_kind_find(const char *kind)
{
	const struct bora_action *a;

	for (a = bora_actions; kind != NULL && a->action != NULL; a++)
		if (a->kind != NULL && strcmp(a->kind, kind) == 0)
			return a;
	return NULL;
}

const char *
bora_action_kind(const char *action)
{
	const struct bora_action *a = bora_action_find(action);

	return a != NULL ? a->kind : NULL;
}

/* "a, b and c": the actions (those on agents only, with agents_only), or
 * the step kinds (kinds). */
static void
step_kinds_join(char *out, size_t outlen, int agents_only, int kinds)
{
	const struct bora_action *a;
	size_t n = 0, i = 0, len = 0;

	for (a = bora_actions; a->action != NULL; a++)
		if (!(agents_only || kinds) || a->kind != NULL)
			n++;
	out[0] = '\0';
	for (a = bora_actions; a->action != NULL && len < outlen; a++) {
		if ((agents_only || kinds) && a->kind == NULL)
			continue;
		i++;
		len += (size_t)snprintf(out + len, outlen - len, "%s%s",
		    i == 1 ? "" : i == n ? " and " : ", ",
		    kinds ? a->kind : a->action);
	}
}

const char *
bora_actions_list(int agents_only)
{
	static char all[256], agents[256];
	char *buf = agents_only ? agents : all;

	if (buf[0] == '\0')
		step_kinds_join(buf, sizeof(all), agents_only, 0);
	return buf;
}

const char *
bora_step_kinds_list(void)
{
	static char buf[128];

	if (buf[0] == '\0')
		step_kinds_join(buf, sizeof(buf), 0, 1);
	return buf;
}
