/*
 * decode: bytes -> struct event, for JSON objects and the protobuf envelope.
 *
 * One decoder per thread. A decode call fills *ev with strings borrowed from the
 * decoder's scratch; they stay valid until the next decode call on the same decoder
 * (either format) or decoder_free. Scratch grows to what the largest input needs (at
 * most a small multiple of max_len) and is then reused: the per-event path does not
 * call malloc once warmed up.
 *
 * Both decoders require non-empty event_id, correlation_id, type, source and a time;
 * causation_id ("" when absent), flow (NULL when absent or empty) and attributes are
 * optional. ev->topic is NULL, ev->partition -1 and ev->offset 0: the caller fills in
 * provenance.
 *
 * JSON: one object (surrounding whitespace allowed), read with yajl's SAX parser (no
 * DOM), strict (no comments, no trailing garbage), UTF-8 validated. Fields are found by
 * dotted paths (cfg_json_fields; "order.id" finds {"order":{"id":"o1"}}); paths do not
 * descend into arrays; unknown fields are ignored; when a field occurs twice the last
 * one wins. The fields must be JSON strings (a number or bool is "wrong_type"); null
 * counts as absent. `time` is an RFC 3339 string. `attributes` is an object whose
 * string values are kept as they are, numbers and booleans as their JSON text
 * (`1.50`, `true`); null values and nested objects/arrays are skipped (not an
 * error): attributes are flat labels, and a richer payload should not make an event
 * undecodable. More than EV_MAX_ATTRS kept attributes is "too_many_attributes"; a
 * repeated attribute key is kept twice, in order (event_attr finds the first).
 *
 * Protobuf: choreoscope.v1.Event, unpacked by protobuf-c into an arena reset per call.
 * time comes from time_unix_nano (0 counts as missing). Every string is checked to be
 * UTF-8 (protobuf-c does not). Limitation: protobuf-c NUL-terminates strings, so a
 * string with an embedded U+0000 is seen cut at it; in JSON "\u0000" is rejected.
 */
#ifndef CHOREOSCOPE_DECODE_H
#define CHOREOSCOPE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "decode/event.h"

/* Reasons, stable: their names are metric labels. */
enum decode_error {
	DECODE_OK = 0,
	DECODE_MALFORMED_JSON = -1,  /* not JSON, not an object, trailing bytes */
	DECODE_MISSING_FIELD = -2,   /* a required field absent or empty */
	DECODE_WRONG_TYPE = -3,      /* a field of the wrong JSON type */
	DECODE_BAD_TIME = -4,        /* time not RFC 3339 or out of range */
	DECODE_BAD_PROTOBUF = -5,    /* not a choreoscope.v1.Event */
	DECODE_TRUNCATED = -6,       /* a record cut short (replay files) */
	DECODE_TOO_LARGE = -7,       /* input longer than max_len */
	DECODE_BAD_UTF8 = -8,        /* invalid UTF-8 or a NUL in a string */
	DECODE_TOO_MANY_ATTRIBUTES = -9,
	DECODE_NO_MEMORY = -10,      /* scratch bound reached or malloc failed */
};
#define DECODE_NERRORS 11

/* "ok", "malformed_json", "missing_field", "wrong_type", "bad_time", "bad_protobuf",
 * "truncated", "too_large", "bad_utf8", "too_many_attributes", "no_memory"; "unknown"
 * for any other value. */
const char *decode_error_name(int code);

struct decoder;

/* Default input bound: 1 MiB. */
#define DECODE_DEFAULT_MAX_LEN (1024 * 1024)

/* paths: JSON field paths, copied (NULL, or a NULL member: the default names
 * event_id, correlation_id, type, source, time, flow, causation_id, attributes).
 * max_len: the longest input accepted (0: DECODE_DEFAULT_MAX_LEN). NULL and err when
 * a path is malformed (empty, an empty component, deeper than 8) or out of memory. */
struct decoder *decoder_new(const struct cfg_json_fields *paths, size_t max_len, char *err,
    size_t errlen);
void decoder_free(struct decoder *d);

/* Required fields, by default all five. A source that finds some of them elsewhere
 * (the correlation id in a Kafka header or key, the time in the message timestamp)
 * clears their bits and fills them in itself: an absent string field is then "", an
 * absent time DECODE_NO_TIME. */
#define DECODE_REQ_EVENT_ID (1u << 0)
#define DECODE_REQ_CORRELATION_ID (1u << 1)
#define DECODE_REQ_TYPE (1u << 2)
#define DECODE_REQ_SOURCE (1u << 3)
#define DECODE_REQ_TIME (1u << 4)
#define DECODE_REQ_ALL 0x1fu
#define DECODE_NO_TIME INT64_MIN
void decoder_set_required(struct decoder *d, unsigned req_bits);
/* The input bound given to decoder_new (or its default). */
size_t decoder_max_len(const struct decoder *d);

/* Decodes one JSON object of len bytes (no NUL needed). 0, or a negative enum
 * decode_error with a human detail in err (e.g. `missing field "source"`). */
int decode_json(struct decoder *d, const char *buf, size_t len, struct event *ev, char *err,
    size_t errlen);

/* Decodes one serialized choreoscope.v1.Event (not length-prefixed). 0 or as above. */
int decode_proto(struct decoder *d, const uint8_t *buf, size_t len, struct event *ev,
    char *err, size_t errlen);

/* 1 when s[0..len) is valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF) without a NUL character (event strings are NUL-terminated). For sources
 * that build events from other fields (Kafka headers, keys). */
int decode_text_valid(const char *s, size_t len);

/* Serializes ev as a choreoscope.v1.Event into buf. Returns the encoded size; writes
 * only when it fits in cap (call with cap 0 to size). flow NULL or "" is left unset;
 * attributes beyond EV_MAX_ATTRS are not written. */
size_t decode_proto_pack(const struct event *ev, uint8_t *buf, size_t cap);

/* Writes ev as one JSON object with the default field names (time as RFC 3339, flow
 * and causation_id only when set, attributes only when any), without newline. Returns
 * the length (without NUL); writes only when length + 1 <= cap. */
size_t decode_json_format(const struct event *ev, char *buf, size_t cap);

#endif
