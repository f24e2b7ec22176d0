/*
 * search: the hits of a `/` search, shared by the list views. See search.h.
 *
 * Bounded: at most MODEL_FOUND_LIMIT hits per collector (the model asks for no more),
 * merged in O(n log n) per draw.
 */
#include "search.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "fmt.h"

#define HIT_PREFIX "found:"

static int hit_newer(const void *a, const void *b)
{
	const struct search_hit *x = a, *y = b;
	double ax = isnan(x->it->age) ? INFINITY : x->it->age;
	double ay = isnan(y->it->age) ? INFINITY : y->it->age;

	if (ax != ay)
		return ax < ay ? -1 : 1;
	if (x->col != y->col) /* ties keep the collectors' own order */
		return x->col - y->col;
	return x->it < y->it ? -1 : x->it > y->it;
}

static int listed(const struct search_list *l, int col, const struct api_flowitem *it)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->hits[i].col == col && strcmp(l->hits[i].it->flow, it->flow) == 0 &&
		    strcmp(l->hits[i].it->cid, it->cid) == 0)
			return 1;
	return 0;
}

void search_collect(const struct ui *u, struct search_list *l)
{
	const struct model *m = u->model;
	int ci, i;

	l->n = 0;
	if (!u->filter[0])
		return;
	for (ci = 0; ci < m->ncols; ci++) {
		const struct api_flowpage *p = m->cols[ci].found;
		/* a collector with a store lists an instance it still holds and, once
		 * written, its stored copy: one row, the first (the engine's) */
		for (i = 0; p && i < p->n && l->n < SEARCH_MAX; i++)
			if (!listed(l, ci, &p->items[i]))
				l->hits[l->n++] = (struct search_hit){ &p->items[i], ci };
	}
	qsort(l->hits, (size_t)l->n, sizeof l->hits[0], hit_newer);
}

int search_add_rows(struct ui *u, const struct search_list *l)
{
	char kind[sizeof((struct ui_row *)0)->kind];
	int i;

	for (i = 0; i < l->n; i++) {
		/* states are at most 11 bytes ("compensated"): the prefix fits */
		snprintf(kind, sizeof kind, HIT_PREFIX "%.17s", l->hits[i].it->state);
		if (ui_add_row(
			u, l->hits[i].it->flow, l->hits[i].it->cid, kind, NULL, l->hits[i].col) < 0)
			break;
	}
	return i;
}

int search_is_hit(const struct ui_row *r)
{
	return strncmp(r->kind, HIT_PREFIX, sizeof HIT_PREFIX - 1) == 0;
}

void search_columns(struct ui_col c[SEARCH_C_N])
{
	static const struct ui_col cols[SEARCH_C_N] = {
		[SEARCH_C_OUT] = { "OUTCOME", 13, 0, 0, 0, 0, 0 },
		[SEARCH_C_CID] = { "CORRELATION ID", 0, 0, 1, 9, 0, 0 },
		[SEARCH_C_FLOW] = { "FLOW", 12, 0, 2, 0, 0, 0 },
		[SEARCH_C_EVENTS] = { "EVENTS", 7, 1, 3, 0, 0, 0 },
		[SEARCH_C_KINDS] = { "ANOMALIES", 22, 0, 1, 0, 0, 0 },
		[SEARCH_C_AGE] = { "AGE", 7, 1, 0, 0, 0, 0 },
	};
	memcpy(c, cols, sizeof cols);
}

static enum crt_role state_role(const char *o)
{
	if (strcmp(o, "completed") == 0 || strcmp(o, "compensated") == 0)
		return ROLE_HAPPENED;
	if (strcmp(o, "abandoned") == 0 || strcmp(o, "evicted") == 0 || strcmp(o, "stalled") == 0)
		return ROLE_STALLED;
	if (strcmp(o, "open") == 0)
		return ROLE_PENDING;
	return ROLE_WARN;
}

void search_draw_row(int y, const struct api_flowitem *it, const struct ui_col *c, int sel)
{
	char buf[64];
	enum crt_role base = sel ? ROLE_SELECTED : ROLE_NORMAL;

	crt_fill(y, 0, base);
	crt_put_mark(y, c[SEARCH_C_OUT].x, c[SEARCH_C_OUT].w, sel ? base : state_role(it->state),
	    state_role(it->state), it->state);
	crt_put(y, c[SEARCH_C_CID].x, c[SEARCH_C_CID].w, base, it->cid);
	crt_put(y, c[SEARCH_C_FLOW].x, c[SEARCH_C_FLOW].w, base, it->flow);
	snprintf(buf, sizeof buf, "%lld", it->events);
	crt_put_right(y, c[SEARCH_C_EVENTS].x, c[SEARCH_C_EVENTS].w, base, buf);
	crt_put(y, c[SEARCH_C_KINDS].x, c[SEARCH_C_KINDS].w,
	    it->kinds[0] && !sel ? ROLE_WARN : base, it->kinds[0] ? it->kinds : "-");
	fmt_duration(buf, sizeof buf, it->age);
	crt_put_right(y, c[SEARCH_C_AGE].x, c[SEARCH_C_AGE].w, base, buf);
}

int search_extra_lines(const struct search_list *l) { return l->n ? 2 : 0; }

int search_draw(struct ui *u, const struct search_list *l, int first, int y, int bottom)
{
	const struct ui_viewstate *vs = &u->vs[u->view];
	struct ui_col c[SEARCH_C_N];
	char title[API_ID + 96];
	int i = vs->top > first ? vs->top - first : 0;

	if (l->n == 0 || y + 2 >= bottom)
		return y;
	snprintf(title, sizeof title,
	    "-- Flows matching \"%s\", live and retired, newest first: %d --", u->filter, l->n);
	crt_fill(y, 0, ROLE_NORMAL);
	crt_put(y++, 1, COLS - 1, ROLE_TITLE, title);
	search_columns(c);
	ui_layout(c, SEARCH_C_N, COLS);
	ui_draw_colheader(y++, c, SEARCH_C_N);
	for (; i < l->n && y < bottom; i++, y++)
		search_draw_row(y, l->hits[i].it, c, first + i == vs->sel);
	return y;
}

static int find_in(
    const struct api_flowpage *p, const char *flow, const char *cid, struct api_flowitem *out)
{
	int i;

	for (i = 0; p && i < p->n; i++)
		if (strcmp(p->items[i].flow, flow) == 0 && strcmp(p->items[i].cid, cid) == 0) {
			*out = p->items[i];
			return 0;
		}
	return -1;
}

int search_find_item(
    const struct model *m, int col, const char *flow, const char *cid, struct api_flowitem *out)
{
	int ci;

	for (ci = 0; ci < m->ncols; ci++) {
		const struct model_col *c = &m->cols[ci];
		if (col >= 0 && ci != col)
			continue;
		if (find_in(c->found, flow, cid, out) == 0 ||
		    find_in(c->stalled, flow, cid, out) == 0 ||
		    find_in(c->history, flow, cid, out) == 0)
			return 0;
	}
	return -1;
}
