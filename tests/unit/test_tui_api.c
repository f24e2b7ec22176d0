/* Unit tests for tui/api.c (parsing the collector's JSON answers, fixtures in
 * tests/fixtures/tui/) and the model's summary history (tui/model.c, pure part).
 * The modules are compiled into this binary directly; it links the TUI libraries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/api.c"
#include "../../tui/fmt.c"
#include "../../tui/model.c"

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf = malloc(1 << 16);

	snprintf(path, sizeof path, "tests/fixtures/tui/%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_summary(void **state)
{
	size_t len;
	char *b = slurp("summary.json", &len), err[256];
	struct api_summary *s = api_parse_summary(b, len, err, sizeof err);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->instance, "host:9717");
	assert_true(s->ready);
	assert_int_equal(s->consumer_lag, 17);
	assert_int_equal(s->nflows, 2);
	assert_string_equal(s->flows[0].name, "order");
	assert_int_equal(s->flows[0].in_flight, 42);
	assert_int_equal(s->flows[0].closed_total, 862);
	assert_int_equal(s->flows[0].stalled_now, 3);
	assert_int_equal(s->flows[0].nanomalies, 3);
	assert_string_equal(s->flows[0].anomalies[0].kind, "stalled");
	assert_int_equal(s->flows[0].anomalies[0].n, 5);
	assert_true(fabs(s->flows[0].p99 - 5.0) < 1e-9);
	assert_true(isnan(s->flows[1].p50)); /* null: unknown, not zero */
	assert_int_equal(s->total_flows, 2); /* no "total" (an older collector): the flows */
	assert_false(s->truncated);
	api_free_summary(s);
	free(b);
	/* one page of a collector declaring more flows than it sent */
	static const char page[] = "{\"collector\":{\"version\":\"1\"},\"total\":5000,\"offset\":0,"
				   "\"limit\":64,\"flows\":[{\"name\":\"f0\",\"in_flight\":1}]}";
	s = api_parse_summary(page, strlen(page), err, sizeof err);
	assert_non_null(s);
	assert_int_equal(s->nflows, 1);
	assert_int_equal(s->total_flows, 5000);
	assert_true(s->truncated);
	api_free_summary(s);
}

static void test_flows(void **state)
{
	size_t len;
	char *b = slurp("flows.json", &len), err[256];
	struct api_flowpage *p = api_parse_flows(b, len, err, sizeof err);

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->total, 3);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->items[0].cid, "o-17");
	/* the awaited step shown is the most overdue stalled one */
	assert_string_equal(p->items[0].awaiting, "InventoryReserved");
	assert_true(fabs(p->items[0].overdue - 31.2) < 1e-9);
	assert_string_equal(p->items[0].kinds, "stalled,duplicate");
	assert_int_equal(p->items[0].nstalled, 2); /* every stalled step, in order */
	assert_string_equal(p->items[0].stalled[0].step, "ShippingQuoted");
	assert_true(fabs(p->items[0].stalled[0].overdue - 2.0) < 1e-9);
	/* owners: a learned one is marked with ~, a declared one is as declared */
	assert_string_equal(p->items[0].stalled[0].owner, "~shipping");
	assert_string_equal(p->items[0].stalled[1].owner, "inventory-service");
	assert_string_equal(p->items[0].last_source, "payments");
	assert_string_equal(p->items[1].awaiting, "");
	assert_true(isnan(p->items[1].overdue));
	api_free_flows(p);
	free(b);
}

static void test_detail(void **state)
{
	size_t len;
	char *b = slurp("detail.json", &len), err[256];
	struct api_detail *d = api_parse_detail(b, len, err, sizeof err);

	(void)state;
	assert_non_null(d);
	assert_int_equal(d->nevents, 2);
	assert_true(fabs(d->events[1].t - d->events[0].t - 1.5) < 1e-6);
	assert_int_equal(d->events[0].nattrs, 3);
	assert_string_equal(d->events[0].attrs[1].key, "n");
	assert_string_equal(d->events[0].attrs[1].val, "7"); /* non-strings as JSON text */
	assert_string_equal(d->events[0].attrs[2].val, "true");
	assert_int_equal(d->events[0].partition, 3);
	assert_int_equal(d->nsteps, 2);
	assert_string_equal(d->steps[1].status, "stalled");
	assert_true(fabs(d->steps[1].overdue - 31.2) < 1e-9);
	assert_string_equal(d->steps[1].owner, "inventory-service");
	assert_string_equal(d->steps[0].owner, "");
	assert_true(isnan(d->t_closed));
	assert_true(isnan(d->duration));
	assert_int_equal(d->nanomalies, 1);
	api_free_detail(d);
	free(b);
}

static void test_graphs_anomalies(void **state)
{
	size_t len, len2;
	char *b = slurp("graphs.json", &len), *b2 = slurp("anomalies.json", &len2), err[256];
	struct api_graphs *g = api_parse_graphs(b, len, err, sizeof err);
	struct api_anomalies *a = api_parse_anomalies(b2, len2, err, sizeof err);

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->flows[0].nsteps, 3);
	assert_true(g->flows[0].steps[0].start);
	assert_true(isnan(g->flows[0].steps[0].within));
	assert_string_equal(g->flows[0].steps[2].end, "completed");
	assert_int_equal(g->flows[0].nedges, 1);
	assert_int_equal(g->flows[0].edges[0].stuck, 1);
	assert_non_null(a);
	assert_int_equal(a->n, 3);
	assert_string_equal(a->items[1].kind, "missing");
	assert_string_equal(a->items[1].source, "");
	assert_string_equal(a->items[0].owner, "~inventory");
	assert_string_equal(a->items[1].owner, ""); /* none known */
	assert_false(a->items[1].undeclared);
	/* step: null (an undeclared type): the event's type keeps the name */
	assert_string_equal(a->items[2].step, "GiftWrapped");
	assert_true(a->items[2].undeclared);
	api_free_graphs(g);
	api_free_anomalies(a);
	free(b);
	free(b2);
}

/* Bad answers give a reason, never a half-filled struct. */
static void test_bad_answers(void **state)
{
	static const struct {
		const char *body, *reason;
	} cases[] = {
		{ "<html>502 Bad Gateway</html>", "not JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"flows\": []}", "without \"collector\"" },
		{ "{\"collector\": {\"ready\": true, \"events_per_second\": \"fast\"}}",
		    "\"events_per_second\"" },
		{ "{\"collector\": {}, \"flows\": {\"name\": \"x\"}}",
		    "expected an array at \"flows\"" },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		assert_null(
		    api_parse_summary(cases[i].body, strlen(cases[i].body), err, sizeof err));
		assert_non_null(strstr(err, cases[i].reason));
	}
	assert_null(
	    api_parse_flows("{\"items\": [{\"correlation_id\": 17}]}", 35, err, sizeof err));
	assert_non_null(strstr(err, "correlation_id"));
	api_error_text("{\"error\": \"no such flow\", \"status\": 404}", 40, err, sizeof err);
	assert_string_equal(err, "no such flow");
	api_error_text("oops", 4, err, sizeof err);
	assert_string_equal(err, "");
}

/* Anomalies per minute come from the summary history's counter deltas over ~60 s. */
static void test_hist_per_min(void **state)
{
	struct model_hist *h = calloc(API_MAX_FLOWS, sizeof *h);
	struct api_summary *s = calloc(1, sizeof *s);
	int nh = 0, i;

	(void)state;
	assert_non_null(h);
	assert_non_null(s);
	s->nflows = 1;
	snprintf(s->flows[0].name, sizeof s->flows[0].name, "order");
	s->flows[0].nanomalies = 1;
	snprintf(s->flows[0].anomalies[0].kind, sizeof s->flows[0].anomalies[0].kind, "stalled");
	for (i = 0; i <= 100; i++) { /* one sample per second, 2 stalls per second */
		s->flows[0].anomalies[0].n = 2 * i;
		s->flows[0].completed_ps = i;
		model_hist_add(h, &nh, s, 1000.0 + i);
	}
	assert_int_equal(nh, 1);
	assert_int_equal(h[0].n, MODEL_HIST); /* bounded */
	assert_true(fabs(h[0].thr[MODEL_HIST - 1] - 100) < 1e-9);
	assert_true(fabs(model_hist_per_min(&h[0], "stalled") - 120.0) < 1e-9);
	assert_true(model_hist_per_min(&h[0], "missing") == 0);
	free(h);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_summary),
		cmocka_unit_test(test_flows), cmocka_unit_test(test_detail),
		cmocka_unit_test(test_graphs_anomalies), cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_hist_per_min) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
