/*
 * fuzz_ce_binary: kdec_decode, CloudEvents binary mode (ce_ headers; format cloudevents).
 * The input is a Kafka message in fuzz.h's text framing.
 */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kdec *kd;
	struct fuzz_kmsg k;
	struct event ev;
	const char *reason = NULL;
	if (kd == NULL) {
		char err[256];
		struct config *cfg = fuzz_config("flows:\n  - name: f\n    steps:\n"
		    "      A: { start: true }\n      B: { after: [A], end: completed }\n"
		    "kafka:\n  format: cloudevents\n  correlation_from: [ce_correlationid, key]\n");
		if (kdec_new(cfg, &kd, err, sizeof(err)) < 0)
			abort();
		config_free(cfg);
	}
	fuzz_kmsg_parse(data, size, &k);
	if (kdec_decode(kd, &k.m, &ev, &reason) == 0)
		fuzz_check_event(&ev, 1);
	else
		FUZZ_CHECK(reason != NULL && reason[0] != '\0');
	fuzz_kmsg_release(&k);
	return 0;
}
