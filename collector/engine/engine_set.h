/*
 * engine_set: several engines judging disjoint sets of partitions (the daemon's
 * shards, cmd/shards.h), read as one collector: counters summed, flow lists the union
 * of every engine's instances, an instance found in whichever engine holds it. With
 * one engine every answer is that engine's own.
 *
 * The set holds borrowed pointers; the engines must outlive it and all share one flow
 * graph. A set is small and copied by value.
 *
 * Threading: call only while no engine of the set is applying events or advancing
 * (the daemon reads between rounds, when every shard thread is parked).
 */
#ifndef CHOREOSCOPE_ENGINE_SET_H
#define CHOREOSCOPE_ENGINE_SET_H

#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"

#define ENGINE_SET_MAX 64

struct engine_set {
	const struct engine *e[ENGINE_SET_MAX];
	int n;
};

/* The set of one engine. */
struct engine_set engine_set_of(const struct engine *e);

/* events, unmatched and the undeclared verdicts summed; tmax_ns the least clock of
 * the engines that have one (each engine's clock never runs ahead of its partitions,
 * so the least is the clock one engine reading them all would show), or
 * ENGINE_NO_TIME. */
void engine_set_stats(const struct engine_set *s, struct engine_stats *out);
/* engine_foreach over every engine in turn (engine order, each oldest first). The
 * API sorts what it lists on a total order (its sort key, then correlation id and
 * flow), so the walk order does not change any answer. */
void engine_set_foreach(const struct engine_set *s, int flow, engine_visit_fn fn, void *arg);
/* engine_lookup in whichever engine holds `corr`: the open instance if one holds it
 * open, else the most recently closed of the retained ones. 0 found, -1 not. */
int engine_set_lookup(
    const struct engine_set *s, int flow, const char *corr, engine_visit_fn fn, void *arg);
/* The oldest current stall of (flow, step) over the engines, or ENGINE_NO_TIME. */
int64_t engine_set_oldest_stall(const struct engine_set *s, int flow, int step);
/* Sums of engine_memory and engine_work. */
size_t engine_set_memory(const struct engine_set *s);
uint64_t engine_set_work(const struct engine_set *s);

#endif
