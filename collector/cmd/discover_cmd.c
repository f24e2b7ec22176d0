/*
 * discover_cmd: `choreoscope discover`, a starter flow graph from recorded traffic.
 *
 *   choreoscope discover [--config FILE] [--format jsonl|protobuf] [--out FILE]
 *       [--quantile Q] [--margin M] [--min-support S] [--max-flows N] [--idle DUR]
 *       [--explain] EVENTS|-
 *   choreoscope discover [options] --brokers LIST --topic NAME [--group ID]
 *       --duration DUR | --until-end
 *
 * Reads the stream with replay's readers and decoders (input_open, decoder_new with
 * the config's JSON field paths), feeds every event to the discover module, and
 * writes the YAML to --out (default stdout); --explain prints each rule's reason to
 * stderr. Rejected input is reported like replay does and skipped. A live topic is
 * read by discover_live.c. The options come
 * from one table (name, argument, help, parser); the usage text is printed from it.
 * Single-threaded.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/cliopt.h"
#include "cmd/discover_live.h"
#include "config/config.h"
#include "decode/decode.h"
#include "discover/discover.h"
#include "source/input.h"

#define DISCOVER_REJECT_LOG_MAX 100
#define DISCOVER_MAX_TOPICS 64

struct dcmd {
	struct discover_opts o;
	const char *config, *out;
	enum input_format fmt;
	int have_fmt, explain;
	struct discover_live_opts live;
	char *topics[DISCOVER_MAX_TOPICS];
};

/* The collector's defaults, for a live run without --config: a config must name a
 * flow, so this one names a placeholder that nothing uses. */
#define DEFAULTS_YAML "flows:\n  - name: _\n    steps:\n      _: { start: true, end: true }\n"

static int parse_num(const char *s, double lo, double hi, double *v)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(x) || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

static int p_config(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->config = a;
	return 0;
}
static int p_out(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->out = a;
	return 0;
}
static int p_format(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	c->have_fmt = 1;
	if (input_format_parse(a, &c->fmt) == 0)
		return 0;
	snprintf(why, len, "expected jsonl or protobuf");
	return -1;
}
/* 0.99, p99 or 99.9 (a percentage when > 1) */
static int p_quantile(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	double v;
	if (parse_num(a[0] == 'p' ? a + 1 : a, 0, 100, &v) == 0 && (a[0] == 'p' || v >= 1))
		v /= 100;
	else if (parse_num(a, 0, 1, &v) != 0)
		v = -1;
	if (v > 0 && v < 1) {
		c->o.quantile = v;
		return 0;
	}
	snprintf(why, len, "expected a quantile in (0, 1) or a percentile such as p99");
	return -1;
}
static int p_margin(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	if (parse_num(a, 1, 1000, &c->o.margin) == 0)
		return 0;
	snprintf(why, len, "expected a factor from 1 to 1000");
	return -1;
}
static int p_support(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	double v;
	if (parse_num(a, 0, 0.5, &v) == 0 && v > 0 && v < 0.5) {
		c->o.min_support = v;
		return 0;
	}
	snprintf(why, len, "expected a fraction in (0, 0.5), such as 0.05");
	return -1;
}
static int p_max_flows(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	double v;
	if (parse_num(a, 1, 1 << 30, &v) == 0 && v == floor(v)) {
		c->o.max_flows = (size_t)v;
		return 0;
	}
	snprintf(why, len, "expected a whole number from 1 to 1073741824");
	return -1;
}
static int p_idle(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	int64_t ns = 0;
	char w[128] = "";
	int rc = config_parse_duration(a, &ns, w, sizeof w);
	if (rc == 0 && ns > 0) {
		c->o.idle_ns = ns;
		return 0;
	}
	snprintf(why, len, "expected a positive duration such as 30m or 48h%s%s", rc ? ": " : "",
	    rc ? w : "");
	return -1;
}
static int p_brokers(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->live.brokers = a;
	return 0;
}
static int p_topic(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	if (c->live.ntopics >= DISCOVER_MAX_TOPICS || !a[0]) {
		snprintf(why, len, "at most %d non-empty topics", DISCOVER_MAX_TOPICS);
		return -1;
	}
	c->topics[c->live.ntopics++] = (char *)a;
	return 0;
}
static int p_group(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	(void)why, (void)len;
	c->live.group = a;
	return 0;
}
static int p_duration(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	int64_t ns = 0;
	char w[128] = "";
	int rc = config_parse_duration(a, &ns, w, sizeof w);
	if (rc == 0 && ns > 0) {
		c->live.duration_ns = ns;
		return 0;
	}
	snprintf(
	    why, len, "expected a positive duration such as 10m%s%s", rc ? ": " : "", rc ? w : "");
	return -1;
}
static int p_until_end(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	(void)a, (void)why, (void)len;
	c->live.until_end = 1;
	return 0;
}
static int p_explain(void *ctx, const struct cliopt *o, const char *a, char *why, size_t len)
{
	struct dcmd *c = ctx;
	(void)o;
	(void)a, (void)why, (void)len;
	c->explain = 1;
	return 0;
}

static const struct cliopt dopts[] = {
	{ "--config", "FILE",
	    "optional: its json: field paths (files), kafka: settings (live) are used", p_config, 0,
	    0 },
	{ "--format", "FMT", "jsonl (default; .pb/.bin default to protobuf) or protobuf", p_format,
	    0, 0 },
	{ "--out", "FILE", "write the YAML here (default stdout)", p_out, 0, 0 },
	{ "--quantile", "Q", "gap quantile for within/deadline: 0.99 or p99 (default)", p_quantile,
	    0, 0 },
	{ "--margin", "X", "factor on that quantile before rounding up (default 3)", p_margin, 0,
	    0 },
	{ "--min-support", "S",
	    "noise threshold: steps in >= S of a flow's instances, rules contradicted by <= S "
	    "(default 0.05)",
	    p_support, 0, 0 },
	{ "--max-flows", "N",
	    "flows in flight at most; the least recently seen is closed beyond (default 100000)",
	    p_max_flows, 0, 0 },
	{ "--idle", "DUR", "a flow with no event for DUR of event time is closed (default 1h)",
	    p_idle, 0, 0 },
	{ "--brokers", "LIST",
	    "read a live topic instead of EVENTS (default: kafka.brokers of --config)", p_brokers,
	    0, 0 },
	{ "--topic", "NAME", "topic to read (repeatable; default: kafka.topics of --config)",
	    p_topic, 0, 0 },
	{ "--group", "ID", "consumer group (default choreoscope-discover; not the daemon's)",
	    p_group, 0, 0 },
	{ "--duration", "DUR", "live: stop after DUR of wall time, e.g. 10m (or at SIGINT)",
	    p_duration, 0, 0 },
	{ "--until-end", NULL, "live: stop once every assigned partition is at its end",
	    p_until_end, 0, 0 },
	{ "--explain", NULL, "print why each rule was chosen on stderr", p_explain, 0, 0 },
};

static const struct clicmd discover_cmd = {
	.prog = "choreoscope discover",
	.synopsis =
	    "usage: choreoscope discover [options] EVENTS|-\n"
	    "       choreoscope discover [options] --brokers LIST --topic NAME --duration DUR\n"
	    "  Learns a starter flow graph (YAML, with its evidence as comments) from a\n"
	    "  recorded stream of JSON lines or length-delimited protobuf events, or from a\n"
	    "  live topic (the daemon's decoders and correlation settings of --config).\n",
	.opts = dopts,
	.nopts = sizeof dopts / sizeof dopts[0],
	.max_args = 2, /* one is used; a second is reported as such below */
	.quote_value = true,
};

/* 0 to go on, else the exit status (help: 0 printed as -1). */
static int parse_args(struct dcmd *c, int argc, char **argv, const char **path)
{
	char *args[2];
	int nargs = 0;
	int pr = cliopt_parse(&discover_cmd, argc, argv, c, args, &nargs);
	if (pr != CLIOPT_RUN)
		return pr == CLIOPT_EXIT ? -1 : 2;
	int live = c->live.brokers || c->live.ntopics || c->live.duration_ns || c->live.until_end;
	if (live) {
		if (nargs != 0) {
			fprintf(stderr,
			    "choreoscope discover: EVENTS and --brokers/--topic exclude each "
			    "other\n");
			return 2;
		}
		if (!c->live.duration_ns && !c->live.until_end) {
			fprintf(stderr,
			    "choreoscope discover: a live topic needs --duration DUR or "
			    "--until-end\n");
			return 2;
		}
		*path = NULL;
		return 0;
	}
	if (nargs != 1) {
		fprintf(stderr, "choreoscope discover: %s (see --help)\n",
		    nargs == 0 ? "no EVENTS file given (use - for stdin)"
			       : "more than one EVENTS file given");
		return 2;
	}
	*path = args[0];
	if (!c->have_fmt) {
		size_t n = strlen(*path);
		c->fmt = (n > 3 && !strcmp(*path + n - 3, ".pb")) ||
			(n > 4 && !strcmp(*path + n - 4, ".bin"))
		    ? INPUT_PROTOBUF
		    : INPUT_JSONL;
	}
	return 0;
}

static int feed(struct discover *d, struct input *in, const char *path)
{
	char err[512];
	struct event ev;
	struct input_reject rej;
	uint64_t rejected = 0;
	for (;;) {
		int st = input_next(in, &ev, &rej, err, sizeof err);
		if (st == INPUT_EVENT) {
			discover_add(d, &ev);
		} else if (st == INPUT_REJECT) {
			if (++rejected <= DISCOVER_REJECT_LOG_MAX)
				fprintf(stderr, "%s:%lld: rejected (%s): %s\n", path,
				    (long long)rej.pos, rej.reason, rej.detail);
		} else if (st == INPUT_ERROR) {
			fprintf(stderr, "choreoscope discover: %s: %s\n", path, err);
			return -1;
		} else {
			if (rejected > DISCOVER_REJECT_LOG_MAX)
				fprintf(stderr, "%s: %llu rejected in all (the first %d shown)\n",
				    path, (unsigned long long)rejected, DISCOVER_REJECT_LOG_MAX);
			return 0;
		}
	}
}

int discover_main(int argc, char **argv)
{
	struct dcmd c = { 0 };
	discover_opts_default(&c.o);
	const char *path = NULL;
	int rc = parse_args(&c, argc, argv, &path);
	if (rc)
		return rc < 0 ? 0 : rc;
	static char errbuf[65536];
	struct config *cfg = NULL;
	struct decoder *dec = NULL;
	struct discover *d = NULL;
	struct input *in = NULL;
	FILE *out = stdout;
	rc = 2;
	if (c.config ? config_load(c.config, &cfg, errbuf, sizeof errbuf) != 0
		     : !path &&
		    config_load_string("(defaults)", DEFAULTS_YAML, strlen(DEFAULTS_YAML), &cfg,
			errbuf, sizeof errbuf) != 0) {
		fprintf(stderr, "%s", errbuf);
		goto done;
	}
	if (discover_new(&c.o, &d, errbuf, sizeof errbuf) != 0) {
		fprintf(stderr, "choreoscope discover: %s\n", errbuf);
		goto done;
	}
	rc = 1;
	if (!path) {
		c.live.topics = c.live.ntopics ? c.topics : cfg->kafka.topics;
		c.live.ntopics = c.live.ntopics ? c.live.ntopics : cfg->kafka.ntopics;
		c.live.brokers = c.live.brokers ? c.live.brokers : cfg->kafka.brokers;
		c.live.group = c.live.group ? c.live.group : "choreoscope-discover";
		if (!c.live.brokers || c.live.ntopics == 0) {
			fprintf(stderr,
			    "choreoscope discover: a live topic needs --brokers and --topic (or "
			    "kafka.brokers and kafka.topics in --config)\n");
			rc = 2;
			goto done;
		}
		if (config_kafka_resolve(cfg, errbuf, sizeof errbuf) != 0 ||
		    discover_live_feed(d, cfg, &c.live, errbuf, sizeof errbuf) != 0) {
			fprintf(stderr, "choreoscope discover: %s\n", errbuf);
			goto done;
		}
	} else {
		dec = cfg ? decoder_from_config(cfg, errbuf, sizeof errbuf)
			  : decoder_new(NULL, 0, errbuf, sizeof errbuf);
		if (!dec || !(in = input_open(path, c.fmt, dec, errbuf, sizeof errbuf))) {
			fprintf(stderr, "choreoscope discover: %s\n", errbuf);
			goto done;
		}
		if (feed(d, in, path) != 0)
			goto done;
	}
	discover_finish(d);
	if (c.out && !(out = fopen(c.out, "w"))) {
		fprintf(stderr, "choreoscope discover: %s: %s\n", c.out, strerror(errno));
		out = NULL;
		goto done;
	}
	if (discover_write_yaml(d, out, c.explain ? stderr : NULL, errbuf, sizeof errbuf) != 0) {
		fprintf(stderr, "choreoscope discover: %s\n", errbuf);
		goto done;
	}
	struct discover_stats st;
	discover_get_stats(d, &st);
	fprintf(stderr,
	    "choreoscope discover: %llu events, %llu flows (%llu closed idle, %llu evicted at "
	    "--max-flows), "
	    "%llu redeliveries skipped, %llu types, %llu pairs, peak %llu in flight\n",
	    (unsigned long long)st.events, (unsigned long long)st.flows,
	    (unsigned long long)st.closed_idle, (unsigned long long)st.closed_evicted,
	    (unsigned long long)st.redeliveries, (unsigned long long)st.types,
	    (unsigned long long)st.pairs, (unsigned long long)st.peak_in_flight);
	if (st.dropped_types || st.dropped_pairs || st.truncated)
		fprintf(stderr,
		    "choreoscope discover: limits reached: %llu events of types past the type "
		    "bound, "
		    "%llu pair observations past the pair bound, %llu events past a flow's bound "
		    "of distinct types\n",
		    (unsigned long long)st.dropped_types, (unsigned long long)st.dropped_pairs,
		    (unsigned long long)st.truncated);
	rc = 0;
done:
	if (out && out != stdout && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "choreoscope discover: %s: write failed\n", c.out);
		rc = 1;
	}
	input_close(in);
	decoder_free(dec);
	discover_free(d);
	config_free(cfg);
	return rc;
}
