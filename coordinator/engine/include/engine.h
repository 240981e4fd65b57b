/*
 * engine.h: executions of Mistral v2 workflows across agents.
 *
 * The engine holds executions of the canonical workflow specs that dsl.h
 * produces, and moves their tasks through Mistral's states as events come:
 * an execution is started, a step's result or output arrives, an agent
 * connects, a timer fires, an operator cancels, pauses or resumes. It never
 * scans all executions or tasks per event: every event names the object it
 * concerns (step ids map to actions through a hash).
 *
 * It does no I/O of its own. What it needs from the outside world comes
 * through struct engine_ops: the clock, one wake-up timer, starting and
 * cancelling steps on agents, the connected agents matching a label
 * selector, and where execution events go. engine_glue.c binds these to
 * the lws loop, the steps (agents/) and registry.c; the unit tests bind them to a fake
 * clock and fake agents, so every construct is tested deterministically.
 *
 * States (Mistral's): execution IDLE RUNNING PAUSED SUCCESS ERROR
 * CANCELLED; task IDLE WAITING RUNNING RUNNING_DELAYED PAUSED SUCCESS
 * ERROR CANCELLED.
 */
#ifndef BORA_COORD_ENGINE_H
#define BORA_COORD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evlog.h"

#define ENGINE_ID_MAX      64     /* bytes of an execution or step id */
#define ENGINE_STEP_TIMEOUT_DEFAULT 3600  /* s, when neither action input
                                             nor task says */

struct engine_exec;

struct engine_ops {
	/* Milliseconds of a monotonic clock. */
	int64_t (*now_ms)(void *user);
	/* Call engine_run_timers() at at_ms (monotonic) or soon after;
	 * replaces the previous request. INT64_MAX: nothing to wake for. */
	void (*wake_at)(void *user, int64_t at_ms);
	/* Start a step on an agent. spec and inputs are borrowed (take your
	 * own reference). Its output and result come back through
	 * engine_step_output() and engine_step_done() with step_id, never
	 * from inside this call. An agent that is not connected is waited
	 * for. agent_timeout_s: how long its agent may stay away before the
	 * step is lost (the task's agent-timeout; 0: the default). 0, or -1
	 * with a sentence in err (the action fails with it). */
	int (*step_start)(void *user, const char *step_id, const char *agent,
	    const char *kind, const json_t *spec, const json_t *inputs,
	    uint32_t timeout_s, uint32_t agent_timeout_s, char *err,
	    size_t errlen);
	/* Stop a started step; its result (status cancelled) may still come
	 * and is then ignored. */
	void (*step_cancel)(void *user, const char *step_id, const char *reason);
	/* Names (a new array of strings, sorted) of the connected agents
	 * whose labels hold every key/value of labels (an object). */
	json_t *(*agents_matching)(void *user, const json_t *labels);
	void *user;
};

/* 0, or -1 when out of memory. ops is copied. */
int engine_init(const struct engine_ops *ops);
/* Cancel nothing, free everything (coordinator shutdown). */
void engine_shutdown(void);

/*
 * Start an execution of workflow wf (a name in spec's "workflows"; NULL:
 * the only workflow of spec, an error when there are several) with input
 * (an object or NULL; checked against the workflow's input list:
 * unknown names and missing ones without a default are errors).
 * task: for a reverse workflow, the task to reach (NULL: every task).
 * spec and input are borrowed. Returns the execution (RUNNING, its first
 * tasks already started), or NULL with one sentence in err.
 */
struct engine_exec *engine_start(const json_t *spec, const char *wf,
    const json_t *input, const char *task, char *err, size_t errlen);

struct engine_exec *engine_find(const char *id);

/* The values to mask (secrets.h) in what is shown of the engine's step
 * step_id (EXEC.TASK.ITEM.ATTEMPT): its execution's secret inputs. NULL:
 * none. Borrowed. */
const json_t *engine_step_secrets(const char *step_id);
/* The name of the task whose action step_id is, for the step's log lines
 * (steps.h labels); NULL when the engine has no such step. Borrowed: valid
 * while the task lives (copy it). */
const char *engine_step_task(const char *step_id);
const char *engine_exec_id(const struct engine_exec *x);
const char *engine_exec_state(const struct engine_exec *x);
/* 1 once SUCCESS, ERROR or CANCELLED. */
int engine_exec_done(const struct engine_exec *x);
const char *engine_exec_workflow(const struct engine_exec *x);
/* engine_ops.now_ms() time of its start (kept across restarts). */
int64_t engine_exec_created_ms(const struct engine_exec *x);

/*
 * Call fn on every execution the engine holds (running ones and the last
 * finished ones), the most recently added first, until fn returns
 * non-zero. For listings only; fn must not start or free executions.
 */
void engine_foreach(int (*fn)(struct engine_exec *x, void *user),
    void *user);

/*
 * {id, workflow, state, state_info, input, output, created_ms, ended_ms,
 *  tasks: [{name, id, state, state_info, result, published, started_ms,
 *           finished_ms, actions: [{step, agent, state, ...}]}]}
 * New reference.
 */
json_t *engine_exec_to_json(const struct engine_exec *x);

/*
 * The execution's events as NDJSON lines (evlog.h), for live watchers:
 *   {"event":"execution","exec":ID,"state":S,"info":...}
 *   {"event":"task","exec":ID,"task":NAME,"state":S,"info":...,"result":...}
 *   {"event":"step","exec":ID,"task":NAME,"step":SID,"agent":A,"state":S}
 *   {"event":"output","exec":ID,"task":NAME,"step":SID,"agent":A,
 *    "stream":"stdout","data":TEXT}
 * The log is closed (watchers see the end) when the execution ends.
 */
struct evlog *engine_exec_log(struct engine_exec *x);

/* Operator commands. 0, or -1 with err ("execution is not running"). */
int engine_cancel(struct engine_exec *x, const char *reason, char *err,
    size_t errlen);
int engine_pause(struct engine_exec *x, char *err, size_t errlen);
int engine_resume(struct engine_exec *x, char *err, size_t errlen);

/* From the outside world. Unknown step ids are ignored (a late result of
 * a cancelled step). */
void engine_step_output(const char *step_id, const char *stream,
    const char *data, size_t len);
/* result: the step's result object as the steps keep it (agents/coord_step_protocol.c) (status,
 * exit_code, signal, outputs, error, ...). */
void engine_step_done(const char *step_id, const json_t *result);
void engine_agent_connected(const char *name, const json_t *labels);
/* Fire every timer due at now_ms (engine_ops.now_ms() time). */
void engine_run_timers(void);

/*
 * Persistence (engine_persist.c). engine_save_dirty() hands over what
 * changed since the last call: for each changed execution, its changed
 * tasks (task(), one document each, with their actions), then the
 * execution itself (exec(): its own fields; spec is the workflow spec the
 * first time, NULL after). Documents are borrowed for the call. The glue
 * calls it once per loop turn and writes everything in one transaction.
 */
struct engine_saver {
	/* an action (an item on a target) of task task_seq, apart from its
	 * task so that a task of many items is not rewritten whole */
	void (*action)(void *user, const char *exec_id, unsigned task_seq,
	    unsigned idx, const json_t *doc);
	void (*task)(void *user, const char *exec_id, unsigned seq,
	    const json_t *doc);
	void (*exec)(void *user, const char *exec_id, const char *workflow,
	    const char *state, const json_t *doc, const json_t *spec);
};
void engine_save_dirty(const struct engine_saver *s, void *user);
/* 1 when something waits to be saved. */
int engine_dirty(void);
/*
 * Rebuild one execution from its spec, its document, its task documents
 * (an array in task order) and its action documents (an array, each with
 * its "task" seq and "index"), as saved. Parents before their
 * sub-workflows. 0, or -1 with err (an execution that cannot be rebuilt
 * whole ends ERROR saying so, or is left out when nothing of it could be
 * made). Then engine_restore_done() once: every unfinished task moves on.
 */
int engine_restore(const json_t *spec, const json_t *doc, const json_t *tasks,
    const json_t *actions, char *err, size_t errlen);
void engine_restore_done(void);

#endif
