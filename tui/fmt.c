/*
 * fmt: pure text formatting for the TUI. See fmt.h for the contract.
 *
 * UTF-8 is decoded by hand (no locale dependence) so the functions give the same
 * answers in tests and in the program; column widths come from wcwidth() only for
 * code points outside ASCII, and any code point wcwidth() rejects counts as one.
 */
#include "fmt.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "lib/timefmt.h"

/* Decodes one UTF-8 sequence at s. Returns its length in bytes (>= 1) and the code
 * point in *cp; an invalid byte decodes as itself with length 1 and *cp = -1. */
static int utf8_next(const unsigned char *s, long *cp)
{
	int len, i;
	long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = -1;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return len;
}

static int cp_width(long cp)
{
	int w;

	if (cp < 0)
		return 1;
	if (cp < 0x20 || cp == 0x7F)
		return 1; /* control characters are drawn as '?' */
	if (cp < 0x80)
		return 1;
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

int fmt_width(const char *s, int utf8)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int w = 0;
	long cp;

	while (*p) {
		int n = utf8 ? utf8_next(p, &cp) : 1;
		w += utf8 ? cp_width(cp) : 1;
		p += n;
	}
	return w;
}

/* Appends n bytes when they fit (keeping room for the NUL). */
static int put(char *dst, size_t dstsz, size_t *at, const void *src, size_t n)
{
	if (*at + n + 1 > dstsz)
		return -1;
	memcpy(dst + *at, src, n);
	*at += n;
	return 0;
}

static void pad(char *dst, size_t dstsz, size_t *at, int n)
{
	while (n-- > 0 && put(dst, dstsz, at, " ", 1) == 0)
		;
}

/* Copies up to `cols` columns of src (sanitised) and returns the columns used. */
static int copy_cols(char *dst, size_t dstsz, size_t *at, const char *src, int cols, int utf8)
{
	const unsigned char *p = (const unsigned char *)src;
	int used = 0;
	long cp;

	while (*p) {
		int n = utf8 ? utf8_next(p, &cp) : 1;
		int w = utf8 ? cp_width(cp) : 1;
		int bad = utf8 ? (cp < 0x20 || cp == 0x7F) : (*p < 0x20 || *p >= 0x7F);

		if (used + w > cols)
			break;
		if (bad ? put(dst, dstsz, at, "?", 1) : put(dst, dstsz, at, p, (size_t)n))
			break;
		used += w;
		p += n;
	}
	return used;
}

size_t fmt_fit(char *dst, size_t dstsz, const char *src, int cols, int right_align, int utf8)
{
	size_t at = 0;
	int w, used;

	if (dstsz == 0)
		return 0;
	dst[0] = '\0';
	if (cols <= 0)
		return 0;
	src = src ? src : "";
	w = fmt_width(src, utf8);
	if (w > cols) {
		used = copy_cols(dst, dstsz, &at, src, cols - 1, utf8);
		if (utf8)
			put(dst, dstsz, &at, "\xE2\x80\xA6", 3);
		else
			put(dst, dstsz, &at, "~", 1);
		pad(dst, dstsz, &at, cols - 1 - used);
	} else {
		if (right_align)
			pad(dst, dstsz, &at, cols - w);
		used = copy_cols(dst, dstsz, &at, src, cols, utf8);
		if (!right_align)
			pad(dst, dstsz, &at, cols - used);
	}
	dst[at] = '\0';
	return at;
}

void fmt_duration(char *dst, size_t dstsz, double s) { timefmt_duration_short(s, dst, dstsz); }

void fmt_rate(char *dst, size_t dstsz, double v)
{
	if (isnan(v) || v <= 0)
		snprintf(dst, dstsz, "0");
	else if (v < 10)
		snprintf(dst, dstsz, "%.2f", v);
	else if (v < 100)
		snprintf(dst, dstsz, "%.1f", v);
	else if (v < 10000)
		snprintf(dst, dstsz, "%.0f", v);
	else if (v < 1e6)
		snprintf(dst, dstsz, "%.1fk", v / 1e3);
	else if (v < 1e9)
		snprintf(dst, dstsz, "%.1fM", v / 1e6);
	else
		snprintf(dst, dstsz, "%.1fG", v / 1e9);
}

void fmt_count(char *dst, size_t dstsz, long long v)
{
	if (v < 0)
		snprintf(dst, dstsz, "-");
	else if (v < 10000)
		snprintf(dst, dstsz, "%lld", v);
	else if (v < 1000000)
		snprintf(dst, dstsz, "%.1fk", (double)v / 1e3);
	else if (v < 1000000000)
		snprintf(dst, dstsz, "%.2fM", (double)v / 1e6);
	else
		snprintf(dst, dstsz, "%.1fG", (double)v / 1e9);
}

void fmt_sparkline(char *dst, size_t dstsz, const double *v, int nv, int cols, int utf8)
{
	static const char *const blocks[8] = { "\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83",
		"\xE2\x96\x84", "\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88" };
	static const char ascii[] = " .:-=+*#";
	size_t at = 0;
	int first, i;
	double max = 0;

	if (dstsz == 0)
		return;
	dst[0] = '\0';
	if (cols <= 0)
		return;
	first = nv > cols ? nv - cols : 0;
	for (i = first; i < nv; i++)
		if (v[i] > max)
			max = v[i];
	pad(dst, dstsz, &at, cols - (nv - first));
	for (i = first; i < nv; i++) {
		int lvl = 0;
		if (max > 0 && v[i] > 0) {
			lvl = (int)(v[i] / max * 7.0 + 0.5);
			lvl = lvl < 1 ? 1 : lvl > 7 ? 7 : lvl;
		}
		if (utf8 ? put(dst, dstsz, &at, blocks[lvl], 3)
			 : put(dst, dstsz, &at, &ascii[lvl], 1))
			break;
	}
	dst[at] = '\0';
}

int fmt_match(const char *hay, const char *needle)
{
	size_t n, i;

	if (!needle || !*needle)
		return 1;
	if (!hay)
		return 0;
	n = strlen(needle);
	for (; *hay; hay++) {
		for (i = 0; i < n && hay[i]; i++)
			if (tolower((unsigned char)hay[i]) != tolower((unsigned char)needle[i]))
				break;
		if (i == n)
			return 1;
	}
	return 0;
}

/* The collector's own parser (lib/timefmt), so the TUI reads exactly what the API
 * writes and the daemon accepts. */
int fmt_parse_time(const char *s, double *out)
{
	int64_t ns;

	if (!s || timefmt_parse_rfc3339(s, strlen(s), &ns) != TIMEFMT_OK)
		return -1;
	*out = (double)ns / 1e9;
	return 0;
}

const char *fmt_kind_abbrev(const char *kind)
{
	static const char *const map[][2] = { { "stalled", "stl" }, { "missing", "mis" },
		{ "out_of_order", "ooo" }, { "duplicate", "dup" }, { "double_step", "dbl" },
		{ "retry_storm", "rty" }, { "unexpected", "unx" }, { "join_wait", "join" },
		{ "abandoned", "abn" }, { "late", "late" } };
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (kind && strcmp(kind, map[i][0]) == 0)
			return map[i][1];
	return kind ? kind : "";
}
