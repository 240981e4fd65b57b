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
#include <sys/queue.h>
#include <sys/random.h>

#include "idmap.h"
#include "log.h"
#include "clock.h"
#include "persist.h"
#include "secrets.h"
#include "steps.h"

#define STEPS_BUCKETS        8192
#define STEPS_KEEP_DONE      10000
#define STEPS_KEEP_DONE_BYTES (256u * 1024 * 1024)  /* their event logs */
#define STEP_LOG_CAP         (8 * 1024 * 1024)   /* event bytes kept per step */
#define STEP_REASON_MAX      256                 /* bytes of a cancel reason */

struct coord_step;

struct agent_steps {               /* unfinished steps of one agent name */
	char name[BORA_MAX_NAME + 1];
	TAILQ_HEAD(, coord_step) steps;    /* the newest first */
	LIST_ENTRY(agent_steps) hash_link;
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
	struct step_owner owner;       /* all NULL: none */
	char *cancel_reason;           /* cancel asked while dispatched; "" for
	                                  none given (sent when the agent is
	                                  back) */

	struct evlog log;              /* cap STEP_LOG_CAP */
	LIST_ENTRY(coord_step) hash_link;     /* in stepmod.by_id */
	TAILQ_ENTRY(coord_step) agent_link;   /* on its agent's, unfinished */
	TAILQ_ENTRY(coord_step) done_link;    /* on stepmod.done, finished */
	TAILQ_ENTRY(coord_step) notify_link;  /* on stepmod.notify */
	int notify_pending;            /* owner not told yet (deferred) */
	uint64_t hold_seq;             /* run waits until this write is durable */
	uint64_t done_seq;             /* the result's write (acks wait for it) */
	TAILQ_ENTRY(coord_step) held_link;    /* on stepmod.held (hold_seq) */
	int held;
	int restored;                  /* rebuilt from the store at start */
	uint64_t out_bytes;            /* output data received (and, when
	                                  restored, what the store had) */
	json_t *secrets;               /* values masked in what is shown
	                                  (secrets.h); NULL: none */
	char *hold[2];                 /* per stream: the end of the last
	                                  chunk that may start a secret */
	size_t hold_len[2];
	uint64_t hold_seq_no[2];       /* the seq of the chunk it came from */
};

/* An ack that waits for its result to be durable. */
struct pending_ack {
	TAILQ_ENTRY(pending_ack) link;
	uint64_t seq;
	char agent[BORA_MAX_NAME + 1];
	char step[BORA_MAX_STEP_ID + 1];
};

LIST_HEAD(step_bucket, coord_step);
LIST_HEAD(agent_bucket, agent_steps);
TAILQ_HEAD(step_queue, coord_step);
TAILQ_HEAD(ack_queue, pending_ack);

/* The module's state: its tables and queues, in one place. */
struct step_module {
	struct step_bucket by_id[STEPS_BUCKETS];
	struct agent_bucket by_agent[STEPS_BUCKETS];
	struct step_queue done;        /* finished steps, oldest first */
	size_t done_count;
	size_t done_bytes;             /* event bytes of the finished steps */
	size_t keep_done;              /* caps of the finished steps kept */
	size_t keep_done_bytes;
	uint64_t counter;              /* of generated ids */
	char boot[9];                  /* random per coordinator start */
	/* While an agent's hello is applied, owners hear of results only
	 * after it (an owner may submit or cancel steps of that agent: not
	 * while its list is walked). */
	int defer_owner;
	struct step_queue notify;
	/* Waiting for durability (persist.h): new steps' runs and results'
	 * acks, each in write order, so steps_release() stops at the first
	 * not durable. */
	struct step_queue held;
	struct ack_queue acks;
	int log_output;                /* log.step_output */
};

static struct step_module stepmod = {
	.done = TAILQ_HEAD_INITIALIZER(stepmod.done),
	.keep_done = STEPS_KEEP_DONE,
	.keep_done_bytes = STEPS_KEEP_DONE_BYTES,
	.notify = TAILQ_HEAD_INITIALIZER(stepmod.notify),
	.held = TAILQ_HEAD_INITIALIZER(stepmod.held),
	.acks = TAILQ_HEAD_INITIALIZER(stepmod.acks),
};

static void step_send_ack(struct coord_agent *a, const char *id);

static int64_t
now_ms(void)
{
	return bora_wall_ms();
}

static unsigned
hash_str(const char *s)
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

	LIST_FOREACH(s, &stepmod.by_id[hash_str(id)], hash_link)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static struct agent_steps *
agent_steps_get(const char *name, int create)
{
	unsigned h = hash_str(name);
	struct agent_steps *as;

	LIST_FOREACH(as, &stepmod.by_agent[h], hash_link)
		if (strcmp(as->name, name) == 0)
			return as;
	if (!create)
		return NULL;
	as = calloc(1, sizeof(*as));
	if (as == NULL)
		return NULL;
	snprintf(as->name, sizeof(as->name), "%s", name);
	TAILQ_INIT(&as->steps);
	LIST_INSERT_HEAD(&stepmod.by_agent[h], as, hash_link);
	return as;
}

static void
agent_steps_unlink(struct coord_step *s)
{
	struct agent_steps *as = agent_steps_get(s->agent, 0);

	if (as == NULL)
		return;
	TAILQ_REMOVE(&as->steps, s, agent_link);
}

/* Append one event (takes the JSON object; evlog.c counts output past the
 * cap instead of keeping it) and wake the watchers. */
static void
step_record(struct coord_step *s, json_t *ev)
{
	if (evlog_append(&s->log, ev) != 0)
		log_warnx("steps", "event not logged step=%s reason=\"out of "
		    "memory\"", s->id);
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

/* Forget the oldest finished steps nobody is watching, past the cap. */
static void
steps_evict_done(void)
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

/* Send run to a connected agent; on failure the step waits for the next
 * connection (the server drops an agent whose queue is full). */
static int
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
		    "time_ms", (json_int_t)now_ms()));
	}
	log_info("steps", "step dispatched step=%s agent=%s kind=%s",
	    s->id, s->agent, s->kind);
	return 0;
}

/* The step's id: the caller's, checked, or a new one. 0, or -1 with err. */
static int
step_id_take(struct coord_step *s, const char *id, char *err, size_t errlen)
{
	if (id == NULL) {
		if (stepmod.boot[0] == '\0') {
			uint32_t r = 0;

			if (getrandom(&r, sizeof(r), 0) != sizeof(r))
				r = (uint32_t)now_ms();
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

/* The execution a step of the engine belongs to: its id up to the first
 * dot (engine.c makes EXEC.TASK.ITEM.ATTEMPT), else none. */
static void
step_exec_id(const struct coord_step *s, char *buf, size_t n)
{
	const char *dot = strchr(s->id, '.');

	buf[0] = '\0';
	if (s->owner.on_done != NULL && dot != NULL &&
	    (size_t)(dot - s->id) < n)
		snprintf(buf, n, "%.*s", (int)(dot - s->id), s->id);
}

/* Queue the step's row ("dispatched"); its run waits until the row is
 * durable (steps_release). */
static void
step_persist(struct coord_step *s)
{
	struct store_step st;
	char exec_id[BORA_MAX_STEP_ID + 1];
	char *spec = json_dumps(s->spec, JSON_COMPACT);
	char *inputs = s->inputs ? json_dumps(s->inputs, JSON_COMPACT) : NULL;

	memset(&st, 0, sizeof(st));
	step_exec_id(s, exec_id, sizeof(exec_id));
	st.id = s->id;
	st.exec_id = exec_id[0] ? exec_id : NULL;
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

/* Send the ack for step id to agent now, or once seq is durable. */
static void
step_ack_when_durable(const char *agent, const char *id, uint64_t seq)
{
	struct coord_agent *a;
	struct pending_ack *pa;

	if (seq <= persist_durable()) {
		if ((a = registry_find(agent)) != NULL && a->welcomed)
			step_send_ack(a, id);
		return;
	}
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

/* A new step in the tables (not dispatched, not persisted). NULL with err
 * when a field is wrong or memory runs out. */
static struct coord_step *
step_new(const char *id, const char *agent, const char *kind, json_t *spec,
    json_t *inputs, uint32_t timeout_s, const struct step_owner *owner,
    char *err, size_t errlen)
{
	struct coord_step *s;
	struct agent_steps *as;
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
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (step_id_take(s, id, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	if ((as = agent_steps_get(agent, 1)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	s->spec = json_incref(spec);
	s->inputs = inputs ? json_incref(inputs) : NULL;
	s->timeout_s = timeout_s;
	s->state = STEP_WAITING;
	s->created_ms = now_ms();
	if (owner != NULL)
		s->owner = *owner;
	evlog_init(&s->log, STEP_LOG_CAP);

	h = hash_str(s->id);
	LIST_INSERT_HEAD(&stepmod.by_id[h], s, hash_link);
	TAILQ_INSERT_HEAD(&as->steps, s, agent_link);
	return s;
}

struct coord_step *
steps_submit(const char *id, const char *agent, const char *kind,
    json_t *spec, json_t *inputs, uint32_t timeout_s,
    const struct step_owner *owner, char *err, size_t errlen)
{
	struct coord_step *s;
	struct coord_agent *a;

	s = step_new(id, agent, kind, spec, inputs, timeout_s, owner, err,
	    errlen);
	if (s == NULL)
		return NULL;
	step_record(s, json_pack("{s:s, s:s, s:s, s:s, s:I}", "event", "queued",
	    "step", s->id, "agent", s->agent, "kind", s->kind,
	    "time_ms", (json_int_t)s->created_ms));
	log_info("steps", "step queued step=%s agent=%s kind=%s timeout=%u",
	    s->id, s->agent, s->kind, timeout_s);
	step_persist(s);
	a = registry_find(agent);
	if (a != NULL && a->welcomed)
		step_dispatch(s, a);
	return s;
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
		s = step_new(st->id, st->agent, st->kind, spec, inputs,
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
	    "time_ms", (json_int_t)now_ms()));
	log_info("steps", "step restored step=%s agent=%s kind=%s state=%s",
	    s->id, s->agent, s->kind, step_state_name(s->state));
	return 0;
}

void
step_set_owner(struct coord_step *s, const struct step_owner *owner)
{
	static const struct step_owner none = { NULL, NULL, NULL };

	s->owner = owner ? *owner : none;
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
	    "output_dropped_bytes", (json_int_t)s->log.dropped_bytes);

	if (o != NULL && s->result != NULL)
		json_object_set(o, "result", s->result);
	return o;
}

json_t *
steps_of_agent_json(const char *agent)
{
	struct agent_steps *as = agent_steps_get(agent, 0);
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
		step_record(s, json_pack("{s:s, s:I, s:I}", "event", "accepted",
		    "pid", (json_int_t)m->pid, "time_ms", (json_int_t)now_ms()));
		log_info("steps", "step started step=%s agent=%s pid=%lld",
		    s->id, a->name, (long long)m->pid);
	}
	return 0;
}

void
steps_set_log_output(int on)
{
	stepmod.log_output = on;
}

/* --log-step-output: each line of an output chunk as one log event (a
 * chunk's unfinished last line is logged as it is). */
static void
step_log_output(const struct coord_step *s, const char *stream,
    const char *data, size_t len)
{
	char line[1024], q[2 * sizeof(line)], exec_id[BORA_MAX_STEP_ID + 1];
	const char *nl;
	size_t n, take;

	step_exec_id(s, exec_id, sizeof(exec_id));
	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		take = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		memcpy(line, data, take);
		line[take] = '\0';
		log_info("steps", "output step=%s%s%s agent=%s stream=%s line=%s",
		    s->id, exec_id[0] ? " exec=" : "", exec_id, s->agent, stream,
		    bora_log_quote(line, q, sizeof(q)));
		n += nl ? 1 : 0;
		data += n;
		len -= n;
	}
}

/* One chunk of output as it is shown: the step's log, the store, the
 * coordinator's log, the owner. */
static void
step_output_show(struct coord_step *s, enum bora_stream stream, uint64_t seq,
    const char *data, size_t len)
{
	step_record(s, json_pack("{s:s, s:s, s:I, s:s%}", "event", "output",
	    "stream", bora_stream_name(stream), "seq", (json_int_t)seq,
	    "data", data, len));
	persist_output(s->id, bora_stream_name(stream), data, len);
	if (stepmod.log_output)
		step_log_output(s, bora_stream_name(stream), data, len);
	if (s->owner.on_output != NULL)
		s->owner.on_output(s->owner.user, s->id,
		    bora_stream_name(stream), data, len);
}

/*
 * A step with secrets: the chunk, after what was held back of the last
 * one, with every secret masked; its end that may be the start of a
 * secret is held back for the next chunk (flush: not held, the stream
 * ended). 0, or -1 when out of memory (the chunk is not shown).
 */
static int
step_output_masked(struct coord_step *s, enum bora_stream stream,
    uint64_t seq, const char *data, size_t len, int flush)
{
	unsigned si = stream == BORA_STREAM_STDERR ? 1 : 0;
	size_t total = s->hold_len[si] + len, hold, mlen;
	char *buf, *masked;

	if ((buf = malloc(total + 1)) == NULL)
		return -1;
	if (s->hold_len[si] > 0)
		memcpy(buf, s->hold[si], s->hold_len[si]);
	if (len > 0)
		memcpy(buf + s->hold_len[si], data, len);
	buf[total] = '\0';
	if (len == 0)
		seq = s->hold_seq_no[si];
	hold = flush ? 0 : secrets_tail_hold(s->secrets, buf, total);
	free(s->hold[si]);
	s->hold[si] = NULL;
	s->hold_len[si] = 0;
	if (hold > 0) {
		if ((s->hold[si] = malloc(hold)) == NULL) {
			free(buf);
			return -1;
		}
		memcpy(s->hold[si], buf + total - hold, hold);
		s->hold_len[si] = hold;
		s->hold_seq_no[si] = seq;
	}
	total -= hold;
	if (total == 0) {
		free(buf);
		return 0;
	}
	masked = secrets_mask_mem(s->secrets, buf, total, &mlen);
	if (masked == NULL && secrets_contains(s->secrets, buf, total)) {
		free(buf);
		return -1;
	}
	if (masked != NULL)
		step_output_show(s, stream, seq, masked, mlen);
	else
		step_output_show(s, stream, seq, buf, total);
	free(masked);
	free(buf);
	return 0;
}

void
step_set_secrets(struct coord_step *s, const json_t *set)
{
	size_t i;
	json_t *v;

	if (set == NULL || json_array_size(set) == 0)
		return;
	if (s->secrets == NULL && (s->secrets = json_array()) == NULL)
		return;
	json_array_foreach(set, i, v)
		if (json_is_string(v) && json_string_length(v) > 0)
			(void)json_array_append(s->secrets, v);
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
	s->out_bytes += m->data_len;
	if (s->secrets != NULL)
		return step_output_masked(s, m->stream, m->seq, m->data,
		    m->data_len, 0);
	step_output_show(s, m->stream, m->seq, m->data, m->data_len);
	return 0;
}

static void
step_send_ack(struct coord_agent *a, const char *id)
{
	struct bora_msg m = { .type = BORA_MSG_ACK };

	m.u.ack.step = id;
	(void)agent_send(a, &m);   /* not sent: the agent resends its result */
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
	char *text = json_dumps(res, JSON_COMPACT);
	uint64_t seq;

	s->done_seq = persist_step_done(s->id, text ? text : "{}",
	    json_integer_value(json_object_get(res, "finished_ms")));
	seq = s->done_seq;
	free(text);
	s->state = STEP_DONE;
	s->result = res;
	free(s->cancel_reason);
	s->cancel_reason = NULL;
	agent_steps_unlink(s);
	TAILQ_INSERT_TAIL(&stepmod.done, s, done_link);
	stepmod.done_count++;
	step_record(s, json_pack("{s:s, s:O}", "event", "result", "result",
	    res));
	evlog_close(&s->log);
	stepmod.done_bytes += s->log.bytes;     /* its log is complete now */
	if (owner.on_done != NULL && stepmod.defer_owner) {
		s->notify_pending = 1;
		TAILQ_INSERT_TAIL(&stepmod.notify, s, notify_link);
	} else if (owner.on_done != NULL)
		owner.on_done(owner.user, s->id, res);
	steps_evict_done();     /* may free s */
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
	steps_evict_done();
}

/*
 * A step rebuilt after a restart: output it streamed to the coordinator
 * before the restart, in the last turn that was not committed, is gone,
 * and the agent does not send output twice. When the bytes stored and
 * received fall short of what the result says the step wrote, store its
 * kept end (deploy_stdout, deploy_stderr) after a line that says so.
 */
static void
step_fill_lost_output(struct coord_step *s, const struct bora_result *m,
    const json_t *res)
{
	static const char *const streams[] = { "stdout", "stderr" };
	const json_t *outs = json_object_get(res, "outputs"), *v;
	uint64_t wrote = m->stdout_bytes + m->stderr_bytes;
	char note[256];
	size_t i;

	if (s->out_bytes >= wrote)
		return;
	for (i = 0; i < 2; i++) {
		char key[32];

		snprintf(key, sizeof(key), "deploy_%s", streams[i]);
		v = json_object_get(outs, key);
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		snprintf(note, sizeof(note), "[bora: the coordinator restarted "
		    "while this step ran; %llu bytes of its output were not "
		    "received; the end of its %s follows]\n",
		    (unsigned long long)(wrote - s->out_bytes), streams[i]);
		persist_output(s->id, streams[i], note, strlen(note));
		persist_output(s->id, streams[i], json_string_value(v),
		    json_string_length(v));
	}
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
	if ((s = step_of_agent(a, m->step, err, errlen)) == NULL)
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
		if (s->hold_len[0] > 0)
			(void)step_output_masked(s, BORA_STREAM_STDOUT, 0, NULL,
			    0, 1);
		if (s->hold_len[1] > 0)
			(void)step_output_masked(s, BORA_STREAM_STDERR, 0, NULL,
			    0, 1);
	}
	if (res == NULL) {
		snprintf(err, errlen, "result cannot be stored");
		return -1;
	}
	if (m->has_exit_code)
		log_info("steps", "step finished step=%s agent=%s status=%s "
		    "exit=%d duration_ms=%lld", s->id, a->name,
		    bora_status_name(m->status), m->exit_code,
		    (long long)(m->finished_ms - m->started_ms));
	else
		log_info("steps", "step finished step=%s agent=%s status=%s "
		    "signal=%d", s->id, a->name, bora_status_name(m->status),
		    m->signal);
	if (s->restored)
		step_fill_lost_output(s, m, res);
	snprintf(id, sizeof(id), "%s", s->id);
	step_ack_when_durable(a->name, id, step_finish(s, res));
	return 0;
}

/* A cancelled step that its agent does not run: finished here. */
static void
step_cancel_local(struct coord_step *s, const char *reason)
{
	char text[STEP_REASON_MAX + BORA_MAX_NAME + 64];
	json_t *res;
	int64_t t = now_ms();

	snprintf(text, sizeof(text), "cancelled%s%.*s; agent %s was not "
	    "running it", reason && *reason ? ": " : "", STEP_REASON_MAX,
	    reason ? reason : "", s->agent);
	res = json_pack("{s:s, s:s, s:s, s:I, s:I}", "step", s->id,
	    "status", "cancelled", "error", text, "started_ms", (json_int_t)t,
	    "finished_ms", (json_int_t)t);
	if (res == NULL) {
		log_warnx("steps", "cannot cancel step=%s reason=\"out of "
		    "memory\"", s->id);
		return;
	}
	log_info("steps", "step finished step=%s agent=%s status=cancelled "
	    "where=coordinator", s->id, s->agent);
	step_finish(s, res);
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
	log_info("steps", "step cancel sent step=%s agent=%s", s->id, a->name);
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
		log_warnx("steps", "cannot cancel step=%s reason=\"out of "
		    "memory\"", s->id);
		return;
	}
	memcpy(s->cancel_reason, reason ? reason : "", n);
	s->cancel_reason[n] = '\0';
	a = registry_find(s->agent);
	if (a != NULL && a->welcomed)
		step_send_cancel(s, a);
	else
		log_info("steps", "step cancel waits for its agent step=%s "
		    "agent=%s", s->id, s->agent);
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

	stepmod.defer_owner = 1;
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
	/* A disconnection does not stop a running step: its result comes in
	 * the next hello. Nothing to undo here yet. */
	(void)a;
}

void
steps_shutdown(void)
{
	struct coord_step *s;
	struct agent_steps *as;
	struct pending_ack *pa;
	size_t i;

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
	TAILQ_INIT(&stepmod.done);
	TAILQ_INIT(&stepmod.notify);
	TAILQ_INIT(&stepmod.held);
	while ((pa = TAILQ_FIRST(&stepmod.acks)) != NULL) {
		TAILQ_REMOVE(&stepmod.acks, pa, link);
		free(pa);
	}
	stepmod.done_count = 0;
	stepmod.done_bytes = 0;
}
