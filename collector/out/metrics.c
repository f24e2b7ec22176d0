/*
 * metrics: counters, gauges and histograms the engine thread keeps, rendered to the
 * Prometheus text format. See metrics.h for the cost model and threading.
 *
 * Invariants: every array is sized at metrics_new from the graph and never grows;
 * partition and reason tables grow only up to their fixed bounds (first use mallocs
 * a copy of the topic or reason name, later uses do not allocate).
 */
#include "out/metrics.h"
#include "decode/kafka_decode.h"

#include <dirent.h>
#include <stddef.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const double default_latency[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1, 2.5, 5, 10, 30, 60, 300};
static const double default_duration[] = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    600, 1800, 3600};
static const double deadline_fractions[MX_NDEADLINE_FRACTIONS] = {0.1, 0.25, 0.5, 0.75,
    0.9, 1, 1.1, 1.25, 1.5, 2, 3, 5, 10};
/* kind index (kind_names) of each example slot */
static const int example_kinds[MX_NEXAMPLE_KINDS] = {0 /* stalled */, 9 /* abandoned */};
static const char *const kind_names[MX_NKINDS] = {"stalled", "late", "missing",
    "out_of_order", "duplicate", "double_step", "retry_storm", "unexpected",
    "join_wait", "abandoned"};
static const int http_codes[] = {200, 400, 401, 404, 405, 408, 413, 414, 421, 429, 431,
    500, 503};
#define NCODES ((int)(sizeof(http_codes) / sizeof(http_codes[0])))

struct mx_part {
	char *topic;
	int32_t partition;
	uint64_t consumed;
	int64_t lag;
};

struct metrics {
	const struct flowgraph *g;
	char *version;
	double lat_b[MX_MAX_BUCKETS], dur_b[MX_MAX_BUCKETS];
	int nlat, ndur;
	struct mx_flow *flows;
	struct mx_part parts[MX_MAX_PARTITIONS];
	int nparts;
	char *reasons[MX_MAX_REASONS];
	uint64_t rejected[MX_MAX_REASONS];
	int nreasons;
	uint64_t dropped_series;
	uint64_t unmatched;
	int ready;
	int kafka_cut_off;
	uint64_t kafka_broker_errors;
	_Atomic uint64_t http[NCODES + 1]; /* last: any other code */
	double start_time_s;
};

static int hist_init(struct mx_hist *h, const double *bounds, int nb)
{
	h->counts = calloc((size_t)nb + 1, sizeof(uint64_t));
	h->count = 0;
	h->sum = 0;
	h->bounds = bounds;
	h->nb = nb;
	return h->counts ? 0 : -1;
}

/* Step s's latency bounds: its `within` times the deadline fractions, or the global
 * latency bounds for steps that never stall (start, optional, no `within`). */
static void step_bounds(const struct metrics *m, const struct fg_step *st, double *dst,
    int *n)
{
	if (st->start || st->optional || st->within_ns <= 0) {
		memcpy(dst, m->lat_b, sizeof(double) * (size_t)m->nlat);
		*n = m->nlat;
		return;
	}
	double w = (double)st->within_ns / 1e9;
	for (int i = 0; i < MX_NDEADLINE_FRACTIONS; i++)
		dst[i] = w * deadline_fractions[i];
	*n = MX_NDEADLINE_FRACTIONS;
}

static int set_buckets(double *dst, int *n, const double *src, int nsrc,
    const double *def, int ndef, const char *what, char *err, size_t errlen)
{
	if (src == NULL || nsrc == 0) {
		src = def;
		nsrc = ndef;
	}
	if (nsrc > MX_MAX_BUCKETS) {
		snprintf(err, errlen, "%s: %d buckets, at most %d", what, nsrc, MX_MAX_BUCKETS);
		return -1;
	}
	for (int i = 0; i < nsrc; i++) {
		if (!(src[i] > 0) || (i > 0 && src[i] <= src[i - 1])) {
			snprintf(err, errlen, "%s: buckets must be positive and ascending", what);
			return -1;
		}
		dst[i] = src[i];
	}
	*n = nsrc;
	return 0;
}

static int add_outcome(const char **names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	names[*n] = name;
	return (*n)++;
}

static int flow_init(struct metrics *m, struct mx_flow *mf, const struct fg_flow *f)
{
	int ns = f->nsteps;
	mf->outcomes = calloc((size_t)f->noutcomes + 3, sizeof(char *));
	if (mf->outcomes == NULL)
		return -1;
	for (int i = 0; i < f->noutcomes; i++)
		add_outcome(mf->outcomes, &mf->noutcomes, f->outcomes[i]);
	add_outcome(mf->outcomes, &mf->noutcomes, "completed");  /* as the engine does */
	add_outcome(mf->outcomes, &mf->noutcomes, "abandoned");
	add_outcome(mf->outcomes, &mf->noutcomes, "evicted");
	mf->closed = calloc((size_t)mf->noutcomes, sizeof(uint64_t));
	mf->anomalies = calloc((size_t)ns + 1, sizeof(*mf->anomalies));
	mf->stalled_now = calloc((size_t)ns + 1, sizeof(uint64_t));
	mf->awaiting_now = calloc((size_t)ns + 1, sizeof(uint64_t));
	mf->oldest_stall_s = calloc((size_t)ns + 1, sizeof(double));
	mf->evicted = calloc((size_t)ns + 1, sizeof(uint64_t));
	mf->stall_since_ns = calloc((size_t)ns + 1, sizeof(int64_t));
	for (int s = 0; mf->stall_since_ns && s <= ns; s++)
		mf->stall_since_ns[s] = INT64_MIN;
	mf->step_latency = calloc((size_t)ns + 1, sizeof(struct mx_hist));
	mf->step_b = calloc((size_t)ns + 1, sizeof(*mf->step_b));
	mf->step_nb = calloc((size_t)ns + 1, sizeof(int));
	mf->example = calloc((size_t)ns + 1, sizeof(*mf->example));
	mf->example_at_ns = calloc((size_t)ns + 1, sizeof(*mf->example_at_ns));
	mf->duration = calloc((size_t)mf->noutcomes, sizeof(struct mx_hist));
	mf->edge_count = calloc((size_t)ns + 1, sizeof(*mf->edge_count));
	mf->edge_latency = calloc((size_t)ns * (size_t)ns + 1, sizeof(struct mx_hist));
	if (!mf->closed || !mf->anomalies || !mf->stalled_now || !mf->awaiting_now ||
	    !mf->oldest_stall_s || !mf->evicted || !mf->stall_since_ns || !mf->step_latency || !mf->duration ||
	    !mf->edge_count || !mf->edge_latency || !mf->step_b || !mf->step_nb ||
	    !mf->example || !mf->example_at_ns)
		return -1;
	for (int s = 0; s < ns; s++) {
		step_bounds(m, &f->steps[s], mf->step_b[s], &mf->step_nb[s]);
		if (hist_init(&mf->step_latency[s], mf->step_b[s], mf->step_nb[s]) < 0)
			return -1;
		/* an edge into s is s's latency from that predecessor: s's bounds */
		fg_mask preds = f->steps[s].after | f->steps[s].after_any;
		for (int p = 0; p < ns; p++)
			if ((preds & FG_BIT(p)) && hist_init(&mf->edge_latency[s * ns + p],
			        mf->step_b[s], mf->step_nb[s]) < 0)
				return -1;
	}
	for (int o = 0; o < mf->noutcomes; o++)
		if (hist_init(&mf->duration[o], m->dur_b, m->ndur) < 0)
			return -1;
	return 0;
}

static void flow_free(struct mx_flow *mf, int ns)
{
	if (mf->step_latency)
		for (int s = 0; s < ns; s++)
			free(mf->step_latency[s].counts);
	if (mf->edge_latency)
		for (int i = 0; i < ns * ns; i++)
			free(mf->edge_latency[i].counts);
	if (mf->duration)
		for (int o = 0; o < mf->noutcomes; o++)
			free(mf->duration[o].counts);
	free(mf->outcomes);
	free(mf->closed);
	free(mf->anomalies);
	free(mf->stalled_now);
	free(mf->awaiting_now);
	free(mf->oldest_stall_s);
	free(mf->evicted);
	free(mf->stall_since_ns);
	free(mf->step_latency);
	free(mf->step_b);
	free(mf->step_nb);
	free(mf->example);
	free(mf->example_at_ns);
	free(mf->duration);
	free(mf->edge_count);
	free(mf->edge_latency);
}

static double process_start_time(void);

int metrics_new(const struct metrics_opts *o, struct metrics **out, char *err,
    size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->g = o->graph;
	m->version = strdup(o->version ? o->version : "unknown");
	if (set_buckets(m->lat_b, &m->nlat, o->latency_buckets, o->nlatency_buckets,
	        default_latency, (int)(sizeof(default_latency) / sizeof(double)),
	        "metrics.latency_buckets", err, errlen) < 0 ||
	    set_buckets(m->dur_b, &m->ndur, o->duration_buckets, o->nduration_buckets,
	        default_duration, (int)(sizeof(default_duration) / sizeof(double)),
	        "metrics.duration_buckets", err, errlen) < 0)
		goto fail;
	m->flows = calloc((size_t)m->g->nflows + 1, sizeof(struct mx_flow));
	if (m->flows == NULL || m->version == NULL)
		goto oom;
	for (int f = 0; f < m->g->nflows; f++)
		if (flow_init(m, &m->flows[f], &m->g->flows[f]) < 0)
			goto oom;
	/* every reason the Kafka decoder can give, so their series exist at 0 */
	static const char *const known_reasons[] = { KDEC_REASONS };
	for (size_t i = 0; i < sizeof(known_reasons) / sizeof(known_reasons[0]); i++)
		metrics_rejected(m, known_reasons[i], 0);
	m->start_time_s = process_start_time();
	*out = m;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	metrics_free(m);
	return -1;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->flows)
		for (int f = 0; f < m->g->nflows; f++)
			flow_free(&m->flows[f], m->g->flows[f].nsteps);
	free(m->flows);
	for (int i = 0; i < m->nparts; i++)
		free(m->parts[i].topic);
	for (int i = 0; i < m->nreasons; i++)
		free(m->reasons[i]);
	free(m->version);
	free(m);
}

const char *metrics_kind_name(int k)
{
	return k >= 0 && k < MX_NKINDS ? kind_names[k] : "unknown";
}

int metrics_kind_index(const char *name)
{
	for (int k = 0; k < MX_NKINDS; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

struct mx_flow *metrics_flow(struct metrics *m, int flow)
{
	return &m->flows[flow];
}

const struct flowgraph *metrics_graph(const struct metrics *m)
{
	return m->g;
}

int metrics_outcome_index(const struct metrics *m, int flow, const char *name)
{
	const struct mx_flow *mf = &m->flows[flow];
	for (int i = 0; i < mf->noutcomes; i++)
		if (strcmp(mf->outcomes[i], name) == 0)
			return i;
	return -1;
}

const char *metrics_outcome_name(const struct metrics *m, int flow, int i)
{
	return m->flows[flow].outcomes[i];
}

int metrics_nbuckets(const struct metrics *m, int latency)
{
	return latency ? m->nlat : m->ndur;
}

/* Buckets are few (<= 32): a linear scan beats a binary search's branches. */
void metrics_hist_observe(const struct metrics *m, struct mx_hist *h, int latency,
    double seconds)
{
	const double *b = h->bounds ? h->bounds : latency ? m->lat_b : m->dur_b;
	int n = h->bounds ? h->nb : latency ? m->nlat : m->ndur, i = 0;
	if (h->counts == NULL)
		return;
	while (i < n && seconds > b[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

double metrics_hist_quantile(const struct metrics *m, const struct mx_hist *h,
    int latency, double q)
{
	const double *b = h->bounds ? h->bounds : latency ? m->lat_b : m->dur_b;
	int n = h->bounds ? h->nb : latency ? m->nlat : m->ndur;
	if (h->counts == NULL || h->count == 0)
		return NAN;
	double rank = q * (double)h->count, cum = 0;
	for (int i = 0; i <= n; i++) {
		double c = (double)h->counts[i];
		if (cum + c >= rank && c > 0) {
			if (i == n)
				return b[n - 1];
			double lo = i == 0 ? 0 : b[i - 1];
			return lo + (b[i] - lo) * ((rank - cum) / c);
		}
		cum += c;
	}
	return b[n - 1];
}

void metrics_observe_step(struct metrics *m, int flow, int step, double seconds,
    fg_mask preds_happened)
{
	struct mx_flow *mf = &m->flows[flow];
	const struct fg_flow *f = &m->g->flows[flow];
	if (step < 0 || step >= f->nsteps)
		return;
	if (seconds >= 0)
		metrics_hist_observe(m, &mf->step_latency[step], 1, seconds);
	fg_mask preds = preds_happened & (f->steps[step].after | f->steps[step].after_any);
	while (preds) {
		int p = __builtin_ctzll(preds);
		preds &= preds - 1;
		mf->edge_count[step][p]++;
		if (seconds >= 0)
			metrics_hist_observe(m, &mf->edge_latency[step * f->nsteps + p], 1,
			    seconds);
	}
}

void metrics_observe_flow(struct metrics *m, int flow, int outcome, double seconds)
{
	struct mx_flow *mf = &m->flows[flow];
	if (outcome < 0 || outcome >= mf->noutcomes || seconds < 0)
		return;
	metrics_hist_observe(m, &mf->duration[outcome], 0, seconds);
}

double metrics_stall_threshold(const struct fg_flow *f, int step)
{
	const struct fg_step *st = &f->steps[step];
	if (st->start || st->optional || st->within_ns <= 0)
		return -1;
	double w = (double)st->within_ns / 1e9;
	if (f->deadline_ns <= 0)
		return 10 * w;
	double d = (double)f->deadline_ns / 1e9;
	return d > w ? (d - w) / 2 : -1;
}

void metrics_note_example(struct metrics *m, int flow, int step, int kind,
    const char *corr, int64_t at_ns)
{
	int slot = 0;
	while (slot < MX_NEXAMPLE_KINDS && example_kinds[slot] != kind)
		slot++;
	if (slot == MX_NEXAMPLE_KINDS || flow < 0 || flow >= m->g->nflows || step < 0 ||
	    step >= m->g->flows[flow].nsteps || corr == NULL)
		return;
	struct mx_flow *mf = &m->flows[flow];
	char *ex = mf->example[step][slot];
	if (ex[0] != '\0' && at_ns - mf->example_at_ns[step][slot] < MX_EXAMPLE_HOLD_NS)
		return;
	size_t n = strlen(corr);
	if (n >= MX_EXAMPLE_LEN) /* cut on a UTF-8 boundary: label values must stay UTF-8 */
		for (n = MX_EXAMPLE_LEN - 1; n > 0 && ((unsigned char)corr[n] & 0xC0) == 0x80; n--)
			;
	memcpy(ex, corr, n);
	ex[n] = '\0';
	mf->example_at_ns[step][slot] = at_ns;
}

int metrics_partition(struct metrics *m, const char *topic, int32_t partition)
{
	for (int i = 0; i < m->nparts; i++)
		if (m->parts[i].partition == partition && strcmp(m->parts[i].topic, topic) == 0)
			return i;
	if (m->nparts == MX_MAX_PARTITIONS) {
		m->dropped_series++;
		return -1;
	}
	char *t = strdup(topic);
	if (t == NULL)
		return -1;
	m->parts[m->nparts] = (struct mx_part){.topic = t, .partition = partition};
	return m->nparts++;
}

void metrics_consumed(struct metrics *m, int slot, uint64_t n)
{
	if (slot >= 0 && slot < m->nparts)
		m->parts[slot].consumed += n;
}

void metrics_set_consumed(struct metrics *m, int slot, uint64_t total)
{
	if (slot >= 0 && slot < m->nparts)
		m->parts[slot].consumed = total;
}

void metrics_set_rejected(struct metrics *m, const char *reason, uint64_t total)
{
	for (int i = 0; i < m->nreasons; i++) {
		if (strcmp(m->reasons[i], reason) == 0) {
			m->rejected[i] = total;
			return;
		}
	}
	metrics_rejected(m, reason, total);
}

void metrics_set_lag(struct metrics *m, int slot, int64_t lag)
{
	if (slot >= 0 && slot < m->nparts)
		m->parts[slot].lag = lag < 0 ? 0 : lag;
}

void metrics_rejected(struct metrics *m, const char *reason, uint64_t n)
{
	for (int i = 0; i < m->nreasons; i++) {
		if (strcmp(m->reasons[i], reason) == 0) {
			m->rejected[i] += n;
			return;
		}
	}
	if (m->nreasons == MX_MAX_REASONS || (m->reasons[m->nreasons] = strdup(reason)) == NULL) {
		m->dropped_series++;
		return;
	}
	m->rejected[m->nreasons++] = n;
}

void metrics_set_unmatched(struct metrics *m, uint64_t total)
{
	m->unmatched = total;
}

void metrics_set_kafka(struct metrics *m, int cut_off, uint64_t broker_errors)
{
	m->kafka_cut_off = cut_off;
	m->kafka_broker_errors = broker_errors;
}

void metrics_set_ready(struct metrics *m, int ready)
{
	m->ready = ready;
}

uint64_t metrics_consumed_total(const struct metrics *m)
{
	uint64_t t = 0;
	for (int i = 0; i < m->nparts; i++)
		t += m->parts[i].consumed;
	return t;
}

uint64_t metrics_rejected_total(const struct metrics *m)
{
	uint64_t t = 0;
	for (int i = 0; i < m->nreasons; i++)
		t += m->rejected[i];
	return t;
}

uint64_t metrics_unmatched_total(const struct metrics *m)
{
	return m->unmatched;
}

int64_t metrics_lag_total(const struct metrics *m)
{
	int64_t t = 0;
	for (int i = 0; i < m->nparts; i++)
		t += m->parts[i].lag;
	return t;
}

void metrics_http_count(struct metrics *m, int code)
{
	int i = 0;
	while (i < NCODES && http_codes[i] != code)
		i++;
	atomic_fetch_add_explicit(&m->http[i], 1, memory_order_relaxed);
}


/* ---- rendering ------------------------------------------------------------------ */

static void family(struct jbuf *b, const char *name, const char *type, const char *help)
{
	jbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{flow="F",<k>="<v>"} (the label set every per-flow series starts with) */
static void series(struct jbuf *b, const char *name, const char *flow, const char *k,
    const char *v)
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

static void render_hist(struct jbuf *b, const char *name, const char *flow,
    const char *k, const char *v, const struct mx_hist *h)
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
	family(b, "choreoscope_build_info", "gauge", "Build information; always 1.");
	jbuf_puts(b, "choreoscope_build_info{version=\"");
	jbuf_prom_label(b, m->version);
	jbuf_puts(b, "\"} 1\n");
	family(b, "choreoscope_ready", "gauge",
	    "1 once partitions are assigned and state is loaded.");
	jbuf_printf(b, "choreoscope_ready %d\n", m->ready ? 1 : 0);
	family(b, "choreoscope_kafka_cut_off", "gauge",
	    "1 while no partition leader has answered for 2 s (broker down, frozen or unreachable); "
	    "the wall clock is held meanwhile.");
	jbuf_printf(b, "choreoscope_kafka_cut_off %d\n", m->kafka_cut_off ? 1 : 0);
	family(b, "choreoscope_kafka_broker_errors_total", "counter",
	    "Errors librdkafka reported about the brokers (connection refused, all brokers down, ...).");
	jbuf_printf(b, "choreoscope_kafka_broker_errors_total %llu\n",
	    (unsigned long long)m->kafka_broker_errors);
	family(b, "choreoscope_events_consumed_total", "counter",
	    "Events read from the source, by topic and partition.");
	for (int i = 0; i < m->nparts; i++) {
		jbuf_puts(b, "choreoscope_events_consumed_total{topic=\"");
		jbuf_prom_label(b, m->parts[i].topic);
		jbuf_printf(b, "\",partition=\"%d\"} %llu\n", (int)m->parts[i].partition,
		    (unsigned long long)m->parts[i].consumed);
	}
	family(b, "choreoscope_consumer_lag", "gauge",
	    "Messages behind the partition's high watermark.");
	for (int i = 0; i < m->nparts; i++) {
		jbuf_puts(b, "choreoscope_consumer_lag{topic=\"");
		jbuf_prom_label(b, m->parts[i].topic);
		jbuf_printf(b, "\",partition=\"%d\"} %lld\n", (int)m->parts[i].partition,
		    (long long)m->parts[i].lag);
	}
	family(b, "choreoscope_events_rejected_total", "counter",
	    "Inputs that could not be decoded, by reason.");
	for (int i = 0; i < m->nreasons; i++) {
		jbuf_puts(b, "choreoscope_events_rejected_total{reason=\"");
		jbuf_prom_label(b, m->reasons[i]);
		jbuf_printf(b, "\"} %llu\n", (unsigned long long)m->rejected[i]);
	}
	family(b, "choreoscope_events_unmatched_total", "counter",
	    "Decoded events that belong to no declared flow.");
	jbuf_printf(b, "choreoscope_events_unmatched_total %llu\n",
	    (unsigned long long)m->unmatched);
	family(b, "choreoscope_metrics_series_dropped_total", "counter",
	    "Label values refused because a series bound was reached.");
	jbuf_printf(b, "choreoscope_metrics_series_dropped_total %llu\n",
	    (unsigned long long)m->dropped_series);
}

/* One gauge/counter family with one series per (flow, step). */
static void render_per_step(struct metrics *m, struct jbuf *b, const char *name,
    const char *type, const char *help, size_t off, int is_double)
{
	family(b, name, type, help);
	for (int f = 0; f < m->g->nflows; f++) {
		const struct fg_flow *fl = &m->g->flows[f];
		char *base = (char *)&m->flows[f] + off;
		for (int s = 0; s < fl->nsteps; s++) {
			series(b, name, fl->name, "step", fl->steps[s].name);
			if (is_double)
				jbuf_printf(b, "} %.6g\n", (*(double **)base)[s]);
			else
				jbuf_printf(b, "} %llu\n",
				    (unsigned long long)(*(uint64_t **)base)[s]);
		}
	}
}

/* The stall-age thresholds of metrics_stall_threshold, for the shipped alert rules. */
static void render_thresholds(struct metrics *m, struct jbuf *b)
{
	family(b, "choreoscope_stall_age_threshold_seconds", "gauge",
	    "Oldest-stall age the alert rules fire above: half of (flow deadline - step within).");
	for (int f = 0; f < m->g->nflows; f++) {
		const struct fg_flow *fl = &m->g->flows[f];
		for (int s = 0; s < fl->nsteps; s++) {
			double t = metrics_stall_threshold(fl, s);
			if (t < 0)
				continue;
			series(b, "choreoscope_stall_age_threshold_seconds", fl->name, "step",
			    fl->steps[s].name);
			jbuf_printf(b, "} %.6g\n", t);
		}
	}
}

/* One series per (flow, step, kind) that has had a stalled/abandoned verdict: the
 * latest example instance (see metrics_note_example), for alert annotations. */
static void render_examples(struct metrics *m, struct jbuf *b)
{
	family(b, "choreoscope_anomaly_example_info", "gauge",
	    "An example instance of the latest stalled/abandoned verdicts per step; always 1.");
	for (int f = 0; f < m->g->nflows; f++) {
		const struct fg_flow *fl = &m->g->flows[f];
		for (int s = 0; s < fl->nsteps; s++) {
			for (int k = 0; k < MX_NEXAMPLE_KINDS; k++) {
				const char *ex = m->flows[f].example[s][k];
				if (ex[0] == '\0')
					continue;
				series(b, "choreoscope_anomaly_example_info", fl->name, "step",
				    fl->steps[s].name);
				jbuf_printf(b, ",kind=\"%s\",correlation_id=\"", kind_names[example_kinds[k]]);
				jbuf_prom_label(b, ex);
				jbuf_puts(b, "\"} 1\n");
			}
		}
	}
}

static void render_flows(struct metrics *m, struct jbuf *b)
{
	const struct flowgraph *g = m->g;
	family(b, "choreoscope_flows_started_total", "counter", "Flow instances opened.");
	for (int f = 0; f < g->nflows; f++) {
		series(b, "choreoscope_flows_started_total", g->flows[f].name, NULL, NULL);
		jbuf_printf(b, "} %llu\n", (unsigned long long)m->flows[f].started);
	}
	family(b, "choreoscope_flows_in_flight", "gauge", "Open flow instances.");
	for (int f = 0; f < g->nflows; f++) {
		series(b, "choreoscope_flows_in_flight", g->flows[f].name, NULL, NULL);
		jbuf_printf(b, "} %llu\n", (unsigned long long)m->flows[f].in_flight);
	}
	family(b, "choreoscope_flows_closed_total", "counter",
	    "Flow instances closed, by outcome.");
	for (int f = 0; f < g->nflows; f++) {
		const struct mx_flow *mf = &m->flows[f];
		for (int o = 0; o < mf->noutcomes; o++) {
			series(b, "choreoscope_flows_closed_total", g->flows[f].name, "outcome",
			    mf->outcomes[o]);
			jbuf_printf(b, "} %llu\n", (unsigned long long)mf->closed[o]);
		}
	}
	family(b, "choreoscope_anomalies_total", "counter",
	    "Verdicts against the flow graph, by kind and step.");
	for (int f = 0; f < g->nflows; f++) {
		const struct fg_flow *fl = &g->flows[f];
		for (int s = 0; s <= fl->nsteps; s++) {
			for (int k = 0; k < MX_NKINDS; k++) {
				uint64_t v = m->flows[f].anomalies[s][k];
				if (s == fl->nsteps && v == 0)
					continue;
				series(b, "choreoscope_anomalies_total", fl->name, "kind", kind_names[k]);
				jbuf_puts(b, ",step=\"");
				jbuf_prom_label(b, s < fl->nsteps ? fl->steps[s].name : "");
				jbuf_printf(b, "\"} %llu\n", (unsigned long long)v);
			}
		}
	}
	render_per_step(m, b, "choreoscope_flows_stalled", "gauge",
	    "Open instances with this step stalled (past its deadline).",
	    offsetof(struct mx_flow, stalled_now), 0);
	render_per_step(m, b, "choreoscope_flows_awaiting", "gauge",
	    "Open instances expecting this step.", offsetof(struct mx_flow, awaiting_now), 0);
	render_per_step(m, b, "choreoscope_oldest_stall_age_seconds", "gauge",
	    "Age of the oldest current stall of this step (0 when none).",
	    offsetof(struct mx_flow, oldest_stall_s), 1);
	render_per_step(m, b, "choreoscope_flows_evicted_total", "counter",
	    "Instances evicted under the in-flight bound, by the step they awaited.",
	    offsetof(struct mx_flow, evicted), 0);
	render_thresholds(m, b);
	render_examples(m, b);
}

static void render_hists(struct metrics *m, struct jbuf *b)
{
	const struct flowgraph *g = m->g;
	family(b, "choreoscope_step_latency_seconds", "histogram",
	    "Time from a step becoming expected to its event.");
	for (int f = 0; f < g->nflows; f++)
		for (int s = 0; s < g->flows[f].nsteps; s++)
			render_hist(b, "choreoscope_step_latency_seconds_bucket", g->flows[f].name,
			    "step", g->flows[f].steps[s].name, &m->flows[f].step_latency[s]);
	family(b, "choreoscope_flow_duration_seconds", "histogram",
	    "Open-to-close time of closed flow instances, by outcome.");
	for (int f = 0; f < g->nflows; f++)
		for (int o = 0; o < m->flows[f].noutcomes; o++)
			render_hist(b, "choreoscope_flow_duration_seconds_bucket", g->flows[f].name,
			    "outcome", m->flows[f].outcomes[o], &m->flows[f].duration[o]);
}

int metrics_render(struct metrics *m, struct jbuf *b)
{
	jbuf_reset(b);
	render_global(m, b);
	render_flows(m, b);
	render_hists(m, b);
	return b->overflow ? -1 : 0;
}

/* ---- process_* from /proc/self ------------------------------------------------ */

static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double bt = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

/* Fields 14, 15 (utime, stime) and 22 (starttime) of /proc/self/stat, in ticks. */
static int read_stat(unsigned long long *utime, unsigned long long *stime,
    unsigned long long *start)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* after ") " comes field 3 (state) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
	        "%*d %*d %*d %llu", utime, stime, start) != 3)
		return -1;
	return 0;
}

static double process_start_time(void)
{
	unsigned long long u, s, st;
	if (read_stat(&u, &s, &st) < 0)
		return 0;
	return boot_time() + (double)st / (double)sysconf(_SC_CLK_TCK);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own fd */
}

void metrics_render_process(struct metrics *m, struct jbuf *b)
{
	unsigned long long ut = 0, st = 0, start = 0;
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long vsz = 0, rss = 0;
	struct rlimit rl = {0};
	read_stat(&ut, &st, &start);
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &vsz, &rss) != 2)
			vsz = rss = 0;
		fclose(f);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	double tck = (double)sysconf(_SC_CLK_TCK);
	family(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
	jbuf_printf(b, "process_cpu_seconds_total %.2f\n", (double)(ut + st) / tck);
	family(b, "process_resident_memory_bytes", "gauge", "Resident memory size.");
	jbuf_printf(b, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
	family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
	jbuf_printf(b, "process_virtual_memory_bytes %llu\n", vsz * (unsigned long long)page);
	family(b, "process_open_fds", "gauge", "Open file descriptors.");
	jbuf_printf(b, "process_open_fds %d\n", open_fds());
	family(b, "process_max_fds", "gauge", "Limit on open file descriptors.");
	jbuf_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	family(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch.");
	jbuf_printf(b, "process_start_time_seconds %.2f\n", m->start_time_s);
	family(b, "choreoscope_http_requests_total", "counter",
	    "HTTP answers by status code.");
	for (int i = 0; i <= NCODES; i++) {
		uint64_t v = atomic_load_explicit(&m->http[i], memory_order_relaxed);
		if (i < NCODES)
			jbuf_printf(b, "choreoscope_http_requests_total{code=\"%d\"} %llu\n",
			    http_codes[i], (unsigned long long)v);
		else
			jbuf_printf(b, "choreoscope_http_requests_total{code=\"other\"} %llu\n",
			    (unsigned long long)v);
	}
}
