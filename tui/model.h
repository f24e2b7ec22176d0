/*
 * model: what the TUI knows about its collectors, and the threads that keep it fresh.
 *
 * One fetch thread per collector URL (libcurl, short timeouts): it GETs the summary
 * every refresh interval, and the pages the UI currently wants (stalled list and
 * anomalies, graphs, one flow's detail), parses them off-lock (api.c) and swaps the
 * results in under the model lock. While the UI has a filter, every round also asks
 * for the flows whose correlation id matches it, live and retired (`found`). The UI
 * thread never touches the network: it calls model_lock(), reads `cols[]`, and
 * model_unlock(). A collector that cannot be reached
 * is `COL_DOWN` ("disconnected") and is retried every interval; an answer that does not
 * parse is `COL_BAD` with the reason; the last good data stays (marked stale).
 * Pages are bounded (limit=...): the TUI never asks for the whole flow table.
 */
#ifndef CHOREOSCOPE_TUI_MODEL_H
#define CHOREOSCOPE_TUI_MODEL_H

#include "api.h"

#define MODEL_MAX_COLS 8
#define MODEL_HIST 64 /* summary samples kept per flow (sparkline, rates/min) */
#define MODEL_STALLED_LIMIT 200
#define MODEL_FOUND_LIMIT 100
#define MODEL_ANOMALY_LIMIT 200
#define MODEL_HISTORY_LIMIT 200

enum model_colstate { COL_CONNECTING, COL_OK, COL_DOWN, COL_BAD };

/* What the UI wants fetched besides the summary; set with model_want(). */
struct model_want {
	int stalled; /* stalled flows + anomaly ring */
	int graphs;
	int history;    /* retired flows (state=closed; none while a filter is set) */
	int detail;     /* one flow's timeline */
	int detail_col; /* collector index to ask, -1 for all */
	char detail_flow[API_NAME];
	char detail_cid[API_ID]; /* "" = the oldest open (else newest closed) instance */
	/* set: also a search of flows live and retired (`found`), in every view but the
	 * detail and an edge's stalls */
	char filter[API_ID];
	char scope_flow[API_NAME]; /* with scope_step: only this flow's stalls on that step */
	char scope_step[API_NAME];
};

/* Per-flow history of summaries, newest last. */
struct model_hist {
	char name[API_NAME];
	int n;
	double t[MODEL_HIST], thr[MODEL_HIST];
	char kinds[API_MAX_KINDS][24];
	int nkinds;
	long long an[MODEL_HIST][API_MAX_KINDS];
};

struct model_col {
	char url[256];
	enum model_colstate state;
	char err[256];      /* why DOWN or BAD (the summary failed) */
	char page_err[320]; /* a wanted page that failed, with its reason, or "" */
	int stale;          /* data below is from before the last failure */
	double last_ok;     /* monotonic seconds of the last good summary, 0 never */
	struct api_summary *summary;
	struct api_flowpage *stalled, *found, *history;
	struct api_anomalies *anomalies;
	struct api_graphs *graphs;
	struct api_detail *detail;
	char detail_err[256]; /* why the wanted detail is absent ("" while loading) */
	struct model_hist hist[API_MAX_FLOWS];
	int nhist;
};

struct model {
	struct model_col cols[MODEL_MAX_COLS];
	int ncols;
	double interval;   /* refresh seconds */
	int paused;        /* fetchers idle while set */
	unsigned long gen; /* bumped on every swap-in: the UI redraws when it changes */
	struct model_priv *priv;
};

/* Creates the model (no threads yet). Returns NULL with a reason in err. */
struct model *model_new(const char *const *urls, int nurls, const char *token, double interval,
    char *err, size_t errlen);
/* Starts one fetch thread per collector. */
int model_start(struct model *m, char *err, size_t errlen);
/* Stops and joins the threads, frees everything. NULL is a no-op. */
void model_free(struct model *m);

void model_lock(struct model *m);
void model_unlock(struct model *m);

/* Replaces what the UI wants and wakes the fetchers at once. Call without the lock. */
void model_want(struct model *m, const struct model_want *w);
/* Pauses or resumes fetching; call without the lock. */
void model_set_paused(struct model *m, int paused);

/* Monotonic seconds (CLOCK_MONOTONIC). */
double model_now(void);

/* Appends one summary to the history (pure; exported for tests). */
void model_hist_add(struct model_hist *h, int *nh, const struct api_summary *s, double now);
/* Anomalies per minute of `kind` over the last ~60 s of history h (0 if unknown). */
double model_hist_per_min(const struct model_hist *h, const char *kind);

#endif
