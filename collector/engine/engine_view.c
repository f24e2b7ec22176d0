/*
 * engine_view: read-only views of flow instances for the HTTP API (engine.h,
 * "introspection"). Request paths, not the per-event path: a view is derived from
 * the instance's state on demand, so the engine keeps nothing extra for it.
 */
#include "engine/engine_int.h"
#include "lib/timefmt.h"

#include <string.h>

static int64_t view_expected_at(const struct flowrt *fr, struct inst *i, int s)
{
	const struct fg_step *st = &fr->f->steps[s];
	int64_t *hap = flowtab_inst_hap_t(fr->tab, i);
	uint8_t *arr = flowtab_inst_arr(fr->tab, i);
	if (st->start || (st->after & i->happened) != st->after)
		return ENGINE_NO_TIME;
	int64_t t = ENGINE_NO_TIME;
	for (fg_mask m = st->after; m; m &= m - 1)
		if (hap[__builtin_ctzll(m)] > t)
			t = hap[__builtin_ctzll(m)];
	if (st->after_any) {
		int first = -1;
		for (fg_mask m = st->after_any & i->happened; m; m &= m - 1) {
			int p = __builtin_ctzll(m);
			if (first < 0 || arr[p] < arr[first])
				first = p;
		}
		if (first < 0)
			return ENGINE_NO_TIME;
		if (hap[first] > t)
			t = hap[first];
	}
	return t;
}

static uint32_t kinds_of(uint16_t f)
{
	static const struct {
		uint16_t flag;
		enum an_kind k;
	} map[] = {
		{ SF_STALLED, AN_STALLED },
		{ SF_MISSING, AN_MISSING },
		{ SF_LATE, AN_LATE },
		{ SF_OOO, AN_OUT_OF_ORDER },
		{ SF_DOUBLE, AN_DOUBLE_STEP },
		{ SF_STORM, AN_RETRY_STORM },
		{ SF_UNEXP, AN_UNEXPECTED },
		{ SF_JOIN, AN_JOIN_WAIT },
		{ SF_DUP, AN_DUPLICATE },
	};
	uint32_t k = 0;
	for (size_t n = 0; n < sizeof(map) / sizeof(map[0]); n++)
		if (f & map[n].flag)
			k |= 1u << map[n].k;
	return k;
}

static int visit(const struct flowrt *fr, struct inst *i, engine_visit_fn fn, void *arg)
{
	struct engine_step_view steps[FG_MAX_STEPS];
	struct engine_view v = {
		.flow = fr->index,
		.correlation_id = flowtab_inst_key(fr->tab, i),
		.outcome = i->state == INST_OPEN ? NULL : fr->outnames[i->outcome],
		.opened_ns = i->open_t,
		.closed_ns = i->state == INST_OPEN ? ENGINE_NO_TIME : i->close_t,
		.events = i->events,
		.awaiting = i->state == INST_OPEN ? judge_awaiting(fr, i) : 0,
		.last_step = -1,
		.steps = steps,
		.linked = i->x ? (const char *const *)i->x->aliases : NULL,
		.nlinked = i->x ? i->x->naliases : 0,
	};
	uint16_t *sf = flowtab_inst_sflags(fr->tab, i);
	uint8_t *arr = flowtab_inst_arr(fr->tab, i);
	int64_t *hap = flowtab_inst_hap_t(fr->tab, i);
	for (int s = 0; s < fr->f->nsteps; s++) {
		const struct fg_step *st = &fr->f->steps[s];
		struct engine_step_view *sv = &steps[s];
		fg_mask b = FG_BIT(s);
		sv->count = flowtab_inst_count(fr->tab, i)[s];
		sv->happened_at_ns = (i->happened & b) ? hap[s] : ENGINE_NO_TIME;
		sv->expected_at_ns = view_expected_at(fr, i, s);
		sv->deadline_ns =
		    sv->expected_at_ns != ENGINE_NO_TIME && st->within_ns != FG_NO_DEADLINE
		    ? timefmt_add_sat(sv->expected_at_ns, st->within_ns)
		    : ENGINE_NO_TIME;
		if (i->happened & b)
			sv->status = ENGINE_STEP_HAPPENED;
		else if (sf[s] & SF_MISSING)
			sv->status = ENGINE_STEP_MISSING;
		else if (sf[s] & SF_STALLED)
			sv->status = ENGINE_STEP_STALLED;
		else if (st->alts & i->happened)
			sv->status = ENGINE_STEP_CANCELLED;
		else if (i->expected & b)
			sv->status = ENGINE_STEP_PENDING;
		else
			sv->status = ENGINE_STEP_NOT_EXPECTED;
		if (sv->status == ENGINE_STEP_STALLED)
			v.stalled |= b;
		v.kinds |= kinds_of(sf[s]);
		if ((i->happened & b) && (v.last_step < 0 || arr[s] > arr[v.last_step]))
			v.last_step = s;
	}
	if (i->state != INST_OPEN && i->outcome == fr->slot_abandoned)
		v.kinds |= 1u << AN_ABANDONED;
	return fn(arg, &v);
}

void engine_foreach(const struct engine *e, int flow, engine_visit_fn fn, void *arg)
{
	for (int f = 0; f < e->nfl; f++) {
		if (flow >= 0 && f != flow)
			continue;
		const struct flowrt *fr = &e->fl[f];
		for (struct inst *i = flowtab_oldest(fr->tab); i; i = flowtab_next(fr->tab, i))
			if (i->state != INST_DETACHED && visit(fr, i, fn, arg))
				return;
	}
}

int engine_lookup(const struct engine *e, int flow, const char *corr, engine_visit_fn fn, void *arg)
{
	if (flow < 0 || flow >= e->nfl || !corr)
		return -1;
	const struct flowrt *fr = &e->fl[flow];
	size_t len = strlen(corr);
	struct inst *head = flowtab_find(fr->tab, corr, len, flowtab_hash(corr, len));
	if (!head)
		return -1;
	visit(fr, head, fn, arg);
	return 0;
}
