/*
 * history_read: queries over the history store (history.h, docs/history.md) on a
 * read-only SQLite connection of its own, for the API's HTTP threads, the
 * `choreoscope history` command and the bench. It never writes and never blocks
 * the writer (WAL: readers see the last committed batch).
 *
 * Threading: a reader is used by one thread at a time (the HTTP server opens one
 * per request: cheap, and a file recreated by the writer is then picked up at once).
 * Documents are the API's (docs/API.md): a stored flow renders as the live one does,
 * plus "stored": true, "retired" and each event's "arrival".
 */
#ifndef CHOREOSCOPE_HISTORY_READ_H
#define CHOREOSCOPE_HISTORY_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/jbuf.h"

/* Matches counted for a list's `total` at most (a count over millions of rows
 * would cost more than the page). */
#define HISTORY_READ_MAX_TOTAL 100000

struct history_query {
	const char *flow;           /* NULL: any */
	const char *correlation_id; /* exact (indexed), NULL: any */
	const char *key;            /* the correlation id or a linked key, exact (indexed) */
	const char *contains;       /* correlation id contains (a scan), NULL: any */
	const char *outcome;        /* NULL: any */
	const char *kind;           /* an anomaly kind the flow had, NULL: any */
	const char *awaiting;       /* a step it still awaited (open, evicted), NULL: any */
	int64_t since_ns,
	    until_ns;      /* on the flow's end (close, else open) time; INT64_MIN/MAX: open */
	int limit, offset; /* newest first */
};

struct history_reader;

/* Opens dir/history.db read-only: 0, or -1 with a reason (no store there, not a
 * database, another schema version). */
int history_read_open(const char *dir, struct history_reader **out, char *err, size_t errlen);
void history_read_close(struct history_reader *r);

/* Appends the list items of /api/v1/flows (comma-separated, no brackets) of the page
 * to b; *total is the number of matches (at most HISTORY_READ_MAX_TOTAL), *n the
 * items appended. `now_ns` gives age_seconds. 0, or -1 with err. */
int history_read_list(struct history_reader *r, const struct history_query *q, int64_t now_ns,
    struct jbuf *b, uint64_t *total, int *n, char *err, size_t errlen);
/* Appends the timeline document of the newest stored instance of `flow` whose
 * correlation id or a linked key is `corr` to b:
 * 1 found, 0 not found, -1 with err. */
int history_read_flow(struct history_reader *r, const char *flow, const char *corr, struct jbuf *b,
    char *err, size_t errlen);
/* Calls fn with the timeline document of each match, newest first (`choreoscope
 * history`); stops when fn returns non-zero. Returns the number visited, or -1. */
int history_read_each(struct history_reader *r, const struct history_query *q,
    int (*fn)(void *arg, const char *doc, size_t len), void *arg, char *err, size_t errlen);

#endif
