/*
 * flowtab: see flowtab.h for the layout and its memory budget.
 */
#include "engine/flowtab.h"
#include "engine/keyidx.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define CHUNK_BITS 12
#define CHUNK_BLOCKS (1u << CHUNK_BITS)

struct slot {
	uint32_t hash;
	uint32_t ref; /* block index + 1; 0 = empty */
};

struct flowtab {
	int nsteps;
	size_t off_hap, off_seen, off_sflags, off_count, off_arr, off_key, block;
	char **chunks;
	uint32_t nchunks, capchunks;
	uint32_t free_head;   /* free blocks, linked through fifo_next */
	uint32_t used_blocks; /* blocks handed out from chunks so far */
	size_t live;
	uint32_t oldest, newest;
	struct slot *slots;
	uint32_t mask; /* slots - 1 */
	uint32_t nindexed;
	size_t extra_bytes;
	struct keyidx *kx; /* engine-wide: told of every slot taken or freed */
	uint16_t flow;
};

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

struct flowtab *flowtab_new(int nsteps)
{
	struct flowtab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	size_t n = (size_t)nsteps;
	t->nsteps = nsteps;
	t->off_hap = align8(sizeof(struct inst));
	t->off_seen = t->off_hap + 8 * n;
	t->off_sflags = t->off_seen + 8 * n;
	t->off_count = t->off_sflags + 2 * n;
	t->off_arr = t->off_count + n;
	t->off_key = t->off_arr + n;
	t->block = align8(t->off_key + FT_KEYCAP);
	t->free_head = FT_NONE;
	t->oldest = t->newest = FT_NONE;
	t->mask = 15; /* small until used: idle declared flows cost little */
	t->slots = calloc(t->mask + 1, sizeof(struct slot));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

static void extra_free(struct inst_extra *x)
{
	if (!x)
		return;
	free(x->long_key);
	for (uint32_t i = 0; i < x->naliases; i++)
		free(x->aliases[i]);
	free(x->aliases);
	free(x->seen);
	free(x->debts);
	free(x->reported);
	free(x->missed_due);
	free(x);
}

void flowtab_free(struct flowtab *t)
{
	if (!t)
		return;
	for (struct inst *i = flowtab_oldest(t); i; i = flowtab_next(t, i))
		extra_free(i->x);
	for (uint32_t c = 0; c < t->nchunks; c++)
		free(t->chunks[c]);
	free(t->chunks);
	free(t->slots);
	free(t);
}

struct inst *flowtab_at(const struct flowtab *t, uint32_t idx)
{
	return (struct inst *)(t->chunks[idx >> CHUNK_BITS] +
	    (size_t)(idx & (CHUNK_BLOCKS - 1)) * t->block);
}

int64_t *flowtab_inst_hap_t(const struct flowtab *t, struct inst *i)
{
	return (int64_t *)((char *)i + t->off_hap);
}
uint64_t *flowtab_inst_seen(const struct flowtab *t, struct inst *i)
{
	return (uint64_t *)((char *)i + t->off_seen);
}
uint16_t *flowtab_inst_sflags(const struct flowtab *t, struct inst *i)
{
	return (uint16_t *)((char *)i + t->off_sflags);
}
uint8_t *flowtab_inst_count(const struct flowtab *t, struct inst *i)
{
	return (uint8_t *)i + t->off_count;
}
uint8_t *flowtab_inst_arr(const struct flowtab *t, struct inst *i)
{
	return (uint8_t *)i + t->off_arr;
}

const char *flowtab_inst_key(const struct flowtab *t, const struct inst *i)
{
	if (i->keylen == 255)
		return i->x->long_key;
	return (const char *)i + t->off_key;
}

uint32_t flowtab_hash(const char *key, size_t len) { return (uint32_t)XXH3_64bits(key, len); }

struct inst_extra *flowtab_inst_extra(struct inst *i)
{
	if (!i->x)
		i->x = calloc(1, sizeof(*i->x));
	return i->x;
}

static int key_matches(const struct flowtab *t, const struct inst *i, const char *key, size_t len)
{
	const char *k = flowtab_inst_key(t, i);
	if (strlen(k) == len && memcmp(k, key, len) == 0)
		return 1;
	if (i->x)
		for (uint32_t a = 0; a < i->x->naliases; a++)
			if (strlen(i->x->aliases[a]) == len &&
			    memcmp(i->x->aliases[a], key, len) == 0)
				return 1;
	return 0;
}

/* Slot index holding `key`, or the empty slot where it would go (ref 0). */
static uint32_t find_slot(const struct flowtab *t, const char *key, size_t len, uint32_t h)
{
	uint32_t p = h & t->mask;
	for (;;) {
		const struct slot *s = &t->slots[p];
		if (s->ref == 0)
			return p;
		if (s->hash == h && key_matches(t, flowtab_at(t, s->ref - 1), key, len))
			return p;
		p = (p + 1) & t->mask;
	}
}

struct inst *flowtab_find(struct flowtab *t, const char *key, size_t len, uint32_t h)
{
	const struct slot *s = &t->slots[find_slot(t, key, len, h)];
	return s->ref ? flowtab_at(t, s->ref - 1) : NULL;
}

static int grow_index(struct flowtab *t)
{
	uint32_t ncap = (t->mask + 1) * 2;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	for (uint32_t p = 0; p <= t->mask; p++) {
		struct slot s = t->slots[p];
		if (!s.ref)
			continue;
		uint32_t q = s.hash & (ncap - 1);
		while (ns[q].ref)
			q = (q + 1) & (ncap - 1);
		ns[q] = s;
	}
	free(t->slots);
	t->slots = ns;
	t->mask = ncap - 1;
	return 0;
}

/* Backward-shift deletion keeps probe sequences unbroken without tombstones. */
static void delete_slot(struct flowtab *t, uint32_t p)
{
	if (t->kx)
		keyidx_del(t->kx, t->slots[p].hash, t->flow);
	uint32_t q = p;
	for (;;) {
		q = (q + 1) & t->mask;
		if (!t->slots[q].ref)
			break;
		uint32_t home = t->slots[q].hash & t->mask;
		/* can the entry at q move to p? only if its home is not in (p, q] */
		int between = p <= q ? (home > p && home <= q) : (home > p || home <= q);
		if (between)
			continue;
		t->slots[p] = t->slots[q];
		p = q;
	}
	t->slots[p].ref = 0;
	t->slots[p].hash = 0;
	t->nindexed--;
}

static int index_put(struct flowtab *t, const char *key, size_t len, uint32_t h, uint32_t idx)
{
	if ((t->nindexed + 1) * 4 > (t->mask + 1) * 3 && grow_index(t) < 0)
		return -1;
	uint32_t p = find_slot(t, key, len, h);
	if (!t->slots[p].ref) {
		t->nindexed++;
		if (t->kx)
			keyidx_add(t->kx, h, t->flow);
	}
	t->slots[p].hash = h;
	t->slots[p].ref = idx + 1;
	return 0;
}

static uint32_t alloc_block(struct flowtab *t)
{
	if (t->free_head != FT_NONE) {
		uint32_t idx = t->free_head;
		t->free_head = flowtab_at(t, idx)->fifo_next;
		return idx;
	}
	if (t->used_blocks == t->nchunks * CHUNK_BLOCKS) {
		if (t->nchunks == t->capchunks) {
			uint32_t cap = t->capchunks ? t->capchunks * 2 : 16;
			char **c = realloc(t->chunks, cap * sizeof(*c));
			if (!c)
				return FT_NONE;
			t->chunks = c;
			t->capchunks = cap;
		}
		char *chunk = malloc(CHUNK_BLOCKS * t->block);
		if (!chunk)
			return FT_NONE;
		t->chunks[t->nchunks++] = chunk;
	}
	return t->used_blocks++;
}

struct inst *flowtab_create(struct flowtab *t, const char *key, size_t len, uint32_t h)
{
	uint32_t idx = alloc_block(t);
	if (idx == FT_NONE)
		return NULL;
	struct inst *i = flowtab_at(t, idx);
	memset(i, 0, t->block);
	tw_entry_init(&i->tw);
	i->idx = idx;
	i->hash = h;
	i->chain_prev = FT_NONE;
	if (len < FT_KEYCAP) {
		memcpy((char *)i + t->off_key, key, len);
		((char *)i + t->off_key)[len] = '\0';
		i->keylen = (uint8_t)len;
	} else {
		struct inst_extra *x = flowtab_inst_extra(i);
		char *k = x ? malloc(len + 1) : NULL;
		if (!k) {
			extra_free(i->x);
			i->fifo_next = t->free_head;
			t->free_head = idx;
			return NULL;
		}
		memcpy(k, key, len);
		k[len] = '\0';
		x->long_key = k;
		i->keylen = 255;
	}
	struct inst *old = flowtab_find(t, key, len, h);
	if (old)
		i->chain_prev = old->idx;
	if (index_put(t, key, len, h, idx) < 0) {
		extra_free(i->x);
		i->fifo_next = t->free_head;
		t->free_head = idx;
		return NULL;
	}
	i->fifo_prev = t->newest;
	i->fifo_next = FT_NONE;
	if (t->newest != FT_NONE)
		flowtab_at(t, t->newest)->fifo_next = idx;
	else
		t->oldest = idx;
	t->newest = idx;
	t->live++;
	return i;
}

int flowtab_link(struct flowtab *t, struct inst *i, const char *key, size_t len)
{
	struct inst_extra *x = flowtab_inst_extra(i);
	if (!x)
		return -1;
	char **a = realloc(x->aliases, (x->naliases + 1) * sizeof(*a));
	if (!a)
		return -1;
	x->aliases = a;
	char *k = malloc(len + 1);
	if (!k)
		return -1;
	memcpy(k, key, len);
	k[len] = '\0';
	a[x->naliases++] = k;
	t->extra_bytes += len + 1 + sizeof(*a);
	return index_put(t, key, len, flowtab_hash(key, len), i->idx);
}

/* Takes i out of the index entry for `key`. When i heads the entry, the entry moves
 * to i's chain_prev (primary key) or goes (a linked key); otherwise i is unlinked
 * from the chain of older instances hanging off that entry. chain_prev may have been
 * set through a linked key of i (a newer instance whose primary key is i's alias),
 * so the chain is searched under every key of i, not only the primary one. */
static void unindex_key(struct flowtab *t, struct inst *i, const char *key, int primary)
{
	size_t len = strlen(key);
	uint32_t h = flowtab_hash(key, len);
	uint32_t p = find_slot(t, key, len, h);
	struct slot *s = &t->slots[p];
	if (!s->ref)
		return;
	if (s->ref - 1 == i->idx) {
		if (primary && i->chain_prev != FT_NONE)
			s->ref = i->chain_prev + 1;
		else
			delete_slot(t, p);
		return;
	}
	for (struct inst *n = flowtab_at(t, s->ref - 1); n->chain_prev != FT_NONE;
	     n = flowtab_at(t, n->chain_prev)) {
		if (n->chain_prev == i->idx) {
			n->chain_prev = i->chain_prev;
			return;
		}
	}
}

void flowtab_detach(struct flowtab *t, struct inst *i)
{
	if (i->state == INST_DETACHED)
		return;
	unindex_key(t, i, flowtab_inst_key(t, i), 1);
	if (i->x)
		for (uint32_t a = 0; a < i->x->naliases; a++)
			unindex_key(t, i, i->x->aliases[a], 0);
	i->chain_prev = FT_NONE;
	i->state = INST_DETACHED;
}

void flowtab_release(struct flowtab *t, struct inst *i)
{
	flowtab_detach(t, i);
	if (i->fifo_prev != FT_NONE)
		flowtab_at(t, i->fifo_prev)->fifo_next = i->fifo_next;
	else
		t->oldest = i->fifo_next;
	if (i->fifo_next != FT_NONE)
		flowtab_at(t, i->fifo_next)->fifo_prev = i->fifo_prev;
	else
		t->newest = i->fifo_prev;
	extra_free(i->x);
	i->x = NULL;
	i->state = INST_FREE;
	i->fifo_next = t->free_head;
	t->free_head = i->idx;
	t->live--;
}

void flowtab_set_keyidx(struct flowtab *t, struct keyidx *kx, uint16_t flow)
{
	t->kx = kx;
	t->flow = flow;
}

struct inst *flowtab_oldest(const struct flowtab *t)
{
	return t->oldest == FT_NONE ? NULL : flowtab_at(t, t->oldest);
}

struct inst *flowtab_next(const struct flowtab *t, const struct inst *i)
{
	return i->fifo_next == FT_NONE ? NULL : flowtab_at(t, i->fifo_next);
}

size_t flowtab_count(const struct flowtab *t) { return t->live; }

size_t flowtab_memory(const struct flowtab *t)
{
	return (size_t)t->nchunks * CHUNK_BLOCKS * t->block +
	    (size_t)(t->mask + 1) * sizeof(struct slot) + t->capchunks * sizeof(char *) +
	    t->extra_bytes;
}

int flowtab_check(const struct flowtab *t)
{
	size_t n = 0;
	uint32_t prev = FT_NONE;
	for (uint32_t idx = t->oldest; idx != FT_NONE; idx = flowtab_at(t, idx)->fifo_next) {
		const struct inst *i = flowtab_at(t, idx);
		if (i->fifo_prev != prev || i->idx != idx)
			return -1;
		prev = idx;
		n++;
	}
	if (n != t->live || prev != t->newest)
		return -2;
	uint32_t used = 0;
	for (uint32_t p = 0; p <= t->mask; p++) {
		if (!t->slots[p].ref)
			continue;
		used++;
		size_t steps = 0; /* chains end: no cycle, no freed block */
		for (const struct inst *c = flowtab_at(t, t->slots[p].ref - 1);
		     c->chain_prev != FT_NONE; c = flowtab_at(t, c->chain_prev))
			if (++steps > t->live || c->state == INST_DETACHED)
				return -4;
	}
	return used == t->nindexed ? 0 : -3;
}
