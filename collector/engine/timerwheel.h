/*
 * timerwheel: a hierarchical hashed timing wheel (O(1) arm and cancel).
 *
 * Entries are embedded in their owners (a flow instance embeds one). Time is int64
 * nanoseconds; a tick is 2^TW_TICK_SHIFT ns (~1 ms), so a non-negative int64 time is
 * at most 2^43 ticks, and TW_LEVELS levels of 64 slots (48 bits) cover every one of
 * them: no expiry is ever out of range. Negative times count as tick 0.
 *
 * tw_run fires every entry with expire <= now in order of expire (ties: order of
 * arming), even when the clock jumps by days: empty slots are skipped through
 * per-level occupancy bitmaps, so the cost is O(levels) per occupied slot visited,
 * never O(elapsed ticks). Single-threaded. The fire callback may re-arm the entry
 * that fired and arm new ones; it must not cancel other armed entries.
 */
#ifndef CHOREOSCOPE_TIMERWHEEL_H
#define CHOREOSCOPE_TIMERWHEEL_H

#include <stddef.h>
#include <stdint.h>

#define TW_TICK_SHIFT 20
#define TW_BITS 6
#define TW_SLOTS 64
#define TW_LEVELS 8

struct tw_entry {
	struct tw_entry *next, *prev; /* prev == NULL: not armed */
	int64_t expire;
};

struct tw_due {
	struct tw_entry *e;
	size_t pos;     /* place in its slot list (extra: arming order): ties keep it */
	int64_t expire; /* e's expire when collected or armed */
};

struct tw_list {
	struct tw_entry head;
};

struct tw {
	uint64_t cur; /* every tick < cur has been processed */
	uint64_t occupied[TW_LEVELS];
	struct tw_list slots[TW_LEVELS][TW_SLOTS];
	size_t count;
	/* scratch for ordering the entries due within one tick */
	struct tw_due *due;
	size_t ndue, capdue;
	/* entries armed, while a tick fires, into that tick and already due: a min-heap
	 * by (expire, order of arming), merged with the collected ones */
	struct tw_due *extra;
	size_t nextra, capextra;
	uint64_t seq;
	int firing; /* inside tw_run's firing of tick cur */
	int64_t firing_now;
};

typedef void (*tw_fire_fn)(void *ctx, struct tw_entry *e);

void tw_init(struct tw *w);
void tw_dispose(struct tw *w);
static inline void tw_entry_init(struct tw_entry *e)
{
	e->next = e->prev = NULL;
	e->expire = 0;
}
static inline int tw_armed(const struct tw_entry *e) { return e->prev != NULL; }
/* Arms (or re-arms) e to fire at `expire`. */
void tw_arm(struct tw *w, struct tw_entry *e, int64_t expire);
void tw_cancel(struct tw *w, struct tw_entry *e);
/* Fires every entry with expire <= now, in order of expire; ties in a deterministic
 * order (the order of the slot's list, which follows the order of arming and
 * cascading), but at most `budget` of them: a later call goes on where this one
 * stopped. Returns how many fired. */
size_t tw_run(struct tw *w, int64_t now, size_t budget, tw_fire_fn fire, void *ctx);
/* Earliest expire of any armed entry, or INT64_MAX. O(levels + one slot). */
int64_t tw_next_expire(const struct tw *w);
/* The earliest `now` at which tw_run would do anything: the earliest expire in the
 * next tick when the next occupied block is a level-0 tick, else the first instant of
 * that block (where cascading starts); INT64_MAX when empty. A lower bound of
 * tw_next_expire that costs O(levels) plus one level-0 slot, never a higher-level
 * slot's list: owners of many wheels keep it as the key of a heap of wheels. */
int64_t tw_next_due(const struct tw *w);
/* 0 when every entry sits where the invariants say; for tests. */
int tw_check(const struct tw *w);

#endif
