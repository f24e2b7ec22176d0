/*
 * gen: the internals of bin/choreoscope-gen, the demo traffic generator.
 *
 * Data path: plan (flows.c: one flow instance -> its planned events and the exact
 * verdicts docs/semantics.md implies for them) -> schedule (main.c: a min-heap by send
 * time) -> render (encode.c: protobuf, JSON, CloudEvents) -> sinks (sink.c: Kafka
 * producer, replay file, truth file).
 *
 * Times are microseconds of simulated time since the run's epoch; the epoch is a
 * fixed instant (--clock synthetic) or the wall clock at start (--clock wall).
 * Everything is single-threaded (librdkafka's own threads aside) and deterministic
 * for a given --seed: the same seed gives the same flows, faults and ids.
 */
#ifndef CHOREOSCOPE_GEN_H
#define CHOREOSCOPE_GEN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- random numbers: xoshiro256**, seeded through splitmix64 ---- */
struct gen_rng {
	uint64_t s[4];
};
void gen_rng_seed(struct gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(struct gen_rng *r);
/* Uniform in [lo, hi] (inclusive). */
int64_t gen_rng_range(struct gen_rng *r, int64_t lo, int64_t hi);
/* Uniform in [0, 1). */
double gen_rng_unit(struct gen_rng *r);
/* A stateless 64-bit mix (splitmix64 finalizer), for ids derived from numbers. */
uint64_t gen_mix(uint64_t x);

/* ---- the built-in flows (the same graphs as config/demo.yaml) ---- */
enum gen_flow { GEN_ORDER, GEN_QUOTE, GEN_SHIPMENT, GEN_NFLOWS, GEN_NOFLOW = GEN_NFLOWS };

enum gen_type {
	T_ORDER_PLACED,
	T_PAYMENT_AUTHORIZED,
	T_PAYMENT_DECLINED,
	T_INVENTORY_RESERVED,
	T_INVENTORY_FAILED,
	T_PAYMENT_REFUNDED,
	T_ORDER_SHIPPED,
	T_ORDER_CANCELLED,
	T_FRAUD_CHECK, /* declared by no flow: `unexpected` in an open order */
	T_QUOTE_REQUESTED,
	T_CARRIER_A,
	T_CARRIER_B,
	T_CARRIER_C,
	T_QUOTE_SELECTED,
	T_SHIPMENT_REQUESTED,
	T_PICKUP_SCHEDULED,
	T_PICKED_UP,
	T_CUSTOMER_NOTIFIED,
	T_DELIVERED,
	T_TICK, /* declared by no flow, fresh key: `unmatched`; advances event time */
	GEN_NTYPES
};

struct gen_type_info {
	const char *name;
	const char *source; /* the emitting service */
	enum gen_flow flow; /* GEN_NOFLOW for T_TICK */
};
extern const struct gen_type_info gen_types[GEN_NTYPES];
extern const char *const gen_flow_names[GEN_NFLOWS];

/* ---- faults ---- */
enum gen_fault {
	GF_STALLED,
	GF_MISSING,
	GF_OUT_OF_ORDER,
	GF_DUPLICATE,
	GF_DOUBLE_STEP,
	GF_RETRY_STORM,
	GF_UNEXPECTED,
	GF_JOIN_WAIT,
	GF_ABANDONED,
	GF_NFAULTS,
	GF_NONE = GF_NFAULTS
};
extern const char *const gen_fault_names[GF_NFAULTS];
/* Index of fault `name`, or -1. */
int gen_fault_index(const char *name);

/* One planned message. 32 bytes; the heap holds many. */
struct gen_event {
	int64_t emit_us;  /* when it is sent (simulated time) */
	int64_t time_us;  /* its event time; != emit_us only for a redelivery */
	uint64_t flow_no; /* instance number; with the flow, makes the correlation id */
	uint32_t order;   /* tie-break: plan order within the run */
	uint8_t flow;     /* enum gen_flow, GEN_NOFLOW for ticks */
	uint8_t type;     /* enum gen_type */
	uint8_t id_seq;   /* event id = f(seed, flow_no, id_seq); a redelivery repeats it */
	uint8_t attempt;  /* 1-based occurrence of this step (retries) */
};

#define GEN_MAX_PLAN 24
#define GEN_MAX_VERDICTS 4

struct gen_verdict {
	const char *kind;
	enum gen_type step;
};

struct gen_plan {
	enum gen_flow flow;
	enum gen_fault fault;
	const char *variant; /* which template of the fault, for the truth file */
	struct gen_event ev[GEN_MAX_PLAN];
	int nev;
	struct gen_verdict v[GEN_MAX_VERDICTS];
	int nv;
	int64_t end_us; /* send time of the last event */
};

/* Plans one flow instance starting at `start_us`: its events (in send order) and
 * the verdicts they imply. With fault GF_NONE the flow type is drawn by weight and
 * no verdict is implied; otherwise the fault decides the flow. */
void gen_plan_flow(struct gen_rng *r, uint64_t flow_no, int64_t start_us, enum gen_fault fault,
    struct gen_plan *out);
/* The largest span (start to last event, µs) any plan can have: sizes the heap. */
#define GEN_MAX_SPAN_US ((int64_t)10 * 1000000)
/* Simulated time after the last event that lets every deadline of the demo flows
 * fire (largest flow deadline 15 s + lateness 1 s + margin). */
#define GEN_DEFAULT_TAIL_US ((int64_t)20 * 1000000)

/* ---- rendering ---- */
enum gen_format { GEN_FMT_PROTOBUF, GEN_FMT_JSON, GEN_FMT_CE_BINARY, GEN_FMT_CE_STRUCTURED };

#define GEN_MAX_HEADERS 8
#define GEN_VALUE_MAX 2048

/* One rendered message: key, value and headers, all inside the struct. */
struct gen_msg {
	char key[64];
	size_t keylen;
	unsigned char value[GEN_VALUE_MAX];
	size_t valuelen;
	const char *hname[GEN_MAX_HEADERS];
	char hval[GEN_MAX_HEADERS][80];
	int nheaders;
};

struct gen_render_ctx {
	uint64_t seed;
	int64_t epoch_us; /* Unix time of simulated time 0 */
};

/* Renders `e` in `fmt` into `m`. 0, or -1 if it does not fit (cannot happen with
 * the built-in flows; checked anyway). */
int gen_render(const struct gen_render_ctx *c, const struct gen_event *e, enum gen_format fmt,
    struct gen_msg *m);
/* The correlation id of an event into buf; returns its length. */
size_t gen_correlation_id(
    const struct gen_render_ctx *c, const struct gen_event *e, char *buf, size_t len);

/* ---- sinks ---- */
struct gen_kafka;
/* Creates a producer for `topic`; props are extra librdkafka KEY=VALUE settings.
 * `paced`: tune for latency (small linger) instead of throughput. */
struct gen_kafka *gen_kafka_new(const char *brokers, const char *topic, char *const *props,
    int nprops, int paced, char *err, size_t errlen);
/* Partition count of the topic (metadata), or negative with err. */
int gen_kafka_partitions(struct gen_kafka *k, char *err, size_t errlen);
/* Produces one message (partition -1: by key). Waits while the queue is full.
 * 0, or -1 with err. */
int gen_kafka_send(
    struct gen_kafka *k, const struct gen_msg *m, int32_t partition, char *err, size_t errlen);
/* Serves delivery reports without blocking. */
void gen_kafka_poll(struct gen_kafka *k);
/* Flushes (up to timeout_ms) and frees. Returns the delivery failures seen. */
uint64_t gen_kafka_free(struct gen_kafka *k, int timeout_ms);

/* Replay-file record: JSON line or varint-delimited protobuf. */
int gen_file_write(FILE *f, const struct gen_msg *m, int delimited);
/* Truth lines for a plan (nothing for a faultless one). */
int gen_truth_write(FILE *f, const struct gen_render_ctx *c, const struct gen_plan *p);

/* ---- the run (run.c) ---- */
#define GEN_MAX_PROPS 32
struct gen_opts {
	const char *brokers, *topic, *truth, *out;
	double rate, sim_rate, duration, tail;
	uint64_t flows, seed;
	int have_flows, have_duration;
	enum gen_format format;
	int out_format; /* -1 default, 0 jsonl, 1 protobuf */
	int synthetic;
	double fault_rate[GF_NFAULTS];
	char *props[GEN_MAX_PROPS];
	int nprops;
};

/* Runs the generator until done or until *stop becomes non-zero (a signal).
 * Returns the exit status: 0 ok, 1 runtime failure (reason on stderr). */
int gen_run(const struct gen_opts *o, volatile sig_atomic_t *stop);

#endif
