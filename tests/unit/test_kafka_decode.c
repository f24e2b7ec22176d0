/* Unit tests for kafka_decode: format detection and every correlation source, as a
 * table of Kafka messages (key, headers, value) and the expected event or reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "decode/decode.h"
#include "decode/kafka_decode.h"

static const char cfg_yaml[] =
    "flows:\n"
    "  - name: order\n"
    "    steps:\n"
    "      OrderPlaced: { start: true }\n"
    "      OrderShipped: { after: [OrderPlaced], end: completed }\n"
    "kafka:\n"
    "  correlation_from: [ce_correlationid, \"header:x-id\", \"field:correlation_id\",\n"
    "                     \"field:data.order_id\", key, traceparent]\n";

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define JS(extra) \
	"{\"event_id\":\"e\",\"type\":\"OrderPlaced\",\"source\":\"s\"," \
	"\"time\":\"2026-11-25T10:00:00Z\"" extra "}"
#define JSE(t, extra) \
	"{\"event_id\":\"e\",\"type\":\"OrderPlaced\",\"source\":\"s\"," \
	"\"time\":\"" t "\"" extra "}"
#define CE_HDRS \
	{ "ce_specversion", "1.0", 3 }, { "ce_id", "c1", 2 }, { "ce_type", "OrderPlaced", 11 }, \
	    { "ce_source", "s", 1 }, \
	{ \
		"ce_time", "2026-11-25T10:00:00Z", 20 \
	}

struct kd_case {
	const char *name;
	const char *key;
	const char *val;
	struct ce_header hdrs[12];
	size_t nhdrs;
	const char *want_corr; /* NULL: rejected */
	const char *want_reason;
	size_t nhdrs_all; /* 0, or more headers than hdrs holds (kmsg.nhdrs_all) */
};

/* rows name nhdrs_all only when they need it */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct kd_case cases[] = {
	{ "json field", NULL, JS(",\"correlation_id\":\"o1\""), { { 0 } }, 0, "o1", NULL },
	{ "header beats field", NULL, JS(",\"correlation_id\":\"o1\""), { { "x-id", "h1", 2 } }, 1,
	    "h1", NULL },
	{ "ce_correlationid header beats header", NULL, JS(""),
	    { { "ce_correlationid", "c9", 2 }, { "x-id", "h1", 2 } }, 2, "c9", NULL },
	{ "key when nothing else", "k1", JS(""), { { 0 } }, 0, "k1", NULL },
	{ "traceparent last", NULL, JS(""), { { "traceparent", TP, sizeof TP - 1 } }, 1,
	    "4bf92f3577b34da6a3ce929d0e0e4736", NULL },
	{ "all-zero trace id is no id", NULL, JS(""),
	    { { "traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", 55 } }, 1,
	    NULL, "bad_traceparent" },
	{ "bad traceparent is no id", NULL, JS(""), { { "traceparent", "garbage", 7 } }, 1, NULL,
	    "bad_traceparent" },
	{ "a bad traceparent, but a key", "k", JS(""), { { "traceparent", "garbage", 7 } }, 1, "k",
	    NULL },
	{ "JSON content type", NULL, JS(",\"correlation_id\":\"o1\""),
	    { { "content-type", "application/json; charset=utf-8", 31 } }, 1, "o1", NULL },
	{ "a +json content type", NULL, JS(",\"correlation_id\":\"o1\""),
	    { { "Content-Type", "application/vnd.acme.order+json", 31 } }, 1, "o1", NULL },
	{ "unknown content type", NULL, JS(",\"correlation_id\":\"o1\""),
	    { { "content-type", "application/xml", 15 } }, 1, NULL, "unknown_content_type" },
	{ "binary CloudEvent with XML data: content type is the data's", NULL, "<x/>",
	    { CE_HDRS, { "ce_correlationid", "b1", 2 }, { "content-type", "application/xml", 15 } },
	    7, "b1", NULL },
	{ "nested field path", NULL, JS(",\"data\":{\"order_id\":\"d7\"}"), { { 0 } }, 0, "d7",
	    NULL },
	{ "binary CloudEvent with correlationid", NULL, "{\"x\":1}",
	    { CE_HDRS, { "ce_correlationid", "b1", 2 } }, 6, "b1", NULL },
	{ "binary CloudEvent, id from the data", NULL, "{\"data\":{\"order_id\":\"b2\"}}",
	    { CE_HDRS }, 5, "b2", NULL },
	{ "structured CloudEvent", NULL,
	    "{\"specversion\":\"1.0\",\"id\":\"s1\",\"type\":\"OrderPlaced\",\"source\":\"s\","
	    "\"time\":\"2026-11-25T10:00:00Z\",\"data\":{\"order_id\":\"s9\"}}",
	    { { "content-type", "application/cloudevents+json", 28 } }, 1, "s9", NULL },
	{ "garbage", "k", "\x01\x02\x03 not json", { { 0 } }, 0, NULL, "malformed_json" },
	{ "a truncated envelope", "k",
	    "\x0a\x02"
	    "e1\x12\x09o1",
	    { { 0 } }, 0, NULL, "bad_protobuf" },
	{ "JSON after a newline (0x0a too) is JSON", "k", "\n" JS(""), { { 0 } }, 0, "k", NULL },
	{ "broken JSON after a newline", "k", "\n{\"event_id\":", { { 0 } }, 0, NULL,
	    "malformed_json" },
	{ "empty value", "k", "", { { 0 } }, 0, NULL, "empty" },
	{ "JSON missing type", "k",
	    "{\"event_id\":\"e\",\"source\":\"s\",\"time\":\"2026-11-25T10:00:00Z\"}", { { 0 } }, 0,
	    NULL, "missing_field" },
	{ "binary CloudEvent with a bad time", "k", "{}",
	    { { "ce_id", "c1", 2 }, { "ce_type", "T", 1 }, { "ce_source", "s", 1 },
		{ "ce_time", "noon", 4 } },
	    4, NULL, "bad_time" },
	/* time edges, every format: the accepted range is 1970..2199 */
	{ "JSON time INT64_MAX", "k", JSE("2262-04-11T23:47:16.854775807Z", ""), { { 0 } }, 0, NULL,
	    "time_out_of_range" },
	{ "JSON time near INT64_MIN", "k", JSE("1677-09-21T00:12:44Z", ""), { { 0 } }, 0, NULL,
	    "time_out_of_range" },
	{ "JSON time at the epoch", "k", JSE("1970-01-01T00:00:00Z", ""), { { 0 } }, 0, "k", NULL },
	{ "binary CloudEvent time past the range", "k", "{}",
	    { { "ce_id", "c1", 2 }, { "ce_type", "T", 1 }, { "ce_source", "s", 1 },
		{ "ce_time", "2200-01-01T00:00:00Z", 20 } },
	    4, NULL, "time_out_of_range" },
	{ "structured CloudEvent time INT64_MAX", "k",
	    "{\"id\":\"s1\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2262-04-11T23:47:16."
	    "854775807Z\"}",
	    { { "content-type", "application/cloudevents+json", 28 } }, 1, NULL,
	    "time_out_of_range" },
	/* lone surrogates never merge ids, whichever reader */
	{ "JSON lone surrogate id", "k",
	    JSE("2026-11-25T10:00:00Z", ",\"correlation_id\":\"\\ud800\""), { { 0 } }, 0, NULL,
	    "bad_utf8" },
	{ "structured CloudEvent lone surrogate", "k",
	    "{\"id\":\"\\udbff\",\"type\":\"T\",\"source\":\"s\",\"time\":\"2026-11-25T10:00:"
	    "00Z\"}",
	    { { "content-type", "application/cloudevents+json", 28 } }, 1, NULL, "bad_utf8" },
	{ "binary CloudEvent data with a lone surrogate: no field id", NULL,
	    "{\"data\":{\"order_id\":\"\\ud800\"}}", { CE_HDRS }, 5, NULL, "no_correlation_id" },
	{ "binary CloudEvent data not JSON: no field id", NULL, "plain text", { CE_HDRS }, 5, NULL,
	    "no_correlation_id" },
	{ "field lookup: a number as text", NULL, JS(",\"data\":{\"order_id\":12}"), { { 0 } }, 0,
	    "12", NULL },
	/* headers and keys that are not text (fuzz findings): never an id, never an attribute */
	{ "header not UTF-8: the next source", "k2", JS(""), { { "x-id", "o\xa6\xa6", 3 } }, 1,
	    "k2", NULL },
	{ "header with a NUL: the next source", "k3", JS(""), { { "x-id", "o\0p", 3 } }, 1, "k3",
	    NULL },
	{ "key not UTF-8: no id", "k\xc3", JS(""), { { 0 } }, 0, NULL, "no_correlation_id" },
	{ "binary CloudEvent source not UTF-8", NULL, "{}",
	    { { "ce_id", "c1", 2 }, { "ce_type", "T", 1 }, { "ce_source", "/s\xff\xff", 4 },
		{ "ce_time", "2026-11-25T10:00:00Z", 20 }, { "ce_correlationid", "b1", 2 } },
	    5, NULL, "bad_utf8" },
	{ "binary CloudEvent extension not UTF-8", NULL, "{}",
	    { CE_HDRS, { "ce_correlationid", "b1", 2 }, { "ce_region", "e\xe2\x82", 3 } }, 7, NULL,
	    "bad_utf8" },
	{ "binary CloudEvent extension name not UTF-8", NULL, "{}",
	    { CE_HDRS, { "ce_correlationid", "b1", 2 }, { "ce_\xff\xffregion", "eu", 2 } }, 7, NULL,
	    "bad_utf8" },
	{ "field lookup: the last occurrence", NULL,
	    JS(",\"data\":{\"order_id\":\"a\"},\"data\":{\"order_id\":\"b\"}"), { { 0 } }, 0, "b",
	    NULL },
};

/* The same sources with small limits.*: each limit at its bound and one past it, in
 * every format it applies to. */
static const char limits_yaml[] =
    "flows:\n"
    "  - name: order\n"
    "    steps:\n"
    "      OrderPlaced: { start: true }\n"
    "      OrderShipped: { after: [OrderPlaced], end: completed }\n"
    "kafka:\n"
    "  correlation_from: [ce_correlationid, \"field:correlation_id\", key]\n"
    "limits: { max_message_bytes: 200, max_depth: 4, max_attributes: 2,\n"
    "          max_attribute_bytes: 8, max_headers: 9 }\n";

#define X10 "xxxxxxxxxx"
#define X50 X10 X10 X10 X10 X10
/* JS("") is 80 bytes: with ,"p":"" (7) and 113 x's it is 200 */
#define LEN200 JS(",\"p\":\"" X50 X50 X10 "xxx\"")
#define LEN201 JS(",\"p\":\"" X50 X50 X10 "xxxx\"")
#define CT_CE \
	{ \
		"content-type", "application/cloudevents+json", 28 \
	}
#define SCE(extra) \
	"{\"id\":\"s1\",\"type\":\"T\",\"source\":\"s\"," \
	"\"time\":\"2026-11-25T10:00:00Z\",\"correlationid\":\"c\"" extra "}"

static const struct kd_case limit_cases[] = {
	{ "value of 200 bytes", "k", LEN200, { { 0 } }, 0, "k", NULL },
	{ "value of 201 bytes", "k", LEN201, { { 0 } }, 0, NULL, "too_large" },
	{ "binary CloudEvent value of 201 bytes", "k", LEN201, { CE_HDRS }, 5, NULL, "too_large" },
	{ "9 headers", "k", JS(""),
	    { CE_HDRS, { "a", "1", 1 }, { "b", "1", 1 }, { "c", "1", 1 },
		{ "ce_correlationid", "b1", 2 } },
	    9, "b1", NULL },
	{ "10 headers", "k", JS(""),
	    { CE_HDRS, { "a", "1", 1 }, { "b", "1", 1 }, { "c", "1", 1 }, { "d", "1", 1 },
		{ "ce_correlationid", "b1", 2 } },
	    10, NULL, "too_many_headers" },
	{ "300 headers, 9 of them copied", "k", JS(""),
	    { CE_HDRS, { "a", "1", 1 }, { "b", "1", 1 }, { "c", "1", 1 }, { "d", "1", 1 } }, 9,
	    NULL, "too_many_headers", 300 },
	{ "JSON depth 4", "k", JS(",\"x\":[[[1]]]"), { { 0 } }, 0, "k", NULL },
	{ "JSON depth 5", "k", JS(",\"x\":[[{\"y\":[1]}]]"), { { 0 } }, 0, NULL, "too_deep" },
	{ "structured CloudEvent data depth 5", "k", SCE(",\"data\":{\"a\":{\"b\":{\"c\":{}}}}"),
	    { CT_CE }, 1, NULL, "too_deep" },
	{ "binary CloudEvent data depth 5, read for a field source", "k",
	    "{\"correlation_id\":\"d\",\"x\":[[[[1]]]]}", { CE_HDRS }, 5, "k", NULL },
	{ "JSON 2 attributes", "k", JS(",\"attributes\":{\"a\":\"1\",\"b\":\"2\"}"), { { 0 } }, 0,
	    "k", NULL },
	{ "JSON 3 attributes", "k", JS(",\"attributes\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}"),
	    { { 0 } }, 0, NULL, "too_many_attributes" },
	{ "JSON attribute value of 8 bytes", "k", JS(",\"attributes\":{\"a\":\"12345678\"}"),
	    { { 0 } }, 0, "k", NULL },
	{ "JSON attribute value of 9 bytes", "k", JS(",\"attributes\":{\"a\":\"123456789\"}"),
	    { { 0 } }, 0, NULL, "attribute_too_large" },
	{ "JSON attribute key of 9 bytes", "k", JS(",\"attributes\":{\"123456789\":\"a\"}"),
	    { { 0 } }, 0, NULL, "attribute_too_large" },
	{ "binary CloudEvent 3 extensions", NULL, "{}",
	    { CE_HDRS, { "ce_correlationid", "b1", 2 }, { "ce_a", "1", 1 }, { "ce_b", "1", 1 },
		{ "ce_c", "1", 1 } },
	    9, NULL, "too_many_attributes" },
	{ "binary CloudEvent extension of 9 bytes", NULL, "{}",
	    { CE_HDRS, { "ce_correlationid", "b1", 2 }, { "ce_a", "123456789", 9 } }, 7, NULL,
	    "attribute_too_large" },
	{ "structured CloudEvent 3 extensions", "k", SCE(",\"a\":\"1\",\"b\":\"2\",\"c\":\"3\""),
	    { CT_CE }, 1, NULL, "too_many_attributes" },
	{ "structured CloudEvent extension of 9 bytes", "k", SCE(",\"a\":\"123456789\""), { CT_CE },
	    1, NULL, "attribute_too_large" },
};

static struct config *load_yaml(const char *yaml)
{
	struct config *c = NULL;
	char err[1024];

	if (config_load_string("test", yaml, strlen(yaml), &c, err, sizeof err) < 0)
		fail_msg("config: %s", err);
	return c;
}

static struct config *load_cfg(void) { return load_yaml(cfg_yaml); }

static void run_table(const char *yaml, const struct kd_case *cs, size_t n)
{
	struct config *c = load_yaml(yaml);
	struct kdec *d = NULL;
	char err[256];

	struct kdec_opts ko = kdec_opts_of(c);

	assert_int_equal(kdec_new(&ko, &d, err, sizeof err), 0);
	for (size_t i = 0; i < n; i++) {
		const struct kd_case *k = &cs[i];
		struct kmsg m = { .topic = "events",
			.partition = 3,
			.offset = 42,
			.key = k->key,
			.keylen = k->key ? strlen(k->key) : 0,
			.val = k->val,
			.len = strlen(k->val),
			.hdrs = k->hdrs,
			.nhdrs = k->nhdrs,
			.nhdrs_all = k->nhdrs_all };
		struct event ev;
		const char *reason = NULL;
		int r = kdec_decode(d, &m, &ev, &reason);
		if (k->want_corr != NULL &&
		    (r != 0 || strcmp(ev.correlation_id, k->want_corr) != 0))
			fail_msg("%s: r=%d corr=%s reason=%s", k->name, r,
			    r == 0 ? ev.correlation_id : "-", reason ? reason : "-");
		if (k->want_corr == NULL && (r == 0 || strcmp(reason, k->want_reason) != 0))
			fail_msg("%s: r=%d reason=%s, want %s", k->name, r, r ? reason : "-",
			    k->want_reason);
		if (r != 0) {
			int known = 0;
			for (size_t j = 0; kdec_reasons[j] != NULL; j++)
				known |= strcmp(kdec_reasons[j], reason) == 0;
			if (!known)
				fail_msg("%s: reason %s is not in kdec_reasons", k->name, reason);
		}
		if (r == 0 &&
		    (strcmp(ev.topic, "events") != 0 || ev.partition != 3 || ev.offset != 42))
			fail_msg("%s: provenance not set", k->name);
	}
	kdec_free(d);
	config_free(c);
}

static void test_table(void **state)
{
	(void)state;
	run_table(cfg_yaml, cases, sizeof cases / sizeof cases[0]);
}

static void test_limits(void **state)
{
	(void)state;
	assert_int_equal(strlen(LEN200), 200);
	run_table(limits_yaml, limit_cases, sizeof limit_cases / sizeof limit_cases[0]);
}

static void test_protobuf(void **state)
{
	struct config *c = load_cfg();
	struct kdec *d = NULL;
	char err[256];
	uint8_t buf[512];
	const struct event in = { .event_id = "p1",
		.correlation_id = "o-pb",
		.type = "OrderPlaced",
		.source = "s",
		.causation_id = "",
		.time_ns = 1764115200000000000LL };
	struct event ev;
	const char *reason = NULL;
	size_t n = decode_proto_pack(&in, buf, sizeof buf);
	struct kmsg m = {
		.topic = "t", .partition = 0, .offset = 1, .val = (const char *)buf, .len = n
	};

	(void)state;
	assert_true(n > 0 && n < sizeof buf);
	struct kdec_opts ko = kdec_opts_of(c);
	assert_int_equal(kdec_new(&ko, &d, err, sizeof err), 0);
	assert_int_equal(kdec_decode(d, &m, &ev, &reason), 0);
	assert_string_equal(ev.correlation_id, "o-pb");
	assert_string_equal(ev.event_id, "p1");
	assert_true(ev.time_ns == in.time_ns);
	kdec_free(d);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_protobuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
