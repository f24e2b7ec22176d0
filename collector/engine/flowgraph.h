/*
 * flowgraph: the declared expected flows, as loaded from the YAML config.
 *
 * Immutable once loaded; shared read-only by the engine, the HTTP API and the
 * dashboard generator. A flow has at most FG_MAX_STEPS steps so that sets of steps
 * are one 64-bit mask (bit i = steps[i], declaration order).
 * Durations are nanoseconds; FG_NO_DEADLINE (-1) means "not set".
 * Owned by the config that loaded it (config_free frees it).
 */
#ifndef CHOREOSCOPE_FLOWGRAPH_H
#define CHOREOSCOPE_FLOWGRAPH_H

#include <stdbool.h>
#include <stdint.h>

#define FG_MAX_STEPS 64
#define FG_MAX_FLOWS 65535 /* an instance names its flow in 16 bits */
#define FG_NO_DEADLINE ((int64_t)-1)
#define FG_DEFAULT_LATENESS_NS ((int64_t)5 * 1000000000)

typedef uint64_t fg_mask;
#define FG_BIT(i) ((fg_mask)1 << (i))

struct fg_step {
	char *name;             /* the event type */
	bool start;             /* opens the flow; never expected */
	bool optional;          /* expected but never stalls */
	fg_mask after;          /* AND-join predecessors */
	fg_mask after_any;      /* OR-join predecessors */
	fg_mask alts;           /* instead_of, made symmetric by the loader */
	int64_t within_ns;      /* deadline from becoming expected, or FG_NO_DEADLINE */
	int64_t join_within_ns; /* fan-in wait bound (after of >= 2), or FG_NO_DEADLINE */
	int outcome;            /* index into fg_flow.outcomes when `end`, else -1 */
	uint32_t retries;       /* allowed repeats; 0 = a repeat is double_step */
	char *key_attr;         /* attribute carrying this step's key, or NULL */
	char *owner;            /* `owner:` the service that owes this step's event, or NULL
	                         (not judged: verdicts carry it, the TUI shows it) */
	fg_mask succ;           /* derived: steps listing this one in after/after_any */
	int line, col;          /* where the step is declared (1-based) */
};

struct fg_flow {
	char *name;
	int64_t deadline_ns; /* overall deadline from open, or FG_NO_DEADLINE */
	int64_t lateness_ns; /* default FG_DEFAULT_LATENESS_NS */
	struct fg_step *steps;
	int nsteps;
	fg_mask complete_when; /* 0 when not set */
	char **outcomes;       /* distinct `end` outcome names, declaration order */
	int noutcomes;
	char **keys; /* attributes whose values also identify an instance */
	int nkeys;
	int line, col;
};

struct flowgraph {
	struct fg_flow *flows;
	int nflows;
};

/* Index of step `name` in `f`, or -1. Linear; for setup paths, not per event. */
int fg_step_index(const struct fg_flow *f, const char *name);
/* Index of flow `name`, or -1. */
int fg_flow_index(const struct flowgraph *g, const char *name);
/* Frees everything the graph owns; NULL is a no-op. */
void flowgraph_free(struct flowgraph *g);

#endif
