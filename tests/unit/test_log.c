/* Unit tests for log: level names, the rate limiter (injected times), and the line
 * format (written to a memory stream). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/log.h"

#define SEC ((int64_t)1000000000)

static void test_levels(void **state)
{
	static const struct {
		const char *name;
		int ok;
		enum log_level want;
	} cases[] = {
		{ "error", 1, LOG_LVL_ERROR },
		{ "warn", 1, LOG_LVL_WARN },
		{ "warning", 1, LOG_LVL_WARN },
		{ "info", 1, LOG_LVL_INFO },
		{ "debug", 1, LOG_LVL_DEBUG },
		{ "verbose", 0, LOG_LVL_INFO },
		{ "", 0, LOG_LVL_INFO },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum log_level l = LOG_LVL_INFO;
		int ok = log_level_parse(cases[i].name, &l) == 0;
		if (ok != cases[i].ok || (ok && l != cases[i].want))
			fail_msg("%s: ok=%d level=%d", cases[i].name, ok, (int)l);
	}
	assert_string_equal(log_level_name(LOG_LVL_DEBUG), "debug");
}

/* burst 3 per second: times (in ms) and whether each line is written, with the
 * suppressed count the written one reports. */
static void test_limit(void **state)
{
	static const struct {
		int64_t ms;
		int allowed;
		uint64_t supp;
	} steps[] = {
		{ 0, 1, 0 }, { 10, 1, 0 }, { 20, 1, 0 }, { 30, 0, 0 }, { 999, 0, 0 },
		{ 1000, 1, 2 }, { 1001, 1, 0 }, { 1002, 1, 0 }, { 1003, 0, 0 }, { 5000, 1, 1 },
		{ 4000, 1, 0 }, /* a clock going back starts a new window */
	};
	struct log_limit rl = LOG_LIMIT_INIT(3, SEC);
	(void)state;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		uint64_t supp = 99;
		int a = log_limit_allow(&rl, steps[i].ms * 1000000, &supp);
		if (a != steps[i].allowed || (a && supp != steps[i].supp))
			fail_msg("step %zu (t=%lld ms): allowed=%d supp=%llu", i,
			    (long long)steps[i].ms, a, (unsigned long long)supp);
	}
}

/* log_escape keeps a value of several lines (a config's problems) one quoted field. */
static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		const char *want;
	} cases[] = {
		{ "plain", 64, "plain" },
		{ "a.yaml:1:2: \"x\": bad\nb.yaml:3:4: y", 64,
		    "a.yaml:1:2: \\\"x\\\": bad\\nb.yaml:3:4: y" },
		{ "tab\there\r\\", 64, "tab\\there\\r\\\\" },
		{ "\x01\x7f", 64, "\\x01\\x7f" },
		{ "cut here", 8, "cut" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[64];
		assert_string_equal(log_escape(cases[i].in, buf, cases[i].cap), cases[i].want);
	}
}

static void test_line(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct log lg = { .level = LOG_LVL_INFO, .out = f };
	struct log_limit rl = LOG_LIMIT_INIT(1, 60 * SEC);
	int evaluated = 0;

	(void)state;
	LOG_INFO(&lg, "say \"hi\"", "topic=%s partition=%d", "events", 3);
	LOG_DEBUG(&lg, "hidden", "n=%d", ++evaluated);
	LOG_LIMITED(&lg, &rl, LOG_LVL_WARN, "limited", "n=%d", 1);
	LOG_LIMITED(&lg, &rl, LOG_LVL_WARN, "limited", "n=%d", 2);
	LOG_ERROR((struct log *)NULL, "nowhere", "n=%d", 3);
	fclose(f);
	assert_int_equal(evaluated, 0);
	assert_non_null(
	    strstr(buf, " level=info msg=\"say \\\"hi\\\"\" topic=events partition=3\n"));
	assert_null(strstr(buf, "hidden"));
	assert_non_null(strstr(buf, "level=warn msg=\"limited\" n=1\n"));
	assert_null(strstr(buf, "n=2"));
	assert_true(buf[4] == '-' && buf[10] == 'T' && strchr(buf, 'Z') != NULL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
