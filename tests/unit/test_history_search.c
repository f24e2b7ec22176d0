/*
 * test_history_search: searching flows by a linked key, live and stored, and the
 * stored-flow filters of /api/v1/flows, through the real engine, the API's backend
 * over it (api_engine, the live answer) and a real SQLite store in a temp dir:
 *  - a payment id linked mid-flow finds its order in the live list (key=) and the
 *    live timeline, then in the store after retire, and after a new writer reopened
 *    the file; the timeline (live and stored) includes the events that arrived under
 *    the payment id, even one whose correlation id is neither key, each marked with
 *    the key it arrived under;
 *  - stored flows filter by outcome, anomaly kind, awaited step, since/until, and
 *    come newest first, paged by limit/offset;
 *  - a version-1 file is migrated in place: its flows stay, new ones get keys.
 * history_sync makes every check wait for the writer, never for time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "config/config.h"
#include "engine/engine.h"
#include "http/api_engine.h"
#include "lib/jbuf.h"
#include "out/metrics.h"
#include "state/history.h"
#include "state/history_read.h"

#define S(x) (INT64_C(1767225600000000000) + (int64_t)(x)*1000000000)

static const char *CONFIG =
    "flows:\n"
    "  - name: order\n"
    "    deadline: 60s\n"
    "    lateness: 1s\n"
    "    keys: [payment_id]\n"
    "    steps:\n"
    "      OrderPlaced:       { start: true }\n"
    "      PaymentAuthorized: { after: [OrderPlaced], within: 5s }\n"
    "      PaymentCaptured:   { after: [PaymentAuthorized], within: 5s, key: payment_id }\n"
    "      OrderConfirmed:    { after: [PaymentCaptured], within: 5s, end: completed }\n";

struct fx {
	char dir[128];
	struct config *cfg;
	struct engine *eng;
	struct history *h;
	struct snapshot *snap;
	struct api_engine *ae;
	struct api_backend be;
	struct metrics *m;
	struct log lg;
	struct jbuf b;
};

static void fx_open(struct fx *f)
{
	char err[2048];
	struct history_opts o = {
		.dir = f->dir, .queue_len = 1024, .max_attr_bytes = 256, .timeline_bytes = 1 << 20
	};
	f->lg = (struct log){ .level = LOG_LVL_ERROR, .out = stderr };
	assert_int_equal(history_new(&o, &f->cfg->graph, &f->lg, &f->h, err, sizeof err), 0);
	struct engine_sink sink;
	history_sink(f->h, &sink);
	struct engine_opts eo = { .clock = ENGINE_CLOCK_EVENTS };
	assert_int_equal(engine_new(&f->cfg->graph, &eo, &sink, &f->eng, err, sizeof err), 0);
	history_attach_engine(f->h, f->eng);
	assert_int_equal(snapshot_new(&f->snap, err, sizeof err), 0);
	struct engine_set es = engine_set_of(f->eng);
	f->ae = api_engine_new(&es, &f->cfg->graph, f->snap, 1 << 20);
	assert_non_null(f->ae);
	api_engine_backend(f->ae, &f->be);
	/* as the daemon does: the store's timelines come from the API's ring */
	history_share_ring(f->h, api_engine_ring(f->ae, 0));
}

static void fx_init(struct fx *f, const char *dir)
{
	char err[2048];
	memset(f, 0, sizeof(*f));
	if (dir) {
		snprintf(f->dir, sizeof f->dir, "%s", dir);
	} else {
		snprintf(f->dir, sizeof f->dir, "/tmp/test_history_search.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
	}
	assert_int_equal(
	    config_load_string("t.yaml", CONFIG, strlen(CONFIG), &f->cfg, err, sizeof err), 0);
	struct metrics_opts mo = { .graph = &f->cfg->graph, .version = "0.1.0" };
	assert_int_equal(metrics_new(&mo, &f->m, err, sizeof err), 0);
	jbuf_init(&f->b, 1 << 20);
	fx_open(f);
}

static void fx_close(struct fx *f)
{
	engine_free(f->eng);
	history_free(f->h);
	api_engine_free(f->ae);
	snapshot_free(f->snap);
	metrics_free(f->m);
	config_free(f->cfg);
	jbuf_free(&f->b);
}

static void rm_dir(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* One event; pay: the payment_id attribute, or NULL. */
static void apply(
    struct fx *f, const char *id, const char *corr, const char *type, int64_t t, const char *pay)
{
	struct ev_attr a[2] = { { "amount", "12.50" }, { "payment_id", pay } };
	struct event ev = { .event_id = id,
		.correlation_id = corr,
		.type = type,
		.source = "shop",
		.causation_id = "",
		.time_ns = t,
		.attrs = a,
		.nattrs = pay ? 2 : 1,
		.topic = "events",
		.partition = 1,
		.offset = 7 };
	api_engine_event(f->ae, 0, &ev);
	engine_apply(f->eng, &ev);
}

/* Order `o` paid with `p`: the capture comes keyed by a trace id (its key is the
 * payment_id attribute, `key:`), the confirmation keyed by the payment id. */
static void paid_order(struct fx *f, const char *o, const char *p, int64_t t0, bool confirm)
{
	char id[64], trace[64];
	snprintf(id, sizeof id, "%s-placed", o);
	apply(f, id, o, "OrderPlaced", t0, NULL);
	snprintf(id, sizeof id, "%s-authorized", o);
	apply(f, id, o, "PaymentAuthorized", t0 + S(1) - S(0), p);
	snprintf(id, sizeof id, "%s-captured", o);
	snprintf(trace, sizeof trace, "trace-%s", o);
	apply(f, id, trace, "PaymentCaptured", t0 + S(2) - S(0), p);
	if (!confirm)
		return;
	snprintf(id, sizeof id, "%s-confirmed", o);
	apply(f, id, p, "OrderConfirmed", t0 + S(3) - S(0), NULL);
}

static const char *live_list_by(struct fx *f, const char *key, const char *q)
{
	struct api_flows_args a = {
		.state = AR_STATE_ALL, .flow = -1, .awaiting = -1, .kind = -1, .limit = 10
	};
	snprintf(a.key, sizeof a.key, "%s", key);
	snprintf(a.q, sizeof a.q, "%s", q);
	assert_int_equal(api_render_flows(f->m, &f->be, &a, &f->b), 200);
	jbuf_put(&f->b, "", 1);
	return f->b.p;
}

static const char *live_list(struct fx *f, const char *key) { return live_list_by(f, key, ""); }

static const char *live_timeline(struct fx *f, const char *id)
{
	struct api_timeline_args a = { .flow = 0 };
	snprintf(a.corr, sizeof a.corr, "%s", id);
	if (api_render_timeline(f->m, &f->be, &a, &f->b) != 200)
		return NULL;
	jbuf_put(&f->b, "", 1);
	return f->b.p;
}

/* The list of stored flows matching q: the correlation ids in order, space-separated. */
static const char *stored_ids(struct fx *f, struct history_query q, uint64_t *total)
{
	static char ids[1024];
	char err[512];
	struct history_reader *r;
	int n;
	if (q.since_ns == 0)
		q.since_ns = INT64_MIN;
	if (q.until_ns == 0)
		q.until_ns = INT64_MAX;
	if (q.limit == 0)
		q.limit = 100;
	assert_int_equal(history_read_open(f->dir, &r, err, sizeof err), 0);
	jbuf_reset(&f->b);
	assert_int_equal(history_read_list(r, &q, S(500), &f->b, total, &n, err, sizeof err), 0);
	history_read_close(r);
	jbuf_put(&f->b, "", 1);
	ids[0] = '\0';
	for (const char *p = f->b.p; (p = strstr(p, "\"correlation_id\":\"")) != NULL;) {
		p += strlen("\"correlation_id\":\"");
		size_t len = strcspn(p, "\"");
		snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%.*s", ids[0] ? " " : "",
		    (int)len, p);
	}
	return ids;
}

static const char *stored_doc(struct fx *f, const char *id)
{
	char err[512];
	struct history_reader *r;
	assert_int_equal(history_read_open(f->dir, &r, err, sizeof err), 0);
	jbuf_reset(&f->b);
	int rc = history_read_flow(r, "order", id, &f->b, err, sizeof err);
	history_read_close(r);
	assert_true(rc >= 0);
	jbuf_put(&f->b, "", 1);
	return rc == 1 ? f->b.p : NULL;
}

/* The events of a timeline document, as "event_id@key" in order. */
static const char *event_keys(const char *doc)
{
	static char out[1024];
	out[0] = '\0';
	for (const char *p = doc; (p = strstr(p, "{\"event_id\":\"")) != NULL;) {
		p += strlen("{\"event_id\":\"");
		size_t len = strcspn(p, "\"");
		const char *k = strstr(p, "\"key\":\"");
		assert_non_null(k);
		k += strlen("\"key\":\"");
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s@%.*s",
		    out[0] ? " " : "", (int)len, p, (int)strcspn(k, "\""), k);
	}
	return out;
}

static const char *WANT_EVENTS = "o1-placed@o1 o1-authorized@o1 o1-captured@pay-1 "
				 "o1-confirmed@pay-1";

static void test_linked_key_live_and_stored(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, NULL);
	paid_order(&f, "o1", "pay-1", S(0), false);
	paid_order(&f, "o2", "pay-2", S(0), false);
	/* live, open: the payment id finds its order, and only it */
	const char *l = live_list(&f, "pay-1");
	assert_non_null(strstr(l, "{\"total\":1,"));
	assert_non_null(strstr(l, "\"correlation_id\":\"o1\""));
	assert_non_null(strstr(live_list(&f, "o2"), "{\"total\":1,"));
	assert_non_null(strstr(live_list(&f, "trace-o1"), "{\"total\":0,"));
	/* q= (the TUI's search): a part of the correlation id, or a whole linked key */
	assert_non_null(strstr(live_list_by(&f, "", "o"), "{\"total\":2,"));
	assert_non_null(strstr(live_list_by(&f, "", "pay-1"), "{\"total\":1,"));
	assert_non_null(strstr(live_list_by(&f, "", "pay-"), "{\"total\":0,"));
	apply(&f, "o1-confirmed", "pay-1", "OrderConfirmed", S(3), NULL);
	const char *t = live_timeline(&f, "pay-1");
	assert_non_null(t);
	assert_non_null(strstr(t, "\"correlation_id\":\"o1\",\"state\":\"completed\""));
	assert_non_null(strstr(t, "\"linked_keys\":[\"pay-1\"]"));
	assert_string_equal(event_keys(t), WANT_EVENTS);
	assert_null(strstr(t, "o2-")); /* another flow's events stay out */

	engine_advance(f.eng, S(200)); /* o1 retires completed, o2 abandoned */
	history_sync(f.h);
	assert_null(live_timeline(&f, "pay-1"));
	uint64_t total;
	assert_string_equal(stored_ids(&f, (struct history_query){ .key = "pay-1" }, &total), "o1");
	assert_int_equal(total, 1);
	assert_string_equal(stored_ids(&f, (struct history_query){ .key = "o1" }, &total), "o1");
	assert_string_equal(stored_ids(&f, (struct history_query){ .key = "pay-2" }, &total), "o2");
	/* contains (q=): a part of the correlation id, or a whole linked key, as live */
	assert_string_equal(
	    stored_ids(&f, (struct history_query){ .contains = "pay-2" }, &total), "o2");
	assert_string_equal(
	    stored_ids(&f, (struct history_query){ .contains = "pay-" }, &total), "");
	assert_int_equal(total, 0);
	stored_ids(&f, (struct history_query){ .contains = "o" }, &total);
	assert_int_equal(total, 2);
	/* the correlation_id filter stays exact on the correlation id */
	assert_string_equal(
	    stored_ids(&f, (struct history_query){ .correlation_id = "pay-1" }, &total), "");
	/* a key filter combines with the others */
	assert_string_equal(
	    stored_ids(
		&f, (struct history_query){ .key = "pay-2", .outcome = "completed" }, &total),
	    "");
	const char *d = stored_doc(&f, "pay-1");
	assert_non_null(d);
	assert_non_null(strstr(d, "\"correlation_id\":\"o1\""));
	assert_non_null(strstr(d, "\"linked_keys\":[\"pay-1\"]"));
	assert_string_equal(event_keys(d), WANT_EVENTS);
	assert_null(stored_doc(&f, "trace-o1"));
	fx_close(&f);

	/* a new writer on the same file (a daemon restart): still found by the payment id */
	char dir[128];
	snprintf(dir, sizeof dir, "%s", f.dir);
	fx_init(&f, dir);
	d = stored_doc(&f, "pay-1");
	assert_non_null(d);
	assert_string_equal(event_keys(d), WANT_EVENTS);
	fx_close(&f);
	rm_dir(f.dir);
}

/* o1 completes at 3 s; o2 is abandoned awaiting PaymentAuthorized, o3 awaiting
 * PaymentCaptured (both at their 60 s deadline, o3 10 s later); o4 completes at 33 s.
 * Retire order (= newest last): o1, o4, o2, o3. */
static void four_flows(struct fx *f)
{
	paid_order(f, "o1", "pay-1", S(0), true);
	apply(f, "o2-placed", "o2", "OrderPlaced", S(0), NULL);
	apply(f, "o3-placed", "o3", "OrderPlaced", S(10), NULL);
	apply(f, "o3-authorized", "o3", "PaymentAuthorized", S(11), "pay-3");
	paid_order(f, "o4", "pay-4", S(30), true);
	engine_advance(f->eng, S(200));
	history_sync(f->h);
}

static void test_stored_filters(void **state)
{
	(void)state;
	struct fx f;
	uint64_t total;
	fx_init(&f, NULL);
	four_flows(&f);
	typedef struct history_query Q;
	assert_string_equal(stored_ids(&f, (Q){ 0 }, &total), "o3 o2 o4 o1"); /* newest first */
	assert_int_equal(total, 4);
	assert_string_equal(stored_ids(&f, (Q){ .outcome = "completed" }, &total), "o4 o1");
	assert_string_equal(stored_ids(&f, (Q){ .outcome = "abandoned" }, &total), "o3 o2");
	assert_string_equal(stored_ids(&f, (Q){ .kind = "stalled" }, &total), "o3 o2");
	assert_string_equal(stored_ids(&f, (Q){ .kind = "missing" }, &total), "");
	assert_string_equal(stored_ids(&f, (Q){ .awaiting = "PaymentCaptured" }, &total), "o3");
	assert_string_equal(stored_ids(&f, (Q){ .awaiting = "PaymentAuthorized" }, &total), "o2");
	/* on the end time: o1 closed at 3 s, o4 at 33 s, o2 at 60 s, o3 at 70 s */
	assert_string_equal(stored_ids(&f, (Q){ .since_ns = S(33) }, &total), "o3 o2 o4");
	assert_string_equal(stored_ids(&f, (Q){ .until_ns = S(33) }, &total), "o1");
	assert_string_equal(
	    stored_ids(&f, (Q){ .since_ns = S(4), .until_ns = S(61) }, &total), "o2 o4");
	/* paged: total counts every match, the page holds limit of them from offset */
	assert_string_equal(stored_ids(&f, (Q){ .limit = 2 }, &total), "o3 o2");
	assert_int_equal(total, 4);
	assert_string_equal(stored_ids(&f, (Q){ .limit = 2, .offset = 2 }, &total), "o4 o1");
	assert_string_equal(stored_ids(&f, (Q){ .limit = 2, .offset = 3 }, &total), "o1");
	assert_string_equal(stored_ids(&f, (Q){ .offset = 4 }, &total), "");
	assert_int_equal(total, 4);
	assert_string_equal(
	    stored_ids(&f, (Q){ .kind = "stalled", .limit = 1, .offset = 1 }, &total), "o2");
	assert_int_equal(total, 2);
	fx_close(&f);
	rm_dir(f.dir);
}

/* A store written by schema version 1 (no flow_keys, no events.key): the writer
 * migrates it in place, its flows stay readable, new flows are found by linked key. */
static void test_version1_migrated(void **state)
{
	(void)state;
	struct fx f;
	uint64_t total;
	char err[512], path[256];
	fx_init(&f, NULL);
	paid_order(&f, "old", "pay-old", S(0), true);
	engine_advance(f.eng, S(200));
	history_sync(f.h);
	fx_close(&f);
	/* back to version 1, as an older collector left it */
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/history.db", f.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "DROP TABLE flow_keys; ALTER TABLE events DROP COLUMN key;"
			     " PRAGMA user_version=1",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	struct history_reader *r;
	assert_int_equal(history_read_open(f.dir, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "migrates"));

	char dir[128];
	snprintf(dir, sizeof dir, "%s", f.dir);
	fx_init(&f, dir);
	paid_order(&f, "new", "pay-new", S(300), true);
	engine_advance(f.eng, S(500));
	history_sync(f.h);
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.recreated, 0);
	assert_int_equal(st.errors, 0);
	assert_string_equal(stored_ids(&f, (struct history_query){ 0 }, &total), "new old");
	assert_string_equal(
	    stored_ids(&f, (struct history_query){ .key = "pay-new" }, &total), "new");
	/* stored before the migration: found by its correlation id, not its payment id */
	assert_string_equal(stored_ids(&f, (struct history_query){ .key = "pay-old" }, &total), "");
	const char *d = stored_doc(&f, "old");
	assert_non_null(d);
	assert_non_null(strstr(d, "\"linked_keys\":[]"));
	assert_non_null(strstr(d, "\"event_id\":\"old-placed\""));
	fx_close(&f);
	rm_dir(f.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linked_key_live_and_stored),
		cmocka_unit_test(test_stored_filters),
		cmocka_unit_test(test_version1_migrated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
