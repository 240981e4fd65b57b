/*
 * coord_step_table.c: the coordinator's steps themselves (coord_step_int.h).
 *
 * Three indexes, none of them scanned per event: steps by id (hash), the
 * unfinished steps of each agent name (so a connecting agent gets its own
 * steps without a scan over all steps), and finished steps oldest first
 * (the oldest are forgotten past STEPS_KEEP_DONE; the store keeps them).
 * Finished steps are bounded in count and in the bytes of their event
 * logs, so many chatty steps cannot add up to STEPS_KEEP_DONE times
 * STEP_LOG_CAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "idmap.h"
#include "log.h"
#include "coord_step_int.h"

struct step_module stepmod = {
	.done = TAILQ_HEAD_INITIALIZER(stepmod.done),
	.keep_done = STEPS_KEEP_DONE,
	.keep_done_bytes = STEPS_KEEP_DONE_BYTES,
	.notify = TAILQ_HEAD_INITIALIZER(stepmod.notify),
	.held = TAILQ_HEAD_INITIALIZER(stepmod.held),
	.acks = TAILQ_HEAD_INITIALIZER(stepmod.acks),
};

static unsigned
step_table_hash(const char *s)
{
	return (unsigned)(idmap_hash(s) % STEPS_BUCKETS);
}

const char *
step_state_name(enum coord_step_state st)
{
	static const char *const names[] = {
		[STEP_WAITING] = "waiting", [STEP_DISPATCHED] = "dispatched",
		[STEP_RUNNING] = "running", [STEP_DONE] = "done",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

struct coord_step *
steps_find(const char *id)
{
	struct coord_step *s;

	LIST_FOREACH(s, &stepmod.by_id[step_table_hash(id)], hash_link)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static struct agent_steps *
step_table_agent_get(const char *name, int create)
{
	unsigned h = step_table_hash(name);
	struct agent_steps *as;

	LIST_FOREACH(as, &stepmod.by_agent[h], hash_link)
		if (strcmp(as->name, name) == 0)
			return as;
	if (!create)
		return NULL;
	/* one per agent name that ever had a step, freed at shutdown */
	as = calloc(1, sizeof(*as));
	if (as == NULL)
		return NULL;
	snprintf(as->name, sizeof(as->name), "%s", name);
	TAILQ_INIT(&as->steps);
	LIST_INSERT_HEAD(&stepmod.by_agent[h], as, hash_link);
	return as;
}

struct agent_steps *
step_table_agent(const char *name)
{
	return step_table_agent_get(name, 0);
}

struct coord_step *
step_table_of_agent(const struct coord_agent *a, const char *id, char *err,
    size_t errlen)
{
	struct coord_step *s = steps_find(id);

	if (s == NULL) {
		snprintf(err, errlen, "unknown step %s", id);
		return NULL;
	}
	if (strcmp(s->agent, a->name) != 0) {
		snprintf(err, errlen, "step %s belongs to another agent", id);
		return NULL;
	}
	return s;
}

/* Append one event (takes the JSON object; evlog.c counts output past the
 * cap instead of keeping it) and wake the watchers. */
void
step_record(struct coord_step *s, json_t *ev)
{
	if (evlog_append(&s->log, ev) != 0)
		log_warnx("steps", "event not logged step=%s%s reason=\"out of "
		    "memory\"", s->id, s->labels);
}

static void
step_free(struct coord_step *s)
{
	evlog_free(&s->log);
	free(s->cancel_reason);
	json_decref(s->spec);
	json_decref(s->inputs);
	json_decref(s->result);
	json_decref(s->secrets);
	free(s->hold[0]);
	free(s->hold[1]);
	free(s);
}

void
step_table_done(struct coord_step *s)
{
	struct agent_steps *as = step_table_agent_get(s->agent, 0);

	step_away_disarm(s);
	if (as != NULL)
		TAILQ_REMOVE(&as->steps, s, agent_link);
	TAILQ_INSERT_TAIL(&stepmod.done, s, done_link);
	stepmod.done_count++;
	stepmod.done_bytes += s->log.bytes;     /* its log is complete now */
}

void
step_table_evict(void)
{
	struct coord_step *s;

	while ((stepmod.done_count > stepmod.keep_done ||
	    stepmod.done_bytes > stepmod.keep_done_bytes) &&
	    (s = TAILQ_FIRST(&stepmod.done)) != NULL &&
	    s->log.watchers == NULL && !s->notify_pending && !s->held) {
		TAILQ_REMOVE(&stepmod.done, s, done_link);
		stepmod.done_count--;
		stepmod.done_bytes -= s->log.bytes;
		LIST_REMOVE(s, hash_link);
		step_free(s);
	}
}

/* The step's id: the caller's, checked, or a new one. 0, or -1 with err. */
static int
step_id_take(struct coord_step *s, const char *id, char *err, size_t errlen)
{
	if (id == NULL) {
		if (stepmod.boot[0] == '\0') {
			uint32_t r = 0;

			if (getrandom(&r, sizeof(r), 0) != sizeof(r))
				r = (uint32_t)bora_wall_ms();
			snprintf(stepmod.boot, sizeof(stepmod.boot), "%08x", r);
		}
		snprintf(s->id, sizeof(s->id), "step-%s-%llu", stepmod.boot,
		    (unsigned long long)++stepmod.counter);
		return 0;
	}
	if (!bora_step_id_valid(id)) {
		snprintf(err, errlen, "id: expected 1 to %d characters of "
		    "A-Z a-z 0-9 . _ : -", BORA_MAX_STEP_ID);
		return -1;
	}
	if (steps_find(id) != NULL) {
		snprintf(err, errlen, "id: step %s exists already", id);
		return -1;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	return 0;
}

/* The owner's callbacks into the step; its labels are the step's own. */
static void
step_owner_copy(struct coord_step *s, const struct step_owner *owner)
{
	static const struct step_owner none;

	s->owner = owner != NULL ? *owner : none;
	s->owner.exec = NULL;           /* borrowed for the call only */
	s->owner.task = NULL;
}

/* The step's execution and its labels for the log, from owner (see
 * struct step_owner in steps.h). */
static void
step_table_label(struct coord_step *s, const struct step_owner *owner)
{
	char qe[2 * BORA_MAX_STEP_ID + 4], qt[2 * STEP_TASK_MAX + 4];
	char task[STEP_TASK_MAX + 1];
	const char *dot = strchr(s->id, '.');
	int n = 0;

	s->exec[0] = task[0] = '\0';
	if (owner != NULL && owner->exec != NULL)
		snprintf(s->exec, sizeof(s->exec), "%s", owner->exec);
	else if (owner != NULL && owner->on_done != NULL && dot != NULL)
		snprintf(s->exec, sizeof(s->exec), "%.*s", (int)(dot - s->id),
		    s->id);
	if (owner != NULL && owner->task != NULL)
		snprintf(task, sizeof(task), "%s", owner->task);
	s->labels[0] = '\0';
	if (s->exec[0] != '\0')
		n = snprintf(s->labels, sizeof(s->labels), " exec=%s",
		    bora_log_quote(s->exec, qe, sizeof(qe)));
	if (task[0] != '\0' && n >= 0 && (size_t)n < sizeof(s->labels))
		snprintf(s->labels + n, sizeof(s->labels) - (size_t)n,
		    " task=%s", bora_log_quote(task, qt, sizeof(qt)));
}

struct coord_step *
step_table_new(const char *id, const char *agent, const char *kind,
    json_t *spec, json_t *inputs, uint32_t timeout_s,
    const struct step_owner *owner, char *err, size_t errlen)
{
	struct coord_step *s;
	struct agent_steps *as;

	if (!bora_name_valid(agent)) {
		snprintf(err, errlen, "agent: not a valid agent name");
		return NULL;
	}
	if (strlen(kind) == 0 || strlen(kind) > BORA_MAX_KIND) {
		snprintf(err, errlen, "kind: expected 1 to %d characters",
		    BORA_MAX_KIND);
		return NULL;
	}
	if (!json_is_object(spec) || (inputs && !json_is_object(inputs))) {
		snprintf(err, errlen, "spec and inputs must be objects");
		return NULL;
	}
	if (timeout_s < 1 || timeout_s > BORA_MAX_TIMEOUT_S) {
		snprintf(err, errlen, "timeout: expected 1 to %d seconds",
		    BORA_MAX_TIMEOUT_S);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (step_id_take(s, id, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	if ((as = step_table_agent_get(agent, 1)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	s->spec = json_incref(spec);
	s->inputs = inputs ? json_incref(inputs) : NULL;
	s->timeout_s = timeout_s;
	timer_init(&s->away, NULL);     /* coord_step_away.c pops it */
	s->state = STEP_WAITING;
	s->created_ms = bora_wall_ms();
	step_owner_copy(s, owner);
	step_table_label(s, owner);
	evlog_init(&s->log, STEP_LOG_CAP);

	LIST_INSERT_HEAD(&stepmod.by_id[step_table_hash(s->id)], s,
	    hash_link);
	TAILQ_INSERT_HEAD(&as->steps, s, agent_link);
	return s;
}

void
step_set_owner(struct coord_step *s, const struct step_owner *owner)
{
	step_owner_copy(s, owner);
}

struct evlog *
step_log(struct coord_step *s)
{
	return &s->log;
}

const char *
step_id(const struct coord_step *s)
{
	return s->id;
}

json_t *
step_to_json(const struct coord_step *s)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}",
	    "id", s->id, "agent", s->agent, "kind", s->kind,
	    "state", step_state_name(s->state), "timeout", (int)s->timeout_s,
	    "created_ms", (json_int_t)s->created_ms,
	    "output_dropped_bytes", (json_int_t)s->log.dropped_bytes);

	if (o != NULL && s->result != NULL)
		json_object_set(o, "result", s->result);
	return o;
}

json_t *
steps_of_agent_json(const char *agent)
{
	struct agent_steps *as = step_table_agent_get(agent, 0);
	struct coord_step *s;
	json_t *arr = json_array();

	if (as == NULL || arr == NULL)
		return arr;
	TAILQ_FOREACH(s, &as->steps, agent_link)
		if (json_array_append_new(arr, step_to_json(s)) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

void
steps_shutdown(void)
{
	struct coord_step *s;
	struct agent_steps *as;
	size_t i;

	steps_away_shutdown();          /* no deadline of a freed step left */
	for (i = 0; i < STEPS_BUCKETS; i++) {
		while ((s = LIST_FIRST(&stepmod.by_id[i])) != NULL) {
			LIST_REMOVE(s, hash_link);
			step_free(s);
		}
		while ((as = LIST_FIRST(&stepmod.by_agent[i])) != NULL) {
			LIST_REMOVE(as, hash_link);
			free(as);
		}
	}
	/* every step they held is freed */
	TAILQ_INIT(&stepmod.done);
	TAILQ_INIT(&stepmod.notify);
	TAILQ_INIT(&stepmod.held);
	step_durable_clear();
	stepmod.done_count = 0;
	stepmod.done_bytes = 0;
}
