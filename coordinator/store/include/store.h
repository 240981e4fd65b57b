/*
 * store.h: the coordinator's durable state (docs/store.md), behind a
 * backend-neutral interface: a backend is a const struct store_ops
 * (store_sqlite_ops today; a PostgreSQL one can follow).
 *
 * Writes are group-committed. A put or append copies its record into an
 * in-memory queue (no I/O) and returns the write's sequence number, one
 * more than the previous write's. store_flush() writes the whole queue in
 * ONE transaction, in order, and when it returns 0 every write queued
 * before it is durable: store_durable_seq() is then the seq of the last
 * one. The coordinator calls store_flush() once per event-loop turn and
 * sends an ack for a result only once store_durable_seq() >= the seq its
 * put returned. A failed flush rolls back, keeps the queue (a later flush
 * tries it again) and leaves store_durable_seq() where it was.
 *
 * Reads (store_load_*, store_get_step) see only flushed writes.
 *
 * Strings in the records are NUL-terminated; JSON columns are JSON text
 * the caller serialized (the store does not parse it). A put copies what
 * it needs: the record's pointers stay the caller's. A load callback gets
 * records whose pointers are valid only during that call.
 *
 * Every function that can fail returns 0 or -1 with one sentence in err
 * (errlen bytes) naming the operation and the backend's message.
 */
#ifndef BORA_COORD_STORE_H
#define BORA_COORD_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_OUTPUT_CAP_DEFAULT   (1024 * 1024)       /* per step */
#define STORE_PENDING_MAX_DEFAULT  (64 * 1024 * 1024)  /* queued bytes */

enum store_step_state {
	STORE_STEP_DISPATCHED,
	STORE_STEP_RUNNING,
	STORE_STEP_DONE,
};

struct store_options {
	size_t output_cap;      /* output bytes kept per step; 0: default */
	size_t pending_max;     /* bytes a queue holds before puts are
	                           refused until a flush; 0: default */
};

struct store_workflow {
	const char *name;
	const char *yaml;       /* the source text */
	const char *canonical;  /* canonical JSON */
	int64_t created_ms;
};

/* An execution; final states are SUCCESS, ERROR and CANCELLED. */
struct store_exec {
	const char *id;
	const char *workflow;
	const char *state;
	const char *document;   /* the engine's whole serialized execution */
	const char *spec;       /* JSON: the workflow it runs, or NULL */
	int64_t updated_ms;
};

/* One task's document of an execution (the engine saves the tasks that
 * changed apart from the execution's document); seq: the task's number
 * in its execution. */
struct store_task {
	const char *exec_id;
	unsigned seq;
	const char *document;
};

/* One action of a task (an item of with-items on one target): saved apart
 * from its task so that a task of 1,000 items is not rewritten whole each
 * time one of them changes. */
struct store_action {
	const char *exec_id;
	unsigned task_seq;
	unsigned idx;
	const char *document;
};

struct store_step {
	const char *id;
	const char *exec_id;    /* NULL: a step of no execution */
	const char *agent;
	const char *kind;
	enum store_step_state state;
	const char *spec;       /* JSON */
	const char *inputs;     /* JSON or NULL */
	const char *result;     /* JSON or NULL */
	int64_t dispatched_ms;
	int64_t finished_ms;    /* 0 until done */
	uint32_t timeout_s;     /* 0: none given */
	/* Filled by loads, ignored by puts (the store keeps them). */
	uint64_t output_chunks; /* chunks kept */
	uint64_t output_kept;   /* bytes kept */
	uint64_t output_dropped;/* bytes past the cap, counted not kept */
};

struct store_output {
	const char *step_id;
	const char *stream;     /* "stdout", "stderr", ... */
	uint64_t seq;           /* from 0 per step; set by the store */
	const void *data;       /* not NUL-terminated */
	size_t len;
};

struct store_agent {
	const char *name;
	const char *labels;     /* JSON object */
	int64_t enrolled_ms;
	const char *cert_serial;        /* NULL: none yet */
	const char *cert_fingerprint;   /* NULL: none yet */
	int64_t revoked_ms;     /* 0: not revoked */
};

struct store_token {
	const char *id;
	const char *hash;       /* the token's hash, never the token */
	const char *name;       /* the agent name it enrolls, or NULL */
	const char *labels;     /* JSON or NULL */
	int64_t expires_ms;
	int64_t uses_left;
	int64_t created_ms;
};

struct store_revocation {
	const char *serial;
	int64_t revoked_ms;
};

struct store_stats {
	uint64_t last_seq;      /* of the last write queued */
	uint64_t durable_seq;   /* every write up to it is durable */
	size_t pending;         /* writes queued */
	size_t pending_bytes;
	uint64_t flushes;       /* transactions committed */
	uint64_t orphans;       /* step updates and output for steps the
	                           store has no row of, skipped */
	int schema_version;
	int migrations_applied; /* by this open */
};

/* Load callbacks: return 0 to go on, -1 to stop the load (which then
 * returns -1, "stopped by the caller"). */
typedef int (*store_workflow_cb)(void *user, const struct store_workflow *w);
typedef int (*store_exec_cb)(void *user, const struct store_exec *x);
typedef int (*store_action_cb)(void *user, const char *exec_id,
    unsigned task_seq, unsigned idx, const char *document);
typedef int (*store_task_cb)(void *user, const char *exec_id, unsigned seq,
    const char *document);
typedef int (*store_step_cb)(void *user, const struct store_step *st);
typedef int (*store_output_cb)(void *user, const struct store_output *o);
typedef int (*store_agent_cb)(void *user, const struct store_agent *a);
typedef int (*store_token_cb)(void *user, const struct store_token *t);
typedef int (*store_revocation_cb)(void *user,
    const struct store_revocation *r);

struct store;
struct store_ops;

/*
 * Open the store at path with a backend (&store_sqlite_ops); o may be NULL
 * (defaults). Applies the migrations the store lacks. Returns a handle
 * the caller ends with store_close(), or NULL with err filled.
 */
struct store *store_open(const struct store_ops *ops, const char *path,
    const struct store_options *o, char *err, size_t errlen);
/* Flush, then close and free s (also when the flush fails: -1 then, and
 * the queued writes are lost). NULL is a no-op returning 0. */
int store_close(struct store *s, char *err, size_t errlen);
/* Close and free s WITHOUT flushing: the queued writes are dropped, as if
 * the process had died. For tests and fault injection. */
void store_abandon(struct store *s);

/* Queue a write; *seq (may be NULL) gets its sequence number. Fails only
 * on a missing field, out of memory or a full queue (flush first). */
int store_put_workflow(struct store *s, const struct store_workflow *w,
    uint64_t *seq, char *err, size_t errlen);
/* Forget the stored workflow name (no row: nothing happens). */
int store_delete_workflow(struct store *s, const char *name, uint64_t *seq,
    char *err, size_t errlen);
int store_put_exec(struct store *s, const struct store_exec *x,
    uint64_t *seq, char *err, size_t errlen);
/* Insert or replace action idx of task task_seq of execution exec_id. */
int store_put_action(struct store *s, const struct store_action *a,
    uint64_t *wseq, char *err, size_t errlen);
/* Insert or replace task seq of execution exec_id. */
int store_put_task(struct store *s, const char *exec_id, unsigned seq,
    const char *document, uint64_t *wseq, char *err, size_t errlen);
/* Insert or replace a step row (its output counters are kept). */
int store_put_step(struct store *s, const struct store_step *st,
    uint64_t *seq, char *err, size_t errlen);
/* Set a stored step's state and finished_ms, and its result unless
 * result is NULL. A step with no row is skipped (stats.orphans). */
int store_update_step(struct store *s, const char *id,
    enum store_step_state state, const char *result, int64_t finished_ms,
    uint64_t *seq, char *err, size_t errlen);
/* Append a chunk of a step's output. Stored chunks are a prefix of the
 * output: from the first chunk that would pass output_cap on, chunks are
 * only counted (output_dropped). Output of a step with no row is skipped
 * (stats.orphans). */
int store_append_output(struct store *s, const char *step_id,
    const char *stream, const void *data, size_t len, uint64_t *seq,
    char *err, size_t errlen);
int store_put_agent(struct store *s, const struct store_agent *a,
    uint64_t *seq, char *err, size_t errlen);
int store_put_token(struct store *s, const struct store_token *t,
    uint64_t *seq, char *err, size_t errlen);
int store_delete_token(struct store *s, const char *id, uint64_t *seq,
    char *err, size_t errlen);
int store_put_revocation(struct store *s, const struct store_revocation *r,
    uint64_t *seq, char *err, size_t errlen);

/*
 * Write every queued write in one transaction and make it durable (the
 * backend's commit returns only after its fsync). An empty queue costs
 * nothing. On -1 nothing of the queue is written and all of it is kept.
 */
int store_flush(struct store *s, char *err, size_t errlen);
uint64_t store_durable_seq(const struct store *s);
/* 1 when there are queued writes. */
int store_pending(const struct store *s);
void store_get_stats(const struct store *s, struct store_stats *st);

/* The backend's integrity check (SQLite: PRAGMA integrity_check); -1 with
 * its first complaint when the store is damaged. */
int store_check(struct store *s, char *err, size_t errlen);

/* Start-up: every workflow; executions not in a final state, with their
 * documents; steps not done. */
int store_load_workflows(struct store *s, store_workflow_cb cb, void *user,
    char *err, size_t errlen);
int store_load_active_execs(struct store *s, store_exec_cb cb, void *user,
    char *err, size_t errlen);
int store_load_unfinished_steps(struct store *s, store_step_cb cb,
    void *user, char *err, size_t errlen);
/* The action documents of one execution, by task and index. */
int store_load_actions(struct store *s, const char *exec_id,
    store_action_cb cb, void *user, char *err, size_t errlen);
/* The task documents of one execution, by seq. */
int store_load_tasks(struct store *s, const char *exec_id, store_task_cb cb,
    void *user, char *err, size_t errlen);
/* Finished executions, newest (updated_ms) first, skipping offset. */
int store_load_finished_execs(struct store *s, uint64_t offset,
    uint64_t limit, store_exec_cb cb, void *user, char *err, size_t errlen);
/* One step: cb is called once, or not at all when there is no such step
 * (*found, may be NULL, says which). */
int store_get_step(struct store *s, const char *id, store_step_cb cb,
    void *user, int *found, char *err, size_t errlen);
/* A step's stored output, chunks seq >= offset, at most limit of them. */
int store_load_output(struct store *s, const char *step_id, uint64_t offset,
    uint64_t limit, store_output_cb cb, void *user, char *err,
    size_t errlen);
int store_load_agents(struct store *s, store_agent_cb cb, void *user,
    char *err, size_t errlen);
int store_load_tokens(struct store *s, store_token_cb cb, void *user,
    char *err, size_t errlen);
int store_load_revocations(struct store *s, store_revocation_cb cb,
    void *user, char *err, size_t errlen);

const char *store_step_state_name(enum store_step_state st);
/* 0 with *st set, or -1 for a name that is no state. */
int store_step_state_parse(const char *name, enum store_step_state *st);

/* ---- The backend interface ---------------------------------------- */

enum store_write_kind {
	STORE_W_WORKFLOW,
	STORE_W_EXEC,
	STORE_W_TASK,
	STORE_W_ACTION,
	STORE_W_STEP,
	STORE_W_STEP_UPDATE,    /* u.step: id, state, result, finished_ms */
	STORE_W_OUTPUT,
	STORE_W_AGENT,
	STORE_W_TOKEN,
	STORE_W_TOKEN_DELETE,   /* u.token: id */
	STORE_W_REVOCATION,
	STORE_W_WORKFLOW_DELETE, /* u.workflow: name */
};

/* One queued write: the record's strings live in the same allocation. */
struct store_write {
	struct store_write *next;
	enum store_write_kind kind;
	uint64_t seq;
	size_t bytes;
	union {
		struct store_workflow workflow;
		struct store_exec exec;
		struct store_task task;
		struct store_action action;
		struct store_step step;
		struct store_output output;
		struct store_agent agent;
		struct store_token token;
		struct store_revocation revocation;
	} u;
};

struct store_backend;   /* each backend's own */

/*
 * A backend. store.c owns the queue, the sequence numbers and the
 * durability contract; a backend only opens, runs one transaction of
 * writes, and reads. Every int function is 0 / -1 with err filled.
 */
struct store_ops {
	const char *name;
	struct store_backend *(*open)(const char *path,
	    const struct store_options *o, struct store_stats *st, char *err,
	    size_t errlen);
	void (*close)(struct store_backend *b);
	int (*begin)(struct store_backend *b, char *err, size_t errlen);
	/* 0 applied, 1 skipped (an orphan), -1 error. */
	int (*apply)(struct store_backend *b, const struct store_write *w,
	    char *err, size_t errlen);
	/* Returns 0 only once the transaction is durable. */
	int (*commit)(struct store_backend *b, char *err, size_t errlen);
	void (*rollback)(struct store_backend *b);
	int (*check)(struct store_backend *b, char *err, size_t errlen);
	int (*load_workflows)(struct store_backend *b, store_workflow_cb cb,
	    void *user, char *err, size_t errlen);
	/* finished 0: active, all; 1: finished, paged */
	int (*load_execs)(struct store_backend *b, int finished,
	    uint64_t offset, uint64_t limit, store_exec_cb cb, void *user,
	    char *err, size_t errlen);
	int (*load_tasks)(struct store_backend *b, const char *exec_id,
	    store_task_cb cb, void *user, char *err, size_t errlen);
	int (*load_actions)(struct store_backend *b, const char *exec_id,
	    store_action_cb cb, void *user, char *err, size_t errlen);
	/* id NULL: every step not done; else that one step */
	int (*load_steps)(struct store_backend *b, const char *id,
	    store_step_cb cb, void *user, char *err, size_t errlen);
	int (*load_output)(struct store_backend *b, const char *step_id,
	    uint64_t offset, uint64_t limit, store_output_cb cb, void *user,
	    char *err, size_t errlen);
	int (*load_agents)(struct store_backend *b, store_agent_cb cb,
	    void *user, char *err, size_t errlen);
	int (*load_tokens)(struct store_backend *b, store_token_cb cb,
	    void *user, char *err, size_t errlen);
	int (*load_revocations)(struct store_backend *b,
	    store_revocation_cb cb, void *user, char *err, size_t errlen);
};

extern const struct store_ops store_sqlite_ops;

#endif
