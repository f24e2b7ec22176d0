/*
 * http_api: the collector's HTTP server (libmicrohttpd): /metrics, /-/healthy,
 * /-/ready and the JSON API of docs/API.md. The engine-thread hooks that feed it are
 * http/http_publish.h.
 *
 * Threads: libmicrohttpd runs one thread per connection (bounded by
 * max_connections); handlers only read snapshot.c (published documents, the anomaly
 * ring) or queue a request for the engine thread. The engine thread calls the
 * http_publish_on_* sink hooks and http_publish_poll(); it re-renders the published
 * documents every publish interval and answers queued requests there.
 *
 * Limits: connection caps (total, per client address, a share kept from API
 * requests so /-/healthy, /-/ready and /metrics always find room) and a deadline for
 * a request's headers (http/http_guard.h), per-connection memory (bounds request
 * line + headers), idle timeout, methods GET/HEAD only, known query parameters only,
 * bounded queue to the engine. Every refusal is a 4xx/5xx with a JSON body
 * {"error","status"}. Bearer token (opts.token, else $CHOREOSCOPE_TOKEN) guards
 * /api/ and /metrics; without one, those answer only requests whose Host is an IP
 * literal, localhost or an allowed name (421 otherwise: DNS rebinding).
 */
#ifndef CHOREOSCOPE_HTTP_API_H
#define CHOREOSCOPE_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "http/api_render.h"
#include "engine/engine.h"
#include "out/metrics.h"

#define HTTP_DEFAULT_LISTEN "127.0.0.1:9717"

struct http_api_opts {
	const struct cfg_listen *listen;  /* parsed address (config.h); NULL = the default */
	const char *listen_from;          /* where it came from, for messages: "--listen" (default),
	                               "http.listen" */
	const char *token;                /* NULL: $CHOREOSCOPE_TOKEN or none */
	const char *const *allowed_hosts; /* Host names served without a token (besides
	                               IP literals and localhost), nallowed_hosts of them */
	int nallowed_hosts;
	unsigned max_connections;  /* 0: 256 */
	unsigned max_per_address;  /* 0: max_connections / 2 */
	int header_timeout_ms;     /* accept or previous answer to complete headers; 0: 10000 */
	int evict_grace_ms;        /* waited this long, evictable for a newcomer; 0: 1000 */
	unsigned timeout_s;        /* idle connection timeout; 0: 10 */
	size_t max_request_bytes;  /* request line + headers; 0: 8 KiB (431 beyond) */
	const char *tls_cert_file; /* PEM certificate and key: HTTPS only; NULL: plain HTTP */
	const char *tls_key_file;
	int query_timeout_ms;    /* wait for the engine; 0: 2000 */
	int publish_interval_ms; /* 0: 250 */
	int query_share_pct;     /* max % of engine time for flow-table queries; 0: 10 */
	const char *clock;       /* "wall" or "event", for the summary */
	/* The history store (state/history.h), or NULL: flows the engine no longer holds
	 * are answered from history_dir by the HTTP threads (a read-only connection per
	 * request, never the engine thread); history_metrics appends its /metrics. */
	const char *history_dir;
	void (*history_metrics)(void *ctx, struct jbuf *b);
	void *history_ctx;
};

struct http_api;

/* Binds and starts serving. `m` is borrowed (engine-thread owned; must outlive). */
int http_api_new(const struct http_api_opts *o, struct metrics *m, struct http_api **out, char *err,
    size_t errlen);
/* Stops the server (joins its threads), then frees. NULL is a no-op. */
void http_api_free(struct http_api *a);
/* The bound port (useful with port 0). */
int http_api_port(const struct http_api *a);

/* The documents and queues shared with the engine thread (for backends). */
struct snapshot *http_api_snapshot(struct http_api *a);

/* The engine-thread half (hooks, publishing) is http/http_publish.h. */

#endif
