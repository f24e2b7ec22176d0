/* Unit tests for partclock: each case is a script of partition events and the
 * expected engine clock (and all-at-end flag) after it. Times are injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "source/partclock.h"

#define NONE PARTCLOCK_NONE

enum op { ASSIGN, REVOKE, MSG, HIGH, EOFP, END };

struct step {
	enum op op;
	int slot;
	int64_t a; /* offset (MSG, EOFP) or high watermark (HIGH) */
	int64_t t; /* event time (MSG) */
};

struct pc_case {
	const char *name;
	enum partclock_mode mode;
	struct step steps[12];
	int64_t wall;
	int64_t want;
	int want_all_end;
};

static const struct pc_case cases[] = {
	{ "nothing assigned holds the clock", PARTCLOCK_WALL, { { END, 0, 0, 0 } }, 1000, NONE, 0 },
	{ "wall: assigned, nothing known yet holds", PARTCLOCK_WALL,
	    { { ASSIGN, 0, 0, 0 }, { END, 0, 0, 0 } }, 1000, NONE, 0 },
	{ "wall: caught up by EOF follows the wall clock", PARTCLOCK_WALL,
	    { { ASSIGN, 0, 0, 0 }, { EOFP, 0, 5, 0 }, { END, 0, 0, 0 } }, 1000, 1000, 1 },
	{ "wall: lagging partition holds the clock at its last message", PARTCLOCK_WALL,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { EOFP, 0, 5, 0 }, { HIGH, 1, 100, 0 },
		{ MSG, 1, 10, 400 }, { END, 0, 0, 0 } },
	    1000, 400, 0 },
	{ "wall: consuming up to the high watermark catches up", PARTCLOCK_WALL,
	    { { ASSIGN, 1, 0, 0 }, { HIGH, 1, 100, 0 }, { MSG, 1, 98, 400 }, { MSG, 1, 99, 450 },
		{ END, 0, 0, 0 } },
	    1000, 1000, 1 },
	{ "wall: new data after EOF lags again until the watermark", PARTCLOCK_WALL,
	    { { ASSIGN, 0, 0, 0 }, { EOFP, 0, 5, 0 }, { HIGH, 0, 9, 0 }, { MSG, 0, 5, 700 },
		{ END, 0, 0, 0 } },
	    1000, 700, 0 },
	{ "wall: a message time above the wall clock is capped", PARTCLOCK_WALL,
	    { { ASSIGN, 0, 0, 0 }, { HIGH, 0, 100, 0 }, { MSG, 0, 1, 5000 }, { END, 0, 0, 0 } },
	    1000, 1000, 0 },
	{ "wall: revoked lagging partition no longer holds", PARTCLOCK_WALL,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { EOFP, 0, 5, 0 }, { REVOKE, 1, 0, 0 },
		{ END, 0, 0, 0 } },
	    1000, 1000, 1 },
	{ "event: min over partitions still being read", PARTCLOCK_EVENT,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { MSG, 0, 0, 300 }, { MSG, 0, 1, 200 },
		{ MSG, 1, 0, 250 }, { END, 0, 0, 0 } },
	    9999, 250, 0 },
	{ "event: a partition without events holds the clock", PARTCLOCK_EVENT,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { MSG, 0, 0, 300 }, { END, 0, 0, 0 } },
	    9999, NONE, 0 },
	{ "event: partitions at their end do not hold it back", PARTCLOCK_EVENT,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { MSG, 0, 0, 300 }, { MSG, 1, 0, 100 },
		{ EOFP, 1, 1, 0 }, { END, 0, 0, 0 } },
	    9999, 300, 0 },
	{ "event: all at end gives the largest event time", PARTCLOCK_EVENT,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { MSG, 0, 0, 300 }, { MSG, 1, 0, 500 },
		{ EOFP, 0, 1, 0 }, { EOFP, 1, 1, 0 }, { END, 0, 0, 0 } },
	    9999, 500, 1 },
	{ "event: an empty partition at its end counts as ended", PARTCLOCK_EVENT,
	    { { ASSIGN, 0, 0, 0 }, { ASSIGN, 1, 0, 0 }, { MSG, 0, 0, 300 }, { EOFP, 1, 0, 0 },
		{ END, 0, 0, 0 } },
	    9999, 300, 0 },
	{ "event: undecodable messages move the offset, not the time", PARTCLOCK_EVENT,
	    { { ASSIGN, 0, 0, 0 }, { HIGH, 0, 3, 0 }, { MSG, 0, 0, 300 }, { MSG, 0, 1, NONE },
		{ MSG, 0, 2, NONE }, { END, 0, 0, 0 } },
	    9999, 300, 1 },
	{ "out-of-range slots are ignored", PARTCLOCK_EVENT,
	    { { ASSIGN, 99, 0, 0 }, { MSG, -1, 0, 5 }, { END, 0, 0, 0 } }, 9999, NONE, 0 },
};

static void run_case(const struct pc_case *c)
{
	struct partclock *pc = NULL;
	char err[128];

	assert_int_equal(partclock_new(c->mode, 8, &pc, err, sizeof err), 0);
	for (const struct step *s = c->steps; s->op != END; s++) {
		switch (s->op) {
		case ASSIGN: partclock_assign(pc, s->slot); break;
		case REVOKE: partclock_revoke(pc, s->slot); break;
		case MSG: partclock_message(pc, s->slot, s->a, s->t); break;
		case HIGH: partclock_high(pc, s->slot, s->a); break;
		case EOFP: partclock_eof(pc, s->slot, s->a); break;
		case END: break;
		}
	}
	if (partclock_now(pc, c->wall) != c->want || partclock_all_at_end(pc) != c->want_all_end)
		fail_msg("%s: now=%lld (want %lld) all_at_end=%d (want %d)", c->name,
		    (long long)partclock_now(pc, c->wall), (long long)c->want,
		    partclock_all_at_end(pc), c->want_all_end);
	partclock_free(pc);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
}

static void test_bad_size(void **state)
{
	struct partclock *pc = NULL;
	char err[128];

	(void)state;
	assert_true(partclock_new(PARTCLOCK_WALL, 0, &pc, err, sizeof err) < 0);
	assert_non_null(strstr(err, "max_slots"));
	partclock_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
