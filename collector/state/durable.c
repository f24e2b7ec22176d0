/*
 * durable: see durable.h.
 */
#include "state/durable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_state.h"
#include "state/checkpoint.h"

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
	int64_t pending_clock;    /* least engine clock of the checkpoints just loaded */
	char failed[1600];
	struct es_buf buf;
	struct durable_stats st;
};

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
	if (snprintf(du->dir, sizeof du->dir, "%s/%s", o->dir, o->group) >= (int)sizeof du->dir ||
	    strchr(o->group, '/') != NULL) {
		snprintf(err, errlen, "state.dir: bad directory for group %s", o->group);
		free(du);
		return -1;
	}
	if (ckpt_mkdirs(du->dir, err, errlen) < 0) {
		free(du);
		return -1;
	}
	LOG_INFO(lg, "durable state", "dir=%s checkpoint_interval_ms=%lld on_bad_checkpoint=%s",
	    du->dir, (long long)(o->interval_ns / 1000000), o->fresh_on_bad ? "fresh" : "fail");
	*out = du;
	return 0;
}

void durable_free(struct durable *du)
{
	if (du == NULL)
		return;
	engine_state_buf_free(&du->buf);
	free(du);
}

void durable_attach(struct durable *du, struct ksrc *ks)
{
	du->ks = ks;
}

void durable_source(struct durable *du, int slot)
{
	engine_state_set_source(du->e, slot >= 0 ? (uint32_t)slot + 1 : 0);
}

const char *durable_failed(const struct durable *du)
{
	return du->failed[0] ? du->failed : NULL;
}

const struct durable_stats *durable_stats(const struct durable *du)
{
	return &du->st;
}

void durable_close(struct durable *du)
{
	du->closed = true;
}

/* Writes slot's checkpoint and stores its offset. 1 written, 0 nothing to write
 * (position unknown), -1 failed. */
static int write_slot(struct durable *du, int slot)
{
	int n;
	const struct ksrc_part *p = &ksrc_parts(du->ks, &n)[slot];
	char err[512];
	struct ckpt_meta m = { .partition = p->partition, .offset = p->position,
		.part_clock_ns = partclock_max(du->pc, slot),
		.engine_clock_ns = engine_stats(du->e)->tmax_ns, .written_ns = log_wall_ns(),
		.fingerprint = du->fingerprint };

	if (p->position < 0)
		return 0;
	snprintf(m.topic, sizeof m.topic, "%s", p->topic);
	du->buf.len = 0;
	du->buf.oom = 0;
	long k = engine_state_export(du->e, (uint32_t)slot + 1, &du->buf);
	if (k < 0) {
		du->st.failures++;
		LOG_ERROR(du->lg, "checkpoint failed: out of memory", "topic=%s partition=%d", p->topic, (int)p->partition);
		return -1;
	}
	m.instances = (uint32_t)k;
	if (ckpt_write(du->dir, &m, du->buf.p, du->buf.len, err, sizeof err) < 0) {
		du->st.failures++;
		LOG_ERROR(du->lg, "checkpoint failed; offsets stay uncommitted", "topic=%s partition=%d error=\"%s\"",
		    p->topic, (int)p->partition, err);
		return -1;
	}
	du->st.checkpoints++;
	du->st.last_bytes += du->buf.len;
	ksrc_store(du->ks, slot, p->position);
	return 1;
}

int durable_tick(struct durable *du, int64_t mono_ns, bool force)
{
	int n, written = 0;
	const struct ksrc_part *parts;

	if (du->closed || du->ks == NULL || du->failed[0])
		return 0;
	if (!force && mono_ns - du->last_ns < du->o.interval_ns)
		return 0;
	du->last_ns = mono_ns;
	if (du->o.flush != NULL)
		du->o.flush(du->o.flush_ctx);
	du->st.last_bytes = 0;
	parts = ksrc_parts(du->ks, &n);
	for (int s = 0; s < n; s++)
		if (parts[s].assigned && write_slot(du, s) > 0)
			written++;
	if (written > 0)
		ksrc_commit_async(du->ks);
	du->st.last_round_ns = log_mono_ns() - mono_ns;
	LOG_DEBUG(du->lg, "checkpoint", "partitions=%d bytes=%llu ms=%.1f", written,
	    (unsigned long long)du->st.last_bytes, (double)du->st.last_round_ns / 1e6);
	return written;
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

	if (du->closed || du->failed[0])
		return;
	if (du->o.flush != NULL)
		du->o.flush(du->o.flush_ctx);
	int w = write_slot(du, slot);
	long dropped = engine_state_drop(du->e, (uint32_t)slot + 1);
	LOG_INFO(du->lg, "partition revoked: flows checkpointed and handed over", "topic=%s partition=%d flows=%ld checkpoint=%s",
	    topic, (int)partition, dropped, w > 0 ? "written" : w == 0 ? "none" : "FAILED");
}

void durable_assign(void *ctx, int slot, const char *topic, int32_t partition, int64_t *offset)
{
	struct durable *du = ctx;
	struct ckpt_meta m;
	void *state = NULL;
	size_t len = 0;
	char err[1024];

	if (du->failed[0])
		return;
	engine_state_drop(du->e, (uint32_t)slot + 1);   /* leftovers of an earlier owner */
	int rc = ckpt_read(du->dir, topic, partition, du->fingerprint, &m, &state, &len, err, sizeof err);
	if (rc == 0) {
		LOG_INFO(du->lg, "partition assigned without checkpoint: starts at the committed offset",
		    "topic=%s partition=%d", topic, (int)partition);
		return;
	}
	if (rc > 0) {
		long k = engine_state_import(du->e, (uint32_t)slot + 1, state, len, err, sizeof err);
		free(state);
		if (k >= 0) {
			/* the engine clock goes to the least of the clocks of the checkpoints loaded
			 * together (durable_after_poll): files written at different times (a
			 * round cut short by a crash) then fire nothing early */
			if (m.engine_clock_ns != ENGINE_NO_TIME &&
			    (du->pending_clock == ENGINE_NO_TIME || m.engine_clock_ns < du->pending_clock))
				du->pending_clock = m.engine_clock_ns;
			if (m.part_clock_ns != PARTCLOCK_NONE)
				partclock_restore(du->pc, slot, m.part_clock_ns);
			*offset = m.offset;
			du->st.restored++;
			du->st.restored_flows += (uint64_t)k;
			LOG_INFO(du->lg, "partition restored from checkpoint", "topic=%s partition=%d offset=%lld flows=%ld age_ms=%lld",
			    topic, (int)partition, (long long)m.offset, k,
			    (long long)((log_wall_ns() - m.written_ns) / 1000000));
			return;
		}
		engine_state_drop(du->e, (uint32_t)slot + 1);
	}
	du->st.refused++;
	if (!du->o.fresh_on_bad) {
		snprintf(du->failed, sizeof du->failed, "%.1000s (topic %.250s partition %d); move the file "
		    "away or set state.on_bad_checkpoint: fresh", err, topic, (int)partition);
		LOG_ERROR(du->lg, "checkpoint refused; stopping (state.on_bad_checkpoint: fail)", "error=\"%s\"", err);
		return;
	}
	ckpt_set_aside(du->dir, topic, partition);
	LOG_ERROR(du->lg, "checkpoint refused; moved aside as .bad, the partition starts without state at the committed offset",
	    "topic=%s partition=%d error=\"%s\"", topic, (int)partition, err);
}
