/*
 * test_http_api: the HTTP server over real loopback HTTP (libcurl), on a free port.
 * An "engine" thread here plays the engine's owner: it calls http_publish_poll in a loop
 * and answers flow-table requests from a table of instance views (the engine's
 * introspection is not this module's), exactly as the daemon's loop does.
 * Table-driven: each case is (path, header, status, body substring).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "graph_fixture.h"
#include "http/http_api.h"
#include "http/http_publish.h"
#include "http/api_render.h"

#define NINST 50

struct fake {
	struct metrics *m;
	struct http_api *a;
	pthread_t engine;
	atomic_bool stop;
	atomic_ulong loops;
	char corr[NINST][32];
	struct api_step_view steps[NINST][7];
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define T0 ((int64_t)1790000000 * 1000000000)

/* Instance i: opened at T0 + i s; every 5th stalled on InventoryReserved; every 7th
 * closed completed; the rest open awaiting PaymentAuthorized. */
static void view(struct fake *f, int i, struct api_instance *v)
{
	memset(v, 0, sizeof(*v));
	v->flow = 0;
	v->correlation_id = f->corr[i];
	v->opened_ns = T0 + (int64_t)i * 1000000000;
	v->closed_ns = INT64_MIN;
	v->events = 2;
	v->last_step = 1;
	v->last_source = "payments";
	v->steps = f->steps[i];
	if (i % 7 == 0) {
		v->outcome = "completed";
		v->closed_ns = v->opened_ns + 3000000000;
	} else if (i % 5 == 0) {
		v->awaiting = FG_BIT(3);
		v->stalled = FG_BIT(3);
		v->kinds = 1u << 0;
	} else {
		v->awaiting = FG_BIT(1);
	}
}

static void fake_foreach(void *ctx, int flow, api_visit_fn fn, void *arg)
{
	struct fake *f = ctx;
	for (int i = 0; i < NINST; i++) {
		struct api_instance v;
		view(f, i, &v);
		if ((flow < 0 || flow == v.flow) && fn(arg, &v))
			return;
	}
}

static int fake_lookup(void *ctx, int flow, const char *corr, api_visit_fn fn, void *arg)
{
	struct fake *f = ctx;
	for (int i = 0; i < NINST; i++) {
		if (flow != 0 || strcmp(corr, f->corr[i]) != 0)
			continue;
		struct api_instance v;
		view(f, i, &v);
		struct ev_attr at[] = { { "k", "v\"q" } };
		struct api_event_view ev = { .event_id = "e1",
			.type = "OrderPlaced",
			.source = "shop",
			.topic = "events",
			.time_ns = v.opened_ns,
			.partition = 3,
			.offset = 1200,
			.attrs = at,
			.nattrs = 1 };
		struct api_anomaly_view an = { .kind = 0, .step = 3, .at_ns = v.opened_ns + 10 };
		v.evs = &ev;
		v.nevs = 1;
		v.anoms = &an;
		v.nanoms = v.stalled ? 1 : 0;
		fn(arg, &v);
		return 0;
	}
	return -1;
}

static int64_t fake_now(void *ctx)
{
	(void)ctx;
	return T0 + (int64_t)100 * 1000000000;
}

static void *engine_loop(void *arg)
{
	struct fake *f = arg;
	while (!atomic_load(&f->stop)) {
		http_publish_poll(f->a, mono_ns(), false);
		atomic_fetch_add(&f->loops, 1);
		usleep(200);
	}
	return NULL;
}

/* Options a test sets besides the defaults of start(). */
static struct http_api_opts extra;

static struct fake *start(const char *token)
{
	struct fake *f = calloc(1, sizeof(*f));
	char err[256];
	struct metrics_opts mo = { .graph = &fixture_graph, .version = "0.1.0" };
	assert_int_equal(metrics_new(&mo, &f->m, err, sizeof(err)), 0);
	for (int i = 0; i < NINST; i++) {
		snprintf(f->corr[i], sizeof(f->corr[i]), "o-%03d", i);
		for (int s = 0; s < 7; s++)
			f->steps[i][s] = (struct api_step_view){ .status = AR_NOT_EXPECTED,
				.happened_at_ns = INT64_MIN,
				.expected_at_ns = INT64_MIN,
				.deadline_ns = INT64_MIN };
		f->steps[i][0] = (struct api_step_view){ .status = AR_HAPPENED,
			.count = 1,
			.happened_at_ns = T0 + (int64_t)i * 1000000000,
			.expected_at_ns = INT64_MIN,
			.deadline_ns = INT64_MIN };
		f->steps[i][3] = (struct api_step_view){ .status = i % 5 ? AR_PENDING : AR_STALLED,
			.happened_at_ns = INT64_MIN,
			.expected_at_ns = T0 + (int64_t)i * 1000000000,
			.deadline_ns = T0 + (int64_t)(i + 10) * 1000000000 };
	}
	metrics_flow(f->m, 0)->started = 50;
	struct http_api_opts o = extra;
	struct cfg_listen l;
	assert_int_equal(config_parse_listen("127.0.0.1:0", &l, err, sizeof(err)), 0);
	o.listen = &l;
	o.token = token;
	o.publish_interval_ms = 20;
	if (o.max_connections == 0)
		o.max_connections = 256;
	assert_int_equal(http_api_new(&o, f->m, &f->a, err, sizeof(err)), 0);
	struct api_backend be = {
		.foreach = fake_foreach, .lookup = fake_lookup, .now = fake_now, .ctx = f
	};
	http_publish_set_backend(f->a, &be);
	http_publish_set_ready(f->a, true, "ok");
	http_publish_poll(f->a, mono_ns(), true);
	pthread_create(&f->engine, NULL, engine_loop, f);
	return f;
}

static void stop(struct fake *f)
{
	extra = (struct http_api_opts){ 0 };
	atomic_store(&f->stop, true);
	pthread_join(f->engine, NULL);
	http_api_free(f->a);
	metrics_free(f->m);
	free(f);
}

struct body {
	char *p;
	size_t n;
};

static size_t on_data(char *p, size_t sz, size_t nm, void *u)
{
	struct body *b = u;
	size_t n = sz * nm;
	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static CURL *req(
    struct fake *f, const char *path, const char *hdr, struct body *b, struct curl_slist **hl)
{
	char url[8192];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", http_api_port(f->a), path);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	*hl = NULL;
	if (hdr) {
		*hl = curl_slist_append(NULL, hdr);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
	}
	return c;
}

static long get(struct fake *f, const char *path, const char *hdr, struct body *b)
{
	struct curl_slist *hl;
	memset(b, 0, sizeof(*b));
	CURL *c = req(f, path, hdr, b, &hl);
	long code = 0;
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return code;
}

struct rcase {
	const char *path;
	const char *hdr;
	long status;
	const char *body; /* substring */
};

static void run_cases(struct fake *f, const struct rcase *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct body b;
		long st = get(f, cs[i].path, cs[i].hdr, &b);
		if (st != cs[i].status || b.p == NULL || strstr(b.p, cs[i].body) == NULL)
			fail_msg("%s: got %ld %s, want %ld with %s", cs[i].path, st,
			    b.p ? b.p : "(empty)", cs[i].status, cs[i].body);
		free(b.p);
	}
}

static void test_routes(void **state)
{
	(void)state;
	static const struct rcase cs[] = {
		{ "/-/healthy", NULL, 200, "{\"status\":\"ok\"}" },
		{ "/-/ready", NULL, 200, "\"ok\"" },
		{ "/", NULL, 200, "{\"name\":\"choreoscope\"," },
		{ "/", NULL, 200,
		    "{\"path\":\"/"
		    "metrics\",\"methods\":[\"GET\",\"HEAD\"],\"token\":true,\"params\":[]" },
		{ "/", NULL, 200, "{\"path\":\"/api/v1/flows/{flow}/{correlation_id}\"" },
		{ "/", NULL, 200,
		    "\"params\":[\"limit\",\"flow\",\"kind\"],\"description\":\"recent anomalies" },
		{ "/?x=1", NULL, 400, "unknown query parameter 'x'" },
		{ "//", NULL, 404, "no such path" },
		{ "/metrics", NULL, 200, "choreoscope_flows_started_total{flow=\"order\"} 50\n" },
		{ "/metrics", NULL, 200, "process_open_fds " },
		{ "/api/v1/summary", NULL, 200, "\"started_total\":50" },
		{ "/api/v1/summary", NULL, 200, "\"instance\":\"127.0.0.1:0\"" },
		{ "/api/v1/graphs", NULL, 200,
		    "{\"from\":\"InventoryReserved\",\"to\":\"OrderConfirmed\"" },
		{ "/api/v1/graphs", NULL, 200,
		    "\"instead_of\":[\"PaymentDeclined\"],\"within_seconds\":30" },
		{ "/api/v1/anomalies", NULL, 200, "{\"items\":[]}" },
		{ "/api/v1/flows", NULL, 200, "\"total\":42" },
		{ "/api/v1/flows?state=stalled", NULL, 200, "\"total\":8" },
		{ "/api/v1/flows?state=closed", NULL, 200, "\"total\":8" },
		{ "/api/v1/flows?state=all&limit=1&sort=correlation_id&order=asc", NULL, 200,
		    "\"total\":50,\"offset\":0,\"limit\":1,\"items\":[{\"flow\":\"order\","
		    "\"correlation_id\":\"o-000\"" },
		{ "/api/v1/flows?limit=1", NULL, 200, "\"correlation_id\":\"o-001\"" },
		{ "/api/v1/flows?limit=1&order=asc", NULL, 200, "\"correlation_id\":\"o-048\"" },
		{ "/api/v1/flows?limit=2&offset=1&sort=opened", NULL, 200,
		    "\"items\":[{\"flow\":\"order\",\"correlation_id\":\"o-047\"" },
		{ "/api/v1/flows?state=stalled&limit=1&sort=overdue", NULL, 200,
		    "\"stalled\":[{\"step\":\"InventoryReserved\",\"deadline\":\"2026-09-21T14:13:"
		    "35Z\",\"overdue_seconds\":85,\"owner\":null,\"owner_learned\":false}]" },
		{ "/api/v1/graphs", NULL, 200, "\"name\":\"RefundIssued\",\"start\":false" },
		{ "/api/v1/graphs", NULL, 200,
		    "\"stalled_now\":0,\"owner\":\"refund-service\",\"owner_learned\":false}" },
		{ "/api/v1/flows?awaiting=InventoryReserved", NULL, 200, "\"total\":8" },
		{ "/api/v1/flows?kind=stalled&flow=order", NULL, 200, "\"total\":8" },
		{ "/api/v1/flows?q=o-04&state=all", NULL, 200, "\"total\":10" },
		{ "/api/v1/flows?flow=refund", NULL, 200, "\"total\":0" },
		{ "/api/v1/flows/order/o-005", NULL, 200,
		    "\"status\":\"stalled\",\"expected_at\"" },
		{ "/api/v1/flows/order/o-005", NULL, 200, "\"attributes\":{\"k\":\"v\\\"q\"}" },
		{ "/api/v1/flows/order/o-007", NULL, 200, "\"outcome\":\"completed\"" },
		{ "/api/v1/flows/order/nope", NULL, 404, "\"status\":404" },
		{ "/api/v1/flows/nope/o-005", NULL, 404, "unknown flow" },
		{ "/api/v1/flows/order", NULL, 404, "\"error\"" },
		{ "/nope", NULL, 404, "{\"error\":\"no such path\",\"status\":404}" },
		{ "/api/v2/summary", NULL, 404, "\"status\":404" },
		{ "/api/v1/flows?state=weird", NULL, 400, "\"status\":400" },
		{ "/api/v1/flows?limit=0", NULL, 400, "limit" },
		{ "/api/v1/flows?limit=1001", NULL, 400, "limit" },
		{ "/api/v1/flows?limit=12abc", NULL, 400, "limit" },
		{ "/api/v1/flows?offset=-1", NULL, 400, "offset" },
		{ "/api/v1/flows?kind=bogus", NULL, 400, "kind" },
		{ "/api/v1/flows?flow=bogus", NULL, 400, "unknown flow" },
		{ "/api/v1/flows?bogus=1", NULL, 400, "unknown query parameter 'bogus'" },
		{ "/api/v1/summary?x=1", NULL, 400, "unknown query parameter" },
		{ "/api/v1/anomalies?limit=5000", NULL, 400, "limit" },
	};
	struct fake *f = start(NULL);
	run_cases(f, cs, sizeof(cs) / sizeof(cs[0]));
	stop(f);
}

/* The summary's and the graphs' flow objects come from a cache keyed by the values
 * they show (mx_flow.fp, left by metrics_render, and the rates): after every kind of
 * change the cached documents equal ones rendered without a cache. */
static void test_parts_cache_follows_changes(void **state)
{
	(void)state;
	struct metrics *m;
	char err[256];
	struct metrics_opts mo = { .graph = &fixture_graph, .version = "0.1.0" };
	assert_int_equal(metrics_new(&mo, &m, err, sizeof(err)), 0);
	int nf = fixture_graph.nflows;
	struct api_cache *c = api_cache_new(nf);
	size_t ends[8];
	double sps[8] = { 0 }, cps[8] = { 0 };
	struct api_self self = { .version = "v",
		.instance = "i",
		.clock = "wall",
		.started_per_s = sps,
		.completed_per_s = cps };
	struct jbuf mb, warm, cold;
	jbuf_init(&mb, 1 << 24);
	jbuf_init(&warm, 1 << 24);
	jbuf_init(&cold, 1 << 24);
	assert_non_null(c);
	assert_true(nf < 8);
	for (int k = 0; k < 8; k++) {
		struct mx_flow *mf = metrics_flow(m, k % nf);
		mf->used = 1;
		switch (k) {
		case 0: mf->in_flight = 4; break;
		case 1: mf->awaiting_now[0] = 2; break;
		case 2: sps[0] = 1.5; break;
		case 3: metrics_observe_step(m, 1, 1, 0.5, FG_BIT(0), NULL); break; /* an edge */
		case 4: mf->stalled_now[1] = 1; break;
		case 5: cps[1] = 2.5; break;
		case 6: metrics_observe_flow(m, 0, 0, 3.0); break;
		case 7: mf->oldest_stall_s[0] = 9; break;
		}
		assert_int_equal(metrics_render(m, &mb), 0);
		for (int d = 0; d < 2; d++) {
			if (d == 0) {
				api_render_summary(m, &self, &warm, ends, c);
				api_render_summary(m, &self, &cold, ends, NULL);
			} else {
				api_render_graphs(m, &warm, ends, c);
				api_render_graphs(m, &cold, ends, NULL);
			}
			if (strcmp(warm.p, cold.p) != 0)
				fail_msg("change %d, %s: cached %s\nfresh %s", k,
				    d ? "graphs" : "summary", warm.p, cold.p);
		}
	}
	jbuf_free(&mb);
	jbuf_free(&warm);
	jbuf_free(&cold);
	api_cache_free(c);
	metrics_free(m);
}

/* Occurrences of s in b. */
static int count_of(const char *b, const char *s)
{
	int n = 0;
	for (const char *p = b; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	return n;
}

/* The summary and the graphs in pages of flows (declaration order), or the one flow
 * named: the whole answer, so that a page holds exactly the flows it says. */
static void test_summary_graphs_pages(void **state)
{
	(void)state;
	static const struct {
		const char *path, *head;
		int nflows; /* flow objects in the answer */
	} cs[] = {
		{ "/api/v1/summary", "{\"collector\":{\"version\":\"0.1.0\"", 2 },
		{ "/api/v1/summary",
		    "\"total\":2,\"offset\":0,\"limit\":100,\"flows\":[{\"name\":\"order\"", 2 },
		{ "/api/v1/summary?limit=1",
		    "\"total\":2,\"offset\":0,\"limit\":1,\"flows\":[{\"name\":\"order\"", 1 },
		{ "/api/v1/summary?limit=1&offset=1",
		    "\"total\":2,\"offset\":1,\"limit\":1,\"flows\":[{\"name\":\"refund\"", 1 },
		{ "/api/v1/summary?offset=2",
		    "\"total\":2,\"offset\":2,\"limit\":100,\"flows\":[]}", 0 },
		{ "/api/v1/summary?flow=refund",
		    "\"total\":1,\"offset\":0,\"limit\":100,\"flows\":[{\"name\":\"refund\"", 1 },
		{ "/api/v1/summary?flow=refund&offset=1",
		    "\"total\":1,\"offset\":1,\"limit\":100,\"flows\":[]}", 0 },
		{ "/api/v1/graphs",
		    "{\"total\":2,\"offset\":0,\"limit\":100,\"flows\":[{\"name\":\"order\","
		    "\"deadline_seconds\"",
		    2 },
		{ "/api/v1/graphs?flow=order&limit=5",
		    "{\"total\":1,\"offset\":0,\"limit\":5,\"flows\":[{\"name\":\"order\"", 1 },
		{ "/api/v1/graphs?offset=1",
		    "{\"total\":2,\"offset\":1,\"limit\":100,\"flows\":[{\"name\":\"refund\"", 1 },
	};
	static const struct rcase bad[] = {
		{ "/api/v1/summary?flow=bogus", NULL, 400, "unknown flow" },
		{ "/api/v1/summary?limit=0", NULL, 400, "limit must be 1..1000" },
		{ "/api/v1/graphs?limit=1001", NULL, 400, "limit" },
		{ "/api/v1/graphs?offset=65536", NULL, 400, "offset" },
		{ "/api/v1/graphs?state=open", NULL, 400, "unknown query parameter 'state'" },
	};
	struct fake *f = start(NULL);
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct body b;
		assert_int_equal(get(f, cs[i].path, NULL, &b), 200);
		/* a flow object is the only place a "deadline_seconds" (graphs) or an
		 * "in_flight" (summary) key sits */
		int n = count_of(
		    b.p, strstr(cs[i].path, "graphs") ? "\"lateness_seconds\"" : "\"in_flight\"");
		if (strstr(b.p, cs[i].head) == NULL || n != cs[i].nflows ||
		    strcmp(b.p + b.n - 2, "]}") != 0)
			fail_msg("%s: got %s, want %s and %d flows (got %d)", cs[i].path, b.p,
			    cs[i].head, cs[i].nflows, n);
		free(b.p);
	}
	run_cases(f, bad, sizeof(bad) / sizeof(bad[0]));
	stop(f);
}

static void test_token(void **state)
{
	(void)state;
	static const struct rcase cs[] = {
		{ "/metrics", NULL, 401, "bearer token" },
		{ "/api/v1/summary", NULL, 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Bearer wrong", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Bearer s3cret-longer", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Basic czNjcmV0", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Bearer s3cret", 200, "\"flows\"" },
		{ "/api/v1/summary", "Authorization: bearer s3cret", 200, "\"flows\"" },
		{ "/api/v1/summary", "authorization: BEARER s3cret", 200, "\"flows\"" },
		{ "/api/v1/summary", "Authorization: bEaReR   s3cret", 200, "\"flows\"" },
		{ "/api/v1/summary", "Authorization: Bearers3cret", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Bearer", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Bearer s3cre", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: Bearer S3CRET", 401, "\"status\":401" },
		{ "/api/v1/summary", "Authorization: s3cret", 401, "\"status\":401" },
		{ "/api/v1/summary", "Host: evil.example", 401, "\"status\":401" },
		{ "/metrics", "Authorization: Bearer s3cret", 200, "choreoscope_build_info" },
		{ "/-/healthy", NULL, 200, "ok" },
		{ "/", NULL, 200,
		    "\"path\":\"/api/v1/summary\",\"methods\":[\"GET\",\"HEAD\"],\"token\":true" },
	};
	struct fake *f = start("s3cret");
	run_cases(f, cs, sizeof(cs) / sizeof(cs[0]));
	stop(f);
	setenv("CHOREOSCOPE_TOKEN", "fromenv", 1);
	static const struct rcase ce[] = {
		{ "/metrics", "Authorization: Bearer s3cret", 401, "bearer" },
		{ "/metrics", "Authorization: Bearer fromenv", 200, "choreoscope_ready 1" },
	};
	f = start(NULL);
	run_cases(f, ce, sizeof(ce) / sizeof(ce[0]));
	stop(f);
	unsetenv("CHOREOSCOPE_TOKEN");
}

/* No token: /metrics and /api/ answer only IP literals, localhost names and the
 * allowed names as Host (DNS rebinding); with a token any Host is fine. */
static void test_host(void **state)
{
	(void)state;
	static const char *const hosts[] = { "collector-1", "Metrics.Example.COM" };
	static const struct rcase cs[] = {
		{ "/api/v1/summary", "Host: 127.0.0.1:9717", 200, "\"flows\"" },
		{ "/api/v1/summary", "Host: 10.1.2.3", 200, "\"flows\"" },
		{ "/api/v1/summary", "Host: [::1]:9717", 200, "\"flows\"" },
		{ "/api/v1/summary", "Host: localhost:9717", 200, "\"flows\"" },
		{ "/api/v1/summary", "Host: LocalHost", 200, "\"flows\"" },
		{ "/api/v1/summary", "Host: localhost.", 200, "\"flows\"" },
		{ "/api/v1/summary", "Host: tui.localhost:9717", 200, "\"flows\"" },
		{ "/metrics", "Host: collector-1:9717", 200, "choreoscope_ready" },
		{ "/metrics", "Host: metrics.example.com", 200, "choreoscope_ready" },
		{ "/api/v1/summary", "Host: evil.example", 421, "http.allowed_hosts" },
		{ "/metrics", "Host: evil.example:9717", 421, "\"status\":421" },
		{ "/api/v1/flows", "Host: localhost.evil.example", 421, "\"status\":421" },
		{ "/api/v1/flows", "Host: 127.0.0.1.nip.io", 421, "\"status\":421" },
		{ "/api/v1/flows", "Host: collector-10", 421, "\"status\":421" },
		{ "/api/v1/flows", "Host: [::1", 421, "\"status\":421" },
		{ "/api/v1/flows", "Host: a b", 421, "\"status\":421" },
		{ "/-/healthy", "Host: evil.example", 200, "ok" },
		{ "/-/ready", "Host: evil.example", 200, "ok" },
	};
	extra = (struct http_api_opts){ .allowed_hosts = hosts, .nallowed_hosts = 2 };
	struct fake *f = start(NULL);
	run_cases(f, cs, sizeof(cs) / sizeof(cs[0]));
	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	metrics_render_process(f->m, &b);
	assert_non_null(strstr(b.p, "choreoscope_http_requests_total{code=\"421\"} 7\n"));
	jbuf_free(&b);
	stop(f);
	static const struct rcase ct[] = {
		{ "/api/v1/summary", "Host: evil.example", 401, "\"status\":401" },
	};
	f = start("tok");
	run_cases(f, ct, 1);
	stop(f);
	extra = (struct http_api_opts){ 0 };
}

static int raw_connect(struct fake *f)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)http_api_port(f->a)) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A connection the server holds: it has sent the start of a request whose headers never
 * end. (A silent one stays in the kernel's accept queue under TCP_DEFER_ACCEPT and never
 * reaches http_guard; test_guard checks that too.) */
static int partial_connect(struct fake *f)
{
	int fd = raw_connect(f);
	assert_true(write(fd, "GET /metrics HTTP/1.1\r\n", 23) == 23);
	return fd;
}

/* Until the server closes fd (read returns 0 or an error), at most 5 s: true if so. */
static bool closed_by_server(int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	char buf[256];
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = read(fd, buf, sizeof(buf));
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* http_guard through the server: the header deadline; a newcomer over the
 * per-address cap evicts the oldest waiting connection; with none old enough it is
 * on probation: probes answered, API requests 503. */
static void test_guard(void **state)
{
	(void)state;
	/* header deadline 150 ms: a request whose headers never end is cut */
	extra = (struct http_api_opts){ .header_timeout_ms = 150, .timeout_s = 30 };
	struct fake *f = start(NULL);
	int fd = raw_connect(f);
	assert_true(write(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n", 33) == 33);
	assert_true(closed_by_server(fd));
	close(fd);
	struct body b;
	assert_int_equal(get(f, "/metrics", NULL, &b), 200);
	assert_non_null(strstr(
	    b.p, "choreoscope_http_connections_closed_total{reason=\"header_timeout\"} 1\n"));
	free(b.p);
	stop(f);

	/* cap 4 per address, grace 1 ms: the fifth connection evicts the oldest idle one */
	extra = (struct http_api_opts){ .max_per_address = 4, .evict_grace_ms = 1 };
	f = start(NULL);
	int idle[4];
	for (int i = 0; i < 4; i++)
		idle[i] = partial_connect(f);
	struct timespec ts = { 0, 20 * 1000000 };
	nanosleep(&ts, NULL);
	assert_int_equal(get(f, "/api/v1/summary", NULL, &b), 200);
	free(b.p);
	assert_true(closed_by_server(idle[0]));
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	stop(f);

	/* cap 4 per address, grace 60 s: nothing to evict, the newcomer is on probation */
	extra = (struct http_api_opts){ .max_per_address = 4, .evict_grace_ms = 60000 };
	f = start(NULL);
	/* four silent connections are deferred by the kernel: no probation */
	for (int i = 0; i < 4; i++)
		idle[i] = raw_connect(f);
	nanosleep(&ts, NULL);
	assert_int_equal(get(f, "/api/v1/summary", NULL, &b), 200);
	free(b.p);
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	stop(f);
	/* (a closed deferred connection is accepted at its FIN: a fresh server below) */
	extra = (struct http_api_opts){ .max_per_address = 4, .evict_grace_ms = 60000 };
	f = start(NULL);
	for (int i = 0; i < 4; i++)
		idle[i] = partial_connect(f);
	nanosleep(&ts, NULL);
	assert_int_equal(get(f, "/-/healthy", NULL, &b), 200);
	free(b.p);
	/* the previous request's connection is torn down after its answer arrived: until
	 * then it still counts as busy (a loaded machine sees it), so ask again a while */
	for (int tries = 0;; tries++) {
		assert_int_equal(get(f, "/metrics", NULL, &b), 200);
		if (strstr(b.p, "choreoscope_http_connections{state=\"busy\"} 1\n") || tries == 100)
			break;
		free(b.p);
		nanosleep(&ts, NULL);
	}
	assert_non_null(strstr(b.p, "choreoscope_http_connections{state=\"busy\"} 1\n"));
	assert_non_null(
	    strstr(b.p, "choreoscope_http_connections_closed_total{reason=\"evicted\"} 0\n"));
	free(b.p);
	assert_int_equal(get(f, "/api/v1/summary", NULL, &b), 503);
	assert_non_null(strstr(b.p, "too many API requests"));
	free(b.p);
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	stop(f);
	extra = (struct http_api_opts){ 0 };
}

/* Methods, bodies, oversized headers: JSON 4xx, and the engine loop keeps going. */
static void test_bad_requests(void **state)
{
	(void)state;
	struct fake *f = start(NULL);
	struct body b = { 0 };
	struct curl_slist *hl;
	long code;
	CURL *c = req(f, "/api/v1/summary", NULL, &b, &hl);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 405);
	assert_non_null(strstr(b.p, "\"status\":405"));
	curl_easy_cleanup(c);
	free(b.p);
	memset(&b, 0, sizeof(b));
	c = req(f, "/api/v1/summary", NULL, &b, &hl);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"a\":1}");
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 413);
	assert_non_null(strstr(b.p, "\"status\":413"));
	curl_easy_cleanup(c);
	free(b.p);
	/* headers over the limit: 431 in JSON */
	char *big = malloc(12000);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', 12000 - 8);
	big[11999] = '\0';
	code = get(f, "/api/v1/summary", big, &b);
	assert_int_equal(code, 431);
	assert_non_null(strstr(b.p, "\"status\":431"));
	free(b.p);
	free(big);
	/* a long URL */
	char path[9000] = "/api/v1/flows?q=";
	memset(path + 16, 'x', 8500);
	path[8516] = '\0';
	code = get(f, path, NULL, &b);
	assert_int_equal(code, 431);
	free(b.p);
	unsigned long before = atomic_load(&f->loops);
	code = get(f, "/-/healthy", NULL, &b);
	assert_int_equal(code, 200);
	free(b.p);
	assert_true(atomic_load(&f->loops) >= before);
	stop(f);
}

/* Raw bytes that are not HTTP: a 4xx status line, never a crash. */
static void test_malformed(void **state)
{
	(void)state;
	static const char *const junk[] = { "GARBAGE\r\n\r\n", "GET\r\n\r\n",
		"GET /metrics HTTP/9.9\r\n\r\n", "\x01\x02\x03\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n" };
	struct fake *f = start(NULL);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET,
			.sin_port = htons((uint16_t)http_api_port(f->a)) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_true(write(fd, junk[i], strlen(junk[i])) > 0);
		char buf[512] = "";
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue; /* closed without an answer is also acceptable */
		buf[n] = '\0';
		if (strncmp(buf, "HTTP/1.", 7) != 0 || (buf[9] != '4' && buf[9] != '5'))
			fail_msg("junk %zu: answered %.40s", i, buf);
	}
	struct body b;
	assert_int_equal(get(f, "/-/healthy", NULL, &b), 200);
	free(b.p);
	stop(f);
}

/* 100 clients at once on flows queries and /metrics: every one answered, all 200. */
static void test_concurrent_clients(void **state)
{
	(void)state;
	enum { N = 100 };
	struct fake *f = start(NULL);
	CURLM *mh = curl_multi_init();
	CURL *hs[N];
	struct body bs[N];
	struct curl_slist *hl;
	for (int i = 0; i < N; i++) {
		memset(&bs[i], 0, sizeof(bs[i]));
		hs[i] = req(
		    f, i % 2 ? "/metrics" : "/api/v1/flows?state=all&limit=5", NULL, &bs[i], &hl);
		curl_multi_add_handle(mh, hs[i]);
	}
	int running = 1;
	while (running) {
		curl_multi_perform(mh, &running);
		curl_multi_poll(mh, NULL, 0, 100, NULL);
	}
	int ok = 0;
	for (int i = 0; i < N; i++) {
		long code = 0;
		curl_easy_getinfo(hs[i], CURLINFO_RESPONSE_CODE, &code);
		if (code == 200 && bs[i].p &&
		    (strstr(bs[i].p, "\"total\":50") || strstr(bs[i].p, "choreoscope_build_info")))
			ok++;
		curl_multi_remove_handle(mh, hs[i]);
		curl_easy_cleanup(hs[i]);
		free(bs[i].p);
	}
	curl_multi_cleanup(mh);
	assert_int_equal(ok, N);
	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	metrics_render_process(f->m, &b);
	assert_non_null(strstr(b.p, "choreoscope_http_requests_total{code=\"200\"} 10"));
	jbuf_free(&b);
	stop(f);
}

/* Bind errors name where the address came from (the flag or the config key). */
static void test_listen_errors(void **state)
{
	(void)state;
	struct metrics *m;
	char err[256];
	struct metrics_opts mo = { .graph = &fixture_graph };
	assert_int_equal(metrics_new(&mo, &m, err, sizeof(err)), 0);
	struct fake *f = start(NULL);
	char spec[64];
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", http_api_port(f->a));
	static const char *const from[] = { NULL, "--listen", "http.listen" };
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		struct cfg_listen l;
		assert_int_equal(config_parse_listen(spec, &l, err, sizeof(err)), 0);
		struct http_api *a = NULL;
		struct http_api_opts o = { .listen = &l, .listen_from = from[i] };
		char want[128];
		snprintf(want, sizeof(want), "%s %s: Address already in use",
		    from[i] ? from[i] : "--listen", spec);
		err[0] = '\0';
		assert_int_equal(http_api_new(&o, m, &a, err, sizeof(err)), -1);
		assert_string_equal(err, want);
	}
	stop(f);
	metrics_free(m);
}

/* HTTPS (http.tls_cert_file/http.tls_key_file): served over TLS with a certificate made
 * here by openssl; plain HTTP to the same port gets no answer; a key that is not the
 * certificate's, or a file that is not PEM, is refused at start with its name. */
static int sh(const char *fmt, const char *dir)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), fmt, dir, dir, dir, dir, dir, dir, dir, dir);
	return system(cmd);
}

static void test_https(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_http_tlsXXXXXX", err[512], crt[128], key[128], other[128], ca[128];
	assert_non_null(mkdtemp(dir));
	assert_int_equal(
	    sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
	       "-subj /CN=testca -keyout ca.key -out ca.crt -addext "
	       "basicConstraints=critical,CA:TRUE "
	       ">log 2>&1 && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout s.key "
	       "-out s.csr >>log 2>&1 && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' "
	       ">s.ext && "
	       "openssl x509 -req -in s.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 "
	       "-extfile s.ext -out s.crt >>log 2>&1 && openssl genpkey -algorithm RSA "
	       "-out other.key >>log 2>&1",
		dir),
	    0);
	snprintf(crt, sizeof(crt), "%s/s.crt", dir);
	snprintf(key, sizeof(key), "%s/s.key", dir);
	snprintf(other, sizeof(other), "%s/other.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);

	struct metrics *m;
	struct metrics_opts mo = { .graph = &fixture_graph };
	assert_int_equal(metrics_new(&mo, &m, err, sizeof(err)), 0);
	struct cfg_listen l;
	assert_int_equal(config_parse_listen("127.0.0.1:0", &l, err, sizeof(err)), 0);
	struct http_api *a = NULL;
	struct http_api_opts o = { .listen = &l, .tls_cert_file = crt, .tls_key_file = key };
	assert_int_equal(MHD_is_feature_supported(MHD_FEATURE_TLS), MHD_YES);
	if (http_api_new(&o, m, &a, err, sizeof(err)) != 0)
		fail_msg("https start: %s", err);

	char url[128];
	long code = 0;
	struct body b = { 0 };
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/-/healthy", http_api_port(a));
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);
	curl_easy_cleanup(c);
	free(b.p);
	/* without the CA: the client refuses the certificate */
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, other); /* a file with no CA in it */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_not_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	/* plain HTTP to the TLS port: no HTTP answer, and the server still serves after */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/healthy", http_api_port(a));
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	CURLcode rc = curl_easy_perform(c);
	code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_true(rc != CURLE_OK || code != 200);
	curl_easy_cleanup(c);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/-/healthy", http_api_port(a));
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	memset(&b, 0, sizeof(b));
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	free(b.p);
	http_api_free(a);

	/* the wrong key; not PEM; only one of the two */
	struct http_api_opts bad[] = {
		{ .listen = &l, .tls_cert_file = crt, .tls_key_file = other },
		{ .listen = &l, .tls_cert_file = crt, .tls_key_file = "/dev/null" },
		{ .listen = &l, .tls_cert_file = crt },
	};
	static const char *const want[] = { "not the key of http.tls_cert_file",
		"http.tls_key_file /dev/null: not a PEM file", "go together" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = NULL;
		err[0] = '\0';
		assert_int_equal(http_api_new(&bad[i], m, &a, err, sizeof(err)), -1);
		if (strstr(err, want[i]) == NULL)
			fail_msg("case %zu: %s", i, err);
	}
	metrics_free(m);
	sh("rm -rf %s", dir);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_summary_graphs_pages),
		cmocka_unit_test(test_parts_cache_follows_changes),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_concurrent_clients),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_https),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
