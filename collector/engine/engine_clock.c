/*
 * engine_clock: the engine's clocks, one per distinct lateness, and which of them
 * have work (issue #15: per-event cost independent of the declared flows).
 *
 * Every flow of lateness L reads the clock W = T_max - L (T_max itself once the input
 * ended), so W is derived from T_max when read and never stored: raising T_max moves
 * every clock at once, in O(1). A clock's wheel holds the deadlines of all instances
 * of its flows. Its `due` is a T_max from which the wheel may have something to do
 * (tw_next_due + L; INT64_MAX when empty); the clocks sit in a min-heap by due, so
 * an event or a periodic tick looks at the heap's top only and runs just the clocks
 * whose deadlines are due: one watermark advance per event whatever the number of
 * flows and latenesses, plus one visit per clock with a deadline actually due.
 *
 * Invariant: a clock's due is at most its wheel's earliest expire + L (arming lowers
 * it at once; cancelling leaves it low, costing one visit that refreshes it), and the
 * heap orders (due, clock index). Clocks due together run in ascending lateness, the
 * order in which verdicts were always reported. Engine thread only.
 */
#include "engine/engine_int.h"
#include "lib/timefmt.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* ---- the heap of clocks by due ---- */

static int clk_less(const struct engine *e, int a, int b)
{
	const struct fclock *x = &e->clk[a], *y = &e->clk[b];
	return x->due != y->due ? x->due < y->due : a < b;
}

static void heap_set(struct engine *e, int pos, int c)
{
	e->clkheap[pos] = c;
	e->clk[c].pos = pos;
}

static void heap_up(struct engine *e, int pos)
{
	int c = e->clkheap[pos];
	while (pos > 0 && clk_less(e, c, e->clkheap[(pos - 1) / 2])) {
		heap_set(e, pos, e->clkheap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	heap_set(e, pos, c);
}

static void heap_down(struct engine *e, int pos)
{
	int c = e->clkheap[pos];
	for (;;) {
		int l = 2 * pos + 1, r = l + 1, m = c, mpos = pos;
		if (l < e->nclk && clk_less(e, e->clkheap[l], m))
			m = e->clkheap[l], mpos = l;
		if (r < e->nclk && clk_less(e, e->clkheap[r], m))
			m = e->clkheap[r], mpos = r;
		if (mpos == pos)
			break;
		heap_set(e, pos, m);
		pos = mpos;
	}
	heap_set(e, pos, c);
}

/* Recomputes a clock's due from its wheel and restores the heap. */
static void rekey(struct engine *e, struct fclock *c)
{
	int64_t old = c->due;
	c->due =
	    c->wheel.count ? timefmt_add_sat(tw_next_due(&c->wheel), c->lateness_ns) : INT64_MAX;
	if (c->due < old)
		heap_up(e, c->pos);
	else if (c->due > old)
		heap_down(e, c->pos);
}

/* ---- building ---- */

int engine_clock_build(struct engine *e)
{
	int64_t *lat = malloc(((size_t)e->nfl + 1) * sizeof(*lat));
	if (!lat)
		return -1;
	for (int f = 0; f < e->nfl; f++)
		lat[f] = e->g->flows[f].lateness_ns;
	qsort(lat, (size_t)e->nfl, sizeof(*lat), cmp_i64);
	int n = 0;
	for (int f = 0; f < e->nfl; f++)
		if (n == 0 || lat[f] != lat[n - 1])
			lat[n++] = lat[f];
	e->clk = calloc((size_t)n + 1, sizeof(*e->clk));
	e->clkheap = calloc((size_t)n + 1, sizeof(*e->clkheap));
	e->clkdue = calloc((size_t)n + 1, sizeof(*e->clkdue));
	if (!e->clk || !e->clkheap || !e->clkdue) {
		free(lat);
		return -1;
	}
	e->nclk = n;
	for (int c = 0; c < n; c++) {
		e->clk[c].lateness_ns = lat[c];
		e->clk[c].due = INT64_MAX;
		tw_init(&e->clk[c].wheel);
		heap_set(e, c, c); /* all INT64_MAX, ascending index: a heap */
	}
	for (int f = 0; f < e->nfl; f++) {
		int lo = 0, hi = n - 1;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (lat[mid] < e->g->flows[f].lateness_ns)
				lo = mid + 1;
			else
				hi = mid;
		}
		e->fl[f].clk = &e->clk[lo];
	}
	free(lat);
	return 0;
}

void engine_clock_free(struct engine *e)
{
	for (int k = 0; e->clk && k < e->nclk; k++)
		tw_dispose(&e->clk[k].wheel);
	free(e->clk);
	free(e->clkheap);
	free(e->clkdue);
}

/* ---- arming and running ---- */

void engine_clock_arm(struct engine *e, struct fclock *c, struct tw_entry *t, int64_t expire)
{
	tw_arm(&c->wheel, t, expire);
	int64_t due = timefmt_add_sat(expire, c->lateness_ns);
	if (due < c->due) {
		c->due = due;
		heap_up(e, c->pos);
	}
}

static void on_timer(void *ctx, struct tw_entry *t)
{
	struct engine *e = ctx;
	struct inst *i = (struct inst *)t;
	judge_timer(e, &e->fl[i->flow], i);
}

size_t engine_clock_run(struct engine *e, struct fclock *c, size_t budget)
{
	int64_t w = engine_clock_now(e, c);
	if (w == ENGINE_NO_TIME)
		return 0;
	e->work++;
	size_t n = c->wheel.count ? tw_run(&c->wheel, w, budget, on_timer, e) : 0;
	rekey(e, c);
	return n;
}

/* The clocks whose due is at most T_max: the heap's top and, recursively, those of
 * its children that are due too; O(clocks due). */
static void collect_due(struct engine *e, int pos, int *n)
{
	if (pos >= e->nclk || e->clk[e->clkheap[pos]].due > e->st.tmax_ns)
		return;
	e->clkdue[(*n)++] = e->clkheap[pos];
	collect_due(e, 2 * pos + 1, n);
	collect_due(e, 2 * pos + 2, n);
}

int engine_clock_run_due(struct engine *e, size_t budget)
{
	if (e->st.tmax_ns == ENGINE_NO_TIME)
		return 0;
	e->work++; /* the one watermark advance */
	if (e->nclk == 0 || e->clk[e->clkheap[0]].due > e->st.tmax_ns)
		return 0;
	int n = 0;
	collect_due(e, 0, &n);
	if (n > 1)
		qsort(e->clkdue, (size_t)n, sizeof(*e->clkdue), cmp_int);
	for (int k = 0; k < n; k++) {
		size_t fired = engine_clock_run(e, &e->clk[e->clkdue[k]], budget);
		if (fired >= budget)
			return 1;
		budget -= fired;
	}
	return 0;
}

void engine_clock_release(struct engine *e)
{
	e->released = 1; /* every W is now T_max */
	for (int k = 0; k < e->nclk; k++)
		if (e->clk[k].wheel.count) /* an empty wheel has nothing to fire */
			engine_clock_run(e, &e->clk[k], SIZE_MAX);
}

int engine_clock_check(const struct engine *e, char *err, size_t errlen)
{
	for (int k = 0; k < e->nclk; k++) {
		const struct fclock *c = &e->clk[k];
		int rc = tw_check(&c->wheel);
		if (rc) {
			snprintf(err, errlen,
			    "clock of lateness %lld ns: timer wheel inconsistent (%d)",
			    (long long)c->lateness_ns, rc);
			return -1;
		}
		if (c->pos < 0 || c->pos >= e->nclk || e->clkheap[c->pos] != k ||
		    (c->pos > 0 && clk_less(e, k, e->clkheap[(c->pos - 1) / 2]))) {
			snprintf(err, errlen, "clock of lateness %lld ns: out of place in the heap",
			    (long long)c->lateness_ns);
			return -1;
		}
		if (c->due > timefmt_add_sat(tw_next_expire(&c->wheel), c->lateness_ns)) {
			snprintf(err, errlen,
			    "clock of lateness %lld ns: due %lld after its earliest deadline",
			    (long long)c->lateness_ns, (long long)c->due);
			return -1;
		}
	}
	return 0;
}
