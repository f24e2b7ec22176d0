/*
 * engine_bench: the engine alone (events already decoded), 5-step flows, N distinct
 * correlation ids in flight at the peak (default 1,000,000).
 *
 * Phase k applies step k of every flow, so after phase 1 all N flows are open at
 * once; event times advance 1 us per event, well inside every deadline, so the
 * timers are armed and moved but never fire (the common case in production).
 * Reports events/s over all phases and the RSS growth per in-flight flow, measured
 * after phase 1 against the RSS before the engine was created.
 *
 * A second argument names another config whose first flow is the bench flow (the
 * declared-flows benchmark adds idle flows to it); the config's load time and the
 * engine's work counter are printed too.
 *
 *   build/release/bench/engine_bench [N [CONFIG]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "engine/engine.h"

/* The flow every benchmark uses: bench/flows.yaml (run from the repository root). */
static const char *CONFIG_PATH = "bench/flows.yaml";

static const char *STEPS[5] = { "Placed", "Paid", "Reserved", "Shipped", "Delivered" };

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t nanomalies, nflows;
static void on_anomaly(void *ctx, const struct anomaly *a)
{
	(void)ctx;
	(void)a;
	nanomalies++;
}
static void on_flow(void *ctx, const struct flow_record *r)
{
	(void)ctx;
	(void)r;
	nflows++;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *path = argc > 2 ? argv[2] : CONFIG_PATH;
	char err[4096];
	struct config *cfg = NULL;
	double t0 = now_s();
	if (config_load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double load_s = now_s() - t0;
	/* keys and ids, generated up front: 12 bytes per correlation id */
	char *corr = malloc((size_t)n * 12);
	for (long i = 0; i < n; i++)
		snprintf(corr + i * 12, 12, "c%09ld", i % 1000000000L);
	char idbuf[32];

	long rss0 = rss_kib();
	struct engine_sink sink = { on_anomaly, on_flow, NULL, NULL };
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, (size_t)n + 16 };
	struct engine *e = NULL;
	if (engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int64_t t = INT64_C(1767225600000000000);
	long rss1 = 0;
	size_t mem1 = 0;
	double start = now_s();
	for (int k = 0; k < 5; k++) {
		for (long i = 0; i < n; i++) {
			snprintf(idbuf, sizeof(idbuf), "e%ld-%d", i, k);
			struct event ev = { .event_id = idbuf,
				.correlation_id = corr + i * 12,
				.type = STEPS[k],
				.source = "bench",
				.causation_id = "",
				.time_ns = t,
				.partition = -1 };
			t += 1000;
			engine_apply(e, &ev);
		}
		if (k == 0) {
			rss1 = rss_kib();
			mem1 = engine_memory(e);
		}
	}
	double secs = now_s() - start;
	engine_finish(e);
	double total = 5.0 * (double)n;
	printf("engine_bench: flows=%ld events=%.0f seconds=%.3f events_per_second=%.0f\n", n,
	    total, secs, total / secs);
	printf("engine_bench: in_flight_peak=%ld rss_growth_bytes_per_flow=%.1f "
	       "engine_memory_bytes_per_flow=%.1f\n",
	    n, (double)(rss1 - rss0) * 1024.0 / (double)n, (double)mem1 / (double)n);
	printf("engine_bench: anomalies=%llu flow_records=%llu\n", (unsigned long long)nanomalies,
	    (unsigned long long)nflows);
	printf("engine_bench: declared_flows=%d config_load_seconds=%.3f work_per_event=%.3f\n",
	    cfg->graph.nflows, load_s, (double)engine_work(e) / total);
	engine_free(e);
	config_free(cfg);
	free(corr);
	return nanomalies == 0 && nflows == (uint64_t)n ? 0 : 1;
}
