/*
 * step_kinds.h: every action a workflow can name, in one const table: the
 * ones that run on an agent as a step of a kind (bora.script is a step of
 * kind "script", whose spec needs the string field "script"), and the ones
 * the coordinator runs itself (std.*, bora.wait_agents). The workflow
 * language, the engine, the API and the agent all read it, so a kind is
 * added in one place and every error lists the same names.
 */
#ifndef BORA_PROTO_STEP_KINDS_H
#define BORA_PROTO_STEP_KINDS_H

#include <stddef.h>

struct bora_action {
	const char *action;      /* workflow name: "bora.script", "std.echo" */
	const char *kind;        /* step kind on the wire; NULL: runs on the
	                            coordinator */
	const char *spec_field;  /* the string field its spec needs (steps) */
	const char *spec_what;   /* what that field holds, for errors */
	const char *const *inputs;  /* coordinator actions: the input names
	                            it takes (NULL-terminated); NULL for steps,
	                            whose kind checks them on the agent */
};

/* The table; ends with an entry whose action is NULL. */
extern const struct bora_action bora_actions[];

/* By workflow name, or by step kind; NULL when unknown (or name NULL). */
const struct bora_action *bora_action_find(const char *action);
const struct bora_action *bora_step_kind_find(const char *kind);
/* The step kind of a workflow action ("script" of bora.script); NULL for
 * an action the coordinator runs, or one that is unknown. */
const char *bora_action_kind(const char *action);

/* The names for an error message, "bora.script, bora.puppet ... and
 * std.sleep": of the actions (agents 0: all, 1: only the ones on agents),
 * or of the step kinds ("script, puppet, file and heat_config") with
 * kinds set. Static text, built once. */
const char *bora_actions_list(int agents_only);
const char *bora_step_kinds_list(void);

#endif
