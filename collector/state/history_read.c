/*
 * history_read: see history_read.h. Queries are built from fixed fragments with
 * bound parameters only (no value is ever spliced into SQL). A lookup by correlation
 * id uses flows_corr, and so does a contains search (a scan of that index, ~8x
 * smaller than the table); a lookup by key (a timeline, key=) unions flows_corr with
 * flow_keys_value (linked keys) and fetches the flows by id; a list without either walks flows by id, newest first, so
 * a page costs its offset + limit rows plus the (capped) count.
 */
#include "state/history_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "state/history.h"

struct history_reader {
	sqlite3 *db;
	sqlite3_stmt *evs, *ans, *keys;
};

static int fail(struct history_reader *r, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "history %s: %s", what, r->db ? sqlite3_errmsg(r->db) : "no store");
	return -1;
}

int history_read_open(const char *dir, struct history_reader **out, char *err, size_t errlen)
{
	char path[4200];
	*out = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, HISTORY_FILE);
	struct history_reader *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "no history store at %s: %s", path, sqlite3_errstr(rc));
		history_read_close(r);
		return -1;
	}
	sqlite3_busy_timeout(r->db, 1000);
	sqlite3_stmt *st = NULL;
	int ver = -1;
	if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ver != HISTORY_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: %s", path,
		    ver < 0 ? sqlite3_errmsg(r->db)
			: ver == 1
			? "schema version 1: the collector migrates it when it next opens the store"
			: "not a history store of this version");
		history_read_close(r);
		return -1;
	}
	if (sqlite3_prepare_v2(r->db,
		"SELECT event_id,type,source,time_ns,arrival_ns,topic,"
		"partition,offset,attributes,key FROM events WHERE flow_id=? ORDER BY seq",
		-1, &r->evs, NULL) ||
	    sqlite3_prepare_v2(
		r->db, "SELECT key_value FROM flow_keys WHERE flow_id=?", -1, &r->keys, NULL) ||
	    sqlite3_prepare_v2(r->db,
		"SELECT kind,step,at_ns FROM anomalies WHERE flow_id=?"
		" ORDER BY id",
		-1, &r->ans, NULL)) {
		fail(r, "open", err, errlen);
		history_read_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

void history_read_close(struct history_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->evs);
	sqlite3_finalize(r->ans);
	sqlite3_finalize(r->keys);
	sqlite3_close(r->db);
	free(r);
}

/* ---- building a filtered query --------------------------------------------------- */

#define COLS \
	"id,flow,correlation_id,outcome,opened_ns,closed_ns,events,anomalies,awaiting," \
	"stalled,last_step,last_source,steps,retired_ns"
enum {
	C_ID,
	C_FLOW,
	C_CORR,
	C_OUTCOME,
	C_OPENED,
	C_CLOSED,
	C_EVENTS,
	C_ANOMALIES,
	C_AWAITING,
	C_STALLED,
	C_LAST_STEP,
	C_LAST_SOURCE,
	C_STEPS,
	C_RETIRED
};

/* WHERE clause of q into sql, bound by bind_where in the same order. */
static void where(const struct history_query *q, char *sql, size_t len)
{
	snprintf(sql + strlen(sql), len - strlen(sql), " WHERE 1");
	if (q->flow)
		snprintf(sql + strlen(sql), len - strlen(sql), " AND flow=?");
	if (q->correlation_id)
		snprintf(sql + strlen(sql), len - strlen(sql), " AND correlation_id=?");
	if (q->key) /* two index lookups: flows_corr and flow_keys_value */
		snprintf(sql + strlen(sql), len - strlen(sql),
		    " AND id IN (SELECT id FROM flows WHERE correlation_id=?"
		    " UNION SELECT flow_id FROM flow_keys WHERE key_value=?)");
	if (q->contains) /* scans the (small) correlation-id index, not the table; or a
			  * linked key equal to it (one index lookup): q= as live */
		snprintf(sql + strlen(sql), len - strlen(sql),
		    " AND id IN (SELECT id FROM flows"
		    " INDEXED BY flows_corr WHERE instr(correlation_id,?)>0"
		    " UNION SELECT flow_id FROM flow_keys WHERE key_value=?)");
	if (q->outcome)
		snprintf(sql + strlen(sql), len - strlen(sql), " AND outcome=?");
	if (q->kind) /* anomalies is a JSON array of names: match the quoted name */
		snprintf(sql + strlen(sql), len - strlen(sql), " AND instr(anomalies,?)>0");
	if (q->awaiting) /* as live: awaited (open, evicted), or stalled when it closed */
		snprintf(sql + strlen(sql), len - strlen(sql),
		    " AND (instr(awaiting,?)>0 OR instr(stalled,?)>0)");
	if (q->since_ns != INT64_MIN)
		snprintf(sql + strlen(sql), len - strlen(sql), " AND ended_ns>=?");
	if (q->until_ns != INT64_MAX)
		snprintf(sql + strlen(sql), len - strlen(sql), " AND ended_ns<?");
}

static int bind_where(sqlite3_stmt *st, const struct history_query *q, char *quoted, size_t qlen)
{
	int i = 1;
	if (q->flow)
		sqlite3_bind_text(st, i++, q->flow, -1, SQLITE_TRANSIENT);
	if (q->correlation_id)
		sqlite3_bind_text(st, i++, q->correlation_id, -1, SQLITE_TRANSIENT);
	if (q->key) {
		sqlite3_bind_text(st, i++, q->key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, i++, q->key, -1, SQLITE_TRANSIENT);
	}
	if (q->contains) {
		sqlite3_bind_text(st, i++, q->contains, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, i++, q->contains, -1, SQLITE_TRANSIENT);
	}
	if (q->outcome)
		sqlite3_bind_text(st, i++, q->outcome, -1, SQLITE_TRANSIENT);
	if (q->kind) {
		snprintf(quoted, qlen, "\"%s\"", q->kind);
		sqlite3_bind_text(st, i++, quoted, -1, SQLITE_TRANSIENT);
	}
	if (q->awaiting) {
		snprintf(quoted, qlen, "\"%s\"", q->awaiting);
		sqlite3_bind_text(st, i++, quoted, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, i++, quoted, -1, SQLITE_TRANSIENT);
	}
	if (q->since_ns != INT64_MIN)
		sqlite3_bind_int64(st, i++, q->since_ns);
	if (q->until_ns != INT64_MAX)
		sqlite3_bind_int64(st, i++, q->until_ns);
	return i;
}

static sqlite3_stmt *page_stmt(struct history_reader *r, const struct history_query *q)
{
	char sql[1024] = "SELECT " COLS " FROM flows", quoted[600];
	sqlite3_stmt *st = NULL;
	where(q, sql, sizeof sql);
	snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " ORDER BY id DESC LIMIT ? OFFSET ?");
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	int i = bind_where(st, q, quoted, sizeof quoted);
	sqlite3_bind_int(st, i++, q->limit > 0 ? q->limit : 100);
	sqlite3_bind_int(st, i, q->offset > 0 ? q->offset : 0);
	return st;
}

static const char *col(sqlite3_stmt *st, int c) { return (const char *)sqlite3_column_text(st, c); }

static void put_raw(struct jbuf *b, const char *json, const char *fallback)
{
	jbuf_puts(b, json ? json : fallback);
}

static void put_time_col(struct jbuf *b, sqlite3_stmt *st, int c)
{
	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		jbuf_puts(b, "null");
	else
		jbuf_json_time(b, sqlite3_column_int64(st, c));
}

/* The list item of docs/API.md for the row st is on. */
static void render_item(struct jbuf *b, sqlite3_stmt *st, int64_t now_ns)
{
	jbuf_puts(b, "{\"flow\":");
	jbuf_json_str(b, col(st, C_FLOW));
	jbuf_puts(b, ",\"correlation_id\":");
	jbuf_json_str(b, col(st, C_CORR));
	jbuf_puts(b, ",\"state\":");
	jbuf_json_str(b, col(st, C_OUTCOME));
	jbuf_puts(b, ",\"outcome\":");
	jbuf_json_str(b, col(st, C_OUTCOME));
	jbuf_puts(b, ",\"opened\":");
	put_time_col(b, st, C_OPENED);
	jbuf_puts(b, ",\"closed\":");
	put_time_col(b, st, C_CLOSED);
	jbuf_puts(b, ",\"age_seconds\":");
	jbuf_json_seconds(b, now_ns - sqlite3_column_int64(st, C_OPENED));
	jbuf_printf(
	    b, ",\"events\":%lld,\"awaiting\":", (long long)sqlite3_column_int64(st, C_EVENTS));
	put_raw(b, col(st, C_AWAITING), "[]");
	/* stalled names become the live list's objects; their deadlines are in `steps` */
	jbuf_puts(b, ",\"stalled\":[");
	const char *s = col(st, C_STALLED);
	int k = 0;
	for (const char *p = s ? strchr(s, '"') : NULL; p;) {
		const char *e = strchr(p + 1, '"');
		if (e == NULL)
			break;
		jbuf_puts(b, k++ ? ",{\"step\":" : "{\"step\":");
		jbuf_put(b, p, (size_t)(e - p + 1));
		jbuf_puts(b, "}");
		p = strchr(e + 1, '"');
	}
	jbuf_puts(b, "],\"anomalies\":");
	put_raw(b, col(st, C_ANOMALIES), "[]");
	jbuf_puts(b, ",\"last_source\":");
	jbuf_json_str(b, col(st, C_LAST_SOURCE));
	jbuf_puts(b, ",\"last_step\":");
	jbuf_json_str(b, col(st, C_LAST_STEP));
	jbuf_puts(b, ",\"stored\":true}");
}

static uint64_t count_matches(struct history_reader *r, const struct history_query *q)
{
	char sql[1024] = "SELECT count(*) FROM (SELECT 1 FROM flows", quoted[600];
	sqlite3_stmt *st = NULL;
	uint64_t n = 0;
	where(q, sql, sizeof sql);
	snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " LIMIT %d)", HISTORY_READ_MAX_TOTAL);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	bind_where(st, q, quoted, sizeof quoted);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int history_read_list(struct history_reader *r, const struct history_query *q, int64_t now_ns,
    struct jbuf *b, uint64_t *total, int *n, char *err, size_t errlen)
{
	*n = 0;
	*total = count_matches(r, q);
	sqlite3_stmt *st = page_stmt(r, q);
	if (st == NULL)
		return fail(r, "list", err, errlen);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((*n)++)
			jbuf_puts(b, ",");
		render_item(b, st, now_ns);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(r, "list", err, errlen);
}

/* ---- one flow's document ------------------------------------------------------------ */

/* Each event's key: the linked key it arrived under, else the flow's correlation id. */
static void render_events(struct history_reader *r, int64_t id, const char *corr, struct jbuf *b)
{
	sqlite3_stmt *st = r->evs;
	sqlite3_bind_int64(st, 1, id);
	jbuf_puts(b, ",\"events\":[");
	for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
		jbuf_puts(b, i ? ",{\"event_id\":" : "{\"event_id\":");
		jbuf_json_str(b, col(st, 0));
		jbuf_puts(b, ",\"type\":");
		jbuf_json_str(b, col(st, 1));
		jbuf_puts(b, ",\"source\":");
		jbuf_json_str(b, col(st, 2));
		jbuf_puts(b, ",\"key\":");
		jbuf_json_str(b, col(st, 9) ? col(st, 9) : corr);
		jbuf_puts(b, ",\"time\":");
		jbuf_json_time(b, sqlite3_column_int64(st, 3));
		jbuf_puts(b, ",\"arrival\":");
		jbuf_json_time(b, sqlite3_column_int64(st, 4));
		jbuf_puts(b, ",\"topic\":");
		jbuf_json_str(b, col(st, 5));
		jbuf_printf(b,
		    ",\"partition\":%d,\"offset\":%lld,\"attributes\":", sqlite3_column_int(st, 6),
		    (long long)sqlite3_column_int64(st, 7));
		put_raw(b, col(st, 8), "{}");
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]");
	sqlite3_reset(st);
}

static void render_keys(struct history_reader *r, int64_t id, struct jbuf *b)
{
	sqlite3_stmt *st = r->keys;
	sqlite3_bind_int64(st, 1, id);
	jbuf_puts(b, ",\"linked_keys\":[");
	for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
		jbuf_puts(b, i ? "," : "");
		jbuf_json_str(b, col(st, 0));
	}
	jbuf_puts(b, "]");
	sqlite3_reset(st);
}

static void render_anomalies(struct history_reader *r, int64_t id, struct jbuf *b)
{
	sqlite3_stmt *st = r->ans;
	sqlite3_bind_int64(st, 1, id);
	jbuf_puts(b, ",\"anomalies\":[");
	for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
		jbuf_puts(b, i ? ",{\"kind\":" : "{\"kind\":");
		jbuf_json_str(b, col(st, 0));
		jbuf_puts(b, ",\"step\":");
		jbuf_json_str(b, col(st, 1));
		jbuf_puts(b, ",\"at\":");
		jbuf_json_time(b, sqlite3_column_int64(st, 2));
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]");
	sqlite3_reset(st);
}

/* The timeline document for the row st is on (a page statement's columns). */
static void render_doc(struct history_reader *r, sqlite3_stmt *st, struct jbuf *b)
{
	int64_t id = sqlite3_column_int64(st, C_ID);
	jbuf_puts(b, "{\"flow\":");
	jbuf_json_str(b, col(st, C_FLOW));
	jbuf_puts(b, ",\"correlation_id\":");
	jbuf_json_str(b, col(st, C_CORR));
	jbuf_puts(b, ",\"state\":");
	jbuf_json_str(b, col(st, C_OUTCOME));
	jbuf_puts(b, ",\"outcome\":");
	jbuf_json_str(b, col(st, C_OUTCOME));
	jbuf_puts(b, ",\"opened\":");
	put_time_col(b, st, C_OPENED);
	jbuf_puts(b, ",\"closed\":");
	put_time_col(b, st, C_CLOSED);
	jbuf_puts(b, ",\"duration_seconds\":");
	if (sqlite3_column_type(st, C_CLOSED) == SQLITE_NULL)
		jbuf_puts(b, "null");
	else
		jbuf_json_seconds(
		    b, sqlite3_column_int64(st, C_CLOSED) - sqlite3_column_int64(st, C_OPENED));
	render_keys(r, id, b);
	jbuf_printf(b, ",\"events_total\":%lld", (long long)sqlite3_column_int64(st, C_EVENTS));
	jbuf_puts(b, ",\"awaiting\":");
	put_raw(b, col(st, C_AWAITING), "[]");
	render_events(r, id, col(st, C_CORR), b);
	jbuf_puts(b, ",\"steps\":");
	put_raw(b, col(st, C_STEPS), "[]");
	render_anomalies(r, id, b);
	jbuf_puts(b, ",\"stored\":true,\"retired\":");
	jbuf_json_time(b, sqlite3_column_int64(st, C_RETIRED));
	jbuf_puts(b, "}");
}

int history_read_each(struct history_reader *r, const struct history_query *q,
    int (*fn)(void *arg, const char *doc, size_t len), void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st = page_stmt(r, q);
	struct jbuf b;
	int n = 0, rc;
	if (st == NULL)
		return fail(r, "query", err, errlen);
	jbuf_init(&b, (size_t)64 << 20);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jbuf_reset(&b);
		render_doc(r, st, &b);
		n++;
		if (fn(arg, b.p, b.len))
			break;
	}
	jbuf_free(&b);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(r, "query", err, errlen);
	return n;
}

struct one {
	struct jbuf *b;
};

static int take_one(void *arg, const char *doc, size_t len)
{
	struct one *o = arg;
	jbuf_put(o->b, doc, len);
	return 1;
}

int history_read_flow(struct history_reader *r, const char *flow, const char *corr, struct jbuf *b,
    char *err, size_t errlen)
{
	struct history_query q = {
		.flow = flow, .key = corr, .since_ns = INT64_MIN, .until_ns = INT64_MAX, .limit = 1
	};
	struct one o = { b };
	int n = history_read_each(r, &q, take_one, &o, err, errlen);
	return n < 0 ? -1 : n > 0;
}
