/*
 * history_cmd: choreoscope history --data DIR [filters] — prints stored flows with
 * their timelines from the history store (docs/history.md), one JSON document per
 * line (the API's /api/v1/flows/{flow}/{id} shape), newest first, without a running
 * daemon: it opens DIR/history.db read-only, beside a daemon writing it or not.
 *
 * Flags come from one table (name, argument, help, parser); the usage text is
 * printed from it. Exit: 0 (also when nothing matches), 1 the store cannot be read,
 * 2 usage.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "state/history_read.h"

struct hcmd {
	const char *data;
	struct history_query q;
};

typedef int (*hparse_fn)(struct hcmd *c, const char *a, char *why, size_t len);

static int p_data(struct hcmd *c, const char *a, char *why, size_t len)
{
	(void)why, (void)len;
	c->data = a;
	return 0;
}
static int p_corr(struct hcmd *c, const char *a, char *why, size_t len)
{
	(void)why, (void)len;
	c->q.correlation_id = a;
	return 0;
}
static int p_key(struct hcmd *c, const char *a, char *why, size_t len)
{
	(void)why, (void)len;
	c->q.key = a;
	return 0;
}
static int p_flow(struct hcmd *c, const char *a, char *why, size_t len)
{
	(void)why, (void)len;
	c->q.flow = a;
	return 0;
}
static int p_outcome(struct hcmd *c, const char *a, char *why, size_t len)
{
	(void)why, (void)len;
	c->q.outcome = a;
	return 0;
}
static int p_kind(struct hcmd *c, const char *a, char *why, size_t len)
{
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
static int p_since(struct hcmd *c, const char *a, char *why, size_t len)
{
	return parse_when(a, &c->q.since_ns, why, len);
}
static int p_until(struct hcmd *c, const char *a, char *why, size_t len)
{
	return parse_when(a, &c->q.until_ns, why, len);
}
static int p_limit(struct hcmd *c, const char *a, char *why, size_t len)
{
	char *end;
	long n = strtol(a, &end, 10);
	if (*a == '\0' || *end != '\0' || n < 1 || n > 1000000) {
		snprintf(why, len, "expected a whole number 1..1000000");
		return -1;
	}
	c->q.limit = (int)n;
	return 0;
}

static const struct hopt {
	struct option opt;
	const char *arg, *help;
	hparse_fn parse;
} hopts[] = {
	{ { "data", required_argument, NULL, 'D' }, "DIR",
	    "the store's directory (history.dir, or state.dir); required", p_data },
	{ { "correlation-id", required_argument, NULL, 'c' }, "ID",
	    "flows with this correlation id (exact)", p_corr },
	{ { "key", required_argument, NULL, 'K' }, "V",
	    "flows whose correlation id or a linked key (a payment id) is V", p_key },
	{ { "flow", required_argument, NULL, 'f' }, "NAME", "flows of this flow graph", p_flow },
	{ { "outcome", required_argument, NULL, 'o' }, "X",
	    "flows that ended so (completed, abandoned, evicted, ...)", p_outcome },
	{ { "kind", required_argument, NULL, 'k' }, "KIND",
	    "flows with a verdict of this kind (stalled, missing, ...)", p_kind },
	{ { "since", required_argument, NULL, 's' }, "WHEN",
	    "ended at or after WHEN: RFC 3339, or a duration ago (1h)", p_since },
	{ { "until", required_argument, NULL, 'u' }, "WHEN", "ended before WHEN (as --since)",
	    p_until },
	{ { "limit", required_argument, NULL, 'n' }, "N",
	    "print at most N flows, newest first (default 100)", p_limit },
	{ { "help", no_argument, NULL, 'h' }, NULL, "show this help", NULL },
};
#define NHOPTS (sizeof hopts / sizeof hopts[0])

static void history_usage(FILE *out)
{
	fprintf(out,
	    "usage: choreoscope history --data DIR [--correlation-id ID | --flow F --since 1h "
	    "...]\n"
	    "  Prints stored (retired) flows with their timelines from DIR/history.db, one JSON\n"
	    "  document per line, newest first; no daemon needed.\n");
	for (size_t i = 0; i < NHOPTS; i++) {
		char lhs[48];
		snprintf(lhs, sizeof lhs, "--%s%s%s", hopts[i].opt.name, hopts[i].arg ? " " : "",
		    hopts[i].arg ? hopts[i].arg : "");
		fprintf(out, "  %-22s %s\n", lhs, hopts[i].help);
	}
}

/* 0 to go on, else the exit status (help: -1). */
static int parse_args(struct hcmd *c, int argc, char **argv)
{
	struct option longopts[NHOPTS + 1];
	for (size_t i = 0; i < NHOPTS; i++)
		longopts[i] = hopts[i].opt;
	memset(&longopts[NHOPTS], 0, sizeof longopts[0]);
	optind = 1;
	opterr = 1;
	int ch, li;
	while ((ch = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		if (ch == '?' || ch == ':') {
			history_usage(stderr);
			return 2;
		}
		const struct hopt *d = NULL;
		for (size_t i = 0; i < NHOPTS; i++)
			if (hopts[i].opt.val == ch)
				d = &hopts[i];
		if (!d->parse) {
			history_usage(stdout);
			return -1;
		}
		char why[160];
		if (d->parse(c, optarg, why, sizeof why) != 0) {
			fprintf(stderr, "choreoscope history: --%s: %s, found \"%s\"\n",
			    d->opt.name, why, optarg);
			return 2;
		}
	}
	if (optind != argc || c->data == NULL) {
		fprintf(stderr, "choreoscope history: %s\n",
		    c->data == NULL ? "--data DIR is required" : "unexpected argument");
		history_usage(stderr);
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
	int n = history_read_each(r, &c.q, print_doc, NULL, err, sizeof err);
	history_read_close(r);
	if (n < 0) {
		fprintf(stderr, "choreoscope history: %s\n", err);
		return 1;
	}
	if (fflush(stdout) != 0)
		return 1;
	return 0;
}
