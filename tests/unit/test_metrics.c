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
#include <string.h>

#include "graph_fixture.h"
#include "decode/kafka_decode.h"
#include "out/metrics.h"

static struct metrics *mk(void)
{
	struct metrics *m = NULL;
	char err[256];
	struct metrics_opts o = {.graph = &fixture_graph, .version = "9.9.9"};
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
	    "choreoscope_anomalies_total{flow=\"order\",kind=\"stalled\",step=\"InventoryReserved\"} 0",
	    "choreoscope_anomalies_total{flow=\"refund\",kind=\"abandoned\",step=\"RefundIssued\"} 0",
	    "choreoscope_flows_stalled{flow=\"order\",step=\"ShippingQuoted\"} 0",
	    "choreoscope_oldest_stall_age_seconds{flow=\"order\",step=\"ShippingQuoted\"} 0",
	    "choreoscope_flows_evicted_total{flow=\"order\",step=\"OrderConfirmed\"} 0",
	    "choreoscope_events_rejected_total{reason=\"malformed_json\"} 0",
	    "choreoscope_events_rejected_total{reason=\"time_out_of_range\"} 0",
	    "choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"+Inf\"} 0",
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

/* Histogram buckets are cumulative, _sum and _count agree, quantiles interpolate. */
static void test_histograms(void **state)
{
	(void)state;
	static const struct obs obs[] = {{1, 0.004}, {1, 0.02}, {1, 0.02}, {1, 0.7}, {1, 400}};
	static const char *const want[] = {
	    "choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"0.005\"} 1",
	    "choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"0.025\"} 3",
	    "choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"1\"} 4",
	    "choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"300\"} 4",
	    "choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"+Inf\"} 5",
	    "choreoscope_step_latency_seconds_count{flow=\"order\",step=\"PaymentAuthorized\"} 5",
	    "choreoscope_step_latency_seconds_sum{flow=\"order\",step=\"PaymentAuthorized\"} 400.744",
	    "choreoscope_flow_duration_seconds_bucket{flow=\"order\",outcome=\"compensated\",le=\"5\"} 1",
	};
	struct metrics *m = mk();
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		metrics_observe_step(m, 0, obs[i].step, obs[i].seconds, FG_BIT(0));
	metrics_observe_flow(m, 0, metrics_outcome_index(m, 0, "compensated"), 3.0);
	struct jbuf b;
	const char *t = render(m, &b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(t, want[i]))
			fail_msg("missing line: %s", want[i]);
	struct mx_flow *mf = metrics_flow(m, 0);
	assert_int_equal(mf->edge_count[1][0], 5);
	double p50 = metrics_hist_quantile(m, &mf->step_latency[1], 1, 0.5);
	assert_true(p50 > 0.01 && p50 <= 0.025);
	assert_true(isnan(metrics_hist_quantile(m, &mf->step_latency[3], 1, 0.5)));
	jbuf_free(&b);
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
	    "choreoscope_anomalies_total{flow=\"order\",kind=\"stalled\",step=\"InventoryReserved\"} 2",
	    "choreoscope_anomalies_total{flow=\"order\",kind=\"abandoned\",step=\"\"} 1",
	    "choreoscope_flows_stalled{flow=\"order\",step=\"InventoryReserved\"} 2",
	    "choreoscope_oldest_stall_age_seconds{flow=\"order\",step=\"InventoryReserved\"} 41.5",
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
	    1 + 2 * MX_MAX_REASONS - (MX_MAX_REASONS - (int)(sizeof(declared) / sizeof(declared[0]))));
	assert_true(has_line(t, want));
	jbuf_free(&b);
	metrics_free(m);
}

static void test_bad_buckets(void **state)
{
	(void)state;
	static const double bad[][3] = {{1, 0.5, 2}, {0, 1, 2}, {1, 1, 2}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct metrics *m = NULL;
		char err[256] = "";
		struct metrics_opts o = {.graph = &fixture_graph, .latency_buckets = bad[i],
		    .nlatency_buckets = 3};
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_declared_series_at_zero),
	    cmocka_unit_test(test_histograms),
	    cmocka_unit_test(test_counters_and_labels),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_bad_buckets),
	    cmocka_unit_test(test_render_reuses_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
