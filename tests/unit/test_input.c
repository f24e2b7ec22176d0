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

#include "source/input.h"

#define FIXTURES "tests/fixtures/events/"

struct item {
	int status;
	int64_t pos;
	const char *what; /* event_id for events, reason for rejections */
};

static const struct item sample[] = {
	{ INPUT_EVENT, 1, "e1" },
	{ INPUT_EVENT, 4, "e2" },
	{ INPUT_REJECT, 5, "bad_time" },
	{ INPUT_REJECT, 6, "missing_field" },
	{ INPUT_REJECT, 7, "malformed_json" },
	{ INPUT_EVENT, 8, "e5" },
	{ INPUT_EOF, 0, NULL },
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
			fail_msg("%s item %zu: status %d, want %d (%s)", name, i, st,
			    want[i].status, st == INPUT_REJECT ? rej.detail : "");
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
	const char *files[] = { FIXTURES "sample.jsonl", FIXTURES "sample_crlf.jsonl" };
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

/* sample.pb: the valid events of sample.jsonl as length-delimited Events, then a garbage
 * record, one more event, and a final record cut short. */
static void test_proto_fixture(void **state)
{
	(void)state;
	static const struct item want[] = {
		{ INPUT_EVENT, 0, "e1" },
		{ INPUT_EVENT, 47, "e2" },
		{ INPUT_EVENT, 128, "e5" },
		{ INPUT_REJECT, 168, "bad_protobuf" },
		{ INPUT_EVENT, 171, "e9" },
		{ INPUT_REJECT, 211, "truncated" },
		{ INPUT_EOF, 0, NULL },
	};
	char err[256];
	struct input *in = input_open(FIXTURES "sample.pb", INPUT_PROTOBUF, NULL, err, sizeof(err));
	if (!in)
		fail_msg("%s", err);
	expect(in, want, sizeof(want) / sizeof(want[0]), "sample.pb");
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

#define LINE(id) \
	"{\"event_id\":\"" id "\",\"correlation_id\":\"o\",\"type\":\"T\"," \
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
	memset(data + k, 'y', big); /* oversized and unterminated at EOF */
	k += big;
	char *path = write_temp(data, k);
	struct decoder *d = decoder_new(NULL, 128, err, sizeof(err));
	struct input *in = input_open(path, INPUT_JSONL, d, err, sizeof(err));
	const struct item want[] = {
		{ INPUT_EVENT, 1, "a" },
		{ INPUT_REJECT, 2, "too_large" },
		{ INPUT_EVENT, 3, "b" },
		{ INPUT_REJECT, 4, "too_large" },
		{ INPUT_EOF, 0, NULL },
		{ INPUT_EOF, 0, NULL },
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
		k += (size_t)sprintf(data + k,
		    "{\"event_id\":\"e%zu\",\"correlation_id\":\"o%zu\","
		    "\"type\":\"T\",\"source\":\"s\",\"time\":\"2026-11-25T10:00:00Z\"}%s\n",
		    i, i, i % 7 ? "" : "\n");
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
			line += 1; /* the blank line after it */
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
	const struct item want[] = { { INPUT_EVENT, 1, "s1" }, { INPUT_EVENT, 3, "s2" },
		{ INPUT_EOF, 0, NULL } };
	expect(in, want, 3, "stdin");
	input_close(in);
	dup2(saved, STDIN_FILENO);
	close(saved);
	unlink(path);
	free(path);
}

static const struct event pbev = { .event_id = "p1",
	.correlation_id = "o1",
	.type = "T",
	.source = "s",
	.causation_id = "",
	.time_ns = 1795600800000000000LL,
	.partition = -1 };

/* Appends an event with the given id to f; returns the offset it was written at. */
static int64_t put_event(FILE *f, const char *id)
{
	int64_t pos = ftell(f);
	struct event ev = pbev;
	ev.event_id = id;
	assert_int_equal(input_write_proto_delimited(f, &ev), 0);
	return pos;
}

static int64_t put_raw(FILE *f, const char *bytes, size_t n)
{
	int64_t pos = ftell(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	return pos;
}

static char *temp_file(FILE **f)
{
	char *path = strdup("/tmp/test_input_pb_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	*f = fdopen(fd, "w");
	return path;
}

static void read_all(
    const char *path, size_t max_len, const struct item *want, size_t n, const char *name)
{
	char err[256];
	struct decoder *d = decoder_new(NULL, max_len, err, sizeof(err));
	struct input *in = input_open(path, INPUT_PROTOBUF, d, err, sizeof(err));
	assert_non_null(in);
	expect(in, want, n, name);
	input_close(in);
	decoder_free(d);
}

/* Valid records, a garbage body, an empty Event, an oversized record, then a final
 * record cut short: each rejection at its byte offset, reading going on until the cut. */
static void test_proto_records(void **state)
{
	(void)state;
	FILE *f;
	char *path = temp_file(&f);
	char big[300];
	memset(big, 'z', sizeof(big));
	int64_t p0 = put_event(f, "a");
	int64_t p1 = put_raw(f, "\x03\xff\xff\xff", 4); /* garbage body */
	int64_t p2 = put_event(f, "b");
	int64_t p3 = put_raw(f, "\x00", 1);     /* empty Event */
	int64_t p4 = put_raw(f, "\xac\x02", 2); /* 300 bytes ... */
	put_raw(f, big, sizeof(big));
	int64_t p5 = put_event(f, "c");
	int64_t p6 = put_raw(f, "\x20\x0a\x02", 3); /* 32 bytes announced, 2 there */
	fclose(f);
	const struct item want[] = {
		{ INPUT_EVENT, p0, "a" },
		{ INPUT_REJECT, p1, "bad_protobuf" },
		{ INPUT_EVENT, p2, "b" },
		{ INPUT_REJECT, p3, "missing_field" },
		{ INPUT_REJECT, p4, "too_large" },
		{ INPUT_EVENT, p5, "c" },
		{ INPUT_REJECT, p6, "truncated" },
		{ INPUT_EOF, 0, NULL },
		{ INPUT_EOF, 0, NULL },
	};
	read_all(path, 256, want, sizeof(want) / sizeof(want[0]), "records");
	unlink(path);
	free(path);
}

static void test_proto_framing(void **state)
{
	(void)state;
	static const struct {
		const char *name, *tail;
		size_t len;
		const char *reason;
	} cases[] = {
		{ "varint cut", "\x80", 1, "truncated" },
		{ "varint too long", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11,
		    "bad_protobuf" },
		{ "oversized skip hits EOF", "\xff\xff\xff\x03zz", 6, "too_large" },
		{ "nothing", "", 0, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f;
		char *path = temp_file(&f);
		int64_t p0 = put_event(f, "a");
		int64_t p1 = put_raw(f, cases[i].tail, cases[i].len);
		fclose(f);
		struct item want[] = { { INPUT_EVENT, p0, "a" },
			{ INPUT_REJECT, p1, cases[i].reason }, { INPUT_EOF, 0, NULL },
			{ INPUT_EOF, 0, NULL } };
		if (!cases[i].reason)
			want[1] = want[2];
		read_all(path, 0, want, 4, cases[i].name);
		unlink(path);
		free(path);
	}
}

/* 40,000 records (~2.5 MB) span several refills; every offset is exact. */
static void test_proto_many(void **state)
{
	(void)state;
	FILE *f;
	char *path = temp_file(&f);
	size_t n = 40000;
	int64_t *pos = malloc(n * sizeof(*pos));
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "e%zu", i);
		pos[i] = put_event(f, id);
	}
	fclose(f);
	char err[256];
	struct input *in = input_open(path, INPUT_PROTOBUF, NULL, err, sizeof(err));
	for (size_t i = 0; i < n; i++) {
		struct event ev;
		struct input_reject rej;
		char id[32];
		snprintf(id, sizeof(id), "e%zu", i);
		assert_int_equal(input_next(in, &ev, &rej, err, sizeof(err)), INPUT_EVENT);
		assert_string_equal(ev.event_id, id);
		assert_int_equal(ev.offset, pos[i]);
	}
	struct event ev;
	struct input_reject rej;
	assert_int_equal(input_next(in, &ev, &rej, err, sizeof(err)), INPUT_EOF);
	input_close(in);
	unlink(path);
	free(path);
	free(pos);
}

/* input_write_jsonl lines read back through the JSONL reader. */
static void test_write_jsonl(void **state)
{
	(void)state;
	FILE *f;
	char *path = temp_file(&f);
	struct event ev = pbev;
	ev.flow = "order";
	assert_int_equal(input_write_jsonl(f, &ev), 0);
	ev.event_id = "p2";
	assert_int_equal(input_write_jsonl(f, &ev), 0);
	fclose(f);
	char err[256];
	struct input *in = input_open(path, INPUT_JSONL, NULL, err, sizeof(err));
	const struct item want[] = { { INPUT_EVENT, 1, "p1" }, { INPUT_EVENT, 2, "p2" },
		{ INPUT_EOF, 0, NULL } };
	expect(in, want, 3, "write_jsonl");
	input_close(in);
	unlink(path);
	free(path);
}

/* A byte order mark is skipped on line 1 only; a NUL byte in a line is malformed. */
static void test_jsonl_bom(void **state)
{
	(void)state;
	const char data[] = "\xef\xbb\xbf" LINE("b1") "\n\xef\xbb\xbf" LINE("b2") "\n{\"a\":\0}\n";
	char *path = write_temp(data, sizeof(data) - 1);
	char err[256];
	struct input *in = input_open(path, INPUT_JSONL, NULL, err, sizeof(err));
	const struct item want[] = { { INPUT_EVENT, 1, "b1" },
		{ INPUT_REJECT, 2, "malformed_json" }, { INPUT_REJECT, 3, "malformed_json" },
		{ INPUT_EOF, 0, NULL } };
	expect(in, want, 4, "bom");
	input_close(in);
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
		cmocka_unit_test(test_proto_fixture),
		cmocka_unit_test(test_jsonl_too_large),
		cmocka_unit_test(test_jsonl_many_lines),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_proto_records),
		cmocka_unit_test(test_proto_framing),
		cmocka_unit_test(test_proto_many),
		cmocka_unit_test(test_write_jsonl),
		cmocka_unit_test(test_jsonl_bom),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
