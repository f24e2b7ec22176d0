/*
 * discover_int: what discover.c (the in-flight table and the fold into counters)
 * shares with discover_graph.c (counters -> flow graph). Not for other modules.
 *
 * Counters, per type t: flows containing t (`count`), flows whose first event is t
 * (`first`), a histogram of repeats per flow, of flow durations (flows starting
 * with t), the sum of t's first-arrival positions, the largest disorder of t.
 * Per ordered pair (a, b) with a != b: flows where a's first occurrence arrived
 * before b's (`before`; co-occurrence is before(a,b) + before(b,a)), the histogram
 * of the gap b - a (first occurrences, event time), the same histogram restricted
 * to flows where a was the latest (event time) of the types before b (`last`:
 * join gaps), and one example correlation id. Single-threaded.
 */
#ifndef CHOREOSCOPE_DISCOVER_INT_H
#define CHOREOSCOPE_DISCOVER_INT_H

#include <stdint.h>
#include "discover/discover.h"

/* Log histogram of durations: bucket 0 is < 1 us; then 4 buckets per octave of
 * microseconds (each about 19 % wide), up to about 2^55 us (1,100 years); the last
 * bucket takes everything beyond. */
#define DH_BUCKETS 224
struct dhist {
	uint32_t b[DH_BUCKETS];
	uint64_t n;
};
void dhist_add(struct dhist *h, int64_t ns);
void dhist_merge(struct dhist *into, const struct dhist *from);
/* Upper bound (ns) of the bucket holding the q-quantile; 0 when empty. */
int64_t dhist_quantile(const struct dhist *h, double q);
/* The q-quantile after dropping samples beyond 3 x the 0.9-quantile (stalls and
 * other outliers must not set the deadline they would break); 0 when empty. */
int64_t dhist_robust(const struct dhist *h, double q);

#define DR_MAX 16 /* repeats per flow histogram: 0..14, and 15 = 15 or more */

#define DNOFLOW 0xffffu

struct dtype {
	char *name;
	uint64_t hash;
	uint64_t count;        /* flows with at least one event of this type */
	uint64_t first;        /* flows whose first event (arrival) is of this type */
	uint64_t events;       /* events of this type (redeliveries excluded) */
	uint64_t repeat_flows; /* flows where it occurs more than once */
	uint64_t repeats[DR_MAX];
	double pos_sum;       /* sum of first-arrival positions (0-based), for the order */
	int64_t disorder_max; /* largest lateness (ns) of an event of this type */
	uint32_t flow_name;   /* index into names, or DNOFLOW */
	struct dhist dur;     /* durations of flows whose first event is this type */
};

struct dpair {
	uint32_t a, b;
	uint64_t before;   /* flows with both where a arrived first */
	struct dhist gap;  /* b - a, first occurrences, when a arrived first */
	struct dhist last; /* same, when a is the latest of the types before b */
	char example[48];  /* a flow where a arrived before b */
};

struct discover {
	struct discover_opts o;
	struct discover_stats st;
	/* types: interned, hashed by name */
	struct dtype *types;
	uint32_t ntypes;
	uint32_t *type_idx; /* open addressing: type index + 1, 0 empty */
	uint32_t type_mask;
	/* flow names (from events' `flow` field) */
	char **names;
	uint32_t nnames;
	/* pairs: open addressing on (a, b) */
	struct dpair **pairs; /* chunks of DP_CHUNK */
	uint32_t npairs;
	uint32_t *pair_idx;
	uint32_t pair_mask;
	/* the in-flight table (discover.c) */
	struct dtable *tab;
	int64_t clock_ns; /* largest event time seen */
};

#define DP_CHUNK 1024
static inline struct dpair *dpair_at(const struct discover *d, uint32_t i)
{
	return &d->pairs[i / DP_CHUNK][i % DP_CHUNK];
}
/* The pair (a, b), or NULL when never seen. */
struct dpair *discover_pair_find(const struct discover *d, uint32_t a, uint32_t b);

#endif
