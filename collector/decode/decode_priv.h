/*
 * decode_priv: the decoder context shared by decode_json.c and decode_proto.c. Not part
 * of the decode API: include decode.h.
 */
#ifndef CHOREOSCOPE_DECODE_PRIV_H
#define CHOREOSCOPE_DECODE_PRIV_H

#include "lib/arena.h"
#include "decode/decode.h"

#define DECODE_PATH_MAX_DEPTH 8

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
_Static_assert(DF_N <= 8, "field masks are 8 bits wide (decoder.first)");

struct decode_path {
	char *text;                    /* the dotted path, for messages */
	int ncomp;
	const char *comp[DECODE_PATH_MAX_DEPTH];
	size_t complen[DECODE_PATH_MAX_DEPTH];
};

struct decoder {
	size_t max_len;
	unsigned required;             /* DECODE_REQ_* bits */
	struct decode_path path[DF_N];
	unsigned ends_at[DECODE_PATH_MAX_DEPTH + 2]; /* fields whose path has d components;
	                                   * depth reaches MAX + 1 inside deepest attributes */
	uint8_t first[DECODE_PATH_MAX_DEPTH][256]; /* fields whose component d starts with c */
	struct arena *arena;           /* protobuf-c and copied strings; reset per call */
	struct decode_json_state *json; /* decode_json.c's parser, made on first use */
	struct ev_attr attrs[EV_MAX_ATTRS];
};

/* Frees what decode_json keeps between calls (NULL: nothing). */
void decode_json_state_free(struct decode_json_state *js);

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
