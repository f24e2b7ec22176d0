/*
 * api_render: the JSON documents of docs/API.md, rendered on the engine thread.
 *
 * Summary and graphs come from the metrics counters (no flow-table walk) and are
 * published every interval. The flows list and one flow's timeline need the flow
 * table: they are answered on request, through an introspection backend that the
 * engine's owner supplies (struct api_backend), so this module does not depend on
 * the engine's internals. The flows list keeps only the best offset+limit matches in
 * a bounded heap: O(N log K) over N instances, K <= AR_MAX_WINDOW.
 *
 * Threading: engine thread, except api_render_anomalies (any thread; reads a copy).
 */
#ifndef CHOREOSCOPE_API_RENDER_H
#define CHOREOSCOPE_API_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include "decode/event.h"
#include "engine/flowgraph.h"
#include "lib/jbuf.h"
#include "out/metrics.h"
#include "http/snapshot.h"

#define AR_MAX_LIMIT 1000
#define AR_PAGE_LIMIT 100   /* default page of flows, instances and graphs */
#define AR_MAX_WINDOW 11000 /* offset + limit */

enum api_step_status {
	AR_NOT_EXPECTED,
	AR_PENDING,
	AR_HAPPENED,
	AR_STALLED,
	AR_MISSING,
	AR_CANCELLED
};

struct api_step_view {
	uint8_t status;         /* enum api_step_status */
	uint32_t count;         /* times happened */
	int64_t happened_at_ns; /* first time, or INT64_MIN */
	int64_t expected_at_ns; /* INT64_MIN when never expected */
	int64_t deadline_ns;    /* INT64_MIN when none */
};

struct api_event_view {
	const char *event_id, *type, *source, *topic; /* topic NULL from a file */
	const char *key; /* the instance's key it arrived under (its correlation id or a
	                    linked key); NULL: the correlation id */
	int64_t time_ns;
	int32_t partition;
	int64_t offset;
	const struct ev_attr *attrs;
	uint32_t nattrs;
};

struct api_anomaly_view {
	int kind;
	int step; /* -1: none */
	int64_t at_ns;
};

/* One instance as the engine shows it; everything borrowed for the callback only. */
struct api_instance {
	int flow;
	const char *correlation_id;
	const char *outcome;          /* NULL while open */
	int64_t opened_ns, closed_ns; /* closed_ns INT64_MIN while open */
	uint32_t events;
	fg_mask awaiting, stalled;
	uint32_t kinds;                    /* bit k: an anomaly of kind k was reported */
	int last_step;                     /* -1 when unknown */
	const char *last_source;           /* NULL when unknown */
	const struct api_step_view *steps; /* [nsteps], or NULL */
	const char *const *linked;         /* [nlinked]: linked keys (a payment id) */
	uint32_t nlinked;
	/* Detail (lookup only; NULL/0 when the engine keeps none): */
	const struct api_event_view *evs;
	int nevs;
	const struct api_anomaly_view *anoms;
	int nanoms;
};

typedef int (*api_visit_fn)(void *arg, const struct api_instance *v);

struct api_backend {
	/* Calls fn for every instance (open and retained closed) of `flow` (-1: all)
	 * until fn returns non-zero. */
	void (*foreach)(void *ctx, int flow, api_visit_fn fn, void *arg);
	/* Calls fn once with the full view; 0 found, -1 unknown. */
	int (*lookup)(void *ctx, int flow, const char *corr, api_visit_fn fn, void *arg);
	/* The engine clock (T_max) in ns, for ages and overdue times. */
	int64_t (*now)(void *ctx);
	void *ctx;
};

enum api_state { AR_STATE_OPEN, AR_STATE_STALLED, AR_STATE_CLOSED, AR_STATE_ALL };
enum api_sort { AR_SORT_AGE, AR_SORT_OPENED, AR_SORT_CORR, AR_SORT_OVERDUE };

struct api_flows_args {
	int state, sort;
	bool asc;
	int flow, awaiting, kind; /* -1: any; awaiting needs flow unless unique */
	char awaiting_name[SNAP_STR];
	char q[SNAP_STR];
	char corr[SNAP_STR];        /* correlation_id=: exact match, "" any */
	char key[SNAP_STR];         /* key=: the correlation id or a linked key, "" any */
	char outcome[32];           /* outcome=: closed with this outcome, "" any */
	int64_t since_ns, until_ns; /* since=/until=: end (close, else open) time in
	                               [since, until); 0: unbounded */
	int limit, offset;
};

/* /api/v1/summary and /api/v1/graphs: a page of flows in declaration order, or the
 * one flow named. */
struct api_page_args {
	int flow; /* -1: every flow */
	int limit, offset;
};

struct api_timeline_args {
	int flow;
	char corr[512];
};

/* What the collector says about itself in the summary. */
struct api_self {
	const char *version, *instance, *clock;
	double uptime_s, events_per_s;
	bool ready;
	uint64_t memory_bytes;
	double *started_per_s, *completed_per_s; /* [nflows] */
};

/* Name lookups (linear; request paths only). -1 when unknown. */
int api_render_flow_index(const struct flowgraph *g, const char *name);
int api_render_step_index(const struct fg_flow *f, const char *name);

/* `,"owner":NAME|null,"owner_learned":BOOL` of a step (metrics_step_owner). */
void api_render_owner(struct metrics *m, int flow, int step, struct jbuf *b);

/* The summary and the graphs as paged documents (snapshot_publish_parts): b gets a
 * head (`{"collector":{...},` and `{`), then one JSON object per flow; ends[0] is
 * where the head ends, ends[f + 1] where flow f's object ends ([nflows + 1]).
 * With a cache (api_cache_new), a flow's object is rendered again only when its
 * values changed: mx_flow.fp, so metrics_render must have run just before. */
struct api_cache;
struct api_cache *api_cache_new(int nflows);
void api_cache_free(struct api_cache *c);
void api_render_summary(struct metrics *m, const struct api_self *self, struct jbuf *b,
    size_t *ends, struct api_cache *c);
void api_render_graphs(struct metrics *m, struct jbuf *b, size_t *ends, struct api_cache *c);
/* One page of them: head, "total", "offset", "limit", then "flows": [parts]. */
void api_render_page(const char *head, size_t headlen, const struct api_page_args *pa, int total,
    const char *parts, size_t partslen, struct jbuf *b);
/* Return the HTTP status (200, 404, 503 when no backend). */
int api_render_flows(struct metrics *m, const struct api_backend *be,
    const struct api_flows_args *a, struct jbuf *b);
int api_render_timeline(struct metrics *m, const struct api_backend *be,
    const struct api_timeline_args *a, struct jbuf *b);
void api_render_anomalies(
    const struct flowgraph *g, const struct snap_anomaly *as, int n, struct jbuf *b);

#endif
