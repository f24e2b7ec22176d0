/*
 * choreoscope-gen: realistic saga traffic for the demo flows (config/demo.yaml) with
 * injected faults of every verdict kind, to Kafka and/or a replay file, plus the
 * ground truth of what was injected (--truth).
 *
 * Scheduling: flows start one after another in simulated time, spaced so that the
 * events average --rate per second; each flow's planned events (flows.c) go into a
 * min-heap ordered by send time and leave it in order. After the last flow, tick
 * events (a type no flow declares, fresh keys: `unmatched`) run the event time on by
 * --tail, so that every deadline of every flow fires, also at the end of a replay.
 *
 * Clocks: --clock synthetic starts event time at 2026-01-01T00:00:00Z (same seed,
 * same bytes); --clock wall starts it at the wall clock. Sending is paced in real
 * time when --rate > 0 (then simulated time = time since start), else as fast as
 * possible (synthetic only; simulated time then advances at --sim-rate events/s).
 *
 * Threading: one thread; the only global is the signal flag.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd/cli.h"
#include "lib/cliopt.h"
#include "gen.h"

static int set_opt(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen);

static const struct cliopt optdefs[] = {
	{ "--brokers", "LIST", "Kafka bootstrap servers; unset: no Kafka (then --out)", set_opt, 0,
	    'b' },
	{ "--topic", "NAME", "topic to produce to (default events)", set_opt, 0, 't' },
	{ "--rate", "EVENTS_PER_SEC",
	    "pace sending at this rate; 0 = as fast as possible (default; synthetic clock only)",
	    set_opt, 0, 'r' },
	{ "--flows", "N", "start N flows, then finish (default: run until SIGINT/SIGTERM)", set_opt,
	    0, 'n' },
	{ "--duration", "SECONDS", "start flows for this long (simulated time), then finish",
	    set_opt, 0, 'd' },
	{ "--seed", "N", "random seed (default 1); same seed, same flows, faults and ids", set_opt,
	    0, 's' },
	{ "--format", "FMT",
	    "protobuf (default) | json | cloudevents-binary | cloudevents-structured", set_opt, 0,
	    'f' },
	{ "--fault-rate", "KIND=P",
	    "fraction of flows with fault KIND (repeatable); KIND: stalled missing out_of_order "
	    "duplicate double_step retry_storm unexpected join_wait abandoned",
	    set_opt, 0, 'F' },
	{ "--faults", "P", "the same fraction for every fault kind (at most 1/9)", set_opt, 0,
	    'a' },
	{ "--truth", "FILE", "write every verdict the faults imply as JSON lines", set_opt, 0,
	    'T' },
	{ "--out", "FILE", "also write the events as a replay file", set_opt, 0, 'o' },
	{ "--out-format", "FMT",
	    "jsonl | protobuf (length-delimited); default protobuf for --format protobuf, else "
	    "jsonl",
	    set_opt, 0, 'O' },
	{ "--clock", "CLOCK",
	    "synthetic (event time from 2026-01-01T00:00:00Z; default) | wall (event time = now)",
	    set_opt, 0, 'c' },
	{ "--sim-rate", "EVENTS_PER_SEC", "simulated event rate when --rate is 0 (default 1000)",
	    set_opt, 0, 'S' },
	{ "--tail", "SECONDS",
	    "event time run on after the last flow event so every deadline fires (default 20)",
	    set_opt, 0, 'L' },
	{ "--property", "KEY=VALUE", "librdkafka producer property (repeatable; also -X)", set_opt,
	    0, 'X' },
	{ "-X", "KEY=VALUE", "the same as --property", set_opt, 0, 'X' },
};

static const struct clicmd gen_cmd = {
	.prog = "choreoscope-gen",
	.synopsis = "usage: choreoscope-gen [options]\n"
		    "Saga traffic for the demo flows (config/demo.yaml) with injected faults.\n\n",
	.version = CHOREOSCOPE_VERSION,
	.opts = optdefs,
	.nopts = sizeof optdefs / sizeof optdefs[0],
	.quote_value = true,
};

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_format(const char *s, enum gen_format *f)
{
	static const char *const names[] = { "protobuf", "json", "cloudevents-binary",
		"cloudevents-structured" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum gen_format)i;
			return 0;
		}
	return -1;
}

static int parse_fault_rate(struct gen_opts *o, const char *s, char *err, size_t errlen)
{
	char kind[32];
	const char *eq = strchr(s, '=');
	size_t n = eq ? (size_t)(eq - s) : 0;
	if (!eq || n == 0 || n >= sizeof kind) {
		snprintf(err, errlen, "expected KIND=P");
		return -1;
	}
	memcpy(kind, s, n);
	kind[n] = '\0';
	int k = gen_fault_index(kind);
	if (k < 0) {
		snprintf(err, errlen,
		    "unknown kind '%s' (stalled, missing, "
		    "out_of_order, duplicate, double_step, retry_storm, unexpected, join_wait, "
		    "abandoned)",
		    kind);
		return -1;
	}
	if (parse_double(eq + 1, 0, 1, &o->fault_rate[k]) < 0) {
		snprintf(err, errlen, "P must be a number in [0, 1]");
		return -1;
	}
	return 0;
}

/* One option; 0 ok, -1 error (err set). */
static int apply_opt(struct gen_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	double p;
	switch (c) {
	case 'b': o->brokers = arg; return 0;
	case 't': o->topic = arg; return 0;
	case 'T': o->truth = arg; return 0;
	case 'o': o->out = arg; return 0;
	case 'r':
		if (parse_double(arg, 0, 1e8, &o->rate) == 0)
			return 0;
		break;
	case 'S':
		if (parse_double(arg, 1, 1e8, &o->sim_rate) == 0)
			return 0;
		break;
	case 'L':
		if (parse_double(arg, 0, 3600, &o->tail) == 0)
			return 0;
		break;
	case 'd':
		o->have_duration = 1;
		if (parse_double(arg, 0.001, 1e9, &o->duration) == 0)
			return 0;
		break;
	case 'n':
		o->have_flows = 1;
		if (parse_u64(arg, &o->flows) == 0)
			return 0;
		break;
	case 's':
		if (parse_u64(arg, &o->seed) == 0)
			return 0;
		break;
	case 'f':
		if (parse_format(arg, &o->format) == 0)
			return 0;
		break;
	case 'F': return parse_fault_rate(o, arg, err, errlen);
	case 'a':
		if (parse_double(arg, 0, 1.0 / GF_NFAULTS, &p) < 0)
			break;
		for (int k = 0; k < GF_NFAULTS; k++)
			o->fault_rate[k] = p;
		return 0;
	case 'O':
		if (strcmp(arg, "jsonl") == 0 || strcmp(arg, "protobuf") == 0) {
			o->out_format = arg[0] == 'p';
			return 0;
		}
		break;
	case 'c':
		if (strcmp(arg, "wall") == 0 || strcmp(arg, "synthetic") == 0) {
			o->synthetic = arg[0] == 's';
			return 0;
		}
		break;
	case 'X':
		if (o->nprops >= GEN_MAX_PROPS) {
			snprintf(err, errlen, "too many -X (at most %d)", GEN_MAX_PROPS);
			return -1;
		}
		o->props[o->nprops++] = (char *)arg;
		return 0;
	}
	for (size_t i = 0; i < sizeof optdefs / sizeof optdefs[0]; i++)
		if (optdefs[i].key == c)
			snprintf(err, errlen, "expected %s (%s)", optdefs[i].arg, optdefs[i].help);
	return -1;
}

static int set_opt(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	return apply_opt(ctx, o->key, val, err, errlen);
}

/* Cross-option checks. */
static int check_opts(struct gen_opts *o, char *err, size_t errlen)
{
	double sum = 0;
	for (int k = 0; k < GF_NFAULTS; k++)
		sum += o->fault_rate[k];
	if (sum > 1.0 + 1e-9) {
		snprintf(err, errlen, "fault rates add up to %.3f, more than 1", sum);
		return -1;
	}
	if (!o->brokers && !o->out) {
		snprintf(err, errlen, "nothing to do: give --brokers and/or --out");
		return -1;
	}
	if (!o->synthetic && o->rate <= 0) {
		snprintf(err, errlen, "--clock wall needs --rate > 0 (event time is real time)");
		return -1;
	}
	if (o->out_format < 0)
		o->out_format = o->format == GEN_FMT_PROTOBUF;
	return 0;
}

/* 0 run, 1 exit 0, -1 usage error (err set), -2 usage error (printed). */
static int parse_args(int argc, char **argv, struct gen_opts *o, char *err, size_t errlen)
{
	*o = (struct gen_opts){ .topic = "events",
		.sim_rate = 1000,
		.tail = 20,
		.seed = 1,
		.out_format = -1,
		.synthetic = 1 };
	int pr = cliopt_parse(&gen_cmd, argc, argv, o, NULL, NULL);
	if (pr != CLIOPT_RUN)
		return pr == CLIOPT_EXIT ? 1 : -2;
	return check_opts(o, err, errlen);
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	struct gen_opts o;
	char err[600];
	int r = parse_args(argc, argv, &o, err, sizeof err);
	if (r > 0)
		return 0;
	if (r == -2)
		return 2;
	if (r < 0) {
		fprintf(stderr, "choreoscope-gen: %s\n(see --help)\n", err);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return gen_run(&o, &stop_flag);
}
