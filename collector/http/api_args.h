/*
 * api_args: the request arguments of the JSON API (docs/API.md) parsed and checked:
 * the query parameters of /api/v1/flows, /api/v1/anomalies, /api/v1/summary and
 * /api/v1/graphs, and the path of
 * /api/v1/flows/{flow}/{correlation_id}.
 *
 * Pure: no libmicrohttpd and no I/O; parameters come through a lookup callback (the
 * server passes libmicrohttpd's, already URL-decoded), so the fuzz target and unit
 * tests drive it with plain strings. Each function returns 0 and fills *out, or an
 * HTTP status (400 or 404) with a static human reason in *msg. Any thread: the graph
 * is read only.
 */
#ifndef CHOREOSCOPE_API_ARGS_H
#define CHOREOSCOPE_API_ARGS_H

#include "engine/flowgraph.h"
#include "http/api_render.h"

/* The value of query parameter `key` (NUL-terminated, borrowed), or NULL when absent. */
typedef const char *(*api_args_get_fn)(void *ctx, const char *key);

struct api_anomalies_args {
	int limit;      /* 1..SNAP_RING */
	int flow, kind; /* -1: any */
};

int api_args_flows(const struct flowgraph *g, api_args_get_fn get, void *ctx,
    struct api_flows_args *out, const char **msg);
int api_args_anomalies(const struct flowgraph *g, api_args_get_fn get, void *ctx,
    struct api_anomalies_args *out, const char **msg);
/* flow, limit (1..AR_MAX_LIMIT, default AR_PAGE_LIMIT), offset (0..FG_MAX_FLOWS). */
int api_args_page(const struct flowgraph *g, api_args_get_fn get, void *ctx,
    struct api_page_args *out, const char **msg);
/* rest: the path after "/api/v1/flows/" ("{flow}/{correlation_id}", not empty). */
int api_args_timeline(
    const struct flowgraph *g, const char *rest, struct api_timeline_args *out, const char **msg);

#endif
