/*
 * http_bench: the HTTP side under load, against the real engine with N flows in
 * flight (default 1,000,000).
 *
 *  1. /metrics, /api/v1/summary and flows queries answered over loopback HTTP
 *     (keep-alive client here): p50/p99 latency. /metrics and the summary are
 *     published documents (no flow-table walk); a flows query walks the table on the
 *     engine thread (engine_foreach through api_engine.c); 2% of them are stalled.
 *  2. Ingest: the engine thread applies 5-step orders (new correlation ids, each
 *     opened and closed) for S seconds while it publishes and answers the API, once
 *     alone and once while wrk hammers the API from another process; the ratio of
 *     the two events/s is the cost of being watched.
 *
 *   [BENCH_CONFIG=FILE] build/release/bench/http_bench [N] [SECONDS] [WRK_OUT_FILE] [WRK_NICE]
 * BENCH_CONFIG: a config whose first flow is the bench flow (bench/mkflows.sh).
 * WRK_NICE (default 0) runs wrk under `nice -n`: on a 2-core box the load generator
 * itself takes a core from the engine; a niced wrk stands for a remote client.
 * Output: key=value lines.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/engine.h"
#include "http/api_engine.h"
#include "http/http_api.h"
#include "http/http_publish.h"
#include "out/metrics.h"

extern char **environ;

/* The flow every benchmark uses: bench/flows.yaml (run from the repository root). */
static const char *CONFIG_PATH = "bench/flows.yaml";
static const char *STEPS[5] = { "Placed", "Paid", "Reserved", "Shipped", "Delivered" };

enum { MODE_IDLE, MODE_INGEST, MODE_STOP };

struct bench {
	struct config *cfg;
	struct engine *eng;
	struct metrics *m;
	struct http_api *api;
	int n;
	int64_t t; /* event time, ns */
	uint64_t next_id;
	atomic_int mode;
	atomic_ulong applied;
	char *corr; /* n * 12 bytes: o-000000000 ... */
	struct api_engine *ae;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_anomaly(void *ctx, const struct anomaly *a) { http_publish_on_anomaly(ctx, a); }
static void s_flow(void *ctx, const struct flow_record *r) { http_publish_on_flow(ctx, r); }
static void s_step(void *ctx, const struct step_obs *o) { http_publish_on_step(ctx, o); }

static void apply(struct bench *b, const char *corr, int step)
{
	char id[32];
	snprintf(id, sizeof(id), "%s-%d", corr, step);
	struct event ev = { .event_id = id,
		.correlation_id = corr,
		.type = STEPS[step],
		.source = "bench",
		.causation_id = "",
		.time_ns = b->t,
		.partition = -1 };
	b->t += 1000;
	engine_apply(b->eng, &ev);
}

static void *engine_thread(void *arg)
{
	struct bench *b = arg;
	char corr[32];
	int mode;
	while ((mode = atomic_load(&b->mode)) != MODE_STOP) {
		if (mode == MODE_INGEST) {
			for (int k = 0; k < 64; k++) { /* 64 orders = 320 events per batch */
				snprintf(corr, sizeof(corr), "x%011llu",
				    (unsigned long long)b->next_id++);
				for (int s = 0; s < 5; s++)
					apply(b, corr, s);
			}
			atomic_fetch_add(&b->applied, 320);
			engine_advance(b->eng, b->t);
		} else {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
		}
		struct engine_set es = engine_set_of(b->eng);
		metrics_sync_engine(b->m, &es);
		http_publish_poll(b->api, mono_ns(), false);
	}
	return NULL;
}

/* ---- a minimal keep-alive HTTP/1.1 client (no libcurl in bench links) ---- */

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* One GET; returns the body length (the body is read and dropped), -1 on error. */
static long get(int fd, const char *path, int *status, char **buf, size_t *cap)
{
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	if (write(fd, req, (size_t)n) != n)
		return -1;
	size_t len = 0, hlen = 0;
	long clen = -1;
	for (;;) {
		if (len + 65536 > *cap) {
			*cap = (*cap ? *cap * 2 : 1 << 20);
			*buf = realloc(*buf, *cap);
		}
		ssize_t r = read(fd, *buf + len, *cap - len - 1);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		(*buf)[len] = '\0';
		char *hend;
		if (hlen == 0 && (hend = strstr(*buf, "\r\n\r\n")) != NULL) {
			hlen = (size_t)(hend + 4 - *buf); /* an offset: *buf moves as it grows */
			char *cl = strcasestr(*buf, "Content-Length:");
			clen = cl ? atol(cl + 15) : 0;
			*status = atoi(*buf + 9);
		}
		if (hlen && (long)(len - hlen) >= clen)
			return clen;
	}
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;
	return a < c ? -1 : a > c;
}

/* gap_ms > 0: requests spaced out (an idle collector answering one query); 0: back
 * to back (flow-table queries then queue behind the engine's 10% duty cycle). */
static void latency(int port, const char *name, const char *path, int reps, int gap_ms)
{
	int fd = connect_to(port), st = 0;
	double *ms = malloc(sizeof(double) * (size_t)reps);
	char *buf = NULL;
	size_t cap = 0;
	long bytes = 0;
	for (int i = 0; i < reps; i++) {
		int64_t t0 = mono_ns();
		bytes = get(fd, path, &st, &buf, &cap);
		ms[i] = (double)(mono_ns() - t0) / 1e6;
		if (gap_ms > 0) {
			struct timespec g = { gap_ms / 1000, (long)(gap_ms % 1000) * 1000000 };
			nanosleep(&g, NULL);
		}
		if (bytes < 0 || st != 200) {
			fprintf(stderr, "%s: status %d bytes %ld at %d\n", path, st, bytes, i);
			exit(1);
		}
	}
	qsort(ms, (size_t)reps, sizeof(double), cmp_d);
	printf("latency %s path=%s reps=%d bytes=%ld p50_ms=%.3f p99_ms=%.3f\n", name, path, reps,
	    bytes, ms[reps / 2], ms[reps - 1 - reps / 100]);
	free(ms);
	free(buf);
	close(fd);
}

static int64_t cpu_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Events/s of wall time; *per_cpu: events per second of the engine thread's own CPU
 * time (what ingestion costs, whatever share of a core it got). */
static double ingest(struct bench *b, double secs, clockid_t eng_cpu, double *per_cpu)
{
	unsigned long a0 = atomic_load(&b->applied);
	int64_t t0 = mono_ns(), c0 = cpu_ns(eng_cpu);
	atomic_store(&b->mode, MODE_INGEST);
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
	nanosleep(&ts, NULL);
	atomic_store(&b->mode, MODE_IDLE);
	double dt = (double)(mono_ns() - t0) / 1e9;
	double n = (double)(atomic_load(&b->applied) - a0);
	*per_cpu = n / ((double)(cpu_ns(eng_cpu) - c0) / 1e9);
	return n / dt;
}

static pid_t start_wrk(int port, double secs, const char *out, int nice_)
{
	char url[64], dur[32], lua[] = "/tmp/http_bench_XXXXXX";
	int fd = mkstemp(lua);
	const char *script =
	    "local p = {\"/metrics\", \"/api/v1/summary\", \"/api/v1/anomalies?limit=100\","
	    " \"/api/v1/graphs\"}\nlocal i = 0\n"
	    "request = function() i = i + 1; return wrk.format(\"GET\", p[(i % #p) + 1]) end\n";
	if (fd < 0 || write(fd, script, strlen(script)) < 0)
		return -1;
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	snprintf(dur, sizeof(dur), "%ds", (int)secs);
	char nv[16];
	snprintf(nv, sizeof(nv), "%d", nice_);
	char *argv[] = { "nice", "-n", nv, "wrk", "-t1", "-c16", "-d", dur, "-s", lua, url, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "nice", &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static int setup(struct bench *b, char *err, size_t errlen)
{
	const char *path = getenv("BENCH_CONFIG") ? getenv("BENCH_CONFIG") : CONFIG_PATH;
	if (config_load(path, &b->cfg, err, errlen) < 0)
		return -1;
	struct metrics_opts mo = { .graph = &b->cfg->graph, .version = "bench" };
	static struct cfg_listen listen;
	if (config_parse_listen("127.0.0.1:0", &listen, err, errlen) < 0)
		return -1;
	struct http_api_opts ho = { .listen = &listen, .max_connections = 256 };
	if (metrics_new(&mo, &b->m, err, errlen) < 0 ||
	    http_api_new(&ho, b->m, &b->api, err, errlen) < 0)
		return -1;
	struct engine_sink sink = {
		.anomaly = s_anomaly, .flow = s_flow, .step = s_step, .ctx = b->api
	};
	struct engine_opts eo = { .clock = ENGINE_CLOCK_EXTERNAL, .max_flows = b->cfg->max_flows };
	if (engine_new(&b->cfg->graph, &eo, &sink, &b->eng, err, errlen) < 0)
		return -1;
	b->corr = malloc((size_t)b->n * 12);
	int nn = b->n > 999999999 ? 999999999 : b->n;
	b->n = nn;
	for (int i = 0; i < b->n; i++)
		snprintf(b->corr + (size_t)i * 12, 12, "o-%09d", i % 1000000000);
	struct engine_set es = engine_set_of(b->eng);
	if ((b->ae = api_engine_new(
		 &es, &b->cfg->graph, http_api_snapshot(b->api), (size_t)1 << 20)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct api_backend be;
	api_engine_backend(b->ae, &be);
	http_publish_set_backend(b->api, &be);
	http_publish_set_ready(b->api, true, "ok");
	/* N flows in flight in the real engine; the first 2% stall on Paid (their
	 * deadline plus lateness passes before the rest open) */
	b->t = (int64_t)1790000000 * 1000000000;
	for (int i = 0; i < b->n; i++) {
		if (i == b->n / 50) {
			b->t += (int64_t)120 * 1000000000;
			engine_advance(b->eng, b->t);
		}
		apply(b, b->corr + (size_t)i * 12, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .n = argc > 1 ? atoi(argv[1]) : 1000000 };
	double secs = argc > 2 ? atof(argv[2]) : 4;
	const char *wrk_out = argc > 3 ? argv[3] : "/dev/null";
	int wrk_nice = argc > 4 ? atoi(argv[4]) : 0;
	char err[4096];
	signal(SIGPIPE, SIG_IGN);
	if (setup(&b, err, sizeof(err)) < 0) {
		fprintf(stderr, "http_bench: %s\n", err);
		return 1;
	}
	struct engine_set es = engine_set_of(b.eng);
	metrics_sync_engine(b.m, &es);
	printf("flows_in_flight=%llu engine_memory_bytes=%zu\n",
	    (unsigned long long)engine_flow_stats(b.eng, 0)->in_flight, engine_memory(b.eng));
	struct jbuf jb;
	jbuf_init(&jb, 1 << 26);
	int64_t t0 = mono_ns();
	for (int i = 0; i < 100; i++)
		metrics_render(b.m, &jb);
	printf(
	    "metrics_render_us=%.1f metrics_bytes=%zu\n", (double)(mono_ns() - t0) / 1e5, jb.len);
	/* the periodic work of the engine thread: counters synced from the engine, then
	 * one publish (/metrics, the summary and the graphs rendered and swapped in) */
	t0 = mono_ns();
	for (int i = 0; i < 20; i++)
		metrics_sync_engine(b.m, &es);
	printf("metrics_sync_us=%.1f\n", (double)(mono_ns() - t0) / 2e4);
	t0 = mono_ns();
	for (int i = 0; i < 20; i++)
		http_publish_poll(b.api, mono_ns(), true);
	printf("publish_us=%.1f\n", (double)(mono_ns() - t0) / 2e4);
	/* one flows query rendered in place (before the engine thread starts): its cost
	 * on the engine thread, without HTTP or queueing */
	struct api_backend be;
	api_engine_backend(b.ae, &be);
	static const struct api_flows_args fa[2] = { { .state = AR_STATE_OPEN,
							 .sort = AR_SORT_AGE,
							 .flow = -1,
							 .awaiting = -1,
							 .kind = -1,
							 .limit = 100 },
		{ .state = AR_STATE_STALLED,
		    .sort = AR_SORT_OVERDUE,
		    .flow = -1,
		    .awaiting = -1,
		    .kind = -1,
		    .limit = 100 } };
	for (int q = 0; q < 2; q++) {
		jbuf_init(&jb, 1 << 26);
		t0 = mono_ns();
		api_render_flows(b.m, &be, &fa[q], &jb);
		printf("flows_walk %s render_ms=%.1f bytes=%zu\n",
		    q ? "stalled_overdue" : "open_age", (double)(mono_ns() - t0) / 1e6, jb.len);
		jbuf_free(&jb);
	}
	pthread_t th;
	pthread_create(&th, NULL, engine_thread, &b);
	http_publish_poll(b.api, mono_ns(), true); /* (before the thread's first poll is fine) */
	int port = http_api_port(b.api);
	latency(port, "metrics", "/metrics", 2000, 0);
	latency(port, "summary", "/api/v1/summary", 2000, 0);
	if (getenv("BENCH_DOCS_ONLY")) { /* bench/parts/15-declared.sh */
		latency(port, "graphs", "/api/v1/graphs", 200, 0);
		atomic_store(&b.mode, MODE_STOP);
		pthread_join(th, NULL);
		return 0;
	}
	latency(port, "flows_spaced", "/api/v1/flows?limit=100", 8, 1200);
	latency(port, "flows_stalled_spaced", "/api/v1/flows?state=stalled&sort=overdue&limit=100",
	    8, 1200);
	latency(port, "flows_back_to_back", "/api/v1/flows?limit=100", 8, 0);
	latency(port, "timeline", "/api/v1/flows/bench/o-000000007", 200, 0);
	/* alternate alone / watched phases; the median of the pair ratios resists the
	 * other load on a shared machine better than one pair */
	double ratios[3], alone_eps[3], watched_eps[3], cpu_ratio[3], pc_a, pc_w;
	clockid_t eng_cpu;
	pthread_getcpuclockid(th, &eng_cpu);
	for (int r = 0; r < 3; r++) {
		alone_eps[r] = ingest(&b, secs, eng_cpu, &pc_a);
		pid_t w = start_wrk(port, secs + 1, wrk_out, wrk_nice);
		struct timespec warm = { 0, 300000000 };
		nanosleep(&warm, NULL);
		watched_eps[r] = ingest(&b, secs, eng_cpu, &pc_w);
		cpu_ratio[r] = pc_w / pc_a;
		int st;
		if (w > 0)
			waitpid(w, &st, 0);
		else
			fprintf(stderr, "http_bench: wrk did not start\n");
		ratios[r] = watched_eps[r] / alone_eps[r];
		printf("ingest pair=%d alone_eps=%.0f with_wrk_eps=%.0f ratio=%.3f "
		       "per_engine_cpu_s_alone=%.0f watched=%.0f cpu_ratio=%.3f\n",
		    r, alone_eps[r], watched_eps[r], ratios[r], pc_a, pc_w, cpu_ratio[r]);
	}
	qsort(ratios, 3, sizeof(double), cmp_d);
	qsort(cpu_ratio, 3, sizeof(double), cmp_d);
	qsort(alone_eps, 3, sizeof(double), cmp_d);
	qsort(watched_eps, 3, sizeof(double), cmp_d);
	printf("ingest median alone_eps=%.0f with_wrk_eps=%.0f ratio=%.3f cpu_ratio=%.3f "
	       "wrk_nice=%d\n",
	    alone_eps[1], watched_eps[1], ratios[1], cpu_ratio[1], wrk_nice);
	atomic_store(&b.mode, MODE_STOP);
	pthread_join(th, NULL);
	http_api_free(b.api);
	api_engine_free(b.ae);
	engine_free(b.eng);
	metrics_free(b.m);
	config_free(b.cfg);
	free(b.corr);
	return 0;
}
