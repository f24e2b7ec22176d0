/*
 * flowtab: the table of flow instances of one flow graph (in flight, and closed ones
 * retained for late events).
 *
 * Memory is the point of this module (target: <= 256 bytes per in-flight 5-step
 * flow). Instances are fixed-size blocks carved from a slab per flow; the block size
 * depends on the flow's step count (per-step arrays follow the header). Blocks never
 * move, so timer entries embedded in them stay valid. The key index is open
 * addressing with linear probing and backward-shift deletion: 8 bytes a slot (32-bit
 * hash, 32-bit block index), load <= 0.75. Keys of up to FT_KEYCAP-1 bytes live in
 * the block; longer ones in the instance's extras (rare; one malloc).
 * Instances also sit on a creation-order list, for eviction of the oldest.
 * Single-threaded (the engine thread).
 */
#ifndef CHOREOSCOPE_FLOWTAB_H
#define CHOREOSCOPE_FLOWTAB_H

#include <stddef.h>
#include <stdint.h>
#include "engine/flowgraph.h"
#include "engine/timerwheel.h"

#define FT_KEYCAP 24
#define FT_NONE UINT32_MAX

enum inst_state { INST_OPEN, INST_CLOSED, INST_DETACHED, INST_FREE };

/* A debt: steps owed by a step that happened before them (missing/out_of_order). */
struct debt {
	fg_mask steps; /* after: one step; after_any: the group */
	int64_t due;   /* time(S) + lateness */
	uint8_t group; /* after_any: the first arrival within due settles all */
};

/* Rarely needed per-instance state, allocated on first need. */
struct inst_extra {
	char *long_key;
	char **aliases; /* linked keys (owned) */
	uint32_t naliases;
	uint64_t *seen; /* event-id hashes beyond the inline ones */
	uint32_t nseen, capseen;
	struct debt *debts;
	uint32_t ndebts, capdebts;
	uint64_t *reported; /* hashes of (kind, undeclared type) already reported */
	uint32_t nreported, capreported;
	int64_t *missed_due; /* [nsteps] when allocated: the due time of a reported missing */
};

struct inst {
	struct tw_entry tw;
	uint32_t idx;                  /* block index in the slab */
	uint32_t hash;                 /* hash of the primary key */
	uint32_t fifo_next, fifo_prev; /* creation order */
	uint32_t chain_prev;           /* an older retained instance of the same key, or FT_NONE */
	uint32_t events;
	uint32_t born; /* engine-wide creation number (wraps), for eviction */
	uint32_t src;  /* input of the last event applied (engine_state.h), 0: none */
	struct inst_extra *x;
	int64_t open_t, close_t;
	fg_mask happened, expected;
	uint16_t flow;
	uint8_t state;     /* enum inst_state */
	uint8_t outcome;   /* engine outcome slot when closed */
	uint8_t narrivals; /* steps happened so far (arrival order counter) */
	uint8_t nseen;     /* inline event-id hashes used */
	uint8_t keylen;    /* 255: key in x->long_key */
	uint8_t pad_;
	/* followed by: int64_t hap_t[n]; uint64_t seen[n]; uint16_t sflags[n];
	 * uint8_t count[n]; uint8_t arr[n]; char key[FT_KEYCAP] */
};

struct flowtab;
struct keyidx;

struct flowtab *flowtab_new(int nsteps);
void flowtab_free(struct flowtab *t); /* frees every block and its extras */
/* From now on every key the table indexes or unindexes is reported to kx under
 * `flow` (engine-wide index of which flows hold a key; keyidx.h). */
void flowtab_set_keyidx(struct flowtab *t, struct keyidx *kx, uint16_t flow);

/* Per-step arrays of an instance. */
int64_t *flowtab_inst_hap_t(const struct flowtab *t, struct inst *i);
uint64_t *flowtab_inst_seen(const struct flowtab *t, struct inst *i);
uint16_t *flowtab_inst_sflags(const struct flowtab *t, struct inst *i);
uint8_t *flowtab_inst_count(const struct flowtab *t, struct inst *i);
uint8_t *flowtab_inst_arr(const struct flowtab *t, struct inst *i);
const char *flowtab_inst_key(const struct flowtab *t, const struct inst *i);

uint32_t flowtab_hash(const char *key, size_t len);

/* The newest instance indexed under `key` (primary key or alias), or NULL. */
struct inst *flowtab_find(struct flowtab *t, const char *key, size_t len, uint32_t h);
/* A new zeroed instance with `key` as primary key, indexed (replacing any older
 * instance of that key, which becomes its chain_prev), appended to the creation
 * list. NULL only when memory runs out. */
struct inst *flowtab_create(struct flowtab *t, const char *key, size_t len, uint32_t h);
/* Indexes `key` as an alias of i (the instance takes a copy). 0, or -1 on no memory. */
int flowtab_link(struct flowtab *t, struct inst *i, const char *key, size_t len);
/* Removes i from the index (its keys, its place in a chain); it stays allocated. */
void flowtab_detach(struct flowtab *t, struct inst *i);
/* Frees i (detaching it first if needed) and its extras. */
void flowtab_release(struct flowtab *t, struct inst *i);

struct inst *flowtab_at(const struct flowtab *t, uint32_t idx);
struct inst *flowtab_oldest(const struct flowtab *t);
struct inst *flowtab_next(const struct flowtab *t, const struct inst *i);
size_t flowtab_count(const struct flowtab *t);
size_t flowtab_memory(const struct flowtab *t);
struct inst_extra *flowtab_inst_extra(struct inst *i); /* allocates on first use; NULL on OOM */
int flowtab_check(const struct flowtab *t);

#endif
