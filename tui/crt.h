/*
 * crt: the terminal (after htop's CRT): ncurses setup, named colour roles each paired
 * with a glyph so that every state reads without colour, and column-exact drawing.
 *
 * UI thread only. Colour is off with --no-color, with NO_COLOR set (any value), or
 * when the terminal has none; roles then fall back to bold/reverse/dim attributes and
 * the glyphs still tell the states apart. Glyphs are UTF-8 when the locale's codeset
 * is UTF-8, ASCII otherwise.
 */
#ifndef CHOREOSCOPE_TUI_CRT_H
#define CHOREOSCOPE_TUI_CRT_H

enum crt_role {
	ROLE_NORMAL,
	ROLE_TITLE,    /* view names, flow names in the graph */
	ROLE_HEADER,   /* column header bar */
	ROLE_SELECTED, /* the cursor row */
	ROLE_OK,       /* collector connected */
	ROLE_WARN,     /* bad answer, non-zero stall counts */
	ROLE_BAD,      /* collector disconnected, errors */
	ROLE_DIM,      /* stale data, secondary text */
	ROLE_HAPPENED, /* step status */
	ROLE_PENDING,
	ROLE_STALLED,
	ROLE_MISSING,
	ROLE_CANCELLED,
	ROLE_STUCK, /* graph edge with flows stuck on it */
	ROLE_BAR,   /* waterfall bars, sparklines */
	ROLE_KEY,   /* key names in the footer and help */
	ROLE_COUNT
};

/* Starts curses. color: 0 forces it off. Returns 0 or -1 with a reason. */
int crt_init(int color, char *err, unsigned long errlen);
void crt_done(void);

int crt_utf8(void);

/* The glyph paired with a role ("" for roles without one). */
const char *crt_glyph(enum crt_role r);
/* The glyph of a step status word (happened, pending, stalled, missing, cancelled). */
enum crt_role crt_status_role(const char *status);

/* Draws text at (y, x) in exactly `cols` columns (cut with an ellipsis or padded),
 * in the role's attributes. Returns x + cols. Clipped to the screen. */
int crt_put(int y, int x, int cols, enum crt_role r, const char *text);
int crt_put_right(int y, int x, int cols, enum crt_role r, const char *text);
/* Like crt_put with the role's glyph and a space before the text. */
int crt_put_glyph(int y, int x, int cols, enum crt_role r, const char *text);
/* Like crt_put_glyph, but the glyph of `mark` drawn in the attributes of `r`
 * (a selected row keeps its status glyphs). */
int crt_put_mark(int y, int x, int cols, enum crt_role r, enum crt_role mark, const char *text);
/* Fills the rest of line y from x in the role's attributes. */
void crt_fill(int y, int x, enum crt_role r);

#endif
