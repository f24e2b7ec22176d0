/*
 * metrics: counters, gauges and histograms the engine thread keeps, and the process_*
 * series; metrics_render.c writes the exposition. See metrics.h for the cost model
 * and threading.
 *
 * Invariants: every array is sized at metrics_new from the graph and never grows;
 * partition and reason tables grow only up to their fixed bounds (first use mallocs
 * a copy of the topic or reason name, later uses do not allocate).
 */
#include "out/metrics_int.h"
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
#include <xxhash.h>

static const double default_latency[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	30, 60, 300 };
static const double default_duration[] = { 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
	3600 };
static const double deadline_fractions[MX_NDEADLINE_FRACTIONS] = { 0.1, 0.25, 0.5, 0.75, 0.9, 1,
	1.1, 1.25, 1.5, 2, 3, 5, 10 };
static const char *const kind_names[MX_NKINDS] = { "stalled", "late", "missing", "out_of_order",
	"duplicate", "double_step", "retry_storm", "unexpected", "join_wait", "abandoned" };
static const int http_codes[MX_NCODES] = { 200, 400, 401, 404, 405, 408, 413, 414, 421, 429, 431,
	500, 503 };
#define NCODES MX_NCODES

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
static void step_bounds(const struct metrics *m, const struct fg_step *st, double *dst, int *n)
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

static int set_buckets(double *dst, int *n, const double *src, int nsrc, const double *def,
    int ndef, const char *what, char *err, size_t errlen)
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
	add_outcome(mf->outcomes, &mf->noutcomes, "completed"); /* as the engine does */
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
	mf->owner = calloc((size_t)ns + 1, sizeof(*mf->owner));
	mf->step_b = calloc((size_t)ns + 1, sizeof(*mf->step_b));
	mf->step_nb = calloc((size_t)ns + 1, sizeof(int));
	mf->example = calloc((size_t)ns + 1, sizeof(*mf->example));
	mf->example_at_ns = calloc((size_t)ns + 1, sizeof(*mf->example_at_ns));
	mf->duration = calloc((size_t)mf->noutcomes, sizeof(struct mx_hist));
	mf->edge_count = calloc((size_t)ns + 1, sizeof(*mf->edge_count));
	mf->edge_latency = calloc((size_t)ns * (size_t)ns + 1, sizeof(struct mx_hist));
	if (!mf->closed || !mf->anomalies || !mf->stalled_now || !mf->awaiting_now ||
	    !mf->oldest_stall_s || !mf->evicted || !mf->stall_since_ns || !mf->step_latency ||
	    !mf->duration || !mf->edge_count || !mf->edge_latency || !mf->step_b || !mf->step_nb ||
	    !mf->example || !mf->example_at_ns || !mf->owner)
		return -1;
	for (int s = 0; s < ns; s++) {
		step_bounds(m, &f->steps[s], mf->step_b[s], &mf->step_nb[s]);
		if (hist_init(&mf->step_latency[s], mf->step_b[s], mf->step_nb[s]) < 0)
			return -1;
		/* an edge into s is s's latency from that predecessor: s's bounds */
		fg_mask preds = f->steps[s].after | f->steps[s].after_any;
		for (int p = 0; p < ns; p++)
			if ((preds & FG_BIT(p)) &&
			    hist_init(
				&mf->edge_latency[s * ns + p], mf->step_b[s], mf->step_nb[s]) < 0)
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
	free(mf->owner);
	free(mf->step_b);
	free(mf->step_nb);
	free(mf->example);
	free(mf->example_at_ns);
	free(mf->duration);
	free(mf->edge_count);
	free(mf->edge_latency);
}

static double process_start_time(void);

int metrics_new(const struct metrics_opts *o, struct metrics **out, char *err, size_t errlen)
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
	m->cache = calloc((size_t)m->g->nflows + 1, sizeof(struct mx_cache));
	m->fp = XXH3_createState();
	if (m->flows == NULL || m->cache == NULL || m->fp == NULL || m->version == NULL)
		goto oom;
	for (int f = 0; f < m->g->nflows; f++)
		jbuf_init(&m->cache[f].txt, (size_t)1 << 24);
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
	for (int f = 0; m->cache && f < m->g->nflows; f++)
		jbuf_free(&m->cache[f].txt);
	free(m->cache);
	XXH3_freeState(m->fp);
	for (int i = 0; i < m->nparts; i++)
		free(m->parts[i].topic);
	for (int i = 0; i < m->nreasons; i++)
		free(m->reasons[i]);
	free(m->version);
	free(m);
}

const char *metrics_kind_name(int k) { return k >= 0 && k < MX_NKINDS ? kind_names[k] : "unknown"; }

int metrics_kind_index(const char *name)
{
	for (int k = 0; k < MX_NKINDS; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

struct mx_flow *metrics_flow(struct metrics *m, int flow) { return &m->flows[flow]; }

const struct flowgraph *metrics_graph(const struct metrics *m) { return m->g; }

int metrics_outcome_index(const struct metrics *m, int flow, const char *name)
{
	const struct mx_flow *mf = &m->flows[flow];
	for (int i = 0; i < mf->noutcomes; i++)
		if (strcmp(mf->outcomes[i], name) == 0)
			return i;
	return -1;
}

int metrics_nbuckets(const struct metrics *m, int latency) { return latency ? m->nlat : m->ndur; }

/* Buckets are few (<= 32): a linear scan beats a binary search's branches. */
/* Observes into h's own bounds, or the global latency (latency != 0) or duration ones
 * when h has none. */
static void metrics_hist_observe(
    const struct metrics *m, struct mx_hist *h, int latency, double seconds)
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

double metrics_hist_quantile(
    const struct metrics *m, const struct mx_hist *h, int latency, double q)
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

/* Misra-Gries: a known source counts up, a new one takes a free slot, else every
 * count goes down by one (and a slot that reaches 0 frees up). */
static void owner_note(struct mx_owner *o, const char *src)
{
	int free_slot = -1;
	for (int k = 0; k < MX_OWNER_SLOTS; k++) {
		if (o->count[k] == 0) {
			if (free_slot < 0)
				free_slot = k;
		} else if (strncmp(o->name[k], src, MX_OWNER_LEN - 1) == 0) {
			o->count[k]++;
			return;
		}
	}
	if (free_slot >= 0) {
		snprintf(o->name[free_slot], MX_OWNER_LEN, "%s", src);
		o->count[free_slot] = 1;
		return;
	}
	for (int k = 0; k < MX_OWNER_SLOTS; k++)
		o->count[k]--;
}

const char *metrics_step_owner(const struct metrics *m, int flow, int step, bool *learned)
{
	return metrics_owner_of(&m->g->flows[flow], &m->flows[flow], step, learned);
}

const char *metrics_owner_of(
    const struct fg_flow *f, const struct mx_flow *mf, int step, bool *learned)
{
	*learned = false;
	if (step < 0 || step >= f->nsteps)
		return NULL;
	if (f->steps[step].owner != NULL)
		return f->steps[step].owner;
	const struct mx_owner *o = &mf->owner[step];
	int best = -1;
	for (int k = 0; k < MX_OWNER_SLOTS; k++)
		if (o->count[k] > 0 && (best < 0 || o->count[k] > o->count[best]))
			best = k;
	if (best < 0)
		return NULL;
	*learned = true;
	return o->name[best];
}

void metrics_observe_step(struct metrics *m, int flow, int step, double seconds,
    fg_mask preds_happened, const char *source)
{
	struct mx_flow *mf = &m->flows[flow];
	mf->used = 1;
	const struct fg_flow *f = &m->g->flows[flow];
	if (step < 0 || step >= f->nsteps)
		return;
	if (source != NULL && *source != '\0' && f->steps[step].owner == NULL)
		owner_note(&mf->owner[step], source);
	if (seconds >= 0)
		metrics_hist_observe(m, &mf->step_latency[step], 1, seconds);
	fg_mask preds = preds_happened & (f->steps[step].after | f->steps[step].after_any);
	while (preds) {
		int p = __builtin_ctzll(preds);
		preds &= preds - 1;
		mf->edge_count[step][p]++;
		if (seconds >= 0)
			metrics_hist_observe(
			    m, &mf->edge_latency[step * f->nsteps + p], 1, seconds);
	}
}

void metrics_observe_flow(struct metrics *m, int flow, int outcome, double seconds)
{
	struct mx_flow *mf = &m->flows[flow];
	mf->used = 1;
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

void metrics_note_example(
    struct metrics *m, int flow, int step, int kind, const char *corr, int64_t at_ns)
{
	int slot = 0;
	while (slot < MX_NEXAMPLE_KINDS && mx_example_kind(slot) != kind)
		slot++;
	if (slot == MX_NEXAMPLE_KINDS || flow < 0 || flow >= m->g->nflows || step < 0 ||
	    step >= m->g->flows[flow].nsteps || corr == NULL)
		return;
	struct mx_flow *mf = &m->flows[flow];
	mf->used = 1;
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
	m->parts[m->nparts] = (struct mx_part){ .topic = t, .partition = partition };
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

void metrics_set_unmatched(struct metrics *m, uint64_t total) { m->unmatched = total; }

void metrics_set_kafka(struct metrics *m, int cut_off, uint64_t broker_errors)
{
	m->kafka_cut_off = cut_off;
	m->kafka_broker_errors = broker_errors;
}

void metrics_set_ready(struct metrics *m, int ready) { m->ready = ready; }

void metrics_set_kafka_failures(struct metrics *m, uint64_t auth, uint64_t tls)
{
	m->kafka_auth_failures = auth;
	m->kafka_tls_failures = tls;
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

uint64_t metrics_unmatched_total(const struct metrics *m) { return m->unmatched; }

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
static int read_stat(
    unsigned long long *utime, unsigned long long *stime, unsigned long long *start)
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
	if (sscanf(p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
		"%*d %*d %*d %llu",
		utime, stime, start) != 3)
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
	struct rlimit rl = { 0 };
	read_stat(&ut, &st, &start);
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &vsz, &rss) != 2)
			vsz = rss = 0;
		fclose(f);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	double tck = (double)sysconf(_SC_CLK_TCK);
	metrics_family(
	    b, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
	jbuf_printf(b, "process_cpu_seconds_total %.2f\n", (double)(ut + st) / tck);
	metrics_family(b, "process_resident_memory_bytes", "gauge", "Resident memory size.");
	jbuf_printf(b, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
	metrics_family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
	jbuf_printf(b, "process_virtual_memory_bytes %llu\n", vsz * (unsigned long long)page);
	metrics_family(b, "process_open_fds", "gauge", "Open file descriptors.");
	jbuf_printf(b, "process_open_fds %d\n", open_fds());
	metrics_family(b, "process_max_fds", "gauge", "Limit on open file descriptors.");
	jbuf_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	metrics_family(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch.");
	jbuf_printf(b, "process_start_time_seconds %.2f\n", m->start_time_s);
	metrics_family(
	    b, "choreoscope_http_requests_total", "counter", "HTTP answers by status code.");
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
