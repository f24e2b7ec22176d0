/*
 * view_detail: one flow instance. Left, its events as a waterfall scaled to the
 * flow's duration (each bar spans from the previous event to this one; steps still
 * awaited follow, with a hatched bar from when they became expected to their deadline
 * or now); right, the expected graph's steps with their status glyph; below, the raw
 * attributes of the event under the cursor. On narrow screens the steps go below the
 * timeline.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crt.h"
#include "fmt.h"
#include "ui.h"

/* The time span the waterfall covers: opened .. closed (or now while open). */
static void span(const struct api_detail *d, double *t0, double *t1)
{
	int i;

	*t0 = d->t_opened;
	*t1 = !isnan(d->t_closed) ? d->t_closed : ui_wall_now();
	for (i = 0; i < d->nevents; i++) {
		if (isnan(d->events[i].t))
			continue;
		if (isnan(*t0) || d->events[i].t < *t0)
			*t0 = d->events[i].t;
		if (d->events[i].t > *t1)
			*t1 = d->events[i].t;
	}
	if (isnan(*t0))
		*t0 = *t1;
	if (*t1 - *t0 < 0.001)
		*t1 = *t0 + 0.001;
}

/* A bar from a to b (seconds) on a scale of `w` columns over [t0, t1]. */
static void bar(
    char *buf, size_t n, double a, double b, double t0, double t1, int w, const char *fillch)
{
	size_t at = 0, fl = strlen(fillch);
	int x0, x1, i;

	if (isnan(a))
		a = b;
	x0 = (int)((a - t0) / (t1 - t0) * (w - 1));
	x1 = (int)((b - t0) / (t1 - t0) * (w - 1));
	x0 = x0 < 0 ? 0 : x0 > w - 1 ? w - 1 : x0;
	x1 = x1 < x0 ? x0 : x1 > w - 1 ? w - 1 : x1;
	for (i = 0; i < w && at + fl + 1 < n; i++) {
		if (i >= x0 && i <= x1) {
			memcpy(buf + at, fillch, fl);
			at += fl;
		} else {
			buf[at++] = i == 0 || i == w - 1 ? '|' : ' ';
		}
	}
	buf[at] = '\0';
}

static void draw_title(const struct api_detail *d, int y)
{
	char buf[512], dur[24];
	double t0, t1;

	span(d, &t0, &t1);
	fmt_duration(dur, sizeof dur, !isnan(d->duration) ? d->duration : t1 - t0);
	snprintf(buf, sizeof buf, "%s / %s  state %s  %s %s  events %d  opened %s%s", d->flow,
	    d->cid, d->state, isnan(d->t_closed) ? "age" : "duration", dur, d->nevents, d->opened,
	    d->stored     ? "  (retired: from the history store)"
		: d->gone ? "  (retired: its last state seen; the collector keeps no history)"
			  : "");
	crt_put(y, 0, COLS, ROLE_TITLE, buf);
}

/* Events, then the steps still awaited. Returns the next free line. */
static int draw_timeline(struct ui *u, const struct api_detail *d, int y, int x, int w, int bottom)
{
	struct ui_viewstate *vs = &u->vs[VIEW_DETAIL];
	const char *full = crt_utf8() ? "\xE2\x96\x88" : "=",
		   *hatch = crt_utf8() ? "\xE2\x96\x91" : ".";
	int labw = w >= 70 ? 34 : w / 2, barw = w - labw - 9, i, row = y;
	double t0, t1, prev;
	char buf[1024], off[24];

	span(d, &t0, &t1);
	crt_put(row++, x, w, ROLE_HEADER, "   +TIME EVENT (source)");
	vs->page = bottom - row;
	ui_clamp(vs);
	prev = t0;
	for (i = 0; i < d->nevents; i++) {
		const struct api_event *e = &d->events[i];
		int sel = i == vs->sel;
		if (i >= vs->top && row < bottom) {
			enum crt_role base = sel ? ROLE_SELECTED : ROLE_NORMAL;
			fmt_duration(off, sizeof off, isnan(e->t) ? NAN : e->t - t0);
			crt_fill(row, x, base);
			crt_put_right(row, x, 8, base, off);
			snprintf(buf, sizeof buf, "%s %s (%s)", crt_glyph(ROLE_HAPPENED), e->type,
			    e->source);
			crt_put(row, x + 9, labw, sel ? base : ROLE_HAPPENED, buf);
			if (barw > 4) {
				bar(buf, sizeof buf, prev, isnan(e->t) ? prev : e->t, t0, t1, barw,
				    full);
				crt_put(row, x + 9 + labw, barw, sel ? base : ROLE_BAR, buf);
			}
			row++;
		}
		if (!isnan(e->t))
			prev = e->t;
	}
	for (i = 0; i < d->nsteps && row < bottom; i++) {
		const struct api_step *s = &d->steps[i];
		enum crt_role r = crt_status_role(s->status);
		if (r != ROLE_STALLED && r != ROLE_PENDING && r != ROLE_MISSING)
			continue;
		snprintf(buf, sizeof buf, "%s %s %s", crt_glyph(r), s->name, s->status);
		crt_put(row, x, 8, ROLE_DIM, "");
		crt_put(row, x + 9, labw, r, buf);
		if (barw > 4) {
			/* pending: until its deadline; stalled or missing: still waiting now */
			double end = r != ROLE_PENDING || isnan(s->deadline) || s->deadline > t1
			    ? t1
			    : s->deadline;
			bar(buf, sizeof buf, s->expected_at, end, t0, t1, barw, hatch);
			crt_put(row, x + 9 + labw, barw, r, buf);
		}
		row++;
	}
	return row;
}

static void draw_steps(const struct api_detail *d, int y, int x, int w, int bottom)
{
	char buf[256], od[24];
	int i;

	crt_put(y++, x, w, ROLE_HEADER, " EXPECTED GRAPH");
	for (i = 0; i < d->nsteps && y < bottom; i++, y++) {
		const struct api_step *s = &d->steps[i];
		enum crt_role r = crt_status_role(s->status);
		if (!isnan(s->overdue)) {
			fmt_duration(od, sizeof od, s->overdue);
			snprintf(buf, sizeof buf, "%s %-8s overdue %s", s->name, s->status, od);
		} else if (s->count > 1) {
			snprintf(buf, sizeof buf, "%s %-8s x%lld", s->name, s->status, s->count);
		} else {
			snprintf(buf, sizeof buf, "%s %s", s->name, s->status);
		}
		crt_put_glyph(y, x, w, r, buf);
		/* who owes an awaited step, on a line of its own (names are long) */
		if (s->owner[0] && (r == ROLE_STALLED || r == ROLE_PENDING || r == ROLE_MISSING) &&
		    y + 1 < bottom) {
			snprintf(buf, sizeof buf, "    owed by %s", s->owner);
			crt_put(++y, x, w, ROLE_DIM, buf);
		}
	}
	for (i = 0; i < d->nanomalies && y < bottom; i++, y++) {
		const char *at =
		    strchr(d->anomalies[i].at, 'T'); /* the time of day is enough here */
		snprintf(buf, sizeof buf, "%s %s at %s", d->anomalies[i].kind, d->anomalies[i].step,
		    at ? at + 1 : d->anomalies[i].at);
		crt_put_glyph(y, x, w, ROLE_WARN, buf);
	}
}

static void draw_attrs(const struct api_event *e, int y, int bottom)
{
	char buf[512];
	int i;

	snprintf(buf, sizeof buf, " EVENT %s  %s  from %s  at %s  %s[%lld]@%lld", e->id, e->type,
	    e->source, e->time, e->topic[0] ? e->topic : "-", e->partition, e->offset);
	crt_put(y++, 0, COLS, ROLE_HEADER, buf);
	if (e->nattrs == 0 && y < bottom)
		crt_put(y++, 2, COLS - 2, ROLE_DIM, "(no attributes)");
	for (i = 0; i < e->nattrs && y < bottom; i++, y++) {
		snprintf(buf, sizeof buf, "%s = %s", e->attrs[i].key, e->attrs[i].val);
		crt_put(y, 2, COLS - 2, ROLE_NORMAL, buf);
	}
}

static const struct api_detail *find(struct ui *u, const char **why)
{
	struct model *m = u->model;
	int i;

	*why = "";
	for (i = 0; i < m->ncols; i++) {
		if (u->target.col >= 0 && i != u->target.col)
			continue;
		if (m->cols[i].detail)
			return m->cols[i].detail;
		if (m->cols[i].detail_err[0])
			*why = m->cols[i].detail_err;
	}
	return NULL;
}

/* No timeline (yet). A flow the list showed and the collector no longer has (it
 * retired, and the history store has not written it or there is none) is shown as
 * the list last showed it, never as "no such flow"; the model keeps asking, so the
 * stored timeline replaces it once written. */
static void draw_absent(struct ui *u, const char *why, int top, int bottom)
{
	const struct api_flowitem *s = &u->seen;
	char buf[400], a[24], o[24];
	int y = top;

	if (!strstr(why, "HTTP 404") || !u->has_seen) {
		snprintf(buf, sizeof buf, "%s / %s: %s", u->target.flow,
		    u->target.cid[0] ? u->target.cid : "(oldest open, else newest closed)",
		    why[0] ? why : "loading...");
		crt_put(top, 0, COLS, why[0] ? ROLE_WARN : ROLE_DIM, buf);
		return;
	}
	snprintf(buf, sizeof buf,
	    "%s / %s  (retired: its last state in the list; asking again, the history store "
	    "may not have written it yet, or the collector keeps none: set history.dir)",
	    s->flow, s->cid);
	crt_put(y++, 0, COLS, ROLE_TITLE, buf);
	fmt_duration(a, sizeof a, s->age);
	fmt_duration(o, sizeof o, s->overdue);
	if (y < bottom) {
		snprintf(buf, sizeof buf, "  state %s  age %s  overdue %s  events %s",
		    s->state[0] ? s->state : "-", a, o, s->events >= 0 ? "" : "-");
		if (s->events >= 0)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%lld", s->events);
		crt_put(y++, 0, COLS, ROLE_NORMAL, buf);
	}
	if (y < bottom) {
		snprintf(buf, sizeof buf, "  awaiting %s  last step %s  from %s  anomalies %s",
		    s->awaiting[0] ? s->awaiting : "-", s->last_step[0] ? s->last_step : "-",
		    s->last_source[0] ? s->last_source : "-", s->kinds[0] ? s->kinds : "-");
		crt_put(y++, 0, COLS, ROLE_NORMAL, buf);
	}
}

static void draw(struct ui *u, int top, int bottom)
{
	const char *why;
	const struct api_detail *d = find(u, &why);
	int i, attrh, split, mid;

	if (!d) {
		draw_absent(u, why, top, bottom);
		return;
	}
	for (i = 0; i < d->nevents; i++)
		ui_add_row(u, d->flow, d->cid, NULL, NULL, u->target.col);
	draw_title(d, top++);
	attrh = bottom - top > 24 ? 8 : 3;
	if (d->nevents == 0)
		attrh = 0;
	split = COLS >= 100;
	if (split) {
		int lw = COLS * 62 / 100;
		draw_timeline(u, d, top, 0, lw, bottom - attrh);
		draw_steps(d, top, lw + 1, COLS - lw - 1, bottom - attrh);
	} else {
		mid = top + (bottom - attrh - top) / 2;
		if (d->nsteps + 1 < bottom - attrh - mid)
			mid = bottom - attrh - d->nsteps - 1;
		if (mid < top + 3)
			mid = top + 3;
		draw_timeline(u, d, top, 0, COLS, mid);
		draw_steps(d, mid, 0, COLS, bottom - attrh);
	}
	if (attrh && u->vs[VIEW_DETAIL].sel < d->nevents)
		draw_attrs(&d->events[u->vs[VIEW_DETAIL].sel], bottom - attrh, bottom);
}

const struct ui_viewdef view_detail = { "Detail", NULL, 0, draw };
