/*
 * test_engine_view: the introspection views the HTTP API renders: step statuses
 * (happened, pending, stalled, missing, cancelled, not expected), deadlines,
 * reported kinds, lookup by primary and linked key, and foreach over every instance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "engine/engine.h"

#define S(x) (INT64_C(1767225600000000000) + (int64_t)(x)*1000000000)

static const char *CONFIG =
    "flows:\n"
    "  - name: order\n"
    "    keys: [payment_id]\n"
    "    steps:\n"
    "      OrderPlaced:       { start: true }\n"
    "      PaymentAuthorized: { after: [OrderPlaced], within: 30s }\n"
    "      PaymentDeclined:   { after: [OrderPlaced], within: 30s, instead_of: [PaymentAuthorized] "
    "}\n"
    "      InventoryReserved: { after: [PaymentAuthorized], within: 10s }\n"
    "      ShippingQuoted:    { after: [PaymentAuthorized], within: 10s }\n"
    "      Packed:            { after: [ShippingQuoted] }\n"
    "      OrderConfirmed:    { after: [InventoryReserved, Packed], end: completed }\n";

struct seen {
	struct engine_view v;
	struct engine_step_view steps[8];
	char corr[32];
	int calls;
};

static int keep(void *arg, const struct engine_view *v)
{
	struct seen *s = arg;
	s->v = *v;
	memcpy(s->steps, v->steps, sizeof(s->steps[0]) * 7);
	strncpy(s->corr, v->correlation_id, sizeof(s->corr) - 1);
	s->calls++;
	return 0;
}

static void apply(struct engine *e, const char *id, const char *corr, const char *type, int64_t t,
    const char *pay)
{
	struct ev_attr a[1] = { { "payment_id", pay } };
	struct event ev = { .event_id = id,
		.correlation_id = corr,
		.type = type,
		.source = "t",
		.causation_id = "",
		.time_ns = t,
		.attrs = a,
		.nattrs = pay ? 1 : 0,
		.partition = -1 };
	engine_apply(e, &ev);
}

static void test_views(void **state)
{
	(void)state;
	char err[2048];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("v", CONFIG, strlen(CONFIG), &cfg, err, sizeof(err)), 0);
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, NULL, &e, err, sizeof(err)), 0);
	apply(e, "1", "o1", "OrderPlaced", S(0), "p1");
	apply(e, "2", "o1", "PaymentAuthorized", S(1), NULL);
	apply(e, "3", "o1", "Packed", S(2), NULL); /* ShippingQuoted owed */
	apply(e, "4", "o2", "OrderPlaced", S(30),
	    NULL); /* clock to 25: IR stalls at 11, SQ missing at 7 */

	struct seen s = { .calls = 0 };
	assert_int_equal(engine_lookup(e, 0, "p1", keep, &s), 0); /* by the linked key */
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.corr, "o1");
	assert_null(s.v.outcome);
	assert_int_equal(s.v.events, 3);
	assert_int_equal(s.steps[0].status, ENGINE_STEP_HAPPENED);
	assert_int_equal(s.steps[1].status, ENGINE_STEP_HAPPENED);
	assert_int_equal(s.steps[2].status, ENGINE_STEP_CANCELLED);
	assert_int_equal(s.steps[3].status, ENGINE_STEP_STALLED);
	assert_true(s.steps[3].deadline_ns == S(11));
	assert_int_equal(s.steps[4].status, ENGINE_STEP_MISSING);
	assert_int_equal(s.steps[5].status, ENGINE_STEP_HAPPENED);
	assert_int_equal(s.steps[6].status, ENGINE_STEP_NOT_EXPECTED);
	assert_true(s.v.stalled == FG_BIT(3));
	assert_true(s.v.awaiting == FG_BIT(3));
	assert_int_equal(s.v.last_step, 5);
	assert_true(s.v.kinds == ((1u << AN_STALLED) | (1u << AN_MISSING)));

	assert_int_equal(engine_lookup(e, 0, "o2", keep, &s), 0);
	assert_int_equal(s.steps[1].status, ENGINE_STEP_PENDING);
	assert_true(s.steps[1].deadline_ns == S(60));
	assert_true(s.v.awaiting == (FG_BIT(1) | FG_BIT(2)));
	assert_int_equal(engine_lookup(e, 0, "nope", keep, &s), -1);

	s.calls = 0;
	engine_foreach(e, -1, keep, &s);
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.corr, "o2"); /* oldest first */
	engine_free(e);
	config_free(cfg);
}

/* The oldest current stall per step: exact as stalls clear out of order. */
static void test_oldest_stall(void **state)
{
	(void)state;
	char err[2048];
	struct config *cfg = NULL;
	assert_int_equal(
	    config_load_string("v", CONFIG, strlen(CONFIG), &cfg, err, sizeof(err)), 0);
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, 0 };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, NULL, &e, err, sizeof(err)), 0);
	assert_true(engine_oldest_stall(e, 0, 1) == ENGINE_NO_TIME);
	char id[16], corr[16];
	for (int k = 0; k < 200; k++) { /* PaymentAuthorized stalls at 30 + k */
		snprintf(id, sizeof(id), "o%d", k);
		snprintf(corr, sizeof(corr), "c%d", k);
		apply(e, id, corr, "OrderPlaced", S(k), NULL);
	}
	apply(e, "tick", "zz", "OrderPlaced", S(300), NULL);
	assert_true(engine_oldest_stall(e, 0, 1) == S(30));
	/* the oldest ones move on (late), out of order with younger ones */
	for (int k = 0; k < 150; k += 2) {
		snprintf(id, sizeof(id), "pa%d", k);
		snprintf(corr, sizeof(corr), "c%d", k);
		apply(e, id, corr, "PaymentAuthorized", S(301), NULL);
	}
	assert_true(engine_oldest_stall(e, 0, 1) == S(31));
	for (int k = 1; k < 150; k += 2) {
		snprintf(id, sizeof(id), "pd%d", k);
		snprintf(corr, sizeof(corr), "c%d", k);
		apply(e, id, corr, "PaymentDeclined", S(301), NULL); /* cancels PaymentAuthorized */
	}
	assert_true(engine_oldest_stall(e, 0, 1) == S(180));
	assert_true(engine_oldest_stall(e, 0, 2) == S(180)); /* PaymentDeclined */
	engine_free(e);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_views),
		cmocka_unit_test(test_oldest_stall) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
