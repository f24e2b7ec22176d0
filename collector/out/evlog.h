/*
 * evlog: a bounded ring of the most recent events, copied, for timelines (the API's
 * one-flow view and the TUI's waterfall show each event with its source, offset and
 * attributes; the engine itself keeps none of that, by design: 256 bytes a flow).
 *
 * A byte ring of fixed capacity: appending overwrites the oldest events, so memory
 * is bounded whatever the traffic, and a flow's events are found while they are
 * among the most recent `capacity` bytes (the TUI looks at live flows). Lookup follows
 * a hash index of keys: O(live records in the key's bucket), so the history store can
 * ask for every retired flow's events. A record is indexed under its correlation id
 * and, once evlog_index_graph named them, under the values of the flows' linked-key
 * attributes (`keys:`, a step's `key:`), so that an event that arrived under a linked
 * key (a payment id) is found with its flow.
 * Engine thread only. Events longer than capacity/4 are dropped (counted).
 */
#ifndef CHOREOSCOPE_EVLOG_H
#define CHOREOSCOPE_EVLOG_H

#include <stddef.h>
#include <stdint.h>
#include "decode/event.h"

struct evlog;
struct flowgraph;

/* Linked-key attributes indexed per record at most (beyond: not indexed, counted). */
#define EVLOG_MAX_KEY_ATTRS 8

struct evlog *evlog_new(size_t capacity_bytes);
void evlog_free(struct evlog *l);
/* Indexes records added from now on also under the values of every flow's `keys`
 * attributes (fg_flow.keys, which include the steps' `key:`); g is only read here.
 * 0, or -1 when there are more than EVLOG_MAX_KEY_ATTRS distinct ones (the first are
 * kept). */
int evlog_index_graph(struct evlog *l, const struct flowgraph *g);
/* Copies ev in. Never fails; an oversized event is counted and skipped. */
void evlog_add(struct evlog *l, const struct event *ev);
/* Calls fn for each kept event indexed under `corr` (its correlation id, or a linked
 * key attribute's value), oldest first, until fn
 * returns non-zero. The event passed is valid during the call only; its attrs
 * array holds at most EV_MAX_ATTRS entries. Returns how many were visited. */
int evlog_find(const struct evlog *l, const char *corr,
    int (*fn)(void *arg, const struct event *ev), void *arg);
/* The same, also giving each event's arrival (wall clock when it was added, ns). */
typedef int (*evlog_visit_fn)(void *arg, const struct event *ev, int64_t arrival_ns);
int evlog_find_ex(const struct evlog *l, const char *corr, evlog_visit_fn fn, void *arg);
/* An instance's timeline: every kept event indexed under any of keys[0..nkeys-1],
 * once, oldest first (arrival order), until fn returns non-zero; `key` (one of
 * keys) is the first of keys the event carries: keys[0], the instance's own key,
 * when it carries it. Returns how many were visited. */
typedef int (*evlog_key_visit_fn)(
    void *arg, const struct event *ev, int64_t arrival_ns, const char *key);
int evlog_find_keys(
    const struct evlog *l, const char *const *keys, int nkeys, evlog_key_visit_fn fn, void *arg);
uint64_t evlog_added(const struct evlog *l);
uint64_t evlog_dropped(const struct evlog *l);

#endif
