/*
 * store_bench.c: durable step results per second of the SQLite store.
 *
 *   bench_store [DIR] [N]     (default DIR: a new /var/tmp/bench_store.*,
 *                              removed after; N = 2000 results per run)
 *
 * Ten simulated agents send results as fast as they can, round robin;
 * the coordinator's loop turn applies the results that arrived during it
 * and then calls store_flush() once. A run is one batch size: 1 (one
 * transaction, one fsync, per result), 10 (one result of each agent per
 * turn), 100 and 1000. Each result is a store_update_step() of a step
 * stored as dispatched before the clock starts, with a result of about
 * 300 bytes, the size of a small script's. A result counts when the flush
 * that carries it has returned: it is durable and could be acked.
 * Printed: results, seconds, durable results per second, and the mean
 * time of one flush (what a result waits for its ack, at most).
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store.h"

#define AGENTS 10

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, err);
	exit(1);
}

/* Store n dispatched steps "b<batch>-<agent>-<i>" in one flush. */
static void
prepare(struct store *s, int batch, int n)
{
	struct store_step st;
	char id[64], err[512];
	int i;

	memset(&st, 0, sizeof(st));
	st.kind = "script";
	st.state = STORE_STEP_DISPATCHED;
	st.spec = "{\"script\":\"#!/bin/sh\\ntrue\\n\"}";
	st.exec_id = "x-bench";
	for (i = 0; i < n; i++) {
		char agent[16];

		snprintf(agent, sizeof(agent), "vm-%d", i % AGENTS);
		snprintf(id, sizeof(id), "b%d-%s-%d", batch, agent, i);
		st.id = id;
		st.agent = agent;
		st.dispatched_ms = i;
		if (store_put_step(s, &st, NULL, err, sizeof(err)) != 0)
			die("put_step", err);
	}
	if (store_flush(s, err, sizeof(err)) != 0)
		die("flush", err);
}

static void
run(struct store *s, int batch, int n)
{
	static const char result[] = "{\"status\":\"ok\",\"exit_code\":0,"
	    "\"stdout\":\"configured 3 packages\\n\",\"stderr\":\"\","
	    "\"outputs\":{\"result\":\"done\"},\"deploy_stdout\":\"configured "
	    "3 packages\\n\",\"deploy_stderr\":\"\",\"deploy_status_code\":0,"
	    "\"started_ms\":1795000000000,\"finished_ms\":1795000000004,"
	    "\"agent\":\"vm-1\",\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
	char id[64], err[512];
	uint64_t seq = 0;
	double t0, t;
	int i, flushes = 0;

	prepare(s, batch, n);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "b%d-vm-%d-%d", batch, i % AGENTS, i);
		if (store_update_step(s, id, STORE_STEP_DONE, result, i, &seq,
		    err, sizeof(err)) != 0)
			die("update_step", err);
		if ((i + 1) % batch == 0 || i + 1 == n) {
			if (store_flush(s, err, sizeof(err)) != 0)
				die("flush", err);
			flushes++;
		}
	}
	t = now_s() - t0;
	if (store_durable_seq(s) < seq)
		die("run", "a result is not durable");
	printf("%6d %8d %8.3f %12.0f %10.3f\n", batch, n, t, n / t,
	    1000.0 * t / flushes);
}

int
main(int argc, char **argv)
{
	static const int batches[] = { 1, 10, 100, 1000 };
	char tmpl[] = "/var/tmp/bench_store.XXXXXX", path[4096], err[512];
	const char *dir = argc > 1 && argv[1][0] ? argv[1] : NULL;
	int n = argc > 2 ? atoi(argv[2]) : 2000;
	struct store *s;
	size_t i;

	if (n <= 0)
		n = 2000;
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("bench_store: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	if ((s = store_open(&store_sqlite_ops, path, NULL, err,
	    sizeof(err))) == NULL)
		die("open", err);
	printf("store %s, SQLite %s, WAL, synchronous=FULL, %d agents\n",
	    path, sqlite3_libversion(), AGENTS);
	printf("%6s %8s %8s %12s %10s\n", "batch", "results", "seconds",
	    "results/s", "ms/flush");
	for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
		run(s, batches[i], n);
	if (store_close(s, err, sizeof(err)) != 0)
		die("close", err);
	if (dir == tmpl)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
