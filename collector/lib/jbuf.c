/*
 * jbuf: growable text buffer with Prometheus and JSON escaping. See jbuf.h.
 * Allocation happens only when a document outgrows its previous size: renderers
 * keep their jbuf between renders, so steady-state rendering does not malloc.
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

bool jbuf_reserve(struct jbuf *b, size_t n)
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

void jbuf_puts(struct jbuf *b, const char *s)
{
	jbuf_put(b, s, strlen(s));
}

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

void jbuf_json_str(struct jbuf *b, const char *s)
{
	if (s == NULL) {
		jbuf_put(b, "null", 4);
		return;
	}
	jbuf_put(b, "\"", 1);
	const char *run = s;
	for (const char *c = s; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u >= 0x20 && u != '"' && u != '\\')
			continue;
		jbuf_put(b, run, (size_t)(c - run));
		if (u == '"')
			jbuf_put(b, "\\\"", 2);
		else if (u == '\\')
			jbuf_put(b, "\\\\", 2);
		else if (u == '\n')
			jbuf_put(b, "\\n", 2);
		else
			jbuf_printf(b, "\\u%04x", u);
		run = c + 1;
	}
	jbuf_puts(b, run);
	jbuf_put(b, "\"", 1);
}

void jbuf_json_num(struct jbuf *b, double v)
{
	if (isnan(v) || isinf(v)) {
		jbuf_put(b, "null", 4);
		return;
	}
	if (v == (double)(int64_t)v && fabs(v) < 1e15)
		jbuf_printf(b, "%lld", (long long)v);
	else
		jbuf_printf(b, "%.6g", v);
}

void jbuf_json_time(struct jbuf *b, int64_t ns)
{
	if (ns == INT64_MIN) {
		jbuf_put(b, "null", 4);
		return;
	}
	char out[TIMEFMT_RFC3339_MAX + 2];
	size_t n = timefmt_format_rfc3339(ns, out + 1, sizeof(out) - 1);
	out[0] = out[n + 1] = '"';
	jbuf_put(b, out, n + 2);
}
