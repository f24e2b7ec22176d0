/*
 * snapshot: the only place where the engine thread and the HTTP threads meet.
 *
 * - Published documents (/metrics text, summary and graphs JSON): the engine thread
 *   renders into its own jbuf and swaps it in under a mutex (no copy); an HTTP thread
 *   copies the current one out under the same mutex (a memcpy of tens of KiB).
 * - Recent anomalies: a bounded ring of fixed-size records (oldest overwritten).
 * - Queries that need the flow table (flows list, one timeline): an HTTP thread queues
 *   a request and waits; the engine thread answers between events in
 *   snapshot_serve(), so flow state is only ever touched by its owner. The queue is
 *   bounded (SNAP_MAX_PENDING): when full, callers get 503 at once; a request not
 *   picked up within its timeout is withdrawn (503); one being answered is waited for.
 * - Readiness: a flag and a reason.
 * Invariant: no engine-owned pointer ever crosses to an HTTP thread.
 */
#ifndef CHOREOSCOPE_SNAPSHOT_H
#define CHOREOSCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/jbuf.h"

enum snap_doc { SNAP_METRICS, SNAP_SUMMARY, SNAP_GRAPHS, SNAP__NDOCS };

#define SNAP_MAX_PENDING 64
#define SNAP_RING 1024
#define SNAP_STR 128

struct snap_anomaly {
	int flow; /* index in the graph */
	int kind; /* enum an_kind */
	int step; /* step index or -1 */
	int64_t at_ns;
	char correlation_id[SNAP_STR];
	char source[64];
	char owner[64]; /* stalled, missing, abandoned, late: who owes the step, or "" */
	bool owner_learned;
};

/* A request the engine thread answers. The asker owns it (usually on its stack). */
struct snap_query {
	int kind;         /* the answerer's request kind */
	const void *args; /* borrowed by the answerer while answering */
	int status;       /* HTTP status set by the answerer */
	struct jbuf out;  /* the answer body, filled by the answerer */
	/* private */
	int state;
	struct snap_query *next;
};

typedef void (*snap_answer_fn)(void *ctx, struct snap_query *q);

struct snapshot;

int snapshot_new(struct snapshot **out, char *err, size_t errlen);
void snapshot_free(struct snapshot *s);

/* Engine thread: publishes b's content; b gets the previous buffer (reset) back. */
void snapshot_publish(struct snapshot *s, enum snap_doc d, struct jbuf *b);
/* Any thread: appends the current document to out; -1 when none published yet. */
int snapshot_copy(struct snapshot *s, enum snap_doc d, struct jbuf *out);

/* A paged document (the summary, the graphs: one part per flow, so that an answer
 * copies one page, not every flow): b holds a head and then n parts; ends[0] is where
 * the head ends, ends[i + 1] where part i ends. The n + 1 ends are copied under the
 * lock. Engine thread. */
void snapshot_publish_parts(
    struct snapshot *s, enum snap_doc d, struct jbuf *b, const size_t *ends, int n);
/* Any thread: appends the head of d to head and its parts [first, first + count)
 * (clipped to those published) to parts, separated by `,`; *n = the number of parts.
 * O(head + page) under the lock. -1 when none published yet. */
int snapshot_copy_parts(struct snapshot *s, enum snap_doc d, int first, int count,
    struct jbuf *head, struct jbuf *parts, int *n);

void snapshot_set_ready(struct snapshot *s, bool ready, const char *reason);
bool snapshot_ready(struct snapshot *s, char *reason, size_t len);

/* Engine thread: records one anomaly in the ring. */
void snapshot_anomaly(struct snapshot *s, const struct snap_anomaly *a);
/* Any thread: copies up to `max` newest anomalies (newest first) matching flow/kind
 * (-1 = any) into out; returns how many. */
int snapshot_anomalies(struct snapshot *s, int flow, int kind, struct snap_anomaly *out, int max);

/* Any thread: the ring's anomalies of one instance (newest first); returns how many. */
int snapshot_anomalies_of(
    struct snapshot *s, int flow, const char *corr, struct snap_anomaly *out, int max);

/* HTTP thread: queues q and waits up to timeout_ms for the engine's answer.
 * 0 answered (q->status, q->out set); -1 busy or timed out (nothing was answered). */
int snapshot_ask(struct snapshot *s, struct snap_query *q, int timeout_ms);
/* Engine thread: answers up to `max` queued requests with fn, oldest first. Cheap
 * when none are queued (one atomic load), so it can run every poll iteration.
 * Returns how many answered. */
int snapshot_serve(struct snapshot *s, snap_answer_fn fn, void *ctx, int max);
/* Any thread: requests waiting (a hint; may be stale at once). */
int snapshot_pending(struct snapshot *s);

#endif
