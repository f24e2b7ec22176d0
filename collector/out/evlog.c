/*
 * evlog: see evlog.h. Record layout in the ring (multiples of the 32-byte header):
 *   struct rec header | corr | event_id | type | source | topic | k0 v0 k1 v1 ...
 * every string NUL-terminated. A record never wraps: when it does not fit before
 * the end, a pad record (len = bytes to the end, hash 0, nstr 0) fills the tail and
 * the record starts at 0. `head` is the oldest live record, `tail` where the next
 * goes; head == tail with used == 0 means empty.
 */
#include "out/evlog.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct rec {
	uint32_t len;        /* whole record, header included, a multiple of the header size */
	uint32_t hash;       /* of the correlation id; 0 marks padding */
	int64_t time_ns, offset;
	int32_t partition;
	uint16_t nattrs;
	uint16_t has_topic;
};

struct evlog {
	char *buf;
	size_t cap, head, tail, used;
	uint64_t added, dropped;
};

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
	if (!l->buf) {
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
	free(l);
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
	l->head = (l->head + r->len) % l->cap;
	l->used -= r->len;
}

/* Makes n contiguous bytes free at tail, dropping the oldest records as needed.
 * Live records occupy [head, tail) circularly; head >= tail with used > 0 means the
 * live region wraps, so the bytes from tail on belong to old records. */
static void make_room(struct evlog *l, size_t n)
{
	if (l->cap - l->tail < n) {            /* no room before the end: pad, restart at 0 */
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

static char *put(char *o, const char *s)
{
	size_t n = strlen(s) + 1;
	memcpy(o, s, n);
	return o + n;
}

void evlog_add(struct evlog *l, const struct event *ev)
{
	size_t n = sizeof(struct rec) + strlen(ev->correlation_id) + strlen(ev->event_id) +
	    strlen(ev->type) + strlen(ev->source) + (ev->topic ? strlen(ev->topic) : 0) + 5;
	for (uint32_t a = 0; a < ev->nattrs && a < EV_MAX_ATTRS; a++)
		n += strlen(ev->attrs[a].key) + strlen(ev->attrs[a].val) + 2;
	n = align_rec(n);
	if (n > l->cap / 4) {
		l->dropped++;
		return;
	}
	make_room(l, n);
	struct rec *r = (struct rec *)(l->buf + l->tail);
	*r = (struct rec){ (uint32_t)n, corr_hash(ev->correlation_id), ev->time_ns, ev->offset,
		ev->partition, (uint16_t)(ev->nattrs < EV_MAX_ATTRS ? ev->nattrs : EV_MAX_ATTRS),
		ev->topic != NULL };
	char *o = (char *)(r + 1);
	o = put(o, ev->correlation_id);
	o = put(o, ev->event_id);
	o = put(o, ev->type);
	o = put(o, ev->source);
	o = put(o, ev->topic ? ev->topic : "");
	for (uint16_t a = 0; a < r->nattrs; a++) {
		o = put(o, ev->attrs[a].key);
		o = put(o, ev->attrs[a].val);
	}
	l->tail = (l->tail + n) % l->cap;
	l->used += n;
	l->added++;
}

static const char *next_str(const char *s) { return s + strlen(s) + 1; }

int evlog_find(const struct evlog *l, const char *corr, int (*fn)(void *arg, const struct event *ev), void *arg)
{
	uint32_t h = corr_hash(corr);
	int visited = 0;
	size_t pos = l->head, left = l->used;
	while (left) {
		const struct rec *r = (const struct rec *)(l->buf + pos);
		if (r->hash == h) {
			const char *s = (const char *)(r + 1);
			if (strcmp(s, corr) == 0) {
				struct ev_attr attrs[EV_MAX_ATTRS];
				struct event ev = { .correlation_id = s, .time_ns = r->time_ns,
					.offset = r->offset, .partition = r->partition, .attrs = attrs,
					.nattrs = r->nattrs, .causation_id = "" };
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
				visited++;
				if (fn(arg, &ev))
					break;
			}
		}
		left -= r->len;
		pos = (pos + r->len) % l->cap;
	}
	return visited;
}

uint64_t evlog_added(const struct evlog *l) { return l->added; }
uint64_t evlog_dropped(const struct evlog *l) { return l->dropped; }
size_t evlog_capacity(const struct evlog *l) { return l->cap; }
