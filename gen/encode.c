/*
 * encode: renders a planned event as a Kafka message (key, value, headers) in one of
 * the wire formats choreoscope decodes:
 *   protobuf               choreoscope.v1.Event
 *   json                   {"event_id","correlation_id","type","source","time","flow",
 *                           "attributes"}
 *   cloudevents-binary     ce_specversion, ce_id, ce_source, ce_type, ce_time,
 *                          ce_correlationid headers; content-type application/json;
 *                          the attributes as the JSON data
 *   cloudevents-structured content-type application/cloudevents+json; the value is
 *                          {"specversion","id","source","type","time","correlationid",
 *                           "datacontenttype","data"}
 * The key is always the correlation id. Everything an event carries is derived from
 * (seed, flow, flow_no, id_seq, type, attempt), so a redelivery renders byte-identical.
 * No allocation: the message lives in the caller's struct gen_msg.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include "choreoscope/v1/event.pb-c.h"
#include "gen.h"
#include "lib/timefmt.h"

#define MAX_ATTRS 6

struct attrs {
	const char *key[MAX_ATTRS];
	char val[MAX_ATTRS][48];
	int n;
};

static void attr(struct attrs *a, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void attr(struct attrs *a, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	a->key[a->n] = key;
	vsnprintf(a->val[a->n], sizeof a->val[a->n], fmt, ap);
	a->n++;
	va_end(ap);
}

static const char *const prefixes[GEN_NFLOWS + 1] = { "ord", "quo", "shp", "tick" };

size_t gen_correlation_id(
    const struct gen_render_ctx *c, const struct gen_event *e, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-%08" PRIx32 "-%07" PRIu64, prefixes[e->flow],
	    (uint32_t)c->seed, e->flow_no);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* A UUID-shaped id (version 4 layout) derived from the event's identity. */
static void event_id(
    const struct gen_render_ctx *c, const struct gen_event *e, char *buf, size_t len)
{
	uint64_t h1 =
	    gen_mix(c->seed ^ gen_mix(e->flow_no * 256 + e->id_seq) ^ ((uint64_t)e->flow << 56));
	uint64_t h2 = gen_mix(h1);
	snprintf(buf, len, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
	    h1 >> 32, (h1 >> 16) & 0xffff, h1 & 0xfff, (h2 >> 48 & 0x3fff) | 0x8000,
	    (uint64_t)(h2 & 0xffffffffffffULL));
}

/* RFC 3339, UTC, microseconds: 2026-01-01T00:00:01.234567Z */
static void format_time(int64_t unix_us, char *buf, size_t len)
{
	timefmt_format_rfc3339_fixed(unix_us * 1000, 6, buf, len);
}

static void make_attrs(
    const struct gen_render_ctx *c, const struct gen_event *e, const char *corr, struct attrs *a)
{
	static const char *const currencies[3] = { "EUR", "USD", "GBP" };
	static const char *const shippers[4] = { "dhl", "ups", "fedex", "gls" };
	uint64_t h = gen_mix(c->seed ^ gen_mix(e->flow_no ^ ((uint64_t)e->flow << 60)));
	a->n = 0;
	switch (e->flow) {
	case GEN_ORDER:
		attr(a, "order_id", "%s", corr);
		attr(a, "customer_id", "cust-%05u", (unsigned)(h % 20000));
		attr(a, "amount", "%u.%02u", (unsigned)(h >> 16) % 900 + 10,
		    (unsigned)(h >> 8) % 100);
		attr(a, "currency", "%s", currencies[(h >> 40) % 3]);
		if (e->type == T_PAYMENT_AUTHORIZED || e->type == T_PAYMENT_DECLINED ||
		    e->type == T_PAYMENT_REFUNDED)
			attr(a, "payment_id", "pay-%012" PRIx64,
			    (uint64_t)((h >> 4) & 0xffffffffffffULL));
		if (e->type == T_FRAUD_CHECK)
			attr(a, "reason", "velocity");
		break;
	case GEN_QUOTE:
		attr(a, "quote_id", "%s", corr);
		attr(a, "lane", "%s", (h & 1) ? "DE-FR" : "NL-IT");
		if (e->type >= T_CARRIER_A && e->type <= T_CARRIER_C) {
			attr(a, "carrier", "%c", 'A' + (e->type - T_CARRIER_A));
			attr(a, "price", "%u.%02u",
			    (unsigned)(h >> (8 * (e->type - T_CARRIER_A))) % 400 + 50,
			    (unsigned)(h >> 24) % 100);
		}
		break;
	case GEN_SHIPMENT:
		attr(a, "shipment_id", "%s", corr);
		attr(a, "carrier", "%s", shippers[(h >> 20) % 4]);
		if (e->type == T_PICKUP_SCHEDULED)
			attr(a, "attempt", "%u", (unsigned)e->attempt);
		break;
	default: attr(a, "note", "clock tick"); break;
	}
}

/* A bounded output buffer; overflow is sticky and reported by the caller. */
struct out {
	char *p;
	size_t len, cap;
	int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n > o->cap) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}
static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* A JSON string, escaped. */
static void jstr(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			char esc[2] = { '\\', (char)ch };
			put(o, esc, 2);
		} else if (ch < 0x20) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", ch);
			puts_(o, esc);
		} else {
			put(o, (const char *)&ch, 1);
		}
	}
	put(o, "\"", 1);
}
/* ,"key":"value" (or without the comma when first) */
static void jfield(struct out *o, int first, const char *key, const char *val)
{
	if (!first)
		put(o, ",", 1);
	jstr(o, key);
	put(o, ":", 1);
	jstr(o, val);
}
static void jattrs(struct out *o, const struct attrs *a)
{
	put(o, "{", 1);
	for (int i = 0; i < a->n; i++)
		jfield(o, i == 0, a->key[i], a->val[i]);
	put(o, "}", 1);
}

/* The fields every format shares. */
struct fields {
	char corr[64], id[40], time[40];
	const char *type, *source, *flow;
	struct attrs a;
};

static int render_pb(
    const struct gen_event *e, const struct fields *f, int64_t unix_us, struct gen_msg *m)
{
	Choreoscope__V1__Event ev = CHOREOSCOPE__V1__EVENT__INIT;
	Choreoscope__V1__Event__AttributesEntry ent[MAX_ATTRS], *entp[MAX_ATTRS];
	ev.event_id = (char *)f->id;
	ev.correlation_id = (char *)f->corr;
	ev.type = (char *)f->type;
	ev.source = (char *)f->source;
	ev.time_case = CHOREOSCOPE__V1__EVENT__TIME_TIME_UNIX_NANO;
	ev.time_unix_nano = unix_us * 1000;
	ev.flow = (char *)(f->flow ? f->flow : "");
	for (int i = 0; i < f->a.n; i++) {
		choreoscope__v1__event__attributes_entry__init(&ent[i]);
		ent[i].key = (char *)f->a.key[i];
		ent[i].value = (char *)f->a.val[i];
		entp[i] = &ent[i];
	}
	ev.n_attributes = (size_t)f->a.n;
	ev.attributes = entp;
	(void)e;
	size_t need = choreoscope__v1__event__get_packed_size(&ev);
	if (need > sizeof m->value)
		return -1;
	m->valuelen = choreoscope__v1__event__pack(&ev, m->value);
	return 0;
}

static void render_json(const struct fields *f, struct out *o)
{
	put(o, "{", 1);
	jfield(o, 1, "event_id", f->id);
	jfield(o, 0, "correlation_id", f->corr);
	jfield(o, 0, "type", f->type);
	jfield(o, 0, "source", f->source);
	jfield(o, 0, "time", f->time);
	if (f->flow)
		jfield(o, 0, "flow", f->flow);
	puts_(o, ",\"attributes\":");
	jattrs(o, &f->a);
	put(o, "}", 1);
}

static void render_ce_structured(const struct fields *f, struct out *o)
{
	put(o, "{", 1);
	jfield(o, 1, "specversion", "1.0");
	jfield(o, 0, "id", f->id);
	jfield(o, 0, "source", f->source);
	jfield(o, 0, "type", f->type);
	jfield(o, 0, "time", f->time);
	jfield(o, 0, "correlationid", f->corr);
	jfield(o, 0, "datacontenttype", "application/json");
	puts_(o, ",\"data\":");
	jattrs(o, &f->a);
	put(o, "}", 1);
}

static void header(struct gen_msg *m, const char *name, const char *val)
{
	m->hname[m->nheaders] = name;
	snprintf(m->hval[m->nheaders], sizeof m->hval[0], "%s", val);
	m->nheaders++;
}

int gen_render(const struct gen_render_ctx *c, const struct gen_event *e, enum gen_format fmt,
    struct gen_msg *m)
{
	struct fields f;
	int64_t unix_us = c->epoch_us + e->time_us;
	gen_correlation_id(c, e, f.corr, sizeof f.corr);
	event_id(c, e, f.id, sizeof f.id);
	format_time(unix_us, f.time, sizeof f.time);
	f.type = gen_types[e->type].name;
	f.source = gen_types[e->type].source;
	f.flow = e->flow < GEN_NFLOWS ? gen_flow_names[e->flow] : NULL;
	make_attrs(c, e, f.corr, &f.a);

	m->keylen = (size_t)snprintf(m->key, sizeof m->key, "%s", f.corr);
	m->nheaders = 0;
	struct out o = { (char *)m->value, 0, sizeof m->value, 0 };
	switch (fmt) {
	case GEN_FMT_PROTOBUF: return render_pb(e, &f, unix_us, m);
	case GEN_FMT_JSON: render_json(&f, &o); break;
	case GEN_FMT_CE_BINARY:
		header(m, "ce_specversion", "1.0");
		header(m, "ce_id", f.id);
		header(m, "ce_source", f.source);
		header(m, "ce_type", f.type);
		header(m, "ce_time", f.time);
		header(m, "ce_correlationid", f.corr);
		header(m, "content-type", "application/json");
		jattrs(&o, &f.a);
		break;
	case GEN_FMT_CE_STRUCTURED:
		header(m, "content-type", "application/cloudevents+json");
		render_ce_structured(&f, &o);
		break;
	}
	m->valuelen = o.len;
	return o.overflow ? -1 : 0;
}
