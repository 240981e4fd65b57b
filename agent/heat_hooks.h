/*
 * heat_hooks.h: the "heat_config" step kind's side of Heat's hook contract.
 *
 * openstack/heat-agents runs a SoftwareConfig by group: the dispatcher
 * heat-config/os-refresh-config/configure.d/55-heat-config finds the hook
 * named after the group in $HEAT_CONFIG_HOOKS, /usr/libexec/heat-config/hooks
 * or /var/lib/heat-config/hooks, writes the config as JSON to the hook's
 * stdin and takes the JSON object the hook prints as the deployment's
 * signal data (deploy_stdout, deploy_stderr, deploy_status_code and the
 * declared outputs). This module finds the hook, builds its stdin and
 * parses its stdout; running it is the runner's job (exec.h).
 */
#ifndef BORA_AGENT_HEAT_HOOKS_H
#define BORA_AGENT_HEAT_HOOKS_H

#include <stddef.h>

#include <jansson.h>

#define HEAT_HOOK_OUTPUT_MAX (1024 * 1024)  /* cap on a hook's JSON result */
#define HEAT_HOOK_MAX_DEPTH  16   /* arrays/objects in it, itself included:
                                     leaves room under BORA_MAX_DEPTH (32)
                                     for the message that carries it */

/*
 * Find the hook for group: the executable regular file named exactly group
 * in the first of dirs (NULL-terminated) that has one; files that are not
 * executable are skipped. dirs NULL means $HEAT_CONFIG_HOOKS (one directory,
 * as in 55-heat-config; ignored when unset or empty), then
 * /usr/libexec/heat-config/hooks, then /var/lib/heat-config/hooks. group must
 * match [A-Za-z0-9_-]+ (at most 255 bytes) and is refused otherwise.
 * Returns 0 with the hook's path in out (outlen bytes), or -1 with one
 * sentence in err, e.g. "no heat-config hook for group 'ansible'
 * (searched: /a, /b, /c)". Everything is borrowed.
 */
int heat_hook_find(const char *group, const char *const *dirs, char *out,
    size_t outlen, char *err, size_t errlen);

/*
 * Build the hook's stdin: {id, name, group, config, options, inputs,
 * outputs, creation_time}. inputs is our {name: value} object, converted to
 * Heat's list [{name, value, type, description}] as Heat and 55-heat-config
 * would pass undeclared input values: strings as they are, numbers as their
 * decimal text, booleans as "True"/"False", null as "", all type "String";
 * maps and lists as they are with type "Json". An array is taken as already
 * in Heat's form (each element an object with a string "name") and copied.
 * outputs is a list of names, or of objects with a "name" (copied), or an
 * object {name: {...}}; it becomes [{name, ...}].
 * NULL config is "", NULL options {}, NULL inputs and outputs [], NULL name
 * and creation_time JSON null. id and group are required.
 * Returns a new reference the caller json_decref()s, or NULL when id or
 * group is NULL, a type is wrong, or memory runs out. Arguments are
 * borrowed (deep-copied into the result).
 */
json_t *heat_hook_input(const char *id, const char *name, const char *group,
    const json_t *config, const json_t *options, const json_t *inputs,
    const json_t *outputs, const char *creation_time);

/*
 * Parse the hook's stdout (len bytes): exactly one JSON object, at most
 * HEAT_HOOK_OUTPUT_MAX bytes and HEAT_HOOK_MAX_DEPTH levels, valid UTF-8,
 * with no duplicate keys, no "\u0000" and nothing after it.
 * *outputs gets the whole object (deploy_stdout, deploy_stderr,
 * deploy_status_code and the outputs; a new reference the caller
 * json_decref()s); *status_code gets deploy_status_code read as Heat
 * does (absent, null, false, 0, "0" and "" are 0; an integer or a string
 * holding one is that value; anything else is 1); one that does not fit
 * an int is an error. Returns 0; -2 when stdout is not one JSON object
 * (err: "hook printed no JSON result: <first 200 bytes>"), which Heat
 * takes as its fallback signal; -1 for a result Bora refuses (too large,
 * duplicate keys, too deep, a NUL): err says why. *outputs NULL then.
 */
int heat_hook_parse_output(const char *stdout_text, size_t len,
    json_t **outputs, int *status_code, char *err, size_t errlen);

#endif
