/* Unit tests for tui/fmt.c: the TUI's pure formatting (table-driven). The module is
 * compiled into this binary directly: the TUI is a program, not part of libchoreo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "../../tui/fmt.c"

static void test_duration(void **state)
{
	static const struct {
		double in;
		const char *out;
	} cases[] = { { -1, "-" }, { 0, "0.00s" }, { 0.123, "0.12s" }, { 4.56, "4.6s" },
		{ 41.2, "41s" }, { 185, "3m05s" }, { 7380, "2h03m" },
		{ 3 * 86400 + 4 * 3600 + 5, "3d04h" } };
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fmt_duration(buf, sizeof buf, cases[i].in);
		assert_string_equal(buf, cases[i].out);
	}
	fmt_duration(buf, sizeof buf, NAN);
	assert_string_equal(buf, "-");
}

static void test_rate_count(void **state)
{
	static const struct {
		double in;
		const char *out;
	} rates[] = { { 0, "0" }, { -3, "0" }, { 0.5, "0.50" }, { 12.34, "12.3" }, { 512, "512" },
		{ 12345, "12.3k" }, { 3.4e6, "3.4M" } };
	static const struct {
		long long in;
		const char *out;
	} counts[] = { { 42, "42" }, { 9999, "9999" }, { 12345, "12.3k" }, { 1000000, "1.00M" },
		{ 2100000000LL, "2.1G" }, { -1, "-" } };
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		fmt_rate(buf, sizeof buf, rates[i].in);
		assert_string_equal(buf, rates[i].out);
	}
	for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		fmt_count(buf, sizeof buf, counts[i].in);
		assert_string_equal(buf, counts[i].out);
	}
}

static void test_fit(void **state)
{
	static const struct {
		const char *in;
		int cols, right, utf8;
		const char *out;
	} cases[] = { { "abc", 5, 0, 1, "abc  " }, { "abc", 5, 1, 1, "  abc" },
		{ "abcdef", 4, 0, 1, "abc\xE2\x80\xA6" }, { "abcdef", 4, 0, 0, "abc~" },
		{ "abc", 3, 0, 1, "abc" }, { "", 2, 0, 1, "  " },
		{ "\xE2\x96\xA0 x", 4, 0, 1, "\xE2\x96\xA0 x " },
		{ "\xE2\x96\xA0 x", 5, 0, 0, "??? x" }, { "\xE2\x96\xA0 x", 4, 0, 0, "???~" },
		{ "a\tb", 3, 0, 1, "a?b" }, { "abc", 0, 0, 1, "" }, { NULL, 2, 0, 1, "  " } };
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fmt_fit(buf, sizeof buf, cases[i].in, cases[i].cols, cases[i].right, cases[i].utf8);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(fmt_width(buf, cases[i].utf8), cases[i].cols);
	}
	/* a buffer too small is cut, never overrun */
	fmt_fit(buf, 4, "abcdef", 10, 0, 1);
	assert_string_equal(buf, "abc");
}

static void test_sparkline(void **state)
{
	static const double v[] = { 0, 1, 2, 4, 8 };
	char buf[64];

	(void)state;
	fmt_sparkline(buf, sizeof buf, v, 5, 5, 0);
	assert_string_equal(buf, " .:=#");
	fmt_sparkline(buf, sizeof buf, v, 5, 7, 0);
	assert_string_equal(buf, "   .:=#");
	fmt_sparkline(buf, sizeof buf, v, 5, 2, 0); /* only the newest, rescaled */
	assert_string_equal(buf, "=#");
	fmt_sparkline(buf, sizeof buf, v, 5, 5, 1);
	assert_string_equal(buf, "\xE2\x96\x81\xE2\x96\x82\xE2\x96\x83\xE2\x96\x85\xE2\x96\x88");
	fmt_sparkline(buf, sizeof buf, v, 0, 3, 1);
	assert_string_equal(buf, "   ");
}

static void test_match(void **state)
{
	static const struct {
		const char *hay, *needle;
		int out;
	} cases[] = { { "order-17", "", 1 }, { "order-17", NULL, 1 }, { "order-17", "ER-1", 1 },
		{ "order-17", "18", 0 }, { NULL, "x", 0 }, { "ab", "abc", 0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(fmt_match(cases[i].hay, cases[i].needle), cases[i].out);
}

static void test_parse_time(void **state)
{
	static const struct {
		const char *in;
		int rc;
		double t;
	} cases[] = { { "1970-01-01T00:00:00Z", 0, 0 }, { "2026-11-25T10:00:00Z", 0, 1795600800 },
		{ "2026-11-25T10:00:00.25Z", 0, 1795600800.25 },
		{ "2026-11-25T12:00:00+02:00", 0, 1795600800 }, { "2026-11-25T10:00:00", -1, 0 },
		{ "2026-13-25T10:00:00Z", -1, 0 }, { "yesterday", -1, 0 },
		{ "2026-11-25T10:00:00Zjunk", -1, 0 },
		/* the collector's parser: its grammar and accepted range */
		{ "2026-11-25 10:00:00Z", -1, 0 }, { "2026-11-25T10:00:60Z", -1, 0 },
		{ "2026-02-30T10:00:00Z", -1, 0 }, { "1969-12-31T23:59:59Z", -1, 0 },
		{ "2262-04-11T23:47:16.854775807Z", -1, 0 },
		{ "2199-12-31T23:59:59Z", 0, 7258118399.0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double t = -1;
		assert_int_equal(fmt_parse_time(cases[i].in, &t), cases[i].rc);
		if (cases[i].rc == 0)
			assert_true(fabs(t - cases[i].t) < 1e-6);
	}
}

static void test_kind_abbrev(void **state)
{
	(void)state;
	assert_string_equal(fmt_kind_abbrev("stalled"), "stl");
	assert_string_equal(fmt_kind_abbrev("retry_storm"), "rty");
	assert_string_equal(fmt_kind_abbrev("new_kind"), "new_kind");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_duration),
		cmocka_unit_test(test_rate_count), cmocka_unit_test(test_fit),
		cmocka_unit_test(test_sparkline), cmocka_unit_test(test_match),
		cmocka_unit_test(test_parse_time), cmocka_unit_test(test_kind_abbrev) };

	setlocale(LC_ALL, "C.UTF-8"); /* wcwidth() of non-ASCII code points */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
