/*
 * http_guard: connection table, caps, eviction and the header-deadline watchdog.
 * See http_guard.h for the policy and the threads.
 *
 * The table is a flat array of max_connections * 2 slots (libmicrohttpd's own limit
 * is the same number, so a notified connection always finds a slot); every decision
 * is a linear scan of it under the mutex. At 512 slots that is a few microseconds per
 * accepted connection, cheaper than the thread libmicrohttpd starts for it.
 */
#include "http/http_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define GUARD_TICK_MS 100

enum slot_state { SLOT_FREE, SLOT_WAIT, SLOT_BUSY, SLOT_DEAD };
enum { CUT_HEADER_TIMEOUT, CUT_EVICTED, CUT_REFUSED, CUT__COUNT };
static const char *const cut_names[CUT__COUNT] = { "header_timeout", "evicted", "refused" };

struct slot {
	enum slot_state state;
	bool api;       /* busy with an API request (counted in nbusy_api) */
	bool probation; /* admitted beyond a cap: probes only, grace time to ask */
	int fd;
	int64_t since_ns; /* SLOT_WAIT: when it began waiting for headers */
	int family;
	unsigned char addr[16];
};

struct http_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t watchdog;
	bool stop;
	unsigned max, per_addr, api_max, reserved;
	int64_t header_ns, grace_ns;
	struct slot *slots;
	unsigned nslots;
	unsigned nbusy_api;
	uint64_t cut[CUT__COUNT];
	uint64_t api_refused;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cut(struct http_guard *g, struct slot *s, int why)
{
	shutdown(s->fd, SHUT_RDWR);
	s->state = SLOT_DEAD;
	g->cut[why]++;
}

static void *watchdog_main(void *arg)
{
	struct http_guard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += GUARD_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		int64_t now = mono_ns();
		for (unsigned i = 0; i < g->nslots; i++) {
			struct slot *s = &g->slots[i];
			if (s->state == SLOT_WAIT &&
			    now - s->since_ns > (s->probation ? g->grace_ns : g->header_ns))
				cut(g, s, CUT_HEADER_TIMEOUT);
		}
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct http_guard *http_guard_new(const struct http_guard_opts *o)
{
	struct http_guard *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->max = o->max_connections ? o->max_connections : 256;
	g->per_addr = o->max_per_address ? o->max_per_address : g->max / 2;
	unsigned res = o->reserved ? o->reserved : g->max / 8;
	g->reserved = res < g->max ? res : g->max;
	g->api_max = g->max - g->reserved > 0 ? g->max - g->reserved : 1;
	g->header_ns = (int64_t)(o->header_timeout_ms > 0 ? o->header_timeout_ms : 10000) * 1000000;
	g->grace_ns = (int64_t)(o->evict_grace_ms > 0 ? o->evict_grace_ms : 1000) * 1000000;
	g->nslots = g->max * 2;
	g->slots = calloc(g->nslots, sizeof(*g->slots));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (g->slots == NULL || rc != 0) {
		free(g->slots);
		free(g);
		return NULL;
	}
	pthread_mutex_init(&g->mu, NULL);
	if (pthread_create(&g->watchdog, NULL, watchdog_main, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g->slots);
		free(g);
		return NULL;
	}
	return g;
}

void http_guard_free(struct http_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->watchdog, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g->slots);
	free(g);
}

unsigned http_guard_mhd_limit(const struct http_guard *g) { return g->nslots; }

static void set_addr(struct slot *s, const struct sockaddr *sa)
{
	memset(s->addr, 0, sizeof(s->addr));
	s->family = sa ? sa->sa_family : AF_UNSPEC;
	if (s->family == AF_INET)
		memcpy(s->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (s->family == AF_INET6)
		memcpy(s->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static bool same_addr(const struct slot *a, const struct slot *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static bool live(const struct slot *s) { return s->state == SLOT_WAIT || s->state == SLOT_BUSY; }

/* Bytes the kernel holds for s that libmicrohttpd has not read yet: a request that
 * arrived but whose thread has not run. Such a connection is asking, not idle. */
static bool has_pending(const struct slot *s)
{
	int n = 0;
	return ioctl(s->fd, FIONREAD, &n) == 0 && n > 0;
}

/* The oldest connection waiting for headers: on probation, or else one that has
 * waited at least the grace time (of n's address when `mine`); NULL when none.
 * One whose request already sits in the socket (a probe not yet scheduled on a
 * loaded machine) is taken only when every candidate has one: a flood of silent
 * connections then cuts its own members, never the probe that asked. */
static struct slot *victim(
    struct http_guard *g, const struct slot *n, bool probation, bool mine, int64_t now)
{
	struct slot *best = NULL;
	bool best_pending = false;
	for (unsigned i = 0; i < g->nslots; i++) {
		struct slot *s = &g->slots[i];
		if (s == n || s->state != SLOT_WAIT || s->probation != probation ||
		    (!probation && now - s->since_ns < g->grace_ns) || (mine && !same_addr(s, n)))
			continue;
		bool pending = has_pending(s);
		if (best == NULL || (best_pending && !pending) ||
		    (pending == best_pending && s->since_ns < best->since_ns)) {
			best = s;
			best_pending = pending;
		}
	}
	return best;
}

/* A newcomer in slot n beyond a cap evicts the oldest connection that has waited
 * for its headers at least the grace time. With none (a flood reconnects faster),
 * it is admitted on probation instead, into the reserved share: it may ask only a
 * probe (health, readiness, metrics), within the grace time; a full probation share
 * evicts its oldest member. A probe sends its request at once, so it is answered
 * even while one address floods the server with connections of its own. */
static void admit(struct http_guard *g, struct slot *n, int64_t now)
{
	unsigned total = 0, mine = 0, onprob = 0;
	for (unsigned i = 0; i < g->nslots; i++) {
		const struct slot *s = &g->slots[i];
		if (s != n && live(s)) {
			total++;
			mine += same_addr(s, n) && !s->probation;
			onprob += s->probation;
		}
	}
	total -= onprob;
	bool over_mine = mine >= g->per_addr, over_total = total >= g->max;
	if (!over_mine && !over_total)
		return;
	struct slot *v = victim(g, n, false, over_mine, now);
	if (v == NULL) {
		n->probation = true;
		if (onprob >= g->reserved && (v = victim(g, n, true, false, now)) == NULL) {
			cut(g, n, CUT_REFUSED);
			return;
		}
	}
	if (v != NULL)
		cut(g, v, CUT_EVICTED);
}

static void on_started(struct http_guard *g, struct MHD_Connection *c, void **ctx)
{
	const union MHD_ConnectionInfo *fd =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ad =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (fd == NULL)
		return;
	int64_t now = mono_ns();
	struct slot *n = NULL;
	for (unsigned i = 0; i < g->nslots && n == NULL; i++)
		if (g->slots[i].state == SLOT_FREE)
			n = &g->slots[i];
	if (n == NULL) {
		shutdown(fd->connect_fd, SHUT_RDWR);
		g->cut[CUT_REFUSED]++;
		return;
	}
	*n = (struct slot){ .state = SLOT_WAIT, .fd = fd->connect_fd, .since_ns = now };
	set_addr(n, ad ? ad->client_addr : NULL);
	*ctx = n;
	admit(g, n, now);
}

void http_guard_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_guard *g = cls;
	pthread_mutex_lock(&g->mu);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		on_started(g, c, socket_context);
	} else if (*socket_context != NULL) {
		struct slot *s = *socket_context;
		if (s->api)
			g->nbusy_api--;
		*s = (struct slot){ .state = SLOT_FREE };
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&g->mu);
}

static struct slot *slot_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

void http_guard_on_completed(
    void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)con_cls, (void)toe;
	struct http_guard *g = cls;
	pthread_mutex_lock(&g->mu);
	struct slot *s = slot_of(c);
	if (s != NULL && s->state == SLOT_BUSY) {
		if (s->api)
			g->nbusy_api--;
		s->api = false;
		s->state = SLOT_WAIT;
		s->since_ns = mono_ns();
	}
	pthread_mutex_unlock(&g->mu);
}

bool http_guard_begin(struct http_guard *g, struct MHD_Connection *c, bool probe)
{
	bool ok = true;
	pthread_mutex_lock(&g->mu);
	struct slot *s = slot_of(c);
	if (s != NULL && s->state == SLOT_WAIT) {
		s->state = SLOT_BUSY;
		if (!probe && (s->probation || g->nbusy_api >= g->api_max)) {
			g->api_refused++;
			ok = false;
		} else if (!probe) {
			s->api = true;
			g->nbusy_api++;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return ok;
}

void http_guard_render(struct http_guard *g, struct jbuf *b)
{
	unsigned wait = 0, busy = 0;
	uint64_t cuts[CUT__COUNT], api_refused;
	pthread_mutex_lock(&g->mu);
	for (unsigned i = 0; i < g->nslots; i++) {
		wait += g->slots[i].state == SLOT_WAIT;
		busy += g->slots[i].state == SLOT_BUSY;
	}
	memcpy(cuts, g->cut, sizeof(cuts));
	api_refused = g->api_refused;
	pthread_mutex_unlock(&g->mu);
	jbuf_puts(b,
	    "# HELP choreoscope_http_connections Open HTTP connections: waiting for a "
	    "request's headers, or busy answering one.\n"
	    "# TYPE choreoscope_http_connections gauge\n");
	jbuf_printf(b, "choreoscope_http_connections{state=\"waiting\"} %u\n", wait);
	jbuf_printf(b, "choreoscope_http_connections{state=\"busy\"} %u\n", busy);
	jbuf_puts(b,
	    "# HELP choreoscope_http_connections_closed_total HTTP connections the "
	    "server cut: headers not complete in time, evicted for a newcomer, or refused at "
	    "the caps.\n# TYPE choreoscope_http_connections_closed_total counter\n");
	for (int i = 0; i < CUT__COUNT; i++)
		jbuf_printf(b, "choreoscope_http_connections_closed_total{reason=\"%s\"} %llu\n",
		    cut_names[i], (unsigned long long)cuts[i]);
	jbuf_puts(b,
	    "# HELP choreoscope_http_api_refused_total API requests answered 503 "
	    "because the API held its share of connections.\n"
	    "# TYPE choreoscope_http_api_refused_total counter\n");
	jbuf_printf(
	    b, "choreoscope_http_api_refused_total %llu\n", (unsigned long long)api_refused);
}
