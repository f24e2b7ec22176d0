/*
 * history_write: the writer thread of the history store (history.h): opens (and, when
 * damaged, moves aside and recreates) DIR/history.db, drains the queue in batched
 * transactions, enforces retention each second, and measures the file.
 *
 * Only this thread touches the read-write connection and its statements (opened
 * with SQLITE_OPEN_NOMUTEX). Texts are bound SQLITE_STATIC from the item or from
 * `wbuf`, both alive until the statement is reset.
 */
#include "state/history_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Version 2's addition: the linked keys of each flow. Keyed by flow first so that
 * retention deletes a range; the value index serves key= lookups. */
#define HISTORY_SCHEMA_KEYS \
	"CREATE TABLE IF NOT EXISTS flow_keys(" \
	" flow_id INTEGER NOT NULL, key_value TEXT NOT NULL," \
	" PRIMARY KEY(flow_id, key_value)) WITHOUT ROWID;" \
	"CREATE INDEX IF NOT EXISTS flow_keys_value ON flow_keys(key_value);"

/* Version 1 -> 2, in one transaction with the version bump, so that a crash leaves
 * either. Flows stored by version 1 have no linked keys: key= finds them by their
 * correlation id only. */
static const char HISTORY_MIGRATE_1[] =
    "BEGIN;"
    "ALTER TABLE events ADD COLUMN key TEXT;" HISTORY_SCHEMA_KEYS "PRAGMA user_version=2;"
    "COMMIT;";

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
    " attributes TEXT NOT NULL, key TEXT, PRIMARY KEY(flow_id, seq)) WITHOUT "
    "ROWID;" HISTORY_SCHEMA_KEYS "CREATE TABLE IF NOT EXISTS anomalies("
    " id INTEGER PRIMARY KEY, flow_id INTEGER, flow TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, kind TEXT NOT NULL, step TEXT, at_ns INTEGER NOT NULL,"
    " written_ns INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS anomalies_flow ON anomalies(flow_id);"
    "CREATE INDEX IF NOT EXISTS anomalies_pending ON anomalies(flow, correlation_id)"
    " WHERE flow_id IS NULL;";

/* ---- writer thread: the file --------------------------------------------------- */

static void werr(struct history *h, const char *what, const char *why)
{
	char esc[512];
	atomic_fetch_add(&h->errors, 1);
	LOG_LIMITED(h->lg, &h->err_limit, LOG_LVL_ERROR,
	    "history store: write failed; judging goes on", "path=%s what=%s error=\"%s\"", h->path,
	    what, log_escape(why, esc, sizeof esc));
}

static void close_db(struct history *h)
{
	sqlite3_finalize(h->ins_flow);
	sqlite3_finalize(h->ins_ev);
	sqlite3_finalize(h->ins_an);
	sqlite3_finalize(h->link_an);
	sqlite3_finalize(h->ins_key);
	h->ins_flow = h->ins_ev = h->ins_an = h->link_an = h->ins_key = NULL;
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
	static const char *const sql[5] = {
		"INSERT INTO flows(flow,correlation_id,outcome,opened_ns,closed_ns,ended_ns,"
		"retired_ns,events,kinds,anomalies,awaiting,stalled,last_step,last_source,steps,"
		"clock_ns) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO events(flow_id,seq,event_id,type,source,time_ns,arrival_ns,topic,"
		"partition,offset,attributes,key) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO anomalies(flow_id,flow,correlation_id,kind,step,at_ns,written_ns)"
		" VALUES(NULL,?,?,?,?,?,?)",
		"UPDATE anomalies SET flow_id=? WHERE flow_id IS NULL AND flow=? AND"
		" correlation_id=?",
		"INSERT OR IGNORE INTO flow_keys(flow_id,key_value) VALUES(?,?)"
	};
	sqlite3_stmt **st[5] = { &h->ins_flow, &h->ins_ev, &h->ins_an, &h->link_an, &h->ins_key };
	for (int i = 0; i < 5; i++)
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
	if (ver == 1) {
		if ((rc = sqlite3_exec(h->db, HISTORY_MIGRATE_1, NULL, NULL, NULL)) != SQLITE_OK) {
			rc = sqlite3_extended_errcode(h->db);
			sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		LOG_INFO(h->lg, "history store migrated", "path=%s from=1 to=%d", h->path,
		    HISTORY_SCHEMA_VERSION);
		ver = HISTORY_SCHEMA_VERSION;
	}
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
	h->last_open_try = history_mono_ns();
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

static const char *const status_names[] = { "not_expected", "pending", "happened", "stalled",
	"missing", "cancelled" };

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
		struct engine_step_view sv = { .status = ENGINE_STEP_NOT_EXPECTED,
			.happened_at_ns = ENGINE_NO_TIME,
			.expected_at_ns = ENGINE_NO_TIME,
			.deadline_ns = ENGINE_NO_TIME };
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
static size_t wput(struct history *h,
    void (*fn)(struct jbuf *, const struct fg_flow *, const struct hitem *),
    const struct fg_flow *fl, const struct hitem *it)
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
	bind_text(st, 13,
	    it->last_step >= 0 && it->last_step < fl->nsteps ? fl->steps[it->last_step].name
							     : NULL);
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
		bind_text(st, 12, e->key == HIST_NO_OFF ? NULL : it->str + e->key);
		if ((rc = step_done(st)))
			return rc;
	}
	const char *k = it->str + it->keys;
	for (int i = 0; i < it->nkeys; i++, k += strlen(k) + 1) {
		st = h->ins_key;
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, k);
		if ((rc = step_done(st)))
			return rc;
	}
	if (it->kinds) { /* a flow without verdicts has no anomaly rows to link */
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
		h->last_open_try = 0; /* recreate at once */
	}
}

static void write_batch(struct history *h, struct hitem **items, int n)
{
	if (h->db == NULL && history_mono_ns() - h->last_open_try >= HIST_REOPEN_NS)
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
		failed(h, "write",
		    rc != SQLITE_ERROR || h->db == NULL ? rc : sqlite3_extended_errcode(h->db));
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
	static const char *const sql[4] = { "DELETE FROM events WHERE flow_id <= ?",
		"DELETE FROM flow_keys WHERE flow_id <= ?",
		"DELETE FROM anomalies WHERE flow_id <= ?", "DELETE FROM flows WHERE id <= ?" };
	for (int i = 0; i < 4; i++) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(h->db, sql[i], -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, upto);
			rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlite3_extended_errcode(h->db);
		}
		if (i == 3 && rc == 0)
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
	int64_t upto =
	    query_i64(h->db, "SELECT max(id) FROM flows WHERE retired_ns < ?", cutoff, &rc);
	if (rc == 0 && upto > 0)
		rc = delete_upto(h, upto);
	if (rc == 0) {
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(h->db,
		    "DELETE FROM anomalies WHERE flow_id IS NULL AND"
		    " written_ns < ?",
		    -1, &st, NULL);
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
	h->last_housekeep = history_mono_ns();
	if (h->db != NULL) {
		int rc = sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL);
		if (rc == 0)
			rc = retain_age(h, log_wall_ns());
		if (rc == 0)
			rc = retain_size(h);
		if (rc == 0)
			rc = sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
		if (rc == 0) /* give freed pages back, so that the file shrinks too */
			rc = sqlite3_exec(
			    h->db, "PRAGMA incremental_vacuum(4096)", NULL, NULL, NULL);
		if (rc != 0)
			failed(h, "retention", sqlite3_extended_errcode(h->db));
	} else if (history_mono_ns() - h->last_open_try >= HIST_REOPEN_NS) {
		open_db(h);
	}
	measure(h);
}

void *history_write_thread(void *arg)
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
		if (asked || history_mono_ns() - h->last_housekeep >= HIST_HOUSEKEEP_NS)
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
