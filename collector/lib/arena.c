/*
 * arena: blocks in a singly linked list; `cur` is the block being bumped. A reset
 * rewinds to the first block. When the current block is full the next kept block is
 * reused if it is large enough, otherwise a new block is linked in after `cur`.
 *
 * The ctx_* wrappers (for yajl and protobuf-c) prefix each allocation with its size so
 * realloc can copy; arena_alloc itself keeps no header.
 */
#include "lib/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16

struct block {
	struct block *next;
	size_t size, used;
	_Alignas(ALIGN) unsigned char data[];
};

struct arena {
	struct block *head, *cur;
	size_t block_size, max_bytes, total;
	void *last; /* most recent ctx allocation (for in-place realloc) */
};

static size_t round_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

struct arena *arena_new(size_t block_size, size_t max_bytes)
{
	struct arena *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->block_size = block_size ? round_up(block_size) : 64 * 1024;
	a->max_bytes = max_bytes;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	for (struct block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void arena_reset(struct arena *a)
{
	for (struct block *b = a->head; b; b = b->next)
		b->used = 0;
	a->cur = a->head;
	a->last = NULL;
}

size_t arena_capacity(const struct arena *a) { return a->total; }

/* A new block of at least n bytes linked after cur (or as head); NULL at the bound. */
static struct block *add_block(struct arena *a, size_t n)
{
	size_t size = n > a->block_size ? n : a->block_size;
	if (a->max_bytes && a->total + size > a->max_bytes)
		return NULL;
	struct block *b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->size = size;
	b->used = 0;
	if (a->cur) {
		b->next = a->cur->next;
		a->cur->next = b;
	} else {
		b->next = a->head;
		a->head = b;
	}
	a->total += size;
	return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = round_up(n ? n : 1);
	a->last = NULL;
	struct block *b = a->cur;
	if (!b || b->size - b->used < n) {
		/* move on to a kept block that fits, else add one */
		struct block *next = b ? b->next : a->head;
		while (next && next->size - next->used < n)
			next = next->next;
		b = next ? next : add_block(a, n);
		if (!b)
			return NULL;
		a->cur = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void *arena_ctx_malloc(void *ctx, size_t n)
{
	struct arena *a = ctx;
	size_t *p = arena_alloc(a, n + ALIGN);
	if (!p)
		return NULL;
	p[0] = n;
	a->last = (unsigned char *)p + ALIGN;
	return a->last;
}

void *arena_ctx_realloc(void *ctx, void *ptr, size_t n)
{
	struct arena *a = ctx;
	if (!ptr)
		return arena_ctx_malloc(ctx, n);
	size_t *hdr = (size_t *)((unsigned char *)ptr - ALIGN);
	size_t old = hdr[0];
	struct block *b = a->cur;
	if (ptr == a->last && b) {
		/* the last allocation ends at b->used: grow it in place if the block allows */
		size_t start = (size_t)((unsigned char *)ptr - b->data);
		if (round_up(n) <= b->size - start) {
			b->used = start + round_up(n ? n : 1);
			hdr[0] = n;
			return ptr;
		}
	}
	void *np = arena_ctx_malloc(ctx, n);
	if (np)
		memcpy(np, ptr, old < n ? old : n);
	return np;
}

void arena_ctx_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p;
}
