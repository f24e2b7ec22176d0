/*
 * test_evlog: the recent-events ring keeps exactly the newest events that fit, in
 * order, with every field and attribute intact, across many wraps; oversized events
 * are counted and skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "out/evlog.h"

struct found {
	int n;
	long first, last;
	int bad;
};

static int collect(void *arg, const struct event *ev)
{
	struct found *f = arg;
	long seq = atol(ev->event_id + 1);
	if (f->n == 0)
		f->first = seq;
	else if (seq <= f->last)
		f->bad = 1; /* oldest first */
	f->last = seq;
	f->n++;
	char want[32];
	snprintf(want, sizeof(want), "v%ld", seq);
	if (ev->nattrs != 2 || strcmp(ev->attrs[1].val, want) != 0 || strcmp(ev->type, "T") != 0 ||
	    ev->offset != seq * 10 || ev->partition != 3 || !ev->topic ||
	    strcmp(ev->topic, "events") != 0)
		f->bad = 1;
	return 0;
}

static void test_ring_keeps_newest(void **state)
{
	(void)state;
	struct evlog *l = evlog_new(64 * 1024);
	char id[32], corr[32], val[32];
	struct ev_attr attrs[2] = { { "k", "fixed" }, { "seq", val } };
	for (long i = 0; i < 50000; i++) {
		snprintf(id, sizeof(id), "e%ld", i);
		snprintf(corr, sizeof(corr), "c%ld", i % 7);
		snprintf(val, sizeof(val), "v%ld", i);
		struct event ev = { .event_id = id,
			.correlation_id = corr,
			.type = "T",
			.source = "s",
			.time_ns = i,
			.attrs = attrs,
			.nattrs = 2,
			.topic = "events",
			.partition = 3,
			.offset = i * 10 };
		evlog_add(l, &ev);
		if (i % 997 == 0 || i == 49999) {
			int total = 0;
			long oldest = i;
			for (int c = 0; c < 7; c++) {
				struct found f = { 0, 0, 0, 0 };
				snprintf(corr, sizeof(corr), "c%d", c);
				total += evlog_find(l, corr, collect, &f);
				assert_false(f.bad);
				if (f.n && f.first < oldest)
					oldest = f.first;
			}
			/* the kept events are exactly the newest ones: i - oldest + 1 of them */
			assert_int_equal(total, i - oldest + 1);
			assert_true(total > 500 || i < 500);
		}
	}
	assert_int_equal(evlog_added(l), 50000);
	char big[40000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct event huge = { .event_id = big, .correlation_id = "c", .type = "T", .source = "s" };
	evlog_add(l, &huge);
	assert_int_equal(evlog_dropped(l), 1);
	evlog_free(l);
}

/* Many ids sharing the index's buckets, the ring wrapped many times: each id finds
 * exactly its live events, oldest first, and all of them together are the ring. */
static void test_index_many_ids(void **state)
{
	(void)state;
	struct evlog *l = evlog_new(64 * 1024); /* 1024 buckets */
	char id[32], corr[32], val[32];
	struct ev_attr attrs[2] = { { "k", "fixed" }, { "seq", val } };
	const long n = 60000; /* ids of 3 events each, interleaved by 2 */
	for (long i = 0; i < n; i++) {
		long k = (i / 6) * 2 + (i % 2);
		snprintf(id, sizeof(id), "e%ld", i);
		snprintf(corr, sizeof(corr), "k%ld", k);
		snprintf(val, sizeof(val), "v%ld", i);
		struct event ev = { .event_id = id,
			.correlation_id = corr,
			.type = "T",
			.source = "s",
			.time_ns = i,
			.attrs = attrs,
			.nattrs = 2,
			.topic = "events",
			.partition = 3,
			.offset = i * 10 };
		evlog_add(l, &ev);
	}
	long total = 0, oldest = n;
	for (long k = 0; k < n / 3; k++) {
		struct found f = { 0, 0, 0, 0 };
		snprintf(corr, sizeof(corr), "k%ld", k);
		total += evlog_find(l, corr, collect, &f);
		assert_false(f.bad);
		assert_true(f.n <= 3);
		if (f.n && f.first < oldest)
			oldest = f.first;
	}
	assert_true(total > 300);
	assert_int_equal(total, n - oldest);
	evlog_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_ring_keeps_newest),
		cmocka_unit_test(test_index_many_ids) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
