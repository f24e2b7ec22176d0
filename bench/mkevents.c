/*
 * mkevents: writes a replay file for benchmarks: N 5-step flows (the bench flow of
 * bench/flows.yaml), step k of every flow before step k+1 of any, so that all N
 * flows are in flight at once; event times 1 us apart (no deadline passes).
 *
 *   build/release/bench/mkevents N jsonl|protobuf FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/input.h"

static const char *STEPS[5] = { "Placed", "Paid", "Reserved", "Shipped", "Delivered" };
static const char *SOURCES[5] = { "orders", "payments", "inventory", "shipping", "orders" };

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mkevents N jsonl|protobuf FILE\n");
		return 2;
	}
	long n = atol(argv[1]);
	enum input_format fmt;
	if (input_format_parse(argv[2], &fmt)) {
		fprintf(stderr, "mkevents: format must be jsonl or protobuf\n");
		return 2;
	}
	FILE *f = fopen(argv[3], "wb");
	if (!f) {
		perror(argv[3]);
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	int64_t t = INT64_C(1767225600000000000);
	char id[48], corr[48], amount[48];
	struct ev_attr attrs[1] = { { "amount", amount } };
	for (int k = 0; k < 5; k++) {
		for (long i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "e%ld-%d", i, k);
			snprintf(corr, sizeof(corr), "order-%08ld", i);
			snprintf(amount, sizeof(amount), "%ld.%02ld", i % 500, i % 100);
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = STEPS[k],
				.source = SOURCES[k],
				.causation_id = "",
				.time_ns = t,
				.attrs = attrs,
				.nattrs = 1,
				.partition = -1 };
			t += 1000;
			int rc = fmt == INPUT_JSONL ? input_write_jsonl(f, &ev)
						    : input_write_proto_delimited(f, &ev);
			if (rc) {
				fprintf(stderr, "mkevents: write failed\n");
				return 1;
			}
		}
	}
	return fclose(f) == 0 ? 0 : 1;
}
