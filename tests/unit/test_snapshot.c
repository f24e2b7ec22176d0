/*
 * test_snapshot: the meeting point of the engine thread and the HTTP threads.
 * Documents swap without copies; the anomaly ring keeps the newest SNAP_RING; a
 * request nobody answers is withdrawn at its timeout (0 here: no waiting); a full
 * queue refuses at once; requests asked from many threads are all answered by one
 * serving thread (also run under ThreadSanitizer by tests/e2e/http_tsan.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "http/snapshot.h"

static struct snapshot *mk(void)
{
	struct snapshot *s = NULL;
	char err[128];
	assert_int_equal(snapshot_new(&s, err, sizeof(err)), 0);
	return s;
}

static void test_documents(void **state)
{
	(void)state;
	struct snapshot *s = mk();
	struct jbuf b, out;
	jbuf_init(&b, 1 << 20);
	jbuf_init(&out, 1 << 20);
	assert_int_equal(snapshot_copy(s, SNAP_SUMMARY, &out), -1);
	static const char *const docs[] = { "one", "two", "three" };
	for (size_t i = 0; i < 3; i++) {
		jbuf_puts(&b, docs[i]);
		snapshot_publish(s, SNAP_SUMMARY, &b);
		assert_int_equal(b.len, 0); /* the previous buffer came back, reset */
		jbuf_reset(&out);
		assert_int_equal(snapshot_copy(s, SNAP_SUMMARY, &out), 0);
		assert_string_equal(out.p, docs[i]);
	}
	assert_int_equal(snapshot_copy(s, SNAP_METRICS, &out), -1);
	jbuf_free(&b);
	jbuf_free(&out);
	snapshot_free(s);
}

/* A paged document: the head and a window of parts, clipped to those published; a
 * later publish with more parts (a bigger array) replaces the ends too. */
static void test_parts(void **state)
{
	(void)state;
	struct snapshot *s = mk();
	struct jbuf b, head, parts;
	jbuf_init(&b, 1 << 20);
	jbuf_init(&head, 1 << 20);
	jbuf_init(&parts, 1 << 20);
	int n = -1;
	assert_int_equal(snapshot_copy_parts(s, SNAP_GRAPHS, 0, 1, &head, &parts, &n), -1);
	static const struct {
		int first, count;
		const char *want;
	} cs[] = { { 0, 10, "a,bb,ccc" }, { 1, 1, "bb" }, { 1, 2, "bb,ccc" }, { 2, 5, "ccc" },
		{ 3, 1, "" }, { -1, 2, "a" }, { 0, 0, "" } };
	size_t ends[4];
	jbuf_puts(&b, "H:");
	ends[0] = b.len;
	static const char *const p[] = { "a", "bb", "ccc" };
	for (int i = 0; i < 3; i++) {
		jbuf_puts(&b, p[i]);
		ends[i + 1] = b.len;
	}
	snapshot_publish_parts(s, SNAP_GRAPHS, &b, ends, 3);
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		jbuf_reset(&head);
		jbuf_reset(&parts);
		assert_int_equal(snapshot_copy_parts(
				     s, SNAP_GRAPHS, cs[i].first, cs[i].count, &head, &parts, &n),
		    0);
		assert_int_equal(n, 3);
		assert_string_equal(head.p, "H:");
		assert_string_equal(parts.p ? parts.p : "", cs[i].want);
	}
	size_t more[65];
	jbuf_puts(&b, "{");
	more[0] = b.len;
	for (int i = 0; i < 64; i++) {
		jbuf_printf(&b, "%d", i);
		more[i + 1] = b.len;
	}
	snapshot_publish_parts(s, SNAP_GRAPHS, &b, more, 64);
	jbuf_reset(&head);
	jbuf_reset(&parts);
	assert_int_equal(snapshot_copy_parts(s, SNAP_GRAPHS, 62, 5, &head, &parts, &n), 0);
	assert_int_equal(n, 64);
	assert_string_equal(head.p, "{");
	assert_string_equal(parts.p, "62,63");
	jbuf_free(&b);
	jbuf_free(&head);
	jbuf_free(&parts);
	snapshot_free(s);
}

static void test_ring(void **state)
{
	(void)state;
	struct snapshot *s = mk();
	for (int i = 0; i < SNAP_RING + 10; i++) {
		struct snap_anomaly a = { .flow = i % 2, .kind = i % 3, .step = 1, .at_ns = i };
		snprintf(a.correlation_id, sizeof(a.correlation_id), "c-%d", i % 7);
		snapshot_anomaly(s, &a);
	}
	static struct snap_anomaly out[SNAP_RING];
	assert_int_equal(snapshot_anomalies(s, -1, -1, out, SNAP_RING), SNAP_RING);
	assert_int_equal(out[0].at_ns, SNAP_RING + 9);  /* newest first */
	assert_int_equal(out[SNAP_RING - 1].at_ns, 10); /* oldest 10 overwritten */
	int n = snapshot_anomalies(s, 1, 2, out, 5);
	assert_int_equal(n, 5);
	for (int i = 0; i < n; i++)
		assert_true(out[i].flow == 1 && out[i].kind == 2);
	n = snapshot_anomalies_of(s, 0, "c-3", out, SNAP_RING);
	assert_true(n > 0);
	for (int i = 0; i < n; i++)
		assert_true(out[i].flow == 0 && strcmp(out[i].correlation_id, "c-3") == 0);
	snapshot_free(s);
}

static void answer(void *ctx, struct snap_query *q)
{
	atomic_int *served = ctx;
	q->status = 200 + q->kind;
	jbuf_printf(&q->out, "answer %d", q->kind);
	atomic_fetch_add(served, 1);
}

/* Nobody serves: a zero timeout withdraws the request; nothing stays queued. */
static void test_timeout_withdraws(void **state)
{
	(void)state;
	struct snapshot *s = mk();
	struct snap_query q = { .kind = 1 };
	jbuf_init(&q.out, 1024);
	assert_int_equal(snapshot_ask(s, &q, 0), -1);
	assert_int_equal(snapshot_pending(s), 0);
	atomic_int served = 0;
	assert_int_equal(snapshot_serve(s, answer, &served, 10), 0);
	assert_int_equal(served, 0);
	jbuf_free(&q.out);
	snapshot_free(s);
}

struct asker {
	struct snapshot *s;
	int kind, rc, status;
	char body[32];
};

static void *ask_thread(void *arg)
{
	struct asker *k = arg;
	struct snap_query q = { .kind = k->kind };
	jbuf_init(&q.out, 1024);
	k->rc = snapshot_ask(k->s, &q, 10000);
	k->status = q.status;
	snprintf(k->body, sizeof(k->body), "%s", q.out.p ? q.out.p : "");
	jbuf_free(&q.out);
	return NULL;
}

/* 40 askers, one server thread (this one): every request answered with its own
 * body; serve(max) answers at most max per call. */
static void test_many_askers(void **state)
{
	(void)state;
	enum { N = 40 };
	struct snapshot *s = mk();
	struct asker k[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		k[i] = (struct asker){ .s = s, .kind = i };
		pthread_create(&th[i], NULL, ask_thread, &k[i]);
	}
	atomic_int served = 0;
	while (served < N) {
		int n = snapshot_serve(s, answer, &served, 3);
		assert_true(n <= 3);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		char want[32];
		snprintf(want, sizeof(want), "answer %d", i);
		assert_int_equal(k[i].rc, 0);
		assert_int_equal(k[i].status, 200 + i);
		assert_string_equal(k[i].body, want);
	}
	assert_int_equal(snapshot_pending(s), 0);
	snapshot_free(s);
}

static void test_ready(void **state)
{
	(void)state;
	struct snapshot *s = mk();
	char why[64];
	assert_false(snapshot_ready(s, why, sizeof(why)));
	assert_string_equal(why, "starting");
	snapshot_set_ready(s, true, "ok");
	assert_true(snapshot_ready(s, NULL, 0));
	snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_timeout_withdraws),
		cmocka_unit_test(test_many_askers),
		cmocka_unit_test(test_ready),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
