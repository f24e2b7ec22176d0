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
enum cfg_sasl { CFG_SASL_NONE, CFG_SASL_PLAIN, CFG_SASL_SCRAM_SHA_256, CFG_SASL_SCRAM_SHA_512 };

/* kafka.tls.* and kafka.sasl.*: first-class names for the librdkafka security
 * properties. The load checks what the file alone decides (pairs, conflicts); the
 * files and the password (setting, password_file or $CHOREOSCOPE_KAFKA_PASSWORD) are
 * looked at by config_kafka_resolve, which only the commands that talk to Kafka call
 * (replay with a production config needs neither the CA file nor the password). It puts
 * their librdkafka equivalents at the head of cfg_kafka.prop_keys/prop_vals (a raw
 * kafka.properties entry of the same name, later, wins), so every client (consumer,
 * alert producer, discover) gets them. */
struct cfg_kafka_security {
	bool tls; /* kafka.tls.enabled, or implied by any kafka.tls.* file */
	char *ca_file, *cert_file, *key_file;
	enum cfg_sasl sasl;
	char *username;
	char *password; /* kafka.sasl.password, password_file or $CHOREOSCOPE_KAFKA_PASSWORD */
	char *password_file;
	bool resolved; /* config_kafka_resolve done: the properties are in place */
};

/* One entry of kafka.correlation_from. */
enum cfg_corr_kind {
	CFG_CORR_CE,
	CFG_CORR_HEADER,
	CFG_CORR_FIELD,
	CFG_CORR_KEY,
	CFG_CORR_TRACEPARENT
};
#define CFG_MAX_CORR_SOURCES 16
struct cfg_corr_source {
	enum cfg_corr_kind kind;
	const char *arg; /* header name or field path (into the entry's text); else NULL */
};

/* An HTTP listen address: HOST:PORT, [V6]:PORT or :PORT (all interfaces); HOST is
 * numeric or localhost (no name resolution); port 0 asks for an ephemeral one. */
struct cfg_listen {
	char spec[128]; /* as written */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct cfg_kafka {
	char *brokers; /* bootstrap.servers */
	char *group_id;
	char **topics;
	int ntopics;
	char **prop_keys; /* librdkafka properties passed through (SASL, SSL, ...) */
	char **prop_vals;
	int nprops;
	enum cfg_format format;
	char **correlation_from; /* order of sources, as written: ce_correlationid,
	                            header:NAME, field:PATH, key, traceparent */
	int ncorrelation_from;
	struct cfg_corr_source *corr_sources; /* the same, parsed [ncorrelation_from] */
	char *alert_topic;                    /* NULL: none */
	enum cfg_alert_format alert_format;
	char *dead_letter_topic; /* NULL: none */
	struct cfg_kafka_security sec;
	int64_t outage_grace_ns; /* wall clock held this long after contact is regained */
};

struct cfg_json_fields { /* dotted paths into plain JSON payloads */
	char *event_id, *correlation_id, *type, *source, *time, *flow, *causation_id, *attributes;
};

struct cfg_http {
	struct cfg_listen listen; /* default 127.0.0.1:9717 */
	char *token;              /* bearer token for /api and /metrics, or NULL */
	char **allowed_hosts;     /* Host names served without a token (DNS rebinding) */
	int nallowed_hosts;
	size_t max_connections;
	size_t max_connections_per_address;
	int64_t header_timeout_ns;
	size_t max_request_bytes; /* request line + headers; beyond: 431 */
	char *tls_cert_file;      /* PEM certificate (chain) for HTTPS, or NULL: plain HTTP */
	char *tls_key_file;       /* its PEM private key; set together with tls_cert_file */
};

struct cfg_metrics {
	double *latency_buckets; /* seconds, ascending */
	int nlatency_buckets;
	double *duration_buckets;
	int nduration_buckets;
};

/* Bounds on one input (limits.*): what makes bad input cheap to refuse. Each refusal is
 * counted under its own reason (docs/kafka.md "Undecodable messages"). */
#define CFG_MAX_HEADERS 256    /* ceiling of limits.max_headers (headers copied per message) */
#define CFG_MAX_ATTRIBUTES 256 /* ceiling of limits.max_attributes (EV_MAX_ATTRS) */
#define CFG_MAX_MESSAGE_BYTES (64u << 20) /* ceiling of limits.max_message_bytes */
struct cfg_limits {
	size_t max_message_bytes;   /* a Kafka value or replay record; beyond: too_large */
	size_t max_depth;           /* JSON objects and arrays nested; beyond: too_deep */
	size_t max_attributes;      /* attributes of one event; beyond: too_many_attributes */
	size_t max_attribute_bytes; /* one attribute's key or value; beyond: attribute_too_large */
	size_t max_headers;         /* Kafka headers of one message; beyond: too_many_headers */
};

/* Mappings and lists nested deeper than this are refused before libyaml builds the
 * document: its scanner does work per open flow level at every token, so nesting costs
 * the square of its depth (`[` x 80,000, 160 KB, took 33 s; 2 MB of them would take over
 * an hour). A config nests 6 deep. */
#define CFG_MAX_YAML_DEPTH 64

struct cfg_state {
	char *dir; /* NULL: no durable state */
	int64_t checkpoint_interval_ns;
	int on_bad_checkpoint; /* 0 fail, 1 fresh (the choices of state.on_bad_checkpoint) */
};

struct cfg_history {
	char *dir; /* NULL: state.dir; both NULL: no store */
	bool enabled;
	int64_t retention_ns;
	size_t max_bytes, queue, max_attr_bytes, timeline_bytes;
};

struct config {
	char *path;
	struct flowgraph graph;
	size_t max_flows;        /* in-flight bound; oldest evicted beyond it */
	uint32_t engine_threads; /* engine.threads: shards, 0 = online cores (cmd/shards.h) */
	struct cfg_limits limits;
	enum log_level log_level;
	struct cfg_kafka kafka;
	struct cfg_json_fields json;
	struct cfg_http http;
	struct cfg_metrics metrics;
	struct cfg_state state;
	struct cfg_history history;
};

/* A config file's size at most. libyaml holds the whole document while it is
 * checked, about 30 times the file's size (a 2 MiB file of 10,000 flows peaks at
 * 63 MiB), so a bigger file is refused before parsing; 16 MiB holds 65,535 3-step
 * flows (docs/config.md "Limits"). */
#define CFG_MAX_FILE_BYTES (16u << 20)

/* Loads and validates `path`. 0 and *out on success; negative and err otherwise. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
/* Same, from a string; `name` is used in messages in place of a file name. */
int config_load_string(
    const char *name, const char *yaml, size_t len, struct config **out, char *err, size_t errlen);
void config_free(struct config *c);
/* Checks the kafka.tls.* files are readable, reads the SASL password and adds the
 * librdkafka properties (see struct cfg_kafka_security); once; 0, or -1 and err naming
 * the setting. */
int config_kafka_resolve(struct config *c, char *err, size_t errlen);
/* 1 when a librdkafka property holds a secret: its value is never written to a log or
 * an error message (config_redact gives the text to print instead). */
int config_secret_property(const char *name);
const char *config_redact(const char *name, const char *value);
/* Parses a Go-style duration ("500ms", "30s", "1h30m", "1.5s"; units ns us µs ms
 * s m h; no bare numbers, never negative) into nanoseconds: 0, or -1 and why. */
int config_parse_duration(const char *s, int64_t *ns, char *why, size_t whylen);
/* Parses a listen address (see struct cfg_listen): 0, or -1 and why (without the
 * value: callers say where it came from, "--listen" or "http.listen"). */
int config_parse_listen(const char *s, struct cfg_listen *out, char *why, size_t whylen);
/* The settings reference (the README section and --help come from the same table). */
void config_print_reference(FILE *out);

#endif
