/*
 * arena: a bump allocator reset in O(1), for per-event decode scratch.
 *
 * Memory comes in blocks that are kept across resets, so once the arena has grown to
 * the size one decode needs, decoding allocates nothing from the system. A reset
 * invalidates every pointer handed out since the previous reset. `max_bytes` bounds the
 * total size of the blocks: arena_alloc returns NULL rather than grow past it.
 * Not thread-safe: one arena per decoder, one decoder per thread.
 */
#ifndef CHOREOSCOPE_ARENA_H
#define CHOREOSCOPE_ARENA_H

#include <stddef.h>

struct arena;

/* block_size: the size of ordinary blocks (a larger request gets a block of its own);
 * max_bytes: the bound on all blocks together (0: no bound). NULL when out of memory. */
struct arena *arena_new(size_t block_size, size_t max_bytes);
void arena_free(struct arena *a);
/* n bytes aligned to 16, uninitialised; NULL beyond max_bytes or out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* Forgets every allocation; keeps the blocks. */
void arena_reset(struct arena *a);
/* Total bytes of blocks held (for tests and metrics). */
size_t arena_capacity(const struct arena *a);

/* malloc/realloc/free with the shape yajl and protobuf-c expect (ctx = the arena).
 * realloc extends the most recent allocation in place when it can; free does nothing:
 * the memory comes back at the next reset. */
void *arena_ctx_malloc(void *ctx, size_t n);
void *arena_ctx_realloc(void *ctx, void *p, size_t n);
void arena_ctx_free(void *ctx, void *p);

#endif
