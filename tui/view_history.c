/*
 * view_history: retired flows, newest first, from every collector
 * (/api/v1/flows?state=closed: the instances a collector still holds after they
 * closed, then those of its history store; a q= search on the correlation id while
 * a filter is set, so a flow retired long ago is still found). One row per flow:
 * outcome, correlation id, flow, events, the kinds of its verdicts, age since it
 * opened. Enter opens its timeline (the collector answers from its store). Without
 * a store a collector lists only what it still holds, and the title says so.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "crt.h"
#include "fmt.h"
#include "ui.h"

enum { C_OUT, C_CID, C_FLOW, C_EVENTS, C_KINDS, C_AGE, C_N };

static enum crt_role outcome_role(const char *o)
{
	if (strcmp(o, "completed") == 0 || strcmp(o, "compensated") == 0)
		return ROLE_HAPPENED;
	if (strcmp(o, "abandoned") == 0 || strcmp(o, "evicted") == 0)
		return ROLE_STALLED;
	return ROLE_WARN;
}

static void draw_row(int y, const struct api_flowitem *it, const struct ui_col *c, int sel)
{
	char buf[64];
	enum crt_role base = sel ? ROLE_SELECTED : ROLE_NORMAL;

	crt_fill(y, 0, base);
	crt_put_mark(y, c[C_OUT].x, c[C_OUT].w, sel ? base : outcome_role(it->state),
	    outcome_role(it->state), it->state);
	crt_put(y, c[C_CID].x, c[C_CID].w, base, it->cid);
	crt_put(y, c[C_FLOW].x, c[C_FLOW].w, base, it->flow);
	snprintf(buf, sizeof buf, "%lld", it->events);
	crt_put_right(y, c[C_EVENTS].x, c[C_EVENTS].w, base, buf);
	crt_put(y, c[C_KINDS].x, c[C_KINDS].w, it->kinds[0] && !sel ? ROLE_WARN : base,
	    it->kinds[0] ? it->kinds : "-");
	fmt_duration(buf, sizeof buf, it->age);
	crt_put_right(y, c[C_AGE].x, c[C_AGE].w, base, buf);
}

static void draw(struct ui *u, int top, int bottom)
{
	struct ui_col c[C_N] = { [C_OUT] = { "OUTCOME", 13, 0, 0, 0, 0, 0 },
		[C_CID] = { "CORRELATION ID", 0, 0, 1, 9, 0, 0 },
		[C_FLOW] = { "FLOW", 12, 0, 2, 0, 0, 0 },
		[C_EVENTS] = { "EVENTS", 7, 1, 3, 0, 0, 0 },
		[C_KINDS] = { "ANOMALIES", 22, 0, 1, 0, 0, 0 },
		[C_AGE] = { "AGE", 7, 1, 0, 0, 0, 0 } };
	struct ui_viewstate *vs = &u->vs[VIEW_HISTORY];
	const struct api_flowitem *rows[UI_MAX_ROWS];
	struct model *m = u->model;
	long long total = 0;
	char title[256];
	int n = 0, ci, i, y, x;

	for (ci = 0; ci < m->ncols; ci++) {
		const struct api_flowpage *p = m->cols[ci].history;
		for (i = 0; p && i < p->n && n < UI_MAX_ROWS; i++) {
			const struct api_flowitem *it = &p->items[i];
			if (!fmt_match(it->cid, u->filter) && !fmt_match(it->flow, u->filter) &&
			    !fmt_match(it->state, u->filter) && !fmt_match(it->kinds, u->filter))
				continue;
			ui_add_row(u, it->flow, it->cid, it->state, NULL, ci);
			rows[n++] = it;
		}
		total += p ? p->total : 0;
	}
	snprintf(
	    title, sizeof title, "History: %d rows of %lld retired flows, newest first", n, total);
	x = crt_put(top, 0, fmt_width(title, 1) + 2, ROLE_TITLE, title);
	if (ui_page_err(u)[0])
		crt_put_glyph(top, x, COLS - x, ROLE_WARN, ui_page_err(u));
	ui_layout(c, C_N, COLS);
	ui_draw_colheader(top + 1, c, C_N);
	vs->page = bottom - top - 2;
	ui_follow(u);
	if (n == 0)
		crt_put(top + 2, 1, COLS - 2, ROLE_DIM,
		    u->filter[0]
			? "nothing matches the filter"
			: "no retired flow yet (a collector keeps them with history.dir set)");
	for (i = vs->top, y = top + 2; i < n && y < bottom; i++, y++)
		draw_row(y, rows[i], c, i == vs->sel);
}

const struct ui_viewdef view_history = { "History", NULL, 0, draw };
