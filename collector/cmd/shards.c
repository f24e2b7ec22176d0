/*
 * shards: see shards.h.
 *
 * A round hands each shard thread its work under the shard's mutex (round counter
 * `go`), and the thread reports it done (`done` = `go`) under the same mutex: that
 * pair is the only synchronization, and it orders everything a shard wrote in the
 * round before what the main thread reads after it. The per-event path of a shard
 * touches only its own engine, clock, decoder and durable, plus the shared outputs
 * under the output mutex (N > 1).
 */
#include "cmd/shards.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/decode_cloudevents.h"
#include "decode/kafka_decode.h"

#define NS_PER_MS ((int64_t)1000000)

enum round_kind { ROUND_APPLY, ROUND_ADVANCE };

struct shards;

struct shard {
	struct shards *s;
	int idx;
	struct engine *eng;
	struct partclock *pc; /* N = 1: the source's */
	struct kdec *kd;
	struct durable *du;
	int *owned; /* slots this shard was ever assigned, for clock syncs */
	int nowned;
	/* the round's work, set by the main thread while the shard is parked */
	int *items; /* indexes into the batch */
	int nitems;
	int64_t bound;
	size_t budget;
	bool behind;
	/* the thread (shards 1..N-1) */
	pthread_t th;
	bool up;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t go, done;
	enum round_kind kind;
	bool quit;
	/* step observations of the round (kept, delivered by the main thread after it) */
	struct kept_step *steps;
	int nsteps, capsteps;
	char *text;
	size_t ntext, captext;
	bool oom; /* an observation dropped for memory (counted in steps_dropped) */
	uint64_t steps_dropped;
};

/* A shared output (N > 1): every shard's engine reaches all of them through one fan
 * sink, which takes the output mutex once per callback for all of them. */
struct out_sink {
	struct engine_sink in;
	shards_enter_fn enter;
	void *enter_ctx;
};

/* A step observation kept for delivery after the round, with the event's source
 * copied into the shard's text buffer (its offset there). */
struct kept_step {
	struct step_obs o;
	size_t src;
};

struct shards {
	struct shards_opts o;
	int n;
	struct shard sh[SHARDS_MAX];
	struct engine_set set;
	const struct ksrc_batch *b;            /* the batch of the current apply round */
	int *owner;                            /* [max slots]: slot -> shard, -1 never assigned */
	pthread_mutex_t out_mu;                /* the shared outputs (N > 1) */
	struct out_sink out[ENGINE_MAX_SINKS]; /* N > 1: the shared outputs, in order */
	int nout;
};

int shards_resolve(uint32_t threads, int partitions)
{
	long n = threads;
	if (n == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	if (n > SHARDS_MAX)
		n = SHARDS_MAX;
	if (partitions > 0 && n > partitions)
		n = partitions;
	return (int)n;
}

void shards_set_event_locked(struct shards *s, void (*fn)(void *ctx, const struct event *ev))
{
	s->o.hooks.event_locked = fn;
}

/* ---- the per-message path (a shard's thread) ------------------------------------ */

static void out_lock(struct shards *s)
{
	if (s->n > 1)
		pthread_mutex_lock(&s->out_mu);
}

static void out_unlock(struct shards *s)
{
	if (s->n > 1)
		pthread_mutex_unlock(&s->out_mu);
}

/* Decodes and applies message i of the batch; the shard's clock learns its time (an
 * undecodable message's Kafka timestamp in wall mode). */
static void shard_msg(struct shard *sh, const struct ksrc_batch *b, int i)
{
	struct shards *s = sh->s;
	const struct shards_hooks *h = &s->o.hooks;
	struct ce_header hdrs[KSRC_MAX_HEADERS];
	struct kmsg km;
	struct event ev;
	const char *reason = NULL;
	int slot = b->slot[i];
	int64_t t = PARTCLOCK_NONE;

	ksrc_kmsg(b, i, hdrs, &km);
	if (kdec_decode(sh->kd, &km, &ev, &reason) == 0) {
		if (h->event != NULL)
			h->event(h->ctx, sh->idx, &ev);
		if (h->event_locked != NULL) {
			out_lock(s);
			h->event_locked(h->ctx, &ev);
			out_unlock(s);
		}
		if (sh->du != NULL)
			durable_source(sh->du, slot);
		engine_apply(sh->eng, &ev);
		t = ev.time_ns;
	} else {
		if (h->reject != NULL) {
			out_lock(s);
			h->reject(h->ctx, &km, reason);
			out_unlock(s);
		}
		if (partclock_mode(sh->pc) == PARTCLOCK_WALL && km.timestamp_ms >= 0)
			t = km.timestamp_ms * NS_PER_MS;
	}
	partclock_message(sh->pc, slot, km.offset, t);
}

static void shard_work(struct shard *sh, enum round_kind kind)
{
	if (kind == ROUND_APPLY) {
		for (int j = 0; j < sh->nitems; j++)
			shard_msg(sh, sh->s->b, sh->items[j]);
		sh->nitems = 0;
		return;
	}
	int64_t now = partclock_now(sh->pc, sh->bound);
	if (now != PARTCLOCK_NONE) /* no clock yet: as it was (still behind, or not) */
		sh->behind = engine_advance_some(sh->eng, now, sh->budget);
}

static void *shard_main(void *arg)
{
	struct shard *sh = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		while (sh->go == seen && !sh->quit)
			pthread_cond_wait(&sh->cv, &sh->mu);
		if (sh->go == seen)
			break;
		seen = sh->go;
		enum round_kind kind = sh->kind;
		pthread_mutex_unlock(&sh->mu);
		shard_work(sh, kind);
		pthread_mutex_lock(&sh->mu);
		sh->done = seen;
		pthread_cond_broadcast(&sh->cv);
	}
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* Runs one round on the shards flagged in want[] (shard 0 on this thread). */
static void round_run(struct shards *s, enum round_kind kind, const bool *want)
{
	for (int i = 1; i < s->n; i++) {
		struct shard *sh = &s->sh[i];
		if (!want[i])
			continue;
		pthread_mutex_lock(&sh->mu);
		sh->kind = kind;
		sh->go++;
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
	if (want[0])
		shard_work(&s->sh[0], kind);
	for (int i = 1; i < s->n; i++) {
		struct shard *sh = &s->sh[i];
		if (!want[i])
			continue;
		pthread_mutex_lock(&sh->mu);
		while (sh->done != sh->go)
			pthread_cond_wait(&sh->cv, &sh->mu);
		pthread_mutex_unlock(&sh->mu);
	}
}

static void deliver_steps(struct shards *s);

/* ---- rounds (main thread) ------------------------------------------------------- */

static int shard_of(const struct shards *s, int slot) { return slot >= 0 ? slot % s->n : 0; }

void shards_apply(struct shards *s, const struct ksrc_batch *b)
{
	bool want[SHARDS_MAX] = { false };

	if (s->n == 1) {
		for (int i = 0; i < b->n; i++)
			shard_msg(&s->sh[0], b, i);
		return;
	}
	/* the source's clock learns every offset (positions, ends); each shard's clock
	 * the times of what it judged */
	for (int i = 0; i < b->n; i++) {
		int k = shard_of(s, b->slot[i]);
		struct shard *sh = &s->sh[k];
		sh->items[sh->nitems++] = i;
		want[k] = true;
		partclock_message(s->o.src_pc, b->slot[i], b->msgs[i].offset, PARTCLOCK_NONE);
	}
	s->b = b;
	round_run(s, ROUND_APPLY, want);
	s->b = NULL;
	deliver_steps(s);
}

bool shards_advance(struct shards *s, int64_t bound, size_t budget)
{
	bool want[SHARDS_MAX] = { false }, behind = false;

	for (int i = 0; i < s->n; i++) {
		struct shard *sh = &s->sh[i];
		if (s->n > 1)
			for (int j = 0; j < sh->nowned; j++)
				partclock_copy_position(sh->pc, s->o.src_pc, sh->owned[j]);
		sh->bound = bound;
		sh->budget = budget;
		/* a shard that never owned a partition has nothing to advance */
		want[i] = sh->nowned > 0 || sh->behind || s->n == 1;
	}
	round_run(s, ROUND_ADVANCE, want);
	deliver_steps(s);
	for (int i = 0; i < s->n; i++)
		behind |= s->sh[i].behind;
	return behind;
}

void shards_finish(struct shards *s)
{
	for (int i = 0; i < s->n; i++)
		engine_finish(s->sh[i].eng);
	deliver_steps(s);
}

/* ---- partitions ----------------------------------------------------------------- */

void shards_assign(void *ctx, int slot, const char *topic, int32_t partition, int64_t *offset)
{
	struct shards *s = ctx;
	int k = shard_of(s, slot);
	struct shard *sh = &s->sh[k];

	if (s->owner[slot] < 0) {
		s->owner[slot] = k;
		sh->owned[sh->nowned++] = slot;
	}
	if (s->n > 1)
		partclock_assign(sh->pc, slot);
	if (sh->du != NULL)
		durable_assign(sh->du, slot, topic, partition, offset);
	LOG_DEBUG(s->o.lg, "partition to shard", "topic=%s partition=%d shard=%d", topic,
	    (int)partition, k);
}

void shards_revoke(void *ctx, int slot, const char *topic, int32_t partition)
{
	struct shards *s = ctx;
	struct shard *sh = &s->sh[shard_of(s, slot)];

	if (sh->du != NULL)
		durable_revoke(sh->du, slot, topic, partition);
	if (s->n > 1)
		partclock_revoke(sh->pc, slot);
}

/* ---- outputs -------------------------------------------------------------------- */

/* The fan sink of one shard (ctx): the output mutex once, then every shared output. */
static void fan_anomaly(void *ctx, const struct anomaly *a)
{
	struct shard *sh = ctx;
	struct shards *s = sh->s;
	out_lock(s);
	for (int i = 0; i < s->nout; i++) {
		const struct out_sink *o = &s->out[i];
		if (o->in.anomaly == NULL)
			continue;
		if (o->enter != NULL)
			o->enter(o->enter_ctx, sh->eng, sh->idx);
		o->in.anomaly(o->in.ctx, a);
	}
	out_unlock(s);
}

static void fan_flow(void *ctx, const struct flow_record *r)
{
	struct shard *sh = ctx;
	struct shards *s = sh->s;
	out_lock(s);
	for (int i = 0; i < s->nout; i++) {
		const struct out_sink *o = &s->out[i];
		if (o->in.flow == NULL)
			continue;
		if (o->enter != NULL)
			o->enter(o->enter_ctx, sh->eng, sh->idx);
		o->in.flow(o->in.ctx, r);
	}
	out_unlock(s);
}

/* Grows a kept array to hold one more (doubling: no allocation per event once warm). */
static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (q == NULL)
		return false;
	*p = q;
	*cap = c;
	return true;
}

/* A step observation on a shard's thread: kept, with its event's source. */
static void fan_step(void *ctx, const struct step_obs *o)
{
	struct shard *sh = ctx;
	const char *src = o->ev != NULL && o->ev->source != NULL ? o->ev->source : NULL;
	size_t len = src != NULL ? strlen(src) + 1 : 0;
	size_t cs = (size_t)sh->capsteps;

	if (!grow((void **)&sh->steps, &cs, (size_t)sh->nsteps + 1, sizeof *sh->steps) ||
	    !grow((void **)&sh->text, &sh->captext, sh->ntext + len, 1)) {
		sh->capsteps = (int)cs;
		sh->steps_dropped++;
		return;
	}
	sh->capsteps = (int)cs;
	struct kept_step *k = &sh->steps[sh->nsteps++];
	*k = (struct kept_step){ .o = *o, .src = src != NULL ? sh->ntext : SIZE_MAX };
	k->o.ev = NULL;
	if (src != NULL) {
		memcpy(sh->text + sh->ntext, src, len);
		sh->ntext += len;
	}
}

/* Main thread, shards parked: the kept step observations to their sinks. */
static void deliver_steps(struct shards *s)
{
	for (int i = 0; s->n > 1 && i < s->n; i++) {
		struct shard *sh = &s->sh[i];
		for (int j = 0; j < sh->nsteps; j++) {
			struct kept_step *k = &sh->steps[j];
			struct event ev = { .source =
						k->src != SIZE_MAX ? sh->text + k->src : NULL };
			k->o.ev = &ev;
			for (int o = 0; o < s->nout; o++)
				if (s->out[o].in.step != NULL)
					s->out[o].in.step(s->out[o].in.ctx, &k->o);
		}
		sh->nsteps = 0;
		sh->ntext = 0;
	}
}

int shards_add_sink(
    struct shards *s, const struct engine_sink *sink, shards_enter_fn enter, void *enter_ctx)
{
	if (s->n == 1) {
		if (enter != NULL)
			enter(enter_ctx, s->sh[0].eng, 0);
		return engine_add_sink(s->sh[0].eng, sink);
	}
	if (s->nout == ENGINE_MAX_SINKS)
		return -1;
	s->out[s->nout++] =
	    (struct out_sink){ .in = *sink, .enter = enter, .enter_ctx = enter_ctx };
	return 0;
}

/* ---- setup ---------------------------------------------------------------------- */

/* Shard i's engine, decoder and clock; limits.max_flows split evenly (the first
 * max_flows % n shards hold one more), so the collector holds what the setting says. */
static int shard_init(struct shards *s, int i, char *err, size_t errlen)
{
	struct shard *sh = &s->sh[i];
	const struct config *cfg = s->o.cfg;
	size_t mf = cfg->max_flows / (size_t)s->n + ((size_t)i < cfg->max_flows % (size_t)s->n);
	const struct engine_opts eo = { .clock = ENGINE_CLOCK_EXTERNAL,
		.max_flows = mf > 0 ? mf : 1 };
	const struct kdec_opts ko = kdec_opts_of(cfg);

	sh->s = s;
	sh->idx = i;
	if (engine_new(&cfg->graph, &eo, NULL, &sh->eng, err, errlen) < 0 ||
	    kdec_new(&ko, &sh->kd, err, errlen) < 0)
		return -1;
	if (s->n == 1)
		sh->pc = s->o.src_pc;
	else if (partclock_new(partclock_mode(s->o.src_pc), s->o.max_slots, &sh->pc, err, errlen) <
	    0)
		return -1;
	sh->owned = malloc(sizeof(int) * s->o.max_slots);
	sh->items = malloc(sizeof(int) * KSRC_MAX_BATCH);
	if (sh->owned == NULL || sh->items == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->set.e[i] = sh->eng;
	if (s->n == 1)
		return 0;
	const struct engine_sink fan = {
		.anomaly = fan_anomaly, .flow = fan_flow, .step = fan_step, .ctx = sh
	};
	if (engine_add_sink(sh->eng, &fan) < 0) {
		snprintf(err, errlen, "engine: too many sinks");
		return -1;
	}
	if (i == 0)
		return 0;
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cv, NULL);
	if (pthread_create(&sh->th, NULL, shard_main, sh) != 0) {
		pthread_mutex_destroy(&sh->mu);
		pthread_cond_destroy(&sh->cv);
		snprintf(err, errlen, "cannot start engine thread %d", i);
		return -1;
	}
	sh->up = true;
	return 0;
}

int shards_new(const struct shards_opts *o, struct shards **out, char *err, size_t errlen)
{
	struct shards *s = calloc(1, sizeof *s);

	if (s == NULL || o->n < 1 || o->n > SHARDS_MAX) {
		free(s);
		snprintf(err, errlen, "engine.threads: %d shards (1 to %d)", o->n, SHARDS_MAX);
		return -1;
	}
	s->o = *o;
	s->n = o->n;
	s->set.n = o->n;
	/* a plain mutex: an adaptive one (spinning before it sleeps) measured no better
	 * in events/s and spent more CPU while two shards retired flows at once */
	pthread_mutex_init(&s->out_mu, NULL);
	s->owner = malloc(sizeof(int) * s->o.max_slots);
	if (s->owner == NULL) {
		snprintf(err, errlen, "out of memory");
		shards_free(s);
		return -1;
	}
	for (int i = 0; i < s->o.max_slots; i++)
		s->owner[i] = -1;
	for (int i = 0; i < s->n; i++)
		if (shard_init(s, i, err, errlen) < 0) {
			shards_free(s);
			return -1;
		}
	*out = s;
	return 0;
}

int shards_open_durable(struct shards *s, const struct durable_opts *o, char *err, size_t errlen)
{
	for (int i = 0; i < s->n; i++) {
		struct durable_opts so = *o;
		struct shard *sh = &s->sh[i];
		if (s->n > 1) {
			so.owner = s->owner;
			so.shard = i;
		}
		if (durable_new(&so, sh->eng, sh->pc, s->o.lg, &sh->du, err, errlen) < 0)
			return -1;
	}
	return 0;
}

void shards_free(struct shards *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->n; i++) {
		struct shard *sh = &s->sh[i];
		if (sh->up) {
			pthread_mutex_lock(&sh->mu);
			sh->quit = true;
			pthread_cond_broadcast(&sh->cv);
			pthread_mutex_unlock(&sh->mu);
			pthread_join(sh->th, NULL);
			pthread_mutex_destroy(&sh->mu);
			pthread_cond_destroy(&sh->cv);
		}
	}
	for (int i = 0; i < s->n; i++) {
		struct shard *sh = &s->sh[i];
		durable_free(sh->du);
		engine_free(sh->eng);
		kdec_free(sh->kd);
		if (sh->pc != s->o.src_pc)
			partclock_free(sh->pc);
		free(sh->owned);
		free(sh->items);
		free(sh->steps);
		free(sh->text);
	}
	pthread_mutex_destroy(&s->out_mu);
	free(s->owner);
	free(s);
}

struct durable *shards_durable(const struct shards *s, int i) { return s->sh[i].du; }
int shards_count(const struct shards *s) { return s->n; }
const struct engine_set *shards_engines(const struct shards *s) { return &s->set; }
struct engine *shards_engine(const struct shards *s, int i) { return s->sh[i].eng; }
