/*
 * snapshot: published documents, the anomaly ring and the engine query queue.
 * See snapshot.h for the model. One mutex guards documents, ring and queue: every
 * critical section is a pointer swap, a memcpy or a list operation, never rendering
 * or a flow-table walk, so HTTP threads cannot stall the engine thread for long.
 */
#include "http/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { Q_QUEUED = 1, Q_RUNNING, Q_DONE };

struct snapshot {
	pthread_mutex_t mu;
	pthread_cond_t done;
	struct jbuf docs[SNAP__NDOCS];
	bool have[SNAP__NDOCS];
	size_t *ends[SNAP__NDOCS]; /* paged documents: [nparts + 1], head end first */
	int nparts[SNAP__NDOCS], capends[SNAP__NDOCS];
	bool ready;
	char reason[128];
	struct snap_anomaly ring[SNAP_RING];
	uint64_t nring; /* total pushed; slot = n % SNAP_RING */
	struct snap_query *head, *tail;
	int npending;
	atomic_int pending_hint; /* npending, readable without the lock */
};

int snapshot_new(struct snapshot **out, char *err, size_t errlen)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->done, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(s->reason, sizeof(s->reason), "starting");
	*out = s;
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	for (int d = 0; d < SNAP__NDOCS; d++) {
		jbuf_free(&s->docs[d]);
		free(s->ends[d]);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->done);
	free(s);
}

void snapshot_publish(struct snapshot *s, enum snap_doc d, struct jbuf *b)
{
	pthread_mutex_lock(&s->mu);
	struct jbuf old = s->docs[d];
	s->docs[d] = *b;
	s->have[d] = true;
	pthread_mutex_unlock(&s->mu);
	*b = old;
	if (b->max == 0)
		b->max = s->docs[d].max;
	jbuf_reset(b);
}

int snapshot_copy(struct snapshot *s, enum snap_doc d, struct jbuf *out)
{
	int rc = -1;
	pthread_mutex_lock(&s->mu);
	if (s->have[d]) {
		jbuf_put(out, s->docs[d].p ? s->docs[d].p : "", s->docs[d].len);
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void snapshot_publish_parts(
    struct snapshot *s, enum snap_doc d, struct jbuf *b, const size_t *ends, int n)
{
	/* sized before taking the lock: the copy under it is a memcpy */
	size_t *grown = NULL;
	pthread_mutex_lock(&s->mu);
	int cap = s->capends[d];
	pthread_mutex_unlock(&s->mu);
	if (n + 1 > cap && (grown = malloc(sizeof(*grown) * (size_t)(n + 1))) == NULL)
		n = -1; /* out of memory: published without parts */
	pthread_mutex_lock(&s->mu);
	if (grown != NULL) {
		free(s->ends[d]);
		s->ends[d] = grown;
		s->capends[d] = n + 1;
	}
	if (n >= 0)
		memcpy(s->ends[d], ends, sizeof(*ends) * (size_t)(n + 1));
	s->nparts[d] = n;
	pthread_mutex_unlock(&s->mu);
	snapshot_publish(s, d, b);
}

int snapshot_copy_parts(struct snapshot *s, enum snap_doc d, int first, int count,
    struct jbuf *head, struct jbuf *parts, int *n)
{
	int rc = -1;
	pthread_mutex_lock(&s->mu);
	if (s->have[d] && s->nparts[d] >= 0 && s->ends[d] != NULL) {
		const char *p = s->docs[d].p ? s->docs[d].p : "";
		const size_t *e = s->ends[d];
		int np = s->nparts[d];
		jbuf_put(head, p, e[0]);
		int from = first < 0 ? 0 : first;
		for (int i = from; i < np && i < first + count; i++) {
			if (i > from)
				jbuf_put(parts, ",", 1);
			jbuf_put(parts, p + e[i], e[i + 1] - e[i]);
		}
		*n = np;
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void snapshot_set_ready(struct snapshot *s, bool ready, const char *reason)
{
	pthread_mutex_lock(&s->mu);
	s->ready = ready;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
	pthread_mutex_unlock(&s->mu);
}

bool snapshot_ready(struct snapshot *s, char *reason, size_t len)
{
	pthread_mutex_lock(&s->mu);
	bool r = s->ready;
	if (reason != NULL)
		snprintf(reason, len, "%s", s->reason);
	pthread_mutex_unlock(&s->mu);
	return r;
}

void snapshot_anomaly(struct snapshot *s, const struct snap_anomaly *a)
{
	pthread_mutex_lock(&s->mu);
	s->ring[s->nring % SNAP_RING] = *a;
	s->nring++;
	pthread_mutex_unlock(&s->mu);
}

int snapshot_anomalies(struct snapshot *s, int flow, int kind, struct snap_anomaly *out, int max)
{
	int n = 0;
	pthread_mutex_lock(&s->mu);
	uint64_t have = s->nring < SNAP_RING ? s->nring : SNAP_RING;
	for (uint64_t i = 0; i < have && n < max; i++) {
		const struct snap_anomaly *a = &s->ring[(s->nring - 1 - i) % SNAP_RING];
		if ((flow < 0 || a->flow == flow) && (kind < 0 || a->kind == kind))
			out[n++] = *a;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

int snapshot_anomalies_of(
    struct snapshot *s, int flow, const char *corr, struct snap_anomaly *out, int max)
{
	int n = 0;
	pthread_mutex_lock(&s->mu);
	uint64_t have = s->nring < SNAP_RING ? s->nring : SNAP_RING;
	for (uint64_t i = 0; i < have && n < max; i++) {
		const struct snap_anomaly *a = &s->ring[(s->nring - 1 - i) % SNAP_RING];
		if (a->flow == flow && strncmp(a->correlation_id, corr, SNAP_STR - 1) == 0)
			out[n++] = *a;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void unlink_query(struct snapshot *s, struct snap_query *q)
{
	struct snap_query **pp = &s->head, *prev = NULL;
	while (*pp && *pp != q) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = q->next;
	if (s->tail == q)
		s->tail = prev;
	s->npending--;
	atomic_store(&s->pending_hint, s->npending);
}

int snapshot_ask(struct snapshot *s, struct snap_query *q, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	if (s->npending >= SNAP_MAX_PENDING) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	q->state = Q_QUEUED;
	q->next = NULL;
	if (s->tail)
		s->tail->next = q;
	else
		s->head = q;
	s->tail = q;
	s->npending++;
	atomic_store(&s->pending_hint, s->npending);
	int rc = 0;
	while (q->state != Q_DONE) {
		int w = pthread_cond_timedwait(&s->done, &s->mu, &until);
		if (w == ETIMEDOUT && q->state == Q_QUEUED) {
			unlink_query(s, q);
			rc = -1;
			break;
		}
		/* RUNNING past the timeout: the engine is answering; wait for it. */
		if (w == ETIMEDOUT)
			until.tv_sec += 1;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int snapshot_pending(struct snapshot *s)
{
	return atomic_load_explicit(&s->pending_hint, memory_order_relaxed);
}

int snapshot_serve(struct snapshot *s, snap_answer_fn fn, void *ctx, int max)
{
	int n = 0;
	if (atomic_load_explicit(&s->pending_hint, memory_order_relaxed) == 0)
		return 0;
	while (n < max) {
		pthread_mutex_lock(&s->mu);
		struct snap_query *q = s->head;
		if (q != NULL) {
			unlink_query(s, q);
			q->state = Q_RUNNING;
		}
		pthread_mutex_unlock(&s->mu);
		if (q == NULL)
			break;
		fn(ctx, q); /* q->out and q->status are the asker's, untouched until DONE */
		pthread_mutex_lock(&s->mu);
		q->state = Q_DONE;
		pthread_cond_broadcast(&s->done);
		pthread_mutex_unlock(&s->mu);
		n++;
	}
	return n;
}
