/*
 * keys: the key table and the small action handlers it points to. While the `/`
 * prompt is open, keys go to the line editor instead (printable text appends,
 * Backspace deletes, Enter keeps the filter, Esc clears it); the filter applies as
 * it is typed.
 */
#include "keys.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "crt.h"

struct key_binding {
	int key;
	const char *label; /* NULL: same action as the row above, not shown in help */
	void (*act)(struct ui *u);
	const char *help;
};

static struct ui_viewstate *cur(struct ui *u)
{
	return &u->vs[u->view];
}

static void switch_view(struct ui *u, enum ui_view v)
{
	if (u->view == v)
		return;
	if (v == VIEW_DETAIL)
		u->back = u->view;
	u->view = v;
	ui_sync_want(u);
}

static void act_quit(struct ui *u) { u->quit = 1; }
static void act_help(struct ui *u) { u->help = !u->help; }
static void act_up(struct ui *u) { cur(u)->sel--; ui_clamp(cur(u)); }
static void act_down(struct ui *u) { cur(u)->sel++; ui_clamp(cur(u)); }
static void act_pgup(struct ui *u) { cur(u)->sel -= cur(u)->page; ui_clamp(cur(u)); }
static void act_pgdn(struct ui *u) { cur(u)->sel += cur(u)->page; ui_clamp(cur(u)); }
static void act_home(struct ui *u) { cur(u)->sel = 0; ui_clamp(cur(u)); }
static void act_end(struct ui *u) { cur(u)->sel = cur(u)->nrows - 1; ui_clamp(cur(u)); }
static void act_view1(struct ui *u) { switch_view(u, VIEW_OVERVIEW); }
static void act_view2(struct ui *u) { switch_view(u, VIEW_STALLED); }
static void act_view3(struct ui *u) { switch_view(u, VIEW_GRAPH); }

static void act_tab(struct ui *u)
{
	switch_view(u, u->view >= VIEW_GRAPH ? VIEW_OVERVIEW : (enum ui_view)(u->view + 1));
}

static void act_filter(struct ui *u)
{
	u->editing = 1;
}

static void act_back(struct ui *u)
{
	if (u->help) {
		u->help = 0;
	} else if (u->view == VIEW_DETAIL) {
		switch_view(u, u->back);
	} else if (u->filter[0]) {
		u->filter[0] = '\0';
		ui_sync_want(u);
	}
}

static void act_enter(struct ui *u)
{
	struct ui_viewstate *vs = cur(u);

	if (u->view == VIEW_DETAIL || u->view == VIEW_GRAPH || vs->sel >= vs->nrows)
		return;
	u->target = u->rows[vs->sel];
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

static void act_reverse(struct ui *u)
{
	cur(u)->reverse = !cur(u)->reverse;
}

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
	{'q', "q", act_quit, "quit"},
	{'?', "?", act_help, "show or hide this help"},
	{KEY_F(1), NULL, act_help, NULL},
	{'\t', "Tab", act_tab, "next view"},
	{'1', "1", act_view1, "Overview: one row per flow"},
	{'2', "2", act_view2, "Stalled & anomalies: live list"},
	{'3', "3", act_view3, "Graph: flow graphs with edge counts"},
	{KEY_ENTER, "Enter", act_enter, "flow detail of the selected row"},
	{'\r', NULL, act_enter, NULL},
	{'\n', NULL, act_enter, NULL},
	{27, "Esc", act_back, "back (detail, help), or clear the filter"},
	{KEY_BACKSPACE, NULL, act_back, NULL},
	{'/', "/", act_filter, "filter rows (correlation id, flow, step, kind, source)"},
	{KEY_UP, "Up k", act_up, "move up"},
	{'k', NULL, act_up, NULL},
	{KEY_DOWN, "Down j", act_down, "move down"},
	{'j', NULL, act_down, NULL},
	{KEY_PPAGE, "PgUp", act_pgup, "page up"},
	{KEY_NPAGE, "PgDn", act_pgdn, "page down"},
	{' ', NULL, act_pgdn, NULL},
	{KEY_HOME, "Home g", act_home, "first row"},
	{'g', NULL, act_home, NULL},
	{KEY_END, "End G", act_end, "last row"},
	{'G', NULL, act_end, NULL},
	{'s', "s", act_sort, "cycle the sort order"},
	{'r', "r", act_reverse, "reverse the sort order"},
	{'p', "p", act_pause, "pause or resume refreshing"},
	{12, "Ctrl-L", act_redraw, "redraw the screen"},
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

void keys_draw_help(struct ui *u)
{
	int n = 0, h, w = 64, y0, x0, y;
	size_t i;

	(void)u;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		n += keys[i].label != NULL;
	h = n + 4;
	w = w > COLS ? COLS : w;
	y0 = LINES > h ? (LINES - h) / 2 : 0;
	x0 = (COLS - w) / 2;
	crt_put(y0, x0, w, ROLE_HEADER, " Keys (Esc or ? closes)");
	for (i = 0, y = y0 + 1; i < sizeof keys / sizeof keys[0] && y < LINES - 2; i++) {
		if (!keys[i].label)
			continue;
		crt_put(y, x0, 10, ROLE_KEY, keys[i].label);
		crt_put(y++, x0 + 10, w - 10, ROLE_NORMAL, keys[i].help);
	}
	crt_put(y++, x0, w, ROLE_NORMAL, "");
	{
		char buf[160];
		snprintf(buf, sizeof buf, "%s ok %s pending %s stalled %s missing %s happened %s warn",
		    crt_glyph(ROLE_OK), crt_glyph(ROLE_PENDING), crt_glyph(ROLE_STALLED),
		    crt_glyph(ROLE_MISSING), crt_glyph(ROLE_HAPPENED), crt_glyph(ROLE_WARN));
		crt_put(y, x0, w, ROLE_DIM, buf);
	}
}
