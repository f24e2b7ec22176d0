/*
 * keys: the key -> action table (after htop's Action.c). One table says which key
 * does what and carries the help text, so the `?` overlay and docs/tui.md come from
 * the same place as the behaviour. UI thread only.
 */
#ifndef CHOREOSCOPE_TUI_KEYS_H
#define CHOREOSCOPE_TUI_KEYS_H

#include "ui.h"

/* Handles one key (a curses key code). Returns 1 when the screen must be redrawn. */
int keys_handle(struct ui *u, int ch);

#endif
