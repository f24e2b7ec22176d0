/*
 * decode: the decoder context (field paths, scratch arena) and what both formats share
 * (reason names, UTF-8 validation). The formats live in decode_json.c and
 * decode_proto.c.
 *
 * Scratch bound: one call needs at most ~2x its input for copied strings (JSON) or the
 * unpacked message (protobuf: smaller than its input plus per-field structs), so the
 * arena is capped at 8x max_len + 1 MiB.
 */
#include "decode/decode_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const error_names[DECODE_NERRORS] = {
	"ok",
	"malformed_json",
	"missing_field",
	"wrong_type",
	"bad_time",
	"bad_protobuf",
	"truncated",
	"too_large",
	"bad_utf8",
	"too_many_attributes",
	"no_memory",
	"time_out_of_range",
	"too_deep",
	"attribute_too_large",
};

const char *decode_error_name(int code)
{
	if (code > 0 || code <= -DECODE_NERRORS)
		return "unknown";
	return error_names[-code];
}

static const char *const default_names[DF_N] = {
	"event_id",
	"correlation_id",
	"type",
	"source",
	"time",
	"flow",
	"causation_id",
	"attributes",
};

/* Splits text at '.' into p (p->text owns the copy; components point into it). */
static int path_parse(struct decode_path *p, const char *text, char *err, size_t errlen)
{
	p->text = strdup(text);
	if (!p->text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->ncomp = 0;
	const char *s = p->text;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (n == 0) {
			snprintf(
			    err, errlen, "JSON field path \"%s\" has an empty component", text);
			return -1;
		}
		if (p->ncomp == DECODE_PATH_MAX_DEPTH) {
			snprintf(err, errlen, "JSON field path \"%s\" is deeper than %d", text,
			    DECODE_PATH_MAX_DEPTH);
			return -1;
		}
		p->comp[p->ncomp] = s;
		p->complen[p->ncomp++] = n;
		if (!dot)
			return 0;
		s = dot + 1;
	}
}

struct decoder *decoder_new(
    const struct cfg_json_fields *paths, size_t max_len, char *err, size_t errlen)
{
	struct decoder *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->max_len = max_len ? max_len : DECODE_DEFAULT_MAX_LEN;
	decoder_set_limits(d, &(struct decode_limits){ 0 });
	d->required = DECODE_REQ_ALL;
	const char *cfg[DF_N] = { 0 };
	if (paths) {
		cfg[DF_EVENT_ID] = paths->event_id;
		cfg[DF_CORRELATION_ID] = paths->correlation_id;
		cfg[DF_TYPE] = paths->type;
		cfg[DF_SOURCE] = paths->source;
		cfg[DF_TIME] = paths->time;
		cfg[DF_FLOW] = paths->flow;
		cfg[DF_CAUSATION_ID] = paths->causation_id;
		cfg[DF_ATTRIBUTES] = paths->attributes;
	}
	for (int f = 0; f < DF_N; f++) {
		if (path_parse(&d->path[f], cfg[f] ? cfg[f] : default_names[f], err, errlen))
			goto fail;
		decode_path_index(d, f);
	}
	d->arena = arena_new(64 * 1024, 8 * d->max_len + 1024 * 1024);
	if (!d->arena) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return d;
fail:
	decoder_free(d);
	return NULL;
}

_Static_assert(CFG_MAX_ATTRIBUTES == EV_MAX_ATTRS,
    "limits.max_attributes is bounded by "
    "the attribute arrays");

struct decoder *decoder_with_limits(
    const struct cfg_json_fields *paths, const struct cfg_limits *limits, char *err, size_t errlen)
{
	static const struct cfg_limits none;
	const struct cfg_limits *l = limits != NULL ? limits : &none;
	struct decoder *d = decoder_new(paths, l->max_message_bytes, err, errlen);
	if (d)
		decoder_set_limits(d,
		    &(struct decode_limits){
			l->max_depth, l->max_attributes, l->max_attribute_bytes });
	return d;
}

struct decoder *decoder_from_config(const struct config *cfg, char *err, size_t errlen)
{
	return decoder_with_limits(&cfg->json, &cfg->limits, err, errlen);
}

void decoder_set_limits(struct decoder *d, const struct decode_limits *l)
{
	d->lim.max_depth = l->max_depth ? l->max_depth : DECODE_DEFAULT_MAX_DEPTH;
	d->lim.max_attributes = !l->max_attributes ? DECODE_DEFAULT_MAX_ATTRS
	    : l->max_attributes > EV_MAX_ATTRS     ? EV_MAX_ATTRS
						   : l->max_attributes;
	d->lim.max_attribute_bytes =
	    l->max_attribute_bytes ? l->max_attribute_bytes : DECODE_DEFAULT_MAX_ATTR_BYTES;
}

void decoder_free(struct decoder *d)
{
	if (!d)
		return;
	for (int f = 0; f < DF_N + d->nlookups; f++)
		free(d->path[f].text);
	arena_free(d->arena);
	decode_json_state_free(d->json);
	free(d);
}

int decoder_add_lookup(struct decoder *d, const char *path, char *err, size_t errlen)
{
	if (d->nlookups == DECODE_MAX_LOOKUPS) {
		snprintf(err, errlen, "more than %d JSON lookup paths", DECODE_MAX_LOOKUPS);
		return -1;
	}
	int bit = DF_N + d->nlookups;
	if (path_parse(&d->path[bit], path, err, errlen)) {
		free(d->path[bit].text);
		d->path[bit].text = NULL;
		return -1;
	}
	decode_path_index(d, bit);
	return d->nlookups++;
}

const char *decoder_lookup(const struct decoder *d, int idx)
{
	return idx >= 0 && idx < d->nlookups ? d->looked[idx] : NULL;
}

void decoder_set_required(struct decoder *d, unsigned req_bits)
{
	d->required = req_bits & DECODE_REQ_ALL;
}

size_t decoder_max_len(const struct decoder *d) { return d->max_len; }

/* Table-free validator: runs of 8 ASCII non-NUL bytes are skipped a word at a time (the
 * common case for ids and names), multi-byte sequences are checked per RFC 3629. */
int decode_text_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	while (s < end) {
		if (end - s >= 8) {
			uint64_t w;
			memcpy(&w, s, 8);
			if (!(w & highs) && !((w - ones) & ~w & highs)) {
				s += 8;
				continue;
			}
		}
		unsigned c = *s;
		if (c < 0x80) {
			if (!c)
				return 0;
			s++;
			continue;
		}
		int n;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f; /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f; /* <= U+10FFFF */
		} else
			return 0;
		if (end - s <= n)
			return 0;
		if (s[1] < lo || s[1] > hi)
			return 0;
		for (int k = 2; k <= n; k++)
			if ((s[k] & 0xc0) != 0x80)
				return 0;
		s += n + 1;
	}
	return 1;
}
