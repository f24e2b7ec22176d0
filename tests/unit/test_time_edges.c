/*
 * test_time_edges: the engine at the ends of time (issue 16). Event times at the ends
 * of the accepted range (timefmt.h) meet durations of up to ~292 years, the most a
 * config accepts, so every deadline sum (open + deadline, expected + within, first +
 * join_within, time + lateness, close + lateness) would overflow int64 without
 * saturation. Run under ASan+UBSan (build/asan/tests/) a wrapped sum aborts; in any
 * build the records must stay sane: closed never before opened, every verdict time
 * within the accepted range, overruns never negative, and the verdicts expected for
 * each row. Each row runs on the event-time clock and on an external clock (advanced
 * to the newest time, then to INT64_MAX: a wall clock cannot go further).
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
#include "lib/timefmt.h"

#define HUGE "2562047h" /* 9223369200 s: the largest whole-hour duration */

static const char *CONFIG =
    "flows:\n"
    "  - name: far\n"
    "    deadline: " HUGE "\n"
    "    lateness: " HUGE "\n"
    "    steps:\n"
    "      A: { start: true }\n"
    "      B: { after: [A], within: " HUGE " }\n"
    "      C: { after: [A], within: " HUGE " }\n"
    "      D: { after: [B, C], join_within: " HUGE ", within: " HUGE ", end: completed }\n"
    "  - name: near\n"
    "    deadline: 10s\n"
    "    lateness: 0s\n"
    "    steps:\n"
    "      P: { start: true }\n"
    "      Q: { after: [P], within: 1s, end: completed }\n";

#define MAX TIMEFMT_MAX_NS
#define S 1000000000LL

struct ev_in {
	const char *corr, *type, *id;
	int64_t t;
};

struct row {
	const char *name;
	struct ev_in ev[6];
	const char *want; /* the verdict kinds and flow outcomes, sorted, ';'-separated */
};

static const struct row rows[] = {
	{ "far flow opened at the end of the range: nothing due, still open",
	    { { "f1", "A", "a1", MAX } }, "flow:open;" },
	{ "far flow at the end, its start arriving after a successor (debt due saturated)",
	    { { "f2", "C", "c1", MAX }, { "f2", "A", "a1", MAX - 5 * S },
		{ "f2", "B", "b1", MAX - S } },
	    "flow:open;out_of_order;" },
	{ "far flow completes at the end of the range",
	    { { "f3", "A", "a1", MAX - 3 * S }, { "f3", "B", "b1", MAX - 2 * S },
		{ "f3", "C", "c1", MAX - S }, { "f3", "D", "d1", MAX } },
	    "flow:completed;" },
	{ "far flow from the epoch to the end of the range",
	    { { "f4", "A", "a1", 0 }, { "f4", "B", "b1", MAX } }, "flow:open;" },
	{ "near flow stalls at the end of the range",
	    { { "n1", "P", "p1", MAX - 20 * S }, { "n2", "P", "p2", MAX } },
	    "abandoned;flow:abandoned;flow:open;stalled;" },
	{ "near flow at the epoch, completed late",
	    { { "n3", "P", "p1", 0 }, { "n3", "Q", "q1", 3 * S } },
	    "flow:completed;late;stalled;" },
	{ "duplicate at the end of the range",
	    { { "f5", "A", "a1", MAX }, { "f5", "A", "a1", MAX } }, "duplicate;flow:open;" },
};

struct sink {
	char kinds[32][32];
	int n;
	const char *row;
};

static void add(struct sink *s, const char *k)
{
	assert_true(s->n < 32);
	snprintf(s->kinds[s->n++], sizeof(s->kinds[0]), "%s", k);
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	struct sink *s = ctx;
	if (!timefmt_in_range(a->at_ns) || a->overrun_ns < 0)
		fail_msg("%s: %s at %lld, overrun %lld", s->row, an_kind_name(a->kind),
		    (long long)a->at_ns, (long long)a->overrun_ns);
	add(s, an_kind_name(a->kind));
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	struct sink *s = ctx;
	char k[32];
	if (!timefmt_in_range(r->opened_ns) ||
	    (r->closed_ns != ENGINE_NO_TIME && r->closed_ns < r->opened_ns))
		fail_msg("%s: flow %s opened %lld closed %lld", s->row, r->correlation_id,
		    (long long)r->opened_ns, (long long)r->closed_ns);
	snprintf(k, sizeof(k), "flow:%s", r->outcome ? r->outcome : "open");
	add(s, k);
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static void run_row(const struct config *cfg, const struct row *r, int external)
{
	struct sink s = { .n = 0, .row = r->name };
	struct engine_sink sink = { on_anomaly, on_flow, NULL, &s };
	struct engine_opts o = { external ? ENGINE_CLOCK_EXTERNAL : ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	char err[256], got[512] = "";
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)), 0);
	/* a clock with no time yet is no time, whatever the lateness */
	assert_int_equal(engine_advance_some(e, ENGINE_NO_TIME, 16), 0);
	int64_t tmax = ENGINE_NO_TIME;
	for (int i = 0; i < 6 && r->ev[i].corr; i++) {
		struct event ev = { .event_id = r->ev[i].id,
			.correlation_id = r->ev[i].corr,
			.type = r->ev[i].type,
			.source = "s",
			.causation_id = "",
			.time_ns = r->ev[i].t,
			.partition = -1 };
		engine_apply(e, &ev);
		if (ev.time_ns > tmax)
			tmax = ev.time_ns;
		assert_int_equal(engine_check(e, err, sizeof(err)), 0);
	}
	if (external)
		engine_advance(e, tmax);
	engine_finish(e);
	engine_free(e);
	qsort(s.kinds, (size_t)s.n, sizeof(s.kinds[0]), cmp);
	for (int i = 0; i < s.n; i++) {
		strcat(got, s.kinds[i]);
		strcat(got, ";");
	}
	if (strcmp(got, r->want) != 0)
		fail_msg("%s (%s clock): got \"%s\", want \"%s\"", r->name,
		    external ? "external" : "event", got, r->want);
}

static void test_rows(void **state)
{
	(void)state;
	char err[4096];
	struct config *cfg = NULL;
	if (config_load_string("edges", CONFIG, strlen(CONFIG), &cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run_row(cfg, &rows[i], 0);
		run_row(cfg, &rows[i], 1);
	}
	config_free(cfg);
}

/* A wall clock driven to the end of int64 fires what is due, and only that. */
static void test_clock_at_int64_max(void **state)
{
	(void)state;
	char err[4096];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("edges", CONFIG, strlen(CONFIG), &cfg, err, sizeof(err)), 0);
	struct sink s = { .n = 0, .row = "clock at INT64_MAX" };
	struct engine_sink sink = { on_anomaly, on_flow, NULL, &s };
	struct engine_opts o = { ENGINE_CLOCK_EXTERNAL, 0 };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)), 0);
	struct event ev = { .event_id = "a1",
		.correlation_id = "f9",
		.type = "A",
		.source = "s",
		.causation_id = "",
		.time_ns = MAX,
		.partition = -1 };
	engine_apply(e, &ev);
	engine_advance(e, INT64_MAX);
	assert_int_equal(engine_check(e, err, sizeof(err)), 0);
	engine_finish(e);
	engine_free(e);
	config_free(cfg);
	/* the saturated deadlines (INT64_MAX) are "never": B and C are not reported stalled
	 * at a time outside the range; the flow is reported at the end */
	for (int i = 0; i < s.n; i++)
		if (strncmp(s.kinds[i], "flow:", 5) != 0)
			fail_msg("unexpected verdict %s", s.kinds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_clock_at_int64_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
