/*
 * durable: the daemon's durable flow state (state.dir). Ties the engine's per-partition
 * state (engine_state.h) to checkpoint files (checkpoint.h) and to the consumer's
 * offsets (kafka_source.h):
 *  - every event is tagged with its partition (source = slot + 1) before it is applied;
 *  - every state.checkpoint_interval, and when a partition is revoked or the daemon
 *    stops, each assigned partition's flows are written with the offset they cover,
 *    and only then is that offset stored for commit (manual_store): a committed offset
 *    never runs ahead of a checkpoint;
 *  - on assignment the partition's checkpoint, if any, is loaded before any of its
 *    messages is applied, its partition clock restored, and consumption starts at the
 *    checkpoint's offset (the committed offset is only used without a checkpoint);
 *  - on revoke the partition's flows are checkpointed, then dropped from the engine
 *    (the next owner reports them; nothing is reported here).
 * Before a checkpoint is written the records file and the alert producer are flushed
 * (the flush hook), so that no verdict decided before the covered offset can be lost
 * by a crash after it. Output is therefore at-least-once: after a crash the messages
 * after the last checkpoint are judged again and their records written again, the
 * same records (same identity) as the first time.
 *
 * A checkpoint that cannot be used (damaged, another version or flow graph): with
 * state.on_bad_checkpoint=fail durable_failed() says so and the daemon exits 3; with
 * `fresh` the file is renamed to .bad and the partition starts without state.
 *
 * A checkpoint round: on the engine thread the outputs are flushed and every assigned
 * partition's flows exported in one walk of the engine (a few ms for 64 partitions);
 * a writer thread then writes, fsyncs and renames one file per partition and fsyncs
 * the directory once, while ingest goes on; a later tick stores the offsets of the
 * files now durable and commits them. One round is in flight at most (a tick while
 * the writer is busy waits for a later one); a revoke, an assignment, the final
 * forced round and durable_close first wait for the writer.
 *
 * With engine shards each shard has its own durable (its engine, its partition
 * clock, the partitions it owns: durable_opts.owner); they share the directory, one
 * file per partition, so a partition moves between shards or processes as its file.
 *
 * Threading: every function on the engine thread (the ksrc hooks run inside ksrc_poll
 * on it); the writer thread touches only the round's buffers and the file system.
 */
#ifndef CHOREOSCOPE_DURABLE_H
#define CHOREOSCOPE_DURABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"
#include "lib/log.h"
#include "source/kafka_source.h"
#include "source/partclock.h"

struct durable_opts {
	const char *dir;          /* state.dir */
	const char *group;        /* files go to dir/group/ */
	int64_t interval_ns;      /* state.checkpoint_interval */
	bool fresh_on_bad;        /* state.on_bad_checkpoint = fresh */
	void (*flush)(void *ctx); /* records and alerts out before a checkpoint */
	void *flush_ctx;
	/* Shards (cmd/shards.h): slot s is this durable's when owner[s] == shard; NULL:
	 * every slot. owner is borrowed and changes only on the engine thread. */
	const int *owner;
	int shard;
};

struct durable_stats {
	uint64_t checkpoints;    /* partition checkpoints written */
	uint64_t failures;       /* writes that failed (the offset then stays uncommitted) */
	uint64_t restored;       /* partitions loaded from a checkpoint */
	uint64_t restored_flows; /* instances loaded */
	uint64_t refused;        /* checkpoints refused */
	uint64_t unchanged;      /* partition files not rewritten: same offset, same state */
	uint64_t last_bytes;     /* size of the last round (all partitions) */
	int64_t last_round_ns;   /* duration of the last round */
};

struct durable;

int durable_new(const struct durable_opts *o, struct engine *e, struct partclock *pc,
    const struct log *lg, struct durable **out, char *err, size_t errlen);
void durable_free(struct durable *du);
/* The consumer, once created (its ksrc_opts carry durable_assign/durable_revoke). */
void durable_attach(struct durable *du, struct ksrc *ks);

/* ksrc hooks (ctx = the durable). */
void durable_assign(void *ctx, int slot, const char *topic, int32_t partition, int64_t *offset);
void durable_revoke(void *ctx, int slot, const char *topic, int32_t partition);

/* After every ksrc_poll, before its messages are applied: the engine clock of the
 * checkpoints loaded during the poll. */
void durable_after_poll(struct durable *du);
/* Tags the events of slot (-1: untracked) applied next. */
void durable_source(struct durable *du, int slot);
/* Checkpoints every assigned partition when the interval has passed (or `force`);
 * returns the number written. */
int durable_tick(struct durable *du, int64_t mono_ns, bool force);
/* No checkpoint after this (the daemon flushed its flows at the end of input). */
void durable_close(struct durable *du);

/* A checkpoint was refused and the policy is `fail`: why (else NULL). */
const char *durable_failed(const struct durable *du);
const struct durable_stats *durable_stats(const struct durable *du);

#endif
