/*
 * timefmt: RFC 3339 timestamps and durations as text, without allocation or locale,
 * the accepted event-time range, and saturating time arithmetic. The one RFC 3339
 * parser and formatter of the project: decoders, JSON writers, the TUI and the tools
 * all use these.
 *
 * Times are int64 nanoseconds since the Unix epoch, UTC. int64 ns spans only
 * 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z, so an event time
 * near either end leaves no room for a deadline after it or a lateness before it.
 * Accepted event times are therefore [TIMEFMT_MIN_NS, TIMEFMT_MAX_NS] =
 * 1970-01-01T00:00:00Z .. 2199-12-31T23:59:59.999999999Z:
 *  - from the epoch: protobuf time_unix_nano and Kafka timestamps count from it, an
 *    explicit 0 is a real time, and nothing observed by this collector predates it;
 *  - to 2200: ~62 years of int64 headroom above any accepted time, so a deadline sum
 *    (time + a duration of up to 62 years) is exact, and the rest saturates
 *    (timefmt_add_sat) instead of wrapping.
 * TIMEFMT_NONE (INT64_MIN), the "no time" sentinel every module uses, lies outside
 * the range, so no accepted time can be mistaken for it. Parsing rejects what RFC 3339
 * does not allow (section 5.6 grammar; no leap second 60, no 24:00:00) and, as a
 * separate error, well-formed times outside the range. The formatter writes any int64
 * exactly. Durations for people (timefmt_duration_short) are written here too, so the
 * TUI and the CLI show them alike. Pure functions: any thread may call them.
 */
#ifndef CHOREOSCOPE_TIMEFMT_H
#define CHOREOSCOPE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of timefmt_format_rfc3339, with the NUL: 2262-04-11T23:47:16.854775807Z */
#define TIMEFMT_RFC3339_MAX 32
/* Longest output of timefmt_seconds, with the NUL: -9223372036.854775808 */
#define TIMEFMT_SECONDS_MAX 24

#define TIMEFMT_MIN_NS 0LL                   /* 1970-01-01T00:00:00Z */
#define TIMEFMT_MAX_NS 7258118399999999999LL /* 2199-12-31T23:59:59.999999999Z */
#define TIMEFMT_NONE INT64_MIN               /* no time; outside the range */

/* Parse results. */
#define TIMEFMT_OK 0
#define TIMEFMT_ESYNTAX (-1) /* not an RFC 3339 timestamp */
#define TIMEFMT_ERANGE (-2)  /* well-formed, outside the range */

/* 1 when ns is an accepted event time. */
static inline int timefmt_in_range(int64_t ns)
{
	return ns >= TIMEFMT_MIN_NS && ns <= TIMEFMT_MAX_NS;
}

/* t + d, clamped to [INT64_MIN + 1, INT64_MAX]: every deadline sum (open + deadline,
 * close + lateness, expected + within) goes through this, so a sum past the end of
 * int64 time is "never" (INT64_MAX) instead of wrapping before its start. The low
 * clamp keeps TIMEFMT_NONE out of results. */
static inline int64_t timefmt_add_sat(int64_t t, int64_t d)
{
	int64_t r;
	if (__builtin_add_overflow(t, d, &r))
		return d > 0 ? INT64_MAX : INT64_MIN + 1;
	return r == INT64_MIN ? INT64_MIN + 1 : r;
}

/* t - d, clamped likewise (t - lateness: the clock behind the newest time). */
static inline int64_t timefmt_sub_sat(int64_t t, int64_t d)
{
	int64_t r;
	if (__builtin_sub_overflow(t, d, &r))
		return d < 0 ? INT64_MAX : INT64_MIN + 1;
	return r == INT64_MIN ? INT64_MIN + 1 : r;
}

/* Parses exactly `len` bytes of s: YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM), with
 * `t`/`z` accepted for `T`/`Z`. The date must exist (leap years by the Gregorian rule).
 * Returns TIMEFMT_OK and *ns (UTC), TIMEFMT_ESYNTAX when s is not such a timestamp, or
 * TIMEFMT_ERANGE when it is one outside [TIMEFMT_MIN_NS, TIMEFMT_MAX_NS] (*ns is left
 * alone on errors). */
int timefmt_parse_rfc3339(const char *s, size_t len, int64_t *ns);

/* Writes ns as UTC RFC 3339 with `Z`: `2026-11-25T10:00:00Z`, with a fractional part
 * only when non-zero and its trailing zeros trimmed (`...:00.5Z`, `...:00.000000001Z`).
 * Pre-1970 times are exact (floor division). Returns the length written (without the
 * NUL), or 0 when buf is shorter than the result plus NUL (TIMEFMT_RFC3339_MAX is
 * always enough). */
size_t timefmt_format_rfc3339(int64_t ns, char *buf, size_t len);

/* The same with a fixed number of fractional digits (0..9, truncated, never trimmed):
 * `2026-11-25T10:00:00.500Z` for 3. For log lines and generated data, whose columns
 * line up. Returns as above. */
size_t timefmt_format_rfc3339_fixed(int64_t ns, int digits, char *buf, size_t len);

/* Writes ns / 1e9 as the shortest exact decimal JSON number: 30, 1.5, 0.000001, -0.25.
 * Returns the length written (without the NUL), or 0 when buf is too short
 * (TIMEFMT_SECONDS_MAX is always enough). */
size_t timefmt_seconds(int64_t ns, char *buf, size_t len);

/* A duration for people, in seconds: "-" for negative or NaN; "0.12s", "4.5s", "41s",
 * "3m05s", "2h03m", "3d04h" (at most 2 significant units, so columns stay narrow).
 * The TUI's columns and `choreoscope history`'s waterfall both write durations so.
 * Always NUL-terminates (len > 0). */
void timefmt_duration_short(double seconds, char *buf, size_t len);

#endif
