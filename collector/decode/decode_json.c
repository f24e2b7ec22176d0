/*
 * decode_json: one JSON object -> struct event, through yajl's callback parser.
 *
 * No DOM: the callbacks follow the configured field paths with one bitmask per open
 * object (which fields' paths still match at that depth), so a key costs a few
 * length+memcmp checks and values off every path are never copied. Objects and arrays
 * off the paths are counted through (`skip`) without looking inside.
 *
 * The yajl handle lives across calls (building one costs ~100 ns, a sixth of a decode):
 * it runs with yajl_allow_multiple_values, so after one complete object it is ready for
 * the next. yajl 2 has no reset, so whenever a call ends any other way (an error, a
 * truncated object, bytes after the object, a callback that stopped the parse) the
 * handle is dropped and rebuilt on the next call. Its memory comes from its own arena,
 * reset when the handle is rebuilt; that arena is not capped because yajl does not check
 * allocation failures, but it only grows when yajl's string buffer (doubling, up to the
 * longest string) or state stack (up to the deepest nesting) grows, and it is rebuilt
 * once it holds more than 4x max_len + 64 KiB.
 *
 * Depth: every object and array opened (skipped ones too) counts in `nest`; opening
 * one past the decoder's max_depth stops the parse (too_deep) before yajl's state
 * stack grows any further.
 *
 * Copied strings go to the decoder's scratch arena (reset per call), one run of
 * 2*len+64 bytes, which bounds them: each copied token is no longer than its JSON text
 * and gains one NUL.
 *
 * Paths are bits of one 32-bit mask: the fields (DECODE_FIELDS) and the lookups above
 * them. A lookup is never an error: a non-scalar value just leaves it absent. Members
 * mode (decode_json_members) treats the top-level object as an attributes object whose
 * members go to a callback, with the fields switched off and the lookups on.
 *
 * Surrogates: yajl decodes a lone high surrogate escape to "?" and a high one followed
 * by any \u escape to some supplementary character, so distinct ids could decode to the
 * same text. After a parse that succeeded, the escapes of the input are checked once
 * (a memchr for '\', which payloads rarely contain): yajl has validated the syntax, so
 * every backslash found starts an escape inside a string.
 */
#include "decode/decode_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include "lib/timefmt.h"

struct jctx {
	struct decoder *d;
	yajl_handle h;
	int finished; /* the top-level object has closed */
	size_t end;   /* input offset just after it */
	int code;     /* the first error a callback met */
	char *err;
	size_t errlen;
	int started; /* the top-level object has begun */
	int depth;   /* open objects on the paths; 1 = the top object */
	int skip;    /* open containers being skipped */
	size_t nest; /* open objects and arrays, all of them */
	unsigned masks[DECODE_PATH_MAX_DEPTH + 2]; /* fields alive in the object at depth */
	unsigned pending;     /* fields the last key matched (value position) */
	int attrs_depth;      /* depth of the attributes object; 0: not inside it */
	int member_mode;      /* decode_json_members: the top object is "attributes" */
	const char *attr_key; /* attribute key awaiting its value */
	const char *vals[DECODE_MAX_PATHS]; /* the values found (DF_TIME unused) */
	decode_member_fn member;            /* members mode: the callback (may be NULL) */
	void *mctx;
	int64_t time_ns;
	uint32_t nattrs;
	char *sp, *send; /* scratch for copied strings */
};

static int fail(struct jctx *c, int code, const char *fmt, const char *arg)
{
	c->code = code;
	snprintf(c->err, c->errlen, fmt, arg);
	return 0;
}

/* A NUL-terminated copy of s in scratch, or NULL (and the error set). */
static const char *copy(struct jctx *c, const unsigned char *s, size_t len)
{
	if (!decode_text_valid((const char *)s, len)) {
		fail(c, DECODE_BAD_UTF8, "%s in string",
		    memchr(s, 0, len) ? "NUL character (\\u0000)" : "invalid UTF-8");
		return NULL;
	}
	if ((size_t)(c->send - c->sp) < len + 1) {
		fail(c, DECODE_NO_MEMORY, "decode scratch exhausted%s", "");
		return NULL;
	}
	char *p = c->sp;
	memcpy(p, s, len);
	p[len] = '\0';
	c->sp += len + 1;
	return p;
}

/* Leaves value position: the value after the last key has been read. */
static void value_done(struct jctx *c)
{
	c->pending = 0;
	c->attr_key = NULL;
}

/* A value outside the top-level object: before it (the input is no object) or after. */
static int not_object(struct jctx *c)
{
	return fail(c, DECODE_MALFORMED_JSON,
	    c->finished ? "data after the JSON object%s" : "expected a JSON object%s", "");
}

/* A non-string value for a string field (or a scalar for attributes): the error. */
static int wrong_type(struct jctx *c, unsigned leaf, const char *what)
{
	char msg[160];
	int f = __builtin_ctz(leaf);
	snprintf(msg, sizeof(msg), "field \"%s\" is %s, expected %s", c->d->path[f].text, what,
	    f == DF_ATTRIBUTES ? "an object" : "a string");
	return fail(c, DECODE_WRONG_TYPE, "%s", msg);
}

static unsigned leaf_fields(const struct jctx *c) { return c->pending & c->d->ends_at[c->depth]; }

static int add_attr(struct jctx *c, const char *val)
{
	if (c->attrs_depth == 1) { /* members mode: the top object */
		int rc = c->member ? c->member(c->mctx, c->attr_key, val) : 0;
		return rc ? fail(c, rc, "member \"%s\" refused", c->attr_key) : 1;
	}
	const struct decode_limits *l = &c->d->lim;
	char msg[96];
	if (c->nattrs == l->max_attributes) {
		snprintf(msg, sizeof(msg), "more than %zu attributes", l->max_attributes);
		return fail(c, DECODE_TOO_MANY_ATTRIBUTES, "%s", msg);
	}
	size_t kl = strlen(c->attr_key), vl = strlen(val);
	if (kl > l->max_attribute_bytes || vl > l->max_attribute_bytes) {
		snprintf(msg, sizeof(msg), "attribute %s of %zu bytes, more than %zu",
		    kl > l->max_attribute_bytes ? "key" : "value",
		    kl > l->max_attribute_bytes ? kl : vl, l->max_attribute_bytes);
		return fail(c, DECODE_ATTRIBUTE_TOO_LARGE, "%s", msg);
	}
	c->d->attrs[c->nattrs].key = c->attr_key;
	c->d->attrs[c->nattrs++].val = val;
	return 1;
}

static unsigned all_paths(const struct decoder *d)
{
	return (unsigned)((1ull << (DF_N + d->nlookups)) - 1);
}

/* One more object or array open: 1, or 0 (too_deep) past max_depth. */
static int open_container(struct jctx *c)
{
	if (++c->nest <= c->d->lim.max_depth)
		return 1;
	char msg[64];
	snprintf(msg, sizeof(msg), "nested deeper than %zu", c->d->lim.max_depth);
	return fail(c, DECODE_TOO_DEEP, "%s", msg);
}

/* Lookups whose value is an object or array: absent (the last occurrence wins). */
static void clear_lookups(struct jctx *c, unsigned leaf)
{
	for (leaf &= ~DECODE_FIELDS; leaf; leaf &= leaf - 1)
		c->vals[__builtin_ctz(leaf)] = NULL;
}

static int on_start_map(void *ctx)
{
	struct jctx *c = ctx;
	if (!open_container(c))
		return 0;
	if (c->skip) {
		c->skip++;
		return 1;
	}
	if (c->finished)
		return fail(c, DECODE_MALFORMED_JSON, "data after the JSON object%s", "");
	if (!c->started) {
		c->started = c->depth = 1;
		c->masks[1] = c->member_mode ? all_paths(c->d) & ~DECODE_FIELDS : all_paths(c->d);
		c->attrs_depth = c->member_mode;
		return 1;
	}
	unsigned leaf = leaf_fields(c), child = c->pending & ~leaf;
	if (leaf & DECODE_FIELDS & ~(1u << DF_ATTRIBUTES))
		return wrong_type(c, leaf & DECODE_FIELDS & ~(1u << DF_ATTRIBUTES), "an object");
	int attrs = (leaf & (1u << DF_ATTRIBUTES)) != 0;
	clear_lookups(c, leaf);
	value_done(c);
	if (!child && !attrs) {
		c->skip = 1;
		return 1;
	}
	c->masks[++c->depth] = child;
	if (attrs)
		c->attrs_depth = c->depth;
	return 1;
}

static int on_end_map(void *ctx)
{
	struct jctx *c = ctx;
	c->nest--;
	if (c->skip) {
		c->skip--;
		return 1;
	}
	if (c->depth == c->attrs_depth)
		c->attrs_depth = 0;
	if (--c->depth == 0) {
		c->finished = 1;
		c->end = yajl_get_bytes_consumed(c->h);
	}
	value_done(c);
	return 1;
}

static int on_start_array(void *ctx)
{
	struct jctx *c = ctx;
	if (!c->started || c->finished)
		return not_object(c);
	if (!open_container(c))
		return 0;
	if (c->skip) {
		c->skip++;
		return 1;
	}
	unsigned leaf = leaf_fields(c);
	if (leaf & DECODE_FIELDS)
		return wrong_type(c, leaf & DECODE_FIELDS, "an array");
	clear_lookups(c, leaf);
	value_done(c);
	c->skip = 1;
	return 1;
}

static int on_end_array(void *ctx)
{
	struct jctx *c = ctx;
	c->nest--;
	c->skip--;
	return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct jctx *c = ctx;
	if (c->skip)
		return 1;
	const struct decoder *d = c->d;
	int comp = c->depth - 1;
	/* alive fields have a component at comp, so comp < DECODE_PATH_MAX_DEPTH here */
	unsigned alive = c->masks[c->depth], match = 0;
	if (alive)
		alive &= len ? d->first[comp][key[0]] : 0;
	while (alive) {
		int f = __builtin_ctz(alive);
		alive &= alive - 1;
		if (d->path[f].complen[comp] == len && !memcmp(d->path[f].comp[comp], key, len))
			match |= 1u << f;
	}
	c->pending = match;
	c->attr_key = NULL;
	if (c->depth == c->attrs_depth && !(c->attr_key = copy(c, key, len)))
		return 0;
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct jctx *c = ctx;
	if (!c->started || c->finished)
		return not_object(c);
	if (c->skip)
		return 1;
	unsigned leaf = leaf_fields(c);
	const char *val = NULL;
	if (leaf & (1u << DF_ATTRIBUTES))
		return wrong_type(c, 1u << DF_ATTRIBUTES, "a string");
	if (leaf & (1u << DF_TIME)) {
		int rc = timefmt_parse_rfc3339((const char *)s, len, &c->time_ns);
		if (rc) {
			char msg[96];
			snprintf(
			    msg, sizeof(msg), "%.*s", len > 64 ? 64 : (int)len, (const char *)s);
			return rc == TIMEFMT_ERANGE
			    ? fail(c, DECODE_TIME_OUT_OF_RANGE,
				  "time \"%s\" is outside the accepted "
				  "range 1970-01-01T00:00:00Z..2199-12-31T23:59:59.999999999Z",
				  msg)
			    : fail(c, DECODE_BAD_TIME, "time \"%s\" is not a valid RFC 3339 time",
				  msg);
		}
		leaf &= ~(1u << DF_TIME);
	}
	if ((leaf || c->attr_key) && !(val = copy(c, s, len)))
		return 0;
	while (leaf) {
		c->vals[__builtin_ctz(leaf)] = val;
		leaf &= leaf - 1;
	}
	int ok = c->attr_key ? add_attr(c, val) : 1;
	value_done(c);
	return ok;
}

/* Numbers and booleans: kept as their JSON text in attributes, wrong for fields. */
static int on_literal(struct jctx *c, const char *text, size_t len, const char *what)
{
	if (!c->started || c->finished)
		return not_object(c);
	if (c->skip)
		return 1;
	unsigned leaf = leaf_fields(c);
	if (leaf & DECODE_FIELDS)
		return wrong_type(c, leaf & DECODE_FIELDS, what);
	int ok = 1;
	if (leaf || c->attr_key) {
		const char *val = copy(c, (const unsigned char *)text, len);
		if (!val)
			return 0;
		for (; leaf; leaf &= leaf - 1)
			c->vals[__builtin_ctz(leaf)] = val;
		ok = c->attr_key ? add_attr(c, val) : 1;
	}
	value_done(c);
	return ok;
}

static int on_number(void *ctx, const char *s, size_t len)
{
	return on_literal(ctx, s, len, "a number");
}

static int on_boolean(void *ctx, int b)
{
	return on_literal(ctx, b ? "true" : "false", b ? 4 : 5, "a boolean");
}

/* null: the field is absent (the last occurrence wins); a null attribute is skipped. */
static int on_null(void *ctx)
{
	struct jctx *c = ctx;
	if (!c->started || c->finished)
		return not_object(c);
	if (c->skip)
		return 1;
	unsigned leaf = leaf_fields(c);
	while (leaf) {
		int f = __builtin_ctz(leaf);
		c->vals[f] = NULL;
		if (f == DF_TIME)
			c->time_ns = DECODE_NO_TIME;
		leaf &= leaf - 1;
	}
	value_done(c);
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

/* yajl's own error, classified: bad_utf8 or malformed_json. */
static int yajl_failure(yajl_handle h, const char *buf, size_t len, char *err, size_t errlen)
{
	unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)buf, len);
	const char *m = msg ? (const char *)msg : "parse error";
	size_t mlen = strcspn(m, "\n");
	snprintf(err, errlen, "%.*s at byte %zu", (int)mlen, m, yajl_get_bytes_consumed(h));
	return strstr(m, "UTF8") ? DECODE_BAD_UTF8 : DECODE_MALFORMED_JSON;
}

/* The required fields present and non-empty, then ev filled in. */
static int finish(struct jctx *c, struct event *ev)
{
	const struct decoder *d = c->d;
	for (int f = 0; f <= DF_TIME; f++) {
		if (!(d->required & (1u << f)))
			continue;
		int absent =
		    f == DF_TIME ? c->time_ns == DECODE_NO_TIME : !c->vals[f] || !*c->vals[f];
		if (absent) {
			fail(c, DECODE_MISSING_FIELD, "missing field \"%s\"", d->path[f].text);
			return c->code;
		}
	}
	ev->event_id = c->vals[DF_EVENT_ID] ? c->vals[DF_EVENT_ID] : "";
	ev->correlation_id = c->vals[DF_CORRELATION_ID] ? c->vals[DF_CORRELATION_ID] : "";
	ev->type = c->vals[DF_TYPE] ? c->vals[DF_TYPE] : "";
	ev->source = c->vals[DF_SOURCE] ? c->vals[DF_SOURCE] : "";
	ev->causation_id = c->vals[DF_CAUSATION_ID] ? c->vals[DF_CAUSATION_ID] : "";
	ev->flow = c->vals[DF_FLOW] && *c->vals[DF_FLOW] ? c->vals[DF_FLOW] : NULL;
	ev->time_ns = c->time_ns;
	ev->attrs = c->nattrs ? d->attrs : NULL;
	ev->nattrs = c->nattrs;
	return 0;
}

struct decode_json_state {
	struct jctx c;
	yajl_handle h;       /* NULL: to be (re)built */
	struct arena *arena; /* the handle's memory */
};

void decode_json_state_free(struct decode_json_state *js)
{
	if (!js)
		return;
	arena_free(js->arena);
	free(js);
}

/* The decoder's yajl handle, built if needed; NULL when out of memory. */
static yajl_handle handle(struct decoder *d)
{
	struct decode_json_state *js = d->json;
	if (!js && !(js = d->json = calloc(1, sizeof(*js))))
		return NULL;
	if (js->h)
		return js->h;
	if (js->arena && arena_capacity(js->arena) > 4 * d->max_len + 64 * 1024) {
		arena_free(js->arena);
		js->arena = NULL;
	}
	if (!js->arena && !(js->arena = arena_new(16 * 1024, 0)))
		return NULL;
	arena_reset(js->arena);
	yajl_alloc_funcs af = { arena_ctx_malloc, arena_ctx_realloc, arena_ctx_free, js->arena };
	js->h = yajl_alloc(&callbacks, &af, &js->c);
	if (js->h)
		yajl_config(js->h, yajl_allow_multiple_values, 1);
	return js->h;
}

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

static unsigned hex4(const char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned ch = (unsigned char)p[i];
		v = v << 4 | (ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
	}
	return v;
}

/* 0 when every \u escape of buf (already parsed by yajl: each backslash starts a
 * valid escape) is a scalar value or a high surrogate followed by a low one; else
 * DECODE_BAD_UTF8 with the offending escape in err. */
static int check_escapes(const char *buf, size_t len, char *err, size_t errlen)
{
	const char *end = buf + len;
	for (const char *p = memchr(buf, '\\', len); p && end - p >= 2;
	     p = memchr(p, '\\', (size_t)(end - p))) {
		if (p[1] != 'u' || end - p < 6) {
			p += 2;
			continue;
		}
		unsigned cp = hex4(p + 2), lo = 0;
		int bad = cp >= 0xdc00 && cp <= 0xdfff;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			bad = end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
			    (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff;
			if (!bad)
				p += 6;
		}
		if (bad) {
			snprintf(err, errlen, "lone surrogate escape \\u%04x at byte %zu", cp,
			    (size_t)(p - buf));
			return DECODE_BAD_UTF8;
		}
		p += 6;
	}
	return 0;
}

/* Runs yajl over buf; on anything but one clean object the handle is dropped. */
static int parse(struct decoder *d, struct jctx *c, const char *buf, size_t len)
{
	yajl_status st = yajl_parse(c->h, (const unsigned char *)buf, len);
	int rc = c->code;
	if (!rc && st != yajl_status_ok)
		rc = yajl_failure(c->h, buf, len, c->err, c->errlen);
	if (!rc && !c->finished) {
		snprintf(c->err, c->errlen, "%s",
		    c->started ? "the JSON object is cut short"
			       : "empty input, expected a JSON object");
		rc = DECODE_MALFORMED_JSON;
	}
	for (size_t i = c->end; !rc && i < len; i++)
		if (!is_space(buf[i])) {
			snprintf(c->err, c->errlen, "data after the JSON object at byte %zu", i);
			rc = DECODE_MALFORMED_JSON;
		}
	if (rc)
		d->json->h = NULL; /* spent: its memory goes with the next rebuild */
	if (!rc)
		rc = check_escapes(buf, len, c->err, c->errlen);
	for (int k = 0; !rc && k < d->nlookups; k++)
		d->looked[k] = c->vals[DF_N + k];
	return rc;
}

/* One parse of buf: members mode when member_mode (fn may be NULL), else the fields.
 * The lookups are cleared first, so they are set only by a parse that succeeded. */
static int run(struct decoder *d, const char *buf, size_t len, int member_mode, decode_member_fn fn,
    void *ctx, char *err, size_t errlen, struct jctx **out)
{
	memset(d->looked, 0, sizeof(d->looked));
	if (len > d->max_len) {
		snprintf(err, errlen, "JSON input of %zu bytes exceeds the %zu-byte limit", len,
		    d->max_len);
		return DECODE_TOO_LARGE;
	}
	arena_reset(d->arena);
	size_t cap = 2 * len + 64;
	char *scratch = arena_alloc(d->arena, cap);
	yajl_handle h = scratch ? handle(d) : NULL;
	if (!h) {
		snprintf(err, errlen, "out of decode scratch");
		return DECODE_NO_MEMORY;
	}
	struct jctx *c = *out = &d->json->c;
	*c = (struct jctx){ .d = d,
		.h = h,
		.err = err,
		.errlen = errlen,
		.time_ns = DECODE_NO_TIME,
		.sp = scratch,
		.send = scratch + cap,
		.member_mode = member_mode,
		.member = fn,
		.mctx = ctx };
	return parse(d, c, buf, len);
}

int decode_json(
    struct decoder *d, const char *buf, size_t len, struct event *ev, char *err, size_t errlen)
{
	struct jctx *c;
	decode_ev_init(ev);
	int rc = run(d, buf, len, 0, NULL, NULL, err, errlen, &c);
	return rc ? rc : finish(c, ev);
}

int decode_json_members(struct decoder *d, const char *buf, size_t len, decode_member_fn fn,
    void *ctx, char *err, size_t errlen)
{
	struct jctx *c;
	return run(d, buf, len, 1, fn, ctx, err, errlen, &c);
}

/* Appends s as a JSON string (quotes included) at out[*n], writing only below cap. */
static void put_str(char *out, size_t cap, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];
	if (*n < cap)
		out[*n] = '"';
	(*n)++;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t k = 0;
		if (*p == '"' || *p == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)*p;
		} else if (*p < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			k = 6;
		} else
			esc[k++] = (char)*p;
		for (size_t i = 0; i < k; i++, (*n)++)
			if (*n < cap)
				out[*n] = esc[i];
	}
	if (*n < cap)
		out[*n] = '"';
	(*n)++;
}

static void put_raw(char *out, size_t cap, size_t *n, const char *s)
{
	for (; *s; s++, (*n)++)
		if (*n < cap)
			out[*n] = *s;
}

static void put_member(char *out, size_t cap, size_t *n, const char *key, const char *val)
{
	put_raw(out, cap, n, *n > 1 ? ",\"" : "\"");
	put_raw(out, cap, n, key);
	put_raw(out, cap, n, "\":");
	put_str(out, cap, n, val);
}

size_t decode_json_format(const struct event *ev, char *buf, size_t cap)
{
	char ts[TIMEFMT_RFC3339_MAX];
	size_t n = 0;
	timefmt_format_rfc3339(ev->time_ns, ts, sizeof(ts));
	put_raw(buf, cap, &n, "{");
	put_member(buf, cap, &n, "event_id", ev->event_id);
	put_member(buf, cap, &n, "correlation_id", ev->correlation_id);
	put_member(buf, cap, &n, "type", ev->type);
	put_member(buf, cap, &n, "source", ev->source);
	put_member(buf, cap, &n, "time", ts);
	if (ev->flow && *ev->flow)
		put_member(buf, cap, &n, "flow", ev->flow);
	if (ev->causation_id && *ev->causation_id)
		put_member(buf, cap, &n, "causation_id", ev->causation_id);
	if (ev->nattrs) {
		put_raw(buf, cap, &n, ",\"attributes\":{");
		for (uint32_t i = 0; i < ev->nattrs; i++) {
			if (i)
				put_raw(buf, cap, &n, ",");
			put_str(buf, cap, &n, ev->attrs[i].key);
			put_raw(buf, cap, &n, ":");
			put_str(buf, cap, &n, ev->attrs[i].val);
		}
		put_raw(buf, cap, &n, "}");
	}
	put_raw(buf, cap, &n, "}");
	if (n < cap)
		buf[n] = '\0';
	else if (cap)
		buf[0] = '\0';
	return n;
}
