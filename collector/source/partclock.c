/*
 * partclock: see partclock.h. A fixed array of slots, sized at creation; no
 * allocation after partclock_new.
 */
#include "source/partclock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct pc_slot {
	bool assigned;
	bool at_end;
	int64_t next_offset; /* -1 until a message or EOF gives our position */
	int64_t high;        /* -1 until known */
	int64_t last_ns;     /* time of the last message consumed, or NONE */
	int64_t max_ns;      /* largest event time consumed, or NONE */
};

struct partclock {
	enum partclock_mode mode;
	int nslots;
	int nassigned;
	struct pc_slot *slots;
};

int partclock_new(
    enum partclock_mode mode, int max_slots, struct partclock **out, char *err, size_t errlen)
{
	struct partclock *pc;

	if (max_slots <= 0) {
		snprintf(err, errlen, "partclock: max_slots must be positive, got %d", max_slots);
		return -1;
	}
	pc = calloc(1, sizeof *pc);
	if (pc == NULL || (pc->slots = calloc((size_t)max_slots, sizeof *pc->slots)) == NULL) {
		free(pc);
		snprintf(err, errlen, "partclock: out of memory for %d slots", max_slots);
		return -1;
	}
	pc->mode = mode;
	pc->nslots = max_slots;
	*out = pc;
	return 0;
}

void partclock_free(struct partclock *pc)
{
	if (pc == NULL)
		return;
	free(pc->slots);
	free(pc);
}

enum partclock_mode partclock_mode(const struct partclock *pc) { return pc->mode; }

static struct pc_slot *slot_at(const struct partclock *pc, int slot)
{
	if (slot < 0 || slot >= pc->nslots)
		return NULL;
	return &pc->slots[slot];
}

void partclock_assign(struct partclock *pc, int slot)
{
	struct pc_slot *s = slot_at(pc, slot);

	if (s == NULL)
		return;
	if (!s->assigned)
		pc->nassigned++;
	*s = (struct pc_slot){ .assigned = true,
		.at_end = false,
		.next_offset = -1,
		.high = -1,
		.last_ns = PARTCLOCK_NONE,
		.max_ns = PARTCLOCK_NONE };
}

void partclock_revoke(struct partclock *pc, int slot)
{
	struct pc_slot *s = slot_at(pc, slot);

	if (s == NULL || !s->assigned)
		return;
	s->assigned = false;
	pc->nassigned--;
}

void partclock_message(struct partclock *pc, int slot, int64_t offset, int64_t time_ns)
{
	struct pc_slot *s = slot_at(pc, slot);

	if (s == NULL || !s->assigned)
		return;
	s->next_offset = offset + 1;
	s->at_end = s->high >= 0 && s->next_offset >= s->high;
	if (time_ns != PARTCLOCK_NONE) {
		s->last_ns = time_ns;
		if (s->max_ns == PARTCLOCK_NONE || time_ns > s->max_ns)
			s->max_ns = time_ns;
	}
}

void partclock_high(struct partclock *pc, int slot, int64_t high)
{
	struct pc_slot *s = slot_at(pc, slot);

	if (s == NULL || !s->assigned || high < 0)
		return;
	s->high = high;
	if (s->next_offset >= 0)
		s->at_end = s->next_offset >= high;
}

void partclock_eof(struct partclock *pc, int slot, int64_t offset)
{
	struct pc_slot *s = slot_at(pc, slot);

	if (s == NULL || !s->assigned)
		return;
	if (s->next_offset < offset)
		s->next_offset = offset;
	if (s->high < offset)
		s->high = offset;
	s->at_end = s->next_offset >= s->high;
}

void partclock_copy_position(struct partclock *dst, const struct partclock *src, int slot)
{
	struct pc_slot *d = slot_at(dst, slot);
	const struct pc_slot *s = slot_at(src, slot);
	if (d == NULL || s == NULL || !d->assigned || !s->assigned)
		return;
	d->next_offset = s->next_offset;
	d->high = s->high;
	d->at_end = s->at_end;
}

int64_t partclock_max(const struct partclock *pc, int slot)
{
	const struct pc_slot *s = slot_at(pc, slot);

	return s != NULL && s->assigned ? s->max_ns : PARTCLOCK_NONE;
}

void partclock_restore(struct partclock *pc, int slot, int64_t max_ns)
{
	struct pc_slot *s = slot_at(pc, slot);

	if (s == NULL || !s->assigned)
		return;
	s->max_ns = max_ns;
	s->last_ns = max_ns;
}

int partclock_assigned(const struct partclock *pc) { return pc->nassigned; }

int partclock_all_at_end(const struct partclock *pc)
{
	if (pc->nassigned == 0)
		return 0;
	for (int i = 0; i < pc->nslots; i++)
		if (pc->slots[i].assigned && !pc->slots[i].at_end)
			return 0;
	return 1;
}

/* Wall mode: min over partitions of (wall if caught up, else last message time). */
static int64_t now_wall(const struct partclock *pc, int64_t wall_ns)
{
	int64_t clock = wall_ns;

	for (int i = 0; i < pc->nslots; i++) {
		const struct pc_slot *s = &pc->slots[i];
		if (!s->assigned || s->at_end)
			continue;
		if (s->last_ns == PARTCLOCK_NONE)
			return PARTCLOCK_NONE;
		if (s->last_ns < clock)
			clock = s->last_ns;
	}
	return clock;
}

/* Event mode: min over partitions still being read of their max event time. */
static int64_t now_event(const struct partclock *pc)
{
	int64_t lagging = INT64_MAX, all = PARTCLOCK_NONE;

	for (int i = 0; i < pc->nslots; i++) {
		const struct pc_slot *s = &pc->slots[i];
		if (!s->assigned)
			continue;
		if (s->max_ns != PARTCLOCK_NONE && (all == PARTCLOCK_NONE || s->max_ns > all))
			all = s->max_ns;
		if (s->at_end)
			continue;
		if (s->max_ns == PARTCLOCK_NONE)
			return PARTCLOCK_NONE;
		if (s->max_ns < lagging)
			lagging = s->max_ns;
	}
	return lagging != INT64_MAX ? lagging : all;
}

int64_t partclock_now(const struct partclock *pc, int64_t wall_ns)
{
	if (pc->nassigned == 0)
		return PARTCLOCK_NONE;
	return pc->mode == PARTCLOCK_WALL ? now_wall(pc, wall_ns) : now_event(pc);
}
