/*
 * discover_live: see discover_live.h. The loop polls a batch (100 ms at most),
 * decodes each message, hands decoded events to discover_add and tells the
 * partition clock about every message (so --until-end knows when each partition is
 * at its end), then hands the batch back (its offsets are stored and committed: a
 * discover group does not re-read what it has seen; use a fresh --group to start
 * over). The only file-scope mutable state is the signal flag.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/discover_live.h"
#include "decode/kafka_decode.h"
#include "lib/log.h"
#include "source/kafka_source.h"
#include "source/partclock.h"

#define LIVE_MAX_PARTITIONS 1024
#define LIVE_POLL_MS 100

static volatile sig_atomic_t live_stop;

static void on_signal(int sig) { live_stop = sig; }

static void install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Decodes and adds the batch; returns the number rejected. */
static uint64_t live_batch(struct discover *d, struct ksrc *ks, struct kdec *kd,
    struct partclock *pc, struct ksrc_batch *b, struct log *lg, struct log_limit *rl)
{
	uint64_t rejected = 0;
	for (int i = 0; i < b->n; i++) {
		struct ce_header hdrs[KSRC_MAX_HEADERS];
		struct kmsg km;
		struct event ev;
		const char *reason = NULL;
		int64_t t = PARTCLOCK_NONE;
		ksrc_kmsg(b, i, hdrs, &km);
		if (kdec_decode(kd, &km, &ev, &reason) == 0) {
			discover_add(d, &ev);
			t = ev.time_ns;
		} else {
			rejected++;
			LOG_LIMITED(lg, rl, LOG_LVL_WARN, "undecodable message",
			    "topic=%s partition=%d offset=%lld reason=%s", km.topic,
			    (int)km.partition, (long long)km.offset, reason);
		}
		if (b->slot[i] >= 0)
			partclock_message(pc, b->slot[i], km.offset, t);
	}
	ksrc_batch_done(ks, b);
	return rejected;
}

int discover_live_feed(struct discover *d, const struct config *cfg,
    const struct discover_live_opts *o, char *err, size_t errlen)
{
	struct log lg = { LOG_LVL_WARN, stderr };
	struct log_limit rl = LOG_LIMIT_INIT(10, 10 * (int64_t)1000000000);
	struct partclock *pc = NULL;
	struct kdec *kd = NULL;
	struct ksrc *ks = NULL;
	struct ksrc_batch *b = malloc(sizeof *b);
	int rc = -1;
	const struct cfg_kafka *k = &cfg->kafka;
	const struct ksrc_opts ko = {
		.brokers = o->brokers,
		.group_id = o->group,
		.topics = o->topics,
		.ntopics = o->ntopics,
		.prop_keys = k->prop_keys,
		.prop_vals = k->prop_vals,
		.nprops = k->nprops,
		.max_partitions = LIVE_MAX_PARTITIONS,
	};
	const struct kdec_opts kdo = kdec_opts_of(cfg);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	b->n = 0;
	if (partclock_new(PARTCLOCK_WALL, LIVE_MAX_PARTITIONS, &pc, err, errlen) < 0 ||
	    kdec_new(&kdo, &kd, err, errlen) < 0 || ksrc_new(&ko, &lg, pc, &ks, err, errlen) < 0)
		goto out;
	install();
	int64_t start = log_mono_ns(), last_tick = start;
	uint64_t rejected = 0;
	while (!live_stop) {
		int64_t now = log_mono_ns();
		if (o->duration_ns > 0 && now - start >= o->duration_ns)
			break;
		ksrc_poll(ks, b, LIVE_POLL_MS);
		rejected += live_batch(d, ks, kd, pc, b, &lg, &rl);
		if (now - last_tick >= LIVE_POLL_MS * (int64_t)1000000) {
			ksrc_tick(ks);
			last_tick = now;
		}
		if (o->until_end && partclock_all_at_end(pc))
			break;
	}
	char cerr[256];
	if (ksrc_commit(ks, 3000, cerr, sizeof cerr) < 0)
		LOG_WARN(&lg, "final commit failed", "error=\"%s\"", cerr);
	fprintf(stderr, "choreoscope discover: %llu messages consumed, %llu undecodable%s\n",
	    (unsigned long long)ksrc_stats(ks)->messages, (unsigned long long)rejected,
	    live_stop ? " (stopped by a signal)" : "");
	rc = 0;
out:
	ksrc_free(ks);
	kdec_free(kd);
	partclock_free(pc);
	free(b);
	return rc;
}
