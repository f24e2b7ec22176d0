/*
 * history_bench: fills a history store through the real engine and writer for about
 * SECONDS (default 60) of wall time, then measures correlation-id lookups on a
 * read-only connection (the API's and `choreoscope history`'s path).
 *
 * Flows are the bench flow (bench/flows.yaml), 5 events each with one attribute,
 * applied one flow after another with event times 1 ms apart, so each completes and
 * retires (close + lateness) while the next ones run. The producer waits for the
 * writer every 20,000 flows (history_sync), so nothing is dropped and the figure is
 * the writer's sustained rate. Lookups: 10,000 correlation ids drawn uniformly from
 * those written, each a full timeline document (flow row, events, anomalies).
 *
 *   build/release/bench/history_bench DIR [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "engine/engine.h"
#include "lib/jbuf.h"
#include "state/history.h"
#include "state/history_read.h"

static const char *STEPS[5] = { "Placed", "Paid", "Reserved", "Shipped", "Delivered" };
#define LOOKUPS 10000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static long fill(const char *dir, double seconds, struct config *cfg, struct history_stats *st)
{
	char err[4096];
	struct history *h;
	struct engine *e;
	struct log lg = { .level = LOG_LVL_WARN };
	const struct history_opts ho = { .dir = dir,
		.queue_len = 65536,
		.max_attr_bytes = 4096,
		.timeline_bytes = (size_t)32 << 20 };
	if (history_new(&ho, &cfg->graph, &lg, &h, err, sizeof err) < 0) {
		fprintf(stderr, "history_bench: %s\n", err);
		exit(1);
	}
	struct engine_sink sink;
	history_sink(h, &sink);
	const struct engine_opts eo = { ENGINE_CLOCK_EVENTS, 0 };
	if (engine_new(&cfg->graph, &eo, &sink, &e, err, sizeof err) < 0) {
		fprintf(stderr, "history_bench: %s\n", err);
		exit(1);
	}
	history_attach_engine(h, e);
	double t0 = now_s();
	int64_t t = INT64_C(1767225600000000000);
	long i = 0;
	char id[64], corr[48], amount[48];
	struct ev_attr attrs[1] = { { "amount", amount } };
	for (; now_s() - t0 < seconds; i++) {
		snprintf(corr, sizeof corr, "c%09ld", i);
		snprintf(amount, sizeof amount, "%ld.%02ld", i % 1000, i % 100);
		for (int k = 0; k < 5; k++) {
			snprintf(id, sizeof id, "%s-%d", corr, k);
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = STEPS[k],
				.source = "bench",
				.causation_id = "",
				.time_ns = t,
				.attrs = attrs,
				.nattrs = 1,
				.topic = "events",
				.partition = (int32_t)(i % 64),
				.offset = i };
			t += 1000000;
			history_event(h, &ev);
			engine_apply(e, &ev);
		}
		if (i % 20000 == 19999)
			history_sync(h);
	}
	engine_finish(e);
	history_sync(h);
	double dt = now_s() - t0;
	history_stats(h, st);
	engine_free(e);
	history_free(h);
	printf("history_bench: flows=%ld seconds=%.1f flows_per_second=%.0f written=%llu "
	       "dropped=%llu errors=%llu\n",
	    i, dt, (double)i / dt, (unsigned long long)st->writes, (unsigned long long)st->drops,
	    (unsigned long long)st->errors);
	return i;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: history_bench DIR [SECONDS]\n");
		return 2;
	}
	const char *dir = argv[1];
	double seconds = argc > 2 ? atof(argv[2]) : 60;
	char err[4096];
	struct config *cfg = NULL;
	if (config_load("bench/flows.yaml", &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	struct history_stats st;
	long n = fill(dir, seconds, cfg, &st);
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, HISTORY_FILE);
	FILE *f = fopen(path, "rb");
	long bytes = 0;
	if (f && fseek(f, 0, SEEK_END) == 0)
		bytes = ftell(f);
	if (f)
		fclose(f);
	printf("history_bench: bytes=%ld bytes_per_flow=%.0f\n", bytes,
	    st.writes ? (double)bytes / (double)st.writes : 0.0);

	struct history_reader *r;
	if (history_read_open(dir, &r, err, sizeof err) < 0) {
		fprintf(stderr, "history_bench: %s\n", err);
		return 1;
	}
	static double lat[LOOKUPS];
	struct jbuf b;
	jbuf_init(&b, (size_t)16 << 20);
	srand(1);
	int found = 0;
	for (int k = 0; k < LOOKUPS; k++) {
		char corr[48];
		long i = (long)(((double)rand() / ((double)RAND_MAX + 1)) * (double)n);
		snprintf(corr, sizeof corr, "c%09ld", i);
		jbuf_reset(&b);
		double t0 = now_s();
		found += history_read_flow(r, "bench", corr, &b, err, sizeof err) == 1;
		lat[k] = (now_s() - t0) * 1e3;
	}
	qsort(lat, LOOKUPS, sizeof lat[0], cmp_d);
	printf("history_bench: lookups=%d found=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", LOOKUPS,
	    found, lat[LOOKUPS / 2], lat[LOOKUPS * 99 / 100], lat[LOOKUPS - 1]);
	jbuf_free(&b);
	history_read_close(r);
	config_free(cfg);
	return found == LOOKUPS ? 0 : 1;
}
