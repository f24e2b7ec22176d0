/*
 * engine_int: state shared by engine.c (routing, clocks, stats) and judge.c (what
 * one event or one deadline does to one flow instance). Private to those two files.
 */
#ifndef CHOREOSCOPE_ENGINE_INT_H
#define CHOREOSCOPE_ENGINE_INT_H

#include "engine/engine.h"
#include "engine/flowtab.h"
#include "engine/sinks.h"
#include "engine/stallheap.h"
#include "engine/timerwheel.h"
#include "lib/timefmt.h"

/* Per-step flags of an instance (sflags). */
enum {
	SF_STALLED = 1 << 0, /* stalled reported */
	SF_MISSING = 1 << 1, /* missing reported */
	SF_LATE = 1 << 2,
	SF_OOO = 1 << 3,
	SF_DOUBLE = 1 << 4,
	SF_STORM = 1 << 5,
	SF_UNEXP = 1 << 6,
	SF_JOIN = 1 << 7,
	SF_DUP = 1 << 8,
	SF_IGNORED = 1 << 9, /* arrived after an alternative: seen, not happened */
};

/* One clock per distinct lateness: the flows that share a lateness share their
 * clock W = T_max - lateness and one wheel holding the deadlines of all their
 * instances (engine_clock.c). W is derived from T_max when read, and the clocks sit
 * in a heap by `due`, so an event advances one watermark and runs only the clocks
 * with a deadline due, whatever the number of flows (issue #15). An instance's flow
 * is its inst.flow. */
struct fclock {
	int64_t lateness_ns;
	int64_t due; /* T_max from which the wheel may have work; INT64_MAX: none */
	int pos;     /* place in engine.clkheap */
	struct tw wheel;
};

struct flowrt {
	const struct fg_flow *f;
	int index;
	struct flowtab *tab;
	struct fclock *clk; /* shared with every flow of the same lateness */
	struct engine_flow_stats st;
	const char **outnames; /* closed_by_outcome slot names */
	int noutslots;
	int slot_completed, slot_abandoned, slot_evicted;
	fg_mask optional, joins;  /* steps that are optional; steps with join_within */
	struct stallheap *stalls; /* [nsteps]: deadlines of current stalls (stallheap.h) */
};

/* Below this many flows an undeclared event asks every flow (cheaper than keeping
 * the key index up to date); from it on, the key index names the flows to ask. */
#define KEYIDX_MIN_FLOWS 16

struct ageent {
	int32_t born; /* creation number of the flow's oldest instance, when pushed */
	uint16_t flow;
};

struct nameent {
	uint64_t h;
	const char *name; /* NULL: empty */
	int flow;
	int step; /* -1: the entry names the flow itself */
};

struct typeent {
	uint64_t h;
	const char *name; /* NULL: empty */
	int flow;         /* -1: declared by several flows */
	int step;
};

struct engine {
	const struct flowgraph *g;
	struct engine_opts o;
	struct sinks sinks; /* the outputs, called in registration order */
	struct flowrt *fl;
	int nfl;
	struct typeent *types;
	uint32_t typemask;
	struct engine_stats st;
	uint32_t born;
	size_t live;        /* instances in every table */
	struct fclock *clk; /* distinct latenesses, ascending */
	int nclk;
	int *clkheap;          /* [nclk] clock indices, min-heap by (due, index) */
	int *clkdue;           /* [nclk] scratch: the clocks due at one advance */
	int released;          /* end of input: W = T_max for every clock */
	struct nameent *names; /* flow name -> index; (flow, step name) -> step */
	uint32_t namemask;
	struct keyidx *keys;   /* key hash -> flows holding it (many flows only) */
	const char **keyattrs; /* distinct `keys` attributes of all flows */
	int nkeyattrs;
	struct ageent *age; /* min-heap of flows by oldest instance (max_flows set) */
	uint32_t nage;
	uint8_t *inheap; /* [nflows]: the flow has an entry in age */
	uint64_t work;   /* watermark advances, clocks run, flows asked: a cost counter for tests */
	uint32_t src;    /* source tag of the events applied (engine_state.h) */
};

/* engine_clock.c. The clock W that flows of clock c read: T_max - lateness, T_max
 * once the input ended (lateness released), ENGINE_NO_TIME before the first time. */
static inline int64_t engine_clock_now(const struct engine *e, const struct fclock *c)
{
	if (e->st.tmax_ns == ENGINE_NO_TIME)
		return ENGINE_NO_TIME;
	return e->released ? e->st.tmax_ns : timefmt_sub_sat(e->st.tmax_ns, c->lateness_ns);
}
int engine_clock_build(struct engine *e);
void engine_clock_free(struct engine *e);
/* Arms t in c's wheel (every arm goes through here: it keeps c's due a lower bound). */
void engine_clock_arm(struct engine *e, struct fclock *c, struct tw_entry *t, int64_t expire);
/* Runs c's wheel to its W, firing at most budget; returns how many fired. */
size_t engine_clock_run(struct engine *e, struct fclock *c, size_t budget);
/* After T_max rose: runs the clocks due, in ascending lateness, at most budget
 * deadlines in all; 1 when the budget ran out. O(1) when none is due. */
int engine_clock_run_due(struct engine *e, size_t budget);
/* End of input: lateness released, every clock run to T_max. */
void engine_clock_release(struct engine *e);
int engine_clock_check(const struct engine *e, char *err, size_t errlen);

/* An instance created outside create() (engine_state import): its flow takes part in
 * eviction of the oldest. */
void engine_track_age(struct engine *e, struct flowrt *fr, uint32_t born);

/* judge.c */
void judge_event(struct engine *e, struct flowrt *fr, struct inst *i, int step,
    const struct event *ev, uint64_t idh);
void judge_undeclared(
    struct engine *e, struct flowrt *fr, struct inst *i, const struct event *ev, uint64_t idh);
int judge_catch_up(struct engine *e, struct flowrt *fr, struct inst *i, int64_t t);
void judge_timer(struct engine *e, struct flowrt *fr, struct inst *i);
void judge_rearm(struct engine *e, struct flowrt *fr, struct inst *i);
void judge_report_open(struct engine *e, struct flowrt *fr, struct inst *i);
void judge_evict(struct engine *e, struct flowrt *fr, struct inst *i);
fg_mask judge_awaiting(const struct flowrt *fr, const struct inst *i);
/* i stalls on step since deadline: into the step's stall heap (the caller counted it in
 * stalled_now). */
void judge_stall_push(struct flowrt *fr, int step, int64_t deadline, const struct inst *i);
/* The deadline of the oldest current stall of step, or ENGINE_NO_TIME. */
int64_t judge_oldest_stall(struct flowrt *fr, int step);

#endif
