/*
 * http_daemon: wires the HTTP server into the live daemon. It owns the metrics and
 * the http_api, forwards the engine's sink callbacks, and is the daemon's tick hook
 * (daemon_hook_fn): each tick it copies the engine's, Kafka's and the decoders'
 * counters into the metrics and lets http_api publish and answer queued requests.
 * Threading: everything here runs on the engine thread, except that http_api runs
 * its own connection threads (see http_api.h).
 */
#ifndef CHOREOSCOPE_HTTP_DAEMON_H
#define CHOREOSCOPE_HTTP_DAEMON_H

#include <stddef.h>
#include "config/config.h"
#include "cmd/daemon.h"
#include "engine/engine.h"

struct httpd;

/* listen: --listen (parsed here, errors name the flag), else the config's http.listen
 * (parsed by the config; bind errors name the key); clock: "wall" or "event".
 * The set is copied; its engines are borrowed (the API walks them on the engine
 * thread, between shard rounds) and must outlive it. */
struct history;
/* hist (may be NULL) is the history store in history_dir: the API falls back to it
 * for flows the engine no longer holds, and /metrics shows its counters; borrowed. */
int httpd_new(const struct config *cfg, const struct engine_set *es, const char *listen,
    const char *clock, const char *history_dir, struct history *hist, struct httpd **out, char *err,
    size_t errlen);
void httpd_free(struct httpd *h);

/* Every decoded event, before engine `shard` applies it: kept in that shard's bounded
 * ring for timelines (on the shard's thread; no lock). */
void httpd_on_event(struct httpd *h, int shard, const struct event *ev);
/* Shard's ring (the history store shares it, history_share_ring). */
struct evlog;
const struct evlog *httpd_ring(const struct httpd *h, int shard);
/* The HTTP side's engine sink (verdict examples, the anomaly ring, per-edge and
 * latency metrics): register it with engine_add_sink. */
void httpd_sink(struct httpd *h, struct engine_sink *out);
/* The daemon's tick hook (ctx = the httpd). */
void httpd_hook(void *ctx, const struct daemon_view *v);
/* Answers queued requests only (cheap when none): call every loop iteration so that
 * API queries wait for one poll, not one tick. */
void httpd_serve(struct httpd *h);

#endif
