/*
 * timefmt: RFC 3339 parse/format and seconds as JSON numbers.
 *
 * Calendar arithmetic uses Howard Hinnant's days_from_civil / civil_from_days (exact
 * for the proleptic Gregorian calendar, negative days included), so no timegm(), no
 * TZ environment and no locale are involved: the functions are pure and reentrant.
 * Parsing is a fixed-position scan: RFC 3339 timestamps have one shape, and a scan
 * that checks each byte is both the fastest and the strictest way to read them.
 */
#include "lib/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_SEC 1000000000LL

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n decimal digits at s into *out; -1 unless all are digits. */
static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i] - '0';
		if (c > 9)
			return -1;
		v = v * 10 + c;
	}
	*out = v;
	return 0;
}

/* The zone designator at s (exactly len bytes): Z, z, +HH:MM or -HH:MM, as seconds
 * east of UTC. */
static int parse_offset(const char *s, size_t len, int64_t *off)
{
	unsigned oh, om;
	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 0;
	}
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	if (digits(s + 1, 2, &oh) || digits(s + 4, 2, &om) || oh > 23 || om > 59)
		return -1;
	*off = (int64_t)(oh * 3600 + om * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
}

int timefmt_parse_rfc3339(const char *s, size_t len, int64_t *ns)
{
	unsigned y, mo, d, h, mi, se, frac = 0;
	if (len < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
		return -1;
	size_t i = 19;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		size_t n = i - start;
		if (n < 1 || n > 9 || digits(s + start, (int)n, &frac))
			return -1;
		for (size_t k = n; k < 9; k++)
			frac *= 10;
	}
	int64_t off;
	if (parse_offset(s + i, len - i, &off))
		return -1;
	/* syntax is valid from here on: every failure is the range */
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	int64_t r, sub = 0;
	if (secs < 0 && frac) {
		/* (secs+1)*1e9 - (1e9-frac): reaches INT64_MIN without overflowing */
		secs += 1;
		sub = NS_PER_SEC - frac;
		frac = 0;
	}
	if (__builtin_mul_overflow(secs, NS_PER_SEC, &r) || __builtin_add_overflow(r, frac, &r) ||
	    __builtin_sub_overflow(r, sub, &r) || !timefmt_in_range(r))
		return TIMEFMT_ERANGE;
	*ns = r;
	return TIMEFMT_OK;
}

/* Two digits of v (0..99) at p. */
static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* The fraction (1..999999999 ns) as ".ddd" with trailing zeros trimmed, at p; returns
 * its length. */
static size_t put_frac(char *p, unsigned frac)
{
	char tmp[9];
	for (int k = 8; k >= 0; k--) {
		tmp[k] = (char)('0' + frac % 10);
		frac /= 10;
	}
	size_t n = 9;
	while (n > 1 && tmp[n - 1] == '0')
		n--;
	p[0] = '.';
	memcpy(p + 1, tmp, n);
	return n + 1;
}

/* digits < 0: the fraction trimmed (omitted when zero); else exactly that many. */
static size_t format(int64_t ns, int fdigits, char *buf, size_t len)
{
	char out[TIMEFMT_RFC3339_MAX];
	int64_t sec = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;
	if (rem < 0) {
		rem += NS_PER_SEC;
		sec -= 1;
	}
	int64_t days = sec / 86400, sod = sec % 86400;
	if (sod < 0) {
		sod += 86400;
		days -= 1;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	/* int64 ns spans years 1677..2262: always four digits */
	put2(out, (unsigned)(y / 100));
	put2(out + 2, (unsigned)(y % 100));
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, (unsigned)(sod / 3600));
	out[13] = ':';
	put2(out + 14, (unsigned)(sod / 60 % 60));
	out[16] = ':';
	put2(out + 17, (unsigned)(sod % 60));
	size_t n = 19;
	if (fdigits < 0 && rem)
		n += put_frac(out + n, (unsigned)rem);
	if (fdigits > 0) {
		unsigned f = (unsigned)rem;
		out[n++] = '.';
		for (int k = 9; k > fdigits; k--)
			f /= 10;
		for (int k = fdigits - 1; k >= 0; k--, f /= 10)
			out[n + (size_t)k] = (char)('0' + f % 10);
		n += (size_t)fdigits;
	}
	out[n++] = 'Z';
	if (n + 1 > len)
		return 0;
	memcpy(buf, out, n);
	buf[n] = '\0';
	return n;
}

size_t timefmt_format_rfc3339(int64_t ns, char *buf, size_t len)
{
	return format(ns, -1, buf, len);
}

size_t timefmt_format_rfc3339_fixed(int64_t ns, int digits, char *buf, size_t len)
{
	return format(ns, digits < 0 ? 0 : digits > 9 ? 9 : digits, buf, len);
}

size_t timefmt_seconds(int64_t ns, char *buf, size_t len)
{
	char out[TIMEFMT_SECONDS_MAX], digs[20];
	size_t n = 0, nd = 0;
	uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	uint64_t ip = u / NS_PER_SEC;
	unsigned frac = (unsigned)(u % NS_PER_SEC);
	if (ns < 0)
		out[n++] = '-';
	do {
		digs[nd++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (nd)
		out[n++] = digs[--nd];
	if (frac)
		n += put_frac(out + n, frac);
	if (n + 1 > len)
		return 0;
	memcpy(buf, out, n);
	buf[n] = '\0';
	return n;
}

void timefmt_duration_short(double s, char *buf, size_t len)
{
	long long t;

	if (isnan(s) || s < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (s < 10) {
		snprintf(buf, len, s < 1 ? "%.2fs" : "%.1fs", s);
		return;
	}
	t = s > 9e15 ? (long long)9e15 : (long long)s;
	if (t < 60)
		snprintf(buf, len, "%llds", t);
	else if (t < 3600)
		snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lldh%02lldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
}
