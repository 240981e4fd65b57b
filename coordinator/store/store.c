/*
 * store.c: the backend-neutral half of the store (store.h): the queue of
 * writes, their sequence numbers, and group commit.
 *
 * A write is one allocation: the struct store_write and, after it, copies
 * of its record's strings (and output bytes), so queueing is one malloc
 * and two memcpy-s per string, and the queue frees write by write. The
 * queue is bounded by options.pending_max bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "store.h"

#define STORE_FIELDS_MAX 7

struct store {
	const struct store_ops *ops;
	struct store_backend *b;
	struct store_options opts;
	struct store_write *head, *tail;
	struct store_stats stats;
};

/* Per kind of write: its operation's name (for errors), the names of its
 * string fields in the order of store_write_strings(), and a bit for
 * each field that must not be NULL. */
static const struct store_kind {
	const char *op;
	const char *fields[STORE_FIELDS_MAX];
	unsigned required;
} store_kinds[] = {
	[STORE_W_WORKFLOW] = { "put_workflow",
	    { "name", "yaml", "canonical" }, 07 },
	[STORE_W_EXEC] = { "put_exec",
	    { "id", "workflow", "state", "document", "spec" }, 017 },
	[STORE_W_TASK] = { "put_task", { "exec_id", "document" }, 03 },
	[STORE_W_ACTION] = { "put_action", { "exec_id", "document" }, 03 },
	[STORE_W_STEP] = { "put_step",
	    { "id", "exec_id", "agent", "kind", "spec", "inputs", "result" },
	    035 },
	[STORE_W_STEP_UPDATE] = { "update_step", { "id", "result" }, 01 },
	[STORE_W_OUTPUT] = { "append_output", { "step_id", "stream" }, 03 },
	[STORE_W_AGENT] = { "put_agent",
	    { "name", "labels", "cert_serial", "cert_fingerprint" }, 03 },
	[STORE_W_TOKEN] = { "put_token",
	    { "id", "hash", "name", "labels" }, 03 },
	[STORE_W_TOKEN_DELETE] = { "delete_token", { "id" }, 01 },
	[STORE_W_REVOCATION] = { "put_revocation", { "serial" }, 01 },
	[STORE_W_WORKFLOW_DELETE] = { "delete_workflow", { "name" }, 01 },
};

/* The addresses of w's string fields, in store_kinds[] order. */
static size_t
store_write_strings(struct store_write *w, const char **f[])
{
	switch (w->kind) {
	case STORE_W_WORKFLOW_DELETE:
		f[0] = &w->u.workflow.name;
		return 1;
	case STORE_W_WORKFLOW:
		f[0] = &w->u.workflow.name;
		f[1] = &w->u.workflow.yaml;
		f[2] = &w->u.workflow.canonical;
		return 3;
	case STORE_W_EXEC:
		f[0] = &w->u.exec.id;
		f[1] = &w->u.exec.workflow;
		f[2] = &w->u.exec.state;
		f[3] = &w->u.exec.document;
		f[4] = &w->u.exec.spec;
		return 5;
	case STORE_W_TASK:
		f[0] = &w->u.task.exec_id;
		f[1] = &w->u.task.document;
		return 2;
	case STORE_W_ACTION:
		f[0] = &w->u.action.exec_id;
		f[1] = &w->u.action.document;
		return 2;
	case STORE_W_STEP:
	case STORE_W_STEP_UPDATE:
		f[0] = &w->u.step.id;
		if (w->kind == STORE_W_STEP_UPDATE) {
			f[1] = &w->u.step.result;
			return 2;
		}
		f[1] = &w->u.step.exec_id;
		f[2] = &w->u.step.agent;
		f[3] = &w->u.step.kind;
		f[4] = &w->u.step.spec;
		f[5] = &w->u.step.inputs;
		f[6] = &w->u.step.result;
		return 7;
	case STORE_W_OUTPUT:
		f[0] = &w->u.output.step_id;
		f[1] = &w->u.output.stream;
		return 2;
	case STORE_W_AGENT:
		f[0] = &w->u.agent.name;
		f[1] = &w->u.agent.labels;
		f[2] = &w->u.agent.cert_serial;
		f[3] = &w->u.agent.cert_fingerprint;
		return 4;
	case STORE_W_TOKEN:
	case STORE_W_TOKEN_DELETE:
		f[0] = &w->u.token.id;
		if (w->kind == STORE_W_TOKEN_DELETE)
			return 1;
		f[1] = &w->u.token.hash;
		f[2] = &w->u.token.name;
		f[3] = &w->u.token.labels;
		return 4;
	case STORE_W_REVOCATION:
		f[0] = &w->u.revocation.serial;
		return 1;
	}
	return 0;
}

/*
 * Queue a copy of tmpl (and of data, len bytes, for output). tmpl's
 * pointers stay the caller's.
 */
static int
store_push(struct store *s, const struct store_write *tmpl,
    const void *data, size_t len, uint64_t *seq, char *err, size_t errlen)
{
	const struct store_kind *k = &store_kinds[tmpl->kind];
	const char **f[STORE_FIELDS_MAX];
	size_t lens[STORE_FIELDS_MAX];
	size_t n, i, total = len;
	struct store_write *w, copy = *tmpl;
	char *p;

	if (s == NULL) {
		bora_errf(err, errlen, "store %s: no store", k->op);
		return -1;
	}
	n = store_write_strings(&copy, f);
	for (i = 0; i < n; i++) {
		lens[i] = *f[i] ? strlen(*f[i]) + 1 : 0;
		total += lens[i];
		if (*f[i] == NULL && (k->required & (1u << i))) {
			bora_errf(err, errlen, "store %s: the record has no %s",
			    k->op, k->fields[i]);
			return -1;
		}
	}
	if ((copy.kind == STORE_W_STEP || copy.kind == STORE_W_STEP_UPDATE) &&
	    (unsigned)copy.u.step.state > STORE_STEP_DONE) {
		bora_errf(err, errlen, "store %s: step state %d is no state",
		    k->op, (int)copy.u.step.state);
		return -1;
	}
	total += sizeof(*w);
	if (total > s->opts.pending_max ||
	    s->stats.pending_bytes > s->opts.pending_max - total) {
		bora_errf(err, errlen, "store %s: the queue holds %zu bytes "
		    "and takes %zu: flush first", k->op,
		    s->stats.pending_bytes, s->opts.pending_max);
		return -1;
	}
	if ((w = malloc(total)) == NULL) {
		bora_errf(err, errlen, "store %s: out of memory", k->op);
		return -1;
	}
	*w = copy;
	w->next = NULL;
	w->seq = ++s->stats.last_seq;
	w->bytes = total;
	p = (char *)(w + 1);
	n = store_write_strings(w, f);
	for (i = 0; i < n; i++) {
		if (*f[i] == NULL)
			continue;
		memcpy(p, *f[i], lens[i]);
		*f[i] = p;
		p += lens[i];
	}
	if (w->kind == STORE_W_OUTPUT) {
		if (len > 0)
			memcpy(p, data, len);
		w->u.output.data = p;
		w->u.output.len = len;
	}
	if (s->tail)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
	s->stats.pending++;
	s->stats.pending_bytes += total;
	if (seq)
		*seq = w->seq;
	return 0;
}

static void
store_drop_queue(struct store *s)
{
	struct store_write *w, *next;

	for (w = s->head; w; w = next) {
		next = w->next;
		free(w);
	}
	s->head = s->tail = NULL;
	s->stats.pending = 0;
	s->stats.pending_bytes = 0;
}

struct store *
store_open(const struct store_ops *ops, const char *path,
    const struct store_options *o, char *err, size_t errlen)
{
	struct store *s;

	if (ops == NULL || path == NULL || *path == '\0') {
		bora_errf(err, errlen, "store open: no backend or no path");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		bora_errf(err, errlen, "store open %s: out of memory", path);
		return NULL;
	}
	s->ops = ops;
	if (o)
		s->opts = *o;
	if (s->opts.output_cap == 0)
		s->opts.output_cap = STORE_OUTPUT_CAP_DEFAULT;
	if (s->opts.pending_max == 0)
		s->opts.pending_max = STORE_PENDING_MAX_DEFAULT;
	s->b = ops->open(path, &s->opts, &s->stats, err, errlen);
	if (s->b == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
store_close(struct store *s, char *err, size_t errlen)
{
	int rc;

	if (s == NULL)
		return 0;
	rc = store_flush(s, err, errlen);
	store_abandon(s);
	return rc;
}

void
store_abandon(struct store *s)
{
	if (s == NULL)
		return;
	store_drop_queue(s);
	s->ops->close(s->b);
	free(s);
}

int
store_flush(struct store *s, char *err, size_t errlen)
{
	struct store_write *w;
	uint64_t orphans = 0;
	char why[512];
	int r;

	if (s->head == NULL)
		return 0;
	if (s->ops->begin(s->b, why, sizeof(why)) != 0)
		goto fail;
	for (w = s->head; w; w = w->next) {
		if ((r = s->ops->apply(s->b, w, why, sizeof(why))) < 0) {
			s->ops->rollback(s->b);
			goto fail;
		}
		orphans += (uint64_t)r;
	}
	if (s->ops->commit(s->b, why, sizeof(why)) != 0) {
		s->ops->rollback(s->b);
		goto fail;
	}
	s->stats.durable_seq = s->tail->seq;
	s->stats.flushes++;
	s->stats.orphans += orphans;
	store_drop_queue(s);
	return 0;
fail:
	bora_errf(err, errlen, "store flush of %zu writes failed, kept for "
	    "the next flush: %s", s->stats.pending, why);
	return -1;
}

uint64_t
store_durable_seq(const struct store *s)
{
	return s->stats.durable_seq;
}

int
store_pending(const struct store *s)
{
	return s->head != NULL;
}

void
store_get_stats(const struct store *s, struct store_stats *st)
{
	*st = s->stats;
}

int
store_check(struct store *s, char *err, size_t errlen)
{
	return s->ops->check(s->b, err, errlen);
}

/* ---- puts ---- */

int
store_put_workflow(struct store *s, const struct store_workflow *wf,
    uint64_t *seq, char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_WORKFLOW;
	w.u.workflow = *wf;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_delete_workflow(struct store *s, const char *name, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_WORKFLOW_DELETE;
	w.u.workflow.name = name;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_put_exec(struct store *s, const struct store_exec *x, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_EXEC;
	w.u.exec = *x;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_put_task(struct store *s, const char *exec_id, unsigned seq,
    const char *document, uint64_t *wseq, char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_TASK;
	w.u.task.exec_id = exec_id;
	w.u.task.seq = seq;
	w.u.task.document = document;
	return store_push(s, &w, NULL, 0, wseq, err, errlen);
}

int
store_put_action(struct store *s, const struct store_action *a,
    uint64_t *wseq, char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_ACTION;
	w.u.action = *a;
	return store_push(s, &w, NULL, 0, wseq, err, errlen);
}

int
store_put_step(struct store *s, const struct store_step *st, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_STEP;
	w.u.step = *st;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_update_step(struct store *s, const char *id,
    enum store_step_state state, const char *result, int64_t finished_ms,
    uint64_t *seq, char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_STEP_UPDATE;
	w.u.step.id = id;
	w.u.step.state = state;
	w.u.step.result = result;
	w.u.step.finished_ms = finished_ms;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_append_output(struct store *s, const char *step_id,
    const char *stream, const void *data, size_t len, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	if (data == NULL && len > 0) {
		bora_errf(err, errlen, "store append_output: no data");
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_OUTPUT;
	w.u.output.step_id = step_id;
	w.u.output.stream = stream;
	return store_push(s, &w, data, len, seq, err, errlen);
}

int
store_put_agent(struct store *s, const struct store_agent *a, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_AGENT;
	w.u.agent = *a;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_put_token(struct store *s, const struct store_token *t, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_TOKEN;
	w.u.token = *t;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_delete_token(struct store *s, const char *id, uint64_t *seq,
    char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_TOKEN_DELETE;
	w.u.token.id = id;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

int
store_put_revocation(struct store *s, const struct store_revocation *r,
    uint64_t *seq, char *err, size_t errlen)
{
	struct store_write w;

	memset(&w, 0, sizeof(w));
	w.kind = STORE_W_REVOCATION;
	w.u.revocation = *r;
	return store_push(s, &w, NULL, 0, seq, err, errlen);
}

/* ---- loads ---- */

int
store_load_workflows(struct store *s, store_workflow_cb cb, void *user,
    char *err, size_t errlen)
{
	return s->ops->load_workflows(s->b, cb, user, err, errlen);
}

int
store_load_active_execs(struct store *s, store_exec_cb cb, void *user,
    char *err, size_t errlen)
{
	return s->ops->load_execs(s->b, 0, 0, UINT64_MAX, cb, user, err,
	    errlen);
}

int
store_load_actions(struct store *s, const char *exec_id, store_action_cb cb,
    void *user, char *err, size_t errlen)
{
	if (exec_id == NULL) {
		bora_errf(err, errlen, "store load_actions: no execution id");
		return -1;
	}
	return s->ops->load_actions(s->b, exec_id, cb, user, err, errlen);
}

int
store_load_tasks(struct store *s, const char *exec_id, store_task_cb cb,
    void *user, char *err, size_t errlen)
{
	if (exec_id == NULL) {
		bora_errf(err, errlen, "store load_tasks: no execution id");
		return -1;
	}
	return s->ops->load_tasks(s->b, exec_id, cb, user, err, errlen);
}

int
store_load_finished_execs(struct store *s, uint64_t offset, uint64_t limit,
    store_exec_cb cb, void *user, char *err, size_t errlen)
{
	return s->ops->load_execs(s->b, 1, offset, limit, cb, user, err,
	    errlen);
}

int
store_load_unfinished_steps(struct store *s, store_step_cb cb, void *user,
    char *err, size_t errlen)
{
	return s->ops->load_steps(s->b, NULL, cb, user, err, errlen);
}

struct store_found {
	store_step_cb cb;
	void *user;
	int found;
};

static int
store_found_step(void *user, const struct store_step *st)
{
	struct store_found *f = user;

	f->found = 1;
	return f->cb ? f->cb(f->user, st) : 0;
}

int
store_get_step(struct store *s, const char *id, store_step_cb cb,
    void *user, int *found, char *err, size_t errlen)
{
	struct store_found f = { cb, user, 0 };
	int rc;

	if (id == NULL) {
		bora_errf(err, errlen, "store get_step: no id");
		return -1;
	}
	rc = s->ops->load_steps(s->b, id, store_found_step, &f, err, errlen);
	if (found)
		*found = f.found;
	return rc;
}

int
store_load_output(struct store *s, const char *step_id, uint64_t offset,
    uint64_t limit, store_output_cb cb, void *user, char *err, size_t errlen)
{
	return s->ops->load_output(s->b, step_id, offset, limit, cb, user, err,
	    errlen);
}

int
store_load_agents(struct store *s, store_agent_cb cb, void *user, char *err,
    size_t errlen)
{
	return s->ops->load_agents(s->b, cb, user, err, errlen);
}

int
store_load_tokens(struct store *s, store_token_cb cb, void *user, char *err,
    size_t errlen)
{
	return s->ops->load_tokens(s->b, cb, user, err, errlen);
}

int
store_load_revocations(struct store *s, store_revocation_cb cb, void *user,
    char *err, size_t errlen)
{
	return s->ops->load_revocations(s->b, cb, user, err, errlen);
}

static const char *const store_step_states[] = {
	[STORE_STEP_DISPATCHED] = "dispatched",
	[STORE_STEP_RUNNING] = "running",
	[STORE_STEP_DONE] = "done",
};

const char *
store_step_state_name(enum store_step_state st)
{
	if ((unsigned)st >= sizeof(store_step_states) /
	    sizeof(store_step_states[0]))
		return "?";
	return store_step_states[st];
}

int
store_step_state_parse(const char *name, enum store_step_state *st)
{
	size_t i;

	for (i = 0; name &&
	    i < sizeof(store_step_states) / sizeof(store_step_states[0]); i++) {
		if (strcmp(name, store_step_states[i]) == 0) {
			*st = (enum store_step_state)i;
			return 0;
		}
	}
	return -1;
}
