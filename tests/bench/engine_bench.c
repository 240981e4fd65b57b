/*
 * engine_bench.c: tasks per second of the workflow engine, in process.
 *
 *   bench_engine [N]     (default 1000)
 *
 * Two workflows of std.noop tasks, each parsed by the real dsl and run by
 * the real engine: a chain of N tasks (each the on-success of the one
 * before), and a fan-out of N parallel tasks joined by one task with
 * join: all. Prints the wall time and tasks per second of each (parse
 * excluded, printed apart). No agents and no store: this is the engine's
 * own cost; docs/benchmarks.md says what else a real execution pays.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "dsl.h"
#include "engine.h"
#include "log.h"

static int64_t
mono_ms(void *user)
{
	struct timespec ts;

	(void)user;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
no_wake(void *user, int64_t at)
{
	(void)user;
	(void)at;
}

static int
no_steps(void *user, const char *id, const char *agent, const char *kind,
    const json_t *spec, const json_t *inputs, uint32_t timeout_s,
    uint32_t agent_timeout_s, char *err, size_t errlen)
{
	(void)user, (void)id, (void)agent, (void)kind, (void)spec;
	(void)inputs, (void)timeout_s, (void)agent_timeout_s;
	snprintf(err, errlen, "no agents in this benchmark");
	return -1;
}

static void
no_cancel(void *user, const char *id, const char *reason)
{
	(void)user, (void)id, (void)reason;
}

static json_t *
no_agents(void *user, const json_t *labels)
{
	(void)user, (void)labels;
	return json_array();
}

/* A growing string. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_add(struct buf *b, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(b->p + b->len, line, (size_t)n + 1);
	b->len += (size_t)n;
}

static char *
chain_yaml(size_t n)
{
	struct buf b = { NULL, 0, 0 };
	size_t i;

	buf_add(&b, "version: '2.0'\nchain:\n  tasks:\n");
	for (i = 0; i < n; i++)
		if (i + 1 < n)
			buf_add(&b, "    t%zu: {action: std.noop, on-success: "
			    "[t%zu]}\n", i, i + 1);
		else
			buf_add(&b, "    t%zu: {action: std.noop}\n", i);
	return b.p;
}

static char *
fanout_yaml(size_t n)
{
	struct buf b = { NULL, 0, 0 };
	size_t i;

	buf_add(&b, "version: '2.0'\nfanout:\n  tasks:\n");
	for (i = 0; i < n; i++)
		buf_add(&b, "    t%zu: {action: std.noop, on-success: [done]}\n",
		    i);
	buf_add(&b, "    done: {action: std.noop, join: all}\n");
	return b.p;
}

static int
run(const char *what, char *yaml, size_t tasks)
{
	struct dsl_errors errs = { NULL, 0 };
	struct engine_exec *x;
	char err[512];
	double t0, t1, t2;
	json_t *spec;

	t0 = now_s();
	spec = dsl_parse(yaml, strlen(yaml), what, &errs);
	free(yaml);
	if (spec == NULL) {
		fprintf(stderr, "%s: %s\n", what, errs.n ? errs.v[0] : "?");
		dsl_errors_free(&errs);
		return -1;
	}
	t1 = now_s();
	x = engine_start(spec, NULL, NULL, NULL, err, sizeof(err));
	t2 = now_s();
	json_decref(spec);
	if (x == NULL || strcmp(engine_exec_state(x), "SUCCESS") != 0) {
		fprintf(stderr, "%s: %s\n", what, x ? engine_exec_state(x) : err);
		return -1;
	}
	printf("%-8s %6zu tasks  parse %7.1f ms  run %7.1f ms  %9.0f tasks/s\n",
	    what, tasks, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	    (double)tasks / (t2 - t1));
	return 0;
}

int
main(int argc, char **argv)
{
	struct engine_ops ops = {
		.now_ms = mono_ms, .wake_at = no_wake, .step_start = no_steps,
		.step_cancel = no_cancel, .agents_matching = no_agents,
		.user = NULL,
	};
	size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000;
	int rc = 0;

	if (n < 2 || n > 50000) {
		fprintf(stderr, "usage: bench_engine [N: 2..50000]\n");
		return 2;
	}
	bora_log_init(BORA_LOG_WARN, BORA_LOG_TEXT);
	if (engine_init(&ops) != 0)
		return 1;
	if (run("chain", chain_yaml(n), n) != 0 ||
	    run("fan-out", fanout_yaml(n), n + 1) != 0)
		rc = 1;
	engine_shutdown();
	return rc;
}
