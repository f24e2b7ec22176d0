/*
 * sel: a selection that stays on the same item while the rows under it move. A row is
 * identified by what it is about (flow, correlation id, kind, step), not by where it
 * is on the screen: after every refresh the cursor goes to the row with the selected
 * key, wherever sorting put it, and when that item left the list the cursor stays at
 * its screen position, on the row now there, and the caller is told so.
 *
 * Pure (no ncurses, no I/O), so tests/unit/test_tui_sel.c drives it directly.
 * UI thread only.
 */
#ifndef CHOREOSCOPE_TUI_SEL_H
#define CHOREOSCOPE_TUI_SEL_H

#include <stddef.h>

#include "api.h"

/* What a row leads to (Enter) and what identifies it across refreshes. */
struct ui_row {
	char flow[API_NAME];
	char cid[API_ID];    /* "" for a flow row; a graph edge: the step it comes from */
	char kind[24];       /* the verdict or state, a graph line's kind ("edge"), or "" */
	char step[API_NAME]; /* the step it is about; a graph edge: the step it goes to */
	int col;             /* collector index it came from, -1 for any */
};

/* The selected key of one view. */
struct sel_key {
	struct ui_row row;
	int set; /* 0: nothing selected yet (adopt the row at the cursor) */
};

/* After rows[0..n) were rebuilt: returns the cursor index of the selected item, or,
 * when it is gone, `sel` clamped to the rows (the row now at that position becomes
 * the selected one) and a one-line "... left the list" text in `gone` (else gone is
 * ""). With no rows the key is kept, so an item that comes back is found again.
 * O(n) over at most a few thousand rows per draw. */
int sel_follow(
    struct sel_key *k, const struct ui_row *rows, int n, int sel, char *gone, size_t gonelen);

/* The cursor moved to rows[sel] by a key: that row becomes the selected item. */
void sel_take(struct sel_key *k, const struct ui_row *rows, int n, int sel);

#endif
