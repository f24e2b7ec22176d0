/*
 * test_discover: the rules of discover_graph.c, table-driven. Each case is a set of
 * flow templates (events with millisecond offsets), each repeated n times; the
 * discovered YAML is loaded back with config_load_string (so every case also proves
 * that --check-config accepts it) and checked with a list of expectations against
 * the loaded flow graph. Plus: histogram quantiles, redeliveries, and memory that
 * does not grow with the number of flows.
 *
 * Template syntax: "[@FLOW ]TYPE:MS TYPE:MS ..."; "TYPE:MS=" repeats the event id of
 * the previous event (a redelivery). Flow k of a template starts k seconds after
 * flow k-1 and its offsets are stretched by (1 + (k % 5) / 10) so that gaps vary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "discover/discover.h"
#include "discover/discover_int.h"

#define MS 1000000LL
#define NS_S 1000000000LL

struct tmpl {
	const char *spec;
	int n;
};

struct dcase {
	const char *name;
	struct tmpl t[6];
	const char *want[12];
};

static const struct dcase cases[] = {
	{ "chain", { { "A:0 B:100 C:300", 100 } },
	    { "flows 1", "start A", "after B = A", "after C = B", "end C = completed",
		"within B = 1s", "retries B = 0", "required B" } },
	{ "instead_of", { { "A:0 B:100 D:200", 60 }, { "A:0 C:100 D:200", 40 } },
	    { "after B = A", "after C = A", "alts C = B", "any D = B,C", "end D = completed" } },
	{ "after_any", { { "A:0 B:100 C:200 E:300", 50 }, { "A:0 D:100 E:200", 50 } },
	    { "after C = B", "any E = C,D", "after E =", "alts D = B", "end E = completed" } },
	{ "and_join", { { "A:0 B:100 C:150 D:300", 50 }, { "A:0 C:100 B:150 D:300", 50 } },
	    { "after B = A", "after C = A", "after D = B,C", "alts B =", "within D = 1s" } },
	{ "optional", { { "A:0 B:100 C:200", 70 }, { "A:0 C:200", 30 } },
	    { "after B = A", "optional B", "after C = A", "end C = completed", "noend B" } },
	{ "retries",
	    { { "A:0 B:100 C:200", 50 }, { "A:0 B:100 B:150 C:250", 30 },
		{ "A:0 B:100 B:150 B:200 C:300", 20 } },
	    { "retries B = 2", "retries C = 0", "after C = B" } },
	{ "rare_repeat_not_retry", { { "A:0 B:100 C:200", 98 }, { "A:0 B:100 B:150 C:250", 2 } },
	    { "retries B = 0", "after C = B" } },
	{ "redelivery_not_retry", { { "A:0 B:100 C:200", 50 }, { "A:0 B:100 B:150= C:250", 50 } },
	    { "retries B = 0", "redeliveries 50", "after C = B" } },
	{ "complete_when", { { "A:0 B:100 C:150", 50 }, { "A:0 C:100 B:150", 50 } },
	    { "after B = A", "after C = A", "cw = B,C", "noend B", "noend C" } },
	{ "compensation_outcome",
	    { { "A:0 PaymentDone:100", 80 }, { "A:0 OrderCancelled:100", 20 } },
	    { "end PaymentDone = completed", "end OrderCancelled = compensated",
		"alts OrderCancelled = PaymentDone" } },
	{ "noisy_flow_no_edge", { { "A:0 B:100 C:300", 100 }, { "A:0 C:100 B:200 X:300", 1 } },
	    { "after B = A", "after C = B", "absent X", "flows 1" } },
	{ "flow_separation", { { "A:0 B:100", 50 }, { "X:0 Y:100", 50 }, { "B:0 X:100", 1 } },
	    { "flows 2", "after B = A", "after Y = X", "start X" } },
	{ "flow_field", { { "@left P:0 Q:100", 50 }, { "@right R:0 S:100", 50 } },
	    { "flows 2", "flow P = left", "flow S = right", "after S = R" } },
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Adds n flows of template spec, flow numbers from *flow_no. */
static void add_template(struct discover *d, const char *spec, int n, int *flow_no, int64_t *t0)
{
	for (int k = 0; k < n; k++) {
		char buf[256], corr[32], id[48], lastid[48] = "";
		snprintf(buf, sizeof buf, "%s", spec);
		snprintf(corr, sizeof corr, "c%d", (*flow_no)++);
		const char *flow = NULL;
		int seq = 0;
		double stretch = 1.0 + (k % 5) / 10.0;
		for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
			if (tok[0] == '@') {
				flow = tok + 1;
				continue;
			}
			char *colon = strchr(tok, ':');
			assert_non_null(colon);
			*colon = 0;
			size_t l = strlen(colon + 1);
			int redeliver = l && colon[1 + l - 1] == '=';
			long ms = atol(colon + 1);
			if (redeliver)
				snprintf(id, sizeof id, "%s", lastid);
			else
				snprintf(id, sizeof id, "%s-%d", corr, seq++);
			snprintf(lastid, sizeof lastid, "%s", id);
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = tok,
				.source = "test",
				.causation_id = "",
				.flow = flow,
				.time_ns = *t0 + (int64_t)(ms * stretch) * MS,
				.partition = -1 };
			assert_int_equal(discover_add(d, &ev), 0);
		}
		*t0 += NS_S;
	}
}

static char *run_case(const struct dcase *c, struct discover_stats *st)
{
	struct discover_opts o;
	discover_opts_default(&o);
	struct discover *d = NULL;
	char err[256];
	assert_int_equal(discover_new(&o, &d, err, sizeof err), 0);
	int flow_no = 0;
	int64_t t0 = INT64_C(1767225600) * NS_S;
	for (int i = 0; i < 6 && c->t[i].spec; i++)
		add_template(d, c->t[i].spec, c->t[i].n, &flow_no, &t0);
	discover_finish(d);
	discover_get_stats(d, st);
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	assert_int_equal(discover_write_yaml(d, f, NULL, err, sizeof err), 0);
	fclose(f);
	discover_free(d);
	return yaml;
}

static const struct fg_flow *find_step(const struct flowgraph *g, const char *name, int *idx)
{
	for (int f = 0; f < g->nflows; f++) {
		int i = fg_step_index(&g->flows[f], name);
		if (i >= 0) {
			*idx = i;
			return &g->flows[f];
		}
	}
	return NULL;
}

static fg_mask mask_of(const struct fg_flow *f, const char *list)
{
	fg_mask m = 0;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		int i = fg_step_index(f, tok);
		if (i < 0)
			fail_msg("step %s not in flow %s", tok, f->name);
		m |= FG_BIT(i);
	}
	return m;
}

/* One expectation: "VERB STEP [= VALUE]" (see the table); "within S = D" means
 * 0 < within <= D. */
static void expect(
    const struct flowgraph *g, const struct discover_stats *st, const char *w, const char *yaml)
{
	char verb[32] = "", step[64] = "", val[128] = "";
	int n = sscanf(w, "%31s %63s = %127[^\n]", verb, step, val);
	if (!strcmp(verb, "flows")) {
		assert_int_equal(g->nflows, atoi(step));
		return;
	}
	if (!strcmp(verb, "redeliveries")) {
		assert_int_equal(st->redeliveries, (uint64_t)atoll(step));
		return;
	}
	if (!strcmp(verb, "cw")) {
		const struct fg_flow *f = find_step(g, strtok(strcpy(val, w + 5), ","), &n);
		assert_non_null(f);
		assert_int_equal(f->complete_when, mask_of(f, w + 5));
		return;
	}
	int i = -1;
	const struct fg_flow *f = find_step(g, step, &i);
	if (!strcmp(verb, "absent")) {
		assert_null(f);
		return;
	}
	if (!f)
		fail_msg("step %s not discovered; YAML:\n%s", step, yaml);
	const struct fg_step *s = &f->steps[i];
	if (!strcmp(verb, "start"))
		assert_true(s->start);
	else if (!strcmp(verb, "after"))
		assert_int_equal(s->after, n == 3 ? mask_of(f, val) : 0);
	else if (!strcmp(verb, "any"))
		assert_int_equal(s->after_any, mask_of(f, val));
	else if (!strcmp(verb, "alts"))
		assert_int_equal(s->alts, n == 3 ? mask_of(f, val) : 0);
	else if (!strcmp(verb, "optional"))
		assert_true(s->optional);
	else if (!strcmp(verb, "required"))
		assert_false(s->optional);
	else if (!strcmp(verb, "retries"))
		assert_int_equal(s->retries, atoi(val));
	else if (!strcmp(verb, "noend"))
		assert_int_equal(s->outcome, -1);
	else if (!strcmp(verb, "end")) {
		assert_true(s->outcome >= 0);
		assert_string_equal(f->outcomes[s->outcome], val);
	} else if (!strcmp(verb, "flow"))
		assert_string_equal(f->name, val);
	else if (!strcmp(verb, "within")) {
		int64_t lim;
		char why[64];
		assert_int_equal(config_parse_duration(val, &lim, why, sizeof why), 0);
		assert_true(s->within_ns > 0 && s->within_ns <= lim);
	} else
		fail_msg("unknown expectation \"%s\"", w);
}

static void test_case(void **state)
{
	const struct dcase *c = *state;
	struct discover_stats st;
	char *yaml = run_case(c, &st);
	struct config *cfg = NULL;
	char err[4096];
	if (config_load_string(c->name, yaml, strlen(yaml), &cfg, err, sizeof err) != 0)
		fail_msg("discovered YAML does not load:\n%s\n%s", err, yaml);
	for (int i = 0; i < 12 && c->want[i]; i++) {
		print_message("  %s: %s\n", c->name, c->want[i]);
		expect(&cfg->graph, &st, c->want[i], yaml);
	}
	config_free(cfg);
	free(yaml);
}

/* ---- histograms ---- */

static void test_hist_quantiles(void **state)
{
	(void)state;
	struct dhist h;
	memset(&h, 0, sizeof h);
	assert_int_equal(dhist_quantile(&h, 0.99), 0);
	for (int i = 1; i <= 1000; i++) /* 1 ms .. 1 s, uniform */
		dhist_add(&h, (int64_t)i * MS);
	int64_t p50 = dhist_quantile(&h, 0.5), p99 = dhist_quantile(&h, 0.99);
	assert_true(p50 > 420 * MS && p50 < 600 * MS); /* buckets are ~19 % wide */
	assert_true(p99 > 900 * MS && p99 < 1200 * MS);
	/* outliers far beyond 3 x p90 do not move the robust p99 */
	for (int i = 0; i < 30; i++)
		dhist_add(&h, 60 * NS_S);
	assert_true(dhist_quantile(&h, 0.99) > 30 * NS_S);
	assert_true(dhist_robust(&h, 0.99) < 1200 * MS);
	dhist_add(&h, -5); /* negative (disorder): counted as 0 */
	assert_int_equal(h.n, 1031);
}

/* ---- bounds ---- */

/* n chain flows, one second apart, with a 10 s idle bound and max_flows 100: the
 * counters hold the same bytes whatever n, and the in-flight table stays bounded. */
static void run_many(int n, size_t max_flows, struct discover_stats *st)
{
	struct discover_opts o;
	discover_opts_default(&o);
	o.max_flows = max_flows;
	o.idle_ns = 10 * NS_S;
	struct discover *d = NULL;
	char err[128];
	assert_int_equal(discover_new(&o, &d, err, sizeof err), 0);
	int flow_no = 0;
	int64_t t0 = INT64_C(1767225600) * NS_S;
	add_template(d, "A:0 B:100 C:300", n, &flow_no, &t0);
	discover_finish(d);
	discover_get_stats(d, st);
	discover_free(d);
}

static void test_memory_independent_of_flows(void **state)
{
	(void)state;
	struct discover_stats small, big;
	run_many(1000, 100, &small);
	run_many(50000, 100, &big);
	assert_int_equal(small.flows, 1000);
	assert_int_equal(big.flows, 50000);
	assert_int_equal(small.counter_bytes, big.counter_bytes);
	assert_int_equal(small.table_bytes, big.table_bytes);
	assert_int_equal(big.types, 3);
	assert_int_equal(big.pairs, 3);
	assert_true(big.peak_in_flight <= 12); /* 10 s idle, one flow a second */
	assert_true(big.closed_idle > 49000);
}

/* max_flows reached: the least recently seen flow is closed (counted), never more
 * than max_flows in flight. */
static void test_max_flows_evicts(void **state)
{
	(void)state;
	struct discover_opts o;
	discover_opts_default(&o);
	o.max_flows = 10;
	struct discover *d = NULL;
	char err[128];
	assert_int_equal(discover_new(&o, &d, err, sizeof err), 0);
	int64_t t0 = INT64_C(1767225600) * NS_S;
	char corr[16], id[16];
	for (int i = 0; i < 100; i++) { /* 100 flows open at once: A of all, then B of all */
		snprintf(corr, sizeof corr, "c%d", i);
		snprintf(id, sizeof id, "a%d", i);
		struct event ev = { .event_id = id,
			.correlation_id = corr,
			.type = "A",
			.source = "t",
			.causation_id = "",
			.time_ns = t0 + i * MS,
			.partition = -1 };
		discover_add(d, &ev);
	}
	struct discover_stats st;
	discover_get_stats(d, &st);
	assert_int_equal(st.in_flight, 10);
	assert_int_equal(st.peak_in_flight, 10);
	assert_int_equal(st.closed_evicted, 90);
	assert_int_equal(st.flows, 90);
	discover_finish(d);
	discover_get_stats(d, &st);
	assert_int_equal(st.flows, 100);
	assert_int_equal(st.in_flight, 0);
	discover_free(d);
}

static void test_bad_options(void **state)
{
	(void)state;
	static const struct {
		const char *field;
		double v;
	} bad[] = {
		{ "quantile", 1.0 },
		{ "quantile", 0 },
		{ "margin", 0.5 },
		{ "min_support", 0.5 },
		{ "min_support", 0 },
		{ "max_flows", 0 },
		{ "idle", 0 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct discover_opts o;
		discover_opts_default(&o);
		if (!strcmp(bad[i].field, "quantile"))
			o.quantile = bad[i].v;
		if (!strcmp(bad[i].field, "margin"))
			o.margin = bad[i].v;
		if (!strcmp(bad[i].field, "min_support"))
			o.min_support = bad[i].v;
		if (!strcmp(bad[i].field, "max_flows"))
			o.max_flows = (size_t)bad[i].v;
		if (!strcmp(bad[i].field, "idle"))
			o.idle_ns = (int64_t)bad[i].v;
		struct discover *d = NULL;
		char err[128] = "";
		assert_int_equal(discover_new(&o, &d, err, sizeof err), -1);
		assert_null(d);
		assert_non_null(strstr(err, bad[i].field));
	}
	discover_free(NULL);
}

/* Nothing learned: an error, not an empty YAML. */
static void test_too_few_flows(void **state)
{
	(void)state;
	struct discover_opts o;
	discover_opts_default(&o);
	struct discover *d = NULL;
	char err[256];
	assert_int_equal(discover_new(&o, &d, err, sizeof err), 0);
	int flow_no = 0;
	int64_t t0 = 0;
	add_template(d, "A:0 B:100", 3, &flow_no, &t0);
	discover_finish(d);
	FILE *f = fopen("/dev/null", "w");
	assert_int_equal(discover_write_yaml(d, f, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "nothing learned"));
	fclose(f);
	discover_free(d);
}

int main(void)
{
	struct CMUnitTest tests[NCASES + 6];
	for (size_t i = 0; i < NCASES; i++)
		tests[i] =
		    (struct CMUnitTest){ cases[i].name, test_case, NULL, NULL, (void *)&cases[i] };
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test(test_hist_quantiles);
	tests[NCASES + 1] = (struct CMUnitTest)cmocka_unit_test(test_memory_independent_of_flows);
	tests[NCASES + 2] = (struct CMUnitTest)cmocka_unit_test(test_max_flows_evicts);
	tests[NCASES + 3] = (struct CMUnitTest)cmocka_unit_test(test_bad_options);
	tests[NCASES + 4] = (struct CMUnitTest)cmocka_unit_test(test_too_few_flows);
	return _cmocka_run_group_tests("discover", tests, NCASES + 5, NULL, NULL);
}
