/* test_timefmt: RFC 3339 parsing (valid, invalid, offsets, leap years, the accepted
 * range and its edges), formatting (trimmed and fixed fractions, pre-1970, the int64
 * ends), saturating time sums and seconds as JSON numbers. Tables throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/timefmt.h"

static const struct {
	const char *in;
	int64_t ns;
} valid[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1970-01-01T00:00:00.000000001Z", 1 },
	{ "2026-11-25T10:00:00Z", 1795600800000000000LL },
	{ "2026-11-25T10:00:00.5Z", 1795600800500000000LL },
	{ "2026-11-25t10:00:00.5z", 1795600800500000000LL },
	{ "2026-11-25T11:00:00+01:00", 1795600800000000000LL },
	{ "2026-11-25T04:30:00-05:30", 1795600800000000000LL },
	{ "2026-11-26T09:59:00+23:59", 1795600800000000000LL },
	{ "2026-11-25T10:00:00.123456789Z", 1795600800123456789LL },
	{ "2026-11-25T10:00:00.12Z", 1795600800120000000LL },
	{ "2024-02-29T00:00:00Z", 1709164800000000000LL },
	{ "2000-02-29T00:00:00Z", 951782400000000000LL },
	{ "2026-12-31T23:59:59Z", 1798761599000000000LL },
	/* the ends of the accepted range */
	{ "1970-01-01T01:00:00+01:00", 0 },
	{ "2199-12-31T23:59:59.999999999Z", TIMEFMT_MAX_NS },
	{ "2200-01-01T01:59:59.999999999+02:00", TIMEFMT_MAX_NS },
	{ "2199-12-31T18:29:59-05:30", TIMEFMT_MAX_NS - 999999999LL },
};

/* Well-formed, outside the accepted range: TIMEFMT_ERANGE, not a syntax error. */
static const char *const out_of_range[] = {
	"1969-12-31T23:59:59.999999999Z",
	"1969-12-31T23:59:59Z",
	"1900-01-01T00:00:00Z",
	"1970-01-01T00:59:59+01:00",
	"1970-01-01T00:00:00.5+00:01",
	"2200-01-01T00:00:00Z",
	"2199-12-31T23:59:59-00:01",
	"2262-04-11T23:47:16.854775807Z",
	"2262-04-11T23:47:16.854775808Z",
	"1677-09-21T00:12:44Z",
	"1677-09-21T00:12:43.145224192Z",
	"1677-09-21T00:12:43.145224191Z",
	"9999-12-31T23:59:59Z",
	"0000-01-01T00:00:00Z",
};

static const char *const invalid[] = {
	"",
	"2026-11-25",
	"2026-11-25T10:00:00",
	"2026-11-25T10:00:00+0100",
	"2026-11-25 10:00:00Z",
	"2026-13-01T00:00:00Z",
	"2026-00-01T00:00:00Z",
	"2026-04-31T00:00:00Z",
	"2026-02-29T00:00:00Z",
	"1900-02-29T00:00:00Z",
	"2026-11-00T00:00:00Z",
	"2026-11-25T24:00:00Z",
	"2026-11-25T10:60:00Z",
	"2026-11-25T10:00:60Z",
	"2026-11-25T10:00:00.Z",
	"2026-11-25T10:00:00.1234567891Z",
	"2026-11-25T10:00:00+24:00",
	"2026-11-25T10:00:00+01:60",
	"2026-11-25T10:00:00ZZ",
	"2026-11-25T10:00:00Z ",
	" 2026-11-25T10:00:00Z",
	"26-11-25T10:00:00Z",
	"2026/11/25T10:00:00Z",
	"2026-11-25T10:00:00+01",
	"2026-11-25T1a:00:00Z",
	"9999-13-31T23:59:59Z",
	"2026-11-25T10:00:00.5",
	"+2026-11-25T10:00:00Z",
	"2026-11-25T10:00:00-00:0x",
};

static void test_parse_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int64_t ns = 42;
		int rc = timefmt_parse_rfc3339(valid[i].in, strlen(valid[i].in), &ns);
		if (rc || ns != valid[i].ns)
			fail_msg("%s: rc %d ns %lld, want %lld", valid[i].in, rc, (long long)ns,
			    (long long)valid[i].ns);
	}
}

static void test_parse_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int64_t ns = 42;
		int rc = timefmt_parse_rfc3339(invalid[i], strlen(invalid[i]), &ns);
		if (rc != TIMEFMT_ESYNTAX)
			fail_msg("\"%s\": rc %d ns %lld, want a syntax error", invalid[i], rc,
			    (long long)ns);
		assert_int_equal(ns, 42);
	}
}

static void test_parse_out_of_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
		int64_t ns = 42;
		int rc = timefmt_parse_rfc3339(out_of_range[i], strlen(out_of_range[i]), &ns);
		if (rc != TIMEFMT_ERANGE)
			fail_msg("\"%s\": rc %d ns %lld, want out of range", out_of_range[i], rc,
			    (long long)ns);
		assert_int_equal(ns, 42);
	}
	assert_false(timefmt_in_range(TIMEFMT_NONE));
	assert_false(timefmt_in_range(-1));
	assert_false(timefmt_in_range(TIMEFMT_MAX_NS + 1));
	assert_true(timefmt_in_range(0));
	assert_true(timefmt_in_range(TIMEFMT_MAX_NS));
}

/* Sums saturate at the int64 ends and never yield TIMEFMT_NONE. */
static void test_add_sat(void **state)
{
	(void)state;
	static const struct {
		int64_t t, d, sum, diff;
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ 5, 3, 8, 2 },
		{ TIMEFMT_MAX_NS, INT64_MAX, INT64_MAX, TIMEFMT_MAX_NS - INT64_MAX },
		{ INT64_MAX, 1, INT64_MAX, INT64_MAX - 1 },
		{ INT64_MAX - 1, 1, INT64_MAX, INT64_MAX - 2 },
		{ INT64_MAX, INT64_MAX, INT64_MAX, 0 },
		{ 0, INT64_MAX, INT64_MAX, -INT64_MAX },
		{ INT64_MIN, 0, INT64_MIN + 1, INT64_MIN + 1 },
		{ INT64_MIN, -1, INT64_MIN + 1, INT64_MIN + 1 },
		{ INT64_MIN + 1, INT64_MAX, 0, INT64_MIN + 1 },
		{ -1, INT64_MIN, INT64_MIN + 1, INT64_MAX },
		{ 1, INT64_MIN + 1, INT64_MIN + 2, INT64_MAX },
		{ -2, INT64_MAX, INT64_MAX - 2, INT64_MIN + 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t s = timefmt_add_sat(cases[i].t, cases[i].d);
		int64_t d = timefmt_sub_sat(cases[i].t, cases[i].d);
		if (s != cases[i].sum || d != cases[i].diff)
			fail_msg("case %zu: %lld+%lld=%lld (want %lld), -=%lld (want %lld)", i,
			    (long long)cases[i].t, (long long)cases[i].d, (long long)s,
			    (long long)cases[i].sum, (long long)d, (long long)cases[i].diff);
	}
}

static void test_format_fixed(void **state)
{
	(void)state;
	static const struct {
		int64_t ns;
		int digits;
		const char *out;
	} cases[] = {
		{ 1795600800500000000LL, 3, "2026-11-25T10:00:00.500Z" },
		{ 1795600800123456789LL, 3, "2026-11-25T10:00:00.123Z" },
		{ 1795600800123456789LL, 6, "2026-11-25T10:00:00.123456Z" },
		{ 1795600800123456789LL, 9, "2026-11-25T10:00:00.123456789Z" },
		{ 1795600800999999999LL, 0, "2026-11-25T10:00:00Z" },
		{ 0, 6, "1970-01-01T00:00:00.000000Z" },
		{ -1, 3, "1969-12-31T23:59:59.999Z" },
		{ INT64_MAX, 9, "2262-04-11T23:47:16.854775807Z" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[TIMEFMT_RFC3339_MAX];
		size_t n =
		    timefmt_format_rfc3339_fixed(cases[i].ns, cases[i].digits, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
}

/* len bounds the parse: a valid prefix of a longer buffer parses, a cut one does not. */
static void test_parse_len(void **state)
{
	(void)state;
	const char *s = "2026-11-25T10:00:00Z\",\"x\"";
	int64_t ns;
	assert_int_equal(timefmt_parse_rfc3339(s, 20, &ns), 0);
	assert_int_equal(ns, 1795600800000000000LL);
	assert_int_equal(timefmt_parse_rfc3339(s, 19, &ns), -1);
	assert_int_equal(timefmt_parse_rfc3339(s, 21, &ns), -1);
}

static const struct {
	int64_t ns;
	const char *out;
} formats[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ 1, "1970-01-01T00:00:00.000000001Z" },
	{ 1795600800000000000LL, "2026-11-25T10:00:00Z" },
	{ 1795600800500000000LL, "2026-11-25T10:00:00.5Z" },
	{ 1795600800120000000LL, "2026-11-25T10:00:00.12Z" },
	{ 1795600800123456789LL, "2026-11-25T10:00:00.123456789Z" },
	{ 1709164800000000000LL, "2024-02-29T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59.999999999Z" },
	{ -1000000000LL, "1969-12-31T23:59:59Z" },
	{ -1500000000LL, "1969-12-31T23:59:58.5Z" },
	{ -2208988800000000000LL, "1900-01-01T00:00:00Z" },
	{ INT64_MAX, "2262-04-11T23:47:16.854775807Z" },
	{ INT64_MIN, "1677-09-21T00:12:43.145224192Z" },
	{ TIMEFMT_MAX_NS, "2199-12-31T23:59:59.999999999Z" },
};

static void test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char buf[TIMEFMT_RFC3339_MAX];
		size_t n = timefmt_format_rfc3339(formats[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, formats[i].out);
		assert_int_equal(n, strlen(formats[i].out));
		int64_t back = 42;
		int rc = timefmt_parse_rfc3339(buf, n, &back);
		if (timefmt_in_range(formats[i].ns)) {
			assert_int_equal(rc, TIMEFMT_OK);
			assert_int_equal(back, formats[i].ns);
		} else
			assert_int_equal(rc, TIMEFMT_ERANGE);
	}
}

static void test_format_short_buffer(void **state)
{
	(void)state;
	char buf[21];
	assert_int_equal(timefmt_format_rfc3339(0, buf, 20), 0);
	assert_int_equal(timefmt_format_rfc3339(0, buf, 21), 20);
	char sb[4];
	assert_int_equal(timefmt_seconds(1500000000LL, sb, 3), 0);
	assert_int_equal(timefmt_seconds(1500000000LL, sb, 4), 3);
	assert_string_equal(sb, "1.5");
}

/* Round trip over a day's worth of seconds across leap days, from the epoch to the
 * end of the accepted range. */
static void test_round_trip_sweep(void **state)
{
	(void)state;
	for (int64_t s = 0; s < TIMEFMT_MAX_NS / 1000000000LL; s += 86399 * 70 + 13) {
		char buf[TIMEFMT_RFC3339_MAX];
		int64_t ns = s * 1000000000LL + (s & 1023), back;
		size_t n = timefmt_format_rfc3339(ns, buf, sizeof(buf));
		assert_int_equal(timefmt_parse_rfc3339(buf, n, &back), 0);
		assert_int_equal(back, ns);
	}
}

static const struct {
	int64_t ns;
	const char *out;
} seconds[] = {
	{ 0, "0" },
	{ 30000000000LL, "30" },
	{ 1500000000LL, "1.5" },
	{ 1000, "0.000001" },
	{ 1, "0.000000001" },
	{ -250000000LL, "-0.25" },
	{ 123456789012LL, "123.456789012" },
	{ INT64_MAX, "9223372036.854775807" },
	{ INT64_MIN, "-9223372036.854775808" },
};

static void test_seconds(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seconds) / sizeof(seconds[0]); i++) {
		char buf[TIMEFMT_SECONDS_MAX];
		size_t n = timefmt_seconds(seconds[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, seconds[i].out);
		assert_int_equal(n, strlen(seconds[i].out));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_parse_out_of_range),
		cmocka_unit_test(test_add_sat),
		cmocka_unit_test(test_format_fixed),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_short_buffer),
		cmocka_unit_test(test_round_trip_sweep),
		cmocka_unit_test(test_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
