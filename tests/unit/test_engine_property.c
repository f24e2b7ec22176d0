/*
 * test_engine_property: docs/semantics.md "Determinism" as a seeded property test.
 *
 * Each case draws a small random flow graph (alternatives, AND joins with and without
 * join_within, after_any, optional steps, complete_when, end steps, a flow deadline,
 * retries, lateness 1-5 s) and one random instance of it (steps late, dropped,
 * repeated with new ids, redelivered with the same id, an undeclared type now and
 * then, events past the end), arriving in an order disordered strictly within
 * lateness: every event's time is above (largest time so far - lateness), so no
 * event ever arrives after the clock could have decided against it. The records
 * (anomalies and flow records, every time in ns) must be the same when
 *   alone    the instance is replayed alone (event-time clock, as `choreoscope replay`);
 *   pushed   unmatched events are interleaved that push the watermark as far as
 *            lateness allows without making any event late (W < the time of every
 *            event still to come, T_max never past the instance's last time);
 *   ext      the same pushes drive an external clock (the daemon's engine_advance);
 *   end      an external clock that moves only at the end of input.
 * A differing case is shrunk (events removed while it still differs) and printed:
 * the YAML, the events in arrival order, the pushes, the records that differ.
 *
 * Environment: PROPTEST_CASES (default 5000; `make proptest` runs 100,000),
 * PROPTEST_SEED (default 1), PROPTEST_CASE=K (run case K only, printing it),
 * PROPTEST_SHOW (failures printed in full, default 3). Case K is reproducible from
 * (seed, K) alone. Single-threaded.
 *
 * PROPTEST_DUMP=DIR runs no property: it writes cases PROPTEST_FIRST (default 0) on,
 * PROPTEST_CASES of them, for the Kafka path (tests/e2e/kafka_property.sh): one config
 * with a namespaced flow per case, the cases merged into one stream, and each case's
 * `alone` records as the daemon writes them (see test_dump_for_kafka).
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
#include "lib/timefmt.h"
#include "out/records.h"

#define BASE_NS INT64_C(1767225600000000000) /* 2026-01-01T00:00:00Z */
#define MS INT64_C(1000000)
#define MAXEV 96
#define MAXSTEPS 10
#define MAXREC 256

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}
static int chance(int pct) { return (int)(rnd() % 100) < pct; }

/* ---- the random graph ---- */

struct gstep {
	char name[4];
	int start, optional, end, retries;
	uint32_t after, after_any, alts; /* bit j: step j */
	int64_t within_ms, join_ms;      /* -1: none */
};

struct graph {
	struct gstep s[MAXSTEPS];
	int n;
	int64_t lateness_ms, deadline_ms; /* deadline -1: none */
	uint32_t complete_when;
	char yaml[4096];
};

static int64_t dur(int64_t lo_ms, int64_t hi_ms, int coarse)
{
	int64_t v = lo_ms + (int64_t)(rnd() % (uint32_t)(hi_ms - lo_ms + 1));
	return coarse ? (v + 250) / 500 * 500 : v;
}

static void list_yaml(
    char *b, size_t cap, size_t *o, const struct graph *g, const char *pre, uint32_t m)
{
	*o += (size_t)snprintf(b + *o, cap - *o, "[");
	int first = 1;
	for (int j = 0; j < g->n; j++)
		if (m & (1u << j)) {
			*o += (size_t)snprintf(
			    b + *o, cap - *o, "%s%s%s", first ? "" : ", ", pre, g->s[j].name);
			first = 0;
		}
	*o += (size_t)snprintf(b + *o, cap - *o, "]");
}

/* Writes the graph as one item of a `flows:` list, named `flow`, each step's name
 * prefixed by `pre` (PROPTEST_DUMP namespaces the cases that share one config). */
static void graph_yaml(
    const struct graph *g, const char *flow, const char *pre, char *b, size_t cap)
{
	size_t o = 0;
	o += (size_t)snprintf(b + o, cap - o, "  - name: %s\n    lateness: %lldms\n", flow,
	    (long long)g->lateness_ms);
	if (g->deadline_ms >= 0)
		o += (size_t)snprintf(
		    b + o, cap - o, "    deadline: %lldms\n", (long long)g->deadline_ms);
	if (g->complete_when) {
		o += (size_t)snprintf(b + o, cap - o, "    complete_when: ");
		list_yaml(b, cap, &o, g, pre, g->complete_when);
		o += (size_t)snprintf(b + o, cap - o, "\n");
	}
	o += (size_t)snprintf(b + o, cap - o, "    steps:\n");
	for (int k = 0; k < g->n; k++) {
		const struct gstep *s = &g->s[k];
		o += (size_t)snprintf(b + o, cap - o, "      %s%s: {", pre, s->name);
		const char *sep = " ";
		if (s->start) {
			o += (size_t)snprintf(b + o, cap - o, "%sstart: true", sep);
			sep = ", ";
		}
		if (s->after) {
			o += (size_t)snprintf(b + o, cap - o, "%safter: ", sep);
			list_yaml(b, cap, &o, g, pre, s->after);
			sep = ", ";
		}
		if (s->after_any) {
			o += (size_t)snprintf(b + o, cap - o, "%safter_any: ", sep);
			list_yaml(b, cap, &o, g, pre, s->after_any);
			sep = ", ";
		}
		if (s->alts) {
			o += (size_t)snprintf(b + o, cap - o, "%sinstead_of: ", sep);
			list_yaml(b, cap, &o, g, pre, s->alts);
			sep = ", ";
		}
		if (s->within_ms >= 0) {
			o += (size_t)snprintf(
			    b + o, cap - o, "%swithin: %lldms", sep, (long long)s->within_ms);
			sep = ", ";
		}
		if (s->join_ms >= 0) {
			o += (size_t)snprintf(
			    b + o, cap - o, "%sjoin_within: %lldms", sep, (long long)s->join_ms);
			sep = ", ";
		}
		if (s->optional) {
			o += (size_t)snprintf(b + o, cap - o, "%soptional: true", sep);
			sep = ", ";
		}
		if (s->retries) {
			o += (size_t)snprintf(b + o, cap - o, "%sretries: %d", sep, s->retries);
			sep = ", ";
		}
		if (s->end)
			o += (size_t)snprintf(b + o, cap - o, "%send: %s", sep,
			    s->end == 1 ? "completed" : "compensated");
		o += (size_t)snprintf(b + o, cap - o, " }\n");
	}
}

static void gen_graph(struct graph *g, int coarse)
{
	memset(g, 0, sizeof(*g));
	g->n = 3 + (int)(rnd() % 7);
	g->lateness_ms = dur(1000, 5000, coarse);
	g->deadline_ms = chance(40) ? dur(3000, 30000, coarse) : -1;
	for (int k = 0; k < g->n; k++) {
		struct gstep *s = &g->s[k];
		snprintf(s->name, sizeof(s->name), "%c", k == 0 ? 'S' : 'A' + k - 1);
		s->within_ms = s->join_ms = -1;
		if (k == 0 || (k == 1 && chance(10))) {
			s->start = 1;
			continue;
		}
		int r = (int)(rnd() % 100);
		int a = (int)(rnd() % (uint32_t)k), b = (int)(rnd() % (uint32_t)k);
		if (r < 55 || a == b)
			s->after = 1u << a;
		else if (r < 80) {
			s->after = (1u << a) | (1u << b);
			if (chance(50))
				s->join_ms = dur(500, 6000, coarse);
		} else
			s->after_any = (1u << a) | (1u << b);
		if (s->after && k >= 3 && chance(10)) { /* after and after_any together */
			uint32_t x = 1u << (rnd() % (uint32_t)k), y = 1u << (rnd() % (uint32_t)k);
			if (x != y && !((x | y) & s->after))
				s->after_any = x | y;
		}
		if (chance(75))
			s->within_ms = dur(500, 8000, coarse);
		s->optional = chance(15);
		s->retries = chance(15) ? 1 + (int)(rnd() % 2) : 0;
	}
	/* alternatives: pairs of non-start steps that do not precede one another */
	for (int k = 2; k < g->n; k++) {
		for (int tries = 0; tries < 2; tries++) {
			if (g->s[k].start || !chance(tries ? 15 : 30))
				continue;
			int j = 1 + (int)(rnd() % (uint32_t)(k - 1));
			if (g->s[j].start || ((g->s[k].after | g->s[k].after_any) & (1u << j)))
				continue;
			g->s[k].alts |= 1u << j;
		}
	}
	/* ends: the last step, sometimes another one; or complete_when */
	int last = g->n - 1;
	if (chance(25) && g->n >= 3) {
		int x = 1 + (int)(rnd() % (uint32_t)(g->n - 1)),
		    y = 1 + (int)(rnd() % (uint32_t)(g->n - 1));
		g->complete_when = (1u << x) | (1u << y);
		if (chance(50))
			g->s[last].end = 1;
	} else {
		g->s[last].end = 1;
	}
	if (g->n >= 4 && chance(30) && !g->s[last - 1].start)
		g->s[last - 1].end = 2;
	memcpy(g->yaml, "flows:\n", 8);
	graph_yaml(g, "p", "", g->yaml + 7, sizeof(g->yaml) - 7);
}

/* ---- the random instance ---- */

struct pev {
	int step; /* -1: an undeclared type */
	int64_t t_ms;
	char id[24];
	int push;      /* before it: 0 none, 1 as far as allowed, 2 part way */
	uint32_t frac; /* part way: /1000 */
};

struct inst {
	struct pev ev[MAXEV];
	int n;
};

static void add_ev(struct inst *in, int step, int64_t t, const char *id)
{
	if (in->n >= MAXEV - 1)
		return;
	struct pev *e = &in->ev[in->n++];
	e->step = step;
	e->t_ms = t;
	snprintf(e->id, sizeof(e->id), "%s", id);
}

/* One run through the graph from t0: each step happens with some probability, a
 * while after its predecessors (sometimes well past its `within`, sometimes before
 * a predecessor), redelivered or repeated now and then. Returns the largest time. */
static int64_t gen_round(struct inst *in, const struct graph *g, int coarse, int64_t t0, int round)
{
	int64_t hap[MAXSTEPS], last = t0;
	int did[MAXSTEPS] = { 0 };
	for (int k = 0; k < g->n; k++) {
		const struct gstep *s = &g->s[k];
		int64_t base = t0;
		if (!s->start) {
			int64_t mx = INT64_MIN, mn = INT64_MAX;
			for (int j = 0; j < g->n; j++)
				if (((s->after | s->after_any) & (1u << j)) && did[j]) {
					mx = hap[j] > mx ? hap[j] : mx;
					mn = hap[j] < mn ? hap[j] : mn;
				}
			base = s->after ? (mx == INT64_MIN ? t0 : mx) : (mn == INT64_MAX ? t0 : mn);
		}
		int alt_done = 0;
		for (int j = 0; j < g->n; j++)
			if (did[j] && ((s->alts & (1u << j)) || (g->s[j].alts & (1u << k))))
				alt_done = 1;
		int p = s->start ? 92 : alt_done ? 12 : 78;
		if (!chance(p))
			continue;
		int64_t span = s->within_ms >= 0
		    ? (chance(20) ? s->within_ms * 3 : s->within_ms * 3 / 2) + 1
		    : 6000;
		int64_t t = base + dur(0, span, coarse);
		if (chance(8))
			t = base - dur(0, g->lateness_ms, coarse); /* before its predecessor */
		hap[k] = t;
		did[k] = 1;
		last = t > last ? t : last;
		char id[24];
		snprintf(id, sizeof(id), "%s%d.1", s->name, chance(10) ? 0 : round);
		add_ev(in, k, t, id);
		if (chance(10)) /* redelivery: same id */
			add_ev(in, k, t + (chance(50) ? 0 : dur(0, 2000, coarse)), id);
		for (int r = 0; r < 3 && chance(s->retries ? 35 : 8); r++) {
			snprintf(id, sizeof(id), "%s%d.%d", s->name, round, r + 2);
			add_ev(in, k, t + dur(0, 3000, coarse), id);
		}
	}
	if (chance(10))
		add_ev(in, -1, t0 + dur(0, 15000, coarse), round ? "U2" : "U1");
	return last;
}

/* One key: one run, sometimes a second one starting around the first one's end
 * (within its close time + lateness, or after: a new instance). */
static void gen_inst(struct inst *in, const struct graph *g, int coarse)
{
	in->n = 0;
	int64_t t0 = 1000000; /* 1000 s after BASE: never negative */
	int64_t last = gen_round(in, g, coarse, t0, 0);
	if (chance(20))
		gen_round(in, g, coarse, last + dur(0, 3 * g->lateness_ms, coarse), 1);
	if (in->n == 0)
		add_ev(in, 0, t0, "S0.1");
	/* arrival order: time + a jitter under lateness, so that every event's time is
	 * above (largest earlier time - lateness) */
	int64_t key[MAXEV];
	for (int i = 0; i < in->n; i++)
		key[i] = in->ev[i].t_ms + (int64_t)(rnd() % (uint32_t)g->lateness_ms);
	for (int i = 1; i < in->n; i++) {
		struct pev e = in->ev[i];
		int64_t kk = key[i];
		int j = i - 1;
		for (; j >= 0 && key[j] > kk; j--) {
			in->ev[j + 1] = in->ev[j];
			key[j + 1] = key[j];
		}
		in->ev[j + 1] = e;
		key[j + 1] = kk;
	}
	for (int i = 0; i < in->n; i++) {
		int r = (int)(rnd() % 4);
		in->ev[i].push = r == 0 ? 0 : r == 3 ? 2 : 1;
		in->ev[i].frac = rnd() % 1000;
	}
}

/* ---- judging one way ---- */

enum mode { M_ALONE, M_PUSHED, M_EXT, M_END, M__N };
static const char *const MODE_NAMES[M__N] = { "alone", "pushed", "ext", "end" };

struct recs {
	char *l[MAXREC];
	int n;
};

static void add_rec(struct recs *r, const char *s)
{
	if (r->n < MAXREC)
		r->l[r->n++] = strdup(s);
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	char b[512];
	snprintf(b, sizeof(b),
	    "anomaly %s %s %s at=%lld deadline=%lld overrun=%lld ev=%s awaiting=%llx",
	    an_kind_name(a->kind), a->step ? a->step : "-", a->correlation_id,
	    (long long)(a->at_ns - BASE_NS),
	    (long long)(a->deadline_ns ? a->deadline_ns - BASE_NS : 0), (long long)a->overrun_ns,
	    a->ev ? a->ev->event_id : "-", (unsigned long long)a->awaiting);
	add_rec(ctx, b);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	char b[512];
	snprintf(b, sizeof(b), "flow %s %s opened=%lld closed=%lld events=%u awaiting=%llx",
	    r->outcome, r->correlation_id, (long long)(r->opened_ns - BASE_NS),
	    (long long)(r->closed_ns == ENGINE_NO_TIME ? -1 : r->closed_ns - BASE_NS), r->events,
	    (unsigned long long)r->awaiting);
	add_rec(ctx, b);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_recs(struct recs *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->l[i]);
	r->n = 0;
}

/* The push before event k: W may reach just below the earliest time still to come,
 * T_max never past the instance's largest time. ENGINE_NO_TIME: none. */
static int64_t push_to(const struct graph *g, const struct inst *in, int k, int64_t tmax)
{
	const struct pev *e = &in->ev[k];
	if (e->push == 0)
		return ENGINE_NO_TIME;
	int64_t mn = INT64_MAX, mx = INT64_MIN;
	for (int i = 0; i < in->n; i++) {
		int64_t t = BASE_NS + in->ev[i].t_ms * MS;
		if (i >= k && t < mn)
			mn = t;
		if (t > mx)
			mx = t;
	}
	int64_t p = mn + g->lateness_ms * MS - 1;
	if (p > mx)
		p = mx;
	if (e->push == 2 && tmax != ENGINE_NO_TIME && p > tmax)
		p = tmax + (int64_t)((double)(p - tmax) * e->frac / 1000.0);
	return tmax != ENGINE_NO_TIME && p <= tmax ? ENGINE_NO_TIME : p;
}

static const char *ev_type(const struct config *cfg, const struct pev *e)
{
	return e->step < 0 ? "Undeclared" : cfg->graph.flows[0].steps[e->step].name;
}

static struct event mkev(const struct config *cfg, const struct pev *pe, const char *corr)
{
	return (struct event){ .event_id = pe->id,
		.correlation_id = corr,
		.type = ev_type(cfg, pe),
		.source = "prop",
		.causation_id = "",
		.time_ns = BASE_NS + pe->t_ms * MS,
		.partition = -1 };
}

static void judge(const struct config *cfg, const struct graph *g, const struct inst *in,
    enum mode m, struct recs *out)
{
	struct engine_sink sink = { on_anomaly, on_flow, NULL, out };
	struct engine_opts o = {
		m == M_ALONE || m == M_PUSHED ? ENGINE_CLOCK_EVENTS : ENGINE_CLOCK_EXTERNAL, 0
	};
	struct engine *e = NULL;
	char err[256];
	out->n = 0;
	if (engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)) != 0)
		fail_msg("engine_new: %s", err);
	int64_t tmax = ENGINE_NO_TIME;
	for (int k = 0; k < in->n; k++) {
		int64_t p = m == M_PUSHED || m == M_EXT ? push_to(g, in, k, tmax) : ENGINE_NO_TIME;
		if (p != ENGINE_NO_TIME) {
			tmax = p;
			if (m == M_PUSHED) {
				char id[32];
				snprintf(id, sizeof(id), "noise%d", k);
				struct event nv = { .event_id = id,
					.correlation_id = "noise",
					.type = "Noise",
					.source = "prop",
					.causation_id = "",
					.time_ns = p,
					.partition = -1 };
				engine_apply(e, &nv);
			} else {
				engine_advance(e, p);
			}
		}
		const struct pev *pe = &in->ev[k];
		struct event ev = mkev(cfg, pe, "c");
		if (tmax == ENGINE_NO_TIME || ev.time_ns > tmax)
			tmax = ev.time_ns;
		if (m == M_EXT && k % 3 == 2)
			engine_advance(e, tmax); /* a consumer catching up now and then */
		engine_apply(e, &ev);
	}
	if (o.clock == ENGINE_CLOCK_EXTERNAL && tmax != ENGINE_NO_TIME)
		engine_advance(e, tmax);
	engine_finish(e);
	if (engine_check(e, err, sizeof(err)) != 0)
		fail_msg("engine_check: %s", err);
	engine_free(e);
	qsort(out->l, (size_t)out->n, sizeof(char *), cmpstr);
}

static int same(const struct recs *a, const struct recs *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->l[i], b->l[i]) != 0)
			return 0;
	return 1;
}

/* The first mode whose records differ from `alone`, or -1. */
static int differs(const struct config *cfg, const struct graph *g, const struct inst *in)
{
	struct recs r[M__N];
	int bad = -1;
	for (int m = 0; m < M__N; m++)
		judge(cfg, g, in, (enum mode)m, &r[m]);
	for (int m = 1; m < M__N && bad < 0; m++)
		if (!same(&r[0], &r[m]))
			bad = m;
	for (int m = 0; m < M__N; m++)
		free_recs(&r[m]);
	return bad;
}

/* Removes events while the case still differs; then drops pushes that do not matter. */
static void shrink(const struct config *cfg, const struct graph *g, struct inst *in)
{
	for (int progress = 1; progress;) {
		progress = 0;
		for (int k = 0; k < in->n; k++) {
			struct inst t = *in;
			memmove(&t.ev[k], &t.ev[k + 1], sizeof(t.ev[0]) * (size_t)(t.n - k - 1));
			t.n--;
			if (t.n > 0 && differs(cfg, g, &t) >= 0) {
				*in = t;
				progress = 1;
				k--;
			}
		}
	}
	for (int k = 0; k < in->n; k++) {
		if (!in->ev[k].push)
			continue;
		struct inst t = *in;
		t.ev[k].push = 0;
		if (differs(cfg, g, &t) >= 0)
			*in = t;
	}
}

static void print_case(const struct config *cfg, const struct graph *g, const struct inst *in)
{
	printf("%s", g->yaml);
	printf(
	    "  events (arrival order; seconds after the base; push = T_max raised before it):\n");
	int64_t tmax = ENGINE_NO_TIME;
	for (int k = 0; k < in->n; k++) {
		int64_t p = push_to(g, in, k, tmax);
		if (p != ENGINE_NO_TIME) {
			printf("    (unmatched event at %.9f)\n", (double)(p - BASE_NS) / 1e9);
			tmax = p;
		}
		int64_t t = BASE_NS + in->ev[k].t_ms * MS;
		if (tmax == ENGINE_NO_TIME || t > tmax)
			tmax = t;
		printf("    %-10s %.3f id=%s\n", ev_type(cfg, &in->ev[k]),
		    (double)in->ev[k].t_ms / 1e3, in->ev[k].id);
	}
	struct recs r[M__N];
	for (int m = 0; m < M__N; m++)
		judge(cfg, g, in, (enum mode)m, &r[m]);
	for (int m = 0; m < M__N; m++) {
		if (m > 0 && same(&r[0], &r[m]))
			continue;
		printf("  %s:\n", MODE_NAMES[m]);
		for (int i = 0; i < r[m].n; i++)
			printf("    %s\n", r[m].l[i]);
	}
	for (int m = 0; m < M__N; m++)
		free_recs(&r[m]);
}

static long envnum(const char *name, long def)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : def;
}

/* Draws case k of `seed`: returns 0 and the graph, config and instance. */
static int draw(uint64_t seed, long k, struct graph *g, struct inst *in, struct config **cfg)
{
	rng = (seed * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)(k + 1) * 0xD1B54A32D192ED03ULL);
	if (!rng)
		rng = 1;
	for (int i = 0; i < 4; i++)
		rnd();
	int coarse = chance(40); /* half-second times: ties between deadlines and events */
	gen_graph(g, coarse);
	char err[4096];
	if (config_load_string("prop", g->yaml, strlen(g->yaml), cfg, err, sizeof(err)) != 0) {
		printf("case %ld: generated config rejected: %s\n%s", k, err, g->yaml);
		return -1;
	}
	gen_inst(in, g, coarse);
	return 0;
}

static void test_clock_decides_when_not_which(void **state)
{
	(void)state;
	uint64_t seed = (uint64_t)envnum("PROPTEST_SEED", 1);
	long ncases = envnum("PROPTEST_CASES", 5000), only = envnum("PROPTEST_CASE", -1);
	long show = envnum("PROPTEST_SHOW", 3);
	long ndiff = 0, byMode[M__N] = { 0 }, rejected = 0;
	static struct graph g;
	static struct inst in;
	for (long k = only >= 0 ? only : 0; k < (only >= 0 ? only + 1 : ncases); k++) {
		struct config *cfg = NULL;
		if (draw(seed, k, &g, &in, &cfg) != 0) {
			rejected++;
			continue;
		}
		int m = differs(cfg, &g, &in);
		if (m >= 0) {
			ndiff++;
			byMode[m]++;
			if (ndiff <= show || only >= 0) {
				shrink(cfg, &g, &in);
				printf("---- case %ld (PROPTEST_SEED=%llu PROPTEST_CASE=%ld): %s "
				       "differs from alone\n",
				    k, (unsigned long long)seed, k,
				    MODE_NAMES[differs(cfg, &g, &in)]);
				print_case(cfg, &g, &in);
			}
		} else if (only >= 0) {
			print_case(cfg, &g, &in);
		}
		config_free(cfg);
	}
	printf(
	    "property: %ld differing cases out of %ld (seed %llu; pushed %ld, ext %ld, end %ld)\n",
	    ndiff, only >= 0 ? 1 : ncases, (unsigned long long)seed, byMode[M_PUSHED],
	    byMode[M_EXT], byMode[M_END]);
	assert_int_equal(rejected, 0);
	assert_int_equal(ndiff, 0);
}

/* ---- PROPTEST_DUMP=DIR: the same cases for the Kafka path ---- */

/* Each case is shifted so that its last event time is DUMP_END_MS: a stream that
 * carries many cases ends (end of input, W = T_max) at the largest time of all of
 * them, and a case's verdicts depend on its end of input; so all end together. */
#define DUMP_END_MS INT64_C(4600000) /* an hour after the generator's t0 */
/* The wall clock ends a daemon run long after every deadline of every case (the
 * times are in 2026-01-01's first hours): any end of input past them all gives the
 * same records, and one day after the last event is past them all. */
#define DUMP_FAR_NS (INT64_C(86400000) * MS)

struct dev { /* one event of the merged stream */
	long kase;
	int idx; /* its place in the case's arrival order */
	int64_t t_ms, s_ms, lat_ms;
	char *line; /* correlation id, TAB, the JSON event */
};

struct dump {
	FILE *cfg, *exp_event, *exp_wall;
	struct dev *ev;
	size_t n, cap;
};

/* The `alone` run of one case, written as replay and the daemon write records; with
 * far_ns != ENGINE_NO_TIME the end of input is at far_ns (the wall clock's end). */
static void alone_records(
    const struct config *cfg, const struct inst *in, const char *corr, int64_t far_ns, FILE *out)
{
	struct records *r = records_new(out, &cfg->graph);
	struct engine_sink sink;
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	char err[256];
	assert_non_null(r);
	records_sink(r, &sink);
	if (engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)) != 0)
		fail_msg("engine_new: %s", err);
	for (int k = 0; k < in->n; k++) {
		struct event ev = mkev(cfg, &in->ev[k], corr);
		engine_apply(e, &ev);
	}
	if (far_ns != ENGINE_NO_TIME)
		engine_advance(e, far_ns);
	engine_finish(e);
	engine_free(e);
	assert_int_equal(records_flush(r), 0);
	records_free(r);
}

static void dump_event(struct dump *d, const struct config *cfg, const struct pev *pe, long k,
    int idx, int64_t s_ms, int64_t lat_ms, const char *corr)
{
	char t[TIMEFMT_RFC3339_MAX], line[512];
	timefmt_format_rfc3339(BASE_NS + pe->t_ms * MS, t, sizeof(t));
	snprintf(line, sizeof(line),
	    "%s\t{\"event_id\":\"%s\",\"correlation_id\":\"%s\",\"type\":\"%s\","
	    "\"source\":\"prop\",\"time\":\"%s\"}",
	    corr, pe->id, corr, ev_type(cfg, pe), t);
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 4096;
		d->ev = realloc(d->ev, d->cap * sizeof(*d->ev));
		assert_non_null(d->ev);
	}
	d->ev[d->n++] = (struct dev){ k, idx, pe->t_ms, s_ms, lat_ms, strdup(line) };
}

/* Case k namespaced (flow pK, steps kK_*, correlation id cK, event ids kK_*), shifted
 * to end at DUMP_END_MS: its flow, its expected records, its events. */
static int dump_case(struct dump *d, uint64_t seed, long k)
{
	static struct graph g;
	static struct inst in;
	struct config *cfg = NULL;
	char flow[24], pre[24], corr[24], yaml[4200], err[4096];
	if (draw(seed, k, &g, &in, &cfg) != 0)
		return -1;
	config_free(cfg);
	snprintf(flow, sizeof(flow), "p%ld", k);
	snprintf(pre, sizeof(pre), "k%ld_", k);
	snprintf(corr, sizeof(corr), "c%ld", k);
	memcpy(yaml, "flows:\n", 8);
	graph_yaml(&g, flow, pre, yaml + 7, sizeof(yaml) - 7);
	if (config_load_string(flow, yaml, strlen(yaml), &cfg, err, sizeof(err)) != 0) {
		printf("case %ld: namespaced config rejected: %s\n%s", k, err, yaml);
		return -1;
	}
	int64_t mx = INT64_MIN;
	for (int i = 0; i < in.n; i++)
		mx = in.ev[i].t_ms > mx ? in.ev[i].t_ms : mx;
	for (int i = 0; i < in.n; i++) {
		char id[sizeof(in.ev[i].id)];
		snprintf(id, sizeof(id), "%s%s", pre, in.ev[i].id);
		memcpy(in.ev[i].id, id, sizeof(id));
		in.ev[i].t_ms += DUMP_END_MS - mx;
	}
	fprintf(d->cfg, "  # case %ld (PROPTEST_SEED=%llu PROPTEST_CASE=%ld)\n%s", k,
	    (unsigned long long)seed, k, yaml + 7);
	alone_records(cfg, &in, corr, ENGINE_NO_TIME, d->exp_event);
	alone_records(cfg, &in, corr, BASE_NS + DUMP_END_MS * MS + DUMP_FAR_NS, d->exp_wall);
	/* s: the clock must stay below it when the event arrives (below the time of every
	 * event of its case still to come, plus lateness); non-decreasing in arrival order */
	int64_t smin[MAXEV];
	for (int i = in.n - 1; i >= 0; i--) {
		smin[i] = in.ev[i].t_ms + g.lateness_ms;
		if (i + 1 < in.n && smin[i + 1] < smin[i])
			smin[i] = smin[i + 1];
	}
	for (int i = 0; i < in.n; i++)
		dump_event(d, cfg, &in.ev[i], k, i, smin[i], g.lateness_ms, corr);
	config_free(cfg);
	return 0;
}
static int dev_cmp(const void *a, const void *b)
{
	const struct dev *x = a, *y = b;
	if (x->s_ms != y->s_ms)
		return x->s_ms < y->s_ms ? -1 : 1;
	if (x->kase != y->kase)
		return x->kase < y->kase ? -1 : 1;
	return x->idx - y->idx;
}

/* The merged stream: every event as late as its case allows (ordered by s, so each
 * case keeps its arrival order), so the other cases push the clock to just below
 * what would make it late. Checks that none is late on any partition: a partition
 * carries a subsequence, and the daemon's clock never passes the largest time read
 * before the event from the event's own partition. Returns how many events arrive
 * with the clock past their own time. */
static long dump_events(struct dump *d, FILE *out, long first, long ncases)
{
	int64_t *own = malloc((size_t)ncases * sizeof(*own));
	int64_t tmax = INT64_MIN;
	long behind = 0;
	assert_non_null(own);
	for (long c = 0; c < ncases; c++)
		own[c] = INT64_MIN;
	qsort(d->ev, d->n, sizeof(*d->ev), dev_cmp);
	for (size_t i = 0; i < d->n; i++) {
		const struct dev *v = &d->ev[i];
		if (tmax != INT64_MIN && tmax >= v->t_ms + v->lat_ms)
			fail_msg("case %ld: event %d would be late (T_max %lld, time %lld, "
				 "lateness %lld)",
			    v->kase, v->idx, (long long)tmax, (long long)v->t_ms,
			    (long long)v->lat_ms);
		behind += tmax > v->t_ms && tmax > own[v->kase - first];
		fprintf(out, "%s\n", v->line);
		tmax = v->t_ms > tmax ? v->t_ms : tmax;
		if (v->t_ms > own[v->kase - first])
			own[v->kase - first] = v->t_ms;
		free(v->line);
	}
	free(own);
	return behind;
}

static FILE *dump_open(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s", path);
	return f;
}

/* PROPTEST_DUMP=DIR writes cases PROPTEST_FIRST.. (PROPTEST_CASES of them) for
 * tests/e2e/kafka_property.sh: config.yaml (one flow per case), events.tsv (the
 * merged stream, "correlation id TAB JSON" lines), expected-event.jsonl (the `alone`
 * records) and expected-wall.jsonl (the same with the end of input a day later). */
static void test_dump_for_kafka(void **state)
{
	(void)state;
	const char *dir = getenv("PROPTEST_DUMP");
	uint64_t seed = (uint64_t)envnum("PROPTEST_SEED", 1);
	long first = envnum("PROPTEST_FIRST", 0), ncases = envnum("PROPTEST_CASES", 500);
	long rejected = 0;
	struct dump d = { dump_open(dir, "config.yaml"), dump_open(dir, "expected-event.jsonl"),
		dump_open(dir, "expected-wall.jsonl"), NULL, 0, 0 };
	FILE *evf = dump_open(dir, "events.tsv");
	fprintf(d.cfg, "flows:\n");
	for (long k = first; k < first + ncases; k++)
		rejected += dump_case(&d, seed, k) != 0;
	long behind = dump_events(&d, evf, first, ncases);
	printf("dump: cases %ld..%ld (seed %llu), %zu events, %ld of them arrive behind a clock "
	       "other cases moved past their time\n",
	    first, first + ncases - 1, (unsigned long long)seed, d.n, behind);
	free(d.ev);
	assert_int_equal(fclose(d.cfg) | fclose(d.exp_event) | fclose(d.exp_wall) | fclose(evf), 0);
	assert_int_equal(rejected, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_decides_when_not_which),
	};
	const struct CMUnitTest dump[] = {
		cmocka_unit_test(test_dump_for_kafka),
	};
	if (getenv("PROPTEST_DUMP"))
		return cmocka_run_group_tests(dump, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
