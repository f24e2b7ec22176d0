/* test_waterfall: the rows `choreoscope history` draws for known timeline documents
 * (the API's shape, as the history store renders them): a closed flow from Kafka with
 * a declared and a learned owner, verdicts placed at their time among the events, the
 * bar scaled to the flow's span; an open flow whose verdict comes after every event;
 * documents that are not timelines are refused with nothing written. Exact text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/waterfall.h"

/* Renders doc with a bar of w columns; the caller frees the text. */
static char *render(const char *doc, int w, int *rc)
{
	char *text = NULL, err[256] = "";
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	*rc = waterfall_write(f, doc, strlen(doc), w, err, sizeof err);
	fclose(f);
	if (*rc != 0)
		assert_true(strstr(err, "not a timeline document") != NULL);
	return text;
}

/* A compensated order: placed at 0, payment at 2 s (declared owner), inventory at 3 s
 * out of order (learned owner), a missing verdict at 8 s, shipping at 10 s, closed at
 * 10 s; one event not stored (events_total 5). */
static const char closed_doc[] =
    "{\"flow\":\"order\",\"correlation_id\":\"o-4711\",\"state\":\"compensated\","
    "\"outcome\":\"compensated\",\"opened\":\"2026-11-25T10:00:00Z\","
    "\"closed\":\"2026-11-25T10:00:10Z\",\"duration_seconds\":10,\"events_total\":5,"
    "\"events\":["
    "{\"event_id\":\"e1\",\"type\":\"OrderPlaced\",\"source\":\"shop\","
    "\"time\":\"2026-11-25T10:00:00Z\",\"topic\":\"events\",\"partition\":3,\"offset\":1042,"
    "\"attributes\":{}},"
    "{\"event_id\":\"e2\",\"type\":\"PaymentAuthorized\",\"source\":\"payments\","
    "\"time\":\"2026-11-25T10:00:02Z\",\"topic\":\"events\",\"partition\":3,\"offset\":1043,"
    "\"attributes\":{}},"
    "{\"event_id\":\"e4\",\"type\":\"ShippingQuoted\",\"source\":\"shipping\","
    "\"time\":\"2026-11-25T10:00:10Z\",\"topic\":\"events\",\"partition\":1,\"offset\":7,"
    "\"attributes\":{}},"
    "{\"event_id\":\"e3\",\"type\":\"InventoryReserved\",\"source\":\"inventory\","
    "\"time\":\"2026-11-25T10:00:03Z\",\"topic\":\"events\",\"partition\":3,\"offset\":1044,"
    "\"attributes\":{}}],"
    "\"steps\":["
    "{\"name\":\"OrderPlaced\",\"status\":\"happened\"},"
    "{\"name\":\"PaymentAuthorized\",\"status\":\"happened\",\"owner\":\"payments\","
    "\"owner_learned\":false},"
    "{\"name\":\"Refund\",\"status\":\"missing\",\"owner\":\"billing\",\"owner_learned\":false},"
    "{\"name\":\"Notify\",\"status\":\"stalled\",\"owner\":\"mailer\",\"owner_learned\":true}],"
    "\"anomalies\":[{\"kind\":\"out_of_order\",\"step\":\"InventoryReserved\","
    "\"at\":\"2026-11-25T10:00:10Z\"},"
    "{\"kind\":\"missing\",\"step\":\"Refund\",\"at\":\"2026-11-25T10:00:08Z\"}],"
    "\"stored\":true,\"retired\":\"2026-11-25T10:00:11Z\"}";

static void test_closed_flow(void **state)
{
	(void)state;
	int rc;
	char *out = render(closed_doc, 21, &rc);
	/* 21 columns over 10 s: one column per half second */
	const char *want =
	    "order o-4711  outcome compensated  duration 10s  anomalies out_of_order,missing\n"
	    "  awaiting Refund missing (owner billing), Notify stalled (owner ~mailer)\n"
	    "  from 2026-11-25T10:00:00Z, bars scaled to 10s; events 5, 4 stored\n"
	    "     +TIME |                     | EVENT             SOURCE    "
	    "TOPIC/PARTITION@OFFSET\n"
	    "     0.00s |=                    | OrderPlaced       shop      events/3@1042\n"
	    "      2.0s |=====                | PaymentAuthorized payments  events/3@1043\n"
	    "      8.0s |                !    | ! missing Refund\n"
	    "       10s |    =================| ShippingQuoted    shipping  events/1@7\n"
	    "      3.0s |      <              | InventoryReserved inventory events/3@1044\n"
	    "       10s |                    !| ! out_of_order InventoryReserved\n";

	assert_int_equal(rc, 0);
	assert_string_equal(out, want);
	free(out);
}

/* Open (never closed): the span ends at the last verdict; a verdict without a step. */
static void test_open_flow(void **state)
{
	(void)state;
	int rc;
	char *out =
	    render("{\"flow\":\"quote\",\"correlation_id\":\"q1\",\"state\":\"open\","
		   "\"outcome\":\"open\",\"opened\":\"2026-01-01T00:00:00Z\",\"closed\":null,"
		   "\"duration_seconds\":null,\"events\":[{\"type\":\"QuoteRequested\","
		   "\"source\":\"quotes\",\"time\":\"2026-01-01T00:00:00Z\",\"topic\":null,"
		   "\"partition\":-1,\"offset\":8}],\"steps\":[],\"anomalies\":[{\"kind\":"
		   "\"abandoned\",\"step\":null,\"at\":\"2026-01-01T00:01:00Z\"}]}",
		8, &rc);
	const char *want = "quote q1  outcome open  duration -  anomalies abandoned\n"
			   "  awaiting nothing\n"
			   "  from 2026-01-01T00:00:00Z, bars scaled to 1m00s; events 1, 1 stored\n"
			   "     +TIME |        | EVENT          SOURCE TOPIC/PARTITION@OFFSET\n"
			   "     0.00s |=       | QuoteRequested quotes -/-@8\n"
			   "     1m00s |       !| ! abandoned\n";

	assert_int_equal(rc, 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_not_a_timeline(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "[1,2]", "{\"flow\":\"order\"}",
		"{\"flow\":", "not json" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc;
		char *out = render(bad[i], 40, &rc);
		assert_int_equal(rc, -1);
		assert_string_equal(out, ""); /* nothing written */
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_flow),
		cmocka_unit_test(test_open_flow),
		cmocka_unit_test(test_not_a_timeline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
