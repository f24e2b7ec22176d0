/*
 * metrics_engine: copies the engine's own per-flow counters into the metrics (the
 * engine keeps them exact as it goes; this is O(flows x steps x kinds) for the flows
 * that ever held an instance and O(1) for the others, no walk of the flow table). Separate from metrics.c so that metrics and the HTTP server can
 * be built and tested without the engine.
 *
 * Oldest stall age: clock - engine_oldest_stall(), the deadline of the oldest
 * stall still current (the engine keeps a heap of them per step), so the age drops
 * as soon as the oldest stalled instance moves on.
 * Several engines (the daemon's shards) are summed: engine_set.h.
 * Threading: engine thread (the daemon's main thread, between rounds).
 */
#include "out/metrics.h"
#include "engine/engine.h"
#include "engine/engine_set.h"

#include <string.h>

_Static_assert(MX_NKINDS == AN__COUNT, "metrics kind table out of step with engine.h");

/* A flow that never held an instance: every counter of it is still 0 (a verdict,
 * an eviction or a close needs an instance, and a closed one is counted). */
static int never_used(const struct engine *e, int f, const struct engine_flow_stats *st)
{
	if (st->started || st->in_flight || st->retained)
		return 0;
	for (int i = 0; i < engine_noutcomes(e, f); i++)
		if (st->closed_by_outcome[i])
			return 0;
	return 1;
}

/* Zeroes the counters sync_flow adds into (the engines' own, summed over the set). */
static void zero_flow(struct mx_flow *mf, const struct fg_flow *fl)
{
	mf->started = 0;
	mf->in_flight = 0;
	for (int o = 0; o < mf->noutcomes; o++)
		mf->closed[o] = 0;
	memset(mf->anomalies, 0, sizeof(mf->anomalies[0]) * (size_t)(fl->nsteps + 1));
	for (int s = 0; s < fl->nsteps; s++)
		mf->stalled_now[s] = mf->awaiting_now[s] = mf->evicted[s] = 0;
}

/* Adds engine e's counters of flow f into mf; total[k] gets its verdicts by kind. */
static void add_flow(struct metrics *m, struct mx_flow *mf, const struct fg_flow *fl,
    const struct engine *e, int f, uint64_t *total)
{
	const struct engine_flow_stats *st = engine_flow_stats(e, f);
	if (st == NULL)
		return;
	mf->started += st->started;
	mf->in_flight += st->in_flight;
	for (int i = 0; i < engine_noutcomes(e, f); i++) {
		int o = metrics_outcome_index(m, f, engine_outcome_name(e, f, i));
		if (o >= 0)
			mf->closed[o] += st->closed_by_outcome[i];
	}
	for (int s = 0; s < fl->nsteps; s++) {
		for (int k = 0; k < MX_NKINDS; k++)
			mf->anomalies[s][k] += st->anomalies_by_step[s][k];
		mf->stalled_now[s] += st->stalled_now[s];
		mf->awaiting_now[s] += st->awaiting_now[s];
		mf->evicted[s] += st->evicted_awaiting[s];
	}
	for (int k = 0; k < MX_NKINDS; k++)
		total[k] += st->anomalies[k];
}

static void sync_flow(struct metrics *m, const struct engine_set *es, int f, int64_t now)
{
	const struct fg_flow *fl = &metrics_graph(m)->flows[f];
	struct mx_flow *mf = metrics_flow(m, f);
	uint64_t total[MX_NKINDS] = { 0 };
	int used = mf->used;

	/* idle declared flows cost one look per engine and sync, not a copy of every
	 * counter; once used, a flow is copied at every sync (used stays set) */
	for (int i = 0; i < es->n && !used; i++) {
		const struct engine_flow_stats *st = engine_flow_stats(es->e[i], f);
		used = st != NULL && !never_used(es->e[i], f, st);
	}
	if (!used)
		return;
	mf->used = 1;
	zero_flow(mf, fl);
	for (int i = 0; i < es->n; i++)
		add_flow(m, mf, fl, es->e[i], f, total);
	for (int s = 0; s < fl->nsteps; s++) {
		int64_t since = engine_set_oldest_stall(es, f, s);
		mf->stall_since_ns[s] = since;
		mf->oldest_stall_s[s] = since == ENGINE_NO_TIME || now == ENGINE_NO_TIME
		    ? 0
		    : (double)(now - since) / 1e9;
		if (mf->oldest_stall_s[s] < 0)
			mf->oldest_stall_s[s] = 0;
	}
	/* verdicts with no declared step: total minus the per-step sum */
	for (int k = 0; k < MX_NKINDS; k++) {
		uint64_t per = 0;
		for (int s = 0; s < fl->nsteps; s++)
			per += mf->anomalies[s][k];
		mf->anomalies[fl->nsteps][k] = total[k] > per ? total[k] - per : 0;
	}
}

void metrics_sync_engine(struct metrics *m, const struct engine_set *es)
{
	struct engine_stats st;
	engine_set_stats(es, &st);
	for (int f = 0; f < metrics_graph(m)->nflows; f++)
		sync_flow(m, es, f, st.tmax_ns);
	metrics_set_unmatched(m, st.unmatched);
}
