/*
 * checkpoint: one partition's flow state on disk, with the input offset it covers
 * (Flink-style: the state is that of every message before `offset` applied, none after).
 *
 * File: DIR/TOPIC.PARTITION.ckpt. Layout (native endianness; the engine fingerprint
 * covers the layout too):
 *   "CHOREOCK" | u32 version (1) | u64 fingerprint | i64 offset | i64 partition clock |
 *   i64 engine clock | i64 written (wall ns) | i32 partition | u32 instances |
 *   u32 topic length | topic | u64 state length | state (engine_state blob) |
 *   u64 XXH3-64 of everything before | "CKEND\0\0\0"
 * Written atomically: a temporary file in DIR (name with the pid), fsync, rename over
 * the old one, fsync of DIR (one per round of partitions: ckpt_sync_dir). A writer killed at any point leaves the old file or the
 * new one, never half of one; a damaged file (truncated, flipped bits) fails the
 * checksum and is refused, as is one of another version or flow graph.
 *
 * No state here; each call is independent. Thread-safe as far as the file system is.
 */
#ifndef CHOREOSCOPE_CHECKPOINT_H
#define CHOREOSCOPE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_VERSION 1
#define CKPT_TOPIC_MAX 255

struct ckpt_meta {
	char topic[CKPT_TOPIC_MAX + 1];
	int32_t partition;
	int64_t offset;          /* next offset to consume: the state covers all before it */
	int64_t part_clock_ns;   /* the partition clock (largest event time), or INT64_MIN */
	int64_t engine_clock_ns; /* the engine clock (T_max) when written, or INT64_MIN */
	int64_t written_ns;      /* wall time written */
	uint64_t fingerprint;    /* engine_state_fingerprint of the writer */
	uint32_t instances;
};

/* DIR/TOPIC.PARTITION.ckpt into buf; -1 when it does not fit. */
int ckpt_path(char *buf, size_t n, const char *dir, const char *topic, int32_t partition);
/* mkdir -p; 0 or -1 with err. */
int ckpt_mkdirs(const char *dir, char *err, size_t errlen);

/* Writes m + state atomically (see above). 0, or -1 with err (the old file stays). */
int ckpt_write(const char *dir, const struct ckpt_meta *m, const void *state, size_t len, char *err,
    size_t errlen);
/* ckpt_write in two halves, for a round of many partitions: ckpt_write_file writes,
 * fsyncs and renames one file; ckpt_sync_dir then makes every rename done in DIR
 * durable with one fsync of DIR. A file is durable (may be relied upon, e.g. by
 * committing the offset it covers) only once ckpt_sync_dir returned 0 after it. */
int ckpt_write_file(const char *dir, const struct ckpt_meta *m, const void *state, size_t len,
    char *err, size_t errlen);
int ckpt_sync_dir(const char *dir, char *err, size_t errlen);

/* Reads the checkpoint of topic/partition. 1 and *m, *state (malloc'd, the caller
 * frees), *len; 0 when there is none; -1 when there is one that cannot be used: err
 * says which file and why (damaged, another version, another flow graph). */
int ckpt_read(const char *dir, const char *topic, int32_t partition, uint64_t fingerprint,
    struct ckpt_meta *m, void **state, size_t *len, char *err, size_t errlen);

/* Removes DIR's temporary files (*.ckpt.tmp.PID) left by writers that are gone (a
 * process killed mid-write); a live process's file stays. Returns how many. */
int ckpt_remove_stale(const char *dir);

/* Renames the partition's checkpoint to PATH.bad (the `fresh` fallback). 0 or -1. */
int ckpt_set_aside(const char *dir, const char *topic, int32_t partition);

#endif
