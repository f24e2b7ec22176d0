/*
 * test_engine_cost: per-event engine work does not depend on how many flows are
 * declared (issue #15). The same events, with timers that fire, undeclared types
 * and events naming their flow, are applied under configs declaring 16, 1,000 and
 * 4,000 flows (the extra flows idle); the work counter (clocks advanced plus flows
 * asked, engine_work) and the verdicts must be identical. Counted operations, not
 * time. The same with the idle flows spread over 50 latenesses (50 clocks: still one
 * watermark advance per event), and with the clock driven from outside as the daemon
 * does (a tick before each event, then idle ticks: each costs one advance, whatever
 * the flows and clocks declared). Also: the key index against a naive model, and an
 * undeclared event that is unexpected in two flows among thousands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/keyidx.h"

struct buf {
	char *s;
	size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int m = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if ((size_t)m < b->cap - b->n) {
			b->n += (size_t)m;
			return;
		}
		b->cap = b->cap * 2 + (size_t)m + 64;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
}

/* "order" (3 steps, 2 s each, deadline 10 s), "refund" (2 steps, keyed by
 * attribute `order`), both of lateness 1 s, then idle flows up to n in all, of
 * nlat latenesses (1 s, 1.1 s, ...; nlat 1: all 1 s). */
static char *make_config_lat(int n, int nlat)
{
	struct buf b = { 0 };
	bprintf(&b,
	    "flows:\n"
	    "  - name: order\n    lateness: 1s\n    deadline: 10s\n    steps:\n"
	    "      Placed: { start: true }\n      Paid: { after: [Placed], within: 2s }\n"
	    "      Shipped: { after: [Paid], within: 2s, end: completed }\n"
	    "  - name: refund\n    lateness: 1s\n    keys: [order]\n    steps:\n"
	    "      Asked: { start: true }\n      Refunded: { after: [Asked], within: 2s, end: "
	    "completed }\n");
	for (int k = 2; k < n; k++)
		bprintf(&b,
		    "  - name: idle%d\n    lateness: %dms\n    steps:\n"
		    "      A%d: { start: true }\n      B%d: { after: [A%d], within: 5s, end: "
		    "completed }\n",
		    k, 1000 + 100 * (k % nlat), k, k, k);
	return b.s;
}

static char *make_config(int n) { return make_config_lat(n, 1); }

struct run {
	struct buf verdicts;
	uint64_t work;
	uint64_t idle_work; /* ticked runs: the work of the idle ticks at the end */
};

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	struct run *r = ctx;
	bprintf(&r->verdicts, "%s %s %s %s %lld\n", a->flow->name, a->correlation_id,
	    an_kind_name(a->kind), a->step ? a->step : "-", (long long)a->at_ns);
}

static void on_flow(void *ctx, const struct flow_record *f)
{
	struct run *r = ctx;
	bprintf(&r->verdicts, "flow %s %s %s\n", f->flow->name, f->correlation_id, f->outcome);
}

/* The same 3,000 events under nflows declared flows of nlat latenesses. ticked: the
 * clock driven from outside (ENGINE_CLOCK_EXTERNAL), a tick to the event's time
 * before each event, then 1,000 idle ticks 250 ms apart; else event time. */
static void run_events(int nflows, int nlat, int ticked, struct run *r)
{
	char *yaml = make_config_lat(nflows, nlat);
	struct config *cfg = NULL;
	char err[512];
	assert_int_equal(
	    config_load_string("cost.yaml", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
	struct engine_sink sink = { on_anomaly, on_flow, NULL, r };
	struct engine_opts o = { ticked ? ENGINE_CLOCK_EXTERNAL : ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof err), 0);
	uint64_t seed = 7;
	int64_t t = INT64_C(1767225600000000000);
	char id[32], corr[32], other[32];
	for (int i = 0; i < 3000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int c = (int)((seed >> 33) % 400), what = (int)((seed >> 20) % 8);
		snprintf(corr, sizeof corr, "o%d", c);
		snprintf(other, sizeof other, "x%d", c);
		snprintf(id, sizeof id, "e%d", i);
		static const char *types[8] = { "Placed", "Paid", "Shipped", "Asked", "Refunded",
			"Audited", "Audited", "Placed" };
		struct ev_attr at = { "order", corr };
		struct event ev = { .event_id = id,
			.correlation_id = what == 6 ? other : corr,
			.type = types[what],
			.source = "t",
			.causation_id = "",
			.time_ns = t,
			.partition = -1 };
		if (what == 3 || what == 4) { /* refund keyed by its own id, linked by order */
			snprintf(other, sizeof other, "r%d", c);
			ev.correlation_id = other;
			ev.attrs = &at;
			ev.nattrs = 1;
		}
		if (what == 7)
			ev.flow = "order"; /* routed by the flow it names */
		while (ticked && engine_advance_some(e, t, 4))
			; /* small budget: resumed ticks count too */
		engine_apply(e, &ev);
		t += 37 * 1000000; /* 37 ms: deadlines of 2 s and 10 s fire */
	}
	if (ticked) {
		t += 60 * INT64_C(1000000000); /* every deadline of the events passes */
		engine_advance(e, t);
		uint64_t before = engine_work(e);
		for (int k = 0; k < 1000; k++)
			engine_advance_some(e, t += 250 * 1000000, 4);
		r->idle_work = engine_work(e) - before;
	}
	engine_finish(e);
	r->work = engine_work(e);
	char cerr[256];
	assert_int_equal(engine_check(e, cerr, sizeof cerr), 0);
	engine_free(e);
	config_free(cfg);
	free(yaml);
}

static void test_work_independent_of_declared_flows(void **state)
{
	(void)state;
	static const int N[] = { 16, 1000, 4000 };
	struct run r[3] = { 0 };
	for (int k = 0; k < 3; k++)
		run_events(N[k], 1, 0, &r[k]);
	assert_true(strstr(r[0].verdicts.s, "stalled") != NULL); /* timers did fire */
	assert_true(strstr(r[0].verdicts.s, "unexpected") != NULL);
	assert_true(strstr(r[0].verdicts.s, "flow refund") != NULL);
	for (int k = 1; k < 3; k++) {
		printf("flows=%d work=%llu (flows=%d: %llu)\n", N[k], (unsigned long long)r[k].work,
		    N[0], (unsigned long long)r[0].work);
		assert_int_equal(r[k].work, r[0].work);
		assert_string_equal(r[k].verdicts.s, r[0].verdicts.s);
	}
	/* bounded: one clock (one lateness) per event plus at most the flows asked */
	assert_true(r[0].work <= 3000 * 3 + 16);
	for (int k = 0; k < 3; k++)
		free(r[k].verdicts.s);
}

/* Idle flows of 50 latenesses add 49 clocks that no event ever makes due: the work
 * (one watermark advance per event, plus the clocks with a deadline due) and the
 * verdicts equal those of one lateness and 16 flows. */
static void test_work_independent_of_latenesses(void **state)
{
	(void)state;
	struct run one = { 0 }, many = { 0 };
	run_events(16, 1, 0, &one);
	run_events(4000, 50, 0, &many);
	printf("flows=4000 latenesses=50 work=%llu (flows=16, one lateness: %llu)\n",
	    (unsigned long long)many.work, (unsigned long long)one.work);
	assert_int_equal(many.work, one.work);
	assert_string_equal(many.verdicts.s, one.verdicts.s);
	free(one.verdicts.s);
	free(many.verdicts.s);
}

/* The daemon's periodic work: ticks of an external clock cost one advance each plus
 * the deadlines due, the same with 16 flows and one clock as with 4,000 flows and 50
 * clocks; 1,000 idle ticks cost exactly 1,000. */
static void test_ticks_independent_of_declared_flows(void **state)
{
	(void)state;
	struct run one = { 0 }, many = { 0 };
	run_events(16, 1, 1, &one);
	run_events(4000, 50, 1, &many);
	printf("ticked: flows=4000 latenesses=50 work=%llu idle=%llu (flows=16: %llu idle=%llu)\n",
	    (unsigned long long)many.work, (unsigned long long)many.idle_work,
	    (unsigned long long)one.work, (unsigned long long)one.idle_work);
	assert_true(strstr(one.verdicts.s, "stalled") != NULL);
	assert_int_equal(many.work, one.work);
	assert_int_equal(one.idle_work, 1000);
	assert_int_equal(many.idle_work, 1000);
	assert_string_equal(many.verdicts.s, one.verdicts.s);
	free(one.verdicts.s);
	free(many.verdicts.s);
}

/* The key index against a naive count table, through adds and deletes. */
static void test_keyidx_model(void **state)
{
	(void)state;
	enum { H = 50, F = 7 };
	static int model[H][F];
	struct keyidx *k = keyidx_new();
	uint64_t seed = 1;
	for (int step = 0; step < 20000; step++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int h = (int)((seed >> 33) % H), f = (int)((seed >> 45) % F);
		uint32_t hash = (uint32_t)h * 0x9e3779b1u % 97; /* collisions on purpose */
		if ((seed >> 20) % 3 == 0 && model[h][f] > 0) {
			keyidx_del(k, hash, (uint16_t)f);
			model[h][f]--;
		} else {
			keyidx_add(k, hash, (uint16_t)f);
			model[h][f]++;
		}
		int hh = (int)((seed >> 10) % H);
		uint32_t qh = (uint32_t)hh * 0x9e3779b1u % 97;
		uint16_t out[64];
		int n = keyidx_flows(k, qh, out, 64);
		int want = 0;
		for (int x = 0; x < H; x++)
			for (int y = 0; y < F; y++)
				if (model[x][y] > 0 && (uint32_t)x * 0x9e3779b1u % 97 == qh)
					want++;
		assert_int_equal(n, want);
	}
	keyidx_free(k);
}

static void test_undeclared_unexpected_in_each_holder(void **state)
{
	(void)state;
	char *yaml = make_config(3000);
	struct config *cfg = NULL;
	char err[512];
	assert_int_equal(
	    config_load_string("cost.yaml", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
	struct run r = { 0 };
	struct engine_sink sink = { on_anomaly, on_flow, NULL, &r };
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof err), 0);
	int64_t t = INT64_C(1767225600000000000);
	struct event a = { .event_id = "1",
		.correlation_id = "k",
		.type = "Placed",
		.source = "s",
		.causation_id = "",
		.time_ns = t,
		.partition = -1 };
	struct event b = a;
	b.event_id = "2";
	b.type = "A2999";
	struct event u = a;
	u.event_id = "3";
	u.type = "Nobody";
	struct event v = u;
	v.event_id = "4";
	v.correlation_id = "unknown";
	assert_int_equal(engine_apply(e, &a), 0);
	assert_int_equal(engine_apply(e, &b), 0);
	assert_int_equal(engine_apply(e, &u), 0);
	assert_int_equal(engine_apply(e, &v), 1); /* unmatched */
	assert_non_null(strstr(r.verdicts.s, "order k unexpected"));
	assert_non_null(strstr(r.verdicts.s, "idle2999 k unexpected"));
	assert_true(strstr(r.verdicts.s, "order k unexpected") <
	    strstr(r.verdicts.s, "idle2999 k unexpected"));
	engine_free(e);
	config_free(cfg);
	free(yaml);
	free(r.verdicts.s);
}

/* At max_flows the oldest instance of all flows goes first, found without asking
 * every flow: starts spread over several flows evict in creation order. */
static void test_eviction_oldest_across_flows(void **state)
{
	(void)state;
	char *yaml = make_config(40);
	struct config *cfg = NULL;
	char err[512];
	assert_int_equal(
	    config_load_string("cost.yaml", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
	struct run r = { 0 };
	struct engine_sink sink = { on_anomaly, on_flow, NULL, &r };
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, 5 };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof err), 0);
	struct buf want = { 0 };
	char id[16], corr[16], type[16];
	int flows[200];
	for (int k = 0; k < 200; k++) {
		flows[k] = 2 + (k * 7) % 38; /* idle2..idle39, revisited out of order */
		snprintf(id, sizeof id, "e%d", k);
		snprintf(corr, sizeof corr, "c%d", k);
		snprintf(type, sizeof type, "A%d", flows[k]);
		struct event ev = { .event_id = id,
			.correlation_id = corr,
			.type = type,
			.source = "s",
			.causation_id = "",
			.time_ns = INT64_C(1767225600000000000) + k,
			.partition = -1 };
		assert_int_equal(engine_apply(e, &ev), 0);
		if (k >= 5)
			bprintf(&want, "flow idle%d c%d evicted\n", flows[k - 5], k - 5);
	}
	assert_string_equal(r.verdicts.s, want.s);
	char cerr[256];
	assert_int_equal(engine_check(e, cerr, sizeof cerr), 0);
	engine_free(e);
	config_free(cfg);
	free(yaml);
	free(r.verdicts.s);
	free(want.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_independent_of_declared_flows),
		cmocka_unit_test(test_work_independent_of_latenesses),
		cmocka_unit_test(test_ticks_independent_of_declared_flows),
		cmocka_unit_test(test_keyidx_model),
		cmocka_unit_test(test_undeclared_unexpected_in_each_holder),
		cmocka_unit_test(test_eviction_oldest_across_flows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
