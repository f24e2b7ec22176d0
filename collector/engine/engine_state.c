/*
 * engine_state: see engine_state.h. Reads and writes the engine's private state
 * (engine_int.h) without changing how it is judged; the bookkeeping it restores is the
 * one judge.c keeps: awaiting_now counts open instances expecting a non-optional step,
 * stalled_now open instances expecting a step reported stalled.
 *
 * Blob: u32 count, then per instance: u16 flow, u32 key length, key, the instance
 * header (struct inst), the per-step arrays (hap_t, seen, sflags, count, arr), a byte
 * of extras present, then the extras (aliases, seen hashes, debts, reported hashes,
 * missed_due), each length-prefixed.
 */
#include "engine/engine_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/engine_int.h"

enum { X_ALIASES = 1, X_SEEN = 2, X_DEBTS = 4, X_REPORTED = 8, X_MISSED = 16 };

#define ES_MAX_KEY 65536u

void engine_state_buf_free(struct es_buf *b)
{
	free(b->p);
	*b = (struct es_buf){ 0 };
}

void engine_state_buf_put(struct es_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u32(struct es_buf *b, uint32_t v) { engine_state_buf_put(b, &v, sizeof v); }
static void put_u64(struct es_buf *b, uint64_t v) { engine_state_buf_put(b, &v, sizeof v); }
static void put_str(struct es_buf *b, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : 0;
	put_u32(b, n);
	engine_state_buf_put(b, s, n);
}

void engine_state_set_source(struct engine *e, uint32_t src) { e->src = src; }

uint64_t engine_state_fingerprint(const struct engine *e)
{
	struct es_buf b = { 0 };
	/* the layout this build reads and writes */
	put_u32(&b, 1);          /* blob version */
	put_u32(&b, 0x01020304); /* endianness */
	put_u32(&b, (uint32_t)sizeof(struct inst));
	put_u32(&b, (uint32_t)offsetof(struct inst, open_t));
	put_u32(&b, (uint32_t)offsetof(struct inst, happened));
	put_u32(&b, (uint32_t)offsetof(struct inst, state));
	put_u32(&b, (uint32_t)sizeof(struct debt));
	put_u32(&b, FT_KEYCAP);
	/* the flow graphs, every field that judging reads */
	put_u32(&b, (uint32_t)e->g->nflows);
	for (int f = 0; f < e->g->nflows; f++) {
		const struct fg_flow *fl = &e->g->flows[f];
		put_str(&b, fl->name);
		put_u64(&b, (uint64_t)fl->deadline_ns);
		put_u64(&b, (uint64_t)fl->lateness_ns);
		put_u64(&b, fl->complete_when);
		put_u32(&b, (uint32_t)fl->noutcomes);
		for (int o = 0; o < fl->noutcomes; o++)
			put_str(&b, fl->outcomes[o]);
		put_u32(&b, (uint32_t)fl->nkeys);
		for (int k = 0; k < fl->nkeys; k++)
			put_str(&b, fl->keys[k]);
		put_u32(&b, (uint32_t)fl->nsteps);
		for (int s = 0; s < fl->nsteps; s++) {
			const struct fg_step *st = &fl->steps[s];
			put_str(&b, st->name);
			put_u32(&b, (uint32_t)st->start | (uint32_t)st->optional << 1);
			put_u64(&b, st->after);
			put_u64(&b, st->after_any);
			put_u64(&b, st->alts);
			put_u64(&b, (uint64_t)st->within_ns);
			put_u64(&b, (uint64_t)st->join_within_ns);
			put_u32(&b, (uint32_t)st->outcome);
			put_u32(&b, st->retries);
			put_str(&b, st->key_attr);
		}
	}
	uint64_t h = b.oom ? 0 : XXH3_64bits(b.p, b.len);
	engine_state_buf_free(&b);
	return h;
}

/* ---- export ---- */

static void export_inst(const struct flowrt *fr, struct inst *i, struct es_buf *b)
{
	size_t n = (size_t)fr->f->nsteps;
	const char *key = flowtab_inst_key(fr->tab, i);
	uint16_t flow = (uint16_t)fr->index;
	struct inst_extra *x = i->x;
	uint8_t xs = 0;

	engine_state_buf_put(b, &flow, sizeof flow);
	put_str(b, key);
	engine_state_buf_put(b, i, sizeof *i);
	engine_state_buf_put(b, flowtab_inst_hap_t(fr->tab, i), 8 * n);
	engine_state_buf_put(b, flowtab_inst_seen(fr->tab, i), 8 * n);
	engine_state_buf_put(b, flowtab_inst_sflags(fr->tab, i), 2 * n);
	engine_state_buf_put(b, flowtab_inst_count(fr->tab, i), n);
	engine_state_buf_put(b, flowtab_inst_arr(fr->tab, i), n);
	if (x) {
		/* a detached instance is reached by no key: its aliases are not needed */
		xs |= (x->naliases && i->state != INST_DETACHED) ? X_ALIASES : 0;
		xs |= x->nseen ? X_SEEN : 0;
		xs |= x->ndebts ? X_DEBTS : 0;
		xs |= x->nreported ? X_REPORTED : 0;
		xs |= x->missed_due ? X_MISSED : 0;
	}
	engine_state_buf_put(b, &xs, 1);
	if (xs & X_ALIASES) {
		put_u32(b, x->naliases);
		for (uint32_t a = 0; a < x->naliases; a++)
			put_str(b, x->aliases[a]);
	}
	if (xs & X_SEEN) {
		put_u32(b, x->nseen);
		engine_state_buf_put(b, x->seen, 8 * (size_t)x->nseen);
	}
	if (xs & X_DEBTS) {
		put_u32(b, x->ndebts);
		for (uint32_t d = 0; d < x->ndebts; d++) {
			put_u64(b, x->debts[d].steps);
			put_u64(b, (uint64_t)x->debts[d].due);
			engine_state_buf_put(b, &x->debts[d].group, 1);
		}
	}
	if (xs & X_REPORTED) {
		put_u32(b, x->nreported);
		engine_state_buf_put(b, x->reported, 8 * (size_t)x->nreported);
	}
	if (xs & X_MISSED)
		engine_state_buf_put(b, x->missed_due, 8 * n);
}

long engine_state_export(const struct engine *e, uint32_t src, struct es_buf *out)
{
	size_t at = out->len;
	uint32_t count = 0;

	put_u32(out, 0);
	for (int f = 0; f < e->nfl; f++) {
		const struct flowrt *fr = &e->fl[f];
		for (struct inst *i = flowtab_oldest(fr->tab); i; i = flowtab_next(fr->tab, i)) {
			if (i->src != src)
				continue;
			export_inst(fr, i, out);
			count++;
		}
	}
	if (out->oom)
		return -1;
	memcpy(out->p + at, &count, sizeof count);
	return (long)count;
}

long engine_state_export_all(
    const struct engine *e, uint32_t nsrc, struct es_buf *outs, uint32_t *counts)
{
	long total = 0;
	int oom = 0;

	for (uint32_t s = 0; s < nsrc; s++) {
		counts[s] = 0;
		outs[s].len = 0;
		outs[s].oom = 0;
		put_u32(&outs[s], 0);
	}
	for (int f = 0; f < e->nfl; f++) {
		const struct flowrt *fr = &e->fl[f];
		for (struct inst *i = flowtab_oldest(fr->tab); i; i = flowtab_next(fr->tab, i)) {
			if (i->src == 0 || i->src > nsrc)
				continue;
			export_inst(fr, i, &outs[i->src - 1]);
			counts[i->src - 1]++;
			total++;
		}
	}
	for (uint32_t s = 0; s < nsrc; s++) {
		oom |= outs[s].oom;
		if (!outs[s].oom)
			memcpy(outs[s].p, &counts[s], sizeof counts[s]);
	}
	return oom ? -1 : total;
}

size_t engine_state_count(const struct engine *e, uint32_t src)
{
	size_t n = 0;
	for (int f = 0; f < e->nfl; f++)
		for (struct inst *i = flowtab_oldest(e->fl[f].tab); i;
		     i = flowtab_next(e->fl[f].tab, i))
			n += i->src == src;
	return n;
}

/* ---- import ---- */

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static const void *take(struct rd *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	const void *q = r->p;
	r->p += n;
	return q;
}

static uint32_t get_u32(struct rd *r)
{
	uint32_t v = 0;
	const void *q = take(r, sizeof v);
	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

static const char *get_str(struct rd *r, uint32_t *len)
{
	*len = get_u32(r);
	if (*len > ES_MAX_KEY) {
		r->bad = 1;
		return NULL;
	}
	return take(r, *len);
}

static int64_t state_expected_at(const struct flowrt *fr, struct inst *i, int s)
{
	const struct fg_step *st = &fr->f->steps[s];
	int64_t *hap = flowtab_inst_hap_t(fr->tab, i);
	uint8_t *arr = flowtab_inst_arr(fr->tab, i);
	int64_t t = INT64_MIN;
	for (fg_mask m = st->after; m; m &= m - 1)
		if (hap[__builtin_ctzll(m)] > t)
			t = hap[__builtin_ctzll(m)];
	int first = -1;
	for (fg_mask m = st->after_any & i->happened; m; m &= m - 1)
		if (first < 0 || arr[__builtin_ctzll(m)] < arr[first])
			first = __builtin_ctzll(m);
	if (first >= 0 && hap[first] > t)
		t = hap[first];
	return t;
}

/* The counters an instance adds to its flow (judge.c's bookkeeping). */
static void count_in(struct engine *e, struct flowrt *fr, struct inst *i)
{
	e->live++;
	if (i->state != INST_OPEN) {
		fr->st.retained++;
		return;
	}
	fr->st.in_flight++;
	uint16_t *sf = flowtab_inst_sflags(fr->tab, i);
	for (fg_mask m = i->expected; m; m &= m - 1) {
		int s = __builtin_ctzll(m);
		if (!(fr->optional & FG_BIT(s)))
			fr->st.awaiting_now[s]++;
		if (sf[s] & SF_STALLED) {
			fr->st.stalled_now[s]++;
			int64_t w = fr->f->steps[s].within_ns;
			judge_stall_push(fr, s,
			    w == FG_NO_DEADLINE ? ENGINE_NO_TIME : state_expected_at(fr, i, s) + w,
			    i);
		}
	}
}

static void *dup_bytes(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

/* One instance from r; applies it when `e` is not NULL (else only validates). */
static int import_inst(
    struct engine *e, const struct engine *ce, uint32_t src, struct rd *r, char *err, size_t errlen)
{
	uint16_t flow;
	const void *q = take(r, sizeof flow);
	uint32_t keylen, nal = 0, nseen = 0, ndebts = 0, nrep = 0;
	const char *key, *al[64];
	uint32_t allen[64];
	const void *seen = NULL, *debts = NULL, *rep = NULL, *missed = NULL;
	struct inst hdr;

	if (!q)
		goto trunc;
	memcpy(&flow, q, sizeof flow);
	if (flow >= ce->nfl) {
		snprintf(
		    err, errlen, "instance of flow %u, the config has %d flows", flow, ce->nfl);
		return -1;
	}
	const struct flowrt *cfr = &ce->fl[flow];
	size_t n = (size_t)cfr->f->nsteps;
	key = get_str(r, &keylen);
	q = take(r, sizeof hdr);
	if (!key || !q)
		goto trunc;
	memcpy(&hdr, q, sizeof hdr);
	if (keylen == 0 || memchr(key, '\0', keylen) ||
	    (hdr.state != INST_OPEN && hdr.state != INST_CLOSED && hdr.state != INST_DETACHED) ||
	    (hdr.state != INST_OPEN && hdr.outcome >= cfr->noutslots) ||
	    (keylen < FT_KEYCAP) != (hdr.keylen != 255)) {
		snprintf(err, errlen, "inconsistent instance (flow %u)", flow);
		return -1;
	}
	const unsigned char *arrays = take(r, 20 * n);
	const uint8_t *xs = take(r, 1);
	if (!arrays || !xs)
		goto trunc;
	if (*xs & X_ALIASES) {
		nal = get_u32(r);
		if (nal > 64) {
			snprintf(err, errlen, "instance with %u linked keys", nal);
			return -1;
		}
		for (uint32_t a = 0; a < nal; a++)
			if (!(al[a] = get_str(r, &allen[a])) || allen[a] == 0)
				goto trunc;
	}
	if (*xs & X_SEEN) {
		nseen = get_u32(r);
		if (nseen > (1u << 24) || !(seen = take(r, 8 * (size_t)nseen)))
			goto trunc;
	}
	if (*xs & X_DEBTS) {
		ndebts = get_u32(r);
		if (ndebts > (1u << 20) || !(debts = take(r, 17 * (size_t)ndebts)))
			goto trunc;
	}
	if (*xs & X_REPORTED) {
		nrep = get_u32(r);
		if (nrep > (1u << 24) || !(rep = take(r, 8 * (size_t)nrep)))
			goto trunc;
	}
	if ((*xs & X_MISSED) && !(missed = take(r, 8 * n)))
		goto trunc;
	if (!e)
		return 0;

	struct flowrt *fr = &e->fl[flow];
	struct inst *i = flowtab_create(fr->tab, key, keylen, flowtab_hash(key, keylen));
	if (!i)
		goto oom;
	if (hdr.state == INST_DETACHED)
		flowtab_detach(fr->tab, i);
	for (uint32_t a = 0; a < nal; a++)
		if (flowtab_link(fr->tab, i, al[a], allen[a]) < 0)
			goto oom;
	/* the header as saved, but the fields that place it in this table */
	struct inst keep = *i;
	*i = hdr;
	tw_entry_init(&i->tw);
	i->idx = keep.idx;
	i->hash = keep.hash;
	i->fifo_next = keep.fifo_next;
	i->fifo_prev = keep.fifo_prev;
	i->chain_prev = keep.chain_prev;
	i->x = keep.x;
	i->keylen = keep.keylen;
	i->born = e->born++;
	i->src = src;
	engine_track_age(e, fr, i->born);
	memcpy(flowtab_inst_hap_t(fr->tab, i), arrays, 8 * n);
	memcpy(flowtab_inst_seen(fr->tab, i), arrays + 8 * n, 8 * n);
	memcpy(flowtab_inst_sflags(fr->tab, i), arrays + 16 * n, 2 * n);
	memcpy(flowtab_inst_count(fr->tab, i), arrays + 18 * n, n);
	memcpy(flowtab_inst_arr(fr->tab, i), arrays + 19 * n, n);
	if (nseen || ndebts || nrep || missed) {
		struct inst_extra *x = flowtab_inst_extra(i);
		if (!x)
			goto oom;
		if (nseen) {
			if (!(x->seen = dup_bytes(seen, 8 * (size_t)nseen)))
				goto oom;
			x->nseen = x->capseen = nseen;
		}
		if (ndebts) {
			if (!(x->debts = calloc(ndebts, sizeof(*x->debts))))
				goto oom;
			const unsigned char *d = debts;
			for (uint32_t k = 0; k < ndebts; k++, d += 17) {
				memcpy(&x->debts[k].steps, d, 8);
				memcpy(&x->debts[k].due, d + 8, 8);
				x->debts[k].group = d[16];
			}
			x->ndebts = x->capdebts = ndebts;
		}
		if (nrep) {
			if (!(x->reported = dup_bytes(rep, 8 * (size_t)nrep)))
				goto oom;
			x->nreported = x->capreported = nrep;
		}
		if (missed && !(x->missed_due = dup_bytes(missed, 8 * n)))
			goto oom;
	}
	count_in(e, fr, i);
	judge_rearm(e, fr, i);
	return 0;
trunc:
	snprintf(err, errlen, "truncated state");
	return -1;
oom:
	snprintf(err, errlen, "out of memory importing state");
	return -1;
}

long engine_state_import(
    struct engine *e, uint32_t src, const void *p, size_t len, char *err, size_t errlen)
{
	for (int pass = 0; pass < 2; pass++) {
		struct rd r = { p, (const unsigned char *)p + len, 0 };
		uint32_t count = get_u32(&r);
		if (r.bad) {
			snprintf(err, errlen, "truncated state");
			return -1;
		}
		for (uint32_t k = 0; k < count; k++)
			if (import_inst(pass ? e : NULL, e, src, &r, err, errlen) < 0)
				return -1;
		if (r.p != r.end) {
			snprintf(err, errlen, "%zu bytes after the last instance",
			    (size_t)(r.end - r.p));
			return -1;
		}
		if (pass)
			return (long)count;
	}
	return -1;
}

/* ---- drop ---- */

long engine_state_drop(struct engine *e, uint32_t src)
{
	long n = 0;
	for (int f = 0; f < e->nfl; f++) {
		struct flowrt *fr = &e->fl[f];
		struct inst *i = flowtab_oldest(fr->tab);
		while (i) {
			struct inst *next = flowtab_next(fr->tab, i);
			if (i->src == src) {
				tw_cancel(&fr->clk->wheel, &i->tw);
				if (i->state == INST_OPEN) {
					uint16_t *sf = flowtab_inst_sflags(fr->tab, i);
					for (fg_mask m = i->expected; m; m &= m - 1) {
						int s = __builtin_ctzll(m);
						if (!(fr->optional & FG_BIT(s)))
							fr->st.awaiting_now[s]--;
						if (sf[s] & SF_STALLED)
							fr->st.stalled_now[s]--;
					}
					fr->st.in_flight--;
				} else {
					fr->st.retained--;
				}
				flowtab_release(fr->tab, i);
				e->live--;
				n++;
			}
			i = next;
		}
	}
	return n;
}

int engine_state_reset_clock(struct engine *e)
{
	if (e->live != 0)
		return -1;
	for (int k = 0; k < e->nclk; k++) {
		tw_dispose(&e->clk[k].wheel);
		tw_init(&e->clk[k].wheel);
		e->clk[k].due = INT64_MAX; /* nothing armed; all equal keys keep the heap valid */
	}
	e->st.tmax_ns = ENGINE_NO_TIME;
	return 0;
}
