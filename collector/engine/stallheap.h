/*
 * stallheap: the deadlines of one step's current stalls, oldest on top (a binary
 * min-heap), for the "oldest stall" age the API and /metrics show. Deletion is lazy:
 * an entry whose instance no longer stalls on the step stays until it reaches the top
 * or the stale entries outnumber the live ones 2:1; the caller says which entries are
 * current (`valid`), so the heap knows nothing of instances. Engine thread only.
 */
#ifndef CHOREOSCOPE_STALLHEAP_H
#define CHOREOSCOPE_STALLHEAP_H

#include <stdbool.h>
#include <stdint.h>

struct stall_ent {
	int64_t deadline;
	uint32_t idx, born; /* the instance: block index and creation number */
};

struct stallheap {
	struct stall_ent *v;
	uint32_t n, cap;
};

/* Is se still a current stall? */
typedef bool (*stallheap_valid_fn)(const void *ctx, const struct stall_ent *se);

/* Adds se. live: how many of the step's stalls are current (the caller counts them);
 * when stale entries outnumber them 2:1, they are dropped first. On no memory the
 * entry is not added: the oldest age then reads low, never wrong high. */
void stallheap_push(struct stallheap *h, struct stall_ent se, uint64_t live,
    stallheap_valid_fn valid, const void *ctx);
/* The current entry with the earliest deadline (stale tops are dropped), or NULL. */
const struct stall_ent *stallheap_top(
    struct stallheap *h, stallheap_valid_fn valid, const void *ctx);
void stallheap_free(struct stallheap *h);

#endif
