/*
 * fuzz_proto: decode_proto (the choreoscope.v1.Event envelope). An accepted event must
 * satisfy fuzz_check_event and survive a pack/decode round trip unchanged.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoder *d, *d2;
	char err[256];
	struct event ev, ev2;
	if (d == NULL &&
	    ((d = decoder_new(NULL, 0, err, sizeof(err))) == NULL ||
		(d2 = decoder_new(NULL, 0, err, sizeof(err))) == NULL))
		abort();
	if (decode_proto(d, data, size, &ev, err, sizeof(err)) != 0)
		return 0;
	fuzz_check_event(&ev, 1);
	size_t n = decode_proto_pack(&ev, NULL, 0);
	uint8_t *buf = malloc(n ? n : 1);
	FUZZ_CHECK(buf != NULL && decode_proto_pack(&ev, buf, n) == n);
	FUZZ_CHECK(decode_proto(d2, buf, n, &ev2, err, sizeof(err)) == 0);
	FUZZ_CHECK(strcmp(ev.event_id, ev2.event_id) == 0 && ev.time_ns == ev2.time_ns);
	FUZZ_CHECK(strcmp(ev.correlation_id, ev2.correlation_id) == 0);
	FUZZ_CHECK(ev.nattrs == ev2.nattrs);
	free(buf);
	return 0;
}
