/* Unit tests for decode_cloudevents: binary and structured mode, JSON path lookups (the
 * decoder's, which `field:PATH` uses) and RFC3339 times, each as a table of inputs and
 * exact expected outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "decode/decode.h"
#include "decode/decode_cloudevents.h"

#define T0 1764115200000000000LL /* 2025-11-26T00:00:00Z */

static char buf[4096];
static struct ce_scratch scratch = { .buf = buf, .cap = sizeof buf };

struct lookup_case {
	const char *json, *path, *want; /* want NULL: absent */
};

static const struct lookup_case lookup_cases[] = {
	{ "{\"a\":\"x\"}", "a", "x" },
	{ " { \"o\" : { \"id\" : \"o-1\" , \"n\":2} } ", "o.id", "o-1" },
	{ "{\"o\":{\"n\":42}}", "o.n", "42" },
	{ "{\"o\":{\"b\":true}}", "o.b", "true" },
	{ "{\"s\":\"a\\\"b\\u00e9\\ud83d\\ude00\"}", "s", "a\"b\xc3\xa9\xf0\x9f\x98\x80" },
	{ "{\"x\":[1,{\"a\":\"}\"}],\"a\":\"after\"}", "a", "after" },
	{ "{\"a\":{\"b\":1}}", "a", NULL },
	{ "{\"a\":null}", "a", NULL },
	{ "{\"a\":\"x\"}", "b", NULL },
	{ "{\"a\":\"x\"", "b", NULL },
	{ "not json", "a", NULL },
	{ "[1,2]", "a", NULL },
	{ "{\"a\":\"x\",\"a\":\"y\"}", "a", "y" }, /* the last occurrence wins */
	{ "{\"a\":\"x\",\"a\":[1]}", "a", NULL },
	{ "{\"a\":\"\\ud800\"}", "a", NULL }, /* lone surrogates: not JSON text */
	{ "{\"a\":\"x\",\"b\":\"\\udc00\"}", "a", NULL },
};

static void test_lookup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof lookup_cases / sizeof lookup_cases[0]; i++) {
		const struct lookup_case *c = &lookup_cases[i];
		char err[160];
		struct decoder *d = decoder_new(NULL, 0, err, sizeof err);
		assert_non_null(d);
		assert_int_equal(decoder_add_lookup(d, c->path, err, sizeof err), 0);
		int r =
		    decode_json_members(d, c->json, strlen(c->json), NULL, NULL, err, sizeof err);
		const char *got = decoder_lookup(d, 0);
		if ((c->want == NULL) != (got == NULL) ||
		    (c->want != NULL && strcmp(got, c->want) != 0))
			fail_msg("%s @ %s: r=%d got=%s want=%s", c->json, c->path, r,
			    got ? got : "-", c->want ? c->want : "(absent)");
		decoder_free(d);
	}
}

#define H(n, v) \
	{ \
		n, v, sizeof v - 1 \
	}

static const char *attr_of(const struct event *ev, const char *key)
{
	for (uint32_t i = 0; i < ev->nattrs; i++)
		if (strcmp(ev->attrs[i].key, key) == 0)
			return ev->attrs[i].val;
	return "(absent)";
}

static void test_binary(void **state)
{
	const struct ce_header ok[] = { H("ce_specversion", "1.0"), H("ce_id", "e-1"),
		H("ce_type", "OrderPlaced"), H("ce_source", "/orders"),
		H("ce_time", "2025-11-26T00:00:00Z"), H("ce_correlationid", "o-7"),
		H("ce_subject", "s"), H("ce_tenant", "acme"),
		H("content-type", "application/json") };
	const struct ce_header no_time[] = { H("ce_id", "e-1"), H("ce_type", "T"),
		H("ce_source", "s") };
	const struct ce_header bad_time[] = { H("ce_id", "e-1"), H("ce_type", "T"),
		H("ce_source", "s"), H("ce_time", "noon") };
	struct event ev;
	const char *reason = NULL;

	(void)state;
	assert_true(ce_is_binary(ok, 9));
	assert_false(ce_is_structured(ok, 9));
	ce_scratch_reset(&scratch);
	assert_int_equal(ce_decode_binary(ok, 9, &scratch, &ev, &reason), 0);
	assert_string_equal(ev.event_id, "e-1");
	assert_string_equal(ev.type, "OrderPlaced");
	assert_string_equal(ev.source, "/orders");
	assert_string_equal(ev.correlation_id, "o-7");
	assert_true(ev.time_ns == T0);
	assert_null(ev.flow);
	assert_int_equal(ev.nattrs, 2);
	assert_string_equal(attr_of(&ev, "tenant"), "acme");
	assert_int_equal(ce_decode_binary(no_time, 3, &scratch, &ev, &reason), -1);
	assert_string_equal(reason, "missing_field");
	assert_int_equal(ce_decode_binary(bad_time, 4, &scratch, &ev, &reason), -1);
	assert_string_equal(reason, "bad_time");
}

/* Time edges in binary mode: the accepted range and its ends. */
static void test_binary_time_edges(void **state)
{
	static const struct {
		const char *time;
		const char *reason;
		int64_t ns;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", NULL, 0 },
		{ "2199-12-31T23:59:59.999999999Z", NULL, 7258118399999999999LL },
		{ "2200-01-01T00:00:00Z", "time_out_of_range", 0 },
		{ "2262-04-11T23:47:16.854775807Z", "time_out_of_range", 0 },
		{ "2262-04-11T23:47:16.854775808Z", "time_out_of_range", 0 },
		{ "1677-09-21T00:12:44Z", "time_out_of_range", 0 },
		{ "1677-09-21T00:12:43.145224192Z", "time_out_of_range", 0 },
		{ "1969-12-31T23:59:59.999999999Z", "time_out_of_range", 0 },
		{ "9999-12-31T23:59:59Z", "time_out_of_range", 0 },
		{ "2026-02-30T00:00:00Z", "bad_time", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ce_header h[] = { H("ce_id", "e-1"), H("ce_type", "T"),
			H("ce_source", "s"), { "ce_time", cases[i].time, strlen(cases[i].time) } };
		struct event ev;
		const char *reason = NULL;
		ce_scratch_reset(&scratch);
		int r = ce_decode_binary(h, 4, &scratch, &ev, &reason);
		if (cases[i].reason == NULL ? r != 0 || ev.time_ns != cases[i].ns
					    : r == 0 || strcmp(reason, cases[i].reason) != 0)
			fail_msg("%s: r=%d reason=%s", cases[i].time, r, r ? reason : "-");
	}
}

struct structured_case {
	const char *json;
	const char *reason; /* NULL: decodes */
	const char *id, *corr, *flow;
};

static const struct structured_case structured_cases[] = {
	{ "{\"specversion\":\"1.0\",\"id\":\"e-2\",\"type\":\"PaymentAuthorized\",\"source\":"
	  "\"pay\","
	  "\"time\":\"2025-11-26T00:00:00Z\",\"correlationid\":\"o-9\",\"flow\":\"order\","
	  "\"datacontenttype\":\"application/json\",\"data\":{\"amount\":10}}",
	    NULL, "e-2", "o-9", "order" },
	{ "{\"id\":\"e-3\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2025-11-26T00:00:00Z\","
	  "\"data\":[1,2],\"n\":5}",
	    NULL, "e-3", "", NULL },
	{ "{\"id\":\"e-3\",\"type\":\"T\",\"source\":\"s\"}", "missing_field", NULL, NULL, NULL },
	{ "{\"id\":\"e-3\",\"type\":\"T\",\"source\":\"s\",\"time\":\"x\"}", "bad_time", NULL, NULL,
	    NULL },
	{ "{\"id\":\"e-3\",\"type\":", "malformed_json", NULL, NULL, NULL },
	{ "\x01\x02garbage", "malformed_json", NULL, NULL, NULL },
	{ "{\"id\":\"e\"} trailing", "malformed_json", NULL, NULL, NULL },
	{ "{\"id\":\"e-3\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2262-04-11T23:47:16."
	  "854775807Z\"}",
	    "time_out_of_range", NULL, NULL, NULL },
	{ "{\"id\":\"e-3\",\"type\":\"T\",\"source\":\"s\",\"time\":\"1969-12-31T23:59:59Z\"}",
	    "time_out_of_range", NULL, NULL, NULL },
	{ "{\"id\":\"\\ud800\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2025-11-26T00:00:00Z\"}",
	    "bad_utf8", NULL, NULL, NULL },
	{ "{\"id\":\"\\ud800\\u0041\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2025-11-26T00:00:"
	  "00Z\"}",
	    "bad_utf8", NULL, NULL, NULL },
	{ "{\"id\":\"e\\u0000\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2025-11-26T00:00:00Z\"}",
	    "bad_utf8", NULL, NULL, NULL },
	{ "{\"id\":\"e-4\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2025-11-26T00:00:00Z\","
	  "\"data\":\"plain text data\",\"data_base64\":\"eA==\",\"n\":null}",
	    NULL, "e-4", "", NULL },
};

static void test_structured(void **state)
{
	const struct ce_header ct[] = { H(
	    "content-type", "application/cloudevents+json; charset=UTF-8") };
	const struct ce_header ct_other[] = { H("content-type", "application/cloudevents+jsonx") };

	char err[160];
	struct decoder *d = decoder_new(NULL, 0, err, sizeof err);

	(void)state;
	assert_non_null(d);
	assert_true(ce_is_structured(ct, 1));
	assert_false(ce_is_structured(ct_other, 1));
	assert_false(ce_is_binary(ct, 1));
	for (size_t i = 0; i < sizeof structured_cases / sizeof structured_cases[0]; i++) {
		const struct structured_case *c = &structured_cases[i];
		struct event ev;
		const char *reason = NULL;
		int r;
		ce_scratch_reset(&scratch);
		r = ce_decode_structured(d, c->json, strlen(c->json), &scratch, &ev, &reason);
		if (c->reason != NULL) {
			if (r == 0 || strcmp(reason, c->reason) != 0)
				fail_msg("case %zu: r=%d reason=%s want %s", i, r, r ? reason : "-",
				    c->reason);
			continue;
		}
		if (r != 0)
			fail_msg("case %zu: rejected: %s", i, reason);
		assert_string_equal(ev.event_id, c->id);
		assert_string_equal(ev.correlation_id, c->corr);
		if (c->flow == NULL)
			assert_null(ev.flow);
		else
			assert_string_equal(ev.flow, c->flow);
		assert_true(ev.time_ns == T0);
		if (strcmp(c->id, "e-4") == 0) /* data members are not attributes */
			assert_int_equal(ev.nattrs, 0);
	}
	decoder_free(d);
}

static void test_scratch_full(void **state)
{
	char small[8];
	struct ce_scratch s = { .buf = small, .cap = sizeof small };
	const struct ce_header h[] = { H("ce_id", "a-very-long-event-id") };
	struct event ev;
	const char *reason = NULL;

	(void)state;
	assert_int_equal(ce_decode_binary(h, 1, &s, &ev, &reason), -1);
	assert_string_equal(reason, "too_large");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_binary_time_edges),
		cmocka_unit_test(test_structured),
		cmocka_unit_test(test_scratch_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
