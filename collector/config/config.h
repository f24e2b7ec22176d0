/*
 * config: the YAML configuration file (flows and collector settings).
 *
 * config_load parses and validates; on failure it returns a negative code and writes
 * every problem, one per line, as "FILE:LINE:COL: message" into err. A config that
 * loads is valid: the engine never sees a broken one. Single-threaded; the result is
 * immutable and owned by the caller (config_free).
 */
#ifndef CHOREOSCOPE_CONFIG_H
#define CHOREOSCOPE_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "engine/flowgraph.h"

struct cfg_kafka {
	char *brokers;        /* bootstrap.servers */
	char *group_id;
	char **topics;
	int ntopics;
	char **prop_keys;     /* librdkafka properties passed through (SASL, SSL, ...) */
	char **prop_vals;
	int nprops;
	char *format;         /* auto | protobuf | cloudevents | json */
	char **correlation_from; /* order of sources: ce_correlationid, header:NAME,
	                            field:PATH, key, traceparent */
	int ncorrelation_from;
	char *alert_topic;    /* NULL: none */
	char *alert_format;   /* json | protobuf */
	char *dead_letter_topic; /* NULL: none */
};

struct cfg_json_fields {  /* dotted paths into plain JSON payloads */
	char *event_id, *correlation_id, *type, *source, *time, *flow, *causation_id,
	    *attributes;
};

struct cfg_http {
	char *listen;         /* default 127.0.0.1:9717 */
	char *token;          /* bearer token for /api and /metrics, or NULL */
};

struct cfg_metrics {
	double *latency_buckets; /* seconds, ascending */
	int nlatency_buckets;
	double *duration_buckets;
	int nduration_buckets;
};

struct cfg_state {
	char *dir;            /* NULL: no durable state */
	int64_t checkpoint_interval_ns;
	char *on_bad_checkpoint; /* fail | fresh */
};

struct config {
	char *path;
	struct flowgraph graph;
	size_t max_flows;     /* in-flight bound; oldest evicted beyond it */
	char *log_level;
	struct cfg_kafka kafka;
	struct cfg_json_fields json;
	struct cfg_http http;
	struct cfg_metrics metrics;
	struct cfg_state state;
};

/* Loads and validates `path`. 0 and *out on success; negative and err otherwise. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
/* Same, from a string; `name` is used in messages in place of a file name. */
int config_load_string(const char *name, const char *yaml, size_t len,
    struct config **out, char *err, size_t errlen);
void config_free(struct config *c);
/* Parses a Go-style duration ("500ms", "30s", "1h30m", "1.5s"; units ns us µs ms
 * s m h; no bare numbers, never negative) into nanoseconds: 0, or -1 and why. */
int config_parse_duration(const char *s, int64_t *ns, char *why, size_t whylen);
/* The settings reference (the README section and --help come from the same table). */
void config_print_reference(FILE *out);

#endif
