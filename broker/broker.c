/*
 * choreoscope-broker: a Kafka-protocol broker for demos and tests, built on
 * librdkafka's mock cluster (rdkafka_mock.h).
 *
 *   choreoscope-broker [--topic NAME:PARTITIONS]... [--brokers N] [--address-file FILE]
 *
 * It pre-creates the topics (the mock cluster has no CreateTopics API), prints its
 * bootstrap address as one flushed line on stdout, optionally writes it to a file
 * (temp file + rename, so a reader never sees a partial address), and serves until
 * SIGTERM or SIGINT, then exits 0.
 *
 * Limits of the mock (see shared/KAFKA-NOTES.md): random ports only, everything in
 * memory, each partition keeps only ~5 MiB, auto-created topics get 4 partitions.
 *
 * Threading: the mock cluster runs on librdkafka's own threads. SIGTERM/SIGINT are
 * blocked before any thread starts (threads inherit the mask) and the main thread
 * waits for them with sigwait, so no signal handler and no global flag are needed.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include "cmd/cli.h"
#include "lib/cliopt.h"

#define BROKER_MAX_TOPICS 64
#define BROKER_MAX_PARTITIONS 10000
#define BROKER_MAX_BROKERS 16

struct broker_topic {
	char name[250];
	int partitions;
};

struct broker_opts {
	struct broker_topic topics[BROKER_MAX_TOPICS];
	int ntopics;
	int brokers;
	const char *address_file;
};

static int set_opt(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen);

/* The option table: parsing and the --help text come from it (lib/cliopt.h). */
static const struct cliopt optdefs[] = {
	{ "--topic", "NAME:PARTITIONS", "pre-create a topic (repeatable, up to 64)", set_opt, 0,
	    't' },
	{ "--brokers", "N", "number of brokers in the cluster (1..16, default 1)", set_opt, 0,
	    'b' },
	{ "--address-file", "FILE", "also write the bootstrap address to FILE (atomically)", NULL,
	    offsetof(struct broker_opts, address_file), 0 },
};

static const struct clicmd broker_cmd = {
	.prog = "choreoscope-broker",
	.synopsis = "usage: choreoscope-broker [options]\n"
		    "A Kafka-protocol broker on librdkafka's mock cluster. Prints its bootstrap\n"
		    "address on stdout and serves until SIGTERM/SIGINT.\n\n",
	.version = CHOREOSCOPE_VERSION,
	.opts = optdefs,
	.nopts = sizeof optdefs / sizeof optdefs[0],
};

/* Parses a decimal integer in [lo, hi]; 0 or -1. */
static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* "NAME:PARTITIONS" into o->topics; 0 or -1 with a reason. */
static int add_topic(struct broker_opts *o, const char *spec, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':');
	if (o->ntopics >= BROKER_MAX_TOPICS) {
		snprintf(err, errlen, "too many (at most %d)", BROKER_MAX_TOPICS);
		return -1;
	}
	if (!colon || colon == spec) {
		snprintf(err, errlen, "'%s': expected NAME:PARTITIONS", spec);
		return -1;
	}
	size_t n = (size_t)(colon - spec);
	struct broker_topic *t = &o->topics[o->ntopics];
	if (n >= sizeof t->name) {
		snprintf(err, errlen, "'%s': name longer than %zu", spec, sizeof t->name - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = spec[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '-')) {
			snprintf(err, errlen, "'%s': topic names use [a-zA-Z0-9._-]", spec);
			return -1;
		}
	}
	if (parse_int(colon + 1, 1, BROKER_MAX_PARTITIONS, &t->partitions) < 0) {
		snprintf(
		    err, errlen, "'%s': PARTITIONS must be 1..%d", spec, BROKER_MAX_PARTITIONS);
		return -1;
	}
	memcpy(t->name, spec, n);
	t->name[n] = '\0';
	o->ntopics++;
	return 0;
}

static int set_opt(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	struct broker_opts *bo = ctx;
	if (o->key == 't')
		return add_topic(bo, val, err, errlen);
	if (parse_int(val, 1, BROKER_MAX_BROKERS, &bo->brokers) < 0) {
		snprintf(err, errlen, "expected 1..%d, found \"%s\"", BROKER_MAX_BROKERS, val);
		return -1;
	}
	return 0;
}

/* 0 = run, 1 = exit 0 (help/version printed), -1 = usage error (printed). */
static int parse_args(int argc, char **argv, struct broker_opts *o)
{
	o->brokers = 1;
	int pr = cliopt_parse(&broker_cmd, argc, argv, o, NULL, NULL);
	return pr == CLIOPT_RUN ? 0 : pr == CLIOPT_EXIT ? 1 : -1;
}

/* Writes `addr` + newline to `path` via a temp file in the same directory + rename. */
static int write_address(const char *path, const char *addr, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
		snprintf(err, errlen, "--address-file: path too long");
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%.400s: %s", tmp, strerror(errno));
		return -1;
	}
	int bad = fprintf(f, "%s\n", addr) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%.400s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Silences librdkafka's own log (the handle has no bootstrap servers on purpose). */
static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 3)
		fprintf(stderr, "choreoscope-broker: rdkafka %s: %s\n", fac, buf);
}

/* Creates the handle, cluster and topics. 0 or -1 with err. */
static int cluster_start(const struct broker_opts *o, rd_kafka_t **rkp,
    rd_kafka_mock_cluster_t **mcp, char *err, size_t errlen)
{
	char e[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, quiet_log);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "rd_kafka_new: %s", e);
		return -1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, o->brokers);
	if (!mc) {
		rd_kafka_destroy(rk);
		snprintf(err, errlen, "cannot create the mock cluster");
		return -1;
	}
	for (int i = 0; i < o->ntopics; i++) {
		int rf = o->brokers < 3 ? o->brokers : 3;
		rd_kafka_resp_err_t r =
		    rd_kafka_mock_topic_create(mc, o->topics[i].name, o->topics[i].partitions, rf);
		if (r) {
			snprintf(err, errlen, "creating topic %s: %s", o->topics[i].name,
			    rd_kafka_err2str(r));
			rd_kafka_mock_cluster_destroy(mc);
			rd_kafka_destroy(rk);
			return -1;
		}
	}
	*rkp = rk;
	*mcp = mc;
	return 0;
}

int main(int argc, char **argv)
{
	struct broker_opts o;
	char err[600];
	memset(&o, 0, sizeof o);
	int r = parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	if (cluster_start(&o, &rk, &mc, err, sizeof err) < 0) {
		fprintf(stderr, "choreoscope-broker: %s\n", err);
		return 1;
	}
	const char *addr = rd_kafka_mock_cluster_bootstraps(mc);
	int status = 0;
	if (o.address_file && write_address(o.address_file, addr, err, sizeof err) < 0) {
		fprintf(stderr, "choreoscope-broker: %s\n", err);
		status = 1;
	} else {
		printf("%s\n", addr);
		fflush(stdout);
		int sig;
		sigwait(&set, &sig);
		fprintf(stderr, "choreoscope-broker: %s, stopping\n",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return status;
}
