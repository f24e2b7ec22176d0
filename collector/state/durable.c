/*
 * durable: see durable.h.
 */
#include "state/durable.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_state.h"
#include "state/checkpoint.h"

#include <xxhash.h>

/* A checkpoint round handed to the writer thread. The engine thread fills it (export,
 * metas) while the writer is idle; the writer writes the files and fsyncs the
 * directory; the engine thread then reads the outcome and stores the offsets (reap).
 * Only one round is in flight: a tick while the writer is busy waits for a later one. */
struct round {
	int n;                   /* slots in the round */
	struct es_buf *bufs;     /* [cap]: blobs by slot, kept between rounds */
	struct ckpt_meta *metas; /* [cap] */
	uint32_t *counts;        /* [cap] */
	int64_t *covered;        /* [cap]: offset a file covers once durable; -1 none, -2 failed */
	char (*errs)[256];       /* [cap]: why a file failed (logged by the engine thread) */
	int64_t *last_off;       /* [cap]: offset of the slot's last durable file, -1 none */
	uint64_t *last_hash;     /* [cap]: hash of that file's state blob */
	int cap;
	uint64_t bytes;
	int64_t t_export_ns, t_write_ns, t_sync_ns;
};

struct durable {
	struct durable_opts o;
	char dir[4096];
	struct engine *e;
	struct partclock *pc;
	struct ksrc *ks;
	const struct log *lg;
	uint64_t fingerprint;
	int64_t last_ns;
	bool closed;
	int64_t pending_clock; /* least engine clock of the checkpoints just loaded */
	char failed[1600];
	struct es_buf buf; /* one partition's blob (revoke) */
	struct round r;
	/* the writer thread: `busy` from hand-over to done, guarded by mu */
	pthread_t writer;
	bool writer_up, busy, quit, reap;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct durable_stats st;
};

static void *writer_main(void *arg);
static bool writer_idle(struct durable *du, bool wait);

int durable_new(const struct durable_opts *o, struct engine *e, struct partclock *pc,
    const struct log *lg, struct durable **out, char *err, size_t errlen)
{
	struct durable *du = calloc(1, sizeof *du);

	if (du == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	du->o = *o;
	du->e = e;
	du->pc = pc;
	du->lg = lg;
	du->fingerprint = engine_state_fingerprint(e);
	du->pending_clock = ENGINE_NO_TIME;
	pthread_mutex_init(&du->mu, NULL);
	pthread_cond_init(&du->cv, NULL);
	if (snprintf(du->dir, sizeof du->dir, "%s/%s", o->dir, o->group) >= (int)sizeof du->dir ||
	    strchr(o->group, '/') != NULL) {
		snprintf(err, errlen, "state.dir: bad directory for group %s", o->group);
		durable_free(du);
		return -1;
	}
	if (ckpt_mkdirs(du->dir, err, errlen) < 0) {
		durable_free(du);
		return -1;
	}
	if (pthread_create(&du->writer, NULL, writer_main, du) != 0) {
		snprintf(err, errlen, "state: cannot start the checkpoint writer thread");
		durable_free(du);
		return -1;
	}
	du->writer_up = true;
	int stale = ckpt_remove_stale(du->dir);
	LOG_INFO(lg, "durable state",
	    "dir=%s checkpoint_interval_ms=%lld on_bad_checkpoint=%s "
	    "stale_temp_files_removed=%d",
	    du->dir, (long long)(o->interval_ns / 1000000), o->fresh_on_bad ? "fresh" : "fail",
	    stale);
	*out = du;
	return 0;
}

void durable_free(struct durable *du)
{
	if (du == NULL)
		return;
	if (du->writer_up) {
		pthread_mutex_lock(&du->mu);
		du->quit = true;
		pthread_cond_broadcast(&du->cv);
		pthread_mutex_unlock(&du->mu);
		pthread_join(du->writer, NULL);
	}
	pthread_mutex_destroy(&du->mu);
	pthread_cond_destroy(&du->cv);
	engine_state_buf_free(&du->buf);
	for (int s = 0; s < du->r.cap; s++)
		engine_state_buf_free(&du->r.bufs[s]);
	free(du->r.bufs);
	free(du->r.metas);
	free(du->r.counts);
	free(du->r.covered);
	free(du->r.errs);
	free(du->r.last_off);
	free(du->r.last_hash);
	free(du);
}

void durable_attach(struct durable *du, struct ksrc *ks) { du->ks = ks; }

void durable_source(struct durable *du, int slot)
{
	engine_state_set_source(du->e, slot >= 0 ? (uint32_t)slot + 1 : 0);
}

const char *durable_failed(const struct durable *du) { return du->failed[0] ? du->failed : NULL; }

const struct durable_stats *durable_stats(const struct durable *du) { return &du->st; }

void durable_close(struct durable *du)
{
	if (du->ks != NULL)
		writer_idle(du, true);
	du->closed = true;
}

static void slot_meta(
    const struct durable *du, int slot, const struct ksrc_part *p, struct ckpt_meta *m)
{
	*m = (struct ckpt_meta){ .partition = p->partition,
		.offset = p->position,
		.part_clock_ns = partclock_max(du->pc, slot),
		.engine_clock_ns = engine_stats(du->e)->tmax_ns,
		.written_ns = log_wall_ns(),
		.fingerprint = du->fingerprint };
	snprintf(m->topic, sizeof m->topic, "%s", p->topic);
}

static void write_failed(struct durable *du, const struct ksrc_part *p, const char *err)
{
	du->st.failures++;
	LOG_ERROR(du->lg, "checkpoint failed; offsets stay uncommitted",
	    "topic=%s partition=%d error=\"%s\"", p->topic, (int)p->partition, err);
}

/* Writes slot's checkpoint and stores its offset (a revoke: one partition alone).
 * 1 written, 0 nothing to write (position unknown), -1 failed. */
static int write_slot(struct durable *du, int slot)
{
	int n;
	const struct ksrc_part *p = &ksrc_parts(du->ks, &n)[slot];
	char err[512];
	struct ckpt_meta m;

	if (p->position < 0)
		return 0;
	slot_meta(du, slot, p, &m);
	du->buf.len = 0;
	du->buf.oom = 0;
	long k = engine_state_export(du->e, (uint32_t)slot + 1, &du->buf);
	if (k < 0) {
		write_failed(du, p, "out of memory");
		return -1;
	}
	m.instances = (uint32_t)k;
	if (ckpt_write(du->dir, &m, du->buf.p, du->buf.len, err, sizeof err) < 0) {
		write_failed(du, p, err);
		return -1;
	}
	du->st.checkpoints++;
	du->st.last_bytes += du->buf.len;
	ksrc_store(du->ks, slot, p->position);
	return 1;
}

/* The round's arrays for n slots (grown, never shrunk). 0 or -1. */
static int round_grow(struct round *r, int n)
{
	if (n <= r->cap)
		return 0;
	struct es_buf *b = realloc(r->bufs, (size_t)n * sizeof *b);
	if (b == NULL)
		return -1;
	r->bufs = b;
	memset(b + r->cap, 0, (size_t)(n - r->cap) * sizeof *b);
	void *m = realloc(r->metas, (size_t)n * sizeof *r->metas);
	if (m != NULL)
		r->metas = m;
	void *c = realloc(r->counts, (size_t)n * sizeof *r->counts);
	if (c != NULL)
		r->counts = c;
	void *o = realloc(r->covered, (size_t)n * sizeof *r->covered);
	if (o != NULL)
		r->covered = o;
	void *e = realloc(r->errs, (size_t)n * sizeof *r->errs);
	if (e != NULL)
		r->errs = e;
	void *lo = realloc(r->last_off, (size_t)n * sizeof *r->last_off);
	if (lo != NULL)
		r->last_off = lo;
	void *lh = realloc(r->last_hash, (size_t)n * sizeof *r->last_hash);
	if (lh != NULL)
		r->last_hash = lh;
	if (m == NULL || c == NULL || o == NULL || e == NULL || lo == NULL || lh == NULL)
		return -1;
	for (int s = r->cap; s < n; s++)
		r->last_off[s] = -1;
	r->cap = n;
	return 0;
}

/* Engine thread, writer idle: every assigned partition's flows in one walk of the
 * engine (engine_state_export_all) and the metas of their files. Returns the number
 * of files to write. */
static int round_prepare(struct durable *du, const struct ksrc_part *parts, int n)
{
	struct round *r = &du->r;
	int todo = 0;
	int64_t t0 = log_mono_ns();

	r->n = 0;
	if (round_grow(r, n) < 0 ||
	    engine_state_export_all(du->e, (uint32_t)n, r->bufs, r->counts) < 0) {
		for (int s = 0; s < n; s++)
			if (parts[s].assigned && parts[s].position >= 0 &&
			    (du->o.owner == NULL || du->o.owner[s] == du->o.shard))
				write_failed(du, &parts[s], "out of memory");
		return 0;
	}
	r->n = n;
	for (int s = 0; s < n; s++) {
		r->covered[s] = -1;
		r->errs[s][0] = '\0';
		if (!parts[s].assigned || parts[s].position < 0 ||
		    (du->o.owner != NULL && du->o.owner[s] != du->o.shard))
			continue;
		/* nothing consumed and the same state as the file on disk: no write (an idle
		 * partition costs no fsync; the file's older engine clock only makes a
		 * restore fire its deadlines later, never earlier) */
		uint64_t h = XXH3_64bits(r->bufs[s].p, r->bufs[s].len);
		if (r->last_off[s] == parts[s].position && r->last_hash[s] == h) {
			du->st.unchanged++;
			continue;
		}
		r->last_hash[s] = h;
		slot_meta(du, s, &parts[s], &r->metas[s]);
		r->metas[s].instances = r->counts[s];
		r->covered[s] = 0; /* to write */
		todo++;
	}
	r->t_export_ns = log_mono_ns() - t0;
	return todo;
}

/* Writer thread (or the engine thread while the writer is idle): one file per
 * partition (write + fsync + rename), then one fsync of the directory for all the
 * renames. Touches only the round and the file system. */
static void round_write(struct durable *du)
{
	struct round *r = &du->r;
	int written = 0;
	int64_t t0 = log_mono_ns(), t1;
	char err[256];

	r->bytes = 0;
	for (int s = 0; s < r->n; s++) {
		if (r->covered[s] < 0)
			continue;
		if (ckpt_write_file(du->dir, &r->metas[s], r->bufs[s].p, r->bufs[s].len, r->errs[s],
			sizeof r->errs[s]) < 0) {
			r->covered[s] = -2;
			continue;
		}
		r->covered[s] = r->metas[s].offset;
		r->bytes += r->bufs[s].len;
		written++;
	}
	t1 = log_mono_ns();
	if (written > 0 && ckpt_sync_dir(du->dir, err, sizeof err) < 0)
		for (int s = 0; s < r->n; s++)
			if (r->covered[s] >= 0) {
				r->covered[s] = -2;
				snprintf(r->errs[s], sizeof r->errs[s], "%s", err);
			}
	r->t_write_ns = t1 - t0;
	r->t_sync_ns = log_mono_ns() - t1;
}

/* Engine thread, writer idle: the round's outcome. Stores the offsets of the files now
 * durable (for partitions still assigned: a revoke in between wrote its own) and
 * commits them. Returns the number of files written. */
static int round_reap(struct durable *du)
{
	struct round *r = &du->r;
	int n, written = 0;
	const struct ksrc_part *parts = ksrc_parts(du->ks, &n);

	for (int s = 0; s < r->n && s < n; s++) {
		if (r->covered[s] == -2) {
			write_failed(du, &parts[s], r->errs[s]);
			r->last_off[s] = -1;
		}
		if (r->covered[s] < 0)
			continue;
		r->last_off[s] = r->covered[s];
		written++;
		if (parts[s].assigned && parts[s].partition == r->metas[s].partition)
			ksrc_store(du->ks, s, r->covered[s]);
	}
	du->st.checkpoints += (uint64_t)written;
	du->st.last_bytes = r->bytes;
	if (written > 0)
		ksrc_commit_async(du->ks);
	LOG_DEBUG(du->lg, "checkpoint",
	    "partitions=%d bytes=%llu export_ms=%.1f write_ms=%.1f "
	    "sync_dir_ms=%.1f",
	    written, (unsigned long long)r->bytes, (double)r->t_export_ns / 1e6,
	    (double)r->t_write_ns / 1e6, (double)r->t_sync_ns / 1e6);
	r->n = 0;
	return written;
}

static void *writer_main(void *arg)
{
	struct durable *du = arg;

	pthread_mutex_lock(&du->mu);
	for (;;) {
		while (!du->busy && !du->quit)
			pthread_cond_wait(&du->cv, &du->mu);
		if (!du->busy)
			break;
		pthread_mutex_unlock(&du->mu);
		round_write(du);
		pthread_mutex_lock(&du->mu);
		du->busy = false;
		du->reap = true;
		pthread_cond_broadcast(&du->cv);
	}
	pthread_mutex_unlock(&du->mu);
	return NULL;
}

/* Engine thread: true when the writer is idle; reaps a round it finished. With
 * `wait`, waits for it first. */
static bool writer_idle(struct durable *du, bool wait)
{
	bool idle, reap;

	pthread_mutex_lock(&du->mu);
	while (wait && du->busy)
		pthread_cond_wait(&du->cv, &du->mu);
	idle = !du->busy;
	reap = du->reap;
	du->reap = false;
	pthread_mutex_unlock(&du->mu);
	if (reap)
		round_reap(du);
	return idle;
}

int durable_tick(struct durable *du, int64_t mono_ns, bool force)
{
	int n;
	const struct ksrc_part *parts;

	if (du->ks == NULL)
		return 0;
	if (!writer_idle(du, force) || du->closed || du->failed[0])
		return 0;
	if (!force && mono_ns - du->last_ns < du->o.interval_ns)
		return 0;
	du->last_ns = mono_ns;
	/* records and alerts out before the state that covers them is on disk */
	if (du->o.flush != NULL)
		du->o.flush(du->o.flush_ctx);
	parts = ksrc_parts(du->ks, &n);
	int todo = round_prepare(du, parts, n);
	if (todo == 0) {
		du->r.n = 0;
		return 0;
	}
	if (force) {
		/* the end: written here, nothing to overlap with */
		round_write(du);
		round_reap(du);
		du->st.last_round_ns = log_mono_ns() - mono_ns;
		return todo;
	}
	/* the files are written and fsynced on the writer thread while ingest goes on;
	 * their offsets are stored when a later tick reaps the round */
	pthread_mutex_lock(&du->mu);
	du->busy = true;
	pthread_cond_broadcast(&du->cv);
	pthread_mutex_unlock(&du->mu);
	du->st.last_round_ns = log_mono_ns() - mono_ns;
	return todo;
}

void durable_after_poll(struct durable *du)
{
	if (du->pending_clock == ENGINE_NO_TIME)
		return;
	engine_advance(du->e, du->pending_clock);
	du->pending_clock = ENGINE_NO_TIME;
}

void durable_revoke(void *ctx, int slot, const char *topic, int32_t partition)
{
	struct durable *du = ctx;

	writer_idle(du, true); /* a round in flight lands first, then this newer file */
	if (slot < du->r.cap)
		du->r.last_off[slot] = -1;
	if (du->closed || du->failed[0])
		return;
	if (du->o.flush != NULL)
		du->o.flush(du->o.flush_ctx);
	int w = write_slot(du, slot);
	long dropped = engine_state_drop(du->e, (uint32_t)slot + 1);
	/* the last partition gone (eager rebalance): the clock restarts from the next
	 * assignment's partitions instead of staying ahead of them */
	if (engine_state_reset_clock(du->e) == 0)
		LOG_DEBUG(du->lg, "no partition left: engine clock reset", "topic=%s partition=%d",
		    topic, (int)partition);
	LOG_INFO(du->lg, "partition revoked: flows checkpointed and handed over",
	    "topic=%s partition=%d flows=%ld checkpoint=%s", topic, (int)partition, dropped,
	    w > 0        ? "written"
		: w == 0 ? "none"
			 : "FAILED");
}

void durable_assign(void *ctx, int slot, const char *topic, int32_t partition, int64_t *offset)
{
	struct durable *du = ctx;
	struct ckpt_meta m;
	void *state = NULL;
	size_t len = 0;
	char err[1024];

	writer_idle(du, true); /* no file of this partition half-way through the writer */
	if (slot < du->r.cap)
		du->r.last_off[slot] = -1;
	if (du->failed[0])
		return;
	engine_state_drop(du->e, (uint32_t)slot + 1); /* leftovers of an earlier owner */
	int rc = ckpt_read(
	    du->dir, topic, partition, du->fingerprint, &m, &state, &len, err, sizeof err);
	if (rc == 0) {
		LOG_INFO(du->lg,
		    "partition assigned without checkpoint: starts at the committed offset",
		    "topic=%s partition=%d", topic, (int)partition);
		return;
	}
	if (rc > 0) {
		long k =
		    engine_state_import(du->e, (uint32_t)slot + 1, state, len, err, sizeof err);
		free(state);
		if (k >= 0) {
			/* the engine clock goes to the least of the clocks of the checkpoints loaded
			 * together (durable_after_poll): files written at different times (a
			 * round cut short by a crash) then fire nothing early */
			if (m.engine_clock_ns != ENGINE_NO_TIME &&
			    (du->pending_clock == ENGINE_NO_TIME ||
				m.engine_clock_ns < du->pending_clock))
				du->pending_clock = m.engine_clock_ns;
			if (m.part_clock_ns != PARTCLOCK_NONE)
				partclock_restore(du->pc, slot, m.part_clock_ns);
			*offset = m.offset;
			du->st.restored++;
			du->st.restored_flows += (uint64_t)k;
			LOG_INFO(du->lg, "partition restored from checkpoint",
			    "topic=%s partition=%d offset=%lld flows=%ld age_ms=%lld", topic,
			    (int)partition, (long long)m.offset, k,
			    (long long)((log_wall_ns() - m.written_ns) / 1000000));
			return;
		}
		engine_state_drop(du->e, (uint32_t)slot + 1);
	}
	du->st.refused++;
	if (!du->o.fresh_on_bad) {
		snprintf(du->failed, sizeof du->failed,
		    "%.1000s (topic %.250s partition %d); move the file "
		    "away or set state.on_bad_checkpoint: fresh",
		    err, topic, (int)partition);
		LOG_ERROR(du->lg, "checkpoint refused; stopping (state.on_bad_checkpoint: fail)",
		    "error=\"%s\"", err);
		return;
	}
	ckpt_set_aside(du->dir, topic, partition);
	LOG_ERROR(du->lg,
	    "checkpoint refused; moved aside as .bad, the partition starts without state at the "
	    "committed offset",
	    "topic=%s partition=%d error=\"%s\"", topic, (int)partition, err);
}
