/*
 * history_bench: a history store of TOTAL (default 10,000,000) retired flows, and
 * lookups in it on a read-only connection (the API's and `choreoscope history`'s
 * path): by correlation id, and by linked key (a payment id).
 *
 * 1. Real fill: flows go through the real engine and writer for about SECONDS
 *    (default 20) of wall time: the bench flow (bench/flows.yaml) with its payment id
 *    declared a linked key, 5 events each with one attribute (Paid also carries the
 *    payment id), event times 1 ms apart, so each completes and retires while the next
 *    ones run. The producer waits for the writer every 20,000 flows (history_sync), so
 *    nothing is dropped and the figure is the writer's sustained rate.
 * 2. Bulk fill up to TOTAL: the writer sustains ~35,000 flows/s, so 10 million would
 *    take five minutes; the rest are copied from the last flow the writer stored (its
 *    flow row, events and linked key, with new ids, keys and times) into the same file
 *    and schema with prepared statements in one transaction, journal off (the file's
 *    WAL mode is restored after). Ids and keys ascend, as the writer's ids do.
 * 3. Lookups: 10,000 each, drawn uniformly over all TOTAL flows: a full timeline
 *    document (flow row, events, linked keys, anomalies) by correlation id and by
 *    payment id (history_read_flow), and a list page by key= (history_read_list).
 *
 *   build/release/bench/history_bench DIR [SECONDS] [TOTAL]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "config/config.h"
#include "engine/engine.h"
#include "lib/jbuf.h"
#include "state/history.h"
#include "state/history_read.h"

static const char *STEPS[5] = { "Placed", "Paid", "Reserved", "Shipped", "Delivered" };

/* bench/flows.yaml's flow, plus its linked key */
static const char *CONFIG = "flows:\n"
			    "  - name: bench\n"
			    "    deadline: 10m\n"
			    "    keys: [payment_id]\n"
			    "    steps:\n"
			    "      Placed:    { start: true }\n"
			    "      Paid:      { after: [Placed], within: 60s }\n"
			    "      Reserved:  { after: [Paid], within: 60s }\n"
			    "      Shipped:   { after: [Reserved], within: 60s }\n"
			    "      Delivered: { after: [Shipped], within: 60s, end: completed }\n"
			    "limits:\n"
			    "  max_flows: 4000000\n";
#define LOOKUPS 10000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static long fill(const char *dir, double seconds, struct config *cfg, struct history_stats *st)
{
	char err[4096];
	struct history *h;
	struct engine *e;
	struct log lg = { .level = LOG_LVL_WARN };
	const struct history_opts ho = { .dir = dir,
		.queue_len = 65536,
		.max_attr_bytes = 4096,
		.timeline_bytes = (size_t)32 << 20 };
	if (history_new(&ho, &cfg->graph, &lg, &h, err, sizeof err) < 0) {
		fprintf(stderr, "history_bench: %s\n", err);
		exit(1);
	}
	struct engine_sink sink;
	history_sink(h, &sink);
	const struct engine_opts eo = { ENGINE_CLOCK_EVENTS, 0 };
	if (engine_new(&cfg->graph, &eo, &sink, &e, err, sizeof err) < 0) {
		fprintf(stderr, "history_bench: %s\n", err);
		exit(1);
	}
	history_attach_engine(h, e);
	double t0 = now_s();
	int64_t t = INT64_C(1767225600000000000);
	long i = 0;
	char id[64], corr[48], amount[48], pay[48];
	struct ev_attr attrs[2] = { { "amount", amount }, { "payment_id", pay } };
	for (; now_s() - t0 < seconds; i++) {
		snprintf(corr, sizeof corr, "c%09ld", i);
		snprintf(pay, sizeof pay, "p%09ld", i);
		snprintf(amount, sizeof amount, "%ld.%02ld", i % 1000, i % 100);
		for (int k = 0; k < 5; k++) {
			snprintf(id, sizeof id, "%s-%d", corr, k);
			struct event ev = { .event_id = id,
				.correlation_id = corr,
				.type = STEPS[k],
				.source = "bench",
				.causation_id = "",
				.time_ns = t,
				.attrs = attrs,
				.nattrs = k == 1 ? 2 : 1,
				.topic = "events",
				.partition = (int32_t)(i % 64),
				.offset = i };
			t += 1000000;
			history_event(h, &ev);
			engine_apply(e, &ev);
		}
		if (i % 20000 == 19999)
			history_sync(h);
	}
	engine_finish(e);
	history_sync(h);
	double dt = now_s() - t0;
	history_stats(h, st);
	engine_free(e);
	history_free(h);
	printf("history_bench: flows=%ld seconds=%.1f flows_per_second=%.0f written=%llu "
	       "dropped=%llu errors=%llu\n",
	    i, dt, (double)i / dt, (unsigned long long)st->writes, (unsigned long long)st->drops,
	    (unsigned long long)st->errors);
	return i;
}

static void die_sql(sqlite3 *db, const char *what)
{
	fprintf(stderr, "history_bench: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die_sql(db, sql);
}

#define TMPL_EVENTS 16
#define FLOW_COLS 15
struct tmpl {
	long index; /* the template's number (its correlation id is c%09ld of it) */
	sqlite3_value *flow[FLOW_COLS];
	int nev;
	sqlite3_value *ev[TMPL_EVENTS][11];
};

/* The last flow the writer stored: its row and events, as values to bind again. */
static void read_template(sqlite3 *db, struct tmpl *t)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
		"SELECT flow,outcome,opened_ns,closed_ns,ended_ns,retired_ns,events,kinds,"
		"anomalies,awaiting,stalled,last_step,last_source,steps,clock_ns,"
		"correlation_id,id FROM flows ORDER BY id DESC LIMIT 1",
		-1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW)
		die_sql(db, "template flow");
	for (int c = 0; c < FLOW_COLS; c++)
		t->flow[c] = sqlite3_value_dup(sqlite3_column_value(st, c));
	t->index = atol((const char *)sqlite3_column_text(st, 15) + 1);
	int64_t id = sqlite3_column_int64(st, 16);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db,
		"SELECT seq,event_id,type,source,time_ns,arrival_ns,topic,partition,offset,"
		"attributes,key FROM events WHERE flow_id=? ORDER BY seq",
		-1, &st, NULL))
		die_sql(db, "template events");
	sqlite3_bind_int64(st, 1, id);
	for (t->nev = 0; t->nev < TMPL_EVENTS && sqlite3_step(st) == SQLITE_ROW; t->nev++)
		for (int c = 0; c < 11; c++)
			t->ev[t->nev][c] = sqlite3_value_dup(sqlite3_column_value(st, c));
	sqlite3_finalize(st);
}

/* s with every occurrence of `from` replaced by `to` (same length), into out. */
static const char *subst(const char *s, const char *from, const char *to, char *out, size_t len)
{
	snprintf(out, len, "%s", s);
	size_t n = strlen(from);
	for (char *p = out; (p = strstr(p, from)) != NULL; p += n)
		memcpy(p, to, n);
	return out;
}

static void bind_shifted(sqlite3_stmt *st, int i, sqlite3_value *v, int64_t dt)
{
	if (sqlite3_value_type(v) == SQLITE_NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, sqlite3_value_int64(v) + dt);
}

static void step_reset(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die_sql(db, "bulk insert");
	sqlite3_reset(st);
}

/* Flows from..total-1, copied from the template with their own ids, keys and times. */
static void bulk_fill(sqlite3 *db, const struct tmpl *t, long from, long total)
{
	sqlite3_stmt *fl, *ev, *key;
	if (sqlite3_prepare_v2(db,
		"INSERT INTO flows(flow,outcome,opened_ns,closed_ns,ended_ns,retired_ns,events,"
		"kinds,anomalies,awaiting,stalled,last_step,last_source,steps,clock_ns,"
		"correlation_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		-1, &fl, NULL) ||
	    sqlite3_prepare_v2(db,
		"INSERT INTO events(flow_id,seq,event_id,type,source,time_ns,arrival_ns,topic,"
		"partition,offset,attributes,key) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
		-1, &ev, NULL) ||
	    sqlite3_prepare_v2(
		db, "INSERT INTO flow_keys(flow_id,key_value) VALUES(?,?)", -1, &key, NULL))
		die_sql(db, "bulk prepare");
	char tcorr[48], tpay[48], corr[48], pay[48], eid[128], attrs[4096];
	snprintf(tcorr, sizeof tcorr, "c%09ld", t->index);
	snprintf(tpay, sizeof tpay, "p%09ld", t->index);
	for (long j = from; j < total; j++) {
		int64_t dt = (int64_t)(j - t->index) * 5 * 1000000; /* 5 events 1 ms apart */
		snprintf(corr, sizeof corr, "c%09ld", j);
		snprintf(pay, sizeof pay, "p%09ld", j);
		for (int c = 0; c < FLOW_COLS; c++) {
			if ((c >= 2 && c <= 4) || c == 14) /* opened, closed, ended; clock */
				bind_shifted(fl, c + 1, t->flow[c], dt);
			else
				sqlite3_bind_value(fl, c + 1, t->flow[c]);
		}
		sqlite3_bind_text(fl, 16, corr, -1, SQLITE_STATIC);
		step_reset(db, fl);
		sqlite3_int64 id = sqlite3_last_insert_rowid(db);
		for (int e = 0; e < t->nev; e++) {
			sqlite3_value *const *v = t->ev[e];
			sqlite3_bind_int64(ev, 1, id);
			sqlite3_bind_value(ev, 2, v[0]);
			sqlite3_bind_text(ev, 3,
			    subst((const char *)sqlite3_value_text(v[1]), tcorr, corr, eid,
				sizeof eid),
			    -1, SQLITE_STATIC);
			for (int c = 2; c <= 8; c++)
				if (c == 4)
					bind_shifted(ev, c + 2, v[c], dt);
				else
					sqlite3_bind_value(ev, c + 2, v[c]);
			sqlite3_bind_text(ev, 11,
			    subst((const char *)sqlite3_value_text(v[9]), tpay, pay, attrs,
				sizeof attrs),
			    -1, SQLITE_STATIC);
			sqlite3_bind_value(ev, 12, v[10]);
			step_reset(db, ev);
		}
		sqlite3_bind_int64(key, 1, id);
		sqlite3_bind_text(key, 2, pay, -1, SQLITE_STATIC);
		step_reset(db, key);
	}
	sqlite3_finalize(fl);
	sqlite3_finalize(ev);
	sqlite3_finalize(key);
}

static void bulk(const char *dir, long from, long total)
{
	char path[4200];
	sqlite3 *db;
	struct tmpl t;
	snprintf(path, sizeof path, "%s/%s", dir, HISTORY_FILE);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die_sql(db, path);
	read_template(db, &t);
	double t0 = now_s();
	/* the file grows in 64 MiB steps, not a page at a time */
	int chunk = 64 << 20;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
	exec_sql(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
	exec_sql(db, "BEGIN");
	bulk_fill(db, &t, from, total);
	exec_sql(db, "COMMIT");
	exec_sql(db, "PRAGMA journal_mode=WAL");
	double dt = now_s() - t0;
	for (int c = 0; c < FLOW_COLS; c++)
		sqlite3_value_free(t.flow[c]);
	for (int e = 0; e < t.nev; e++)
		for (int c = 0; c < 11; c++)
			sqlite3_value_free(t.ev[e][c]);
	sqlite3_close(db);
	printf("history_bench: bulk flows=%ld seconds=%.1f flows_per_second=%.0f\n", total - from,
	    dt, (double)(total - from) / (dt > 0 ? dt : 1));
}

enum { BY_CORR, BY_KEY, LIST_KEY };

/* 10,000 lookups of one kind over flows 0..n-1; prints p50/p99/max. 0 when all found. */
static int lookups(struct history_reader *r, int kind, long n)
{
	static const char *const names[3] = { "timeline_by_correlation_id",
		"timeline_by_payment_id", "list_by_key" };
	static double lat[LOOKUPS];
	char err[4096], v[48];
	struct jbuf b;
	jbuf_init(&b, (size_t)16 << 20);
	srand(1 + kind);
	int found = 0;
	for (int k = 0; k < LOOKUPS; k++) {
		long i = (long)(((double)rand() / ((double)RAND_MAX + 1)) * (double)n);
		snprintf(v, sizeof v, "%c%09ld", kind == BY_CORR ? 'c' : 'p', i);
		jbuf_reset(&b);
		double t0 = now_s();
		if (kind == LIST_KEY) {
			struct history_query q = {
				.key = v, .since_ns = INT64_MIN, .until_ns = INT64_MAX, .limit = 10
			};
			uint64_t total;
			int got;
			found +=
			    history_read_list(r, &q, 0, &b, &total, &got, err, sizeof err) == 0 &&
			    total == 1;
		} else {
			found += history_read_flow(r, "bench", v, &b, err, sizeof err) == 1;
		}
		lat[k] = (now_s() - t0) * 1e3;
	}
	qsort(lat, LOOKUPS, sizeof lat[0], cmp_d);
	printf("history_bench: %s lookups=%d found=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	    names[kind], LOOKUPS, found, lat[LOOKUPS / 2], lat[LOOKUPS * 99 / 100],
	    lat[LOOKUPS - 1]);
	jbuf_free(&b);
	return found == LOOKUPS ? 0 : 1;
}

static long file_bytes(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, HISTORY_FILE);
	FILE *f = fopen(path, "rb");
	long bytes = 0;
	if (f && fseek(f, 0, SEEK_END) == 0)
		bytes = ftell(f);
	if (f)
		fclose(f);
	return bytes;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: history_bench DIR [SECONDS] [TOTAL]\n");
		return 2;
	}
	const char *dir = argv[1];
	double seconds = argc > 2 ? atof(argv[2]) : 20;
	long total = argc > 3 ? atol(argv[3]) : 10000000;
	char err[4096];
	struct config *cfg = NULL;
	if (config_load_string(
		"history_bench.yaml", CONFIG, strlen(CONFIG), &cfg, err, sizeof err)) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	struct history_stats st;
	long n = fill(dir, seconds, cfg, &st);
	long bytes = file_bytes(dir);
	printf("history_bench: bytes=%ld bytes_per_flow=%.0f\n", bytes,
	    st.writes ? (double)bytes / (double)st.writes : 0.0);
	if (total > n)
		bulk(dir, n, total);
	else
		total = n;
	bytes = file_bytes(dir);
	printf("history_bench: stored=%ld bytes=%ld bytes_per_flow=%.0f\n", total, bytes,
	    (double)bytes / (double)total);

	struct history_reader *r;
	if (history_read_open(dir, &r, err, sizeof err) < 0) {
		fprintf(stderr, "history_bench: %s\n", err);
		return 1;
	}
	int rc =
	    lookups(r, BY_CORR, total) | lookups(r, BY_KEY, total) | lookups(r, LIST_KEY, total);
	history_read_close(r);
	config_free(cfg);
	return rc;
}
