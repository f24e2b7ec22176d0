/*
 * run: the generator's main loop. Flows are planned as their start time comes up,
 * their events wait in a min-heap by send time, and leave it in order: rendered,
 * produced to Kafka and/or written to the replay file, paced in real time when a
 * rate is given. Then the tail: tick events that carry event time on by --tail.
 *
 * Bounds: the heap holds at most HEAP_MAX planned events; when full, new flows wait
 * (counted as start delays, reported at the end) instead of growing it.
 * Single-threaded; `stop` is the signal flag of main.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gen.h"

#define SYNTHETIC_EPOCH_US ((int64_t)1767225600 * 1000000) /* 2026-01-01T00:00:00Z */
#define HEAP_MIN ((size_t)4096)
#define HEAP_MAX ((size_t)1 << 22) /* 4 Mi planned events, 128 MiB */
#define PROGRESS_US ((int64_t)5 * 1000000)

/* ---- the schedule: a binary min-heap of planned events by (emit_us, order) ---- */
struct heap {
	struct gen_event *a;
	size_t n, cap;
};

static int before(const struct gen_event *x, const struct gen_event *y)
{
	return x->emit_us < y->emit_us || (x->emit_us == y->emit_us && x->order < y->order);
}

static void heap_push(struct heap *h, const struct gen_event *e)
{
	size_t i = h->n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!before(e, &h->a[up]))
			break;
		h->a[i] = h->a[up];
		i = up;
	}
	h->a[i] = *e;
}

static struct gen_event heap_pop(struct heap *h)
{
	struct gen_event top = h->a[0], last = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->a[c + 1], &h->a[c]))
			c++;
		if (!before(&h->a[c], &last))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = last;
	return top;
}

struct run {
	const struct gen_opts *o;
	volatile sig_atomic_t *stop;
	struct gen_render_ctx ctx;
	struct gen_rng rng;
	struct heap h;
	struct gen_kafka *k;
	int partitions;
	FILE *out, *truth;
	enum gen_format file_fmt;
	int paced;
	double sim_rate;
	int64_t t0_us; /* monotonic clock at start */
	int64_t next_start_us, last_emit_us, next_progress_us;
	uint64_t flows, faulty, events, ticks, tick_no, start_delays;
	uint32_t order;
	int64_t max_lag_us;
	int failed;
	struct gen_msg msg, filemsg;
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Opens the sinks and the heap; 0 or -1 (reason printed). */
static int run_open(struct run *r)
{
	const struct gen_opts *o = r->o;
	char err[512];
	size_t cap = (size_t)(r->sim_rate * (double)(GEN_MAX_SPAN_US / 1000000 + 2) * 2);
	r->h.cap = cap < HEAP_MIN ? HEAP_MIN : cap > HEAP_MAX ? HEAP_MAX : cap;
	r->h.a = malloc(r->h.cap * sizeof *r->h.a);
	if (!r->h.a) {
		fprintf(
		    stderr, "choreoscope-gen: out of memory for %zu planned events\n", r->h.cap);
		return -1;
	}
	if (o->brokers) {
		r->k = gen_kafka_new(
		    o->brokers, o->topic, o->props, o->nprops, r->paced, err, sizeof err);
		if (r->k)
			r->partitions = gen_kafka_partitions(r->k, err, sizeof err);
		if (!r->k || r->partitions <= 0) {
			fprintf(stderr, "choreoscope-gen: %s\n", err);
			return -1;
		}
	}
	if (o->out && !(r->out = fopen(o->out, "wb"))) {
		perror(o->out);
		return -1;
	}
	if (o->truth && !(r->truth = fopen(o->truth, "w"))) {
		perror(o->truth);
		return -1;
	}
	if (r->out)
		setvbuf(r->out, NULL, _IOFBF, 1 << 20);
	return 0;
}

static int more_flows(const struct run *r)
{
	const struct gen_opts *o = r->o;
	if (o->have_flows && r->flows >= o->flows)
		return 0;
	if (o->have_duration && r->next_start_us >= (int64_t)(o->duration * 1e6))
		return 0;
	return 1;
}

static enum gen_fault pick_fault(struct run *r)
{
	double u = gen_rng_unit(&r->rng), cum = 0;
	for (int k = 0; k < GF_NFAULTS; k++) {
		cum += r->o->fault_rate[k];
		if (u < cum)
			return (enum gen_fault)k;
	}
	return GF_NONE;
}

/* Plans every flow whose start time has come before the next planned event. */
static void start_flows(struct run *r)
{
	struct gen_plan p;
	while (more_flows(r) && r->h.n + GEN_MAX_PLAN <= r->h.cap &&
	    (r->h.n == 0 || r->next_start_us <= r->h.a[0].emit_us)) {
		gen_plan_flow(&r->rng, r->flows, r->next_start_us, pick_fault(r), &p);
		for (int i = 0; i < p.nev; i++) {
			p.ev[i].order = r->order++;
			heap_push(&r->h, &p.ev[i]);
		}
		if (r->truth && gen_truth_write(r->truth, &r->ctx, &p) < 0) {
			perror(r->o->truth);
			r->failed = 1;
		}
		r->flows++;
		r->faulty += p.nv > 0;
		r->next_start_us += (int64_t)((double)p.nev * 1e6 / r->sim_rate);
	}
}

/* In paced mode, waits until simulated time t (µs since start) is due. */
static void pace(struct run *r, int64_t t)
{
	if (!r->paced)
		return;
	for (;;) {
		int64_t now = mono_us() - r->t0_us;
		if (now + 1000 >= t) {
			if (now - t > r->max_lag_us)
				r->max_lag_us = now - t;
			break;
		}
		if (*r->stop)
			return;
		int64_t d = t - now < 100000 ? t - now : 100000;
		struct timespec ts = { 0, (long)d * 1000 };
		if (r->k)
			gen_kafka_poll(r->k);
		nanosleep(&ts, NULL);
	}
}

/* Renders and sends one event; partition -1 = by key. */
static void emit(struct run *r, const struct gen_event *e, int32_t partition, int to_file)
{
	char err[512];
	const struct gen_opts *o = r->o;
	if (gen_render(&r->ctx, e, o->format, &r->msg) < 0) {
		fprintf(stderr, "choreoscope-gen: event too large to render\n");
		r->failed = 1;
		return;
	}
	if (r->k && gen_kafka_send(r->k, &r->msg, partition, err, sizeof err) < 0) {
		fprintf(stderr, "choreoscope-gen: %s\n", err);
		r->failed = 1;
		*r->stop = 1;
		return;
	}
	if (!r->out || !to_file)
		return;
	const struct gen_msg *fm = &r->msg;
	if (r->file_fmt != o->format) {
		gen_render(&r->ctx, e, r->file_fmt, &r->filemsg);
		fm = &r->filemsg;
	}
	if (gen_file_write(r->out, fm, r->file_fmt == GEN_FMT_PROTOBUF) < 0) {
		perror(o->out);
		r->failed = 1;
		*r->stop = 1;
	}
}

static void progress(struct run *r, int64_t t)
{
	if (!r->paced || t < r->next_progress_us)
		return;
	r->next_progress_us = t + PROGRESS_US;
	fprintf(stderr, "choreoscope-gen: t=%.0fs flows=%llu faulty=%llu events=%llu\n",
	    (double)t / 1e6, (unsigned long long)r->flows, (unsigned long long)r->faulty,
	    (unsigned long long)r->events);
}

/* Ticks at simulated time t: one per partition on Kafka, one in the file. */
static void tick(struct run *r, int64_t t)
{
	struct gen_event e = { .emit_us = t, .time_us = t, .flow = GEN_NOFLOW, .type = T_TICK };
	int n = r->k ? r->partitions : 1;
	for (int p = 0; p < n && !*r->stop; p++) {
		e.flow_no = r->tick_no++;
		emit(r, &e, r->k ? p : -1, p == 0);
		r->ticks++;
	}
}

/* Runs event time on by --tail after the last event: every second when paced (so a
 * live consumer sees the clock move on every partition), else once at the end. */
static void run_tail(struct run *r)
{
	int64_t end = r->last_emit_us + (int64_t)(r->o->tail * 1e6);
	if (r->o->tail <= 0)
		return;
	if (r->paced)
		for (int64_t t = r->last_emit_us + 1000000; t < end && !*r->stop; t += 1000000) {
			pace(r, t);
			tick(r, t);
		}
	pace(r, end);
	if (!*r->stop)
		tick(r, end);
}

static void run_events(struct run *r)
{
	start_flows(r);
	while (r->h.n > 0 && !*r->stop) {
		struct gen_event e = heap_pop(&r->h);
		if (more_flows(r) && r->next_start_us < e.emit_us) {
			r->next_start_us = e.emit_us; /* the heap was full: the flow starts late */
			r->start_delays++;
		}
		pace(r, e.emit_us);
		emit(r, &e, -1, 1);
		r->events++;
		if (e.emit_us > r->last_emit_us)
			r->last_emit_us = e.emit_us;
		if (r->k && (r->events & 1023) == 0)
			gen_kafka_poll(r->k);
		progress(r, e.emit_us);
		start_flows(r);
	}
}

static int run_close(struct run *r, int64_t started)
{
	/* stopped by a signal: the broker may be gone already, so do not wait long */
	uint64_t failures = gen_kafka_free(r->k, *r->stop ? 3000 : 30000);
	double secs = (double)(mono_us() - started) / 1e6;
	if (r->out && fclose(r->out) != 0) {
		perror(r->o->out);
		r->failed = 1;
	}
	if (r->truth && fclose(r->truth) != 0) {
		perror(r->o->truth);
		r->failed = 1;
	}
	free(r->h.a);
	fprintf(stderr,
	    "choreoscope-gen: %llu flows (%llu with faults), %llu events + %llu ticks in %.2f s: "
	    "%.0f events/s; max lag %.1f ms; %llu start delays; %llu delivery failures%s\n",
	    (unsigned long long)r->flows, (unsigned long long)r->faulty,
	    (unsigned long long)r->events, (unsigned long long)r->ticks, secs,
	    secs > 0 ? (double)r->events / secs : 0.0, (double)r->max_lag_us / 1000.0,
	    (unsigned long long)r->start_delays, (unsigned long long)failures,
	    *r->stop ? " (stopped)" : "");
	return r->failed || failures ? 1 : 0;
}

int gen_run(const struct gen_opts *o, volatile sig_atomic_t *stop)
{
	struct run *r = calloc(1, sizeof *r);
	if (!r) {
		fprintf(stderr, "choreoscope-gen: out of memory\n");
		return 1;
	}
	r->o = o;
	r->stop = stop;
	r->paced = o->rate > 0;
	r->sim_rate = o->rate > 0 ? o->rate : o->sim_rate;
	r->file_fmt = o->out_format ? GEN_FMT_PROTOBUF : GEN_FMT_JSON;
	r->ctx.seed = o->seed;
	r->ctx.epoch_us = o->synthetic ? SYNTHETIC_EPOCH_US : wall_us();
	gen_rng_seed(&r->rng, o->seed);
	int64_t started = mono_us();
	if (run_open(r) == 0) {
		r->t0_us = mono_us();
		if (!o->synthetic)
			r->ctx.epoch_us = wall_us();
		run_events(r);
		run_tail(r);
	} else {
		r->failed = 1;
	}
	int status = run_close(r, started);
	free(r);
	return status;
}
