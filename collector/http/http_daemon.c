/*
 * http_daemon: the daemon's HTTP server adapter. See http_daemon.h.
 * Partition slots of the Kafka source are stable indices; their metrics slots are
 * cached in `slot` so a tick does no string lookups after the first.
 */
#include "http/http_daemon.h"
#include "state/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmd/cli.h"
#include "http/api_engine.h"
#include "http/http_api.h"
#include "http/http_publish.h"
#include "source/kafka_source.h"
#include "out/metrics.h"

struct httpd {
	struct metrics *m;
	struct http_api *a;
	struct api_engine *ae;
	int *slot; /* ksrc partition slot -> metrics slot (-2: not yet) */
	int nslot;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int httpd_new(const struct config *cfg, const struct engine_set *es, const char *listen,
    const char *clock, const char *history_dir, struct history *hist, struct httpd **out, char *err,
    size_t errlen)
{
	struct httpd *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const struct metrics_opts mo = { .graph = &cfg->graph,
		.latency_buckets = cfg->metrics.latency_buckets,
		.nlatency_buckets = cfg->metrics.nlatency_buckets,
		.duration_buckets = cfg->metrics.duration_buckets,
		.nduration_buckets = cfg->metrics.nduration_buckets,
		.version = CHOREOSCOPE_VERSION };
	const struct cfg_http *c = &cfg->http;
	struct cfg_listen flag;
	char why[160];
	if (listen != NULL && config_parse_listen(listen, &flag, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--listen %s: %s", listen, why);
		free(h);
		return -1;
	}
	const struct http_api_opts ho = { .listen = listen ? &flag : &c->listen,
		.listen_from = listen ? "--listen" : "http.listen",
		.token = c->token,
		.clock = clock,
		.allowed_hosts = (const char *const *)c->allowed_hosts,
		.nallowed_hosts = c->nallowed_hosts,
		.max_connections =
		    c->max_connections > 65535 ? 65535u : (unsigned)c->max_connections,
		.max_per_address = c->max_connections_per_address > 65535
		    ? 65535u
		    : (unsigned)c->max_connections_per_address,
		.header_timeout_ms = c->header_timeout_ns / 1000000 > 3600000
		    ? 3600000
		    : (int)(c->header_timeout_ns / 1000000),
		.history_dir = hist ? history_dir : NULL,
		.history_metrics = hist ? history_metrics : NULL,
		.history_ctx = hist,
		.max_request_bytes = c->max_request_bytes,
		.tls_cert_file = c->tls_cert_file,
		.tls_key_file = c->tls_key_file };
	if (metrics_new(&mo, &h->m, err, errlen) < 0 ||
	    http_api_new(&ho, h->m, &h->a, err, errlen) < 0) {
		httpd_free(h);
		return -1;
	}
	/* with a history store, one ring of recent events serves both timelines */
	h->ae = api_engine_new(
	    es, &cfg->graph, http_api_snapshot(h->a), hist ? cfg->history.timeline_bytes : 0);
	if (h->ae != NULL && hist != NULL)
		history_share_ring(hist, api_engine_ring(h->ae, 0));
	if (h->ae == NULL) {
		snprintf(err, errlen, "out of memory");
		httpd_free(h);
		return -1;
	}
	struct api_backend be;
	api_engine_backend(h->ae, &be);
	http_publish_set_backend(h->a, &be);
	*out = h;
	return 0;
}

void httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	http_api_free(h->a);
	api_engine_free(h->ae);
	metrics_free(h->m);
	free(h->slot);
	free(h);
}

void httpd_on_event(struct httpd *h, int shard, const struct event *ev)
{
	api_engine_event(h->ae, shard, ev);
}

const struct evlog *httpd_ring(const struct httpd *h, int shard)
{
	return api_engine_ring(h->ae, shard);
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	struct httpd *h = ctx;
	metrics_note_example(h->m, (int)(a->flow - metrics_graph(h->m)->flows), a->step_index,
	    (int)a->kind, a->correlation_id, a->at_ns);
	http_publish_on_anomaly(h->a, a);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	struct httpd *h = ctx;
	http_publish_on_flow(h->a, r);
}

static void on_step(void *ctx, const struct step_obs *o)
{
	struct httpd *h = ctx;
	http_publish_on_step(h->a, o);
}

void httpd_sink(struct httpd *h, struct engine_sink *out)
{
	*out = (struct engine_sink){
		.anomaly = on_anomaly, .flow = on_flow, .step = on_step, .ctx = h
	};
}

static void sync_parts(struct httpd *h, const struct daemon_view *v)
{
	if (v->nparts > h->nslot) {
		int *s = realloc(h->slot, sizeof(int) * (size_t)v->nparts);
		if (s == NULL)
			return;
		for (int i = h->nslot; i < v->nparts; i++)
			s[i] = -2;
		h->slot = s;
		h->nslot = v->nparts;
	}
	for (int i = 0; i < v->nparts; i++) {
		const struct ksrc_part *p = &v->parts[i];
		if (!p->used)
			continue;
		if (h->slot[i] == -2)
			h->slot[i] = metrics_partition(h->m, p->topic, p->partition);
		metrics_set_consumed(h->m, h->slot[i], p->consumed);
		metrics_set_lag(h->m, h->slot[i], p->assigned ? p->lag : 0);
	}
}

void httpd_hook(void *ctx, const struct daemon_view *v)
{
	struct httpd *h = ctx;
	metrics_sync_engine(h->m, v->engines);
	sync_parts(h, v);
	for (int i = 0; v->rejects && i < v->rejects->n; i++)
		metrics_set_rejected(h->m, v->rejects->reason[i], v->rejects->count[i]);
	http_publish_set_memory(h->a, engine_set_memory(v->engines));
	char why[320];
	const char *reason = v->ready ? "ok" : v->not_ready;
	if (v->kafka != NULL) {
		metrics_set_kafka(h->m, v->cut_off, v->kafka->broker_errors);
		metrics_set_kafka_failures(h->m, v->kafka->auth_failures, v->kafka->tls_failures);
		if (!v->ready && v->kafka->security != KSRC_SEC_OK) {
			snprintf(why, sizeof why, "kafka %s failed: %s",
			    v->kafka->security == KSRC_SEC_AUTH ? "authentication"
								: "TLS handshake",
			    v->kafka->security_reason);
			reason = why;
		}
	}
	http_publish_set_ready(h->a, v->ready, reason);
	http_publish_poll(h->a, mono_ns(), false);
}

void httpd_serve(struct httpd *h) { http_publish_serve(h->a, mono_ns()); }
