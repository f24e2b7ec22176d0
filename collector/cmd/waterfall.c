/*
 * waterfall: a timeline document as rows of text. See waterfall.h.
 *
 * The document is parsed with yajl's tree (one flow: at most 256 stored events, so
 * the tree is small). Rows are built first (events in arrival order, each verdict
 * inserted before the first event later than it), then the column widths are the
 * widest cell, so a flow's rows line up whatever its names.
 */
#include "cmd/waterfall.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/timefmt.h"

struct wrow {
	int64_t t;        /* event or verdict time, TIMEFMT_NONE when absent */
	const char *what; /* event type, or the verdict's "kind step" */
	char label[160];
	char where[160]; /* topic/partition@offset; "" for a verdict */
	const char *source;
	int verdict;
};

static yajl_val get(yajl_val o, const char *key, yajl_type t)
{
	const char *path[] = { key, NULL };
	return yajl_tree_get(o, path, t);
}

static const char *str(yajl_val o, const char *key)
{
	yajl_val v = get(o, key, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static int64_t when(yajl_val o, const char *key)
{
	const char *s = str(o, key);
	int64_t ns;
	if (!s || timefmt_parse_rfc3339(s, strlen(s), &ns) != TIMEFMT_OK)
		return TIMEFMT_NONE;
	return ns;
}

static long long num(yajl_val o, const char *key, long long dflt)
{
	yajl_val v = get(o, key, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : dflt;
}

static void event_row(struct wrow *r, yajl_val e)
{
	const char *topic = str(e, "topic");
	long long part = num(e, "partition", -1), off = num(e, "offset", -1);
	char p[24] = "-", o[24] = "-";

	memset(r, 0, sizeof *r);
	r->t = when(e, "time");
	snprintf(r->label, sizeof r->label, "%s", str(e, "type") ? str(e, "type") : "?");
	r->source = str(e, "source") ? str(e, "source") : "-";
	if (part >= 0)
		snprintf(p, sizeof p, "%lld", part);
	if (off >= 0)
		snprintf(o, sizeof o, "%lld", off);
	snprintf(r->where, sizeof r->where, "%s/%s@%s", topic ? topic : "-", p, o);
}

static void verdict_row(struct wrow *r, yajl_val a)
{
	const char *step = str(a, "step");

	memset(r, 0, sizeof *r);
	r->t = when(a, "at");
	snprintf(r->label, sizeof r->label, "! %s%s%s", str(a, "kind") ? str(a, "kind") : "?",
	    step ? " " : "", step ? step : "");
	r->source = "";
	r->verdict = 1;
}

/* Events in arrival order; each verdict goes before the first event later than it. */
static struct wrow *build_rows(yajl_val evs, yajl_val ans, size_t *n)
{
	size_t ne = evs ? YAJL_GET_ARRAY(evs)->len : 0, na = ans ? YAJL_GET_ARRAY(ans)->len : 0;
	struct wrow *rows = calloc(ne + na + 1, sizeof *rows);
	size_t i, k, at;

	if (!rows)
		return NULL;
	for (i = 0; i < ne; i++)
		event_row(&rows[i], YAJL_GET_ARRAY(evs)->values[i]);
	*n = ne;
	for (k = 0; k < na; k++) {
		struct wrow v;
		verdict_row(&v, YAJL_GET_ARRAY(ans)->values[k]);
		for (at = 0; at < *n; at++)
			if (!rows[at].verdict && v.t != TIMEFMT_NONE &&
			    rows[at].t != TIMEFMT_NONE && rows[at].t > v.t)
				break;
		memmove(&rows[at + 1], &rows[at], (*n - at) * sizeof rows[0]);
		rows[at] = v;
		(*n)++;
	}
	return rows;
}

/* The awaited steps (pending, stalled, missing) with who owes each. */
static void awaited(yajl_val steps, char *buf, size_t len)
{
	size_t i, at = 0, n = steps ? YAJL_GET_ARRAY(steps)->len : 0;

	buf[0] = '\0';
	for (i = 0; i < n && at + 1 < len; i++) {
		yajl_val s = YAJL_GET_ARRAY(steps)->values[i];
		const char *st = str(s, "status"), *owner = str(s, "owner");
		yajl_val learned = get(s, "owner_learned", yajl_t_true);
		int w;
		if (!st ||
		    (strcmp(st, "pending") && strcmp(st, "stalled") && strcmp(st, "missing")))
			continue;
		w = snprintf(buf + at, len - at, "%s%s %s (owner %s%s)", at ? ", " : "",
		    str(s, "name") ? str(s, "name") : "?", st, learned && owner ? "~" : "",
		    owner ? owner : "unknown");
		if (w < 0)
			break;
		at += (size_t)w < len - at ? (size_t)w : len - at - 1;
	}
	if (!at)
		snprintf(buf, len, "nothing");
}

static void kinds(yajl_val ans, char *buf, size_t len)
{
	size_t i, at = 0, n = ans ? YAJL_GET_ARRAY(ans)->len : 0;

	buf[0] = '\0';
	for (i = 0; i < n && at + 1 < len; i++) {
		const char *k = str(YAJL_GET_ARRAY(ans)->values[i], "kind");
		int w = snprintf(buf + at, len - at, "%s%s", at ? "," : "", k ? k : "?");
		if (w < 0)
			break;
		at += (size_t)w < len - at ? (size_t)w : len - at - 1;
	}
	if (!at)
		snprintf(buf, len, "none");
}

static size_t count(yajl_val a) { return a ? YAJL_GET_ARRAY(a)->len : 0; }

static void header(FILE *out, yajl_val d, yajl_val ans, int64_t t0, int64_t t1)
{
	char dur[24], span[24], ks[256], aw[512], open[TIMEFMT_RFC3339_MAX] = "-";
	yajl_val ds = get(d, "duration_seconds", yajl_t_number);
	const char *outcome = str(d, "outcome") ? str(d, "outcome") : str(d, "state");
	size_t stored = count(get(d, "events", yajl_t_array));

	timefmt_duration_short(ds ? YAJL_GET_DOUBLE(ds) : NAN, dur, sizeof dur);
	timefmt_duration_short((double)(t1 - t0) / 1e9, span, sizeof span);
	kinds(ans, ks, sizeof ks);
	awaited(get(d, "steps", yajl_t_array), aw, sizeof aw);
	timefmt_format_rfc3339(t0, open, sizeof open);
	fprintf(out, "%s %s  outcome %s  duration %s  anomalies %s\n", str(d, "flow"),
	    str(d, "correlation_id"), outcome ? outcome : "?", dur, ks);
	fprintf(out, "  awaiting %s\n", aw);
	/* events_total counts every event applied; the store keeps at most 256 */
	fprintf(out, "  from %s, bars scaled to %s; events %lld, %zu stored\n", open, span,
	    num(d, "events_total", (long long)stored), stored);
}

/* The column of time t on a bar of w columns over [t0, t1]. */
static int col(int64_t t, int64_t t0, int64_t t1, int w)
{
	double f = (double)(t - t0) / (double)(t1 - t0);
	int c = (int)(f * (w - 1) + 0.5);
	return c < 0 ? 0 : c > w - 1 ? w - 1 : c;
}

static void row_out(FILE *out, const struct wrow *r, int64_t prev, int64_t t0, int64_t t1, int w,
    int labw, int srcw)
{
	char off[24], bar[WATERFALL_BAR_MAX + 1];
	int a, b, i;

	timefmt_duration_short(
	    r->t == TIMEFMT_NONE ? NAN : (double)(r->t - t0) / 1e9, off, sizeof off);
	memset(bar, ' ', (size_t)w);
	bar[w] = '\0';
	if (r->t != TIMEFMT_NONE) {
		b = col(r->t, t0, t1, w);
		a = r->verdict || prev == TIMEFMT_NONE ? b : col(prev, t0, t1, w);
		/* an event older than the one before it (it arrived out of order): a `<`
		 * at its own time, not a bar running backwards */
		if (!r->verdict && prev != TIMEFMT_NONE && r->t < prev)
			bar[b] = '<';
		for (i = a; i <= b; i++)
			bar[i] = r->verdict ? '!' : '=';
	}
	if (r->verdict) /* no source, no place: nothing after the label */
		fprintf(out, "  %8s |%s| %s\n", off[0] == '-' ? "?" : off, bar, r->label);
	else
		fprintf(out, "  %8s |%s| %-*s %-*s %s\n", off[0] == '-' ? "?" : off, bar, labw,
		    r->label, srcw, r->source, r->where);
}

/* The span the bars cover: the flow's open (else its first event) to its close, or
 * to the last event or verdict when later or when it never closed. */
static void span(yajl_val d, const struct wrow *rows, size_t n, int64_t *t0, int64_t *t1)
{
	size_t i;

	*t0 = when(d, "opened");
	*t1 = when(d, "closed");
	for (i = 0; i < n; i++) {
		if (rows[i].t == TIMEFMT_NONE)
			continue;
		if (*t0 == TIMEFMT_NONE || rows[i].t < *t0)
			*t0 = rows[i].t;
		if (*t1 == TIMEFMT_NONE || rows[i].t > *t1)
			*t1 = rows[i].t;
	}
	if (*t0 == TIMEFMT_NONE)
		*t0 = *t1 = 0;
	if (*t1 - *t0 < 1000000) /* 1 ms: a flow of one instant still draws */
		*t1 = *t0 + 1000000;
}

int waterfall_write(FILE *out, const char *doc, size_t len, int barw, char *err, size_t errlen)
{
	char perr[256], *text = malloc(len + 1);
	yajl_val d = NULL, ans;
	struct wrow *rows = NULL;
	size_t n = 0, i;
	int64_t t0, t1, prev = TIMEFMT_NONE;
	int labw = 5, srcw = 6, rc = -1;

	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(text, doc, len);
	text[len] = '\0';
	barw = barw < WATERFALL_BAR_MIN ? WATERFALL_BAR_MIN
	    : barw > WATERFALL_BAR_MAX  ? WATERFALL_BAR_MAX
					: barw;
	if (!(d = yajl_tree_parse(text, perr, sizeof perr)) || !YAJL_IS_OBJECT(d) ||
	    !str(d, "flow") || !str(d, "correlation_id")) {
		snprintf(err, errlen, "not a timeline document: %s",
		    d ? "no flow or correlation_id" : perr);
		goto out;
	}
	ans = get(d, "anomalies", yajl_t_array);
	if (!(rows = build_rows(get(d, "events", yajl_t_array), ans, &n))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	span(d, rows, n, &t0, &t1);
	for (i = 0; i < n; i++) { /* verdict labels run to the end of their line */
		int lw = rows[i].verdict ? 0 : (int)strlen(rows[i].label);
		int sw = (int)strlen(rows[i].source);
		labw = lw > labw ? lw : labw;
		srcw = sw > srcw ? sw : srcw;
	}
	header(out, d, ans, t0, t1);
	fprintf(out, "  %8s |%-*s| %-*s %-*s %s\n", "+TIME", barw, "", labw, "EVENT", srcw,
	    "SOURCE", "TOPIC/PARTITION@OFFSET");
	for (i = 0; i < n; i++) {
		row_out(out, &rows[i], prev, t0, t1, barw, labw, srcw);
		if (!rows[i].verdict && rows[i].t != TIMEFMT_NONE)
			prev = rows[i].t;
	}
	rc = 0;
out:
	free(rows);
	yajl_tree_free(d);
	free(text);
	return rc;
}
