/* Unit tests for tui/sel.c: the selection follows its item (flow, correlation id,
 * kind, step) while the rows re-sort, and says when the item left the list.
 * Table-driven: each case is a sequence of refreshes (row lists) and the key moves
 * between them; the module is compiled into this binary directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../tui/sel.c"

#define MAXR 8

/* A row written "flow/cid/kind/step". */
static void mkrow(struct ui_row *r, const char *spec)
{
	char buf[256];
	char *f[4] = { "", "", "", "" };
	int i = 0;

	snprintf(buf, sizeof buf, "%s", spec);
	for (char *p = buf, *s; i < 4 && (s = strsep(&p, "/")) != NULL; i++)
		f[i] = s;
	memset(r, 0, sizeof *r);
	snprintf(r->flow, sizeof r->flow, "%s", f[0]);
	snprintf(r->cid, sizeof r->cid, "%s", f[1]);
	snprintf(r->kind, sizeof r->kind, "%s", f[2]);
	snprintf(r->step, sizeof r->step, "%s", f[3]);
}

struct refresh {
	const char *rows[MAXR]; /* NULL-terminated */
	int move_to;            /* >= 0: the user moves the cursor there after this draw */
	int want_sel;           /* the cursor after sel_follow */
	const char *want_cid;   /* the selected item's id after sel_follow */
	int want_gone;          /* a "left the list" text */
};

struct sel_case {
	const char *name;
	struct refresh r[6];
	int nr;
};

static const struct sel_case cases[] = {
	{ "first draw adopts the row at the cursor",
	    { { { "o/a/stalled/X", "o/b/stalled/Y", NULL }, -1, 0, "a", 0 } }, 1 },
	{ "rows move under the cursor: it stays on the item",
	    { { { "o/a/stalled/X", "o/b/stalled/Y", "o/c/stalled/Z", NULL }, 1, 0, "a", 0 },
		{ { "o/c/stalled/Z", "o/a/stalled/X", "o/b/stalled/Y", NULL }, -1, 2, "b", 0 },
		{ { "o/b/stalled/Y", "o/c/stalled/Z", "o/a/stalled/X", NULL }, -1, 0, "b", 0 },
		{ { "o/x/stalled/X", "o/y/stalled/X", "o/c/stalled/Z", "o/b/stalled/Y", NULL }, -1,
		    3, "b", 0 },
		{ { "o/b/stalled/Y", NULL }, -1, 0, "b", 0 } },
	    5 },
	{ "same id, other kind or step is another item",
	    { { { "o/a/stalled/X", "o/a/stalled/Y", NULL }, 1, 0, "a", 0 },
		{ { "o/a/abandoned/Y", "o/a/stalled/Y", "o/a/stalled/X", NULL }, -1, 1, "a", 0 } },
	    2 },
	{ "the item leaves: cursor keeps its position, says so, takes the row there",
	    { { { "o/a/stalled/X", "o/b/stalled/X", "o/c/stalled/X", NULL }, 1, 0, "a", 0 },
		{ { "o/a/stalled/X", "o/c/stalled/X", NULL }, -1, 1, "c", 1 },
		{ { "o/c/stalled/X", "o/a/stalled/X", NULL }, -1, 0, "c", 0 } },
	    3 },
	{ "the last row leaves: cursor clamps to the new last row",
	    { { { "o/a/late/X", "o/b/late/X", "o/c/late/X", NULL }, 2, 0, "a", 0 },
		{ { "o/a/late/X", NULL }, -1, 0, "a", 1 } },
	    2 },
	{ "an empty list keeps the key: the item is found when it comes back",
	    { { { "o/a/stalled/X", "o/b/stalled/X", NULL }, 1, 0, "a", 0 },
		{ { NULL }, -1, 0, "b", 0 },
		{ { "o/z/stalled/X", "o/b/stalled/X", NULL }, -1, 1, "b", 0 } },
	    3 },
};

static void test_follow(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const struct sel_case *sc = &cases[c];
		struct sel_key k = { 0 };
		struct ui_row rows[MAXR];
		int sel = 0;
		for (int i = 0; i < sc->nr; i++) {
			const struct refresh *rf = &sc->r[i];
			char gone[256];
			int n = 0;
			while (n < MAXR && rf->rows[n])
				mkrow(&rows[n], rf->rows[n]), n++;
			sel = sel_follow(&k, rows, n, sel, gone, sizeof gone);
			if (sel != rf->want_sel || strcmp(k.row.cid, rf->want_cid) != 0 ||
			    (gone[0] != '\0') != rf->want_gone)
				fail_msg("%s, refresh %d: sel %d (want %d), item %s (want %s), "
					 "gone \"%s\"",
				    sc->name, i, sel, rf->want_sel, k.row.cid, rf->want_cid, gone);
			if (rf->move_to >= 0) {
				sel = rf->move_to;
				sel_take(&k, rows, n, sel);
			}
		}
	}
}

/* The "left the list" text names the item: flow, id, kind and step. */
static void test_gone_text(void **state)
{
	struct sel_key k = { 0 };
	struct ui_row rows[2];
	char gone[256];

	(void)state;
	mkrow(&rows[0], "order/ord-7/stalled/OrderShipped");
	assert_int_equal(sel_follow(&k, rows, 1, 0, gone, sizeof gone), 0);
	assert_string_equal(gone, "");
	mkrow(&rows[0], "order/ord-8/late/OrderShipped");
	assert_int_equal(sel_follow(&k, rows, 1, 0, gone, sizeof gone), 0);
	assert_string_equal(
	    gone, "order ord-7 stalled OrderShipped left the list (resolved, closed or aged out)");
	assert_string_equal(k.row.cid, "ord-8");
	/* a move outside the rows is ignored */
	sel_take(&k, rows, 1, 5);
	assert_string_equal(k.row.cid, "ord-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_follow),
		cmocka_unit_test(test_gone_text) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
