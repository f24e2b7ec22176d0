/*
 * history: the store of retired flows (docs/history.md). Every flow instance the
 * engine retires is written, with its steps, its anomalies and its timeline (the
 * events the timeline ring still holds for it, also those that arrived under one of
 * its linked keys), and its linked keys (searchable), to one SQLite file,
 * DIR/history.db, so that a flow can be opened and searched after it left the
 * engine: by the API (history_read.h), by `choreoscope history`, by `sqlite3`.
 *
 * Two threads:
 *  - the engine thread calls the sink (history_sink), history_event and
 *    history_stats; at retire it copies the flow record, the instance's step views
 *    and its events into one allocation and appends it to a bounded queue. It never
 *    waits for the disk: when the queue is full the flow is dropped and counted.
 *    Anomalies go through the same queue as they are decided, and are linked to
 *    their flow when the flow is written (queue order is decision order);
 *  - a writer thread drains the queue in batched transactions (WAL mode), and
 *    enforces retention by age and by size continuously (each second).
 * A file that is not a database, or turns out damaged, is moved aside
 * (history.db.bad-UNIXTIME) and recreated, with one error line. A directory that
 * cannot be written, or a full disk, is logged (rate-limited) and counted in
 * `errors`; the batch is lost, the writer retries opening every few seconds, and
 * judging never notices.
 *
 * Counters are atomics: history_stats may be called from any thread.
 */
#ifndef CHOREOSCOPE_HISTORY_H
#define CHOREOSCOPE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"
#include "lib/log.h"

#define HISTORY_FILE "history.db"
#define HISTORY_SCHEMA_VERSION 2 /* 2: flow_keys, events.key (1 is migrated on open) */

struct history_opts {
	const char *dir;          /* created when missing; the file is dir/history.db */
	int64_t retention_ns;     /* rows retired longer ago are deleted; 0: keep */
	uint64_t max_bytes;       /* the oldest rows go beyond this (pages in use); 0: no bound */
	size_t queue_len;         /* flows (and anomalies) waiting for the writer at most */
	size_t max_attr_bytes;    /* attributes JSON kept per event at most */
	size_t timeline_bytes;    /* the ring of recent events timelines come from */
	const struct engine *eng; /* for the instances' step views at retire; may be NULL */
};

struct history_stats {
	uint64_t writes;    /* flows written */
	uint64_t drops;     /* flows and anomalies dropped (queue full, or a failed batch) */
	uint64_t errors;    /* failed opens, statements, commits */
	uint64_t recreated; /* damaged files moved aside and recreated */
	uint64_t bytes;     /* the file and its WAL, as last measured */
	uint64_t queued;    /* items waiting now (the writer's lag) */
	uint64_t deleted;   /* flows removed by retention */
	int64_t lag_ns;     /* age of the oldest item waiting, 0 when none */
};

struct history;

/* Starts the writer (the file is opened by it, so a bad directory is an error
 * counted later, not here). 0 and *out, or negative with err (out of memory,
 * thread). g and lg are borrowed and must outlive it. */
int history_new(const struct history_opts *o, const struct flowgraph *g, const struct log *lg,
    struct history **out, char *err, size_t errlen);
/* Writes what is queued, stops the writer, closes the file. NULL: no-op. */
void history_free(struct history *h);
/* The engine sink feeding h: register it with engine_new or engine_add_sink. */
void history_sink(struct history *h, struct engine_sink *sink);
/* Every event, before it is applied: kept in the timeline ring (engine thread). */
void history_event(struct history *h, const struct event *ev);
/* Timelines come from `ring` (borrowed; fed by its owner, e.g. the API's) instead of
 * a ring of the history's own, which is freed: one copy per event, not two.
 * history_event then does nothing. The ring must outlive the engine's callbacks. */
struct evlog;
void history_share_ring(struct history *h, const struct evlog *ring);
/* The engine whose instances' step views are copied at retire (engine_new needs the
 * sink first, so the engine comes after). Engine thread. */
void history_attach_engine(struct history *h, const struct engine *eng);
/* Blocks until everything queued so far is written (or failed) and a retention
 * round ran after it; for tests and the end of a replay. Not while held. */
void history_sync(struct history *h);
/* For tests: while held, the writer takes nothing from the queue (so that it fills). */
void history_hold(struct history *h, bool held);
void history_stats(const struct history *h, struct history_stats *out);
/* Appends the store's Prometheus metrics (choreoscope_history_*) to b; any thread
 * (ctx = the history, so that the HTTP server can call it without knowing it). */
struct jbuf;
void history_metrics(void *ctx, struct jbuf *b);
/* dir/history.db */
const char *history_path(const struct history *h);

#endif
