/*
 * judge: what one event, or one passing deadline, does to one flow instance.
 * This file is docs/semantics.md in code; comments cite the rule they implement.
 *
 * Deadlines are not stored: they are derived from the instance's state whenever it
 * changes (stall = time expected + within, join = first predecessor's time +
 * join_within, abandon = open time + deadline, debts = time(S) + lateness, retire =
 * close time + lateness). Each instance arms one timer at its earliest deadline, so
 * the wheel holds one entry per instance, whatever its step count.
 *
 * Deadline ties are broken in one fixed order: abandon, stall, join, debt, retire;
 * within a kind, declaration order. Abandon first makes "a deadline equal to the close
 * time is not judged" hold for abandonment; debts after stalls lets a stalled step
 * also be reported missing at the same instant.
 */
#include "engine/engine_int.h"
#include "lib/timefmt.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum dk { DK_ABANDON, DK_STALL, DK_JOIN, DK_DEBT, DK_RETIRE, DK_NONE };

struct dl {
	int64_t at;
	enum dk kind;
	int step; /* stall/join step; debt index */
};

/* Which deadlines a pass may fire. */
struct dfilter {
	fg_mask stalls, joins, debt_steps; /* debt_steps: debts naming any of these */
	int all_debts, abandon, retire;
	int64_t sj_before; /* stalls and joins only when due before this */
};

static int lowbit(fg_mask m) { return __builtin_ctzll(m); }

static const struct fg_step *stp(const struct flowrt *fr, int s) { return &fr->f->steps[s]; }

/* When step s became expected: the largest time of its `after`, and the time of the
 * first-arrived of its `after_any` (docs/semantics.md: "When a step becomes expected"). */
static int64_t expected_at(const struct flowrt *fr, struct inst *i, int s)
{
	const struct fg_step *st = stp(fr, s);
	int64_t *hap = flowtab_inst_hap_t(fr->tab, i);
	uint8_t *arr = flowtab_inst_arr(fr->tab, i);
	int64_t t = INT64_MIN;
	for (fg_mask m = st->after; m; m &= m - 1)
		if (hap[lowbit(m)] > t)
			t = hap[lowbit(m)];
	if (st->after_any) {
		int first = -1;
		for (fg_mask m = st->after_any & i->happened; m; m &= m - 1)
			if (first < 0 || arr[lowbit(m)] < arr[first])
				first = lowbit(m);
		if (first >= 0 && hap[first] > t)
			t = hap[first];
	}
	return t;
}

/* F of a join: the event time of the first of its predecessors to arrive. */
static int64_t join_first(const struct flowrt *fr, struct inst *i, int j)
{
	uint8_t *arr = flowtab_inst_arr(fr->tab, i);
	int first = -1;
	for (fg_mask m = stp(fr, j)->after & i->happened; m; m &= m - 1)
		if (first < 0 || arr[lowbit(m)] < arr[first])
			first = lowbit(m);
	return flowtab_inst_hap_t(fr->tab, i)[first];
}

static void take(struct dl *best, int64_t at, enum dk kind, int step)
{
	if (at == INT64_MAX)
		return; /* a saturated sum (timefmt_add_sat): past the end of time, never */
	if (at < best->at ||
	    (at == best->at && (kind < best->kind || (kind == best->kind && step < best->step)))) {
		best->at = at;
		best->kind = kind;
		best->step = step;
	}
}

/* The earliest pending deadline the filter admits; kind DK_NONE when there is none. */
static struct dl next_deadline(const struct flowrt *fr, struct inst *i, const struct dfilter *fl)
{
	struct dl best = { INT64_MAX, DK_NONE, 0 };
	uint16_t *sf = flowtab_inst_sflags(fr->tab, i);
	int open = i->state == INST_OPEN;
	/* after close only deadlines before the close time are still judged */
	int64_t bound = open ? INT64_MAX : i->close_t;
	if (open && fl->abandon && fr->f->deadline_ns != FG_NO_DEADLINE)
		take(&best, timefmt_add_sat(i->open_t, fr->f->deadline_ns), DK_ABANDON, 0);
	fg_mask m = i->expected & ~fr->optional & fl->stalls;
	for (; m; m &= m - 1) {
		int s = lowbit(m);
		if (stp(fr, s)->within_ns == FG_NO_DEADLINE || (sf[s] & SF_STALLED))
			continue;
		int64_t d = timefmt_add_sat(expected_at(fr, i, s), stp(fr, s)->within_ns);
		if (d < bound && d < fl->sj_before)
			take(&best, d, DK_STALL, s);
	}
	for (m = fr->joins & fl->joins; m; m &= m - 1) {
		int j = lowbit(m);
		fg_mask a = stp(fr, j)->after;
		if ((sf[j] & SF_JOIN) || !(a & i->happened) || !(a & ~i->happened))
			continue;
		int64_t d = timefmt_add_sat(join_first(fr, i, j), stp(fr, j)->join_within_ns);
		if (d < bound && d < fl->sj_before && (open || join_first(fr, i, j) < bound))
			take(&best, d, DK_JOIN, j);
	}
	if (i->x)
		for (uint32_t d = 0; d < i->x->ndebts; d++)
			if (fl->all_debts || (i->x->debts[d].steps & fl->debt_steps))
				take(&best, i->x->debts[d].due, DK_DEBT, (int)d);
	if (fl->retire && i->state == INST_CLOSED)
		take(&best, timefmt_add_sat(i->close_t, fr->f->lateness_ns), DK_RETIRE, 0);
	return best;
}

/* ---- reporting ---- */

static void report(struct engine *e, struct flowrt *fr, struct inst *i, enum an_kind k, int step,
    const char *stepname, int64_t at, const struct event *ev, int64_t deadline, int64_t overrun,
    fg_mask awaiting)
{
	struct anomaly a = {
		.flow = fr->f,
		.correlation_id = flowtab_inst_key(fr->tab, i),
		.kind = k,
		.step = step >= 0 ? fr->f->steps[step].name : stepname,
		.step_index = step,
		.at_ns = at,
		.ev = ev,
		.overrun_ns = overrun,
		.deadline_ns = deadline,
		.awaiting = awaiting,
	};
	fr->st.anomalies[k]++;
	if (step >= 0)
		fr->st.anomalies_by_step[step][k]++;
	else
		e->st.anomalies_undeclared[k]++;
	sinks_anomaly(&e->sinks, &a);
}

/* Once per (instance, kind, step): a step flag says whether it was reported. */
static int first_time(struct flowrt *fr, struct inst *i, int s, uint16_t flag)
{
	uint16_t *sf = &flowtab_inst_sflags(fr->tab, i)[s];
	if (*sf & flag)
		return 0;
	*sf |= flag;
	return 1;
}

/* The same for verdicts on undeclared types, kept as hashes in the extras. */
static int first_time_undeclared(struct inst *i, enum an_kind k, const char *type)
{
	uint64_t h = XXH3_64bits_withSeed(type, strlen(type), (uint64_t)k + 1);
	struct inst_extra *x = flowtab_inst_extra(i);
	if (!x)
		return 1;
	for (uint32_t n = 0; n < x->nreported; n++)
		if (x->reported[n] == h)
			return 0;
	if (x->nreported == x->capreported) {
		uint32_t cap = x->capreported ? x->capreported * 2 : 4;
		uint64_t *r = realloc(x->reported, cap * sizeof(*r));
		if (!r)
			return 1;
		x->reported = r;
		x->capreported = cap;
	}
	x->reported[x->nreported++] = h;
	return 1;
}

/* ---- expectation bookkeeping (keeps awaiting_now / stalled_now exact) ---- */

static void set_expected(struct flowrt *fr, struct inst *i, int s)
{
	i->expected |= FG_BIT(s);
	if (!(fr->optional & FG_BIT(s)))
		fr->st.awaiting_now[s]++;
}

static void clear_expected(struct flowrt *fr, struct inst *i, int s)
{
	if (!(i->expected & FG_BIT(s)))
		return;
	i->expected &= ~FG_BIT(s);
	if (i->state != INST_OPEN)
		return; /* the counters forgot it when the instance closed */
	if (!(fr->optional & FG_BIT(s)))
		fr->st.awaiting_now[s]--;
	if (flowtab_inst_sflags(fr->tab, i)[s] & SF_STALLED)
		fr->st.stalled_now[s]--;
}

/* The stall deadline step s still owes (expected, not optional, has `within`, not
 * yet reported), or INT64_MAX. */
static int64_t stall_due(const struct flowrt *fr, struct inst *i, int s)
{
	const struct fg_step *st = stp(fr, s);
	if (!(i->expected & FG_BIT(s)) || (fr->optional & FG_BIT(s)) ||
	    st->within_ns == FG_NO_DEADLINE || (flowtab_inst_sflags(fr->tab, i)[s] & SF_STALLED))
		return INT64_MAX;
	return expected_at(fr, i, s) + st->within_ns;
}

/* Step s is no longer expected from event time t on: a stall of it due before t is
 * still judged by the clock (it passed in event time while s was expected), so s
 * keeps its expected bit until then (fire() clears it). */
static void expect_until(struct flowrt *fr, struct inst *i, int s, int64_t t)
{
	if (stall_due(fr, i, s) >= t)
		clear_expected(fr, i, s);
}

fg_mask judge_awaiting(const struct flowrt *fr, const struct inst *i)
{
	return i->expected & ~fr->optional;
}

/* A step becomes expected once its predecessors happened, unless it happened, an
 * alternative of it happened, it was reported missing, or the instance closed. */
static void maybe_expect(struct flowrt *fr, struct inst *i, int s)
{
	const struct fg_step *st = stp(fr, s);
	fg_mask b = FG_BIT(s);
	if (st->start || (i->happened & b) || (i->expected & b) || (st->alts & i->happened))
		return;
	if (flowtab_inst_sflags(fr->tab, i)[s] & (SF_MISSING | SF_IGNORED))
		return;
	if ((st->after & i->happened) != st->after)
		return;
	if (st->after_any && !(st->after_any & i->happened))
		return;
	if (!st->after && !st->after_any)
		return;
	set_expected(fr, i, s);
}

static void close_instance(
    struct engine *e, struct flowrt *fr, struct inst *i, int64_t at, int slot)
{
	(void)e;
	/* Nothing stays awaited; but a stall due before the close time is still judged
	 * by the clock (a late arrival within lateness may yet satisfy it), so its
	 * step keeps its expected bit, outside the open-instance counters. */
	uint16_t *sf = flowtab_inst_sflags(fr->tab, i);
	for (fg_mask m = i->expected; m; m &= m - 1) {
		int s = lowbit(m);
		clear_expected(fr, i, s);
		const struct fg_step *st = stp(fr, s);
		if (!(fr->optional & FG_BIT(s)) && st->within_ns != FG_NO_DEADLINE &&
		    !(sf[s] & SF_STALLED) &&
		    timefmt_add_sat(expected_at(fr, i, s), st->within_ns) < at)
			i->expected |= FG_BIT(s);
	}
	i->state = INST_CLOSED;
	i->close_t = at;
	i->outcome = (uint8_t)slot;
	fr->st.in_flight--;
	fr->st.retained++;
	fr->st.closed_by_outcome[slot]++;
}

static void emit_record(struct engine *e, struct flowrt *fr, struct inst *i, const char *outcome)
{
	struct flow_record r = {
		.flow = fr->f,
		.correlation_id = flowtab_inst_key(fr->tab, i),
		.outcome = outcome,
		.opened_ns = i->open_t,
		.closed_ns = i->state == INST_OPEN ? ENGINE_NO_TIME : i->close_t,
		.events = i->events,
		.awaiting = i->state == INST_OPEN ? judge_awaiting(fr, i) : 0,
	};
	sinks_flow(&e->sinks, &r);
}

static void release(struct engine *e, struct flowrt *fr, struct inst *i)
{
	tw_cancel(&fr->clk->wheel, &i->tw);
	if (i->state == INST_OPEN) {
		for (fg_mask m = i->expected; m; m &= m - 1)
			clear_expected(fr, i, lowbit(m));
		fr->st.in_flight--;
	} else {
		fr->st.retained--;
	}
	flowtab_release(fr->tab, i);
	e->live--;
}

static void finalize(struct engine *e, struct flowrt *fr, struct inst *i)
{
	emit_record(e, fr, i, fr->outnames[i->outcome]);
	release(e, fr, i);
}

/* ---- firing one deadline ---- */

/* Step s was expected by event time d and not happened by then (docs/semantics.md
 * "abandoned-step"): its predecessors happened with times at most d (after_any: the
 * first of them to arrive among those), it did not happen with a time at most d, no
 * alternative of it happened with a time at most d, and it was not reported missing
 * before d. Events carrying later times are ignored: whether they arrived before the
 * clock reached d is the clock's business. Returns when it became expected, or
 * INT64_MAX when it was not. */
static int64_t expected_by(const struct flowrt *fr, struct inst *i, int s, int64_t d)
{
	const struct fg_step *st = stp(fr, s);
	int64_t *hap = flowtab_inst_hap_t(fr->tab, i);
	uint8_t *arr = flowtab_inst_arr(fr->tab, i);
	uint16_t sf = flowtab_inst_sflags(fr->tab, i)[s];
	fg_mask by = 0;
	for (fg_mask m = i->happened; m; m &= m - 1)
		if (hap[lowbit(m)] <= d)
			by |= FG_BIT(lowbit(m));
	if (st->start || (fr->optional & FG_BIT(s)) || (by & FG_BIT(s)) || (st->alts & by))
		return INT64_MAX;
	if ((st->after & by) != st->after || (st->after_any && !(st->after_any & by)))
		return INT64_MAX;
	if ((sf & SF_MISSING) && i->x && i->x->missed_due && i->x->missed_due[s] < d)
		return INT64_MAX;
	int64_t t = INT64_MIN;
	for (fg_mask m = st->after; m; m &= m - 1)
		if (hap[lowbit(m)] > t)
			t = hap[lowbit(m)];
	int first = -1;
	for (fg_mask m = st->after_any & by; m; m &= m - 1)
		if (first < 0 || arr[lowbit(m)] < arr[first])
			first = lowbit(m);
	if (first >= 0 && hap[first] > t)
		t = hap[first];
	return t;
}

/* abandoned's step: among the non-optional steps expected by the deadline in event
 * time and not happened by then, the one expected earliest (ties: declaration order). */
static int abandoned_step(const struct flowrt *fr, struct inst *i, int64_t d)
{
	int best = -1;
	int64_t bt = INT64_MAX;
	for (int s = 0; s < fr->f->nsteps; s++) {
		int64_t t = expected_by(fr, i, s, d);
		if (t <= d && t < bt) {
			bt = t;
			best = s;
		}
	}
	return best;
}

static void remove_debt(struct inst *i, uint32_t d)
{
	i->x->debts[d] = i->x->debts[--i->x->ndebts];
}

static void set_missed_due(struct flowrt *fr, struct inst *i, int s, int64_t due)
{
	struct inst_extra *x = flowtab_inst_extra(i);
	if (!x)
		return;
	if (!x->missed_due) {
		x->missed_due = calloc((size_t)fr->f->nsteps, sizeof(int64_t));
		if (!x->missed_due)
			return;
	}
	x->missed_due[s] = due;
}

static void fire_debt(struct engine *e, struct flowrt *fr, struct inst *i, uint32_t d);

/* Fires, earliest first, the debts due before `due` that name any of `steps` still
 * absent: a debt fired ahead of the clock (revealed) must not report a step
 * missing later than the clock would have (docs/semantics.md "missing-earliest"). */
static void pull_earlier_debts(
    struct engine *e, struct flowrt *fr, struct inst *i, fg_mask steps, int64_t due)
{
	for (;;) {
		int best = -1;
		for (uint32_t k = 0; k < i->x->ndebts; k++) {
			const struct debt *db = &i->x->debts[k];
			if (db->due < due && (db->steps & steps & ~i->happened) &&
			    (best < 0 || db->due < i->x->debts[best].due))
				best = (int)k;
		}
		if (best < 0)
			return;
		fire_debt(e, fr, i, (uint32_t)best);
	}
}

static void fire_debt(struct engine *e, struct flowrt *fr, struct inst *i, uint32_t d)
{
	struct debt db = i->x->debts[d];
	remove_debt(i, d);
	pull_earlier_debts(e, fr, i, db.steps, db.due);
	for (fg_mask m = db.steps & ~i->happened; m; m &= m - 1) {
		int p = lowbit(m);
		if (!first_time(fr, i, p, SF_MISSING))
			continue;
		set_missed_due(fr, i, p, db.due);
		/* "a step reported missing is no longer expected": from db.due on
		 * (docs/semantics.md "missing-before-stall") */
		expect_until(fr, i, p, db.due);
		report(e, fr, i, AN_MISSING, p, NULL, db.due, NULL, db.due, 0, 0);
	}
}

/* Fires one deadline. Returns 0 when the instance was freed. */
static int fire(struct engine *e, struct flowrt *fr, struct inst *i, struct dl d)
{
	switch (d.kind) {
	case DK_ABANDON: {
		int s = abandoned_step(fr, i, d.at);
		report(e, fr, i, AN_ABANDONED, s, NULL, d.at, NULL, d.at, 0, 0);
		close_instance(e, fr, i, d.at, fr->slot_abandoned);
		break;
	}
	case DK_STALL: {
		uint16_t *sf = &flowtab_inst_sflags(fr->tab, i)[d.step];
		*sf |= SF_STALLED;
		if (i->state != INST_OPEN)
			i->expected &= ~FG_BIT(d.step); /* closed: judged, nothing awaits it */
		else if ((stp(fr, d.step)->alts & i->happened) || (*sf & SF_MISSING))
			clear_expected(fr, i, d.step); /* kept for this stall only (expect_until) */
		else {
			fr->st.stalled_now[d.step]++;
			judge_stall_push(fr, d.step, d.at, i);
		}
		report(e, fr, i, AN_STALLED, d.step, NULL, d.at, NULL, d.at, 0, 0);
		break;
	}
	case DK_JOIN: {
		fg_mask waiting = 0;
		int64_t *hap = flowtab_inst_hap_t(fr->tab, i);
		for (fg_mask m = stp(fr, d.step)->after; m; m &= m - 1)
			if (!(i->happened & FG_BIT(lowbit(m))) || hap[lowbit(m)] > d.at)
				waiting |= FG_BIT(lowbit(m));
		flowtab_inst_sflags(fr->tab, i)[d.step] |= SF_JOIN;
		report(e, fr, i, AN_JOIN_WAIT, d.step, NULL, d.at, NULL, d.at, 0, waiting);
		break;
	}
	case DK_DEBT:
		fire_debt(e, fr, i, (uint32_t)d.step);
		if (i->state == INST_DETACHED && i->x->ndebts == 0) {
			finalize(e, fr, i);
			return 0;
		}
		break;
	case DK_RETIRE:
		if (i->x && i->x->ndebts) {
			flowtab_detach(fr->tab, i); /* no event reaches it now; debts still fire */
			return 1;
		}
		finalize(e, fr, i);
		return 0;
	case DK_NONE: break;
	}
	return 1;
}

static const struct dfilter FILTER_ALL = { ~(fg_mask)0, ~(fg_mask)0, 0, 1, 1, 1, INT64_MAX };

void judge_rearm(struct engine *e, struct flowrt *fr, struct inst *i)
{
	struct dl d = next_deadline(fr, i, &FILTER_ALL);
	if (d.kind == DK_NONE)
		tw_cancel(&fr->clk->wheel, &i->tw);
	else if (!tw_armed(&i->tw) || i->tw.expire != d.at)
		engine_clock_arm(e, fr->clk, &i->tw, d.at);
}

/* The wheel says the instance's earliest deadline is due: fire it (only it, so that
 * deadlines of all instances fire in order of time), then re-arm. */
void judge_timer(struct engine *e, struct flowrt *fr, struct inst *i)
{
	struct dl d = next_deadline(fr, i, &FILTER_ALL);
	if (d.kind != DK_NONE && d.at <= engine_clock_now(e, fr->clk) && !fire(e, fr, i, d))
		return;
	judge_rearm(e, fr, i);
}

/* Fires, in order, every deadline the filter admits that lies strictly before
 * `before`: the deadlines an arriving event reveals (its time is past them). */
static int fire_before(
    struct engine *e, struct flowrt *fr, struct inst *i, const struct dfilter *fl, int64_t before)
{
	for (;;) {
		struct dl d = next_deadline(fr, i, fl);
		if (d.kind == DK_NONE || d.at >= before)
			return 1;
		if (!fire(e, fr, i, d))
			return 0;
	}
}

/* An event of this instance at time t means the event-time clock is at least
 * t - lateness, so every deadline up to that has passed whatever clock drives the
 * engine: fire them before the event is routed and applied. With the event-time
 * clock this is a no-op; with a lagging or external clock it keeps verdicts a
 * function of the instance's own events (docs/semantics.md "Determinism"). Returns 0
 * when the instance was freed. */
int judge_catch_up(struct engine *e, struct flowrt *fr, struct inst *i, int64_t t)
{
	static const struct dfilter all_but_retire = { ~(fg_mask)0, ~(fg_mask)0, 0, 1, 1, 0,
		INT64_MAX };
	return fire_before(e, fr, i, &all_but_retire, timefmt_sub_sat(t, fr->f->lateness_ns) + 1);
}

/* ---- applying events ---- */

static int seen_before(struct flowrt *fr, struct inst *i, uint64_t idh)
{
	uint64_t *seen = flowtab_inst_seen(fr->tab, i);
	for (int n = 0; n < i->nseen; n++)
		if (seen[n] == idh)
			return 1;
	if (i->x)
		for (uint32_t n = 0; n < i->x->nseen; n++)
			if (i->x->seen[n] == idh)
				return 1;
	return 0;
}

static void remember(struct flowrt *fr, struct inst *i, uint64_t idh)
{
	if (i->nseen < fr->f->nsteps) {
		flowtab_inst_seen(fr->tab, i)[i->nseen++] = idh;
		return;
	}
	struct inst_extra *x = flowtab_inst_extra(i);
	if (!x)
		return;
	if (x->nseen == x->capseen) {
		uint32_t cap = x->capseen ? x->capseen * 2 : 8;
		uint64_t *s = realloc(x->seen, cap * sizeof(*s));
		if (!s)
			return;
		x->seen = s;
		x->capseen = cap;
	}
	x->seen[x->nseen++] = idh;
}

static void add_debt(struct inst *i, fg_mask steps, int64_t due, int group)
{
	struct inst_extra *x = flowtab_inst_extra(i);
	if (!x)
		return;
	if (x->ndebts == x->capdebts) {
		uint32_t cap = x->capdebts ? x->capdebts * 2 : 4;
		struct debt *d = realloc(x->debts, cap * sizeof(*d));
		if (!d)
			return;
		x->debts = d;
		x->capdebts = cap;
	}
	x->debts[x->ndebts++] = (struct debt){ steps, due, (uint8_t)group };
}

/* A repeat of a step that already happened: double_step or retry_storm. */
static void judge_repeat(
    struct engine *e, struct flowrt *fr, struct inst *i, int s, const struct event *ev)
{
	uint8_t *cnt = &flowtab_inst_count(fr->tab, i)[s];
	if (*cnt < 255)
		(*cnt)++;
	uint32_t retries = stp(fr, s)->retries;
	if (retries == 0) {
		if (first_time(fr, i, s, SF_DOUBLE))
			report(e, fr, i, AN_DOUBLE_STEP, s, NULL, ev->time_ns, ev, 0, 0, 0);
	} else if (*cnt > retries + 1 && first_time(fr, i, s, SF_STORM)) {
		report(e, fr, i, AN_RETRY_STORM, s, NULL, ev->time_ns, ev, 0, 0, 0);
	}
}

/* late: the step had been reported stalled or missing and happens now. The overrun
 * is against the stall deadline when it stalled, else against the missing one. An
 * event whose time is not past that deadline came after the clock decided against
 * it (disorder beyond lateness): it is treated as arriving now, at the clock. */
static void judge_late(struct engine *e, struct flowrt *fr, struct inst *i, int s,
    const struct event *ev, int64_t exp_t)
{
	uint16_t f = flowtab_inst_sflags(fr->tab, i)[s];
	if (!(f & (SF_STALLED | SF_MISSING)) || !first_time(fr, i, s, SF_LATE))
		return;
	int64_t deadline;
	if ((f & SF_STALLED) && stp(fr, s)->within_ns != FG_NO_DEADLINE && exp_t != INT64_MIN)
		deadline = timefmt_add_sat(exp_t, stp(fr, s)->within_ns);
	else
		deadline = i->x && i->x->missed_due ? i->x->missed_due[s] : ev->time_ns;
	int64_t at = ev->time_ns;
	if (at <= deadline)
		at = engine_clock_now(e, fr->clk) > deadline ? engine_clock_now(e, fr->clk)
							     : deadline;
	report(e, fr, i, AN_LATE, s, NULL, at, ev, deadline, at - deadline, 0);
}

/* Debts naming s that are not yet due: s arrived within time(S) + lateness. The
 * record's deadline is the earliest of them (the order debts sit in depends on when
 * others fired, so it must not pick one). */
static void judge_out_of_order(
    struct engine *e, struct flowrt *fr, struct inst *i, int s, const struct event *ev)
{
	if (!i->x)
		return;
	int64_t due = INT64_MAX;
	int found = 0; /* a saturated debt is due at INT64_MAX too */
	for (uint32_t d = 0; d < i->x->ndebts;) {
		if (!(i->x->debts[d].steps & FG_BIT(s))) {
			d++;
			continue;
		}
		if (i->x->debts[d].due < due)
			due = i->x->debts[d].due;
		found = 1;
		remove_debt(i, d); /* for a group: the first arrival settles it */
	}
	if (found && first_time(fr, i, s, SF_OOO))
		report(e, fr, i, AN_OUT_OF_ORDER, s, NULL, ev->time_ns, ev, due, 0, 0);
}

/* Predecessors s owes: each absent `after` step, or the whole `after_any` group. */
static void owe(struct flowrt *fr, struct inst *i, int s, int64_t t)
{
	const struct fg_step *st = stp(fr, s);
	int64_t due = timefmt_add_sat(t, fr->f->lateness_ns);
	/* Owed even when already reported missing (by another successor's debt, which
	 * may or may not have fired yet depending on the clock): the step can still be
	 * out_of_order towards this successor (docs/semantics.md "debt-per-successor"). */
	for (fg_mask m = st->after & ~i->happened; m; m &= m - 1)
		add_debt(i, FG_BIT(lowbit(m)), due, 0);
	if (st->after_any && !(st->after_any & i->happened))
		add_debt(i, st->after_any, due, 1);
}

static int closes(const struct flowrt *fr, const struct inst *i, int s)
{
	if (i->state != INST_OPEN)
		return 0;
	if (stp(fr, s)->outcome >= 0)
		return 1;
	fg_mask cw = fr->f->complete_when;
	return cw && (cw & FG_BIT(s)) && ((i->happened | FG_BIT(s)) & cw) == cw;
}

/* The instance's flow deadline O + d, or INT64_MAX when the flow has none. */
static int64_t abandon_at(const struct flowrt *fr, const struct inst *i)
{
	return fr->f->deadline_ns == FG_NO_DEADLINE
	    ? INT64_MAX
	    : timefmt_add_sat(i->open_t, fr->f->deadline_ns);
}

/* Fires what the event of step s at time t reveals, the deadlines before t that
 * applying it would change: its own stall and missing deadlines and the joins it
 * feeds. Stalls and joins only before the flow deadline: one past it is dropped
 * when the clock abandons the instance (docs/semantics.md "abandoned-before-event");
 * debts are judged after a close too. Other
 * deadlines before t stay with the clock: a later arrival within lateness may
 * still meet them, and those of its alternatives are kept for it (expect_until). */
static void reveal(struct engine *e, struct flowrt *fr, struct inst *i, int s, int64_t t)
{
	int64_t a = i->state == INST_OPEN ? abandon_at(fr, i) : INT64_MAX;
	struct dfilter fl = { FG_BIT(s), stp(fr, s)->succ, FG_BIT(s), 0, 0, 0, a };
	fire_before(e, fr, i, &fl, t);
}

static void observe(struct engine *e, struct flowrt *fr, int s, int64_t latency, fg_mask preds,
    const struct event *ev)
{
	if (!e->sinks.step)
		return;
	struct step_obs o = { fr->f, s, latency, preds, ev };
	sinks_step(&e->sinks, &o);
}

static void happen(
    struct engine *e, struct flowrt *fr, struct inst *i, int s, const struct event *ev)
{
	const struct fg_step *st = stp(fr, s);
	int64_t t = ev->time_ns;
	int was_expected = (i->expected & FG_BIT(s)) != 0;
	int64_t exp_t = (st->after || st->after_any) ? expected_at(fr, i, s) : INT64_MIN;
	/* An event past the flow deadline finds the instance abandoned (by the clock,
	 * once it gets there): it closes nothing and makes nothing expected. */
	int open = i->state == INST_OPEN && t <= abandon_at(fr, i);
	int closing = open && closes(fr, i, s);
	fg_mask preds_before = (st->after | st->after_any) & i->happened;

	clear_expected(fr, i, s);
	i->happened |= FG_BIT(s);
	flowtab_inst_hap_t(fr->tab, i)[s] = t;
	flowtab_inst_arr(fr->tab, i)[s] = ++i->narrivals;
	flowtab_inst_count(fr->tab, i)[s] = 1;

	judge_late(e, fr, i, s, ev, exp_t);
	judge_out_of_order(e, fr, i, s, ev);
	for (fg_mask m = st->alts; m; m &= m - 1)
		expect_until(
		    fr, i, lowbit(m), t); /* docs/semantics.md "alternative-after-deadline" */
	if (!st->start)
		owe(fr, i, s, t);
	if (open)
		for (fg_mask m = st->succ; m; m &= m - 1)
			maybe_expect(fr, i, lowbit(m));
	if (closing)
		close_instance(e, fr, i, t, st->outcome >= 0 ? st->outcome : fr->slot_completed);
	observe(e, fr, s, was_expected && exp_t != INT64_MIN ? t - exp_t : -1, preds_before, ev);
}

void judge_event(struct engine *e, struct flowrt *fr, struct inst *i, int s, const struct event *ev,
    uint64_t idh)
{
	const struct fg_step *st = stp(fr, s);
	uint16_t *sf = flowtab_inst_sflags(fr->tab, i);
	i->events++;
	if (seen_before(fr, i, idh)) {
		if (first_time(fr, i, s, SF_DUP))
			report(e, fr, i, AN_DUPLICATE, s, NULL, ev->time_ns, ev, 0, 0, 0);
		return; /* "it does not change state" */
	}
	remember(fr, i, idh);
	if (ev->time_ns < i->open_t)
		i->open_t = ev->time_ns; /* O is the earliest event time in it */
	if (st->alts & i->happened) {
		/* an alternative arrived after its partner: unexpected, not happened */
		sf[s] |= SF_IGNORED;
		if (first_time(fr, i, s, SF_UNEXP))
			report(e, fr, i, AN_UNEXPECTED, s, NULL, ev->time_ns, ev, 0, 0, 0);
	} else if (i->happened & FG_BIT(s)) {
		judge_repeat(e, fr, i, s, ev);
	} else {
		reveal(e, fr, i, s, ev->time_ns);
		happen(e, fr, i, s, ev);
	}
	judge_rearm(e, fr, i);
}

void judge_undeclared(
    struct engine *e, struct flowrt *fr, struct inst *i, const struct event *ev, uint64_t idh)
{
	i->events++;
	if (seen_before(fr, i, idh)) {
		if (first_time_undeclared(i, AN_DUPLICATE, ev->type))
			report(e, fr, i, AN_DUPLICATE, -1, ev->type, ev->time_ns, ev, 0, 0, 0);
		return;
	}
	remember(fr, i, idh);
	if (ev->time_ns < i->open_t)
		i->open_t = ev->time_ns;
	if (first_time_undeclared(i, AN_UNEXPECTED, ev->type))
		report(e, fr, i, AN_UNEXPECTED, -1, ev->type, ev->time_ns, ev, 0, 0, 0);
	judge_rearm(e, fr, i);
}

void judge_report_open(struct engine *e, struct flowrt *fr, struct inst *i)
{
	emit_record(e, fr, i, i->state == INST_OPEN ? OUTCOME_OPEN : fr->outnames[i->outcome]);
	release(e, fr, i);
}

void judge_evict(struct engine *e, struct flowrt *fr, struct inst *i)
{
	if (i->state != INST_OPEN) {
		finalize(e, fr, i);
		return;
	}
	fr->st.evicted++;
	for (fg_mask m = judge_awaiting(fr, i); m; m &= m - 1)
		fr->st.evicted_awaiting[lowbit(m)]++;
	fr->st.closed_by_outcome[fr->slot_evicted]++;
	struct flow_record r = {
		.flow = fr->f,
		.correlation_id = flowtab_inst_key(fr->tab, i),
		.outcome = OUTCOME_EVICTED,
		.opened_ns = i->open_t,
		.closed_ns = e->st.tmax_ns,
		.events = i->events,
		.awaiting = judge_awaiting(fr, i),
	};
	sinks_flow(&e->sinks, &r);
	release(e, fr, i);
}

/* ---- the oldest stall per step (stallheap.h) ---- */

struct stall_ctx {
	const struct flowrt *fr;
	int step;
};

/* Still a current stall: the same instance (block and creation number), open,
 * reported stalled on the step and still awaiting it. */
static bool stall_current(const void *ctx, const struct stall_ent *se)
{
	const struct stall_ctx *c = ctx;
	struct inst *i = flowtab_at(c->fr->tab, se->idx);
	return i->state == INST_OPEN && i->born == se->born && (i->expected & FG_BIT(c->step)) &&
	    (flowtab_inst_sflags(c->fr->tab, i)[c->step] & SF_STALLED);
}

void judge_stall_push(struct flowrt *fr, int step, int64_t deadline, const struct inst *i)
{
	struct stall_ctx c = { fr, step };
	stallheap_push(&fr->stalls[step], (struct stall_ent){ deadline, i->idx, i->born },
	    fr->st.stalled_now[step], stall_current, &c);
}

int64_t judge_oldest_stall(struct flowrt *fr, int step)
{
	struct stall_ctx c = { fr, step };
	const struct stall_ent *top = stallheap_top(&fr->stalls[step], stall_current, &c);
	return top != NULL ? top->deadline : ENGINE_NO_TIME;
}
