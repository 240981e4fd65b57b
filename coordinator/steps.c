/*
 * steps.c: the coordinator's steps, their event logs and watchers.
 *
 * Three indexes, none of them scanned per event: steps by id (hash), the
 * unfinished steps of each agent name (so a connecting agent gets its own
 * steps without a scan over all steps), and finished steps oldest first
 * (the oldest are forgotten past STEPS_KEEP_DONE; the store keeps them for
 * good in a later issue). Finished steps are bounded in count and in the
 * bytes of their event logs, so many chatty steps cannot add up to
 * STEPS_KEEP_DONE times STEP_LOG_CAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "log.h"
#include "steps.h"

#define STEPS_BUCKETS        8192
#define STEPS_KEEP_DONE      10000
#define STEPS_KEEP_DONE_BYTES (256u * 1024 * 1024)  /* their event logs */
#define STEP_LOG_CAP         (8 * 1024 * 1024)   /* event bytes kept per step */

struct step_event {
	char *line;
	size_t len;
};

struct agent_steps {               /* unfinished steps of one agent name */
	char name[BORA_MAX_NAME + 1];
	struct coord_step *head;
	struct agent_steps *hash_next;
};

struct coord_step {
	char id[BORA_MAX_STEP_ID + 1];
	char agent[BORA_MAX_NAME + 1];
	char kind[BORA_MAX_KIND + 1];
	json_t *spec;
	json_t *inputs;                /* may be NULL */
	uint32_t timeout_s;
	enum coord_step_state state;
	json_t *result;                /* once STEP_DONE */
	int64_t created_ms;

	struct step_event *events;
	size_t n_events, cap_events, event_bytes;
	uint64_t dropped_bytes;        /* output past STEP_LOG_CAP */

	struct step_watcher *watchers;
	struct coord_step *hash_next;
	struct coord_step *agent_next, *agent_prev;
	struct coord_step *done_next;
};

static struct coord_step *steps_table[STEPS_BUCKETS];
static struct agent_steps *agents_table[STEPS_BUCKETS];
static struct coord_step *done_head, *done_tail;
static size_t done_count;
static size_t done_bytes;          /* event bytes of the finished steps */
static uint64_t steps_counter;
static char steps_boot[9];         /* random per coordinator start */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned
hash_str(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % STEPS_BUCKETS;
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

	for (s = steps_table[hash_str(id)]; s; s = s->hash_next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static struct agent_steps *
agent_steps_get(const char *name, int create)
{
	unsigned h = hash_str(name);
	struct agent_steps *as;

	for (as = agents_table[h]; as; as = as->hash_next)
		if (strcmp(as->name, name) == 0)
			return as;
	if (!create)
		return NULL;
	as = calloc(1, sizeof(*as));
	if (as == NULL)
		return NULL;
	snprintf(as->name, sizeof(as->name), "%s", name);
	as->hash_next = agents_table[h];
	agents_table[h] = as;
	return as;
}

static void
agent_steps_unlink(struct coord_step *s)
{
	struct agent_steps *as = agent_steps_get(s->agent, 0);

	if (as == NULL)
		return;
	if (s->agent_prev)
		s->agent_prev->agent_next = s->agent_next;
	else if (as->head == s)
		as->head = s->agent_next;
	if (s->agent_next)
		s->agent_next->agent_prev = s->agent_prev;
	s->agent_next = s->agent_prev = NULL;
}

/* Append one event (takes the JSON object) and wake the watchers. Output
 * past the cap is counted instead; every other event is always kept. */
static void
step_log(struct coord_step *s, json_t *ev, int is_output, size_t out_bytes)
{
	struct step_watcher *w, *next;
	struct step_event *grown;
	char *line;

	if (is_output && s->event_bytes + out_bytes > STEP_LOG_CAP) {
		s->dropped_bytes += out_bytes;
		json_decref(ev);
		return;
	}
	line = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (line == NULL)
		return;
	if (s->n_events == s->cap_events) {
		size_t cap = s->cap_events ? s->cap_events * 2 : 8;

		grown = realloc(s->events, cap * sizeof(*grown));
		if (grown == NULL) {
			free(line);
			return;
		}
		s->events = grown;
		s->cap_events = cap;
	}
	s->events[s->n_events].line = line;
	s->events[s->n_events].len = strlen(line);
	s->event_bytes += s->events[s->n_events].len;
	s->n_events++;
	for (w = s->watchers; w; w = next) {
		next = w->next;
		w->notify(w);
	}
}

static void
step_free(struct coord_step *s)
{
	size_t i;

	while (s->watchers)
		step_unwatch(s->watchers);
	for (i = 0; i < s->n_events; i++)
		free(s->events[i].line);
	free(s->events);
	json_decref(s->spec);
	json_decref(s->inputs);
	json_decref(s->result);
	free(s);
}

static void
steps_table_remove(struct coord_step *s)
{
	struct coord_step **pp;

	for (pp = &steps_table[hash_str(s->id)]; *pp; pp = &(*pp)->hash_next)
		if (*pp == s) {
			*pp = s->hash_next;
			return;
		}
}

/* Forget the oldest finished steps nobody is watching, past the cap. */
static void
steps_evict_done(void)
{
	struct coord_step *s;

	while ((done_count > STEPS_KEEP_DONE ||
	    done_bytes > STEPS_KEEP_DONE_BYTES) && done_head &&
	    done_head->watchers == NULL) {
		s = done_head;
		done_head = s->done_next;
		if (done_head == NULL)
			done_tail = NULL;
		done_count--;
		done_bytes -= s->event_bytes;
		steps_table_remove(s);
		step_free(s);
	}
}

/* Send run to a connected agent; on failure the step waits for the next
 * connection (the server drops an agent whose queue is full). */
static int
step_dispatch(struct coord_step *s, struct coord_agent *a)
{
	struct bora_msg m = { .type = BORA_MSG_RUN };

	m.u.run.step = s->id;
	m.u.run.kind = s->kind;
	m.u.run.spec = s->spec;
	m.u.run.inputs = s->inputs;
	m.u.run.timeout_s = s->timeout_s;
	if (agent_send(a, &m) != 0) {
		lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return -1;
	}
	if (s->state == STEP_WAITING) {
		s->state = STEP_DISPATCHED;
		step_log(s, json_pack("{s:s, s:I}", "event", "dispatched",
		    "time_ms", (json_int_t)now_ms()), 0, 0);
	}
	log_info("steps", "step dispatched step=%s agent=%s kind=%s",
	    s->id, s->agent, s->kind);
	return 0;
}

struct coord_step *
steps_submit(const char *agent, const char *kind, json_t *spec, json_t *inputs,
    uint32_t timeout_s, char *err, size_t errlen)
{
	struct coord_step *s;
	struct agent_steps *as;
	struct coord_agent *a;
	unsigned h;

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
	if (steps_boot[0] == '\0') {
		uint32_t r = 0;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)now_ms();
		snprintf(steps_boot, sizeof(steps_boot), "%08x", r);
	}
	as = agent_steps_get(agent, 1);
	s = calloc(1, sizeof(*s));
	if (s == NULL || as == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->id, sizeof(s->id), "step-%s-%llu", steps_boot,
	    (unsigned long long)++steps_counter);
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	s->spec = json_incref(spec);
	s->inputs = inputs ? json_incref(inputs) : NULL;
	s->timeout_s = timeout_s;
	s->state = STEP_WAITING;
	s->created_ms = now_ms();

	h = hash_str(s->id);
	s->hash_next = steps_table[h];
	steps_table[h] = s;
	s->agent_next = as->head;
	if (as->head)
		as->head->agent_prev = s;
	as->head = s;

	step_log(s, json_pack("{s:s, s:s, s:s, s:s, s:I}", "event", "queued",
	    "step", s->id, "agent", s->agent, "kind", s->kind,
	    "time_ms", (json_int_t)s->created_ms), 0, 0);
	log_info("steps", "step queued step=%s agent=%s kind=%s timeout=%u",
	    s->id, s->agent, s->kind, timeout_s);
	a = registry_find(agent);
	if (a != NULL && a->welcomed)
		step_dispatch(s, a);
	return s;
}

const char *
step_id(const struct coord_step *s)
{
	return s->id;
}

enum coord_step_state
step_state(const struct coord_step *s)
{
	return s->state;
}

json_t *
step_to_json(const struct coord_step *s)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}",
	    "id", s->id, "agent", s->agent, "kind", s->kind,
	    "state", step_state_name(s->state), "timeout", (int)s->timeout_s,
	    "created_ms", (json_int_t)s->created_ms,
	    "output_dropped_bytes", (json_int_t)s->dropped_bytes);

	if (o != NULL && s->result != NULL)
		json_object_set(o, "result", s->result);
	return o;
}

size_t
step_event_count(const struct coord_step *s)
{
	return s->n_events;
}

const char *
step_event(const struct coord_step *s, size_t i, size_t *len)
{
	if (i >= s->n_events)
		return NULL;
	if (len)
		*len = s->events[i].len;
	return s->events[i].line;
}

void
step_watch(struct coord_step *s, struct step_watcher *w)
{
	w->step = s;
	w->prev = NULL;
	w->next = s->watchers;
	if (s->watchers)
		s->watchers->prev = w;
	s->watchers = w;
}

void
step_unwatch(struct step_watcher *w)
{
	struct coord_step *s = w->step;

	if (s == NULL)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		s->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->step = NULL;
}

/* The step must exist and belong to the agent that speaks of it. */
static struct coord_step *
step_of_agent(struct coord_agent *a, const char *id, char *err, size_t errlen)
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

int
steps_on_accept(struct coord_agent *a, const struct bora_accept *m, char *err,
    size_t errlen)
{
	struct coord_step *s = step_of_agent(a, m->step, err, errlen);

	if (s == NULL)
		return -1;
	if (s->state == STEP_DONE)
		return 0;              /* a late duplicate: nothing changes */
	if (s->state != STEP_RUNNING) {
		s->state = STEP_RUNNING;
		step_log(s, json_pack("{s:s, s:I, s:I}", "event", "accepted",
		    "pid", (json_int_t)m->pid, "time_ms", (json_int_t)now_ms()),
		    0, 0);
		log_info("steps", "step started step=%s agent=%s pid=%lld",
		    s->id, a->name, (long long)m->pid);
	}
	return 0;
}

int
steps_on_output(struct coord_agent *a, const struct bora_output *m, char *err,
    size_t errlen)
{
	struct coord_step *s = step_of_agent(a, m->step, err, errlen);

	if (s == NULL)
		return -1;
	if (s->state == STEP_DONE)
		return 0;
	step_log(s, json_pack("{s:s, s:s, s:I, s:s%}", "event", "output",
	    "stream", bora_stream_name(m->stream), "seq", (json_int_t)m->seq,
	    "data", m->data, m->data_len), 1, m->data_len);
	return 0;
}

static void
step_send_ack(struct coord_agent *a, const char *id)
{
	struct bora_msg m = { .type = BORA_MSG_ACK };

	m.u.ack.step = id;
	if (agent_send(a, &m) != 0)
		lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int
steps_on_result(struct coord_agent *a, const struct bora_result *m, char *err,
    size_t errlen)
{
	struct coord_step *s = step_of_agent(a, m->step, err, errlen);
	json_t *res;

	if (s == NULL)
		return -1;
	if (s->state == STEP_DONE) {   /* applied once: a resend is only acked */
		step_send_ack(a, s->id);
		return 0;
	}
	res = bora_result_to_json(m);
	if (res == NULL) {
		snprintf(err, errlen, "result cannot be stored");
		return -1;
	}
	s->state = STEP_DONE;
	s->result = res;
	agent_steps_unlink(s);
	if (done_tail)
		done_tail->done_next = s;
	else
		done_head = s;
	done_tail = s;
	done_count++;

	if (m->has_exit_code)
		log_info("steps", "step finished step=%s agent=%s status=%s "
		    "exit=%d duration_ms=%lld", s->id, a->name,
		    bora_status_name(m->status), m->exit_code,
		    (long long)(m->finished_ms - m->started_ms));
	else
		log_info("steps", "step finished step=%s agent=%s status=%s "
		    "signal=%d", s->id, a->name, bora_status_name(m->status),
		    m->signal);
	step_send_ack(a, s->id);
	step_log(s, json_pack("{s:s, s:O}", "event", "result", "result", res),
	    0, 0);
	done_bytes += s->event_bytes;   /* its log is complete now */
	steps_evict_done();
	return 0;
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

	/* Results the agent kept for us while it was away, oldest first. */
	json_array_foreach(h->results, i, v) {
		snprintf(path, sizeof(path), "results[%zu]", i);
		if (bora_result_from_json(v, path, &res, &verr) != 0)
			continue;      /* the codec validated them already */
		if (steps_on_result(a, &res, err, sizeof(err)) != 0)
			log_warnx("steps", "refused stored result agent=%s "
			    "step=%s reason=\"%s\"", a->name, res.step, err);
	}
	as = agent_steps_get(a->name, 0);
	if (as == NULL)
		return;
	for (s = as->head; s; s = next) {
		next = s->agent_next;
		if (s->state == STEP_RUNNING || s->state == STEP_DISPATCHED) {
			if (h->running && json_array_has_string(h->running, s->id)) {
				s->state = STEP_RUNNING;
				continue;
			}
			/* The run may have been lost on the way: send it again;
			 * the agent decides by step id (it never starts a step
			 * twice). */
		}
		if (step_dispatch(s, a) != 0)
			break;
	}
}

void
steps_on_agent_gone(struct coord_agent *a)
{
	/* A disconnection does not stop a running step: its result comes in
	 * the next hello. Nothing to undo here yet. */
	(void)a;
}

void
steps_shutdown(void)
{
	struct coord_step *s, *next;
	struct agent_steps *as, *asnext;
	size_t i;

	for (i = 0; i < STEPS_BUCKETS; i++) {
		for (s = steps_table[i]; s; s = next) {
			next = s->hash_next;
			step_free(s);
		}
		steps_table[i] = NULL;
		for (as = agents_table[i]; as; as = asnext) {
			asnext = as->hash_next;
			free(as);
		}
		agents_table[i] = NULL;
	}
	done_head = done_tail = NULL;
	done_count = 0;
	done_bytes = 0;
}
