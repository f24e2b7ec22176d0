/*
 * alerts: the daemon's Kafka producer, for two outputs:
 *  - anomalies on kafka.alert_topic, keyed by correlation id, as JSON (the same line
 *    as the anomaly record of --records) or protobuf (choreoscope.v1.Anomaly);
 *  - undecodable messages copied to kafka.dead_letter_topic: same key and value,
 *    the original headers, plus choreoscope.reason, choreoscope.topic,
 *    choreoscope.partition and choreoscope.offset headers.
 * Producing is asynchronous (librdkafka queues and batches); delivery failures are
 * counted and logged rate-limited. A full local queue drops the message (counted),
 * never blocks the engine.
 *
 * Threading: the engine thread calls everything. Messages are copied at produce time.
 */
#ifndef CHOREOSCOPE_ALERTS_H
#define CHOREOSCOPE_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"
#include "decode/kafka_decode.h"
#include "lib/log.h"

enum alerts_format { ALERTS_JSON, ALERTS_PROTOBUF };

struct alerts_opts {
	const char *brokers;
	char *const *prop_keys; /* kafka.properties (SASL, SSL, ...) */
	char *const *prop_vals;
	int nprops;
	const char *alert_topic; /* NULL: no alerts */
	enum alerts_format format;
	const char *dead_letter_topic; /* NULL: no dead letters */
};

struct alerts_stats {
	uint64_t alerts;       /* anomalies produced (queued) */
	uint64_t dead_letters; /* messages copied to the dead-letter topic */
	uint64_t delivered;
	uint64_t failed; /* delivery failed or queue full */
};

struct alerts;

/* *out is NULL (and 0 returned) when neither topic is configured. */
int alerts_new(const struct alerts_opts *o, const struct log *lg, struct alerts **out, char *err,
    size_t errlen);
/* Flushes (up to 5 s) and frees. NULL is a no-op. */
void alerts_free(struct alerts *a);

/* One anomaly. `json` is its record line (no newline) for the JSON format; the
 * protobuf format encodes `an` itself. */
void alerts_anomaly(struct alerts *a, const struct anomaly *an, const char *json, size_t len);
/* Copies an undecodable message to the dead-letter topic. */
void alerts_dead_letter(struct alerts *a, const struct kmsg *m, const char *reason);
/* Serves delivery reports; call every loop iteration (non-blocking). */
void alerts_poll(struct alerts *a);
/* Waits up to timeout_ms for everything queued to be delivered. */
void alerts_flush(struct alerts *a, int timeout_ms);

int alerts_has_alert_topic(const struct alerts *a);
const struct alerts_stats *alerts_stats(const struct alerts *a);

#endif
