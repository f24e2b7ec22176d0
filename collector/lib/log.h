/*
 * log: level-checked, one-line, key=value logging to stderr (or any FILE), and a
 * token-bucket rate limiter for per-event messages.
 *
 * A line reads: "2026-11-25T23:59:01.123Z level=warn msg=\"...\" key=value ...".
 * Callers pass the fields as a printf format after the message, e.g.
 *   LOG_WARN(lg, "undecodable message", "topic=%s partition=%d offset=%lld reason=%s",
 *            t, p, (long long)o, why);
 * The macros test the level before evaluating any argument, so a disabled level costs
 * one comparison. The logger is passed explicitly (no global); a NULL logger is silent.
 *
 * Rate limiting: struct log_limit allows `burst` lines per `window_ns`; the first
 * allowed line after a suppressed stretch carries suppressed=N so no loss is silent.
 *
 * Threading: a struct log may be shared by threads (each line is one fprintf, which
 * stdio locks); a struct log_limit belongs to one thread.
 */
#ifndef CHOREOSCOPE_LOG_H
#define CHOREOSCOPE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

struct log {
	enum log_level level;
	FILE *out; /* stderr when NULL */
};

struct log_limit {
	int64_t window_ns;    /* length of a window */
	uint32_t burst;       /* lines allowed per window */
	int64_t window_start; /* internal */
	uint32_t used;        /* internal: lines written in this window */
	uint64_t suppressed;  /* internal: lines dropped since the last written one */
};

#define LOG_LIMIT_INIT(burst_, window_ns_) \
	{ \
		.window_ns = (window_ns_), .burst = (burst_), .window_start = 0, .used = 0, \
		.suppressed = 0 \
	}

/* Parses "error|warn|info|debug" into *out. 0, or -1 for an unknown name. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);

/* Writes one line: timestamp, level, msg, then the formatted fields (may be NULL). */
void log_write(const struct log *lg, enum log_level l, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* s escaped for a quoted field value (field="%s"): '"' and '\\' backslashed, newline,
 * tab and CR as \n \t \r, other control bytes as \xNN, so a value of several lines
 * (a config's problems) stays one log line. Cut to fit buf; returns buf. */
const char *log_escape(const char *s, char *buf, size_t len);

/* 1 when a line may be written at `now_ns` (and counts it); 0 when suppressed.
 * *suppressed receives the number of lines dropped before this allowed one. */
int log_limit_allow(struct log_limit *rl, int64_t now_ns, uint64_t *suppressed);

/* Monotonic and wall clocks in ns, for callers that have no injected clock. */
int64_t log_mono_ns(void);
int64_t log_wall_ns(void);

#define LOG_ENABLED(lg, l) ((lg) != NULL && (lg)->level >= (l))

#define LOG_AT(lg, l, msg, ...) \
	do { \
		if (LOG_ENABLED(lg, l)) \
			log_write((lg), (l), (msg), __VA_ARGS__); \
	} while (0)

#define LOG_ERROR(lg, msg, ...) LOG_AT(lg, LOG_LVL_ERROR, msg, __VA_ARGS__)
#define LOG_WARN(lg, msg, ...) LOG_AT(lg, LOG_LVL_WARN, msg, __VA_ARGS__)
#define LOG_INFO(lg, msg, ...) LOG_AT(lg, LOG_LVL_INFO, msg, __VA_ARGS__)
#define LOG_DEBUG(lg, msg, ...) LOG_AT(lg, LOG_LVL_DEBUG, msg, __VA_ARGS__)

/* Rate-limited variant: `rl` is a struct log_limit *, the clock is monotonic. */
#define LOG_LIMITED(lg, rl, l, msg, fmt, ...) \
	do { \
		uint64_t log_supp_; \
		if (LOG_ENABLED(lg, l) && log_limit_allow((rl), log_mono_ns(), &log_supp_)) { \
			if (log_supp_ > 0) \
				log_write((lg), (l), (msg), fmt " suppressed=%llu", __VA_ARGS__, \
				    (unsigned long long)log_supp_); \
			else \
				log_write((lg), (l), (msg), fmt, __VA_ARGS__); \
		} \
	} while (0)

#endif
