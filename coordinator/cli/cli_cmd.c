/*
 * cli_cmd.c: the commands of `bora`, one const table (tmux's cmd_table of
 * cmd_entry): each entry is defined in the file of its command group, and
 * the dispatcher (cli_main.c) and help (cli_help.c) both read it here, so
 * that what help lists is what runs.
 */
#include <stdio.h>
#include <string.h>

#include "cli_int.h"

/* In the order `bora help` lists them. */
static const struct cli_cmd *const cli_cmd_table[] = {
	&cli_cmd_agents_entry,
	&cli_cmd_step_run_entry,
	&cli_cmd_step_show_entry,
	&cli_cmd_step_events_entry,
	&cli_cmd_run_entry,
	&cli_cmd_executions_entry,
	&cli_cmd_show_entry,
	&cli_cmd_logs_entry,
	&cli_cmd_watch_entry,
	&cli_cmd_cancel_entry,
	&cli_cmd_pause_entry,
	&cli_cmd_resume_entry,
	&cli_cmd_execution_show_entry,
	&cli_cmd_execution_cancel_entry,
	&cli_cmd_execution_pause_entry,
	&cli_cmd_execution_resume_entry,
	&cli_cmd_token_create_entry,
	&cli_cmd_workflow_create_entry,
	&cli_cmd_workflow_list_entry,
	&cli_cmd_workflow_show_entry,
	&cli_cmd_workflow_delete_entry,
	&cli_cmd_token_list_entry,
	&cli_cmd_token_revoke_entry,
	&cli_cmd_agent_revoke_entry,
	&cli_cmd_validate_entry,
	&cli_cmd_version_entry,
	&cli_cmd_help_entry,
};
#define CLI_N_CMDS (sizeof(cli_cmd_table) / sizeof(cli_cmd_table[0]))

const struct cli_cmd *
cli_cmd_at(size_t i)
{
	return i < CLI_N_CMDS ? cli_cmd_table[i] : NULL;
}

const struct cli_cmd *
cli_cmd_find(int argc, char **argv, int *words)
{
	char two[64];
	size_t i;

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (i = 0; i < CLI_N_CMDS; i++)
			if (strcmp(cli_cmd_table[i]->name, two) == 0) {
				*words = 2;
				return cli_cmd_table[i];
			}
	}
	for (i = 0; argc >= 1 && i < CLI_N_CMDS; i++)
		if (strcmp(cli_cmd_table[i]->name, argv[0]) == 0) {
			*words = 1;
			return cli_cmd_table[i];
		}
	return NULL;
}

size_t
cli_cmd_group(FILE *out, const char *word)
{
	size_t i, n = strlen(word), found = 0;

	for (i = 0; i < CLI_N_CMDS; i++)
		if (strncmp(cli_cmd_table[i]->name, word, n) == 0 &&
		    cli_cmd_table[i]->name[n] == ' ') {
			if (out != NULL)
				fprintf(out, "  bora %s %s\n",
				    cli_cmd_table[i]->name,
				    cli_cmd_table[i]->args);
			found++;
		}
	return found;
}
