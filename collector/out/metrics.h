/*
 * metrics: the collector's Prometheus metrics, kept as plain counters, gauges and
 * histograms by the engine thread and rendered to the text exposition format.
 *
 * Cost model: nothing here scans the flow table. Counters and gauges are copied from
 * the engine's own per-flow counters (metrics_engine.c) or bumped from its sink
 * callbacks; histograms are observed from step observations and flow records. The
 * engine thread renders the document every publish interval and hands it to the HTTP
 * threads through snapshot.c, so a scrape is a memcpy plus the process_* and HTTP
 * counters. Rendering keeps each flow's series as text and prints a flow again only
 * when one of its values changed (a fingerprint per flow): a render costs a hash per
 * flow, the printing of the flows that moved and a memcpy of the document.
 *
 * Series: labels come only from bounded sets (flow, step, kind, outcome, topic,
 * partition, reason, code); every declared flow/step/kind/outcome series exists from
 * the start at 0. Topic/partition and reason sets are registered on first use up to
 * MX_MAX_PARTITIONS / MX_MAX_REASONS; beyond that the values go to an overflow counter
 * (choreoscope_metrics_series_dropped_total), never to a new series.
 *
 * Threading: everything except metrics_http_count and metrics_render_process belongs
 * to the engine thread. metrics_http_count is atomic and may be called from any thread;
 * metrics_render_process reads only /proc and those atomics.
 */
#ifndef CHOREOSCOPE_METRICS_H
#define CHOREOSCOPE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/flowgraph.h"
#include "lib/jbuf.h"

#define MX_MAX_PARTITIONS 1024
#define MX_MAX_REASONS 32
#define MX_MAX_BUCKETS 32
#define MX_NKINDS 10        /* = AN__COUNT in engine.h, checked in metrics_engine.c */
#define MX_NEXAMPLE_KINDS 2 /* stalled, abandoned: the kinds the alert rules name */
#define MX_EXAMPLE_LEN 128  /* longer correlation ids are cut (an example, not a key) */
#define MX_EXAMPLE_HOLD_NS ((int64_t)30 * 1000000000) /* see metrics_note_example */
#define MX_OWNER_SLOTS 3 /* candidate sources per step for the learned owner */
#define MX_OWNER_LEN 64  /* longer sources are cut */

/* The learned owner of a step: the most frequent `source` of its events, by the
 * Misra-Gries summary (MX_OWNER_SLOTS counters; a source emitting more than a quarter
 * of the step's events is always among them, and one service per step, the usual
 * case, is exact). Bounded memory whatever the number of distinct sources. */
struct mx_owner {
	char name[MX_OWNER_SLOTS][MX_OWNER_LEN];
	uint64_t count[MX_OWNER_SLOTS];
};

struct mx_hist {
	uint64_t *counts; /* [nb + 1]: per bucket (not cumulative), last = +Inf */
	uint64_t count;
	double sum;
	const double *bounds; /* its finite bucket bounds (owned by the metrics), or NULL:
	                         the global latency/duration bounds */
	int nb;
};

/* Step latency buckets follow the step's deadline: a step with `within` W gets the
 * bounds W x MX_DEADLINE_FRACTIONS (a tenth of W up to 10 W, dense around W, so that a
 * p95 near the deadline is resolved to +-10 % and agrees with the stall verdicts);
 * steps without `within` use metrics.latency_buckets. */
#define MX_NDEADLINE_FRACTIONS 13

/* One declared flow. Written by the engine thread only. Arrays are sized by the
 * graph: steps (nsteps), outcomes (noutcomes, see metrics_outcome_index). */
struct mx_flow {
	uint64_t started;
	uint64_t in_flight;
	uint64_t *closed;                 /* [noutcomes] */
	uint64_t (*anomalies)[MX_NKINDS]; /* [nsteps + 1]: last row = no declared step */
	uint64_t *stalled_now;            /* [nsteps] */
	uint64_t *awaiting_now;           /* [nsteps] */
	double *oldest_stall_s;           /* [nsteps]; 0 when none stalled */
	int64_t *stall_since_ns;          /* [nsteps]: deadline of the oldest current stall,
	                                  INT64_MIN when none (see metrics_engine.c) */
	uint64_t *evicted;                /* [nsteps]: evictions by awaited step */
	double (*step_b)[MX_MAX_BUCKETS]; /* [nsteps]: latency bounds of each step */
	int *step_nb;                     /* [nsteps] */
	/* latest example instance per (step, example kind), see metrics_note_example */
	char (*example)[MX_NEXAMPLE_KINDS][MX_EXAMPLE_LEN]; /* [nsteps] */
	int64_t (*example_at_ns)[MX_NEXAMPLE_KINDS];        /* [nsteps] */
	struct mx_hist *step_latency;                       /* [nsteps] */
	struct mx_owner *owner;   /* [nsteps]: learned owners (metrics_step_owner) */
	struct mx_hist *duration; /* [noutcomes] */
	/* per-edge (pred -> step) counts and latency, for /api/v1/graphs */
	uint64_t (*edge_count)[FG_MAX_STEPS]; /* [nsteps][nsteps]: [to][from] */
	struct mx_hist *edge_latency;         /* [nsteps * nsteps] allocated lazily per flow */
	int noutcomes;
	const char **outcomes; /* names, borrowed from the graph or static */
	int used;              /* the flow ever held an instance (set by the sync
	                                  and the observe_* calls; whoever writes the
	                                  fields above directly sets it too, else a render
	                                  takes the flow to be still all zeros) */
	uint64_t fp;           /* a hash of every value above as of the last
	                                  metrics_render: equal, nothing shown changed */
};

struct metrics_opts {
	const struct flowgraph *graph; /* borrowed; must outlive the metrics */
	const double *latency_buckets; /* seconds ascending; NULL: defaults */
	int nlatency_buckets;
	const double *duration_buckets; /* seconds ascending; NULL: defaults */
	int nduration_buckets;
	const char *version;
};

struct metrics;

int metrics_new(const struct metrics_opts *o, struct metrics **out, char *err, size_t errlen);
void metrics_free(struct metrics *m);

/* Anomaly kind names in enum an_kind order ("stalled", ...); index or -1. */
const char *metrics_kind_name(int k);
int metrics_kind_index(const char *name);

/* Engine-thread accessors. */
struct mx_flow *metrics_flow(struct metrics *m, int flow);
const struct flowgraph *metrics_graph(const struct metrics *m);
/* Outcome slot of `name` in flow `flow`, or -1. Linear over a handful of names. */
int metrics_outcome_index(const struct metrics *m, int flow, const char *name);

/* Number of finite global buckets (counts arrays have one more, for +Inf). A histogram
 * with its own `bounds` (step latencies) has h->nb instead. */
int metrics_nbuckets(const struct metrics *m, int latency);
/* Quantile q (0..1) estimated from a histogram by linear interpolation inside the
 * bucket, as Prometheus' histogram_quantile does; NAN when empty. Bounds as above. */
double metrics_hist_quantile(
    const struct metrics *m, const struct mx_hist *h, int latency, double q);

/* source: the step's event's `source` (may be NULL), for the learned owner. */
void metrics_observe_step(struct metrics *m, int flow, int step, double seconds,
    fg_mask preds_happened, const char *source);
/* Who owes step `step` of flow f: its declared `owner` (*learned false), else the most
 * frequent source of its events so far (*learned true), else NULL. Engine thread. */
const char *metrics_step_owner(const struct metrics *m, int flow, int step, bool *learned);
void metrics_observe_flow(struct metrics *m, int flow, int outcome, double seconds);

/* The oldest-stall age (seconds) above which step `step` of flow f is alerted on, or
 * -1 when it cannot stall (start, optional, no `within`, or the flow's deadline comes
 * first). A stall starts at the step's deadline (becoming expected + within W) and
 * ends at the latest when the flow is abandoned at its deadline D after open, so it
 * can never be older than D - W: the threshold is half of that, reachable by any
 * stall that lasts; without a flow deadline stalls last until the step comes, and the
 * threshold is 10 W. Exported as choreoscope_stall_age_threshold_seconds and used by
 * gen-dashboards, so the shipped and the generated rules agree. */
double metrics_stall_threshold(const struct fg_flow *f, int step);

/* A stalled or abandoned verdict (other kinds are ignored) of instance `corr` on
 * step `step` at `at_ns`: becomes the (flow, step, kind) example shown by
 * choreoscope_anomaly_example_info, so that an alert can name one real instance. The
 * correlation id is a label of that one series, so the series set is bounded (one
 * per flow, step and kind) but its label value changes; to bound the churn of series
 * Prometheus sees, an example is kept at least MX_EXAMPLE_HOLD_NS (verdict time)
 * before a newer one replaces it. Engine thread; copies corr, never allocates. */
void metrics_note_example(
    struct metrics *m, int flow, int step, int kind, const char *corr, int64_t at_ns);

/* Topic/partition slot (registered on first use), or -1 when the bound is reached. */
int metrics_partition(struct metrics *m, const char *topic, int32_t partition);
void metrics_consumed(struct metrics *m, int slot, uint64_t n);
void metrics_set_lag(struct metrics *m, int slot, int64_t lag);
/* Sets the running total (for owners that keep their own counters). */
void metrics_set_consumed(struct metrics *m, int slot, uint64_t total);
void metrics_set_rejected(struct metrics *m, const char *reason, uint64_t total);
/* Adds n rejected inputs for `reason` (a short snake_case word). */
void metrics_rejected(struct metrics *m, const char *reason, uint64_t n);
void metrics_set_unmatched(struct metrics *m, uint64_t total);
void metrics_set_ready(struct metrics *m, int ready);
/* Totals of the Kafka connections refused for authentication and for TLS. */
void metrics_set_kafka_failures(struct metrics *m, uint64_t auth, uint64_t tls);
/* The consumer's contact: cut off (0/1) and librdkafka's error callbacks so far. */
void metrics_set_kafka(struct metrics *m, int cut_off, uint64_t broker_errors);

/* Totals for the JSON summary (engine thread). */
uint64_t metrics_consumed_total(const struct metrics *m);
uint64_t metrics_rejected_total(const struct metrics *m);
uint64_t metrics_unmatched_total(const struct metrics *m);
int64_t metrics_lag_total(const struct metrics *m);

/* Engine thread: copies the engines' per-flow counters, summed over the set
 * (metrics_engine.c). */
struct engine_set;
void metrics_sync_engine(struct metrics *m, const struct engine_set *es);

/* Any thread: counts one HTTP answer by status code. */
void metrics_http_count(struct metrics *m, int code);

/* Engine thread: renders every choreoscope_* family into b (b is reset first).
 * Returns 0, or -1 when b's cap was too small: b then holds the series of the flows
 * in use only (those never used are all 0), or if even those do not fit the
 * collector-wide families only, with a comment saying what was left out (a cut
 * exposition would break mid-line). */
int metrics_render(struct metrics *m, struct jbuf *b);
/* Any thread: appends process_* and choreoscope_http_requests_total to b. */
void metrics_render_process(struct metrics *m, struct jbuf *b);

#endif
