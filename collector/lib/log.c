/*
 * log: see log.h. Lines are assembled in a stack buffer and written with one fputs so
 * that lines from several threads never interleave.
 */
#include "lib/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include "lib/timefmt.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

const char *log_level_name(enum log_level l)
{
	if ((int)l < 0 || l > LOG_LVL_DEBUG)
		return "?";
	return level_names[l];
}

int64_t log_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t log_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Appends msg with '"' and '\\' escaped and control bytes dropped. */
static size_t put_quoted(char *b, size_t n, size_t cap, const char *msg)
{
	if (n < cap)
		b[n++] = '"';
	for (const char *p = msg; *p && n + 2 < cap; p++) {
		if (*p == '"' || *p == '\\')
			b[n++] = '\\';
		if ((unsigned char)*p >= 0x20)
			b[n++] = *p;
	}
	if (n < cap)
		b[n++] = '"';
	return n;
}

const char *log_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	if (len == 0)
		return buf;
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < len; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			buf[n++] = '\\';
			buf[n++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c == 0x7f) {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	return buf;
}

void log_write(const struct log *lg, enum log_level l, const char *msg, const char *fields_fmt, ...)
{
	char line[2048];
	size_t cap = sizeof line - 2, n;
	int64_t now = log_wall_ns();

	n = timefmt_format_rfc3339_fixed(now, 3, line, cap);
	n += (size_t)snprintf(line + n, cap - n, " level=%s msg=", log_level_name(l));
	n = put_quoted(line, n, cap, msg);
	if (fields_fmt != NULL && fields_fmt[0] != '\0' && n + 1 < cap) {
		va_list ap;
		int w;
		line[n++] = ' ';
		va_start(ap, fields_fmt);
		w = vsnprintf(line + n, cap - n, fields_fmt, ap);
		va_end(ap);
		if (w > 0)
			n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
	}
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, lg->out != NULL ? lg->out : stderr);
}

int log_limit_allow(struct log_limit *rl, int64_t now_ns, uint64_t *suppressed)
{
	if (now_ns - rl->window_start >= rl->window_ns || now_ns < rl->window_start) {
		rl->window_start = now_ns;
		rl->used = 0;
	}
	if (rl->used >= rl->burst) {
		rl->suppressed++;
		*suppressed = 0;
		return 0;
	}
	rl->used++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
