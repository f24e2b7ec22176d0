/*
 * api_args: see api_args.h. Every string is bounded before it is copied (the fixed
 * buffers of struct api_flows_args and api_timeline_args), and integers are parsed
 * with strtol and range-checked, so no argument can overflow or wrap.
 */
#include "http/api_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/timefmt.h"
#include "out/metrics.h"
#include "http/snapshot.h"

static const char *const state_names[] = { "open", "stalled", "closed", "all", NULL };
static const char *const sort_names[] = { "age", "opened", "correlation_id", "overdue", NULL };
static const char *const order_names[] = { "desc", "asc", NULL };

/* Parses an integer in [lo, hi] (def when absent); false on junk or out of range. */
static bool int_arg(
    api_args_get_fn get, void *ctx, const char *k, int def, int lo, int hi, int *out)
{
	const char *v = get(ctx, k);
	if (v == NULL) {
		*out = def;
		return true;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return false;
	*out = (int)n;
	return true;
}

/* The index of v in names, def when v is NULL, -2 when unknown. */
static int pick(const char *v, const char *const *names, int def)
{
	if (v == NULL)
		return def;
	for (int i = 0; names[i]; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -2;
}

static int refuse(const char **msg, int status, const char *why)
{
	*msg = why;
	return status;
}

/* An RFC 3339 time parameter; def when absent, false when unparseable. */
static bool time_arg(api_args_get_fn get, void *ctx, const char *k, int64_t def, int64_t *out)
{
	const char *v = get(ctx, k);
	*out = def;
	return v == NULL || timefmt_parse_rfc3339(v, strlen(v), out) == 0;
}

/* A bounded string parameter into dst (cap bytes); false when too long. */
static bool str_arg(api_args_get_fn get, void *ctx, const char *k, char *dst, size_t cap)
{
	const char *v = get(ctx, k);
	if (v == NULL)
		return true;
	if (strlen(v) >= cap)
		return false;
	snprintf(dst, cap, "%s", v);
	return true;
}

int api_args_flows(const struct flowgraph *g, api_args_get_fn get, void *ctx,
    struct api_flows_args *fa, const char **msg)
{
	const char *v;
	*fa = (struct api_flows_args){ .flow = -1, .awaiting = -1, .kind = -1 };
	fa->state = pick(get(ctx, "state"), state_names, AR_STATE_OPEN);
	fa->sort = pick(get(ctx, "sort"), sort_names, AR_SORT_AGE);
	int order = pick(get(ctx, "order"), order_names, 0);
	if (fa->state < 0 || fa->sort < 0 || order < 0)
		return refuse(msg, 400, "bad state, sort or order");
	fa->asc = order == 1;
	if ((v = get(ctx, "flow")) && (fa->flow = api_render_flow_index(g, v)) < 0)
		return refuse(msg, 400, "unknown flow");
	if ((v = get(ctx, "kind")) && (fa->kind = metrics_kind_index(v)) < 0)
		return refuse(msg, 400, "unknown anomaly kind");
	if ((v = get(ctx, "awaiting")) && strlen(v) >= sizeof(fa->awaiting_name))
		return refuse(msg, 400, "awaiting: step name too long");
	if (v)
		snprintf(fa->awaiting_name, sizeof(fa->awaiting_name), "%s", v);
	if ((v = get(ctx, "q")) && strlen(v) >= sizeof(fa->q))
		return refuse(msg, 400, "q: too long");
	if (v)
		snprintf(fa->q, sizeof(fa->q), "%s", v);
	if (!str_arg(get, ctx, "correlation_id", fa->corr, sizeof(fa->corr)) ||
	    !str_arg(get, ctx, "key", fa->key, sizeof(fa->key)) ||
	    !str_arg(get, ctx, "outcome", fa->outcome, sizeof(fa->outcome)))
		return refuse(msg, 400, "correlation_id, key or outcome: too long");
	if (!time_arg(get, ctx, "since", 0, &fa->since_ns) ||
	    !time_arg(get, ctx, "until", 0, &fa->until_ns))
		return refuse(msg, 400, "since and until must be RFC 3339 times");
	if (!int_arg(get, ctx, "limit", 100, 1, AR_MAX_LIMIT, &fa->limit) ||
	    !int_arg(get, ctx, "offset", 0, 0, AR_MAX_WINDOW - AR_MAX_LIMIT, &fa->offset))
		return refuse(msg, 400, "limit must be 1..1000, offset 0..10000");
	return 0;
}

int api_args_anomalies(const struct flowgraph *g, api_args_get_fn get, void *ctx,
    struct api_anomalies_args *out, const char **msg)
{
	const char *v;
	*out = (struct api_anomalies_args){ .flow = -1, .kind = -1 };
	if (!int_arg(get, ctx, "limit", 100, 1, SNAP_RING, &out->limit))
		return refuse(msg, 400, "limit must be 1..1024");
	if ((v = get(ctx, "flow")) && (out->flow = api_render_flow_index(g, v)) < 0)
		return refuse(msg, 400, "unknown flow");
	if ((v = get(ctx, "kind")) && (out->kind = metrics_kind_index(v)) < 0)
		return refuse(msg, 400, "unknown anomaly kind");
	return 0;
}

int api_args_page(const struct flowgraph *g, api_args_get_fn get, void *ctx,
    struct api_page_args *out, const char **msg)
{
	const char *v;
	*out = (struct api_page_args){ .flow = -1 };
	if ((v = get(ctx, "flow")) && (out->flow = api_render_flow_index(g, v)) < 0)
		return refuse(msg, 400, "unknown flow");
	if (!int_arg(get, ctx, "limit", AR_PAGE_LIMIT, 1, AR_MAX_LIMIT, &out->limit) ||
	    !int_arg(get, ctx, "offset", 0, 0, FG_MAX_FLOWS, &out->offset))
		return refuse(msg, 400, "limit must be 1..1000, offset 0..65535");
	return 0;
}

int api_args_timeline(
    const struct flowgraph *g, const char *rest, struct api_timeline_args *ta, const char **msg)
{
	const char *slash = strchr(rest, '/');
	char flow[SNAP_STR];
	if (slash == NULL || slash == rest || slash[1] == '\0')
		return refuse(msg, 404, "expected /api/v1/flows/{flow}/{correlation_id}");
	if ((size_t)(slash - rest) >= sizeof(flow) || strlen(slash + 1) >= sizeof(ta->corr))
		return refuse(msg, 404, "no such flow instance");
	snprintf(flow, sizeof(flow), "%.*s", (int)(slash - rest), rest);
	if ((ta->flow = api_render_flow_index(g, flow)) < 0)
		return refuse(msg, 404, "unknown flow");
	snprintf(ta->corr, sizeof(ta->corr), "%s", slash + 1);
	return 0;
}
