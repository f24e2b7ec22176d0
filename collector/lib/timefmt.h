/*
 * timefmt: RFC 3339 timestamps and durations as text, without allocation or locale.
 *
 * Times are int64 nanoseconds since the Unix epoch, UTC: 1677-09-21T00:12:43.145224192Z
 * to 2262-04-11T23:47:16.854775807Z. Parsing rejects anything outside that range and
 * anything RFC 3339 does not allow (section 5.6 grammar; no leap second 60, no
 * 24:00:00). Pure functions: any thread may call them.
 */
#ifndef CHOREOSCOPE_TIMEFMT_H
#define CHOREOSCOPE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of timefmt_format_rfc3339, with the NUL: 2262-04-11T23:47:16.854775807Z */
#define TIMEFMT_RFC3339_MAX 32
/* Longest output of timefmt_seconds, with the NUL: -9223372036.854775808 */
#define TIMEFMT_SECONDS_MAX 24

/* Parses exactly `len` bytes of s: YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM), with
 * `t`/`z` accepted for `T`/`Z`. The date must exist (leap years by the Gregorian rule).
 * Returns 0 and *ns (UTC), or -1 when s is not such a timestamp or is out of range. */
int timefmt_parse_rfc3339(const char *s, size_t len, int64_t *ns);

/* Writes ns as UTC RFC 3339 with `Z`: `2026-11-25T10:00:00Z`, with a fractional part
 * only when non-zero and its trailing zeros trimmed (`...:00.5Z`, `...:00.000000001Z`).
 * Pre-1970 times are exact (floor division). Returns the length written (without the
 * NUL), or 0 when buf is shorter than the result plus NUL (TIMEFMT_RFC3339_MAX is
 * always enough). */
size_t timefmt_format_rfc3339(int64_t ns, char *buf, size_t len);

/* Writes ns / 1e9 as the shortest exact decimal JSON number: 30, 1.5, 0.000001, -0.25.
 * Returns the length written (without the NUL), or 0 when buf is too short
 * (TIMEFMT_SECONDS_MAX is always enough). */
size_t timefmt_seconds(int64_t ns, char *buf, size_t len);

#endif
