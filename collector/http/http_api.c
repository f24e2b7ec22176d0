/*
 * http_api: libmicrohttpd server and routing. See http_api.h for threads and limits.
 *
 * Dispatch is a table of (method-agnostic) path routes to small handlers; each
 * handler fills a struct reply (status, content type, body). The engine-thread part
 * (publishing, sink hooks, answering queued requests) is in http_publish.c.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <microhttpd.h>

#include "http/http_api.h"
#include "http/api_args.h"
#include "http/http_guard.h"
#include "http/http_internal.h"
#include "state/history_read.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

struct reply {
	int status;
	const char *ctype;
	struct jbuf body;
};

typedef void (*route_fn)(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r);

struct route {
	const char *path; /* exact, or a prefix when it ends with '/' (but "/" is exact) */
	bool auth;
	const char *const *params; /* allowed query parameters (NULL-terminated) */
	route_fn fn;
	const char *desc; /* one line for GET / */
};

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"

static void reply_error(struct reply *r, int status, const char *msg)
{
	r->status = status;
	r->ctype = CT_JSON;
	jbuf_reset(&r->body);
	jbuf_puts(&r->body, "{\"error\":");
	jbuf_json_str(&r->body, msg);
	jbuf_printf(&r->body, ",\"status\":%d}", status);
}

static void h_healthy(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)a, (void)c, (void)rest;
	jbuf_puts(&r->body, "{\"status\":\"ok\"}");
}

static void h_ready(struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)c, (void)rest;
	char why[128];
	if (snapshot_ready(a->snap, why, sizeof(why))) {
		jbuf_puts(&r->body, "{\"status\":\"ok\"}");
		return;
	}
	r->status = 503;
	jbuf_puts(&r->body, "{\"status\":\"not ready\",\"reason\":");
	jbuf_json_str(&r->body, why);
	jbuf_puts(&r->body, "}");
}

static void h_metrics(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)c, (void)rest;
	r->ctype = CT_TEXT;
	snapshot_copy(a->snap, SNAP_METRICS, &r->body);
	metrics_render_process(a->m, &r->body);
	http_guard_render(a->guard, &r->body);
	if (a->history_metrics)
		a->history_metrics(a->history_ctx, &r->body);
}

/* api_args_get_fn over the connection's (URL-decoded) query parameters. */
static const char *arg(void *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

/* One page of a paged document (the summary, the graphs): only its flows are copied
 * out of the snapshot, so an answer costs O(page) whatever the declared flows. */
static void h_page(struct http_api *a, struct MHD_Connection *c, enum snap_doc d, struct reply *r)
{
	struct api_page_args pa;
	const char *msg;
	int st = api_args_page(a->g, arg, c, &pa, &msg);
	if (st != 0)
		return reply_error(r, st, msg);
	struct jbuf head, parts;
	jbuf_init(&head, HTTP_MAX_BODY);
	jbuf_init(&parts, HTTP_MAX_BODY);
	int first = pa.flow >= 0 ? pa.flow + pa.offset : pa.offset;
	int count = pa.flow >= 0 ? (pa.offset == 0) : pa.limit;
	int n = 0;
	if (snapshot_copy_parts(a->snap, d, first, count, &head, &parts, &n) < 0)
		reply_error(r, 503, "not published yet");
	else
		api_render_page(head.p ? head.p : "", head.len, &pa, pa.flow >= 0 ? 1 : n,
		    parts.p ? parts.p : "", parts.len, &r->body);
	jbuf_free(&head);
	jbuf_free(&parts);
}

static void h_summary(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)rest;
	h_page(a, c, SNAP_SUMMARY, r);
}

static void h_graphs(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)rest;
	h_page(a, c, SNAP_GRAPHS, r);
}

static void ask_engine(struct http_api *a, int kind, const void *args, struct reply *r)
{
	struct snap_query q = { .kind = kind, .args = args };
	jbuf_init(&q.out, HTTP_MAX_BODY);
	if (snapshot_ask(a->snap, &q, a->query_timeout_ms) < 0) {
		reply_error(r, 503, "engine busy; try again");
	} else {
		r->status = q.status;
		jbuf_free(&r->body);
		r->body = q.out;
		q.out.p = NULL;
	}
	jbuf_free(&q.out);
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The store's query for a list's arguments. */
static struct history_query store_query(const struct http_api *a, const struct api_flows_args *fa)
{
	return (struct history_query){ .flow = fa->flow >= 0 ? a->g->flows[fa->flow].name : NULL,
		.correlation_id = fa->corr[0] ? fa->corr : NULL,
		.key = fa->key[0] ? fa->key : NULL,
		.contains = fa->q[0] ? fa->q : NULL,
		.outcome = fa->outcome[0] ? fa->outcome : NULL,
		.kind = fa->kind >= 0 ? metrics_kind_name(fa->kind) : NULL,
		.awaiting = fa->awaiting_name[0] ? fa->awaiting_name : NULL,
		.since_ns = fa->since_ns ? fa->since_ns : INT64_MIN,
		.until_ns = fa->until_ns ? fa->until_ns : INT64_MAX };
}

/* state=closed|all with a store: the engine's page (instances it still holds) goes
 * first, then the stored flows, newest first; offsets run over both and `total`
 * adds them. The engine's answer is our own renderer's fixed shape
 * ({"total":N,...,"items":[...]}), so its items are taken as text. */
static void merge_store(struct http_api *a, const struct api_flows_args *fa, struct reply *r)
{
	unsigned long long lt;
	jbuf_put(&r->body, "", 1);
	r->body.len--;
	const char *items = r->body.p ? strstr(r->body.p, "\"items\":[") : NULL;
	if (r->status != 200 || items == NULL || r->body.len < 2 ||
	    sscanf(r->body.p, "{\"total\":%llu", &lt) != 1)
		return;
	items += strlen("\"items\":[");
	size_t live_len = (size_t)(r->body.p + r->body.len - 2 - items);
	uint64_t off = (uint64_t)fa->offset, lim = (uint64_t)fa->limit;
	uint64_t live_on_page = lt > off ? (lt - off < lim ? lt - off : lim) : 0;
	struct history_query q = store_query(a, fa);
	q.offset = off > lt ? (int)(off - lt) : 0;
	q.limit = (int)(lim - live_on_page);
	struct history_reader *hr;
	char err[256];
	struct jbuf st;
	uint64_t stotal = 0;
	int n = 0;
	jbuf_init(&st, HTTP_MAX_BODY);
	if (history_read_open(a->history_dir, &hr, err, sizeof err) == 0) {
		if (history_read_list(hr, &q, wall_ns(), &st, &stotal, &n, err, sizeof err) < 0)
			n = 0, stotal = 0;
		history_read_close(hr);
	}
	struct jbuf out;
	jbuf_init(&out, HTTP_MAX_BODY);
	jbuf_printf(&out, "{\"total\":%llu,\"offset\":%d,\"limit\":%d,\"items\":[",
	    (unsigned long long)(lt + stotal), fa->offset, fa->limit);
	if (live_len)
		jbuf_put(&out, items, live_len);
	if (live_len && n)
		jbuf_puts(&out, ",");
	if (st.len)
		jbuf_put(&out, st.p, st.len);
	jbuf_puts(&out, "]}");
	jbuf_free(&st);
	jbuf_free(&r->body);
	r->body = out;
}

/* A timeline the engine no longer holds, from the store. */
static void timeline_from_store(
    struct http_api *a, const struct api_timeline_args *ta, struct reply *r)
{
	struct history_reader *hr;
	char err[256];
	struct jbuf doc;
	if (history_read_open(a->history_dir, &hr, err, sizeof err) < 0)
		return;
	jbuf_init(&doc, HTTP_MAX_BODY);
	if (history_read_flow(hr, a->g->flows[ta->flow].name, ta->corr, &doc, err, sizeof err) ==
	    1) {
		r->status = 200;
		jbuf_free(&r->body);
		r->body = doc;
	} else {
		jbuf_free(&doc);
	}
	history_read_close(hr);
}

static void h_flows(struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	const char *msg;
	int st;
	if (rest == NULL || *rest == '\0') {
		struct api_flows_args fa;
		if ((st = api_args_flows(a->g, arg, c, &fa, &msg)) != 0)
			return reply_error(r, st, msg);
		ask_engine(a, HTTP_Q_FLOWS, &fa, r);
		if (a->history_dir && (fa.state == AR_STATE_CLOSED || fa.state == AR_STATE_ALL))
			merge_store(a, &fa, r);
		return;
	}
	struct api_timeline_args ta;
	if ((st = api_args_timeline(a->g, rest, &ta, &msg)) != 0)
		return reply_error(r, st, msg);
	ask_engine(a, HTTP_Q_TIMELINE, &ta, r);
	if (r->status == 404 && a->history_dir)
		timeline_from_store(a, &ta, r);
}

static void h_anomalies(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)rest;
	struct api_anomalies_args aa;
	const char *msg;
	int st = api_args_anomalies(a->g, arg, c, &aa, &msg);
	if (st != 0)
		return reply_error(r, st, msg);
	struct snap_anomaly *buf = malloc(sizeof(*buf) * (size_t)aa.limit);
	if (buf == NULL)
		return reply_error(r, 503, "out of memory");
	int n = snapshot_anomalies(a->snap, aa.flow, aa.kind, buf, aa.limit);
	api_render_anomalies(a->g, buf, n, &r->body);
	free(buf);
}

static const char *const no_params[] = { NULL };
static const char *const flows_params[] = { "state", "flow", "awaiting", "kind", "q", "sort",
	"order", "limit", "offset", "correlation_id", "key", "outcome", "since", "until", NULL };
static const char *const anomalies_params[] = { "limit", "flow", "kind", NULL };
static const char *const page_params[] = { "flow", "limit", "offset", NULL };

static void h_index(
    struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r);

/* The API's table of contents: GET / renders it, so it cannot drift from what is served. */
static const struct route routes[] = {
	{ "/", false, no_params, h_index, "this list of endpoints" },
	{ "/-/healthy", false, no_params, h_healthy, "200 while the process serves" },
	{ "/-/ready", false, no_params, h_ready,
	    "200 once partitions are assigned and state is loaded, else 503 with a reason" },
	{ "/metrics", true, no_params, h_metrics, "Prometheus text format" },
	{ "/api/v1/summary", true, page_params, h_summary, "per-flow summary, in pages of flows" },
	{ "/api/v1/graphs", true, page_params, h_graphs,
	    "the declared graphs with per-edge counts and latency quantiles" },
	{ "/api/v1/anomalies", true, anomalies_params, h_anomalies,
	    "recent anomalies, newest first" },
	{ "/api/v1/flows", true, flows_params, h_flows, "flow instances, filtered, sorted, paged" },
	{ "/api/v1/flows/", true, no_params, h_flows,
	    "{flow}/{correlation_id}: one instance's timeline against its graph" },
};

/* No data here, so no token: a newcomer's `curl host:port/` tells what to ask next. */
static void h_index(struct http_api *a, struct MHD_Connection *c, const char *rest, struct reply *r)
{
	(void)a, (void)c, (void)rest;
	jbuf_puts(&r->body,
	    "{\"name\":\"choreoscope\",\"docs\":"
	    "\"docs/API.md and docs/http.md in the source tree; man choreoscope\","
	    "\"endpoints\":[");
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);
		jbuf_puts(&r->body, i ? ",{\"path\":" : "{\"path\":");
		if (n > 1 && rt->path[n - 1] == '/')
			jbuf_printf(&r->body, "\"%s{flow}/{correlation_id}\"", rt->path);
		else
			jbuf_json_str(&r->body, rt->path);
		jbuf_printf(&r->body, ",\"methods\":[\"GET\",\"HEAD\"],\"token\":%s,\"params\":[",
		    rt->auth ? "true" : "false");
		for (int k = 0; rt->params[k]; k++) {
			if (k)
				jbuf_puts(&r->body, ",");
			jbuf_json_str(&r->body, rt->params[k]);
		}
		jbuf_puts(&r->body, "],\"description\":");
		jbuf_json_str(&r->body, rt->desc);
		jbuf_puts(&r->body, "}");
	}
	jbuf_puts(&r->body, "]}");
}

struct param_check {
	const char *const *allowed;
	const char *bad;
};

static enum MHD_Result check_param(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind, (void)value;
	struct param_check *pc = cls;
	for (int i = 0; pc->allowed[i]; i++)
		if (strcmp(pc->allowed[i], key) == 0)
			return MHD_YES;
	pc->bad = key;
	return MHD_NO;
}

/* Token comparison in constant time: the loop runs over the configured token's
 * length whatever the client sent, so timings tell nothing about how much matched. */
static bool token_equal(const char *want, const char *got)
{
	size_t n = strlen(want), m = strlen(got);
	volatile unsigned char d = n != m;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
	return d == 0;
}

/* `Authorization: Bearer TOKEN`, the scheme matched case-insensitively and followed
 * by one or more spaces (RFC 7235 section 2.1, RFC 6750 section 2.1). */
static bool authorized(const struct http_api *a, struct MHD_Connection *c)
{
	if (a->token == NULL)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return false;
	for (h += 6; *h == ' ' || *h == '\t'; h++)
		;
	return token_equal(a->token, h);
}

static bool ip_literal(const char *h)
{
	unsigned char addr[16];
	char v6[64];
	size_t n = strlen(h);
	if (h[0] == '[' && n > 2 && n - 2 < sizeof(v6) && h[n - 1] == ']') {
		memcpy(v6, h + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, addr) == 1;
	}
	return inet_pton(AF_INET, h, addr) == 1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* DNS rebinding: without a token, a page of another origin could read the API
 * through a name of its own that resolves to us; the browser then sends that name
 * as Host. Allowed: IP literals (the listen address among them; with a literal the
 * page's origin is us), localhost and *.localhost (RFC 6761: never resolved
 * outside), and http.allowed_hosts;
 * the port is not compared. No Host at all is HTTP/1.0 (libmicrohttpd refuses
 * HTTP/1.1 without one), not a browser. */
static bool host_allowed(const struct http_api *a, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char host[256];
	if (h == NULL)
		return true;
	size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
	if (n == 0 || n >= sizeof(host) || (h[n] != '\0' && h[n] != ':'))
		return false;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[n] = '\0';
	if (n > 1 && host[n - 1] == '.')
		host[--n] = '\0';
	if (ip_literal(host) || strcmp(host, "localhost") == 0 || ends_with(host, ".localhost"))
		return true;
	for (int i = 0; i < a->nallowed_hosts; i++)
		if (strcasecmp(host, a->allowed_hosts[i]) == 0)
			return true;
	return false;
}

struct size_sum {
	size_t n;
};

static enum MHD_Result add_size(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct size_sum *ss = cls;
	ss->n += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* Request line + headers. libmicrohttpd's own memory limit (4x this) stops larger
 * ones before we see them, with its own body; below it the refusal is ours, in JSON. */
static size_t request_size(struct MHD_Connection *c, const char *url)
{
	struct size_sum ss = { strlen(url) + 16 };
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_size, &ss);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_size, &ss);
	return ss.n;
}

static const struct route *find_route(const char *url, const char **rest)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);
		bool prefix = n > 1 && rt->path[n - 1] == '/';
		if (prefix ? strncmp(url, rt->path, n) == 0 : strcmp(url, rt->path) == 0) {
			*rest = prefix ? url + n : NULL;
			return rt;
		}
	}
	return NULL;
}

static void route(struct http_api *a, struct MHD_Connection *c, const char *method, const char *url,
    struct reply *r)
{
	const char *rest = NULL;
	if (request_size(c, url) > a->max_request)
		return reply_error(r, 431, "request line and headers too large");
	const struct route *rt = find_route(url, &rest);
	if (rt == NULL)
		return reply_error(r, 404, "no such path");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(r, 405, "only GET and HEAD");
	if (rt->auth && a->token == NULL && !host_allowed(a, c))
		return reply_error(r, 421,
		    "Host header names none of this server's names; "
		    "add it to http.allowed_hosts or set a token");
	if (rt->auth && !authorized(a, c))
		return reply_error(r, 401, "missing or wrong bearer token");
	struct param_check pc = { .allowed = rt->params };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_param, &pc);
	if (pc.bad != NULL) {
		char msg[160];
		snprintf(msg, sizeof(msg), "unknown query parameter '%.100s'", pc.bad);
		return reply_error(r, 400, msg);
	}
	rt->fn(a, c, rest, r);
}

static bool has_body(struct MHD_Connection *c)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl != NULL && strcmp(cl, "0") != 0) ||
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
	    NULL;
}

static bool is_probe(const char *url)
{
	return strcmp(url, "/-/healthy") == 0 || strcmp(url, "/-/ready") == 0 ||
	    strcmp(url, "/metrics") == 0;
}

/* *con_cls: NULL before the first call, then one of these two. */
static char req_admitted, req_refused;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload, size_t *upload_size,
    void **con_cls)
{
	(void)version, (void)upload;
	struct http_api *a = cls;
	/* Connection threads yield to the engine thread under CPU contention (Linux
	 * per-thread nice; idempotent, one cheap syscall). */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HTTP_THREAD_NICE);
	/* First call (headers only): answering now would make libmicrohttpd close the
	 * connection (it cannot know the body is absent), so wait for the second call,
	 * except for requests with a body, which are refused at once (and closed). */
	bool first = *con_cls == NULL;
	if (first)
		*con_cls =
		    http_guard_begin(a->guard, c, is_probe(url)) ? &req_admitted : &req_refused;
	if (first && !has_body(c))
		return MHD_YES;
	struct reply r = { .status = 200, .ctype = CT_JSON };
	jbuf_init(&r.body, HTTP_MAX_BODY);
	if (*upload_size != 0 || first) {
		*upload_size = 0;
		reply_error(&r, 413, "request bodies are not accepted");
	} else if (*con_cls == &req_refused) {
		reply_error(&r, 503, "too many API requests in progress; try again");
	} else {
		route(a, c, method, url, &r);
	}
	if (r.body.overflow)
		reply_error(&r, 500, "answer too large");
	struct MHD_Response *resp = r.body.p
	    ? MHD_create_response_from_buffer(r.body.len, r.body.p, MHD_RESPMEM_MUST_FREE)
	    : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		jbuf_free(&r.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.ctype);
	if (r.status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	if (*con_cls == &req_refused)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
	metrics_http_count(a->m, r.status);
	return ok;
}

/* A parsed address -> a bound, listening socket; errors name `from` and the address.
 * The backlog is the kernel's maximum (SOMAXCONN, capped by net.core.somaxconn): a
 * flood that reconnects faster than the accept thread runs would otherwise fill a
 * short queue, and a probe's SYN dropped there waits a full second to be retried,
 * before http_guard can see it at all. TCP_DEFER_ACCEPT (nginx's `deferred`) keeps a
 * connection that has sent nothing in the kernel for a second: a request is accepted
 * at once, a silent flood reaches the guard only when its defer time is up. */
static int listen_on(
    const struct cfg_listen *l, const char *from, int *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss = l->addr;
	socklen_t sl = l->addrlen;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "%s %s: %s", from, l->spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int defer_s = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s));
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void on_panic(void *cls, const char *file, unsigned line, const char *reason)
{
	(void)cls;
	fprintf(stderr, "choreoscope: libmicrohttpd panic at %s:%u: %s\n", file, line,
	    reason ? reason : "");
	abort();
}

/* A whole PEM file as a string (libmicrohttpd takes certificate and key from memory). */
static char *slurp_pem(const char *path, const char *what, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "rb"), *m;
	int ch;
	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if ((m = open_memstream(&buf, &len)) != NULL) {
		while ((ch = fgetc(f)) != EOF && len < (1u << 20))
			fputc(ch, m);
		fclose(m);
	}
	fclose(f);
	if (buf == NULL || strstr(buf, "-----BEGIN ") == NULL) {
		snprintf(err, errlen, "%s %s: not a PEM file", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

static int load_tls(struct http_api *a, const struct http_api_opts *o, char *err, size_t errlen)
{
	if (o->tls_cert_file == NULL && o->tls_key_file == NULL)
		return 0;
	if (o->tls_cert_file == NULL || o->tls_key_file == NULL) {
		snprintf(err, errlen, "http.tls_cert_file and http.tls_key_file go together");
		return -1;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "http.tls_cert_file: this libmicrohttpd has no TLS support");
		return -1;
	}
	if ((a->tls_cert = slurp_pem(o->tls_cert_file, "http.tls_cert_file", err, errlen)) ==
		NULL ||
	    (a->tls_key = slurp_pem(o->tls_key_file, "http.tls_key_file", err, errlen)) == NULL)
		return -1;
	return 0;
}

int http_api_new(const struct http_api_opts *o, struct metrics *m, struct http_api **out, char *err,
    size_t errlen)
{
	struct http_api *a = calloc(1, sizeof(*a));
	if (errlen > 0)
		err[0] = '\0';
	if (a != NULL)
		a->fd = -1;
	if (a == NULL || http_publish_init(a, o, m, err, errlen) < 0)
		goto fail;
	if (o->nallowed_hosts > 0 &&
	    (a->allowed_hosts = calloc((size_t)o->nallowed_hosts, sizeof(char *))) == NULL)
		goto fail;
	const char *tok = o->token ? o->token : getenv("CHOREOSCOPE_TOKEN");
	if (tok != NULL && *tok != '\0' && (a->token = strdup(tok)) == NULL)
		goto fail;
	a->query_timeout_ms = o->query_timeout_ms > 0 ? o->query_timeout_ms : 2000;
	a->history_metrics = o->history_metrics;
	a->history_ctx = o->history_ctx;
	if (o->history_dir && (a->history_dir = strdup(o->history_dir)) == NULL)
		goto fail;
	a->max_request = o->max_request_bytes ? o->max_request_bytes : 8192;
	struct cfg_listen def;
	const struct cfg_listen *l = o->listen;
	const char *from = o->listen_from ? o->listen_from : "--listen";
	if (l == NULL && config_parse_listen(HTTP_DEFAULT_LISTEN, &def, err, errlen) == 0)
		l = &def;
	if (l == NULL || (a->fd = listen_on(l, from, &a->port, err, errlen)) < 0)
		goto fail;
	snprintf(a->instance, sizeof(a->instance), "%s", l->spec);
	for (int i = 0; i < o->nallowed_hosts; i++)
		if ((a->allowed_hosts[a->nallowed_hosts] = strdup(o->allowed_hosts[i])) == NULL)
			goto fail;
		else
			a->nallowed_hosts++;
	const struct http_guard_opts go = { .max_connections = o->max_connections,
		.max_per_address = o->max_per_address,
		.header_timeout_ms = o->header_timeout_ms,
		.evict_grace_ms = o->evict_grace_ms };
	if ((a->guard = http_guard_new(&go)) == NULL || load_tls(a, o, err, errlen) < 0)
		goto fail;
	/* HTTPS: the key and certificate from memory; everything else (guard, limits,
	 * timeouts) the same. Plain HTTP to this port fails its TLS handshake and is closed. */
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert },
		{ MHD_OPTION_END, 0, NULL },
	};
	MHD_set_panic_func(on_panic, NULL);
	/* Limits: see http_guard.h for what libmicrohttpd bounds and what we add. Its
	 * per-IP limit is not used: it refuses the newcomer, which is the probe we want
	 * answered; http_guard evicts the oldest waiting connection instead. */
	a->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
		(a->tls_key != NULL ? MHD_USE_TLS : 0),
	    0, NULL, NULL, on_request, a, MHD_OPTION_LISTEN_SOCKET, a->fd,
	    MHD_OPTION_CONNECTION_LIMIT, http_guard_mhd_limit(a->guard),
	    MHD_OPTION_NOTIFY_CONNECTION, http_guard_on_connection, a->guard,
	    MHD_OPTION_NOTIFY_COMPLETED, http_guard_on_completed, a->guard,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 10u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, 4 * a->max_request + 4096,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024, MHD_OPTION_ARRAY,
	    a->tls_key != NULL ? tls : tls + 2, MHD_OPTION_END);
	if (a->d == NULL) {
		snprintf(err, errlen, "%s %s: libmicrohttpd did not start%s", from, l->spec,
		    a->tls_key != NULL ? " (http.tls_key_file not the key of http.tls_cert_file, "
					 "or not a PEM certificate and unencrypted key?)"
				       : "");
		goto fail;
	}
	*out = a;
	return 0;
fail:
	if (a != NULL && a->fd >= 0)
		close(a->fd);
	http_api_free(a);
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	return -1;
}

void http_api_free(struct http_api *a)
{
	if (a == NULL)
		return;
	if (a->d != NULL) {
		MHD_stop_daemon(a->d);
		close(a->fd);
	}
	http_guard_free(a->guard);
	http_publish_fini(a);
	free(a->token);
	if (a->tls_key != NULL)
		explicit_bzero(a->tls_key, strlen(a->tls_key));
	free(a->tls_key);
	free(a->tls_cert);
	free(a->history_dir);
	for (int i = 0; i < a->nallowed_hosts; i++)
		free(a->allowed_hosts[i]);
	free(a->allowed_hosts);
	free(a);
}

struct snapshot *http_api_snapshot(struct http_api *a) { return a->snap; }

int http_api_port(const struct http_api *a) { return a->port; }
