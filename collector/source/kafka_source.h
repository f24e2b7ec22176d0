/*
 * kafka_source: the consumer-group side of the daemon, on librdkafka.
 *
 * Consumes the configured topics as a member of a consumer group with the tuned fetch
 * settings of shared/KAFKA-NOTES.md (fetch.wait.max.ms=10 etc.; any kafka.properties
 * override them). Offsets: enable.auto.offset.store=false; the caller hands each batch
 * back with ksrc_batch_done once the engine applied it, and only then are the batch's
 * offsets stored (and auto-committed every second, on revoke and at close). A message is therefore never committed before it was applied: a
 * restart or a broker outage resumes after the last applied message, neither losing
 * nor double counting.
 *
 * With durable state (ksrc_opts.manual_store) offsets are stored only by ksrc_store,
 * for what a checkpoint covers; the rebalance hooks let the owner checkpoint a
 * partition before it is handed back and load it (choosing the start offset) when it
 * is assigned. Messages of partitions no longer assigned, and messages before the next
 * offset expected (re-fetched after a partition was re-assigned at a checkpoint's
 * offset), are never handed out.
 *
 * Partitions get slots (0..max_partitions-1) on assignment; the slot indexes the
 * partclock (borrowed, updated here on assign/revoke/EOF/high watermark) and the
 * per-partition stats. Broker errors (unreachable, all brokers down) are logged
 * rate-limited; librdkafka keeps reconnecting on its own. Authentication and TLS
 * failures are told apart (ksrc_stats.security, counted) and logged as one error line
 * naming the cause, at most once per 30 s; librdkafka's own lines about them go to
 * debug. They clear once partitions are assigned or messages arrive.
 *
 * Threading: one thread (the daemon's main thread) calls everything but ksrc_kmsg;
 * librdkafka's callbacks (rebalance, error) run inside ksrc_poll on that thread.
 */
#ifndef CHOREOSCOPE_KAFKA_SOURCE_H
#define CHOREOSCOPE_KAFKA_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "lib/log.h"
#include "source/kmsg.h"
#include "source/partclock.h"

#define KSRC_MAX_BATCH 8192
/* Headers copied per message: the ceiling of limits.max_headers, so that a message
 * with more than that limit is always seen to have them (kmsg.nhdrs_all). */
#define KSRC_MAX_HEADERS CFG_MAX_HEADERS
#define KSRC_TOPIC_MAX 250

struct ksrc_opts {
	const char *brokers;
	const char *group_id;
	char *const *topics;
	int ntopics;
	char *const *prop_keys; /* passed through to librdkafka, after the defaults */
	char *const *prop_vals;
	int nprops;
	int max_partitions; /* slots; assignments beyond are logged and not tracked */
	bool manual_store;  /* offsets stored only through ksrc_store (durable state) */
	/* Rebalance hooks (NULL: none), called inside ksrc_poll on the caller's thread.
	 * on_assign: per partition once its slot is set up; may set *offset (the next offset
	 * to consume; left alone: the committed offset). on_revoke: per partition before the
	 * stored offsets are committed and the partition is handed back. */
	void (*on_assign)(
	    void *ctx, int slot, const char *topic, int32_t partition, int64_t *offset);
	void (*on_revoke)(void *ctx, int slot, const char *topic, int32_t partition);
	void *hook_ctx;
};

/* Why the consumer cannot get in, as far as librdkafka's error callback says. */
enum ksrc_security { KSRC_SEC_OK, KSRC_SEC_AUTH, KSRC_SEC_TLS };

/* One partition slot, for stats (/metrics: consumed and lag by topic/partition). */
struct ksrc_part {
	bool used; /* ever assigned (keeps its counters) */
	bool assigned;
	char topic[KSRC_TOPIC_MAX + 1];
	int32_t partition;
	uint64_t consumed;    /* messages handed out, decodable or not */
	int64_t position;     /* next offset to consume, -1 unknown */
	int64_t high;         /* last known high watermark, -1 unknown */
	int64_t lag;          /* high - position (0 when unknown) */
	int64_t store;        /* internal: offset to store at batch end, -1 none */
	int64_t next;         /* internal: next offset to hand out, -1 any */
	const char *name_ptr; /* internal: librdkafka's topic name pointer, for lookups */
};

struct ksrc_stats {
	uint64_t messages;      /* data messages handed out */
	uint64_t errors;        /* consumer errors (not EOF) */
	uint64_t broker_errors; /* error callback invocations */
	uint64_t rebalances;
	uint64_t untracked;          /* assignments beyond max_partitions */
	bool brokers_down;           /* last error said all brokers are down */
	uint64_t auth_failures;      /* SASL authentication refused (wrong user or password) */
	uint64_t tls_failures;       /* TLS handshakes failed (untrusted or bad certificate) */
	enum ksrc_security security; /* the last such failure, until partitions are assigned
	                                or messages arrive */
	char security_reason[256];   /* librdkafka's text of it */
	/* contact, from librdkafka's statistics (every KSRC_STATS_MS): the last time
	 * (monotonic ns, librdkafka's clock) anything was received from every broker that
	 * leads an assigned partition (the stalest of them); 0 until known */
	int64_t heard_mono_ns;
	int brokers_up; /* leaders of assigned partitions in state UP */
	int leaders;    /* brokers leading assigned partitions */
	uint64_t stats_parsed;
};

/* librdkafka statistics interval (ms); a kafka.properties statistics.interval.ms
 * overrides it (0 turns contact tracking off: never cut off, clock not held). */
#define KSRC_STATS_MS 200
/* No answer from a partition leader for this long: cut off. fetch.wait.max.ms is
 * 10 ms, so a reachable leader answers many times within it. */
#define KSRC_CUT_OFF_NS ((int64_t)2000 * 1000000)

/* One poll's worth of messages; slot[i] is msgs[i]'s partition slot (-1 untracked).
 * msgs[i] has everything but the headers (ksrc_kmsg adds them). The source owns the
 * messages until ksrc_batch_done; raw[] are its handles, for kafka_source.c only. */
struct ksrc_batch {
	struct kmsg msgs[KSRC_MAX_BATCH];
	int slot[KSRC_MAX_BATCH];
	void *raw[KSRC_MAX_BATCH];
	int n;
};

struct ksrc;

/* Authentication, TLS or neither, from a librdkafka error code and its text (0 and a
 * log line's text classify by text alone). */
enum ksrc_security ksrc_classify(int err, const char *reason);

int ksrc_new(const struct ksrc_opts *o, const struct log *lg, struct partclock *pc,
    struct ksrc **out, char *err, size_t errlen);
/* Leaves the group (committing what was stored), bounded by 5 s (KSRC_CLOSE_MS),
 * frees. NULL is a no-op. */
void ksrc_free(struct ksrc *ks);

/* Waits up to timeout_ms for messages; fills b (data messages only: end-of-partition
 * and errors are handled here). Returns b->n. */
int ksrc_poll(struct ksrc *ks, struct ksrc_batch *b, int timeout_ms);
/* Message i of b as a kmsg with its headers copied into hdrs[KSRC_MAX_HEADERS]
 * (out->nhdrs_all says how many it has when that is more). Any thread, one thread per
 * message, while the batch is out: it reads only that message. */
void ksrc_kmsg(const struct ksrc_batch *b, int i, struct ce_header *hdrs, struct kmsg *out);
/* The batch was applied: stores its offsets, refreshes watermarks, frees messages. */
void ksrc_batch_done(struct ksrc *ks, struct ksrc_batch *b);
/* Stores `offset` (the next to consume) of slot s for the next commit (manual_store). */
void ksrc_store(struct ksrc *ks, int slot, int64_t offset);
/* Commits the stored offsets without waiting. */
void ksrc_commit_async(struct ksrc *ks);

/* Refreshes high watermarks and lag of assigned partitions from librdkafka's cache
 * (no network); call every ~100 ms. */
void ksrc_tick(struct ksrc *ks);
/* Commits the stored offsets and waits up to timeout_ms for the result; 0 or negative
 * with err (also on timeout: the close commits again). */
int ksrc_commit(struct ksrc *ks, int timeout_ms, char *err, size_t errlen);

const struct ksrc_stats *ksrc_stats(const struct ksrc *ks);
/* How long (ns) nothing was heard from the leaders of the assigned partitions as of
 * mono_ns (log_mono_ns), by the last statistics: 0 while in contact or unknown. */
int64_t ksrc_silence_ns(const struct ksrc *ks, int64_t mono_ns);
/* Partition slots [0, *n). */
const struct ksrc_part *ksrc_parts(const struct ksrc *ks, int *n);

#endif
