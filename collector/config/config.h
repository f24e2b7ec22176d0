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
#include <sys/socket.h>
#include "engine/flowgraph.h"
#include "lib/log.h"

/* Settings are parsed once, here, into types: the rest of the collector never reads
 * a setting's text again. Enum values follow the order of the row's `choices` in the
 * settings table (config.c); test_config checks every one. */
enum cfg_format { CFG_FORMAT_AUTO, CFG_FORMAT_PROTOBUF, CFG_FORMAT_CLOUDEVENTS, CFG_FORMAT_JSON };
enum cfg_alert_format { CFG_ALERT_JSON, CFG_ALERT_PROTOBUF };

/* One entry of kafka.correlation_from. */
enum cfg_corr_kind { CFG_CORR_CE, CFG_CORR_HEADER, CFG_CORR_FIELD, CFG_CORR_KEY,
	CFG_CORR_TRACEPARENT };
#define CFG_MAX_CORR_SOURCES 16
struct cfg_corr_source {
	enum cfg_corr_kind kind;
	const char *arg;      /* header name or field path (into the entry's text); else NULL */
};

/* An HTTP listen address: HOST:PORT, [V6]:PORT or :PORT (all interfaces); HOST is
 * numeric or localhost (no name resolution); port 0 asks for an ephemeral one. */
struct cfg_listen {
	char spec[128];       /* as written */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct cfg_kafka {
	char *brokers;        /* bootstrap.servers */
	char *group_id;
	char **topics;
	int ntopics;
	char **prop_keys;     /* librdkafka properties passed through (SASL, SSL, ...) */
	char **prop_vals;
	int nprops;
	enum cfg_format format;
	char **correlation_from; /* order of sources, as written: ce_correlationid,
	                            header:NAME, field:PATH, key, traceparent */
	int ncorrelation_from;
	struct cfg_corr_source *corr_sources; /* the same, parsed [ncorrelation_from] */
	char *alert_topic;    /* NULL: none */
	enum cfg_alert_format alert_format;
	char *dead_letter_topic; /* NULL: none */
	int64_t outage_grace_ns; /* wall clock held this long after contact is regained */
};

struct cfg_json_fields {  /* dotted paths into plain JSON payloads */
	char *event_id, *correlation_id, *type, *source, *time, *flow, *causation_id,
	    *attributes;
};

struct cfg_http {
	struct cfg_listen listen; /* default 127.0.0.1:9717 */
	char *token;          /* bearer token for /api and /metrics, or NULL */
	char **allowed_hosts; /* Host names served without a token (DNS rebinding) */
	int nallowed_hosts;
	size_t max_connections;
	size_t max_connections_per_address;
	int64_t header_timeout_ns;
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
	int on_bad_checkpoint;   /* 0 fail, 1 fresh (the choices of state.on_bad_checkpoint) */
};

struct config {
	char *path;
	struct flowgraph graph;
	size_t max_flows;     /* in-flight bound; oldest evicted beyond it */
	enum log_level log_level;
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
/* Parses a listen address (see struct cfg_listen): 0, or -1 and why (without the
 * value: callers say where it came from, "--listen" or "http.listen"). */
int config_parse_listen(const char *s, struct cfg_listen *out, char *why, size_t whylen);
/* The settings reference (the README section and --help come from the same table). */
void config_print_reference(FILE *out);

#endif
