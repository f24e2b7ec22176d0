/*
 * api: parses the collector's JSON answers with jansson. See api.h for the contract.
 *
 * Field access goes through three helpers (str, num, cnt) that record the first
 * type error with the field's name into the parse context; a parser checks the
 * context once at the end, so one wrong field anywhere turns the whole answer into
 * an error message instead of half-filled state.
 */
#include "api.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

struct pctx {
	char *err;
	size_t errlen;
	int bad;
};

static void bad_field(struct pctx *c, const char *what, const char *key)
{
	if (c->bad++)
		return;
	snprintf(c->err, c->errlen, "bad answer: %s \"%s\"", what, key);
}

static void str(struct pctx *c, json_t *o, const char *key, char *dst, size_t n)
{
	json_t *v = json_object_get(o, key);

	dst[0] = '\0';
	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		bad_field(c, "expected a string at", key);
		return;
	}
	snprintf(dst, n, "%s", json_string_value(v));
}

static double num(struct pctx *c, json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return dflt;
	if (!json_is_number(v)) {
		bad_field(c, "expected a number at", key);
		return dflt;
	}
	return json_number_value(v);
}

static long long cnt(struct pctx *c, json_t *o, const char *key)
{
	return (long long)num(c, o, key, 0);
}

static double when(struct pctx *c, json_t *o, const char *key)
{
	char buf[48];
	double t;

	str(c, o, key, buf, sizeof buf);
	return buf[0] && fmt_parse_time(buf, &t) == 0 ? t : NAN;
}

/* Parses the body; the root must be an object. */
static json_t *load(const char *body, size_t len, struct pctx *c)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);

	if (!root) {
		snprintf(c->err, c->errlen, "bad answer: not JSON (line %d: %s)", je.line, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(c->err, c->errlen, "bad answer: not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The array at key: NULL (and an error) when present but not an array. */
static json_t *arr(struct pctx *c, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		bad_field(c, "expected an array at", key);
		return NULL;
	}
	return v;
}

static void parse_flowsum(struct pctx *c, json_t *o, struct api_flowsum *f)
{
	json_t *closed = json_object_get(o, "closed_total");
	json_t *an = json_object_get(o, "anomalies_total");
	json_t *dur = json_object_get(o, "duration_seconds");
	const char *k;
	json_t *v;

	str(c, o, "name", f->name, sizeof f->name);
	f->in_flight = cnt(c, o, "in_flight");
	f->started_total = cnt(c, o, "started_total");
	f->started_ps = num(c, o, "started_per_second", 0);
	f->completed_ps = num(c, o, "completed_per_second", 0);
	f->stalled_now = cnt(c, o, "stalled_now");
	f->oldest_stall = num(c, o, "oldest_stall_seconds", NAN);
	f->closed_total = 0;
	if (json_is_object(closed))
		json_object_foreach(closed, k, v) f->closed_total +=
		    (long long)json_number_value(v);
	f->nanomalies = 0;
	if (json_is_object(an)) {
		json_object_foreach(an, k, v)
		{
			if (f->nanomalies == API_MAX_KINDS)
				break;
			snprintf(
			    f->anomalies[f->nanomalies].kind, sizeof f->anomalies[0].kind, "%s", k);
			f->anomalies[f->nanomalies++].n = (long long)json_number_value(v);
		}
	}
	f->p50 = f->p95 = f->p99 = NAN;
	if (json_is_object(dur)) {
		f->p50 = num(c, dur, "p50", NAN);
		f->p95 = num(c, dur, "p95", NAN);
		f->p99 = num(c, dur, "p99", NAN);
	}
}

struct api_summary *api_parse_summary(const char *body, size_t len, char *err, size_t errlen)
{
	struct pctx c = { err, errlen, 0 };
	struct api_summary *s = NULL;
	json_t *root = load(body, len, &c), *col, *flows, *v;
	size_t i;

	if (!root)
		return NULL;
	col = json_object_get(root, "collector");
	if (!json_is_object(col)) {
		snprintf(err, errlen, "bad answer: summary without \"collector\"");
		goto out;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	str(&c, col, "version", s->version, sizeof s->version);
	str(&c, col, "instance", s->instance, sizeof s->instance);
	s->uptime = num(&c, col, "uptime_seconds", NAN);
	s->ready = json_is_true(json_object_get(col, "ready"));
	s->events_total = cnt(&c, col, "events_total");
	s->events_ps = num(&c, col, "events_per_second", 0);
	s->rejected_total = cnt(&c, col, "rejected_total");
	s->unmatched_total = cnt(&c, col, "unmatched_total");
	s->consumer_lag = (long long)num(&c, col, "consumer_lag", -1);
	s->memory_bytes = cnt(&c, col, "memory_bytes");
	flows = arr(&c, root, "flows");
	json_array_foreach(flows, i, v)
	{
		if (s->nflows == API_MAX_FLOWS) {
			s->truncated = 1;
			break;
		}
		if (json_is_object(v))
			parse_flowsum(&c, v, &s->flows[s->nflows++]);
	}
	s->total_flows = (long long)num(&c, root, "total", s->nflows);
	if (s->total_flows > s->nflows)
		s->truncated = 1;
	if (c.bad) {
		free(s);
		s = NULL;
	}
out:
	json_decref(root);
	return s;
}

/* Joins the strings of an array with ',' into dst. */
static void join(json_t *a, char *dst, size_t n)
{
	size_t i, at = 0;
	json_t *v;

	dst[0] = '\0';
	json_array_foreach(a, i, v)
	{
		int w;
		if (!json_is_string(v))
			continue;
		w = snprintf(dst + at, n - at, "%s%s", at ? "," : "", json_string_value(v));
		if (w < 0 || (size_t)w >= n - at)
			break;
		at += (size_t)w;
	}
}

/* "owner" and "owner_learned" into "NAME", "~NAME" (learned) or "". */
static void owner(struct pctx *c, json_t *o, char *dst, size_t n)
{
	json_t *l = json_object_get(o, "owner_learned");
	int learned = json_is_true(l);

	if (n < 2)
		return;
	dst[0] = '~';
	str(c, o, "owner", dst + learned, n - (size_t)learned);
	if (learned && dst[1] == '\0')
		dst[0] = '\0';
}

static void parse_flowitem(struct pctx *c, json_t *o, struct api_flowitem *it)
{
	json_t *st = arr(c, o, "stalled"), *v;
	size_t i;

	str(c, o, "flow", it->flow, sizeof it->flow);
	str(c, o, "correlation_id", it->cid, sizeof it->cid);
	str(c, o, "state", it->state, sizeof it->state);
	str(c, o, "last_source", it->last_source, sizeof it->last_source);
	str(c, o, "last_step", it->last_step, sizeof it->last_step);
	it->age = num(c, o, "age_seconds", NAN);
	it->events = cnt(c, o, "events");
	join(arr(c, o, "awaiting"), it->awaiting, sizeof it->awaiting);
	join(arr(c, o, "anomalies"), it->kinds, sizeof it->kinds);
	it->overdue = NAN;
	it->nstalled = 0;
	json_array_foreach(st, i, v)
	{
		double od = num(c, v, "overdue_seconds", NAN);
		if (it->nstalled < API_MAX_STALLED) {
			struct api_stalledstep *ss = &it->stalled[it->nstalled++];
			str(c, v, "step", ss->step, sizeof ss->step);
			owner(c, v, ss->owner, sizeof ss->owner);
			ss->overdue = od;
		}
		if (!isnan(od) && (isnan(it->overdue) || od > it->overdue)) {
			it->overdue = od;
			str(c, v, "step", it->awaiting, sizeof it->awaiting);
		}
	}
}

/* The "items" array of a page: at most API_MAX_ITEMS objects of `size` bytes, each
 * filled by `parse`. 0, or -1 with err set (out of memory, or a bad field). */
static int parse_items(struct pctx *c, json_t *root, size_t size,
    void (*parse)(struct pctx *, json_t *, void *), void **items, int *n, int *truncated)
{
	json_t *arrv = arr(c, root, "items"), *v;
	size_t i, len = arrv ? json_array_size(arrv) : 0;
	char *buf = calloc(len ? (len < API_MAX_ITEMS ? len : API_MAX_ITEMS) : 1, size);

	*items = buf;
	*n = 0;
	if (!buf) {
		snprintf(c->err, c->errlen, "out of memory");
		return -1;
	}
	json_array_foreach(arrv, i, v)
	{
		if (*n == API_MAX_ITEMS) {
			*truncated = 1;
			break;
		}
		if (json_is_object(v))
			parse(c, v, buf + (size_t)(*n)++ * size);
	}
	return c->bad ? -1 : 0;
}

static void parse_flowitem_v(struct pctx *c, json_t *o, void *item) { parse_flowitem(c, o, item); }

struct api_flowpage *api_parse_flows(const char *body, size_t len, char *err, size_t errlen)
{
	struct pctx c = { err, errlen, 0 };
	json_t *root = load(body, len, &c);
	struct api_flowpage *p = root ? calloc(1, sizeof *p) : NULL;
	void *items = NULL;

	if (root && !p)
		snprintf(err, errlen, "out of memory");
	if (p) {
		p->total = cnt(&c, root, "total");
		int rc = parse_items(
		    &c, root, sizeof *p->items, parse_flowitem_v, &items, &p->n, &p->truncated);
		p->items = items;
		if (rc < 0) {
			api_free_flows(p);
			p = NULL;
		}
	}
	json_decref(root);
	return p;
}

static void parse_anomaly(struct pctx *c, json_t *o, struct api_anomaly *a)
{
	str(c, o, "flow", a->flow, sizeof a->flow);
	str(c, o, "correlation_id", a->cid, sizeof a->cid);
	str(c, o, "kind", a->kind, sizeof a->kind);
	str(c, o, "step", a->step, sizeof a->step);
	str(c, o, "at", a->at, sizeof a->at);
	str(c, o, "source", a->source, sizeof a->source);
	owner(c, o, a->owner, sizeof a->owner);
	/* no declared step (an undeclared event type): the event's type names it */
	if (!a->step[0]) {
		str(c, o, "type", a->step, sizeof a->step);
		a->undeclared = a->step[0] != '\0';
	}
}

static void parse_anomaly_v(struct pctx *c, json_t *o, void *item) { parse_anomaly(c, o, item); }

struct api_anomalies *api_parse_anomalies(const char *body, size_t len, char *err, size_t errlen)
{
	struct pctx c = { err, errlen, 0 };
	json_t *root = load(body, len, &c);
	struct api_anomalies *a = root ? calloc(1, sizeof *a) : NULL;
	void *items = NULL;

	if (root && !a)
		snprintf(err, errlen, "out of memory");
	if (a) {
		int rc = parse_items(
		    &c, root, sizeof *a->items, parse_anomaly_v, &items, &a->n, &a->truncated);
		a->items = items;
		if (rc < 0) {
			api_free_anomalies(a);
			a = NULL;
		}
	}
	json_decref(root);
	return a;
}

static void parse_event(struct pctx *c, json_t *o, struct api_event *e)
{
	json_t *attrs = json_object_get(o, "attributes"), *v;
	const char *k;

	str(c, o, "event_id", e->id, sizeof e->id);
	str(c, o, "type", e->type, sizeof e->type);
	str(c, o, "source", e->source, sizeof e->source);
	str(c, o, "time", e->time, sizeof e->time);
	str(c, o, "topic", e->topic, sizeof e->topic);
	e->t = when(c, o, "time");
	e->partition = (long long)num(c, o, "partition", -1);
	e->offset = (long long)num(c, o, "offset", -1);
	e->nattrs = 0;
	if (!json_is_object(attrs))
		return;
	json_object_foreach(attrs, k, v)
	{
		struct api_attr *a;
		if (e->nattrs == API_MAX_ATTRS)
			break;
		a = &e->attrs[e->nattrs++];
		snprintf(a->key, sizeof a->key, "%s", k);
		if (json_is_string(v)) {
			snprintf(a->val, sizeof a->val, "%s", json_string_value(v));
		} else {
			char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			snprintf(a->val, sizeof a->val, "%s", t ? t : "?");
			free(t);
		}
	}
}

static void parse_step(struct pctx *c, json_t *o, struct api_step *s)
{
	str(c, o, "name", s->name, sizeof s->name);
	str(c, o, "status", s->status, sizeof s->status);
	s->happened_at = when(c, o, "happened_at");
	s->expected_at = when(c, o, "expected_at");
	s->deadline = when(c, o, "deadline");
	s->overdue = num(c, o, "overdue_seconds", NAN);
	s->count = cnt(c, o, "count");
	owner(c, o, s->owner, sizeof s->owner);
}

static void parse_detail_lists(struct pctx *c, json_t *root, struct api_detail *d, size_t evmax)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr(c, root, "events"), i, v)
	{
		if ((size_t)d->nevents == evmax) {
			d->truncated = 1;
			break;
		}
		if (json_is_object(v))
			parse_event(c, v, &d->events[d->nevents++]);
	}
	json_array_foreach(arr(c, root, "steps"), i, v)
	{
		if (d->nsteps == API_MAX_STEPS)
			break;
		if (json_is_object(v))
			parse_step(c, v, &d->steps[d->nsteps++]);
	}
	json_array_foreach(arr(c, root, "anomalies"), i, v)
	{
		if (d->nanomalies == 32)
			break;
		if (json_is_object(v))
			parse_anomaly(c, v, &d->anomalies[d->nanomalies++]);
	}
}

struct api_detail *api_parse_detail(const char *body, size_t len, char *err, size_t errlen)
{
	struct pctx c = { err, errlen, 0 };
	struct api_detail *d = NULL;
	json_t *root = load(body, len, &c), *evs;
	size_t n;

	if (!root)
		return NULL;
	evs = json_object_get(root, "events");
	n = json_is_array(evs) ? json_array_size(evs) : 0;
	n = n > API_MAX_EVENTS ? API_MAX_EVENTS : n;
	d = calloc(1, sizeof *d);
	if (!d || !(d->events = calloc(n ? n : 1, sizeof *d->events))) {
		snprintf(err, errlen, "out of memory");
		api_free_detail(d);
		d = NULL;
		goto out;
	}
	str(&c, root, "flow", d->flow, sizeof d->flow);
	str(&c, root, "correlation_id", d->cid, sizeof d->cid);
	str(&c, root, "state", d->state, sizeof d->state);
	str(&c, root, "outcome", d->outcome, sizeof d->outcome);
	str(&c, root, "opened", d->opened, sizeof d->opened);
	str(&c, root, "closed", d->closed, sizeof d->closed);
	d->t_opened = when(&c, root, "opened");
	d->t_closed = when(&c, root, "closed");
	d->duration = num(&c, root, "duration_seconds", NAN);
	d->stored = json_is_true(json_object_get(root, "stored"));
	parse_detail_lists(&c, root, d, n);
	if (c.bad) {
		api_free_detail(d);
		d = NULL;
	}
out:
	json_decref(root);
	return d;
}

static void parse_graph(struct pctx *c, json_t *o, struct api_graph *g)
{
	json_t *v;
	size_t i;

	str(c, o, "name", g->name, sizeof g->name);
	g->deadline = num(c, o, "deadline_seconds", NAN);
	json_array_foreach(arr(c, o, "steps"), i, v)
	{
		struct api_gstep *s;
		if (g->nsteps == API_MAX_STEPS || !json_is_object(v))
			break;
		s = &g->steps[g->nsteps++];
		str(c, v, "name", s->name, sizeof s->name);
		str(c, v, "end", s->end, sizeof s->end);
		s->start = json_is_true(json_object_get(v, "start"));
		s->optional = json_is_true(json_object_get(v, "optional"));
		s->awaiting_now = cnt(c, v, "awaiting_now");
		s->stalled_now = cnt(c, v, "stalled_now");
		s->within = num(c, v, "within_seconds", NAN);
	}
	json_array_foreach(arr(c, o, "edges"), i, v)
	{
		struct api_edge *e;
		if (g->nedges == API_MAX_EDGES || !json_is_object(v))
			break;
		e = &g->edges[g->nedges++];
		str(c, v, "from", e->from, sizeof e->from);
		str(c, v, "to", e->to, sizeof e->to);
		e->count = cnt(c, v, "count");
		e->stuck = cnt(c, v, "stuck");
		e->p50 = num(c, v, "p50_seconds", NAN);
		e->p95 = num(c, v, "p95_seconds", NAN);
		e->p99 = num(c, v, "p99_seconds", NAN);
	}
}

struct api_graphs *api_parse_graphs(const char *body, size_t len, char *err, size_t errlen)
{
	struct pctx c = { err, errlen, 0 };
	struct api_graphs *g = NULL;
	json_t *root = load(body, len, &c), *flows, *v;
	size_t i, n;

	if (!root)
		return NULL;
	flows = arr(&c, root, "flows");
	n = flows ? json_array_size(flows) : 0;
	n = n > API_MAX_FLOWS ? API_MAX_FLOWS : n;
	g = calloc(1, sizeof *g);
	if (!g || !(g->flows = calloc(n ? n : 1, sizeof *g->flows))) {
		snprintf(err, errlen, "out of memory");
		api_free_graphs(g);
		g = NULL;
		goto out;
	}
	json_array_foreach(flows, i, v)
	{
		if ((size_t)g->n == n) {
			g->truncated = 1;
			break;
		}
		if (json_is_object(v))
			parse_graph(&c, v, &g->flows[g->n++]);
	}
	if (c.bad) {
		api_free_graphs(g);
		g = NULL;
	}
out:
	json_decref(root);
	return g;
}

void api_error_text(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *e = root ? json_object_get(root, "error") : NULL;

	snprintf(out, outlen, "%s", json_is_string(e) ? json_string_value(e) : "");
	json_decref(root);
}

void api_free_summary(struct api_summary *s) { free(s); }

void api_free_flows(struct api_flowpage *p)
{
	if (p)
		free(p->items);
	free(p);
}

void api_free_anomalies(struct api_anomalies *a)
{
	if (a)
		free(a->items);
	free(a);
}

void api_free_detail(struct api_detail *d)
{
	if (d)
		free(d->events);
	free(d);
}

void api_free_graphs(struct api_graphs *g)
{
	if (g)
		free(g->flows);
	free(g);
}
