/*
 * test_config: the YAML loader. Table-driven: valid configs and the exact masks,
 * durations and outcomes they give; durations; one broken config per problem
 * kind with the exact "file:line:col: message" expected; a config with many
 * problems that must all be listed; defaults; the reference in docs/config.md.
 * Run from the repository root (tests/run.sh does), for the fixtures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "config/config.h"

#define S 1000000000LL
#define FIXTURES "tests/fixtures/config/"
#define F "flows:\n  - name: f\n    steps:\n" /* steps start at line 4, column 7 */
#define OK_STEPS "      A: { start: true }\n      B: { after: A, end: true }\n"

static struct config *load_ok(const char *yaml)
{
	char err[8192];
	struct config *c = NULL;
	int rc = config_load_string("t.yaml", yaml, strlen(yaml), &c, err, sizeof err);
	if (rc != 0)
		fail_msg("expected a valid config, got:\n%s", err);
	assert_non_null(c);
	return c;
}

static int nlines(const char *s)
{
	int n = s[0] != '\0';
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- valid configs: every field of every step ---- */

struct step_want {
	const char *flow, *step;
	fg_mask after, after_any, alts, succ;
	int64_t within, join_within;
	const char *outcome; /* NULL: not an end */
	uint32_t retries;
	bool start, optional;
	const char *key;
	int line, col;
};

static const struct step_want demo_steps[] = {
	{ "order", "OrderPlaced", 0, 0, 0, 0x06, -1, -1, NULL, 0, true, false, NULL, 8, 7 },
	{ "order", "PaymentAuthorized", 0x01, 0, 0x04, 0x38, 30 * S, -1, NULL, 3, false, false,
	    NULL, 9, 7 },
	{ "order", "PaymentDeclined", 0x01, 0, 0x02, 0x80, 30 * S, -1, NULL, 0, false, false, NULL,
	    10, 7 },
	{ "order", "PaymentCaptured", 0x02, 0, 0, 0, -1, -1, NULL, 0, false, false, "payment_id",
	    11, 7 },
	{ "order", "InventoryReserved", 0x02, 0, 0, 0x40, 10 * S, -1, NULL, 0, false, false, NULL,
	    12, 7 },
	{ "order", "ShippingQuoted", 0, 0x02, 0, 0x40, 10 * S, -1, NULL, 0, false, true, NULL, 13,
	    7 },
	{ "order", "OrderConfirmed", 0x30, 0, 0, 0, 5 * S, 3 * S, "completed", 0, false, false,
	    NULL, 14, 7 },
	{ "order", "OrderCancelled", 0x04, 0, 0, 0, 30 * S, -1, "compensated", 0, false, false,
	    NULL, 15, 7 },
	{ "shipment", "ShipmentCreated", 0, 0, 0, 0x06, -1, -1, NULL, 0, true, false, NULL, 20, 7 },
	{ "shipment", "Delivered", 0x01, 0, 0, 0, 5400 * S, -1, NULL, 0, false, false, NULL, 21,
	    7 },
	{ "shipment", "Invoiced", 0x01, 0, 0, 0, 1500000000LL, -1, NULL, 0, false, false, NULL, 22,
	    7 },
};

static void test_demo_steps(void **state)
{
	(void)state;
	char err[4096];
	struct config *c;
	int rc = config_load(FIXTURES "demo.yaml", &c, err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof demo_steps / sizeof demo_steps[0]; i++) {
		const struct step_want *w = &demo_steps[i];
		int fi = fg_flow_index(&c->graph, w->flow);
		assert_true(fi >= 0);
		const struct fg_flow *f = &c->graph.flows[fi];
		int si = fg_step_index(f, w->step);
		assert_true(si >= 0);
		const struct fg_step *st = &f->steps[si];
		assert_string_equal(st->name, w->step);
		assert_int_equal(st->after, w->after);
		assert_int_equal(st->after_any, w->after_any);
		assert_int_equal(st->alts, w->alts);
		assert_int_equal(st->succ, w->succ);
		assert_int_equal(st->within_ns, w->within);
		assert_int_equal(st->join_within_ns, w->join_within);
		if (w->outcome == NULL)
			assert_int_equal(st->outcome, -1);
		else
			assert_string_equal(f->outcomes[st->outcome], w->outcome);
		assert_int_equal(st->retries, w->retries);
		assert_int_equal(st->start, w->start);
		assert_int_equal(st->optional, w->optional);
		if (w->key == NULL)
			assert_null(st->key_attr);
		else
			assert_string_equal(st->key_attr, w->key);
		assert_int_equal(st->line, w->line);
		assert_int_equal(st->col, w->col);
	}
	config_free(c);
}

static void test_demo_flows_and_settings(void **state)
{
	(void)state;
	char err[4096];
	struct config *c;
	assert_int_equal(config_load(FIXTURES "demo.yaml", &c, err, sizeof err), 0);
	assert_string_equal(c->path, FIXTURES "demo.yaml");
	assert_int_equal(c->graph.nflows, 2);
	const struct fg_flow *o = &c->graph.flows[0], *s = &c->graph.flows[1];
	assert_int_equal(o->nsteps, 8);
	assert_int_equal(o->deadline_ns, 600 * S);
	assert_int_equal(o->lateness_ns, 5 * S);
	assert_int_equal(o->complete_when, 0);
	assert_int_equal(o->noutcomes, 2);
	assert_string_equal(o->outcomes[0], "completed");
	assert_string_equal(o->outcomes[1], "compensated");
	assert_int_equal(o->nkeys, 2);
	assert_string_equal(o->keys[0], "order_id");
	assert_string_equal(o->keys[1], "payment_id");
	assert_int_equal(o->line, 3);
	assert_int_equal(s->deadline_ns, FG_NO_DEADLINE);
	assert_int_equal(s->lateness_ns, 0);
	assert_int_equal(s->complete_when, 0x06);
	assert_int_equal(s->noutcomes, 0);
	assert_int_equal(c->max_flows, 250000);
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_string_equal(c->kafka.brokers, "localhost:9092");
	assert_string_equal(c->kafka.group_id, "choreoscope-demo");
	assert_int_equal(c->kafka.ntopics, 2);
	assert_string_equal(c->kafka.topics[1], "payments");
	assert_int_equal(c->kafka.format, CFG_FORMAT_CLOUDEVENTS);
	assert_int_equal(c->kafka.ncorrelation_from, 5);
	assert_string_equal(c->kafka.correlation_from[1], "header:x-correlation-id");
	assert_int_equal(c->kafka.corr_sources[1].kind, CFG_CORR_HEADER);
	assert_string_equal(c->kafka.corr_sources[1].arg, "x-correlation-id");
	assert_string_equal(c->kafka.alert_topic, "choreoscope.alerts");
	assert_int_equal(c->kafka.alert_format, CFG_ALERT_PROTOBUF);
	assert_null(c->kafka.dead_letter_topic);
	assert_int_equal(c->kafka.nprops, 3);
	assert_string_equal(c->kafka.prop_keys[0], "security.protocol");
	assert_string_equal(c->kafka.prop_vals[0], "SASL_SSL");
	assert_string_equal(c->kafka.prop_vals[2], "50");
	assert_string_equal(c->json.event_id, "id");
	assert_string_equal(c->json.correlation_id, "meta.correlation");
	assert_string_equal(c->json.attributes, "attributes");
	assert_string_equal(c->http.listen.spec, "[::1]:9800");
	assert_int_equal(c->http.listen.addr.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&c->http.listen.addr)->sin6_port), 9800);
	assert_string_equal(c->http.token, "s3cret");
	assert_int_equal(c->metrics.nlatency_buckets, 5);
	assert_true(c->metrics.latency_buckets[0] == 0.001);
	assert_int_equal(c->metrics.nduration_buckets, 3);
	assert_true(c->metrics.duration_buckets[2] == 3600);
	config_free(c);
}

/* A config with only flows is valid, and every other setting has its default. */
static void test_defaults(void **state)
{
	(void)state;
	struct config *c = load_ok("flows:\n  - name: f\n    steps:\n"
				   "      A: { start: true }\n      B: { after: A, end: true }\n");
	const struct fg_flow *f = &c->graph.flows[0];
	assert_int_equal(f->deadline_ns, FG_NO_DEADLINE);
	assert_int_equal(f->lateness_ns, FG_DEFAULT_LATENESS_NS);
	assert_int_equal(f->nkeys, 0);
	assert_int_equal(f->noutcomes, 1);
	assert_string_equal(f->outcomes[0], "completed");
	assert_int_equal(f->steps[1].outcome, 0);
	assert_int_equal(f->steps[1].within_ns, FG_NO_DEADLINE);
	assert_int_equal(f->steps[1].join_within_ns, FG_NO_DEADLINE);
	assert_int_equal(c->max_flows, 1000000);
	assert_int_equal(c->limits.max_message_bytes, 1048576);
	assert_int_equal(c->limits.max_depth, 64);
	assert_int_equal(c->limits.max_attributes, 32);
	assert_int_equal(c->limits.max_attribute_bytes, 4096);
	assert_int_equal(c->limits.max_headers, 32);
	assert_int_equal(c->http.max_request_bytes, 8192);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_null(c->kafka.brokers);
	assert_string_equal(c->kafka.group_id, "choreoscope");
	assert_int_equal(c->kafka.ntopics, 0);
	assert_int_equal(c->kafka.format, CFG_FORMAT_AUTO);
	static const char *corr[] = { "ce_correlationid", "field:correlation_id", "key",
		"traceparent" };
	assert_int_equal(c->kafka.ncorrelation_from, 4);
	static const enum cfg_corr_kind kinds[] = { CFG_CORR_CE, CFG_CORR_FIELD, CFG_CORR_KEY,
		CFG_CORR_TRACEPARENT };
	for (int i = 0; i < 4; i++) {
		assert_string_equal(c->kafka.correlation_from[i], corr[i]);
		assert_int_equal(c->kafka.corr_sources[i].kind, kinds[i]);
	}
	assert_string_equal(c->kafka.corr_sources[1].arg, "correlation_id");
	assert_null(c->kafka.corr_sources[0].arg);
	assert_null(c->kafka.alert_topic);
	assert_int_equal(c->kafka.alert_format, CFG_ALERT_JSON);
	assert_null(c->kafka.dead_letter_topic);
	assert_int_equal(c->kafka.nprops, 0);
	assert_string_equal(c->json.event_id, "event_id");
	assert_string_equal(c->json.correlation_id, "correlation_id");
	assert_string_equal(c->json.type, "type");
	assert_string_equal(c->json.source, "source");
	assert_string_equal(c->json.time, "time");
	assert_string_equal(c->json.flow, "flow");
	assert_string_equal(c->json.causation_id, "causation_id");
	assert_string_equal(c->json.attributes, "attributes");
	assert_string_equal(c->http.listen.spec, "127.0.0.1:9717");
	assert_int_equal(c->http.nallowed_hosts, 0);
	assert_int_equal(c->http.max_connections, 256);
	assert_int_equal(c->http.max_connections_per_address, 128);
	assert_int_equal(c->http.header_timeout_ns, 10 * S);
	assert_null(c->http.token);
	static const double lat[] = { 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300 };
	static const double dur[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600 };
	assert_int_equal(c->metrics.nlatency_buckets, 11);
	assert_int_equal(c->metrics.nduration_buckets, 11);
	for (int i = 0; i < 11; i++) {
		assert_true(c->metrics.latency_buckets[i] == lat[i]);
		assert_true(c->metrics.duration_buckets[i] == dur[i]);
	}
	assert_null(c->history.dir);
	assert_true(c->history.enabled);
	assert_int_equal(c->history.retention_ns, 168 * 3600 * S);
	assert_int_equal(c->history.max_bytes, 1073741824);
	assert_int_equal(c->history.queue, 65536);
	assert_int_equal(c->history.max_attr_bytes, 4096);
	assert_int_equal(c->history.timeline_bytes, 33554432);
	config_free(c);
	c = load_ok(
	    "flows:\n  - name: f\n    steps:\n"
	    "      A: { start: true }\n      B: { after: A, end: true }\n"
	    "history: { dir: /var/lib/c, enabled: false, retention: 1h, max_bytes: 1000 }\n");
	assert_string_equal(c->history.dir, "/var/lib/c");
	assert_false(c->history.enabled);
	assert_int_equal(c->history.retention_ns, 3600 * S);
	assert_int_equal(c->history.max_bytes, 1000);
	config_free(c);
}

/* Small graphs, one property each: the masks the loader derives. */
struct graph_case {
	const char *what, *cw, *steps;
	int nsteps;
	fg_mask alts[4], succ[4], complete_when;
	int outcome[4];
	int noutcomes, nkeys;
};

static const struct graph_case graph_cases[] = {
	{ "instead_of is made symmetric, not transitive", NULL,
	    "      A: { start: true }\n      B: { after: A, end: ok }\n"
	    "      C: { after: A, instead_of: B, end: ok }\n"
	    "      D: { after: A, instead_of: [C], end: other }\n",
	    4, { 0, 0x4, 0xa, 0x4 }, { 0xe, 0, 0, 0 }, 0, { -1, 0, 0, 1 }, 2, 0 },
	{ "complete_when closes parallel branches; end: false is not an end", "[B, C]",
	    "      A: { start: true }\n      B: { after: [A], end: false }\n"
	    "      C: { after_any: [A] }\n",
	    3, { 0 }, { 0x6, 0, 0 }, 0x6, { -1, -1, -1 }, 0, 0 },
	{ "a reachable cycle with a way out is fine; keys collect step keys", NULL,
	    "      A: { start: true, key: order_id }\n"
	    "      B: { after_any: [A, C], key: pay_id }\n"
	    "      C: { after: B, key: order_id }\n      D: { after: B, end: done }\n",
	    4, { 0 }, { 0x2, 0xc, 0x2, 0 }, 0, { -1, -1, -1, 0 }, 1, 2 },
	{ "a leaf that leads to no end is a side branch, not an error", NULL,
	    "      A: { start: true }\n      Audit: { after: A, optional: true }\n"
	    "      B: { after: A, end: true }\n",
	    3, { 0 }, { 0x6, 0, 0 }, 0, { -1, -1, 0 }, 1, 0 },
};

static void test_graph_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof graph_cases / sizeof graph_cases[0]; i++) {
		const struct graph_case *g = &graph_cases[i];
		char yaml[2048];
		snprintf(yaml, sizeof yaml, "flows:\n  - name: f\n%s%s%s    steps:\n%s",
		    g->cw ? "    complete_when: " : "", g->cw ? g->cw : "", g->cw ? "\n" : "",
		    g->steps);
		struct config *c = load_ok(yaml);
		const struct fg_flow *f = &c->graph.flows[0];
		print_message("graph case: %s\n", g->what);
		assert_int_equal(f->nsteps, g->nsteps);
		for (int k = 0; k < g->nsteps; k++) {
			assert_int_equal(f->steps[k].alts, g->alts[k]);
			assert_int_equal(f->steps[k].succ, g->succ[k]);
			assert_int_equal(f->steps[k].outcome, g->outcome[k]);
		}
		assert_int_equal(f->complete_when, g->complete_when);
		assert_int_equal(f->noutcomes, g->noutcomes);
		assert_int_equal(f->nkeys, g->nkeys);
		config_free(c);
	}
}

/* YAML anchors, aliases and merge keys share settings; a step's own keys win. */
static void test_merge_keys(void **state)
{
	(void)state;
	struct config *c = load_ok(F "      A: { start: true }\n"
				     "      B: &b { after: A, within: 5s, retries: 2 }\n"
				     "      C: { within: 7s, <<: *b, end: true }\n"
				     "      D: { <<: [*b, { optional: true }], end: true }\n"
				     "      E: *b\n");
	const struct fg_flow *f = &c->graph.flows[0];
	assert_int_equal(f->steps[2].within_ns, 7 * S);
	assert_int_equal(f->steps[2].retries, 2);
	assert_int_equal(f->steps[2].after, 0x1);
	assert_int_equal(f->steps[3].within_ns, 5 * S);
	assert_true(f->steps[3].optional);
	assert_int_equal(f->steps[4].retries, 2);
	assert_int_equal(f->steps[0].succ, 0x1e);
	config_free(c);
}

/* Aliases of aliases through merge keys (a fuzz finding: 1.5 KB took minutes): the
 * load fails with one error once CFG_MAX_MERGES mappings were merged. 20 merges of the
 * level below on each of 8 levels would be 20^8 walks. */
static void test_merge_fanout(void **state)
{
	(void)state;
	char yaml[4096], err[8192];
	int n = snprintf(yaml, sizeof yaml, F OK_STEPS "x0: &a0 { brokers: b }\n");
	for (int i = 1; i <= 8; i++) {
		n += snprintf(yaml + n, sizeof yaml - (size_t)n, "x%d: &a%d {", i, i);
		for (int j = 0; j < 20; j++)
			n += snprintf(
			    yaml + n, sizeof yaml - (size_t)n, "%s<<: *a%d", j ? ", " : " ", i - 1);
		n += snprintf(yaml + n, sizeof yaml - (size_t)n, " }\n");
	}
	snprintf(yaml + n, sizeof yaml - (size_t)n, "kafka:\n  <<: *a8\n");
	struct config *c = NULL;
	assert_int_equal(config_load_string("t.yaml", yaml, strlen(yaml), &c, err, sizeof err), -1);
	assert_null(c);
	const char *m = strstr(err, "merge keys (<<) expand to more than 10000 mappings");
	assert_non_null(m);
	assert_null(strstr(m + 1, "merge keys (<<) expand"));
}

/* ---- hostile configs: each refused with a clear file:line:col error, quickly ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Writes the classic "billion laughs" ladder: l0 a list of ten `leaf`, each next level
 * ten aliases of the one below, up to l8 (10^9 leaves if expanded). */
static size_t laughs(char *buf, size_t cap, const char *leaf)
{
	size_t n = (size_t)snprintf(buf, cap, "l0: &l0 [%s", leaf);
	for (int j = 1; j < 10; j++)
		n += (size_t)snprintf(buf + n, cap - n, ", %s", leaf);
	n += (size_t)snprintf(buf + n, cap - n, "]\n");
	for (int i = 1; i <= 8; i++) {
		n += (size_t)snprintf(buf + n, cap - n, "l%d: &l%d [*l%d", i, i, i - 1);
		for (int j = 1; j < 10; j++)
			n += (size_t)snprintf(buf + n, cap - n, ", *l%d", i - 1);
		n += (size_t)snprintf(buf + n, cap - n, "]\n");
	}
	return n;
}

/* The same alias used at many places: a 20,000-name list as `after` of 63 steps would
 * be 1.26 M names to resolve in a 60 KB file. The work is the list's length times its
 * uses: a 100,000-name list used 63 times (0.6 MB) took 0.3 s; 16 MB split between a
 * list and its uses in many flows could ask for 10^12. */
static size_t wide_after(char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "x: &l [S0");
	for (int i = 1; i < 20000; i++)
		n += (size_t)snprintf(buf + n, cap - n, ",S0");
	n += (size_t)snprintf(buf + n, cap - n, "]\n" F "      S0: { start: true }\n");
	for (int i = 1; i < 63; i++)
		n += (size_t)snprintf(buf + n, cap - n, "      S%d: { after: *l }\n", i);
	n += (size_t)snprintf(buf + n, cap - n, "      S63: { after: *l, end: true }\n");
	return n;
}

/* 2000 unknown keys: each is a problem, and finding duplicates scans the mapping; the
 * check stops at CFG_MAX_PROBLEMS (100,000 keys took 64 s before it did). */
static size_t many_keys(char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, F OK_STEPS);
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "k%d: 1\n", i);
	return n;
}

/* Nesting: `[` x 100,000 as flow lists (libyaml's scanner takes the square of the
 * depth: 80,000 took 33 s) or 70 block mappings. */
static size_t deep(char *buf, size_t cap, int block)
{
	size_t n = (size_t)snprintf(buf, cap, F OK_STEPS "kafka: ");
	for (int i = 0; i < (block ? 70 : 100000); i++)
		n += (size_t)snprintf(
		    buf + n, cap - n, block ? "\n%*sk:" : "[", block ? 2 * i + 2 : 0, "");
	n += (size_t)snprintf(buf + n, cap - n, block ? " 1\n" : "");
	for (int i = 0; !block && i < 100000; i++)
		buf[n++] = ']';
	buf[n++] = '\n';
	return n;
}

/* Each refused with its error, and in bounded time: 3 s is loose on purpose (ASan on a
 * loaded 2-core machine took 2 s for the alias budget's million values; release takes
 * 10-100 ms per case), the unbounded versions took from a minute to hours. */
static void test_hostile_configs(void **state)
{
	(void)state;
	static char yaml[1 << 20], err[1 << 17];
	static const struct {
		int kind;         /* 0 laughs as topics, 1 laughs as after, 2 wide, 3 many keys,
		                      4 deep flow lists, 5 deep block mappings */
		const char *want; /* a line of err */
		int nlines;       /* of err; 0: any */
	} cases[] = {
		{ 0, "t.yaml:8:5: \"kafka.topics\": expected a string in the list, found a list",
		    0 },
		{ 1, "t.yaml:8:5: \"after\" of step \"B\": expected a step name, found a list", 0 },
		{ 2,
		    "t.yaml:1:4: aliases expand the config to more than 1000000 values beyond its "
		    "own nodes (aliases of aliases, a \"billion laughs\"?)",
		    0 },
		{ 3, "(stopped after 100 problems)", 101 },
		{ 4, "t.yaml:6:71: mappings and lists nested deeper than 64 levels", 1 },
		{ 5, "t.yaml:70:129: mappings and lists nested deeper than 64 levels", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = 0;
		if (cases[i].kind == 0) {
			n = laughs(yaml, sizeof yaml, "lol");
			n += (size_t)snprintf(
			    yaml + n, sizeof yaml - n, F OK_STEPS "kafka:\n  topics: *l8\n");
		} else if (cases[i].kind == 1) {
			n = laughs(yaml, sizeof yaml, "A");
			n += (size_t)snprintf(yaml + n, sizeof yaml - n,
			    F "      A: { start: true }\n      B: { after: *l8, end: true }\n");
		} else if (cases[i].kind >= 4) {
			n = deep(yaml, sizeof yaml, cases[i].kind == 5);
		} else {
			n = cases[i].kind == 2 ? wide_after(yaml, sizeof yaml)
					       : many_keys(yaml, sizeof yaml);
		}
		struct config *c = NULL;
		double t0 = now_ms();
		int rc = config_load_string("t.yaml", yaml, n, &c, err, sizeof err);
		double ms = now_ms() - t0;
		if (rc != -1 || c != NULL || strstr(err, cases[i].want) == NULL ||
		    (cases[i].nlines && nlines(err) != cases[i].nlines) || ms > 3000)
			fail_msg("case %zu: rc %d, %.1f ms, %d lines; want \"%s\"; got:\n%.2000s",
			    i, rc, ms, nlines(err), cases[i].want, err);
	}
}

/* A config larger than CFG_MAX_FILE_BYTES is refused unparsed; from a file, reading stops
 * there (/dev/zero never ends). */
static void test_config_size_bound(void **state)
{
	(void)state;
	char err[256];
	struct config *c = NULL;
	size_t n = CFG_MAX_FILE_BYTES + 1;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(config_load_string("t.yaml", big, n, &c, err, sizeof err), -1);
	assert_null(c);
	assert_string_equal(err, "t.yaml:1:1: larger than the 16777216 bytes a config may have");
	free(big);
	assert_int_equal(config_load("/dev/zero", &c, err, sizeof err), -1);
	assert_string_equal(err, "/dev/zero:1:1: larger than the 16777216 bytes a config may have");
}

/* ---- durations ---- */

struct dur_case {
	const char *text;
	int64_t ns;          /* when valid */
	const char *problem; /* NULL: valid */
};

static const struct dur_case dur_cases[] = {
	{ "500ms", 500000000, NULL },
	{ "30s", 30 * S, NULL },
	{ "10m", 600 * S, NULL },
	{ "1h", 3600 * S, NULL },
	{ "1h30m", 5400 * S, NULL },
	{ "1.5s", 1500000000, NULL },
	{ "250us", 250000, NULL },
	{ "250\xc2\xb5s", 250000, NULL },
	{ "100ns", 100, NULL },
	{ "0s", 0, NULL },
	{ ".5s", 500000000, NULL },
	{ "2h45m30.25s", 9930250000000LL, NULL },
	{ "30", 0, "no unit" },
	{ "0", 0, "no unit" },
	{ "-5s", 0, "must not be negative" },
	{ "10sec", 0, "unknown unit \"sec\"" },
	{ "1d", 86400 * S, NULL },
	{ "7d", 7 * 86400 * S, NULL },
	{ "2w", 14 * 86400 * S, NULL },
	{ "1y", 365 * 86400 * S, NULL },
	{ "1d12h", 36 * 3600 * S, NULL },
	{ "1w2d3h4m5s", (9 * 86400 + 3 * 3600 + 4 * 60 + 5) * S, NULL },
	{ "1.5d", 36 * 3600 * S, NULL },
	{ "292y", 292LL * 365 * 86400 * S, NULL },
	{ "293y", 0, "out of range" },
	{ "1dd", 0, "unknown unit \"dd\"" },
	{ "s", 0, "expected a number before the unit" },
	{ "1.s", S, NULL },
	{ "3000000h", 0, "out of range" },
	{ "", 0, "empty duration" },
};

static void test_durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dur_cases / sizeof dur_cases[0]; i++) {
		const struct dur_case *d = &dur_cases[i];
		char why[256] = "";
		int64_t ns = -7;
		int rc = config_parse_duration(d->text, &ns, why, sizeof why);
		if (d->problem == NULL) {
			if (rc != 0)
				fail_msg("duration \"%s\": %s", d->text, why);
			assert_int_equal(ns, d->ns);
		} else {
			assert_int_equal(rc, -1);
			if (strstr(why, d->problem) == NULL)
				fail_msg("duration \"%s\": want \"%s\" in \"%s\"", d->text,
				    d->problem, why);
		}
	}
}

/* ---- one problem each ---- */

struct err_case {
	const char *yaml;
	const char *want[4]; /* exact lines of err, in order; the rest NULL */
};

static const struct err_case err_cases[] = {
	/* YAML itself */
	{ "flows:\n  - name: f\n    steps: { A: [\n",
	    { "t.yaml:4:1: YAML syntax error: did not find expected node content (while parsing "
	      "a flow node at line 4, column 1)" } },
	{ "flows:\n\t- name: f\n",
	    { "t.yaml:2:1: YAML syntax error: found character that cannot start any token (while "
	      "scanning for the next token at line 2, column 1); YAML indents with spaces, not "
	      "tabs" } },
	{ "", { "t.yaml:1:1: missing required key \"flows\" at top level" } },
	{ "- a\n", { "t.yaml:1:1: expected a mapping of settings at top level, found a list" } },
	{ F OK_STEPS "---\nflows: []\n",
	    { "t.yaml:7:1: expected one YAML document, found a second one" } },
	{ F OK_STEPS "flows: []\n",
	    { "t.yaml:6:1: duplicate key \"flows\" (first at line 1, column 1)" } },
	/* node types */
	{ "flows: {}\n",
	    { "t.yaml:1:8: \"flows\": expected a list of flows with at least one flow, found a "
	      "mapping" } },
	{ "flows: []\n",
	    { "t.yaml:1:8: \"flows\": expected a list of flows with at least one flow, found an "
	      "empty list" } },
	{ F "      A: { start: true }\n      B: { after: { A: 1 }, end: true }\n",
	    { "t.yaml:5:19: \"after\" of step \"B\": expected a list of step names, found a "
	      "mapping" } },
	{ F "      A: { start: true }\n      B: { after: [A, [C]], end: true }\n",
	    { "t.yaml:5:23: \"after\" of step \"B\": expected a step name, found a list" } },
	{ F "      A: { start: true }\n      B: { after: [], end: true }\n      C: { after: [A, "
	    "\"\"] }\n",
	    { "t.yaml:5:19: \"after\" of step \"B\": expected a list of step names, found an "
	      "empty list",
		"t.yaml:6:23: \"after\" of step \"C\": expected a step name, found an empty "
		"string" } },
	{ F "      A: [start]\n      B: { after: A, end: true }\n",
	    { "t.yaml:4:10: step \"A\": expected a mapping of step settings, found a list" } },
	{ "flows:\n  - name: f\n    steps: []\n",
	    { "t.yaml:3:12: \"steps\" of flow \"f\": expected a mapping of step names to step "
	      "settings, found a list" } },
	{ "flows:\n  - steps: { A: { start: true, end: true } }\n",
	    { "t.yaml:2:5: missing required key \"name\" in flow #1" } },
	{ F OK_STEPS "kafka: [a]\n",
	    { "t.yaml:6:8: \"kafka\": expected a mapping, found a list" } },
	/* unknown keys, with the nearest valid one */
	{ F "      A: { start: true }\n      B: { after: A, withn: 5s, end: true }\n",
	    { "t.yaml:5:22: unknown key \"withn\" in step \"B\"; did you mean \"within\"?" } },
	{ F "      A: { start: true, retry: 2 }\n      B: { after: A, end: true }\n",
	    { "t.yaml:4:25: unknown key \"retry\" in step \"A\"; did you mean \"retries\"?" } },
	{ "flows:\n  - name: f\n    deadlin: 1m\n    steps:\n" OK_STEPS,
	    { "t.yaml:3:5: unknown key \"deadlin\" in flow \"f\"; did you mean \"deadline\"?" } },
	{ F OK_STEPS "kafka:\n  brokerz: x:1\n",
	    { "t.yaml:7:3: unknown key \"brokerz\" in \"kafka\"; did you mean \"brokers\"?" } },
	{ F OK_STEPS "flow: x\n",
	    { "t.yaml:6:1: unknown key \"flow\" at top level; did you mean \"flows\"?" } },
	{ F "      A: { start: true, zzz: 1 }\n      B: { after: A, end: true }\n",
	    { "t.yaml:4:25: unknown key \"zzz\" in step \"A\"; expected one of: start, after, "
	      "after_any, within, join_within, instead_of, retries, optional, end, key, owner" } },
	{ F "      A: { start: true }\n      B: { <<: 5, after: A, end: true }\n",
	    { "t.yaml:5:16: \"<<\": expected a mapping or a list of mappings to merge, found "
	      "\"5\"" } },
	/* names */
	{ F "      Start: { start: true }\n      B: { after: [Strat], end: true }\n",
	    { "t.yaml:5:20: unknown step \"Strat\" in \"after\" of step \"B\"; did you mean "
	      "\"Start\"?" } },
	{ F "      A: { start: true }\n      B: { after_any: [A, Nope], end: true }\n",
	    { "t.yaml:5:27: unknown step \"Nope\" in \"after_any\" of step \"B\"" } },
	{ F "      A: { start: true }\n      B: { after: A, instead_of: [Xyz], end: true }\n",
	    { "t.yaml:5:35: unknown step \"Xyz\" in \"instead_of\" of step \"B\"" } },
	{ "flows:\n  - name: f\n    complete_when: [A, Q]\n    steps:\n" OK_STEPS,
	    { "t.yaml:3:24: unknown step \"Q\" in \"complete_when\" of flow \"f\"" } },
	{ F "      A: { start: true }\n      B: { after: [A, B], end: true }\n",
	    { "t.yaml:5:23: step \"B\" lists itself in \"after\" of step \"B\"" } },
	{ F OK_STEPS "      A: { start: true }\n",
	    { "t.yaml:6:7: duplicate step \"A\" in flow \"f\" (first declared at line 4, column "
	      "7)" } },
	{ F OK_STEPS "  - name: f\n    steps:\n" OK_STEPS,
	    { "t.yaml:6:11: duplicate flow \"f\" (first declared at line 2, column 5)" } },
	/* values */
	{ F "      A: { start: true }\n      B: { after: A, within: 30, end: true }\n",
	    { "t.yaml:5:30: \"within\" of step \"B\": expected a duration such as 500ms, 30s or "
	      "1h30m, found \"30\": no unit (use ns, us, ms, s, m, h, d, w or y)" } },
	{ F "      A: { start: true }\n      B: { after: A, within: -2s, end: true }\n",
	    { "t.yaml:5:30: \"within\" of step \"B\": expected a duration such as 500ms, 30s or "
	      "1h30m, found \"-2s\": a duration must not be negative" } },
	{ F "      A: { start: true }\n      B: { after: A, retries: 1.5, end: true }\n",
	    { "t.yaml:5:31: \"retries\" of step \"B\": expected a whole number >= 0, found "
	      "\"1.5\"" } },
	{ F "      A: { start: true }\n      B: { after: A, retries: -1, end: true }\n",
	    { "t.yaml:5:31: \"retries\" of step \"B\": expected a whole number >= 0, found "
	      "\"-1\"" } },
	{ F "      A: { start: yes }\n      B: { after: A, end: true }\n",
	    { "t.yaml:4:19: \"start\" of step \"A\": expected true or false, found \"yes\"" } },
	{ F "      A: { start: true }\n      B: { after: A, within: , end: true }\n",
	    { "t.yaml:5:30: \"within\" of step \"B\": expected a duration such as 500ms, 30s or "
	      "1h30m, found null" } },
	{ F OK_STEPS "limits: { max_flows: 0 }\n",
	    { "t.yaml:6:22: \"limits.max_flows\": expected a whole number >= 1, found \"0\"" } },
	/* limits: counts with a ceiling (the arrays sized by it) */
	{ F OK_STEPS "limits: { max_attributes: 257, max_headers: 0 }\n",
	    { "t.yaml:6:27: \"limits.max_attributes\": expected a whole number >= 1 up to 256, "
	      "found \"257\"",
		"t.yaml:6:45: \"limits.max_headers\": expected a whole number >= 1, found "
		"\"0\"" } },
	{ F OK_STEPS "limits: { max_message_bytes: 67108865, max_depth: 100001 }\n",
	    { "t.yaml:6:30: \"limits.max_message_bytes\": expected a whole number >= 1 up to "
	      "67108864, found \"67108865\"",
		"t.yaml:6:51: \"limits.max_depth\": expected a whole number >= 1 up to 100000, "
		"found \"100001\"" } },
	{ F OK_STEPS "http: { max_request_bytes: 1048577 }\n",
	    { "t.yaml:6:28: \"http.max_request_bytes\": expected a whole number >= 1 up to "
	      "1048576, found \"1048577\"" } },
	{ F OK_STEPS "log_level: inf\n",
	    { "t.yaml:6:12: \"log_level\": expected one of error, warn, info or debug, found "
	      "\"inf\"; did you mean \"info\"?" } },
	{ F OK_STEPS "kafka: { format: xml, alert_format: text }\n",
	    { "t.yaml:6:18: \"kafka.format\": expected one of auto, protobuf, cloudevents or json, "
	      "found \"xml\"",
		"t.yaml:6:37: \"kafka.alert_format\": expected one of json or protobuf, found "
		"\"text\"" } },
	{ F OK_STEPS "kafka: { correlation_from: [key, \"field:a..b\"] }\n",
	    { "t.yaml:6:34: \"kafka.correlation_from\": expected a dotted field path such as "
	      "data.order_id, found \"a..b\": empty path component" } },
	{ F OK_STEPS "http: { listen: \"localhost:99999\" }\n",
	    { "t.yaml:6:17: \"http.listen\": expected HOST:PORT such as 127.0.0.1:9717, [::1]:9717 "
	      "or :9717, found \"localhost:99999\": port must be 0 to 65535" } },
	{ F OK_STEPS "http: { listen: \"collector-1:9717\" }\n",
	    { "t.yaml:6:17: \"http.listen\": expected HOST:PORT such as 127.0.0.1:9717, [::1]:9717 "
	      "or :9717, found \"collector-1:9717\": bad host (a numeric IPv4 address, [IPv6] or "
	      "localhost)" } },
	{ F OK_STEPS "http: { allowed_hosts: [ok.example, \"bad:80\", \"-x\"] }\n",
	    { "t.yaml:6:37: \"http.allowed_hosts\": expected a host name such as "
	      "collector-1.example.com, found \"bad:80\": no port",
		"t.yaml:6:47: \"http.allowed_hosts\": expected a host name such as "
		"collector-1.example.com, found \"-x\"" } },
	{ F OK_STEPS "kafka: { correlation_from: [key, key, key, key, key, key, key, key, key, "
		     "key, key, key, key, key, key, key, key] }\n",
	    { "t.yaml:6:28: \"kafka.correlation_from\": expected at most 16 sources, found 17" } },
	{ F OK_STEPS "kafka: { correlation_from: [\"header:\", \"body:x\"] }\n",
	    { "t.yaml:6:29: \"kafka.correlation_from\": expected ce_correlationid, header:NAME, "
	      "field:PATH, key or traceparent, found \"header:\": empty header name",
		"t.yaml:6:40: \"kafka.correlation_from\": expected ce_correlationid, header:NAME, "
		"field:PATH, key or traceparent, found \"body:x\"" } },
	{ F OK_STEPS "http: { listen: \"300.1.1.1:80\" }\n",
	    { "t.yaml:6:17: \"http.listen\": expected HOST:PORT such as 127.0.0.1:9717, [::1]:9717 "
	      "or :9717, found \"300.1.1.1:80\": bad host (a numeric IPv4 address, [IPv6] or "
	      "localhost)" } },
	{ F OK_STEPS "metrics: { duration_buckets: [1, 5, 5] }\n",
	    { "t.yaml:6:37: \"metrics.duration_buckets\": expected numbers in ascending order, "
	      "found 5 after 5" } },
	{ F OK_STEPS "metrics: { latency_buckets: [-1, x] }\n",
	    { "t.yaml:6:30: \"metrics.latency_buckets\": expected a number > 0, found \"-1\"",
		"t.yaml:6:34: \"metrics.latency_buckets\": expected a number > 0, found \"x\"" } },
	{ F OK_STEPS "json: { time: \".ts\" }\n",
	    { "t.yaml:6:15: \"json.time\": expected a dotted field path such as data.order_id, "
	      "found \".ts\": empty path component" } },
	/* graph */
	{ F "      A: { start: true }\n      B: { optional: true }\n      C: { after: A, end: true "
	    "}\n",
	    { "t.yaml:5:7: step \"B\" has no \"start\", \"after\" or \"after_any\": expected one "
	      "of "
	      "them" } },
	{ F "      A: { start: true, after_any: [C] }\n      C: { after: A, end: true }\n",
	    { "t.yaml:4:36: start step \"A\" also has \"after_any\": a start step opens the flow "
	      "and waits for nothing" } },
	{ F "      A: { start: true }\n      B: { after: A, join_within: 1s, end: true }\n",
	    { "t.yaml:5:35: \"join_within\" of step \"B\" needs \"after\" with at least 2 steps, "
	      "found 1" } },
	{ F "      A: { start: true }\n      B: { after: A }\n",
	    { "t.yaml:2:5: flow \"f\" has no end step: expected a step with \"end\" or a "
	      "\"complete_when\" list" } },
	{ F "      A: { after: B, end: true }\n      B: { after: A }\n",
	    { "t.yaml:2:5: flow \"f\" has no start step: expected a step with \"start: true\"" } },
	{ F "      A: { start: true }\n      B: { after: C }\n      C: { after: B, end: true }\n",
	    { "t.yaml:2:5: no end step of flow \"f\" is reachable from a start step",
		"t.yaml:5:7: step \"B\" is not reachable from any start step",
		"t.yaml:6:7: end step \"C\" is not reachable from any start step" } },
	{ F "      A: { start: true }\n      B: { after: A, end: true }\n"
	    "      X: { after: Y }\n      Y: { after: X }\n",
	    { "t.yaml:6:7: step \"X\" is not reachable from any start step",
		"t.yaml:7:7: step \"Y\" is not reachable from any start step" } },
	{ F "      A: { start: true }\n      B: { after: A, end: true }\n"
	    "      X: { after_any: [A, Y] }\n      Y: { after: X }\n",
	    { "t.yaml:6:7: step \"X\" is on a cycle from which no end step (\"end\" or "
	      "\"complete_when\") can be reached",
		"t.yaml:7:7: step \"Y\" is on a cycle from which no end step (\"end\" or "
		"\"complete_when\") can be reached" } },
};

static void test_error_cases(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		const struct err_case *e = &err_cases[i];
		char err[8192], want[8192] = "";
		struct config *c = (struct config *)&err; /* must be reset to NULL */
		int rc =
		    config_load_string("t.yaml", e->yaml, strlen(e->yaml), &c, err, sizeof err);
		for (int k = 0; k < 4 && e->want[k]; k++)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
			    k ? "\n" : "", e->want[k]);
		if (rc != -1 || c != NULL || strcmp(err, want) != 0) {
			print_error("case %zu:\n%s\nwant:\n%s\ngot (rc %d):\n%s\n\n", i, e->yaml,
			    want, rc, err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* ---- several problems, all listed, sorted by position ---- */

static void test_broken_fixtures(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		int nproblems;
		const char *some[6];
	} cases[] = {
		{ "broken-many.yaml", 23,
		    { "broken-many.yaml:3:5: unknown key \"deadlin\" in flow \"order\"; did you "
		      "mean "
		      "\"deadline\"?",
			"broken-many.yaml:6:36: unknown step \"OrderPlcaed\" in \"after\" of step "
			"\"PaymentAuthorized\"; did you mean \"OrderPlaced\"?",
			"broken-many.yaml:8:64: \"within\" of step \"InventoryReserved\": expected "
			"a "
			"duration such as 500ms, 30s or 1h30m, found \"10sec\"",
			"broken-many.yaml:13:7: duplicate step \"OrderPlaced\"",
			"broken-many.yaml:26:11: \"http.listen\": expected HOST:PORT",
			"broken-many.yaml:28:26: \"metrics.latency_buckets\": expected numbers in "
			"ascending order, found 0.05 after 0.1" } },
		{ "broken-graph.yaml", 5,
		    { "broken-graph.yaml:2:5: flow \"refund\" has no end step",
			"broken-graph.yaml:6:7: step \"Orphan\" has no \"start\"",
			"broken-graph.yaml:7:5: no end step of flow \"loop\" is reachable",
			"broken-graph.yaml:13:7: end step \"Done\" is not reachable" } },
		{ "broken-syntax.yaml", 1,
		    { "broken-syntax.yaml:5:18: YAML syntax error: mapping values are not allowed "
		      "in this context" } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[256], err[16384];
		struct config *c;
		snprintf(path, sizeof path, FIXTURES "%s", cases[i].file);
		assert_int_equal(config_load(path, &c, err, sizeof err), -1);
		assert_null(c);
		if (nlines(err) != cases[i].nproblems)
			fail_msg("%s: want %d problems, got:\n%s", path, cases[i].nproblems, err);
		int prev = 0;
		for (const char *l = err; l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			assert_memory_equal(l, path, strlen(path));
			int line = atoi(l + strlen(path) + 1);
			assert_true(line >= prev);
			prev = line;
		}
		for (int k = 0; k < 6 && cases[i].some[k]; k++) {
			char want[512];
			snprintf(want, sizeof want, "tests/fixtures/config/%s", cases[i].some[k]);
			if (strstr(err, want) == NULL)
				fail_msg("%s: want \"%s\" in:\n%s", path, want, err);
		}
	}
}

/* ---- limits and edges ---- */

static void test_too_many_steps(void **state)
{
	(void)state;
	size_t cap = 8192, len = 0;
	char *yaml = malloc(cap), err[4096];
	struct config *c;
	len += (size_t)snprintf(yaml, cap, F "      S0: { start: true }\n");
	for (int i = 1; i < 65; i++)
		len += (size_t)snprintf(yaml + len, cap - len, "      S%d: { after: S%d%s }\n", i,
		    i - 1, i == 63 ? ", end: true" : "");
	assert_int_equal(config_load_string("t.yaml", yaml, len, &c, err, sizeof err), -1);
	assert_string_equal(err,
	    "t.yaml:68:7: flow \"f\" has more than 64 steps (a flow's steps "
	    "must fit one 64-bit mask)");
	/* exactly 64 is fine, and bit 63 is the last step */
	yaml[len - strlen("      S64: { after: S63 }\n")] = '\0';
	c = load_ok(yaml);
	assert_int_equal(c->graph.flows[0].nsteps, 64);
	assert_int_equal(c->graph.flows[0].steps[62].succ, FG_BIT(63));
	assert_int_equal(c->graph.flows[0].steps[63].after, FG_BIT(62));
	config_free(c);
	free(yaml);
}

/* A repeated key in a big mapping (past the short scan, through the table of keys)
 * is reported once, with its first position, and not also as unknown; a quoted "<<"
 * repeats a merge key. */
static void test_duplicate_keys_big_mapping(void **state)
{
	(void)state;
	size_t cap = 1 << 16, len = 0;
	char *yaml = malloc(cap), err[1 << 16];
	struct config *c;
	len += (size_t)snprintf(yaml, cap,
	    F OK_STEPS
	    "      C:\n"
	    "        <<: { retries: 1 }\n        after: B\n        \"<<\": 1\n"); /* lines 7, 9 */
	for (int i = 0; i < 40; i++)                                              /* lines 10..49 */
		len += (size_t)snprintf(yaml + len, cap - len, "        within: 1s\n");
	assert_int_equal(config_load_string("t.yaml", yaml, len, &c, err, sizeof err), -1);
	char want[1 << 16];
	size_t n = (size_t)snprintf(
	    want, sizeof want, "t.yaml:9:9: duplicate key \"<<\" (first at line 7, column 9)");
	for (int i = 1; i < 40; i++)
		n += (size_t)snprintf(want + n, sizeof want - n,
		    "\nt.yaml:%d:9: duplicate key \"within\" (first at line 10, column 9)", 10 + i);
	assert_string_equal(err, want);
	free(yaml);
}

/* The size limit: a file of exactly CFG_MAX_FILE_BYTES loads, one byte more is
 * refused before libyaml sees it. */
static void test_file_size_limit(void **state)
{
	(void)state;
	size_t n = CFG_MAX_FILE_BYTES;
	char *yaml = malloc(n + 2), err[512];
	const char *head = F OK_STEPS "#";
	memcpy(yaml, head, strlen(head));
	memset(yaml + strlen(head), 'x', n - strlen(head) - 1);
	yaml[n - 1] = '\n';
	struct config *c = NULL;
	assert_int_equal(config_load_string("t.yaml", yaml, n, &c, err, sizeof err), 0);
	config_free(c);
	yaml[n - 1] = 'x';
	yaml[n] = '\n';
	assert_int_equal(config_load_string("t.yaml", yaml, n + 1, &c, err, sizeof err), -1);
	assert_null(c);
	assert_string_equal(err, "t.yaml:1:1: larger than the 16777216 bytes a config may have");
	free(yaml);
}

static void test_err_truncated_and_unreadable(void **state)
{
	(void)state;
	char err[160];
	struct config *c;
	assert_int_equal(config_load(FIXTURES "broken-many.yaml", &c, err, sizeof err), -1);
	assert_true(strlen(err) < sizeof err);
	assert_non_null(strstr(err, "more problems)"));
	assert_int_equal(
	    config_load("tests/fixtures/config/does-not-exist.yaml", &c, err, sizeof err), -2);
	assert_string_equal(err,
	    "tests/fixtures/config/does-not-exist.yaml: cannot read: No such "
	    "file or directory");
}

static void test_flowgraph_helpers(void **state)
{
	(void)state;
	struct config *c = load_ok(F OK_STEPS "  - name: g\n    steps:\n" OK_STEPS);
	assert_int_equal(fg_flow_index(&c->graph, "g"), 1);
	assert_int_equal(fg_flow_index(&c->graph, "h"), -1);
	assert_int_equal(fg_flow_index(NULL, "f"), -1);
	assert_int_equal(fg_step_index(&c->graph.flows[1], "B"), 1);
	assert_int_equal(fg_step_index(&c->graph.flows[1], "C"), -1);
	assert_int_equal(fg_step_index(NULL, "A"), -1);
	flowgraph_free(&c->graph);
	assert_int_equal(c->graph.nflows, 0);
	flowgraph_free(&c->graph);
	flowgraph_free(NULL);
	config_free(c);
	config_free(NULL);
}

/* ---- the reference: docs/config.md carries exactly what the table prints ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	if (f == NULL)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void test_reference_in_docs(void **state)
{
	(void)state;
	char *ref = NULL, *doc = slurp("docs/config.md");
	size_t len = 0;
	FILE *m = open_memstream(&ref, &len);
	config_print_reference(m);
	fclose(m);
	assert_non_null(doc);
	const char *begin = strstr(doc, "<!-- reference:begin -->\n");
	const char *end = strstr(doc, "<!-- reference:end -->");
	assert_non_null(begin);
	assert_non_null(end);
	begin += strlen("<!-- reference:begin -->\n");
	if ((size_t)(end - begin) != len || memcmp(begin, ref, len) != 0)
		fail_msg("docs/config.md is out of date; regenerate its reference block with\n"
			 "  build/release/tests/test_config --print-reference");
	free(ref);
	free(doc);
}

/* Every example in docs/config.md that is a complete config loads. */
static void test_docs_example_loads(void **state)
{
	(void)state;
	char *doc = slurp("docs/config.md"), err[4096];
	assert_non_null(doc);
	int n = 0;
	for (char *p = strstr(doc, "```yaml\n"); p; p = strstr(p, "```yaml\n")) {
		p += strlen("```yaml\n");
		char *q = strstr(p, "```");
		assert_non_null(q);
		struct config *c;
		if (strncmp(p, "flows:", 6) == 0) {
			if (config_load_string(
				"docs/config.md", p, (size_t)(q - p), &c, err, sizeof err))
				fail_msg("example %d does not load:\n%s", n, err);
			config_free(c);
			n++;
		}
		p = q;
	}
	assert_true(n >= 1);
	free(doc);
}

/* Every choice of every enum setting parses into its C enum value, once, at load. */
static void test_enums(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		size_t off;
		int want;
	} cases[] = {
		{ "log_level: error\n", offsetof(struct config, log_level), LOG_LVL_ERROR },
		{ "log_level: warn\n", offsetof(struct config, log_level), LOG_LVL_WARN },
		{ "log_level: info\n", offsetof(struct config, log_level), LOG_LVL_INFO },
		{ "log_level: debug\n", offsetof(struct config, log_level), LOG_LVL_DEBUG },
		{ "kafka: { format: auto }\n", offsetof(struct config, kafka.format),
		    CFG_FORMAT_AUTO },
		{ "kafka: { format: protobuf }\n", offsetof(struct config, kafka.format),
		    CFG_FORMAT_PROTOBUF },
		{ "kafka: { format: cloudevents }\n", offsetof(struct config, kafka.format),
		    CFG_FORMAT_CLOUDEVENTS },
		{ "kafka: { format: json }\n", offsetof(struct config, kafka.format),
		    CFG_FORMAT_JSON },
		{ "kafka: { alert_format: json }\n", offsetof(struct config, kafka.alert_format),
		    CFG_ALERT_JSON },
		{ "kafka: { alert_format: protobuf }\n",
		    offsetof(struct config, kafka.alert_format), CFG_ALERT_PROTOBUF },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[512];
		snprintf(yaml, sizeof yaml, F OK_STEPS "%s", cases[i].yaml);
		struct config *c = load_ok(yaml);
		int got = *(int *)((char *)c + cases[i].off);
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].yaml, got, cases[i].want);
		config_free(c);
	}
}

/* kafka.tls.* and kafka.sasl.* (and the http.tls_* files): mapped onto librdkafka properties at the head of
 * kafka.properties (a raw property of the same name comes later and wins); the
 * password from the setting, its file or $CHOREOSCOPE_KAFKA_PASSWORD; mistakes named. */
static const char *prop(const struct config *c, const char *k)
{
	const char *v = NULL;
	for (int i = 0; i < c->kafka.nprops; i++)
		if (strcmp(c->kafka.prop_keys[i], k) == 0)
			v = c->kafka.prop_vals[i]; /* the last one, as librdkafka applies them */
	return v;
}

static struct config *resolved(const char *yaml)
{
	char err[1024];
	struct config *c = load_ok(yaml);
	if (config_kafka_resolve(c, err, sizeof err) != 0)
		fail_msg("resolve: %s", err);
	return c;
}

static void test_kafka_security(void **state)
{
	(void)state;
	char yaml[1024], err[4096], pwfile[] = "/tmp/test_config_pwXXXXXX";
	struct config *c;

	c = resolved(F OK_STEPS);
	assert_int_equal(c->kafka.nprops, 0); /* nothing configured: nothing set */
	config_free(c);

	c = resolved(F OK_STEPS "kafka:\n  tls: { ca_file: /dev/null }\n");
	assert_string_equal(prop(c, "security.protocol"), "ssl");
	assert_string_equal(prop(c, "ssl.ca.location"), "/dev/null");
	assert_null(prop(c, "sasl.mechanism"));
	assert_int_equal(config_kafka_resolve(c, err, sizeof err), 0); /* once */
	assert_int_equal(c->kafka.nprops, 2);
	config_free(c);

	static const char *const mechs[][2] = { { "plain", "PLAIN" },
		{ "scram-sha-256", "SCRAM-SHA-256" }, { "scram-sha-512", "SCRAM-SHA-512" } };
	for (size_t i = 0; i < 3; i++) {
		snprintf(yaml, sizeof yaml,
		    F OK_STEPS "kafka:\n  tls: { enabled: true }\n"
			       "  sasl: { mechanism: %s, username: u, password: p1 }\n"
			       "  properties: { socket.timeout.ms: 5000 }\n",
		    mechs[i][0]);
		c = resolved(yaml);
		assert_string_equal(prop(c, "security.protocol"), "sasl_ssl");
		assert_string_equal(prop(c, "sasl.mechanism"), mechs[i][1]);
		assert_string_equal(prop(c, "sasl.username"), "u");
		assert_string_equal(prop(c, "sasl.password"), "p1");
		assert_string_equal(prop(c, "socket.timeout.ms"), "5000");
		assert_int_equal(c->kafka.sec.sasl, (int)i + 1);
		config_free(c);
	}

	/* SASL without TLS; the raw property wins over the mapped one */
	c = resolved(F OK_STEPS "kafka:\n  sasl: { mechanism: plain, username: u, password: p }\n"
				"  properties: { security.protocol: sasl_ssl }\n");
	assert_string_equal(prop(c, "security.protocol"), "sasl_ssl");
	assert_string_equal(c->kafka.prop_vals[0], "sasl_plaintext");
	config_free(c);

	/* password file: its first line; the environment when neither is set */
	int fd = mkstemp(pwfile);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "from-file\nsecond\n", 17), 17);
	close(fd);
	snprintf(yaml, sizeof yaml,
	    F OK_STEPS "kafka:\n  tls: { ca_file: /dev/null, "
		       "cert_file: /dev/null, key_file: /dev/null }\n"
		       "  sasl: { mechanism: plain, username: u, password_file: %s }\n",
	    pwfile);
	c = resolved(yaml);
	assert_string_equal(prop(c, "sasl.password"), "from-file");
	assert_string_equal(prop(c, "ssl.certificate.location"), "/dev/null");
	assert_string_equal(prop(c, "ssl.key.location"), "/dev/null");
	config_free(c);
	unlink(pwfile);
	setenv("CHOREOSCOPE_KAFKA_PASSWORD", "from-env", 1);
	c = resolved(F OK_STEPS "kafka:\n  sasl: { mechanism: plain, username: u }\n");
	assert_string_equal(prop(c, "sasl.password"), "from-env");
	config_free(c);
	unsetenv("CHOREOSCOPE_KAFKA_PASSWORD");

	/* what the file alone decides: at load, with positions */
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		{ "kafka:\n  sasl: { mechanism: plain, password: p }\n",
		    "t.yaml:7:22: \"kafka.sasl.mechanism\": needs kafka.sasl.username" },
		{ "kafka:\n  sasl: { username: u, password: p }\n",
		    "t.yaml:7:21: \"kafka.sasl.username\": needs kafka.sasl.mechanism" },
		{ "kafka:\n  sasl: { mechanism: plain, username: u, password: p, password_file: /x "
		  "}\n",
		    "\"kafka.sasl.password_file\": set kafka.sasl.password or "
		    "kafka.sasl.password_file, not both" },
		{ "kafka:\n  tls: { cert_file: /dev/null }\n",
		    "\"kafka.tls.cert_file\": kafka.tls.cert_file and kafka.tls.key_file go "
		    "together" },
		{ "kafka:\n  sasl: { mechanism: gssapi }\n", "\"kafka.sasl.mechanism\"" },
		{ "http:\n  tls_cert_file: /dev/null\n",
		    "t.yaml:7:18: \"http.tls_cert_file\": http.tls_cert_file and http.tls_key_file "
		    "go together" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(yaml, sizeof yaml, F OK_STEPS "%s", bad[i].yaml);
		c = NULL;
		if (config_load_string("t.yaml", yaml, strlen(yaml), &c, err, sizeof err) == 0)
			fail_msg("%s: loaded", bad[i].yaml);
		assert_null(c);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s: got\n%s\nwant %s", bad[i].yaml, err, bad[i].want);
	}
	/* files and password: when resolved (the daemon's start), naming the setting; a
	 * config that needs them still loads (replay) */
	static const struct {
		const char *yaml, *want;
	} unres[] = {
		{ "kafka:\n  sasl: { mechanism: plain, username: u }\n",
		    "kafka.sasl.mechanism: needs kafka.sasl.password, kafka.sasl.password_file or "
		    "CHOREOSCOPE_KAFKA_PASSWORD" },
		{ "kafka:\n  sasl: { mechanism: plain, username: u, password_file: /nonexistent/pw "
		  "}\n",
		    "kafka.sasl.password_file: cannot read /nonexistent/pw: No such file or "
		    "directory" },
		{ "kafka:\n  sasl: { mechanism: plain, username: u, password_file: /dev/zero }\n",
		    "kafka.sasl.password_file: cannot read /dev/zero: not a regular file" },
		{ "kafka:\n  tls: { ca_file: /nonexistent/ca.crt }\n",
		    "kafka.tls.ca_file: cannot read /nonexistent/ca.crt: No such file" },
	};
	for (size_t i = 0; i < sizeof unres / sizeof unres[0]; i++) {
		snprintf(yaml, sizeof yaml, F OK_STEPS "%s", unres[i].yaml);
		c = load_ok(yaml);
		err[0] = '\0';
		if (config_kafka_resolve(c, err, sizeof err) == 0)
			fail_msg("%s: resolved", unres[i].yaml);
		if (strstr(err, unres[i].want) == NULL)
			fail_msg("%s: got\n%s\nwant %s", unres[i].yaml, err, unres[i].want);
		assert_int_equal(c->kafka.nprops, 0);
		config_free(c);
	}
	/* an empty first line is no password */
	fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\nlater\n", 7), 7);
	close(fd);
	snprintf(yaml, sizeof yaml,
	    F OK_STEPS "kafka:\n  sasl: { mechanism: plain, username: u, "
		       "password_file: %s }\n",
	    pwfile);
	c = load_ok(yaml);
	assert_int_equal(config_kafka_resolve(c, err, sizeof err), -1);
	assert_non_null(strstr(err, "has no password on its first line"));
	config_free(c);
	unlink(pwfile);
	/* a secret is never in a message about it */
	assert_true(config_secret_property("sasl.password"));
	assert_true(config_secret_property("ssl.key.password"));
	assert_true(config_secret_property("sasl.jaas.config"));
	assert_false(config_secret_property("sasl.username"));
	assert_string_equal(config_redact("sasl.password", "hunter2"), "(redacted)");
	assert_string_equal(config_redact("sasl.username", "alice"), "alice");
}

/* Listen addresses: parsed once into a socket address; the same function serves
 * --listen (its caller names the flag) and http.listen. */
static void test_listen(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int family, port;
		const char *why;
	} cases[] = {
		{ "127.0.0.1:9717", AF_INET, 9717, NULL },
		{ ":9717", AF_INET, 9717, NULL },
		{ "localhost:0", AF_INET, 0, NULL },
		{ "[::1]:80", AF_INET6, 80, NULL },
		{ "[::]:65535", AF_INET6, 65535, NULL },
		{ "nohostport", 0, 0, "no port" },
		{ "127.0.0.1:", 0, 0, "port must be 0 to 65535" },
		{ "127.0.0.1:65536", 0, 0, "port must be 0 to 65535" },
		{ "127.0.0.1:-1", 0, 0, "port must be 0 to 65535" },
		{ "example.com:80", 0, 0, "bad host" },
		{ "[::1:80", 0, 0, "bad host" },
		{ "[]:80", 0, 0, "bad host" },
		{ "1.2.3:80", 0, 0, "bad host" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cfg_listen l;
		char why[128] = "";
		int rc = config_parse_listen(cases[i].s, &l, why, sizeof why);
		if (cases[i].why != NULL) {
			if (rc != -1 || strncmp(why, cases[i].why, strlen(cases[i].why)) != 0)
				fail_msg("%s: rc %d why \"%s\", want \"%s\"", cases[i].s, rc, why,
				    cases[i].why);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", cases[i].s, why);
		assert_string_equal(l.spec, cases[i].s);
		assert_int_equal(l.addr.ss_family, cases[i].family);
		int port =
		    ntohs(l.addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&l.addr)->sin6_port
						       : ((struct sockaddr_in *)&l.addr)->sin_port);
		assert_int_equal(port, cases[i].port);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--print-reference") == 0) {
		config_print_reference(stdout);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_steps),
		cmocka_unit_test(test_demo_flows_and_settings),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_kafka_security),
		cmocka_unit_test(test_graph_cases),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_merge_fanout),
		cmocka_unit_test(test_hostile_configs),
		cmocka_unit_test(test_config_size_bound),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_broken_fixtures),
		cmocka_unit_test(test_too_many_steps),
		cmocka_unit_test(test_duplicate_keys_big_mapping),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_err_truncated_and_unreadable),
		cmocka_unit_test(test_flowgraph_helpers),
		cmocka_unit_test(test_reference_in_docs),
		cmocka_unit_test(test_docs_example_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
