/*
 * jbuf: the collector's one text and JSON writer: a growable buffer with the escapes
 * that /metrics (Prometheus label values), the JSON API, the records and the alert
 * messages need.
 *
 * Growth doubles the capacity up to a hard cap set at jbuf_init (the bound every
 * rendered document has); beyond the cap, or when an allocation fails, appends are
 * dropped and `overflow` is set, so a caller can answer 500 (or count a failed write)
 * instead of sending a truncated document. The text is always NUL-terminated.
 *
 * JSON encoding (one way everywhere): strings escape `"` and `\`, newline, tab and
 * CR as \n \t \r, other bytes below 0x20 as \u00XX, and pass every other byte through
 * (UTF-8 as it came); NULL is null. Integers are exact; doubles whole and below
 * 1e15 as integers, others the shortest text that reads back as the same double,
 * NaN and infinities null; times RFC 3339 UTC
 * (timefmt), INT64_MIN null; durations in nanoseconds exact decimal seconds.
 *
 * Not thread-safe: one owner at a time (the renderer, then whoever it hands it to).
 * No printf on the JSON paths but doubles: records are written per event.
 */
#ifndef CHOREOSCOPE_JBUF_H
#define CHOREOSCOPE_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jbuf {
	char *p;
	size_t len, cap, max;
	bool overflow;
};

void jbuf_init(struct jbuf *b, size_t max);
void jbuf_free(struct jbuf *b);
void jbuf_reset(struct jbuf *b);
void jbuf_put(struct jbuf *b, const char *s, size_t n);
void jbuf_puts(struct jbuf *b, const char *s);
void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fwrite of the whole text: 0, or -1 on a write error or after an overflow. */
int jbuf_write(const struct jbuf *b, FILE *out);

/* A Prometheus label value: \\, \" and \n escaped (no quotes added). */
void jbuf_prom_label(struct jbuf *b, const char *s);

/* JSON values (see the encoding above). */
void jbuf_json_str(struct jbuf *b, const char *s);
void jbuf_json_int(struct jbuf *b, int64_t v);
void jbuf_json_uint(struct jbuf *b, uint64_t v);
void jbuf_json_num(struct jbuf *b, double v);
void jbuf_json_time(struct jbuf *b, int64_t ns);
void jbuf_json_seconds(struct jbuf *b, int64_t ns);
/* ,"key": with the comma left out when the previous byte opens an object or array;
 * then the k* variants write the value too. */
void jbuf_json_key(struct jbuf *b, const char *key);
void jbuf_json_kstr(struct jbuf *b, const char *key, const char *s);
void jbuf_json_kint(struct jbuf *b, const char *key, int64_t v);
void jbuf_json_ktime(struct jbuf *b, const char *key, int64_t ns);

#endif
