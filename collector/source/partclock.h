/*
 * partclock: the engine clock of the live daemon, derived from per-partition clocks
 * (DESIGN.md "Time", docs/semantics.md "Time").
 *
 * Each assigned partition has a slot (an index the caller chooses, < max_slots).
 *  - wall mode: a partition's clock is the wall clock while the consumer is caught up
 *    on it (it consumed up to the high watermark, or librdkafka reported its end);
 *    while it lags, the time of the last message consumed from it (never above the
 *    wall clock). So a lagging collector flags no stall whose event may still sit
 *    unread in Kafka.
 *  - event mode: a partition's clock is the largest event time consumed from it;
 *    partitions at their end do not hold the clock back; when all are at their end
 *    the clock is the largest event time of any of them.
 * The engine clock is the minimum over assigned partitions. It is PARTCLOCK_NONE
 * ("do not advance") while nothing is assigned or some lagging partition has not
 * delivered a time yet. The engine never lowers its clock, so callers pass the
 * result to engine_advance as is.
 *
 * Cost: O(1) per message, O(slots) per partclock_now (called once per batch/tick).
 * Single-threaded; time is always passed in (no clock reads here), so tests are exact.
 */
#ifndef CHOREOSCOPE_PARTCLOCK_H
#define CHOREOSCOPE_PARTCLOCK_H

#include <stddef.h>
#include <stdint.h>

#define PARTCLOCK_NONE INT64_MIN

enum partclock_mode { PARTCLOCK_WALL, PARTCLOCK_EVENT };

struct partclock;

int partclock_new(
    enum partclock_mode mode, int max_slots, struct partclock **out, char *err, size_t errlen);
void partclock_free(struct partclock *pc);
enum partclock_mode partclock_mode(const struct partclock *pc);

/* A partition was assigned to slot / revoked from it. Assigning resets the slot. */
void partclock_assign(struct partclock *pc, int slot);
void partclock_revoke(struct partclock *pc, int slot);

/* One message consumed at `offset`; `time_ns` is its event time (or, when it could
 * not be decoded, its Kafka timestamp or PARTCLOCK_NONE). */
void partclock_message(struct partclock *pc, int slot, int64_t offset, int64_t time_ns);
/* The partition's high watermark as last seen (offset of the next message to be
 * produced). Caught up when the next offset to consume reaches it. */
void partclock_high(struct partclock *pc, int slot, int64_t high);
/* librdkafka reported the end of the partition at `offset` (PARTITION_EOF). */
void partclock_eof(struct partclock *pc, int slot, int64_t offset);

/* Copies slot's position (next offset, high watermark, at end) from src, keeping dst's
 * times: a shard's clock (cmd/shards.h) learns from the source's clock, which sees
 * every message's offset and the EOF and watermark reports, where its partitions are;
 * the times are those of the events the shard judged. Only for an assigned dst slot. */
void partclock_copy_position(struct partclock *dst, const struct partclock *src, int slot);

/* The partition's largest event time consumed (PARTCLOCK_NONE: none), for checkpoints;
 * partclock_restore sets it back after partclock_assign (a partition resumed from a
 * checkpoint holds the clock where it was, not at its first message after it). */
int64_t partclock_max(const struct partclock *pc, int slot);
void partclock_restore(struct partclock *pc, int slot, int64_t max_ns);

/* 1 when at least one partition is assigned and every assigned one is at its end. */
int partclock_all_at_end(const struct partclock *pc);
int partclock_assigned(const struct partclock *pc);

/* The engine clock at wall time `wall_ns`, or PARTCLOCK_NONE. */
int64_t partclock_now(const struct partclock *pc, int64_t wall_ns);

#endif
