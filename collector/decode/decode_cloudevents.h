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
 * Also here: a small allocation-free JSON scanner used for structured mode and for
 * `field:PATH` correlation lookups in JSON payloads (ce_json_lookup).
 *
 * Memory: every string of the decoded event points into the message (when no
 * unescaping was needed) or into the caller's scratch, reset per message; nothing is
 * allocated. Rejections return a negative code and set *reason to a static snake_case
 * word (malformed_json, missing_field, bad_time, too_large, bad_header) for the
 * rejected-by-reason counters. Stateless and thread-safe given distinct scratch.
 */
#ifndef CHOREOSCOPE_DECODE_CLOUDEVENTS_H
#define CHOREOSCOPE_DECODE_CLOUDEVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "decode/event.h"

/* A Kafka header as borrowed from the message (value not NUL-terminated). */
struct ce_header {
	const char *name;
	const char *val;      /* NULL for a null header value */
	size_t len;
};

/* Per-message scratch: a bump allocator over a caller buffer plus attribute slots. */
struct ce_scratch {
	char *buf;
	size_t cap;
	size_t used;
	struct ev_attr attrs[EV_MAX_ATTRS];
};

static inline void ce_scratch_reset(struct ce_scratch *s)
{
	s->used = 0;
}

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
int ce_decode_binary(const struct ce_header *h, size_t n, struct ce_scratch *s,
    struct event *ev, const char **reason);
int ce_decode_structured(const char *json, size_t len, struct ce_scratch *s,
    struct event *ev, const char **reason);

/* The value at dotted `path` ("data.order.id") in the JSON text, as a string: string
 * values unescaped, numbers and booleans as written. 0 and *out, or -1 when absent,
 * not a scalar, or the text is not JSON. */
int ce_json_lookup(const char *json, size_t len, const char *path, struct ce_scratch *s,
    const char **out);

#endif
