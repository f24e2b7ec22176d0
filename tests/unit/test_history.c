/*
 * test_history: the store of retired flows, through the real engine and a real
 * SQLite file in a temp dir: a retired flow is read back with its steps, events and
 * anomalies; lists filter and page newest first; retention by age and by size
 * deletes the oldest; a garbage file is moved aside and recreated; a directory that
 * cannot be created is counted as errors while judging goes on; a full queue drops
 * (counted); the API lists the engine's instances then the stored ones and falls back
 * to the store for a timeline, over real loopback HTTP. history_sync makes every
 * check wait for the writer, never for time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "config/config.h"
#include "engine/engine.h"
#include "http/http_api.h"
#include "http/http_publish.h"
#include "lib/jbuf.h"
#include "state/history.h"
#include "state/history_read.h"

#define S(x) (INT64_C(1767225600000000000) + (int64_t)(x)*1000000000)

static const char *CONFIG =
    "flows:\n"
    "  - name: order\n"
    "    deadline: 60s\n"
    "    lateness: 1s\n"
    "    steps:\n"
    "      OrderPlaced:       { start: true }\n"
    "      PaymentAuthorized: { after: [OrderPlaced], within: 5s }\n"
    "      OrderConfirmed:    { after: [PaymentAuthorized], within: 5s, end: completed }\n";

struct fx {
	char dir[128];
	struct config *cfg;
	struct engine *eng;
	struct history *h;
	struct log lg;
};

static void fx_open(struct fx *f, const struct history_opts *base)
{
	char err[2048];
	struct history_opts o = base ? *base : (struct history_opts){ 0 };
	o.dir = f->dir;
	if (o.queue_len == 0)
		o.queue_len = 1024;
	if (o.max_attr_bytes == 0)
		o.max_attr_bytes = 256;
	o.timeline_bytes = 1 << 20;
	f->lg = (struct log){ .level = LOG_LVL_ERROR, .out = stderr };
	assert_int_equal(history_new(&o, &f->cfg->graph, &f->lg, &f->h, err, sizeof err), 0);
	struct engine_sink sink;
	history_sink(f->h, &sink);
	struct engine_opts eo = { .clock = ENGINE_CLOCK_EVENTS };
	assert_int_equal(engine_new(&f->cfg->graph, &eo, &sink, &f->eng, err, sizeof err), 0);
	history_attach_engine(f->h, f->eng);
}

static void fx_init(struct fx *f, const char *dir, const struct history_opts *o)
{
	char err[2048];
	memset(f, 0, sizeof(*f));
	if (dir) {
		snprintf(f->dir, sizeof f->dir, "%s", dir);
	} else {
		snprintf(f->dir, sizeof f->dir, "/tmp/test_history.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
	}
	assert_int_equal(
	    config_load_string("t.yaml", CONFIG, strlen(CONFIG), &f->cfg, err, sizeof err), 0);
	fx_open(f, o);
}

static void fx_close(struct fx *f)
{
	engine_free(f->eng);
	history_free(f->h);
	config_free(f->cfg);
}

static void rm_dir(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void apply(struct fx *f, const char *id, const char *corr, const char *type, int64_t t)
{
	struct ev_attr a[2] = { { "amount", "12.50" },
		{ "note", "a fairly long attribute value" } };
	struct event ev = { .event_id = id,
		.correlation_id = corr,
		.type = type,
		.source = "shop",
		.causation_id = "",
		.time_ns = t,
		.attrs = a,
		.nattrs = 2,
		.topic = "events",
		.partition = 3,
		.offset = 42 };
	history_event(f->h, &ev);
	engine_apply(f->eng, &ev);
}

/* o1 completes; o2 stalls after OrderPlaced and is abandoned at its deadline. */
static void two_flows(struct fx *f, const char *c1, const char *c2, int64_t t0)
{
	char id[64];
	snprintf(id, sizeof id, "%s-a", c1);
	apply(f, id, c1, "OrderPlaced", t0);
	snprintf(id, sizeof id, "%s-b", c1);
	apply(f, id, c1, "PaymentAuthorized", t0 + S(1) - S(0));
	snprintf(id, sizeof id, "%s-c", c1);
	apply(f, id, c1, "OrderConfirmed", t0 + S(2) - S(0));
	snprintf(id, sizeof id, "%s-a", c2);
	apply(f, id, c2, "OrderPlaced", t0);
}

static void test_write_read_back(void **state)
{
	(void)state;
	struct fx f;
	char err[512];
	fx_init(&f, NULL, NULL);
	two_flows(&f, "o1", "o2", S(0));
	engine_advance(f.eng, S(120)); /* o2 stalls, is abandoned at 60 s, both retire */
	history_sync(f.h);
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.writes, 2);
	assert_int_equal(st.drops, 0);
	assert_int_equal(st.errors, 0);
	assert_true(st.bytes > 0);

	struct history_reader *r;
	assert_int_equal(history_read_open(f.dir, &r, err, sizeof err), 0);
	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	assert_int_equal(history_read_flow(r, "order", "o2", &b, err, sizeof err), 1);
	jbuf_put(&b, "", 1);
	assert_non_null(strstr(b.p, "\"state\":\"abandoned\""));
	assert_non_null(strstr(b.p, "\"event_id\":\"o2-a\""));
	assert_non_null(strstr(b.p, "\"topic\":\"events\",\"partition\":3,\"offset\":42"));
	assert_non_null(strstr(b.p, "\"attributes\":{\"amount\":\"12.50\""));
	assert_non_null(strstr(b.p, "{\"name\":\"PaymentAuthorized\",\"status\":\"stalled\""));
	assert_non_null(strstr(b.p, "{\"kind\":\"stalled\",\"step\":\"PaymentAuthorized\""));
	assert_non_null(strstr(b.p, "{\"kind\":\"abandoned\""));
	assert_null(strstr(b.p, "o1-a")); /* another flow's events stay out */
	jbuf_reset(&b);
	assert_int_equal(history_read_flow(r, "order", "nope", &b, err, sizeof err), 0);

	struct history_query q = {
		.outcome = "completed", .since_ns = INT64_MIN, .until_ns = INT64_MAX, .limit = 10
	};
	uint64_t total;
	int n;
	assert_int_equal(history_read_list(r, &q, S(200), &b, &total, &n, err, sizeof err), 0);
	assert_int_equal(total, 1);
	assert_int_equal(n, 1);
	jbuf_put(&b, "", 1);
	assert_non_null(strstr(b.p, "\"correlation_id\":\"o1\""));
	q = (struct history_query){
		.kind = "stalled", .since_ns = INT64_MIN, .until_ns = INT64_MAX, .limit = 10
	};
	jbuf_reset(&b);
	assert_int_equal(history_read_list(r, &q, S(200), &b, &total, &n, err, sizeof err), 0);
	assert_int_equal(total, 1);
	jbuf_put(&b, "", 1);
	assert_non_null(strstr(b.p, "\"correlation_id\":\"o2\""));
	jbuf_free(&b);
	history_read_close(r);
	fx_close(&f);

	/* reopened by a new writer: the rows are still there */
	char dir[128];
	snprintf(dir, sizeof dir, "%s", f.dir);
	fx_init(&f, dir, NULL);
	assert_int_equal(history_read_open(f.dir, &r, err, sizeof err), 0);
	jbuf_init(&b, 1 << 20);
	assert_int_equal(history_read_flow(r, "order", "o1", &b, err, sizeof err), 1);
	jbuf_free(&b);
	history_read_close(r);
	fx_close(&f);
	rm_dir(f.dir);
}

static int count_rows(const char *dir, const char *outcome)
{
	char err[512];
	struct history_reader *r;
	assert_int_equal(history_read_open(dir, &r, err, sizeof err), 0);
	struct history_query q = {
		.outcome = outcome, .since_ns = INT64_MIN, .until_ns = INT64_MAX, .limit = 1
	};
	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	uint64_t total;
	int n;
	assert_int_equal(history_read_list(r, &q, 0, &b, &total, &n, err, sizeof err), 0);
	jbuf_free(&b);
	history_read_close(r);
	return (int)total;
}

static void test_retention_age(void **state)
{
	(void)state;
	struct fx f;
	struct history_opts o = { .retention_ns = 1 }; /* everything older than 1 ns goes */
	fx_init(&f, NULL, &o);
	two_flows(&f, "o1", "o2", S(0));
	engine_advance(f.eng, S(120));
	history_sync(f.h); /* written, then a retention round */
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.writes, 2);
	assert_int_equal(st.deleted, 2);
	assert_int_equal(count_rows(f.dir, NULL), 0);
	fx_close(&f);
	rm_dir(f.dir);
}

static void test_retention_size(void **state)
{
	(void)state;
	struct fx f;
	struct history_opts o = { .max_bytes = 256 * 1024, .queue_len = 8192 };
	fx_init(&f, NULL, &o);
	char c1[32], c2[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(c1, sizeof c1, "a%d", i);
		snprintf(c2, sizeof c2, "b%d", i);
		two_flows(&f, c1, c2, S(i));
		if (i % 500 == 499)
			history_sync(f.h);
	}
	engine_advance(f.eng, S(4000));
	history_sync(f.h);
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.writes, 6000);
	assert_true(st.deleted > 0);
	int left = count_rows(f.dir, NULL);
	assert_int_equal(left, 6000 - (int)st.deleted);
	/* the newest stay */
	char err[512];
	struct history_reader *r;
	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	assert_int_equal(history_read_open(f.dir, &r, err, sizeof err), 0);
	assert_int_equal(history_read_flow(r, "order", "a2999", &b, err, sizeof err), 1);
	jbuf_reset(&b);
	assert_int_equal(history_read_flow(r, "order", "a0", &b, err, sizeof err), 0);
	jbuf_free(&b);
	history_read_close(r);
	fx_close(&f);
	rm_dir(f.dir);
}

static int count_bad(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		n += strncmp(e->d_name, "history.db.bad-", 15) == 0 &&
		    strchr(e->d_name + 15, '-') == NULL;
	if (d)
		closedir(d);
	return n;
}

static void test_garbage_recreated(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_history.XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/history.db", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 1000; i++)
		fputs("this is not a database, just garbage bytes\n", fp);
	fclose(fp);
	char err[512];
	struct history_reader *r;
	assert_int_equal(history_read_open(dir, &r, err, sizeof err), -1); /* says why */
	assert_non_null(strstr(err, "history.db"));
	struct fx f;
	fx_init(&f, dir, NULL);
	two_flows(&f, "o1", "o2", S(0));
	engine_advance(f.eng, S(120));
	history_sync(f.h);
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.recreated, 1);
	assert_int_equal(st.writes, 2);
	assert_int_equal(count_bad(dir), 1);
	assert_int_equal(count_rows(dir, NULL), 2);
	fx_close(&f);
	rm_dir(dir);
}

/* A real SQLite file of another schema version is not ours to change: moved aside. */
static void test_other_version_recreated(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_history.XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/history.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE flows(x); PRAGMA user_version=7", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	struct fx f;
	fx_init(&f, dir, NULL);
	two_flows(&f, "o1", "o2", S(0));
	engine_advance(f.eng, S(120));
	history_sync(f.h);
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.recreated, 1);
	assert_int_equal(st.writes, 2);
	assert_int_equal(count_bad(dir), 1);
	fx_close(&f);
	rm_dir(dir);
}

static void test_unwritable_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_history.XXXXXX", sub[256];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/file", dir);
	FILE *fp = fopen(sub, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(sub, sizeof sub, "%s/file/store", dir); /* a file where a dir must be */
	struct fx f;
	fx_init(&f, sub, NULL);
	two_flows(&f, "o1", "o2", S(0));
	engine_advance(f.eng, S(120));
	history_sync(f.h);
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.writes, 0);
	assert_true(st.errors >= 1);
	assert_true(st.drops >= 1);
	/* judging went on */
	assert_int_equal(engine_flow_stats(f.eng, 0)->started, 2);
	assert_int_equal(engine_flow_stats(f.eng, 0)->anomalies[AN_ABANDONED], 1);
	fx_close(&f);
	rm_dir(dir);
}

static void test_queue_full_drops(void **state)
{
	(void)state;
	struct fx f;
	struct history_opts o = { .queue_len = 3 };
	fx_init(&f, NULL, &o);
	history_hold(f.h, true);
	two_flows(&f, "o1", "o2", S(0));
	/* in order: o1 retires, o2 stalls, is abandoned (3 queued), retires (dropped) */
	engine_advance(f.eng, S(120));
	struct history_stats st;
	history_stats(f.h, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.drops, 1);
	history_hold(f.h, false);
	history_sync(f.h);
	history_stats(f.h, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.drops, 1);
	assert_int_equal(st.writes, 1); /* o1; o2 retired last, into the full queue */
	fx_close(&f);
	rm_dir(f.dir);
}

/* ---- the API over the store: a real http_api on loopback, libcurl, a backend that
 * holds two closed instances (the engine's part) and finds no single instance ---- */

struct api_fx {
	const struct flowgraph *g;
	struct http_api *a;
	pthread_t thr;
	atomic_bool stop;
};

static int be_foreach_cb(void *ctx, int flow, api_visit_fn fn, void *arg)
{
	(void)ctx;
	static const char *const ids[2] = { "live-1", "live-2" };
	for (int i = 0; i < 2 && (flow < 0 || flow == 0); i++) {
		struct api_instance v = { .flow = 0,
			.correlation_id = ids[i],
			.outcome = "completed",
			.opened_ns = S(i),
			.closed_ns = S(i + 1),
			.events = 3,
			.last_step = -1 };
		if (fn(arg, &v))
			return 1;
	}
	return 0;
}

static void be_foreach(void *ctx, int flow, api_visit_fn fn, void *arg)
{
	be_foreach_cb(ctx, flow, fn, arg);
}

static int be_lookup(void *ctx, int flow, const char *corr, api_visit_fn fn, void *arg)
{
	(void)ctx, (void)flow, (void)corr, (void)fn, (void)arg;
	return -1; /* the engine no longer holds it */
}

static int64_t be_now(void *ctx)
{
	(void)ctx;
	return S(500);
}

static void *api_loop(void *arg)
{
	struct api_fx *x = arg;
	while (!atomic_load(&x->stop)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		http_publish_poll(x->a, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, false);
		usleep(200);
	}
	return NULL;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
	struct jbuf *b = u;
	jbuf_put(b, p, sz * nm);
	return sz * nm;
}

/* GET path: the status, the body (NUL-terminated) in b. */
static long get(struct api_fx *x, const char *path, struct jbuf *b)
{
	char url[512];
	long code = 0;
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_api_port(x->a), path);
	jbuf_reset(b);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	jbuf_put(b, "", 1);
	return code;
}

static int count_items(const char *body)
{
	int n = 0;
	for (const char *p = body; (p = strstr(p, "\"correlation_id\":")) != NULL; p++)
		n++;
	return n;
}

static void test_api_over_store(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, NULL, NULL);
	two_flows(&f, "s1", "s2", S(0)); /* s1 completed, s2 abandoned */
	two_flows(&f, "s3", "s4", S(10));
	engine_advance(f.eng, S(200));
	history_sync(f.h);

	struct api_fx x = { .g = &f.cfg->graph };
	struct metrics *m;
	char err[512];
	struct metrics_opts mo = { .graph = &f.cfg->graph, .version = "0.1.0" };
	assert_int_equal(metrics_new(&mo, &m, err, sizeof err), 0);
	struct cfg_listen l;
	assert_int_equal(config_parse_listen("127.0.0.1:0", &l, err, sizeof err), 0);
	struct http_api_opts ho = { .listen = &l,
		.publish_interval_ms = 20,
		.history_dir = f.dir,
		.history_metrics = history_metrics,
		.history_ctx = f.h };
	assert_int_equal(http_api_new(&ho, m, &x.a, err, sizeof err), 0);
	struct api_backend be = { .foreach = be_foreach, .lookup = be_lookup, .now = be_now };
	http_publish_set_backend(x.a, &be);
	http_publish_set_ready(x.a, true, "ok");
	pthread_create(&x.thr, NULL, api_loop, &x);

	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	/* 2 held by the engine, then 4 stored, newest retired first */
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&limit=3", &b), 200);
	assert_non_null(strstr(b.p, "{\"total\":6,\"offset\":0,\"limit\":3,\"items\":["));
	assert_int_equal(count_items(b.p), 3);
	assert_true(strstr(b.p, "live-2") < strstr(b.p, "\"stored\":true"));
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&offset=3&limit=10", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":6"));
	assert_int_equal(count_items(b.p), 3);
	assert_null(strstr(b.p, "live-"));
	assert_int_equal(get(&x, "/api/v1/flows?state=all&outcome=abandoned", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":2"));
	assert_non_null(strstr(b.p, "\"correlation_id\":\"s4\""));
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&correlation_id=s3", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":1"));
	/* key=: the correlation id or a linked key, on both parts */
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&key=s3", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":1,"));
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&key=live-2", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":1,"));
	assert_null(strstr(b.p, "\"stored\""));
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&q=4", &b), 200); /* contains */
	assert_non_null(strstr(b.p, "\"total\":1,"));
	assert_non_null(strstr(b.p, "\"correlation_id\":\"s4\""));
	assert_int_equal(get(&x, "/api/v1/flows?state=open", &b), 200); /* open: engine only */
	assert_null(strstr(b.p, "\"stored\""));
	/* ended at or after 00:00:50: the two abandoned at their 60 s deadline */
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&since=2026-01-01T00:00:50Z", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":2,"));
	assert_null(strstr(b.p, "live-"));
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&until=2026-01-01T00:00:50Z", &b), 200);
	assert_non_null(strstr(b.p, "\"total\":4,")); /* live-1, live-2, s1, s3 */
	assert_int_equal(get(&x, "/api/v1/flows?state=closed&since=bad", &b), 400);
	/* the engine answers 404: the store's document */
	assert_int_equal(get(&x, "/api/v1/flows/order/s2", &b), 200);
	assert_non_null(strstr(b.p, "\"correlation_id\":\"s2\",\"state\":\"abandoned\""));
	assert_non_null(strstr(b.p, "\"stored\":true"));
	assert_int_equal(get(&x, "/api/v1/flows/order/never", &b), 404);
	assert_int_equal(get(&x, "/metrics", &b), 200);
	assert_non_null(strstr(b.p, "\nchoreoscope_history_writes_total 4\n"));

	atomic_store(&x.stop, true);
	pthread_join(x.thr, NULL);
	http_api_free(x.a);
	metrics_free(m);
	jbuf_free(&b);
	fx_close(&f);
	rm_dir(f.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_back),
		cmocka_unit_test(test_retention_age),
		cmocka_unit_test(test_retention_size),
		cmocka_unit_test(test_garbage_recreated),
		cmocka_unit_test(test_other_version_recreated),
		cmocka_unit_test(test_unwritable_dir),
		cmocka_unit_test(test_queue_full_drops),
		cmocka_unit_test(test_api_over_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
