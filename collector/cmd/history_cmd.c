/*
 * history_cmd: choreoscope history --data DIR [filters] — prints stored flows with
 * their timelines from the history store (docs/history.md), newest first, without a
 * running daemon: it opens DIR/history.db read-only, beside a daemon writing it or
 * not. --format json (the default unless standard output is a terminal): one JSON
 * document per line, the API's /api/v1/flows/{flow}/{id} shape, exactly as stored;
 * --format waterfall (the terminal's default): each document drawn by waterfall.h.
 *
 * Flags come from one table (name, argument, help, parser); the usage text is
 * printed from it. Exit: 0 (also when nothing matches), 1 the store cannot be read,
 * 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/waterfall.h"
#include "lib/cliopt.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "state/history_read.h"

enum hformat { HF_AUTO, HF_JSON, HF_WATERFALL };

struct hcmd {
	const char *data;
	struct history_query q;
	enum hformat format;
};

static int p_data(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->data = a;
	return 0;
}
static int p_corr(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->q.correlation_id = a;
	return 0;
}
static int p_key(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o, (void)why, (void)len;
	c->q.key = a;
	return 0;
}
static int p_flow(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->q.flow = a;
	return 0;
}
static int p_outcome(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->q.outcome = a;
	return 0;
}
static int p_kind(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->q.kind = a;
	return 0;
}

/* A time: RFC 3339, or a duration back from now (1h: an hour ago). */
static int parse_when(const char *a, int64_t *out, char *why, size_t len)
{
	int64_t ns;
	char w[128];
	if (timefmt_parse_rfc3339(a, strlen(a), &ns) == 0) {
		*out = ns;
		return 0;
	}
	if (config_parse_duration(a, &ns, w, sizeof w) == 0) {
		*out = log_wall_ns() - ns;
		return 0;
	}
	snprintf(why, len, "expected an RFC 3339 time or a duration such as 1h");
	return -1;
}
static int p_since(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	return parse_when(a, &c->q.since_ns, why, len);
}
static int p_until(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	return parse_when(a, &c->q.until_ns, why, len);
}
static int p_limit(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	char *end;
	long n = strtol(a, &end, 10);
	if (*a == '\0' || *end != '\0' || n < 1 || n > 1000000) {
		snprintf(why, len, "expected a whole number 1..1000000");
		return -1;
	}
	c->q.limit = (int)n;
	return 0;
}

static int p_format(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct hcmd *c = ctx;
	(void)o;
	if (strcmp(a, "json") == 0)
		c->format = HF_JSON;
	else if (strcmp(a, "waterfall") == 0)
		c->format = HF_WATERFALL;
	else {
		snprintf(why, len, "expected json or waterfall");
		return -1;
	}
	return 0;
}

static const struct cliopt hopts[] = {
	{ "--data", "DIR", "the store's directory (history.dir, or state.dir); required", p_data, 0,
	    0 },
	{ "--correlation-id", "ID", "flows with this correlation id (exact)", p_corr, 0, 0 },
	{ "--key", "V", "flows whose correlation id or a linked key (a payment id) is V", p_key, 0,
	    0 },
	{ "--flow", "NAME", "flows of this flow graph", p_flow, 0, 0 },
	{ "--outcome", "X", "flows that ended so (completed, abandoned, evicted, ...)", p_outcome,
	    0, 0 },
	{ "--kind", "KIND", "flows with a verdict of this kind (stalled, missing, ...)", p_kind, 0,
	    0 },
	{ "--since", "WHEN", "ended at or after WHEN: RFC 3339, or a duration ago (1h)", p_since, 0,
	    0 },
	{ "--until", "WHEN", "ended before WHEN (as --since)", p_until, 0, 0 },
	{ "--limit", "N", "print at most N flows, newest first (default 100)", p_limit, 0, 0 },
	{ "--format", "json|waterfall",
	    "JSON lines, or a waterfall per flow (the default on a terminal)", p_format, 0, 0 },
};

static const struct clicmd history_cmd = {
	.prog = "choreoscope history",
	.synopsis =
	    "usage: choreoscope history --data DIR [--correlation-id ID | --flow F --since 1h "
	    "...]\n"
	    "  Prints stored (retired) flows with their timelines from DIR/history.db, newest\n"
	    "  first: one JSON document per line, or on a terminal a waterfall per flow; no\n"
	    "  daemon needed.\n",
	.opts = hopts,
	.nopts = sizeof hopts / sizeof hopts[0],
	.quote_value = true,
};

/* 0 to go on, else the exit status (help: -1). */
static int parse_args(struct hcmd *c, int argc, char **argv)
{
	int pr = cliopt_parse(&history_cmd, argc, argv, c, NULL, NULL);
	if (pr != CLIOPT_RUN)
		return pr == CLIOPT_EXIT ? -1 : 2;
	if (c->data == NULL) {
		fprintf(stderr, "choreoscope history: --data DIR is required (see --help)\n");
		return 2;
	}
	return 0;
}

static int print_doc(void *arg, const char *doc, size_t len)
{
	(void)arg;
	fwrite(doc, 1, len, stdout);
	fputc('\n', stdout);
	return ferror(stdout) != 0;
}

/* The bar's width: what a terminal leaves beside the other columns (about 60), else
 * a fixed 40, so that piped output does not depend on a terminal. */
static int bar_width(void)
{
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col > 100 ? ws.ws_col - 60 : 40;
	return 40;
}

/* A blank line between flows; a document that is not a timeline is said, once per
 * document, and the rest still print (exit 1 at the end). */
static int print_waterfall(void *arg, const char *doc, size_t len)
{
	int *st = arg;
	char err[320];

	if (st[1]++)
		fputc('\n', stdout);
	if (waterfall_write(stdout, doc, len, st[2], err, sizeof err) != 0) {
		fprintf(stderr, "choreoscope history: %s\n", err);
		st[0] = 1;
	}
	return ferror(stdout) != 0;
}

int history_main(int argc, char **argv)
{
	struct hcmd c = { .q = { .since_ns = INT64_MIN, .until_ns = INT64_MAX, .limit = 100 } };
	int rc = parse_args(&c, argc, argv);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	struct history_reader *r;
	char err[512];
	if (history_read_open(c.data, &r, err, sizeof err) < 0) {
		fprintf(stderr, "choreoscope history: %s\n", err);
		return 1;
	}
	int wf[3] = { 0, 0, bar_width() }; /* status, flows printed, bar width */
	if (c.format == HF_AUTO)
		c.format = isatty(STDOUT_FILENO) ? HF_WATERFALL : HF_JSON;
	int n = c.format == HF_JSON
	    ? history_read_each(r, &c.q, print_doc, NULL, err, sizeof err)
	    : history_read_each(r, &c.q, print_waterfall, wf, err, sizeof err);
	history_read_close(r);
	if (n < 0) {
		fprintf(stderr, "choreoscope history: %s\n", err);
		return 1;
	}
	if (fflush(stdout) != 0)
		return 1;
	return wf[0];
}
