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
 * counts as absent. `time` is an RFC 3339 string within the accepted range
 * (lib/timefmt.h: 1970-01-01T00:00:00Z .. 2199-12-31T23:59:59.999999999Z); a
 * well-formed time outside it is "time_out_of_range". String escapes must encode
 * Unicode scalar values: a lone surrogate escape (`\ud800`, `\udc00`, a high one not
 * followed by a low one) anywhere in the input is "bad_utf8", so distinct ids can never
 * decode to the same text. `attributes` is an object whose
 * string values are kept as they are, numbers and booleans as their JSON text
 * (`1.50`, `true`); null values and nested objects/arrays are skipped (not an
 * error): attributes are flat labels, and a richer payload should not make an event
 * undecodable. More kept attributes than the decoder's limit is "too_many_attributes";
 * a repeated attribute key is kept twice, in order (event_attr finds the first).
 *
 * Limits (struct decode_limits, from the config's limits.*): input longer than max_len
 * is "too_large" unread; JSON nested deeper than max_depth (objects and arrays, the
 * top object 1, skipped ones included) is "too_deep" the moment the parse reaches it,
 * so a deep input costs no more than its first max_depth levels; an attribute whose
 * key or value (unescaped) is longer than max_attribute_bytes is
 * "attribute_too_large" (both formats).
 *
 * The same parse also reads the lookup paths (decoder_add_lookup: the Kafka source's
 * `field:PATH` correlation sources), and decode_json_members runs it over a JSON object
 * whose every top-level scalar member is wanted (structured CloudEvents): yajl is the
 * one JSON reader, and no payload is scanned twice.
 *
 * Protobuf: choreoscope.v1.Event, unpacked by protobuf-c into an arena reset per call.
 * time comes from time_unix_nano, a proto3 `optional` field: set (to any value, 0 = the
 * epoch included) it is the time and must be in the accepted range; unset it is
 * missing. (A sender built from the older schema without `optional` does not write a
 * zero time: such an event reads as missing, as before.) Every string is checked to be
 * UTF-8 (protobuf-c does not). Limitation: protobuf-c NUL-terminates strings, so a
 * string with an embedded U+0000 is seen cut at it; in JSON "\u0000" is rejected.
 */
#ifndef CHOREOSCOPE_DECODE_H
#define CHOREOSCOPE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "decode/event.h"
#include "lib/timefmt.h"

/* Reasons, stable: their names are metric labels. */
enum decode_error {
	DECODE_OK = 0,
	DECODE_MALFORMED_JSON = -1, /* not JSON, not an object, trailing bytes */
	DECODE_MISSING_FIELD = -2,  /* a required field absent or empty */
	DECODE_WRONG_TYPE = -3,     /* a field of the wrong JSON type */
	DECODE_BAD_TIME = -4,       /* time not RFC 3339 */
	DECODE_BAD_PROTOBUF = -5,   /* not a choreoscope.v1.Event */
	DECODE_TRUNCATED = -6,      /* a record cut short (replay files) */
	DECODE_TOO_LARGE = -7,      /* input longer than max_len */
	DECODE_BAD_UTF8 = -8,       /* invalid UTF-8 or a NUL in a string */
	DECODE_TOO_MANY_ATTRIBUTES = -9,
	DECODE_NO_MEMORY = -10,           /* scratch bound reached or malloc failed */
	DECODE_TIME_OUT_OF_RANGE = -11,   /* a valid time outside the accepted range */
	DECODE_TOO_DEEP = -12,            /* JSON nested deeper than max_depth */
	DECODE_ATTRIBUTE_TOO_LARGE = -13, /* an attribute key or value over max_attribute_bytes */
};
#define DECODE_NERRORS 14

/* "ok", "malformed_json", "missing_field", "wrong_type", "bad_time", "bad_protobuf",
 * "truncated", "too_large", "bad_utf8", "too_many_attributes", "no_memory",
 * "time_out_of_range", "too_deep", "attribute_too_large"; "unknown" for any other
 * value. */
const char *decode_error_name(int code);

struct decoder;

/* Default input bound: 1 MiB. */
#define DECODE_DEFAULT_MAX_LEN (1024 * 1024)

/* What one input may hold beyond its length; 0 in a member: its default. */
struct decode_limits {
	size_t max_depth;           /* JSON nesting; default 64 */
	size_t max_attributes;      /* at most EV_MAX_ATTRS; default 32 */
	size_t max_attribute_bytes; /* one key or value; default 4096 */
};
#define DECODE_DEFAULT_MAX_DEPTH 64
#define DECODE_DEFAULT_MAX_ATTRS 32
#define DECODE_DEFAULT_MAX_ATTR_BYTES 4096

/* paths: JSON field paths, copied (NULL, or a NULL member: the default names
 * event_id, correlation_id, type, source, time, flow, causation_id, attributes).
 * max_len: the longest input accepted (0: DECODE_DEFAULT_MAX_LEN). NULL and err when
 * a path is malformed (empty, an empty component, deeper than 8) or out of memory. */
struct decoder *decoder_new(
    const struct cfg_json_fields *paths, size_t max_len, char *err, size_t errlen);
void decoder_free(struct decoder *d);
/* decoder_new with paths and limits->max_message_bytes, then decoder_set_limits
 * (limits NULL: the defaults). */
struct decoder *decoder_with_limits(
    const struct cfg_json_fields *paths, const struct cfg_limits *limits, char *err, size_t errlen);
/* A decoder as the config asks: its JSON paths and limits.* (the replay and discover
 * readers use it). */
struct decoder *decoder_from_config(const struct config *cfg, char *err, size_t errlen);
/* Sets the limits of every later decode call (a max_attributes above EV_MAX_ATTRS is
 * EV_MAX_ATTRS). */
void decoder_set_limits(struct decoder *d, const struct decode_limits *l);

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
#define DECODE_NO_TIME TIMEFMT_NONE /* outside the accepted range: never a real time */
void decoder_set_required(struct decoder *d, unsigned req_bits);
/* The input bound given to decoder_new (or its default). */
size_t decoder_max_len(const struct decoder *d);

/* Decodes one JSON object of len bytes (no NUL needed). 0, or a negative enum
 * decode_error with a human detail in err (e.g. `missing field "source"`). */
int decode_json(
    struct decoder *d, const char *buf, size_t len, struct event *ev, char *err, size_t errlen);

/* Adds a JSON path read by every later JSON parse of d (decode_json and
 * decode_json_members) besides the fields; at most DECODE_MAX_LOOKUPS. Returns its
 * index, or -1 with err (a malformed path, too many). */
int decoder_add_lookup(struct decoder *d, const char *path, char *err, size_t errlen);
/* Lookup idx's value in the last JSON parse of d, when that parse succeeded: a string
 * value unescaped, a number or boolean as its JSON text; NULL when absent, null, an
 * object or array, or the last decode call failed or was not JSON. Valid as the
 * event's strings are. */
const char *decoder_lookup(const struct decoder *d, int idx);

/* Called for each top-level member of decode_json_members' object whose value is a
 * string, number or boolean, in order: key and value as decoder_lookup gives them
 * (UTF-8 checked, no NUL). Returns 0 to go on, or a negative enum decode_error that
 * stops the parse and is returned. */
typedef int (*decode_member_fn)(void *ctx, const char *key, const char *val);

/* Parses one JSON object of len bytes as decode_json does (same strictness, bound and
 * scratch), handing its top-level scalar members to fn (NULL: none) instead of reading
 * the fields; the lookups are read as usual. 0, or a negative enum decode_error. */
int decode_json_members(struct decoder *d, const char *buf, size_t len, decode_member_fn fn,
    void *ctx, char *err, size_t errlen);

/* Decodes one serialized choreoscope.v1.Event (not length-prefixed). 0 or as above. */
int decode_proto(
    struct decoder *d, const uint8_t *buf, size_t len, struct event *ev, char *err, size_t errlen);

/* 1 when s[0..len) is valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF) without a NUL character (event strings are NUL-terminated). For sources
 * that build events from other fields (Kafka headers, keys). */
int decode_text_valid(const char *s, size_t len);

/* Serializes ev as a choreoscope.v1.Event into buf. Returns the encoded size; writes
 * only when it fits in cap (call with cap 0 to size). time_unix_nano is set unless
 * time_ns is DECODE_NO_TIME (so a 0 time is written); flow NULL or "" is left unset;
 * attributes beyond EV_MAX_ATTRS are not written. */
size_t decode_proto_pack(const struct event *ev, uint8_t *buf, size_t cap);

/* Writes ev as one JSON object with the default field names (time as RFC 3339, flow
 * and causation_id only when set, attributes only when any), without newline. Returns
 * the length (without NUL); writes only when length + 1 <= cap. */
size_t decode_json_format(const struct event *ev, char *buf, size_t cap);

#endif
