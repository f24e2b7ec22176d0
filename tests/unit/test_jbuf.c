/*
 * test_jbuf: the one JSON writer (lib/jbuf): every encoder against the exact text it
 * must produce (table-driven), the key/comma rule, and the cap (overflow, no partial
 * write, jbuf_write refusing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jbuf.h"

static void test_strings(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "", "\"\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "n\nt\tr\r", "\"n\\nt\\tr\\r\"" },
		{ "\x01\x1f ", "\"\\u0001\\u001f \"" },
		{ "\x7f", "\"\x7f\"" },
		{ "caf\xc3\xa9 \xe2\x80\xa8", "\"caf\xc3\xa9 \xe2\x80\xa8\"" },
		{ "a/b", "\"a/b\"" },
		{ NULL, "null" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jbuf b;
		jbuf_init(&b, 1024);
		jbuf_json_str(&b, cases[i].in);
		assert_string_equal(b.p, cases[i].want);
		assert_int_equal(b.len, strlen(cases[i].want));
		jbuf_free(&b);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	static const struct {
		int kind;
		int64_t i;
		uint64_t u;
		double d;
		const char *want;
	} cases[] = {
		{ 0, 0, 0, 0, "0" },
		{ 0, -42, 0, 0, "-42" },
		{ 0, INT64_MIN, 0, 0, "-9223372036854775808" },
		{ 0, INT64_MAX, 0, 0, "9223372036854775807" },
		{ 1, 0, UINT64_MAX, 0, "18446744073709551615" },
		{ 2, 0, 0, 0.1, "0.1" },
		{ 2, 0, 0, 1e6, "1000000" },
		{ 2, 0, 0, -250, "-250" },
		{ 2, 0, 0, 1e15, "1e+15" },
		{ 2, 0, 0, 1.0 / 3, "0.3333333333333333" },
		{ 2, 0, 0, 12.345678912, "12.345678912" },
		{ 2, 0, 0, 5e-324, "5e-324" },
		{ 2, 0, 0, NAN, "null" },
		{ 2, 0, 0, -INFINITY, "null" },
		{ 3, INT64_MIN, 0, 0, "null" },
		{ 3, 0, 0, 0, "\"1970-01-01T00:00:00Z\"" },
		{ 3, 1500000000, 0, 0, "\"1970-01-01T00:00:01.5Z\"" },
		{ 3, -1, 0, 0, "\"1969-12-31T23:59:59.999999999Z\"" },
		{ 4, 30000000000, 0, 0, "30" },
		{ 4, 1500000, 0, 0, "0.0015" },
		{ 4, -250000000, 0, 0, "-0.25" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jbuf b;
		jbuf_init(&b, 1024);
		switch (cases[i].kind) {
		case 0: jbuf_json_int(&b, cases[i].i); break;
		case 1: jbuf_json_uint(&b, cases[i].u); break;
		case 2: jbuf_json_num(&b, cases[i].d); break;
		case 3: jbuf_json_time(&b, cases[i].i); break;
		default: jbuf_json_seconds(&b, cases[i].i); break;
		}
		if (b.p == NULL || strcmp(b.p, cases[i].want) != 0)
			fail_msg(
			    "case %zu: got %s, want %s", i, b.p ? b.p : "(null)", cases[i].want);
		jbuf_free(&b);
	}
}

static void test_keys(void **state)
{
	(void)state;
	struct jbuf b;
	jbuf_init(&b, 1024);
	jbuf_puts(&b, "{");
	jbuf_json_kstr(&b, "a", "x");
	jbuf_json_kint(&b, "b", -1);
	jbuf_json_key(&b, "c");
	jbuf_puts(&b, "[");
	jbuf_json_ktime(&b, "t", INT64_MIN);
	jbuf_puts(&b, "]}");
	assert_string_equal(b.p, "{\"a\":\"x\",\"b\":-1,\"c\":[\"t\":null]}");
	jbuf_free(&b);
}

static void test_cap(void **state)
{
	(void)state;
	struct jbuf b;
	jbuf_init(&b, 16);
	jbuf_json_str(&b, "0123456789");
	assert_false(b.overflow);
	jbuf_json_str(&b, "abc"); /* 12 + 5 + NUL > 16: dropped whole */
	assert_true(b.overflow);
	assert_string_equal(b.p, "\"0123456789\"");
	FILE *f = fopen("/dev/null", "w");
	assert_int_equal(jbuf_write(&b, f), -1);
	jbuf_reset(&b);
	jbuf_json_uint(&b, 7);
	assert_int_equal(jbuf_write(&b, f), 0);
	/* near the bound the escaped size is counted exactly: 12 + NUL fits 16 */
	jbuf_reset(&b);
	jbuf_json_str(&b, "a\"\x01");
	assert_false(b.overflow);
	assert_string_equal(b.p, "\"a\\\"\\u0001\"");
	fclose(f);
	jbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
