/*
 * crt: ncurses setup, colour roles and glyphs. See crt.h.
 *
 * The role table is the one place that says how each state looks: colour pair,
 * monochrome attribute, UTF-8 glyph and ASCII glyph. Only file-scope state: the
 * role table (constant) and the two flags decided once at start (UI thread only).
 */
#include "crt.h"

#include <curses.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

struct role_def {
	short fg, bg;
	attr_t color_attr, mono_attr;
	const char *utf8, *ascii;
};

static const struct role_def roles[ROLE_COUNT] = {
	[ROLE_NORMAL] = { -1, -1, 0, 0, "", "" },
	[ROLE_TITLE] = { COLOR_CYAN, -1, A_BOLD, A_BOLD, "", "" },
	[ROLE_HEADER] = { COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE, "", "" },
	[ROLE_SELECTED] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE, "", "" },
	[ROLE_OK] = { COLOR_GREEN, -1, A_BOLD, A_BOLD, "\xE2\x97\x8F", "*" },              /* ● */
	[ROLE_WARN] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD, "\xE2\x96\xB2", "!" },           /* ▲ */
	[ROLE_BAD] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE, "\xE2\x9C\x97", "X" }, /* ✗ */
	[ROLE_DIM] = { -1, -1, A_DIM, A_DIM, "", "" },
	[ROLE_HAPPENED] = { COLOR_GREEN, -1, 0, 0, "\xE2\x9C\x93", "+" },            /* ✓ */
	[ROLE_PENDING] = { COLOR_CYAN, -1, 0, 0, "\xE2\x97\x8B", "o" },              /* ○ */
	[ROLE_STALLED] = { COLOR_RED, -1, A_BOLD, A_BOLD, "\xE2\x96\xA0", "#" },     /* ■ */
	[ROLE_MISSING] = { COLOR_MAGENTA, -1, A_BOLD, A_BOLD, "\xE2\x9C\x97", "x" }, /* ✗ */
	[ROLE_CANCELLED] = { -1, -1, A_DIM, A_DIM, "\xE2\x80\x93", "-" },            /* – */
	[ROLE_STUCK] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE, "\xE2\x96\xA0", "#" },
	[ROLE_BAR] = { COLOR_BLUE, -1, A_BOLD, 0, "", "" },
	[ROLE_KEY] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD, "", "" },
};

static int use_utf8, use_color;

int crt_init(int color, char *err, unsigned long errlen)
{
	const char *cs = nl_langinfo(CODESET);
	const char *nc = getenv("NO_COLOR");
	int i;

	use_utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
	if (!initscr()) {
		snprintf(err, errlen, "cannot initialise the terminal");
		return -1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	use_color = color && !(nc && nc[0]) && has_colors();
	if (use_color) {
		start_color();
		use_default_colors();
		for (i = 1; i < ROLE_COUNT; i++)
			init_pair((short)i, roles[i].fg, roles[i].bg);
	}
	return 0;
}

void crt_done(void)
{
	if (!isendwin())
		endwin();
}

int crt_utf8(void) { return use_utf8; }

const char *crt_glyph(enum crt_role r) { return use_utf8 ? roles[r].utf8 : roles[r].ascii; }

enum crt_role crt_status_role(const char *s)
{
	if (strcmp(s, "happened") == 0)
		return ROLE_HAPPENED;
	if (strcmp(s, "pending") == 0)
		return ROLE_PENDING;
	if (strcmp(s, "stalled") == 0)
		return ROLE_STALLED;
	if (strcmp(s, "missing") == 0)
		return ROLE_MISSING;
	if (strcmp(s, "cancelled") == 0 || strcmp(s, "not_expected") == 0)
		return ROLE_CANCELLED;
	return ROLE_NORMAL;
}

static attr_t attr_of(enum crt_role r)
{
	if (!use_color)
		return roles[r].mono_attr;
	return (r == ROLE_NORMAL ? 0 : COLOR_PAIR(r)) | roles[r].color_attr;
}

static int put(int y, int x, int cols, enum crt_role r, const char *text, int right)
{
	char buf[2048];

	if (y < 0 || y >= LINES || x >= COLS || cols <= 0)
		return x + (cols > 0 ? cols : 0);
	if (x + cols > COLS)
		cols = COLS - x;
	fmt_fit(buf, sizeof buf, text, cols, right, use_utf8);
	attrset(attr_of(r));
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
	return x + cols;
}

int crt_put(int y, int x, int cols, enum crt_role r, const char *text)
{
	return put(y, x, cols, r, text, 0);
}

int crt_put_right(int y, int x, int cols, enum crt_role r, const char *text)
{
	return put(y, x, cols, r, text, 1);
}

int crt_put_glyph(int y, int x, int cols, enum crt_role r, const char *text)
{
	return crt_put_mark(y, x, cols, r, r, text);
}

int crt_put_mark(int y, int x, int cols, enum crt_role r, enum crt_role mark, const char *text)
{
	char buf[512];

	snprintf(buf, sizeof buf, "%s %s", crt_glyph(mark), text);
	return put(y, x, cols, r, buf, 0);
}

void crt_fill(int y, int x, enum crt_role r)
{
	if (x < COLS)
		put(y, x, COLS - x, r, "", 0);
}
