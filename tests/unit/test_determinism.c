/*
 * test_determinism: docs/semantics.md "Determinism": the clock decides only when a verdict
 * is reported, never which. Random order-saga streams (faults of every kind, disorder
 * within lateness) are judged three ways: the event-time clock as replay does; an
 * external clock advanced only every 37 events (a consumer that lags); and an
 * external clock that never moves until the end of input. The sorted records must
 * be identical, `at` times included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "engine/engine.h"
#include "lib/jbuf.h"
#include "out/records.h"

static const char *CONFIG =
    "flows:\n"
    "  - name: order\n"
    "    deadline: 120s\n"
    "    steps:\n"
    "      OrderPlaced:       { start: true }\n"
    "      PaymentAuthorized: { after: [OrderPlaced], within: 30s, retries: 2 }\n"
    "      PaymentDeclined:   { after: [OrderPlaced], within: 30s, instead_of: [PaymentAuthorized] "
    "}\n"
    "      InventoryReserved: { after: [PaymentAuthorized], within: 10s }\n"
    "      ShippingQuoted:    { after: [PaymentAuthorized], within: 10s }\n"
    "      OrderConfirmed:    { after: [InventoryReserved, ShippingQuoted], within: 5s, "
    "join_within: 3s, end: completed }\n"
    "      OrderCancelled:    { after: [PaymentDeclined], within: 30s, end: compensated }\n"
    "  - name: fan\n"
    "    complete_when: [A, B]\n"
    "    steps:\n"
    "      Go: { start: true }\n"
    "      A:  { after: [Go], within: 8s }\n"
    "      B:  { after_any: [Go], within: 8s, optional: true }\n";

struct gen_ev {
	char corr[16], type[24], id[32];
	int64_t t;
};

static const char *ORDER_STEPS[] = { "OrderPlaced", "PaymentAuthorized", "InventoryReserved",
	"ShippingQuoted", "OrderConfirmed" };

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Each flow: its steps spaced 0.5-14 s apart, some dropped, duplicated, repeated,
 * swapped or made undeclared; flows start 0.3 s apart. Arrival order = event time
 * plus a jitter under 5 s (the default lateness), so no event arrives after the
 * clock decided against it. */
static int generate(struct gen_ev *out, int max, int nflows)
{
	int n = 0;
	for (int f = 0; f < nflows && n + 12 < max; f++) {
		int64_t t = (int64_t)f * 300000000LL;
		char corr[16];
		snprintf(corr, sizeof(corr), "c%d", f);
		int fan = rnd() % 4 == 0;
		const char *fan_steps[] = { "Go", "A", "B" };
		int nst = fan ? 3 : 5;
		for (int s = 0; s < nst; s++) {
			const char *type = fan ? fan_steps[s] : ORDER_STEPS[s];
			if (!fan && s == 1 && rnd() % 6 == 0)
				type = "PaymentDeclined";
			if (rnd() % 10 == 0)
				continue; /* dropped: stalled/missing/abandoned */
			t += 500000000LL + (int64_t)(rnd() % 13500) * 1000000LL;
			struct gen_ev *e = &out[n++];
			snprintf(e->corr, sizeof(e->corr), "%s", corr);
			snprintf(
			    e->type, sizeof(e->type), "%s", rnd() % 40 == 0 ? "Surprise" : type);
			snprintf(e->id, sizeof(e->id), "%s-%d", corr, s);
			e->t = t;
			if (rnd() % 12 == 0) { /* redelivery or repeat */
				out[n] = *e;
				if (rnd() % 2)
					snprintf(out[n].id, sizeof(out[n].id), "%s-%d-r", corr, s);
				n++;
			}
		}
	}
	/* arrival order: by time + jitter in [0, 4.9 s] */
	int64_t *key = malloc(sizeof(int64_t) * (size_t)n);
	for (int i = 0; i < n; i++)
		key[i] = out[i].t + (int64_t)(rnd() % 4900) * 1000000LL;
	for (int i = 1; i < n; i++) { /* insertion sort keeps it simple */
		struct gen_ev e = out[i];
		int64_t k = key[i];
		int j = i - 1;
		for (; j >= 0 && key[j] > k; j--) {
			out[j + 1] = out[j];
			key[j + 1] = key[j];
		}
		out[j + 1] = e;
		key[j + 1] = k;
	}
	free(key);
	return n;
}

struct sinkbuf {
	struct jbuf w;
	char **lines;
	int n, cap;
};

static void keep(struct sinkbuf *b)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->lines = realloc(b->lines, sizeof(char *) * (size_t)b->cap);
	}
	b->lines[b->n++] = strdup(b->w.p);
	jbuf_reset(&b->w);
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	records_anomaly_json(&((struct sinkbuf *)ctx)->w, a);
	keep(ctx);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	records_flow_json(&((struct sinkbuf *)ctx)->w, r);
	keep(ctx);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum mode { EVENT_CLOCK, LAGGING_CLOCK, END_ONLY };

static struct sinkbuf judge(const struct config *cfg, const struct gen_ev *evs, int n, enum mode m)
{
	struct sinkbuf b = { .n = 0 };
	jbuf_init(&b.w, (size_t)16 << 20);
	struct engine_sink sink = { on_anomaly, on_flow, NULL, &b };
	struct engine_opts o = { m == EVENT_CLOCK ? ENGINE_CLOCK_EVENTS : ENGINE_CLOCK_EXTERNAL,
		0 };
	struct engine *e = NULL;
	char err[256];
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)), 0);
	int64_t tmax = INT64_MIN;
	for (int i = 0; i < n; i++) {
		struct event ev = { .event_id = evs[i].id,
			.correlation_id = evs[i].corr,
			.type = evs[i].type,
			.source = "gen",
			.causation_id = "",
			.time_ns = evs[i].t,
			.partition = -1 };
		if (ev.time_ns > tmax)
			tmax = ev.time_ns;
		if (m == LAGGING_CLOCK && i % 37 == 0)
			engine_advance(e, tmax);
		engine_apply(e, &ev);
		if (m == LAGGING_CLOCK && i % 500 == 0)
			assert_int_equal(engine_check(e, err, sizeof(err)), 0);
	}
	if (m != EVENT_CLOCK)
		engine_advance(e, tmax);
	engine_finish(e);
	engine_free(e);
	jbuf_free(&b.w);
	qsort(b.lines, (size_t)b.n, sizeof(char *), cmpstr);
	return b;
}

static void free_buf(struct sinkbuf *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->lines[i]);
	free(b->lines);
}

static void assert_same(const struct sinkbuf *a, const struct sinkbuf *b, const char *what)
{
	for (int i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->lines[i], b->lines[i]) != 0)
			fail_msg("%s differs at record %d:\n  %s\n  %s", what, i, a->lines[i],
			    b->lines[i]);
	assert_int_equal(a->n, b->n);
}

static void test_clock_never_decides_which(void **state)
{
	(void)state;
	char err[4096];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("determinism", CONFIG, strlen(CONFIG), &cfg, err, sizeof(err)), 0);
	enum { MAXEV = 40000 };
	struct gen_ev *evs = malloc(sizeof(*evs) * MAXEV);
	for (uint64_t seed = 1; seed <= 6; seed++) {
		rng = seed * 0x9E3779B97F4A7C15ULL;
		int n = generate(evs, MAXEV, 2500);
		struct sinkbuf a = judge(cfg, evs, n, EVENT_CLOCK);
		struct sinkbuf b = judge(cfg, evs, n, LAGGING_CLOCK);
		struct sinkbuf c = judge(cfg, evs, n, END_ONLY);
		assert_true(a.n > 2500); /* flow records at least, and anomalies */
		int anomalies = 0;
		for (int i = 0; i < a.n; i++)
			anomalies += strstr(a.lines[i], "\"record\":\"anomaly\"") != NULL;
		assert_true(anomalies > 100);
		assert_same(&a, &b, "lagging clock");
		assert_same(&a, &c, "clock at end only");
		free_buf(&a);
		free_buf(&b);
		free_buf(&c);
	}
	free(evs);
	config_free(cfg);
}

static const char *CHAOS =
    "flows:\n"
    "  - name: order\n"
    "    deadline: 40s\n"
    "    lateness: 2s\n"
    "    keys: [pay]\n"
    "    steps:\n"
    "      A: { start: true }\n"
    "      B: { after: [A], within: 5s, retries: 1 }\n"
    "      C: { after: [A], within: 5s, instead_of: [B] }\n"
    "      D: { after_any: [B, C], within: 3s, key: pay }\n"
    "      E: { after: [B, D], join_within: 1s, within: 4s, end: completed }\n"
    "      F: { after: [C], end: compensated }\n"
    "  - name: side\n"
    "    complete_when: [X, Y]\n"
    "    steps:\n"
    "      A: { start: true }\n"
    "      X: { after: [A], within: 2s }\n"
    "      Y: { after: [A], optional: true, within: 1s }\n";

static void count_cb(void *ctx, const struct anomaly *a)
{
	(void)a;
	(*(long *)ctx)++;
}
static void count_flow(void *ctx, const struct flow_record *r)
{
	(void)r;
	(*(long *)ctx)++;
}

/* Random events with disorder far beyond lateness, repeated ids, undeclared types,
 * linked keys, events naming flows, a tiny in-flight bound and both clock modes:
 * the engine's invariants hold after every event and nothing leaks (ASan). */
static void test_chaos_invariants(void **state)
{
	(void)state;
	char err[4096];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("chaos", CHAOS, strlen(CHAOS), &cfg, err, sizeof(err)), 0);
	static const char *types[] = { "A", "B", "C", "D", "E", "F", "X", "Y", "Zzz" };
	for (int mode = 0; mode < 2; mode++) {
		long out = 0;
		struct engine_sink sink = { count_cb, count_flow, NULL, &out };
		struct engine_opts o = { mode ? ENGINE_CLOCK_EXTERNAL : ENGINE_CLOCK_EVENTS, 64 };
		struct engine *e = NULL;
		assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)), 0);
		rng = 42 + (uint64_t)mode;
		int64_t t = 0;
		for (int n = 0; n < 60000; n++) {
			char id[32], corr[32], pay[32];
			t += (int64_t)(rnd() % 400) * 1000000LL;
			int64_t et =
			    t - (int64_t)(rnd() % 12000) * 1000000LL; /* up to 12 s behind */
			snprintf(id, sizeof(id), "i%u", rnd() % 50000);
			snprintf(corr, sizeof(corr), "c%u", rnd() % 300);
			snprintf(pay, sizeof(pay), "p%u", rnd() % 300);
			struct ev_attr attrs[1] = { { "pay", pay } };
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = types[rnd() % 9],
				.source = "chaos",
				.causation_id = "",
				.flow = rnd() % 20 == 0 ? (rnd() % 2 ? "side" : "nosuch") : NULL,
				.time_ns = et,
				.attrs = attrs,
				.nattrs = rnd() % 3 == 0,
				.partition = -1 };
			engine_apply(e, &ev);
			if (mode && n % 50 == 0)
				engine_advance(e, t - 3000000000LL);
			if (engine_check(e, err, sizeof(err)) != 0)
				fail_msg("mode %d, event %d: %s", mode, n, err);
		}
		engine_finish(e);
		assert_int_equal(engine_check(e, err, sizeof(err)), 0);
		assert_true(out > 1000);
		engine_free(e);
	}
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_never_decides_which),
		cmocka_unit_test(test_chaos_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
