/*
 * ui: the screen frame (header with the collectors' state, footer with keys or the
 * filter prompt) around the current view, and the helpers views share. See ui.h.
 */
#include "ui.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crt.h"
#include "fmt.h"

const struct ui_viewdef *ui_viewdef(enum ui_view v)
{
	static const struct ui_viewdef *const defs[VIEW_COUNT] = { [VIEW_OVERVIEW] = &view_overview,
		[VIEW_STALLED] = &view_stalled,
		[VIEW_GRAPH] = &view_graph,
		[VIEW_HISTORY] = &view_history,
		[VIEW_DETAIL] = &view_detail };
	return defs[v];
}

void ui_clamp(struct ui_viewstate *vs)
{
	int page = vs->page > 0 ? vs->page : 1;

	if (vs->sel >= vs->nrows)
		vs->sel = vs->nrows - 1;
	if (vs->sel < 0)
		vs->sel = 0;
	if (vs->top > vs->sel)
		vs->top = vs->sel;
	if (vs->sel >= vs->top + page)
		vs->top = vs->sel - page + 1;
	if (vs->top > vs->nrows - page)
		vs->top = vs->nrows - page;
	if (vs->top < 0)
		vs->top = 0;
}

int ui_add_row(
    struct ui *u, const char *flow, const char *cid, const char *kind, const char *step, int col)
{
	struct ui_viewstate *vs = &u->vs[u->view];
	struct ui_row *r;

	if (vs->nrows >= UI_MAX_ROWS)
		return -1;
	r = &u->rows[vs->nrows];
	snprintf(r->flow, sizeof r->flow, "%s", flow ? flow : "");
	snprintf(r->cid, sizeof r->cid, "%s", cid ? cid : "");
	snprintf(r->kind, sizeof r->kind, "%s", kind ? kind : "");
	snprintf(r->step, sizeof r->step, "%s", step ? step : "");
	r->col = col;
	return vs->nrows++;
}

void ui_follow(struct ui *u)
{
	struct ui_viewstate *vs = &u->vs[u->view];
	char gone[sizeof u->status];

	vs->sel = sel_follow(&vs->key, u->rows, vs->nrows, vs->sel, gone, sizeof gone);
	if (gone[0])
		snprintf(u->status, sizeof u->status, "%s", gone);
	ui_clamp(vs);
}

void ui_moved(struct ui *u)
{
	struct ui_viewstate *vs = &u->vs[u->view];

	ui_clamp(vs);
	sel_take(&vs->key, u->rows, vs->nrows, vs->sel);
}

double ui_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *ui_page_err(const struct ui *u)
{
	int i;

	for (i = 0; i < u->model->ncols; i++)
		if (u->model->cols[i].page_err[0])
			return u->model->cols[i].page_err;
	return "";
}

void ui_sync_want(struct ui *u)
{
	struct model_want w;

	memset(&w, 0, sizeof w);
	w.stalled = u->view == VIEW_STALLED;
	w.graphs = u->view == VIEW_GRAPH;
	w.history = u->view == VIEW_HISTORY;
	w.detail = u->view == VIEW_DETAIL;
	w.detail_col = -1;
	if (w.detail) {
		w.detail_col = u->target.col;
		snprintf(w.detail_flow, sizeof w.detail_flow, "%s", u->target.flow);
		snprintf(w.detail_cid, sizeof w.detail_cid, "%s", u->target.cid);
	}
	snprintf(w.filter, sizeof w.filter, "%s", u->filter);
	snprintf(w.scope_flow, sizeof w.scope_flow, "%s", u->scope_flow);
	snprintf(w.scope_step, sizeof w.scope_step, "%s", u->scope_step);
	model_want(u->model, &w);
}

static void draw_tabs(struct ui *u)
{
	static const char *const tabs[] = { "1 Overview", "2 Stalled", "3 Graph", "4 History",
		"Detail" };
	char buf[160];
	int x = 0, i;

	x = crt_put(0, x, 16, ROLE_TITLE, "choreoscope-tui");
	for (i = 0; i < VIEW_COUNT; i++) {
		if (i == VIEW_DETAIL && u->view != VIEW_DETAIL)
			continue;
		snprintf(buf, sizeof buf, " %s ", tabs[i]);
		x = crt_put(
		    0, x, fmt_width(buf, 1), (int)u->view == i ? ROLE_SELECTED : ROLE_NORMAL, buf);
		x = crt_put(0, x, 1, ROLE_NORMAL, "");
	}
	if (u->paused)
		x = crt_put_glyph(0, x + 1, 9, ROLE_WARN, "PAUSED");
	if (u->filter[0]) {
		snprintf(buf, sizeof buf, " filter: %s", u->filter);
		x = crt_put(0, x, fmt_width(buf, crt_utf8()) + 1, ROLE_KEY, buf);
	}
	crt_fill(0, x, ROLE_NORMAL);
}

static void draw_collector(int y, const struct model_col *c, double now)
{
	char buf[1024], up[24], lag[24], eps[24];
	const struct api_summary *s = c->summary;
	int x = 0;

	if (c->state == COL_DOWN) {
		x = crt_put_glyph(y, x, 15, ROLE_BAD, "disconnected");
		snprintf(buf, sizeof buf, " %s  (%s; retrying)", c->url, c->err);
		x = crt_put(y, x, COLS - x, ROLE_BAD, buf);
		return;
	}
	if (c->state == COL_CONNECTING) {
		x = crt_put_glyph(y, x, 15, ROLE_DIM, "connecting");
		crt_put(y, x, COLS - x, ROLE_DIM, c->url);
		return;
	}
	if (c->state == COL_BAD)
		x = crt_put_glyph(y, x, 15, ROLE_WARN, "bad answer");
	else
		x = crt_put_glyph(y, x, 15, s && s->ready ? ROLE_OK : ROLE_WARN,
		    s && s->ready ? "ready" : "not ready");
	if (!s) {
		crt_put(y, x, COLS - x, ROLE_WARN, c->err);
		return;
	}
	fmt_duration(up, sizeof up, s->uptime + (now - c->last_ok));
	fmt_rate(eps, sizeof eps, s->events_ps);
	if (s->consumer_lag < 0)
		snprintf(lag, sizeof lag, "-");
	else
		fmt_count(lag, sizeof lag, s->consumer_lag);
	snprintf(buf, sizeof buf, " %s  ev/s %s  lag %s  up %s  v%s%s%s", c->url, eps, lag, up,
	    s->version, c->state == COL_BAD ? "  " : "", c->state == COL_BAD ? c->err : "");
	crt_put(y, x, COLS - x, c->state == COL_BAD ? ROLE_WARN : ROLE_NORMAL, buf);
}

/* Header: tabs, then one line per collector (at most 3 on short screens). */
static int draw_header(struct ui *u)
{
	struct model *m = u->model;
	double now = model_now();
	int i, max = LINES < 30 ? 2 : 4, y = 1;

	draw_tabs(u);
	for (i = 0; i < m->ncols && i < max; i++)
		draw_collector(y++, &m->cols[i], now);
	if (m->ncols > max) {
		char buf[64];
		snprintf(buf, sizeof buf, "+%d more collectors", m->ncols - max);
		crt_put(y++, 0, COLS, ROLE_DIM, buf);
	}
	return y;
}

static void draw_footer(struct ui *u)
{
	static const char *const hints[][2] = { { "q", "quit" }, { "?", "help" }, { "Tab", "view" },
		{ "/", "search" }, { "Enter", "detail" }, { "Esc", "back" }, { "s", "sort" },
		{ "r", "reverse" }, { "p", "pause" } };
	char buf[200];
	int y = LINES - 1, x = 0;
	size_t i;

	if (u->editing) {
		snprintf(buf, sizeof buf, "%s_", u->filter);
		x = crt_put(y, 0, 8, ROLE_KEY, "Filter:");
		x = crt_put(y, x, COLS - x - 30, ROLE_NORMAL, buf);
		crt_put(y, x, COLS - x, ROLE_DIM, "Enter keep  Esc clear");
		return;
	}
	if (u->status[0]) {
		crt_put(y, 0, COLS, ROLE_WARN, u->status);
		return;
	}
	for (i = 0; i < sizeof hints / sizeof hints[0] && x < COLS; i++) {
		x = crt_put(y, x, (int)strlen(hints[i][0]), ROLE_KEY, hints[i][0]);
		snprintf(buf, sizeof buf, " %s  ", hints[i][1]);
		x = crt_put(y, x, (int)strlen(buf), ROLE_DIM, buf);
	}
	crt_fill(y, x, ROLE_NORMAL);
}

void ui_draw(struct ui *u)
{
	int top;

	erase();
	model_lock(u->model);
	top = draw_header(u);
	u->vs[u->view].nrows = 0;
	if (LINES - 1 > top)
		ui_viewdef(u->view)->draw(u, top, LINES - 1);
	u->drawn_gen = u->model->gen;
	model_unlock(u->model);
	draw_footer(u);
	if (u->help)
		keys_draw_help(u);
	refresh();
}

void ui_layout(struct ui_col *c, int n, int cols)
{
	int used = 0, prio, i, x = 0, flex = -1;

	for (i = 0; i < n; i++) {
		c[i].x = -1;
		c[i].w = 0;
		if (c[i].width == 0)
			flex = i;
	}
	for (prio = 0; prio < 10; prio++) {
		for (i = 0; i < n; i++) {
			int need = c[i].width ? c[i].width : c[i].min;
			if (c[i].prio != prio)
				continue;
			if (used + need + 1 > cols)
				continue;
			c[i].w = need;
			used += need + 1;
		}
	}
	if (flex >= 0 && c[flex].w > 0)
		c[flex].w += cols - used;
	for (i = 0; i < n; i++) {
		if (c[i].w == 0)
			continue;
		c[i].x = x;
		x += c[i].w + 1;
	}
}

void ui_draw_colheader(int y, const struct ui_col *c, int n)
{
	int i;

	crt_fill(y, 0, ROLE_HEADER);
	for (i = 0; i < n; i++)
		if (c[i].x >= 0)
			(c[i].right ? crt_put_right : crt_put)(
			    y, c[i].x, c[i].w, ROLE_HEADER, c[i].title);
}
