/*
 * evlog: see evlog.h. Record layout in the ring (multiples of the 32-byte header):
 *   struct rec header | struct link[nlinks] | corr | event_id | type | source | topic |
 *   k0 v0 k1 v1 ...
 * every string NUL-terminated. A record never wraps: when it does not fit before
 * the end, a pad record (len = bytes to the end, hash 0, nstr 0) fills the tail and
 * the record starts at 0. `head` is the oldest live record, `tail` where the next
 * goes; head == tail with used == 0 means empty.
 *
 * Index: records are numbered (seq) in the order they were added; a bucket table
 * keyed by a key's hash holds the newest record of each bucket, and each record links
 * to the previous one of its bucket (ring position + seq). A link is followed only
 * while its seq is still live (>= the oldest live seq), so a position that was
 * overwritten is never read: evlog_find costs the bucket's live records, not the
 * ring's (the history store asks for every retired flow).
 * A record has one key per distinct value it carries (its correlation id in the
 * header, the values of the linked-key attributes in `struct link`s); a record is in
 * a bucket's chain once however many of its keys hash there: the first key of that
 * bucket carries the chain (`chain`), the others are only matched against.
 */
#include "out/evlog.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "engine/flowgraph.h"

struct rec {
	uint32_t len;  /* whole record, header included, a multiple of the header size */
	uint32_t hash; /* of the correlation id; 0 marks padding */
	int64_t time_ns, offset;
	int32_t partition;
	uint16_t nattrs;
	uint16_t has_topic;
	uint64_t seq;       /* 0 for padding; real records count from 1 */
	uint64_t prev_seq;  /* previous record of the same bucket, 0: none */
	int64_t arrival_ns; /* wall clock when it was added */
	uint32_t prev_pos;
	uint32_t nlinks; /* struct links after the header */
};

/* A further key of a record: a linked-key attribute's value. */
struct link {
	uint64_t prev_seq; /* previous record of the key's bucket (when chain) */
	uint32_t prev_pos;
	uint32_t hash;
	uint32_t str;   /* the value: offset from the record's start */
	uint32_t chain; /* 1: this key carries the record's place in its bucket's chain */
};

struct ev_bucket {
	uint64_t seq; /* newest record of the bucket, 0: none */
	uint32_t pos;
};

struct evlog {
	char *buf;
	size_t cap, head, tail, used;
	uint64_t added, dropped;
	uint64_t next_seq, oldest_seq; /* records with seq >= oldest_seq are live */
	struct ev_bucket *idx;
	uint32_t idx_mask;
	const char *kattr[EVLOG_MAX_KEY_ATTRS]; /* linked-key attributes (the graph's) */
	int nkattr;
};

/* At most this many records of one correlation id are visited per find. */
#define EVLOG_FIND_MAX 4096

/* Records and the capacity are multiples of the header size, so whatever is left
 * before the end of the ring can always hold a pad header. */
#define REC_ALIGN sizeof(struct rec)
static size_t align_rec(size_t n) { return (n + REC_ALIGN - 1) / REC_ALIGN * REC_ALIGN; }

struct evlog *evlog_new(size_t capacity_bytes)
{
	struct evlog *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->cap = align_rec(capacity_bytes < 4096 ? 4096 : capacity_bytes);
	l->buf = malloc(l->cap);
	/* one bucket per ~256 bytes of ring (a typical record), a power of two */
	size_t nb = 1024;
	while (nb < l->cap / 256)
		nb <<= 1;
	l->idx = calloc(nb, sizeof(*l->idx));
	l->idx_mask = (uint32_t)(nb - 1);
	l->next_seq = l->oldest_seq = 1;
	if (!l->buf || !l->idx || l->cap > UINT32_MAX) {
		free(l->buf);
		free(l->idx);
		free(l);
		return NULL;
	}
	return l;
}

void evlog_free(struct evlog *l)
{
	if (!l)
		return;
	free(l->buf);
	free(l->idx);
	free(l);
}

int evlog_index_graph(struct evlog *l, const struct flowgraph *g)
{
	int rc = 0;
	for (int f = 0; f < g->nflows; f++)
		for (int k = 0; k < g->flows[f].nkeys; k++) {
			const char *a = g->flows[f].keys[k];
			int dup = 0;
			for (int j = 0; j < l->nkattr && !dup; j++)
				dup = strcmp(l->kattr[j], a) == 0;
			if (dup)
				continue;
			if (l->nkattr == EVLOG_MAX_KEY_ATTRS)
				rc = -1;
			else
				l->kattr[l->nkattr++] = a;
		}
	return rc;
}

static uint32_t corr_hash(const char *s)
{
	uint32_t h = (uint32_t)XXH3_64bits(s, strlen(s));
	return h ? h : 1;
}

/* Drops the oldest record. */
static void pop(struct evlog *l)
{
	struct rec *r = (struct rec *)(l->buf + l->head);
	if (r->seq)
		l->oldest_seq = r->seq + 1;
	l->head = (l->head + r->len) % l->cap;
	l->used -= r->len;
}

/* Makes n contiguous bytes free at tail, dropping the oldest records as needed.
 * Live records occupy [head, tail) circularly; head >= tail with used > 0 means the
 * live region wraps, so the bytes from tail on belong to old records. */
static void make_room(struct evlog *l, size_t n)
{
	if (l->cap - l->tail < n) { /* no room before the end: pad, restart at 0 */
		while (l->used && l->head >= l->tail)
			pop(l);
		if (l->used) {
			struct rec *p = (struct rec *)(l->buf + l->tail);
			memset(p, 0, sizeof(*p));
			p->len = (uint32_t)(l->cap - l->tail);
			l->used += p->len;
		} else {
			l->head = 0;
		}
		l->tail = 0;
	}
	while (l->used && l->head >= l->tail && l->head < l->tail + n)
		pop(l);
	if (!l->used)
		l->head = l->tail;
}

static char *put_n(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

/* Lengths (NUL included) of an event's strings, in record order: corr, event_id,
 * type, source, topic, then key/value pairs. Measured once per event. */
#define EVLOG_NSTR (5 + 2 * EV_MAX_ATTRS)

/* The record's further keys: the values of the linked-key attributes it carries,
 * each once and unlike the correlation id, as indexes into str[]. */
static int extra_keys(const struct evlog *l, const char *const *str, int ns, uint32_t h0,
    uint32_t *h, int *si, uint32_t *chain)
{
	int n = 0;
	for (int a = 0; a < l->nkattr; a++) {
		int at = -1;
		for (int i = 5; i < ns && at < 0; i += 2)
			if (strcmp(str[i], l->kattr[a]) == 0)
				at = i + 1;
		if (at < 0 || !*str[at] || strcmp(str[at], str[0]) == 0)
			continue;
		int dup = 0;
		for (int j = 0; j < n && !dup; j++)
			dup = strcmp(str[si[j]], str[at]) == 0;
		if (dup)
			continue;
		h[n] = corr_hash(str[at]);
		uint32_t bk = h[n] & l->idx_mask;
		chain[n] = bk != (h0 & l->idx_mask);
		for (int j = 0; j < n && chain[n]; j++)
			chain[n] = !chain[j] || bk != (h[j] & l->idx_mask);
		si[n++] = at;
	}
	return n;
}

void evlog_add(struct evlog *l, const struct event *ev)
{
	uint16_t nattrs = (uint16_t)(ev->nattrs < EV_MAX_ATTRS ? ev->nattrs : EV_MAX_ATTRS);
	/* the bucket is a random access into a table of megabytes: fetch it while the
	 * lengths are measured and the record copied */
	uint32_t h = corr_hash(ev->correlation_id);
	struct ev_bucket *b = &l->idx[h & l->idx_mask];
	__builtin_prefetch(b, 1);
	/* Not initialised as a whole: EVLOG_NSTR pointers are 4 KB, and zeroing them per
	 * event cost more than the copy itself (perf, bench/parts/30-kafka.sh). */
	const char *str[EVLOG_NSTR];
	size_t len[EVLOG_NSTR], n = sizeof(struct rec);
	int ns = 0;
	str[ns++] = ev->correlation_id;
	str[ns++] = ev->event_id;
	str[ns++] = ev->type;
	str[ns++] = ev->source;
	str[ns++] = ev->topic ? ev->topic : "";
	for (uint16_t a = 0; a < nattrs; a++) {
		str[ns++] = ev->attrs[a].key;
		str[ns++] = ev->attrs[a].val;
	}
	uint32_t kh[EVLOG_MAX_KEY_ATTRS], kchain[EVLOG_MAX_KEY_ATTRS];
	int ksi[EVLOG_MAX_KEY_ATTRS];
	int nk = l->nkattr ? extra_keys(l, str, ns, h, kh, ksi, kchain) : 0;
	n += (size_t)nk * sizeof(struct link);
	size_t at[EVLOG_NSTR];
	for (int i = 0; i < ns; i++) {
		at[i] = n;
		n += (len[i] = strlen(str[i]) + 1);
	}
	n = align_rec(n);
	if (n > l->cap / 4) {
		l->dropped++;
		return;
	}
	make_room(l, n);
	struct rec *r = (struct rec *)(l->buf + l->tail);
	/* the coarse clock (a few ms) is a memory read; arrival needs no better */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	*r = (struct rec){ (uint32_t)n, h, ev->time_ns, ev->offset, ev->partition, nattrs,
		ev->topic != NULL, l->next_seq, b->seq,
		(int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, b->pos, (uint32_t)nk };
	b->seq = l->next_seq;
	b->pos = (uint32_t)l->tail;
	struct link *lk = (struct link *)(r + 1);
	for (int k = 0; k < nk; k++) {
		struct ev_bucket *kb = &l->idx[kh[k] & l->idx_mask];
		lk[k] = (struct link){ kchain[k] ? kb->seq : 0, kchain[k] ? kb->pos : 0, kh[k],
			(uint32_t)at[ksi[k]], kchain[k] };
		if (kchain[k]) {
			kb->seq = l->next_seq;
			kb->pos = (uint32_t)l->tail;
		}
	}
	l->next_seq++;
	char *o = (char *)r + at[0];
	for (int i = 0; i < ns; i++)
		o = put_n(o, str[i], len[i]);
	l->tail = (l->tail + n) % l->cap;
	l->used += n;
	l->added++;
}

static const char *next_str(const char *s) { return s + strlen(s) + 1; }

/* Calls fn for one record (strings and attributes pointed into the ring). */
static int visit_rec(const struct rec *r, evlog_visit_fn fn, void *arg)
{
	const char *s = (const char *)(r + 1) + r->nlinks * sizeof(struct link);
	struct ev_attr attrs[EV_MAX_ATTRS];
	struct event ev = { .correlation_id = s,
		.time_ns = r->time_ns,
		.offset = r->offset,
		.partition = r->partition,
		.attrs = attrs,
		.nattrs = r->nattrs,
		.causation_id = "" };
	ev.event_id = next_str(s);
	ev.type = next_str(ev.event_id);
	ev.source = next_str(ev.type);
	const char *topic = next_str(ev.source);
	ev.topic = r->has_topic ? topic : NULL;
	const char *a = next_str(topic);
	for (uint16_t k = 0; k < r->nattrs; k++) {
		attrs[k].key = a;
		attrs[k].val = next_str(a);
		a = next_str(attrs[k].val);
	}
	return fn(arg, &ev, r->arrival_ns);
}

static const char *rec_corr(const struct rec *r)
{
	return (const char *)(r + 1) + r->nlinks * sizeof(struct link);
}

/* Whether r carries key k (hash h) as its correlation id or a linked key. */
static int rec_has(const struct rec *r, const char *k, uint32_t h)
{
	if (r->hash == h && strcmp(rec_corr(r), k) == 0)
		return 1;
	const struct link *lk = (const struct link *)(r + 1);
	for (uint32_t j = 0; j < r->nlinks; j++)
		if (lk[j].hash == h && strcmp((const char *)r + lk[j].str, k) == 0)
			return 1;
	return 0;
}

struct hit {
	uint64_t seq;
	uint32_t pos;
	int key;
};

/* Appends the live records carrying key k to hits (newest first); returns the new
 * count, at most cap. */
static int walk_key(const struct evlog *l, const char *k, int ki, struct hit *hits, int n, int cap)
{
	uint32_t h = corr_hash(k), bk = h & l->idx_mask;
	const struct ev_bucket *b = &l->idx[bk];
	for (uint64_t seq = b->seq, pos = b->pos; seq >= l->oldest_seq && seq != 0 && n < cap;) {
		const struct rec *r = (const struct rec *)(l->buf + pos);
		if (rec_has(r, k, h))
			hits[n++] = (struct hit){ seq, (uint32_t)pos, ki };
		if ((r->hash & l->idx_mask) == bk) {
			seq = r->prev_seq;
			pos = r->prev_pos;
			continue;
		}
		const struct link *lk = (const struct link *)(r + 1);
		uint32_t j = 0;
		while (j < r->nlinks && !(lk[j].chain && (lk[j].hash & l->idx_mask) == bk))
			j++;
		if (j == r->nlinks)
			break; /* not reachable: a record is in a chain through one of its keys */
		seq = lk[j].prev_seq;
		pos = lk[j].prev_pos;
	}
	return n;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->key - y->key;
}

struct keyed {
	evlog_key_visit_fn fn;
	void *arg;
	const char *key;
};

static int keyed_visit(void *arg, const struct event *ev, int64_t arrival_ns)
{
	const struct keyed *k = arg;
	return k->fn(k->arg, ev, arrival_ns, k->key);
}

int evlog_find_keys(
    const struct evlog *l, const char *const *keys, int nkeys, evlog_key_visit_fn fn, void *arg)
{
	struct hit hits[EVLOG_FIND_MAX];
	int n = 0;
	for (int k = 0; k < nkeys && n < EVLOG_FIND_MAX; k++)
		if (keys[k] && *keys[k])
			n = walk_key(l, keys[k], k, hits, n, EVLOG_FIND_MAX);
	qsort(hits, (size_t)n, sizeof(hits[0]), cmp_hit);
	int visited = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && hits[i].seq == hits[i - 1].seq)
			continue; /* found under an earlier key too: reported under that one */
		visited++;
		struct keyed kv = { fn, arg, keys[hits[i].key] };
		if (visit_rec((const struct rec *)(l->buf + hits[i].pos), keyed_visit, &kv))
			break;
	}
	return visited;
}

struct unkeyed {
	evlog_visit_fn fn;
	void *arg;
};

static int unkeyed_visit(void *arg, const struct event *ev, int64_t arrival_ns, const char *key)
{
	(void)key;
	const struct unkeyed *u = arg;
	return u->fn(u->arg, ev, arrival_ns);
}

int evlog_find_ex(const struct evlog *l, const char *corr, evlog_visit_fn fn, void *arg)
{
	struct unkeyed u = { fn, arg };
	return evlog_find_keys(l, &corr, 1, unkeyed_visit, &u);
}

struct plain {
	int (*fn)(void *arg, const struct event *ev);
	void *arg;
};

static int plain_visit(void *arg, const struct event *ev, int64_t arrival_ns)
{
	(void)arrival_ns;
	const struct plain *p = arg;
	return p->fn(p->arg, ev);
}

int evlog_find(const struct evlog *l, const char *corr,
    int (*fn)(void *arg, const struct event *ev), void *arg)
{
	struct plain p = { fn, arg };
	return evlog_find_ex(l, corr, plain_visit, &p);
}

uint64_t evlog_added(const struct evlog *l) { return l->added; }
uint64_t evlog_dropped(const struct evlog *l) { return l->dropped; }
