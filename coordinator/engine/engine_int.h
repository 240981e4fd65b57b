/*
 * engine_int.h: what the engine's files share (engine.c: executions and
 * the work queue; engine_task.c: a task's life and transitions;
 * engine_action.c: actions on agents and on the coordinator; engine_eval.c:
 * expressions in the scope of a task). Not for other modules.
 */
#ifndef BORA_COORD_ENGINE_INT_H
#define BORA_COORD_ENGINE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "engine.h"
#include "evlog.h"
#include "secrets.h"
#include "idmap.h"
#include "timerheap.h"

#define ENGINE_INFO_MAX 512     /* bytes of a state_info sentence */
#define ENGINE_LOST_RERUNS 3   /* safe-rerun without retry: runs of a lost
                                  step after the first */
#define ENGINE_LOG_CAP  (8 * 1024 * 1024)  /* output kept per execution log */

enum xstate { X_IDLE, X_RUNNING, X_PAUSED, X_SUCCESS, X_ERROR, X_CANCELLED };
enum tstate {
	T_IDLE, T_WAITING, T_RUNNING, T_RUNNING_DELAYED, T_PAUSED,
	T_SUCCESS, T_ERROR, T_CANCELLED
};
enum astate { A_PENDING, A_RUNNING, A_DELAYED, A_SUCCESS, A_ERROR,
	A_CANCELLED };
enum akind { AK_NOOP, AK_ECHO, AK_FAIL, AK_SLEEP, AK_WAIT_AGENTS, AK_STEP,
	AK_WORKFLOW };

struct engine_exec;
struct engine_task;

/* One run of an action: an item of with-items on one target. */
struct engine_action {
	struct engine_task *t;
	size_t index;               /* in t->acts: item-major, then target */
	json_t *vars;               /* with-items variables (object) or NULL */
	char *agent;                /* target agent, or NULL */
	enum astate state;
	unsigned attempt;           /* 1 for the first */
	char step_id[ENGINE_ID_MAX * 2];  /* of the attempt on an agent */
	int step_live;              /* step_id is in the engine's step map */
	json_t *result;             /* the last attempt's result */
	int ok;                     /* the last attempt succeeded */
	int retry_due;              /* its delay ended while paused */
	struct timer timer;         /* std.sleep, retry delay, wait timeout */
	struct engine_exec *child;  /* sub-workflow execution, while it runs */
	char child_id[ENGINE_ID_MAX];  /* its id, kept after (logs, API) */
	json_t *wait_spec;          /* bora.wait_agents: its evaluated input */
	TAILQ_ENTRY(engine_action) wait_link;  /* on the engine's waiting list */
	int waiting;
	int dirty;                  /* on x->dirty_actions (engine_persist.c) */
	TAILQ_ENTRY(engine_action) dirty_link;
};

struct engine_task {
	struct engine_exec *x;
	char *name;
	const json_t *spec;         /* borrowed from x->wf */
	unsigned seq;               /* 1.. in x; part of its id and steps' */
	enum tstate state;
	char info[ENGINE_INFO_MAX];
	json_t *result;
	json_t *published;
	int64_t started_ms, finished_ms;
	struct engine_action **acts;
	size_t nacts, next_act, running, finished;
	size_t retries_due;         /* actions with retry_due */
	size_t concurrency;         /* 0: no limit */
	int many;                   /* result is the list of action results */
	int paused_once;            /* pause-before has been honoured */
	int waited_before, waited_after, in_wait_after;
	int completed;              /* final state set, transitions pending */
	int transitions_done;
	int queued;                 /* on the work queue */
	int timed_out;              /* its timeout fired */
	int join_unsatisfiable;     /* a join whose inbound tasks all ended
	                               without enough of them firing it */
	int dirty;                  /* on x->dirty_tasks (engine_persist.c) */
	TAILQ_ENTRY(engine_task) dirty_link;
	struct timer timer;         /* wait-before, wait-after */
	struct timer timeout;
	TAILQ_ENTRY(engine_task) queue_link;
};

struct join_state {
	char *name;                 /* target task */
	json_t *fired;              /* object: source task name -> true */
	size_t need;                /* fired sources that start it */
	int started;
};

struct engine_exec {
	char id[ENGINE_ID_MAX];
	json_t *spec;               /* the whole canonical spec (owned) */
	const json_t *wf;           /* spec.workflows[wf_name] */
	char *wf_name;
	int reverse;
	json_t *input, *ctx, *output, *view;  /* view: execution() */
	json_t *secrets;            /* values of its (and its parents') secret
	                               inputs, masked where shown; NULL: none */
	enum xstate state;
	char info[ENGINE_INFO_MAX];
	int64_t created_ms, ended_ms;
	struct engine_task **tasks;
	size_t ntasks, cap_tasks;
	size_t active;              /* tasks not yet through transitions */
	json_t *latest;             /* name -> index in tasks of the latest */
	struct join_state *joins;
	size_t njoins;
	json_t *reverse_set;        /* reverse: the tasks to run, each -> the
	                               names of those of them requiring it */
	int failed;                 /* an unhandled error or fail command */
	char fail_info[ENGINE_INFO_MAX];
	int ending;                 /* succeed/fail command: stop now */
	struct evlog log;
	struct engine_exec *parent;
	size_t nchildren;           /* sub-workflow executions not yet freed */
	struct engine_action *parent_action;   /* sub-workflow: the action waiting */
	int checked;                /* on the check list */
	int dirty;                  /* on engine_state.dirty: to be saved */
	int saved;                  /* saved once: the store has its spec */
	TAILQ_HEAD(, engine_task) dirty_tasks;
	TAILQ_HEAD(, engine_action) dirty_actions;
	TAILQ_ENTRY(engine_exec) dirty_link;
	TAILQ_ENTRY(engine_exec) check_link;
	TAILQ_ENTRY(engine_exec) all_link;
};

TAILQ_HEAD(task_queue, engine_task);
TAILQ_HEAD(exec_list, engine_exec);
TAILQ_HEAD(action_list, engine_action);

/* The engine's one instance (engine.c). */
struct engine {
	struct engine_ops ops;
	int ready;
	struct idmap execs;         /* id -> engine_exec */
	struct idmap steps;         /* step id -> action */
	struct exec_list all;       /* by creation */
	size_t nexecs, ndone;
	struct task_queue queue;    /* tasks to advance */
	struct exec_list check;     /* executions to check for their end */
	struct action_list waiting; /* bora.wait_agents actions */
	struct exec_list dirty;     /* executions changed since the last save */
	struct timerheap timers;
	int draining;
	int64_t woken_for;
	uint64_t counter;
};

extern struct engine engine_state;

/* engine.c */
int64_t engine_now(void);
void engine_arm(struct timer *t, int64_t delay_ms);
void engine_disarm(struct timer *t);
void engine_queue_task(struct engine_task *t);
void engine_check_exec(struct engine_exec *x);
void engine_emit(struct engine_exec *x, json_t *ev);
const char *engine_tstate_name(enum tstate s);
/* x->secrets from its workflow's secret inputs and its parent's. 0, or -1
 * when out of memory. */
int engine_exec_secrets(struct engine_exec *x);
/* s quoted for a log line (bora_log_quote) with x's secrets masked. */
const char *engine_quote(const struct engine_exec *x, const char *s, char *q,
    size_t qlen);

struct engine_exec *engine_exec_new(const json_t *spec, const char *wf,
    const json_t *input, const char *task, struct engine_exec *parent,
    char *err, size_t errlen);
/* Stop x: actions cancelled, tasks CANCELLED (state given for x). */
void engine_exec_stop(struct engine_exec *x, enum xstate final,
    const char *info);
/* A sentence into buf (ENGINE_INFO_MAX bytes), cut on a character. */
void engine_exec_free(struct engine_exec *x);
void engine_info(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void engine_vinfo(char *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* engine_persist.c: t (and its execution) changed and must be saved. */
void engine_mark(struct engine_task *t);
void engine_mark_exec(struct engine_exec *x);
void engine_mark_action(struct engine_action *a);
void engine_unmark(struct engine_exec *x);

/* engine_task.c */
struct engine_task *engine_task_new(struct engine_exec *x, const char *name);
void engine_task_advance(struct engine_task *t);
void engine_task_free(struct engine_task *t);
void engine_task_cancel(struct engine_task *t, const char *why);
void engine_task_set_state(struct engine_task *t, enum tstate s, const char *info);
/* Start the first tasks of x. 0, or -1 with err. */
int engine_task_start_first(struct engine_exec *x, const char *target, char *err,
    size_t errlen);
json_t *engine_task_to_json(const struct engine_task *t);

/* engine_action.c */
struct engine_action *engine_action_new(struct engine_task *t, size_t index, json_t *vars,
    const char *agent);
void engine_action_start(struct engine_action *a);
void engine_action_cancel(struct engine_action *a, const char *why);
void engine_action_free(struct engine_action *a);
void engine_action_step_done(struct engine_action *a, const json_t *result);
void engine_action_child_done(struct engine_action *a, struct engine_exec *child);
void engine_action_agents_changed(void);
json_t *engine_action_to_json(const struct engine_action *a);

/* engine_eval.c: evaluate in the scope of task t (and action a, whose
 * result task() returns, and whose with-items variables are in $). */
json_t *engine_eval_in(const struct engine_task *t, const struct engine_action *a,
    const json_t *v, char *err, size_t errlen);
/* spec.KEY of t evaluated; NULL (no error) when absent. */
json_t *engine_eval_field(const struct engine_task *t, const struct engine_action *a,
    const char *key, char *err, size_t errlen);
/* A non-negative integer from v (an int or a numeric string). 0, or -1. */
int engine_eval_uint(const json_t *v, uint64_t *out);

#endif
