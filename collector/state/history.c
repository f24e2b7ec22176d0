/*
 * history: see history.h; the schema is docs/history.md (HISTORY_SCHEMA in
 * history_write.c, which holds the writer thread; this file is the engine-thread half,
 * the queue and the lifecycle).
 *
 * An item is one allocation: the header, the instance's step views, its events, then
 * the strings they point to (attributes already as a JSON object). The engine thread
 * builds it in `scratch` and copies it out once, so the per-retire cost is the copy
 * plus one malloc; everything SQL (rendering steps, statements, commits) happens on
 * the writer thread. The queue is a ring of item pointers under one mutex, held for
 * a pointer store only.
 *
 * Invariants: items are written in queue order, so a flow's anomalies (decided before
 * it retired) are rows before the flow row and get linked to it by one UPDATE;
 * `done` counts items finished (written or dropped) and never passes `enq`.
 */
#include "state/history_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- engine thread: building items ------------------------------------------ */

static uint32_t put_str(struct history *h, const char *s)
{
	uint32_t off = (uint32_t)h->scratch.len;
	jbuf_put(&h->scratch, s ? s : "", s ? strlen(s) + 1 : 1); /* overflow: make_item drops */
	return off;
}

/* The attributes as one JSON object, cut at max_attr_bytes (whole pairs only; a cut
 * adds "choreoscope.truncated": the number of pairs left out). */
static uint32_t put_attrs(struct history *h, const struct event *ev)
{
	uint32_t off = (uint32_t)h->scratch.len;
	size_t lim = h->o.max_attr_bytes;
	jbuf_puts(&h->scratch, "{");
	uint32_t i = 0;
	for (; i < ev->nattrs; i++) {
		size_t before = h->scratch.len;
		if (i)
			jbuf_puts(&h->scratch, ",");
		jbuf_json_str(&h->scratch, ev->attrs[i].key);
		jbuf_puts(&h->scratch, ":");
		jbuf_json_str(&h->scratch, ev->attrs[i].val);
		if (h->scratch.len - off + 1 > lim) {
			h->scratch.len = before;
			break;
		}
	}
	if (i < ev->nattrs)
		jbuf_printf(&h->scratch, "%s\"choreoscope.truncated\":\"%u\"", i ? "," : "",
		    ev->nattrs - i);
	jbuf_put(&h->scratch, "}", 2);
	return off;
}

static int take_event(void *arg, const struct event *ev, int64_t arrival_ns, const char *key)
{
	struct history *h = arg;
	if (h->nev == HIST_MAX_EVENTS)
		return 1;
	struct hev *e = &h->evs[h->nev++];
	e->key = key == h->lk[0] ? HIST_NO_OFF : put_str(h, key);
	e->event_id = put_str(h, ev->event_id);
	e->type = put_str(h, ev->type);
	e->source = put_str(h, ev->source);
	e->topic = ev->topic ? put_str(h, ev->topic) : HIST_NO_OFF;
	e->attrs = put_attrs(h, ev);
	e->partition = ev->partition;
	e->time_ns = ev->time_ns;
	e->arrival_ns = arrival_ns;
	e->offset = ev->offset;
	return 0;
}

static int take_view(void *arg, const struct engine_view *v)
{
	struct history *h = arg;
	if (v->opened_ns != h->want_opened || v->steps == NULL)
		return 0; /* another instance of the same key: keep no step views */
	h->nsteps_got = h->g->flows[v->flow].nsteps;
	memcpy(h->steps, v->steps, sizeof(h->steps[0]) * (size_t)h->nsteps_got);
	h->got_stalled = v->stalled;
	h->got_kinds = v->kinds;
	h->got_last = v->last_step;
	for (uint32_t k = 0; k < v->nlinked && h->nlk <= HIST_MAX_KEYS; k++) {
		size_t n = strlen(v->linked[k]) + 1;
		if (h->lkused + n > sizeof h->lkbuf)
			break;
		memcpy(h->lkbuf + h->lkused, v->linked[k], n);
		h->lk[h->nlk++] = h->lkbuf + h->lkused;
		h->lkused += n;
	}
	return 0;
}

int64_t history_mono_ns(void) { return log_mono_ns(); }

/* Appends it to the queue, or drops it (counted) when full. Takes ownership. */
static void enqueue(struct history *h, struct hitem *it)
{
	it->enq_ns = history_mono_ns();
	pthread_mutex_lock(&h->mu);
	if (h->qlen == h->qcap || h->stop) {
		pthread_mutex_unlock(&h->mu);
		atomic_fetch_add(&h->drops, 1);
		free(it);
		return;
	}
	if (h->qlen == 0)
		atomic_store(&h->oldest_enq_ns, it->enq_ns);
	h->q[(h->qhead + h->qlen++) % h->qcap] = it;
	h->enq++;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
}

/* One allocation: header, steps, events, strings (scratch). */
static struct hitem *make_item(struct history *h, int nsteps, int nev)
{
	size_t sz = sizeof(struct hitem) + sizeof(struct engine_step_view) * (size_t)nsteps +
	    sizeof(struct hev) * (size_t)nev + h->scratch.len + 1;
	struct hitem *it = malloc(sz);
	if (it == NULL || h->scratch.overflow) {
		free(it);
		atomic_fetch_add(&h->drops, 1);
		return NULL;
	}
	memset(it, 0, sizeof(*it));
	char *p = (char *)(it + 1);
	it->steps = nsteps ? (struct engine_step_view *)p : NULL;
	memcpy(p, h->steps, sizeof(struct engine_step_view) * (size_t)nsteps);
	p += sizeof(struct engine_step_view) * (size_t)nsteps;
	it->evs = (struct hev *)p;
	memcpy(p, h->evs, sizeof(struct hev) * (size_t)nev);
	p += sizeof(struct hev) * (size_t)nev;
	it->str = p;
	memcpy(p, h->scratch.p ? h->scratch.p : "", h->scratch.len);
	p[h->scratch.len] = '\0';
	it->nsteps = nsteps;
	it->nev = nev;
	return it;
}

static int flow_index(const struct history *h, const struct fg_flow *f)
{
	if (f == NULL || f < h->g->flows || f >= h->g->flows + h->g->nflows)
		return -1;
	return (int)(f - h->g->flows);
}

/* A full queue drops before the copy is built (the writer only ever shortens the queue,
 * and enqueue checks again). */
static bool full_now(struct history *h)
{
	pthread_mutex_lock(&h->mu);
	bool full = h->qlen == h->qcap;
	pthread_mutex_unlock(&h->mu);
	if (full)
		atomic_fetch_add(&h->drops, 1);
	return full;
}

static void on_flow(struct history *h, const struct flow_record *r)
{
	int fi = flow_index(h, r->flow);
	if (fi < 0 || full_now(h))
		return;
	jbuf_reset(&h->scratch);
	h->nev = 0;
	h->nsteps_got = 0;
	h->got_stalled = 0;
	h->got_kinds = 0;
	h->got_last = -1;
	h->want_opened = r->opened_ns;
	uint32_t corr = put_str(h, r->correlation_id), outcome = put_str(h, r->outcome);
	h->lk[0] = r->correlation_id;
	h->nlk = 1;
	h->lkused = 0;
	if (h->o.eng != NULL)
		engine_lookup(h->o.eng, fi, r->correlation_id, take_view, h);
	/* its own events and those that arrived under one of its linked keys */
	evlog_find_keys(h->shared ? h->shared : h->ring, h->lk, h->nlk, take_event, h);
	uint32_t keys = (uint32_t)h->scratch.len;
	for (int k = 1; k < h->nlk; k++)
		put_str(h, h->lk[k]);
	struct hitem *it = make_item(h, h->nsteps_got, h->nev);
	if (it == NULL)
		return;
	it->type = IT_FLOW;
	it->flow = fi;
	it->corr = corr;
	it->outcome = outcome;
	it->opened_ns = r->opened_ns;
	it->closed_ns = r->closed_ns;
	it->clock_ns = h->o.eng ? engine_stats(h->o.eng)->tmax_ns : ENGINE_NO_TIME;
	it->events = r->events;
	it->awaiting = r->awaiting;
	it->stalled = h->got_stalled;
	it->kinds = h->got_kinds;
	it->last_step = h->got_last;
	it->keys = keys;
	it->nkeys = h->nlk - 1;
	enqueue(h, it);
}

static void on_anomaly(struct history *h, const struct anomaly *a)
{
	int fi = flow_index(h, a->flow);
	if (fi < 0 || full_now(h))
		return;
	jbuf_reset(&h->scratch);
	uint32_t corr = put_str(h, a->correlation_id);
	struct hitem *it = make_item(h, 0, 0);
	if (it == NULL)
		return;
	it->type = IT_ANOMALY;
	it->flow = fi;
	it->corr = corr;
	it->kind = a->kind;
	it->step = a->step_index;
	it->at_ns = a->at_ns;
	enqueue(h, it);
}

static void sk_anomaly(void *ctx, const struct anomaly *a) { on_anomaly(ctx, a); }

static void sk_flow(void *ctx, const struct flow_record *r) { on_flow(ctx, r); }

/* ---- lifecycle --------------------------------------------------------------------- */

int history_new(const struct history_opts *o, const struct flowgraph *g, const struct log *lg,
    struct history **out, char *err, size_t errlen)
{
	struct history *h = calloc(1, sizeof(*h));
	*out = NULL;
	if (h == NULL)
		goto oom;
	h->o = *o;
	h->g = g;
	h->lg = lg;
	if (h->o.queue_len == 0)
		h->o.queue_len = 65536;
	if (h->o.max_attr_bytes < 16)
		h->o.max_attr_bytes = 16;
	if (snprintf(h->path, sizeof h->path, "%s/%s", o->dir, HISTORY_FILE) >=
	    (int)sizeof h->path) {
		snprintf(err, errlen, "history.dir: path too long");
		free(h);
		return -1;
	}
	h->err_limit = (struct log_limit)LOG_LIMIT_INIT(5, 10 * (int64_t)1000000000);
	h->qcap = h->o.queue_len;
	h->q = calloc(h->qcap, sizeof(*h->q));
	h->ring = evlog_new(h->o.timeline_bytes ? h->o.timeline_bytes : (size_t)32 << 20);
	if (h->ring)
		evlog_index_graph(h->ring, g); /* beyond EVLOG_MAX_KEY_ATTRS: not in timelines */
	jbuf_init(&h->scratch, (size_t)64 << 20);
	jbuf_init(&h->wbuf, (size_t)64 << 20);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->wake, NULL);
	pthread_cond_init(&h->idle, NULL);
	if (h->q == NULL || h->ring == NULL)
		goto oom;
	if (pthread_create(&h->thr, NULL, history_write_thread, h) != 0) {
		snprintf(err, errlen, "history: cannot start the writer thread");
		history_free(h);
		return -1;
	}
	h->thr_started = true;
	*out = h;
	return 0;
oom:
	snprintf(err, errlen, "history: out of memory");
	history_free(h);
	return -1;
}

void history_free(struct history *h)
{
	if (h == NULL)
		return;
	if (h->thr_started) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thr, NULL);
	}
	for (size_t i = 0; h->q && i < h->qlen; i++)
		free(h->q[(h->qhead + i) % h->qcap]);
	free(h->q);
	evlog_free(h->ring);
	jbuf_free(&h->scratch);
	jbuf_free(&h->wbuf);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->idle);
	free(h);
}

void history_sink(struct history *h, struct engine_sink *sink)
{
	*sink = (struct engine_sink){ .anomaly = sk_anomaly, .flow = sk_flow, .ctx = h };
}

void history_event(struct history *h, const struct event *ev)
{
	if (h->shared == NULL)
		evlog_add(h->ring, ev);
}

void history_share_ring(struct history *h, const struct evlog *ring)
{
	evlog_free(h->ring);
	h->ring = NULL;
	h->shared = ring;
}

void history_sync(struct history *h)
{
	pthread_mutex_lock(&h->mu);
	uint64_t want = h->enq, hk = ++h->hk_req;
	pthread_cond_signal(&h->wake);
	while (h->done < want || h->hk_done < hk)
		pthread_cond_wait(&h->idle, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void history_attach_engine(struct history *h, const struct engine *eng) { h->o.eng = eng; }

void history_hold(struct history *h, bool held)
{
	pthread_mutex_lock(&h->mu);
	h->held = held;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
}

void history_stats(const struct history *h, struct history_stats *out)
{
	struct history *m = (struct history *)h;
	*out = (struct history_stats){ .writes = atomic_load(&m->writes),
		.drops = atomic_load(&m->drops),
		.errors = atomic_load(&m->errors),
		.recreated = atomic_load(&m->recreated),
		.bytes = atomic_load(&m->bytes),
		.deleted = atomic_load(&m->deleted) };
	pthread_mutex_lock(&m->mu);
	out->queued = m->qlen;
	pthread_mutex_unlock(&m->mu);
	int64_t old = atomic_load(&m->oldest_enq_ns);
	out->lag_ns = out->queued && old ? history_mono_ns() - old : 0;
}

const char *history_path(const struct history *h) { return h->path; }

void history_metrics(void *ctx, struct jbuf *b)
{
	const struct history *h = ctx;
	struct history_stats st;
	history_stats(h, &st);
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "choreoscope_history_bytes", "gauge",
		    "Bytes of the history store on disk (file and WAL)." },
		{ "choreoscope_history_writes_total", "counter",
		    "Retired flows written to the history store." },
		{ "choreoscope_history_drops_total", "counter",
		    "Retired flows and verdicts not stored (queue full, or a failed write)." },
		{ "choreoscope_history_errors_total", "counter",
		    "History store failures (open, write, retention), each logged." },
		{ "choreoscope_history_recreated_total", "counter",
		    "Damaged history files moved aside and recreated." },
		{ "choreoscope_history_deleted_total", "counter",
		    "Stored flows removed by retention." },
		{ "choreoscope_history_queue_items", "gauge",
		    "Items waiting for the history writer." },
		{ "choreoscope_history_lag_seconds", "gauge",
		    "Age of the oldest item waiting for the history writer." },
	};
	const uint64_t v[] = { st.bytes, st.writes, st.drops, st.errors, st.recreated, st.deleted,
		st.queued };
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		jbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s ", m[i].name, m[i].help, m[i].name,
		    m[i].type, m[i].name);
		if (i < sizeof v / sizeof v[0])
			jbuf_printf(b, "%llu\n", (unsigned long long)v[i]);
		else
			jbuf_printf(b, "%.3f\n", (double)st.lag_ns / 1e9);
	}
}
