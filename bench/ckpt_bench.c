/*
 * ckpt_bench: checkpoint size and restore time of N in-flight flows (default
 * 1,000,000), through the real durable-state code: engine_state_export + ckpt_write
 * (the daemon's checkpoint round for one partition), then ckpt_read +
 * engine_state_import into a fresh engine (the daemon's restore on assignment).
 *
 * The flows are those of engine_bench (bench/flows.yaml, 5 steps), stopped after
 * step 2 of every flow so that each one holds two applied steps and an armed
 * deadline, all tagged with one source (one partition). Restore is timed three
 * times, each into a new engine, from the file on disk (the page cache is warm: a
 * restart on the same host reads a file it wrote moments ago). The restored engine
 * must hold exactly the N flows, else the bench fails.
 *
 *   build/release/bench/ckpt_bench [N [DIR]]     DIR: where the file goes (a temp dir)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/engine_state.h"
#include "state/checkpoint.h"

static const char *CONFIG_PATH = "bench/flows.yaml";
static const char *STEPS[2] = { "Placed", "Paid" };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	(void)ctx;
	(void)a;
}
static void on_flow(void *ctx, const struct flow_record *r)
{
	(void)ctx;
	(void)r;
}

static int fill(struct engine *e, long n)
{
	char corr[24], id[40];
	int64_t t = INT64_C(1767225600000000000);

	engine_state_set_source(e, 1);
	for (int k = 0; k < 2; k++)
		for (long i = 0; i < n; i++) {
			snprintf(corr, sizeof corr, "c%09ld", i);
			snprintf(id, sizeof id, "e%ld-%d", i, k);
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = STEPS[k],
				.source = "bench",
				.causation_id = "",
				.time_ns = t,
				.partition = 0 };
			t += 1000;
			if (engine_apply(e, &ev) != 0)
				return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char tmpl[] = "/tmp/ckpt_bench.XXXXXX", err[4096];
	const char *dir = argc > 2 ? argv[2] : mkdtemp(tmpl);
	struct config *cfg = NULL;
	struct engine_sink sink = { on_anomaly, on_flow, NULL, NULL };
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, (size_t)n + 16 };
	struct engine *e = NULL;
	struct es_buf b = { 0 };
	int rc = 1;

	if (dir == NULL || config_load(CONFIG_PATH, &cfg, err, sizeof err) ||
	    engine_new(&cfg->graph, &o, &sink, &e, err, sizeof err) || fill(e, n) < 0) {
		fprintf(stderr, "ckpt_bench: setup: %s\n", err);
		return 1;
	}
	struct ckpt_meta m = { .topic = "bench",
		.partition = 0,
		.offset = 2 * n,
		.part_clock_ns = engine_stats(e)->tmax_ns,
		.engine_clock_ns = engine_stats(e)->tmax_ns,
		.written_ns = 0,
		.fingerprint = engine_state_fingerprint(e) };
	double t0 = now_s();
	long k = engine_state_export(e, 1, &b);
	double t1 = now_s();
	m.instances = (uint32_t)k;
	if (k != n || ckpt_write(dir, &m, b.p, b.len, err, sizeof err) < 0) {
		fprintf(stderr, "ckpt_bench: export %ld of %ld flows: %s\n", k, n, err);
		goto out;
	}
	double t2 = now_s();
	printf("ckpt_bench: flows=%ld state_bytes=%zu bytes_per_flow=%.1f export_s=%.3f "
	       "write_fsync_s=%.3f\n",
	    n, b.len, (double)b.len / (double)n, t1 - t0, t2 - t1);
	engine_free(e);
	e = NULL;
	for (int r = 0; r < 3; r++) {
		struct ckpt_meta rm;
		void *st = NULL;
		size_t len = 0;
		struct engine *f = NULL;
		if (engine_new(&cfg->graph, &o, &sink, &f, err, sizeof err)) {
			fprintf(stderr, "ckpt_bench: %s\n", err);
			goto out;
		}
		double r0 = now_s();
		int got = ckpt_read(
		    dir, "bench", 0, engine_state_fingerprint(f), &rm, &st, &len, err, sizeof err);
		double r1 = now_s();
		long imp = got == 1 ? engine_state_import(f, 1, st, len, err, sizeof err) : -1;
		engine_advance(f, rm.engine_clock_ns);
		double r2 = now_s();
		free(st);
		size_t have = engine_state_count(f, 1);
		engine_free(f);
		if (imp != n || have != (size_t)n) {
			fprintf(stderr, "ckpt_bench: restored %ld (%zu) of %ld flows: %s\n", imp,
			    have, n, err);
			goto out;
		}
		printf("ckpt_bench: restore run=%d read_s=%.3f import_s=%.3f restore_s=%.3f\n", r,
		    r1 - r0, r2 - r1, r2 - r0);
	}
	rc = 0;
out : {
	char path[4096];
	if (ckpt_path(path, sizeof path, dir, "bench", 0) == 0)
		unlink(path);
	if (argc <= 2)
		rmdir(dir);
}
	engine_state_buf_free(&b);
	engine_free(e);
	config_free(cfg);
	return rc;
}
