/*
 * stallheap: see stallheap.h.
 */
#include "engine/stallheap.h"

#include <stdlib.h>

static bool less(const struct stall_ent *a, const struct stall_ent *b)
{
	return a->deadline < b->deadline;
}

static void sift_up(struct stallheap *h, uint32_t k)
{
	while (k > 0) {
		uint32_t p = (k - 1) / 2;
		if (!less(&h->v[k], &h->v[p]))
			break;
		struct stall_ent t = h->v[k];
		h->v[k] = h->v[p];
		h->v[p] = t;
		k = p;
	}
}

static void sift_down(struct stallheap *h, uint32_t k)
{
	for (;;) {
		uint32_t l = 2 * k + 1, r = l + 1, m = k;
		if (l < h->n && less(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && less(&h->v[r], &h->v[m]))
			m = r;
		if (m == k)
			return;
		struct stall_ent t = h->v[k];
		h->v[k] = h->v[m];
		h->v[m] = t;
		k = m;
	}
}

static void compact(struct stallheap *h, stallheap_valid_fn valid, const void *ctx)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < h->n; k++)
		if (valid(ctx, &h->v[k]))
			h->v[n++] = h->v[k];
	h->n = n;
	for (uint32_t k = n / 2; k-- > 0;)
		sift_down(h, k);
}

void stallheap_push(struct stallheap *h, struct stall_ent se, uint64_t live,
    stallheap_valid_fn valid, const void *ctx)
{
	if (h->n >= 64 && h->n > 2 * live)
		compact(h, valid, ctx); /* stale entries never outnumber live ones 2:1 */
	if (h->n == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 16;
		struct stall_ent *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n] = se;
	sift_up(h, h->n++);
}

const struct stall_ent *stallheap_top(
    struct stallheap *h, stallheap_valid_fn valid, const void *ctx)
{
	while (h->n && !valid(ctx, &h->v[0])) {
		h->v[0] = h->v[--h->n];
		sift_down(h, 0);
	}
	return h->n ? &h->v[0] : NULL;
}

void stallheap_free(struct stallheap *h)
{
	free(h->v);
	*h = (struct stallheap){ 0 };
}
