/*
 * timerwheel: see timerwheel.h. Placement invariant: an entry whose tick is t
 * (t >= cur) lives at level k = the highest 6-bit group in which t and cur differ
 * (0 when equal), slot = group k of t. So level-k entries share cur's groups above k,
 * and for k > 0 the slot of cur's own group k is always empty. Moving cur to the
 * first tick of the earliest occupied block and re-inserting that block's entries
 * (cascading) keeps the invariant; every entry is cascaded at most TW_LEVELS times.
 */
#include "engine/timerwheel.h"

#include <stdlib.h>

#define TW_MASK (TW_SLOTS - 1)

static uint64_t tick_of(int64_t t)
{
	if (t < 0)
		return 0;
	return (uint64_t)t >> TW_TICK_SHIFT;
}

void tw_init(struct tw *w)
{
	w->cur = 0;
	w->count = 0;
	w->extra = NULL;
	w->nextra = w->capextra = 0;
	w->seq = 0;
	w->firing = 0;
	w->due = NULL;
	w->ndue = w->capdue = 0;
	for (int k = 0; k < TW_LEVELS; k++) {
		w->occupied[k] = 0;
		for (int s = 0; s < TW_SLOTS; s++) {
			struct tw_entry *h = &w->slots[k][s].head;
			h->next = h->prev = h;
		}
	}
}

void tw_dispose(struct tw *w)
{
	free(w->due);
	w->due = NULL;
	w->capdue = w->ndue = 0;
	free(w->extra);
	w->extra = NULL;
	w->capextra = w->nextra = 0;
}

static int due_less(const struct tw_due *x, const struct tw_due *y)
{
	return x->expire != y->expire ? x->expire < y->expire : x->pos < y->pos;
}

static void extra_push(struct tw *w, struct tw_entry *e)
{
	if (w->nextra == w->capextra) {
		size_t cap = w->capextra ? w->capextra * 2 : 64;
		struct tw_due *d = realloc(w->extra, cap * sizeof(*d));
		if (!d)
			abort();
		w->extra = d;
		w->capextra = cap;
	}
	size_t i = w->nextra++;
	struct tw_due v = { e, w->seq++, e->expire };
	while (i > 0 && due_less(&v, &w->extra[(i - 1) / 2])) {
		w->extra[i] = w->extra[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->extra[i] = v;
}

static struct tw_due extra_pop(struct tw *w)
{
	struct tw_due top = w->extra[0], v = w->extra[--w->nextra];
	size_t i = 0, n = w->nextra;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && due_less(&w->extra[c + 1], &w->extra[c]))
			c++;
		if (!due_less(&w->extra[c], &v))
			break;
		w->extra[i] = w->extra[c];
		i = c;
	}
	if (n > 0)
		w->extra[i] = v;
	return top;
}

static void link_entry(struct tw *w, struct tw_entry *e)
{
	uint64_t t = tick_of(e->expire);
	if (t < w->cur)
		t = w->cur;
	uint64_t diff = t ^ w->cur;
	int k = diff ? (63 - __builtin_clzll(diff)) / TW_BITS : 0; /* < TW_LEVELS: ticks < 2^43 */
	int s = (int)((t >> (TW_BITS * k)) & TW_MASK);
	if (k == 0 && t == w->cur && w->firing && e->expire <= w->firing_now)
		extra_push(w, e);
	struct tw_entry *h = &w->slots[k][s].head;
	e->prev = h->prev;
	e->next = h;
	h->prev->next = e;
	h->prev = e;
	w->occupied[k] |= UINT64_C(1) << s;
}

static void unlink_entry(struct tw *w, struct tw_entry *e)
{
	struct tw_entry *n = e->next;
	e->prev->next = n;
	n->prev = e->prev;
	if (n == e->prev && n->next == n) {
		/* the slot became empty: find it to clear its bit (n is the head) */
		for (int k = 0; k < TW_LEVELS; k++) {
			struct tw_entry *base = &w->slots[k][0].head;
			if (n >= base && n <= &w->slots[k][TW_SLOTS - 1].head) {
				int s = (int)((struct tw_list *)n - (struct tw_list *)base);
				w->occupied[k] &= ~(UINT64_C(1) << s);
				break;
			}
		}
	}
	e->next = e->prev = NULL;
}

void tw_arm(struct tw *w, struct tw_entry *e, int64_t expire)
{
	if (e->prev)
		unlink_entry(w, e);
	else
		w->count++;
	e->expire = expire;
	link_entry(w, e);
}

void tw_cancel(struct tw *w, struct tw_entry *e)
{
	if (!e->prev)
		return;
	unlink_entry(w, e);
	w->count--;
}

/* Lowest level with an occupied slot at or after cur's position; the block start
 * tick it names. Returns 0 when the wheel is empty. */
static int next_block(const struct tw *w, uint64_t *block, int *level, int *slot)
{
	for (int k = 0; k < TW_LEVELS; k++) {
		int idx = (int)((w->cur >> (TW_BITS * k)) & TW_MASK);
		uint64_t bits = w->occupied[k];
		bits &=
		    k == 0 ? (~UINT64_C(0) << idx) : (idx == 63 ? 0 : ~UINT64_C(0) << (idx + 1));
		if (!bits)
			continue;
		int s = __builtin_ctzll(bits);
		uint64_t hi = (k + 1) * TW_BITS >= 64
		    ? 0
		    : (w->cur >> ((k + 1) * TW_BITS)) << ((k + 1) * TW_BITS);
		*block = hi | ((uint64_t)s << (TW_BITS * k));
		*level = k;
		*slot = s;
		return 1;
	}
	return 0;
}

static void cascade(struct tw *w, int k, int s)
{
	struct tw_entry *h = &w->slots[k][s].head;
	struct tw_entry *e = h->next;
	h->next = h->prev = h;
	w->occupied[k] &= ~(UINT64_C(1) << s);
	while (e != h) {
		struct tw_entry *n = e->next;
		link_entry(w, e);
		e = n;
	}
}

static int due_cmp(const void *a, const void *b)
{
	const struct tw_due *x = a, *y = b;
	if (x->e->expire != y->e->expire)
		return x->e->expire < y->e->expire ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Collects the entries of level-0 slot s with expire <= now, sorted. */
static size_t collect_due(struct tw *w, int s, int64_t now)
{
	struct tw_entry *h = &w->slots[0][s].head;
	w->ndue = 0;
	size_t pos = 0;
	for (struct tw_entry *e = h->next; e != h; e = e->next, pos++) {
		if (e->expire > now)
			continue;
		if (w->ndue == w->capdue) {
			size_t cap = w->capdue ? w->capdue * 2 : 64;
			struct tw_due *d = realloc(w->due, cap * sizeof(*d));
			if (!d)
				abort();
			w->due = d;
			w->capdue = cap;
		}
		w->due[w->ndue++] = (struct tw_due){ e, pos, e->expire };
	}
	if (w->ndue > 1)
		qsort(w->due, w->ndue, sizeof(*w->due), due_cmp);
	return w->ndue;
}

size_t tw_run(struct tw *w, int64_t now, size_t budget, tw_fire_fn fire, void *ctx)
{
	uint64_t now_tick = tick_of(now);
	size_t fired = 0;
	uint64_t block;
	int k, s;
	while (fired < budget && next_block(w, &block, &k, &s) && block <= now_tick) {
		w->cur = block;
		if (k > 0) {
			cascade(w, k, s);
			continue;
		}
		size_t n = collect_due(w, s, now), i = 0;
		if (n == 0)
			break; /* the tick is now_tick and nothing in it is due yet */
		/* Entries armed into this tick while it fires, already due, go to `extra` and
		 * are merged in: a re-collect sorts them after the collected ones of equal
		 * expire (they are last in the slot's list) and among themselves by arming
		 * order, which is the heap's order. Re-sorting the whole tick at every such
		 * arming instead was quadratic when a clock jump re-armed many flows into one
		 * tick (minutes for 200,000 flows at the end of input). */
		w->firing = 1;
		w->firing_now = now;
		w->nextra = 0;
		while (fired < budget && (i < n || w->nextra > 0)) {
			/* ties: the collected entry first (armed before any of extra) */
			struct tw_due d =
			    i < n && (w->nextra == 0 || w->due[i].expire <= w->extra[0].expire)
			    ? w->due[i++]
			    : extra_pop(w);
			struct tw_entry *e = d.e;
			/* moved or cancelled since collected (or armed): skip this record */
			if (e->prev == NULL || e->expire != d.expire)
				continue;
			unlink_entry(w, e);
			w->count--;
			fired++;
			fire(ctx, e);
		}
		w->firing = 0;
		w->nextra = 0;
	}
	return fired;
}

int64_t tw_next_expire(const struct tw *w)
{
	uint64_t block;
	int k, s;
	if (!next_block(w, &block, &k, &s))
		return INT64_MAX;
	int64_t best = INT64_MAX;
	const struct tw_entry *h = &w->slots[k][s].head;
	for (const struct tw_entry *e = h->next; e != h; e = e->next)
		if (e->expire < best)
			best = e->expire;
	return best;
}

int64_t tw_next_due(const struct tw *w)
{
	uint64_t block;
	int k, s;
	if (!next_block(w, &block, &k, &s))
		return INT64_MAX;
	if (k > 0) /* block > cur >= 0 and < 2^43: no overflow */
		return (int64_t)(block << TW_TICK_SHIFT);
	int64_t best = INT64_MAX;
	const struct tw_entry *h = &w->slots[0][s].head;
	for (const struct tw_entry *e = h->next; e != h; e = e->next)
		if (e->expire < best)
			best = e->expire;
	return best;
}

int tw_check(const struct tw *w)
{
	size_t n = 0;
	for (int k = 0; k < TW_LEVELS; k++) {
		for (int s = 0; s < TW_SLOTS; s++) {
			const struct tw_entry *h = &w->slots[k][s].head;
			int nonempty = h->next != h;
			if (nonempty != !!(w->occupied[k] & (UINT64_C(1) << s)))
				return -1;
			if (k > 0 && nonempty && s == (int)((w->cur >> (TW_BITS * k)) & TW_MASK))
				return -2;
			for (const struct tw_entry *e = h->next; e != h; e = e->next) {
				if (e->next->prev != e)
					return -3;
				n++;
			}
		}
	}
	return n == w->count ? 0 : -4;
}
