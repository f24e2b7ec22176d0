/*
 * fmt: pure text formatting for the TUI (durations, rates, counts, sparklines,
 * column fitting of UTF-8 text, RFC 3339 parsing, filter matching).
 *
 * No ncurses, no I/O, no allocation: every function writes into a caller buffer and
 * always NUL-terminates it (when its size is > 0). Safe from any thread.
 * `utf8` selects UTF-8 glyphs (ellipsis, block elements); 0 gives plain ASCII and
 * replaces every non-ASCII byte of the input with '?', so a non-UTF-8 terminal never
 * receives bytes it cannot draw.
 */
#ifndef CHOREOSCOPE_TUI_FMT_H
#define CHOREOSCOPE_TUI_FMT_H

#include <stddef.h>

/* Display columns of a UTF-8 string (invalid bytes count one column each). */
int fmt_width(const char *s, int utf8);

/* Copies src into dst so that it takes exactly `cols` columns: truncated with an
 * ellipsis ("…" or "~") when too wide, padded with spaces (on the right, or on the
 * left when right_align) when too narrow. Returns the bytes written. */
size_t fmt_fit(char *dst, size_t dstsz, const char *src, int cols, int right_align, int utf8);

/* "-" for negative or NaN; "0.12s", "4.5s", "41s", "3m05s", "2h03m", "3d04h"
 * (timefmt_duration_short: the CLI writes durations alike). */
void fmt_duration(char *dst, size_t dstsz, double seconds);

/* A rate: "0", "0.50", "12.3", "512", "1.2k", "3.4M". */
void fmt_rate(char *dst, size_t dstsz, double v);

/* A count: "42", "12.3k", "1.00M", "2.1G". */
void fmt_count(char *dst, size_t dstsz, long long v);

/* A sparkline of the last `cols` values of v[0..nv) (oldest first), scaled to the
 * maximum of the shown values; values <= 0 draw the lowest level (a blank in ASCII).
 * Shorter histories are left-padded with spaces so the newest value is rightmost. */
void fmt_sparkline(char *dst, size_t dstsz, const double *v, int nv, int cols, int utf8);

/* Case-insensitive substring test; an empty or NULL needle matches everything. */
int fmt_match(const char *hay, const char *needle);

/* RFC 3339 ("2026-11-25T10:00:00.25Z", "+02:00" offsets) to Unix seconds, by the
 * collector's parser (timefmt_parse_rfc3339: the same grammar and accepted range).
 * Returns 0, or -1 when the text is not such a time. */
int fmt_parse_time(const char *s, double *out);

/* A short name for an anomaly kind ("stalled" -> "stl"); unknown kinds pass through. */
const char *fmt_kind_abbrev(const char *kind);

#endif
