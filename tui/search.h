/*
 * search: the flows a `/` search found, live and retired, as every list view shows
 * them (after htop's shared panels): collected from every collector's answer to the
 * model's search request (model.h: `found`, state=all, newest first), one row per
 * flow instance, drawn in the History view's columns (outcome or state, correlation
 * id, flow, events, verdict kinds, age). Enter on such a row opens its detail, live or
 * from the collector's history store.
 *
 * UI thread only, under model_lock(): hits point into the model's pages, valid until
 * the lock is released.
 */
#ifndef CHOREOSCOPE_TUI_SEARCH_H
#define CHOREOSCOPE_TUI_SEARCH_H

#include "ui.h"

#define SEARCH_MAX (MODEL_FOUND_LIMIT * MODEL_MAX_COLS)

struct search_hit {
	const struct api_flowitem *it;
	int col;
};

struct search_list {
	struct search_hit hits[SEARCH_MAX];
	int n;
};

/* The hits of the current filter (none without one): every collector's `found` page,
 * one per (collector, flow, correlation id), newest first (smallest age; the API
 * already orders each page so, this merges collectors). */
void search_collect(const struct ui *u, struct search_list *l);

/* Adds the hits as rows of the current view (kind: "found:" + state, so that a
 * view's own rows of the same flow stay distinct). Returns how many were added. */
int search_add_rows(struct ui *u, const struct search_list *l);

/* Is this row a search hit (search_add_rows)? */
int search_is_hit(const struct ui_row *r);

/* The columns of a list of flow instances (this section and the History view). */
enum {
	SEARCH_C_OUT,
	SEARCH_C_CID,
	SEARCH_C_FLOW,
	SEARCH_C_EVENTS,
	SEARCH_C_KINDS,
	SEARCH_C_AGE,
	SEARCH_C_N
};
void search_columns(struct ui_col c[SEARCH_C_N]);
/* One instance row in those columns (after ui_layout). */
void search_draw_row(int y, const struct api_flowitem *it, const struct ui_col *c, int sel);

/* Draws the section of hits that a view put after its own rows: rows [first, first +
 * l->n) of the view are the hits. From line y to bottom: the section title and column
 * header (when the first visible hit is the section's first, or the view scrolled
 * into the section), then the visible hits. Returns the next free line. */
int search_draw(struct ui *u, const struct search_list *l, int first, int y, int bottom);

/* Lines search_draw takes besides its rows (its title and column header), 0 without
 * hits: views subtract them from their page size. */
int search_extra_lines(const struct search_list *l);

/* Finds the instance (flow, cid) of collector col (-1: any) in what the model holds
 * (search hits, stalled, history pages) and copies it: 0, or -1 when none has it. */
int search_find_item(
    const struct model *m, int col, const char *flow, const char *cid, struct api_flowitem *out);

#endif
