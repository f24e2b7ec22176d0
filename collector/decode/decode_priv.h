/*
 * decode_priv: the decoder context shared by decode_json.c and decode_proto.c. Not part
 * of the decode API: include decode.h.
 */
#ifndef CHOREOSCOPE_DECODE_PRIV_H
#define CHOREOSCOPE_DECODE_PRIV_H

#include "lib/arena.h"
#include "decode/decode.h"

#define DECODE_PATH_MAX_DEPTH 8
#define DECODE_MAX_LOOKUPS 16

enum decode_field {
	DF_EVENT_ID,
	DF_CORRELATION_ID,
	DF_TYPE,
	DF_SOURCE,
	DF_TIME,
	DF_FLOW,
	DF_CAUSATION_ID,
	DF_ATTRIBUTES,
	DF_N
};
/* Paths: the DF_N fields, then the lookups (decoder_add_lookup) from bit DF_N on. */
#define DECODE_MAX_PATHS (DF_N + DECODE_MAX_LOOKUPS)
#define DECODE_FIELDS ((1u << DF_N) - 1)
_Static_assert(DECODE_MAX_PATHS <= 32, "path masks are 32 bits wide");

struct decode_path {
	char *text; /* the dotted path, for messages */
	int ncomp;
	const char *comp[DECODE_PATH_MAX_DEPTH];
	size_t complen[DECODE_PATH_MAX_DEPTH];
};

struct decoder {
	size_t max_len;
	struct decode_limits lim; /* defaults filled in */
	unsigned required;        /* DECODE_REQ_* bits */
	struct decode_path path[DECODE_MAX_PATHS];
	int nlookups;
	unsigned ends_at[DECODE_PATH_MAX_DEPTH + 2]; /* paths that have d components;
	                                   * depth reaches MAX + 1 inside deepest attributes */
	uint32_t first[DECODE_PATH_MAX_DEPTH][256];  /* paths whose component d starts with c */
	const char *looked[DECODE_MAX_LOOKUPS];      /* lookup values of the last JSON parse */
	struct arena *arena;            /* protobuf-c and copied strings; reset per call */
	struct decode_json_state *json; /* decode_json.c's parser, made on first use */
	struct ev_attr attrs[EV_MAX_ATTRS];
};

/* Frees what decode_json keeps between calls (NULL: nothing). */
void decode_json_state_free(struct decode_json_state *js);

/* Registers path p (parsed) as bit `bit`. */
static inline void decode_path_index(struct decoder *d, int bit)
{
	const struct decode_path *p = &d->path[bit];
	d->ends_at[p->ncomp] |= 1u << bit;
	for (int k = 0; k < p->ncomp; k++)
		d->first[k][(unsigned char)p->comp[k][0]] |= 1u << bit;
}

/* Fills the event fields every decoder sets the same way. */
static inline void decode_ev_init(struct event *ev)
{
	ev->event_id = ev->correlation_id = ev->type = ev->source = ev->causation_id = "";
	ev->flow = NULL;
	ev->time_ns = DECODE_NO_TIME;
	ev->attrs = NULL;
	ev->nattrs = 0;
	ev->topic = NULL;
	ev->partition = -1;
	ev->offset = 0;
}

#endif
