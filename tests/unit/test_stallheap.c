/*
 * test_stallheap: the heap against a naive reference (the earliest deadline among the
 * entries still current), on random sequences of pushes, entries going stale and
 * tops; plus the corners: empty heap, every entry stale, compaction when stale
 * entries outnumber live ones 2:1 (the heap stays bounded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "engine/stallheap.h"

#define N 5000

struct model {
	bool current[N]; /* instance idx still stalls */
	int64_t deadline[N];
	uint64_t live;
};

static bool valid(const void *ctx, const struct stall_ent *se)
{
	const struct model *m = ctx;
	return m->current[se->idx] && m->deadline[se->idx] == se->deadline;
}

static int64_t naive_top(const struct model *m)
{
	int64_t best = INT64_MAX;
	for (int i = 0; i < N; i++)
		if (m->current[i] && m->deadline[i] < best)
			best = m->deadline[i];
	return best;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_empty(void **state)
{
	(void)state;
	struct stallheap h = { 0 };
	struct model m = { 0 };
	assert_null(stallheap_top(&h, valid, &m));
	stallheap_free(&h);
}

static void test_random_against_naive(void **state)
{
	(void)state;
	static struct model m;
	struct stallheap h = { 0 };
	uint32_t maxn = 0;
	for (int op = 0; op < 200000; op++) {
		uint32_t i = (uint32_t)(rnd() % N);
		switch (rnd() % 4) {
		case 0:
		case 1: /* instance i stalls (again, with a new deadline) */
			if (!m.current[i])
				m.live++;
			m.current[i] = true;
			m.deadline[i] = (int64_t)(rnd() % 1000000) - 500000;
			stallheap_push(
			    &h, (struct stall_ent){ m.deadline[i], i, 0 }, m.live, valid, &m);
			break;
		case 2: /* instance i stops stalling (its step came, it closed) */
			if (m.current[i])
				m.live--;
			m.current[i] = false;
			break;
		default: {
			const struct stall_ent *t = stallheap_top(&h, valid, &m);
			int64_t want = naive_top(&m);
			if (want == INT64_MAX)
				assert_null(t);
			else {
				assert_non_null(t);
				assert_int_equal(t->deadline, want);
			}
		}
		}
		if (h.n > maxn)
			maxn = h.n;
	}
	/* stale entries never outnumber live ones 2:1 for long: bounded by ~3 x N */
	assert_true(maxn <= 3 * N + 64);
	stallheap_free(&h);
}

static void test_all_stale(void **state)
{
	(void)state;
	static struct model m;
	struct stallheap h = { 0 };
	for (uint32_t i = 0; i < 1000; i++) {
		m.current[i] = true;
		m.deadline[i] = 1000 - (int64_t)i;
		m.live++;
		stallheap_push(&h, (struct stall_ent){ m.deadline[i], i, 0 }, m.live, valid, &m);
	}
	assert_int_equal(stallheap_top(&h, valid, &m)->deadline, 1);
	for (uint32_t i = 0; i < 1000; i++)
		m.current[i] = false;
	m.live = 0;
	assert_null(stallheap_top(&h, valid, &m));
	assert_int_equal(h.n, 0);
	/* stale pushes are compacted away from 64 entries on: the heap stays small */
	for (uint32_t i = 0; i < 200; i++)
		stallheap_push(&h, (struct stall_ent){ 5, i, 0 }, 0, valid, &m);
	m.current[7] = true;
	m.deadline[7] = 9;
	m.live = 1;
	stallheap_push(&h, (struct stall_ent){ 9, 7, 0 }, m.live, valid, &m);
	assert_true(h.n <= 65);
	assert_int_equal(stallheap_top(&h, valid, &m)->deadline, 9);
	stallheap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_random_against_naive),
		cmocka_unit_test(test_all_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
