/*
 * test_evlog: the recent-events ring keeps exactly the newest events that fit, in
 * order, with every field and attribute intact, across many wraps; oversized events
 * are counted and skipped; with linked-key attributes indexed, an instance's keys
 * find exactly its events (also one whose correlation id is neither key), each once,
 * in arrival order, under the first of its keys the event carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/flowgraph.h"
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

struct keyed {
	char got[256];
	int n;
};

static int collect_keyed(void *arg, const struct event *ev, int64_t arrival_ns, const char *key)
{
	struct keyed *k = arg;
	assert_true(arrival_ns > 0);
	snprintf(k->got + strlen(k->got), sizeof k->got - strlen(k->got), "%s%s@%s",
	    k->n++ ? " " : "", ev->event_id, key);
	return 0;
}

/* Flow i: a@c (pid=p), b@p, c@x (pid=p: neither key as correlation id), d@c (pid=c:
 * the same key twice, indexed once). 1024 buckets for ~3 keys a flow: chains cross
 * buckets shared by several keys of one record. */
static void test_linked_keys(void **state)
{
	(void)state;
	char *keys[1] = { "pid" };
	struct fg_flow fl = { .name = "f", .keys = keys, .nkeys = 1 };
	struct flowgraph g = { .flows = &fl, .nflows = 1 };
	struct evlog *l = evlog_new(64 * 1024);
	assert_int_equal(evlog_index_graph(l, &g), 0);
	const long n = 4000;
	char id[32], corr[32], pid[32];
	struct ev_attr attrs[2] = { { "amount", "1" }, { "pid", pid } };
	for (long i = 0; i < n; i++)
		for (int e = 0; e < 4; e++) {
			static const char *const names[4] = { "a", "b", "c", "d" };
			snprintf(id, sizeof id, "%s%ld", names[e], i);
			snprintf(corr, sizeof corr, "%s%ld", e == 1 ? "p" : e == 2 ? "x" : "c", i);
			snprintf(pid, sizeof pid, "%s%ld", e == 3 ? "c" : "p", i);
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = "T",
				.source = "s",
				.attrs = attrs,
				.nattrs = e == 1 ? 1 : 2 };
			evlog_add(l, &ev);
		}
	int checked = 0;
	for (long i = n - 100; i < n; i++) { /* the newest: surely in the ring */
		char c[32], p[32], want[256];
		snprintf(c, sizeof c, "c%ld", i);
		snprintf(p, sizeof p, "p%ld", i);
		const char *k2[2] = { c, p };
		struct keyed k = { "", 0 };
		assert_int_equal(evlog_find_keys(l, k2, 2, collect_keyed, &k), 4);
		snprintf(
		    want, sizeof want, "a%ld@%s b%ld@%s c%ld@%s d%ld@%s", i, c, i, p, i, p, i, c);
		assert_string_equal(k.got, want);
		/* the payment id alone: the events that carry it */
		struct keyed kp = { "", 0 };
		const char *k1[1] = { p };
		assert_int_equal(evlog_find_keys(l, k1, 1, collect_keyed, &kp), 3);
		snprintf(want, sizeof want, "a%ld@%s b%ld@%s c%ld@%s", i, p, i, p, i, p);
		assert_string_equal(kp.got, want);
		checked++;
	}
	assert_int_equal(checked, 100);
	evlog_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_ring_keeps_newest),
		cmocka_unit_test(test_index_many_ids), cmocka_unit_test(test_linked_keys) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
