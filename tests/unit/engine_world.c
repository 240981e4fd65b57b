/* engine_world.c: see engine_world.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl.h"
#include "engine_world.h"
#include "log.h"

struct world W;

static int64_t
w_now(void *user)
{
	(void)user;
	return W.now;
}

static void
w_wake(void *user, int64_t at)
{
	(void)user;
	W.wake = at;
}

static int
w_step_start(void *user, const char *id, const char *agent, const char *kind,
    const json_t *spec, const json_t *inputs, uint32_t timeout_s,
    uint32_t agent_timeout_s, char *err, size_t errlen)
{
	struct world_step *s;

	(void)user;
	if (W.fail_start) {
		snprintf(err, errlen, "fake start failure");
		return -1;
	}
	assert_true(W.nsteps < WORLD_MAX_STEPS);
	s = &W.steps[W.nsteps++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	s->spec = json_deep_copy(spec);
	s->inputs = inputs ? json_deep_copy(inputs) : NULL;
	s->timeout_s = timeout_s;
	s->agent_timeout_s = agent_timeout_s;
	return 0;
}

static void
w_step_cancel(void *user, const char *id, const char *reason)
{
	size_t i;

	(void)user;
	(void)reason;
	for (i = 0; i < W.nsteps; i++)
		if (strcmp(W.steps[i].id, id) == 0)
			W.steps[i].cancelled = 1;
}

static json_t *
w_matching(void *user, const json_t *labels)
{
	json_t *out = json_array(), *have, *v;
	const char *name, *k;
	int ok;

	(void)user;
	json_object_foreach(W.agents, name, have) {
		ok = 1;
		json_object_foreach((json_t *)(uintptr_t)labels, k, v)
			if (!json_equal(json_object_get(have, k), v))
				ok = 0;
		if (ok)
			json_array_append_new(out, json_string(name));
	}
	return out;
}

static const struct engine_ops world_ops = {
	.now_ms = w_now, .wake_at = w_wake, .step_start = w_step_start,
	.step_cancel = w_step_cancel, .agents_matching = w_matching,
	.user = NULL,
};

void
world_restart_engine(void)
{
	engine_shutdown();
	assert_int_equal(engine_init(&world_ops), 0);
}

void
world_init(void)
{
	/* the engine's info lines only with BORA_TEST_LOG set */
	bora_log_init(getenv("BORA_TEST_LOG") ? BORA_LOG_INFO : BORA_LOG_WARN,
	    BORA_LOG_TEXT);
	memset(&W, 0, sizeof(W));
	W.now = 1000000;
	W.agents = json_object();
	assert_int_equal(engine_init(&world_ops), 0);
}

void
world_free(void)
{
	size_t i;

	engine_shutdown();
	for (i = 0; i < W.nsteps; i++) {
		json_decref(W.steps[i].spec);
		json_decref(W.steps[i].inputs);
	}
	json_decref(W.agents);
	memset(&W, 0, sizeof(W));
}

json_t *
world_parse(const char *yaml)
{
	struct dsl_errors errs = { NULL, 0 };
	json_t *spec;
	size_t i;

	spec = dsl_parse(yaml, strlen(yaml), "test.yaml", &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	dsl_errors_free(&errs);
	assert_non_null(spec);
	return spec;
}

struct engine_exec *
world_start_ex(const char *yaml, const char *wf, const json_t *input,
    const char *task, char *err, size_t errlen)
{
	json_t *spec = world_parse(yaml);
	struct engine_exec *x;

	err[0] = '\0';
	x = engine_start(spec, wf, input, task, err, errlen);
	json_decref(spec);
	return x;
}

struct engine_exec *
world_start_named(const char *yaml, const char *wf, const json_t *input)
{
	struct engine_exec *x;
	char err[512];

	x = world_start_ex(yaml, wf, input, NULL, err, sizeof(err));
	if (x == NULL)
		fprintf(stderr, "engine_start: %s\n", err);
	assert_non_null(x);
	return x;
}

struct engine_exec *
world_start(const char *yaml, const json_t *input)
{
	return world_start_named(yaml, NULL, input);
}

void
world_advance(int64_t ms)
{
	W.now += ms;
	engine_run_timers();
}

void
world_connect(const char *name, const char *labels_json)
{
	json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) :
	    json_object();

	assert_non_null(labels);
	json_object_set_new(W.agents, name, labels);
	engine_agent_connected(name, labels);
}

void
world_finish(size_t i, const char *status, int exit_code,
    const char *outputs_json)
{
	json_t *res;

	assert_true(i < W.nsteps);
	assert_false(W.steps[i].done);
	W.steps[i].done = 1;
	res = json_pack("{s:s, s:s, s:i}", "step", W.steps[i].id, "status",
	    status, "exit_code", exit_code);
	if (outputs_json)
		json_object_set_new(res, "outputs", json_loads(outputs_json, 0,
		    NULL));
	engine_step_done(W.steps[i].id, res);
	json_decref(res);
}

size_t
world_running(void)
{
	size_t i, n = 0;

	for (i = 0; i < W.nsteps; i++)
		if (!W.steps[i].done && !W.steps[i].cancelled)
			n++;
	return n;
}

long
world_find(const char *agent)
{
	size_t i;

	for (i = 0; i < W.nsteps; i++)
		if (!W.steps[i].done && !W.steps[i].cancelled &&
		    (agent == NULL || strcmp(W.steps[i].agent, agent) == 0))
			return (long)i;
	return -1;
}

json_t *
world_task(const struct engine_exec *x, const char *name)
{
	json_t *j = engine_exec_to_json(x), *t, *out = NULL;
	size_t i;

	json_array_foreach(json_object_get(j, "tasks"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")),
		    name) == 0) {
			json_decref(out);
			out = json_incref(t);   /* the latest run wins */
		}
	json_decref(j);
	return out;
}

const char *
world_task_state(const struct engine_exec *x, const char *name)
{
	static char buf[32];
	json_t *t = world_task(x, name);

	snprintf(buf, sizeof(buf), "%s", t ? json_string_value(
	    json_object_get(t, "state")) : "(none)");
	json_decref(t);
	return buf;
}

static const char *
world_info_of(const json_t *o)
{
	static char buf[600];
	const char *s = json_string_value(json_object_get(o, "state_info"));

	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	return buf;
}

const char *
world_exec_info(const struct engine_exec *x)
{
	json_t *j = engine_exec_to_json(x);
	const char *s = world_info_of(j);

	json_decref(j);
	return s;
}

const char *
world_task_info(const struct engine_exec *x, const char *name)
{
	json_t *t = world_task(x, name);
	const char *s = world_info_of(t);

	json_decref(t);
	return s;
}

size_t
world_task_runs(const struct engine_exec *x, const char *name)
{
	json_t *j = engine_exec_to_json(x), *t;
	size_t i, n = 0;

	json_array_foreach(json_object_get(j, "tasks"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")),
		    name) == 0)
			n++;
	json_decref(j);
	return n;
}

void
world_assert_output(const struct engine_exec *x, const char *want)
{
	json_t *j = engine_exec_to_json(x);
	char *got = json_dumps(json_object_get(j, "output"), JSON_COMPACT |
	    JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (got == NULL || strcmp(got, want) != 0)
		fprintf(stderr, "output: %s, want %s\n", got ? got : "(none)",
		    want);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

char *
world_trace(struct engine_exec *x)
{
	const struct evlog *l = engine_exec_log(x);
	const char *line, *ev, *exec;
	char *buf = NULL;
	size_t i, len, size = 0;
	json_t *o;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	for (i = 0; (line = evlog_line(l, i, &len)) != NULL; i++) {
		o = json_loadb(line, len, 0, NULL);
		assert_non_null(o);
		ev = json_string_value(json_object_get(o, "event"));
		exec = json_string_value(json_object_get(o, "exec"));
		assert_non_null(ev);
		fprintf(f, "%s%s", i ? " " : "", exec && strcmp(exec,
		    engine_exec_id(x)) != 0 ? "~" : "");
		if (strcmp(ev, "execution") == 0)
			fprintf(f, "X:%s", json_string_value(json_object_get(o,
			    "state")));
		else if (strcmp(ev, "task") == 0)
			fprintf(f, "T:%s:%s", json_string_value(json_object_get(o,
			    "task")), json_string_value(json_object_get(o,
			    "state")));
		else if (strcmp(ev, "step") == 0)
			fprintf(f, "S:%s:%s", json_string_value(json_object_get(o,
			    "task")), json_string_value(json_object_get(o,
			    "state")));
		else if (strcmp(ev, "output") == 0)
			fprintf(f, "O:%s:%s", json_string_value(json_object_get(o,
			    "task")), json_string_value(json_object_get(o,
			    "stream")));
		else
			fprintf(f, "?:%s", ev);
		json_decref(o);
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}
