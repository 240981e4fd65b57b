/*
 * coord_step_durable.c: steps in the store (persist.h) and what waits for it
 * (coord_step_int.h).
 *
 * A new step's row is queued when it is submitted; its run is held until
 * that write is durable, so a step the agent runs is never one the store
 * could forget. A result's ack is held until the result's write is
 * durable, so the agent forgets no result the store could lose. Both wait
 * in write order (stepmod.held, stepmod.acks), and steps_release(), the
 * persist_on_turn() hook, lets out each queue's front up to the first
 * write not durable yet. At start, steps_restore() rebuilds the
 * unfinished steps from their rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "persist.h"
#include "coord_step_int.h"

void
step_durable_put(struct coord_step *s)
{
	struct store_step st;
	char *spec = json_dumps(s->spec, JSON_COMPACT);
	char *inputs = s->inputs ? json_dumps(s->inputs, JSON_COMPACT) : NULL;

	memset(&st, 0, sizeof(st));
	st.id = s->id;
	st.exec_id = s->exec[0] ? s->exec : NULL;
	st.agent = s->agent;
	st.kind = s->kind;
	st.state = STORE_STEP_DISPATCHED;
	st.spec = spec ? spec : "{}";
	st.inputs = inputs;
	st.timeout_s = s->timeout_s;
	st.dispatched_ms = s->created_ms;
	s->hold_seq = persist_put_step(&st);
	free(spec);
	free(inputs);
	if (s->hold_seq > persist_durable()) {
		s->held = 1;
		TAILQ_INSERT_TAIL(&stepmod.held, s, held_link);
	}
}

void
step_durable_running(struct coord_step *s)
{
	persist_step_running(s->id);
}

uint64_t
step_durable_done(struct coord_step *s, const json_t *res)
{
	char *text = json_dumps(res, JSON_COMPACT);

	s->done_seq = persist_step_done(s->id, text ? text : "{}",
	    json_integer_value(json_object_get(res, "finished_ms")));
	free(text);
	return s->done_seq;
}

void
step_send_ack(struct coord_agent *a, const char *id)
{
	struct bora_msg m = { .type = BORA_MSG_ACK };

	m.u.ack.step = id;
	(void)agent_send(a, &m);   /* not sent: the agent resends its result */
}

void
step_ack_when_durable(const char *agent, const char *id, uint64_t seq)
{
	struct coord_agent *a;
	struct pending_ack *pa;

	if (seq <= persist_durable()) {
		if ((a = registry_find(agent)) != NULL && a->welcomed)
			step_send_ack(a, id);
		return;
	}
	/* freed by steps_release once sent, or by step_durable_clear */
	if ((pa = calloc(1, sizeof(*pa))) == NULL) {
		/* not acked: the agent sends the result again */
		log_warnx("steps", "ack dropped step=%s reason=\"out of "
		    "memory\"", id);
		return;
	}
	pa->seq = seq;
	snprintf(pa->agent, sizeof(pa->agent), "%s", agent);
	snprintf(pa->step, sizeof(pa->step), "%s", id);
	TAILQ_INSERT_TAIL(&stepmod.acks, pa, link);
}

void
steps_release(uint64_t durable, void *user)
{
	struct coord_step *s;
	struct coord_agent *a;
	struct pending_ack *pa;

	(void)user;
	while ((s = TAILQ_FIRST(&stepmod.held)) != NULL &&
	    s->hold_seq <= durable) {
		TAILQ_REMOVE(&stepmod.held, s, held_link);
		s->held = 0;
		if (s->state == STEP_WAITING && (a = registry_find(s->agent)) !=
		    NULL && a->welcomed)
			step_dispatch(s, a);
	}
	while ((pa = TAILQ_FIRST(&stepmod.acks)) != NULL &&
	    pa->seq <= durable) {
		TAILQ_REMOVE(&stepmod.acks, pa, link);
		/* an agent gone meanwhile sends the result again: acked then */
		if ((a = registry_find(pa->agent)) != NULL && a->welcomed)
			step_send_ack(a, pa->step);
		free(pa);
	}
}

int
steps_restore(const struct store_step *st, const struct step_owner *owner,
    char *err, size_t errlen)
{
	struct coord_step *s;
	json_t *spec, *inputs = NULL;

	spec = json_loads(st->spec, 0, NULL);
	if (st->inputs != NULL)
		inputs = json_loads(st->inputs, 0, NULL);
	if (spec == NULL || (st->inputs != NULL && inputs == NULL)) {
		snprintf(err, errlen, "its stored spec or inputs do not parse");
		s = NULL;
	} else
		s = step_table_new(st->id, st->agent, st->kind, spec, inputs,
		    st->timeout_s ? st->timeout_s : BORA_MAX_TIMEOUT_S, owner,
		    err, errlen);
	json_decref(spec);
	json_decref(inputs);
	if (s == NULL)
		return -1;
	/* the run went out before the restart, or not: the agent is sent
	 * it again when it connects, and its journal decides */
	s->state = st->state == STORE_STEP_RUNNING ? STEP_RUNNING :
	    STEP_DISPATCHED;
	s->restored = 1;
	s->out_bytes = st->output_kept + st->output_dropped;
	s->created_ms = st->dispatched_ms;
	step_record(s, json_pack("{s:s, s:s, s:s, s:s, s:I}", "event",
	    "restored", "step", s->id, "agent", s->agent, "kind", s->kind,
	    "time_ms", (json_int_t)bora_wall_ms()));
	log_info("steps", "step restored step=%s%s agent=%s kind=%s state=%s",
	    s->id, s->labels, s->agent, s->kind, step_state_name(s->state));
	step_away_arm(s);       /* its agent is not here yet */
	return 0;
}

void
step_durable_clear(void)
{
	struct pending_ack *pa;

	while ((pa = TAILQ_FIRST(&stepmod.acks)) != NULL) {
		TAILQ_REMOVE(&stepmod.acks, pa, link);
		free(pa);
	}
}
