/*
 * view_history: retired flows, newest first, from every collector
 * (/api/v1/flows?state=closed: the instances a collector still holds after they
 * closed, then those of its history store). While a filter is set, the rows are the
 * search's hits instead (search.h: live and retired, newest first, asked from the
 * collector, so a flow retired long ago is still found). One row per flow: outcome
 * (or state), correlation id, flow, events, the kinds of its verdicts, age since it
 * opened. Enter opens its timeline (the collector answers from its store). Without
 * a store a collector lists only what it still holds.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "crt.h"
#include "fmt.h"
#include "search.h"
#include "ui.h"

/* Without a filter: the retired flows of every collector's history page. With one:
 * the search hits (live and retired, newest first), since a flow the user looks for
 * may not have retired yet. */
static int collect(struct ui *u, const struct api_flowitem **rows, long long *total)
{
	static struct search_list hits; /* UI thread only; too big for the stack */
	struct model *m = u->model;
	int n = 0, ci, i;

	*total = 0;
	if (u->filter[0]) {
		search_collect(u, &hits);
		for (i = 0; i < hits.n; i++) {
			ui_add_row(u, hits.hits[i].it->flow, hits.hits[i].it->cid,
			    hits.hits[i].it->state, NULL, hits.hits[i].col);
			rows[n++] = hits.hits[i].it;
		}
		for (ci = 0; ci < m->ncols; ci++)
			*total += m->cols[ci].found ? m->cols[ci].found->total : 0;
		return n;
	}
	for (ci = 0; ci < m->ncols; ci++) {
		const struct api_flowpage *p = m->cols[ci].history;
		for (i = 0; p && i < p->n && n < UI_MAX_ROWS; i++) {
			ui_add_row(
			    u, p->items[i].flow, p->items[i].cid, p->items[i].state, NULL, ci);
			rows[n++] = &p->items[i];
		}
		*total += p ? p->total : 0;
	}
	return n;
}

static void draw(struct ui *u, int top, int bottom)
{
	struct ui_col c[SEARCH_C_N];
	struct ui_viewstate *vs = &u->vs[VIEW_HISTORY];
	const struct api_flowitem *rows[UI_MAX_ROWS];
	long long total;
	char title[API_ID + 128];
	int n, i, y, x;

	n = collect(u, rows, &total);
	if (u->filter[0])
		snprintf(title, sizeof title,
		    "History: %d flows matching \"%s\" of %lld, live and retired, newest first", n,
		    u->filter, total);
	else
		snprintf(title, sizeof title,
		    "History: %d rows of %lld retired flows, newest first", n, total);
	x = crt_put(top, 0, fmt_width(title, 1) + 2, ROLE_TITLE, title);
	if (ui_page_err(u)[0])
		crt_put_glyph(top, x, COLS - x, ROLE_WARN, ui_page_err(u));
	search_columns(c);
	ui_layout(c, SEARCH_C_N, COLS);
	ui_draw_colheader(top + 1, c, SEARCH_C_N);
	vs->page = bottom - top - 2;
	ui_follow(u);
	if (n == 0)
		crt_put(top + 2, 1, COLS - 2, ROLE_DIM,
		    u->filter[0]
			? "no flow, live or retired, has a correlation id with this text"
			: "no retired flow yet (a collector keeps them with history.dir set)");
	for (i = vs->top, y = top + 2; i < n && y < bottom; i++, y++)
		search_draw_row(y, rows[i], c, i == vs->sel);
}

const struct ui_viewdef view_history = { "History", NULL, 0, draw };
