/*
 * api_engine: api_backend over the engine. See api_engine.h.
 *
 * The views are converted field by field (the engine's and the renderer's step views
 * are separate types so that the renderer builds without the engine). A flows walk
 * copies step views only for stalled instances (the list needs their deadlines);
 * lookups copy all, plus the instance's recent events and anomalies, into per-call
 * scratch that lives until the renderer returns.
 */
#include "http/api_engine.h"

#include <stdlib.h>
#include <string.h>

#include "out/evlog.h"

#define TL_MAX_EVENTS 256
#define TL_MAX_ANOMALIES 64
#define TL_MAX_KEYS 64 /* the instance's own and linked keys searched for its events */

struct api_engine {
	struct engine_set es;
	const struct flowgraph *g;
	struct snapshot *snap;
	struct evlog *log[ENGINE_SET_MAX]; /* one ring per engine (shard): one writer each */
};

struct api_engine *api_engine_new(const struct engine_set *es, const struct flowgraph *g,
    struct snapshot *snap, size_t evlog_bytes)
{
	struct api_engine *ae = calloc(1, sizeof(*ae));
	if (ae == NULL)
		return NULL;
	ae->es = *es;
	ae->g = g;
	ae->snap = snap;
	/* the bytes are the collector's: split between the shards' rings */
	size_t bytes = (evlog_bytes ? evlog_bytes : API_ENGINE_EVLOG_BYTES) / (size_t)es->n;
	for (int i = 0; i < es->n; i++) {
		if ((ae->log[i] = evlog_new(bytes)) == NULL) {
			api_engine_free(ae);
			return NULL;
		}
		/* events that arrived under a linked key belong to their flow's timeline;
		 * beyond EVLOG_MAX_KEY_ATTRS attributes the rest are not indexed (the
		 * timeline misses their events, judging does not) */
		evlog_index_graph(ae->log[i], g);
	}
	return ae;
}

void api_engine_free(struct api_engine *ae)
{
	if (ae == NULL)
		return;
	for (int i = 0; i < ae->es.n; i++)
		evlog_free(ae->log[i]);
	free(ae);
}

void api_engine_event(struct api_engine *ae, int shard, const struct event *ev)
{
	evlog_add(ae->log[shard], ev);
}

static void conv_steps(struct api_step_view *dst, const struct engine_step_view *src, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = (struct api_step_view){ .status = src[i].status,
			.count = src[i].count,
			.happened_at_ns = src[i].happened_at_ns,
			.expected_at_ns = src[i].expected_at_ns,
			.deadline_ns = src[i].deadline_ns };
}

static void conv(struct api_instance *o, const struct engine_view *v)
{
	*o = (struct api_instance){ .flow = v->flow,
		.correlation_id = v->correlation_id,
		.outcome = v->outcome,
		.opened_ns = v->opened_ns,
		.closed_ns = v->closed_ns,
		.events = v->events,
		.awaiting = v->awaiting,
		.stalled = v->stalled,
		.kinds = v->kinds,
		.last_step = v->last_step,
		.linked = v->linked,
		.nlinked = v->nlinked };
}

struct walk {
	const struct flowgraph *g;
	api_visit_fn fn;
	void *arg;
};

static int walk_visit(void *arg, const struct engine_view *v)
{
	struct walk *w = arg;
	struct api_instance o;
	struct api_step_view steps[FG_MAX_STEPS];
	conv(&o, v);
	if (v->stalled && v->steps) {
		conv_steps(steps, v->steps, w->g->flows[v->flow].nsteps);
		o.steps = steps;
	}
	return w->fn(w->arg, &o);
}

static void be_foreach(void *ctx, int flow, api_visit_fn fn, void *arg)
{
	struct api_engine *ae = ctx;
	struct walk w = { ae->g, fn, arg };
	engine_set_foreach(&ae->es, flow, walk_visit, &w);
}

struct tl {
	struct api_engine *ae;
	api_visit_fn fn;
	void *arg;
	/* events copied out of the evlog callback */
	struct api_event_view evs[TL_MAX_EVENTS];
	struct ev_attr *attrs[TL_MAX_EVENTS];
	char *strs[TL_MAX_EVENTS];
	int nevs;
};

static char *put(char **p, const char *s)
{
	char *r = *p;
	size_t n = s ? strlen(s) + 1 : 1;
	memcpy(r, s ? s : "", n);
	*p += n;
	return r;
}

/* Copies one event (strings and attributes) into one allocation; `key` is the
 * instance's key it was found under (borrowed from the view: kept as a pointer). */
static int tl_event(void *arg, const struct event *ev, int64_t arrival_ns, const char *key)
{
	(void)arrival_ns;
	struct tl *t = arg;
	if (t->nevs == TL_MAX_EVENTS)
		return 1;
	size_t n = strlen(ev->event_id) + strlen(ev->type) + strlen(ev->source) + 4 +
	    (ev->topic ? strlen(ev->topic) : 0);
	for (uint32_t i = 0; i < ev->nattrs; i++)
		n += strlen(ev->attrs[i].key) + strlen(ev->attrs[i].val) + 2;
	char *buf = malloc(n), *p = buf;
	struct ev_attr *at = calloc(ev->nattrs + 1, sizeof(*at));
	if (buf == NULL || at == NULL) {
		free(buf);
		free(at);
		return 1;
	}
	struct api_event_view *e = &t->evs[t->nevs];
	e->event_id = put(&p, ev->event_id);
	e->type = put(&p, ev->type);
	e->source = put(&p, ev->source);
	e->topic = ev->topic ? put(&p, ev->topic) : NULL;
	e->key = key;
	for (uint32_t i = 0; i < ev->nattrs; i++) {
		at[i].key = put(&p, ev->attrs[i].key);
		at[i].val = put(&p, ev->attrs[i].val);
	}
	e->time_ns = ev->time_ns;
	e->partition = ev->partition;
	e->offset = ev->offset;
	e->attrs = at;
	e->nattrs = ev->nattrs;
	t->strs[t->nevs] = buf;
	t->attrs[t->nevs] = at;
	t->nevs++;
	return 0;
}

static int tl_visit(void *arg, const struct engine_view *v)
{
	struct tl *t = arg;
	struct api_instance o;
	struct api_step_view steps[FG_MAX_STEPS];
	struct snap_anomaly sa[TL_MAX_ANOMALIES];
	struct api_anomaly_view an[TL_MAX_ANOMALIES];
	conv(&o, v);
	conv_steps(steps, v->steps, t->ae->g->flows[v->flow].nsteps);
	o.steps = steps;
	const char *keys[TL_MAX_KEYS];
	int nk = 0;
	keys[nk++] = v->correlation_id;
	for (uint32_t k = 0; k < v->nlinked && nk < TL_MAX_KEYS; k++)
		keys[nk++] = v->linked[k];
	/* a flow lives in one shard, so its events are in one ring (in arrival order) */
	for (int i = 0; i < t->ae->es.n; i++)
		evlog_find_keys(t->ae->log[i], keys, nk, tl_event, t);
	o.evs = t->evs;
	o.nevs = t->nevs;
	if (t->nevs > 0)
		o.last_source = t->evs[t->nevs - 1].source;
	int na =
	    snapshot_anomalies_of(t->ae->snap, v->flow, v->correlation_id, sa, TL_MAX_ANOMALIES);
	for (int i = 0; i < na; i++) /* the ring gives newest first; timelines go forward */
		an[i] = (struct api_anomaly_view){ .kind = sa[na - 1 - i].kind,
			.step = sa[na - 1 - i].step,
			.at_ns = sa[na - 1 - i].at_ns };
	o.anoms = an;
	o.nanoms = na;
	return t->fn(t->arg, &o);
}

static int be_lookup(void *ctx, int flow, const char *corr, api_visit_fn fn, void *arg)
{
	struct api_engine *ae = ctx;
	struct tl *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	t->ae = ae;
	t->fn = fn;
	t->arg = arg;
	int rc = engine_set_lookup(&ae->es, flow, corr, tl_visit, t);
	for (int i = 0; i < t->nevs; i++) {
		free(t->strs[i]);
		free(t->attrs[i]);
	}
	free(t);
	return rc;
}

static int64_t be_now(void *ctx)
{
	struct api_engine *ae = ctx;
	struct engine_stats st;
	engine_set_stats(&ae->es, &st);
	return st.tmax_ns;
}

void api_engine_backend(struct api_engine *ae, struct api_backend *out)
{
	*out = (struct api_backend){
		.foreach = be_foreach, .lookup = be_lookup, .now = be_now, .ctx = ae
	};
}

const struct evlog *api_engine_ring(const struct api_engine *ae, int shard)
{
	return ae->log[shard];
}
