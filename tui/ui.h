/*
 * ui: the state the views share (after htop's ScreenManager): which view is shown,
 * the cursor and sort of each, the filter, and the rows the last draw produced, so
 * that keys act on exactly what the user sees.
 *
 * UI thread only. Views draw from the model under model_lock(); they copy the keys
 * of the rows they show into `struct ui` so that Enter and the cursor keys work
 * without the lock and without looking at the model again. The cursor of a list
 * view follows its item (sel.h): each draw puts it back on the row with the selected
 * key, so rows that move under it do not move the selection.
 */
#ifndef CHOREOSCOPE_TUI_UI_H
#define CHOREOSCOPE_TUI_UI_H

#include "api.h"
#include "model.h"
#include "sel.h"

enum ui_view { VIEW_OVERVIEW, VIEW_STALLED, VIEW_GRAPH, VIEW_HISTORY, VIEW_DETAIL, VIEW_COUNT };

#define UI_MAX_ROWS 2048

struct ui_viewstate {
	int sel, top; /* cursor row and first visible row */
	int sort, reverse;
	int nrows;          /* rows the last draw produced */
	int page;           /* rows visible on the last draw */
	struct sel_key key; /* the selected item (list views; not the detail's events) */
};

struct ui {
	struct model *model;
	enum ui_view view, back; /* back: where Esc returns from detail */
	struct ui_viewstate vs[VIEW_COUNT];
	struct ui_row rows[UI_MAX_ROWS]; /* rows of the current view's last draw */
	char filter[API_ID];
	int editing; /* the `/` prompt is open */
	int help, quit, paused;
	struct ui_row target;      /* the flow detail shows this */
	struct api_flowitem seen;  /* the target as its list last showed it, for a flow that */
	int has_seen;              /* retires before its detail can be read (no "no such flow") */
	char scope_flow[API_NAME]; /* stalled view limited to the stalled instances */
	char scope_step[API_NAME]; /* of this flow and step (Enter on a graph edge) */
	char status[160];          /* one-line message in the footer */
	unsigned long drawn_gen;
};

/* One view (after htop's Panel): draws itself into lines [top, bottom) of the screen. */
struct ui_viewdef {
	const char *name;
	const char *const *sorts; /* names of the sort orders `s` cycles; NULL: none */
	int nsorts;
	void (*draw)(struct ui *u, int top, int bottom);
};

extern const struct ui_viewdef view_overview, view_stalled, view_graph, view_history, view_detail;

const struct ui_viewdef *ui_viewdef(enum ui_view v);
/* Draws the whole screen: header, the current view, help overlay, footer. */
void ui_draw(struct ui *u);
/* Tells the model what the current view needs (call after any change of view/filter). */
void ui_sync_want(struct ui *u);
/* Keeps the cursor inside [0, nrows) and visible in a page of `page` rows. */
void ui_clamp(struct ui_viewstate *vs);
/* Adds a row to the current view's row list; returns its index or -1 when full.
 * flow, cid, kind, step identify it across refreshes (NULL: ""). */
int ui_add_row(
    struct ui *u, const char *flow, const char *cid, const char *kind, const char *step, int col);
/* After the rows of a list view were added: puts the cursor on the selected item
 * (sel_follow), says in the footer when it left the list, then clamps. */
void ui_follow(struct ui *u);
/* A key moved the cursor: clamps it and makes the row under it the selected item. */
void ui_moved(struct ui *u);
/* A table column: shown when it fits, in priority order (0 first); width 0 takes the
 * rest of the line (at least `min`). ui_layout() fills `x` (-1 when hidden) and `w`. */
struct ui_col {
	const char *title;
	int width, right, prio, min;
	int x, w;
};
void ui_layout(struct ui_col *c, int n, int cols);
void ui_draw_colheader(int y, const struct ui_col *c, int n);
/* Wall-clock Unix seconds (ages of verdicts against their RFC 3339 `at`). */
double ui_wall_now(void);
/* The first page error of any collector ("" if none); call under the model lock. */
const char *ui_page_err(const struct ui *u);
/* The help overlay (keys come from the key table). */
void keys_draw_help(struct ui *u);

#endif
