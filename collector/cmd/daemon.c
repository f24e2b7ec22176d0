/*
 * daemon: bin/choreoscope [--config FILE] ... — the live collector. See daemon.h for
 * the loop and kafka_source.h for the offset discipline (stored only after the engine
 * applied a message; committed on revoke, every second and at exit).
 *
 * Flags come from one table (lib/cliopt.h: parsing and --help). Signals: SIGTERM/SIGINT stop the
 * loop after the current batch (it is applied and its offsets stored), then records
 * are flushed, offsets committed and the process exits 0. SIGHUP re-reads the config:
 * an invalid one is reported and the old one kept; a valid one applies its log level
 * (other changes take effect at restart, which the log says).
 * The engine is engine.threads shards (cmd/shards.h): this file polls, hands each batch
 * to them, and reads them as one collector (engine_set.h) for records, metrics and
 * the API. The only file-scope mutable state is the signal flag.
 */
#include "cmd/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/shards.h"
#include "http/http_daemon.h"
#include "lib/cliopt.h"
#include "lib/jbuf.h"
#include "decode/kafka_decode.h"
#include "lib/log.h"
#include "source/partclock.h"
#include "out/records.h"
#include "state/durable.h"
#include "state/history.h"

#include <unistd.h>

#define DAEMON_MAX_TOPICS 64
#define DAEMON_MAX_PARTITIONS 4096
#define NS_PER_MS ((int64_t)1000000)

static volatile sig_atomic_t pending_signal;

struct dflags {
	const char *config, *brokers, *group, *clock, *records, *log_level, *listen;
	char *topics[DAEMON_MAX_TOPICS];
	int ntopics;
	bool until_end;
};

struct daemon {
	struct dflags fl;
	struct config *cfg;
	struct log lg;
	struct shards *sh; /* the engine, as engine.threads shards */
	struct records *rec;
	FILE *rec_out;
	struct partclock *pc; /* the source's partition clock */
	struct ksrc *ks;
	struct alerts *al;
	bool durable;         /* durable state (state.dir), one per shard */
	struct history *hist; /* the history store (history.dir), or NULL */
	const char *hist_dir;
	struct ksrc_batch *batch;
	struct records_rejects rej;
	struct jbuf jw; /* alert JSON lines */
	struct log_limit reject_limit;
	struct log_limit evict_limit; /* flows evicted at limits.max_flows */
	struct httpd *http;           /* the HTTP server (metrics, API) */
	daemon_hook_fn hook;          /* the HTTP server's poll hook, or NULL */
	void *hook_ctx;
	int64_t last_tick_ns;
	int64_t clock_ns;
	bool behind;            /* deadlines still due: apply no event until they fired */
	int64_t first_msg_ns;   /* monotonic time the first message arrived, or 0 */
	int64_t cut_since_ns;   /* monotonic time contact was lost (cut off), or 0 */
	int64_t held_wall_ns;   /* wall time contact was lost: the clock's bound until */
	int64_t grace_until_ns; /* ... this monotonic time after contact is back */
	char not_ready[160];
};

/* ---- flags ---------------------------------------------------------------------- */

static int set_topic(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	struct dflags *f = ctx;
	(void)o;
	if (f->ntopics == DAEMON_MAX_TOPICS) {
		snprintf(err, errlen, "at most %d --topic flags", DAEMON_MAX_TOPICS);
		return -1;
	}
	f->topics[f->ntopics++] = (char *)val;
	return 0;
}

static int set_clock(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	(void)o;
	if (strcmp(val, "wall") != 0 && strcmp(val, "event") != 0) {
		snprintf(err, errlen, "expected wall or event, found \"%s\"", val);
		return -1;
	}
	((struct dflags *)ctx)->clock = val;
	return 0;
}

#define FO(f) offsetof(struct dflags, f)
static const struct cliopt dopts[] = {
	{ "--config", "FILE", "configuration file (required)", NULL, FO(config), 0 },
	{ "--brokers", "ADDR", "bootstrap servers; overrides kafka.brokers", NULL, FO(brokers), 0 },
	{ "--group", "ID", "consumer group; overrides kafka.group_id", NULL, FO(group), 0 },
	{ "--topic", "T", "topic to consume (repeatable); overrides kafka.topics", set_topic, 0,
	    0 },
	{ "--clock", "wall|event",
	    "wall: live judging on the lag-aware partition clock (default); event: event time",
	    set_clock, 0, 0 },
	{ "--until-end", NULL,
	    "stop at the end of every assigned partition, then flush as replay does", NULL,
	    FO(until_end), 0 },
	{ "--records", "FILE", "anomaly/flow/summary JSON lines ('-': stdout)", NULL, FO(records),
	    0 },
	{ "--log-level", "LEVEL", "error|warn|info|debug; overrides log_level", NULL, FO(log_level),
	    0 },
	{ "--listen", "ADDR", "HTTP address; overrides http.listen", NULL, FO(listen), 0 },
};

static const struct clicmd dcmd = {
	.prog = "choreoscope",
	.synopsis = "usage: choreoscope --config FILE [options]   the live collector\n",
	.footer = "Other subcommands: choreoscope --help. Settings: docs/kafka.md.\n",
	.version = CHOREOSCOPE_VERSION,
	.opts = dopts,
	.nopts = sizeof dopts / sizeof dopts[0],
};

/* ---- signals -------------------------------------------------------------------- */

static void on_signal(int sig)
{
	/* A stop request is never overwritten by a later SIGHUP. */
	if (sig != SIGHUP || pending_signal == 0)
		pending_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- engine outputs ------------------------------------------------------------- */

/* The daemon's own sink: the log and the alert topic. Records (--records) and the
 * HTTP side register sinks of their own. */
static void on_anomaly(void *ctx, const struct anomaly *a)
{
	struct daemon *d = ctx;

	LOG_DEBUG(&d->lg, "anomaly", "flow=%s corr=%s kind=%s step=%s", a->flow->name,
	    a->correlation_id, an_kind_name(a->kind), a->step != NULL ? a->step : "-");
	if (!alerts_has_alert_topic(d->al))
		return;
	jbuf_reset(&d->jw);
	records_anomaly_json(&d->jw, a);
	if (!d->jw.overflow)
		alerts_anomaly(d->al, a, d->jw.p, d->jw.len);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	struct daemon *d = ctx;
	char esc[256];
	if (strcmp(r->outcome, OUTCOME_EVICTED) == 0)
		LOG_LIMITED(&d->lg, &d->evict_limit, LOG_LVL_WARN,
		    "flow evicted: limits.max_flows reached", "flow=%s corr=\"%s\" max_flows=%zu",
		    r->flow->name, log_escape(r->correlation_id, esc, sizeof esc),
		    d->cfg->max_flows);
}

/* ---- setup ---------------------------------------------------------------------- */

/* --records: its sink in *sink, or sink->ctx NULL without the flag. */
static int open_records(struct daemon *d, struct engine_sink *sink, char *err, size_t errlen)
{
	*sink = (struct engine_sink){ 0 };
	if (d->fl.records == NULL)
		return 0;
	if (strcmp(d->fl.records, "-") == 0) {
		d->rec_out = stdout;
	} else if ((d->rec_out = fopen(d->fl.records, "w")) == NULL) {
		snprintf(err, errlen, "--records %s: %s", d->fl.records, strerror(errno));
		return -1;
	}
	if ((d->rec = records_new(d->rec_out, &d->cfg->graph)) == NULL) {
		snprintf(err, errlen, "records: out of memory");
		return -1;
	}
	records_sink(d->rec, sink);
	return 0;
}

/* Before a checkpoint: every record and alert decided so far is out of the process. */
static void flush_outputs(void *ctx)
{
	struct daemon *d = ctx;

	if (d->rec != NULL && records_flush(d->rec) == 0 && d->rec_out != stdout)
		fsync(fileno(d->rec_out));
	if (d->al != NULL)
		alerts_flush(d->al, 2000);
}

static int open_state(struct daemon *d, const char *group, char *err, size_t errlen)
{
	const struct cfg_state *s = &d->cfg->state;
	const struct durable_opts o = { .dir = s->dir,
		.group = group,
		.interval_ns = s->checkpoint_interval_ns,
		.fresh_on_bad = s->on_bad_checkpoint == 1,
		.flush = flush_outputs,
		.flush_ctx = d };

	if (s->dir == NULL)
		return 0;
	d->durable = true;
	return shards_open_durable(d->sh, &o, err, errlen);
}

/* The first shard's refused checkpoint (state.on_bad_checkpoint: fail), or NULL. */
static const char *durable_failure(const struct daemon *d)
{
	for (int i = 0; d->durable && i < shards_count(d->sh); i++)
		if (durable_failed(shards_durable(d->sh, i)) != NULL)
			return durable_failed(shards_durable(d->sh, i));
	return NULL;
}

static void durable_ticks(struct daemon *d, bool force)
{
	for (int i = 0; d->durable && i < shards_count(d->sh); i++)
		durable_tick(shards_durable(d->sh, i), log_mono_ns(), force);
}

static int open_kafka(struct daemon *d, char *err, size_t errlen)
{
	const struct cfg_kafka *k = &d->cfg->kafka;
	const char *group = d->fl.group != NULL ? d->fl.group : k->group_id;
	if (open_state(d, group, err, errlen) < 0)
		return -1;
	const struct ksrc_opts ko = {
		.brokers = d->fl.brokers != NULL ? d->fl.brokers : k->brokers,
		.group_id = group,
		.topics = d->fl.ntopics > 0 ? d->fl.topics : k->topics,
		.ntopics = d->fl.ntopics > 0 ? d->fl.ntopics : k->ntopics,
		.prop_keys = k->prop_keys,
		.prop_vals = k->prop_vals,
		.nprops = k->nprops,
		.max_partitions = DAEMON_MAX_PARTITIONS,
		.manual_store = d->durable,
		.on_assign = shards_assign,
		.on_revoke = shards_revoke,
		.hook_ctx = d->sh,
	};
	const struct alerts_opts ao = {
		.brokers = ko.brokers,
		.prop_keys = k->prop_keys,
		.prop_vals = k->prop_vals,
		.nprops = k->nprops,
		.alert_topic = k->alert_topic,
		.format = k->alert_format == CFG_ALERT_PROTOBUF ? ALERTS_PROTOBUF : ALERTS_JSON,
		.dead_letter_topic = k->dead_letter_topic,
	};

	if (alerts_new(&ao, &d->lg, &d->al, err, errlen) < 0)
		return -1;
	if (ko.brokers == NULL) {
		snprintf(err, errlen, "no brokers: set kafka.brokers or --brokers");
		return -1;
	}
	if (ksrc_new(&ko, &d->lg, d->pc, &d->ks, err, errlen) < 0)
		return -1;
	for (int i = 0; d->durable && i < shards_count(d->sh); i++)
		durable_attach(shards_durable(d->sh, i), d->ks);
	LOG_INFO(&d->lg, "consuming",
	    "brokers=%s group=%s topics=%d first_topic=%s clock=%s engine_threads=%d%s", ko.brokers,
	    ko.group_id, ko.ntopics, ko.topics[0],
	    partclock_mode(d->pc) == PARTCLOCK_WALL ? "wall" : "event", shards_count(d->sh),
	    d->fl.until_end ? " until_end=true" : "");
	return 0;
}

/* The HTTP server. An address given with --listen must work (exit otherwise); when
 * it comes from the config (or its default) and cannot be bound, the collector runs
 * on without /metrics and the API, saying so at error level (Prometheus' up == 0
 * alert then fires): verdicts and records do not depend on HTTP. */
static int start_http(struct daemon *d, enum partclock_mode mode, char *err, size_t errlen)
{
	if (httpd_new(d->cfg, shards_engines(d->sh), d->fl.listen,
		mode == PARTCLOCK_EVENT ? "event" : "wall", d->hist_dir, d->hist, &d->http, err,
		errlen) < 0) {
		if (d->fl.listen != NULL)
			return -1;
		char esc[1024];
		LOG_ERROR(&d->lg, "HTTP server not started; running without /metrics and the API",
		    "error=\"%s\"", log_escape(err, esc, sizeof esc));
		d->http = NULL;
		return 0;
	}
	struct engine_sink hs;
	httpd_sink(d->http, &hs);
	if (shards_add_sink(d->sh, &hs, NULL, NULL) < 0) {
		snprintf(err, errlen, "engine: too many sinks");
		return -1;
	}
	d->hook = httpd_hook;
	d->hook_ctx = d->http;
	return 0;
}

/* The history store, when enabled and a directory is set (history.dir, else
 * state.dir): its sink goes first in the chain, so it sees each record before the
 * others. A directory that cannot be written is the writer's counted error, not a
 * reason to stop: judging does not depend on the store. */
/* The history store (history.dir, else state.dir): its sink in *sink, or sink->ctx
 * NULL when there is none. */
static int open_history(struct daemon *d, struct engine_sink *sink, char *err, size_t errlen)
{
	*sink = (struct engine_sink){ 0 };
	const struct cfg_history *c = &d->cfg->history;
	d->hist_dir = c->dir != NULL ? c->dir : d->cfg->state.dir;
	if (!c->enabled || d->hist_dir == NULL)
		return 0;
	const struct history_opts o = { .dir = d->hist_dir,
		.retention_ns = c->retention_ns,
		.max_bytes = c->max_bytes,
		.queue_len = c->queue,
		.max_attr_bytes = c->max_attr_bytes,
		.timeline_bytes = c->timeline_bytes };
	if (history_new(&o, &d->cfg->graph, &d->lg, &d->hist, err, errlen) < 0)
		return -1;
	history_sink(d->hist, sink);
	LOG_INFO(&d->lg, "history store", "path=%s retention_s=%lld max_bytes=%zu",
	    history_path(d->hist), (long long)(c->retention_ns / 1000000000), c->max_bytes);
	return 0;
}

/* The history sink's enter hook: the store reads a retiring instance from the engine
 * (shard) that retires it. */
static void history_enter(void *ctx, const struct engine *e, int shard)
{
	struct daemon *d = ctx;
	history_attach_engine(d->hist, e);
	if (d->http != NULL) /* the timeline: the events that shard judged */
		history_share_ring(d->hist, httpd_ring(d->http, shard));
}

/* The shards' per-message hooks: the HTTP side's ring of the shard (no lock), the
 * history store's own ring when there is no HTTP side (under the output lock; the hook
 * is set only then, after start_http). */
static void on_event(void *ctx, int shard, const struct event *ev)
{
	struct daemon *d = ctx;
	if (d->http != NULL)
		httpd_on_event(d->http, shard, ev);
}

static void on_event_locked(void *ctx, const struct event *ev)
{
	struct daemon *d = ctx;
	history_event(d->hist, ev);
}

/* An undecodable message: counted, logged (rate-limited), dead-lettered. */
static void reject(void *ctx, const struct kmsg *km, const char *reason)
{
	struct daemon *d = ctx;
	records_reject(&d->rej, reason);
	LOG_LIMITED(&d->lg, &d->reject_limit, LOG_LVL_WARN, "undecodable message",
	    "topic=%s partition=%d offset=%lld reason=%s", km->topic, (int)km->partition,
	    (long long)km->offset, reason);
	alerts_dead_letter(d->al, km, reason);
}

/* The engine as engine.threads shards, with the records, history and daemon sinks. */
static int open_shards(struct daemon *d, char *err, size_t errlen)
{
	struct engine_sink sink, hsink;
	const struct engine_sink mine = { .anomaly = on_anomaly, .flow = on_flow, .ctx = d };
	const struct shards_opts so = { .n = shards_resolve(d->cfg->engine_threads, 0),
		.cfg = d->cfg,
		.src_pc = d->pc,
		.max_slots = DAEMON_MAX_PARTITIONS,
		.hooks = { .event = on_event, .reject = reject, .ctx = d },
		.lg = &d->lg };

	if (open_records(d, &sink, err, errlen) < 0 || open_history(d, &hsink, err, errlen) < 0 ||
	    shards_new(&so, &d->sh, err, errlen) < 0)
		return -1;
	if ((sink.ctx != NULL && shards_add_sink(d->sh, &sink, NULL, NULL) < 0) ||
	    (hsink.ctx != NULL && shards_add_sink(d->sh, &hsink, history_enter, d) < 0) ||
	    shards_add_sink(d->sh, &mine, NULL, NULL) < 0) {
		snprintf(err, errlen, "engine: too many sinks");
		return -1;
	}
	return 0;
}

static int setup(struct daemon *d, char *err, size_t errlen)
{
	enum partclock_mode mode = d->fl.clock != NULL && strcmp(d->fl.clock, "event") == 0
	    ? PARTCLOCK_EVENT
	    : PARTCLOCK_WALL;

	d->lg.level = d->cfg->log_level;
	if (d->fl.log_level != NULL && log_level_parse(d->fl.log_level, &d->lg.level) < 0) {
		snprintf(err, errlen, "--log-level %s: expected error, warn, info or debug",
		    d->fl.log_level);
		return -1;
	}
	d->reject_limit = (struct log_limit)LOG_LIMIT_INIT(10, 10 * (int64_t)1000000000);
	d->evict_limit = (struct log_limit)LOG_LIMIT_INIT(10, 10 * (int64_t)1000000000);
	d->clock_ns = ENGINE_NO_TIME;
	jbuf_init(&d->jw, (size_t)16 << 20);
	if ((d->batch = malloc(sizeof *d->batch)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->batch->n = 0;
	if (partclock_new(mode, DAEMON_MAX_PARTITIONS, &d->pc, err, errlen) < 0 ||
	    open_shards(d, err, errlen) < 0)
		return -1;
	if (start_http(d, mode, err, errlen) < 0)
		return -1;
	if (d->http == NULL && d->hist != NULL)
		shards_set_event_locked(d->sh, on_event_locked);
	return open_kafka(d, err, errlen);
}

static void teardown(struct daemon *d)
{
	httpd_free(d->http);
	history_free(d->hist); /* writes what is queued */
	for (int i = 0; d->durable && i < shards_count(d->sh); i++)
		durable_close(shards_durable(d->sh, i));
	ksrc_free(d->ks); /* its revoke hooks still reach the shards */
	shards_free(d->sh);
	alerts_free(d->al);
	records_free(d->rec);
	if (d->rec_out != NULL && d->rec_out != stdout)
		fclose(d->rec_out);
	partclock_free(d->pc);
	jbuf_free(&d->jw);
	free(d->batch);
	config_free(d->cfg);
}

/* At most this many deadlines fire per loop iteration: when the clock jumps over
 * millions of them (a backfill reaching the end of its partitions, a consumer
 * catching up), signals, HTTP and offsets are still served between slices. */
#define DAEMON_FIRE_BUDGET 20000

static void advance_clock(struct daemon *d, int64_t wall_ns)
{
	/* A caught-up partition's wall clock is only as recent as the last answer of its
	 * leader: while a broker is unreachable or frozen, the clock stays where contact
	 * was lost, so no stall is flagged for an event that may sit unread in Kafka or
	 * in a producer (lag ~KSRC_STATS_MS in contact). Event mode ignores wall_ns. */
	int64_t mono = log_mono_ns(), bound = wall_ns - ksrc_silence_ns(d->ks, mono);

	/* after an outage, producers cut off by it deliver what they queued (outage_grace) */
	if ((d->cut_since_ns != 0 || mono < d->grace_until_ns) && d->held_wall_ns < bound)
		bound = d->held_wall_ns;
	struct engine_stats st;

	/* each shard: its partitions' clock at this bound (partclock_now) */
	d->behind = shards_advance(d->sh, bound, DAEMON_FIRE_BUDGET);
	engine_set_stats(shards_engines(d->sh), &st);
	d->clock_ns = st.tmax_ns;
}

/* ---- the loop ------------------------------------------------------------------- */

/* Logs the moments contact with the partition leaders is lost and regained. */
static void watch_contact(struct daemon *d)
{
	int64_t mono = log_mono_ns(), silence = ksrc_silence_ns(d->ks, mono);
	const struct ksrc_stats *ks = ksrc_stats(d->ks);
	bool cut = silence > KSRC_CUT_OFF_NS && partclock_assigned(d->pc) > 0;

	if (cut && d->cut_since_ns == 0) {
		d->cut_since_ns = mono - silence;
		/* cut off again within an earlier outage's grace: the clock stays bound where
		 * the first contact was lost (what producers queued then may still come) */
		if (mono >= d->grace_until_ns || log_wall_ns() - silence < d->held_wall_ns)
			d->held_wall_ns = log_wall_ns() - silence;
		LOG_WARN(&d->lg,
		    "cut off from the Kafka brokers: clock held, no verdict on what may be unread",
		    "silent_ms=%lld leaders=%d leaders_up=%d broker_errors=%llu",
		    (long long)(silence / NS_PER_MS), ks->leaders, ks->brokers_up,
		    (unsigned long long)ks->broker_errors);
	} else if (!cut && d->cut_since_ns != 0) {
		d->grace_until_ns = mono + d->cfg->kafka.outage_grace_ns;
		LOG_INFO(&d->lg, "Kafka brokers reachable again", "outage_ms=%lld grace_ms=%lld",
		    (long long)((mono - d->cut_since_ns) / NS_PER_MS),
		    (long long)(d->cfg->kafka.outage_grace_ns / NS_PER_MS));
		d->cut_since_ns = 0;
	}
	if (d->cut_since_ns != 0)
		snprintf(d->not_ready, sizeof d->not_ready,
		    "cut off from the Kafka brokers for %lld s "
		    "(no answer from the partition leaders)",
		    (long long)((mono - d->cut_since_ns) / 1000000000));
	else
		snprintf(d->not_ready, sizeof d->not_ready, "waiting for partitions");
}

static void publish(struct daemon *d)
{
	struct daemon_view v = { .cfg = d->cfg,
		.engines = shards_engines(d->sh),
		.rejects = &d->rej,
		.kafka = ksrc_stats(d->ks),
		.alerts = d->al != NULL ? alerts_stats(d->al) : NULL,
		.clock_ns = d->clock_ns,
		.cut_off = d->cut_since_ns != 0,
		.not_ready = d->not_ready };
	v.ready = partclock_assigned(d->pc) > 0 && !v.cut_off;

	v.listen = d->fl.listen != NULL ? d->fl.listen : d->cfg->http.listen.spec;
	v.parts = ksrc_parts(d->ks, &v.nparts);
	/* The HTTP server (branch http) hooks in here: it renders /metrics and answers
	 * /api/v1 from this view, on this thread. */
	if (d->hook != NULL)
		d->hook(d->hook_ctx, &v);
}

static void tick(struct daemon *d, int64_t wall_ns)
{
	ksrc_tick(d->ks);
	watch_contact(d);
	alerts_poll(d->al);
	advance_clock(d, wall_ns);
	if (d->rec != NULL)
		records_flush(d->rec);
	publish(d);
	d->last_tick_ns = wall_ns;
}

static void reload(struct daemon *d)
{
	struct config *c = NULL;
	char err[4096];
	char esc[4096];

	if (config_load(d->fl.config, &c, err, sizeof err) < 0) {
		LOG_ERROR(&d->lg, "config reload failed; keeping the running config",
		    "file=%s error=\"%s\"", d->fl.config, log_escape(err, esc, sizeof esc));
		return;
	}
	if (d->fl.log_level == NULL)
		d->lg.level = c->log_level;
	LOG_INFO(&d->lg,
	    "config reloaded; log level applied, flow and kafka changes take "
	    "effect at restart",
	    "file=%s log_level=%s", d->fl.config, log_level_name(d->lg.level));
	config_free(c);
}

/* One iteration: poll, apply, store offsets, advance the clock, tick when due. */
static void step_once(struct daemon *d)
{
	struct ksrc_batch *b = d->batch;
	int64_t wall;

	/* While deadlines are still due, no new event is applied: they fire first. */
	if (!d->behind) {
		if (ksrc_poll(d->ks, b, DAEMON_POLL_MS) > 0 && d->first_msg_ns == 0)
			d->first_msg_ns = log_mono_ns();
		for (int i = 0; d->durable && i < shards_count(d->sh); i++)
			durable_after_poll(shards_durable(d->sh, i));
		/* a refused checkpoint (refused in the poll's assignment) stops the daemon
		 * before anything more is applied */
		if (durable_failure(d) == NULL)
			shards_apply(d->sh, b);
		ksrc_batch_done(d->ks, b);
	}
	if (d->http != NULL)
		httpd_serve(d->http);
	wall = log_wall_ns();
	advance_clock(d, wall);
	if (wall - d->last_tick_ns >= DAEMON_TICK_MS * NS_PER_MS)
		tick(d, wall);
	durable_ticks(d, false);
}

static void run(struct daemon *d)
{
	for (;;) {
		int sig = pending_signal;
		if (sig == SIGHUP) {
			pending_signal = 0;
			reload(d);
		} else if (sig != 0) {
			LOG_INFO(&d->lg, "stopping", "signal=%d", sig);
			break;
		}
		step_once(d);
		if (durable_failure(d) != NULL)
			break;
		if (d->fl.until_end && partclock_all_at_end(d->pc)) {
			LOG_INFO(&d->lg, "every assigned partition at its end", "partitions=%d",
			    partclock_assigned(d->pc));
			break;
		}
	}
}

static void finish(struct daemon *d)
{
	char err[256];
	struct engine_stats es;

	/* the state as it is, before an end of input flushes the flows in flight */
	if (d->durable) {
		struct durable_stats ds = { 0 };
		durable_ticks(d, true);
		for (int i = 0; i < shards_count(d->sh); i++) {
			struct durable *du = shards_durable(d->sh, i);
			const struct durable_stats *x = durable_stats(du);
			durable_close(du);
			ds.checkpoints += x->checkpoints;
			ds.unchanged += x->unchanged;
			ds.failures += x->failures;
			ds.restored += x->restored;
			ds.restored_flows += x->restored_flows;
			ds.last_bytes += x->last_bytes;
		}
		/* bench/parts/35-durable.sh reads this line */
		LOG_INFO(&d->lg, "durable state at stop",
		    "checkpoints=%llu unchanged=%llu failures=%llu restored=%llu "
		    "restored_flows=%llu last_round_bytes=%llu",
		    (unsigned long long)ds.checkpoints, (unsigned long long)ds.unchanged,
		    (unsigned long long)ds.failures, (unsigned long long)ds.restored,
		    (unsigned long long)ds.restored_flows, (unsigned long long)ds.last_bytes);
	}
	if (d->fl.until_end)
		shards_finish(d->sh);
	engine_set_stats(shards_engines(d->sh), &es);
	if (d->rec != NULL) {
		records_summary(d->rec, &es, &d->rej);
		if (records_flush(d->rec) < 0)
			LOG_ERROR(&d->lg, "writing records failed", "file=%s", d->fl.records);
	}
	if (ksrc_commit(d->ks, 3000, err, sizeof err) < 0)
		LOG_WARN(&d->lg, "final commit failed", "error=\"%s\"", err);
	/* Throughput from the first message to now (the group join is not counted; the
	 * final flush is): bench/kafka.sh reads this line. */
	double secs = d->first_msg_ns > 0 ? (double)(log_mono_ns() - d->first_msg_ns) / 1e9 : 0;
	uint64_t msgs = ksrc_stats(d->ks)->messages;
	LOG_INFO(&d->lg, "stopped",
	    "messages=%llu events=%llu unmatched=%llu rejected=%llu "
	    "seconds=%.3f msgs_per_sec=%.0f",
	    (unsigned long long)msgs, (unsigned long long)es.events,
	    (unsigned long long)es.unmatched, (unsigned long long)d->rej.total, secs,
	    secs > 0 ? (double)msgs / secs : 0.0);
}

int daemon_main(int argc, char **argv)
{
	struct daemon *d = calloc(1, sizeof *d);
	char err[4096];
	int rc = 2;

	if (d == NULL)
		return 1;
	d->lg = (struct log){ .level = LOG_LVL_INFO, .out = stderr };
	int pr = cliopt_parse(&dcmd, argc, argv, &d->fl, NULL, NULL);
	if (pr != CLIOPT_RUN) {
		rc = cliopt_exit_status(pr);
		goto out;
	}
	if (d->fl.config == NULL) {
		fprintf(stderr, "choreoscope: --config FILE is required (see --help)\n");
		goto out;
	}
	if (config_load(d->fl.config, &d->cfg, err, sizeof err) < 0 ||
	    config_kafka_resolve(d->cfg, err, sizeof err) < 0 || setup(d, err, sizeof err) < 0) {
		fprintf(stderr, "choreoscope: %s\n", err);
		goto out;
	}
	install_signals();
	run(d);
	if (durable_failure(d) != NULL) {
		fprintf(stderr, "choreoscope: %s\n", durable_failure(d));
		rc = 3;
		goto out;
	}
	finish(d);
	rc = 0;
out:
	teardown(d);
	free(d);
	return rc;
}
