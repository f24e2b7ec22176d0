/*
 * http_internal: the http_api object, shared by http_api.c (server threads) and
 * http_publish.c (engine thread). Fields are grouped by the thread that may touch
 * them; the only crossings go through `snap` (locked) and metrics_http_count.
 */
#ifndef CHOREOSCOPE_HTTP_INTERNAL_H
#define CHOREOSCOPE_HTTP_INTERNAL_H

#include "http/http_api.h"
#include "http/snapshot.h"

#define HTTP_MAX_BODY ((size_t)64 << 20)
#define HTTP_MAX_METRICS ((size_t)32 << 20)
#define HTTP_THREAD_NICE 19 /* connection threads: ~1/70 the CPU weight of the engine */

enum { HTTP_Q_FLOWS = 1, HTTP_Q_TIMELINE };

struct MHD_Daemon;

struct http_api {
	/* immutable after http_api_new (any thread) */
	struct MHD_Daemon *d;
	int fd, port;
	char *token;
	char *tls_cert, *tls_key; /* PEM text, held while libmicrohttpd runs; NULL: plain */
	char **allowed_hosts;     /* Host names served without a token, besides localhost */
	int nallowed_hosts;
	struct http_guard *guard; /* any thread (locks inside) */
	char instance[128];
	const struct flowgraph *g;
	struct metrics *m;     /* engine thread, except metrics_http_count/_process */
	struct snapshot *snap; /* any thread (locks inside) */
	int query_timeout_ms;
	char *history_dir; /* NULL: no history store */
	void (*history_metrics)(void *ctx, struct jbuf *b);
	void *history_ctx;
	size_t max_request; /* request line + headers we answer; beyond: 431 */
	/* engine thread only */
	struct api_backend be;
	bool have_be;
	char clock[16];
	int64_t interval_ns, start_ns, last_pub_ns, last_rate_ns;
	int64_t next_query_ns; /* flow-table queries wait until then (duty cycle) */
	int query_share_pct;
	uint64_t memory_bytes;
	uint64_t prev_events, *prev_started, *prev_completed;
	double eps, *started_ps, *completed_ps;
	size_t *ends;            /* [nflows + 1]: part ends of the paged documents */
	struct api_cache *parts; /* their flows' objects as last rendered */
	struct jbuf render;
};

/* http_publish.c */
int http_publish_init(
    struct http_api *a, const struct http_api_opts *o, struct metrics *m, char *err, size_t errlen);
void http_publish_fini(struct http_api *a);

#endif
