/*
 * view_graph: each flow graph as text, step by step in declaration order with its
 * outgoing edges below it, each edge with its count, p95 latency and the open
 * instances waiting on it (`stuck` in the API: `from` happened, `to` awaited). An edge
 * is highlighted STUCK when instances wait on it and its `to` step has stalled ones
 * (waiting past the deadline); waiting within the deadline is normal traffic. Edge
 * numbers are summed over collectors (p95: the largest, an upper bound). The cursor
 * moves by line and stays on its step or edge across refreshes; Enter on an edge (or
 * a step) lists the instances stalled on its `to` step (the stalled view, scoped).
 * A filter keeps the graphs whose name contains it; below them, the flow instances
 * whose correlation id does, live and retired (search.h); Enter opens those.
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

struct gline {
	enum crt_role role;
	char text[320];
	char flow[API_NAME];
	char kind[8];        /* "flow", "step", "edge" or "" (a blank line) */
	char from[API_NAME]; /* edge: the step it comes from */
	char step[API_NAME]; /* step: its name; edge: the step it goes to */
};

struct glines {
	struct gline *l;
	int n, max;
};

static struct gline *line(struct glines *g, enum crt_role r, const char *flow, const char *kind,
    const char *from, const char *step)
{
	struct gline *l;

	if (g->n == g->max)
		return NULL;
	l = &g->l[g->n++];
	l->role = r;
	l->text[0] = '\0';
	snprintf(l->flow, sizeof l->flow, "%s", flow);
	snprintf(l->kind, sizeof l->kind, "%s", kind);
	snprintf(l->from, sizeof l->from, "%s", from);
	snprintf(l->step, sizeof l->step, "%s", step);
	return l;
}

/* Sums edge from->to of flow `name` over every collector but the first (`g0`). */
static void merge_edge(
    struct model *m, const char *name, struct api_edge *e, const struct api_graphs *g0)
{
	int ci, i, j;

	for (ci = 0; ci < m->ncols; ci++) {
		const struct api_graphs *g = m->cols[ci].graphs;
		if (!g || g == g0)
			continue;
		for (i = 0; i < g->n; i++) {
			if (strcmp(g->flows[i].name, name))
				continue;
			for (j = 0; j < g->flows[i].nedges; j++) {
				const struct api_edge *o = &g->flows[i].edges[j];
				if (strcmp(o->from, e->from) || strcmp(o->to, e->to))
					continue;
				e->count += o->count;
				e->stuck += o->stuck;
				if (!isnan(o->p95) && (isnan(e->p95) || o->p95 > e->p95))
					e->p95 = o->p95;
			}
		}
	}
}

/* Instances stalled now waiting for step `to` (summed over collectors is not needed:
 * it only decides the highlight). */
static long long stalled_at(const struct api_graph *f, const char *to)
{
	int i;

	for (i = 0; i < f->nsteps; i++)
		if (strcmp(f->steps[i].name, to) == 0)
			return f->steps[i].stalled_now;
	return 0;
}

static void step_lines(struct glines *g, struct model *m, const struct api_graph *f,
    const struct api_gstep *s, const struct api_graphs *g0)
{
	char extra[128] = "", within[24], p95[24], cnt[24];
	struct gline *l;
	int j, k, nout = 0, seen = 0;
	long long stalled;

	if (s->start)
		snprintf(extra, sizeof extra, "  start");
	else if (s->end[0])
		snprintf(extra, sizeof extra, "  end: %s", s->end);
	if (!isnan(s->within)) {
		fmt_duration(within, sizeof within, s->within);
		snprintf(
		    extra + strlen(extra), sizeof extra - strlen(extra), "  within %s", within);
	}
	if (s->awaiting_now > 0)
		snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "  awaiting %lld",
		    s->awaiting_now);
	if (s->stalled_now > 0)
		snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "  stalled %lld",
		    s->stalled_now);
	if ((l = line(g,
		 s->stalled_now > 0        ? ROLE_STALLED
		     : s->awaiting_now > 0 ? ROLE_PENDING
					   : ROLE_OK,
		 f->name, "step", "", s->name)))
		snprintf(l->text, sizeof l->text, "  %s %s%s%s",
		    crt_glyph(s->stalled_now > 0  ? ROLE_STALLED
			    : s->awaiting_now > 0 ? ROLE_PENDING
						  : ROLE_OK),
		    s->name, s->optional ? " (optional)" : "", extra);
	for (j = 0; j < f->nedges; j++)
		nout += strcmp(f->edges[j].from, s->name) == 0;
	for (j = 0; j < f->nedges; j++) {
		struct api_edge e = f->edges[j];
		char name[160];
		if (strcmp(e.from, s->name))
			continue;
		merge_edge(m, f->name, &e, g0);
		stalled = stalled_at(f, e.to);
		k = ++seen == nout;
		fmt_count(cnt, sizeof cnt, e.count);
		fmt_duration(p95, sizeof p95, e.p95);
		fmt_fit(name, sizeof name, e.to, 24, 0, crt_utf8());
		if (!(l = line(g, e.stuck > 0 && stalled > 0 ? ROLE_STUCK : ROLE_NORMAL, f->name,
			  "edge", e.from, e.to)))
			return;
		snprintf(l->text, sizeof l->text, "      %s%s %s %8s  p95 %-7s",
		    crt_utf8() ? (k ? "\xE2\x94\x94" : "\xE2\x94\x9C") : (k ? "`" : "|"),
		    crt_utf8() ? "\xE2\x94\x80\xE2\x96\xB6" : "->", name, cnt, p95);
		if (e.stuck > 0 && stalled > 0)
			snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text),
			    "  %s STUCK %lld waiting, %lld stalled", crt_glyph(ROLE_STUCK), e.stuck,
			    stalled);
		else if (e.stuck > 0)
			snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text),
			    "  %lld waiting", e.stuck);
	}
}

static void build(struct ui *u, struct glines *g)
{
	struct model *m = u->model;
	const struct api_graphs *g0 = NULL;
	char dl[24];
	int ci, i, j;

	for (ci = 0; ci < m->ncols && !g0; ci++)
		g0 = m->cols[ci].graphs;
	for (i = 0; g0 && i < g0->n; i++) {
		const struct api_graph *f = &g0->flows[i];
		struct gline *l;
		if (!fmt_match(f->name, u->filter))
			continue;
		if (g->n && !line(g, ROLE_NORMAL, f->name, "", "", ""))
			return;
		if (!(l = line(g, ROLE_TITLE, f->name, "flow", "", "")))
			return;
		fmt_duration(dl, sizeof dl, f->deadline);
		snprintf(l->text, sizeof l->text, "%s  deadline %s  (%d steps, %d edges)", f->name,
		    dl, f->nsteps, f->nedges);
		for (j = 0; j < f->nsteps; j++)
			step_lines(g, m, f, &f->steps[j], g0);
	}
}

static void draw(struct ui *u, int top, int bottom)
{
	struct ui_viewstate *vs = &u->vs[VIEW_GRAPH];
	struct glines g = { calloc(UI_MAX_ROWS, sizeof(struct gline)), 0, UI_MAX_ROWS };
	static struct search_list hits; /* UI thread only; too big for the stack */
	int i, y;

	if (!g.l)
		return;
	build(u, &g);
	for (i = 0; i < g.n; i++)
		ui_add_row(u, g.l[i].flow, g.l[i].from, g.l[i].kind, g.l[i].step, -1);
	search_collect(u, &hits);
	search_add_rows(u, &hits);
	vs->page = bottom - top - search_extra_lines(&hits);
	ui_follow(u);
	if (g.n == 0 && ui_page_err(u)[0])
		crt_put_glyph(top, 1, COLS - 2, ROLE_WARN, ui_page_err(u));
	else if (g.n == 0 && hits.n == 0)
		crt_put(top, 1, COLS - 2, ROLE_DIM,
		    u->filter[0] ? "no flow graph, live or retired flow matches the filter"
				 : "no flow graphs yet (waiting for the collector)");
	for (i = vs->top, y = top; i < g.n && y < bottom; i++, y++)
		crt_put(y, 0, COLS, i == vs->sel ? ROLE_SELECTED : g.l[i].role, g.l[i].text);
	search_draw(u, &hits, g.n, y, bottom);
	free(g.l);
}

const struct ui_viewdef view_graph = { "Graph", NULL, 0, draw };
