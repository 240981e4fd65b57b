/*
 * coord_step_protocol.c: what submitters and agents do to steps (coord_step_int.h).
 *
 * A submitted step is queued for its agent, and its run sent when the
 * agent is connected and the step's row durable; when the agent
 * (re)connects, its hello's stored results are applied and the steps it
 * does not run are sent again (the agent decides by step id: it never
 * starts a step twice). accept marks a step running; a result finishes it
 * (kept among the finished steps, its owner told) and is acked once
 * durable; a result sent again is only acked. A cancel of a step still
 * waiting finishes it here; of a dispatched or running one it is sent to
 * the agent, now or when it is back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "persist.h"
#include "secrets.h"
#include "coord_step_int.h"

/* On failure the step waits for the next connection (the server drops an
 * agent whose queue is full). */
int
step_dispatch(struct coord_step *s, struct coord_agent *a)
{
	struct bora_msg m = { .type = BORA_MSG_RUN };

	if (s->held)
		return 0;       /* "dispatched" is not durable yet */
	m.u.run.step = s->id;
	m.u.run.kind = s->kind;
	m.u.run.spec = s->spec;
	m.u.run.inputs = s->inputs;
	m.u.run.timeout_s = s->timeout_s;
	if (agent_send(a, &m) != 0)
		return -1;
	if (s->state == STEP_WAITING) {
		s->state = STEP_DISPATCHED;
		step_record(s, json_pack("{s:s, s:I}", "event", "dispatched",
		    "time_ms", (json_int_t)bora_wall_ms()));
	}
	log_info("steps", "step dispatched step=%s%s agent=%s kind=%s",
	    s->id, s->labels, s->agent, s->kind);
	return 0;
}

struct coord_step *
steps_submit(const char *id, const char *agent, const char *kind,
    json_t *spec, json_t *inputs, uint32_t timeout_s,
    const struct step_owner *owner, char *err, size_t errlen)
{
	struct coord_step *s;
	struct coord_agent *a;

	s = step_table_new(id, agent, kind, spec, inputs, timeout_s, owner, err,
	    errlen);
	if (s == NULL)
		return NULL;
	step_record(s, json_pack("{s:s, s:s, s:s, s:s, s:I}", "event", "queued",
	    "step", s->id, "agent", s->agent, "kind", s->kind,
	    "time_ms", (json_int_t)s->created_ms));
	log_info("steps", "step queued step=%s%s agent=%s kind=%s timeout=%u",
	    s->id, s->labels, s->agent, s->kind, timeout_s);
	step_durable_put(s);
	a = registry_find(agent);
	if (a != NULL && a->welcomed)
		step_dispatch(s, a);
	return s;
}

int
steps_on_accept(struct coord_agent *a, const struct bora_accept *m, char *err,
    size_t errlen)
{
	struct coord_step *s = step_table_of_agent(a, m->step, err, errlen);

	if (s == NULL)
		return -1;
	if (s->state == STEP_DONE)
		return 0;              /* a late duplicate: nothing changes */
	if (s->state != STEP_RUNNING) {
		s->state = STEP_RUNNING;
		step_durable_running(s);
		step_record(s, json_pack("{s:s, s:I, s:I}", "event", "accepted",
		    "pid", (json_int_t)m->pid, "time_ms",
		    (json_int_t)bora_wall_ms()));
		log_info("steps", "step started step=%s%s agent=%s pid=%lld",
		    s->id, s->labels, a->name, (long long)m->pid);
	}
	return 0;
}

/*
 * The step is done with result res (taken): log it, close the log, keep
 * the step among the finished ones, tell the owner, then forget the
 * oldest finished steps past the caps.
 */
static uint64_t
step_finish(struct coord_step *s, json_t *res)
{
	struct step_owner owner = s->owner;
	uint64_t seq = step_durable_done(s, res);

	s->state = STEP_DONE;
	s->result = res;
	free(s->cancel_reason);
	s->cancel_reason = NULL;
	step_record(s, json_pack("{s:s, s:O}", "event", "result", "result",
	    res));
	evlog_close(&s->log);
	step_table_done(s);
	if (owner.on_done != NULL && stepmod.defer_owner) {
		s->notify_pending = 1;
		TAILQ_INSERT_TAIL(&stepmod.notify, s, notify_link);
	} else if (owner.on_done != NULL)
		owner.on_done(owner.user, s->id, res);
	step_table_evict();     /* may free s */
	return seq;
}

/* Tell the owners of the results deferred by stepmod.defer_owner. */
static void
steps_notify_deferred(void)
{
	struct coord_step *s;

	while ((s = TAILQ_FIRST(&stepmod.notify)) != NULL) {
		TAILQ_REMOVE(&stepmod.notify, s, notify_link);
		s->notify_pending = 0;
		if (s->owner.on_done != NULL)
			s->owner.on_done(s->owner.user, s->id, s->result);
	}
	step_table_evict();
}

/* A step that ends in failure is logged at warn, as the engine logs a task
 * or an execution that ends in ERROR; a cancelled one is not a failure. */
static enum bora_log_level
step_end_level(enum bora_status st)
{
	return st == BORA_STATUS_SUCCESS || st == BORA_STATUS_CANCELLED ?
	    BORA_LOG_INFO : BORA_LOG_WARN;
}

int
steps_on_result(struct coord_agent *a, const struct bora_result *m, char *err,
    size_t errlen)
{
	struct coord_step *s = steps_find(m->step);
	char id[BORA_MAX_STEP_ID + 1];
	json_t *res;

	if (s == NULL && persist_step_is_done(m->step, a->name)) {
		/* applied before (and forgotten from memory, or before a
		 * restart): only acked */
		step_send_ack(a, m->step);
		return 0;
	}
	if ((s = step_table_of_agent(a, m->step, err, errlen)) == NULL)
		return -1;
	if (s->state == STEP_DONE) {   /* applied once: a resend is only acked */
		step_ack_when_durable(a->name, s->id, s->done_seq);
		return 0;
	}
	res = bora_result_to_json(m);
	if (res != NULL && s->secrets != NULL) {
		json_t *masked = secrets_mask_json(s->secrets, res);

		json_decref(res);
		res = masked;
		/* what was held back of the output is shown now */
		step_output_flush(s);
	}
	if (res == NULL) {
		snprintf(err, errlen, "result cannot be stored");
		return -1;
	}
	if (m->has_exit_code)
		bora_log(step_end_level(m->status), 0, "steps", "step finished "
		    "step=%s%s agent=%s status=%s exit=%d duration_ms=%lld",
		    s->id, s->labels, a->name, bora_status_name(m->status),
		    m->exit_code, (long long)(m->finished_ms - m->started_ms));
	else
		bora_log(step_end_level(m->status), 0, "steps", "step finished "
		    "step=%s%s agent=%s status=%s signal=%d", s->id, s->labels,
		    a->name, bora_status_name(m->status), m->signal);
	if (s->restored)
		step_output_fill_lost(s, m, res);
	snprintf(id, sizeof(id), "%s", s->id);
	step_ack_when_durable(a->name, id, step_finish(s, res));
	return 0;
}

void
step_finish_here(struct coord_step *s, const char *status, const char *text)
{
	json_t *res;
	int64_t t = bora_wall_ms();

	res = json_pack("{s:s, s:s, s:s, s:I, s:I}", "step", s->id,
	    "status", status, "error", text, "started_ms", (json_int_t)t,
	    "finished_ms", (json_int_t)t);
	if (res == NULL) {
		log_warnx("steps", "cannot finish step=%s%s status=%s "
		    "reason=\"out of memory\"", s->id, s->labels, status);
		return;
	}
	step_finish(s, res);
}

/* A cancelled step that its agent does not run: finished here. */
static void
step_cancel_local(struct coord_step *s, const char *reason)
{
	char text[STEP_REASON_MAX + BORA_MAX_NAME + 64];

	snprintf(text, sizeof(text), "cancelled%s%.*s; agent %s was not "
	    "running it", reason && *reason ? ": " : "", STEP_REASON_MAX,
	    reason ? reason : "", s->agent);
	log_info("steps", "step finished step=%s%s agent=%s status=cancelled "
	    "where=coordinator", s->id, s->labels, s->agent);
	step_finish_here(s, "cancelled", text);
}

/* Send cancel to the step's agent. 0, or -1 when it cannot go now. */
static int
step_send_cancel(struct coord_step *s, struct coord_agent *a)
{
	struct bora_msg m = { .type = BORA_MSG_CANCEL };

	m.u.cancel.step = s->id;
	m.u.cancel.reason = s->cancel_reason && *s->cancel_reason ?
	    s->cancel_reason : NULL;
	if (agent_send(a, &m) != 0)
		return -1;
	log_info("steps", "step cancel sent step=%s%s agent=%s", s->id,
	    s->labels, a->name);
	return 0;
}

void
steps_cancel(struct coord_step *s, const char *reason)
{
	struct coord_agent *a;
	size_t n;

	if (s->state == STEP_DONE)
		return;
	if (s->state == STEP_WAITING) {
		step_cancel_local(s, reason);
		return;
	}
	if (s->cancel_reason != NULL)
		return;                 /* asked already */
	/* Dispatched or running: only the agent can stop it. Keep the
	 * reason, so that an agent away now is told when it is back. */
	n = reason ? strnlen(reason, STEP_REASON_MAX) : 0;
	if ((s->cancel_reason = malloc(n + 1)) == NULL) {
		log_warnx("steps", "cannot cancel step=%s%s reason=\"out of "
		    "memory\"", s->id, s->labels);
		return;
	}
	memcpy(s->cancel_reason, reason ? reason : "", n);
	s->cancel_reason[n] = '\0';
	a = registry_find(s->agent);
	if (a != NULL && a->welcomed)
		step_send_cancel(s, a);
	else
		log_info("steps", "step cancel waits for its agent step=%s%s "
		    "agent=%s", s->id, s->labels, s->agent);
}

static int
json_array_has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* Steps the agent says it runs that were finished here while it was away
 * (lost past their bound, coord_step_away.c): a rerun may run elsewhere, so
 * the agent is told to cancel them. Their result, when it comes, is only
 * acked. */
static void
step_cancel_lost_here(struct coord_agent *a, const json_t *running)
{
	struct bora_msg m = { .type = BORA_MSG_CANCEL };
	struct coord_step *s;
	json_t *v;
	size_t i;

	json_array_foreach(running, i, v) {
		s = steps_find(json_string_value(v));
		if (s == NULL || s->state != STEP_DONE ||
		    strcmp(s->agent, a->name) != 0)
			continue;
		m.u.cancel.step = s->id;
		m.u.cancel.reason = "the coordinator declared the step lost "
		    "while its agent was away";
		if (agent_send(a, &m) != 0)
			return;
		log_info("steps", "step cancel sent step=%s%s agent=%s "
		    "reason=\"finished here while the agent was away\"",
		    s->id, s->labels, a->name);
	}
}

void
steps_on_agent_welcomed(struct coord_agent *a, const struct bora_hello *h)
{
	struct agent_steps *as;
	struct coord_step *s, *next;
	struct bora_result res;
	struct bora_msg_err verr;
	char err[256], path[32];
	json_t *v;
	size_t i;

	stepmod.defer_owner = 1;
	if ((as = step_table_agent(a->name)) != NULL)
		TAILQ_FOREACH(s, &as->steps, agent_link)
			step_away_disarm(s);
	step_cancel_lost_here(a, h->running);
	/* Results the agent kept for us while it was away, oldest first. */
	json_array_foreach(h->results, i, v) {
		snprintf(path, sizeof(path), "results[%zu]", i);
		if (bora_result_from_json(v, path, &res, &verr) != 0)
			continue;      /* the codec validated them already */
		if (steps_on_result(a, &res, err, sizeof(err)) != 0)
			log_warnx("steps", "refused stored result agent=%s "
			    "step=%s reason=\"%s\"", a->name, res.step, err);
	}
	as = step_table_agent(a->name);
	for (s = as ? TAILQ_FIRST(&as->steps) : NULL; s; s = next) {
		next = TAILQ_NEXT(s, agent_link);
		if (s->state == STEP_RUNNING || s->state == STEP_DISPATCHED) {
			if (h->running && json_array_has_string(h->running, s->id)) {
				s->state = STEP_RUNNING;
				if (s->cancel_reason != NULL &&
				    step_send_cancel(s, a) != 0)
					break;
				continue;
			}
			if (s->cancel_reason != NULL) {
				/* Cancelled while away, and the agent neither
				 * runs it nor had its result: never start it. */
				step_cancel_local(s, s->cancel_reason);
				continue;
			}
			/* The run may have been lost on the way: send it again;
			 * the agent decides by step id (it never starts a step
			 * twice). */
		}
		if (step_dispatch(s, a) != 0)
			break;
	}
	stepmod.defer_owner = 0;
	steps_notify_deferred();
}

void
steps_on_agent_gone(struct coord_agent *a)
{
	struct agent_steps *as = step_table_agent(a->name);
	struct coord_step *s;

	/* A disconnection does not stop a running step: its result comes in
	 * the next hello, if the agent is back within the step's bound. */
	if (as != NULL)
		TAILQ_FOREACH(s, &as->steps, agent_link)
			step_away_arm(s);
}
