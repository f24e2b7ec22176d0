/*
 * metrics_engine: copies the engine's own per-flow counters into the metrics (the
 * engine keeps them exact as it goes; this is O(flows x steps x kinds) for the flows
 * that ever held an instance and O(1) for the others, no walk of the flow table). Separate from metrics.c so that metrics and the HTTP server can
 * be built and tested without the engine.
 *
 * Oldest stall age: clock - engine_oldest_stall(), the deadline of the oldest
 * stall still current (the engine keeps a heap of them per step), so the age drops
 * as soon as the oldest stalled instance moves on.
 * Threading: engine thread.
 */
#include "out/metrics.h"
#include "engine/engine.h"

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

static void sync_flow(struct metrics *m, const struct engine *e, int f, int64_t now)
{
	const struct engine_flow_stats *st = engine_flow_stats(e, f);
	const struct fg_flow *fl = &metrics_graph(m)->flows[f];
	struct mx_flow *mf = metrics_flow(m, f);
	if (st == NULL)
		return;
	/* idle declared flows cost one look per sync, not a copy of every counter; once
	 * used, a flow is copied at every sync (used stays set) */
	if (!mf->used && never_used(e, f, st))
		return;
	mf->used = 1;
	mf->started = st->started;
	mf->in_flight = st->in_flight;
	for (int i = 0; i < engine_noutcomes(e, f); i++) {
		int o = metrics_outcome_index(m, f, engine_outcome_name(e, f, i));
		if (o >= 0)
			mf->closed[o] = st->closed_by_outcome[i];
	}
	for (int s = 0; s < fl->nsteps; s++) {
		memcpy(mf->anomalies[s], st->anomalies_by_step[s], sizeof(mf->anomalies[s]));
		mf->stalled_now[s] = st->stalled_now[s];
		mf->awaiting_now[s] = st->awaiting_now[s];
		mf->evicted[s] = st->evicted_awaiting[s];
		int64_t since = engine_oldest_stall(e, f, s);
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
			per += st->anomalies_by_step[s][k];
		mf->anomalies[fl->nsteps][k] = st->anomalies[k] > per ? st->anomalies[k] - per : 0;
	}
}

void metrics_sync_engine(struct metrics *m, const struct engine *e)
{
	const struct engine_stats *es = engine_stats(e);
	for (int f = 0; f < metrics_graph(m)->nflows; f++)
		sync_flow(m, e, f, es->tmax_ns);
	metrics_set_unmatched(m, es->unmatched);
}
