/*
 * daemon: the live collector's loop (Kafka consumer group -> decode -> engine ->
 * records, alert topic), and what it publishes for the HTTP server.
 *
 * The loop is a small dispatch: poll a batch (at most DAEMON_POLL_MS), apply it, store
 * its offsets, advance the engine clock, and every DAEMON_TICK_MS run the tick
 * (watermarks, lag, delivery reports, the stats snapshot and the poll hook). The HTTP
 * server (branch http) registers as the hook: it is called on the main thread with
 * the current view and may read everything in it until it returns.
 *
 * Threading: everything here runs on the main thread; with engine.threads > 1 the
 * engine's shards judge on their own threads in rounds the main thread waits for
 * (cmd/shards.h), and the hook runs between rounds, so it reads every shard's engine.
 */
#ifndef CHOREOSCOPE_DAEMON_H
#define CHOREOSCOPE_DAEMON_H

#include <stdint.h>
#include "out/alerts.h"
#include "config/config.h"
#include "engine/engine.h"
#include "engine/engine_set.h"
#include "out/records.h"
#include "source/kafka_source.h"

#define DAEMON_POLL_MS 100
#define DAEMON_TICK_MS 100

/* Everything a tick hook may read (borrowed for the duration of the call). */
struct daemon_view {
	const struct config *cfg;
	const char *listen;                    /* --listen, else http.listen */
	const struct engine_set *engines;      /* the shards' engines, read as one */
	const struct records_rejects *rejects; /* undecodable messages by reason */
	const struct ksrc_stats *kafka;
	const struct ksrc_part *parts; /* [nparts]: consumed and lag per partition */
	int nparts;
	const struct alerts_stats *alerts; /* NULL without alert/dead-letter topics */
	int64_t clock_ns;                  /* engine clock (T_max), or ENGINE_NO_TIME */
	int ready;                         /* partitions assigned and in contact */
	const char *not_ready;             /* why not ready (when !ready) */
	int cut_off; /* no answer from the partition leaders (KSRC_CUT_OFF_NS) */
};

typedef void (*daemon_hook_fn)(void *ctx, const struct daemon_view *v);

#endif
