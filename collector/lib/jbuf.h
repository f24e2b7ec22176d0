/*
 * jbuf: a growable text buffer with the escapes that /metrics (Prometheus label
 * values) and the JSON API need.
 *
 * Growth doubles the capacity up to a hard cap set at jbuf_init (the bound every
 * rendered document has); beyond the cap appends are dropped and `overflow` is set,
 * so a caller can answer 500 instead of sending a truncated document.
 * Not thread-safe: one owner at a time (the renderer, then whoever it hands it to).
 */
#ifndef CHOREOSCOPE_JBUF_H
#define CHOREOSCOPE_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jbuf {
	char *p;
	size_t len, cap, max;
	bool overflow;
};

void jbuf_init(struct jbuf *b, size_t max);
void jbuf_free(struct jbuf *b);
void jbuf_reset(struct jbuf *b);
/* Ensures room for n more bytes; false (and overflow set) when over the cap. */
bool jbuf_reserve(struct jbuf *b, size_t n);
void jbuf_put(struct jbuf *b, const char *s, size_t n);
void jbuf_puts(struct jbuf *b, const char *s);
void jbuf_printf(struct jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A Prometheus label value: \\, \" and \n escaped (no quotes added). */
void jbuf_prom_label(struct jbuf *b, const char *s);
/* A JSON string with its quotes; NULL renders as null. Control bytes \u-escaped. */
void jbuf_json_str(struct jbuf *b, const char *s);
/* A JSON number; NaN and infinities render as null. */
void jbuf_json_num(struct jbuf *b, double v);
/* RFC 3339 UTC with fractional seconds when non-zero, quoted; INT64_MIN -> null. */
void jbuf_json_time(struct jbuf *b, int64_t ns);

#endif
