/*
 * jsonw: see jsonw.h.
 */
#include "lib/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lib/timefmt.h"

void jw_init(struct jsonw *w)
{
	w->buf = NULL;
	w->len = w->cap = 0;
	w->oom = 0;
}

void jw_dispose(struct jsonw *w)
{
	free(w->buf);
	jw_init(w);
}

static int reserve(struct jsonw *w, size_t n)
{
	if (w->oom)
		return -1;
	if (w->len + n <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + n)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (!b) {
		w->oom = 1;
		return -1;
	}
	w->buf = b;
	w->cap = cap;
	return 0;
}

void jw_raw(struct jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n) == 0) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

void jw_lit(struct jsonw *w, const char *s) { jw_raw(w, s, strlen(s)); }

void jw_str(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		jw_raw(w, "null", 4);
		return;
	}
	size_t n = strlen(s);
	if (reserve(w, n * 6 + 2) < 0)
		return;
	char *o = w->buf + w->len;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c >= 0x20) {
			*o++ = (char)c;
		} else if (c == '\n') {
			*o++ = '\\'; *o++ = 'n';
		} else if (c == '\t') {
			*o++ = '\\'; *o++ = 't';
		} else if (c == '\r') {
			*o++ = '\\'; *o++ = 'r';
		} else {
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void jw_uint(struct jsonw *w, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (reserve(w, (size_t)n) < 0)
		return;
	while (n)
		w->buf[w->len++] = tmp[--n];
}

void jw_int(struct jsonw *w, int64_t v)
{
	if (v < 0) {
		jw_raw(w, "-", 1);
		jw_uint(w, (uint64_t)0 - (uint64_t)v);
	} else {
		jw_uint(w, (uint64_t)v);
	}
}

void jw_double(struct jsonw *w, double v)
{
	if (!isfinite(v)) {
		jw_raw(w, "null", 4);
		return;
	}
	char tmp[40];
	int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	/* prefer the shortest form that round-trips */
	for (int prec = 1; prec < 17; prec++) {
		char t2[40];
		int m = snprintf(t2, sizeof(t2), "%.*g", prec, v);
		if (strtod(t2, NULL) == v) {
			memcpy(tmp, t2, (size_t)m + 1);
			n = m;
			break;
		}
	}
	jw_raw(w, tmp, (size_t)n);
}

void jw_time(struct jsonw *w, int64_t ns)
{
	if (ns == INT64_MIN) {
		jw_raw(w, "null", 4);
		return;
	}
	char tmp[64];
	size_t n = timefmt_format_rfc3339(ns, tmp, sizeof(tmp));
	jw_raw(w, "\"", 1);
	jw_raw(w, tmp, n);
	jw_raw(w, "\"", 1);
}

void jw_seconds(struct jsonw *w, int64_t ns)
{
	char tmp[48];
	size_t n = timefmt_seconds(ns, tmp, sizeof(tmp));
	jw_raw(w, tmp, n);
}

void jw_key(struct jsonw *w, const char *key)
{
	if (w->len && w->buf[w->len - 1] != '{' && w->buf[w->len - 1] != '[')
		jw_raw(w, ",", 1);
	jw_str(w, key);
	jw_raw(w, ":", 1);
}

void jw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void jw_ktime(struct jsonw *w, const char *key, int64_t ns)
{
	jw_key(w, key);
	jw_time(w, ns);
}

void jw_kint(struct jsonw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

int jw_write(struct jsonw *w, FILE *out)
{
	if (w->oom)
		return -1;
	return fwrite(w->buf, 1, w->len, out) == w->len ? 0 : -1;
}
