/*
 * fuzz_ce_binary: kdec_decode, CloudEvents binary mode (ce_ headers; format cloudevents).
 * The input is a Kafka message in fuzz.h's text framing.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kdec *kd;
	fuzz_kdec_one(&kd,
	    "kafka:\n  format: cloudevents\n  correlation_from: [ce_correlationid, key]\n", data,
	    size);
	return 0;
}
