/*
 * main: choreoscope-tui entry point. Flags (one table gives parsing and --help:
 * lib/cliopt.h),
 * then the loop: wait up to 100 ms for a key, hand it to the key table, redraw when a
 * key changed something, when the model has new data, on resize, or once a second.
 * The network lives in the model's threads; this thread only draws and reads keys.
 * The one file-scope mutable variable is the signal flag.
 */
#include <curl/curl.h>
#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "lib/cliopt.h"
#include "keys.h"
#include "model.h"
#include "ui.h"

#define TUI_VERSION "0.1.0"
#define DEFAULT_URL "http://127.0.0.1:9717"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

struct opts {
	const char *urls[MODEL_MAX_COLS];
	int nurls;
	const char *token;
	double delay;
	int color;
};

static int set_url(void *ctx, const struct cliopt *opt, const char *v, char *err, size_t errlen)
{
	struct opts *o = ctx;
	(void)opt;
	if (o->nurls == MODEL_MAX_COLS) {
		snprintf(err, errlen, "at most %d --url", MODEL_MAX_COLS);
		return -1;
	}
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
		snprintf(err, errlen, "expected http://HOST:PORT, found \"%s\"", v);
		return -1;
	}
	o->urls[o->nurls++] = v;
	return 0;
}

static int set_token(void *ctx, const struct cliopt *opt, const char *v, char *err, size_t errlen)
{
	struct opts *o = ctx;
	(void)opt;
	(void)err, (void)errlen;
	o->token = v;
	return 0;
}

static int set_delay(void *ctx, const struct cliopt *opt, const char *v, char *err, size_t errlen)
{
	struct opts *o = ctx;
	(void)opt;
	char *end;
	double d = strtod(v, &end);

	if (*end || d < 0.2 || d > 60) {
		snprintf(err, errlen, "expected seconds between 0.2 and 60, found \"%s\"", v);
		return -1;
	}
	o->delay = d;
	return 0;
}

static int set_nocolor(void *ctx, const struct cliopt *opt, const char *v, char *err, size_t errlen)
{
	struct opts *o = ctx;
	(void)opt;
	(void)v, (void)err, (void)errlen;
	o->color = 0;
	return 0;
}

static const struct cliopt optdefs[] = {
	{ "--url", "URL",
	    "collector API base URL; repeat to merge several (default " DEFAULT_URL ")", set_url, 0,
	    0 },
	{ "--token", "T", "bearer token for the collector API", set_token, 0, 0 },
	{ "-d", "SECONDS", "refresh interval, 0.2..60 (default 1)", set_delay, 0, 0 },
	{ "--no-color", NULL, "no colour (also when NO_COLOR is set)", set_nocolor, 0, 0 },
};

static const struct clicmd tui_cmd = {
	.prog = "choreoscope-tui",
	.synopsis = "usage: choreoscope-tui [options]\nWatch live flows, stalls and timelines of "
		    "choreoscope collectors.\n\n",
	.footer = "\nKeys: press ? in the program.\n",
	.version = TUI_VERSION,
	.opts = optdefs,
	.nopts = sizeof optdefs / sizeof optdefs[0],
};

static void loop(struct ui *u)
{
	double last = 0;
	int dirty = 1;

	timeout(100);
	while (!u->quit && !got_signal) {
		int ch;
		double now = model_now();
		if (dirty || u->model->gen != u->drawn_gen || now - last >= 1.0) {
			ui_draw(u);
			last = now;
			dirty = 0;
		}
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			clearok(curscr, TRUE);
			dirty = 1;
			continue;
		}
		dirty = keys_handle(u, ch) || dirty;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .delay = 1.0, .color = 1 };
	char err[256];
	struct model *m;
	struct ui *u;
	int rc = 1;

	setlocale(LC_ALL, "");
	int pr = cliopt_parse(&tui_cmd, argc, argv, &o, NULL, NULL);
	if (pr != CLIOPT_RUN)
		return cliopt_exit_status(pr);
	if (o.nurls == 0)
		o.urls[o.nurls++] = DEFAULT_URL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	u = calloc(1, sizeof *u);
	m = u ? model_new(o.urls, o.nurls, o.token, o.delay, err, sizeof err) : NULL;
	if (!m || model_start(m, err, sizeof err) || crt_init(o.color, err, sizeof err)) {
		fprintf(stderr, "choreoscope-tui: %s\n", u ? err : "out of memory");
		goto out;
	}
	u->model = m;
	ui_sync_want(u);
	loop(u);
	crt_done();
	rc = 0;
out:
	model_free(m);
	free(u);
	curl_global_cleanup();
	return rc;
}
