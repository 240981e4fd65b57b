/*
 * coord_step_int.h: what the files of the steps module (steps.h) share; not for
 * other modules.
 *
 *   coord_step_table.c     the step itself, its id, the table by id, the
 *                    unfinished steps of each agent, the finished steps
 *                    and their eviction, the accessors of steps.h
 *   coord_step_durable.c   the store's rows of steps, runs and acks held until
 *                    their write is durable (steps_release), restore
 *   coord_step_output.c    output chunks: masking secrets across chunks, the
 *                    store, the coordinator's log, the owner; lost output
 *                    filled in after a restart
 *   coord_step_protocol.c  what agents and submitters do to steps: submit, run,
 *                    accept, result, ack, cancel, welcome, gone
 *   coord_step_away.c      a step whose agent stays away past its bound is
 *                    lost (a deadline per step in one timer heap)
 *
 * All of the module's state is the one struct step_module (stepmod).
 */
#ifndef BORA_COORD_STEP_INT_H
#define BORA_COORD_STEP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "evlog.h"
#include "msg.h"
#include "registry.h"
#include "steps.h"
#include "timerheap.h"

#define STEPS_BUCKETS        8192
#define STEPS_KEEP_DONE      10000
#define STEPS_KEEP_DONE_BYTES (256u * 1024 * 1024)  /* their event logs */
#define STEP_LOG_CAP         (8 * 1024 * 1024)   /* event bytes kept per step */
#define STEP_REASON_MAX      256                 /* bytes of a cancel reason */
/* " exec=EXEC task=TASK", each value quoted for a log line when it must */
#define STEP_LABELS_MAX      (2 * (BORA_MAX_STEP_ID + STEP_TASK_MAX) + 16)
/* An agent away longer than a step's timeout plus this many heartbeats
 * has lost the step (coord_step_away.c). */
#define STEP_AWAY_HEARTBEATS 3

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
	struct step_owner owner;       /* all NULL: none; its exec and task
	                                  always NULL (copied below) */
	char exec[BORA_MAX_STEP_ID + 1];  /* its execution, "" for none */
	char labels[STEP_LABELS_MAX];  /* " exec=E task=T" after step= in
	                                  its log lines, "" for none */
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
	struct timer away;             /* its agent is away: when the step is
	                                  lost (coord_step_away.c) */
	uint32_t agent_timeout_s;      /* its bound; 0: the default */
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

/* The module's state: its tables and queues, in one place (coord_step_table.c
 * defines it). */
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

extern struct step_module stepmod;

/* coord_step_table.c */
/* A new step in the tables, waiting (not dispatched, not persisted): takes
 * new references to spec and inputs, copies owner. NULL with err when a
 * field is wrong or memory runs out. */
struct coord_step *step_table_new(const char *id, const char *agent,
    const char *kind, json_t *spec, json_t *inputs, uint32_t timeout_s,
    const struct step_owner *owner, char *err, size_t errlen);
/* The unfinished steps of an agent name, or NULL when it never had any. */
struct agent_steps *step_table_agent(const char *name);
/* Step id, which must exist and belong to agent a; NULL with err. */
struct coord_step *step_table_of_agent(const struct coord_agent *a,
    const char *id, char *err, size_t errlen);
/* s is finished and its log closed: off its agent's list, last among the
 * finished steps (counted with its log's bytes). */
void step_table_done(struct coord_step *s);
/* Forget the oldest finished steps past the caps, while the oldest is not
 * watched, nor waiting for its owner to be told or its write to be
 * durable. May free any finished step. */
void step_table_evict(void);
/* Append one event to the step's log (ev taken). */
void step_record(struct coord_step *s, json_t *ev);

/* coord_step_durable.c */
/* Queue the step's row ("dispatched"); its run waits until the row is
 * durable (steps_release). */
void step_durable_put(struct coord_step *s);
/* Queue "running" in the step's row (its agent accepted it). */
void step_durable_running(struct coord_step *s);
/* Queue the step's result res (borrowed) in its row; sets and returns
 * s->done_seq, the write its ack waits for. */
uint64_t step_durable_done(struct coord_step *s, const json_t *res);
/* Send the ack for step id to agent now, or once seq is durable. */
void step_ack_when_durable(const char *agent, const char *id, uint64_t seq);
/* The ack now (not sent: the agent sends its result again). */
void step_send_ack(struct coord_agent *a, const char *id);
/* Free the acks still waiting (steps_shutdown). */
void step_durable_clear(void);

/* coord_step_output.c */
/* The result came: show what was held back of the output for a secret
 * that a later chunk might have completed. */
void step_output_flush(struct coord_step *s);
/* A restored step's result m (res as it is kept): store the end of the
 * output that was lost in the restart, when the result says some was. */
void step_output_fill_lost(struct coord_step *s, const struct bora_result *m,
    const json_t *res);

/* coord_step_protocol.c */
/* Send run to a connected agent (a held step's later, by steps_release).
 * 0, or -1 when it cannot go now: the step waits for the next
 * connection. */
int step_dispatch(struct coord_step *s, struct coord_agent *a);
/* Finish the unfinished s here, with a result of status ("cancelled",
 * "lost") and the sentence text (both borrowed): as if its agent had sent
 * it. May free s. */
void step_finish_here(struct coord_step *s, const char *status,
    const char *text);

/* coord_step_away.c */
/* Its agent is gone: the dispatched or running s is lost if the agent is
 * not back within step_away_bound_s(s). */
void step_away_arm(struct coord_step *s);
/* Its agent is back, or s is finished: no deadline. */
void step_away_disarm(struct coord_step *s);
/* Its agent_timeout_s, or its timeout plus STEP_AWAY_HEARTBEATS
 * heartbeats, seconds. */
uint32_t step_away_bound_s(const struct coord_step *s);

#endif
