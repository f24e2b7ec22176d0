/*
 * shards: the daemon's engine split into N shards (engine.threads). Each shard owns
 * the flows, timers and state of a set of partitions: its own engine, its own
 * partition clock (the partitions it owns), its own decoder, its own durable state
 * (the checkpoint unit of its partitions). A partition slot belongs to shard
 * slot % N for the life of the process (slots are stable, kafka_source.h), so a
 * rebalance moves whole partitions, as their checkpoint files.
 *
 * Rounds: per poll batch the main thread splits the batch by shard into per-shard
 * index arrays (no lock per event), wakes the shard threads (one mutex + condvar per
 * shard), judges shard 0's part itself and waits until every shard finished; only
 * then are the batch's offsets stored. Advancing the clocks is a round of its own
 * (each shard to its own partition clock). Between rounds every shard thread is
 * parked, so the main thread reads every engine (API, metrics, checkpoints, the
 * rebalance hooks) without locks: engine_set.h reads them as one collector.
 * With N = 1 no thread is started and nothing is locked: the main thread judges,
 * exactly as before shards.
 *
 * Shared outputs (records, alerts, the HTTP side, the history store, the event ring)
 * are registered once with shards_add_sink / the event hooks; with N > 1 each shard's
 * engine has one fan sink that takes one output mutex per verdict or retired flow and
 * calls every shared output in order, so two shards never write an output at once.
 * Step observations (one per event) take no lock: kept per shard, delivered by the
 * main thread after the round. The API's rings of recent events are one per shard.
 *
 * The clock: a shard's clock is the minimum over its own partitions, so it never runs
 * ahead of a partition it reads; a flow lives in one partition (correlation ids are
 * keyed), so its verdicts are those of one thread (docs/semantics.md "Determinism").
 * A flow whose events arrive on two partitions of two shards is two instances, one per
 * shard, each judged on its own events: what two members of a consumer group do.
 *
 * Threading: every function on the main thread, with the shards parked, except what
 * the shards call (the hooks and sinks, with N > 1 under the output mutex).
 */
#ifndef CHOREOSCOPE_SHARDS_H
#define CHOREOSCOPE_SHARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "engine/engine.h"
#include "engine/engine_set.h"
#include "lib/log.h"
#include "source/kafka_source.h"
#include "source/partclock.h"
#include "state/durable.h"

#define SHARDS_MAX ENGINE_SET_MAX

/* What a shard hands to the outputs, per message. event: decoded, before shard
 * `shard` applies it, on the shard's thread and without a lock (per-shard outputs:
 * the API's event rings). event_locked and reject: under the output lock (N > 1). */
struct shards_hooks {
	void (*event)(void *ctx, int shard, const struct event *ev);
	void (*event_locked)(void *ctx, const struct event *ev);
	void (*reject)(void *ctx, const struct kmsg *km, const char *reason);
	void *ctx;
};

struct shards_opts {
	int n;                     /* shards, resolved (shards_resolve) */
	const struct config *cfg;  /* the graph, the decoder's settings, limits.max_flows */
	struct partclock *src_pc;  /* the source's clock; with N = 1 also the shard's */
	int max_slots;             /* partition slots of the source (ksrc_opts.max_partitions) */
	struct shards_hooks hooks; /* copied */
	const struct log *lg;
};

struct shards;

/* engine.threads as a shard count: 0 = online cores, capped at SHARDS_MAX and at
 * `partitions` when that is > 0. */
int shards_resolve(uint32_t threads, int partitions);
/* Sets (or clears, NULL) the event_locked hook: before the first round only. A hook
 * that would do nothing is better cleared, since it costs the output lock per event. */
void shards_set_event_locked(struct shards *s, void (*fn)(void *ctx, const struct event *ev));

/* Starts N - 1 threads (none for N = 1). 0 and *out, or negative with err. */
int shards_new(const struct shards_opts *o, struct shards **out, char *err, size_t errlen);
/* Stops the threads, frees the engines, clocks, decoders and durables. NULL: no-op. */
void shards_free(struct shards *s);

/* A shared output, registered before the first event. With N > 1 its anomaly and
 * flow callbacks run under the output lock; its step callbacks (one per event: the
 * metrics' latencies) are kept per shard during a round, with the event's source only
 * (o->ev->source; the other event fields are empty), and delivered by the main thread
 * after the round, without a lock. enter (may be NULL) is called, under the lock, with
 * the calling shard's engine and index before each anomaly or flow callback (the
 * history store reads the retiring instance and its events from that shard; with
 * N = 1 it is called once, here). -1 when too many sinks. */
typedef void (*shards_enter_fn)(void *enter_ctx, const struct engine *e, int shard);
int shards_add_sink(
    struct shards *s, const struct engine_sink *sink, shards_enter_fn enter, void *enter_ctx);

/* Durable state per shard (state.dir): durable_new for each, with its engine, its
 * clock and its share of the slots. 0 or negative with err. */
int shards_open_durable(struct shards *s, const struct durable_opts *o, char *err, size_t errlen);
/* Each shard's durable (NULL without state.dir). */
struct durable *shards_durable(const struct shards *s, int i);
/* ksrc hooks (ctx = the shards): the slot's shard gets the partition (its clock, its
 * checkpoint) / gives it back. */
void shards_assign(void *ctx, int slot, const char *topic, int32_t partition, int64_t *offset);
void shards_revoke(void *ctx, int slot, const char *topic, int32_t partition);

/* One round: every message of b judged by its slot's shard; returns when all are. */
void shards_apply(struct shards *s, const struct ksrc_batch *b);
/* One round: each shard advances its clock to its partitions' clock at wall time
 * bound, firing at most `budget` deadlines. Returns true while a shard has deadlines
 * still due (no event may be applied before they fired). */
bool shards_advance(struct shards *s, int64_t bound, size_t budget);
/* End of input: engine_finish on every shard (records "open" flows). */
void shards_finish(struct shards *s);

int shards_count(const struct shards *s);
/* The engines, to be read as one collector. */
const struct engine_set *shards_engines(const struct shards *s);
struct engine *shards_engine(const struct shards *s, int i);

#endif
