/*
 * engine: routing of events to flow instances, the clocks, and the counters.
 * What an event does to an instance is judge.c; see engine.h for the contract.
 *
 * Routing (docs/semantics.md "Terms"): a type declared by exactly one flow goes there; a
 * type declared by several needs the event's `flow`; an event naming a flow goes to
 * that flow only; an undeclared type is `unexpected` in every flow that has an
 * instance for its correlation id, else `unmatched`. Types are found through a small
 * open-addressing index built once, so routing costs one hash per event.
 *
 * Keys (DESIGN.md "Keys can change mid-flow"): a step's `key` attribute, when present
 * on the event, replaces the correlation id as its key; values of the flow's `keys`
 * attributes are further keys of the same instance. The first key already known
 * finds the instance; every other key the event carries is linked to it.
 */
#include "engine/engine_int.h"
#include "engine/keyidx.h"
#include "lib/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const char *const KIND_NAMES[AN__COUNT] = {
	"stalled",
	"late",
	"missing",
	"out_of_order",
	"duplicate",
	"double_step",
	"retry_storm",
	"unexpected",
	"join_wait",
	"abandoned",
};

const char *an_kind_name(enum an_kind k)
{
	return (unsigned)k < AN__COUNT ? KIND_NAMES[k] : "unknown";
}

static int build_types(struct engine *e)
{
	size_t n = 0;
	for (int f = 0; f < e->g->nflows; f++)
		n += (size_t)e->g->flows[f].nsteps;
	uint32_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	e->types = calloc(cap, sizeof(*e->types));
	if (!e->types)
		return -1;
	e->typemask = cap - 1;
	for (int f = 0; f < e->g->nflows; f++) {
		const struct fg_flow *fl = &e->g->flows[f];
		for (int s = 0; s < fl->nsteps; s++) {
			const char *name = fl->steps[s].name;
			uint64_t h = XXH3_64bits(name, strlen(name));
			uint32_t p = (uint32_t)h & e->typemask;
			while (e->types[p].name && strcmp(e->types[p].name, name) != 0)
				p = (p + 1) & e->typemask;
			if (e->types[p].name) {
				if (e->types[p].flow != f)
					e->types[p].flow = -1; /* declared by several flows */
				continue;
			}
			e->types[p] = (struct typeent){ h, name, f, s };
		}
	}
	return 0;
}

static const struct typeent *find_type(const struct engine *e, const char *type)
{
	uint64_t h = XXH3_64bits(type, strlen(type));
	for (uint32_t p = (uint32_t)h & e->typemask; e->types[p].name; p = (p + 1) & e->typemask)
		if (e->types[p].h == h && strcmp(e->types[p].name, type) == 0)
			return &e->types[p];
	return NULL;
}

/* Names an event may carry: a flow's name (step -1) and, per flow, its step names,
 * so that an event naming its flow is routed by one lookup whatever the number of
 * flows and steps. */
static uint64_t name_hash(int flow, int step, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), step < 0 ? 0 : (uint64_t)flow + 1);
}

static int build_names(struct engine *e)
{
	size_t n = (size_t)e->g->nflows;
	for (int f = 0; f < e->g->nflows; f++)
		n += (size_t)e->g->flows[f].nsteps;
	uint32_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	e->names = calloc(cap, sizeof(*e->names));
	if (!e->names)
		return -1;
	e->namemask = cap - 1;
	for (int f = 0; f < e->g->nflows; f++) {
		const struct fg_flow *fl = &e->g->flows[f];
		for (int s = -1; s < fl->nsteps; s++) {
			const char *name = s < 0 ? fl->name : fl->steps[s].name;
			uint64_t h = name_hash(f, s, name);
			uint32_t p = (uint32_t)h & e->namemask;
			while (e->names[p].name)
				p = (p + 1) & e->namemask;
			e->names[p] = (struct nameent){ h, name, f, s };
		}
	}
	return 0;
}

/* Index of the flow named `name` (flow < 0), or of step `name` of flow `flow`; -1. */
static int find_name(const struct engine *e, int flow, const char *name)
{
	int step = flow < 0 ? -1 : 0;
	uint64_t h = name_hash(flow, step, name);
	for (uint32_t p = (uint32_t)h & e->namemask; e->names[p].name; p = (p + 1) & e->namemask) {
		const struct nameent *ne = &e->names[p];
		if (ne->h != h || (flow < 0) != (ne->step < 0) || (flow >= 0 && ne->flow != flow) ||
		    strcmp(ne->name, name) != 0)
			continue;
		return flow < 0 ? ne->flow : ne->step;
	}
	return -1;
}

/* Every attribute some flow takes further keys from (`keys`), once each. */
static int build_keyattrs(struct engine *e)
{
	size_t n = 0;
	for (int f = 0; f < e->nfl; f++)
		n += (size_t)e->g->flows[f].nkeys;
	e->keyattrs = calloc(n + 1, sizeof(*e->keyattrs));
	if (!e->keyattrs)
		return -1;
	for (int f = 0; f < e->nfl; f++)
		for (int k = 0; k < e->g->flows[f].nkeys; k++) {
			const char *a = e->g->flows[f].keys[k];
			int dup = 0;
			for (int j = 0; j < e->nkeyattrs && !dup; j++)
				dup = strcmp(e->keyattrs[j], a) == 0;
			if (!dup)
				e->keyattrs[e->nkeyattrs++] = a;
		}
	return 0;
}

static int init_flow(struct flowrt *fr, const struct fg_flow *f, int index)
{
	size_t n = (size_t)f->nsteps;
	fr->f = f;
	fr->index = index;
	fr->tab = flowtab_new(f->nsteps);
	/* outcome slots: the flow's end names, "completed" if absent, abandoned, evicted */
	fr->outnames = calloc((size_t)f->noutcomes + 3, sizeof(char *));
	fr->st.closed_by_outcome = calloc((size_t)f->noutcomes + 3, sizeof(uint64_t));
	fr->st.stalled_now = calloc(n, sizeof(uint64_t));
	fr->st.awaiting_now = calloc(n, sizeof(uint64_t));
	fr->st.evicted_awaiting = calloc(n, sizeof(uint64_t));
	fr->st.anomalies_by_step = calloc(n, sizeof(*fr->st.anomalies_by_step));
	fr->stalls = calloc(n, sizeof(*fr->stalls));
	if (!fr->tab || !fr->stalls || !fr->outnames || !fr->st.closed_by_outcome ||
	    !fr->st.stalled_now || !fr->st.awaiting_now || !fr->st.evicted_awaiting ||
	    !fr->st.anomalies_by_step)
		return -1;
	int k = 0;
	fr->slot_completed = -1;
	for (int o = 0; o < f->noutcomes; o++) {
		if (strcmp(f->outcomes[o], OUTCOME_COMPLETED) == 0)
			fr->slot_completed = k;
		fr->outnames[k++] = f->outcomes[o];
	}
	if (fr->slot_completed < 0) {
		fr->slot_completed = k;
		fr->outnames[k++] = OUTCOME_COMPLETED;
	}
	fr->slot_abandoned = k;
	fr->outnames[k++] = OUTCOME_ABANDONED;
	fr->slot_evicted = k;
	fr->outnames[k++] = OUTCOME_EVICTED;
	fr->noutslots = k;
	for (int s = 0; s < f->nsteps; s++) {
		if (f->steps[s].optional)
			fr->optional |= FG_BIT(s);
		if (f->steps[s].join_within_ns != FG_NO_DEADLINE &&
		    __builtin_popcountll(f->steps[s].after) >= 2)
			fr->joins |= FG_BIT(s);
	}
	return 0;
}

static void free_flow(struct flowrt *fr)
{
	for (int s = 0; fr->stalls && s < fr->f->nsteps; s++)
		stallheap_free(&fr->stalls[s]);
	free(fr->stalls);
	flowtab_free(fr->tab);
	free(fr->outnames);
	free(fr->st.closed_by_outcome);
	free(fr->st.stalled_now);
	free(fr->st.awaiting_now);
	free(fr->st.evicted_awaiting);
	free(fr->st.anomalies_by_step);
}

int engine_add_sink(struct engine *e, const struct engine_sink *sink)
{
	return sinks_add(&e->sinks, sink);
}

int engine_new(const struct flowgraph *g, const struct engine_opts *o,
    const struct engine_sink *sink, struct engine **out, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->g = g;
	if (o)
		e->o = *o;
	if (sink)
		engine_add_sink(e, sink);
	e->st.tmax_ns = ENGINE_NO_TIME;
	e->nfl = g->nflows;
	e->fl = calloc((size_t)g->nflows + 1, sizeof(*e->fl));
	int rc = e->fl ? 0 : -1;
	for (int f = 0; rc == 0 && f < g->nflows; f++)
		rc = init_flow(&e->fl[f], &g->flows[f], f);
	if (rc == 0)
		rc = build_types(e);
	if (rc == 0)
		rc = build_names(e);
	if (rc == 0)
		rc = engine_clock_build(e);
	if (rc == 0 && e->o.max_flows) {
		e->age = calloc((size_t)g->nflows + 1, sizeof(*e->age));
		e->inheap = calloc((size_t)g->nflows + 1, 1);
		rc = e->age && e->inheap ? 0 : -1;
	}
	if (rc == 0 && g->nflows >= KEYIDX_MIN_FLOWS) {
		e->keys = keyidx_new();
		rc = e->keys ? build_keyattrs(e) : -1;
		for (int f = 0; rc == 0 && f < g->nflows; f++)
			flowtab_set_keyidx(e->fl[f].tab, e->keys, (uint16_t)f);
	}
	if (rc < 0) {
		snprintf(err, errlen, "out of memory building the engine");
		engine_free(e);
		return -1;
	}
	*out = e;
	return 0;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (int f = 0; e->fl && f < e->nfl; f++)
		free_flow(&e->fl[f]);
	free(e->fl);
	engine_clock_free(e);
	free(e->types);
	free(e->names);
	free(e->keyattrs);
	keyidx_free(e->keys);
	free(e->age);
	free(e->inheap);
	free(e);
}

/* ---- clocks (engine_clock.c) ---- */

int engine_advance_some(struct engine *e, int64_t tmax_ns, size_t budget)
{
	if (e->st.tmax_ns == ENGINE_NO_TIME || tmax_ns > e->st.tmax_ns)
		e->st.tmax_ns = tmax_ns;
	return engine_clock_run_due(e, budget);
}

void engine_advance(struct engine *e, int64_t tmax_ns)
{
	if (e->st.tmax_ns != ENGINE_NO_TIME && tmax_ns <= e->st.tmax_ns)
		return;
	e->st.tmax_ns = tmax_ns;
	engine_clock_run_due(e, SIZE_MAX);
}

/* ---- instances ---- */

/* Eviction takes the oldest instance of all (DESIGN "Bounded memory"). Each flow's
 * table keeps creation order, so the oldest of all is the oldest of some flow: a
 * min-heap of flows keyed by their oldest instance's creation number finds it in
 * O(log flows), not by asking every flow. Keys go stale when a flow's oldest leaves
 * (the key is then too small, never too large) and are refreshed when popped; a flow
 * is in the heap at most once (inheap), pushed when its table stops being empty. */
static int32_t oldest_born(const struct engine *e, uint16_t f, int *empty)
{
	const struct inst *i = flowtab_oldest(e->fl[f].tab);
	*empty = i == NULL;
	return i ? (int32_t)i->born : 0;
}

static int age_less(const struct engine *e, uint32_t a, uint32_t b)
{
	return (int32_t)((uint32_t)e->age[a].born - (uint32_t)e->age[b].born) < 0;
}

static void age_swap(struct engine *e, uint32_t a, uint32_t b)
{
	struct ageent t = e->age[a];
	e->age[a] = e->age[b];
	e->age[b] = t;
}

static void age_push(struct engine *e, uint16_t f, int32_t born)
{
	uint32_t k = e->nage++;
	e->age[k] = (struct ageent){ born, f };
	while (k > 0 && age_less(e, k, (k - 1) / 2)) {
		age_swap(e, k, (k - 1) / 2);
		k = (k - 1) / 2;
	}
}

static void age_pop(struct engine *e)
{
	e->age[0] = e->age[--e->nage];
	for (uint32_t k = 0;;) {
		uint32_t l = 2 * k + 1, r = l + 1, m = k;
		if (l < e->nage && age_less(e, l, m))
			m = l;
		if (r < e->nage && age_less(e, r, m))
			m = r;
		if (m == k)
			return;
		age_swap(e, k, m);
		k = m;
	}
}

static void evict_oldest(struct engine *e)
{
	while (e->nage) {
		struct ageent top = e->age[0];
		int empty;
		int32_t born = oldest_born(e, top.flow, &empty);
		e->work++;
		age_pop(e);
		if (empty) {
			e->inheap[top.flow] = 0;
			continue;
		}
		if (born != top.born) { /* stale: the flow's oldest left */
			age_push(e, top.flow, born);
			continue;
		}
		struct flowrt *fr = &e->fl[top.flow];
		age_push(e, top.flow, born); /* refreshed after the eviction */
		judge_evict(e, fr, flowtab_oldest(fr->tab));
		return;
	}
}

void engine_track_age(struct engine *e, struct flowrt *fr, uint32_t born)
{
	if (e->inheap && !e->inheap[fr->index]) {
		e->inheap[fr->index] = 1;
		age_push(e, (uint16_t)fr->index, (int32_t)born);
	}
}

static struct inst *create(
    struct engine *e, struct flowrt *fr, const char *key, size_t len, uint32_t h, int64_t t)
{
	while (e->o.max_flows && e->live >= e->o.max_flows && e->nage)
		evict_oldest(e);
	struct inst *i = flowtab_create(fr->tab, key, len, h);
	if (!i)
		return NULL;
	i->born = e->born++;
	if (e->inheap && !e->inheap[fr->index]) {
		e->inheap[fr->index] = 1;
		age_push(e, (uint16_t)fr->index, (int32_t)i->born);
	}
	i->flow = (uint16_t)fr->index;
	i->open_t = t;
	i->state = INST_OPEN;
	e->live++;
	fr->st.started++;
	fr->st.in_flight++;
	return i;
}

/* The instance an event at time t with this key belongs to: a closed one still
 * within its close time + lateness, else the open one. NULL when none. */
static struct inst *select_inst(struct flowrt *fr, struct inst *head, int64_t t)
{
	for (struct inst *c = head; c;
	     c = c->chain_prev == FT_NONE ? NULL : flowtab_at(fr->tab, c->chain_prev))
		if (c->state == INST_CLOSED && t <= timefmt_add_sat(c->close_t, fr->f->lateness_ns))
			return c;
	return head && head->state == INST_OPEN ? head : NULL;
}

#define MAX_KEYS 8

struct keyset {
	const char *k[MAX_KEYS];
	size_t len[MAX_KEYS];
	uint32_t h[MAX_KEYS];
	int n;
};

static void add_key(struct keyset *ks, const char *k)
{
	if (!k || !*k || ks->n == MAX_KEYS)
		return;
	size_t len = strlen(k);
	for (int j = 0; j < ks->n; j++)
		if (ks->len[j] == len && memcmp(ks->k[j], k, len) == 0)
			return;
	ks->k[ks->n] = k;
	ks->len[ks->n] = len;
	ks->h[ks->n] = flowtab_hash(k, len);
	ks->n++;
}

static void event_keys(const struct flowrt *fr, int step, const struct event *ev, struct keyset *ks)
{
	ks->n = 0;
	const char *ka = step >= 0 ? fr->f->steps[step].key_attr : NULL;
	const char *v = ka ? event_attr(ev, ka) : NULL;
	add_key(ks, v ? v : ev->correlation_id);
	for (int k = 0; k < fr->f->nkeys; k++)
		add_key(ks, event_attr(ev, fr->f->keys[k]));
}

static struct inst *find_inst(
    struct engine *e, struct flowrt *fr, const struct keyset *ks, int64_t t)
{
	for (int j = 0; j < ks->n; j++) {
		struct inst *head = flowtab_find(fr->tab, ks->k[j], ks->len[j], ks->h[j]);
		if (!head)
			continue;
		struct inst *i = select_inst(fr, head, t);
		if (!i)
			return NULL;
		/* Catching up may close it (abandoned): then route again. With the
		 * event-time clock it is a no-op (W >= t - lateness already), so skipped. */
		if (e->o.clock == ENGINE_CLOCK_EVENTS)
			return i;
		int open = i->state == INST_OPEN;
		if (!judge_catch_up(e, fr, i, t) || (open && i->state != INST_OPEN)) {
			head = flowtab_find(fr->tab, ks->k[j], ks->len[j], ks->h[j]);
			return head ? select_inst(fr, head, t) : NULL;
		}
		return i;
	}
	return NULL;
}

static void link_keys(struct flowrt *fr, struct inst *i, const struct keyset *ks)
{
	if (ks->n < 2 || i->state == INST_DETACHED)
		return;
	for (int j = 0; j < ks->n; j++)
		if (!flowtab_find(fr->tab, ks->k[j], ks->len[j], ks->h[j]))
			flowtab_link(fr->tab, i, ks->k[j], ks->len[j]);
}

/* Fires what became due by the event itself (a step expected with its deadline
 * already behind the clock stalls at once). */
static void settle(struct engine *e, struct flowrt *fr, struct inst *i)
{
	int64_t w = engine_clock_now(e, fr->clk);
	if (tw_armed(&i->tw) && w != ENGINE_NO_TIME && i->tw.expire <= w)
		engine_clock_run(e, fr->clk, SIZE_MAX);
}

static int apply_declared(
    struct engine *e, struct flowrt *fr, int step, const struct event *ev, uint64_t idh)
{
	struct keyset ks;
	event_keys(fr, step, ev, &ks);
	if (ks.n == 0)
		return 1;
	struct inst *i = find_inst(e, fr, &ks, ev->time_ns);
	if (!i)
		i = create(e, fr, ks.k[0], ks.len[0], ks.h[0], ev->time_ns);
	if (!i)
		return 1;
	link_keys(fr, i, &ks);
	i->src = e->src;
	uint32_t idx = i->idx;
	judge_event(e, fr, i, step, ev, idh);
	struct inst *still = flowtab_at(fr->tab, idx);
	if (still == i && (i->state != INST_DETACHED || i->x))
		settle(e, fr, i);
	return 0;
}

static int undeclared_in(struct engine *e, struct flowrt *fr, const struct event *ev, uint64_t idh)
{
	e->work++;
	struct keyset ks;
	event_keys(fr, -1, ev, &ks);
	struct inst *i = find_inst(e, fr, &ks, ev->time_ns);
	if (!i)
		return 0;
	i->src = e->src;
	judge_undeclared(e, fr, i, ev, idh);
	return 1;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The flows that may hold an instance under one of the event's keys, ascending and
 * without repeats, from the key index; -1 when it cannot tell (no index, lossy, or
 * more candidates than fit). */
static int candidate_flows(struct engine *e, const struct event *ev, uint16_t *out, int cap)
{
	if (!e->keys)
		return -1;
	int n = 0;
	for (int a = -1; a < e->nkeyattrs; a++) {
		const char *k = a < 0 ? ev->correlation_id : event_attr(ev, e->keyattrs[a]);
		if (!k || !*k)
			continue;
		int m = keyidx_flows(e->keys, flowtab_hash(k, strlen(k)), out + n, cap - n);
		if (m < 0 || m > cap - n)
			return -1;
		n += m;
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_u16);
	int u = 0;
	for (int j = 0; j < n; j++)
		if (u == 0 || out[j] != out[u - 1])
			out[u++] = out[j];
	return u;
}

/* An undeclared type: unexpected in each flow with an instance for its key (in flow
 * order), else unmatched. With many flows only those the key index names are asked. */
static int apply_undeclared(
    struct engine *e, struct flowrt *only, const struct event *ev, uint64_t idh)
{
	int hits = 0;
	if (only)
		return undeclared_in(e, only, ev, idh) ? 0 : 1;
	uint16_t cand[64];
	int n = candidate_flows(e, ev, cand, 64);
	if (n >= 0) {
		for (int j = 0; j < n; j++)
			hits += undeclared_in(e, &e->fl[cand[j]], ev, idh);
		return hits ? 0 : 1;
	}
	for (int f = 0; f < e->nfl; f++)
		hits += undeclared_in(e, &e->fl[f], ev, idh);
	return hits ? 0 : 1;
}

static int route(struct engine *e, const struct event *ev, uint64_t idh)
{
	if (ev->flow && *ev->flow) {
		int f = find_name(e, -1, ev->flow);
		if (f < 0)
			return 1;
		int s = find_name(e, f, ev->type);
		if (s < 0)
			return apply_undeclared(e, &e->fl[f], ev, idh);
		return apply_declared(e, &e->fl[f], s, ev, idh);
	}
	const struct typeent *te = find_type(e, ev->type);
	if (!te)
		return apply_undeclared(e, NULL, ev, idh);
	if (te->flow < 0)
		return 1;
	return apply_declared(e, &e->fl[te->flow], te->step, ev, idh);
}

int engine_apply(struct engine *e, const struct event *ev)
{
	e->st.events++;
	if (e->o.clock == ENGINE_CLOCK_EVENTS)
		engine_advance(e, ev->time_ns);
	uint64_t idh = XXH3_64bits(ev->event_id, strlen(ev->event_id));
	int unmatched = route(e, ev, idh);
	if (unmatched)
		e->st.unmatched++;
	return unmatched;
}

void engine_finish(struct engine *e)
{
	/* End of input: lateness released, W = T_max, every deadline up to it fires. */
	engine_clock_release(e);
	for (int f = 0; f < e->nfl; f++) {
		struct flowrt *fr = &e->fl[f];
		struct inst *i;
		while ((i = flowtab_oldest(fr->tab)) != NULL)
			judge_report_open(e, fr, i);
	}
}

int64_t engine_oldest_stall(const struct engine *ce, int flow, int step)
{
	if (flow < 0 || flow >= ce->nfl || step < 0 || step >= ce->fl[flow].f->nsteps)
		return ENGINE_NO_TIME;
	/* Pruning stale entries changes no observable state: logically const. */
	return judge_oldest_stall((struct flowrt *)&ce->fl[flow], step);
}

const struct engine_stats *engine_stats(const struct engine *e) { return &e->st; }

uint64_t engine_work(const struct engine *e) { return e->work; }

const struct engine_flow_stats *engine_flow_stats(const struct engine *e, int flow)
{
	return flow >= 0 && flow < e->nfl ? &e->fl[flow].st : NULL;
}

const char *engine_outcome_name(const struct engine *e, int flow, int i)
{
	if (flow < 0 || flow >= e->nfl || i < 0 || i >= e->fl[flow].noutslots)
		return NULL;
	return e->fl[flow].outnames[i];
}

int engine_noutcomes(const struct engine *e, int flow)
{
	return flow >= 0 && flow < e->nfl ? e->fl[flow].noutslots : 0;
}

size_t engine_memory(const struct engine *e)
{
	size_t n = sizeof(*e) + (size_t)e->nfl * sizeof(*e->fl) +
	    (e->typemask + 1) * sizeof(*e->types) + (e->namemask + 1) * sizeof(*e->names) +
	    (size_t)e->nclk * (sizeof(*e->clk) + 2 * sizeof(int)) +
	    (e->keys ? keyidx_memory(e->keys) : 0);
	for (int f = 0; f < e->nfl; f++)
		n += flowtab_memory(e->fl[f].tab);
	return n;
}

int engine_check(const struct engine *e, char *err, size_t errlen)
{
	size_t live = 0;
	for (int f = 0; f < e->nfl; f++) {
		const struct flowrt *fr = &e->fl[f];
		int rc = flowtab_check(fr->tab);
		if (rc) {
			snprintf(err, errlen, "flow %s: table inconsistent (%d)", fr->f->name, rc);
			return -1;
		}
		uint64_t open = 0, closed = 0;
		for (struct inst *i = flowtab_oldest(fr->tab); i; i = flowtab_next(fr->tab, i))
			i->state == INST_OPEN ? open++ : closed++;
		if (open != fr->st.in_flight || closed != fr->st.retained) {
			snprintf(err, errlen,
			    "flow %s: %llu open, %llu closed, counters say %llu, %llu", fr->f->name,
			    (unsigned long long)open, (unsigned long long)closed,
			    (unsigned long long)fr->st.in_flight,
			    (unsigned long long)fr->st.retained);
			return -1;
		}
		live += open + closed;
	}
	if (engine_clock_check(e, err, errlen))
		return -1;
	if (live != e->live) {
		snprintf(err, errlen, "%zu instances, engine counts %zu", live, e->live);
		return -1;
	}
	return 0;
}
