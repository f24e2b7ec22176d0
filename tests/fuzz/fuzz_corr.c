/*
 * fuzz_corr: kdec_decode, format auto and every correlation source (headers, field path, key, traceparent).
 * The input is a Kafka message in fuzz.h's text framing.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kdec *kd;
	fuzz_kdec_one(&kd,
	    "kafka:\n  format: auto\n  correlation_from: [ce_correlationid, "
	    "\"header:x-correlation-id\", \"field:data.order.id\", key, traceparent]\n",
	    data, size);
	return 0;
}
