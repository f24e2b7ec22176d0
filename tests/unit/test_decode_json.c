/* test_decode_json: the JSON decoder over a table of inputs (valid events, escapes,
 * unicode, missing fields, wrong types, attributes, bad UTF-8, malformed JSON), custom
 * dotted field paths, required-field masks, the size bound and decode_json_format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode/decode.h"

#define BASE \
	"\"event_id\":\"e1\",\"correlation_id\":\"o1\",\"type\":\"OrderPlaced\"," \
	"\"source\":\"orders\",\"time\":\"2026-11-25T10:00:00Z\""
#define T0 1795600800000000000LL

struct want {
	const char *name;
	const char *json;
	int code;
	const char *detail; /* substring of err, for errors */
	const char *event_id, *correlation_id, *type, *source, *causation_id, *flow;
	int64_t time_ns;
	const char *attrs; /* "k=v;k=v;" */
};

/* error rows name only what they check; the event fields stay zero */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct want cases[] = {
	{ "minimal", "{" BASE "}", 0, NULL, "e1", "o1", "OrderPlaced", "orders", "", NULL, T0, "" },
	{ "all fields",
	    "{" BASE ",\"flow\":\"order\",\"causation_id\":\"e0\",\"attributes\":"
	    "{\"amount\":\"12.50\",\"n\":3,\"ok\":true,\"f\":-1.5e3}}",
	    0, NULL, "e1", "o1", "OrderPlaced", "orders", "e0", "order", T0,
	    "amount=12.50;n=3;ok=true;f=-1.5e3;" },
	{ "whitespace",
	    " \t{ \"event_id\" : \"e1\" ,\"correlation_id\":\"o1\",\"type\":\"T\","
	    "\"source\":\"s\",\"time\":\"2026-11-25T11:00:00+01:00\" }\r\n",
	    0, NULL, "e1", "o1", "T", "s", "", NULL, T0, "" },
	{ "escapes", "{" BASE ",\"causation_id\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"}",
	    0, NULL, "e1", "o1", "OrderPlaced", "orders", "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80",
	    NULL, T0, "" },
	{ "raw unicode", "{" BASE ",\"flow\":\"\xe6\xb3\xa8\xe6\x96\x87\"}", 0, NULL, "e1", "o1",
	    "OrderPlaced", "orders", "", "\xe6\xb3\xa8\xe6\x96\x87", T0, "" },
	{ "escaped key",
	    "{\"event_\\u0069d\":\"e1\",\"correlation_id\":\"o1\",\"type\":\"T\","
	    "\"source\":\"s\",\"time\":\"2026-11-25T10:00:00Z\"}",
	    0, NULL, "e1", "o1", "T", "s", "", NULL, T0, "" },
	{ "unknown fields ignored",
	    "{\"x\":{\"event_id\":\"no\",\"y\":[1,{\"a\":2}]},"
	    "\"z\":[\"q\"]," BASE ",\"w\":null}",
	    0, NULL, "e1", "o1", "OrderPlaced", "orders", "", NULL, T0, "" },
	{ "last occurrence wins", "{" BASE ",\"type\":\"Second\"}", 0, NULL, "e1", "o1", "Second",
	    "orders", "", NULL, T0, "" },
	{ "empty flow is none", "{" BASE ",\"flow\":\"\",\"causation_id\":null}", 0, NULL, "e1",
	    "o1", "OrderPlaced", "orders", "", NULL, T0, "" },
	{ "attributes skip nested and null",
	    "{" BASE ",\"attributes\":{\"a\":\"1\",\"o\":{\"x\":"
	    "\"y\"},\"l\":[1,2],\"n\":null,\"b\":false}}",
	    0, NULL, "e1", "o1", "OrderPlaced", "orders", "", NULL, T0, "a=1;b=false;" },
	{ "attributes null", "{" BASE ",\"attributes\":null}", 0, NULL, "e1", "o1", "OrderPlaced",
	    "orders", "", NULL, T0, "" },
	{ "fractional time",
	    "{\"event_id\":\"e1\",\"correlation_id\":\"o1\",\"type\":\"T\","
	    "\"source\":\"s\",\"time\":\"2026-11-25T05:00:00.25-05:00\"}",
	    0, NULL, "e1", "o1", "T", "s", "", NULL, T0 + 250000000LL, "" },
	{ "missing source",
	    "{\"event_id\":\"e1\",\"correlation_id\":\"o1\",\"type\":\"T\","
	    "\"time\":\"2026-11-25T10:00:00Z\"}",
	    -2, "missing field \"source\"" },
	{ "missing time",
	    "{\"event_id\":\"e1\",\"correlation_id\":\"o1\",\"type\":\"T\","
	    "\"source\":\"s\"}",
	    -2, "missing field \"time\"" },
	{ "empty event_id", "{" BASE ",\"event_id\":\"\"}", -2, "missing field \"event_id\"" },
	{ "null correlation_id", "{" BASE ",\"correlation_id\":null}", -2,
	    "missing field \"correlation_id\"" },
	{ "nested field not top",
	    "{\"x\":{\"source\":\"s\"},\"event_id\":\"e1\","
	    "\"correlation_id\":\"o1\",\"type\":\"T\",\"time\":\"2026-11-25T10:00:00Z\"}",
	    -2, "missing field \"source\"" },
	{ "number id", "{" BASE ",\"event_id\":17}", -3, "field \"event_id\" is a number" },
	{ "bool type", "{" BASE ",\"type\":true}", -3, "field \"type\" is a boolean" },
	{ "object source", "{" BASE ",\"source\":{\"a\":1}}", -3, "field \"source\" is an object" },
	{ "array flow", "{" BASE ",\"flow\":[\"a\"]}", -3, "field \"flow\" is an array" },
	{ "string attributes", "{" BASE ",\"attributes\":\"a=b\"}", -3,
	    "field \"attributes\" is a string, expected an object" },
	{ "numeric time", "{" BASE ",\"time\":1795600800}", -3, "field \"time\" is a number" },
	{ "bad time", "{" BASE ",\"time\":\"2026-02-29T10:00:00Z\"}", -4,
	    "time \"2026-02-29T10:00:00Z\" is not a valid RFC 3339 time" },
	{ "time without zone", "{" BASE ",\"time\":\"2026-11-25T10:00:00\"}", -4,
	    "not a valid RFC 3339 time" },
	{ "not an object", "[1,2]", -1, "expected a JSON object" },
	{ "a string", "\"x\"", -1, "expected a JSON object" },
	{ "a number", "12", -1, NULL },
	{ "empty", "", -1, NULL },
	{ "blank", "   ", -1, NULL },
	{ "truncated object", "{" BASE, -1, NULL },
	{ "trailing garbage", "{" BASE "} x", -1, NULL },
	{ "two objects", "{" BASE "}{" BASE "}", -1, "data after the JSON object" },
	{ "number after", "{" BASE "} 1", -1, "data after the JSON object" },
	{ "cut string after", "{" BASE "} \"x}", -1, "data after the JSON object" },
	{ "array after", "{" BASE "}[]", -1, "data after the JSON object" },
	{ "cut short", "{" BASE ",\"attributes\":{\"a\":", -1, "cut short" },
	{ "trailing comma", "{" BASE ",}", -1, NULL },
	{ "single quotes", "{'event_id':'e1'}", -1, NULL },
	{ "comment", "{" BASE "/* c */}", -1, NULL },
	{ "raw control char", "{" BASE ",\"flow\":\"a\tb\"}", -1, NULL },
	{ "bad escape", "{" BASE ",\"flow\":\"a\\qb\"}", -1, NULL },
	{ "bad utf8 value", "{" BASE ",\"flow\":\"a\xff\"}", -8, NULL },
	{ "bad utf8 skipped value", "{\"zz\":\"\xc3\x28\"," BASE "}", -8, NULL },
	{ "overlong utf8", "{" BASE ",\"flow\":\"\xc0\xaf\"}", -8, NULL },
	{ "nul escape", "{" BASE ",\"flow\":\"a\\u0000b\"}", -8, "NUL" },
	/* surrogate escapes: a pair is one character, anything else is refused, wherever */
	{ "surrogate pair", "{" BASE ",\"flow\":\"\\uD83D\\uDE00\"}", 0, NULL, "e1", "o1",
	    "OrderPlaced", "orders", "", "\xf0\x9f\x98\x80", T0, "" },
	{ "lone high surrogate", "{" BASE ",\"event_id\":\"\\ud800\"}", -8,
	    "lone surrogate escape \\ud800" },
	{ "lone last high surrogate", "{" BASE ",\"event_id\":\"\\udbff\"}", -8, "\\udbff" },
	{ "unpaired low surrogate", "{" BASE ",\"event_id\":\"\\udc00\"}", -8, NULL },
	{ "high then non-low escape", "{" BASE ",\"event_id\":\"\\ud800\\u0041\"}", -8, "\\ud800" },
	{ "high then high", "{" BASE ",\"event_id\":\"\\ud800\\ud800\"}", -8, NULL },
	{ "high then text", "{" BASE ",\"event_id\":\"\\ud800x\"}", -8, NULL },
	{ "low then high", "{" BASE ",\"event_id\":\"\\udc00\\ud800\"}", -8, NULL },
	{ "lone surrogate in a key", "{\"\\ud800\":1," BASE "}", -8, NULL },
	{ "lone surrogate off the paths", "{\"x\":[\"\\ud800\"]," BASE "}", -8, NULL },
	{ "escaped backslash then u", "{" BASE ",\"flow\":\"\\\\ud800\"}", 0, NULL, "e1", "o1",
	    "OrderPlaced", "orders", "", "\\ud800", T0, "" },
	/* the accepted time range and the int64 ends (timefmt.h) */
	{ "time at the epoch", "{" BASE ",\"time\":\"1970-01-01T00:00:00Z\"}", 0, NULL, "e1", "o1",
	    "OrderPlaced", "orders", "", NULL, 0, "" },
	{ "time at the range end", "{" BASE ",\"time\":\"2199-12-31T23:59:59.999999999Z\"}", 0,
	    NULL, "e1", "o1", "OrderPlaced", "orders", "", NULL, 7258118399999999999LL, "" },
	{ "time past the range", "{" BASE ",\"time\":\"2200-01-01T00:00:00Z\"}", -11,
	    "outside the accepted range" },
	{ "time INT64_MAX", "{" BASE ",\"time\":\"2262-04-11T23:47:16.854775807Z\"}", -11, NULL },
	{ "time past INT64_MAX", "{" BASE ",\"time\":\"2262-04-11T23:47:16.854775808Z\"}", -11,
	    NULL },
	{ "time near INT64_MIN", "{" BASE ",\"time\":\"1677-09-21T00:12:44Z\"}", -11, NULL },
	{ "time INT64_MIN", "{" BASE ",\"time\":\"1677-09-21T00:12:43.145224192Z\"}", -11, NULL },
	{ "time before the epoch", "{" BASE ",\"time\":\"1969-12-31T23:59:59.999999999Z\"}", -11,
	    NULL },
	{ "time year 9999", "{" BASE ",\"time\":\"9999-12-31T23:59:59Z\"}", -11, NULL },
};

static void check_attrs(const struct event *ev, const char *want, const char *name)
{
	char got[512] = "";
	for (uint32_t i = 0; i < ev->nattrs; i++) {
		size_t n = strlen(got);
		snprintf(got + n, sizeof(got) - n, "%s=%s;", ev->attrs[i].key, ev->attrs[i].val);
	}
	if (strcmp(got, want))
		fail_msg("%s: attributes \"%s\", want \"%s\"", name, got, want);
}

static void check_case(struct decoder *d, const struct want *w)
{
	struct event ev;
	char err[256] = "";
	int rc = decode_json(d, w->json, strlen(w->json), &ev, err, sizeof(err));
	if (rc != w->code)
		fail_msg("%s: rc %d (%s: %s), want %d", w->name, rc, decode_error_name(rc), err,
		    w->code);
	if (rc) {
		if (!err[0] || (w->detail && !strstr(err, w->detail)))
			fail_msg("%s: err \"%s\", want \"%s\"", w->name, err, w->detail);
		return;
	}
	assert_string_equal(ev.event_id, w->event_id);
	assert_string_equal(ev.correlation_id, w->correlation_id);
	assert_string_equal(ev.type, w->type);
	assert_string_equal(ev.source, w->source);
	assert_string_equal(ev.causation_id, w->causation_id);
	if (w->flow)
		assert_string_equal(ev.flow, w->flow);
	else if (ev.flow)
		fail_msg("%s: flow \"%s\", want NULL", w->name, ev.flow);
	assert_int_equal(ev.time_ns, w->time_ns);
	assert_null(ev.topic);
	assert_int_equal(ev.partition, -1);
	check_attrs(&ev, w->attrs, w->name);
}

static void test_table(void **state)
{
	(void)state;
	char err[256];
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(d, &cases[i]);
	/* the decoder is reusable after every kind of error: run the table twice */
	for (size_t i = sizeof(cases) / sizeof(cases[0]); i-- > 0;)
		check_case(d, &cases[i]);
	decoder_free(d);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(decode_error_name(0), "ok");
	assert_string_equal(decode_error_name(DECODE_MALFORMED_JSON), "malformed_json");
	assert_string_equal(decode_error_name(DECODE_MISSING_FIELD), "missing_field");
	assert_string_equal(decode_error_name(DECODE_BAD_TIME), "bad_time");
	assert_string_equal(decode_error_name(DECODE_BAD_PROTOBUF), "bad_protobuf");
	assert_string_equal(decode_error_name(DECODE_TRUNCATED), "truncated");
	assert_string_equal(decode_error_name(DECODE_TOO_LARGE), "too_large");
	assert_string_equal(decode_error_name(DECODE_BAD_UTF8), "bad_utf8");
	assert_string_equal(decode_error_name(DECODE_TOO_MANY_ATTRIBUTES), "too_many_attributes");
	assert_string_equal(decode_error_name(DECODE_NO_MEMORY), "no_memory");
	assert_string_equal(decode_error_name(DECODE_TIME_OUT_OF_RANGE), "time_out_of_range");
	assert_string_equal(decode_error_name(-99), "unknown");
	assert_string_equal(decode_error_name(1), "unknown");
}

/* Lookups come out of the same parse: strings, numbers and booleans as text; objects,
 * arrays and null absent; reset by every call; set only when the parse succeeded. */
static void test_lookups(void **state)
{
	(void)state;
	char err[256];
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	assert_non_null(d);
	static const char *const paths[] = { "data.order_id", "n", "data", "type", "x.y.z" };
	for (int i = 0; i < 5; i++)
		assert_int_equal(decoder_add_lookup(d, paths[i], err, sizeof(err)), i);
	struct event ev;
	const char *j =
	    "{" BASE ",\"data\":{\"order_id\":\"d7\"},\"n\":1.5,\"x\":{\"y\":{\"z\":true}}}";
	assert_int_equal(decode_json(d, j, strlen(j), &ev, err, sizeof(err)), 0);
	assert_string_equal(decoder_lookup(d, 0), "d7");
	assert_string_equal(decoder_lookup(d, 1), "1.5");
	assert_null(decoder_lookup(d, 2)); /* an object */
	assert_string_equal(decoder_lookup(d, 3), "OrderPlaced");
	assert_string_equal(decoder_lookup(d, 4), "true");
	assert_null(decoder_lookup(d, 5));
	assert_null(decoder_lookup(d, -1));
	/* a failed decode leaves none */
	const char *bad = "{" BASE ",\"data\":{\"order_id\":\"d8\"},\"time\":\"x\"}";
	assert_int_equal(decode_json(d, bad, strlen(bad), &ev, err, sizeof(err)), DECODE_BAD_TIME);
	assert_null(decoder_lookup(d, 0));
	/* members mode: every top-level scalar, fields off, lookups on */
	const char *m =
	    "{\"time\":\"not a time\",\"data\":{\"order_id\":\"d9\"},\"k\":2,\"z\":null}";
	assert_int_equal(decode_json_members(d, m, strlen(m), NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(decoder_lookup(d, 0), "d9");
	assert_null(decoder_lookup(d, 3));
	/* bounds on the paths */
	assert_int_equal(decoder_add_lookup(d, "a..b", err, sizeof(err)), -1);
	for (int i = 5; i < 16; i++)
		assert_true(decoder_add_lookup(d, "p", err, sizeof(err)) == i);
	assert_int_equal(decoder_add_lookup(d, "q", err, sizeof(err)), -1);
	decoder_free(d);
}

static void test_paths(void **state)
{
	(void)state;
	struct cfg_json_fields f = {
		.event_id = "meta.id",
		.correlation_id = "order.id",
		.type = "kind",
		.source = "meta.origin.service",
		.time = "meta.at",
		.flow = NULL,
		.causation_id = "meta.cause",
		.attributes = "order",
	};
	char err[256];
	struct decoder *d = decoder_new(&f, 0, err, sizeof(err));
	assert_non_null(d);
	const char *js =
	    "{\"kind\":\"Paid\",\"order\":{\"id\":\"o1\",\"total\":9.5,\"lines\":[1],"
	    "\"c\":\"EUR\"},\"meta\":{\"id\":\"e9\",\"at\":\"2026-11-25T10:00:00Z\",\"origin\":"
	    "{\"service\":\"pay\",\"v\":2},\"cause\":\"e8\"},\"flow\":\"x\"}";
	struct event ev;
	assert_int_equal(decode_json(d, js, strlen(js), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.event_id, "e9");
	assert_string_equal(ev.correlation_id, "o1");
	assert_string_equal(ev.type, "Paid");
	assert_string_equal(ev.source, "pay");
	assert_string_equal(ev.causation_id, "e8");
	assert_string_equal(ev.flow, "x");
	assert_int_equal(ev.time_ns, T0);
	check_attrs(&ev, "id=o1;total=9.5;c=EUR;", "paths");
	assert_string_equal(event_attr(&ev, "c"), "EUR");
	assert_null(event_attr(&ev, "lines"));
	const char *miss = "{\"kind\":\"Paid\",\"order\":{\"id\":\"o1\"},\"meta\":{\"id\":\"e9\","
			   "\"at\":\"2026-11-25T10:00:00Z\",\"origin\":\"pay\"}}";
	assert_int_equal(
	    decode_json(d, miss, strlen(miss), &ev, err, sizeof(err)), DECODE_MISSING_FIELD);
	assert_non_null(strstr(err, "missing field \"meta.origin.service\""));
	decoder_free(d);
}

/* The deepest paths: a field at 8 components, attributes whose object sits at depth 9. */
static void test_deep_paths(void **state)
{
	(void)state;
	struct cfg_json_fields f = { .source = "a.b.c.d.e.f.g.s", .attributes = "a.b.c.d.e.f.g.h" };
	char err[256];
	struct decoder *d = decoder_new(&f, 0, err, sizeof(err));
	assert_non_null(d);
	const char *js =
	    "{\"event_id\":\"e1\",\"correlation_id\":\"o1\",\"type\":\"T\","
	    "\"time\":\"2026-11-25T10:00:00Z\",\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":"
	    "{\"s\":\"deep\",\"h\":{\"k\":\"v\",\"x\":{\"y\":{\"z\":1}}}}}}}}}}}";
	struct event ev;
	assert_int_equal(decode_json(d, js, strlen(js), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.source, "deep");
	check_attrs(&ev, "k=v;", "deep");
	decoder_free(d);
}

static void test_bad_paths(void **state)
{
	(void)state;
	const char *bad[] = { "", "a..b", ".a", "a.", "a.b.c.d.e.f.g.h.i" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cfg_json_fields f = { .correlation_id = (char *)bad[i] };
		char err[256] = "";
		struct decoder *d = decoder_new(&f, 0, err, sizeof(err));
		if (d)
			fail_msg("accepted path \"%s\"", bad[i]);
		assert_non_null(strstr(err, "JSON field path"));
	}
}

static void test_required_mask(void **state)
{
	(void)state;
	char err[256];
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	decoder_set_required(d, DECODE_REQ_ALL & ~(DECODE_REQ_CORRELATION_ID | DECODE_REQ_TIME));
	const char *js = "{\"event_id\":\"e1\",\"type\":\"T\",\"source\":\"s\"}";
	struct event ev;
	assert_int_equal(decode_json(d, js, strlen(js), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.correlation_id, "");
	assert_int_equal(ev.time_ns, DECODE_NO_TIME);
	decoder_set_required(d, DECODE_REQ_ALL);
	assert_int_equal(
	    decode_json(d, js, strlen(js), &ev, err, sizeof(err)), DECODE_MISSING_FIELD);
	decoder_free(d);
}

/* The limits (decode.h): attribute count and size, nesting depth, each at its bound
 * and one past it. Inputs are built: `depth` containers in all (the top object is 1;
 * the rest an unknown field of alternating arrays and objects, or the attributes
 * object), nattrs attributes with keys and values padded to klen and vlen bytes. */
struct limit_case {
	const char *name;
	struct decode_limits lim;
	int nattrs;
	size_t klen, vlen;
	int depth; /* 0: no extra nesting */
	int code;
	const char *detail;
};

static const struct limit_case limit_cases[] = {
	{ "32 attributes by default", { 0 }, 32, 3, 3, 0, 0, NULL },
	{ "33 attributes by default", { 0 }, 33, 3, 3, 0, DECODE_TOO_MANY_ATTRIBUTES,
	    "more than 32 attributes" },
	{ "256 allowed", { .max_attributes = 256 }, 256, 4, 4, 0, 0, NULL },
	{ "257 with 256", { .max_attributes = 256 }, 257, 4, 4, 0, DECODE_TOO_MANY_ATTRIBUTES,
	    "more than 256 attributes" },
	{ "a limit above EV_MAX_ATTRS is EV_MAX_ATTRS", { .max_attributes = 1000 }, 257, 4, 4, 0,
	    DECODE_TOO_MANY_ATTRIBUTES, "more than 256 attributes" },
	{ "1 allowed", { .max_attributes = 1 }, 2, 3, 3, 0, DECODE_TOO_MANY_ATTRIBUTES,
	    "more than 1 attributes" },
	{ "value of 4096 bytes by default", { 0 }, 1, 3, 4096, 0, 0, NULL },
	{ "value of 4097 bytes by default", { 0 }, 1, 3, 4097, 0, DECODE_ATTRIBUTE_TOO_LARGE,
	    "attribute value of 4097 bytes, more than 4096" },
	{ "key of 4097 bytes by default", { 0 }, 1, 4097, 3, 0, DECODE_ATTRIBUTE_TOO_LARGE,
	    "attribute key of 4097 bytes, more than 4096" },
	{ "value of 9 bytes with 8", { .max_attribute_bytes = 8 }, 3, 3, 9, 0,
	    DECODE_ATTRIBUTE_TOO_LARGE, "attribute value of 9 bytes, more than 8" },
	{ "value of 8 bytes with 8", { .max_attribute_bytes = 8 }, 3, 8, 8, 0, 0, NULL },
	{ "depth 64 by default", { 0 }, 0, 0, 0, 64, 0, NULL },
	{ "depth 65 by default", { 0 }, 0, 0, 0, 65, DECODE_TOO_DEEP, "nested deeper than 64" },
	{ "depth 100000 by default", { 0 }, 0, 0, 0, 100000, DECODE_TOO_DEEP,
	    "nested deeper than 64" },
	{ "depth 1: the top object only", { .max_depth = 1 }, 0, 0, 0, 0, 0, NULL },
	{ "depth 1: an attributes object is 2", { .max_depth = 1 }, 1, 3, 3, 0, DECODE_TOO_DEEP,
	    "nested deeper than 1" },
	{ "depth 3 with 3", { .max_depth = 3 }, 0, 0, 0, 3, 0, NULL },
	{ "depth 4 with 3", { .max_depth = 3 }, 0, 0, 0, 4, DECODE_TOO_DEEP,
	    "nested deeper than 3" },
	{ "depth 200 with 1000", { .max_depth = 1000 }, 0, 0, 0, 200, 0, NULL },
};

static size_t limit_input(const struct limit_case *lc, char *js, size_t cap)
{
	size_t k = (size_t)snprintf(js, cap, "{" BASE);
	if (lc->depth > 1) {
		k += (size_t)snprintf(js + k, cap - k, ",\"x\":");
		for (int i = 1; i < lc->depth; i++)
			k += (size_t)snprintf(js + k, cap - k, "%s", i % 2 ? "[" : "{\"y\":");
		if ((lc->depth - 1) % 2 == 0)
			js[k++] = '0'; /* the innermost is an object: its member's value */
		for (int i = lc->depth - 1; i >= 1; i--)
			k += (size_t)snprintf(js + k, cap - k, "%s", i % 2 ? "]" : "}");
	}
	if (lc->nattrs > 0) {
		k += (size_t)snprintf(js + k, cap - k, ",\"attributes\":{");
		for (int i = 0; i < lc->nattrs; i++) {
			int kn =
			    snprintf(js + k, cap - k, "%s\"k%d", i ? "," : "", i) - (i ? 2 : 1);
			k += (size_t)kn + (i ? 2 : 1);
			for (size_t p = (size_t)kn; p < lc->klen; p++)
				js[k++] = 'k';
			k += (size_t)snprintf(js + k, cap - k, "\":\"");
			for (size_t p = 0; p < lc->vlen; p++)
				js[k++] = 'v';
			js[k++] = '"';
		}
		js[k++] = '}';
	}
	k += (size_t)snprintf(js + k, cap - k, "}");
	return k;
}

static void test_limits(void **state)
{
	(void)state;
	size_t cap = 1 << 20;
	char *js = malloc(cap), err[256];
	assert_non_null(js);
	for (size_t i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++) {
		const struct limit_case *lc = &limit_cases[i];
		size_t len = limit_input(lc, js, cap);
		struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
		assert_non_null(d);
		decoder_set_limits(d, &lc->lim);
		struct event ev;
		err[0] = '\0';
		int rc = decode_json(d, js, len, &ev, err, sizeof(err));
		if (rc != lc->code || (lc->detail && !strstr(err, lc->detail)))
			fail_msg("%s: rc %d (%s), want %d \"%s\"", lc->name, rc, err, lc->code,
			    lc->detail ? lc->detail : "");
		if (rc == 0)
			assert_int_equal(ev.nattrs, lc->nattrs);
		if (rc == 0 && lc->nattrs > 0)
			assert_int_equal(strlen(ev.attrs[lc->nattrs - 1].val), lc->vlen);
		assert_string_equal(decode_error_name(lc->code),
		    lc->code == DECODE_TOO_DEEP                  ? "too_deep"
			: lc->code == DECODE_ATTRIBUTE_TOO_LARGE ? "attribute_too_large"
			: lc->code == DECODE_TOO_MANY_ATTRIBUTES ? "too_many_attributes"
								 : "ok");
		decoder_free(d);
	}
	free(js);
}

static void test_too_large(void **state)
{
	(void)state;
	char err[256];
	struct decoder *d = decoder_new(NULL, 64, err, sizeof(err));
	const char *js = "{" BASE "}";
	struct event ev;
	assert_int_equal(decode_json(d, js, strlen(js), &ev, err, sizeof(err)), DECODE_TOO_LARGE);
	assert_non_null(strstr(err, "64-byte limit"));
	decoder_free(d);
}

/* Long strings with many escapes grow yajl's buffer inside the arena. */
static void test_long_strings(void **state)
{
	(void)state;
	size_t n = 200000;
	char *js = malloc(n + 256), err[256];
	size_t k = (size_t)sprintf(js, "{" BASE ",\"flow\":\"");
	for (size_t i = 0; i < n / 6; i++, k += 6)
		memcpy(js + k, "\\u00e9", 6);
	k += (size_t)sprintf(js + k, "\"}");
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	struct event ev;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(decode_json(d, js, k, &ev, err, sizeof(err)), 0);
		assert_int_equal(strlen(ev.flow), 2 * (n / 6));
	}
	free(js);
	decoder_free(d);
}

/* decode_json_format output decodes back to the same event. */
static void test_format_round_trip(void **state)
{
	(void)state;
	struct ev_attr attrs[] = { { "k\"q", "v\\1" }, { "ctl", "a\x01\n" }, { "u", "\xc3\xa9" } };
	struct event in = { .event_id = "e1",
		.correlation_id = "o\"1",
		.type = "T",
		.source = "s",
		.causation_id = "c",
		.flow = "f",
		.time_ns = T0 + 5,
		.attrs = attrs,
		.nattrs = 3 };
	char buf[512], small[16], err[256];
	size_t n = decode_json_format(&in, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_int_equal(decode_json_format(&in, small, sizeof(small)), n);
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	struct event ev;
	assert_int_equal(decode_json(d, buf, n, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.correlation_id, "o\"1");
	assert_string_equal(ev.flow, "f");
	assert_string_equal(ev.causation_id, "c");
	assert_int_equal(ev.time_ns, T0 + 5);
	assert_int_equal(ev.nattrs, 3);
	assert_string_equal(event_attr(&ev, "k\"q"), "v\\1");
	assert_string_equal(event_attr(&ev, "ctl"), "a\x01\n");
	assert_string_equal(event_attr(&ev, "u"), "\xc3\xa9");
	decoder_free(d);
}

/* Deterministic mutations of a valid line (byte flips, cuts, insertions): the decoder
 * never crashes (ASan run), returns a known reason, and an accepted event is complete. */
static void test_mutations(void **state)
{
	(void)state;
	const char *base = "{" BASE ",\"flow\":\"order\",\"causation_id\":\"e0\","
			   "\"attributes\":{\"a\":\"\\u00e9\",\"n\":1.5,\"o\":{\"x\":[1,{}]}}}";
	static const char alphabet[] = "{}[]\":,\\ \x00\x80\xc3\xff"
				       "aZ0-.etfnu";
	size_t blen = strlen(base);
	char buf[512], err[256];
	uint32_t seed = 12345;
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	for (int i = 0; i < 20000; i++) {
		size_t n = blen;
		memcpy(buf, base, n);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % n;
			char ch = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
			switch ((seed >> 28) % 3) {
			case 0: buf[at] = ch; break;
			case 1: n = at; break;
			default:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = ch;
				n++;
			}
			if (n == 0)
				n = 1;
		}
		struct event ev;
		int rc = decode_json(d, buf, n, &ev, err, sizeof(err));
		assert_true(rc <= 0 && rc > -DECODE_NERRORS);
		if (rc == 0) {
			assert_true(
			    ev.event_id[0] && ev.correlation_id[0] && ev.type[0] && ev.source[0]);
			assert_true(ev.time_ns != DECODE_NO_TIME);
		} else {
			assert_true(err[0] != '\0');
		}
	}
	decoder_free(d);
}

static void test_text_valid(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len;
		int ok;
	} t[] = {
		{ "", 0, 1 },
		{ "plain ascii longer than eight", 29, 1 },
		{ "\xc3\xa9", 2, 1 },
		{ "\xe2\x82\xac", 3, 1 },
		{ "\xf0\x9f\x98\x80", 4, 1 },
		{ "\xf4\x8f\xbf\xbf", 4, 1 },
		{ "\xed\x9f\xbf", 3, 1 },
		{ "abcdefgh\xc3\xa9ijklmnop", 18, 1 },
		{ "\x80", 1, 0 },
		{ "\xc3", 1, 0 },
		{ "\xc0\x80", 2, 0 },
		{ "\xc1\xbf", 2, 0 },
		{ "\xe0\x9f\xbf", 3, 0 },
		{ "\xed\xa0\x80", 3, 0 },
		{ "\xf0\x8f\xbf\xbf", 4, 0 },
		{ "\xf4\x90\x80\x80", 4, 0 },
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\xe2\x82", 2, 0 },
		{ "\xe2\x28\xac", 3, 0 },
		{ "abcdefg\0", 8, 0 },
		{ "abcdefghijklmno\0", 16, 0 },
		{ "a\0b", 3, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (decode_text_valid(t[i].s, t[i].len) != t[i].ok)
			fail_msg("case %zu: want %d", i, t[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_deep_paths),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_required_mask),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_text_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
