/*
 * kafka_decode: one Kafka message -> struct event. Picks the format and resolves the
 * correlation id; the payload decoders themselves live in decode.h (protobuf, JSON)
 * and decode_cloudevents.h.
 *
 * Format `auto`, per message: CloudEvents binary mode when a ce_specversion or ce_id
 * header exists; structured mode when content-type is application/cloudevents+json;
 * else the protobuf envelope when the value parses as one; else JSON with the
 * configured field paths (but a value that does not parse and opens as an envelope,
 * byte 0x0a, is bad_protobuf, not malformed_json). `protobuf`, `cloudevents` and `json` force one decoder.
 *
 * Correlation id: kafka.correlation_from is tried in order, the first non-empty wins:
 *   ce_correlationid  the CloudEvents extension (ce_correlationid header, or the
 *                     structured attribute)
 *   header:NAME       a Kafka header
 *   field:PATH        a payload field: a dotted JSON path into the message value (for
 *                     structured CloudEvents the whole envelope, e.g. data.orderId);
 *                     for protobuf, `correlation_id` is the envelope field and any
 *                     other name an entry of its attributes map
 *   key               the message key
 *   traceparent       the 32-hex trace id of a W3C traceparent header (or attribute)
 * None found: rejected as no_correlation_id, or bad_traceparent when a traceparent was
 * tried and is malformed (not 00-<32 hex>-..., or an all-zero trace id).
 *
 * Content type (format `auto`, messages that are not binary-mode CloudEvents): a
 * content-type header naming none of JSON (application/json, text/json, any +json),
 * protobuf (application/protobuf, x-protobuf, vnd.google.protobuf) or
 * application/octet-stream is unknown_content_type, unread; no header: by the bytes.
 *
 * Limits (limits.*, checked before any payload is read): a message with more headers
 * than limits.max_headers is too_many_headers; a value longer than
 * limits.max_message_bytes is too_large, whatever its format; the payload decoders
 * apply limits.max_depth, max_attributes and max_attribute_bytes.
 *
 * Memory: the event's strings point into the message, the decoder's scratch or this
 * module's scratch, all valid until the next kdec_decode call. No allocation per
 * message once warmed up. One kdec per thread.
 */
#ifndef CHOREOSCOPE_KAFKA_DECODE_H
#define CHOREOSCOPE_KAFKA_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "decode/decode_cloudevents.h"
#include "decode/event.h"
#include "source/kmsg.h"

struct kdec;

/* What the Kafka decoder is told: its own options, not the whole config (borrowed for
 * the kdec_new call only; everything kept is copied). */
struct kdec_opts {
	enum cfg_format format;             /* kafka.format */
	const struct cfg_corr_source *corr; /* kafka.correlation_from, parsed [ncorr] */
	int ncorr;                          /* 0: the CloudEvents correlationid only */
	const struct cfg_json_fields *json; /* json.* field paths (NULL: the defaults) */
	const struct cfg_limits *limits;    /* limits.* (NULL: the defaults) */
};

/* The options of a loaded (validated) config. */
static inline struct kdec_opts kdec_opts_of(const struct config *cfg)
{
	return (struct kdec_opts){ .format = cfg->kafka.format,
		.corr = cfg->kafka.corr_sources,
		.ncorr = cfg->kafka.ncorrelation_from,
		.json = &cfg->json,
		.limits = &cfg->limits };
}

/* 0 and *out, or negative with err (a malformed field path, out of memory). */
int kdec_new(const struct kdec_opts *o, struct kdec **out, char *err, size_t errlen);
void kdec_free(struct kdec *d);

/* 0 and *ev (topic/partition/offset set from m), or negative with *reason: a static
 * snake_case word for the rejected-by-reason counters. */
int kdec_decode(struct kdec *d, const struct kmsg *m, struct event *ev, const char **reason);

/* Every reason kdec_decode can set, for pre-declaring counters at 0: the JSON and
 * protobuf decoders' (decode_error_name, but "truncated", which only replay files
 * have), CloudEvents' bad_header, and empty, no_correlation_id, bad_traceparent,
 * too_many_headers, unknown_content_type. A
 * list of string literals (no link dependency for the metrics module); kdec_reasons
 * is the same, NULL-terminated. */
#define KDEC_REASONS \
	"malformed_json", "missing_field", "wrong_type", "bad_time", "bad_protobuf", "too_large", \
	    "bad_utf8", "too_many_attributes", "no_memory", "time_out_of_range", "too_deep", \
	    "attribute_too_large", "bad_header", "empty", "no_correlation_id", "bad_traceparent", \
	    "too_many_headers", "unknown_content_type"
extern const char *const kdec_reasons[];

#endif
