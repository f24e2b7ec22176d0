/*
 * view_stalled: the live list of what is wrong, from every collector, in sections:
 * "stalled now" (instances past a step's deadline, most overdue first, from
 * /api/v1/flows?state=stalled), while a filter is set "matching instances" (the
 * `/` search of every view, search.h: flows live and retired whose correlation id
 * matches, asked from the collector, so an id outside the first page or retired long
 * ago is still found), and "recent anomalies" (the verdicts of every kind in the collector's
 * bounded ring). Rows repeat nothing: a verdict already shown as a stalled instance is
 * dropped. Every row says how long ago its verdict happened (AGE: since the deadline
 * for a stall, since `at` on the local wall clock for a past verdict). The filter
 * keeps rows whose id, flow, step, kind or source contain it. Scoped to one flow and
 * step (Enter on a graph edge), only that step's stalled instances are listed.
 * The cursor follows its row (flow, id, kind, step) while the list re-sorts.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "fmt.h"
#include "ui.h"

enum { G_STALLED, G_FOUND, G_ANOMALY, G_N }; /* the sections, in display order */

static const char *const group_names[G_N] = { "Stalled now", "Matching instances",
	"Recent anomalies" };

struct st_row {
	char flow[API_NAME], cid[API_ID], kind[24], step[API_NAME], source[API_NAME], at[40];
	char owner[API_NAME];
	double overdue, age; /* age: seconds since the verdict; NaN when none or unknown */
	int col, group, undeclared;
};

struct st_list {
	struct st_row *rows;
	int n, max;
};

static const char *const sorts[] = { "overdue", "correlation id", "flow", "kind", "step" };

/* Is there a row for this instance (kind NULL), of this kind (step NULL), or of this
 * kind and step? */
static int has(
    const struct st_list *l, const char *flow, const char *cid, const char *kind, const char *step)
{
	int i;

	for (i = 0; i < l->n; i++) {
		const struct st_row *r = &l->rows[i];
		if (strcmp(r->flow, flow) || strcmp(r->cid, cid))
			continue;
		if (!kind || (strcmp(r->kind, kind) == 0 && (!step || strcmp(r->step, step) == 0)))
			return 1;
	}
	return 0;
}

static void add(struct st_list *l, const char *filter, const struct st_row *r)
{
	if (l->n == l->max)
		return;
	if (!fmt_match(r->cid, filter) && !fmt_match(r->flow, filter) &&
	    !fmt_match(r->step, filter) && !fmt_match(r->kind, filter) &&
	    !fmt_match(r->source, filter) && !fmt_match(r->owner, filter))
		return;
	l->rows[l->n++] = *r;
}

static void add_item(struct st_list *l, const char *filter, const struct api_flowitem *it, int col,
    const char *kind, const char *owner)
{
	struct st_row r;

	memset(&r, 0, sizeof r);
	r.group = kind ? G_STALLED : G_FOUND;
	r.age = kind ? it->overdue : NAN; /* a stall happened at its deadline */
	snprintf(r.flow, sizeof r.flow, "%s", it->flow);
	snprintf(r.cid, sizeof r.cid, "%s", it->cid);
	snprintf(r.kind, sizeof r.kind, "%s", kind ? kind : it->state);
	snprintf(r.step, sizeof r.step, "%s", it->awaiting[0] ? it->awaiting : it->last_step);
	snprintf(r.source, sizeof r.source, "%s", it->last_source);
	snprintf(r.owner, sizeof r.owner, "%s", owner ? owner : "");
	r.overdue = it->overdue;
	r.col = col;
	add(l, filter, &r);
}

/* One row per stalled step of a stalled instance (two alternatives can both stall). */
static void add_stalled(
    struct st_list *l, const char *filter, const struct api_flowitem *it, int col)
{
	struct api_flowitem one = *it;
	int k;

	if (it->nstalled == 0) {
		add_item(l, filter, it, col, "stalled", NULL);
		return;
	}
	for (k = 0; k < it->nstalled; k++) {
		snprintf(one.awaiting, sizeof one.awaiting, "%s", it->stalled[k].step);
		one.overdue = it->stalled[k].overdue;
		add_item(l, filter, &one, col, "stalled", it->stalled[k].owner);
	}
}

/* Scoped (Enter on a graph edge): only stalls of that flow and step. */
static int in_scope(const struct ui *u, const struct st_row *r)
{
	return !u->scope_step[0] ||
	    (r->group == G_STALLED && strcmp(r->flow, u->scope_flow) == 0 &&
		strcmp(r->step, u->scope_step) == 0);
}

static void add_anomaly(
    struct st_list *l, const char *filter, const struct api_anomaly *an, int col, double now)
{
	struct st_row r;
	double t;

	memset(&r, 0, sizeof r);
	snprintf(r.flow, sizeof r.flow, "%s", an->flow);
	snprintf(r.cid, sizeof r.cid, "%s", an->cid);
	snprintf(r.kind, sizeof r.kind, "%s", an->kind);
	snprintf(r.step, sizeof r.step, "%s", an->step);
	snprintf(r.source, sizeof r.source, "%s", an->source);
	snprintf(r.owner, sizeof r.owner, "%s", an->owner);
	snprintf(r.at, sizeof r.at, "%s", an->at);
	r.overdue = NAN;
	r.age = fmt_parse_time(an->at, &t) == 0 ? (now - t > 0 ? now - t : 0) : NAN;
	r.col = col;
	r.group = G_ANOMALY;
	r.undeclared = an->undeclared;
	add(l, filter, &r);
}

static void collect(struct ui *u, struct st_list *l)
{
	struct model *m = u->model;
	double now = ui_wall_now();
	int ci, i, k;

	for (ci = 0; ci < m->ncols; ci++) {
		const struct api_flowpage *p = m->cols[ci].stalled;
		for (i = 0; p && i < p->n; i++)
			add_stalled(l, u->filter, &p->items[i], ci);
	}
	for (ci = 0; u->filter[0] && !u->scope_step[0] && ci < m->ncols; ci++) {
		const struct api_flowpage *p = m->cols[ci].found;
		for (i = 0; p && i < p->n; i++)
			if (!has(l, p->items[i].flow, p->items[i].cid, NULL, NULL))
				add_item(l, u->filter, &p->items[i], ci, NULL, NULL);
	}
	for (ci = 0; !u->scope_step[0] && ci < m->ncols; ci++) {
		const struct api_anomalies *a = m->cols[ci].anomalies;
		for (i = 0; a && i < a->n; i++) {
			const struct api_anomaly *an = &a->items[i];
			if (has(l, an->flow, an->cid, an->kind, an->step))
				continue;
			add_anomaly(l, u->filter, an, ci, now);
		}
	}
	for (i = k = 0; i < l->n; i++) /* the scope keeps its step's stalls only */
		if (in_scope(u, &l->rows[i]))
			l->rows[k++] = l->rows[i];
	l->n = k;
}

static int cmp(const void *a, const void *b, void *ctx)
{
	const struct st_row *x = a, *y = b;
	const struct ui_viewstate *vs = ctx;
	double ox = isnan(x->overdue) ? -1 : x->overdue, oy = isnan(y->overdue) ? -1 : y->overdue;
	int r = 0;

	if (x->group != y->group) /* sections first, whatever the sort */
		return x->group - y->group;
	switch (vs->sort) {
	case 0: r = ox < oy ? 1 : ox > oy ? -1 : 0; break;
	case 1: r = strcmp(x->cid, y->cid); break;
	case 2: r = strcmp(x->flow, y->flow); break;
	case 3: r = strcmp(x->kind, y->kind); break;
	default: r = strcmp(x->step, y->step); break;
	}
	if (!r)
		r = -strcmp(x->at, y->at); /* RFC 3339 UTC sorts as text: newest first */
	if (!r)
		r = strcmp(x->cid, y->cid);
	return vs->reverse ? -r : r;
}

static enum crt_role kind_role(const char *kind)
{
	if (strcmp(kind, "stalled") == 0 || strcmp(kind, "join_wait") == 0 ||
	    strcmp(kind, "abandoned") == 0)
		return ROLE_STALLED;
	if (strcmp(kind, "missing") == 0)
		return ROLE_MISSING;
	if (strcmp(kind, "open") == 0)
		return ROLE_PENDING;
	if (strcmp(kind, "completed") == 0 || strcmp(kind, "compensated") == 0)
		return ROLE_HAPPENED;
	return ROLE_WARN;
}

enum { C_KIND, C_CID, C_FLOW, C_STEP, C_OVER, C_AGE, C_OWNER, C_SRC, C_N };

static void draw_row(int y, const struct st_row *r, const struct ui_col *c, int sel)
{
	char buf[API_NAME + 16];
	enum crt_role base = sel ? ROLE_SELECTED : ROLE_NORMAL;

	crt_fill(y, 0, base);
	crt_put_mark(y, c[C_KIND].x, c[C_KIND].w, sel ? base : kind_role(r->kind),
	    kind_role(r->kind), r->kind);
	crt_put(y, c[C_CID].x, c[C_CID].w, base, r->cid);
	crt_put(y, c[C_FLOW].x, c[C_FLOW].w, base, r->flow);
	snprintf(buf, sizeof buf, "%s%s", r->step, r->undeclared ? " (undeclared)" : "");
	crt_put(y, c[C_STEP].x, c[C_STEP].w, base, buf[0] ? buf : "-");
	fmt_duration(buf, sizeof buf, r->overdue);
	crt_put_right(y, c[C_OVER].x, c[C_OVER].w, base, buf);
	fmt_duration(buf, sizeof buf, r->age);
	crt_put_right(y, c[C_AGE].x, c[C_AGE].w, base, buf);
	crt_put(y, c[C_OWNER].x, c[C_OWNER].w, base, r->owner[0] ? r->owner : "-");
	crt_put(y, c[C_SRC].x, c[C_SRC].w, base, r->source[0] ? r->source : "-");
}

/* A section's header line: "-- Stalled now: 3 --". */
static void draw_section(int y, const struct st_list *l, int group)
{
	char buf[96];
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->rows[i].group == group;
	snprintf(buf, sizeof buf, "-- %s: %d --", group_names[group], n);
	crt_fill(y, 0, ROLE_NORMAL);
	crt_put(y, 1, COLS - 1, ROLE_TITLE, buf);
}

static void draw_title(struct ui *u, int top, const struct st_list *l)
{
	const struct ui_viewstate *vs = &u->vs[VIEW_STALLED];
	char title[256];
	int x;

	if (u->scope_step[0])
		snprintf(title, sizeof title,
		    "Stalled on %s/%s: %d rows, sorted by %s%s (Esc: back)", u->scope_flow,
		    u->scope_step, l->n, sorts[vs->sort], vs->reverse ? " (reversed)" : "");
	else
		snprintf(title, sizeof title, "Stalled & anomalies: %d rows, sorted by %s%s", l->n,
		    sorts[vs->sort], vs->reverse ? " (reversed)" : "");
	x = crt_put(top, 0, fmt_width(title, 1) + 2, ROLE_TITLE, title);
	if (ui_page_err(u)[0])
		crt_put_glyph(top, x, COLS - x, ROLE_WARN, ui_page_err(u));
}

static void draw(struct ui *u, int top, int bottom)
{
	/* at 60 columns: kind, overdue, age, step and a cut id; then who owes the step,
	 * flow and source */
	struct ui_col c[C_N] = { [C_KIND] = { "KIND", 13, 0, 0, 0, 0, 0 },
		[C_CID] = { "CORRELATION ID", 0, 0, 1, 9, 0, 0 },
		[C_FLOW] = { "FLOW", 12, 0, 3, 0, 0, 0 },
		[C_STEP] = { "STEP", 18, 0, 1, 0, 0, 0 },
		[C_OVER] = { "OVERDUE", 8, 1, 0, 0, 0, 0 },
		[C_AGE] = { "AGE", 7, 1, 0, 0, 0, 0 },
		[C_OWNER] = { "OWNER", 14, 0, 2, 0, 0, 0 },
		[C_SRC] = { "SOURCE", 14, 0, 4, 0, 0, 0 } };
	struct ui_viewstate *vs = &u->vs[VIEW_STALLED];
	struct st_list l = { calloc(UI_MAX_ROWS, sizeof(struct st_row)), 0, UI_MAX_ROWS };
	int i, y, ngroups = 0;

	if (!l.rows)
		return;
	collect(u, &l);
	qsort_r(l.rows, (size_t)l.n, sizeof l.rows[0], cmp, vs);
	for (i = 0; i < l.n; i++) {
		ui_add_row(u, l.rows[i].flow, l.rows[i].cid, l.rows[i].kind, l.rows[i].step,
		    l.rows[i].col);
		ngroups += i == 0 || l.rows[i].group != l.rows[i - 1].group;
	}
	draw_title(u, top, &l);
	ui_layout(c, C_N, COLS);
	ui_draw_colheader(top + 1, c, C_N);
	vs->page = bottom - top - 2 - ngroups; /* each section has a header line */
	ui_follow(u);
	if (l.n == 0)
		crt_put(top + 2, 1, COLS - 2, ROLE_DIM,
		    u->scope_step[0]   ? "nothing stalled on this step now"
			: u->filter[0] ? "nothing matches the filter"
				       : "nothing stalled, no anomalies");
	for (i = vs->top, y = top + 2; i < l.n && y < bottom; i++, y++) {
		if ((i == vs->top || l.rows[i].group != l.rows[i - 1].group) && y + 1 < bottom)
			draw_section(y++, &l, l.rows[i].group);
		draw_row(y, &l.rows[i], c, i == vs->sel);
	}
	free(l.rows);
}

const struct ui_viewdef view_stalled = { "Stalled", sorts, 5, draw };
