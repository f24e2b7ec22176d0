/*
 * history_int: what history.c (the engine-thread half and the lifecycle) and
 * history_write.c (the writer thread: SQL, retention, recovery) share. Not a public
 * header: the module's API is history.h.
 *
 * Fields of struct history are grouped by the thread that owns them; the queue is
 * under `mu`, the counters are atomics (any thread).
 */
#ifndef CHOREOSCOPE_HISTORY_INT_H
#define CHOREOSCOPE_HISTORY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "lib/jbuf.h"
#include "out/evlog.h"
#include "state/history.h"

#define HIST_MAX_EVENTS 256 /* events kept per flow timeline (as the API shows) */
#define HIST_MAX_KEYS 64    /* linked keys stored per flow at most (beyond: not searchable) */
#define HIST_BATCH 2048     /* items per transaction at most */
#define HIST_REOPEN_NS ((int64_t)5 * 1000000000)
#define HIST_HOUSEKEEP_NS ((int64_t)1000000000)
#define HIST_NO_OFF UINT32_MAX
#define HIST_WRITER_NICE 10 /* under CPU contention the engine thread goes first */

enum { IT_FLOW, IT_ANOMALY };

struct hev {
	uint32_t event_id, type, source, topic, attrs; /* offsets into the item's strings */
	uint32_t key; /* the linked key it arrived under, HIST_NO_OFF: the correlation id */
	int32_t partition;
	int64_t time_ns, arrival_ns, offset;
};

struct hitem {
	int type, flow;
	int64_t enq_ns;         /* monotonic, for the lag */
	uint32_t corr, outcome; /* string offsets (outcome: flows only) */
	/* flows */
	int64_t opened_ns, closed_ns, clock_ns;
	uint32_t events, kinds;
	fg_mask awaiting, stalled;
	int last_step, nsteps, nev;
	uint32_t keys; /* offset of nkeys consecutive strings: the linked keys */
	int nkeys;
	struct engine_step_view *steps; /* NULL when the engine gave none */
	struct hev *evs;
	/* anomalies */
	int kind, step;
	int64_t at_ns;
	char *str; /* the strings */
};

struct history;

struct history {
	struct history_opts o;
	const struct flowgraph *g;
	const struct log *lg;
	char path[4096];
	/* engine thread */
	struct evlog *ring;         /* ours, or NULL when shared */
	const struct evlog *shared; /* the API's ring (history_share_ring), or NULL */
	struct jbuf scratch;        /* the strings of the item being built */
	struct hev evs[HIST_MAX_EVENTS];
	struct engine_step_view steps[FG_MAX_STEPS];
	int nev, nsteps_got;
	fg_mask got_stalled;
	uint32_t got_kinds;
	int got_last;
	int64_t want_opened;
	/* the retiring instance's keys: [0] its correlation id, then its linked ones
	 * (copied into lkbuf: the scratch moves as it grows) */
	const char *lk[HIST_MAX_KEYS + 1];
	int nlk;
	char lkbuf[8192];
	size_t lkused;
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
	sqlite3_stmt *ins_flow, *ins_ev, *ins_an, *link_an, *ins_key;
	int64_t last_open_try, last_housekeep;
	struct log_limit err_limit;
	struct jbuf wbuf;
	/* any thread */
	_Atomic uint64_t writes, drops, errors, recreated, bytes, deleted;
	_Atomic int64_t oldest_enq_ns;
};

/* The writer thread's body (history_write.c); arg = the history. */
void *history_write_thread(void *arg);
/* Monotonic clock, ns. */
int64_t history_mono_ns(void);

#endif
