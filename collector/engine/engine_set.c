/*
 * engine_set: see engine_set.h. Request paths and the metrics tick, never the
 * per-event path: every function is O(engines) plus the walk it answers.
 */
#include "engine/engine_set.h"

#include <stdbool.h>

struct engine_set engine_set_of(const struct engine *e)
{
	struct engine_set s = { .n = 1 };
	s.e[0] = e;
	return s;
}

void engine_set_stats(const struct engine_set *s, struct engine_stats *out)
{
	*out = (struct engine_stats){ .tmax_ns = ENGINE_NO_TIME };
	for (int i = 0; i < s->n; i++) {
		const struct engine_stats *st = engine_stats(s->e[i]);
		out->events += st->events;
		out->unmatched += st->unmatched;
		for (int k = 0; k < AN__COUNT; k++)
			out->anomalies_undeclared[k] += st->anomalies_undeclared[k];
		if (st->tmax_ns != ENGINE_NO_TIME &&
		    (out->tmax_ns == ENGINE_NO_TIME || st->tmax_ns < out->tmax_ns))
			out->tmax_ns = st->tmax_ns;
	}
}

/* engine_foreach has no early-stop result, so the set's walk stops its next engines
 * itself once fn asked to stop. */
struct walk {
	engine_visit_fn fn;
	void *arg;
	bool stop;
};

static int walk_visit(void *arg, const struct engine_view *v)
{
	struct walk *w = arg;
	int rc = w->fn(w->arg, v);
	if (rc != 0)
		w->stop = true;
	return rc;
}

void engine_set_foreach(const struct engine_set *s, int flow, engine_visit_fn fn, void *arg)
{
	struct walk w = { fn, arg, false };
	for (int i = 0; i < s->n && !w.stop; i++)
		engine_foreach(s->e[i], flow, walk_visit, &w);
}

struct probe {
	bool open;
	int64_t closed_ns;
};

static int probe_visit(void *arg, const struct engine_view *v)
{
	struct probe *p = arg;
	p->open = v->outcome == NULL;
	p->closed_ns = v->closed_ns;
	return 0;
}

int engine_set_lookup(
    const struct engine_set *s, int flow, const char *corr, engine_visit_fn fn, void *arg)
{
	int best = -1;
	struct probe bp = { false, ENGINE_NO_TIME };

	if (s->n == 1)
		return engine_lookup(s->e[0], flow, corr, fn, arg);
	for (int i = 0; i < s->n; i++) {
		struct probe p;
		if (engine_lookup(s->e[i], flow, corr, probe_visit, &p) < 0)
			continue;
		if (best < 0 || (p.open && !bp.open) ||
		    (!p.open && !bp.open && p.closed_ns > bp.closed_ns)) {
			best = i;
			bp = p;
		}
		if (bp.open)
			break;
	}
	return best < 0 ? -1 : engine_lookup(s->e[best], flow, corr, fn, arg);
}

int64_t engine_set_oldest_stall(const struct engine_set *s, int flow, int step)
{
	int64_t t = ENGINE_NO_TIME;
	for (int i = 0; i < s->n; i++) {
		int64_t x = engine_oldest_stall(s->e[i], flow, step);
		if (x != ENGINE_NO_TIME && (t == ENGINE_NO_TIME || x < t))
			t = x;
	}
	return t;
}

size_t engine_set_memory(const struct engine_set *s)
{
	size_t n = 0;
	for (int i = 0; i < s->n; i++)
		n += engine_memory(s->e[i]);
	return n;
}

uint64_t engine_set_work(const struct engine_set *s)
{
	uint64_t n = 0;
	for (int i = 0; i < s->n; i++)
		n += engine_work(s->e[i]);
	return n;
}
