/*
 * http_publish: the engine-thread half of the HTTP server (http/http_api.h): sink
 * hooks that feed the metrics histograms and the anomaly ring, publishing the
 * rendered documents, and answering queued flow-table queries.
 *
 * Threads: every function here is for the engine thread only.
 */
#ifndef CHOREOSCOPE_HTTP_PUBLISH_H
#define CHOREOSCOPE_HTTP_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>
#include "http/http_api.h"

/* The flow-table introspection for /api/v1/flows*; copied. Without one those
 * answer 503. */
void http_publish_set_backend(struct http_api *a, const struct api_backend *be);
void http_publish_set_ready(struct http_api *a, bool ready, const char *reason);
void http_publish_set_memory(struct http_api *a, uint64_t bytes);
/* Sink hooks: call from the engine's sink callbacks. */
void http_publish_on_anomaly(struct http_api *a, const struct anomaly *an);
void http_publish_on_flow(struct http_api *a, const struct flow_record *r);
void http_publish_on_step(struct http_api *a, const struct step_obs *o);
/* Publishes when the interval has passed (or `force`), then answers queued requests.
 * mono_ns: a monotonic clock. Cheap when nothing is due. */
void http_publish_poll(struct http_api *a, int64_t mono_ns, bool force);
/* Answers queued requests only; one atomic load when none are queued.
 * Flow-table queries get at most query_share_pct of the engine thread: after a query
 * that took t, the next waits (queued) until t * (100 - pct) / pct (at most 1 s) has
 * passed, so a client hammering /api/v1/flows slows itself, not ingestion. */
void http_publish_serve(struct http_api *a, int64_t mono_ns);

#endif
