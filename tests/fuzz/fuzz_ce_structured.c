/*
 * fuzz_ce_structured: kdec_decode, CloudEvents structured mode (a value without ce_ headers; format cloudevents).
 * The input is a Kafka message in fuzz.h's text framing.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kdec *kd;
	fuzz_kdec_one(&kd,
	    "kafka:\n  format: cloudevents\n  correlation_from: [ce_correlationid, "
	    "\"field:data.orderId\"]\n",
	    data, size);
	return 0;
}
