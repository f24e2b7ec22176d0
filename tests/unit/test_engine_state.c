/*
 * test_engine_state: engine_state export/import/drop (durable state, issue 9).
 * A stream judged without interruption must give the same records as the same stream
 * judged by one engine up to a cut, its state exported (per source, as partitions),
 * imported into a fresh engine that judges the rest: at every cut tried, in both clock
 * modes. Also: drop keeps the counters exact, a damaged blob imports nothing, and the
 * fingerprint changes with the flow graph.
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
#include "engine/engine_state.h"
#include "lib/jbuf.h"
#include "out/records.h"

static const char *CONFIG =
    "flows:\n"
    "  - name: order\n"
    "    deadline: 60s\n"
    "    keys: [pay]\n"
    "    steps:\n"
    "      A: { start: true }\n"
    "      B: { after: [A], within: 5s, retries: 1 }\n"
    "      C: { after: [A], within: 5s, instead_of: [B] }\n"
    "      D: { after_any: [B, C], within: 6s, key: pay }\n"
    "      E: { after: [B, D], join_within: 2s, within: 8s, end: completed }\n"
    "      F: { after: [C], within: 9s, end: compensated }\n"
    "  - name: side\n"
    "    complete_when: [X, Y]\n"
    "    steps:\n"
    "      S: { start: true }\n"
    "      X: { after: [S], within: 4s }\n"
    "      Y: { after: [S], optional: true, within: 3s }\n";

struct gen_ev {
	char corr[16], type[8], id[24], pay[16];
	int64_t t;
	int haspay;
};

static uint64_t rng;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Flows 0.25 s apart; steps dropped, repeated, swapped, undeclared; D keyed by the
 * payment id only (a linked key); arrival jitter under the 5 s lateness. */
static int generate(struct gen_ev *out, int max, int nflows)
{
	static const char *ORDER[] = { "A", "B", "D", "E" }, *SIDE[] = { "S", "X", "Y" };
	int n = 0;
	for (int f = 0; f < nflows && n + 12 < max; f++) {
		int64_t t = (int64_t)f * 250000000LL;
		int side = rnd() % 4 == 0;
		int nst = side ? 3 : 4;
		for (int s = 0; s < nst; s++) {
			const char *type = side ? SIDE[s] : ORDER[s];
			if (!side && s == 1 && rnd() % 5 == 0)
				type = "C";
			if (!side && s == 3 && strcmp(out[n - 1].type, "C") == 0)
				type = "F";
			if (rnd() % 9 == 0)
				continue;
			t += 300000000LL + (int64_t)(rnd() % 7000) * 1000000LL;
			struct gen_ev *e = &out[n++];
			snprintf(e->corr, sizeof e->corr, "%c%d", side ? 's' : 'o', f);
			snprintf(e->pay, sizeof e->pay, "p%d", f);
			snprintf(e->type, sizeof e->type, "%s", rnd() % 40 == 0 ? "Zz" : type);
			snprintf(e->id, sizeof e->id, "%d-%d", f, s);
			e->haspay = !side && s >= 2;
			if (e->haspay && s == 2)
				snprintf(e->corr, sizeof e->corr, "x%d", f); /* found by pay only */
			e->t = t;
			if (rnd() % 10 == 0) {
				out[n] = *e;
				if (rnd() % 2)
					snprintf(out[n].id, sizeof out[n].id, "%d-%d-r", f, s);
				n++;
			}
		}
	}
	int64_t *key = malloc(sizeof(int64_t) * (size_t)n);
	for (int i = 0; i < n; i++)
		key[i] = out[i].t + (int64_t)(rnd() % 4900) * 1000000LL;
	for (int i = 1; i < n; i++) {
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

#define NSRC 4
static uint32_t src_of(const struct gen_ev *g)
{
	/* a flow's events share a source: by flow number, as a partitioner would */
	return 1 + (uint32_t)(strtoul(g->corr + 1, NULL, 10) % NSRC);
}

static struct engine *mk(const struct config *cfg, struct sinkbuf *b, int external)
{
	struct engine_sink sink = { on_anomaly, on_flow, NULL, b };
	struct engine_opts o = { external ? ENGINE_CLOCK_EXTERNAL : ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	char err[256];
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof err), 0);
	return e;
}

static void apply(struct engine *e, const struct gen_ev *g, int external, int i, int64_t *tmax)
{
	struct ev_attr attrs[1] = { { "pay", g->pay } };
	struct event ev = { .event_id = g->id,
		.correlation_id = g->corr,
		.type = g->type,
		.source = "t",
		.causation_id = "",
		.time_ns = g->t,
		.attrs = attrs,
		.nattrs = g->haspay,
		.partition = -1 };
	if (g->t > *tmax)
		*tmax = g->t;
	engine_state_set_source(e, src_of(g));
	engine_apply(e, &ev);
	if (external && i % 29 == 0)
		engine_advance(e, *tmax);
}

/* Judges evs[0, n) with a hand-over at `cut` (n: none). */
static struct sinkbuf judge(
    const struct config *cfg, const struct gen_ev *evs, int n, int cut, int external)
{
	struct sinkbuf b = { .n = 0 };
	char err[256];
	jbuf_init(&b.w, (size_t)16 << 20);
	struct engine *e = mk(cfg, &b, external);
	int64_t tmax = INT64_MIN;
	for (int i = 0; i < n; i++) {
		if (i == cut) {
			struct es_buf blob[NSRC] = { 0 }, all[NSRC + 1] = { 0 };
			uint32_t counts[NSRC + 1];
			long total = 0;
			for (uint32_t s = 0; s < NSRC; s++)
				total += engine_state_export(e, s + 1, &blob[s]);
			/* one walk for every source gives the same blobs (one more source: empty) */
			assert_int_equal(engine_state_export_all(e, NSRC + 1, all, counts), total);
			for (uint32_t s = 0; s < NSRC; s++) {
				assert_int_equal(all[s].len, blob[s].len);
				assert_memory_equal(all[s].p, blob[s].p, blob[s].len);
				assert_int_equal(counts[s], engine_state_count(e, s + 1));
				engine_state_buf_free(&all[s]);
			}
			assert_int_equal(counts[NSRC], 0);
			assert_int_equal(all[NSRC].len, 4);
			engine_state_buf_free(&all[NSRC]);
			int64_t t = engine_stats(e)->tmax_ns;
			engine_free(e);
			e = mk(cfg, &b, external);
			long back = 0;
			for (uint32_t s = NSRC; s-- > 0;) { /* another order than written */
				long k = engine_state_import(
				    e, s + 1, blob[s].p, blob[s].len, err, sizeof err);
				if (k < 0)
					fail_msg("import: %s", err);
				back += k;
				engine_state_buf_free(&blob[s]);
			}
			assert_int_equal(back, total);
			if (t != ENGINE_NO_TIME)
				engine_advance(e, t);
			if (engine_check(e, err, sizeof err) != 0)
				fail_msg("after import at %d: %s", cut, err);
		}
		apply(e, &evs[i], external, i, &tmax);
	}
	if (external)
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

static void assert_same(const struct sinkbuf *a, const struct sinkbuf *b, int cut)
{
	for (int i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->lines[i], b->lines[i]) != 0)
			fail_msg("cut %d: record %d differs:\n  %s\n  %s", cut, i, a->lines[i],
			    b->lines[i]);
	assert_int_equal(a->n, b->n);
}

static void test_handover_changes_nothing(void **state)
{
	(void)state;
	char err[4096];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("state", CONFIG, strlen(CONFIG), &cfg, err, sizeof err), 0);
	enum { MAXEV = 20000 };
	struct gen_ev *evs = malloc(sizeof(*evs) * MAXEV);
	rng = 0x9E3779B97F4A7C15ULL;
	int n = generate(evs, MAXEV, 1500);
	for (int external = 0; external < 2; external++) {
		struct sinkbuf want = judge(cfg, evs, n, n, external);
		int anomalies = 0;
		for (int i = 0; i < want.n; i++)
			anomalies += strstr(want.lines[i], "\"record\":\"anomaly\"") != NULL;
		assert_true(anomalies > 100);
		for (int cut = 1; cut < n; cut += n / 23) {
			struct sinkbuf got = judge(cfg, evs, n, cut, external);
			assert_same(&want, &got, cut);
			free_buf(&got);
		}
		free_buf(&want);
	}
	free(evs);
	config_free(cfg);
}

static void nop_an(void *c, const struct anomaly *a)
{
	(void)a;
	(*(long *)c)++;
}
static void nop_fl(void *c, const struct flow_record *r)
{
	(void)r;
	(*(long *)c)++;
}

static void test_drop_and_damage(void **state)
{
	(void)state;
	char err[4096];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("state", CONFIG, strlen(CONFIG), &cfg, err, sizeof err), 0);
	enum { MAXEV = 4000 };
	struct gen_ev *evs = malloc(sizeof(*evs) * MAXEV);
	rng = 77;
	int n = generate(evs, MAXEV, 300);
	long out = 0;
	struct engine_sink sink = { nop_an, nop_fl, NULL, &out };
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL, *f = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof err), 0);
	int64_t tmax = INT64_MIN;
	for (int i = 0; i < n / 2; i++)
		apply(e, &evs[i], 0, i, &tmax);
	size_t c1 = engine_state_count(e, 1), c2 = engine_state_count(e, 2);
	assert_true(c1 > 0 && c2 > 0);
	struct es_buf b = { 0 };
	assert_int_equal(engine_state_export(e, 1, &b), (long)c1);
	long before = out;
	assert_int_equal(engine_state_drop(e, 1), (long)c1);
	assert_int_equal(out, before); /* dropped silently */
	assert_int_equal(engine_state_count(e, 1), 0);
	assert_int_equal(engine_state_count(e, 2), c2);
	assert_int_equal(engine_check(e, err, sizeof err), 0);
	/* the clock is only forgotten once no instance is left */
	int64_t t_before = engine_stats(e)->tmax_ns;
	assert_int_equal(engine_state_reset_clock(e), -1);
	assert_int_equal(engine_stats(e)->tmax_ns, t_before);

	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &f, err, sizeof err), 0);
	/* every truncation and a few flipped counts are refused, importing nothing */
	for (size_t len = 0; len < b.len; len += 1 + len / 7) {
		assert_int_equal(engine_state_import(f, 1, b.p, len, err, sizeof err), -1);
		assert_int_equal(engine_state_count(f, 1), 0);
	}
	uint32_t lie = (uint32_t)c1 + 1;
	memcpy(b.p, &lie, 4);
	assert_int_equal(engine_state_import(f, 1, b.p, b.len, err, sizeof err), -1);
	lie = (uint32_t)c1 - 1;
	memcpy(b.p, &lie, 4);
	assert_int_equal(engine_state_import(f, 1, b.p, b.len, err, sizeof err), -1);
	assert_int_equal(engine_check(f, err, sizeof err), 0);
	lie = (uint32_t)c1;
	memcpy(b.p, &lie, 4);
	assert_int_equal(engine_state_import(f, 3, b.p, b.len, err, sizeof err), (long)c1);
	assert_int_equal(engine_state_count(f, 3), c1);
	assert_int_equal(engine_check(f, err, sizeof err), 0);

	/* the fingerprint follows the graph */
	struct config *cfg2 = NULL;
	char *changed = strdup(CONFIG);
	memcpy(strstr(changed, "within: 5s"), "within: 6s", 10);
	assert_int_equal(
	    config_load_string("state2", changed, strlen(changed), &cfg2, err, sizeof err), 0);
	struct engine *g = NULL;
	assert_int_equal(engine_new(&cfg2->graph, &o, &sink, &g, err, sizeof err), 0);
	assert_int_not_equal(engine_state_fingerprint(e), engine_state_fingerprint(g));
	assert_int_equal(engine_state_fingerprint(e), engine_state_fingerprint(f));
	engine_free(g);
	config_free(cfg2);
	free(changed);

	engine_state_buf_free(&b);
	/* every source dropped: the clock restarts, earlier than before, and the engine
	 * judges on from there (an instance imported then fires at its own deadline) */
	for (uint32_t s = 0; s <= NSRC; s++)
		engine_state_drop(e, s);
	assert_true(engine_stats(e)->tmax_ns != ENGINE_NO_TIME);
	assert_int_equal(engine_state_reset_clock(e), 0);
	assert_int_equal(engine_stats(e)->tmax_ns, ENGINE_NO_TIME);
	assert_int_equal(engine_check(e, err, sizeof err), 0);
	int64_t t0 = INT64_MIN;
	for (int i = 0; i < n / 4; i++)
		apply(e, &evs[i], 0, i, &t0);
	assert_true(engine_stats(e)->tmax_ns <= t0);
	assert_int_equal(engine_check(e, err, sizeof err), 0);
	engine_finish(e);
	engine_finish(f);
	engine_free(e);
	engine_free(f);
	free(evs);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handover_changes_nothing),
		cmocka_unit_test(test_drop_and_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
