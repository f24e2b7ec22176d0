/*
 * keys: the key table and the small action handlers it points to. `/` opens the
 * prompt in every view (search.h: the text also finds flow instances by correlation
 * id, live and retired). While the `/` prompt is open, keys go to the line editor instead (printable text appends,
 * Backspace deletes, Enter keeps the filter, Esc clears it); the filter applies as
 * it is typed.
 */
#include "keys.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "crt.h"
#include "search.h"

struct key_binding {
	int key;
	const char *label; /* NULL: same action as the row above, not shown in help */
	void (*act)(struct ui *u);
	const char *help;
};

static struct ui_viewstate *cur(struct ui *u) { return &u->vs[u->view]; }

static void switch_view(struct ui *u, enum ui_view v)
{
	if (u->view == v)
		return;
	if (u->view == VIEW_STALLED && v != VIEW_DETAIL) /* leaving an edge's stalls */
		u->scope_flow[0] = u->scope_step[0] = '\0';
	if (v == VIEW_DETAIL)
		u->back = u->view;
	u->view = v;
	ui_sync_want(u);
}

static void act_quit(struct ui *u) { u->quit = 1; }
/* ? cycles: closed, the keys, the abbreviations the views use, closed. */
static void act_help(struct ui *u) { u->help = (u->help + 1) % 3; }
static void act_up(struct ui *u)
{
	cur(u)->sel--;
	ui_moved(u);
}
static void act_down(struct ui *u)
{
	cur(u)->sel++;
	ui_moved(u);
}
static void act_pgup(struct ui *u)
{
	cur(u)->sel -= cur(u)->page;
	ui_moved(u);
}
static void act_pgdn(struct ui *u)
{
	cur(u)->sel += cur(u)->page;
	ui_moved(u);
}
static void act_home(struct ui *u)
{
	cur(u)->sel = 0;
	ui_moved(u);
}
static void act_end(struct ui *u)
{
	cur(u)->sel = cur(u)->nrows - 1;
	ui_moved(u);
}
static void act_view1(struct ui *u) { switch_view(u, VIEW_OVERVIEW); }
static void act_view2(struct ui *u) { switch_view(u, VIEW_STALLED); }
static void act_view3(struct ui *u) { switch_view(u, VIEW_GRAPH); }
static void act_view4(struct ui *u) { switch_view(u, VIEW_HISTORY); }

static void act_tab(struct ui *u)
{
	switch_view(u, u->view >= VIEW_HISTORY ? VIEW_OVERVIEW : (enum ui_view)(u->view + 1));
}

/* `/` searches from every view; in the detail it goes back to the list the detail was
 * opened from, where the hits are listed. */
static void act_filter(struct ui *u)
{
	if (u->view == VIEW_DETAIL)
		switch_view(u, u->back);
	u->editing = 1;
}

/* The row as its list shows it now, kept for the detail: when the flow retires before
 * the collector answers (and it has no history store, or has not written it yet), the
 * detail shows this last state instead of "no such flow". */
static void remember_target(struct ui *u, const struct ui_row *r)
{
	struct api_flowitem *s = &u->seen;

	model_lock(u->model);
	u->has_seen = r->cid[0] && search_find_item(u->model, r->col, r->flow, r->cid, s) == 0;
	model_unlock(u->model);
	if (u->has_seen || !r->cid[0])
		return;
	memset(s, 0, sizeof *s); /* a verdict of the anomaly ring: what its row says */
	snprintf(s->flow, sizeof s->flow, "%s", r->flow);
	snprintf(s->cid, sizeof s->cid, "%s", r->cid);
	snprintf(s->kinds, sizeof s->kinds, "%s", r->kind);
	snprintf(s->awaiting, sizeof s->awaiting, "%s", r->step);
	s->age = s->overdue = -1;
	s->events = -1;
	u->has_seen = 1;
}

static void act_back(struct ui *u)
{
	if (u->help) {
		u->help = 0;
	} else if (u->view == VIEW_DETAIL) {
		switch_view(u, u->back);
	} else if (u->view == VIEW_STALLED && u->scope_step[0]) {
		switch_view(u, VIEW_GRAPH);
	} else if (u->filter[0]) {
		u->filter[0] = '\0';
		ui_sync_want(u);
	}
}

/* Graph: the stalled instances of the selected edge's (or step's) target step. */
static void enter_graph(struct ui *u, const struct ui_row *r)
{
	if (strcmp(r->kind, "edge") && strcmp(r->kind, "step")) {
		snprintf(u->status, sizeof u->status,
		    "Enter on an edge or a step lists its stalled instances");
		return;
	}
	snprintf(u->scope_flow, sizeof u->scope_flow, "%s", r->flow);
	snprintf(u->scope_step, sizeof u->scope_step, "%s", r->step);
	u->vs[VIEW_STALLED].sel = u->vs[VIEW_STALLED].top = 0;
	u->vs[VIEW_STALLED].key.set = 0;
	switch_view(u, VIEW_STALLED);
}

static void act_enter(struct ui *u)
{
	struct ui_viewstate *vs = cur(u);

	if (u->view == VIEW_DETAIL || vs->sel >= vs->nrows)
		return;
	if (u->view == VIEW_GRAPH && !search_is_hit(&u->rows[vs->sel])) {
		enter_graph(u, &u->rows[vs->sel]);
		return;
	}
	u->target = u->rows[vs->sel];
	remember_target(u, &u->target);
	u->vs[VIEW_DETAIL].sel = 0;
	u->vs[VIEW_DETAIL].top = 0;
	switch_view(u, VIEW_DETAIL);
}

static void act_sort(struct ui *u)
{
	const struct ui_viewdef *d = ui_viewdef(u->view);

	if (d->nsorts == 0) {
		snprintf(u->status, sizeof u->status, "this view has no sort orders");
		return;
	}
	cur(u)->sort = (cur(u)->sort + 1) % d->nsorts;
	snprintf(u->status, sizeof u->status, "sorted by %s", d->sorts[cur(u)->sort]);
}

static void act_reverse(struct ui *u) { cur(u)->reverse = !cur(u)->reverse; }

static void act_pause(struct ui *u)
{
	u->paused = !u->paused;
	model_set_paused(u->model, u->paused);
}

static void act_redraw(struct ui *u)
{
	(void)u;
	clearok(curscr, TRUE);
}

static const struct key_binding keys[] = {
	{ 'q', "q", act_quit, "quit" },
	{ '?', "?", act_help, "help: keys, then abbreviations, then close" },
	{ KEY_F(1), NULL, act_help, NULL },
	{ '\t', "Tab", act_tab, "next view" },
	{ '1', "1", act_view1, "Overview: one row per flow" },
	{ '2', "2", act_view2, "Stalled & anomalies: live list" },
	{ '3', "3", act_view3, "Graph: flow graphs with edge counts" },
	{ '4', "4", act_view4, "History: retired flows, newest first (Enter: timeline)" },
	{ KEY_ENTER, "Enter", act_enter,
	    "detail of the selected row; on a graph edge: its stalls" },
	{ '\r', NULL, act_enter, NULL },
	{ '\n', NULL, act_enter, NULL },
	{ 27, "Esc", act_back, "back (detail, help, edge's stalls), or clear the filter" },
	{ KEY_BACKSPACE, NULL, act_back, NULL },
	{ '/', "/", act_filter, "search flows live and retired by id; filter the rows" },
	{ KEY_UP, "Up k", act_up, "move up" },
	{ 'k', NULL, act_up, NULL },
	{ KEY_DOWN, "Down j", act_down, "move down" },
	{ 'j', NULL, act_down, NULL },
	{ KEY_PPAGE, "PgUp", act_pgup, "page up" },
	{ KEY_NPAGE, "PgDn", act_pgdn, "page down" },
	{ ' ', NULL, act_pgdn, NULL },
	{ KEY_HOME, "Home g", act_home, "first row" },
	{ 'g', NULL, act_home, NULL },
	{ KEY_END, "End G", act_end, "last row" },
	{ 'G', NULL, act_end, NULL },
	{ 's', "s", act_sort, "cycle the sort order" },
	{ 'r', "r", act_reverse, "reverse the sort order" },
	{ 'p', "p", act_pause, "pause or resume refreshing" },
	{ 12, "Ctrl-L", act_redraw, "redraw the screen" },
};

static int edit_filter(struct ui *u, int ch)
{
	size_t n = strlen(u->filter);

	if (ch == 27) {
		u->filter[0] = '\0';
		u->editing = 0;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		u->editing = 0;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n > 0)
			u->filter[n - 1] = '\0';
	} else if (ch >= 0x20 && ch < 0x7F && n + 1 < sizeof u->filter) {
		u->filter[n] = (char)ch;
		u->filter[n + 1] = '\0';
	} else {
		return 0;
	}
	u->vs[u->view].sel = 0;
	u->vs[u->view].top = 0;
	u->vs[u->view].key.set = 0; /* a new filter: select its first row */
	ui_sync_want(u);
	return 1;
}

int keys_handle(struct ui *u, int ch)
{
	size_t i;

	u->status[0] = '\0';
	if (u->editing)
		return edit_filter(u, ch);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (keys[i].key == ch) {
			keys[i].act(u);
			return 1;
		}
	}
	return 0;
}

/* Every abbreviation a view shows, for the second help page. */
static const char *const abbrevs[][2] = {
	{ "IN FLIGHT", "open instances now" },
	{ "START/s DONE/s", "instances opened / completed per second" },
	{ "STALLED", "open instances past a step's deadline now" },
	{ "P50 P95 P99", "percentiles of flow duration, open to close" },
	{ "ANOMALIES/min", "verdicts per minute, by kind:" },
	{ "", "stl stalled  mis missing  ooo out_of_order" },
	{ "", "dup duplicate  dbl double_step  rty retry_storm" },
	{ "", "unx unexpected  join join_wait  abn abandoned" },
	{ "OVERDUE", "time past the awaited step's deadline" },
	{ "AGE", "time since the verdict (a stall: its deadline)" },
	{ "(undeclared)", "an event type no step of its flow declares" },
	{ "OWNER", "who owes the step: its declared owner, or" },
	{ "", "~name: learned, the most frequent source of its events" },
	{ "p95 (graph)", "edge latency, step expected -> its event" },
	{ "STUCK", "waiting on an edge whose step has stalls" },
	{ "waiting", "on an edge, still within the deadline" },
};

static void draw_abbrevs(int y0, int x0, int w)
{
	size_t i;
	int y;

	crt_put(y0, x0, w, ROLE_HEADER, " Abbreviations (? closes, Esc closes)");
	for (i = 0, y = y0 + 1; i < sizeof abbrevs / sizeof abbrevs[0] && y < LINES - 1; i++) {
		crt_put(y, x0, 15, ROLE_KEY, abbrevs[i][0]);
		crt_put(y++, x0 + 15, w - 15, ROLE_NORMAL, abbrevs[i][1]);
	}
}

void keys_draw_help(struct ui *u)
{
	int n = 0, h, w = 64, y0, x0, y;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		n += keys[i].label != NULL;
	h = u->help == 2 ? (int)(sizeof abbrevs / sizeof abbrevs[0]) + 1 : n + 4;
	w = w > COLS ? COLS : w;
	y0 = LINES > h ? (LINES - h) / 2 : 0;
	x0 = (COLS - w) / 2;
	if (u->help == 2) {
		draw_abbrevs(y0, x0, w);
		return;
	}
	crt_put(y0, x0, w, ROLE_HEADER, " Keys (? abbreviations, Esc closes)");
	for (i = 0, y = y0 + 1; i < sizeof keys / sizeof keys[0] && y < LINES - 2; i++) {
		if (!keys[i].label)
			continue;
		crt_put(y, x0, 10, ROLE_KEY, keys[i].label);
		crt_put(y++, x0 + 10, w - 10, ROLE_NORMAL, keys[i].help);
	}
	crt_put(y++, x0, w, ROLE_NORMAL, "");
	{
		char buf[160];
		snprintf(buf, sizeof buf,
		    "%s ok %s pending %s stalled %s missing %s happened %s warn",
		    crt_glyph(ROLE_OK), crt_glyph(ROLE_PENDING), crt_glyph(ROLE_STALLED),
		    crt_glyph(ROLE_MISSING), crt_glyph(ROLE_HAPPENED), crt_glyph(ROLE_WARN));
		crt_put(y, x0, w, ROLE_DIM, buf);
	}
}
