/*
 * api_flows: the two API answers that need the flow table, /api/v1/flows and
 * /api/v1/flows/{flow}/{id}, rendered on the engine thread from the backend's
 * instance views (see api_render.h).
 *
 * The list walks every instance once, counts the matches and keeps the best
 * offset+limit of them in a max-heap ordered by the requested sort (worst at the
 * root): O(N log K) time and O(K) memory, K <= AR_MAX_WINDOW, allocated per request
 * (a request path, not the per-event path).
 */
#include "http/api_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_DEADLINES 8

static const char *const status_names[] = { "not_expected", "pending", "happened", "stalled",
	"missing", "cancelled" };

struct item {
	int flow;
	bool closed;
	uint32_t events, kinds;
	int last_step;
	fg_mask awaiting, stalled;
	int64_t opened_ns, min_deadline_ns;
	int64_t deadlines[ITEM_DEADLINES]; /* of the first stalled steps, in step order */
	char corr[SNAP_STR];
	char outcome[32];
	char last_source[64];
};

struct walk {
	const struct api_flows_args *a;
	const struct flowgraph *g;
	const int *await_idx; /* [nflows]: index of awaiting_name in each flow, or -1 */
	struct item *heap;
	int n, k;
	uint64_t total;
};

static int cmp_i64(int64_t x, int64_t y) { return x < y ? -1 : x > y; }

/* <0 when x is listed before y. */
static int item_cmp(const struct api_flows_args *a, const struct item *x, const struct item *y)
{
	int c = 0;
	switch (a->sort) {
	case AR_SORT_AGE: c = -cmp_i64(x->opened_ns, y->opened_ns); break;
	case AR_SORT_OPENED: c = cmp_i64(x->opened_ns, y->opened_ns); break;
	case AR_SORT_CORR: c = strcmp(x->corr, y->corr); break;
	case AR_SORT_OVERDUE: c = -cmp_i64(x->min_deadline_ns, y->min_deadline_ns); break;
	}
	if (!a->asc)
		c = -c;
	if (c == 0)
		c = strcmp(x->corr, y->corr);
	if (c == 0)
		c = x->flow - y->flow;
	return c;
}

static void sift_down(struct walk *w, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, big = i;
		if (l < w->n && item_cmp(w->a, &w->heap[l], &w->heap[big]) > 0)
			big = l;
		if (r < w->n && item_cmp(w->a, &w->heap[r], &w->heap[big]) > 0)
			big = r;
		if (big == i)
			return;
		struct item t = w->heap[i];
		w->heap[i] = w->heap[big];
		w->heap[big] = t;
		i = big;
	}
}

static void sift_up(struct walk *w, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (item_cmp(w->a, &w->heap[i], &w->heap[p]) <= 0)
			return;
		struct item t = w->heap[i];
		w->heap[i] = w->heap[p];
		w->heap[p] = t;
		i = p;
	}
}

/* key=: the instance's correlation id or one of its linked keys. */
static bool has_key(const struct api_instance *v, const char *k)
{
	if (strcmp(v->correlation_id, k) == 0)
		return true;
	for (uint32_t i = 0; i < v->nlinked; i++)
		if (strcmp(v->linked[i], k) == 0)
			return true;
	return false;
}

static bool matches(const struct walk *w, const struct api_instance *v)
{
	const struct api_flows_args *a = w->a;
	bool closed = v->outcome != NULL;
	if (a->state == AR_STATE_OPEN && closed)
		return false;
	if (a->state == AR_STATE_CLOSED && !closed)
		return false;
	if (a->state == AR_STATE_STALLED && (closed || v->stalled == 0))
		return false;
	if (a->flow >= 0 && v->flow != a->flow)
		return false;
	if (a->kind >= 0 && !(v->kinds & (1u << a->kind)))
		return false;
	if (a->awaiting_name[0]) { /* closed: it ended with the step stalled, never done */
		int s = w->await_idx[v->flow];
		if (s < 0 || !((closed ? v->stalled : v->awaiting) & FG_BIT(s)))
			return false;
	}
	/* q=: the correlation id contains it, or a linked key is it (what one types
	 * into the TUI's search: a part of an order id, or a whole payment id) */
	if (a->q[0] && strstr(v->correlation_id, a->q) == NULL && !has_key(v, a->q))
		return false;
	if (a->corr[0] && strcmp(v->correlation_id, a->corr) != 0)
		return false;
	if (a->key[0] && !has_key(v, a->key))
		return false;
	if (a->outcome[0] && (!closed || strcmp(v->outcome, a->outcome) != 0))
		return false;
	int64_t end = closed ? v->closed_ns : v->opened_ns;
	if ((a->since_ns && end < a->since_ns) || (a->until_ns && end >= a->until_ns))
		return false;
	return true;
}

/* Bounded copy without printf (this runs for every candidate of a million-row walk). */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static int64_t min_stalled_deadline(const struct api_instance *v, int nsteps)
{
	int64_t m = INT64_MAX;
	for (int s = 0; s < nsteps && v->stalled && v->steps; s++)
		if ((v->stalled & FG_BIT(s)) && v->steps[s].deadline_ns != INT64_MIN &&
		    v->steps[s].deadline_ns < m)
			m = v->steps[s].deadline_ns;
	return m;
}

static void fill_item(struct item *it, const struct api_instance *v, int nsteps)
{
	it->flow = v->flow;
	it->closed = v->outcome != NULL;
	it->events = v->events;
	it->kinds = v->kinds;
	it->last_step = v->last_step;
	it->awaiting = v->awaiting;
	it->stalled = v->stalled;
	it->opened_ns = v->opened_ns;
	it->min_deadline_ns = INT64_MAX;
	copy_str(it->corr, sizeof(it->corr), v->correlation_id);
	copy_str(it->outcome, sizeof(it->outcome), v->outcome);
	copy_str(it->last_source, sizeof(it->last_source), v->last_source);
	int j = 0;
	for (int s = 0; s < nsteps && v->stalled; s++) {
		if (!(v->stalled & FG_BIT(s)))
			continue;
		int64_t d = v->steps ? v->steps[s].deadline_ns : INT64_MIN;
		if (d != INT64_MIN && d < it->min_deadline_ns)
			it->min_deadline_ns = d;
		if (j < ITEM_DEADLINES)
			it->deadlines[j++] = d;
	}
}

/* Engine-thread callback: the view is borrowed for this call only. */
static int visit(void *arg, const struct api_instance *v)
{
	struct walk *w = arg;
	if (!matches(w, v))
		return 0;
	w->total++;
	int nsteps = w->g->flows[v->flow].nsteps;
	struct item it;
	if (w->n == w->k) {
		/* full: compare on the sort keys alone before copying the rest */
		if (w->k == 0)
			return 0;
		it.flow = v->flow;
		it.opened_ns = v->opened_ns;
		it.min_deadline_ns =
		    w->a->sort == AR_SORT_OVERDUE ? min_stalled_deadline(v, nsteps) : INT64_MAX;
		copy_str(it.corr, sizeof(it.corr), v->correlation_id);
		if (item_cmp(w->a, &it, &w->heap[0]) >= 0)
			return 0;
	}
	fill_item(&it, v, nsteps);
	if (w->n < w->k) {
		w->heap[w->n++] = it;
		sift_up(w, w->n - 1);
	} else {
		w->heap[0] = it;
		sift_down(w, 0);
	}
	return 0;
}

static void render_item(struct jbuf *b, struct metrics *m, const struct item *it, int64_t now)
{
	const struct fg_flow *fl = &metrics_graph(m)->flows[it->flow];
	jbuf_puts(b, "{\"flow\":");
	jbuf_json_str(b, fl->name);
	jbuf_puts(b, ",\"correlation_id\":");
	jbuf_json_str(b, it->corr);
	jbuf_puts(b, ",\"state\":");
	jbuf_json_str(b, it->closed ? it->outcome : it->stalled ? "stalled" : "open");
	jbuf_puts(b, ",\"outcome\":");
	jbuf_json_str(b, it->closed ? it->outcome : NULL);
	jbuf_puts(b, ",\"opened\":");
	jbuf_json_time(b, it->opened_ns);
	jbuf_puts(b, ",\"age_seconds\":");
	jbuf_json_seconds(b, now == INT64_MIN ? 0 : now - it->opened_ns);
	jbuf_printf(b, ",\"events\":%u,\"awaiting\":[", it->events);
	bool first = true;
	for (int s = 0; s < fl->nsteps; s++) {
		if (!(it->awaiting & FG_BIT(s)))
			continue;
		jbuf_puts(b, first ? "" : ",");
		jbuf_json_str(b, fl->steps[s].name);
		first = false;
	}
	jbuf_puts(b, "],\"stalled\":[");
	int j = 0;
	for (int s = 0; s < fl->nsteps; s++) {
		if (!(it->stalled & FG_BIT(s)))
			continue;
		int64_t d = j < ITEM_DEADLINES ? it->deadlines[j] : INT64_MIN;
		jbuf_puts(b, j ? ",{\"step\":" : "{\"step\":");
		jbuf_json_str(b, fl->steps[s].name);
		jbuf_puts(b, ",\"deadline\":");
		jbuf_json_time(b, d);
		jbuf_puts(b, ",\"overdue_seconds\":");
		jbuf_json_seconds(b, d == INT64_MIN || now == INT64_MIN ? 0 : now - d);
		api_render_owner(m, it->flow, s, b);
		jbuf_puts(b, "}");
		j++;
	}
	jbuf_puts(b, "],\"anomalies\":[");
	first = true;
	for (int k = 0; k < MX_NKINDS; k++) {
		if (!(it->kinds & (1u << k)))
			continue;
		jbuf_puts(b, first ? "" : ",");
		jbuf_json_str(b, metrics_kind_name(k));
		first = false;
	}
	jbuf_puts(b, "],\"last_source\":");
	jbuf_json_str(b, it->last_source[0] ? it->last_source : NULL);
	jbuf_puts(b, ",\"last_step\":");
	jbuf_json_str(b,
	    it->last_step >= 0 && it->last_step < fl->nsteps ? fl->steps[it->last_step].name
							     : NULL);
	jbuf_puts(b, "}");
}

int api_render_flows(
    struct metrics *m, const struct api_backend *be, const struct api_flows_args *a, struct jbuf *b)
{
	jbuf_reset(b);
	if (be == NULL || be->foreach == NULL) {
		jbuf_puts(b, "{\"error\":\"flow table not available\",\"status\":503}");
		return 503;
	}
	struct walk w = { .a = a, .g = metrics_graph(m), .k = a->offset + a->limit };
	int *await_idx = malloc(sizeof(int) * (size_t)(w.g->nflows + 1));
	for (int f = 0; await_idx && f < w.g->nflows; f++)
		await_idx[f] = api_render_step_index(&w.g->flows[f], a->awaiting_name);
	w.await_idx = await_idx;
	w.heap = malloc(sizeof(struct item) * (size_t)(w.k > 0 ? w.k : 1));
	if (w.heap == NULL || await_idx == NULL) {
		free(w.heap);
		free(await_idx);
		jbuf_puts(b, "{\"error\":\"out of memory\",\"status\":503}");
		return 503;
	}
	be->foreach (be->ctx, a->flow, visit, &w);
	/* pop the heap: worst first, so fill the order array from the back */
	int n = w.n;
	struct item *sorted = malloc(sizeof(struct item) * (size_t)(n > 0 ? n : 1));
	for (int i = n - 1; i >= 0 && sorted; i--) {
		sorted[i] = w.heap[0];
		w.heap[0] = w.heap[--w.n];
		sift_down(&w, 0);
	}
	int64_t now = be->now ? be->now(be->ctx) : INT64_MIN;
	jbuf_printf(b, "{\"total\":%llu,\"offset\":%d,\"limit\":%d,\"items\":[",
	    (unsigned long long)w.total, a->offset, a->limit);
	for (int i = a->offset; sorted && i < n; i++) {
		if (i > a->offset)
			jbuf_puts(b, ",");
		render_item(b, m, &sorted[i], now);
	}
	jbuf_puts(b, "]}");
	free(sorted);
	free(w.heap);
	free(await_idx);
	return 200;
}

struct tl {
	struct metrics *m;
	struct jbuf *b;
	int64_t now;
};

static void tl_events(struct jbuf *b, const struct api_instance *v)
{
	jbuf_puts(b, ",\"events\":[");
	for (int i = 0; i < v->nevs; i++) {
		const struct api_event_view *e = &v->evs[i];
		jbuf_puts(b, i ? ",{\"event_id\":" : "{\"event_id\":");
		jbuf_json_str(b, e->event_id);
		jbuf_puts(b, ",\"type\":");
		jbuf_json_str(b, e->type);
		jbuf_puts(b, ",\"source\":");
		jbuf_json_str(b, e->source);
		jbuf_puts(b, ",\"key\":");
		jbuf_json_str(b, e->key ? e->key : v->correlation_id);
		jbuf_puts(b, ",\"time\":");
		jbuf_json_time(b, e->time_ns);
		jbuf_puts(b, ",\"topic\":");
		jbuf_json_str(b, e->topic);
		jbuf_printf(b, ",\"partition\":%d,\"offset\":%lld,\"attributes\":{",
		    (int)e->partition, (long long)e->offset);
		for (uint32_t j = 0; j < e->nattrs; j++) {
			if (j)
				jbuf_puts(b, ",");
			jbuf_json_str(b, e->attrs[j].key);
			jbuf_puts(b, ":");
			jbuf_json_str(b, e->attrs[j].val);
		}
		jbuf_puts(b, "}}");
	}
	jbuf_puts(b, "]");
}

static void tl_steps(struct jbuf *b, struct metrics *m, const struct api_instance *v, int64_t now)
{
	const struct fg_flow *fl = &metrics_graph(m)->flows[v->flow];
	jbuf_puts(b, ",\"steps\":[");
	for (int s = 0; s < fl->nsteps; s++) {
		struct api_step_view sv = { .status = AR_NOT_EXPECTED,
			.happened_at_ns = INT64_MIN,
			.expected_at_ns = INT64_MIN,
			.deadline_ns = INT64_MIN };
		if (v->steps)
			sv = v->steps[s];
		jbuf_puts(b, s ? ",{\"name\":" : "{\"name\":");
		jbuf_json_str(b, fl->steps[s].name);
		jbuf_puts(b, ",\"status\":");
		jbuf_json_str(b, status_names[sv.status <= AR_CANCELLED ? sv.status : 0]);
		if (sv.happened_at_ns != INT64_MIN) {
			jbuf_puts(b, ",\"happened_at\":");
			jbuf_json_time(b, sv.happened_at_ns);
			jbuf_printf(b, ",\"count\":%u", sv.count);
		}
		if (sv.expected_at_ns != INT64_MIN) {
			jbuf_puts(b, ",\"expected_at\":");
			jbuf_json_time(b, sv.expected_at_ns);
		}
		if (sv.deadline_ns != INT64_MIN) {
			jbuf_puts(b, ",\"deadline\":");
			jbuf_json_time(b, sv.deadline_ns);
		}
		if (sv.status == AR_STALLED && sv.deadline_ns != INT64_MIN && now != INT64_MIN) {
			jbuf_puts(b, ",\"overdue_seconds\":");
			jbuf_json_seconds(b, now - sv.deadline_ns);
		}
		api_render_owner(m, v->flow, s, b);
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]");
}

static int tl_visit(void *arg, const struct api_instance *v)
{
	struct tl *t = arg;
	struct jbuf *b = t->b;
	const struct fg_flow *fl = &metrics_graph(t->m)->flows[v->flow];
	bool closed = v->outcome != NULL;
	jbuf_puts(b, "{\"flow\":");
	jbuf_json_str(b, fl->name);
	jbuf_puts(b, ",\"correlation_id\":");
	jbuf_json_str(b, v->correlation_id);
	jbuf_puts(b, ",\"state\":");
	jbuf_json_str(b, closed ? v->outcome : v->stalled ? "stalled" : "open");
	jbuf_puts(b, ",\"outcome\":");
	jbuf_json_str(b, v->outcome);
	jbuf_puts(b, ",\"opened\":");
	jbuf_json_time(b, v->opened_ns);
	jbuf_puts(b, ",\"closed\":");
	jbuf_json_time(b, closed ? v->closed_ns : INT64_MIN);
	jbuf_puts(b, ",\"duration_seconds\":");
	if (closed)
		jbuf_json_seconds(b, v->closed_ns - v->opened_ns);
	else
		jbuf_puts(b, "null");
	jbuf_puts(b, ",\"linked_keys\":[");
	for (uint32_t k = 0; k < v->nlinked; k++) {
		jbuf_puts(b, k ? "," : "");
		jbuf_json_str(b, v->linked[k]);
	}
	jbuf_puts(b, "]");
	tl_events(b, v);
	tl_steps(b, t->m, v, t->now);
	jbuf_puts(b, ",\"anomalies\":[");
	for (int i = 0; i < v->nanoms; i++) {
		const struct api_anomaly_view *a = &v->anoms[i];
		jbuf_puts(b, i ? ",{\"kind\":" : "{\"kind\":");
		jbuf_json_str(b, metrics_kind_name(a->kind));
		jbuf_puts(b, ",\"step\":");
		jbuf_json_str(
		    b, a->step >= 0 && a->step < fl->nsteps ? fl->steps[a->step].name : NULL);
		jbuf_puts(b, ",\"at\":");
		jbuf_json_time(b, a->at_ns);
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]}");
	return 1;
}

int api_render_timeline(struct metrics *m, const struct api_backend *be,
    const struct api_timeline_args *a, struct jbuf *b)
{
	jbuf_reset(b);
	if (be == NULL || be->lookup == NULL) {
		jbuf_puts(b, "{\"error\":\"flow table not available\",\"status\":503}");
		return 503;
	}
	struct tl t = { .m = m, .b = b, .now = be->now ? be->now(be->ctx) : INT64_MIN };
	if (be->lookup(be->ctx, a->flow, a->corr, tl_visit, &t) < 0) {
		jbuf_reset(b);
		jbuf_puts(b, "{\"error\":\"no such flow instance\",\"status\":404}");
		return 404;
	}
	return 200;
}
