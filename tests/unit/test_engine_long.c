/*
 * test_engine_long: deadlines of days and weeks (durations in d, w and combinations
 * such as 1d12h, docs/config.md) fire exactly at their deadline, in replay (the
 * event-time clock) and under a wall clock injected through partclock, stepped hour
 * by hour over a month. The `at` of each verdict is the deadline itself; under the
 * wall clock it is reported at the first tick at or past deadline + lateness.
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
#include "source/partclock.h"

#define BASE_NS INT64_C(1767225600000000000) /* 2026-01-01T00:00:00Z */
#define SEC INT64_C(1000000000)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)

static const char *CONFIG = "flows:\n"
			    "  - name: claim\n"
			    "    deadline: 4w2d\n" /* 30 days */
			    "    lateness: 1m\n"
			    "    steps:\n"
			    "      Filed:     { start: true }\n"
			    "      Document:  { after: [Filed], within: 7d }\n"
			    "      Reviewed:  { after: [Document], within: 1d12h }\n"
			    "      Approved:  { after: [Reviewed], end: completed }\n";

struct got {
	char kind[16], step[16], corr[8];
	int64_t at, reported; /* reported: the clock (T_max) when the sink saw it */
};

struct cap {
	struct got g[16];
	int n;
	const struct engine *e;
};

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	struct cap *c = ctx;
	if (c->n == 16)
		return;
	struct got *g = &c->g[c->n++];
	snprintf(g->kind, sizeof(g->kind), "%s", an_kind_name(a->kind));
	snprintf(g->step, sizeof(g->step), "%s", a->step ? a->step : "-");
	snprintf(g->corr, sizeof(g->corr), "%s", a->correlation_id);
	g->at = a->at_ns - BASE_NS;
	g->reported = engine_stats(c->e)->tmax_ns - BASE_NS;
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	(void)ctx;
	(void)r;
}

static const struct got *find(const struct cap *c, const char *kind, const char *corr)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->g[i].kind, kind) && !strcmp(c->g[i].corr, corr))
			return &c->g[i];
	return NULL;
}

static struct engine *mk(const struct config *cfg, enum engine_clock clk, struct cap *c)
{
	struct engine_sink sink = { on_anomaly, on_flow, NULL, c };
	struct engine_opts o = { clk, 0 };
	struct engine *e = NULL;
	char err[256];
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)), 0);
	c->e = e;
	return e;
}

static void apply(struct engine *e, const char *corr, const char *type, int64_t t)
{
	char id[64];
	snprintf(id, sizeof(id), "%s/%s", corr, type);
	struct event ev = { .event_id = id,
		.correlation_id = corr,
		.type = type,
		.source = "t",
		.causation_id = "",
		.time_ns = BASE_NS + t,
		.partition = -1 };
	engine_apply(e, &ev);
}

static struct config *load(void)
{
	char err[2048];
	struct config *cfg = NULL;
	if (config_load_string("long", CONFIG, strlen(CONFIG), &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	const struct fg_flow *f = &cfg->graph.flows[0];
	assert_int_equal(f->deadline_ns, 30 * DAY);
	assert_int_equal(f->steps[1].within_ns, 7 * DAY);
	assert_int_equal(f->steps[2].within_ns, 36 * HOUR);
	return cfg;
}

/* Replay: c1 files and never sends the document; c2 sends it on day 8 and is
 * reviewed 1.5 days + 1 s later; other traffic moves the event clock on. */
static void test_month_long_deadlines_in_replay(void **state)
{
	(void)state;
	struct config *cfg = load();
	struct cap c = { .n = 0 };
	struct engine *e = mk(cfg, ENGINE_CLOCK_EVENTS, &c);
	apply(e, "c1", "Filed", 0);
	apply(e, "c2", "Filed", HOUR);
	apply(e, "c2", "Document", HOUR + 6 * DAY);
	apply(e, "x", "Filed", 7 * DAY + 59 * SEC); /* W = 7d - 1 s: nothing due */
	assert_null(find(&c, "stalled", "c1"));
	apply(e, "x2", "Filed", 7 * DAY + 60 * SEC); /* W = 7d: c1's stall */
	const struct got *g = find(&c, "stalled", "c1");
	assert_non_null(g);
	assert_string_equal(g->step, "Document");
	assert_int_equal(g->at, 7 * DAY);
	apply(e, "c2", "Reviewed", HOUR + 7 * DAY + 12 * HOUR + SEC); /* 1 s past 1d12h */
	g = find(&c, "stalled", "c2");
	assert_non_null(g);
	assert_string_equal(g->step, "Reviewed");
	assert_int_equal(g->at, HOUR + 7 * DAY + 12 * HOUR);
	apply(e, "y", "Filed", 30 * DAY + 59 * SEC);
	assert_null(find(&c, "abandoned", "c1"));
	apply(e, "y2", "Filed", 30 * DAY + 60 * SEC);
	g = find(&c, "abandoned", "c1");
	assert_non_null(g);
	assert_int_equal(g->at, 30 * DAY);
	assert_string_equal(g->step, "Document");
	engine_finish(e);
	engine_free(e);
	config_free(cfg);
}

/* Live: the daemon's clock (partclock, wall mode, one caught-up partition) at an
 * injected wall time, advanced every hour for 31 days. */
static void test_month_long_deadlines_on_the_wall_clock(void **state)
{
	(void)state;
	struct config *cfg = load();
	struct cap c = { .n = 0 };
	struct engine *e = mk(cfg, ENGINE_CLOCK_EXTERNAL, &c);
	struct partclock *pc = NULL;
	char err[128];
	assert_int_equal(partclock_new(PARTCLOCK_WALL, 1, &pc, err, sizeof(err)), 0);
	partclock_assign(pc, 0);
	int64_t t0 = 30 * SEC; /* c1 files 30 s into the first hour */
	partclock_message(pc, 0, 0, BASE_NS + t0);
	partclock_high(pc, 0, 1); /* caught up: the clock is the wall */
	apply(e, "c1", "Filed", t0);
	for (int64_t wall = 0; wall <= 31 * DAY; wall += HOUR) {
		int64_t now = partclock_now(pc, BASE_NS + wall);
		assert_int_equal(now, BASE_NS + wall);
		engine_advance(e, now);
		assert_int_equal(engine_check(e, err, sizeof(err)), 0);
	}
	const struct got *g = find(&c, "stalled", "c1");
	assert_non_null(g);
	assert_int_equal(g->at, t0 + 7 * DAY);
	/* first hourly tick with wall - lateness >= deadline */
	assert_int_equal(g->reported, 7 * DAY + HOUR);
	g = find(&c, "abandoned", "c1");
	assert_non_null(g);
	assert_int_equal(g->at, t0 + 30 * DAY);
	assert_int_equal(g->reported, 30 * DAY + HOUR);
	assert_int_equal(c.n, 2);
	partclock_free(pc);
	engine_finish(e);
	engine_free(e);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_month_long_deadlines_in_replay),
		cmocka_unit_test(test_month_long_deadlines_on_the_wall_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
