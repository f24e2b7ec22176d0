/*
 * fuzz_json: decode_json with field paths. The first byte picks the paths: '1' nested
 * ones (meta.id, data.order.id, ...), anything else the default names (and then an
 * accepted event must survive decode_json_format and a second decode unchanged).
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoder *plain, *nested, *again;
	static struct cfg_json_fields paths = { .event_id = "meta.id",
		.correlation_id = "data.order.id",
		.type = "meta.type",
		.source = "meta.source",
		.time = "meta.time",
		.flow = "meta.flow",
		.causation_id = "meta.cause",
		.attributes = "data.labels" };
	char err[256];
	struct event ev, ev2;
	if (plain == NULL &&
	    ((plain = decoder_new(NULL, 0, err, sizeof(err))) == NULL ||
		(again = decoder_new(NULL, 0, err, sizeof(err))) == NULL ||
		(nested = decoder_new(&paths, 0, err, sizeof(err))) == NULL))
		abort();
	if (size == 0)
		return 0;
	struct decoder *d = data[0] == '1' ? nested : plain;
	if (decode_json(d, (const char *)data + 1, size - 1, &ev, err, sizeof(err)) != 0)
		return 0;
	fuzz_check_event(&ev, 1);
	if (d != plain)
		return 0;
	size_t n = decode_json_format(&ev, NULL, 0);
	char *buf = malloc(n + 1);
	FUZZ_CHECK(buf != NULL && decode_json_format(&ev, buf, n + 1) == n);
	FUZZ_CHECK(decode_json(again, buf, n, &ev2, err, sizeof(err)) == 0);
	FUZZ_CHECK(strcmp(ev.event_id, ev2.event_id) == 0 && strcmp(ev.type, ev2.type) == 0);
	FUZZ_CHECK(strcmp(ev.correlation_id, ev2.correlation_id) == 0);
	FUZZ_CHECK(ev.nattrs == ev2.nattrs);
	free(buf);
	return 0;
}
