/*
 * api: the collector's JSON answers (docs/API.md) parsed into plain C structs.
 *
 * Pure: text in, structs out, no network and no ncurses, so the unit tests feed it
 * fixtures. Every api_parse_* function takes the body of one answer, returns a new
 * struct (caller owns it; free with api_free_*) or NULL with a human reason in err.
 * Missing optional fields take neutral values (0, "", NaN for unknown durations);
 * a field of the wrong type is an error, so a bad answer is shown, never guessed.
 * Lists are bounded (API_MAX_*); longer answers are cut and `truncated` is set.
 * Strings are copied into fixed buffers and cut at their size.
 */
#ifndef CHOREOSCOPE_TUI_API_H
#define CHOREOSCOPE_TUI_API_H

#include <stddef.h>

#define API_MAX_FLOWS 64
#define API_MAX_KINDS 12
#define API_MAX_ITEMS 1000
#define API_MAX_EVENTS 512
#define API_MAX_STEPS 64
#define API_MAX_EDGES 128
#define API_MAX_ATTRS 32

#define API_NAME 64
#define API_ID 128

struct api_kindcount {
	char kind[24];
	long long n;
};

struct api_flowsum {
	char name[API_NAME];
	long long in_flight, started_total, closed_total, stalled_now;
	double started_ps, completed_ps, oldest_stall;
	double p50, p95, p99; /* NaN when unknown */
	struct api_kindcount anomalies[API_MAX_KINDS];
	int nanomalies;
};

struct api_summary {
	char version[32], instance[API_ID];
	double uptime, events_ps;
	long long events_total, rejected_total, unmatched_total, consumer_lag, memory_bytes;
	int ready;
	struct api_flowsum flows[API_MAX_FLOWS];
	int nflows, truncated;
	long long total_flows; /* flows the collector declares ("total"; nflows if absent) */
};

#define API_MAX_STALLED 4

/* Who owes a step: the declared `owner`, or "~" + the learned one (the most frequent
 * source of its events), or "" when unknown. */
struct api_stalledstep {
	char step[API_NAME], owner[API_NAME];
	double overdue;
};

struct api_flowitem {
	char flow[API_NAME], cid[API_ID], state[24], awaiting[API_NAME];
	char last_source[API_NAME], last_step[API_NAME], kinds[96];
	double age, overdue; /* overdue: the largest stalled overdue_seconds, NaN if none */
	long long events;
	struct api_stalledstep stalled[API_MAX_STALLED]; /* its stalled steps, as listed */
	int nstalled;
};

struct api_flowpage {
	long long total;
	struct api_flowitem *items;
	int n, truncated;
};

struct api_anomaly {
	char flow[API_NAME], cid[API_ID], kind[24], step[API_NAME], at[40], source[API_NAME];
	char owner[API_NAME]; /* as api_stalledstep's */
	int undeclared;       /* `step` is the type of an event no step declares (API step: null) */
};

struct api_anomalies {
	struct api_anomaly *items;
	int n, truncated;
};

struct api_attr {
	char key[API_NAME], val[160];
};

struct api_event {
	char id[API_ID], type[API_NAME], source[API_NAME], time[40], topic[API_NAME];
	double t; /* Unix seconds, NaN when the time does not parse */
	long long partition, offset;
	struct api_attr attrs[API_MAX_ATTRS];
	int nattrs;
};

struct api_step {
	char name[API_NAME], status[16], owner[API_NAME];   /* owner as api_stalledstep's */
	double happened_at, expected_at, deadline, overdue; /* NaN when absent */
	long long count;
};

struct api_detail {
	char flow[API_NAME], cid[API_ID], state[24], outcome[24], opened[40], closed[40];
	double t_opened, t_closed, duration; /* NaN when absent */
	struct api_event *events;
	int nevents;
	struct api_step steps[API_MAX_STEPS];
	int nsteps;
	struct api_anomaly anomalies[32];
	int nanomalies, truncated;
	int stored; /* served from the collector's history store (retired) */
	int gone;   /* set by the model: the collector no longer has it (retired, no history
	               store); this is the last state seen, kept on screen */
};

struct api_gstep {
	char name[API_NAME], end[24];
	int start, optional;
	long long awaiting_now, stalled_now;
	double within; /* NaN when none */
};

struct api_edge {
	char from[API_NAME], to[API_NAME];
	long long count, stuck;
	double p50, p95, p99;
};

struct api_graph {
	char name[API_NAME];
	double deadline;
	struct api_gstep steps[API_MAX_STEPS];
	int nsteps;
	struct api_edge edges[API_MAX_EDGES];
	int nedges;
};

struct api_graphs {
	struct api_graph *flows;
	int n, truncated;
};

struct api_summary *api_parse_summary(const char *body, size_t len, char *err, size_t errlen);
struct api_flowpage *api_parse_flows(const char *body, size_t len, char *err, size_t errlen);
struct api_anomalies *api_parse_anomalies(const char *body, size_t len, char *err, size_t errlen);
struct api_detail *api_parse_detail(const char *body, size_t len, char *err, size_t errlen);
struct api_graphs *api_parse_graphs(const char *body, size_t len, char *err, size_t errlen);

/* The "error" text of an error answer ({"error": "...", "status": N}), or "" */
void api_error_text(const char *body, size_t len, char *out, size_t outlen);

void api_free_summary(struct api_summary *s);
void api_free_flows(struct api_flowpage *p);
void api_free_anomalies(struct api_anomalies *a);
void api_free_detail(struct api_detail *d);
void api_free_graphs(struct api_graphs *g);

#endif
