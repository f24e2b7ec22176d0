/*
 * replay: offline judging of a recorded stream, and --check-config.
 *
 *   choreoscope replay --config FILE [--format jsonl|protobuf] EVENTS|-
 *
 * Reads JSON lines or length-delimited protobuf envelopes, judges them on the
 * event-time watermark (the engine's ENGINE_CLOCK_EVENTS), and writes the records of
 * docs/semantics.md as JSON lines on stdout, the summary last. Bad input is reported on
 * stderr with its line number (JSONL) or byte offset (protobuf), counted in the
 * summary's `rejected` and `rejected_by_reason`, and skipped: replay goes on. The first REJECT_LOG_MAX
 * rejections are printed one by one, then only their count.
 * Exit: 0, 1 on an input or output error, 2 on bad usage or config, 3 when
 * --fail-on KIND,... was given and a verdict of one of those kinds was found (for CI:
 * the records are written all the same).
 */
#include <time.h>
#include <sys/resource.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "config/config.h"
#include "engine/engine.h"
#include "lib/cliopt.h"
#include "source/input.h"
#include "out/records.h"
#include "state/history.h"

#define REJECT_LOG_MAX 100

static int guess_format(const char *path, enum input_format *fmt)
{
	size_t n = strlen(path);
	*fmt = INPUT_JSONL;
	if ((n > 3 && strcmp(path + n - 3, ".pb") == 0) ||
	    (n > 4 && strcmp(path + n - 4, ".bin") == 0))
		*fmt = INPUT_PROTOBUF;
	return 0;
}

/* --fail-on: "all" or comma-separated kind names into a mask of an_kind bits. */
static int parse_fail_on(const char *arg, unsigned *mask, char *err, size_t errlen)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", arg);
	*mask = 0;
	for (char *p = buf, *k; (k = strsep(&p, ",")) != NULL;) {
		int i = 0;
		if (strcmp(k, "all") == 0) {
			*mask = (1u << AN__COUNT) - 1;
			continue;
		}
		while (i < AN__COUNT && strcmp(an_kind_name((enum an_kind)i), k) != 0)
			i++;
		if (i == AN__COUNT) {
			snprintf(err, errlen, "unknown kind \"%s\"", k);
			return -1;
		}
		*mask |= 1u << i;
	}
	return 0;
}

/* Verdicts of the kinds in mask, over every flow and the undeclared ones. */
static uint64_t count_kinds(const struct engine *e, int nflows, unsigned mask)
{
	uint64_t n = 0;
	for (int k = 0; k < AN__COUNT; k++) {
		if (!(mask & (1u << k)))
			continue;
		for (int f = 0; f < nflows; f++)
			n += engine_flow_stats(e, f)->anomalies[k];
	}
	return n;
}

struct replay_run {
	struct config *cfg;
	struct engine *eng;
	struct records *rec;
	struct history *hist; /* --history, or NULL */
	struct input *in;
	struct records_rejects rej;
};

static int feed(struct replay_run *r, const char *path)
{
	char err[512];
	struct event ev;
	struct input_reject rej;
	for (;;) {
		int st = input_next(r->in, &ev, &rej, err, sizeof(err));
		if (st == INPUT_EVENT) {
			if (r->hist)
				history_event(r->hist, &ev);
			engine_apply(r->eng, &ev);
			continue;
		}
		if (st == INPUT_REJECT) {
			records_reject(&r->rej, rej.reason);
			if (r->rej.total <= REJECT_LOG_MAX)
				fprintf(stderr, "%s:%lld: rejected (%s): %s\n", path,
				    (long long)rej.pos, rej.reason, rej.detail);
			continue;
		}
		if (st == INPUT_ERROR) {
			fprintf(stderr, "choreoscope replay: %s: %s\n", path, err);
			return -1;
		}
		return 0;
	}
}

struct rflags {
	const char *config, *format, *history;
	long long max_flows;
	unsigned fail_on;
};

static int set_format(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	enum input_format fmt;
	(void)ctx, (void)o;
	if (input_format_parse(val, &fmt) != 0) {
		snprintf(err, errlen, "expected jsonl or protobuf, found \"%s\"", val);
		return -1;
	}
	((struct rflags *)ctx)->format = val;
	return 0;
}

static int set_max_flows(
    void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	char *end;
	long long n = strtoll(val, &end, 10);
	(void)o;
	if (end == val || *end != '\0' || n < 1) {
		snprintf(err, errlen, "expected a whole number >= 1, found \"%s\"", val);
		return -1;
	}
	((struct rflags *)ctx)->max_flows = n;
	return 0;
}

static int set_fail_on(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	(void)o;
	return parse_fail_on(val, &((struct rflags *)ctx)->fail_on, err, errlen);
}

#define RO(f) offsetof(struct rflags, f)
static const struct cliopt ropts[] = {
	{ "--config", "FILE", "the YAML config with the flows", NULL, RO(config), 0 },
	{ "--format", "FMT",
	    "jsonl (default; .pb/.bin files default to protobuf) or protobuf\n"
	    "(length-delimited choreoscope.v1.Event)",
	    set_format, 0, 0 },
	{ "--max-flows", "N", "in-flight bound (default: limits.max_flows of the config)",
	    set_max_flows, 0, 0 },
	{ "--fail-on", "KINDS",
	    "exit 3 when a verdict of these kinds (comma-separated, e.g.\n"
	    "stalled,missing, or all) was found",
	    set_fail_on, 0, 0 },
	{ "--history", "DIR",
	    "also store every retired flow in DIR/history.db (the\n"
	    "config's history.* settings; a full queue drops, counted\n"
	    "on stderr)",
	    NULL, RO(history), 0 },
};

static const struct clicmd rcmd = {
	.prog = "choreoscope replay",
	.synopsis =
	    "usage: choreoscope replay --config FILE [--format jsonl|protobuf] EVENTS|-\n"
	    "  Judges a recorded stream against the flow graphs of FILE and writes anomaly,\n"
	    "  flow and summary records as JSON lines on stdout.\n",
	.footer = "  EVENTS             the file, or - for stdin\n",
	.opts = ropts,
	.nopts = sizeof ropts / sizeof ropts[0],
	.max_args = 1,
};

int replay_main(int argc, char **argv)
{
	struct rflags fl = { .max_flows = -1 };
	char *args[1];
	int nargs = 0;
	int pr = cliopt_parse(&rcmd, argc, argv, &fl, args, &nargs);
	if (pr != CLIOPT_RUN)
		return cliopt_exit_status(pr);
	if (fl.config == NULL || nargs != 1) {
		fprintf(stderr, "choreoscope replay: %s (see --help)\n",
		    fl.config == NULL ? "--config FILE is required"
				      : "no EVENTS file given (use - for stdin)");
		return 2;
	}
	const char *cfgpath = fl.config, *histdir = fl.history, *path = args[0];
	long long max_flows = fl.max_flows;
	unsigned fail_on = fl.fail_on;
	enum input_format fmt;
	if (fl.format != NULL)
		input_format_parse(fl.format, &fmt);
	else
		guess_format(path, &fmt);

	static char errbuf[65536];
	struct replay_run r = { 0 };
	if (config_load(cfgpath, &r.cfg, errbuf, sizeof(errbuf)) != 0) {
		fprintf(stderr, "%s", errbuf);
		return 2;
	}
	int rc = 1;
	static char outbuf[1 << 20];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	struct decoder *dec = decoder_from_config(r.cfg, errbuf, sizeof(errbuf));
	r.rec = records_new(stdout, &r.cfg->graph);
	struct engine_sink sink;
	if (!dec || !r.rec) {
		fprintf(stderr, "choreoscope replay: %s\n", dec ? "out of memory" : errbuf);
		goto out;
	}
	records_sink(r.rec, &sink);
	struct engine_sink hsink = { 0 };
	if (histdir != NULL) {
		const struct cfg_history *hc = &r.cfg->history;
		const struct history_opts ho = { .dir = histdir,
			.retention_ns = hc->retention_ns,
			.max_bytes = hc->max_bytes,
			.queue_len = hc->queue,
			.max_attr_bytes = hc->max_attr_bytes,
			.timeline_bytes = hc->timeline_bytes };
		static struct log lg = { .level = LOG_LVL_WARN };
		if (history_new(&ho, &r.cfg->graph, &lg, &r.hist, errbuf, sizeof(errbuf)) != 0) {
			fprintf(stderr, "choreoscope replay: %s\n", errbuf);
			goto out;
		}
		history_sink(r.hist, &hsink);
	}
	struct engine_opts eo = { ENGINE_CLOCK_EVENTS,
		max_flows >= 0 ? (size_t)max_flows : r.cfg->max_flows };
	if (engine_new(&r.cfg->graph, &eo, &sink, &r.eng, errbuf, sizeof(errbuf)) != 0 ||
	    (hsink.ctx != NULL && engine_add_sink(r.eng, &hsink) != 0)) {
		fprintf(stderr, "choreoscope replay: %s\n", r.eng ? "too many sinks" : errbuf);
		goto out;
	}
	if (r.hist)
		history_attach_engine(r.hist, r.eng);
	r.in = input_open(path, fmt, dec, errbuf, sizeof(errbuf));
	if (!r.in) {
		fprintf(stderr, "choreoscope replay: %s\n", errbuf);
		goto out;
	}
	struct timespec ts0, ts1, ts2;
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	int fed = feed(&r, path);
	if (r.rej.total > REJECT_LOG_MAX)
		fprintf(stderr, "%s: %llu rejected in all (the first %d shown)\n", path,
		    (unsigned long long)r.rej.total, REJECT_LOG_MAX);
	engine_finish(r.eng);
	records_summary(r.rec, engine_stats(r.eng), &r.rej);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	if (r.hist) { /* judging ends above; then the writer drains its queue */
		struct history_stats hs;
		struct rusage ru; /* this thread's CPU: judging without the writer's share */
		getrusage(RUSAGE_THREAD, &ru);
		history_sync(r.hist);
		clock_gettime(CLOCK_MONOTONIC, &ts2);
		history_stats(r.hist, &hs);
		fprintf(stderr,
		    "history: path=%s written=%llu dropped=%llu errors=%llu bytes=%llu "
		    "judge_seconds=%.3f drain_seconds=%.3f engine_thread_cpu_seconds=%.3f\n",
		    history_path(r.hist), (unsigned long long)hs.writes,
		    (unsigned long long)hs.drops, (unsigned long long)hs.errors,
		    (unsigned long long)hs.bytes,
		    (double)(ts1.tv_sec - ts0.tv_sec) + (double)(ts1.tv_nsec - ts0.tv_nsec) / 1e9,
		    (double)(ts2.tv_sec - ts1.tv_sec) + (double)(ts2.tv_nsec - ts1.tv_nsec) / 1e9,
		    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (records_failed(r.rec))
		fprintf(stderr, "choreoscope replay: writing records failed\n");
	else if (fed == 0)
		rc = fail_on && count_kinds(r.eng, r.cfg->graph.nflows, fail_on) ? 3 : 0;
out:
	input_close(r.in);
	history_free(r.hist);
	engine_free(r.eng);
	records_free(r.rec);
	decoder_free(dec);
	config_free(r.cfg);
	return rc;
}

/* choreoscope --check-config FILE | --check-config=FILE | --config FILE --check-config */
struct ccflags {
	const char *path, *config;
};

static const struct cliopt ccopts[] = {
	{ "--check-config", "FILE", "load and validate FILE, print what it declares", NULL,
	    offsetof(struct ccflags, path), 0 },
	{ "--config", "FILE", "the same file, when --check-config is given without one", NULL,
	    offsetof(struct ccflags, config), 0 },
};

static const struct clicmd cccmd = {
	.prog = "choreoscope",
	.synopsis = "usage: choreoscope --check-config FILE\n"
		    "  Loads and validates a config; exit 0, or 2 with every problem found.\n",
	.opts = ccopts,
	.nopts = sizeof ccopts / sizeof ccopts[0],
};

int checkconfig_main(int argc, char **argv)
{
	struct ccflags fl = { 0 };
	int pr = cliopt_parse(&cccmd, argc, argv, &fl, NULL, NULL);
	if (pr != CLIOPT_RUN)
		return cliopt_exit_status(pr);
	const char *path = fl.path != NULL ? fl.path : fl.config;
	if (!path) {
		fprintf(stderr, "usage: choreoscope --check-config FILE\n");
		return 2;
	}
	static char err[65536];
	struct config *cfg = NULL;
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s", err);
		if (err[0] && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		return 2;
	}
	int steps = 0;
	for (int f = 0; f < cfg->graph.nflows; f++)
		steps += cfg->graph.flows[f].nsteps;
	printf("%s: ok (%d flow%s, %d steps)\n", path, cfg->graph.nflows,
	    cfg->graph.nflows == 1 ? "" : "s", steps);
	config_free(cfg);
	return 0;
}
