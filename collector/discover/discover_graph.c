/*
 * discover_graph: the counters of discover.c -> a flow graph YAML with evidence.
 *
 * With s = min_support, for types a, b of one component (N flows):
 *   cooc(a,b)  flows with both; bef(a,b) flows where a's first event arrived first.
 *   pred(a,b)  a is ordered before b (see below), bef(a,b) >= 3 x
 *              bef(b,a), and cooc(a,b) >= s x count(b): a usually precedes b.
 *   always(a,b) pred(a,b) and cooc(a,b) >= (1-s) x count(b).
 *   excl(a,b)  cooc(a,b) <= 2s x min(count(a), count(b)).
 * Steps are ordered topologically by "a usually first" (ties: mean first-arrival
 * position), and pred() only looks backwards in that order: the graph is acyclic.
 * Components: types naming one `flow` form that flow; the others are joined by
 * union-find over pairs with cooc >= s x the smaller count. A component needs
 * DG_MIN_FLOWS flows (counted by their first type); a step, support >= s.
 * Per step b: no pred: start. `after` = the always-preds minus those always before
 * another one (transitive reduction). `after_any` when the closest partial preds
 * (those not always before another partial pred) are two or more, pairwise
 * exclusive and together cover >= 1-s of b's flows; always-preds before all of them
 * are then implied and dropped. `instead_of` between exclusive steps with the same
 * predecessors. `optional` when b (with its alternatives) occurs in < 1-s of the
 * flows where its predecessors occurred. Ends: non-optional steps with no
 * non-optional successor; leaves that co-occur become `complete_when`. `retries`:
 * the (1-s)-quantile of repeats when >= s of b's flows repeat it. `within`, flow
 * `deadline`: dhist_robust(quantile) x margin, rounded up on a human ladder; a join
 * measures from its latest predecessor. `lateness`: largest disorder x margin, >= 1s.
 *
 * Everything here runs once, after discover_finish; cost O(types^2) per component.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discover/discover.h"
#include "discover/discover_int.h"
#include "engine/flowgraph.h"

#define DG_MIN_FLOWS 10
#define DG_WHY 1024
#define NS_S INT64_C(1000000000)

struct gstep {
	uint32_t t;
	bool start, optional;
	fg_mask after, after_any, alts;
	int64_t within;
	uint32_t retries;
	const char *end;
	char why[DG_WHY];
	size_t wlen;
};

struct gflow {
	const struct discover *d;
	char name[96];
	uint64_t n;
	int nsteps;
	struct gstep s[FG_MAX_STEPS];
	fg_mask complete_when;
	double sup;
	uint64_t dropped; /* types of the component left out */
};

/* ---------------------------------------------------------------- helpers */

static uint64_t bef(const struct discover *d, uint32_t a, uint32_t b)
{
	const struct dpair *p = discover_pair_find(d, a, b);
	return p ? p->before : 0;
}

static uint64_t cooc(const struct discover *d, uint32_t a, uint32_t b)
{
	return bef(d, a, b) + bef(d, b, a);
}

static uint64_t cnt(const struct gflow *g, int i) { return g->d->types[g->s[i].t].count; }

static bool pred(const struct gflow *g, int a, int b)
{
	uint64_t ab = bef(g->d, g->s[a].t, g->s[b].t), ba = bef(g->d, g->s[b].t, g->s[a].t);
	return a < b && ab > 0 && ab >= 3 * ba && (double)(ab + ba) >= g->sup * (double)cnt(g, b);
}

static bool always(const struct gflow *g, int a, int b)
{
	return pred(g, a, b) &&
	    (double)cooc(g->d, g->s[a].t, g->s[b].t) >= (1 - g->sup) * (double)cnt(g, b);
}

static bool excl(const struct gflow *g, int a, int b)
{
	uint64_t m = cnt(g, a) < cnt(g, b) ? cnt(g, a) : cnt(g, b);
	return (double)cooc(g->d, g->s[a].t, g->s[b].t) <= 2 * g->sup * (double)m;
}

static const char *tname(const struct gflow *g, int i) { return g->d->types[g->s[i].t].name; }

static void why(struct gstep *s, const char *fmt, ...)
{
	if (s->wlen + 4 >= DG_WHY)
		return;
	if (s->wlen)
		s->why[s->wlen++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->why + s->wlen, DG_WHY - s->wlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->wlen += (size_t)n < DG_WHY - s->wlen ? (size_t)n : DG_WHY - s->wlen - 1;
}

static double pct(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0; }

/* ---------------------------------------------------------------- durations */

static const int64_t ladder_ms[] = {
	1,
	2,
	5,
	10,
	20,
	50,
	100,
	200,
	250,
	500,
	750,
	1000,
	2000,
	3000,
	4000,
	5000,
	6000,
	8000,
	10000,
	12000,
	15000,
	20000,
	30000,
	45000,
	60000,
	90000,
	120000,
	180000,
	240000,
	300000,
	360000,
	480000,
	600000,
	720000,
	900000,
	1200000,
	1800000,
	2700000,
	3600000,
	5400000,
	7200000,
	10800000,
	14400000,
	18000000,
	21600000,
	28800000,
	36000000,
	43200000,
	64800000,
	86400000,
	129600000,
	172800000,
	259200000,
	345600000,
	432000000,
	518400000,
	604800000,
	864000000,
	1209600000,
	1814400000,
	2592000000,
	3888000000,
	5184000000,
	7776000000,
	10368000000,
	15552000000,
	23328000000,
	31536000000,
};

/* The smallest ladder step >= ns (beyond the ladder: whole multiples of 365 days). */
static int64_t ladder_up(double ns)
{
	for (size_t i = 0; i < sizeof ladder_ms / sizeof ladder_ms[0]; i++)
		if ((double)ladder_ms[i] * 1e6 >= ns)
			return ladder_ms[i] * 1000000;
	double year = 31536000.0 * 1e9;
	double k = ns / year;
	int64_t ki = (int64_t)k;
	if ((double)ki < k)
		ki++;
	return ki * (int64_t)(year);
}

/* A duration the config parser reads back: h, m, s or ms (no d/w). */
static const char *dur(int64_t ns, char *buf, size_t len)
{
	const int64_t H = 3600 * NS_S, M = 60 * NS_S;
	if (ns >= H && ns % H == 0)
		snprintf(buf, len, "%lldh", (long long)(ns / H));
	else if (ns >= M && ns % M == 0)
		snprintf(buf, len, "%lldm", (long long)(ns / M));
	else if (ns >= NS_S && ns % NS_S == 0)
		snprintf(buf, len, "%llds", (long long)(ns / NS_S));
	else if (ns % 1000000 == 0)
		snprintf(buf, len, "%lldms", (long long)(ns / 1000000));
	else
		snprintf(buf, len, "%lldus", (long long)(ns / 1000));
	return buf;
}

/* A human reading of a measured value (not parsed back): 3 significant digits. */
static const char *hum(int64_t ns, char *buf, size_t len)
{
	double v = (double)ns;
	if (v < 1e6)
		snprintf(buf, len, "%.3gus", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.3gms", v / 1e6);
	else if (v < 60e9)
		snprintf(buf, len, "%.3gs", v / 1e9);
	else if (v < 3600e9)
		snprintf(buf, len, "%.3gm", v / 60e9);
	else if (v < 86400e9)
		snprintf(buf, len, "%.3gh", v / 3600e9);
	else
		snprintf(buf, len, "%.3gd", v / 86400e9);
	return buf;
}

/* Suggests a bound from histogram h; 0 when h is empty. */
static int64_t suggest(
    const struct discover *d, const struct dhist *h, struct gstep *s, const char *what)
{
	int64_t q = dhist_robust(h, d->o.quantile);
	if (h->n == 0 || q == 0)
		return 0;
	int64_t v = ladder_up((double)q * d->o.margin);
	char a[32], b[32], c[32];
	if (s)
		why(s, "%s: p%g of %llu gaps %s (p50 %s) x %g -> %s", what, d->o.quantile * 100,
		    (unsigned long long)h->n, hum(q, a, sizeof a),
		    hum(dhist_quantile(h, 0.5), c, sizeof c), d->o.margin, dur(v, b, sizeof b));
	return v;
}

/* ---------------------------------------------------------------- components */

static uint32_t uf_find(uint32_t *p, uint32_t x)
{
	while (p[x] != x)
		x = p[x] = p[p[x]];
	return x;
}

/* comp[t]: a component id per type: flow-name index, or nnames + union-find root. */
static void components(const struct discover *d, uint32_t *comp, uint32_t *uf)
{
	double s = d->o.min_support;
	for (uint32_t t = 0; t < d->ntypes; t++)
		uf[t] = t;
	for (uint32_t i = 0; i < d->npairs; i++) {
		const struct dpair *p = dpair_at(d, i);
		const struct dtype *a = &d->types[p->a], *b = &d->types[p->b];
		if (a->flow_name != DNOFLOW || b->flow_name != DNOFLOW)
			continue;
		uint64_t m = a->count < b->count ? a->count : b->count;
		if ((double)cooc(d, p->a, p->b) >= s * (double)m && m > 0)
			uf[uf_find(uf, p->a)] = uf_find(uf, p->b);
	}
	for (uint32_t t = 0; t < d->ntypes; t++)
		comp[t] = d->types[t].flow_name != DNOFLOW ? d->types[t].flow_name
							   : d->nnames + uf_find(uf, t);
}

static int by_count(const void *x, const void *y, void *arg)
{
	const struct discover *d = arg;
	const struct dtype *a = &d->types[*(const uint32_t *)x],
			   *b = &d->types[*(const uint32_t *)y];
	return a->count != b->count ? (a->count < b->count ? 1 : -1) : strcmp(a->name, b->name);
}
static double mean_pos(const struct discover *d, uint32_t t)
{
	return d->types[t].pos_sum / (double)d->types[t].count;
}

/* a usually comes first when both occur: the edges the step order must respect. */
static bool dominates(const struct discover *d, uint32_t a, uint32_t b)
{
	uint64_t ab = bef(d, a, b), ba = bef(d, b, a);
	uint64_t m = d->types[a].count < d->types[b].count ? d->types[a].count : d->types[b].count;
	return ab > 0 && ab >= 3 * ba && (double)(ab + ba) >= d->o.min_support * (double)m;
}

/* Orders t[0..n) topologically by `dominates` (Kahn), the lowest mean first-arrival
 * position first among the ready ones; on a cycle (noise), the lowest mean position
 * goes next regardless. O(n^3) for n <= FG_MAX_STEPS. */
static void order_steps(const struct discover *d, uint32_t *t, uint32_t n)
{
	uint32_t out[FG_MAX_STEPS];
	bool used[FG_MAX_STEPS] = { false };
	for (uint32_t k = 0; k < n; k++) {
		int best = -1;
		bool best_ready = false;
		for (uint32_t i = 0; i < n; i++) {
			if (used[i])
				continue;
			bool ready = true;
			for (uint32_t j = 0; j < n && ready; j++)
				if (!used[j] && j != i && dominates(d, t[j], t[i]))
					ready = false;
			if (best < 0 || (ready && !best_ready) ||
			    (ready == best_ready && mean_pos(d, t[i]) < mean_pos(d, t[best])))
				best = (int)i, best_ready = ready;
		}
		used[best] = true;
		out[k] = t[best];
	}
	memcpy(t, out, n * sizeof *t);
}

/* Fills g with the steps of component c: support >= s, at most FG_MAX_STEPS (the
 * most frequent), in order of mean first-arrival position. 0, or -1 when the
 * component is too small. */
static int pick_steps(const struct discover *d, const uint32_t *comp, uint32_t c, struct gflow *g,
    uint32_t *tmp, uint64_t *dropped)
{
	uint64_t n = 0;
	uint32_t k = 0;
	for (uint32_t t = 0; t < d->ntypes; t++)
		if (comp[t] == c) {
			n += d->types[t].first;
			tmp[k++] = t;
		}
	if (n < DG_MIN_FLOWS)
		return -1;
	qsort_r(tmp, k, sizeof *tmp, by_count, (void *)d);
	uint32_t keep = 0;
	for (uint32_t i = 0; i < k; i++)
		if ((double)d->types[tmp[i]].count >= d->o.min_support * (double)n &&
		    keep < FG_MAX_STEPS)
			tmp[keep++] = tmp[i];
	if (keep == 0)
		return -1;
	order_steps(d, tmp, keep);
	memset(g, 0, sizeof *g);
	*dropped = k - keep;
	g->d = d;
	g->n = n;
	g->sup = d->o.min_support;
	g->nsteps = (int)keep;
	for (uint32_t i = 0; i < keep; i++)
		g->s[i].t = tmp[i];
	return 0;
}

/* ---------------------------------------------------------------- rules */

static void names_of(const struct gflow *g, fg_mask m, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < g->nsteps && o + 2 < len; i++)
		if (m & FG_BIT(i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", tname(g, i));
}

/* after / after_any / start of step b. */
static void rule_preds(struct gflow *g, int b)
{
	struct gstep *s = &g->s[b];
	const struct discover *d = g->d;
	uint64_t nb = cnt(g, b);
	fg_mask ab = 0, part = 0;
	for (int a = 0; a < b; a++)
		if (pred(g, a, b)) {
			if (always(g, a, b))
				ab |= FG_BIT(a);
			else
				part |= FG_BIT(a);
		}
	fg_mask close = 0;
	for (int a = 0; a < b; a++) {
		if (!(part & FG_BIT(a)))
			continue;
		bool closer = true;
		for (int x = 0; x < b; x++)
			if (x != a && (part & FG_BIT(x)) && always(g, a, x))
				closer = false;
		if (closer)
			close |= FG_BIT(a);
	}
	uint64_t cover = 0;
	int nclose = 0;
	bool exclusive = true;
	for (int a = 0; a < b; a++) {
		if (!(close & FG_BIT(a)))
			continue;
		nclose++;
		cover += cooc(d, g->s[a].t, s->t);
		for (int x = a + 1; x < b; x++)
			if ((close & FG_BIT(x)) && !excl(g, a, x))
				exclusive = false;
	}
	bool any = nclose >= 2 && exclusive && (double)cover >= (1 - g->sup) * (double)nb;
	fg_mask red = 0;
	for (int a = 0; a < b; a++) {
		if (!(ab & FG_BIT(a)))
			continue;
		bool implied = false;
		for (int x = 0; x < b; x++)
			if (x != a && (ab & FG_BIT(x)) && always(g, a, x))
				implied = true;
		if (any) {
			bool before_all = true;
			for (int x = 0; x < b; x++)
				if ((close & FG_BIT(x)) && !always(g, a, x))
					before_all = false;
			implied = implied || before_all;
		}
		if (!implied)
			red |= FG_BIT(a);
	}
	char buf[512];
	const struct dtype *t = &d->types[s->t];
	if (!ab && !part) {
		s->start = true;
		why(s, "start: no type usually precedes it; first event in %llu of its %llu flows",
		    (unsigned long long)t->first, (unsigned long long)nb);
		return;
	}
	if (any) {
		s->after_any = close;
		names_of(g, close, buf, sizeof buf);
		why(s,
		    "after_any [%s]: pairwise exclusive, one of them before it in %llu of %llu "
		    "flows (%.1f%%)",
		    buf, (unsigned long long)cover, (unsigned long long)nb, pct(cover, nb));
	}
	if (!any && !red && (double)t->first >= g->sup * (double)nb) {
		s->start = true;
		why(s,
		    "start: first event in %llu of %llu flows (%.1f%%), and no type always "
		    "precedes it",
		    (unsigned long long)t->first, (unsigned long long)nb, pct(t->first, nb));
		return;
	}
	if (!any && !red) {
		s->after_any = close;
		names_of(g, close, buf, sizeof buf);
		why(s,
		    "after_any [%s]: fallback, they precede it often but not always (and are not "
		    "exclusive)",
		    buf);
	}
	s->after = red;
	for (int a = 0; a < b; a++) {
		if (!(red & FG_BIT(a)))
			continue;
		uint64_t with = cooc(d, g->s[a].t, s->t), rev = bef(d, s->t, g->s[a].t);
		const struct dpair *rp = discover_pair_find(d, s->t, g->s[a].t);
		why(s,
		    "after %s: with it in %llu of %llu flows (%.1f%%); contradicting: %llu without "
		    "it, %llu with it later%s%s",
		    tname(g, a), (unsigned long long)with, (unsigned long long)nb, pct(with, nb),
		    (unsigned long long)(nb - with), (unsigned long long)rev,
		    rev && rp ? ", e.g. " : "", rev && rp ? rp->example : "");
	}
}

static void rule_alts(struct gflow *g)
{
	for (int b = 0; b < g->nsteps; b++)
		for (int a = 0; a < b; a++) {
			struct gstep *x = &g->s[a], *y = &g->s[b];
			if (x->start || y->start || x->after != y->after ||
			    x->after_any != y->after_any)
				continue;
			if (!excl(g, a, b))
				continue;
			y->alts |= FG_BIT(a);
			x->alts |= FG_BIT(b);
			uint64_t c = cooc(g->d, x->t, y->t);
			why(y,
			    "instead_of %s: same predecessors, together in %llu flows (<= %.0f%% "
			    "of the rarer)",
			    tname(g, a), (unsigned long long)c, 200 * g->sup);
		}
}

static void rule_optional(struct gflow *g, int b)
{
	struct gstep *s = &g->s[b];
	if (s->start)
		return;
	uint64_t expect = 0, occ = 0;
	if (s->after) {
		expect = UINT64_MAX;
		for (int a = 0; a < g->nsteps; a++)
			if ((s->after & FG_BIT(a)) && cnt(g, a) < expect)
				expect = cnt(g, a);
	} else {
		for (int a = 0; a < g->nsteps; a++)
			if (s->after_any & FG_BIT(a))
				expect += cnt(g, a);
	}
	for (int a = 0; a < g->nsteps; a++)
		if (a == b || (s->alts & FG_BIT(a)))
			occ += cnt(g, a);
	if ((double)occ < (1 - g->sup) * (double)expect) {
		s->optional = true;
		why(s,
		    "optional: occurs (with its alternatives) in %llu of the %llu flows where its "
		    "predecessors occur (%.1f%%)",
		    (unsigned long long)occ, (unsigned long long)expect, pct(occ, expect));
	}
}

static void rule_retries(struct gflow *g, int b)
{
	struct gstep *s = &g->s[b];
	const struct dtype *t = &g->d->types[s->t];
	if ((double)t->repeat_flows < g->sup * (double)t->count) {
		if (t->repeat_flows)
			why(s, "no retries: repeated in only %llu of %llu flows (< %.0f%%)",
			    (unsigned long long)t->repeat_flows, (unsigned long long)t->count,
			    100 * g->sup);
		return;
	}
	uint64_t want = (uint64_t)((1 - g->sup) * (double)t->count), acc = 0;
	uint32_t r = 0;
	for (; r < DR_MAX - 1; r++) {
		acc += t->repeats[r];
		if (acc >= want)
			break;
	}
	s->retries = r ? r : 1;
	why(s, "retries %u: repeated in %llu of %llu flows; p%.0f of repeats %u", s->retries,
	    (unsigned long long)t->repeat_flows, (unsigned long long)t->count, 100 * (1 - g->sup),
	    r);
}

static void rule_within(struct gflow *g, int b)
{
	struct gstep *s = &g->s[b];
	if (s->start || s->optional)
		return;
	const struct discover *d = g->d;
	struct dhist h;
	memset(&h, 0, sizeof h);
	int npred = __builtin_popcountll(s->after);
	for (int a = 0; a < g->nsteps; a++) {
		const struct dpair *p = discover_pair_find(d, g->s[a].t, s->t);
		if (!p)
			continue;
		if ((s->after & FG_BIT(a)) && npred >= 2)
			dhist_merge(&h, &p->last);
		else if ((s->after | s->after_any) & FG_BIT(a))
			dhist_merge(&h, &p->gap);
	}
	s->within =
	    suggest(d, &h, s, npred >= 2 ? "within (from the latest predecessor)" : "within");
}

static void rule_ends(struct gflow *g)
{
	fg_mask leaves = 0;
	for (int b = 0; b < g->nsteps; b++) {
		if (g->s[b].optional)
			continue;
		bool succ = false;
		for (int x = 0; x < g->nsteps; x++)
			if (!g->s[x].optional && ((g->s[x].after | g->s[x].after_any) & FG_BIT(b)))
				succ = true;
		if (!succ)
			leaves |= FG_BIT(b);
	}
	if (!leaves)
		leaves = FG_BIT(g->nsteps - 1);
	/* the largest group of leaves that co-occur: complete_when */
	fg_mask best = 0;
	uint64_t best_n = 0;
	for (int a = 0; a < g->nsteps; a++) {
		if (!(leaves & FG_BIT(a)))
			continue;
		fg_mask grp = FG_BIT(a);
		for (int x = 0; x < g->nsteps; x++) {
			if (x == a || !(leaves & FG_BIT(x)))
				continue;
			uint64_t m = cnt(g, a) < cnt(g, x) ? cnt(g, a) : cnt(g, x);
			if ((double)cooc(g->d, g->s[a].t, g->s[x].t) >= (1 - g->sup) * (double)m)
				grp |= FG_BIT(x);
		}
		if (__builtin_popcountll(grp) >= 2 && cnt(g, a) > best_n) {
			best = grp;
			best_n = cnt(g, a);
		}
	}
	g->complete_when = best;
	for (int b = 0; b < g->nsteps; b++) {
		if (!(leaves & FG_BIT(b)))
			continue;
		if (best & FG_BIT(b)) {
			why(&g->s[b],
			    "in complete_when: a leaf that co-occurs with the other leaves listed "
			    "there");
			continue;
		}
		const char *n = tname(g, b);
		const char *o = "completed";
		static const char *const comp[] = { "cancel", "refund", "compensat", "revert",
			"rollback" };
		static const char *const fail[] = { "fail", "declin", "reject", "error",
			"invalid" };
		for (size_t i = 0; i < sizeof comp / sizeof comp[0]; i++)
			if (strcasestr(n, comp[i]))
				o = "compensated";
		for (size_t i = 0; i < sizeof fail / sizeof fail[0]; i++)
			if (strcasestr(n, fail[i]))
				o = "failed";
		g->s[b].end = o;
		why(&g->s[b],
		    "end: no required step follows it; outcome \"%s\" suggested from the type name",
		    o);
	}
}

/* ---------------------------------------------------------------- YAML */

static bool plain_ok(const char *s)
{
	static const char *const reserved[] = { "y", "n", "yes", "no", "true", "false", "on", "off",
		"null" };
	if (!s[0] || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return false;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strcasecmp(s, reserved[i]) == 0)
			return false;
	return true;
}

static void yname(FILE *f, const char *s)
{
	if (plain_ok(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void ylist(FILE *f, const struct gflow *g, fg_mask m)
{
	fputc('[', f);
	int k = 0;
	for (int i = 0; i < g->nsteps; i++)
		if (m & FG_BIT(i)) {
			if (k++)
				fputs(", ", f);
			yname(f, tname(g, i));
		}
	fputc(']', f);
}

/* Comment lines (indent), and the same lines on explain as "flow/step: ...". */
static void comment(FILE *f, FILE *explain, const char *indent, const char *flow, const char *step,
    const char *text)
{
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, '\n');
		int n = e ? (int)(e - p) : (int)strlen(p);
		fprintf(f, "%s# %.*s\n", indent, n, p);
		if (explain)
			fprintf(explain, "%s%s%s: %.*s\n", flow, step ? "/" : "", step ? step : "",
			    n, p);
		p += n + (e ? 1 : 0);
	}
}

static void write_step(FILE *f, FILE *explain, const struct gflow *g, int b)
{
	const struct gstep *s = &g->s[b];
	char buf[32];
	comment(f, explain, "      ", g->name, tname(g, b), s->why);
	fputs("      ", f);
	yname(f, tname(g, b));
	fputs(": {", f);
	const char *sep = " ";
	if (s->start) {
		fprintf(f, "%sstart: true", sep);
		sep = ", ";
	}
	if (s->after) {
		fprintf(f, "%safter: ", sep);
		ylist(f, g, s->after);
		sep = ", ";
	}
	if (s->after_any) {
		fprintf(f, "%safter_any: ", sep);
		ylist(f, g, s->after_any);
		sep = ", ";
	}
	if (s->within) {
		fprintf(f, "%swithin: %s", sep, dur(s->within, buf, sizeof buf));
		sep = ", ";
	}
	fg_mask alts = 0;
	for (int a = 0; a < b; a++)
		if (s->alts & FG_BIT(a))
			alts |= FG_BIT(a);
	if (alts) {
		fprintf(f, "%sinstead_of: ", sep);
		ylist(f, g, alts);
		sep = ", ";
	}
	if (s->retries) {
		fprintf(f, "%sretries: %u", sep, s->retries);
		sep = ", ";
	}
	if (s->optional) {
		fprintf(f, "%soptional: true", sep);
		sep = ", ";
	}
	if (s->end)
		fprintf(f, "%send: %s", sep, s->end);
	fputs(s->end && strcmp(s->end, "completed") ? " }   # outcome suggested\n" : " }\n", f);
}

static void flow_name(
    const struct discover *d, uint32_t c, struct gflow *g, char (*used)[96], int nused)
{
	if (c < d->nnames) {
		snprintf(g->name, sizeof g->name, "%s", d->names[c]);
		return;
	}
	int best = 0;
	for (int i = 1; i < g->nsteps; i++)
		if (d->types[g->s[i].t].first > d->types[g->s[best].t].first)
			best = i;
	char base[80];
	size_t o = 0;
	for (const char *p = tname(g, best); *p && o + 1 < sizeof base; p++)
		base[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
	base[o] = 0;
	snprintf(g->name, sizeof g->name, "%s", base);
	for (int k = 2;; k++) {
		bool dup = false;
		for (int i = 0; i < nused; i++)
			if (strcmp(used[i], g->name) == 0)
				dup = true;
		if (!dup)
			return;
		snprintf(g->name, sizeof g->name, "%s_%d", base, k);
	}
}

static void write_flow(FILE *f, FILE *explain, struct gflow *g)
{
	uint64_t dropped = g->dropped;
	const struct discover *d = g->d;
	struct gstep fs;
	memset(&fs, 0, sizeof fs);
	struct dhist h;
	memset(&h, 0, sizeof h);
	int64_t disorder = 0;
	for (int i = 0; i < g->nsteps; i++) {
		const struct dtype *t = &d->types[g->s[i].t];
		dhist_merge(&h, &t->dur);
		if (t->disorder_max > disorder)
			disorder = t->disorder_max;
	}
	why(&fs, "%llu flows; %d steps with support >= %.0f%%", (unsigned long long)g->n, g->nsteps,
	    100 * g->sup);
	if (dropped)
		why(&fs, "%llu rarer types left out (support < %.0f%% or past %d steps)",
		    (unsigned long long)dropped, 100 * g->sup, FG_MAX_STEPS);
	int64_t deadline = suggest(d, &h, &fs, "deadline (flow durations, first to last event)");
	double late = (double)disorder * d->o.margin;
	int64_t lateness = ladder_up(late < 1e9 ? 1e9 : late);
	char a[32], b[32];
	why(&fs, "lateness: largest disorder %s x %g, at least 1s -> %s",
	    hum(disorder, a, sizeof a), d->o.margin, dur(lateness, b, sizeof b));
	if (g->complete_when) {
		char buf[512];
		names_of(g, g->complete_when, buf, sizeof buf);
		why(&fs, "complete_when [%s]: leaves that occur together, with no join after them",
		    buf);
	}
	comment(f, explain, "  ", g->name, NULL, fs.why);
	fputs("  - name: ", f);
	yname(f, g->name);
	fputc('\n', f);
	if (deadline)
		fprintf(f, "    deadline: %s\n", dur(deadline, a, sizeof a));
	fprintf(f, "    lateness: %s\n", dur(lateness, a, sizeof a));
	if (g->complete_when) {
		fputs("    complete_when: ", f);
		ylist(f, g, g->complete_when);
		fputc('\n', f);
	}
	fputs("    steps:\n", f);
	for (int i = 0; i < g->nsteps; i++)
		write_step(f, explain, g, i);
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct gflow *)x)->name, ((const struct gflow *)y)->name);
}

/* The components with enough flows, sorted by name, in *out (malloc'd; gflows are
 * about 70 KiB, so the array grows as components qualify). The count, or -1. */
static int collect_flows(const struct discover *d, struct gflow **out)
{
	uint32_t *comp = calloc(d->ntypes + 1, sizeof *comp),
		 *uf = calloc(d->ntypes + 1, sizeof *uf);
	uint32_t *tmp = calloc(d->ntypes + 1, sizeof *tmp);
	uint32_t *done = calloc(d->ntypes + d->nnames + 1, sizeof *done);
	char(*used)[96] = calloc(d->ntypes + d->nnames + 1, sizeof *used);
	struct gflow *all = NULL;
	int n = 0, cap = 0;
	bool oom = !comp || !uf || !tmp || !done || !used;
	if (!oom)
		components(d, comp, uf);
	for (uint32_t t = 0; !oom && t < d->ntypes; t++) {
		uint32_t c = comp[t];
		if (done[c])
			continue;
		done[c] = 1;
		if (n == cap) {
			struct gflow *g =
			    realloc(all, (size_t)(cap = cap ? 2 * cap : 4) * sizeof *all);
			if (!g) {
				oom = true;
				break;
			}
			all = g;
		}
		if (pick_steps(d, comp, c, &all[n], tmp, &all[n].dropped) != 0)
			continue;
		flow_name(d, c, &all[n], used, n);
		snprintf(used[n], sizeof used[0], "%s", all[n].name);
		n++;
	}
	free(comp);
	free(uf);
	free(tmp);
	free(done);
	free(used);
	if (oom) {
		free(all);
		return -1;
	}
	if (n > 1)
		qsort(all, (size_t)n, sizeof *all, by_name);
	*out = all;
	return n;
}

int discover_write_yaml(struct discover *d, FILE *out, FILE *explain, char *err, size_t errlen)
{
	struct gflow *all = NULL;
	int n = collect_flows(d, &all);
	if (n < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (n == 0) {
		free(all);
		snprintf(err, errlen,
		    "no flow with at least %d flows and a type of support >= %g%%: nothing learned",
		    DG_MIN_FLOWS, d->o.min_support * 100);
		return -1;
	}
	const struct discover_stats *st = &d->st;
	fprintf(out,
	    "# A starter flow graph written by `choreoscope discover` from %llu events\n"
	    "# (%llu redeliveries skipped) in %llu flows. Every rule comes with its evidence;\n"
	    "# review, rename and adopt. Options: quantile p%g, margin x%g, min support %g%%.\n"
	    "flows:\n",
	    (unsigned long long)st->events, (unsigned long long)st->redeliveries,
	    (unsigned long long)st->flows, d->o.quantile * 100, d->o.margin,
	    d->o.min_support * 100);
	for (int i = 0; i < n; i++) {
		struct gflow *g = &all[i];
		for (int b = 0; b < g->nsteps; b++)
			rule_preds(g, b);
		rule_alts(g);
		for (int b = 0; b < g->nsteps; b++) {
			rule_optional(g, b);
			rule_retries(g, b);
			rule_within(g, b);
		}
		rule_ends(g);
		write_flow(out, explain, g);
	}
	free(all);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "write failed");
		return -1;
	}
	return 0;
}
