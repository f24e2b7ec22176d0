/*
 * http_api: libmicrohttpd server and routing. See http_api.h for threads and limits.
 *
 * Dispatch is a table of (method-agnostic) path routes to small handlers; each
 * handler fills a struct reply (status, content type, body). The engine-thread part
 * (publishing, sink hooks, answering queued requests) is in http_publish.c.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>

#include "http/http_api.h"
#include "http/api_args.h"
#include "http/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

struct reply {
	int status;
	const char *ctype;
	struct jbuf body;
};

typedef void (*route_fn)(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r);

struct route {
	const char *path;   /* exact, or a prefix when it ends with '/' */
	bool auth;
	const char *const *params;  /* allowed query parameters (NULL-terminated) */
	route_fn fn;
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

static void h_healthy(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
{
	(void)a, (void)c, (void)rest;
	jbuf_puts(&r->body, "{\"status\":\"ok\"}");
}

static void h_ready(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
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

static void h_metrics(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
{
	(void)c, (void)rest;
	r->ctype = CT_TEXT;
	snapshot_copy(a->snap, SNAP_METRICS, &r->body);
	metrics_render_process(a->m, &r->body);
}

static void h_doc(struct http_api *a, enum snap_doc d, struct reply *r)
{
	if (snapshot_copy(a->snap, d, &r->body) < 0)
		reply_error(r, 503, "not published yet");
}

static void h_summary(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
{
	(void)c, (void)rest;
	h_doc(a, SNAP_SUMMARY, r);
}

static void h_graphs(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
{
	(void)c, (void)rest;
	h_doc(a, SNAP_GRAPHS, r);
}

/* api_args_get_fn over the connection's (URL-decoded) query parameters. */
static const char *arg(void *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

static void ask_engine(struct http_api *a, int kind, const void *args, struct reply *r)
{
	struct snap_query q = {.kind = kind, .args = args};
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

static void h_flows(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
{
	const char *msg;
	int st;
	if (rest == NULL || *rest == '\0') {
		struct api_flows_args fa;
		if ((st = api_args_flows(a->g, arg, c, &fa, &msg)) != 0)
			return reply_error(r, st, msg);
		return ask_engine(a, HTTP_Q_FLOWS, &fa, r);
	}
	struct api_timeline_args ta;
	if ((st = api_args_timeline(a->g, rest, &ta, &msg)) != 0)
		return reply_error(r, st, msg);
	ask_engine(a, HTTP_Q_TIMELINE, &ta, r);
}

static void h_anomalies(struct http_api *a, struct MHD_Connection *c, const char *rest,
    struct reply *r)
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

static const char *const no_params[] = {NULL};
static const char *const flows_params[] = {"state", "flow", "awaiting", "kind", "q", "sort",
    "order", "limit", "offset", NULL};
static const char *const anomalies_params[] = {"limit", "flow", "kind", NULL};

static const struct route routes[] = {
	{"/-/healthy", false, no_params, h_healthy},
	{"/-/ready", false, no_params, h_ready},
	{"/metrics", true, no_params, h_metrics},
	{"/api/v1/summary", true, no_params, h_summary},
	{"/api/v1/graphs", true, no_params, h_graphs},
	{"/api/v1/anomalies", true, anomalies_params, h_anomalies},
	{"/api/v1/flows", true, flows_params, h_flows},
	{"/api/v1/flows/", true, no_params, h_flows},
};

struct param_check {
	const char *const *allowed;
	const char *bad;
};

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind, (void)value;
	struct param_check *pc = cls;
	for (int i = 0; pc->allowed[i]; i++)
		if (strcmp(pc->allowed[i], key) == 0)
			return MHD_YES;
	pc->bad = key;
	return MHD_NO;
}

/* Constant-time compare so the token cannot be guessed byte by byte from timings. */
static bool authorized(const struct http_api *a, struct MHD_Connection *c)
{
	if (a->token == NULL)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	size_t n = strlen(a->token), m = strlen(h);
	unsigned char d = n != m;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a->token[i] ^ (i < m ? h[i] : 0));
	return d == 0;
}

struct size_sum {
	size_t n;
};

static enum MHD_Result add_size(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
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
	struct size_sum ss = {strlen(url) + 16};
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_size, &ss);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_size, &ss);
	return ss.n;
}

static const struct route *find_route(const char *url, const char **rest)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);
		if (rt->path[n - 1] == '/' ? strncmp(url, rt->path, n) == 0
		                           : strcmp(url, rt->path) == 0) {
			*rest = rt->path[n - 1] == '/' ? url + n : NULL;
			return rt;
		}
	}
	return NULL;
}

static void route(struct http_api *a, struct MHD_Connection *c, const char *method,
    const char *url, struct reply *r)
{
	const char *rest = NULL;
	if (request_size(c, url) > a->max_request)
		return reply_error(r, 431, "request line and headers too large");
	const struct route *rt = find_route(url, &rest);
	if (rt == NULL)
		return reply_error(r, 404, "no such path");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(r, 405, "only GET and HEAD");
	if (rt->auth && !authorized(a, c))
		return reply_error(r, 401, "missing or wrong bearer token");
	struct param_check pc = {.allowed = rt->params};
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
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl != NULL && strcmp(cl, "0") != 0) ||
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	        MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

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
	if (*con_cls == NULL && !has_body(c)) {
		*con_cls = a;
		return MHD_YES;
	}
	struct reply r = {.status = 200, .ctype = CT_JSON};
	jbuf_init(&r.body, HTTP_MAX_BODY);
	if (*upload_size != 0 || *con_cls == NULL) {
		*upload_size = 0;
		reply_error(&r, 413, "request bodies are not accepted");
	} else {
		route(a, c, method, url, &r);
	}
	*con_cls = a;
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
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
	metrics_http_count(a->m, r.status);
	return ok;
}


/* HOST:PORT, [V6]:PORT or :PORT (all interfaces) -> a bound, listening socket. */
static int listen_on(const char *spec, int *port, char *err, size_t errlen)
{
	char host[128] = "";
	const char *colon = strrchr(spec, ':');
	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "--listen %s: expected HOST:PORT", spec);
		return -1;
	}
	size_t hl = (size_t)(colon - spec);
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "--listen %s: host too long", spec);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535) {
		snprintf(err, errlen, "--listen %s: bad port", spec);
		return -1;
	}
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad_host;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		if (host[0] == '\0')
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad_host;
		sl = sizeof(*s4);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
bad_host:
	snprintf(err, errlen, "--listen %s: '%s' is not a numeric IPv4/IPv6 address", spec,
	    host);
	return -1;
}

static void on_panic(void *cls, const char *file, unsigned line, const char *reason)
{
	(void)cls;
	fprintf(stderr, "choreoscope: libmicrohttpd panic at %s:%u: %s\n", file, line,
	    reason ? reason : "");
	abort();
}

int http_api_new(const struct http_api_opts *o, struct metrics *m, struct http_api **out,
    char *err, size_t errlen)
{
	struct http_api *a = calloc(1, sizeof(*a));
	if (errlen > 0)
		err[0] = '\0';
	if (a != NULL)
		a->fd = -1;
	if (a == NULL || http_publish_init(a, o, m, err, errlen) < 0)
		goto fail;
	const char *tok = o->token ? o->token : getenv("CHOREOSCOPE_TOKEN");
	if (tok != NULL && *tok != '\0' && (a->token = strdup(tok)) == NULL)
		goto fail;
	a->query_timeout_ms = o->query_timeout_ms > 0 ? o->query_timeout_ms : 2000;
	a->max_request = o->max_request_bytes ? o->max_request_bytes : 8192;
	const char *spec = o->listen ? o->listen : HTTP_DEFAULT_LISTEN;
	if ((a->fd = listen_on(spec, &a->port, err, errlen)) < 0)
		goto fail;
	snprintf(a->instance, sizeof(a->instance), "%s", spec);
	MHD_set_panic_func(on_panic, NULL);
	a->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	        MHD_USE_THREAD_PER_CONNECTION,
	    0, NULL, NULL, on_request, a,
	    MHD_OPTION_LISTEN_SOCKET, a->fd,
	    MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 128u,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 10u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, 4 * a->max_request + 4096,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024,
	    MHD_OPTION_END);
	if (a->d == NULL) {
		snprintf(err, errlen, "--listen %s: libmicrohttpd did not start", spec);
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
	http_publish_fini(a);
	free(a->token);
	free(a);
}

struct snapshot *http_api_snapshot(struct http_api *a)
{
	return a->snap;
}

int http_api_port(const struct http_api *a)
{
	return a->port;
}
