/*
 * test_shard_merge: the daemon's shards read as one collector (engine/engine_set.h).
 * The same events go to one engine and, split by correlation id as Kafka partitions
 * split them (a flow lives in one partition), to 2 and 4 engines; every engine runs
 * on the same external clock. The merged answers must equal the single engine's:
 * the engine counters, /metrics, the summary, /api/v1/flows in every sort, direction,
 * state and page, and every flow's detail (timeline). A set missing one shard must
 * differ (the comparison can fail).
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
#include "engine/engine_set.h"
#include "http/api_engine.h"
#include "http/api_render.h"
#include "http/snapshot.h"
#include "lib/jbuf.h"
#include "out/metrics.h"

#define S(x) (INT64_C(1767225600000000000) + (int64_t)(x)*1000000000)
#define NORDERS 240
#define MAXSH 4

static const char *CONFIG =
    "flows:\n"
    "  - name: order\n"
    "    deadline: 60s\n"
    "    lateness: 1s\n"
    "    steps:\n"
    "      OrderPlaced:       { start: true }\n"
    "      PaymentAuthorized: { after: [OrderPlaced], within: 5s }\n"
    "      PaymentCaptured:   { after: [PaymentAuthorized], within: 5s }\n"
    "      OrderConfirmed:    { after: [PaymentCaptured], within: 5s, end: completed }\n"
    "  - name: ship\n"
    "    lateness: 2s\n"
    "    steps:\n"
    "      Packed:  { start: true }\n"
    "      Shipped: { after: [Packed], within: 10s, end: shipped }\n";

/* One side of the comparison: n engines (1 = the reference) and their API view. */
struct side {
	int n;
	struct engine *e[MAXSH];
	struct engine_set set;
	struct snapshot *snap;
	struct api_engine *ae;
	struct api_backend be;
	struct metrics *m;
};

static struct config *cfg;

static void side_open(struct side *s, int n, size_t max_flows)
{
	char err[1024];
	const struct engine_opts eo = { .clock = ENGINE_CLOCK_EXTERNAL,
		.max_flows = max_flows / (size_t)n };
	memset(s, 0, sizeof *s);
	s->n = n;
	s->set.n = n;
	for (int i = 0; i < n; i++) {
		assert_int_equal(engine_new(&cfg->graph, &eo, NULL, &s->e[i], err, sizeof err), 0);
		s->set.e[i] = s->e[i];
	}
	assert_int_equal(snapshot_new(&s->snap, err, sizeof err), 0);
	s->ae = api_engine_new(&s->set, &cfg->graph, s->snap, 1 << 20);
	assert_non_null(s->ae);
	api_engine_backend(s->ae, &s->be);
	const struct metrics_opts mo = { .graph = &cfg->graph, .version = "0.1.0" };
	assert_int_equal(metrics_new(&mo, &s->m, err, sizeof err), 0);
}

static void side_close(struct side *s)
{
	api_engine_free(s->ae);
	snapshot_free(s->snap);
	metrics_free(s->m);
	for (int i = 0; i < s->n; i++)
		engine_free(s->e[i]);
}

/* The shard of a correlation id: a stand-in for Kafka's key -> partition -> shard. */
static int shard_of(const char *corr, int n)
{
	unsigned h = 2166136261u;
	for (const char *p = corr; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (int)(h % (unsigned)n);
}

static void apply(struct side *s, const char *id, const char *corr, const char *type, int64_t t)
{
	const struct event ev = { .event_id = id,
		.correlation_id = corr,
		.type = type,
		.source = "shop",
		.causation_id = "",
		.time_ns = t,
		.topic = "events",
		.partition = shard_of(corr, 8),
		.offset = 1 };
	int k = shard_of(corr, s->n);
	api_engine_event(s->ae, k, &ev);
	engine_apply(s->e[k], &ev);
}

static void advance(struct side *s, int64_t t)
{
	for (int i = 0; i < s->n; i++)
		engine_advance(s->e[i], t);
}

/* The same traffic on every side: orders with every fault the graph can show
 * (stalls, duplicates, out of order, unexpected), shipments, unmatched events; the
 * clock advances every 10 orders. */
static void feed(struct side **sides, int nsides)
{
	char id[64], corr[32];
	for (int o = 0; o < NORDERS; o++) {
		static const char *const steps[] = { "OrderPlaced", "PaymentAuthorized",
			"PaymentCaptured", "OrderConfirmed" };
		int64_t t0 = S(o * 2);
		int fault = o % 7;
		snprintf(corr, sizeof corr, "o%03d", o);
		for (int k = 0; k < 4; k++) {
			if (fault == 1 && k >= 2)
				break; /* stalls on PaymentCaptured */
			int st = fault == 2 && k == 1 ? 2 : fault == 2 && k == 2 ? 1 : k;
			snprintf(id, sizeof id, "%s-%d", corr, k);
			for (int i = 0; i < nsides; i++) {
				apply(sides[i], id, corr, steps[st], t0 + S(k) - S(0));
				if (fault == 3 && k == 0)
					apply(sides[i], id, corr, steps[0], t0 + S(k) - S(0));
				if (fault == 4 && k == 3)
					apply(sides[i], "x", corr, "Refunded", t0 + S(4) - S(0));
			}
		}
		snprintf(corr, sizeof corr, "s%03d", o);
		for (int i = 0; i < nsides; i++) {
			apply(sides[i], "p", corr, "Packed", t0);
			if (o % 3 != 0)
				apply(sides[i], "sh", corr, "Shipped", t0 + S(5) - S(0));
			if (o % 11 == 0)
				apply(sides[i], "u", "nobody", "Nothing", t0);
			if (o % 10 == 9)
				advance(sides[i], t0);
		}
	}
	for (int i = 0; i < nsides; i++)
		advance(sides[i], S(NORDERS * 2 - 30));
}

static char *render_flows(struct side *s, const struct api_flows_args *a)
{
	struct jbuf b;
	jbuf_init(&b, 1 << 22);
	assert_int_equal(api_render_flows(s->m, &s->be, a, &b), 200);
	jbuf_put(&b, "", 1);
	return b.p;
}

static char *render_timeline(struct side *s, int flow, const char *corr)
{
	struct api_timeline_args a = { .flow = flow };
	struct jbuf b;
	snprintf(a.corr, sizeof a.corr, "%s", corr);
	jbuf_init(&b, 1 << 20);
	int rc = api_render_timeline(s->m, &s->be, &a, &b);
	jbuf_printf(&b, " rc=%d", rc);
	jbuf_put(&b, "", 1);
	return b.p;
}

static char *render_metrics(struct side *s)
{
	struct jbuf b;
	const struct api_self self = { .version = "0.1.0", .instance = "t", .clock = "event" };
	size_t ends[8];
	jbuf_init(&b, 1 << 22);
	metrics_sync_engine(s->m, &s->set);
	assert_int_equal(metrics_render(s->m, &b), 0);
	api_render_summary(s->m, &self, &b, ends, NULL);
	jbuf_put(&b, "", 1);
	return b.p;
}

/* Every list the API can be asked for, over both sides: equal documents. Returns
 * the number of documents compared. */
static int compare_lists(struct side *one, struct side *many)
{
	static const int states[] = { AR_STATE_ALL, AR_STATE_OPEN, AR_STATE_STALLED,
		AR_STATE_CLOSED };
	static const int offsets[] = { 0, 7, 95, 400 };
	int docs = 0;
	for (size_t st = 0; st < sizeof states / sizeof states[0]; st++)
		for (int sort = AR_SORT_AGE; sort <= AR_SORT_OVERDUE; sort++)
			for (int asc = 0; asc < 2; asc++)
				for (size_t off = 0; off < sizeof offsets / sizeof offsets[0];
				     off++)
					for (int flow = -1; flow < 2; flow++) {
						struct api_flows_args a = { .state = states[st],
							.sort = sort,
							.asc = asc,
							.flow = flow,
							.awaiting = -1,
							.kind = -1,
							.limit = 25,
							.offset = offsets[off] };
						char *x = render_flows(one, &a),
						     *y = render_flows(many, &a);
						assert_string_equal(x, y);
						free(x);
						free(y);
						docs++;
					}
	return docs;
}

static void test_merged_equals_one(void **state)
{
	(void)state;
	for (int n = 2; n <= MAXSH; n += 2) {
		struct side one, many;
		struct side *both[2] = { &one, &many };
		side_open(&one, 1, 0);
		side_open(&many, n, 0);
		feed(both, 2);

		struct engine_stats a, b;
		engine_set_stats(&one.set, &a);
		engine_set_stats(&many.set, &b);
		assert_true(a.events > (uint64_t)NORDERS * 5);
		assert_int_equal(a.events, b.events);
		assert_int_equal(a.unmatched, b.unmatched);
		assert_true(a.unmatched > 0);
		assert_int_equal(a.tmax_ns, b.tmax_ns);
		assert_memory_equal(
		    a.anomalies_undeclared, b.anomalies_undeclared, sizeof a.anomalies_undeclared);
		/* every shard got some of the flows */
		for (int i = 0; i < n; i++)
			assert_true(engine_stats(many.e[i])->events > 0);

		char *x = render_metrics(&one), *y = render_metrics(&many);
		assert_non_null(strstr(x, "stalled"));
		assert_string_equal(x, y);
		free(x);
		free(y);

		assert_int_equal(compare_lists(&one, &many), 4 * 4 * 2 * 4 * 3);

		char corr[32];
		for (int o = 0; o < NORDERS; o++)
			for (int f = 0; f < 2; f++) {
				snprintf(corr, sizeof corr, "%c%03d", f == 0 ? 'o' : 's', o);
				x = render_timeline(&one, f, corr);
				y = render_timeline(&many, f, corr);
				assert_string_equal(x, y);
				free(x);
				free(y);
			}
		x = render_timeline(&one, 0, "no-such");
		assert_non_null(strstr(x, "rc=404"));
		free(x);
		side_close(&one);
		side_close(&many);
	}
}

/* The comparison sees a missing shard: a set without its last engine lists fewer
 * flows and counts fewer events. */
static void test_missing_shard_differs(void **state)
{
	(void)state;
	struct side one, many;
	struct side *both[2] = { &one, &many };
	side_open(&one, 1, 0);
	side_open(&many, 2, 0);
	feed(both, 2);
	many.set.n = 1;
	api_engine_free(many.ae);
	many.ae = api_engine_new(&many.set, &cfg->graph, many.snap, 1 << 20);
	api_engine_backend(many.ae, &many.be);
	struct api_flows_args a = {
		.state = AR_STATE_ALL, .flow = -1, .awaiting = -1, .kind = -1, .limit = 25
	};
	char *x = render_flows(&one, &a), *y = render_flows(&many, &a);
	assert_string_not_equal(x, y);
	free(x);
	free(y);
	struct engine_stats s1, s2;
	engine_set_stats(&one.set, &s1);
	engine_set_stats(&many.set, &s2);
	assert_true(s2.events < s1.events);
	many.set.n = 2;
	side_close(&one);
	side_close(&many);
}

struct seen {
	int n;
	const char *outcome;
};

static int count_visit(void *arg, const struct engine_view *v)
{
	struct seen *s = arg;
	s->outcome = v->outcome;
	return ++s->n >= 3;
}

/* One correlation id in two shards (its events came on two partitions): the lookup
 * shows the open instance; a walk stops across shards when told to. */
static void test_lookup_prefers_open(void **state)
{
	(void)state;
	char err[512];
	struct engine *e[2];
	const struct engine_opts eo = { .clock = ENGINE_CLOCK_EXTERNAL };
	for (int i = 0; i < 2; i++)
		assert_int_equal(engine_new(&cfg->graph, &eo, NULL, &e[i], err, sizeof err), 0);
	const struct event p = { .event_id = "1",
		.correlation_id = "s1",
		.type = "Packed",
		.source = "w",
		.causation_id = "",
		.time_ns = S(0) };
	struct event sh = p;
	sh.event_id = "2";
	sh.type = "Shipped";
	sh.time_ns = S(1);
	engine_apply(e[0], &p);
	engine_apply(e[0], &sh); /* closed (retained for lateness) in shard 0 */
	engine_apply(e[1], &p);  /* open in shard 1 */
	struct engine_set set = { .e = { e[0], e[1] }, .n = 2 };
	struct seen s = { 0, "x" };
	assert_int_equal(engine_set_lookup(&set, 1, "s1", count_visit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_null(s.outcome);
	struct engine_set rev = { .e = { e[1], e[0] }, .n = 2 };
	s = (struct seen){ 0, "x" };
	assert_int_equal(engine_set_lookup(&rev, 1, "s1", count_visit, &s), 0);
	assert_null(s.outcome);
	assert_int_equal(engine_set_lookup(&set, 1, "s2", count_visit, &s), -1);
	for (int i = 0; i < 3; i++) {
		struct event q = p;
		char c[16];
		snprintf(c, sizeof c, "q%d", i);
		q.correlation_id = c;
		engine_apply(e[i % 2], &q);
	}
	s = (struct seen){ 0, NULL };
	engine_set_foreach(&set, -1, count_visit, &s);
	assert_int_equal(s.n, 3); /* stopped at 3 of the 5 instances */
	for (int i = 0; i < 2; i++)
		engine_free(e[i]);
}

static int setup(void **state)
{
	char err[2048];
	(void)state;
	return config_load_string("t.yaml", CONFIG, strlen(CONFIG), &cfg, err, sizeof err);
}

static int teardown(void **state)
{
	(void)state;
	config_free(cfg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merged_equals_one),
		cmocka_unit_test(test_missing_shard_differs),
		cmocka_unit_test(test_lookup_prefers_open),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
