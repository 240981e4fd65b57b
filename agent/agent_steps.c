/*
 * agent_steps.c: the API of agent_steps.h, what conn.c and agent_main.c
 * call: start and stop the module, and the run / cancel / ack messages, the
 * welcome and queue room as they come. The work is done by the step_*.c
 * files (agent_steps_int.h says which does what).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_steps_int.h"
#include "clock.h"
#include "conn.h"
#include "journal.h"
#include "log.h"

int
steps_init(struct lws_context *ctx, const struct agent_config *cfg)
{
	char base[PATH_MAX], err[STEPS_ERR_MAX];

	steps_table_init();
	steps.ctx = ctx;
	steps.cfg = cfg;
	steps.vhost = lws_get_vhost_by_name(ctx, STEPS_VHOST);
	if (steps.vhost == NULL) {
		log_errorx("steps", "no vhost named %s in the event loop",
		    STEPS_VHOST);
		return -1;
	}
	if (lws_vhost_name_to_protocol(steps.vhost, STEPS_PIPE_PROTOCOL) ==
	    NULL) {
		log_errorx("steps", "vhost %s lacks the %s protocol",
		    STEPS_VHOST, STEPS_PIPE_PROTOCOL);
		return -1;
	}
	if ((size_t)snprintf(base, sizeof(base), "%s/steps", cfg->state_dir) >=
	    sizeof(base) || (mkdir(base, 0700) != 0 && errno != EEXIST)) {
		log_warn("steps", "cannot create the steps directory dir=%s",
		    base);
		return -1;
	}
	if ((steps.journal = journal_open(cfg->state_dir, err, sizeof(err))) ==
	    NULL) {
		log_errorx("steps", "cannot open the journal: %s", err);
		return -1;
	}
	if (steps_load_journal() != 0) {
		steps.ready = 1;        /* so that shutdown frees what came */
		steps_shutdown();
		return -1;
	}
	steps_sweep_dirs(base);
	steps.ready = 1;
	return 0;
}

void
steps_shutdown(void)
{
	if (!steps.ready)
		return;
	steps_stop_all();
	journal_close(steps.journal);
	steps.journal = NULL;
	steps.ready = 0;
}

void
steps_on_run(const struct bora_run *run)
{
	struct step *st;
	struct bora_msg m = { .type = BORA_MSG_RESULT };

	if (!steps.ready)
		return;
	if ((st = steps_find(run->step)) != NULL) {
		if (st->finished) {
			log_info("steps", "run for a finished step, sending its "
			    "result again step=%s", st->id);
			steps_send_result(st);
		} else
			log_info("steps", "run for a running step, not started "
			    "again step=%s pid=%d", st->id, (int)st->pid);
		return;
	}
	if (steps.count >= STEPS_MAX) {
		/* Not kept: the table is what bounds this agent's memory. */
		log_warnx("steps", "too many steps not acked, refusing step=%s "
		    "max=%d", run->step, STEPS_MAX);
		m.u.result.step = run->step;
		m.u.result.status = BORA_STATUS_ERROR;
		m.u.result.finished_ms = bora_wall_ms();
		m.u.result.error = "the agent holds too many steps whose "
		    "results are not acknowledged";
		(void)conn_send(&m);
		return;
	}
	if ((st = steps_new(run->step, run->kind, run->timeout_s)) ==
	    NULL) {
		log_errorx("steps", "out of memory, dropping run step=%s",
		    run->step);
		return;
	}
	steps_start(st, run);
}

void
steps_on_cancel(const struct bora_cancel *cancel)
{
	struct step *st;

	if (!steps.ready)
		return;
	if ((st = steps_find(cancel->step)) == NULL) {
		log_info("steps", "cancel for an unknown step step=%s",
		    cancel->step);
		return;
	}
	steps_cancel(st, cancel->reason);
}

void
steps_on_ack(const char *step)
{
	struct step *st;

	if (!steps.ready)
		return;
	if ((st = steps_find(step)) == NULL) {
		log_debug("steps", "ack for an unknown step step=%s", step);
		return;
	}
	if (!st->finished) {
		log_warnx("steps", "ack for a step still running, ignored "
		    "step=%s", step);
		return;
	}
	steps_forget(st);
}

void
steps_on_connected(void)
{
	struct step *st;

	if (!steps.ready)
		return;
	TAILQ_FOREACH(st, &steps.done, done_link)
		steps_send_result(st);
	steps_on_send_space();
}

void
steps_on_send_space(void)
{
	if (!steps.ready)
		return;
	steps_resend_pending();
	steps_output_resume();
}

json_t *
steps_running_json(void)
{
	json_t *a = json_array();
	struct step *st;

	if (a == NULL || !steps.ready)
		return a;
	TAILQ_FOREACH(st, &steps.all, all_link)
		if (!st->finished)
			json_array_append_new(a, json_string(st->id));
	return a;
}

json_t *
steps_unacked_json(void)
{
	json_t *a = json_array();
	struct step *st;
	size_t bytes = 0;

	if (a == NULL || !steps.ready)
		return a;
	/* Oldest first, as many as fit STEPS_HELLO_RESULTS_MAX; the rest
	 * follow the welcome as result messages. */
	TAILQ_FOREACH(st, &steps.done, done_link) {
		if (st->result == NULL)
			continue;
		if (bytes + st->result_len + 1 > STEPS_HELLO_RESULTS_MAX)
			break;
		bytes += st->result_len + 1;
		json_array_append(a, st->result);
	}
	return a;
}
