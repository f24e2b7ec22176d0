/*
 * api_render: JSON documents of docs/API.md. See api_render.h for the model.
 * The flows list copies what it shows out of each borrowed instance view into a
 * bounded heap of the best K, so nothing engine-owned survives a callback.
 */
#include "http/api_render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1e9

int api_render_flow_index(const struct flowgraph *g, const char *name)
{
	for (int i = 0; i < g->nflows; i++)
		if (strcmp(g->flows[i].name, name) == 0)
			return i;
	return -1;
}

int api_render_step_index(const struct fg_flow *f, const char *name)
{
	for (int i = 0; i < f->nsteps; i++)
		if (strcmp(f->steps[i].name, name) == 0)
			return i;
	return -1;
}

static void kv_num(struct jbuf *b, const char *k, double v, bool comma)
{
	if (comma)
		jbuf_put(b, ",", 1);
	jbuf_json_str(b, k);
	jbuf_put(b, ":", 1);
	jbuf_json_num(b, v);
}

static void quantiles(struct jbuf *b, struct metrics *m, const struct mx_hist *h, int lat)
{
	jbuf_puts(b, "{");
	kv_num(b, "p50", metrics_hist_quantile(m, h, lat, 0.5), false);
	kv_num(b, "p95", metrics_hist_quantile(m, h, lat, 0.95), true);
	kv_num(b, "p99", metrics_hist_quantile(m, h, lat, 0.99), true);
	jbuf_puts(b, "}");
}

static void summary_self(struct metrics *m, const struct api_self *s, struct jbuf *b)
{
	jbuf_puts(b, "{\"collector\":{\"version\":");
	jbuf_json_str(b, s->version);
	jbuf_puts(b, ",\"instance\":");
	jbuf_json_str(b, s->instance);
	kv_num(b, "uptime_seconds", s->uptime_s, true);
	jbuf_printf(b, ",\"ready\":%s,\"clock\":", s->ready ? "true" : "false");
	jbuf_json_str(b, s->clock);
	kv_num(b, "events_total", (double)metrics_consumed_total(m), true);
	kv_num(b, "events_per_second", s->events_per_s, true);
	kv_num(b, "rejected_total", (double)metrics_rejected_total(m), true);
	kv_num(b, "unmatched_total", (double)metrics_unmatched_total(m), true);
	kv_num(b, "consumer_lag", (double)metrics_lag_total(m), true);
	kv_num(b, "memory_bytes", (double)s->memory_bytes, true);
	jbuf_puts(b, "},");
}

static void summary_flow(struct metrics *m, const struct api_self *s, int f, struct jbuf *b)
{
	const struct fg_flow *fl = &metrics_graph(m)->flows[f];
	const struct mx_flow *mf = metrics_flow(m, f);
	jbuf_puts(b, "{\"name\":");
	jbuf_json_str(b, fl->name);
	kv_num(b, "in_flight", (double)mf->in_flight, true);
	kv_num(b, "started_total", (double)mf->started, true);
	kv_num(b, "started_per_second", s->started_per_s ? s->started_per_s[f] : 0, true);
	kv_num(b, "completed_per_second", s->completed_per_s ? s->completed_per_s[f] : 0, true);
	jbuf_puts(b, ",\"closed_total\":{");
	for (int o = 0; o < mf->noutcomes; o++)
		kv_num(b, mf->outcomes[o], (double)mf->closed[o], o > 0);
	uint64_t stalled = 0;
	double oldest = 0;
	for (int i = 0; i < fl->nsteps; i++) {
		stalled += mf->stalled_now[i];
		if (mf->oldest_stall_s[i] > oldest)
			oldest = mf->oldest_stall_s[i];
	}
	jbuf_puts(b, "}");
	kv_num(b, "stalled_now", (double)stalled, true);
	kv_num(b, "oldest_stall_seconds", oldest, true);
	jbuf_puts(b, ",\"anomalies_total\":{");
	for (int k = 0; k < MX_NKINDS; k++) {
		uint64_t t = 0;
		for (int i = 0; i <= fl->nsteps; i++)
			t += mf->anomalies[i][k];
		kv_num(b, metrics_kind_name(k), (double)t, k > 0);
	}
	/* durations over every outcome but evicted (eviction time is not a duration) */
	uint64_t counts[MX_MAX_BUCKETS + 1] = { 0 };
	struct mx_hist all = { .counts = counts };
	for (int o = 0; o < mf->noutcomes; o++) {
		if (strcmp(mf->outcomes[o], "evicted") == 0)
			continue;
		for (int i = 0; i <= metrics_nbuckets(m, 0) && mf->duration[o].counts; i++)
			counts[i] += mf->duration[o].counts[i];
		all.count += mf->duration[o].count;
	}
	jbuf_puts(b, "},\"duration_seconds\":");
	quantiles(b, m, &all, 0);
	jbuf_puts(b, ",\"awaiting_now\":{");
	bool first = true;
	for (int i = 0; i < fl->nsteps; i++) {
		if (mf->awaiting_now[i] == 0)
			continue;
		kv_num(b, fl->steps[i].name, (double)mf->awaiting_now[i], !first);
		first = false;
	}
	jbuf_puts(b, "}}");
}

/* A flow's summary and graph objects as last rendered, and what they showed. */
struct api_part {
	uint64_t fp;
	double sps, cps; /* the rates the summary showed (not in mx_flow) */
	bool valid;
	struct jbuf txt;
};

struct api_cache {
	int n;
	struct api_part *sum, *graph; /* [n] */
};

struct api_cache *api_cache_new(int nflows)
{
	struct api_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->n = nflows;
	c->sum = calloc((size_t)nflows + 1, sizeof(*c->sum));
	c->graph = calloc((size_t)nflows + 1, sizeof(*c->graph));
	if (c->sum == NULL || c->graph == NULL) {
		api_cache_free(c);
		return NULL;
	}
	for (int f = 0; f < nflows; f++) {
		jbuf_init(&c->sum[f].txt, (size_t)1 << 20);
		jbuf_init(&c->graph[f].txt, (size_t)1 << 20);
	}
	return c;
}

void api_cache_free(struct api_cache *c)
{
	if (c == NULL)
		return;
	for (int f = 0; f < c->n; f++) {
		if (c->sum)
			jbuf_free(&c->sum[f].txt);
		if (c->graph)
			jbuf_free(&c->graph[f].txt);
	}
	free(c->sum);
	free(c->graph);
	free(c);
}

/* The part of flow f from the cache when nothing it shows changed, else rendered
 * by fn into the cache; appended to b either way. */
static void cached_part(struct metrics *m, struct api_part *p, int f, double sps, double cps,
    void (*fn)(struct metrics *, const struct api_self *, int, struct jbuf *),
    const struct api_self *self, struct jbuf *b)
{
	if (p == NULL) {
		fn(m, self, f, b);
		return;
	}
	uint64_t fp = metrics_flow(m, f)->fp;
	if (!p->valid || p->fp != fp || p->sps != sps || p->cps != cps) {
		jbuf_reset(&p->txt);
		fn(m, self, f, &p->txt);
		p->fp = fp;
		p->sps = sps;
		p->cps = cps;
		p->valid = !p->txt.overflow;
	}
	jbuf_put(b, p->txt.p ? p->txt.p : "", p->txt.len);
}

void api_render_summary(struct metrics *m, const struct api_self *self, struct jbuf *b,
    size_t *ends, struct api_cache *c)
{
	jbuf_reset(b);
	summary_self(m, self, b);
	ends[0] = b->len;
	for (int f = 0; f < metrics_graph(m)->nflows; f++) {
		cached_part(m, c && f < c->n ? &c->sum[f] : NULL, f,
		    self->started_per_s ? self->started_per_s[f] : 0,
		    self->completed_per_s ? self->completed_per_s[f] : 0, summary_flow, self, b);
		ends[f + 1] = b->len;
	}
}

static void step_names(struct jbuf *b, const struct fg_flow *fl, fg_mask mask)
{
	jbuf_puts(b, "[");
	bool first = true;
	for (int i = 0; i < fl->nsteps; i++) {
		if (!(mask & FG_BIT(i)))
			continue;
		if (!first)
			jbuf_puts(b, ",");
		jbuf_json_str(b, fl->steps[i].name);
		first = false;
	}
	jbuf_puts(b, "]");
}

void api_render_owner(struct metrics *m, int flow, int step, struct jbuf *b)
{
	bool learned;
	const char *o = metrics_step_owner(m, flow, step, &learned);
	jbuf_puts(b, ",\"owner\":");
	jbuf_json_str(b, o);
	jbuf_printf(b, ",\"owner_learned\":%s", learned ? "true" : "false");
}

static void graph_step(struct metrics *m, int f, int s, struct jbuf *b)
{
	const struct fg_flow *fl = &metrics_graph(m)->flows[f];
	const struct fg_step *st = &fl->steps[s];
	const struct mx_flow *mf = metrics_flow(m, f);
	jbuf_puts(b, "{\"name\":");
	jbuf_json_str(b, st->name);
	jbuf_printf(b, ",\"start\":%s,\"after\":", st->start ? "true" : "false");
	step_names(b, fl, st->after);
	jbuf_puts(b, ",\"after_any\":");
	step_names(b, fl, st->after_any);
	jbuf_puts(b, ",\"instead_of\":");
	step_names(b, fl, st->alts);
	kv_num(b, "within_seconds", st->within_ns < 0 ? NAN : (double)st->within_ns / NS, true);
	jbuf_puts(b, ",\"end\":");
	jbuf_json_str(b, st->outcome >= 0 ? fl->outcomes[st->outcome] : NULL);
	jbuf_printf(b, ",\"optional\":%s", st->optional ? "true" : "false");
	kv_num(b, "retries", st->retries, true);
	kv_num(b, "awaiting_now", (double)mf->awaiting_now[s], true);
	kv_num(b, "stalled_now", (double)mf->stalled_now[s], true);
	api_render_owner(m, f, s, b);
	jbuf_puts(b, "}");
}

static void graph_edges(struct metrics *m, int f, struct jbuf *b)
{
	const struct fg_flow *fl = &metrics_graph(m)->flows[f];
	const struct mx_flow *mf = metrics_flow(m, f);
	bool first = true;
	for (int s = 0; s < fl->nsteps; s++) {
		fg_mask preds = fl->steps[s].after | fl->steps[s].after_any;
		for (int p = 0; p < fl->nsteps; p++) {
			if (!(preds & FG_BIT(p)))
				continue;
			const struct mx_hist *h = &mf->edge_latency[s * fl->nsteps + p];
			jbuf_puts(b, first ? "{\"from\":" : ",{\"from\":");
			first = false;
			jbuf_json_str(b, fl->steps[p].name);
			jbuf_puts(b, ",\"to\":");
			jbuf_json_str(b, fl->steps[s].name);
			kv_num(b, "count", (double)mf->edge_count[s][p], true);
			kv_num(b, "p50_seconds", metrics_hist_quantile(m, h, 1, 0.5), true);
			kv_num(b, "p95_seconds", metrics_hist_quantile(m, h, 1, 0.95), true);
			kv_num(b, "p99_seconds", metrics_hist_quantile(m, h, 1, 0.99), true);
			kv_num(b, "stuck", (double)mf->awaiting_now[s], true);
			jbuf_puts(b, "}");
		}
	}
}

static void graph_flow(struct metrics *m, const struct api_self *self, int f, struct jbuf *b)
{
	(void)self;
	const struct fg_flow *fl = &metrics_graph(m)->flows[f];
	jbuf_puts(b, "{\"name\":");
	jbuf_json_str(b, fl->name);
	kv_num(
	    b, "deadline_seconds", fl->deadline_ns < 0 ? NAN : (double)fl->deadline_ns / NS, true);
	kv_num(b, "lateness_seconds", (double)fl->lateness_ns / NS, true);
	jbuf_puts(b, ",\"steps\":[");
	for (int s = 0; s < fl->nsteps; s++) {
		if (s)
			jbuf_puts(b, ",");
		graph_step(m, f, s, b);
	}
	jbuf_puts(b, "],\"edges\":[");
	graph_edges(m, f, b);
	jbuf_puts(b, "]}");
}

void api_render_graphs(struct metrics *m, struct jbuf *b, size_t *ends, struct api_cache *c)
{
	jbuf_reset(b);
	jbuf_puts(b, "{");
	ends[0] = b->len;
	for (int f = 0; f < metrics_graph(m)->nflows; f++) {
		cached_part(m, c && f < c->n ? &c->graph[f] : NULL, f, 0, 0, graph_flow, NULL, b);
		ends[f + 1] = b->len;
	}
}

void api_render_page(const char *head, size_t headlen, const struct api_page_args *pa, int total,
    const char *parts, size_t partslen, struct jbuf *b)
{
	jbuf_put(b, head, headlen);
	jbuf_printf(
	    b, "\"total\":%d,\"offset\":%d,\"limit\":%d,\"flows\":[", total, pa->offset, pa->limit);
	jbuf_put(b, parts, partslen);
	jbuf_puts(b, "]}");
}

void api_render_anomalies(
    const struct flowgraph *g, const struct snap_anomaly *as, int n, struct jbuf *b)
{
	jbuf_puts(b, "{\"items\":[");
	for (int i = 0; i < n; i++) {
		const struct snap_anomaly *a = &as[i];
		const struct fg_flow *fl = &g->flows[a->flow];
		jbuf_puts(b,
		    i ? ",{\"record\":\"anomaly\",\"flow\":" : "{\"record\":\"anomaly\",\"flow\":");
		jbuf_json_str(b, fl->name);
		jbuf_puts(b, ",\"correlation_id\":");
		jbuf_json_str(b, a->correlation_id);
		jbuf_puts(b, ",\"kind\":");
		jbuf_json_str(b, metrics_kind_name(a->kind));
		jbuf_puts(b, ",\"step\":");
		jbuf_json_str(
		    b, a->step >= 0 && a->step < fl->nsteps ? fl->steps[a->step].name : NULL);
		jbuf_puts(b, ",\"at\":");
		jbuf_json_time(b, a->at_ns);
		jbuf_puts(b, ",\"source\":");
		jbuf_json_str(b, a->source[0] ? a->source : NULL);
		if (a->owner[0]) {
			jbuf_puts(b, ",\"owner\":");
			jbuf_json_str(b, a->owner);
			jbuf_printf(
			    b, ",\"owner_learned\":%s", a->owner_learned ? "true" : "false");
		}
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]}");
}
