/*
 * view_overview: one row per flow, merged over all collectors (counts and rates are
 * summed; percentiles are the largest of the collectors', an upper bound, since
 * percentiles of parts do not add up). Anomalies per minute come from the model's
 * summary history; the sparkline is the completed/s history. A filter keeps the flows
 * whose name contains it; below them, the flow instances whose correlation id does,
 * live and retired (search.h), whose rows Enter opens.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "fmt.h"
#include "search.h"
#include "ui.h"

#define OV_KINDS 12

struct ov_row {
	char name[API_NAME];
	int col;
	long long in_flight, stalled_now;
	double started_ps, completed_ps, p50, p95, p99;
	char kinds[OV_KINDS][24];
	double per_min[OV_KINDS];
	int nkinds;
	double spark[MODEL_HIST];
	int nspark;
};

static const char *const sorts[] = { "name", "in flight", "stalled", "p99", "throughput" };

static double maxnan(double a, double b) { return isnan(a) ? b : isnan(b) ? a : a > b ? a : b; }

static void add_kinds(struct ov_row *r, const struct model_hist *h)
{
	int i, j;

	for (i = 0; i < h->nkinds; i++) {
		double pm = model_hist_per_min(h, h->kinds[i]);
		for (j = 0; j < r->nkinds && strcmp(r->kinds[j], h->kinds[i]); j++)
			;
		if (j == r->nkinds) {
			if (r->nkinds == OV_KINDS)
				continue;
			snprintf(r->kinds[j], sizeof r->kinds[j], "%s", h->kinds[i]);
			r->per_min[r->nkinds++] = 0;
		}
		r->per_min[j] += pm;
	}
}

static void add_flow(struct ov_row *r, const struct api_flowsum *f, const struct model_col *c)
{
	int i, k;

	r->in_flight += f->in_flight;
	r->stalled_now += f->stalled_now;
	r->started_ps += f->started_ps;
	r->completed_ps += f->completed_ps;
	r->p50 = maxnan(r->p50, f->p50);
	r->p95 = maxnan(r->p95, f->p95);
	r->p99 = maxnan(r->p99, f->p99);
	for (i = 0; i < c->nhist; i++) {
		const struct model_hist *h = &c->hist[i];
		if (strcmp(h->name, f->name))
			continue;
		add_kinds(r, h);
		if (h->n > r->nspark)
			r->nspark = h->n;
		for (k = 0; k < h->n; k++) /* align newest samples at the end */
			r->spark[MODEL_HIST - h->n + k] += h->thr[k];
	}
}

static int collect(struct ui *u, struct ov_row *rows, int max)
{
	struct model *m = u->model;
	int n = 0, ci, i, j;

	for (ci = 0; ci < m->ncols; ci++) {
		const struct api_summary *s = m->cols[ci].summary;
		for (i = 0; s && i < s->nflows; i++) {
			const struct api_flowsum *f = &s->flows[i];
			if (!fmt_match(f->name, u->filter))
				continue;
			for (j = 0; j < n && strcmp(rows[j].name, f->name); j++)
				;
			if (j == n) {
				if (n == max)
					continue;
				memset(&rows[n], 0, sizeof rows[n]);
				snprintf(rows[n].name, sizeof rows[n].name, "%s", f->name);
				rows[n].col = ci;
				rows[n].p50 = rows[n].p95 = rows[n].p99 = NAN;
				n++;
			}
			add_flow(&rows[j], f, &m->cols[ci]);
		}
	}
	return n;
}

static int cmp(const void *a, const void *b, void *ctx)
{
	const struct ov_row *x = a, *y = b;
	const struct ui_viewstate *vs = ctx;
	double d = 0;
	int r;

	switch (vs->sort) {
	case 1: d = (double)(y->in_flight - x->in_flight); break;
	case 2: d = (double)(y->stalled_now - x->stalled_now); break;
	case 3: d = (isnan(y->p99) ? -1 : y->p99) - (isnan(x->p99) ? -1 : x->p99); break;
	case 4: d = y->completed_ps - x->completed_ps; break;
	default: break;
	}
	r = d > 0 ? 1 : d < 0 ? -1 : strcmp(x->name, y->name);
	return vs->reverse ? -r : r;
}

static void kinds_text(const struct ov_row *r, char *buf, size_t n)
{
	size_t at = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < r->nkinds; i++) {
		char rate[16];
		int w;
		if (r->per_min[i] <= 0)
			continue;
		fmt_rate(rate, sizeof rate, r->per_min[i]);
		w = snprintf(
		    buf + at, n - at, "%s%s %s", at ? " " : "", fmt_kind_abbrev(r->kinds[i]), rate);
		if (w < 0 || (size_t)w >= n - at)
			break;
		at += (size_t)w;
	}
	if (!at)
		snprintf(buf, n, "-");
}

enum { C_FLOW, C_INF, C_START, C_DONE, C_STALL, C_P50, C_P95, C_P99, C_ANOM, C_SPARK, C_N };

static void draw_row(int y, const struct ov_row *r, const struct ui_col *c, int sel)
{
	char buf[256];
	enum crt_role base = sel ? ROLE_SELECTED : ROLE_NORMAL;

	crt_fill(y, 0, base);
	crt_put(y, c[C_FLOW].x, c[C_FLOW].w, sel ? base : ROLE_TITLE, r->name);
	fmt_count(buf, sizeof buf, r->in_flight);
	crt_put_right(y, c[C_INF].x, c[C_INF].w, base, buf);
	fmt_rate(buf, sizeof buf, r->started_ps);
	crt_put_right(y, c[C_START].x, c[C_START].w, base, buf);
	fmt_rate(buf, sizeof buf, r->completed_ps);
	crt_put_right(y, c[C_DONE].x, c[C_DONE].w, base, buf);
	if (r->stalled_now > 0) {
		char n[24];
		fmt_count(n, sizeof n, r->stalled_now);
		snprintf(buf, sizeof buf, "%s %s", crt_glyph(ROLE_STALLED), n);
		crt_put_right(y, c[C_STALL].x, c[C_STALL].w, sel ? base : ROLE_STALLED, buf);
	} else {
		crt_put_right(y, c[C_STALL].x, c[C_STALL].w, base, "0");
	}
	fmt_duration(buf, sizeof buf, r->p50);
	crt_put_right(y, c[C_P50].x, c[C_P50].w, base, buf);
	fmt_duration(buf, sizeof buf, r->p95);
	crt_put_right(y, c[C_P95].x, c[C_P95].w, base, buf);
	fmt_duration(buf, sizeof buf, r->p99);
	crt_put_right(y, c[C_P99].x, c[C_P99].w, base, buf);
	kinds_text(r, buf, sizeof buf);
	crt_put(y, c[C_ANOM].x, c[C_ANOM].w, base, buf);
	if (c[C_SPARK].x >= 0) {
		fmt_sparkline(buf, sizeof buf, r->spark + MODEL_HIST - r->nspark, r->nspark,
		    c[C_SPARK].w, crt_utf8());
		crt_put(y, c[C_SPARK].x, c[C_SPARK].w, sel ? base : ROLE_BAR, buf);
	}
}

static void draw(struct ui *u, int top, int bottom)
{
	struct ov_row *rows = calloc(API_MAX_FLOWS, sizeof *rows);
	struct ui_col c[C_N] = {
		/* priorities: at 60 columns flow, in flight, stalled and the anomaly counts;
	     * at 80 also completed/s, p95 and p99; the sparkline only with room to spare */
		[C_FLOW] = { "FLOW", 12, 0, 0, 0, 0, 0 },
		[C_INF] = { "IN FLIGHT", 9, 1, 0, 0, 0, 0 },
		[C_START] = { "START/s", 8, 1, 2, 0, 0, 0 },
		[C_DONE] = { "DONE/s", 8, 1, 1, 0, 0, 0 },
		[C_STALL] = { "STALLED", 8, 1, 0, 0, 0, 0 },
		[C_P50] = { "P50", 7, 1, 3, 0, 0, 0 },
		[C_P95] = { "P95", 7, 1, 1, 0, 0, 0 },
		[C_P99] = { "P99", 7, 1, 2, 0, 0, 0 },
		[C_ANOM] = { "ANOMALIES/min", 22, 0, 0, 0, 0, 0 },
		[C_SPARK] = { "THROUGHPUT", 0, 0, 5, 10, 0, 0 }
	};
	struct ui_viewstate *vs = &u->vs[VIEW_OVERVIEW];
	static struct search_list hits; /* UI thread only; too big for the stack */
	int n, i, y;

	if (!rows)
		return;
	/* a collector declaring more flows than a summary page holds: said on the last
	 * line, which the rows then leave free */
	char note[96] = "";
	for (i = 0; i < u->model->ncols && !note[0]; i++) {
		const struct api_summary *s = u->model->cols[i].summary;
		if (s && s->total_flows > s->nflows && bottom - top > 2)
			snprintf(note, sizeof note, "(the first %d of %lld declared flows)",
			    s->nflows, s->total_flows);
	}
	if (note[0])
		bottom--;
	ui_layout(c, C_N, COLS);
	ui_draw_colheader(top, c, C_N);
	n = collect(u, rows, API_MAX_FLOWS);
	qsort_r(rows, (size_t)n, sizeof rows[0], cmp, vs);
	for (i = 0; i < n; i++)
		ui_add_row(u, rows[i].name, NULL, NULL, NULL, rows[i].col);
	search_collect(u, &hits);
	search_add_rows(u, &hits);
	vs->page = bottom - top - 1 - search_extra_lines(&hits);
	ui_follow(u);
	if (n == 0 && hits.n == 0) {
		crt_put(top + 1, 1, COLS - 2, ROLE_DIM,
		    u->filter[0] ? "no flow matches the filter (its name, or an id live or retired)"
				 : "no flows yet (waiting for the collector)");
	}
	for (i = vs->top, y = top + 1; i < n && y < bottom; i++, y++)
		draw_row(y, &rows[i], c, i == vs->sel);
	search_draw(u, &hits, n, y, bottom);
	if (note[0])
		crt_put(bottom, 1, COLS - 2, ROLE_DIM, note);
	free(rows);
}

const struct ui_viewdef view_overview = { "Overview", sorts, 5, draw };
