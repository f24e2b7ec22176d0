/*
 * jbuf: growable text buffer with Prometheus and JSON escaping. See jbuf.h.
 * Allocation happens only when a document outgrows its previous size: renderers
 * keep their jbuf between renders, so steady-state rendering does not malloc.
 * A JSON string is measured first and then written in place, so the common case
 * (nothing to escape) is one reserve and one memcpy.
 */
#include "lib/jbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/timefmt.h"

void jbuf_init(struct jbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void jbuf_free(struct jbuf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void jbuf_reset(struct jbuf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Ensures room for n more bytes; false (and overflow set) when over the cap. */
static bool jbuf_reserve(struct jbuf *b, size_t n)
{
	if (b->overflow)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	if (b->len + n + 1 > b->max) {
		b->overflow = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->overflow = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void jbuf_put(struct jbuf *b, const char *s, size_t n)
{
	if (!jbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jbuf_puts(struct jbuf *b, const char *s) { jbuf_put(b, s, strlen(s)); }

void jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		jbuf_put(b, tmp, (size_t)n);
		return;
	}
	if (!jbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void jbuf_prom_label(struct jbuf *b, const char *s)
{
	for (const char *c = s; *c; c++) {
		if (*c == '\\')
			jbuf_put(b, "\\\\", 2);
		else if (*c == '"')
			jbuf_put(b, "\\\"", 2);
		else if (*c == '\n')
			jbuf_put(b, "\\n", 2);
		else
			jbuf_put(b, c, 1);
	}
}

int jbuf_write(const struct jbuf *b, FILE *out)
{
	if (b->overflow)
		return -1;
	return b->len == 0 || fwrite(b->p, 1, b->len, out) == b->len ? 0 : -1;
}

/* Bytes of the escaped form of c (without quotes). */
static size_t esc_len(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r')
		return 2;
	return c < 0x20 ? 6 : 1;
}

void jbuf_json_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (s == NULL) {
		jbuf_put(b, "null", 4);
		return;
	}
	/* One pass over the string when the worst case (every byte \u00XX) fits the
	 * buffer's bound, which is every string of a record: room is reserved for it and
	 * the escaped form written straight in. Only a string near the bound is measured
	 * exactly first, so that it is not refused for room it does not need. */
	size_t len = strlen(s);
	size_t n = len * 6 + 2;
	if (b->len + n + 1 > b->max) {
		n = 2;
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			n += esc_len(*p);
	}
	if (!jbuf_reserve(b, n))
		return;
	char *o = b->p + b->len;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
}

void jbuf_json_uint(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (!jbuf_reserve(b, (size_t)n))
		return;
	while (n)
		b->p[b->len++] = tmp[--n];
	b->p[b->len] = '\0';
}

void jbuf_json_int(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		jbuf_put(b, "-", 1);
		jbuf_json_uint(b, (uint64_t)0 - (uint64_t)v);
	} else {
		jbuf_json_uint(b, (uint64_t)v);
	}
}

/* A whole number below 1e15 as an integer (counters stay 1000000, not 1e+06);
 * else the shortest %.*g that reads back as v (17 digits always do). */
void jbuf_json_num(struct jbuf *b, double v)
{
	if (!isfinite(v)) {
		jbuf_put(b, "null", 4);
		return;
	}
	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		jbuf_json_int(b, (int64_t)v);
		return;
	}
	char tmp[40];
	int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	for (int prec = 1; prec < 17; prec++) {
		char t2[40];
		int m = snprintf(t2, sizeof(t2), "%.*g", prec, v);
		if (strtod(t2, NULL) == v) {
			memcpy(tmp, t2, (size_t)m + 1);
			n = m;
			break;
		}
	}
	jbuf_put(b, tmp, (size_t)n);
}

void jbuf_json_time(struct jbuf *b, int64_t ns)
{
	if (ns == INT64_MIN) {
		jbuf_put(b, "null", 4);
		return;
	}
	char tmp[TIMEFMT_RFC3339_MAX + 2];
	tmp[0] = '"';
	size_t n = timefmt_format_rfc3339(ns, tmp + 1, sizeof(tmp) - 2);
	tmp[n + 1] = '"';
	jbuf_put(b, tmp, n + 2);
}

void jbuf_json_seconds(struct jbuf *b, int64_t ns)
{
	char tmp[TIMEFMT_SECONDS_MAX];
	jbuf_put(b, tmp, timefmt_seconds(ns, tmp, sizeof(tmp)));
}

void jbuf_json_key(struct jbuf *b, const char *key)
{
	if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
		jbuf_put(b, ",", 1);
	jbuf_json_str(b, key);
	jbuf_put(b, ":", 1);
}

void jbuf_json_kstr(struct jbuf *b, const char *key, const char *s)
{
	jbuf_json_key(b, key);
	jbuf_json_str(b, s);
}

void jbuf_json_kint(struct jbuf *b, const char *key, int64_t v)
{
	jbuf_json_key(b, key);
	jbuf_json_int(b, v);
}

void jbuf_json_ktime(struct jbuf *b, const char *key, int64_t ns)
{
	jbuf_json_key(b, key);
	jbuf_json_time(b, ns);
}
