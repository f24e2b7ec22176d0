/*
 * history: see history.h; the schema is docs/history.md (and HISTORY_SCHEMA below).
 *
 * An item is one allocation: the header, the instance's step views, its events, then
 * the strings they point to (attributes already as a JSON object). The engine thread
 * builds it in `scratch` and copies it out once, so the per-retire cost is the copy
 * plus one malloc; everything SQL (rendering steps, statements, commits) happens on
 * the writer thread. The queue is a ring of item pointers under one mutex, held for
 * a pointer store only.
 *
 * Invariants: items are written in queue order, so a flow's anomalies (decided before
 * it retired) are rows before the flow row and get linked to it by one UPDATE;
 * `done` counts items finished (written or dropped) and never passes `enq`.
 */
#include "state/history.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sqlite3.h>
#include <unistd.h>

#include "lib/jbuf.h"
#include "out/evlog.h"

#define HIST_MAX_EVENTS 256       /* events kept per flow timeline (as the API shows) */
#define HIST_BATCH 2048           /* items per transaction at most */
#define HIST_REOPEN_NS ((int64_t)5 * 1000000000)
#define HIST_HOUSEKEEP_NS ((int64_t)1000000000)
#define HIST_NO_OFF UINT32_MAX
#define HIST_WRITER_NICE 10       /* under CPU contention the engine thread goes first */

/* The schema (docs/history.md). auto_vacuum must precede the first table. */
static const char HISTORY_SCHEMA[] =
    "PRAGMA auto_vacuum=INCREMENTAL;"
    "CREATE TABLE IF NOT EXISTS flows("
    " id INTEGER PRIMARY KEY, flow TEXT NOT NULL, correlation_id TEXT NOT NULL,"
    " outcome TEXT NOT NULL, opened_ns INTEGER NOT NULL, closed_ns INTEGER,"
    " ended_ns INTEGER NOT NULL, retired_ns INTEGER NOT NULL, events INTEGER NOT NULL,"
    " kinds INTEGER NOT NULL, anomalies TEXT NOT NULL, awaiting TEXT NOT NULL,"
    " stalled TEXT NOT NULL, last_step TEXT, last_source TEXT, steps TEXT NOT NULL,"
    " clock_ns INTEGER);"
    "CREATE INDEX IF NOT EXISTS flows_corr ON flows(correlation_id);"
    "CREATE INDEX IF NOT EXISTS flows_ended ON flows(ended_ns);"
    "CREATE INDEX IF NOT EXISTS flows_retired ON flows(retired_ns);"
    "CREATE TABLE IF NOT EXISTS events("
    " flow_id INTEGER NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL,"
    " type TEXT NOT NULL, source TEXT NOT NULL, time_ns INTEGER NOT NULL,"
    " arrival_ns INTEGER NOT NULL, topic TEXT, partition INTEGER, offset INTEGER,"
    " attributes TEXT NOT NULL, PRIMARY KEY(flow_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS anomalies("
    " id INTEGER PRIMARY KEY, flow_id INTEGER, flow TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, kind TEXT NOT NULL, step TEXT, at_ns INTEGER NOT NULL,"
    " written_ns INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS anomalies_flow ON anomalies(flow_id);"
    "CREATE INDEX IF NOT EXISTS anomalies_pending ON anomalies(flow, correlation_id)"
    " WHERE flow_id IS NULL;";

enum { IT_FLOW, IT_ANOMALY };

struct hev {
	uint32_t event_id, type, source, topic, attrs;   /* offsets into the item's strings */
	int32_t partition;
	int64_t time_ns, arrival_ns, offset;
};

struct hitem {
	int type, flow;
	int64_t enq_ns;           /* monotonic, for the lag */
	uint32_t corr, outcome;   /* string offsets (outcome: flows only) */
	/* flows */
	int64_t opened_ns, closed_ns, clock_ns;
	uint32_t events, kinds;
	fg_mask awaiting, stalled;
	int last_step, nsteps, nev;
	struct engine_step_view *steps;   /* NULL when the engine gave none */
	struct hev *evs;
	/* anomalies */
	int kind, step;
	int64_t at_ns;
	char *str;                /* the strings */
};

struct history;
/* The sink chain: ours first, then `next` (stored after the history). */
struct chain {
	struct history *h;
	struct engine_sink next;
};

struct history {
	struct history_opts o;
	const struct flowgraph *g;
	const struct log *lg;
	char path[4096];
	/* engine thread */
	struct evlog *ring;       /* ours, or NULL when shared */
	const struct evlog *shared;   /* the API's ring (history_share_ring), or NULL */
	struct jbuf scratch;      /* the strings of the item being built */
	struct hev evs[HIST_MAX_EVENTS];
	struct engine_step_view steps[FG_MAX_STEPS];
	int nev, nsteps_got;
	fg_mask got_stalled;
	uint32_t got_kinds;
	int got_last;
	int64_t want_opened;
	/* the queue */
	pthread_mutex_t mu;
	pthread_cond_t wake, idle;
	struct hitem **q;
	size_t qcap, qhead, qlen;
	uint64_t enq, done;
	uint64_t hk_req, hk_done; /* housekeeping rounds asked for by history_sync, and run */
	bool stop, held;
	pthread_t thr;
	bool thr_started;
	/* writer thread */
	sqlite3 *db;
	sqlite3_stmt *ins_flow, *ins_ev, *ins_an, *link_an;
	int64_t last_open_try, last_housekeep;
	struct log_limit err_limit;
	struct jbuf wbuf;
	struct chain chain;       /* the sink's context */
	/* any thread */
	_Atomic uint64_t writes, drops, errors, recreated, bytes, deleted;
	_Atomic int64_t oldest_enq_ns;
};

/* ---- engine thread: building items ------------------------------------------ */

static uint32_t put_str(struct history *h, const char *s)
{
	uint32_t off = (uint32_t)h->scratch.len;
	jbuf_put(&h->scratch, s ? s : "", s ? strlen(s) + 1 : 1);   /* overflow: make_item drops */
	return off;
}

/* The attributes as one JSON object, cut at max_attr_bytes (whole pairs only; a cut
 * adds "choreoscope.truncated": the number of pairs left out). */
static uint32_t put_attrs(struct history *h, const struct event *ev)
{
	uint32_t off = (uint32_t)h->scratch.len;
	size_t lim = h->o.max_attr_bytes;
	jbuf_puts(&h->scratch, "{");
	uint32_t i = 0;
	for (; i < ev->nattrs; i++) {
		size_t before = h->scratch.len;
		if (i)
			jbuf_puts(&h->scratch, ",");
		jbuf_json_str(&h->scratch, ev->attrs[i].key);
		jbuf_puts(&h->scratch, ":");
		jbuf_json_str(&h->scratch, ev->attrs[i].val);
		if (h->scratch.len - off + 1 > lim) {
			h->scratch.len = before;
			break;
		}
	}
	if (i < ev->nattrs)
		jbuf_printf(&h->scratch, "%s\"choreoscope.truncated\":\"%u\"", i ? "," : "",
		    ev->nattrs - i);
	jbuf_put(&h->scratch, "}", 2);
	return off;
}

static int take_event(void *arg, const struct event *ev, int64_t arrival_ns)
{
	struct history *h = arg;
	if (h->nev == HIST_MAX_EVENTS)
		return 1;
	struct hev *e = &h->evs[h->nev++];
	e->event_id = put_str(h, ev->event_id);
	e->type = put_str(h, ev->type);
	e->source = put_str(h, ev->source);
	e->topic = ev->topic ? put_str(h, ev->topic) : HIST_NO_OFF;
	e->attrs = put_attrs(h, ev);
	e->partition = ev->partition;
	e->time_ns = ev->time_ns;
	e->arrival_ns = arrival_ns;
	e->offset = ev->offset;
	return 0;
}

static int take_view(void *arg, const struct engine_view *v)
{
	struct history *h = arg;
	if (v->opened_ns != h->want_opened || v->steps == NULL)
		return 0;   /* another instance of the same key: keep no step views */
	h->nsteps_got = h->g->flows[v->flow].nsteps;
	memcpy(h->steps, v->steps, sizeof(h->steps[0]) * (size_t)h->nsteps_got);
	h->got_stalled = v->stalled;
	h->got_kinds = v->kinds;
	h->got_last = v->last_step;
	return 0;
}

static int64_t mono_ns(void)
{
	return log_mono_ns();
}

/* Appends it to the queue, or drops it (counted) when full. Takes ownership. */
static void enqueue(struct history *h, struct hitem *it)
{
	it->enq_ns = mono_ns();
	pthread_mutex_lock(&h->mu);
	if (h->qlen == h->qcap || h->stop) {
		pthread_mutex_unlock(&h->mu);
		atomic_fetch_add(&h->drops, 1);
		free(it);
		return;
	}
	if (h->qlen == 0)
		atomic_store(&h->oldest_enq_ns, it->enq_ns);
	h->q[(h->qhead + h->qlen++) % h->qcap] = it;
	h->enq++;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
}

/* One allocation: header, steps, events, strings (scratch). */
static struct hitem *make_item(struct history *h, int nsteps, int nev)
{
	size_t sz = sizeof(struct hitem) + sizeof(struct engine_step_view) * (size_t)nsteps +
	    sizeof(struct hev) * (size_t)nev + h->scratch.len + 1;
	struct hitem *it = malloc(sz);
	if (it == NULL || h->scratch.overflow) {
		free(it);
		atomic_fetch_add(&h->drops, 1);
		return NULL;
	}
	memset(it, 0, sizeof(*it));
	char *p = (char *)(it + 1);
	it->steps = nsteps ? (struct engine_step_view *)p : NULL;
	memcpy(p, h->steps, sizeof(struct engine_step_view) * (size_t)nsteps);
	p += sizeof(struct engine_step_view) * (size_t)nsteps;
	it->evs = (struct hev *)p;
	memcpy(p, h->evs, sizeof(struct hev) * (size_t)nev);
	p += sizeof(struct hev) * (size_t)nev;
	it->str = p;
	memcpy(p, h->scratch.p ? h->scratch.p : "", h->scratch.len);
	p[h->scratch.len] = '\0';
	it->nsteps = nsteps;
	it->nev = nev;
	return it;
}

static int flow_index(const struct history *h, const struct fg_flow *f)
{
	if (f == NULL || f < h->g->flows || f >= h->g->flows + h->g->nflows)
		return -1;
	return (int)(f - h->g->flows);
}

/* A full queue drops before the copy is built (the writer only ever shortens the queue,
 * and enqueue checks again). */
static bool full_now(struct history *h)
{
	pthread_mutex_lock(&h->mu);
	bool full = h->qlen == h->qcap;
	pthread_mutex_unlock(&h->mu);
	if (full)
		atomic_fetch_add(&h->drops, 1);
	return full;
}

static void on_flow(struct history *h, const struct flow_record *r)
{
	int fi = flow_index(h, r->flow);
	if (fi < 0 || full_now(h))
		return;
	jbuf_reset(&h->scratch);
	h->nev = 0;
	h->nsteps_got = 0;
	h->got_stalled = 0;
	h->got_kinds = 0;
	h->got_last = -1;
	h->want_opened = r->opened_ns;
	uint32_t corr = put_str(h, r->correlation_id), outcome = put_str(h, r->outcome);
	if (h->o.eng != NULL)
		engine_lookup(h->o.eng, fi, r->correlation_id, take_view, h);
	evlog_find_ex(h->shared ? h->shared : h->ring, r->correlation_id, take_event, h);
	struct hitem *it = make_item(h, h->nsteps_got, h->nev);
	if (it == NULL)
		return;
	it->type = IT_FLOW;
	it->flow = fi;
	it->corr = corr;
	it->outcome = outcome;
	it->opened_ns = r->opened_ns;
	it->closed_ns = r->closed_ns;
	it->clock_ns = h->o.eng ? engine_stats(h->o.eng)->tmax_ns : ENGINE_NO_TIME;
	it->events = r->events;
	it->awaiting = r->awaiting;
	it->stalled = h->got_stalled;
	it->kinds = h->got_kinds;
	it->last_step = h->got_last;
	enqueue(h, it);
}

static void on_anomaly(struct history *h, const struct anomaly *a)
{
	int fi = flow_index(h, a->flow);
	if (fi < 0 || full_now(h))
		return;
	jbuf_reset(&h->scratch);
	uint32_t corr = put_str(h, a->correlation_id);
	struct hitem *it = make_item(h, 0, 0);
	if (it == NULL)
		return;
	it->type = IT_ANOMALY;
	it->flow = fi;
	it->corr = corr;
	it->kind = a->kind;
	it->step = a->step_index;
	it->at_ns = a->at_ns;
	enqueue(h, it);
}

static void sk_anomaly(void *ctx, const struct anomaly *a)
{
	struct chain *c = ctx;
	on_anomaly(c->h, a);
	if (c->next.anomaly)
		c->next.anomaly(c->next.ctx, a);
}

static void sk_flow(void *ctx, const struct flow_record *r)
{
	struct chain *c = ctx;
	on_flow(c->h, r);
	if (c->next.flow)
		c->next.flow(c->next.ctx, r);
}

static void sk_step(void *ctx, const struct step_obs *o)
{
	struct chain *c = ctx;
	if (c->next.step)
		c->next.step(c->next.ctx, o);
}

/* ---- writer thread: the file --------------------------------------------------- */

static void werr(struct history *h, const char *what, const char *why)
{
	char esc[512];
	atomic_fetch_add(&h->errors, 1);
	LOG_LIMITED(h->lg, &h->err_limit, LOG_LVL_ERROR, "history store: write failed; judging goes on",
	    "path=%s what=%s error=\"%s\"", h->path, what, log_escape(why, esc, sizeof esc));
}

static void close_db(struct history *h)
{
	sqlite3_finalize(h->ins_flow);
	sqlite3_finalize(h->ins_ev);
	sqlite3_finalize(h->ins_an);
	sqlite3_finalize(h->link_an);
	h->ins_flow = h->ins_ev = h->ins_an = h->link_an = NULL;
	sqlite3_close(h->db);
	h->db = NULL;
}

static bool is_damage(int rc)
{
	rc &= 0xff;
	/* SQLITE_FORMAT is ours: another schema version. Busy, full, read-only and I/O
	 * errors are not damage: the file is kept and the write counted as failed. */
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB || rc == SQLITE_FORMAT;
}

/* Moves the file (and its WAL and shm) aside as history.db.bad-UNIXTIME. */
static void move_aside(struct history *h, const char *why)
{
	char dst[4200], src[4200];
	long t = (long)(log_wall_ns() / 1000000000);
	close_db(h);
	snprintf(dst, sizeof dst, "%s.bad-%ld", h->path, t);
	int rc = rename(h->path, dst);
	for (int i = 0; i < 2; i++) {
		const char *suf = i ? "-shm" : "-wal";
		snprintf(src, sizeof src, "%s%s", h->path, suf);
		char d2[4300];
		snprintf(d2, sizeof d2, "%s.bad-%ld%s", h->path, t, suf);
		if (rename(src, d2) < 0 && errno != ENOENT)
			unlink(src);
	}
	atomic_fetch_add(&h->recreated, 1);
	LOG_ERROR(h->lg, "history store damaged: moved aside, starting a new one",
	    "path=%s moved_to=%s.bad-%ld reason=\"%s\"%s", h->path, h->path, t, why,
	    rc < 0 ? " rename_failed=true" : "");
	if (rc < 0)
		unlink(h->path);
}

static int prepare(struct history *h)
{
	static const char *const sql[4] = {
	    "INSERT INTO flows(flow,correlation_id,outcome,opened_ns,closed_ns,ended_ns,"
	    "retired_ns,events,kinds,anomalies,awaiting,stalled,last_step,last_source,steps,"
	    "clock_ns) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    "INSERT INTO events(flow_id,seq,event_id,type,source,time_ns,arrival_ns,topic,"
	    "partition,offset,attributes) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	    "INSERT INTO anomalies(flow_id,flow,correlation_id,kind,step,at_ns,written_ns)"
	    " VALUES(NULL,?,?,?,?,?,?)",
	    "UPDATE anomalies SET flow_id=? WHERE flow_id IS NULL AND flow=? AND"
	    " correlation_id=?"};
	sqlite3_stmt **st[4] = {&h->ins_flow, &h->ins_ev, &h->ins_an, &h->link_an};
	for (int i = 0; i < 4; i++)
		if (sqlite3_prepare_v3(h->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL))
			return sqlite3_extended_errcode(h->db);
	return 0;
}

/* Opens (creating) the file and checks it is ours: 0, or the SQLite code. */
static int open_once(struct history *h)
{
	int rc = sqlite3_open_v2(h->path, &h->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(h->db, 2000);
	sqlite3_stmt *st = NULL;
	int ver = -1;
	/* reading user_version reads page 1: a file that is not a database fails here */
	if ((rc = sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &st, NULL)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ver = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return sqlite3_extended_errcode(h->db);
	if (ver != 0 && ver != HISTORY_SCHEMA_VERSION)
		return SQLITE_FORMAT;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", HISTORY_SCHEMA_VERSION);
	if ((rc = sqlite3_exec(h->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL)) ||
	    (rc = sqlite3_exec(h->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL)) ||
	    (rc = sqlite3_exec(h->db, HISTORY_SCHEMA, NULL, NULL, NULL)) ||
	    (rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL)) ||
	    (rc = sqlite3_exec(h->db, "PRAGMA quick_check(1)", NULL, NULL, NULL)) ||
	    (rc = prepare(h)))
		return sqlite3_extended_errcode(h->db) ? sqlite3_extended_errcode(h->db) : rc;
	return 0;
}

static void open_db(struct history *h)
{
	h->last_open_try = mono_ns();
	if (mkdir(h->o.dir, 0755) < 0 && errno != EEXIST) {
		werr(h, "mkdir", strerror(errno));
		return;
	}
	int rc = open_once(h);
	if (rc != 0 && is_damage(rc)) {
		move_aside(h, rc == SQLITE_FORMAT ? "another schema version" : sqlite3_errstr(rc));
		rc = open_once(h);
	}
	if (rc != 0) {
		werr(h, "open", h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
		close_db(h);
		return;
	}
	LOG_INFO(h->lg, "history store open", "path=%s", h->path);
}

/* ---- writer thread: rows --------------------------------------------------------- */

static const char *const status_names[] = {"not_expected", "pending", "happened",
    "stalled", "missing", "cancelled"};

static void names_json(struct jbuf *b, const struct fg_flow *fl, fg_mask m)
{
	jbuf_puts(b, "[");
	bool first = true;
	for (int s = 0; s < fl->nsteps; s++) {
		if (!(m & FG_BIT(s)))
			continue;
		jbuf_puts(b, first ? "" : ",");
		jbuf_json_str(b, fl->steps[s].name);
		first = false;
	}
	jbuf_puts(b, "]");
}

/* The steps array exactly as the live timeline renders it (docs/API.md), overdue
 * times taken on the engine clock at retire. */
static void steps_json(struct jbuf *b, const struct fg_flow *fl, const struct hitem *it)
{
	jbuf_puts(b, "[");
	for (int s = 0; s < fl->nsteps; s++) {
		struct engine_step_view sv = {.status = ENGINE_STEP_NOT_EXPECTED,
		    .happened_at_ns = ENGINE_NO_TIME, .expected_at_ns = ENGINE_NO_TIME,
		    .deadline_ns = ENGINE_NO_TIME};
		if (it->steps && s < it->nsteps)
			sv = it->steps[s];
		jbuf_puts(b, s ? ",{\"name\":" : "{\"name\":");
		jbuf_json_str(b, fl->steps[s].name);
		jbuf_puts(b, ",\"status\":");
		jbuf_json_str(b, status_names[sv.status <= ENGINE_STEP_CANCELLED ? sv.status : 0]);
		if (sv.happened_at_ns != ENGINE_NO_TIME) {
			jbuf_puts(b, ",\"happened_at\":");
			jbuf_json_time(b, sv.happened_at_ns);
			jbuf_printf(b, ",\"count\":%u", sv.count);
		}
		if (sv.expected_at_ns != ENGINE_NO_TIME) {
			jbuf_puts(b, ",\"expected_at\":");
			jbuf_json_time(b, sv.expected_at_ns);
		}
		if (sv.deadline_ns != ENGINE_NO_TIME) {
			jbuf_puts(b, ",\"deadline\":");
			jbuf_json_time(b, sv.deadline_ns);
		}
		if (sv.status == ENGINE_STEP_STALLED && sv.deadline_ns != ENGINE_NO_TIME &&
		    it->clock_ns != ENGINE_NO_TIME) {
			jbuf_puts(b, ",\"overdue_seconds\":");
			jbuf_json_seconds(b, it->clock_ns - sv.deadline_ns);
		}
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]");
}

static void kinds_json(struct jbuf *b, uint32_t kinds)
{
	jbuf_puts(b, "[");
	bool first = true;
	for (int k = 0; k < AN__COUNT; k++) {
		if (!(kinds & (1u << k)))
			continue;
		jbuf_puts(b, first ? "" : ",");
		jbuf_json_str(b, an_kind_name((enum an_kind)k));
		first = false;
	}
	jbuf_puts(b, "]");
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t ns)
{
	if (ns == ENGINE_NO_TIME)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, ns);
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* Appends s to wbuf and returns its offset (texts bound from one buffer: keep
 * offsets, since the buffer may move as it grows). */
static size_t wput(struct history *h, void (*fn)(struct jbuf *, const struct fg_flow *,
    const struct hitem *), const struct fg_flow *fl, const struct hitem *it)
{
	size_t off = h->wbuf.len;
	fn(&h->wbuf, fl, it);
	jbuf_put(&h->wbuf, "", 1);
	return off;
}

static void w_awaiting(struct jbuf *b, const struct fg_flow *fl, const struct hitem *it)
{
	names_json(b, fl, it->awaiting);
}

static void w_stalled(struct jbuf *b, const struct fg_flow *fl, const struct hitem *it)
{
	names_json(b, fl, it->stalled);
}

static void w_kinds(struct jbuf *b, const struct fg_flow *fl, const struct hitem *it)
{
	(void)fl;
	kinds_json(b, it->kinds);
}

static int write_flow(struct history *h, const struct hitem *it, int64_t wall)
{
	const struct fg_flow *fl = &h->g->flows[it->flow];
	const char *corr = it->str + it->corr;
	jbuf_reset(&h->wbuf);
	size_t o_an = wput(h, w_kinds, fl, it), o_aw = wput(h, w_awaiting, fl, it),
	       o_st = wput(h, w_stalled, fl, it), o_steps = wput(h, steps_json, fl, it);
	if (h->wbuf.overflow)
		return SQLITE_TOOBIG;
	sqlite3_stmt *st = h->ins_flow;
	bind_text(st, 1, fl->name);
	bind_text(st, 2, corr);
	bind_text(st, 3, it->str + it->outcome);
	sqlite3_bind_int64(st, 4, it->opened_ns);
	bind_time(st, 5, it->closed_ns);
	sqlite3_bind_int64(st, 6, it->closed_ns != ENGINE_NO_TIME ? it->closed_ns : it->opened_ns);
	sqlite3_bind_int64(st, 7, wall);
	sqlite3_bind_int64(st, 8, it->events);
	sqlite3_bind_int64(st, 9, it->kinds);
	bind_text(st, 10, h->wbuf.p + o_an);
	bind_text(st, 11, h->wbuf.p + o_aw);
	bind_text(st, 12, h->wbuf.p + o_st);
	bind_text(st, 13, it->last_step >= 0 && it->last_step < fl->nsteps
	        ? fl->steps[it->last_step].name : NULL);
	bind_text(st, 14, it->nev ? it->str + it->evs[it->nev - 1].source : NULL);
	bind_text(st, 15, h->wbuf.p + o_steps);
	bind_time(st, 16, it->clock_ns);
	int rc = step_done(st);
	if (rc)
		return rc;
	sqlite3_int64 id = sqlite3_last_insert_rowid(h->db);
	for (int i = 0; i < it->nev; i++) {
		const struct hev *e = &it->evs[i];
		st = h->ins_ev;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, i);
		bind_text(st, 3, it->str + e->event_id);
		bind_text(st, 4, it->str + e->type);
		bind_text(st, 5, it->str + e->source);
		sqlite3_bind_int64(st, 6, e->time_ns);
		sqlite3_bind_int64(st, 7, e->arrival_ns);
		bind_text(st, 8, e->topic == HIST_NO_OFF ? NULL : it->str + e->topic);
		sqlite3_bind_int(st, 9, e->partition);
		sqlite3_bind_int64(st, 10, e->offset);
		bind_text(st, 11, it->str + e->attrs);
		if ((rc = step_done(st)))
			return rc;
	}
	if (it->kinds) {   /* a flow without verdicts has no anomaly rows to link */
		st = h->link_an;
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, fl->name);
		bind_text(st, 3, corr);
		if ((rc = step_done(st)))
			return rc;
	}
	return 0;
}

static int write_anomaly(struct history *h, const struct hitem *it, int64_t wall)
{
	const struct fg_flow *fl = &h->g->flows[it->flow];
	sqlite3_stmt *st = h->ins_an;
	bind_text(st, 1, fl->name);
	bind_text(st, 2, it->str + it->corr);
	bind_text(st, 3, an_kind_name((enum an_kind)it->kind));
	bind_text(st, 4, it->step >= 0 && it->step < fl->nsteps ? fl->steps[it->step].name : NULL);
	sqlite3_bind_int64(st, 5, it->at_ns);
	sqlite3_bind_int64(st, 6, wall);
	return step_done(st);
}

/* Handles a failed statement: damage moves the file aside (recreated at the next
 * open), anything else (full disk, read-only) is counted and logged. */
static void failed(struct history *h, const char *what, int rc)
{
	const char *why = h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc);
	char msg[256];
	snprintf(msg, sizeof msg, "%s", why);
	if (h->db)
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	werr(h, what, msg);
	if (is_damage(rc)) {
		move_aside(h, msg);
		h->last_open_try = 0;   /* recreate at once */
	}
}

static void write_batch(struct history *h, struct hitem **items, int n)
{
	if (h->db == NULL && mono_ns() - h->last_open_try >= HIST_REOPEN_NS)
		open_db(h);
	if (h->db == NULL) {
		atomic_fetch_add(&h->drops, (uint64_t)n);
		return;
	}
	int64_t wall = log_wall_ns();
	int rc = sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL);
	uint64_t flows = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		rc = items[i]->type == IT_FLOW ? write_flow(h, items[i], wall)
		                               : write_anomaly(h, items[i], wall);
		flows += items[i]->type == IT_FLOW;
	}
	if (rc == 0)
		rc = sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
	if (rc != 0) {
		failed(h, "write", rc != SQLITE_ERROR || h->db == NULL ? rc
		                   : sqlite3_extended_errcode(h->db));
		atomic_fetch_add(&h->drops, (uint64_t)n);
		return;
	}
	atomic_fetch_add(&h->writes, flows);
}

/* ---- writer thread: retention ---------------------------------------------------- */

static int64_t query_i64(sqlite3 *db, const char *sql, int64_t arg, int *rc)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	*rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (*rc == SQLITE_OK) {
		if (strchr(sql, '?'))
			sqlite3_bind_int64(st, 1, arg);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		else if (s != SQLITE_DONE)
			*rc = sqlite3_extended_errcode(db);
	}
	sqlite3_finalize(st);
	return v;
}

/* Deletes the flows with id <= upto, their events and anomalies. */
static int delete_upto(struct history *h, int64_t upto)
{
	static const char *const sql[3] = {"DELETE FROM events WHERE flow_id <= ?",
	    "DELETE FROM anomalies WHERE flow_id <= ?", "DELETE FROM flows WHERE id <= ?"};
	for (int i = 0; i < 3; i++) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(h->db, sql[i], -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, upto);
			rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlite3_extended_errcode(h->db);
		}
		if (i == 2 && rc == 0)
			atomic_fetch_add(&h->deleted, (uint64_t)sqlite3_changes(h->db));
		sqlite3_finalize(st);
		if (rc)
			return rc;
	}
	return 0;
}

static int retain_age(struct history *h, int64_t wall)
{
	int rc;
	if (h->o.retention_ns <= 0)
		return 0;
	int64_t cutoff = wall - h->o.retention_ns;
	int64_t upto = query_i64(h->db, "SELECT max(id) FROM flows WHERE retired_ns < ?",
	    cutoff, &rc);
	if (rc == 0 && upto > 0)
		rc = delete_upto(h, upto);
	if (rc == 0) {
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(h->db, "DELETE FROM anomalies WHERE flow_id IS NULL AND"
		    " written_ns < ?", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, cutoff);
			rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlite3_extended_errcode(h->db);
		}
		sqlite3_finalize(st);
	}
	return rc;
}

/* Pages in use beyond max_bytes: the oldest tenth of the flows goes, until under. */
static int retain_size(struct history *h)
{
	int rc = 0;
	for (int round = 0; h->o.max_bytes > 0 && round < 20 && rc == 0; round++) {
		int64_t pages = query_i64(h->db, "PRAGMA page_count", 0, &rc);
		int64_t freel = rc ? 0 : query_i64(h->db, "PRAGMA freelist_count", 0, &rc);
		int64_t psz = rc ? 0 : query_i64(h->db, "PRAGMA page_size", 0, &rc);
		if (rc || (uint64_t)((pages - freel) * psz) <= h->o.max_bytes)
			break;
		int64_t lo = query_i64(h->db, "SELECT min(id) FROM flows", 0, &rc);
		int64_t hi = rc ? 0 : query_i64(h->db, "SELECT max(id) FROM flows", 0, &rc);
		if (rc || hi == 0)
			break;
		rc = delete_upto(h, lo + (hi - lo) / 10);
	}
	return rc;
}

static void measure(struct history *h)
{
	char wal[4200];
	struct stat sb;
	uint64_t n = 0;
	if (stat(h->path, &sb) == 0)
		n += (uint64_t)sb.st_size;
	snprintf(wal, sizeof wal, "%s-wal", h->path);
	if (stat(wal, &sb) == 0)
		n += (uint64_t)sb.st_size;
	atomic_store(&h->bytes, n);
}

static void housekeep(struct history *h)
{
	h->last_housekeep = mono_ns();
	if (h->db != NULL) {
		int rc = sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL);
		if (rc == 0)
			rc = retain_age(h, log_wall_ns());
		if (rc == 0)
			rc = retain_size(h);
		if (rc == 0)
			rc = sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
		if (rc == 0)   /* give freed pages back, so that the file shrinks too */
			rc = sqlite3_exec(h->db, "PRAGMA incremental_vacuum(4096)", NULL, NULL, NULL);
		if (rc != 0)
			failed(h, "retention", sqlite3_extended_errcode(h->db));
	} else if (mono_ns() - h->last_open_try >= HIST_REOPEN_NS) {
		open_db(h);
	}
	measure(h);
}

static void *writer(void *arg)
{
	struct history *h = arg;
	struct hitem *batch[HIST_BATCH];
	/* Linux nice is per thread: judging must not wait behind SQLite; what the writer
	 * cannot keep up with is dropped and counted at the queue. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HIST_WRITER_NICE);
	open_db(h);
	measure(h);
	pthread_mutex_lock(&h->mu);
	for (;;) {
		if ((h->qlen == 0 || h->held) && !h->stop && h->hk_req == h->hk_done) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&h->wake, &h->mu, &ts);
		}
		int n = 0;
		while (h->qlen && n < HIST_BATCH && !h->held) {
			batch[n++] = h->q[h->qhead];
			h->qhead = (h->qhead + 1) % h->qcap;
			h->qlen--;
		}
		atomic_store(&h->oldest_enq_ns, h->qlen ? h->q[h->qhead]->enq_ns : 0);
		bool stop = h->stop && h->qlen == 0 && n == 0;
		/* a sync asks for a round once the queue it waits for is written */
		uint64_t hk = h->qlen == 0 || h->held ? h->hk_req : h->hk_done;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		if (n > 0)
			write_batch(h, batch, n);
		for (int i = 0; i < n; i++)
			free(batch[i]);
		bool asked = hk != h->hk_done;
		if (asked || mono_ns() - h->last_housekeep >= HIST_HOUSEKEEP_NS)
			housekeep(h);
		pthread_mutex_lock(&h->mu);
		h->done += (uint64_t)n;
		if (asked)
			h->hk_done = hk;
		pthread_cond_broadcast(&h->idle);
	}
	if (h->db != NULL)
		sqlite3_exec(h->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	close_db(h);
	measure(h);
	return NULL;
}

/* ---- lifecycle --------------------------------------------------------------------- */

int history_new(const struct history_opts *o, const struct flowgraph *g,
    const struct log *lg, struct history **out, char *err, size_t errlen)
{
	struct history *h = calloc(1, sizeof(*h));
	*out = NULL;
	if (h == NULL)
		goto oom;
	h->o = *o;
	h->g = g;
	h->lg = lg;
	if (h->o.queue_len == 0)
		h->o.queue_len = 65536;
	if (h->o.max_attr_bytes < 16)
		h->o.max_attr_bytes = 16;
	if (snprintf(h->path, sizeof h->path, "%s/%s", o->dir, HISTORY_FILE) >=
	    (int)sizeof h->path) {
		snprintf(err, errlen, "history.dir: path too long");
		free(h);
		return -1;
	}
	h->err_limit = (struct log_limit)LOG_LIMIT_INIT(5, 10 * (int64_t)1000000000);
	h->qcap = h->o.queue_len;
	h->q = calloc(h->qcap, sizeof(*h->q));
	h->ring = evlog_new(h->o.timeline_bytes ? h->o.timeline_bytes : (size_t)32 << 20);
	jbuf_init(&h->scratch, (size_t)64 << 20);
	jbuf_init(&h->wbuf, (size_t)64 << 20);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->wake, NULL);
	pthread_cond_init(&h->idle, NULL);
	if (h->q == NULL || h->ring == NULL)
		goto oom;
	if (pthread_create(&h->thr, NULL, writer, h) != 0) {
		snprintf(err, errlen, "history: cannot start the writer thread");
		history_free(h);
		return -1;
	}
	h->thr_started = true;
	*out = h;
	return 0;
oom:
	snprintf(err, errlen, "history: out of memory");
	history_free(h);
	return -1;
}

void history_free(struct history *h)
{
	if (h == NULL)
		return;
	if (h->thr_started) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thr, NULL);
	}
	for (size_t i = 0; h->q && i < h->qlen; i++)
		free(h->q[(h->qhead + i) % h->qcap]);
	free(h->q);
	evlog_free(h->ring);
	jbuf_free(&h->scratch);
	jbuf_free(&h->wbuf);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->idle);
	free(h);
}

void history_sink(struct history *h, struct engine_sink *sink, const struct engine_sink *next)
{
	h->chain.h = h;
	h->chain.next = next ? *next : (struct engine_sink){0};
	*sink = (struct engine_sink){.anomaly = sk_anomaly, .flow = sk_flow, .step = sk_step,
	    .ctx = &h->chain};
}

void history_event(struct history *h, const struct event *ev)
{
	if (h->shared == NULL)
		evlog_add(h->ring, ev);
}

void history_share_ring(struct history *h, const struct evlog *ring)
{
	evlog_free(h->ring);
	h->ring = NULL;
	h->shared = ring;
}

void history_sync(struct history *h)
{
	pthread_mutex_lock(&h->mu);
	uint64_t want = h->enq, hk = ++h->hk_req;
	pthread_cond_signal(&h->wake);
	while (h->done < want || h->hk_done < hk)
		pthread_cond_wait(&h->idle, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void history_attach_engine(struct history *h, const struct engine *eng)
{
	h->o.eng = eng;
}

void history_hold(struct history *h, bool held)
{
	pthread_mutex_lock(&h->mu);
	h->held = held;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
}

void history_stats(const struct history *h, struct history_stats *out)
{
	struct history *m = (struct history *)h;
	*out = (struct history_stats){.writes = atomic_load(&m->writes),
	    .drops = atomic_load(&m->drops), .errors = atomic_load(&m->errors),
	    .recreated = atomic_load(&m->recreated), .bytes = atomic_load(&m->bytes),
	    .deleted = atomic_load(&m->deleted)};
	pthread_mutex_lock(&m->mu);
	out->queued = m->qlen;
	pthread_mutex_unlock(&m->mu);
	int64_t old = atomic_load(&m->oldest_enq_ns);
	out->lag_ns = out->queued && old ? mono_ns() - old : 0;
}

const char *history_path(const struct history *h)
{
	return h->path;
}

void history_metrics(void *ctx, struct jbuf *b)
{
	const struct history *h = ctx;
	struct history_stats st;
	history_stats(h, &st);
	static const struct { const char *name, *type, *help; } m[] = {
	    {"choreoscope_history_bytes", "gauge", "Bytes of the history store on disk (file and WAL)."},
	    {"choreoscope_history_writes_total", "counter", "Retired flows written to the history store."},
	    {"choreoscope_history_drops_total", "counter",
	     "Retired flows and verdicts not stored (queue full, or a failed write)."},
	    {"choreoscope_history_errors_total", "counter",
	     "History store failures (open, write, retention), each logged."},
	    {"choreoscope_history_recreated_total", "counter",
	     "Damaged history files moved aside and recreated."},
	    {"choreoscope_history_deleted_total", "counter", "Stored flows removed by retention."},
	    {"choreoscope_history_queue_items", "gauge", "Items waiting for the history writer."},
	    {"choreoscope_history_lag_seconds", "gauge",
	     "Age of the oldest item waiting for the history writer."},
	};
	const uint64_t v[] = {st.bytes, st.writes, st.drops, st.errors, st.recreated, st.deleted,
	    st.queued};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		jbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s ", m[i].name, m[i].help, m[i].name,
		    m[i].type, m[i].name);
		if (i < sizeof v / sizeof v[0])
			jbuf_printf(b, "%llu\n", (unsigned long long)v[i]);
		else
			jbuf_printf(b, "%.3f\n", (double)st.lag_ns / 1e9);
	}
}
