/* test_input: the replay readers. JSONL fixtures (positions, blank lines, CRLF, a last
 * line without newline, rejections that do not stop reading), oversized lines, reads
 * across buffer refills, stdin; length-delimited protobuf written by
 * input_write_proto_delimited (offsets, truncation, garbage, oversized records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "input.h"

#define FIXTURES "tests/fixtures/events/"

struct item {
	int status;
	int64_t pos;
	const char *what;    /* event_id for events, reason for rejections */
};

static const struct item sample[] = {
	{INPUT_EVENT, 1, "e1"},
	{INPUT_EVENT, 4, "e2"},
	{INPUT_REJECT, 5, "bad_time"},
	{INPUT_REJECT, 6, "missing_field"},
	{INPUT_REJECT, 7, "malformed_json"},
	{INPUT_EVENT, 8, "e5"},
	{INPUT_EOF, 0, NULL},
};

/* Reads every item of in and compares it with want[0..n). */
static void expect(struct input *in, const struct item *want, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		struct event ev;
		struct input_reject rej;
		char err[256];
		int st = input_next(in, &ev, &rej, err, sizeof(err));
		if (st != want[i].status)
			fail_msg("%s item %zu: status %d, want %d (%s)", name, i, st, want[i].status,
			    st == INPUT_REJECT ? rej.detail : "");
		if (st == INPUT_EVENT) {
			assert_string_equal(ev.event_id, want[i].what);
			assert_int_equal(ev.offset, want[i].pos);
			assert_null(ev.topic);
			assert_int_equal(ev.partition, -1);
		} else if (st == INPUT_REJECT) {
			assert_string_equal(rej.reason, want[i].what);
			assert_int_equal(rej.pos, want[i].pos);
			assert_true(rej.detail[0] != '\0');
		}
	}
}

static void test_jsonl_fixtures(void **state)
{
	(void)state;
	const char *files[] = {FIXTURES "sample.jsonl", FIXTURES "sample_crlf.jsonl"};
	for (int i = 0; i < 2; i++) {
		char err[256];
		struct input *in = input_open(files[i], INPUT_JSONL, NULL, err, sizeof(err));
		if (!in)
			fail_msg("%s", err);
		expect(in, sample, sizeof(sample) / sizeof(sample[0]), files[i]);
		input_close(in);
	}
}

static void test_jsonl_attrs_and_time(void **state)
{
	(void)state;
	char err[256];
	struct input *in = input_open(FIXTURES "sample.jsonl", INPUT_JSONL, NULL, err, sizeof(err));
	struct event ev;
	struct input_reject rej;
	assert_int_equal(input_next(in, &ev, &rej, err, sizeof(err)), INPUT_EVENT);
	assert_string_equal(ev.flow, "order");
	assert_int_equal(input_next(in, &ev, &rej, err, sizeof(err)), INPUT_EVENT);
	assert_int_equal(ev.time_ns, 1795600801500000000LL);
	assert_string_equal(ev.causation_id, "e1");
	assert_string_equal(event_attr(&ev, "retry"), "1");
	assert_null(ev.flow);
	input_close(in);
}

static char *write_temp(const char *data, size_t len)
{
	char *path = strdup("/tmp/test_input_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

#define LINE(id) "{\"event_id\":\"" id "\",\"correlation_id\":\"o\",\"type\":\"T\"," \
		 "\"source\":\"s\",\"time\":\"2026-11-25T10:00:00Z\"}"

/* Lines over max_len are rejected at their number; reading resumes after them. */
static void test_jsonl_too_large(void **state)
{
	(void)state;
	char err[256];
	size_t big = 300;
	char *data = malloc(4096);
	size_t k = (size_t)sprintf(data, LINE("a") "\n");
	memset(data + k, 'x', big);
	k += big;
	k += (size_t)sprintf(data + k, "\n" LINE("b") "\n");
	memset(data + k, 'y', big);  /* oversized and unterminated at EOF */
	k += big;
	char *path = write_temp(data, k);
	struct decoder *d = decoder_new(NULL, 128, err, sizeof(err));
	struct input *in = input_open(path, INPUT_JSONL, d, err, sizeof(err));
	const struct item want[] = {
		{INPUT_EVENT, 1, "a"}, {INPUT_REJECT, 2, "too_large"}, {INPUT_EVENT, 3, "b"},
		{INPUT_REJECT, 4, "too_large"}, {INPUT_EOF, 0, NULL}, {INPUT_EOF, 0, NULL},
	};
	expect(in, want, sizeof(want) / sizeof(want[0]), "too_large");
	input_close(in);
	decoder_free(d);
	unlink(path);
	free(path);
	free(data);
}

/* 3 MB of lines: reads span several refills; every line number is right. */
static void test_jsonl_many_lines(void **state)
{
	(void)state;
	size_t n = 25000, k = 0;
	char *data = malloc(n * 160);
	for (size_t i = 1; i <= n; i++)
		k += (size_t)sprintf(data + k, "{\"event_id\":\"e%zu\",\"correlation_id\":\"o%zu\","
		    "\"type\":\"T\",\"source\":\"s\",\"time\":\"2026-11-25T10:00:00Z\"}%s\n", i, i,
		    i % 7 ? "" : "\n");
	char *path = write_temp(data, k);
	char err[256];
	struct input *in = input_open(path, INPUT_JSONL, NULL, err, sizeof(err));
	struct event ev;
	struct input_reject rej;
	int64_t line = 0;
	for (size_t i = 1; i <= n; i++) {
		assert_int_equal(input_next(in, &ev, &rej, err, sizeof(err)), INPUT_EVENT);
		char id[32];
		snprintf(id, sizeof(id), "e%zu", i);
		assert_string_equal(ev.event_id, id);
		line += 1;
		assert_int_equal(ev.offset, line);
		if (i % 7 == 0)
			line += 1;  /* the blank line after it */
	}
	assert_int_equal(input_next(in, &ev, &rej, err, sizeof(err)), INPUT_EOF);
	input_close(in);
	unlink(path);
	free(path);
	free(data);
}

static void test_stdin(void **state)
{
	(void)state;
	const char data[] = LINE("s1") "\n\n" LINE("s2");
	char *path = write_temp(data, sizeof(data) - 1);
	int saved = dup(STDIN_FILENO);
	assert_non_null(freopen(path, "r", stdin));
	char err[256];
	struct input *in = input_open("-", INPUT_JSONL, NULL, err, sizeof(err));
	const struct item want[] = {{INPUT_EVENT, 1, "s1"}, {INPUT_EVENT, 3, "s2"},
		{INPUT_EOF, 0, NULL}};
	expect(in, want, 3, "stdin");
	input_close(in);
	dup2(saved, STDIN_FILENO);
	close(saved);
	unlink(path);
	free(path);
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(input_open("/nonexistent/x.jsonl", INPUT_JSONL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.jsonl"));
	enum input_format f;
	assert_int_equal(input_format_parse("jsonl", &f), 0);
	assert_int_equal(f, INPUT_JSONL);
	assert_int_equal(input_format_parse("protobuf", &f), 0);
	assert_int_equal(f, INPUT_PROTOBUF);
	assert_int_equal(input_format_parse("xml", &f), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonl_fixtures),
		cmocka_unit_test(test_jsonl_attrs_and_time),
		cmocka_unit_test(test_jsonl_too_large),
		cmocka_unit_test(test_jsonl_many_lines),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
