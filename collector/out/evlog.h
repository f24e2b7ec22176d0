/*
 * evlog: a bounded ring of the most recent events, copied, for timelines (the API's
 * one-flow view and the TUI's waterfall show each event with its source, offset and
 * attributes; the engine itself keeps none of that, by design: 256 bytes a flow).
 *
 * A byte ring of fixed capacity: appending overwrites the oldest events, so memory
 * is bounded whatever the traffic, and a flow's events are found while they are
 * among the most recent `capacity` bytes (the TUI looks at live flows). Lookup follows
 * a hash index of correlation ids: O(live records in the id's bucket), so the history
 * store can ask for every retired flow's events.
 * Engine thread only. Events longer than capacity/4 are dropped (counted).
 */
#ifndef CHOREOSCOPE_EVLOG_H
#define CHOREOSCOPE_EVLOG_H

#include <stddef.h>
#include <stdint.h>
#include "decode/event.h"

struct evlog;

struct evlog *evlog_new(size_t capacity_bytes);
void evlog_free(struct evlog *l);
/* Copies ev in. Never fails; an oversized event is counted and skipped. */
void evlog_add(struct evlog *l, const struct event *ev);
/* Calls fn for each kept event of correlation id `corr`, oldest first, until fn
 * returns non-zero. The event passed is valid during the call only; its attrs
 * array holds at most EV_MAX_ATTRS entries. Returns how many were visited. */
int evlog_find(const struct evlog *l, const char *corr,
    int (*fn)(void *arg, const struct event *ev), void *arg);
/* The same, also giving each event's arrival (wall clock when it was added, ns). */
typedef int (*evlog_visit_fn)(void *arg, const struct event *ev, int64_t arrival_ns);
int evlog_find_ex(const struct evlog *l, const char *corr, evlog_visit_fn fn, void *arg);
uint64_t evlog_added(const struct evlog *l);
uint64_t evlog_dropped(const struct evlog *l);

#endif
