/*
 * decode_cloudevents: CloudEvents 1.0 over Kafka, as the CloudEvents Kafka protocol
 * binding defines it, into struct event.
 *  - binary mode: attributes in headers named ce_<attr> (ce_specversion, ce_id,
 *    ce_type, ce_source, ce_time, ...), the data in the message value;
 *  - structured mode: content-type application/cloudevents+json, the whole event
 *    as one JSON object in the value.
 * Mapping: id -> event_id, type -> type, source -> source, time (RFC 3339, timefmt.h) -> time_ns,
 * extensions correlationid -> correlation_id, causationid -> causation_id, flow -> flow;
 * subject and every other extension become attributes (without the ce_ prefix).
 * id, type, source and time are required (time, optional in CloudEvents, carries the
 * event time every verdict is judged on).
 *
 * A time outside the accepted range (lib/timefmt.h) is refused as time_out_of_range.
 *
 * Structured mode is read by the JSON decoder (decode.h, decode_json_members: yajl,
 * strict, UTF-8 and surrogate escapes checked); its lookups (the `field:PATH`
 * correlation sources) come out of that same parse.
 *
 * Memory: every string of the decoded event points into the caller's scratch (binary
 * mode) or the decoder's (structured mode), reset per message; nothing is allocated
 * per message. Rejections return a negative code and set *reason to a static
 * snake_case word for the rejected-by-reason counters: missing_field, bad_time,
 * time_out_of_range, too_large, bad_header, too_many_attributes (more extensions than
 * the scratch's max_attrs), attribute_too_large (a key or value over its
 * max_attr_bytes), and in structured mode every reason decode_json gives
 * (malformed_json, bad_utf8, too_large, too_deep, no_memory). Thread-safe given
 * distinct scratch and decoders.
 */
#ifndef CHOREOSCOPE_DECODE_CLOUDEVENTS_H
#define CHOREOSCOPE_DECODE_CLOUDEVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "decode/event.h"

struct decoder;

/* A Kafka header as borrowed from the message (value not NUL-terminated). */
struct ce_header {
	const char *name;
	const char *val; /* NULL for a null header value */
	size_t len;
};

/* Per-message scratch: a bump allocator over a caller buffer plus attribute slots, and
 * the attribute limits (limits.max_attributes, limits.max_attribute_bytes; 0: the
 * decode defaults, decode.h). */
struct ce_scratch {
	char *buf;
	size_t cap;
	size_t used;
	size_t max_attrs;
	size_t max_attr_bytes;
	struct ev_attr attrs[EV_MAX_ATTRS];
};

static inline void ce_scratch_reset(struct ce_scratch *s) { s->used = 0; }

/* Copies [p, p+len) as a NUL-terminated string into scratch; NULL when full. */
const char *ce_scratch_strndup(struct ce_scratch *s, const char *p, size_t len);

/* Header lookup by exact name; NULL when absent. */
const struct ce_header *ce_header_find(const struct ce_header *h, size_t n, const char *name);

/* 1 when the headers carry a binary-mode CloudEvent (ce_specversion or ce_id). */
int ce_is_binary(const struct ce_header *h, size_t n);
/* 1 when content-type says application/cloudevents+json (parameters allowed). */
int ce_is_structured(const struct ce_header *h, size_t n);

/* Both fill *ev (correlation_id "" unless the event carries correlationid; topic,
 * partition and offset are the caller's) and return 0, or negative with *reason. */
int ce_decode_binary(const struct ce_header *h, size_t n, struct ce_scratch *s, struct event *ev,
    const char **reason);
/* Structured mode parses with dec (decode.h), which also reads dec's lookups; the
 * top-level members data and data_base64 are not attributes, and members whose value
 * is an object, an array or null are skipped. */
int ce_decode_structured(struct decoder *dec, const char *json, size_t len, struct ce_scratch *s,
    struct event *ev, const char **reason);

#endif
