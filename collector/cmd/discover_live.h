/*
 * discover_live: `choreoscope discover --brokers ... --topic ...`, the live-topic
 * input of discover_cmd.c: a consumer group on librdkafka (kafka_source) and the
 * daemon's message decoders (kafka_decode: format, correlation_from, JSON paths of
 * the config) feeding discover_add until --duration of wall time has passed, every
 * assigned partition is at its end (--until-end), or SIGINT/SIGTERM.
 * Single-threaded (librdkafka's own threads aside).
 */
#ifndef CHOREOSCOPE_DISCOVER_LIVE_H
#define CHOREOSCOPE_DISCOVER_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "discover/discover.h"

struct discover_live_opts {
	const char *brokers, *group;
	char *const *topics;
	int ntopics;
	int64_t duration_ns; /* 0: no bound */
	int until_end;
};

/* Consumes into d. cfg gives kafka.format, correlation_from, properties and the JSON
 * paths (borrowed). 0 when it stopped as asked (rejected messages are counted on
 * stderr, not errors); -1 with err when the consumer could not be set up. */
int discover_live_feed(struct discover *d, const struct config *cfg,
    const struct discover_live_opts *o, char *err, size_t errlen);

#endif
