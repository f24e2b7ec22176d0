/*
 * test_timerwheel: the wheel against a naive reference (scan every entry), on random
 * arm/re-arm/cancel/run sequences with clock jumps from nanoseconds to years; plus
 * the corner cases: firing order within a tick, re-arming from the callback,
 * negative times and far futures. tw_next_due is checked on the same sequences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "engine/timerwheel.h"

#define N 2000

struct ctx {
	struct tw_entry ent[N];
	int armed[N];
	int64_t exp[N];
	int64_t last_fired;
	int nfired;
	int64_t now;
	int rearm_every; /* re-arm every k-th fired entry into the future */
};

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void on_fire(void *p, struct tw_entry *e)
{
	struct ctx *c = p;
	int i = (int)(e - c->ent);
	assert_true(c->armed[i]);
	assert_true(e->expire <= c->now);        /* never early */
	assert_true(e->expire >= c->last_fired); /* in order of expire */
	c->last_fired = e->expire;
	c->armed[i] = 0;
	c->nfired++;
}

static void check_reference(struct ctx *c, struct tw *w)
{
	/* nothing due may remain armed after a run */
	for (int i = 0; i < N; i++)
		if (c->armed[i])
			assert_true(c->exp[i] > c->now);
	assert_int_equal(tw_check(w), 0);
}

static int64_t random_delta(void)
{
	switch (rnd() % 5) {
	case 0: return (int64_t)(rnd() % 1000);                        /* sub-tick */
	case 1: return (int64_t)(rnd() % 100000000);                   /* < 0.1 s */
	case 2: return (int64_t)(rnd() % 60000000000LL);               /* < 1 min */
	case 3: return (int64_t)(rnd() % 86400000000000LL);            /* < 1 day */
	default: return (int64_t)(rnd() % (400LL * 86400000000000LL)); /* < 400 days */
	}
}

static void test_random_against_reference(void **state)
{
	(void)state;
	struct ctx *c = calloc(1, sizeof(*c));
	struct tw w;
	tw_init(&w);
	c->now = INT64_C(1767225600000000000);
	c->last_fired = INT64_MIN;
	for (int i = 0; i < N; i++)
		tw_entry_init(&c->ent[i]);
	for (int round = 0; round < 20000; round++) {
		int i = (int)(rnd() % N);
		switch (rnd() % 4) {
		case 0:
		case 1:
			c->exp[i] = c->now + random_delta() - (rnd() % 8 == 0 ? 1000000 : 0);
			tw_arm(&w, &c->ent[i], c->exp[i]);
			c->armed[i] = 1;
			break;
		case 2:
			tw_cancel(&w, &c->ent[i]);
			c->armed[i] = 0;
			break;
		default: {
			int64_t jump =
			    rnd() % 50 == 0 ? random_delta() * 10 : random_delta() / 1000;
			c->now += jump;
			c->last_fired = INT64_MIN;
			tw_run(&w, c->now, SIZE_MAX, on_fire, c);
			check_reference(c, &w);
			/* tw_next_due: a lower bound of the earliest expire before which a
			 * run does nothing (the key of the engine's heap of clocks) */
			int64_t due = tw_next_due(&w);
			assert_true(due <= tw_next_expire(&w));
			if (due != INT64_MAX && due - 1 > c->now && rnd() % 2) {
				c->now = due - 1;
				assert_int_equal(tw_run(&w, c->now, SIZE_MAX, on_fire, c), 0);
				check_reference(c, &w);
			}
		}
		}
	}
	int64_t next = tw_next_expire(&w);
	int64_t ref = INT64_MAX;
	for (int i = 0; i < N; i++)
		if (c->armed[i] && c->exp[i] < ref)
			ref = c->exp[i];
	assert_true(next == ref);
	c->now = INT64_MAX - 1;
	c->last_fired = INT64_MIN;
	tw_run(&w, c->now, SIZE_MAX, on_fire, c);
	for (int i = 0; i < N; i++)
		assert_false(c->armed[i]);
	assert_int_equal(w.count, 0);
	assert_true(c->nfired > 1000);
	tw_dispose(&w);
	free(c);
}

struct order_ctx {
	struct tw *w;
	struct tw_entry e[6];
	int order[16];
	int n;
};

static void record_fire(void *p, struct tw_entry *e)
{
	struct order_ctx *o = p;
	int i = (int)(e - o->e);
	o->order[o->n++] = i;
	if (i == 0) /* re-armed into the same tick, after entry 3 */
		tw_arm(o->w, &o->e[5], e->expire + 350);
}

static void test_order_within_tick_and_rearm(void **state)
{
	(void)state;
	struct tw w;
	tw_init(&w);
	struct order_ctx o = { &w, { { 0 } }, { 0 }, 0 };
	int64_t base = INT64_C(1000) << TW_TICK_SHIFT;
	const int64_t at[5] = { 100, 500, 300, 400, 300 }; /* entries 2 and 4 tie */
	for (int i = 0; i < 6; i++)
		tw_entry_init(&o.e[i]);
	for (int i = 0; i < 5; i++)
		tw_arm(&w, &o.e[i], base + at[i]);
	tw_run(&w, base + 450, SIZE_MAX, record_fire, &o);
	/* 0@100, 2@300, 4@300 (armed after 2), 5@450 re-armed by 0, 3@400 -> 0,2,4,3,5 */
	const int want[] = { 0, 2, 4, 3, 5 };
	assert_int_equal(o.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(o.order[i], want[i]);
	assert_true(tw_armed(&o.e[1]));
	assert_int_equal(tw_next_expire(&w), base + 500);
	tw_dispose(&w);
}

static void test_negative_and_far_future(void **state)
{
	(void)state;
	struct tw w;
	tw_init(&w);
	struct ctx *c = calloc(1, sizeof(*c));
	tw_entry_init(&c->ent[0]);
	tw_entry_init(&c->ent[1]);
	tw_arm(&w, &c->ent[0], -5);
	tw_arm(&w, &c->ent[1], INT64_MAX - 10);
	c->armed[0] = c->armed[1] = 1;
	c->exp[0] = -5;
	c->exp[1] = INT64_MAX - 10;
	c->now = 0;
	c->last_fired = INT64_MIN;
	assert_int_equal(tw_run(&w, 0, SIZE_MAX, on_fire, c), 1);
	c->now = INT64_MAX - 11;
	assert_int_equal(tw_run(&w, c->now, SIZE_MAX, on_fire, c), 0);
	c->now = INT64_MAX - 10;
	assert_int_equal(tw_run(&w, c->now, SIZE_MAX, on_fire, c), 1);
	assert_int_equal(tw_check(&w), 0);
	tw_dispose(&w);
	free(c);
}

/* A budget stops a run part way; the next run goes on in the same order. */
static void test_budget_resumes(void **state)
{
	(void)state;
	struct ctx *c = calloc(1, sizeof(*c));
	struct tw w;
	tw_init(&w);
	for (int i = 0; i < 1000; i++) {
		tw_entry_init(&c->ent[i]);
		c->exp[i] = (int64_t)(rnd() % 5000000000LL);
		tw_arm(&w, &c->ent[i], c->exp[i]);
		c->armed[i] = 1;
	}
	c->now = 6000000000LL;
	c->last_fired = INT64_MIN;
	size_t total = 0, n;
	while ((n = tw_run(&w, c->now, 37, on_fire, c)) > 0) {
		assert_true(n <= 37);
		total += n;
	}
	assert_int_equal(total, 1000);
	assert_int_equal(w.count, 0);
	tw_dispose(&w);
	free(c);
}

/* A clock jump past a crowded tick whose firings re-arm into that same tick (each
 * entry once more, later, earlier than some still to fire, or equal to the next): the
 * order stays that of expire (ties: first armed first), every entry fires twice, and
 * the tick is not re-sorted per firing (100,000 entries finish at once; re-sorting
 * per firing took minutes). */
struct jump {
	struct tw_entry ent[100000];
	int fired[100000];
	int64_t last;
	int64_t n;
};
static void tw_arm_for_test(struct tw_entry *e, int i);
static void on_jump(void *p, struct tw_entry *e)
{
	struct jump *j = p;
	int i = (int)(e - j->ent);
	assert_true(e->expire >= j->last);
	j->last = e->expire;
	j->n++;
	if (j->fired[i]++ == 0)
		tw_arm_for_test(e, i);
}
static struct tw *jump_w;
static void tw_arm_for_test(struct tw_entry *e, int i)
{
	/* the same tick (ticks are 2^20 ns): later, equal to a pending expire, earlier */
	int64_t t = i % 3 == 0 ? 900000 + i : i % 3 == 1 ? (int64_t)(i / 2) * 8 : e->expire + 1;
	if (t < e->expire)
		t = e->expire;
	tw_arm(jump_w, e, t);
}

static void test_rearm_into_crowded_tick(void **state)
{
	(void)state;
	struct jump *j = calloc(1, sizeof *j);
	struct tw w;
	tw_init(&w);
	jump_w = &w;
	for (int i = 0; i < 100000; i++) {
		tw_entry_init(&j->ent[i]);
		tw_arm(&w, &j->ent[i], (int64_t)i * 8);
	}
	j->last = INT64_MIN;
	tw_run(&w, INT64_C(1) << 40, SIZE_MAX, on_jump, j);
	assert_int_equal(j->n, 200000);
	assert_int_equal(w.count, 0);
	assert_int_equal(tw_check(&w), 0);
	tw_dispose(&w);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_order_within_tick_and_rearm),
		cmocka_unit_test(test_negative_and_far_future),
		cmocka_unit_test(test_budget_resumes),
		cmocka_unit_test(test_rearm_into_crowded_tick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
