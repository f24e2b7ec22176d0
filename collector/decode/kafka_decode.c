/*
 * kafka_decode: see kafka_decode.h. The correlation sources, parsed by the config, are
 * copied into a small table; per message the work is the payload decode plus, for each source tried,
 * a header scan or reading a lookup. `field:PATH` paths are lookups of the JSON decoder
 * (decoder_add_lookup), filled by the payload's one parse; a binary CloudEvent's data,
 * which its decode does not read, is parsed once, only when a field source is tried.
 */
#include "decode/kafka_decode.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/decode.h"

#define KDEC_MAX_SOURCES CFG_MAX_CORR_SOURCES
#define KDEC_SCRATCH (64 * 1024)
#define TRACE_ID_LEN 32

/* The config parsed kafka.format and kafka.correlation_from (config.h). */
enum kdec_format {
	KF_AUTO = CFG_FORMAT_AUTO,
	KF_PROTOBUF = CFG_FORMAT_PROTOBUF,
	KF_CLOUDEVENTS = CFG_FORMAT_CLOUDEVENTS,
	KF_JSON = CFG_FORMAT_JSON
};
enum kdec_src {
	KS_CE = CFG_CORR_CE,
	KS_HEADER = CFG_CORR_HEADER,
	KS_FIELD = CFG_CORR_FIELD,
	KS_KEY = CFG_CORR_KEY,
	KS_TRACEPARENT = CFG_CORR_TRACEPARENT
};
enum kdec_kind { KK_PROTO, KK_JSON, KK_CE_BINARY, KK_CE_STRUCTURED };

struct kdec_source {
	enum kdec_src kind;
	char *arg;  /* header name or field path */
	int lookup; /* field: the decoder's lookup index */
};

struct kdec {
	enum kdec_format format;
	struct kdec_source src[KDEC_MAX_SOURCES];
	int nsrc;
	struct decoder *dec;
	size_t max_len;      /* limits.max_message_bytes */
	size_t max_headers;  /* limits.max_headers */
	int data_parsed;     /* this message's binary-mode data has been parsed */
	int bad_traceparent; /* this message's traceparent was tried and is malformed */
	struct ce_scratch s;
	char buf[KDEC_SCRATCH];
};

const char *const kdec_reasons[] = { KDEC_REASONS, NULL };

int kdec_new(const struct kdec_opts *o, struct kdec **out, char *err, size_t errlen)
{
	static const struct cfg_limits no_limits;
	const struct cfg_limits *l = o->limits != NULL ? o->limits : &no_limits;
	struct kdec *d = calloc(1, sizeof *d);

	if (d == NULL) {
		snprintf(err, errlen, "kafka decode: out of memory");
		return -1;
	}
	d->s = (struct ce_scratch){ .buf = d->buf,
		.cap = sizeof d->buf,
		.max_attrs = l->max_attributes,
		.max_attr_bytes = l->max_attribute_bytes };
	d->format = (enum kdec_format)o->format;
	d->max_headers = l->max_headers ? l->max_headers : CFG_MAX_HEADERS;
	d->dec = decoder_with_limits(o->json, l, err, errlen);
	if (d->dec == NULL)
		goto fail;
	d->max_len = decoder_max_len(d->dec);
	for (int i = 0; i < o->ncorr && i < KDEC_MAX_SOURCES; i++) {
		const struct cfg_corr_source *cs = &o->corr[i];
		struct kdec_source *src = &d->src[d->nsrc];
		src->kind = (enum kdec_src)cs->kind;
		if (cs->arg != NULL && (src->arg = strdup(cs->arg)) == NULL) {
			snprintf(err, errlen, "kafka decode: out of memory");
			goto fail;
		}
		d->nsrc++;
		if (src->kind == KS_FIELD &&
		    (src->lookup = decoder_add_lookup(d->dec, src->arg, err, errlen)) < 0)
			goto fail;
	}
	decoder_set_required(d->dec, DECODE_REQ_ALL & ~DECODE_REQ_CORRELATION_ID);
	*out = d;
	return 0;
fail:
	kdec_free(d);
	return -1;
}

void kdec_free(struct kdec *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->nsrc; i++)
		free(d->src[i].arg);
	decoder_free(d->dec);
	free(d);
}

static const char *attr_get(const struct event *ev, const char *key)
{
	for (uint32_t i = 0; i < ev->nattrs; i++)
		if (strcmp(ev->attrs[i].key, key) == 0)
			return ev->attrs[i].val;
	return NULL;
}

/* A header's value copied into scratch, or NULL when absent, empty or not text (invalid
 * UTF-8 or a NUL: such a header is not usable, and the next correlation source is tried). */
static const char *header_str(struct kdec *d, const struct kmsg *m, const char *name)
{
	const struct ce_header *h = ce_header_find(m->hdrs, m->nhdrs, name);

	if (h == NULL || h->val == NULL || h->len == 0 || !decode_text_valid(h->val, h->len))
		return NULL;
	return ce_scratch_strndup(&d->s, h->val, h->len);
}

/* The trace id of a W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>", or NULL. */
static const char *trace_id(struct kdec *d, const char *tp, size_t len)
{
	bool nonzero = false;

	if (tp == NULL || len < 3 + TRACE_ID_LEN + 1 || tp[2] != '-' || tp[3 + TRACE_ID_LEN] != '-')
		return NULL;
	for (int i = 0; i < TRACE_ID_LEN; i++) {
		char c = tp[3 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return NULL;
		nonzero |= c != '0';
	}
	return nonzero ? ce_scratch_strndup(&d->s, tp + 3, TRACE_ID_LEN) : NULL;
}

static const char *from_field(struct kdec *d, const struct kmsg *m, const struct event *ev,
    enum kdec_kind kind, const char *own, const struct kdec_source *src)
{
	char err[160];

	if (kind == KK_PROTO)
		return strcmp(src->arg, "correlation_id") == 0 ? own : attr_get(ev, src->arg);
	if (kind == KK_CE_BINARY && !d->data_parsed) {
		/* the event's strings are in d->s, not the decoder's scratch: safe to reuse */
		d->data_parsed = 1;
		if (m->val == NULL ||
		    decode_json_members(d->dec, m->val, m->len, NULL, NULL, err, sizeof err) < 0)
			return NULL;
	}
	return decoder_lookup(d->dec, src->lookup);
}

static const char *from_source(struct kdec *d, const struct kdec_source *src, const struct kmsg *m,
    const struct event *ev, enum kdec_kind kind, const char *own)
{
	const struct ce_header *h;
	const char *v;

	switch (src->kind) {
	case KS_CE:
		if (kind == KK_CE_BINARY || kind == KK_CE_STRUCTURED)
			return own;
		return header_str(d, m, "ce_correlationid");
	case KS_HEADER: return header_str(d, m, src->arg);
	case KS_FIELD: return from_field(d, m, ev, kind, own, src);
	case KS_KEY:
		return m->key != NULL && m->keylen > 0 && decode_text_valid(m->key, m->keylen)
		    ? ce_scratch_strndup(&d->s, m->key, m->keylen)
		    : NULL;
	case KS_TRACEPARENT:
		h = ce_header_find(m->hdrs, m->nhdrs, "traceparent");
		if (h != NULL && h->val != NULL)
			v = trace_id(d, h->val, h->len);
		else if ((v = attr_get(ev, "traceparent")) != NULL)
			v = trace_id(d, v, strlen(v));
		else
			return NULL;
		d->bad_traceparent |= v == NULL;
		return v;
	}
	return NULL;
}

/* Content types the formats read (RFC 6838 names, parameters ignored): JSON, any +json
 * (structured CloudEvents is told apart before), protobuf, and untyped bytes. */
static bool known_content_type(const struct kmsg *m)
{
	static const char *const known[] = { "application/json", "text/json",
		"application/protobuf", "application/x-protobuf", "application/vnd.google.protobuf",
		"application/octet-stream" };
	const struct ce_header *h = ce_header_find(m->hdrs, m->nhdrs, "content-type");

	if (h == NULL)
		h = ce_header_find(m->hdrs, m->nhdrs, "Content-Type");
	if (h == NULL || h->val == NULL || h->len == 0)
		return true;
	size_t n = 0;
	while (n < h->len && h->val[n] != ';' && h->val[n] != ' ')
		n++;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i]) == n && strncasecmp(h->val, known[i], n) == 0)
			return true;
	return n > 5 && strncasecmp(h->val + n - 5, "+json", 5) == 0;
}

static bool looks_like_json(const struct kmsg *m)
{
	for (size_t i = 0; i < m->len; i++) {
		char c = m->val[i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return c == '{';
	}
	return false;
}

/* Runs the payload decoder the format picks; 0 and *kind, or negative with *reason. */
static int decode_payload(struct kdec *d, const struct kmsg *m, struct event *ev,
    enum kdec_kind *kind, const char **reason)
{
	char err[160];
	int r;

	if (d->format == KF_AUTO || d->format == KF_CLOUDEVENTS) {
		if (ce_is_binary(m->hdrs, m->nhdrs)) {
			*kind = KK_CE_BINARY;
			return ce_decode_binary(m->hdrs, m->nhdrs, &d->s, ev, reason);
		}
		if (d->format == KF_CLOUDEVENTS || ce_is_structured(m->hdrs, m->nhdrs)) {
			*kind = KK_CE_STRUCTURED;
			return ce_decode_structured(d->dec, m->val, m->len, &d->s, ev, reason);
		}
	}
	if (d->format == KF_AUTO && !known_content_type(m)) {
		*reason = "unknown_content_type";
		return -1;
	}
	if (m->val == NULL || m->len == 0) {
		*reason = "empty";
		return -1;
	}
	r = DECODE_BAD_PROTOBUF;
	bool proto = d->format == KF_PROTOBUF || (d->format == KF_AUTO && !looks_like_json(m));
	if (proto) {
		*kind = KK_PROTO;
		r = decode_proto(d->dec, (const uint8_t *)m->val, m->len, ev, err, sizeof err);
	}
	/* auto: what is neither JSON-looking nor a protobuf envelope is judged as JSON, so
	 * garbage is rejected as malformed_json; but a value that opens as an envelope does
	 * (0x0a: field 1, event_id, length-delimited, written first by every encoder) keeps
	 * the protobuf verdict, so a truncated envelope is bad_protobuf. */
	if (d->format == KF_JSON ||
	    (d->format == KF_AUTO && r == DECODE_BAD_PROTOBUF &&
		!(proto && (unsigned char)m->val[0] == 0x0a))) {
		*kind = KK_JSON;
		r = decode_json(d->dec, m->val, m->len, ev, err, sizeof err);
	}
	if (r < 0)
		*reason = decode_error_name(r);
	return r < 0 ? -1 : 0;
}

int kdec_decode(struct kdec *d, const struct kmsg *m, struct event *ev, const char **reason)
{
	enum kdec_kind kind = KK_JSON;
	const char *own, *corr = NULL;

	ce_scratch_reset(&d->s);
	d->data_parsed = 0;
	d->bad_traceparent = 0;
	if ((m->nhdrs_all > m->nhdrs ? m->nhdrs_all : m->nhdrs) > d->max_headers) {
		*reason = "too_many_headers";
		return -1;
	}
	if (m->len > d->max_len) {
		*reason = decode_error_name(DECODE_TOO_LARGE);
		return -1;
	}
	if (decode_payload(d, m, ev, &kind, reason) < 0)
		return -1;
	own =
	    ev->correlation_id != NULL && ev->correlation_id[0] != '\0' ? ev->correlation_id : NULL;
	for (int i = 0; i < d->nsrc && (corr == NULL || corr[0] == '\0'); i++)
		corr = from_source(d, &d->src[i], m, ev, kind, own);
	if (d->nsrc == 0)
		corr = own;
	if (corr == NULL || corr[0] == '\0') {
		*reason = d->bad_traceparent ? "bad_traceparent" : "no_correlation_id";
		return -1;
	}
	ev->correlation_id = corr;
	ev->topic = m->topic;
	ev->partition = m->partition;
	ev->offset = m->offset;
	return 0;
}
