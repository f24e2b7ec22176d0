/*
 * sel: the selection that follows its item. See sel.h.
 */
#include "sel.h"

#include <stdio.h>
#include <string.h>

/* Do a and b name the same item (flow, correlation id, kind and step)? */
static int sel_same(const struct ui_row *a, const struct ui_row *b)
{
	return strcmp(a->flow, b->flow) == 0 && strcmp(a->cid, b->cid) == 0 &&
	    strcmp(a->kind, b->kind) == 0 && strcmp(a->step, b->step) == 0;
}

static void describe(const struct ui_row *r, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s%s%s%s", r->flow, r->cid[0] ? " " : "", r->cid,
	    r->kind[0] ? " " : "", r->kind, r->step[0] ? " " : "", r->step);
}

int sel_follow(
    struct sel_key *k, const struct ui_row *rows, int n, int sel, char *gone, size_t gonelen)
{
	char what[API_NAME + API_ID + 100];
	int i;

	if (gonelen)
		gone[0] = '\0';
	if (n <= 0)
		return 0;
	if (k->set)
		for (i = 0; i < n; i++)
			if (sel_same(&rows[i], &k->row))
				return i;
	sel = sel < 0 ? 0 : sel >= n ? n - 1 : sel;
	if (k->set && gonelen) {
		describe(&k->row, what, sizeof what);
		snprintf(gone, gonelen, "%s left the list (resolved, closed or aged out)", what);
	}
	k->row = rows[sel];
	k->set = 1;
	return sel;
}

void sel_take(struct sel_key *k, const struct ui_row *rows, int n, int sel)
{
	if (sel < 0 || sel >= n)
		return;
	k->row = rows[sel];
	k->set = 1;
}
