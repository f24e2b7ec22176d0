/*
 * discover: a starter flow graph learned from recorded or live traffic.
 *
 * Events go in one at a time (discover_add); flows are stitched by (flow field,
 * correlation id) in a bounded in-flight table. When a flow closes (idle for
 * idle_ns of event time, evicted because max_flows are in flight, or at
 * discover_finish), it is folded into counters per event type and per ordered pair
 * of types, and forgotten: memory grows with the number of distinct types and
 * pairs (bounded by max_types and max_pairs), never with the number of flows.
 * discover_write_yaml turns the counters into a flow graph YAML that
 * `choreoscope --check-config` accepts, with the evidence as comments.
 *
 * The rules are in discover_graph.c and docs/discover.md. Single-threaded: one
 * discover object per thread. The event's strings are borrowed only during
 * discover_add.
 */
#ifndef CHOREOSCOPE_DISCOVER_H
#define CHOREOSCOPE_DISCOVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "decode/event.h"

struct discover_opts {
	size_t max_flows; /* flows in flight at most; the least recently seen is closed beyond it */
	int64_t idle_ns;  /* a flow with no event for this long (event time) is closed */
	double quantile;  /* gap quantile for `within` and `deadline`, in (0, 1): default 0.99 */
	double margin;    /* factor on that quantile, >= 1: default 3 */
	double min_support; /* noise threshold s in (0, 0.5): default 0.05 */
	size_t
	    max_types; /* distinct event types kept; events of further types are counted, not kept */
	size_t max_pairs; /* ordered pairs of types kept; further pairs are counted, not kept */
};

/* Fills in the defaults: 100000 flows, 1h idle, p99, margin 3, support 0.05,
 * 4096 types, 16384 pairs (about 2 KiB each). */
void discover_opts_default(struct discover_opts *o);

struct discover_stats {
	uint64_t events;         /* events added */
	uint64_t redeliveries;   /* skipped: event id already seen in the flow */
	uint64_t flows;          /* flows folded into the counters */
	uint64_t closed_idle;    /* ... of which closed by idle_ns */
	uint64_t closed_evicted; /* ... of which closed because max_flows were in flight */
	uint64_t in_flight;      /* flows in flight now */
	uint64_t peak_in_flight;
	uint64_t types;         /* distinct types kept */
	uint64_t pairs;         /* ordered pairs kept */
	uint64_t dropped_types; /* events whose type was beyond max_types */
	uint64_t dropped_pairs; /* pair observations beyond max_pairs */
	uint64_t truncated;     /* events of a flow past its bound of distinct types */
	uint64_t disordered;    /* events earlier (event time) than their flow's latest */
	uint64_t counter_bytes; /* bytes held by the type and pair counters */
	uint64_t table_bytes;   /* bytes held by the in-flight table (pool + index + ring) */
};

struct discover;

/* 0 and *out, or -1 with err (bad options, out of memory). */
int discover_new(const struct discover_opts *o, struct discover **out, char *err, size_t errlen);
/* NULL is a no-op. */
void discover_free(struct discover *d);

/* Adds one event. No malloc on this path except for a new type or pair, or when
 * the in-flight table grows (in chunks, up to max_flows). Returns 0. */
int discover_add(struct discover *d, const struct event *ev);

/* Closes every flow still in flight (end of input). discover_add may follow (a
 * live run that writes a snapshot and goes on). */
void discover_finish(struct discover *d);

void discover_get_stats(const struct discover *d, struct discover_stats *st);

/* Writes the flow graph YAML to out; with explain non-NULL, also one line per rule
 * with its reason. 0, -1 with err when no flow has enough support (nothing
 * learned) or on a write error. Call after discover_finish. */
int discover_write_yaml(struct discover *d, FILE *out, FILE *explain, char *err, size_t errlen);

#endif
