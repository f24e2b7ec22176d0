/*
 * records: the JSON-lines output of replay and the daemon (docs/semantics.md "Records
 * out"): one object per anomaly, per retired flow instance, and a final summary.
 * The summary counts what was written, so it always agrees with the lines above it.
 *
 * Single-threaded (the engine thread). The FILE is borrowed; records_flush after a
 * batch. Lines are built in a buffer and written with one fwrite each.
 */
#ifndef CHOREOSCOPE_RECORDS_H
#define CHOREOSCOPE_RECORDS_H

#include <stdint.h>
#include <stdio.h>
#include "engine/engine.h"

struct records;

struct records *records_new(FILE *out, const struct flowgraph *g);
void records_free(struct records *r);
/* The engine sink writing to r: register it with engine_new or engine_add_sink. */
void records_sink(struct records *r, struct engine_sink *sink);
/* Rejected inputs by reason, in the order first seen (reason strings are static: the
 * decoders' snake_case words). */
#define RECORDS_MAX_REASONS 32
struct records_rejects {
	const char *reason[RECORDS_MAX_REASONS];
	uint64_t count[RECORDS_MAX_REASONS];
	int n;
	uint64_t total;
	uint64_t other; /* reasons beyond RECORDS_MAX_REASONS */
};
/* Counts one rejected input under reason. */
void records_reject(struct records_rejects *rej, const char *reason);
/* Writes the summary line: `rejected` is rej->total (rej NULL: 0), `rejected_by_reason`
 * each reason's count (and `other` for those beyond RECORDS_MAX_REASONS). */
void records_summary(
    struct records *r, const struct engine_stats *st, const struct records_rejects *rej);
/* Appends the JSON object of an anomaly / a flow record (no newline) to w. */
struct jbuf;
void records_anomaly_json(struct jbuf *w, const struct anomaly *a);
void records_flow_json(struct jbuf *w, const struct flow_record *f);
int records_flush(struct records *r);
/* Write errors so far (e.g. a closed pipe). */
int records_failed(const struct records *r);

#endif
