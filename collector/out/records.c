/*
 * records: see records.h. Field order is fixed so that outputs diff cleanly.
 */
#include "out/records.h"

#include <stdlib.h>
#include <string.h>
#include "lib/jbuf.h"

/* A record line is a few names and ids: far below this; beyond it the line is
 * dropped and the write counted as failed. */
#define RECORDS_MAX_LINE ((size_t)16 << 20)

struct outcount {
	const char *name;
	uint64_t n;
};

struct flowcount {
	uint64_t kinds[AN__COUNT];
	struct outcount *outs;
	int nouts;
};

struct records {
	FILE *out;
	const struct flowgraph *g;
	struct jbuf w;
	struct flowcount *fc;
	int failed;
};

struct records *records_new(FILE *out, const struct flowgraph *g)
{
	struct records *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->out = out;
	r->g = g;
	jbuf_init(&r->w, RECORDS_MAX_LINE);
	r->fc = calloc((size_t)g->nflows + 1, sizeof(*r->fc));
	if (!r->fc) {
		free(r);
		return NULL;
	}
	return r;
}

void records_free(struct records *r)
{
	if (!r)
		return;
	for (int f = 0; f < r->g->nflows; f++)
		free(r->fc[f].outs);
	free(r->fc);
	jbuf_free(&r->w);
	free(r);
}

static void awaiting_json(struct jbuf *w, const struct fg_flow *f, fg_mask m)
{
	jbuf_put(w, "[", 1);
	for (int s = 0; s < f->nsteps; s++) {
		if (!(m & FG_BIT(s)))
			continue;
		if (w->p[w->len - 1] != '[')
			jbuf_put(w, ",", 1);
		jbuf_json_str(w, f->steps[s].name);
	}
	jbuf_put(w, "]", 1);
}

void records_anomaly_json(struct jbuf *w, const struct anomaly *a)
{
	jbuf_puts(w, "{\"record\":\"anomaly\",\"flow\":");
	jbuf_json_str(w, a->flow->name);
	jbuf_json_kstr(w, "correlation_id", a->correlation_id);
	jbuf_json_kstr(w, "kind", an_kind_name(a->kind));
	jbuf_json_kstr(w, "step", a->step);
	jbuf_json_ktime(w, "at", a->at_ns);
	/* The declared owner of an awaited step; a learned one is not a fact of the
	 * input alone, so records (which replay must reproduce) never carry it. */
	const char *owner = a->step_index >= 0 ? a->flow->steps[a->step_index].owner : NULL;
	switch (a->kind) {
	case AN_STALLED:
	case AN_MISSING:
	case AN_ABANDONED:
		jbuf_json_ktime(w, "deadline", a->deadline_ns);
		if (owner != NULL)
			jbuf_json_kstr(w, "owner", owner);
		break;
	case AN_LATE:
		jbuf_json_ktime(w, "deadline", a->deadline_ns);
		jbuf_json_key(w, "overrun_seconds");
		jbuf_json_seconds(w, a->overrun_ns);
		if (owner != NULL)
			jbuf_json_kstr(w, "owner", owner);
		break;
	case AN_JOIN_WAIT:
		jbuf_json_key(w, "awaiting");
		awaiting_json(w, a->flow, a->awaiting);
		break;
	default: break;
	}
	if (a->ev) {
		jbuf_json_kstr(w, "event_id", a->ev->event_id);
		jbuf_json_kstr(w, "type", a->ev->type);
		jbuf_json_kstr(w, "source", a->ev->source);
		jbuf_json_ktime(w, "event_time", a->ev->time_ns);
		if (a->ev->topic) {
			jbuf_json_kstr(w, "topic", a->ev->topic);
			jbuf_json_kint(w, "partition", a->ev->partition);
			jbuf_json_kint(w, "offset", a->ev->offset);
		}
	}
	jbuf_put(w, "}", 1);
}

void records_flow_json(struct jbuf *w, const struct flow_record *f)
{
	jbuf_puts(w, "{\"record\":\"flow\",\"flow\":");
	jbuf_json_str(w, f->flow->name);
	jbuf_json_kstr(w, "correlation_id", f->correlation_id);
	jbuf_json_kstr(w, "outcome", f->outcome);
	jbuf_json_ktime(w, "opened", f->opened_ns);
	jbuf_json_ktime(w, "closed", f->closed_ns);
	jbuf_json_key(w, "duration_seconds");
	if (f->closed_ns == ENGINE_NO_TIME)
		jbuf_puts(w, "null");
	else
		jbuf_json_seconds(w, f->closed_ns - f->opened_ns);
	jbuf_json_kint(w, "events", f->events);
	jbuf_json_key(w, "awaiting");
	awaiting_json(w, f->flow, f->awaiting);
	jbuf_put(w, "}", 1);
}

static void emit(struct records *r)
{
	jbuf_put(&r->w, "\n", 1);
	if (jbuf_write(&r->w, r->out) < 0)
		r->failed = 1;
	jbuf_reset(&r->w);
}

static int flow_index(const struct records *r, const struct fg_flow *f)
{
	return (int)(f - r->g->flows);
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	struct records *r = ctx;
	r->fc[flow_index(r, a->flow)].kinds[a->kind]++;
	records_anomaly_json(&r->w, a);
	emit(r);
}

static void count_outcome(struct flowcount *fc, const char *name)
{
	for (int i = 0; i < fc->nouts; i++) {
		if (strcmp(fc->outs[i].name, name) == 0) {
			fc->outs[i].n++;
			return;
		}
	}
	struct outcount *o = realloc(fc->outs, (size_t)(fc->nouts + 1) * sizeof(*o));
	if (!o)
		return;
	fc->outs = o;
	fc->outs[fc->nouts++] = (struct outcount){ name, 1 };
}

static void on_flow(void *ctx, const struct flow_record *f)
{
	struct records *r = ctx;
	count_outcome(&r->fc[flow_index(r, f->flow)], f->outcome);
	records_flow_json(&r->w, f);
	emit(r);
}

void records_sink(struct records *r, struct engine_sink *sink)
{
	*sink = (struct engine_sink){ .anomaly = on_anomaly, .flow = on_flow, .ctx = r };
}

static void kinds_json(struct jbuf *w, const uint64_t *k)
{
	jbuf_put(w, "{", 1);
	for (int i = 0; i < AN__COUNT; i++) {
		jbuf_json_key(w, an_kind_name((enum an_kind)i));
		jbuf_json_uint(w, k[i]);
	}
	jbuf_put(w, "}", 1);
}

/* Outcome counts of one flow, or of all flows when f < 0. */
static void outcomes_json(struct records *r, int f)
{
	struct flowcount all = { { 0 }, NULL, 0 };
	struct flowcount *fc = &all;
	if (f >= 0) {
		fc = &r->fc[f];
	} else {
		for (int i = 0; i < r->g->nflows; i++)
			for (int o = 0; o < r->fc[i].nouts; o++)
				for (uint64_t n = 0; n < r->fc[i].outs[o].n; n++)
					count_outcome(&all, r->fc[i].outs[o].name);
	}
	jbuf_put(&r->w, "{", 1);
	for (int o = 0; o < fc->nouts; o++) {
		jbuf_json_key(&r->w, fc->outs[o].name);
		jbuf_json_uint(&r->w, fc->outs[o].n);
	}
	jbuf_put(&r->w, "}", 1);
	free(all.outs);
}

void records_reject(struct records_rejects *rej, const char *reason)
{
	rej->total++;
	for (int i = 0; i < rej->n; i++)
		if (rej->reason[i] == reason || strcmp(rej->reason[i], reason) == 0) {
			rej->count[i]++;
			return;
		}
	if (rej->n == RECORDS_MAX_REASONS) {
		rej->other++;
		return;
	}
	rej->reason[rej->n] = reason;
	rej->count[rej->n++] = 1;
}

static void rejects_json(struct jbuf *w, const struct records_rejects *rej)
{
	jbuf_put(w, "{", 1);
	for (int i = 0; rej != NULL && i < rej->n; i++) {
		jbuf_json_key(w, rej->reason[i]);
		jbuf_json_uint(w, rej->count[i]);
	}
	if (rej != NULL && rej->other > 0) {
		jbuf_json_key(w, "other");
		jbuf_json_uint(w, rej->other);
	}
	jbuf_put(w, "}", 1);
}

void records_summary(
    struct records *r, const struct engine_stats *st, const struct records_rejects *rej)
{
	uint64_t total[AN__COUNT] = { 0 };
	for (int f = 0; f < r->g->nflows; f++)
		for (int k = 0; k < AN__COUNT; k++)
			total[k] += r->fc[f].kinds[k];
	struct jbuf *w = &r->w;
	jbuf_puts(w, "{\"record\":\"summary\",\"events\":");
	jbuf_json_uint(w, st->events);
	jbuf_json_key(w, "rejected");
	jbuf_json_uint(w, rej != NULL ? rej->total : 0);
	jbuf_json_key(w, "unmatched");
	jbuf_json_uint(w, st->unmatched);
	jbuf_json_key(w, "rejected_by_reason");
	rejects_json(w, rej);
	jbuf_json_key(w, "anomalies");
	kinds_json(w, total);
	jbuf_json_key(w, "outcomes");
	outcomes_json(r, -1);
	jbuf_json_key(w, "flows");
	jbuf_put(w, "{", 1);
	for (int f = 0; f < r->g->nflows; f++) {
		jbuf_json_key(w, r->g->flows[f].name);
		jbuf_puts(w, "{\"anomalies\":");
		kinds_json(w, r->fc[f].kinds);
		jbuf_json_key(w, "outcomes");
		outcomes_json(r, f);
		jbuf_put(w, "}", 1);
	}
	jbuf_put(w, "}}", 2);
	emit(r);
	records_flush(r);
}

int records_flush(struct records *r)
{
	if (fflush(r->out) != 0)
		r->failed = 1;
	return r->failed ? -1 : 0;
}

int records_failed(const struct records *r) { return r->failed; }
