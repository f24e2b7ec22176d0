/*
 * jsonw: a growable output buffer for writing JSON by hand, fast (no printf on the
 * hot path) and correctly escaped. Owned by one thread. A failed allocation sets
 * `oom`, after which appends are ignored; callers check it once at the end.
 */
#ifndef CHOREOSCOPE_JSONW_H
#define CHOREOSCOPE_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jsonw {
	char *buf;
	size_t len, cap;
	int oom;
};

void jw_init(struct jsonw *w);
void jw_dispose(struct jsonw *w);
static inline void jw_reset(struct jsonw *w) { w->len = 0; w->oom = 0; }
void jw_raw(struct jsonw *w, const char *s, size_t n);
void jw_lit(struct jsonw *w, const char *s);          /* unescaped literal text */
void jw_str(struct jsonw *w, const char *s);          /* "escaped", or null for NULL */
void jw_int(struct jsonw *w, int64_t v);
void jw_uint(struct jsonw *w, uint64_t v);
void jw_double(struct jsonw *w, double v);            /* %.17g, NaN/Inf as null */
void jw_time(struct jsonw *w, int64_t ns);            /* "RFC 3339", or null for INT64_MIN */
void jw_seconds(struct jsonw *w, int64_t ns);         /* exact decimal seconds */
/* ,"key": — a comma first unless the previous byte opens an object or array */
void jw_key(struct jsonw *w, const char *key);
/* jw_key then the value: the common pair, in one call */
void jw_kstr(struct jsonw *w, const char *key, const char *s);
void jw_ktime(struct jsonw *w, const char *key, int64_t ns);
void jw_kint(struct jsonw *w, const char *key, int64_t v);
int jw_write(struct jsonw *w, FILE *out);             /* fwrite; 0 or -1 */

#endif
