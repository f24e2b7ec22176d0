/*
 * api_engine: the flow-table backend of the JSON API (struct api_backend) over the
 * engines' introspection (engine_set_foreach/engine_set_lookup: every shard's
 * instances, as one collector), the evlog ring of recent
 * events (timelines show each event with source, offset and attributes) and the
 * anomaly ring of snapshot.c (a timeline's verdicts with their times).
 * Threading: engine thread only (it is called from http_publish_poll/serve); with
 * shards, the main thread between rounds; api_engine_event on the shard's thread.
 */
#ifndef CHOREOSCOPE_API_ENGINE_H
#define CHOREOSCOPE_API_ENGINE_H

#include <stddef.h>
#include "http/api_render.h"
#include "engine/engine.h"
#include "engine/engine_set.h"
#include "http/snapshot.h"

#define API_ENGINE_EVLOG_BYTES ((size_t)32 << 20)

struct api_engine;

/* The set is copied; its engines, g and snap are borrowed and must outlive it. NULL
 * when out of memory. */
struct api_engine *api_engine_new(const struct engine_set *es, const struct flowgraph *g,
    struct snapshot *snap, size_t evlog_bytes);
void api_engine_free(struct api_engine *ae);
/* Keeps a copy of ev, judged by engine `shard` of the set, for timelines (one bounded
 * ring per engine, the oldest overwritten; evlog_bytes split between them). Each ring
 * has one writer: the thread of its engine, so shards add without a lock. */
void api_engine_event(struct api_engine *ae, int shard, const struct event *ev);
void api_engine_backend(struct api_engine *ae, struct api_backend *out);
/* Engine `shard`'s ring of recent events (for the history store to share: one copy per
 * event). */
struct evlog;
const struct evlog *api_engine_ring(const struct api_engine *ae, int shard);

#endif
