/* coordinator_main.c: bora-coordinator, the daemon that pushes steps to agents and runs
 * workflows over them. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator_config.h"
#include "coordinator_init.h"
#include "coordinator_loop.h"
#include "coordinator_restore.h"
#include "engine_glue.h"
#include "enroll.h"
#include "log.h"
#include "persist.h"
#include "steps.h"
#include "tokens.h"

/* SIGHUP: read the operator token's hash from the store again (after
 * `bora-coordinator operator-token rotate`), before the next request. */
static void
main_on_hup(int sig)
{
	(void)sig;
	tokens_operator_reload_ask();
}

int
main(int argc, char **argv)
{
	struct coord_config cfg;
	struct sigaction sa;
	char err[512];
	int rc;

	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return coord_init_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "operator-token") == 0)
		return coord_operator_token_main(argc - 1, argv + 1);
	if (coord_config_load(&cfg, argc, argv) != 0)
		return 2;
	bora_log_init((enum bora_log_level)bora_log_level_parse(cfg.log_level),
	    (enum bora_log_format)bora_log_format_parse(cfg.log_format));
	steps_set_log_output(cfg.log_step_output);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_on_hup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGHUP, &sa, NULL);
	rc = coord_loop_start(&cfg);
	if (rc == 0)
		rc = engine_glue_init(coord_loop_context());
	if (rc == 0)
		steps_away_init(coord_loop_context(), (uint32_t)cfg.heartbeat_s);
	if (rc == 0 && persist_open(cfg.state_dir, err, sizeof(err)) != 0) {
		log_errorx("main", "cannot open the store reason=\"%s\"", err);
		rc = -1;
	}
	/* what waits for durability, let out after each commit */
	if (rc == 0 && (persist_on_turn(NULL, steps_release, NULL) != 0 ||
	    persist_on_turn(NULL, enroll_release, NULL) != 0))
		rc = -1;
	if (rc == 0 && coord_restore(err, sizeof(err)) != 0) {
		log_errorx("main", "cannot restore from the store "
		    "reason=\"%s\"", err);
		persist_abandon();
		rc = -1;
	}
	if (rc == 0 && enroll_init(&cfg, persist_store_handle(), err,
	    sizeof(err)) != 0) {
		log_errorx("main", "cannot load the enrollment state "
		    "reason=\"%s\"", err);
		rc = -1;
	}
	if (rc == 0)
		rc = coord_loop_run();
	persist_close();
	/* The engine's timer lives on the context: gone before it is. */
	engine_glue_shutdown();
	coord_loop_stop();
	enroll_shutdown();          /* after the sessions are closed */
	log_info("main", "exit status=%d", rc == 0 ? 0 : 1);
	coord_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
