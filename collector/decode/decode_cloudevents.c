/*
 * decode_cloudevents: see decode_cloudevents.h.
 *
 * The JSON scanner reads one value at a time from a [p, end) span and never
 * allocates: strings without escapes are used in place only when the caller can
 * NUL-terminate them, so every string handed out is copied into the scratch (one
 * memcpy, the scratch is reset per message). Nesting is bounded by JS_MAX_DEPTH.
 */
#include "decode/decode_cloudevents.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/timefmt.h"

#define JS_MAX_DEPTH 64
#define CE_PREFIX "ce_"

enum js_type { JS_BAD, JS_STRING, JS_NUMBER, JS_TRUE, JS_FALSE, JS_NULL, JS_OBJECT, JS_ARRAY };

struct js_val {
	enum js_type type;
	const char *start;    /* first byte of the value (the quote for strings) */
	const char *end;      /* one past its last byte */
};

static const char *js_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns one past the closing quote, or NULL. */
static const char *js_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"')
			return p + 1;
		if ((unsigned char)*p < 0x20)
			return NULL;
	}
	return NULL;
}

static const char *js_skip_scalar(const char *p, const char *end)
{
	while (p < end && (strchr("+-.0123456789eEtrufalsn", *p) != NULL && *p != '\0'))
		p++;
	return p;
}

/* Skips a container starting at p ('{' or '['); balanced brackets, strings skipped. */
static const char *js_skip_container(const char *p, const char *end)
{
	char stack[JS_MAX_DEPTH];
	int depth = 0;

	while (p < end) {
		char c = *p;
		if (c == '"') {
			if ((p = js_skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth == JS_MAX_DEPTH)
				return NULL;
			stack[depth++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (depth == 0 || stack[depth - 1] != c)
				return NULL;
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

/* Reads the value at p (after whitespace); returns one past it, or NULL. */
static const char *js_value(const char *p, const char *end, struct js_val *v)
{
	const char *q;

	p = js_ws(p, end);
	v->type = JS_BAD;
	v->start = p;
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"': q = js_skip_string(p, end); v->type = JS_STRING; break;
	case '{': q = js_skip_container(p, end); v->type = JS_OBJECT; break;
	case '[': q = js_skip_container(p, end); v->type = JS_ARRAY; break;
	case 't': q = js_skip_scalar(p, end); v->type = JS_TRUE; break;
	case 'f': q = js_skip_scalar(p, end); v->type = JS_FALSE; break;
	case 'n': q = js_skip_scalar(p, end); v->type = JS_NULL; break;
	default:
		if (*p != '-' && (*p < '0' || *p > '9'))
			return NULL;
		q = js_skip_scalar(p, end);
		v->type = JS_NUMBER;
	}
	if (q == NULL || q == p)
		return NULL;
	v->end = q;
	return q;
}

const char *ce_scratch_strndup(struct ce_scratch *s, const char *p, size_t len)
{
	char *d;

	if (s->cap - s->used < len + 1)
		return NULL;
	d = s->buf + s->used;
	memcpy(d, p, len);
	d[len] = '\0';
	s->used += len + 1;
	return d;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int js_hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xC0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xE0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		d[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	d[0] = (char)(0xF0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	d[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* One escape at p (after the backslash) into d; returns bytes consumed or -1. */
static int js_unescape1(const char *p, const char *end, char *d, size_t *dn)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit = p < end ? strchr(from, *p) : NULL;
	unsigned cp, lo;

	if (hit != NULL && *p != '\0') {
		d[0] = to[hit - from];
		*dn = 1;
		return 1;
	}
	if (p >= end || *p != 'u' || js_hex4(p + 1, end, &cp) < 0)
		return -1;
	if (cp >= 0xD800 && cp < 0xDC00) {
		if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || js_hex4(p + 7, end, &lo) < 0 ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		*dn = utf8_put(d, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
		return 11;
	}
	*dn = utf8_put(d, cp);
	return 5;
}

/* A string value (with quotes) unescaped into scratch; NULL on a bad escape or full. */
static const char *js_string(const struct js_val *v, struct ce_scratch *s)
{
	const char *p = v->start + 1, *end = v->end - 1;
	char *d;
	size_t n = 0;

	if (memchr(p, '\\', (size_t)(end - p)) == NULL)
		return ce_scratch_strndup(s, p, (size_t)(end - p));
	if (s->cap - s->used < (size_t)(end - p) + 1)
		return NULL;
	d = s->buf + s->used;
	while (p < end) {
		if (*p != '\\') {
			d[n++] = *p++;
			continue;
		}
		size_t dn;
		int used = js_unescape1(p + 1, end, d + n, &dn);
		if (used < 0)
			return NULL;
		n += dn;
		p += 1 + used;
	}
	d[n] = '\0';
	s->used += n + 1;
	return d;
}

/* A scalar as a string (strings unescaped, numbers/booleans as written). */
static const char *js_scalar(const struct js_val *v, struct ce_scratch *s)
{
	if (v->type == JS_STRING)
		return js_string(v, s);
	if (v->type == JS_NUMBER || v->type == JS_TRUE || v->type == JS_FALSE)
		return ce_scratch_strndup(s, v->start, (size_t)(v->end - v->start));
	return NULL;
}

/* Iterates an object's members. *pp starts at '{' (first call) and moves on; returns
 * 1 with key span and value, 0 at the end, -1 on bad JSON. */
static int js_member(const char **pp, const char *end, bool first, struct js_val *key,
    struct js_val *val)
{
	const char *p = js_ws(*pp, end);

	if (first) {
		if (p >= end || *p != '{')
			return -1;
		p = js_ws(p + 1, end);
		if (p < end && *p == '}') {
			*pp = p + 1;
			return 0;
		}
	} else {
		if (p < end && *p == '}') {
			*pp = p + 1;
			return 0;
		}
		if (p >= end || *p != ',')
			return -1;
		p = js_ws(p + 1, end);
	}
	if (p >= end || *p != '"' || (p = js_value(p, end, key)) == NULL)
		return -1;
	p = js_ws(p, end);
	if (p >= end || *p != ':' || (p = js_value(p + 1, end, val)) == NULL)
		return -1;
	*pp = p;
	return 1;
}

/* 1 when the key span equals `name` of length n (keys with escapes never match). */
static bool js_key_is(const struct js_val *key, const char *name, size_t n)
{
	return (size_t)(key->end - key->start) == n + 2 && memcmp(key->start + 1, name, n) == 0;
}

int ce_json_lookup(const char *json, size_t len, const char *path, struct ce_scratch *s,
    const char **out)
{
	const char *p = json, *end = json + len, *seg = path;
	struct js_val key, val;

	for (;;) {
		const char *dot = strchr(seg, '.');
		size_t n = dot != NULL ? (size_t)(dot - seg) : strlen(seg);
		bool first = true, found = false;
		int r;

		while ((r = js_member(&p, end, first, &key, &val)) == 1) {
			first = false;
			if (js_key_is(&key, seg, n)) {
				found = true;
				break;
			}
		}
		if (!found)
			return -1;
		if (dot == NULL) {
			*out = js_scalar(&val, s);
			return *out != NULL ? 0 : -1;
		}
		if (val.type != JS_OBJECT)
			return -1;
		p = val.start;
		seg = dot + 1;
	}
}

const struct ce_header *ce_header_find(const struct ce_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}

int ce_is_binary(const struct ce_header *h, size_t n)
{
	return ce_header_find(h, n, "ce_specversion") != NULL || ce_header_find(h, n, "ce_id") != NULL;
}

int ce_is_structured(const struct ce_header *h, size_t n)
{
	static const char ct[] = "application/cloudevents+json";
	const struct ce_header *c = ce_header_find(h, n, "content-type");

	if (c == NULL)
		c = ce_header_find(h, n, "Content-Type");
	return c != NULL && c->val != NULL && c->len >= sizeof ct - 1 &&
	    strncasecmp(c->val, ct, sizeof ct - 1) == 0 &&
	    (c->len == sizeof ct - 1 || c->val[sizeof ct - 1] == ';');
}

static void ev_init(struct event *ev, struct ce_scratch *s)
{
	*ev = (struct event){ .event_id = "", .correlation_id = "", .type = "", .source = "",
		.causation_id = "", .flow = NULL, .time_ns = INT64_MIN, .attrs = s->attrs,
		.nattrs = 0, .topic = NULL, .partition = -1, .offset = -1 };
}

/* Applies one CloudEvents attribute (name without the ce_ prefix; value a string in
 * scratch). Returns 0, or -1 with *reason. */
static int ce_attr(struct event *ev, struct ce_scratch *s, const char *name, const char *val,
    const char **reason)
{
	if (strcmp(name, "id") == 0)
		ev->event_id = val;
	else if (strcmp(name, "type") == 0)
		ev->type = val;
	else if (strcmp(name, "source") == 0)
		ev->source = val;
	else if (strcmp(name, "correlationid") == 0)
		ev->correlation_id = val;
	else if (strcmp(name, "causationid") == 0)
		ev->causation_id = val;
	else if (strcmp(name, "flow") == 0)
		ev->flow = val[0] != '\0' ? val : NULL;
	else if (strcmp(name, "time") == 0) {
		if (timefmt_parse_rfc3339(val, strlen(val), &ev->time_ns) < 0) {
			*reason = "bad_time";
			return -1;
		}
	} else if (strcmp(name, "specversion") != 0 && strcmp(name, "datacontenttype") != 0 &&
	    strcmp(name, "dataschema") != 0 && ev->nattrs < EV_MAX_ATTRS) {
		s->attrs[ev->nattrs++] = (struct ev_attr){ .key = name, .val = val };
	}
	return 0;
}

static int ce_required(const struct event *ev, const char **reason)
{
	if (ev->event_id[0] == '\0' || ev->type[0] == '\0' || ev->source[0] == '\0' ||
	    ev->time_ns == INT64_MIN) {
		*reason = "missing_field";
		return -1;
	}
	return 0;
}

int ce_decode_binary(const struct ce_header *h, size_t n, struct ce_scratch *s,
    struct event *ev, const char **reason)
{
	size_t plen = sizeof CE_PREFIX - 1;

	ev_init(ev, s);
	for (size_t i = 0; i < n; i++) {
		const char *name, *val;
		if (strncmp(h[i].name, CE_PREFIX, plen) != 0 || h[i].name[plen] == '\0')
			continue;
		name = h[i].name + plen;
		val = ce_scratch_strndup(s, h[i].val != NULL ? h[i].val : "", h[i].len);
		if (val == NULL || memchr(val, '\0', h[i].len) != NULL) {
			*reason = val == NULL ? "too_large" : "bad_header";
			return -1;
		}
		if (ce_attr(ev, s, name, val, reason) < 0)
			return -1;
	}
	return ce_required(ev, reason);
}

int ce_decode_structured(const char *json, size_t len, struct ce_scratch *s,
    struct event *ev, const char **reason)
{
	const char *p = json, *end = json + len;
	struct js_val key, val;
	bool first = true;
	int r;

	ev_init(ev, s);
	while ((r = js_member(&p, end, first, &key, &val)) == 1) {
		const char *name, *v;
		first = false;
		if (val.type == JS_OBJECT || val.type == JS_ARRAY || val.type == JS_NULL ||
		    js_key_is(&key, "data", 4) || js_key_is(&key, "data_base64", 11))
			continue;
		name = js_string(&key, s);
		v = js_scalar(&val, s);
		if (name == NULL || v == NULL) {
			*reason = s->used >= s->cap ? "too_large" : "malformed_json";
			return -1;
		}
		if (ce_attr(ev, s, name, v, reason) < 0)
			return -1;
	}
	if (r < 0 || js_ws(p, end) != end) {
		*reason = "malformed_json";
		return -1;
	}
	return ce_required(ev, reason);
}
