/* test_decode_proto: the protobuf envelope. Round trips through decode_proto_pack,
 * required fields, bad UTF-8, garbage and truncated bytes, unknown fields, too many
 * attributes, the size bound, and the scratch reuse across calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "choreoscope/v1/event.pb-c.h"
#include "decode/decode.h"

#define T0 1795600800000000000LL

static struct ev_attr attrs[] = { { "amount", "12.50" }, { "currency", "EUR" },
	{ "note", "\xc3\xa9t\xc3\xa9" } };

static const struct event full = { .event_id = "e1",
	.correlation_id = "o1",
	.type = "PaymentAuthorized",
	.source = "payments",
	.causation_id = "e0",
	.flow = "order",
	.time_ns = T0 + 123,
	.attrs = attrs,
	.nattrs = 3,
	.partition = -1 };

static struct decoder *dec(size_t max_len)
{
	char err[256];
	struct decoder *d = decoder_new(NULL, max_len, err, sizeof(err));
	assert_non_null(d);
	return d;
}

static int decode(struct decoder *d, const struct event *in, struct event *out, char *err)
{
	uint8_t buf[1024];
	size_t n = decode_proto_pack(in, buf, sizeof(buf));
	assert_true(n <= sizeof(buf));
	return decode_proto(d, buf, n, out, err, 256);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct decoder *d = dec(0);
	struct event ev;
	char err[256];
	assert_int_equal(decode(d, &full, &ev, err), 0);
	assert_string_equal(ev.event_id, "e1");
	assert_string_equal(ev.correlation_id, "o1");
	assert_string_equal(ev.type, "PaymentAuthorized");
	assert_string_equal(ev.source, "payments");
	assert_string_equal(ev.causation_id, "e0");
	assert_string_equal(ev.flow, "order");
	assert_int_equal(ev.time_ns, T0 + 123);
	assert_int_equal(ev.nattrs, 3);
	assert_string_equal(event_attr(&ev, "currency"), "EUR");
	assert_string_equal(event_attr(&ev, "note"), "\xc3\xa9t\xc3\xa9");
	assert_null(event_attr(&ev, "nope"));
	assert_null(ev.topic);
	assert_int_equal(ev.partition, -1);
	/* optional fields absent; the epoch itself is a time */
	struct event min = full;
	min.flow = NULL;
	min.causation_id = "";
	min.nattrs = 0;
	min.time_ns = 0;
	assert_int_equal(decode(d, &min, &ev, err), 0);
	assert_null(ev.flow);
	assert_string_equal(ev.causation_id, "");
	assert_int_equal(ev.nattrs, 0);
	assert_int_equal(ev.time_ns, 0);
	decoder_free(d);
}

/* Each required field emptied in turn is reported by its name. */
static void test_missing(void **state)
{
	(void)state;
	static const struct {
		int field;
		const char *detail;
	} cases[] = {
		{ 0, "missing field \"event_id\"" },
		{ 1, "missing field \"correlation_id\"" },
		{ 2, "missing field \"type\"" },
		{ 3, "missing field \"source\"" },
		{ 4, "missing field \"time_unix_nano\"" },
	};
	struct decoder *d = dec(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event in = full, ev;
		char err[256] = "";
		const char **f[] = { &in.event_id, &in.correlation_id, &in.type, &in.source };
		if (cases[i].field < 4)
			*f[cases[i].field] = "";
		else
			in.time_ns = DECODE_NO_TIME;
		assert_int_equal(decode(d, &in, &ev, err), DECODE_MISSING_FIELD);
		assert_string_equal(err, cases[i].detail);
	}
	/* an empty message lacks everything */
	struct event ev;
	char err[256];
	assert_int_equal(
	    decode_proto(d, (const uint8_t *)"", 0, &ev, err, sizeof(err)), DECODE_MISSING_FIELD);
	/* unless the source supplies the fields itself */
	decoder_set_required(d, DECODE_REQ_EVENT_ID | DECODE_REQ_TYPE | DECODE_REQ_SOURCE);
	struct event in = full;
	in.correlation_id = "";
	in.time_ns = DECODE_NO_TIME;
	assert_int_equal(decode(d, &in, &ev, err), 0);
	assert_string_equal(ev.correlation_id, "");
	assert_int_equal(ev.time_ns, DECODE_NO_TIME);
	decoder_free(d);
}

static void test_bad_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = { "\xff", "a\xc3", "\xed\xa0\x80", "\xc0\xaf",
		"\xf4\x90\x80\x80" };
	struct decoder *d = dec(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int where = 0; where < 3; where++) {
			struct event in = full, ev;
			struct ev_attr a[1] = { { "k", "v" } };
			char err[256];
			in.attrs = a;
			in.nattrs = 1;
			if (where == 0)
				in.correlation_id = bad[i];
			else if (where == 1)
				in.flow = bad[i];
			else
				a[0].val = bad[i];
			assert_int_equal(decode(d, &in, &ev, err), DECODE_BAD_UTF8);
		}
	}
	decoder_free(d);
}

static const struct {
	const char *name;
	const char *bytes;
	size_t len;
} garbage[] = {
	{ "all ones", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11 },
	{ "string cut short",
	    "\x0a\x05"
	    "ab",
	    4 },
	{ "length past end",
	    "\x0a\x7f"
	    "e1",
	    4 },
	{ "wrong wire type", "\x0d\x01\x02\x03\x04", 5 },
	{ "varint cut short", "\x28\xff\xff", 3 },
	{ "field number 0", "\x00\x01", 2 },
	{ "end group", "\x0c", 1 },
	{ "text", "{\"event_id\":\"e1\"}", 17 },
};

static void test_garbage(void **state)
{
	(void)state;
	struct decoder *d = dec(0);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		struct event ev;
		char err[256] = "";
		int rc = decode_proto(
		    d, (const uint8_t *)garbage[i].bytes, garbage[i].len, &ev, err, sizeof(err));
		if (rc != DECODE_BAD_PROTOBUF)
			fail_msg("%s: rc %d (%s)", garbage[i].name, rc, err);
		assert_non_null(strstr(err, "not a choreoscope.v1.Event"));
	}
	/* a prefix of a valid message is rejected unless it ends on a field boundary
	 * after the required fields (then it is a valid, shorter message) */
	uint8_t buf[512];
	size_t n = decode_proto_pack(&full, buf, sizeof(buf)), ok = 0;
	for (size_t cut = 1; cut < n; cut++) {
		struct event ev;
		char err[256];
		if (decode_proto(d, buf, cut, &ev, err, sizeof(err)) == 0) {
			assert_string_equal(ev.event_id, "e1");
			ok++;
		}
	}
	assert_true(ok < 6);
	decoder_free(d);
}

/* Fields this version does not know are skipped (forward compatibility). */
static void test_unknown_fields(void **state)
{
	(void)state;
	uint8_t buf[600];
	size_t n = decode_proto_pack(&full, buf, sizeof(buf));
	memcpy(buf + n,
	    "\xc8\x06\x2a"
	    "\xd2\x06\x03xyz",
	    9); /* 105: varint, 106: bytes */
	struct decoder *d = dec(0);
	struct event ev;
	char err[256];
	assert_int_equal(decode_proto(d, buf, n + 9, &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.event_id, "e1");
	decoder_free(d);
}

/* The attribute limits (decode.h) at their bound and one past it; the messages are
 * packed by protobuf-c directly, so that they can hold more than any limit. */
static void test_attribute_limits(void **state)
{
	(void)state;
	static const struct {
		struct decode_limits lim;
		size_t n, klen, vlen;
		int rc;
	} cases[] = {
		{ { 0 }, 32, 3, 1, 0 },
		{ { 0 }, 33, 3, 1, DECODE_TOO_MANY_ATTRIBUTES },
		{ { .max_attributes = 256 }, 256, 4, 1, 0 },
		{ { .max_attributes = 256 }, 257, 4, 1, DECODE_TOO_MANY_ATTRIBUTES },
		{ { 0 }, 1, 3, 4096, 0 },
		{ { 0 }, 1, 3, 4097, DECODE_ATTRIBUTE_TOO_LARGE },
		{ { 0 }, 1, 4097, 1, DECODE_ATTRIBUTE_TOO_LARGE },
		{ { .max_attribute_bytes = 5 }, 2, 5, 5, 0 },
		{ { .max_attribute_bytes = 5 }, 2, 3, 6, DECODE_ATTRIBUTE_TOO_LARGE },
	};
	enum { N = EV_MAX_ATTRS + 1, L = 4098 };
	static Choreoscope__V1__Event__AttributesEntry e[N], *p[N];
	static char keys[N][L], val[L];
	size_t cap = 1 << 22;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Choreoscope__V1__Event m = CHOREOSCOPE__V1__EVENT__INIT;
		m.event_id = "e1";
		m.correlation_id = "o1";
		m.type = "T";
		m.source = "s";
		m.time_case = CHOREOSCOPE__V1__EVENT__TIME_TIME_UNIX_NANO;
		m.time_unix_nano = T0;
		memset(val, 'v', cases[i].vlen);
		val[cases[i].vlen] = '\0';
		for (size_t k = 0; k < cases[i].n; k++) {
			choreoscope__v1__event__attributes_entry__init(&e[k]);
			int w = snprintf(keys[k], L, "k%zu", k);
			memset(keys[k] + w, 'k',
			    cases[i].klen > (size_t)w ? cases[i].klen - (size_t)w : 0);
			keys[k][cases[i].klen > (size_t)w ? cases[i].klen : (size_t)w] = '\0';
			e[k].key = keys[k];
			e[k].value = val;
			p[k] = &e[k];
		}
		m.attributes = p;
		m.n_attributes = cases[i].n;
		size_t len = choreoscope__v1__event__pack(&m, buf);
		struct decoder *d = dec(0);
		decoder_set_limits(d, &cases[i].lim);
		struct event ev;
		char err[256] = "";
		int rc = decode_proto(d, buf, len, &ev, err, sizeof(err));
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s), want %d", i, rc, err, cases[i].rc);
		if (!rc)
			assert_int_equal(ev.nattrs, cases[i].n);
		decoder_free(d);
	}
	free(buf);
}

/* time_unix_nano edges, packed by protobuf-c directly (any int64, set or unset). */
static void test_time_edges(void **state)
{
	(void)state;
	static const struct {
		int set;
		int64_t t;
		int rc;
	} cases[] = {
		{ 1, 0, 0 },                    /* the epoch, set: a time */
		{ 0, 0, DECODE_MISSING_FIELD }, /* unset: missing */
		{ 1, 1, 0 },
		{ 1, TIMEFMT_MAX_NS, 0 },
		{ 1, TIMEFMT_MAX_NS + 1, DECODE_TIME_OUT_OF_RANGE },
		{ 1, INT64_MAX, DECODE_TIME_OUT_OF_RANGE },
		{ 1, INT64_MIN, DECODE_TIME_OUT_OF_RANGE }, /* the sentinel is no time */
		{ 1, INT64_MIN + 1, DECODE_TIME_OUT_OF_RANGE },
		{ 1, -1, DECODE_TIME_OUT_OF_RANGE },
	};
	struct decoder *d = dec(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Choreoscope__V1__Event m = CHOREOSCOPE__V1__EVENT__INIT;
		uint8_t buf[256];
		struct event ev;
		char err[256] = "";
		m.event_id = "e1";
		m.correlation_id = "o1";
		m.type = "T";
		m.source = "s";
		if (cases[i].set) {
			m.time_case = CHOREOSCOPE__V1__EVENT__TIME_TIME_UNIX_NANO;
			m.time_unix_nano = cases[i].t;
		}
		size_t len = choreoscope__v1__event__pack(&m, buf);
		int rc = decode_proto(d, buf, len, &ev, err, sizeof(err));
		if (rc != cases[i].rc || (!rc && ev.time_ns != cases[i].t))
			fail_msg("case %zu (%lld): rc %d (%s), want %d", i, (long long)cases[i].t,
			    rc, err, cases[i].rc);
	}
	/* the packer writes a 0 time (older senders omit it: it reads as missing) */
	struct event in = full, ev;
	char err[256];
	in.time_ns = 0;
	assert_int_equal(decode(d, &in, &ev, err), 0);
	assert_int_equal(ev.time_ns, 0);
	decoder_free(d);
}

static void test_too_large(void **state)
{
	(void)state;
	struct decoder *d = dec(32);
	struct event ev;
	char err[256];
	assert_int_equal(decode(d, &full, &ev, err), DECODE_TOO_LARGE);
	assert_non_null(strstr(err, "32-byte limit"));
	decoder_free(d);
}

/* Many calls reuse the arena: strings of the current event are intact, and JSON and
 * protobuf calls interleave on one decoder. */
static void test_reuse(void **state)
{
	(void)state;
	struct decoder *d = dec(0);
	for (int i = 0; i < 10000; i++) {
		char id[32], err[256];
		snprintf(id, sizeof(id), "order-%d", i);
		struct event in = full, ev;
		in.correlation_id = id;
		assert_int_equal(decode(d, &in, &ev, err), 0);
		assert_string_equal(ev.correlation_id, id);
		char js[512];
		size_t n = decode_json_format(&in, js, sizeof(js));
		assert_int_equal(decode_json(d, js, n, &ev, err, sizeof(err)), 0);
		assert_string_equal(ev.correlation_id, id);
		assert_string_equal(event_attr(&ev, "amount"), "12.50");
	}
	decoder_free(d);
}

/* Deterministic byte mutations of a valid message: never a crash (ASan run), a known
 * reason, and an accepted event has its required fields and valid strings. */
static void test_mutations(void **state)
{
	(void)state;
	uint8_t base[512], buf[512];
	size_t blen = decode_proto_pack(&full, base, sizeof(base));
	uint32_t seed = 777;
	struct decoder *d = dec(0);
	for (int i = 0; i < 20000; i++) {
		size_t n = blen;
		memcpy(buf, base, n);
		for (int k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % n;
			if ((seed >> 28) % 4 == 0)
				n = at ? at : 1;
			else
				buf[at] = (uint8_t)(seed >> 16);
		}
		struct event ev;
		char err[256] = "";
		int rc = decode_proto(d, buf, n, &ev, err, sizeof(err));
		assert_true(rc <= 0 && rc > -DECODE_NERRORS);
		if (rc == 0)
			assert_true(
			    ev.event_id[0] && ev.correlation_id[0] && ev.type[0] && ev.source[0]);
		else
			assert_true(err[0] != '\0');
	}
	decoder_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_attribute_limits),
		cmocka_unit_test(test_time_edges),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
