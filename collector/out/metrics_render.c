/*
 * metrics_render: the Prometheus text exposition of the metrics (metrics.h): the
 * collector-wide families, then the per-flow ones from each flow's cached text.
 * Engine thread. Past the document's cap it leaves out what cannot fit, whole
 * flows at a time, and says so in a comment: never a cut line.
 */
#include "out/metrics_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- rendering ------------------------------------------------------------------ */

void metrics_family(struct jbuf *b, const char *name, const char *type, const char *help)
{
	jbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{flow="F",<k>="<v>"} (the label set every per-flow series starts with) */
static void series(struct jbuf *b, const char *name, const char *flow, const char *k, const char *v)
{
	jbuf_puts(b, name);
	jbuf_puts(b, "{flow=\"");
	jbuf_prom_label(b, flow);
	if (k != NULL) {
		jbuf_printf(b, "\",%s=\"", k);
		jbuf_prom_label(b, v);
	}
	jbuf_puts(b, "\"");
}

static void render_hist(struct jbuf *b, const char *name, const char *flow, const char *k,
    const char *v, const struct mx_hist *h)
{
	const double *bk = h->bounds;
	int nb = h->nb;
	uint64_t cum = 0;
	for (int i = 0; i <= nb; i++) {
		cum += h->counts ? h->counts[i] : 0;
		series(b, name, flow, k, v);
		if (i < nb)
			jbuf_printf(b, ",le=\"%g\"} %llu\n", bk[i], (unsigned long long)cum);
		else
			jbuf_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	size_t nl = strlen(name) - strlen("_bucket");
	char base[128];
	snprintf(base, sizeof(base), "%.*s_sum", (int)nl, name);
	series(b, base, flow, k, v);
	jbuf_printf(b, "} %.9g\n", h->sum);
	snprintf(base, sizeof(base), "%.*s_count", (int)nl, name);
	series(b, base, flow, k, v);
	jbuf_printf(b, "} %llu\n", (unsigned long long)h->count);
}

static void render_global(struct metrics *m, struct jbuf *b)
{
	metrics_family(b, "choreoscope_build_info", "gauge", "Build information; always 1.");
	jbuf_puts(b, "choreoscope_build_info{version=\"");
	jbuf_prom_label(b, m->version);
	jbuf_puts(b, "\"} 1\n");
	metrics_family(
	    b, "choreoscope_ready", "gauge", "1 once partitions are assigned and state is loaded.");
	jbuf_printf(b, "choreoscope_ready %d\n", m->ready ? 1 : 0);
	metrics_family(b, "choreoscope_kafka_cut_off", "gauge",
	    "1 while no partition leader has answered for 2 s (broker down, frozen or "
	    "unreachable); "
	    "the wall clock is held meanwhile.");
	jbuf_printf(b, "choreoscope_kafka_cut_off %d\n", m->kafka_cut_off ? 1 : 0);
	metrics_family(b, "choreoscope_kafka_broker_errors_total", "counter",
	    "Errors librdkafka reported about the brokers (connection refused, all brokers down, "
	    "...).");
	jbuf_printf(b, "choreoscope_kafka_broker_errors_total %llu\n",
	    (unsigned long long)m->kafka_broker_errors);
	metrics_family(b, "choreoscope_kafka_connection_failures_total", "counter",
	    "Kafka connections refused: cause=authentication (SASL) or tls (handshake, "
	    "certificate); the daemon keeps retrying.");
	jbuf_printf(b,
	    "choreoscope_kafka_connection_failures_total{cause=\"authentication\"} %llu\n"
	    "choreoscope_kafka_connection_failures_total{cause=\"tls\"} %llu\n",
	    (unsigned long long)m->kafka_auth_failures, (unsigned long long)m->kafka_tls_failures);
	metrics_family(b, "choreoscope_events_consumed_total", "counter",
	    "Events read from the source, by topic and partition.");
	for (int i = 0; i < m->nparts; i++) {
		jbuf_puts(b, "choreoscope_events_consumed_total{topic=\"");
		jbuf_prom_label(b, m->parts[i].topic);
		jbuf_printf(b, "\",partition=\"%d\"} %llu\n", (int)m->parts[i].partition,
		    (unsigned long long)m->parts[i].consumed);
	}
	metrics_family(b, "choreoscope_consumer_lag", "gauge",
	    "Messages behind the partition's high watermark.");
	for (int i = 0; i < m->nparts; i++) {
		jbuf_puts(b, "choreoscope_consumer_lag{topic=\"");
		jbuf_prom_label(b, m->parts[i].topic);
		jbuf_printf(b, "\",partition=\"%d\"} %lld\n", (int)m->parts[i].partition,
		    (long long)m->parts[i].lag);
	}
	metrics_family(b, "choreoscope_events_rejected_total", "counter",
	    "Inputs that could not be decoded, by reason.");
	for (int i = 0; i < m->nreasons; i++) {
		jbuf_puts(b, "choreoscope_events_rejected_total{reason=\"");
		jbuf_prom_label(b, m->reasons[i]);
		jbuf_printf(b, "\"} %llu\n", (unsigned long long)m->rejected[i]);
	}
	metrics_family(b, "choreoscope_events_unmatched_total", "counter",
	    "Decoded events that belong to no declared flow.");
	jbuf_printf(
	    b, "choreoscope_events_unmatched_total %llu\n", (unsigned long long)m->unmatched);
	metrics_family(b, "choreoscope_metrics_series_dropped_total", "counter",
	    "Label values refused because a series bound was reached.");
	jbuf_printf(b, "choreoscope_metrics_series_dropped_total %llu\n",
	    (unsigned long long)m->dropped_series);
}

/* ---- per-flow families, rendered once per change of the flow ---------------------
 *
 * The exposition groups series by family, flows inside; a flow's series of every
 * family are rendered into its own cache (one text, cut per family) and copied out
 * family by family. A flow is rendered again only when its fingerprint (a hash of
 * every value its series show) changed since the last render, and a flow never used
 * (mx_flow.used 0: all zeros) is not even hashed, so a publish costs a memcpy, a
 * hash per used flow and the text of the flows that moved: 1,000 idle flows no
 * longer cost 1,000 flows of printf every 250 ms (BENCHMARKS.md). */

enum {
	FAM_STARTED,
	FAM_IN_FLIGHT,
	FAM_CLOSED,
	FAM_ANOMALIES,
	FAM_STALLED,
	FAM_AWAITING,
	FAM_OLDEST,
	FAM_EVICTED,
	FAM_THRESHOLD,
	FAM_EXAMPLE,
	FAM_OWNER,
	FAM_STEP_LATENCY,
	FAM_DURATION,
	NFAM
};
_Static_assert(sizeof(((struct mx_cache *)0)->off) == sizeof(size_t) * (NFAM + 1),
    "mx_cache.off sized for the families");

static const struct {
	const char *name, *type, *help;
} fams[NFAM] = {
	[FAM_STARTED] = { "choreoscope_flows_started_total", "counter", "Flow instances opened." },
	[FAM_IN_FLIGHT] = { "choreoscope_flows_in_flight", "gauge", "Open flow instances." },
	[FAM_CLOSED] = { "choreoscope_flows_closed_total", "counter",
	    "Flow instances closed, by outcome." },
	[FAM_ANOMALIES] = { "choreoscope_anomalies_total", "counter",
	    "Verdicts against the flow graph, by kind and step." },
	[FAM_STALLED] = { "choreoscope_flows_stalled", "gauge",
	    "Open instances with this step stalled (past its deadline)." },
	[FAM_AWAITING] = { "choreoscope_flows_awaiting", "gauge",
	    "Open instances expecting this step." },
	[FAM_OLDEST] = { "choreoscope_oldest_stall_age_seconds", "gauge",
	    "Age of the oldest current stall of this step (0 when none)." },
	[FAM_EVICTED] = { "choreoscope_flows_evicted_total", "counter",
	    "Instances evicted under the in-flight bound, by the step they awaited." },
	[FAM_THRESHOLD] = { "choreoscope_stall_age_threshold_seconds", "gauge",
	    "Oldest-stall age the alert rules fire above: half of (flow deadline - step within)." },
	[FAM_EXAMPLE] = { "choreoscope_anomaly_example_info", "gauge",
	    "An example instance of the latest stalled/abandoned verdicts per step; always 1." },
	[FAM_OWNER] = { "choreoscope_step_owner_info", "gauge",
	    "Who owes each step: its declared owner, or the most frequent source of its events "
	    "(learned=\"true\"); always 1." },
	[FAM_STEP_LATENCY] = { "choreoscope_step_latency_seconds", "histogram",
	    "Time from a step becoming expected to its event." },
	[FAM_DURATION] = { "choreoscope_flow_duration_seconds", "histogram",
	    "Open-to-close time of closed flow instances, by outcome." },
};

/* One series per step of a u64 (or, is_double, double) array of the flow. */
static void per_step(
    struct jbuf *b, const char *name, const struct fg_flow *fl, const void *arr, int is_double)
{
	for (int s = 0; s < fl->nsteps; s++) {
		series(b, name, fl->name, "step", fl->steps[s].name);
		if (is_double)
			jbuf_printf(b, "} %.6g\n", ((const double *)arr)[s]);
		else
			jbuf_printf(b, "} %llu\n", (unsigned long long)((const uint64_t *)arr)[s]);
	}
}

static void fam_anomalies(struct jbuf *b, const struct fg_flow *fl, const struct mx_flow *mf)
{
	for (int s = 0; s <= fl->nsteps; s++) {
		for (int k = 0; k < MX_NKINDS; k++) {
			uint64_t v = mf->anomalies[s][k];
			if (s == fl->nsteps && v == 0)
				continue;
			series(b, fams[FAM_ANOMALIES].name, fl->name, "kind", metrics_kind_name(k));
			jbuf_puts(b, ",step=\"");
			jbuf_prom_label(b, s < fl->nsteps ? fl->steps[s].name : "");
			jbuf_printf(b, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

/* The stall-age thresholds of metrics_stall_threshold, for the shipped alert rules. */
static void fam_thresholds(struct jbuf *b, const struct fg_flow *fl)
{
	for (int s = 0; s < fl->nsteps; s++) {
		double t = metrics_stall_threshold(fl, s);
		if (t < 0)
			continue;
		series(b, fams[FAM_THRESHOLD].name, fl->name, "step", fl->steps[s].name);
		jbuf_printf(b, "} %.6g\n", t);
	}
}

/* One series per (step, kind) that has had a stalled/abandoned verdict: the latest
 * example instance (see metrics_note_example), for alert annotations. */
static void fam_examples(struct jbuf *b, const struct fg_flow *fl, const struct mx_flow *mf)
{
	for (int s = 0; s < fl->nsteps; s++) {
		for (int k = 0; k < MX_NEXAMPLE_KINDS; k++) {
			const char *ex = mf->example[s][k];
			if (ex[0] == '\0')
				continue;
			series(b, fams[FAM_EXAMPLE].name, fl->name, "step", fl->steps[s].name);
			jbuf_printf(b, ",kind=\"%s\",correlation_id=\"",
			    metrics_kind_name(mx_example_kind(k)));
			jbuf_prom_label(b, ex);
			jbuf_puts(b, "\"} 1\n");
		}
	}
}

/* One series per step with a known owner: join it in PromQL (`* on(flow, step)
 * group_left(owner) choreoscope_step_owner_info`) to label stalls by owner without a
 * label on every series. Bounded: one series per step; a learned owner's value may
 * change, as an example's does. */
static void fam_owners(struct jbuf *b, const struct fg_flow *fl, const struct mx_flow *mf)
{
	for (int s = 0; s < fl->nsteps; s++) {
		bool learned;
		const char *o = metrics_owner_of(fl, mf, s, &learned);
		if (o == NULL)
			continue;
		series(b, fams[FAM_OWNER].name, fl->name, "step", fl->steps[s].name);
		jbuf_puts(b, ",owner=\"");
		jbuf_prom_label(b, o);
		jbuf_printf(b, "\",learned=\"%s\"} 1\n", learned ? "true" : "false");
	}
}

static void render_family(
    struct jbuf *b, int fam, const struct fg_flow *fl, const struct mx_flow *mf)
{
	const char *name = fams[fam].name;
	switch (fam) {
	case FAM_STARTED:
	case FAM_IN_FLIGHT:
		series(b, name, fl->name, NULL, NULL);
		jbuf_printf(b, "} %llu\n",
		    (unsigned long long)(fam == FAM_STARTED ? mf->started : mf->in_flight));
		break;
	case FAM_CLOSED:
		for (int o = 0; o < mf->noutcomes; o++) {
			series(b, name, fl->name, "outcome", mf->outcomes[o]);
			jbuf_printf(b, "} %llu\n", (unsigned long long)mf->closed[o]);
		}
		break;
	case FAM_ANOMALIES: fam_anomalies(b, fl, mf); break;
	case FAM_STALLED: per_step(b, name, fl, mf->stalled_now, 0); break;
	case FAM_AWAITING: per_step(b, name, fl, mf->awaiting_now, 0); break;
	case FAM_OLDEST: per_step(b, name, fl, mf->oldest_stall_s, 1); break;
	case FAM_EVICTED: per_step(b, name, fl, mf->evicted, 0); break;
	case FAM_THRESHOLD: fam_thresholds(b, fl); break;
	case FAM_EXAMPLE: fam_examples(b, fl, mf); break;
	case FAM_OWNER: fam_owners(b, fl, mf); break;
	case FAM_STEP_LATENCY:
		for (int s = 0; s < fl->nsteps; s++)
			render_hist(b, "choreoscope_step_latency_seconds_bucket", fl->name, "step",
			    fl->steps[s].name, &mf->step_latency[s]);
		break;
	case FAM_DURATION:
		for (int o = 0; o < mf->noutcomes; o++)
			render_hist(b, "choreoscope_flow_duration_seconds_bucket", fl->name,
			    "outcome", mf->outcomes[o], &mf->duration[o]);
		break;
	}
}

static void fp_hist(XXH3_state_t *st, const struct mx_hist *h)
{
	if (h->counts)
		XXH3_64bits_update(st, h->counts, sizeof(*h->counts) * (size_t)(h->nb + 1));
	XXH3_64bits_update(st, &h->count, sizeof(h->count));
	XXH3_64bits_update(st, &h->sum, sizeof(h->sum));
}

/* A hash of every value flow f's series, summary and graph show (what the graph
 * fixes is left out). */
static uint64_t flow_fingerprint(struct metrics *m, int f)
{
	const struct mx_flow *mf = &m->flows[f];
	size_t ns = (size_t)m->g->flows[f].nsteps, no = (size_t)mf->noutcomes;
	XXH3_state_t *st = m->fp;
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, &mf->started, sizeof(mf->started));
	XXH3_64bits_update(st, &mf->in_flight, sizeof(mf->in_flight));
	XXH3_64bits_update(st, mf->closed, sizeof(*mf->closed) * no);
	XXH3_64bits_update(st, mf->anomalies, sizeof(*mf->anomalies) * (ns + 1));
	XXH3_64bits_update(st, mf->stalled_now, sizeof(*mf->stalled_now) * ns);
	XXH3_64bits_update(st, mf->awaiting_now, sizeof(*mf->awaiting_now) * ns);
	XXH3_64bits_update(st, mf->oldest_stall_s, sizeof(*mf->oldest_stall_s) * ns);
	XXH3_64bits_update(st, mf->evicted, sizeof(*mf->evicted) * ns);
	XXH3_64bits_update(st, mf->example, sizeof(*mf->example) * ns);
	XXH3_64bits_update(st, mf->owner, sizeof(*mf->owner) * ns);
	for (size_t s = 0; s < ns; s++)
		fp_hist(st, &mf->step_latency[s]);
	for (size_t o = 0; o < no; o++)
		fp_hist(st, &mf->duration[o]);
	for (size_t k = 0; k < ns; k++) { /* the edges (the graphs document) */
		XXH3_64bits_update(st, mf->edge_count[k], sizeof(**mf->edge_count) * ns);
		for (size_t p = 0; p < ns; p++)
			if (mf->edge_latency[k * ns + p].counts)
				fp_hist(st, &mf->edge_latency[k * ns + p]);
	}
	return XXH3_64bits_digest(st);
}

/* Renders flow f into its cache when it changed (or was never rendered). */
static void refresh_flow(struct metrics *m, int f)
{
	struct mx_cache *c = &m->cache[f];
	if (c->valid && !m->flows[f].used)
		return; /* idle: still all zeros, as rendered */
	uint64_t fp = flow_fingerprint(m, f);
	m->flows[f].fp = fp;
	if (c->valid && c->fp == fp)
		return;
	const struct fg_flow *fl = &m->g->flows[f];
	jbuf_reset(&c->txt);
	for (int k = 0; k < NFAM; k++) {
		c->off[k] = c->txt.len;
		render_family(&c->txt, k, fl, &m->flows[f]);
	}
	c->off[NFAM] = c->txt.len;
	c->fp = fp;
	c->valid = !c->txt.overflow;
}

/* The per-flow families of the flows that pass `only_used` (all, or those ever
 * used), family by family; false when they would not fit in b (known from the
 * cached sizes before anything is copied). */
static bool copy_flows(struct metrics *m, struct jbuf *b, bool only_used)
{
	int nf = m->g->nflows;
	size_t total = b->len;
	for (int f = 0; f < nf; f++)
		if (!only_used || m->flows[f].used)
			total += m->cache[f].txt.len;
	for (int k = 0; k < NFAM; k++)
		total += strlen(fams[k].name) * 2 + strlen(fams[k].help) + 32;
	if (b->max && total >= b->max)
		return false;
	for (int k = 0; k < NFAM; k++) {
		metrics_family(b, fams[k].name, fams[k].type, fams[k].help);
		for (int f = 0; f < nf; f++) {
			const struct mx_cache *c = &m->cache[f];
			if (only_used && !m->flows[f].used)
				continue;
			if (!c->valid)
				return false; /* its text did not fit: say so, never cut */
			jbuf_put(b, c->txt.p + c->off[k], c->off[k + 1] - c->off[k]);
		}
	}
	return !b->overflow;
}

int metrics_render(struct metrics *m, struct jbuf *b)
{
	int nf = m->g->nflows, used = 0;
	for (int f = 0; f < nf; f++) {
		refresh_flow(m, f);
		used += m->flows[f].used != 0;
	}
	jbuf_reset(b);
	render_global(m, b);
	size_t global = b->len;
	if (copy_flows(m, b, false))
		return 0;
	/* too many declared flows for every series at 0: the flows in use only, and why
	 * (a cut exposition would break mid-line) */
	b->len = global;
	b->overflow = false;
	b->p[global] = '\0';
	if (used < nf && copy_flows(m, b, true)) {
		jbuf_printf(b,
		    "# choreoscope: %d of %d declared flows never held an instance; their "
		    "series (all 0) do not fit in %zu bytes and are left out\n",
		    nf - used, nf, b->max);
		return -1;
	}
	jbuf_reset(b);
	render_global(m, b);
	jbuf_printf(b,
	    "# choreoscope: the per-flow series of %d flows do not fit in %zu bytes; "
	    "they are left out\n",
	    nf, b->max);
	return -1;
}
