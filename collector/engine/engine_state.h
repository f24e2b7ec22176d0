/*
 * engine_state: export and import of flow instances by input source, for durable
 * state (collector/state/ writes the bytes into checkpoints).
 *
 * Every instance carries the source tag (a small integer chosen by the owner, e.g. the
 * Kafka partition's slot + 1; 0 = untagged) of the last event applied to it, set by
 * engine_state_set_source before engine_apply. A partition's state is then the set of
 * instances tagged with it: exported, dropped when the partition is revoked, imported
 * when it is assigned, without disturbing the instances of other sources.
 *
 * The byte format is this build's in-memory layout (native endianness, the instance
 * header as is, per-step arrays, keys and extras), guarded by engine_state_fingerprint:
 * a blob is only imported by an engine with the same fingerprint (same flow graphs,
 * same instance layout). Import restores the counters the engine keeps per flow
 * (in flight, retained, awaiting, stalled) exactly; totals (started, closed, anomalies)
 * belong to the process and are not part of the state. Imported instances are newest
 * for eviction. Timers are recomputed from the state (judge_rearm), not stored.
 *
 * Threading: the engine's thread, like every engine call.
 */
#ifndef CHOREOSCOPE_ENGINE_STATE_H
#define CHOREOSCOPE_ENGINE_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"

/* A growable byte buffer; oom set when a growth failed (the content is then short). */
struct es_buf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

void engine_state_buf_free(struct es_buf *b);
void engine_state_buf_put(struct es_buf *b, const void *p, size_t n);

/* Tag of the events applied from now on (0: untagged). */
void engine_state_set_source(struct engine *e, uint32_t src);

/* Hash of the flow graphs and of the instance layout; equal fingerprints can exchange
 * state. */
uint64_t engine_state_fingerprint(const struct engine *e);

/* Appends the instances tagged `src` (open, retained, detached; oldest first) to out.
 * Returns how many, or -1 when out of memory. */
long engine_state_export(const struct engine *e, uint32_t src, struct es_buf *out);

/* engine_state_export of every source 1..nsrc in one walk of the instances (a
 * checkpoint round of P partitions costs one pass, not P): outs[s - 1] is reset and
 * receives the blob of source s, counts[s - 1] its instances. Returns the total, or
 * -1 when out of memory (some blob is then short). */
long engine_state_export_all(
    const struct engine *e, uint32_t nsrc, struct es_buf *outs, uint32_t *counts);

/* Imports a blob written by engine_state_export of an engine with the same
 * fingerprint, tagging its instances `src`. The blob is validated whole first: on any
 * problem nothing is imported and -1 returns with the reason in err. Else the count.
 * The source must have no instances in this engine (drop them first). */
long engine_state_import(
    struct engine *e, uint32_t src, const void *p, size_t len, char *err, size_t errlen);

/* Removes every instance tagged `src` without reporting anything (the partition moved
 * away: its new owner reports them). Returns how many. */
long engine_state_drop(struct engine *e, uint32_t src);

/* Forgets the engine clock (T_max and every lateness clock back to ENGINE_NO_TIME)
 * when the engine holds no instance at all: after every partition was handed over
 * (an eager rebalance revokes them all), the clock is then rebuilt from the
 * partitions assigned next and never runs ahead of one it receives (a clock ahead
 * would fire the received flows' deadlines before their partition's own events).
 * 0 done, -1 when instances remain (nothing changed). */
int engine_state_reset_clock(struct engine *e);

/* Instances tagged `src`. O(instances). */
size_t engine_state_count(const struct engine *e, uint32_t src);

#endif
