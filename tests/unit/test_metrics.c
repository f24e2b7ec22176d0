/*
 * test_metrics: the Prometheus exposition rendered from metrics counters.
 * Table-driven: each case names a line that must (or must not) appear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_fixture.h"
#include "decode/kafka_decode.h"
#include "out/metrics.h"

static struct metrics *mk(void)
{
	struct metrics *m = NULL;
	char err[256];
	struct metrics_opts o = { .graph = &fixture_graph, .version = "9.9.9" };
	assert_int_equal(metrics_new(&o, &m, err, sizeof(err)), 0);
	return m;
}

static char *render(struct metrics *m, struct jbuf *b)
{
	jbuf_init(b, 1 << 24);
	assert_int_equal(metrics_render(m, b), 0);
	metrics_render_process(m, b);
	return b->p;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* Every declared series exists at 0 before anything happened. */
static void test_declared_series_at_zero(void **state)
{
	(void)state;
	static const char *const want[] = {
		"choreoscope_build_info{version=\"9.9.9\"} 1",
		"choreoscope_ready 0",
		"choreoscope_flows_started_total{flow=\"order\"} 0",
		"choreoscope_flows_started_total{flow=\"refund\"} 0",
		"choreoscope_flows_in_flight{flow=\"order\"} 0",
		"choreoscope_flows_closed_total{flow=\"order\",outcome=\"completed\"} 0",
		"choreoscope_flows_closed_total{flow=\"order\",outcome=\"compensated\"} 0",
		"choreoscope_flows_closed_total{flow=\"order\",outcome=\"abandoned\"} 0",
		"choreoscope_flows_closed_total{flow=\"order\",outcome=\"evicted\"} 0",
		"choreoscope_anomalies_total{flow=\"order\",kind=\"stalled\",step="
		"\"InventoryReserved\"} 0",
		"choreoscope_anomalies_total{flow=\"refund\",kind=\"abandoned\",step="
		"\"RefundIssued\"} 0",
		"choreoscope_flows_stalled{flow=\"order\",step=\"ShippingQuoted\"} 0",
		"choreoscope_oldest_stall_age_seconds{flow=\"order\",step=\"ShippingQuoted\"} 0",
		"choreoscope_flows_evicted_total{flow=\"order\",step=\"OrderConfirmed\"} 0",
		"choreoscope_events_rejected_total{reason=\"malformed_json\"} 0",
		"choreoscope_events_rejected_total{reason=\"time_out_of_range\"} 0",
		"choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\","
		"le=\"+Inf\"} 0",
		"choreoscope_flow_duration_seconds_count{flow=\"order\",outcome=\"completed\"} 0",
		"choreoscope_http_requests_total{code=\"404\"} 0",
		"# TYPE choreoscope_step_latency_seconds histogram",
	};
	struct metrics *m = mk();
	struct jbuf b;
	const char *t = render(m, &b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!has_line(t, want[i]))
			fail_msg("missing line: %s", want[i]);
	}
	/* 7 steps x 10 kinds + 2 x 10 */
	int n = 0;
	for (const char *p = t; (p = strstr(p, "\nchoreoscope_anomalies_total{")) != NULL; p++)
		n++;
	assert_int_equal(n, 90);
	assert_non_null(strstr(t, "process_start_time_seconds "));
	assert_non_null(strstr(t, "process_resident_memory_bytes "));
	jbuf_free(&b);
	metrics_free(m);
}

struct obs {
	int step;
	double seconds;
};

/* Histogram buckets are cumulative, _sum and _count agree, quantiles interpolate.
 * PaymentAuthorized has `within: 30s`: its bounds are 30 s x the deadline fractions. */
static void test_histograms(void **state)
{
	(void)state;
	static const struct obs obs[] = { { 1, 0.004 }, { 1, 2 }, { 1, 2 }, { 1, 29 }, { 1, 400 } };
	static const char *const want[] = {
		"choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\","
		"le=\"3\"} 3",
		"choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\","
		"le=\"27\"} 3",
		"choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\","
		"le=\"30\"} 4",
		"choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\","
		"le=\"300\"} 4",
		"choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\","
		"le=\"+Inf\"} 5",
		"choreoscope_step_latency_seconds_count{flow=\"order\",step=\"PaymentAuthorized\"} "
		"5",
		"choreoscope_step_latency_seconds_sum{flow=\"order\",step=\"PaymentAuthorized\"} "
		"433.004",
		"choreoscope_flow_duration_seconds_bucket{flow=\"order\",outcome=\"compensated\","
		"le=\"5\"} 1",
	};
	struct metrics *m = mk();
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		metrics_observe_step(m, 0, obs[i].step, obs[i].seconds, FG_BIT(0), NULL);
	metrics_observe_flow(m, 0, metrics_outcome_index(m, 0, "compensated"), 3.0);
	struct jbuf b;
	const char *t = render(m, &b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(t, want[i]))
			fail_msg("missing line: %s", want[i]);
	struct mx_flow *mf = metrics_flow(m, 0);
	assert_int_equal(mf->edge_count[1][0], 5);
	double p50 = metrics_hist_quantile(m, &mf->step_latency[1], 1, 0.5);
	assert_true(p50 > 0 && p50 <= 3);
	assert_true(isnan(metrics_hist_quantile(m, &mf->step_latency[3], 1, 0.5)));
	jbuf_free(&b);
	metrics_free(m);
}

/* One change of each kind of value a flow's series show, applied to m. */
static void change(struct metrics *m, int k)
{
	struct mx_flow *mf = metrics_flow(m, k % 2);
	mf->used = 1;
	switch (k / 2) {
	case 0: mf->started += 3; break;
	case 1: mf->in_flight = 7; break;
	case 2: mf->closed[1] += 2; break;
	case 3: mf->anomalies[1][4]++; break;
	case 4: mf->stalled_now[0] = 5; break;
	case 5: mf->awaiting_now[1] = 9; break;
	case 6: mf->oldest_stall_s[0] = 12.5; break;
	case 7: mf->evicted[1]++; break;
	case 8: snprintf(mf->example[1][0], MX_EXAMPLE_LEN, "ex-%d", k); break;
	case 9:
		metrics_observe_step(m, k % 2, 1, 0.25, FG_BIT(0), k % 3 ? "svc-a" : "svc-b");
		break;
	case 10: metrics_observe_flow(m, k % 2, 0, 4.0); break;
	}
}

/* metrics_render re-renders only flows whose values changed since the last render
 * (a fingerprint per flow): after each kind of change, a collector rendered all
 * along shows the same text as one rendered for the first time. */
static void test_render_cache_follows_every_change(void **state)
{
	(void)state;
	struct metrics *warm = mk();
	struct jbuf wb, cb;
	jbuf_init(&wb, 1 << 24);
	jbuf_init(&cb, 1 << 24);
	for (int k = 0; k < 22; k++) {
		assert_int_equal(metrics_render(warm, &wb), 0);
		char *before = strdup(wb.p);
		change(warm, k);
		struct metrics *cold = mk();
		for (int j = 0; j <= k; j++)
			change(cold, j);
		assert_int_equal(metrics_render(warm, &wb), 0);
		assert_int_equal(metrics_render(cold, &cb), 0);
		assert_string_equal(wb.p, cb.p);
		assert_string_not_equal(wb.p, before); /* every change shows */
		free(before);
		metrics_free(cold);
	}
	jbuf_free(&wb);
	jbuf_free(&cb);
	metrics_free(warm);
}

/* Past its cap the exposition leaves out the flows never used (all 0), then, if
 * still too big, every per-flow series, and says so, rather than ending mid-line. */
static void test_render_over_cap(void **state)
{
	(void)state;
	struct metrics *m = mk();
	struct jbuf b, full;
	jbuf_init(&b, 1 << 24);
	jbuf_init(&full, 1 << 24);
	metrics_flow(m, 1)->used = 1; /* refund in use, order never */
	metrics_flow(m, 1)->started = 4;
	assert_int_equal(metrics_render(m, &full), 0);
	size_t cap = full.len - 100; /* everything does not fit */
	jbuf_free(&b);
	jbuf_init(&b, cap);
	assert_int_equal(metrics_render(m, &b), -1);
	assert_false(b.overflow);
	assert_true(has_line(b.p, "choreoscope_ready 0"));
	assert_true(has_line(b.p, "choreoscope_flows_started_total{flow=\"refund\"} 4"));
	assert_null(strstr(b.p, "{flow=\"order\""));
	assert_non_null(strstr(b.p, "# choreoscope: 1 of 2 declared flows never held an instance"));
	assert_int_equal(b.p[b.len - 1], '\n');
	jbuf_free(&b);
	jbuf_init(&b, 4096); /* not even the flow in use */
	assert_int_equal(metrics_render(m, &b), -1);
	assert_true(has_line(b.p, "choreoscope_ready 0"));
	assert_null(strstr(b.p, "choreoscope_flows_started_total{"));
	assert_non_null(
	    strstr(b.p, "# choreoscope: the per-flow series of 2 flows do not fit in 4096 bytes"));
	jbuf_free(&b);
	jbuf_free(&full);
	metrics_free(m);
}

struct bounds_case {
	int flow, step;
	const char *le[4];  /* bounds that must be there */
	const char *not_le; /* one that must not */
};

/* Bucket bounds per step: fractions and multiples of `within` (10 s: 1 .. 100 s,
 * dense around 10); steps without `within` (start steps) keep the global bounds. */
static void test_bounds_follow_deadlines(void **state)
{
	(void)state;
	static const struct bounds_case cases[] = {
		{ 0, 3, { "1", "9", "10", "11" }, "0.005" },     /* InventoryReserved, within 10s */
		{ 0, 5, { "0.5", "4.5", "5", "50" }, "300" },    /* OrderConfirmed, within 5s */
		{ 1, 1, { "6", "54", "60", "600" }, "0.005" },   /* RefundIssued, within 60s */
		{ 0, 0, { "0.005", "0.01", "1", "300" }, "11" }, /* OrderPlaced: start, global */
	};
	struct metrics *m = mk();
	struct jbuf b;
	const char *t = render(m, &b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bounds_case *c = &cases[i];
		char line[256];
		const char *fl = fixture_graph.flows[c->flow].name;
		const char *st = fixture_graph.flows[c->flow].steps[c->step].name;
		for (int k = 0; k < 4; k++) {
			snprintf(line, sizeof line,
			    "choreoscope_step_latency_seconds_bucket{flow=\"%s\","
			    "step=\"%s\",le=\"%s\"} 0",
			    fl, st, c->le[k]);
			if (!has_line(t, line))
				fail_msg("case %zu: missing line: %s", i, line);
		}
		snprintf(line, sizeof line,
		    "choreoscope_step_latency_seconds_bucket{flow=\"%s\","
		    "step=\"%s\",le=\"%s\"} 0",
		    fl, st, c->not_le);
		if (has_line(t, line))
			fail_msg("case %zu: unexpected line: %s", i, line);
	}
	jbuf_free(&b);
	metrics_free(m);
}

struct p95_case {
	double seconds; /* every observation of InventoryReserved (within 10s) */
	double lo, hi;  /* the p95 estimate must be in [lo, hi] */
};

/* Near the deadline the p95 estimate stays on the same side of it as the latencies
 * (so p95 and STUCK agree), within 10 % of `within`; the global bounds would have
 * put a 10.5 s latency anywhere in (10, 30]. */
static void test_p95_near_deadline(void **state)
{
	(void)state;
	static const struct p95_case cases[] = {
		{ 9.5, 9, 10 },
		{ 10.5, 10, 11 },
		{ 10.05, 10, 11 },
		{ 9.95, 9, 10 },
		{ 14, 12.5, 15 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metrics *m = mk();
		for (int k = 0; k < 100; k++)
			metrics_observe_step(m, 0, 3, cases[i].seconds, FG_BIT(1), NULL);
		struct mx_flow *mf = metrics_flow(m, 0);
		double p = metrics_hist_quantile(m, &mf->step_latency[3], 1, 0.95);
		double e = metrics_hist_quantile(m, &mf->edge_latency[3 * 7 + 1], 1, 0.95);
		if (!(p >= cases[i].lo && p <= cases[i].hi) || p != e)
			fail_msg("case %zu: %g s -> p95 %g (edge %g), want [%g, %g]", i,
			    cases[i].seconds, p, e, cases[i].lo, cases[i].hi);
		metrics_free(m);
	}
}

struct example_step {
	int kind, step;
	const char *corr;
	int64_t at_s;
};

/* Examples: one series per (flow, step, kind) with the latest stalled/abandoned
 * instance, held 30 s before a newer one replaces it; other kinds, undeclared steps
 * and out-of-range flows are ignored; long ids are cut on a UTF-8 boundary. */
static void test_examples(void **state)
{
	(void)state;
	char longid[300];
	memset(longid, 'a', sizeof longid);
	memcpy(longid + 126, "\xc3\xa9\xc3\xa9", 4); /* a 2-byte char across byte 127 */
	longid[sizeof longid - 1] = '\0';
	const struct example_step steps[] = {
		{ 0, 3, "o-1", 100 }, { 0, 3, "o-2", 110 }, /* o-2 within the hold: o-1 stays */
		{ 9, 3, "o-3", 111 }, { 4, 3, "o-4", 111 }, /* abandoned kept; duplicate ignored */
		{ 0, -1, "o-5", 111 }, { 0, 4, longid, 100 }, { 0, 4, "o-6", 131 }, /* 31 s later */
	};
	struct metrics *m = mk();
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		metrics_note_example(
		    m, 0, steps[i].step, steps[i].kind, steps[i].corr, steps[i].at_s * 1000000000);
	metrics_note_example(m, 5, 0, 0, "nope", 0);
	struct jbuf b;
	const char *t = render(m, &b);
	static const char *const want[] = {
		"choreoscope_anomaly_example_info{flow=\"order\",step=\"InventoryReserved\",kind="
		"\"stalled\",correlation_id=\"o-1\"} 1",
		"choreoscope_anomaly_example_info{flow=\"order\",step=\"InventoryReserved\",kind="
		"\"abandoned\",correlation_id=\"o-3\"} 1",
		"choreoscope_anomaly_example_info{flow=\"order\",step=\"ShippingQuoted\",kind="
		"\"stalled\",correlation_id=\"o-6\"} 1",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(t, want[i]))
			fail_msg("missing line: %s", want[i]);
	int n = 0;
	for (const char *p = t; (p = strstr(p, "\nchoreoscope_anomaly_example_info{")) != NULL; p++)
		n++;
	assert_int_equal(n, 3);
	jbuf_free(&b);
	/* the cut: 126 'a's, not half of the 'é' */
	metrics_note_example(m, 0, 5, 0, longid, 0);
	assert_int_equal(strlen(metrics_flow(m, 0)->example[5][0]), 126);
	metrics_free(m);
}

/* Counters and gauges written by the engine side show up with their labels. */
static void test_counters_and_labels(void **state)
{
	(void)state;
	struct metrics *m = mk();
	struct mx_flow *mf = metrics_flow(m, 0);
	mf->started = 12;
	mf->in_flight = 3;
	mf->closed[metrics_outcome_index(m, 0, "completed")] = 9;
	mf->anomalies[3][0] = 2;
	mf->anomalies[7][9] = 1; /* no declared step */
	mf->stalled_now[3] = 2;
	mf->oldest_stall_s[3] = 41.5;
	int p = metrics_partition(m, "ev\"ents", 3);
	metrics_consumed(m, p, 100);
	metrics_set_lag(m, p, 17);
	metrics_rejected(m, "bad_time", 4);
	metrics_http_count(m, 404);
	metrics_http_count(m, 999);
	metrics_set_ready(m, 1);
	static const char *const want[] = {
		"choreoscope_flows_started_total{flow=\"order\"} 12",
		"choreoscope_flows_in_flight{flow=\"order\"} 3",
		"choreoscope_flows_closed_total{flow=\"order\",outcome=\"completed\"} 9",
		"choreoscope_anomalies_total{flow=\"order\",kind=\"stalled\",step="
		"\"InventoryReserved\"} 2",
		"choreoscope_anomalies_total{flow=\"order\",kind=\"abandoned\",step=\"\"} 1",
		"choreoscope_flows_stalled{flow=\"order\",step=\"InventoryReserved\"} 2",
		"choreoscope_oldest_stall_age_seconds{flow=\"order\",step=\"InventoryReserved\"} "
		"41.5",
		"choreoscope_events_consumed_total{topic=\"ev\\\"ents\",partition=\"3\"} 100",
		"choreoscope_consumer_lag{topic=\"ev\\\"ents\",partition=\"3\"} 17",
		"choreoscope_events_rejected_total{reason=\"bad_time\"} 4",
		"choreoscope_http_requests_total{code=\"404\"} 1",
		"choreoscope_http_requests_total{code=\"other\"} 1",
		"choreoscope_ready 1",
	};
	struct jbuf b;
	const char *t = render(m, &b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(t, want[i]))
			fail_msg("missing line: %s", want[i]);
	assert_int_equal(metrics_consumed_total(m), 100);
	assert_int_equal(metrics_lag_total(m), 17);
	assert_int_equal(metrics_rejected_total(m), 4);
	jbuf_free(&b);
	metrics_free(m);
}

/* Label sets are bounded: partitions and reasons beyond their limits are dropped and
 * counted, never new series. */
static void test_bounds(void **state)
{
	(void)state;
	struct metrics *m = mk();
	char topic[32];
	for (int i = 0; i < MX_MAX_PARTITIONS; i++) {
		snprintf(topic, sizeof(topic), "t%d", i % 7);
		assert_true(metrics_partition(m, topic, i) >= 0);
	}
	assert_int_equal(metrics_partition(m, "x", 99999), -1);
	for (int i = 0; i < 2 * MX_MAX_REASONS; i++) {
		snprintf(topic, sizeof(topic), "r%d", i);
		metrics_rejected(m, topic, 1);
	}
	struct jbuf b;
	const char *t = render(m, &b);
	/* one partition, and the reasons beyond the table after the pre-declared ones */
	static const char *const declared[] = { KDEC_REASONS };
	char want[64];
	snprintf(want, sizeof(want), "choreoscope_metrics_series_dropped_total %d",
	    1 + 2 * MX_MAX_REASONS -
		(MX_MAX_REASONS - (int)(sizeof(declared) / sizeof(declared[0]))));
	assert_true(has_line(t, want));
	jbuf_free(&b);
	metrics_free(m);
}

static void test_bad_buckets(void **state)
{
	(void)state;
	static const double bad[][3] = { { 1, 0.5, 2 }, { 0, 1, 2 }, { 1, 1, 2 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct metrics *m = NULL;
		char err[256] = "";
		struct metrics_opts o = {
			.graph = &fixture_graph, .latency_buckets = bad[i], .nlatency_buckets = 3
		};
		assert_int_equal(metrics_new(&o, &m, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "latency_buckets"));
	}
}

/* Rendering is cheap: a render of the fixture takes well under a millisecond on
 * average (the engine thread does this every publish interval). */
static void test_render_reuses_buffer(void **state)
{
	(void)state;
	struct metrics *m = mk();
	struct jbuf b;
	jbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, &b), 0);
	char *p = b.p;
	size_t len = b.len;
	assert_int_equal(metrics_render(m, &b), 0);
	assert_ptr_equal(p, b.p);
	assert_int_equal(len, b.len);
	jbuf_free(&b);
	jbuf_init(&b, 100);
	assert_int_equal(metrics_render(m, &b), -1);
	assert_true(b.overflow);
	jbuf_free(&b);
	metrics_free(m);
}

/* The learned owner (docs/config.md `owner`): the most frequent source of a step's
 * events, bounded by MX_OWNER_SLOTS counters; a declared owner wins and is not learned. */
static void test_step_owner(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int flow, step;
		const char *sources; /* space-separated, in arrival order; "-" = no source */
		const char *want;    /* NULL: none */
		bool learned;
	} cs[] = {
		{ "no events: none", 0, 3, "", NULL, false },
		{ "events without a source: none", 0, 3, "- -", NULL, false },
		{ "one service", 0, 3, "inventory inventory inventory", "inventory", true },
		{ "the most frequent of two", 0, 3, "a b b a b", "b", true },
		{ "a tie: the first seen", 0, 3, "a b", "a", true },
		{ "a heavy hitter among noise beyond the slots", 0, 3,
		    "inv n1 inv n2 inv n3 inv n4 inv n5 inv n6 inv", "inv", true },
		{ "the majority wins after an early burst of another", 0, 3,
		    "old old old new new new new new new new", "new", true },
		{ "a long source is cut, not refused", 0, 3,
		    "0123456789012345678901234567890123456789012345678901234567890123456789",
		    "012345678901234567890123456789012345678901234567890123456789012", true },
		{ "a declared owner wins and is not learned", 1, 1, "x x x", "refund-service",
		    false },
		{ "declared, no events yet", 1, 1, "", "refund-service", false },
		{ "an undeclared step index: none", 0, -1, "a", NULL, false },
	};
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct metrics *m = mk();
		char buf[512];
		snprintf(buf, sizeof(buf), "%s", cs[i].sources);
		for (char *save, *tok = strtok_r(buf, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			metrics_observe_step(
			    m, cs[i].flow, cs[i].step, 1.0, 0, strcmp(tok, "-") == 0 ? NULL : tok);
		/* the info series shows the same owner, or none */
		struct jbuf b;
		const char *t = render(m, &b);
		char line[256];
		if (cs[i].step >= 0)
			snprintf(line, sizeof line,
			    "choreoscope_step_owner_info{flow=\"%s\",step=\"%s\","
			    "owner=\"%s\",learned=\"%s\"} 1",
			    fixture_flows[cs[i].flow].name,
			    fixture_flows[cs[i].flow].steps[cs[i].step].name,
			    cs[i].want ? cs[i].want : "", cs[i].learned ? "true" : "false");
		if (cs[i].step >= 0 && has_line(t, line) != (cs[i].want != NULL))
			fail_msg(
			    "%s: /metrics %s %s", cs[i].name, cs[i].want ? "lacks" : "has", line);
		jbuf_free(&b);
		bool learned = !cs[i].learned;
		const char *got = metrics_step_owner(m, cs[i].flow, cs[i].step, &learned);
		if ((got == NULL) != (cs[i].want == NULL) ||
		    (got != NULL && strcmp(got, cs[i].want) != 0) || learned != cs[i].learned)
			fail_msg("%s: got %s (learned %d), want %s (learned %d)", cs[i].name,
			    got ? got : "NULL", learned, cs[i].want ? cs[i].want : "NULL",
			    cs[i].learned);
		metrics_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declared_series_at_zero),
		cmocka_unit_test(test_histograms),
		cmocka_unit_test(test_render_cache_follows_every_change),
		cmocka_unit_test(test_render_over_cap),
		cmocka_unit_test(test_bounds_follow_deadlines),
		cmocka_unit_test(test_p95_near_deadline),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_counters_and_labels),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bad_buckets),
		cmocka_unit_test(test_render_reuses_buffer),
		cmocka_unit_test(test_step_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
