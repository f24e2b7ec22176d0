/*
 * http_guard: bounds what hostile clients can hold of the HTTP server (slowloris,
 * connection floods, a saturated API), beyond what libmicrohttpd bounds itself.
 *
 * libmicrohttpd (0.9.75) has a global connection limit (beyond it, it stops
 * accepting), a per-IP limit (beyond it, the newcomer is refused) and an idle
 * timeout (reset by every byte received). None of them bounds the time to read one
 * request's headers, and a refused newcomer is exactly the probe we want to answer.
 * So this module keeps its own table of connections (fed by MHD's connection and
 * request-completed notifications) and enforces:
 *   - a header deadline: a connection has header_timeout_ms from its accept, or from
 *     the end of its previous answer, to complete a request's headers; past it a
 *     watchdog thread shuts the socket down (counted as header_timeout);
 *   - per-address and total caps: a newcomer beyond either cap evicts the oldest
 *     connection that is still waiting for its headers (of its own address when its
 *     address is at the cap), if that one has waited at least evict_grace_ms; with
 *     none to evict it is admitted on probation into the reserved share: it may ask
 *     only /-/healthy, /-/ready or /metrics, within evict_grace_ms (a full reserved
 *     share evicts its oldest member);
 *   - reserved capacity: API requests in progress hold at most
 *     max_connections - reserved slots; beyond it they are answered 503 at once, so
 *     /-/healthy, /-/ready and /metrics always find room.
 * A connection that is processing a request is never cut (its time is bounded by the
 * query timeout).
 *
 * Threads: every function may be called from any thread (one mutex); the watchdog is
 * a thread of its own, started by http_guard_new and joined by http_guard_free.
 * Sockets are only shut down (never closed) here, under the mutex, and MHD closes a
 * socket only after its CLOSED notification, which takes the same mutex: a shut-down
 * fd is always still the connection's own.
 */
#ifndef CHOREOSCOPE_HTTP_GUARD_H
#define CHOREOSCOPE_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>
#include "lib/jbuf.h"

struct http_guard_opts {
	unsigned max_connections; /* 0: 256 */
	unsigned max_per_address; /* 0: max_connections / 2 */
	unsigned reserved;        /* slots API requests never take, and the size of the
	                               probation share; 0: max_connections / 8 */
	int header_timeout_ms;    /* 0: 10000 */
	int evict_grace_ms;       /* 0: 1000 */
};

struct http_guard;

/* Starts the watchdog thread. NULL on failure (out of memory, no thread). */
struct http_guard *http_guard_new(const struct http_guard_opts *o);
/* Joins the watchdog, then frees. Call after MHD_stop_daemon. NULL is a no-op. */
void http_guard_free(struct http_guard *g);
/* The connection limit to give libmicrohttpd: a backstop above ours, so that
 * connections we shut down and MHD has not reaped yet do not make it refuse. */
unsigned http_guard_mhd_limit(const struct http_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION (cls = the guard). */
void http_guard_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);
/* MHD_OPTION_NOTIFY_COMPLETED (cls = the guard): the connection waits again. */
void http_guard_on_completed(
    void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
/* The request's headers are complete (first call of the access handler): the
 * connection is busy until its answer completes. false: an API request beyond its
 * share; answer 503 (and close). `probe`: /-/healthy, /-/ready or /metrics. */
bool http_guard_begin(struct http_guard *g, struct MHD_Connection *c, bool probe);

/* Appends the choreoscope_http_connections* families (Prometheus text) to b. */
void http_guard_render(struct http_guard *g, struct jbuf *b);

#endif
