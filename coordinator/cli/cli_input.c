/*
 * cli_input.c: the inputs of `bora run` and `bora step run`, one parser
 * for both (cli_int.h):
 *
 *   --input NAME=VALUE   VALUE as JSON when it parses as JSON (3, true, a
 *                        list, a quoted string...), else the string VALUE
 *   --input-json OBJECT  its members (bora run; --input wins on a clash)
 *
 * At most CLI_MAX_INPUTS inputs; every refusal names the input.
 */
#include <string.h>
#include <jansson.h>

#include "cli_int.h"

int
cli_input_add(struct cli *cli, json_t *inputs, char *arg)
{
	char *eq = strchr(arg, '=');
	json_t *v;

	if (eq == NULL || eq == arg)
		return cli_usage_error(cli, "--input: expected NAME=VALUE, got "
		    "\"%s\"", arg);
	*eq = '\0';
	if (json_object_get(inputs, arg) != NULL)
		return cli_usage_error(cli, "--input: %s given twice", arg);
	if (json_object_size(inputs) >= CLI_MAX_INPUTS)
		return cli_usage_error(cli, "--input %s: over the limit of %d "
		    "inputs", arg, CLI_MAX_INPUTS);
	v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (v == NULL)
		v = json_string(eq + 1);
	if (v == NULL)
		return cli_usage_error(cli, "--input %s: the value must be "
		    "UTF-8 text", arg);
	if (json_object_set_new(inputs, arg, v) != 0)   /* takes v, always */
		return cli_usage_error(cli, "--input %s: the name must be "
		    "UTF-8 text", arg);
	return 0;
}

int
cli_input_json(struct cli *cli, json_t *base, const char *text)
{
	json_error_t jerr;
	json_t *v;
	int rc = 0;

	v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(v))
		rc = cli_usage_error(cli, "--input-json: expected a JSON "
		    "object%s%s", v == NULL ? ": " : "", v == NULL ?
		    jerr.text : "");
	else if (json_object_size(v) > CLI_MAX_INPUTS)
		rc = cli_usage_error(cli, "--input-json: %zu inputs, over the "
		    "limit of %d", json_object_size(v), CLI_MAX_INPUTS);
	else
		json_object_update_missing(base, v);
	json_decref(v);
	return rc;
}
