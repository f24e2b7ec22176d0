/*
 * discover: the in-flight table of flows being stitched, and the fold of each
 * closed flow into the per-type and per-pair counters (discover_int.h).
 *
 * In-flight table: a pool of fixed-size flow records (allocated in chunks as the
 * number in flight grows, never beyond max_flows), an open-addressing index keyed by
 * a 64-bit hash of (flow field, correlation id) with linear probing and
 * backward-shift deletion (no tombstones), and a FIFO ring of (record, stamp)
 * holding each live record exactly once. The ring is a lazy LRU: a record whose
 * latest event time moved since it was queued is queued again when it reaches the
 * head; a head record whose stamp is older than clock - idle is closed. At
 * max_flows the head (after re-queueing the moved ones) is closed to make room.
 * Each record is queued once per visit of the head, so the work is amortized O(1)
 * per event.
 *
 * A flow record keeps, per distinct type, the time and arrival rank of its first
 * occurrence and the number of occurrences (at most DF_TYPES types; further types
 * are counted as truncated), and a ring of the last DF_IDS event-id hashes for
 * skipping redeliveries. Two keys whose 64-bit hashes collide share a record (odds
 * about n^2 / 2^65 for n flows in flight: negligible).
 *
 * Single-threaded; no global state.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "discover/discover.h"
#include "discover/discover_int.h"

#define DF_TYPES 24
#define DF_IDS 24
#define DT_CHUNK 4096

struct dent {
	int64_t first_ns;
	uint32_t type;
	uint16_t count;
};

struct dflow {
	uint64_t key;
	int64_t open_ns; /* earliest event time */
	int64_t last_ns; /* latest event time */
	uint32_t flow_name;
	uint8_t ntypes, nids, idpos, live;
	char corr[40];
	struct dent ent[DF_TYPES];
	uint64_t ids[DF_IDS];
};

struct dring_ent {
	uint32_t slot;
	int64_t stamp;
};

struct dtable {
	struct dflow **chunks;
	uint32_t nslots; /* slots allocated (multiple of DT_CHUNK, <= max rounded up) */
	uint32_t *free;  /* free slot stack */
	uint32_t nfree;
	uint32_t live;
	uint64_t *idx; /* (slot + 1) << 32 | key >> 32; 0 empty */
	uint32_t idx_mask;
	struct dring_ent *ring; /* capacity: max_flows */
	uint32_t rhead, rlen, rcap;
};

/* ---------------------------------------------------------------- histograms */

static int dh_bucket(int64_t ns)
{
	if (ns < 1000)
		return 0;
	uint64_t us = (uint64_t)ns / 1000;
	int o = 63 - __builtin_clzll(us);
	unsigned sub = o >= 2 ? (unsigned)(us >> (o - 2)) & 3u : (unsigned)(us << (2 - o)) & 3u;
	int i = 1 + o * 4 + (int)sub;
	return i < DH_BUCKETS ? i : DH_BUCKETS - 1;
}

static int64_t dh_upper(int i)
{
	if (i == 0)
		return 1000;
	int o = (i - 1) / 4, sub = (i - 1) % 4;
	double us = (double)(5 + sub) / 4.0 * (double)((uint64_t)1 << o);
	double ns = us * 1000.0;
	return ns > 9.2e18 ? INT64_MAX : (int64_t)ns;
}

void dhist_add(struct dhist *h, int64_t ns)
{
	h->b[dh_bucket(ns < 0 ? 0 : ns)]++;
	h->n++;
}

void dhist_merge(struct dhist *into, const struct dhist *from)
{
	for (int i = 0; i < DH_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->n += from->n;
}

/* The quantile over buckets [0, top], interpolated linearly inside its bucket. */
static int64_t dh_quantile_upto(const struct dhist *h, double q, int top)
{
	uint64_t n = 0;
	for (int i = 0; i <= top; i++)
		n += h->b[i];
	if (n == 0)
		return 0;
	double want = q * (double)n;
	uint64_t acc = 0;
	for (int i = 0; i <= top; i++) {
		if (h->b[i] && (double)(acc + h->b[i]) >= want) {
			double lo = i ? (double)dh_upper(i - 1) : 0, hi = (double)dh_upper(i);
			double f = (want - (double)acc) / (double)h->b[i];
			f = f < 0 ? 0 : f;
			return (int64_t)(lo + f * (hi - lo));
		}
		acc += h->b[i];
	}
	return dh_upper(top);
}

int64_t dhist_quantile(const struct dhist *h, double q)
{
	return dh_quantile_upto(h, q, DH_BUCKETS - 1);
}

int64_t dhist_robust(const struct dhist *h, double q)
{
	int64_t p90 = dhist_quantile(h, 0.9);
	if (p90 == 0)
		return 0;
	double cut = 3.0 * (double)p90;
	int top = 0;
	for (int i = 0; i < DH_BUCKETS; i++)
		if (i == 0 || (double)dh_upper(i - 1) <= cut)
			top = i;
	return dh_quantile_upto(h, q, top);
}

/* ---------------------------------------------------------------- types, pairs */

static uint32_t type_intern(struct discover *d, const char *name)
{
	uint64_t h = XXH3_64bits(name, strlen(name));
	uint32_t i = (uint32_t)h & d->type_mask;
	for (; d->type_idx[i]; i = (i + 1) & d->type_mask) {
		struct dtype *t = &d->types[d->type_idx[i] - 1];
		if (t->hash == h && strcmp(t->name, name) == 0)
			return d->type_idx[i] - 1;
	}
	if (d->ntypes >= d->o.max_types)
		return UINT32_MAX;
	char *copy = strdup(name);
	if (!copy)
		return UINT32_MAX;
	struct dtype *t = &d->types[d->ntypes];
	memset(t, 0, sizeof *t);
	t->name = copy;
	t->hash = h;
	t->flow_name = DNOFLOW;
	d->type_idx[i] = ++d->ntypes;
	d->st.types = d->ntypes;
	d->st.counter_bytes += sizeof *t + strlen(name) + 1;
	return d->ntypes - 1;
}

static uint32_t name_intern(struct discover *d, const char *name)
{
	for (uint32_t i = 0; i < d->nnames; i++)
		if (strcmp(d->names[i], name) == 0)
			return i;
	if (d->nnames >= d->o.max_types)
		return DNOFLOW;
	char *copy = strdup(name);
	if (!copy)
		return DNOFLOW;
	d->names[d->nnames] = copy;
	return d->nnames++;
}

static uint32_t pair_hash(uint32_t a, uint32_t b)
{
	uint64_t x = ((uint64_t)a << 32 | b) * UINT64_C(0x9E3779B97F4A7C15);
	return (uint32_t)(x >> 32);
}

struct dpair *discover_pair_find(const struct discover *d, uint32_t a, uint32_t b)
{
	for (uint32_t i = pair_hash(a, b) & d->pair_mask; d->pair_idx[i];
	     i = (i + 1) & d->pair_mask) {
		struct dpair *p = dpair_at(d, d->pair_idx[i] - 1);
		if (p->a == a && p->b == b)
			return p;
	}
	return NULL;
}

/* The pair (a, b), created when new; NULL beyond max_pairs (counted). */
static struct dpair *pair_get(struct discover *d, uint32_t a, uint32_t b)
{
	uint32_t i = pair_hash(a, b) & d->pair_mask;
	for (; d->pair_idx[i]; i = (i + 1) & d->pair_mask) {
		struct dpair *p = dpair_at(d, d->pair_idx[i] - 1);
		if (p->a == a && p->b == b)
			return p;
	}
	if (d->npairs >= d->o.max_pairs) {
		d->st.dropped_pairs++;
		return NULL;
	}
	if (d->npairs % DP_CHUNK == 0) {
		struct dpair *c = calloc(DP_CHUNK, sizeof *c);
		if (!c) {
			d->st.dropped_pairs++;
			return NULL;
		}
		d->pairs[d->npairs / DP_CHUNK] = c;
		d->st.counter_bytes += DP_CHUNK * sizeof *c;
	}
	struct dpair *p = dpair_at(d, d->npairs);
	p->a = a;
	p->b = b;
	d->pair_idx[i] = ++d->npairs;
	d->st.pairs = d->npairs;
	return p;
}

/* ---------------------------------------------------------------- fold */

/* Folds a closed flow into the counters. O(k^2) for k distinct types. */
static void fold(struct discover *d, const struct dflow *f)
{
	int k = f->ntypes;
	if (k == 0)
		return;
	d->st.flows++;
	struct dtype *t0 = &d->types[f->ent[0].type];
	t0->first++;
	dhist_add(&t0->dur, f->last_ns - f->open_ns);
	for (int j = 0; j < k; j++) {
		const struct dent *e = &f->ent[j];
		struct dtype *t = &d->types[e->type];
		t->count++;
		t->pos_sum += j;
		unsigned rep = e->count > 0 ? e->count - 1u : 0u;
		t->repeats[rep < DR_MAX ? rep : DR_MAX - 1]++;
		if (rep)
			t->repeat_flows++;
		if (t->flow_name == DNOFLOW)
			t->flow_name = f->flow_name;
		int latest = -1;
		for (int i = 0; i < j; i++) {
			const struct dent *a = &f->ent[i];
			if (latest < 0 || a->first_ns > f->ent[latest].first_ns)
				latest = i;
			struct dpair *p = pair_get(d, a->type, e->type);
			if (!p)
				continue;
			if (p->before++ == 0)
				snprintf(p->example, sizeof p->example, "%s", f->corr);
			dhist_add(&p->gap, e->first_ns - a->first_ns);
		}
		if (latest >= 0) {
			struct dpair *p = discover_pair_find(d, f->ent[latest].type, e->type);
			if (p)
				dhist_add(&p->last, e->first_ns - f->ent[latest].first_ns);
		}
	}
}

/* ---------------------------------------------------------------- in-flight table */

static struct dflow *slot_at(const struct dtable *t, uint32_t s)
{
	return &t->chunks[s / DT_CHUNK][s % DT_CHUNK];
}

static uint32_t idx_slot(uint64_t e) { return (uint32_t)(e >> 32) - 1; }

/* Index position of key, or -1. */
static int64_t idx_find(const struct dtable *t, uint64_t key)
{
	uint32_t tag = (uint32_t)(key >> 32);
	for (uint32_t i = (uint32_t)key & t->idx_mask; t->idx[i]; i = (i + 1) & t->idx_mask)
		if ((uint32_t)t->idx[i] == tag && slot_at(t, idx_slot(t->idx[i]))->key == key)
			return i;
	return -1;
}

/* Backward-shift deletion: later entries of the probe run move into the hole. */
static void idx_delete(struct dtable *t, uint32_t i)
{
	uint32_t j = i;
	for (;;) {
		t->idx[i] = 0;
		for (;;) {
			j = (j + 1) & t->idx_mask;
			if (!t->idx[j])
				return;
			uint32_t home =
			    (uint32_t)slot_at(t, idx_slot(t->idx[j]))->key & t->idx_mask;
			/* j's entry may move to i when its home is not in (i, j] cyclically */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		t->idx[i] = t->idx[j];
		i = j;
	}
}

static void ring_push(struct dtable *t, uint32_t slot, int64_t stamp)
{
	t->ring[(t->rhead + t->rlen) % t->rcap] = (struct dring_ent){ slot, stamp };
	t->rlen++;
}

/* Closes the flow in slot s: fold, unindex, free. Its ring entry must already be
 * popped. */
static void flow_close(struct discover *d, uint32_t s)
{
	struct dtable *t = d->tab;
	struct dflow *f = slot_at(t, s);
	fold(d, f);
	int64_t i = idx_find(t, f->key);
	if (i >= 0)
		idx_delete(t, (uint32_t)i);
	f->live = 0;
	t->free[t->nfree++] = s;
	t->live--;
	d->st.in_flight = t->live;
}

/* Visits the ring head: re-queues records that moved, closes idle ones; with
 * `force`, closes the least recently seen even if not idle (max_flows). Stops at
 * the first record that is current and not idle. */
static void ring_expire(struct discover *d, int force)
{
	struct dtable *t = d->tab;
	while (t->rlen) {
		struct dring_ent e = t->ring[t->rhead];
		struct dflow *f = slot_at(t, e.slot);
		if (f->last_ns != e.stamp) {
			t->rhead = (t->rhead + 1) % t->rcap;
			t->rlen--;
			ring_push(t, e.slot, f->last_ns);
			continue;
		}
		int idle = d->clock_ns - e.stamp > d->o.idle_ns;
		if (!idle && !force)
			return;
		t->rhead = (t->rhead + 1) % t->rcap;
		t->rlen--;
		if (idle)
			d->st.closed_idle++;
		else
			d->st.closed_evicted++;
		flow_close(d, e.slot);
		if (force)
			return;
	}
}

static int table_grow_slots(struct dtable *t, size_t max)
{
	if (t->nslots >= max)
		return -1;
	struct dflow *c = calloc(DT_CHUNK, sizeof *c);
	if (!c)
		return -1;
	t->chunks[t->nslots / DT_CHUNK] = c;
	uint32_t add = DT_CHUNK;
	if (t->nslots + add > max)
		add = (uint32_t)(max - t->nslots);
	for (uint32_t k = add; k-- > 0;)
		t->free[t->nfree++] = t->nslots + k;
	t->nslots += DT_CHUNK;
	return 0;
}

/* Rebuilds the index at twice the size (load kept <= 1/2). */
static int table_grow_index(struct dtable *t)
{
	uint32_t ncap = (t->idx_mask + 1) * 2;
	uint64_t *ni = calloc(ncap, sizeof *ni);
	if (!ni)
		return -1;
	for (uint32_t i = 0; i <= t->idx_mask; i++) {
		if (!t->idx[i])
			continue;
		uint64_t key = slot_at(t, idx_slot(t->idx[i]))->key;
		uint32_t j = (uint32_t)key & (ncap - 1);
		while (ni[j])
			j = (j + 1) & (ncap - 1);
		ni[j] = t->idx[i];
	}
	free(t->idx);
	t->idx = ni;
	t->idx_mask = ncap - 1;
	return 0;
}

static void table_bytes(struct discover *d)
{
	struct dtable *t = d->tab;
	d->st.table_bytes = (uint64_t)t->nslots * sizeof(struct dflow) +
	    (uint64_t)(t->idx_mask + 1) * sizeof(uint64_t) +
	    (uint64_t)t->rcap * (sizeof(struct dring_ent) + sizeof(uint32_t));
}

/* A free record for key (indexed and queued), closing the least recently seen
 * flow when max_flows are in flight. NULL when out of memory. */
static struct dflow *flow_open(struct discover *d, uint64_t key, const struct event *ev)
{
	struct dtable *t = d->tab;
	if (t->live >= d->o.max_flows)
		ring_expire(d, 1);
	if (t->nfree == 0 && table_grow_slots(t, d->o.max_flows) != 0)
		return NULL;
	if ((uint64_t)(t->live + 1) * 2 > (uint64_t)t->idx_mask + 1 && table_grow_index(t) != 0)
		return NULL;
	table_bytes(d);
	uint32_t s = t->free[--t->nfree];
	struct dflow *f = slot_at(t, s);
	memset(f, 0, offsetof(struct dflow, ent));
	f->key = key;
	f->open_ns = f->last_ns = ev->time_ns;
	f->live = 1;
	f->flow_name = DNOFLOW;
	snprintf(f->corr, sizeof f->corr, "%s", ev->correlation_id);
	uint32_t i = (uint32_t)key & t->idx_mask;
	while (t->idx[i])
		i = (i + 1) & t->idx_mask;
	t->idx[i] = (uint64_t)(s + 1) << 32 | (uint32_t)(key >> 32);
	t->live++;
	ring_push(t, s, f->last_ns);
	d->st.in_flight = t->live;
	if (t->live > d->st.peak_in_flight)
		d->st.peak_in_flight = t->live;
	return f;
}

static uint64_t flow_key(const struct event *ev)
{
	uint64_t seed = ev->flow ? XXH3_64bits(ev->flow, strlen(ev->flow)) : 0;
	uint64_t k = XXH3_64bits_withSeed(ev->correlation_id, strlen(ev->correlation_id), seed);
	return k ? k : 1;
}

/* 1 when the event id was seen in this flow (a redelivery); else remembers it. */
static int seen_id(struct dflow *f, const char *id)
{
	uint64_t h = XXH3_64bits(id, strlen(id));
	for (int i = 0; i < f->nids; i++)
		if (f->ids[i] == h)
			return 1;
	f->ids[f->idpos] = h;
	f->idpos = (uint8_t)((f->idpos + 1) % DF_IDS);
	if (f->nids < DF_IDS)
		f->nids++;
	return 0;
}

static void flow_apply(struct discover *d, struct dflow *f, uint32_t type, const struct event *ev)
{
	if (ev->time_ns < f->last_ns) {
		int64_t late = f->last_ns - ev->time_ns;
		d->st.disordered++;
		if (late > d->types[type].disorder_max)
			d->types[type].disorder_max = late;
	} else {
		f->last_ns = ev->time_ns;
	}
	if (ev->time_ns < f->open_ns)
		f->open_ns = ev->time_ns;
	d->types[type].events++;
	for (int i = 0; i < f->ntypes; i++) {
		if (f->ent[i].type == type) {
			if (f->ent[i].count < UINT16_MAX)
				f->ent[i].count++;
			if (ev->time_ns < f->ent[i].first_ns)
				f->ent[i].first_ns = ev->time_ns;
			return;
		}
	}
	if (f->ntypes >= DF_TYPES) {
		d->st.truncated++;
		return;
	}
	f->ent[f->ntypes++] = (struct dent){ ev->time_ns, type, 1 };
}

int discover_add(struct discover *d, const struct event *ev)
{
	d->st.events++;
	if (ev->time_ns > d->clock_ns)
		d->clock_ns = ev->time_ns;
	uint64_t key = flow_key(ev);
	int64_t i = idx_find(d->tab, key);
	struct dflow *f = i >= 0 ? slot_at(d->tab, idx_slot(d->tab->idx[i])) : NULL;
	if (f && seen_id(f, ev->event_id)) {
		d->st.redeliveries++;
		return 0;
	}
	uint32_t type = type_intern(d, ev->type);
	if (type == UINT32_MAX) {
		d->st.dropped_types++;
		return 0;
	}
	if (!f) {
		f = flow_open(d, key, ev);
		if (!f)
			return 0;
		seen_id(f, ev->event_id);
		if (ev->flow)
			f->flow_name = name_intern(d, ev->flow);
	}
	flow_apply(d, f, type, ev);
	ring_expire(d, 0);
	return 0;
}

void discover_finish(struct discover *d)
{
	struct dtable *t = d->tab;
	while (t->rlen) {
		struct dring_ent e = t->ring[t->rhead];
		t->rhead = (t->rhead + 1) % t->rcap;
		t->rlen--;
		flow_close(d, e.slot);
	}
}

void discover_get_stats(const struct discover *d, struct discover_stats *st) { *st = d->st; }

/* ---------------------------------------------------------------- lifetime */

void discover_opts_default(struct discover_opts *o)
{
	*o = (struct discover_opts){ .max_flows = 100000,
		.idle_ns = (int64_t)3600 * 1000000000,
		.quantile = 0.99,
		.margin = 3.0,
		.min_support = 0.05,
		.max_types = 4096,
		.max_pairs = 16384 };
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t c = 16;
	while (c < n && c < (1u << 31))
		c <<= 1;
	return c;
}

int discover_new(const struct discover_opts *o, struct discover **out, char *err, size_t errlen)
{
	const char *bad = NULL;
	if (o->max_flows < 1 || o->max_flows > (1u << 30))
		bad = "max_flows must be in 1..1073741824";
	else if (o->idle_ns <= 0)
		bad = "idle must be positive";
	else if (!(o->quantile > 0 && o->quantile < 1))
		bad = "quantile must be in (0, 1)";
	else if (!(o->margin >= 1 && o->margin <= 1000))
		bad = "margin must be in [1, 1000]";
	else if (!(o->min_support > 0 && o->min_support < 0.5))
		bad = "min_support must be in (0, 0.5)";
	else if (o->max_types < 1 || o->max_types > 65535 || o->max_pairs < 1 ||
	    o->max_pairs > (1u << 28))
		bad = "max_types must be in 1..65535 and max_pairs in 1..268435456";
	if (bad) {
		snprintf(err, errlen, "%s", bad);
		return -1;
	}
	struct discover *d = calloc(1, sizeof *d);
	struct dtable *t = calloc(1, sizeof *t);
	if (!d || !t)
		goto oom;
	d->o = *o;
	d->tab = t;
	d->clock_ns = INT64_MIN;
	d->type_mask = pow2_at_least(o->max_types * 2) - 1;
	d->pair_mask = pow2_at_least((uint64_t)o->max_pairs * 2) - 1;
	d->types = calloc(o->max_types, sizeof *d->types);
	d->type_idx = calloc(d->type_mask + 1, sizeof *d->type_idx);
	d->names = calloc(o->max_types, sizeof *d->names);
	d->pairs = calloc(o->max_pairs / DP_CHUNK + 1, sizeof *d->pairs);
	d->pair_idx = calloc(d->pair_mask + 1, sizeof *d->pair_idx);
	t->chunks = calloc(o->max_flows / DT_CHUNK + 1, sizeof *t->chunks);
	t->free = calloc(o->max_flows + DT_CHUNK, sizeof *t->free);
	t->rcap = (uint32_t)o->max_flows;
	t->ring = calloc(t->rcap, sizeof *t->ring);
	t->idx_mask = 1023;
	t->idx = calloc(t->idx_mask + 1, sizeof *t->idx);
	if (!d->types || !d->type_idx || !d->names || !d->pairs || !d->pair_idx || !t->chunks ||
	    !t->free || !t->ring || !t->idx)
		goto oom;
	d->st.counter_bytes =
	    (d->type_mask + 1) * sizeof(uint32_t) + (d->pair_mask + 1) * sizeof(uint32_t);
	table_bytes(d);
	*out = d;
	return 0;
oom:
	if (d && !d->tab)
		free(t);
	discover_free(d);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void discover_free(struct discover *d)
{
	if (!d)
		return;
	struct dtable *t = d->tab;
	if (t) {
		if (t->chunks)
			for (uint32_t i = 0; i < t->nslots / DT_CHUNK; i++)
				free(t->chunks[i]);
		free(t->chunks);
		free(t->free);
		free(t->ring);
		free(t->idx);
		free(t);
	}
	for (uint32_t i = 0; i < d->ntypes; i++)
		free(d->types[i].name);
	for (uint32_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	if (d->pairs)
		for (uint32_t i = 0; i * DP_CHUNK < d->npairs; i++)
			free(d->pairs[i]);
	free(d->types);
	free(d->type_idx);
	free(d->names);
	free(d->pairs);
	free(d->pair_idx);
	free(d);
}
