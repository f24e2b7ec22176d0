/*
 * engine: applies decoded events to flow instances and decides every verdict of
 * docs/semantics.md. No I/O: verdicts and flow records go to the sink callbacks.
 *
 * Threading: one thread owns an engine; every function here must be called from it.
 * Strings in callbacks are borrowed for the duration of the callback only.
 *
 * Time: the engine keeps T_max and one clock per flow graph, W = T_max - lateness.
 * With ENGINE_CLOCK_EVENTS (replay, --clock event over one source) engine_apply raises
 * T_max to the event's time; otherwise the owner drives T_max with engine_advance
 * (wall clock held back while lagging, or the minimum partition watermark).
 */
#ifndef CHOREOSCOPE_ENGINE_H
#define CHOREOSCOPE_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "decode/event.h"
#include "engine/flowgraph.h"

enum an_kind {
	AN_STALLED,
	AN_LATE,
	AN_MISSING,
	AN_OUT_OF_ORDER,
	AN_DUPLICATE,
	AN_DOUBLE_STEP,
	AN_RETRY_STORM,
	AN_UNEXPECTED,
	AN_JOIN_WAIT,
	AN_ABANDONED,
	AN__COUNT
};

/* "stalled", "late", ... as in docs/semantics.md. */
const char *an_kind_name(enum an_kind k);

/* Built-in outcomes beside the flow's own `end` names. */
#define OUTCOME_COMPLETED "completed"
#define OUTCOME_ABANDONED "abandoned"
#define OUTCOME_EVICTED "evicted"
#define OUTCOME_OPEN "open"

#define ENGINE_NO_TIME INT64_MIN

struct anomaly {
	const struct fg_flow *flow;
	const char *correlation_id;
	enum an_kind kind;
	const char *step;       /* NULL when the verdict names no step */
	int step_index;         /* index in flow->steps, or -1 (undeclared type, none) */
	int64_t at_ns;          /* the deterministic time that decided it */
	const struct event *ev; /* the event that revealed it, or NULL (a deadline) */
	int64_t overrun_ns;     /* late: event time - deadline */
	int64_t deadline_ns;    /* stalled, missing, join_wait, abandoned: the deadline */
	fg_mask awaiting;       /* join_wait: the branches awaited */
};

struct flow_record {
	const struct fg_flow *flow;
	const char *correlation_id;
	const char *outcome; /* an end name, "completed", "abandoned", "evicted", "open" */
	int64_t opened_ns;
	int64_t closed_ns; /* ENGINE_NO_TIME when open */
	uint32_t events;   /* every event applied, duplicates included */
	fg_mask awaiting;  /* open: non-optional steps currently expected */
};

/* A step happened on time or late: `latency_ns` from when it became expected (or
 * -1 for steps never expected: start steps, steps that came before their
 * predecessors). For metrics and per-edge latencies. */
struct step_obs {
	const struct fg_flow *flow;
	int step_index;
	int64_t latency_ns;
	fg_mask preds_happened; /* predecessors that had happened, for per-edge stats */
	const struct event *ev; /* the step's event (its source learns the owner) */
};

/* An output of the engine: records, alerts, the HTTP side and the history each
 * register one (engine_new's, then engine_add_sink's, called in that order). Any
 * callback may be NULL. Called on the engine thread, inside engine_apply/advance. */
struct engine_sink {
	void (*anomaly)(void *ctx, const struct anomaly *a);
	void (*flow)(void *ctx, const struct flow_record *r); /* instance retired */
	void (*step)(void *ctx, const struct step_obs *o);
	void *ctx;
};
#define ENGINE_MAX_SINKS 8

enum engine_clock { ENGINE_CLOCK_EVENTS, ENGINE_CLOCK_EXTERNAL };

struct engine_opts {
	enum engine_clock clock;
	size_t max_flows; /* 0: unbounded */
};

/* Per-flow counters, kept by the engine as it goes (no scans). */
struct engine_flow_stats {
	uint64_t started;
	uint64_t in_flight; /* open instances */
	uint64_t retained;  /* closed, kept for late events (close + lateness) */
	uint64_t evicted;
	uint64_t anomalies[AN__COUNT];
	uint64_t *closed_by_outcome; /* [noutcomes + 2]: flow outcomes, then abandoned, evicted
	                                  ("completed" from complete_when is outcomes' slot
	                                  for "completed", added by the engine if absent) */
	uint64_t *stalled_now;       /* [nsteps]: open instances with this step stalled */
	uint64_t *awaiting_now;      /* [nsteps]: open instances expecting this step */
	uint64_t *evicted_awaiting;  /* [nsteps]: evictions by the step they awaited */
	uint64_t (*anomalies_by_step)[AN__COUNT]; /* [nsteps][kind] */
};

struct engine_stats {
	uint64_t events; /* accepted (unmatched included) */
	uint64_t unmatched;
	uint64_t anomalies_undeclared[AN__COUNT]; /* verdicts whose step is no declared step */
	int64_t tmax_ns;                          /* ENGINE_NO_TIME before the first event */
};

struct engine;

/* 0 and *out, or negative with a reason in err. The graph is borrowed and must
 * outlive the engine. */
int engine_new(const struct flowgraph *g, const struct engine_opts *o,
    const struct engine_sink *sink, struct engine **out, char *err, size_t errlen);
void engine_free(struct engine *e);
/* One more output, after those registered before. -1 when ENGINE_MAX_SINKS are. */
int engine_add_sink(struct engine *e, const struct engine_sink *sink);

/* Applies one event (deadlines due before it fire first). Returns 1 when the event
 * was unmatched, 0 when applied. Never fails: bad events are the decoders' job. */
int engine_apply(struct engine *e, const struct event *ev);
/* Raises T_max to `tmax_ns` (never lowers it) and fires every deadline due. */
void engine_advance(struct engine *e, int64_t tmax_ns);
/* The same, firing at most `budget` deadlines: returns 1 when more are due (call
 * again, with the same or a later time, before applying further events, so that
 * deadlines still fire before the events they precede), 0 when caught up. Keeps a
 * daemon responsive when the clock jumps over millions of deadlines at once. */
int engine_advance_some(struct engine *e, int64_t tmax_ns, size_t budget);
/* End of input: lateness released (W = T_max), deadlines up to T_max fire, every
 * remaining instance is reported (closed ones with their outcome, others "open").
 * The engine is empty afterwards. */
void engine_finish(struct engine *e);

const struct engine_stats *engine_stats(const struct engine *e);
const struct engine_flow_stats *engine_flow_stats(const struct engine *e, int flow);
/* Outcome name for slot i of closed_by_outcome. */
const char *engine_outcome_name(const struct engine *e, int flow, int i);
int engine_noutcomes(const struct engine *e, int flow);

/* ---- introspection, for the HTTP API (engine thread only) ---- */

enum engine_step_status {
	ENGINE_STEP_NOT_EXPECTED,
	ENGINE_STEP_PENDING, /* expected, deadline not passed (or none) */
	ENGINE_STEP_HAPPENED,
	ENGINE_STEP_STALLED,   /* reported stalled, not happened */
	ENGINE_STEP_MISSING,   /* reported missing, not happened */
	ENGINE_STEP_CANCELLED, /* an alternative happened instead */
};

struct engine_step_view {
	uint8_t status;         /* enum engine_step_status */
	uint32_t count;         /* times happened (saturates at 255) */
	int64_t happened_at_ns; /* first occurrence, or ENGINE_NO_TIME */
	int64_t
	    expected_at_ns;  /* when it became (or would have become) expected, or ENGINE_NO_TIME */
	int64_t deadline_ns; /* expected_at + within, or ENGINE_NO_TIME */
};

/* One instance; every pointer is borrowed for the duration of the callback. */
struct engine_view {
	int flow;
	const char *correlation_id;
	const char *outcome;          /* NULL while open */
	int64_t opened_ns, closed_ns; /* closed_ns ENGINE_NO_TIME while open */
	uint32_t events;
	fg_mask awaiting; /* non-optional steps expected (open instances) */
	fg_mask stalled;  /* steps reported stalled and still not happened */
	uint32_t kinds;   /* bit k: a verdict of kind k on a declared step was reported */
	int last_step;    /* the step that happened last (arrival order), or -1 */
	const struct engine_step_view *steps; /* [nsteps] */
	const char *const *linked;            /* [nlinked]: its linked keys, in link order */
	uint32_t nlinked;
};

typedef int (*engine_visit_fn)(void *arg, const struct engine_view *v);

/* Calls fn for every instance (open, and closed ones still retained) of `flow`
 * (-1: every flow), oldest first, until fn returns non-zero. O(instances). */
void engine_foreach(const struct engine *e, int flow, engine_visit_fn fn, void *arg);
/* Calls fn once for the instance `corr` (primary key or linked key) of `flow`: the
 * open one, else the newest retained. 0 when found, -1 otherwise. */
int engine_lookup(
    const struct engine *e, int flow, const char *corr, engine_visit_fn fn, void *arg);

/* The deadline of the oldest current stall of `step` in `flow` (an open instance
 * reported stalled on it that still awaits it), or ENGINE_NO_TIME when none: the
 * age of the oldest stall is clock - this. Amortized O(log stalls). */
int64_t engine_oldest_stall(const struct engine *e, int flow, int step);

/* Bytes of memory held for flow state (slabs, tables), for metrics and benches. */
size_t engine_memory(const struct engine *e);
/* A cost counter since the start: watermark advances, clocks run (only those with a
 * deadline due, engine_clock.c), flows asked about an undeclared event, eviction steps.
 * Tests use it to show that per-event work does not grow with the declared flows. */
uint64_t engine_work(const struct engine *e);

/* Checks the engine's internal invariants; 0 when consistent. For tests. */
int engine_check(const struct engine *e, char *err, size_t errlen);

#endif
