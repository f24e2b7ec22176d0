/*
 * event: one decoded event, as every decoder hands it to the engine.
 *
 * All strings are borrowed: they point into the decoder's scratch (a line buffer,
 * an arena reset per batch) and stay valid only until the next decode call. The
 * engine copies what it keeps (the correlation id of a new flow, hashes of event
 * ids). Strings are NUL-terminated; absent optional strings are "" (never NULL),
 * except `flow`, which is NULL when the event names no flow.
 */
#ifndef CHOREOSCOPE_EVENT_H
#define CHOREOSCOPE_EVENT_H

#include <stdint.h>

/* The most attributes an event can carry: the ceiling of limits.max_attributes
 * (CFG_MAX_ATTRIBUTES), which sets how many a decoder accepts (default 32). */
#define EV_MAX_ATTRS 256

struct ev_attr {
	const char *key;
	const char *val;
};

struct event {
	const char *event_id;
	const char *correlation_id;
	const char *type;
	const char *source;
	const char *causation_id; /* "" when unknown */
	const char *flow;         /* NULL when the event names no flow */
	int64_t time_ns;          /* event time, ns since the Unix epoch, UTC */
	const struct ev_attr *attrs;
	uint32_t nattrs;
	/* Provenance, for timelines and logs. From a file: topic NULL, partition -1,
	 * offset = line number (JSONL) or byte offset (protobuf). */
	const char *topic;
	int32_t partition;
	int64_t offset;
};

/* Value of attribute `key`, or NULL. Linear: events carry few attributes. */
const char *event_attr(const struct event *ev, const char *key);

#endif
