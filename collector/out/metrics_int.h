/*
 * metrics_int: the metrics' state, shared by metrics.c (counters, observations, the
 * process_* series) and metrics_render.c (the exposition and its per-flow cache).
 * Private to those two files. Engine thread, as metrics.h says.
 */
#ifndef CHOREOSCOPE_METRICS_INT_H
#define CHOREOSCOPE_METRICS_INT_H

#include <stdbool.h>
#include <xxhash.h>
#include "out/metrics.h"

#define MX_NCODES 13    /* HTTP status codes with their own series (metrics.c) */
#define MX_NFAMILIES 13 /* per-flow families (metrics_render.c) */

/* The kind (enum an_kind order) of each example slot: stalled, abandoned. */
static inline int mx_example_kind(int slot) { return slot == 0 ? 0 : 9; }

/* A flow's series as last rendered: one text, family k in [off[k], off[k + 1]). */
struct mx_cache {
	uint64_t fp; /* fingerprint of the values rendered */
	bool valid;
	struct jbuf txt;
	size_t off[MX_NFAMILIES + 1];
};

struct mx_part {
	char *topic;
	int32_t partition;
	uint64_t consumed;
	int64_t lag;
};

struct metrics {
	const struct flowgraph *g;
	char *version;
	double lat_b[MX_MAX_BUCKETS], dur_b[MX_MAX_BUCKETS];
	int nlat, ndur;
	struct mx_flow *flows;
	struct mx_part parts[MX_MAX_PARTITIONS];
	int nparts;
	char *reasons[MX_MAX_REASONS];
	uint64_t rejected[MX_MAX_REASONS];
	int nreasons;
	uint64_t dropped_series;
	uint64_t unmatched;
	int ready;
	uint64_t kafka_auth_failures, kafka_tls_failures;
	int kafka_cut_off;
	uint64_t kafka_broker_errors;
	_Atomic uint64_t http[MX_NCODES + 1]; /* last: any other code */
	double start_time_s;
	struct mx_cache *cache; /* [nflows]: each flow's rendered series (metrics_render) */
	XXH3_state_t *fp;       /* scratch of flow_fingerprint */
};

/* metrics_render.c: "# HELP" and "# TYPE" of one family. */
void metrics_family(struct jbuf *b, const char *name, const char *type, const char *help);
/* metrics_step_owner on a flow's parts (metrics.c; the renderer has no index). */
const char *metrics_owner_of(
    const struct fg_flow *f, const struct mx_flow *mf, int step, bool *learned);

#endif
