/*
 * keyidx: see keyidx.h.
 */
#include "engine/keyidx.h"

#include <stdlib.h>

struct kient {
	uint32_t h;
	uint32_t count; /* 0: empty */
	uint16_t flow;
};

struct keyidx {
	struct kient *v;
	uint32_t mask; /* capacity - 1; capacity 0 before the first add */
	uint32_t n;
	int lossy;
};

struct keyidx *keyidx_new(void) { return calloc(1, sizeof(struct keyidx)); }

void keyidx_free(struct keyidx *k)
{
	if (k)
		free(k->v);
	free(k);
}

static int grow(struct keyidx *k)
{
	uint32_t cap = k->v ? (k->mask + 1) * 2 : 64;
	struct kient *nv = calloc(cap, sizeof(*nv));
	if (!nv)
		return -1;
	for (uint32_t p = 0; k->v && p <= k->mask; p++) {
		if (!k->v[p].count)
			continue;
		uint32_t q = k->v[p].h & (cap - 1);
		while (nv[q].count)
			q = (q + 1) & (cap - 1);
		nv[q] = k->v[p];
	}
	free(k->v);
	k->v = nv;
	k->mask = cap - 1;
	return 0;
}

void keyidx_add(struct keyidx *k, uint32_t h, uint16_t flow)
{
	if (k->lossy)
		return;
	if ((!k->v || (k->n + 1) * 4 > (k->mask + 1) * 3) && grow(k) < 0) {
		k->lossy = 1;
		return;
	}
	uint32_t p = h & k->mask;
	for (; k->v[p].count; p = (p + 1) & k->mask)
		if (k->v[p].h == h && k->v[p].flow == flow) {
			k->v[p].count++;
			return;
		}
	k->v[p] = (struct kient){ h, 1, flow };
	k->n++;
}

void keyidx_del(struct keyidx *k, uint32_t h, uint16_t flow)
{
	if (k->lossy || !k->v)
		return;
	uint32_t p = h & k->mask;
	for (; k->v[p].count; p = (p + 1) & k->mask)
		if (k->v[p].h == h && k->v[p].flow == flow)
			break;
	if (!k->v[p].count || --k->v[p].count)
		return;
	/* backward shift: an entry may move to the hole unless its home is in (p, q] */
	for (uint32_t q = p;;) {
		q = (q + 1) & k->mask;
		if (!k->v[q].count)
			break;
		uint32_t home = k->v[q].h & k->mask;
		int between = p <= q ? (home > p && home <= q) : (home > p || home <= q);
		if (between)
			continue;
		k->v[p] = k->v[q];
		p = q;
	}
	k->v[p].count = 0;
	k->n--;
}

int keyidx_flows(const struct keyidx *k, uint32_t h, uint16_t *out, int cap)
{
	if (k->lossy)
		return -1;
	int n = 0;
	if (!k->v)
		return 0;
	for (uint32_t p = h & k->mask; k->v[p].count; p = (p + 1) & k->mask)
		if (k->v[p].h == h) {
			if (n < cap)
				out[n] = k->v[p].flow;
			n++;
		}
	return n;
}

size_t keyidx_memory(const struct keyidx *k)
{
	return sizeof(*k) + (k->v ? (size_t)(k->mask + 1) * sizeof(struct kient) : 0);
}
