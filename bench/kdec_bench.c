/*
 * kdec_bench: Kafka message decode throughput on one core (kdec_decode: format pick,
 * payload decode, correlation lookup), for the inputs whose JSON reading differs by
 * path: plain JSON with a `field:PATH` correlation source, structured CloudEvents
 * (the whole envelope is JSON) with `field:data.order_id`, and binary CloudEvents
 * whose correlation id is looked up in the JSON data.
 *
 * N synthetic messages per kind (~200-byte values) are kept in memory and decoded
 * 5 times; the best run is reported, one line per kind:
 *   kind=json msgs=N seconds=S msgs_per_sec=R
 * Usage: kdec_bench [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "decode/kafka_decode.h"

static const char cfg_yaml[] = "flows:\n"
			       "  - name: order\n"
			       "    steps:\n"
			       "      OrderPlaced: { start: true }\n"
			       "      OrderShipped: { after: [OrderPlaced], end: completed }\n"
			       "kafka:\n"
			       "  correlation_from: [\"field:data.order_id\"]\n";

static const char *const types[] = { "OrderPlaced", "PaymentAuthorized", "StockReserved",
	"OrderShipped", "OrderCompleted" };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum kind { K_JSON, K_CE_STRUCTURED, K_CE_BINARY, K_N };
static const char *const kind_names[K_N] = { "json", "ce_structured", "ce_binary" };

static int render(enum kind k, size_t i, char *buf, size_t cap)
{
	unsigned flow = (unsigned)(i / 5), step = (unsigned)(i % 5);
	unsigned s = (unsigned)(i % 60), ms = (unsigned)(i * 7 % 1000);
	switch (k) {
	case K_JSON:
		return snprintf(buf, cap,
		    "{\"event_id\":\"e-%08zu\",\"type\":\"%s\",\"source\":"
		    "\"svc-%u\",\"time\":\"2026-11-25T10:%02u:%02u.%03uZ\",\"data\":{\"order_id\":"
		    "\"o-%07u\",\"amount\":12.50},\"attributes\":{\"region\":\"eu\",\"tier\":"
		    "\"gold\"}}",
		    i, types[step], step, s % 60, s, ms, flow);
	case K_CE_STRUCTURED:
		return snprintf(buf, cap,
		    "{\"specversion\":\"1.0\",\"id\":\"e-%08zu\",\"type\":\"%s\","
		    "\"source\":\"svc-%u\",\"time\":\"2026-11-25T10:%02u:%02u.%03uZ\",\"subject\":"
		    "\"x\","
		    "\"datacontenttype\":\"application/json\",\"data\":{\"order_id\":\"o-%07u\","
		    "\"amount\":12.50,\"lines\":[1,2,3]}}",
		    i, types[step], step, s % 60, s, ms, flow);
	default:
		return snprintf(buf, cap,
		    "{\"note\":\"a short note about the order\",\"lines\":[1,2,3],"
		    "\"data\":{\"order_id\":\"o-%07u\",\"amount\":12.50}}",
		    flow);
	}
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	struct config *cfg = NULL;
	struct kdec *d = NULL;
	char err[512];
	struct kdec_opts ko;
	if (config_load_string("bench", cfg_yaml, sizeof cfg_yaml - 1, &cfg, err, sizeof err) < 0 ||
	    (ko = kdec_opts_of(cfg), kdec_new(&ko, &d, err, sizeof err)) < 0) {
		fprintf(stderr, "kdec_bench: %s\n", err);
		return 1;
	}
	char *vals = malloc(n * 256);
	size_t *lens = malloc(n * sizeof(*lens));
	char ids[32], times[40];
	const struct ce_header ct = { "content-type", "application/cloudevents+json", 28 };
	if (!vals || !lens)
		return 1;
	for (int k = 0; k < K_N; k++) {
		for (size_t i = 0; i < n; i++)
			lens[i] = (size_t)render((enum kind)k, i, vals + i * 256, 256);
		double best = 1e9;
		size_t ok = 0;
		for (int run = 0; run < 5; run++) {
			ok = 0;
			double t0 = now();
			for (size_t i = 0; i < n; i++) {
				struct ce_header h[6];
				size_t nh = 0;
				if (k == K_CE_STRUCTURED)
					h[nh++] = ct;
				else if (k == K_CE_BINARY) {
					int il = snprintf(ids, sizeof ids, "e-%08zu", i);
					int tl = snprintf(
					    times, sizeof times, "2026-11-25T10:00:%02zuZ", i % 60);
					h[nh++] = (struct ce_header){ "ce_specversion", "1.0", 3 };
					h[nh++] = (struct ce_header){ "ce_id", ids, (size_t)il };
					h[nh++] = (struct ce_header){ "ce_type", types[i % 5],
						strlen(types[i % 5]) };
					h[nh++] = (struct ce_header){ "ce_source", "svc", 3 };
					h[nh++] =
					    (struct ce_header){ "ce_time", times, (size_t)tl };
				}
				struct kmsg m = { .topic = "t",
					.partition = 0,
					.offset = (int64_t)i,
					.val = vals + i * 256,
					.len = lens[i],
					.hdrs = h,
					.nhdrs = nh };
				struct event ev;
				const char *reason;
				ok += kdec_decode(d, &m, &ev, &reason) == 0;
			}
			double dt = now() - t0;
			if (dt < best)
				best = dt;
		}
		if (ok != n) {
			fprintf(
			    stderr, "kdec_bench: %s: %zu of %zu decoded\n", kind_names[k], ok, n);
			return 1;
		}
		printf("kind=%s msgs=%zu seconds=%.3f msgs_per_sec=%.0f\n", kind_names[k], n, best,
		    (double)n / best);
	}
	kdec_free(d);
	config_free(cfg);
	free(vals);
	free(lens);
	return 0;
}
