/*
 * decode_bench: decode throughput on one core, for JSON and the protobuf envelope.
 *
 * Generates N synthetic events (5-step order flows, ~180-byte JSON lines, the same
 * events as protobuf), keeps them in memory, then times decode_json and decode_proto
 * over all of them (best of 3 runs, CLOCK_MONOTONIC). With --files it also writes both
 * as replay files under /tmp and times the input readers end to end (read(2) + framing +
 * decode). Usage: decode_bench [N] [--files]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "source/input.h"

static const char *const types[] = { "OrderPlaced", "PaymentAuthorized", "StockReserved",
	"OrderShipped", "OrderCompleted" };
static const char *const sources[] = { "orders", "payments", "inventory", "shipping", "orders" };

struct corpus {
	char *json;
	size_t *json_off; /* line i is json[json_off[i] .. json_off[i+1]-1) (no newline) */
	uint8_t *pb;
	size_t *pb_off;
	size_t n;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_event(
    size_t i, struct event *ev, char ids[3][32], struct ev_attr *attr, char *amount)
{
	size_t flow = i / 5, step = i % 5;
	snprintf(ids[0], 32, "e-%012zu", i);
	snprintf(ids[1], 32, "order-%010zu", flow);
	snprintf(ids[2], 32, "e-%012zu", i - 1);
	snprintf(amount, 16, "%zu.%02zu", 10 + flow % 990, flow % 100);
	attr->key = "amount";
	attr->val = amount;
	*ev = (struct event){ .event_id = ids[0],
		.correlation_id = ids[1],
		.type = types[step],
		.source = sources[step],
		.causation_id = step ? ids[2] : "",
		.flow = "order",
		.time_ns = 1795600800000000000LL + (int64_t)i * 1234567,
		.attrs = attr,
		.nattrs = step == 1 ? 1 : 0,
		.partition = -1 };
}

static void build(struct corpus *c, size_t n)
{
	c->n = n;
	c->json = malloc(n * 320);
	c->pb = malloc(n * 256);
	c->json_off = malloc((n + 1) * sizeof(size_t));
	c->pb_off = malloc((n + 1) * sizeof(size_t));
	size_t jk = 0, pk = 0;
	for (size_t i = 0; i < n; i++) {
		struct event ev;
		char ids[3][32], amount[16];
		struct ev_attr attr;
		make_event(i, &ev, ids, &attr, amount);
		c->json_off[i] = jk;
		jk += decode_json_format(&ev, c->json + jk, 320);
		c->pb_off[i] = pk;
		pk += decode_proto_pack(&ev, c->pb + pk, 256);
	}
	c->json_off[n] = jk;
	c->pb_off[n] = pk;
}

/* Best of 3 runs of decoding the whole corpus; returns events/s. */
static double run(struct corpus *c, struct decoder *d, int proto, uint64_t *check)
{
	double best = 1e30;
	for (int r = 0; r < 3; r++) {
		char err[256];
		struct event ev;
		uint64_t sum = 0;
		double t0 = now();
		for (size_t i = 0; i < c->n; i++) {
			int rc = proto
			    ? decode_proto(d, c->pb + c->pb_off[i], c->pb_off[i + 1] - c->pb_off[i],
				  &ev, err, sizeof(err))
			    : decode_json(d, c->json + c->json_off[i],
				  c->json_off[i + 1] - c->json_off[i], &ev, err, sizeof(err));
			if (rc) {
				fprintf(
				    stderr, "event %zu: %s: %s\n", i, decode_error_name(rc), err);
				exit(1);
			}
			sum += (uint64_t)ev.time_ns + (uint8_t)ev.correlation_id[6] + ev.nattrs;
		}
		double t = now() - t0;
		if (t < best)
			best = t;
		*check = sum;
	}
	return (double)c->n / best;
}

/* Writes the corpus as a replay file and times reading it back through input_next. */
static double run_file(struct corpus *c, enum input_format fmt, size_t *bytes)
{
	char path[] = "/tmp/decode_bench_XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	for (size_t i = 0; i < c->n; i++) {
		if (fmt == INPUT_JSONL) {
			fwrite(c->json + c->json_off[i], 1, c->json_off[i + 1] - c->json_off[i], f);
			fputc('\n', f);
		} else {
			size_t len = c->pb_off[i + 1] - c->pb_off[i];
			uint8_t hdr[2] = { (uint8_t)(len | 0x80), (uint8_t)(len >> 7) };
			if (len < 128)
				hdr[0] = (uint8_t)len;
			fwrite(hdr, 1, len < 128 ? 1 : 2, f);
			fwrite(c->pb + c->pb_off[i], 1, len, f);
		}
	}
	*bytes = (size_t)ftell(f);
	fclose(f);
	double best = 1e30;
	for (int r = 0; r < 3; r++) {
		struct input *in = input_open(path, fmt, NULL, err, sizeof(err));
		struct event ev;
		struct input_reject rej;
		size_t got = 0;
		double t0 = now();
		int st;
		while ((st = input_next(in, &ev, &rej, err, sizeof(err))) != INPUT_EOF) {
			if (st != INPUT_EVENT) {
				fprintf(stderr, "%s: %s\n", rej.reason, rej.detail);
				exit(1);
			}
			got++;
		}
		double t = now() - t0;
		input_close(in);
		if (got != c->n)
			exit(1);
		if (t < best)
			best = t;
	}
	unlink(path);
	return (double)c->n / best;
}

int main(int argc, char **argv)
{
	size_t n = 1000000;
	int files = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--files"))
			files = 1;
		else
			n = strtoul(argv[i], NULL, 10);
	}
	struct corpus c;
	build(&c, n);
	char err[256];
	struct decoder *d = decoder_new(NULL, 0, err, sizeof(err));
	uint64_t cj, cp;
	double json = run(&c, d, 0, &cj), pb = run(&c, d, 1, &cp);
	printf("events: %zu, mean JSON line %.0f B, mean protobuf %.0f B\n", n,
	    (double)c.json_off[n] / (double)n, (double)c.pb_off[n] / (double)n);
	printf("decode_json:  %.2f M events/s (%.0f MB/s)\n", json / 1e6,
	    json * (double)c.json_off[n] / (double)n / 1e6);
	printf("decode_proto: %.2f M events/s (%.0f MB/s)\n", pb / 1e6,
	    pb * (double)c.pb_off[n] / (double)n / 1e6);
	if (cj != cp)
		printf("warning: JSON and protobuf decoded differently\n");
	if (files) {
		size_t bj, bp;
		double fj = run_file(&c, INPUT_JSONL, &bj), fp = run_file(&c, INPUT_PROTOBUF, &bp);
		printf("input JSONL file (%zu B):    %.2f M events/s\n", bj, fj / 1e6);
		printf("input protobuf file (%zu B): %.2f M events/s\n", bp, fp / 1e6);
	}
	decoder_free(d);
	free(c.json);
	free(c.pb);
	free(c.json_off);
	free(c.pb_off);
	return 0;
}
