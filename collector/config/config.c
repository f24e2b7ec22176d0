/*
 * config: loads and validates the YAML configuration (see docs/config.md).
 *
 * The collector's settings are the rows of `settings` below; flows and steps are
 * the tables of config_flows.c. The same rows drive parsing (cfg_walk_map), the
 * defaults (each default is YAML text run through the row's own setter) and the
 * reference printed by config_print_reference, so none can drift from another.
 *
 * A config is returned only when it has no problem at all; otherwise every
 * problem is written to err, one "FILE:LINE:COL: message" per line, sorted by
 * position. Single-threaded; the result is immutable and owned by the caller.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/config.h"
#include "config/config_yaml.h"

static int check_path(const char *s, char *why, size_t whylen);
static int check_source(const char *s, char *why, size_t whylen);
static const struct cfg_type cfg_t_sources, cfg_t_listen;
static int check_hostname(const char *s, char *why, size_t whylen);

#define CO(m) offsetof(struct config, m)
#define JSON_FIELD(k) \
	{ \
		"json." #k, &cfg_t_str, CO(json.k), \
		    .def = #k, .check = check_path, \
		    .help = "Dotted path of the `" #k "` field in plain JSON payloads." \
	}

static const struct cfg_field settings[] = {
	{ "flows", &cfg_t_flows, CO(graph), .flags = CF_REQUIRED,
	    .help = "The expected flow graphs, at least one (see flow settings)." },
	{ "limits.max_flows", &cfg_t_count, CO(max_flows), .def = "1000000",
	    .help = "Flow instances kept in flight at most; beyond it the oldest is closed as "
		    "`evicted` (counted; logged at warn, at most 10 lines per 10 s)." },
	{ "engine.threads", &cfg_t_uint, CO(engine_threads), .def = "1", .max = 64,
	    .help = "Engine threads (shards) of the daemon, each judging the flows of its share "
		    "of the assigned partitions; 0 = the number of online cores, at most 64. 1 "
		    "judges on the main thread. A shard never assigned a partition is never "
		    "woken. `limits.max_flows` is split evenly between the shards." },
	{ "limits.max_message_bytes", &cfg_t_count, CO(limits.max_message_bytes), .def = "1048576",
	    .max = CFG_MAX_MESSAGE_BYTES,
	    .help = "Longest Kafka message value or replay record decoded; a longer one is "
		    "rejected unread as `too_large`." },
	{ "limits.max_depth", &cfg_t_count, CO(limits.max_depth), .def = "64", .max = 100000,
	    .help = "JSON objects and arrays nested in one payload at most (the top object is 1); "
		    "deeper is rejected as `too_deep` where the parse reaches it." },
	{ "limits.max_attributes", &cfg_t_count, CO(limits.max_attributes), .def = "32",
	    .max = CFG_MAX_ATTRIBUTES,
	    .help = "Attributes of one event at most (JSON `attributes`, protobuf `attributes`, "
		    "CloudEvents extensions); more is rejected as `too_many_attributes`." },
	{ "limits.max_attribute_bytes", &cfg_t_count, CO(limits.max_attribute_bytes), .def = "4096",
	    .max = CFG_MAX_MESSAGE_BYTES,
	    .help = "Longest attribute key or value (bytes, after JSON unescaping); longer is "
		    "rejected as `attribute_too_large`." },
	{ "limits.max_headers", &cfg_t_count, CO(limits.max_headers), .def = "32",
	    .max = CFG_MAX_HEADERS,
	    .help = "Kafka headers of one message at most; more is rejected as "
		    "`too_many_headers`." },
	{ "log_level", &cfg_t_enum, CO(log_level), .def = "info",
	    .choices = "error|warn|info|debug", .help = "Least severe log level written." },
	{ "kafka.brokers", &cfg_t_str, CO(kafka.brokers), .flags = CF_NULLABLE,
	    .help = "Bootstrap servers (`host:port[,host:port...]`); unset: no Kafka." },
	{ "kafka.group_id", &cfg_t_str, CO(kafka.group_id), .def = "choreoscope",
	    .help = "Consumer group; instances sharing it share the partitions." },
	{ "kafka.topics", &cfg_t_strlist, CO(kafka.topics), .noff = CO(kafka.ntopics),
	    .help = "Topics to consume events from." },
	{ "kafka.format", &cfg_t_enum, CO(kafka.format), .def = "auto",
	    .choices = "auto|protobuf|cloudevents|json",
	    .help = "Payload format; `auto` tells them apart per message (content type, "
		    "`ce_` headers, first byte)." },
	{ "kafka.correlation_from", &cfg_t_sources, CO(kafka.correlation_from),
	    .off2 = CO(kafka.corr_sources), .noff = CO(kafka.ncorrelation_from),
	    .check = check_source,
	    .def = "[ce_correlationid, \"field:correlation_id\", key, traceparent]",
	    .help =
		"Where the correlation id comes from, first found wins: `ce_correlationid`, "
		"`header:NAME`, `field:PATH`, `key` (message key), `traceparent` (W3C trace id)." },
	{ "kafka.alert_topic", &cfg_t_str, CO(kafka.alert_topic), .flags = CF_NULLABLE,
	    .help = "Topic anomalies are published to; unset: none." },
	{ "kafka.alert_format", &cfg_t_enum, CO(kafka.alert_format), .def = "json",
	    .choices = "json|protobuf", .help = "Encoding of the messages on the alert topic." },
	{ "kafka.dead_letter_topic", &cfg_t_str, CO(kafka.dead_letter_topic), .flags = CF_NULLABLE,
	    .help = "Topic undecodable messages are copied to; unset: none." },
	{ "kafka.tls.enabled", &cfg_t_bool, CO(kafka.sec.tls), .def = "false",
	    .help = "Connect to the brokers over TLS (`security.protocol` SSL, or SASL_SSL with "
		    "`kafka.sasl.mechanism`); implied by any `kafka.tls.*` file. Without "
		    "`kafka.tls.ca_file` the system's CAs are trusted." },
	{ "kafka.tls.ca_file", &cfg_t_str, CO(kafka.sec.ca_file), .flags = CF_NULLABLE,
	    .help = "PEM file of the CA certificates the brokers' certificates must chain to "
		    "(`ssl.ca.location`)." },
	{ "kafka.tls.cert_file", &cfg_t_str, CO(kafka.sec.cert_file), .flags = CF_NULLABLE,
	    .help = "PEM client certificate for brokers that require one (mutual TLS, "
		    "`ssl.certificate.location`); needs `kafka.tls.key_file`." },
	{ "kafka.tls.key_file", &cfg_t_str, CO(kafka.sec.key_file), .flags = CF_NULLABLE,
	    .help = "PEM private key of `kafka.tls.cert_file`, unencrypted (`ssl.key.location`)." },
	{ "kafka.sasl.mechanism", &cfg_t_enum, CO(kafka.sec.sasl), .def = "none",
	    .choices = "none|plain|scram-sha-256|scram-sha-512",
	    .help = "SASL authentication (`sasl.mechanism`; `security.protocol` SASL_SSL with TLS, "
		    "else SASL_PLAINTEXT). Debian's librdkafka 2.0.2 fails SCRAM against Kafka 4.x "
		    "brokers (librdkafka#4895, fixed in 2.6.1): use `plain` over TLS there." },
	{ "kafka.sasl.username", &cfg_t_str, CO(kafka.sec.username), .flags = CF_NULLABLE,
	    .help = "SASL user name; required with a mechanism." },
	{ "kafka.sasl.password", &cfg_t_str, CO(kafka.sec.password), .flags = CF_NULLABLE,
	    .help = "SASL password (never logged). Prefer `kafka.sasl.password_file` or "
		    "CHOREOSCOPE_KAFKA_PASSWORD, read when neither is set." },
	{ "kafka.sasl.password_file", &cfg_t_str, CO(kafka.sec.password_file), .flags = CF_NULLABLE,
	    .help = "File whose first line is the SASL password (read when the daemon starts)." },
	{ "kafka.outage_grace", &cfg_t_duration, CO(kafka.outage_grace_ns), .def = "10s",
	    .help = "With --clock wall: once the partition leaders answer again after the daemon "
		    "was cut off from them, the clock stays where contact was lost for this long, "
		    "so that producers cut off by the same outage deliver what they queued before "
		    "a step they hold is judged missing or stalled." },
	{ "kafka.properties", &cfg_t_props, CO(kafka.prop_keys), .off2 = CO(kafka.prop_vals),
	    .noff = CO(kafka.nprops),
	    .help =
		"Any librdkafka property, passed through (e.g. `socket.timeout.ms`); set "
		"after the `kafka.tls.*`/`kafka.sasl.*` ones, so the same property here wins." },
	JSON_FIELD(event_id),
	JSON_FIELD(correlation_id),
	JSON_FIELD(type),
	JSON_FIELD(source),
	JSON_FIELD(time),
	JSON_FIELD(flow),
	JSON_FIELD(causation_id),
	JSON_FIELD(attributes),
	{ "http.listen", &cfg_t_listen, CO(http.listen), .def = "127.0.0.1:9717",
	    .help = "Address of /metrics and /api/v1: `HOST:PORT` (HOST a numeric IPv4 address "
		    "or `localhost`), `[IPv6]:PORT` or `:PORT` (all interfaces); port 0: any free "
		    "one." },
	{ "http.token", &cfg_t_str, CO(http.token), .flags = CF_NULLABLE,
	    .help = "Bearer token required by /api and /metrics; unset: open, to the Host names "
		    "of `http.allowed_hosts`. The daemon also reads CHOREOSCOPE_TOKEN." },
	{ "http.allowed_hosts", &cfg_t_strlist, CO(http.allowed_hosts),
	    .noff = CO(http.nallowed_hosts), .def = "[]", .check = check_hostname,
	    .help = "Host names (as in the `Host` header, without port) /metrics and /api/v1 "
		    "answer when no token is set, besides IP literals, `localhost` and "
		    "`*.localhost`; others get 421 (DNS rebinding)." },
	{ "http.max_connections", &cfg_t_count, CO(http.max_connections), .def = "256",
	    .help = "Open HTTP connections at most; an eighth is kept from API requests for "
		    "health, readiness and metrics (docs/http.md)." },
	{ "http.max_connections_per_address", &cfg_t_count, CO(http.max_connections_per_address),
	    .def = "128",
	    .help = "Open HTTP connections per client address at most; a newcomer beyond it "
		    "evicts that address's oldest connection still waiting for its headers." },
	{ "http.header_timeout", &cfg_t_duration, CO(http.header_timeout_ns), .def = "10s",
	    .help = "Time a connection has, from accept or its previous answer, to send a "
		    "request's headers; then it is closed (slowloris)." },
	{ "http.max_request_bytes", &cfg_t_count, CO(http.max_request_bytes), .def = "8192",
	    .max = 1048576,
	    .help = "Request line plus headers (names, values, query parameters) answered at "
		    "most; larger gets 431, counted in "
		    "`choreoscope_http_requests_total{code=\"431\"}`; "
		    "over 4x this libmicrohttpd drops the connection itself." },
	{ "http.tls_cert_file", &cfg_t_str, CO(http.tls_cert_file), .flags = CF_NULLABLE,
	    .help = "PEM certificate (chain) of the HTTP endpoint: with `http.tls_key_file`, "
		    "/metrics and /api/v1 are served over HTTPS only (libmicrohttpd with GnuTLS); "
		    "unset: plain HTTP." },
	{ "http.tls_key_file", &cfg_t_str, CO(http.tls_key_file), .flags = CF_NULLABLE,
	    .help = "PEM private key of `http.tls_cert_file`, unencrypted (read once, at start)." },
	{ "state.dir", &cfg_t_str, CO(state.dir), .flags = CF_NULLABLE,
	    .help =
		"Directory of the flow-state checkpoints (one file per partition, under a "
		"folder named after the consumer group); unset: flow state lives in memory only." },
	{ "state.checkpoint_interval", &cfg_t_duration, CO(state.checkpoint_interval_ns),
	    .def = "5s",
	    .help = "How often the flow state of every assigned partition is "
		    "checkpointed; offsets are committed only up to the last checkpoint." },
	{ "state.on_bad_checkpoint", &cfg_t_enum, CO(state.on_bad_checkpoint), .def = "fail",
	    .choices = "fail|fresh",
	    .help =
		"A damaged checkpoint, or one written for other flow "
		"graphs: `fail` stops the daemon (exit 3) naming the file; `fresh` moves it aside "
		"(`.bad`) and starts that partition's flows afresh from the committed offset." },
	{ "history.enabled", &cfg_t_bool, CO(history.enabled), .def = "true",
	    .help = "Write every retired flow (record, steps, anomalies, timeline) to the history "
		    "store, when a directory is set (docs/history.md)." },
	{ "history.dir", &cfg_t_str, CO(history.dir), .flags = CF_NULLABLE,
	    .help = "Directory of the history store (`history.db`, SQLite); unset: `state.dir`; "
		    "neither set: no store." },
	{ "history.retention", &cfg_t_duration, CO(history.retention_ns), .def = "168h",
	    .help = "Stored flows older than this (since they retired) are deleted, "
		    "continuously; 0s keeps them." },
	{ "history.max_bytes", &cfg_t_count, CO(history.max_bytes), .def = "1073741824",
	    .help = "Bytes the store's pages may use; beyond it the oldest flows are deleted "
		    "and the file shrinks back." },
	{ "history.queue", &cfg_t_count, CO(history.queue), .def = "65536",
	    .help = "Retired flows and verdicts waiting for the writer thread at most; beyond "
		    "it they are dropped (counted), never waited for." },
	{ "history.max_attr_bytes", &cfg_t_count, CO(history.max_attr_bytes), .def = "4096",
	    .help = "Attributes (as JSON) stored per event at most; the pairs beyond are left "
		    "out and counted in `choreoscope.truncated`." },
	{ "history.timeline_bytes", &cfg_t_count, CO(history.timeline_bytes), .def = "33554432",
	    .help = "Ring of recent events the stored timelines come from; a flow whose events "
		    "left it is stored with the rest." },
	{ "metrics.latency_buckets", &cfg_t_numlist, CO(metrics.latency_buckets),
	    .noff = CO(metrics.nlatency_buckets),
	    .def = "[0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300]",
	    .help = "Histogram bounds (seconds) of the latencies of steps without `within` (a step "
		    "with one gets bounds from it)." },
	{ "metrics.duration_buckets", &cfg_t_numlist, CO(metrics.duration_buckets),
	    .noff = CO(metrics.nduration_buckets),
	    .def = "[0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600]",
	    .help = "Histogram bounds (seconds) of flow durations, open to close." },
};

#define NSETTINGS ((int)(sizeof settings / sizeof settings[0]))

/* ---- value checks ---- */

static int bad(char *why, size_t whylen, const char *expect, const char *s, const char *what)
{
	snprintf(why, whylen, "expected %s, found \"%s\"%s%s", expect, s, what ? ": " : "",
	    what ? what : "");
	return -1;
}

/* A host name: letters, digits, '-' and '.', not starting with '-' or '.'. */
static int check_host(const char *h, size_t len)
{
	if (len == 0 || len >= 254 ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") < len ||
	    h[0] == '-' || h[0] == '.')
		return -1;
	return 0;
}

int config_parse_listen(const char *s, struct cfg_listen *out, char *why, size_t whylen)
{
	char host[64];
	const char *colon = strrchr(s, ':'), *p = colon ? colon + 1 : NULL;
	memset(out, 0, sizeof *out);
	if (colon == NULL || strlen(s) >= sizeof out->spec) {
		snprintf(why, whylen, colon ? "too long" : "no port");
		return -1;
	}
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 ||
	    strtol(p, NULL, 10) > 65535) {
		snprintf(why, whylen, "port must be 0 to 65535");
		return -1;
	}
	size_t hl = (size_t)(colon - s);
	if (hl >= sizeof host) {
		snprintf(why, whylen, "bad host");
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	uint16_t port = htons((uint16_t)strtol(p, NULL, 10));
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->addr;
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = port;
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad_host;
		out->addrlen = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->addr;
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		out->addrlen = sizeof *s4;
		if (hl == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad_host;
	}
	snprintf(out->spec, sizeof out->spec, "%s", s);
	return 0;
bad_host:
	memset(out, 0, sizeof *out);
	snprintf(why, whylen, "bad host (a numeric IPv4 address, [IPv6] or localhost)");
	return -1;
}

/* The listen address, parsed into struct cfg_listen (stored in place). */
static void set_listen(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64], why[128];
	struct cfg_listen l;
	const char *expect = "HOST:PORT such as 127.0.0.1:9717, [::1]:9717 or :9717";
	if (v->type != YAML_SCALAR_NODE || cfg_is_null(v)) {
		cfg_bad_value(
		    c, w, f, v, "expected %s, found %s", expect, cfg_describe(v, got, sizeof got));
		return;
	}
	if (config_parse_listen(cfg_text(v), &l, why, sizeof why) < 0) {
		cfg_bad_value(c, w, f, v, "expected %s, found %s: %s", expect,
		    cfg_describe(v, got, sizeof got), why);
		return;
	}
	*(struct cfg_listen *)((char *)w->base + f->off) = l;
}

static const struct cfg_type cfg_t_listen = { "address", "HOST:PORT", set_listen };

static int check_hostname(const char *s, char *why, size_t whylen)
{
	if (strchr(s, ':') != NULL || check_host(s, strlen(s)) < 0)
		return bad(why, whylen, "a host name such as collector-1.example.com", s,
		    strchr(s, ':') ? "no port" : NULL);
	return 0;
}

static int check_path(const char *s, char *why, size_t whylen)
{
	size_t n = strlen(s);
	if (s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return bad(why, whylen, "a dotted field path such as data.order_id", s,
		    "empty path component");
	return 0;
}

/* One correlation source into *out (arg points into s); 0, or -1 and why. */
static int parse_source(const char *s, struct cfg_corr_source *out, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		enum cfg_corr_kind kind;
		bool arg;
	} names[] = {
		{ "ce_correlationid", CFG_CORR_CE, false },
		{ "header:", CFG_CORR_HEADER, true },
		{ "field:", CFG_CORR_FIELD, true },
		{ "key", CFG_CORR_KEY, false },
		{ "traceparent", CFG_CORR_TRACEPARENT, false },
	};
	const char *expect = "ce_correlationid, header:NAME, field:PATH, key or traceparent";
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i].name);
		if (names[i].arg ? strncmp(s, names[i].name, n) != 0
				 : strcmp(s, names[i].name) != 0)
			continue;
		*out = (struct cfg_corr_source){ names[i].kind, names[i].arg ? s + n : NULL };
		if (names[i].arg && s[n] == '\0')
			return bad(why, whylen, expect, s,
			    out->kind == CFG_CORR_HEADER ? "empty header name"
							 : "empty field path");
		return out->kind == CFG_CORR_FIELD ? check_path(s + n, why, whylen) : 0;
	}
	return bad(why, whylen, expect, s, NULL);
}

static int check_source(const char *s, char *why, size_t whylen)
{
	struct cfg_corr_source src;
	return parse_source(s, &src, why, whylen);
}

/* kafka.correlation_from: the list of strings (each checked by check_source), then
 * the same parsed into f->off2 (struct cfg_corr_source, pointing into the strings). */
static void set_sources(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char why[256];
	int nerrs = c->nerrs;
	cfg_t_strlist.set(c, w, f, v);
	if (c->nerrs != nerrs)
		return;
	char **strs = *(char ***)((char *)w->base + f->off);
	int n = *(int *)((char *)w->base + f->noff);
	struct cfg_corr_source **dst = (struct cfg_corr_source **)((char *)w->base + f->off2);
	if (n > CFG_MAX_CORR_SOURCES) {
		cfg_bad_value(
		    c, w, f, v, "expected at most %d sources, found %d", CFG_MAX_CORR_SOURCES, n);
		return;
	}
	struct cfg_corr_source *t = calloc((size_t)n + 1, sizeof *t);
	for (int i = 0; t != NULL && i < n; i++)
		parse_source(strs[i], &t[i], why, sizeof why);
	free(*dst);
	*dst = t;
}

static const struct cfg_type cfg_t_sources = { "list of strings", "a list of strings",
	set_sources };

/* ---- loading ---- */

static void yaml_problem(struct cfg_ctx *c, const yaml_parser_t *p, const char *yaml, size_t len)
{
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
	if (p->error == YAML_READER_ERROR) {
		line = 1;
		col = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++, col++)
			if (yaml[i] == '\n') {
				line++;
				col = 0;
			}
	}
	const char *hint = "";
	if (p->error == YAML_SCANNER_ERROR && p->problem_mark.index < len &&
	    yaml[p->problem_mark.index] == '\t')
		hint = "; YAML indents with spaces, not tabs";
	if (p->context != NULL)
		cfg_error_at(c, line, col, "YAML syntax error: %s (%s at line %d, column %d)%s",
		    p->problem ? p->problem : "unknown problem", p->context,
		    (int)p->context_mark.line + 1, (int)p->context_mark.column + 1, hint);
	else
		cfg_error_at(c, line, col, "YAML syntax error: %s%s",
		    p->problem ? p->problem : "unknown problem", hint);
}

/* Refuses nesting deeper than CFG_MAX_YAML_DEPTH from libyaml's events, which reach a
 * depth after the work of that depth only; 0 when within it or when the text is not
 * YAML (the load reports that). */
static int check_depth(struct cfg_ctx *c, const char *yaml, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, rc = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	while (rc == 0 && yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t t = ev.type;
		if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) &&
		    ++depth > CFG_MAX_YAML_DEPTH) {
			cfg_error_at(c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
			    "mappings and lists nested deeper than %d levels", CFG_MAX_YAML_DEPTH);
			rc = -1;
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

/* Parses the one document of the stream into *doc; a second one is a problem. */
static int load_document(struct cfg_ctx *c, const char *yaml, size_t len, yaml_document_t *doc)
{
	yaml_parser_t p;
	yaml_document_t extra;
	int rc = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&p, doc)) {
		yaml_problem(c, &p, yaml, len);
		yaml_parser_delete(&p);
		return -1;
	}
	if (!yaml_parser_load(&p, &extra)) {
		yaml_problem(c, &p, yaml, len);
		rc = -1;
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&extra);
		if (root != NULL) {
			cfg_error(c, root, "expected one YAML document, found a second one");
			rc = -1;
		}
		yaml_document_delete(&extra);
	}
	if (rc < 0)
		yaml_document_delete(doc);
	yaml_parser_delete(&p);
	return rc;
}

/* ---- kafka.tls.* and kafka.sasl.* ---- */

static const char *const secret_words[] = { "password", "secret", "sasl.jaas.config",
	"sasl.oauthbearer.config", "ssl.key.pem", "ssl_key" };

int config_secret_property(const char *name)
{
	for (size_t i = 0; i < sizeof secret_words / sizeof secret_words[0]; i++)
		if (strstr(name, secret_words[i]) != NULL)
			return 1;
	return 0;
}

const char *config_redact(const char *name, const char *value)
{
	return config_secret_property(name) ? "(redacted)" : value;
}

static yaml_node_t *node_of(yaml_node_t **vals, const char *name)
{
	for (int i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return vals[i];
	return NULL;
}

/* Where a problem of a setting is reported: its value, else the document start. */
static void sec_error(struct cfg_ctx *c, yaml_node_t **vals, const char *name, const char *msg)
{
	yaml_node_t *n = node_of(vals, name);
	if (n != NULL)
		cfg_error(c, n, "\"%s\": %s", name, msg);
	else
		cfg_error_at(c, 1, 1, "\"%s\": %s", name, msg);
}

/* access(2), not open: a FIFO named here must not block. */
static int check_readable(const char *name, const char *path, char *err, size_t errlen)
{
	if (path == NULL || access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot read %s: %s", name, path, strerror(errno));
	return -1;
}

#define PASSWORD_MAX 1024

/* The first line of the password file, without its line end. Non-blocking and bounded:
 * a FIFO, /dev/zero or a huge file named here costs one read of PASSWORD_MAX bytes. */
static char *read_password(const char *path, char *err, size_t errlen)
{
	char buf[PASSWORD_MAX + 1];
	struct stat st;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, buf, PASSWORD_MAX);
	else if (fd >= 0)
		errno = EINVAL;
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		snprintf(err, errlen, "kafka.sasl.password_file: cannot read %s: %s", path,
		    e == EINVAL ? "not a regular file" : strerror(e));
		return NULL;
	}
	buf[n] = '\0';
	size_t len = strcspn(buf, "\r\n");
	char *pw = len > 0 && len < (size_t)PASSWORD_MAX ? strndup(buf, len) : NULL;
	explicit_bzero(buf, sizeof buf);
	if (pw == NULL)
		snprintf(err, errlen,
		    "kafka.sasl.password_file: %s has no password on its first "
		    "line (at most %d bytes)",
		    path, PASSWORD_MAX - 1);
	return pw;
}

/* Prepends the librdkafka properties of kafka.tls.* and kafka.sasl.* to kafka.properties. */
static int prepend_props(struct cfg_kafka *k, const char *const (*kv)[2], int n)
{
	char **nk = malloc(sizeof *nk * (size_t)(k->nprops + n));
	char **nv = malloc(sizeof *nv * (size_t)(k->nprops + n));
	if (nk == NULL || nv == NULL) {
		free(nk);
		free(nv);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		nk[i] = strdup(kv[i][0]);
		nv[i] = strdup(kv[i][1]);
		if (nk[i] == NULL || nv[i] == NULL) {
			for (int j = 0; j <= i; j++) {
				free(nk[j]);
				free(nv[j]);
			}
			free(nk);
			free(nv);
			return -1;
		}
	}
	for (int i = 0; i < k->nprops; i++) {
		nk[n + i] = k->prop_keys[i];
		nv[n + i] = k->prop_vals[i];
	}
	free(k->prop_keys);
	free(k->prop_vals);
	k->prop_keys = nk;
	k->prop_vals = nv;
	k->nprops += n;
	return 0;
}

/* What the file alone says about kafka.tls.* and kafka.sasl.*, at load (with positions);
 * the files and the environment are looked at by config_kafka_resolve. */
static void kafka_security(struct cfg_ctx *c, struct config *cfg, yaml_node_t **vals)
{
	struct cfg_kafka_security *s = &cfg->kafka.sec;

	if (s->ca_file != NULL || s->cert_file != NULL || s->key_file != NULL)
		s->tls = true;
	if ((s->cert_file == NULL) != (s->key_file == NULL))
		sec_error(c, vals, s->cert_file ? "kafka.tls.cert_file" : "kafka.tls.key_file",
		    "kafka.tls.cert_file and kafka.tls.key_file go together");
	if (s->password != NULL && s->password_file != NULL)
		sec_error(c, vals, "kafka.sasl.password_file",
		    "set kafka.sasl.password or kafka.sasl.password_file, not both");
	if (s->sasl == CFG_SASL_NONE &&
	    (s->username != NULL || s->password != NULL || s->password_file != NULL))
		sec_error(c, vals,
		    s->username       ? "kafka.sasl.username"
			: s->password ? "kafka.sasl.password"
				      : "kafka.sasl.password_file",
		    "needs kafka.sasl.mechanism");
	if (s->sasl != CFG_SASL_NONE && s->username == NULL)
		sec_error(c, vals, "kafka.sasl.mechanism", "needs kafka.sasl.username");
}

int config_kafka_resolve(struct config *cfg, char *err, size_t errlen)
{
	static const char *const mech[] = { NULL, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512" };
	struct cfg_kafka_security *s = &cfg->kafka.sec;
	const char *kv[8][2];
	int n = 0;

	if (s->resolved || (!s->tls && s->sasl == CFG_SASL_NONE))
		return 0;
	if (check_readable("kafka.tls.ca_file", s->ca_file, err, errlen) < 0 ||
	    check_readable("kafka.tls.cert_file", s->cert_file, err, errlen) < 0 ||
	    check_readable("kafka.tls.key_file", s->key_file, err, errlen) < 0)
		return -1;
	if (s->sasl != CFG_SASL_NONE && s->password == NULL) {
		const char *env = getenv("CHOREOSCOPE_KAFKA_PASSWORD");
		if (s->password_file != NULL)
			s->password = read_password(s->password_file, err, errlen);
		else if (env != NULL && *env != '\0')
			s->password = strdup(env);
		else
			snprintf(err, errlen,
			    "kafka.sasl.mechanism: needs kafka.sasl.password, "
			    "kafka.sasl.password_file or CHOREOSCOPE_KAFKA_PASSWORD");
		if (s->password == NULL)
			return -1;
	}
	kv[n][0] = "security.protocol";
	kv[n++][1] = s->sasl == CFG_SASL_NONE ? "ssl" : s->tls ? "sasl_ssl" : "sasl_plaintext";
	if (s->ca_file != NULL) {
		kv[n][0] = "ssl.ca.location";
		kv[n++][1] = s->ca_file;
	}
	if (s->cert_file != NULL) {
		kv[n][0] = "ssl.certificate.location";
		kv[n++][1] = s->cert_file;
		kv[n][0] = "ssl.key.location";
		kv[n++][1] = s->key_file;
	}
	if (s->sasl != CFG_SASL_NONE) {
		kv[n][0] = "sasl.mechanism";
		kv[n++][1] = mech[s->sasl];
		kv[n][0] = "sasl.username";
		kv[n++][1] = s->username;
		kv[n][0] = "sasl.password";
		kv[n++][1] = s->password;
	}
	if (prepend_props(&cfg->kafka, (const char *const(*)[2])kv, n) < 0) {
		snprintf(err, errlen, "kafka security properties: out of memory");
		return -1;
	}
	s->resolved = true;
	return 0;
}

static void http_tls(struct cfg_ctx *c, struct config *cfg, yaml_node_t **vals)
{
	const struct cfg_http *h = &cfg->http;
	if ((h->tls_cert_file == NULL) != (h->tls_key_file == NULL))
		sec_error(c, vals, h->tls_cert_file ? "http.tls_cert_file" : "http.tls_key_file",
		    "http.tls_cert_file and http.tls_key_file go together");
}

int config_load_string(
    const char *name, const char *yaml, size_t len, struct config **out, char *err, size_t errlen)
{
	struct cfg_ctx c = { .name = name };
	yaml_document_t doc;
	yaml_node_t *vals[NSETTINGS] = { NULL };
	struct config *cfg = NULL;
	int rc = -1;
	*out = NULL;
	if (len > CFG_MAX_FILE_BYTES) {
		cfg_error_at(
		    &c, 1, 1, "larger than the %u bytes a config may have", CFG_MAX_FILE_BYTES);
		goto done;
	}
	if (check_depth(&c, yaml, len) < 0 || load_document(&c, yaml, len, &doc) < 0)
		goto done;
	c.doc = &doc;
	c.budget = (size_t)(doc.nodes.top - doc.nodes.start) + CFG_MAX_EXPANSION;
	cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL || (cfg->path = strdup(name)) == NULL ||
	    cfg_apply_defaults(settings, NSETTINGS, cfg) < 0) {
		cfg_error_at(&c, 1, 1, "cannot set the defaults (out of memory?)");
	} else {
		struct cfg_walk w = { settings, NSETTINGS, cfg, vals, "" };
		cfg_walk_map(&c, yaml_document_get_root_node(&doc), &w);
		if (c.nerrs == 0)
			kafka_security(&c, cfg, vals);
		if (c.nerrs == 0)
			http_tls(&c, cfg, vals);
	}
	yaml_document_delete(&doc);
	if (c.nerrs == 0) {
		*out = cfg;
		cfg = NULL;
		rc = 0;
	}
done:
	cfg_format_errors(&c, err, errlen);
	cfg_ctx_release(&c);
	config_free(cfg);
	return rc;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, total = 0;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f != NULL) {
		FILE *m = open_memstream(&buf, &len);
		char chunk[8192];
		size_t n;
		/* reads one chunk past the bound at most: config_load_string refuses it */
		while (m != NULL && total <= CFG_MAX_FILE_BYTES &&
		    (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
			fwrite(chunk, 1, n, m);
			total += n;
		}
		int rerr = ferror(f);
		fclose(f);
		if (m == NULL || fclose(m) != 0 || rerr) {
			free(buf);
			buf = NULL;
		}
	}
	if (buf == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
		return -2;
	}
	int rc = config_load_string(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	flowgraph_free(&c->graph);
	free(c->path);
	struct cfg_kafka *k = &c->kafka;
	free(k->brokers);
	free(k->group_id);
	free_strv(k->topics, k->ntopics);
	for (int i = 0; i < k->nprops; i++)
		if (config_secret_property(k->prop_keys[i]))
			explicit_bzero(k->prop_vals[i], strlen(k->prop_vals[i]));
	free_strv(k->prop_keys, k->nprops);
	free_strv(k->prop_vals, k->nprops);
	free_strv(k->correlation_from, k->ncorrelation_from);
	free(k->corr_sources);
	free(c->state.dir);
	free(c->history.dir);
	free(k->alert_topic);
	free(k->dead_letter_topic);
	free(k->sec.ca_file);
	free(k->sec.cert_file);
	free(k->sec.key_file);
	free(k->sec.username);
	if (k->sec.password != NULL)
		explicit_bzero(k->sec.password, strlen(k->sec.password));
	free(k->sec.password);
	free(k->sec.password_file);
	struct cfg_json_fields *j = &c->json;
	char *paths[] = { j->event_id, j->correlation_id, j->type, j->source, j->time, j->flow,
		j->causation_id, j->attributes };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		free(paths[i]);
	free(c->http.token);
	free(c->http.tls_cert_file);
	free(c->http.tls_key_file);
	free_strv(c->http.allowed_hosts, c->http.nallowed_hosts);
	free(c->metrics.latency_buckets);
	free(c->metrics.duration_buckets);
	free(c);
}

/* ---- the reference ---- */

static void print_table(FILE *out, const struct cfg_field *f, int n)
{
	fprintf(out, "| setting | type | default | description |\n|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		char type[256];
		if (f[i].choices != NULL) {
			size_t k = 0;
			for (const char *p = f[i].choices; *p && k + 3 < sizeof type; p++) {
				if (*p == '|') {
					type[k++] = ',';
					type[k++] = ' ';
				} else {
					type[k++] = *p;
				}
			}
			type[k] = '\0';
			fprintf(out, "| `%s` | one of %s |", f[i].name, type);
		} else if (f[i].max != 0) {
			fprintf(out, "| `%s` | %s, at most %llu |", f[i].name, f[i].type->tname,
			    (unsigned long long)f[i].max);
		} else {
			fprintf(out, "| `%s` | %s |", f[i].name, f[i].type->tname);
		}
		if (f[i].flags & CF_REQUIRED)
			fprintf(out, " required |");
		else if (f[i].def != NULL)
			fprintf(out, " `%s` |", f[i].def);
		else
			fprintf(out, " none |");
		fprintf(out, " %s |\n", f[i].help);
	}
}

void config_print_reference(FILE *out)
{
	int nflow, nstep;
	const struct cfg_field *flow = cfg_flow_fields(&nflow), *step = cfg_step_fields(&nstep);
	fprintf(out,
	    "#### Collector settings\n\nA dotted name is a nested mapping: "
	    "`kafka.brokers` is `brokers:` under `kafka:`.\n\n");
	print_table(out, settings, NSETTINGS);
	fprintf(out, "\n#### Flow settings (each item of `flows`)\n\n");
	print_table(out, flow, nflow);
	fprintf(out, "\n#### Step settings (each value of `steps`, keyed by the event type)\n\n");
	print_table(out, step, nstep);
	fprintf(out,
	    "\nDurations are written like Go's: `500ms`, `30s`, `10m`, `1h30m`, `1.5s` "
	    "(units `ns`, `us`, `ms`, `s`, `m`, `h`; no bare numbers, never negative).\n"
	    "Lists of step names may be one name: `after: A` is `after: [A]`.\n");
}
