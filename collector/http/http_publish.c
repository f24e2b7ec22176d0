/*
 * http_publish: the engine-thread half of the HTTP server. Sink hooks feed metrics
 * histograms and the anomaly ring; http_publish_poll re-renders /metrics, the summary
 * and the graphs every interval and publishes them through snapshot.c, then answers
 * the flow-table requests HTTP threads queued. Nothing here is called from an HTTP
 * thread.
 */
#include "http/http_internal.h"
#include "http/http_publish.h"
#include "cmd/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int http_publish_init(
    struct http_api *a, const struct http_api_opts *o, struct metrics *m, char *err, size_t errlen)
{
	int nf = metrics_graph(m)->nflows;
	a->m = m;
	a->g = metrics_graph(m);
	if (snapshot_new(&a->snap, err, errlen) < 0)
		return -1;
	snprintf(a->clock, sizeof(a->clock), "%s", o->clock ? o->clock : "wall");
	a->interval_ns =
	    (int64_t)(o->publish_interval_ms > 0 ? o->publish_interval_ms : 250) * 1000000;
	a->start_ns = INT64_MIN;
	a->last_pub_ns = INT64_MIN;
	a->query_share_pct =
	    o->query_share_pct > 0 && o->query_share_pct <= 100 ? o->query_share_pct : 10;
	a->prev_started = calloc((size_t)nf + 1, sizeof(uint64_t));
	a->prev_completed = calloc((size_t)nf + 1, sizeof(uint64_t));
	a->started_ps = calloc((size_t)nf + 1, sizeof(double));
	a->completed_ps = calloc((size_t)nf + 1, sizeof(double));
	a->ends = calloc((size_t)nf + 1, sizeof(size_t));
	a->parts = api_cache_new(nf);
	jbuf_init(&a->render, HTTP_MAX_METRICS);
	if (!a->prev_started || !a->prev_completed || !a->started_ps || !a->completed_ps ||
	    !a->ends || !a->parts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snapshot_set_ready(a->snap, false, "starting");
	return 0;
}

void http_publish_fini(struct http_api *a)
{
	snapshot_free(a->snap);
	free(a->prev_started);
	free(a->prev_completed);
	free(a->started_ps);
	free(a->completed_ps);
	free(a->ends);
	api_cache_free(a->parts);
	jbuf_free(&a->render);
}

void http_publish_set_backend(struct http_api *a, const struct api_backend *be)
{
	a->be = *be;
	a->have_be = true;
}

void http_publish_set_ready(struct http_api *a, bool ready, const char *reason)
{
	metrics_set_ready(a->m, ready);
	snapshot_set_ready(a->snap, ready, reason);
}

void http_publish_set_memory(struct http_api *a, uint64_t bytes) { a->memory_bytes = bytes; }

static int flow_index(const struct http_api *a, const struct fg_flow *f)
{
	if (f == NULL || f < a->g->flows || f >= a->g->flows + a->g->nflows)
		return -1;
	return (int)(f - a->g->flows);
}

void http_publish_on_anomaly(struct http_api *a, const struct anomaly *an)
{
	int f = flow_index(a, an->flow);
	if (f < 0)
		return;
	struct snap_anomaly s = {
		.flow = f, .kind = (int)an->kind, .step = an->step_index, .at_ns = an->at_ns
	};
	snprintf(s.correlation_id, sizeof(s.correlation_id), "%s",
	    an->correlation_id ? an->correlation_id : "");
	if (an->ev != NULL && an->ev->source != NULL)
		snprintf(s.source, sizeof(s.source), "%s", an->ev->source);
	if (an->kind == AN_STALLED || an->kind == AN_MISSING || an->kind == AN_ABANDONED ||
	    an->kind == AN_LATE) {
		const char *o = metrics_step_owner(a->m, f, an->step_index, &s.owner_learned);
		snprintf(s.owner, sizeof(s.owner), "%s", o ? o : "");
	}
	snapshot_anomaly(a->snap, &s);
}

void http_publish_on_flow(struct http_api *a, const struct flow_record *r)
{
	int f = flow_index(a, r->flow);
	if (f < 0 || r->closed_ns == ENGINE_NO_TIME || r->outcome == NULL)
		return;
	int o = metrics_outcome_index(a->m, f, r->outcome);
	metrics_observe_flow(a->m, f, o, (double)(r->closed_ns - r->opened_ns) / 1e9);
}

void http_publish_on_step(struct http_api *a, const struct step_obs *o)
{
	int f = flow_index(a, o->flow);
	if (f < 0)
		return;
	metrics_observe_step(a->m, f, o->step_index,
	    o->latency_ns < 0 ? -1.0 : (double)o->latency_ns / 1e9, o->preds_happened,
	    o->ev != NULL ? o->ev->source : NULL);
}

/* Per-second rates over the last publish window (at least one second apart). */
static void update_rates(struct http_api *a, int64_t now)
{
	if (a->last_rate_ns != 0 && now - a->last_rate_ns < 1000000000)
		return;
	double dt = a->last_rate_ns ? (double)(now - a->last_rate_ns) / 1e9 : 0;
	uint64_t ev = metrics_consumed_total(a->m);
	if (dt > 0)
		a->eps = (double)(ev - a->prev_events) / dt;
	a->prev_events = ev;
	for (int f = 0; f < a->g->nflows; f++) {
		const struct mx_flow *mf = metrics_flow(a->m, f);
		uint64_t done = 0;
		for (int o = 0; o < mf->noutcomes; o++)
			if (strcmp(mf->outcomes[o], "abandoned") != 0 &&
			    strcmp(mf->outcomes[o], "evicted") != 0)
				done += mf->closed[o];
		if (dt > 0) {
			a->started_ps[f] = (double)(mf->started - a->prev_started[f]) / dt;
			a->completed_ps[f] = (double)(done - a->prev_completed[f]) / dt;
		}
		a->prev_started[f] = mf->started;
		a->prev_completed[f] = done;
	}
	a->last_rate_ns = now;
}

static void publish(struct http_api *a, int64_t now)
{
	if (a->start_ns == INT64_MIN)
		a->start_ns = now;
	update_rates(a, now);
	metrics_render(a->m, &a->render);
	snapshot_publish(a->snap, SNAP_METRICS, &a->render);
	char why[8];
	struct api_self self = { .version = CHOREOSCOPE_VERSION,
		.instance = a->instance,
		.clock = a->clock,
		.uptime_s = (double)(now - a->start_ns) / 1e9,
		.events_per_s = a->eps,
		.ready = snapshot_ready(a->snap, why, sizeof(why)),
		.memory_bytes = a->memory_bytes,
		.started_per_s = a->started_ps,
		.completed_per_s = a->completed_ps };
	int nf = a->g->nflows;
	/* after metrics_render: the parts cache reads the fingerprints it left */
	api_render_summary(a->m, &self, &a->render, a->ends, a->parts);
	snapshot_publish_parts(a->snap, SNAP_SUMMARY, &a->render, a->ends, nf);
	api_render_graphs(a->m, &a->render, a->ends, a->parts);
	snapshot_publish_parts(a->snap, SNAP_GRAPHS, &a->render, a->ends, nf);
}

static void answer(void *ctx, struct snap_query *q)
{
	struct http_api *a = ctx;
	const struct api_backend *be = a->have_be ? &a->be : NULL;
	if (q->kind == HTTP_Q_FLOWS)
		q->status = api_render_flows(a->m, be, q->args, &q->out);
	else if (q->kind == HTTP_Q_TIMELINE)
		q->status = api_render_timeline(a->m, be, q->args, &q->out);
	else
		q->status = 500;
}

void http_publish_poll(struct http_api *a, int64_t mono_ns, bool force)
{
	if (force || a->last_pub_ns == INT64_MIN || mono_ns - a->last_pub_ns >= a->interval_ns) {
		publish(a, mono_ns);
		a->last_pub_ns = mono_ns;
	}
	http_publish_serve(a, mono_ns);
}

static int64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void http_publish_serve(struct http_api *a, int64_t mono_ns)
{
	if (snapshot_pending(a->snap) == 0 || mono_ns < a->next_query_ns)
		return;
	int64_t t0 = mono_now();
	snapshot_serve(a->snap, answer, a, 1);
	int64_t t1 = mono_now();
	/* the wait is capped at 1 s so that a walk of a huge table (1M flows: ~0.1 s)
	 * still answers the next asker before its 2 s timeout */
	int64_t wait = (t1 - t0) * (100 - a->query_share_pct) / a->query_share_pct;
	a->next_query_ns = t1 + (wait < 1000000000 ? wait : 1000000000);
}
