/*
 * model: collector state and the fetch threads. See model.h for the contract.
 *
 * Threads: the UI thread and one fetcher per collector share `struct model` under one
 * mutex. A fetcher copies the wanted pages under the lock, does its HTTP and parsing
 * without it, then swaps pointers in under the lock and frees the old ones after
 * unlocking, so the lock is held for microseconds and keys never wait on the network.
 * Timeouts: connect 1 s, whole request 3 s (a dead collector costs one interval).
 */
#include "model.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX (16u << 20) /* largest answer accepted: pages are bounded well below */

struct fetcher {
	struct model *m;
	int idx;
	pthread_t th;
	int started;
	CURL *curl;
	struct curl_slist *hdrs;
	char *body;
	size_t len, cap;
	long status;
};

struct model_priv {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	unsigned long kick;
	struct model_want want;
	char auth[300];
	struct fetcher f[MODEL_MAX_COLS];
};

double model_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void model_lock(struct model *m) { pthread_mutex_lock(&m->priv->mu); }

void model_unlock(struct model *m) { pthread_mutex_unlock(&m->priv->mu); }

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct fetcher *f = ud;
	size_t n = sz * nm;

	if (f->len + n + 1 > BODY_MAX)
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 65536;
		char *nb;
		while (cap < f->len + n + 1)
			cap *= 2;
		nb = realloc(f->body, cap);
		if (!nb)
			return 0;
		f->body = nb;
		f->cap = cap;
	}
	memcpy(f->body + f->len, p, n);
	f->len += n;
	f->body[f->len] = '\0';
	return n;
}

/* GETs base URL + path. Returns 0 on HTTP 200, -1 on transport failure (err says
 * why), -2 on another HTTP status (err has the status and the API's reason). */
static int get(struct fetcher *f, const char *path, char *err, size_t errlen)
{
	char url[1024];
	CURLcode rc;

	snprintf(url, sizeof url, "%s%s", f->m->cols[f->idx].url, path);
	f->len = 0;
	curl_easy_setopt(f->curl, CURLOPT_URL, url);
	rc = curl_easy_perform(f->curl);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->status != 200) {
		char why[200];
		api_error_text(f->body ? f->body : "", f->len, why, sizeof why);
		snprintf(err, errlen, "HTTP %ld%s%s", f->status, why[0] ? ": " : "", why);
		return -2;
	}
	return 0;
}

static int fetcher_init(struct fetcher *f, const char *auth, char *err, size_t errlen)
{
	f->curl = curl_easy_init();
	if (!f->curl) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	f->hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (auth[0])
		f->hdrs = curl_slist_append(f->hdrs, auth);
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, f->hdrs);
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(f->curl, CURLOPT_USERAGENT, "choreoscope-tui/0.1");
	curl_easy_setopt(f->curl, CURLOPT_ACCEPT_ENCODING, "");
	return 0;
}

/* One round's results, swapped into the model in one step. */
struct round {
	int fail; /* 0 ok, -1 down, -2 bad summary */
	char err[256];
	char page_err[320]; /* a page (not the summary) that failed; the view shows it */
	struct api_summary *summary;
	struct api_flowpage *stalled, *found, *history;
	struct api_anomalies *anomalies;
	struct api_graphs *graphs;
	struct api_detail *detail;
	int want_detail;
	char detail_err[256];
};

/* Records a failed request of the round (the first failure wins). */
static void round_fail(struct round *r, int rc, const char *err)
{
	if (r->fail)
		return;
	r->fail = rc == -1 ? -1 : -2;
	snprintf(r->err, sizeof r->err, "%s", err);
}

/* A page failed: a transport failure means the collector is down; an HTTP error or
 * bad body is the page's own problem, shown by its view, not the collector's state. */
static void page_fail(struct round *r, int rc, const char *what, const char *err)
{
	if (rc == -1) {
		round_fail(r, rc, err);
		return;
	}
	if (!r->page_err[0])
		snprintf(r->page_err, sizeof r->page_err, "%s: %s", what, err);
}

static void fetch_stalled(struct fetcher *f, struct round *r, const struct model_want *w)
{
	char path[512], err[256], scope[300] = "";
	int rc;

	if (w->scope_step[0]) {
		char *ef = curl_easy_escape(f->curl, w->scope_flow, 0);
		char *es = curl_easy_escape(f->curl, w->scope_step, 0);
		snprintf(scope, sizeof scope, "&flow=%s&awaiting=%s", ef ? ef : "", es ? es : "");
		curl_free(ef);
		curl_free(es);
	}
	snprintf(path, sizeof path,
	    "/api/v1/flows?state=stalled&sort=overdue&order=desc&limit=%d%s", MODEL_STALLED_LIMIT,
	    scope);
	if ((rc = get(f, path, err, sizeof err)) == 0)
		r->stalled = api_parse_flows(f->body, f->len, err, sizeof err);
	if (rc || !r->stalled)
		page_fail(r, rc, "stalled flows", err);
	snprintf(path, sizeof path, "/api/v1/anomalies?limit=%d", MODEL_ANOMALY_LIMIT);
	if ((rc = get(f, path, err, sizeof err)) == 0)
		r->anomalies = api_parse_anomalies(f->body, f->len, err, sizeof err);
	if (rc || !r->anomalies)
		page_fail(r, rc, "anomalies", err);
}

/* The query parameter a search sends: the one place that says how the typed text is
 * matched. q= is "correlation id contains", so the rows narrow as the id is typed.
 * (`key=V`, a correlation id or any linked key, live and stored, replaces it when the
 * collectors have it: "key=%s" here.) */
static void search_param(char *buf, size_t len, const char *escaped)
{
	snprintf(buf, len, "q=%s", escaped);
}

/* The `/` search of every list view: flows live and retired (state=all: the engine's
 * first, youngest first, then the history store's, newest retired first). */
static void fetch_search(struct fetcher *f, struct round *r, const struct model_want *w)
{
	char path[512], err[256], param[320];
	char *q = curl_easy_escape(f->curl, w->filter, 0);
	int rc;

	search_param(param, sizeof param, q ? q : "");
	curl_free(q);
	snprintf(path, sizeof path, "/api/v1/flows?state=all&sort=age&order=asc&%s&limit=%d", param,
	    MODEL_FOUND_LIMIT);
	if ((rc = get(f, path, err, sizeof err)) == 0)
		r->found = api_parse_flows(f->body, f->len, err, sizeof err);
	if (rc || !r->found)
		page_fail(r, rc, "search", err);
}

/* Retired flows, newest first (with a filter the view shows the search instead). */
static void fetch_history(struct fetcher *f, struct round *r)
{
	char path[128], err[256];
	int rc;

	snprintf(path, sizeof path, "/api/v1/flows?state=closed&limit=%d", MODEL_HISTORY_LIMIT);
	if ((rc = get(f, path, err, sizeof err)) == 0)
		r->history = api_parse_flows(f->body, f->len, err, sizeof err);
	if (rc || !r->history)
		page_fail(r, rc, "history", err);
}

/* The correlation id of the first instance of flow `ef` (escaped) in `state`, by age
 * (desc: the oldest first; asc: the youngest), into cid ("" when there is none).
 * 0, or -1 with err when the request failed. */
static int first_instance(struct fetcher *f, const char *state, const char *order, const char *ef,
    char *cid, char *err, size_t errlen)
{
	struct api_flowpage *p = NULL;
	char path[512];
	int rc;

	snprintf(path, sizeof path, "/api/v1/flows?state=%s&flow=%s&sort=age&order=%s&limit=1",
	    state, ef ? ef : "", order);
	if ((rc = get(f, path, err, errlen)) == 0 &&
	    (p = api_parse_flows(f->body, f->len, err, errlen)) && p->n > 0)
		snprintf(cid, API_ID, "%s", p->items[0].cid);
	api_free_flows(p);
	return rc == 0 && p ? 0 : -1;
}

static void fetch_detail(struct fetcher *f, struct round *r, const struct model_want *w)
{
	char path[768], err[256] = "", cid[API_ID];
	char *ef, *ec;

	snprintf(cid, sizeof cid, "%s", w->detail_cid);
	ef = curl_easy_escape(f->curl, w->detail_flow, 0);
	if (!cid[0] && first_instance(f, "open", "desc", ef, cid, err, sizeof err) == 0 &&
	    !cid[0]) /* none open: the newest one that closed, held or stored */
		first_instance(f, "closed", "asc", ef, cid, err, sizeof err);
	if (!cid[0] && !err[0])
		snprintf(
		    err, sizeof err, "no instance of flow %s yet, open or closed", w->detail_flow);
	if (cid[0]) {
		ec = curl_easy_escape(f->curl, cid, 0);
		snprintf(path, sizeof path, "/api/v1/flows/%s/%s", ef ? ef : "", ec ? ec : "");
		curl_free(ec);
		if (get(f, path, err, sizeof err) == 0)
			r->detail = api_parse_detail(f->body, f->len, err, sizeof err);
	}
	curl_free(ef);
	if (!r->detail)
		snprintf(r->detail_err, sizeof r->detail_err, "%s", err);
}

static void fetch_round(struct fetcher *f, struct round *r, const struct model_want *w)
{
	char err[256];
	int rc;

	char path[64];

	/* pages of at most what the views show: at 10,000 declared flows an answer
	 * stays the size of API_MAX_FLOWS flows */
	snprintf(path, sizeof path, "/api/v1/summary?limit=%d", API_MAX_FLOWS);
	if ((rc = get(f, path, err, sizeof err)) == 0)
		r->summary = api_parse_summary(f->body, f->len, err, sizeof err);
	if (rc || !r->summary) {
		round_fail(r, rc ? rc : -2, err);
		if (rc == -1)
			return; /* down: do not wait out the timeouts of the other pages */
	}
	if (w->stalled)
		fetch_stalled(f, r, w);
	if (w->history && !w->filter[0])
		fetch_history(f, r);
	if (w->filter[0] && !w->detail && !w->scope_step[0])
		fetch_search(f, r, w);
	if (w->graphs) {
		snprintf(path, sizeof path, "/api/v1/graphs?limit=%d", API_MAX_FLOWS);
		if ((rc = get(f, path, err, sizeof err)) == 0)
			r->graphs = api_parse_graphs(f->body, f->len, err, sizeof err);
		if (rc || !r->graphs)
			page_fail(r, rc, "graphs", err);
	}
	r->want_detail = w->detail && (w->detail_col < 0 || w->detail_col == f->idx);
	if (r->want_detail)
		fetch_detail(f, r, w);
}

/* Moves the round's results into the collector's slots; the old ones go back into the
 * round, which frees them after the lock is released. A round that started before the
 * UI changed what it wants (`fresh` == 0) keeps its summary-level results only. */
static void round_apply(
    struct model *m, struct model_col *c, struct round *r, double now, int fresh)
{
	void *o;

	if (r->fail == -1) {
		c->state = COL_DOWN;
		c->stale = c->summary != NULL;
	} else {
		c->state = r->fail ? COL_BAD : COL_OK;
		c->stale = 0;
	}
	snprintf(c->err, sizeof c->err, "%s", r->fail ? r->err : "");
	if (fresh)
		snprintf(c->page_err, sizeof c->page_err, "%s", r->page_err);
	if (r->summary) {
		c->last_ok = now;
		model_hist_add(c->hist, &c->nhist, r->summary, now);
		o = c->summary, c->summary = r->summary, r->summary = o;
	}
	if (r->stalled)
		o = c->stalled, c->stalled = r->stalled, r->stalled = o;
	if (r->anomalies)
		o = c->anomalies, c->anomalies = r->anomalies, r->anomalies = o;
	if (r->graphs)
		o = c->graphs, c->graphs = r->graphs, r->graphs = o;
	if (r->history)
		o = c->history, c->history = r->history, r->history = o;
	if (fresh && r->want_detail && !r->detail && c->detail && r->fail != -1 &&
	    strstr(r->detail_err, "HTTP 404")) {
		/* the open flow retired while on screen and the collector keeps no history:
		 * keep its last state rather than replace the timeline by an error */
		c->detail->gone = 1;
	} else if (fresh && r->want_detail) {
		o = c->detail, c->detail = r->detail, r->detail = o;
		snprintf(c->detail_err, sizeof c->detail_err, "%s",
		    r->fail == -1 ? r->err : r->detail_err);
	}
	if (fresh && r->fail != -1) /* follows the filter: an empty filter clears it */
		o = c->found, c->found = r->found, r->found = o;
	m->gen++;
}

static void round_free(struct round *r)
{
	api_free_summary(r->summary);
	api_free_flows(r->stalled);
	api_free_flows(r->found);
	api_free_flows(r->history);
	api_free_anomalies(r->anomalies);
	api_free_graphs(r->graphs);
	api_free_detail(r->detail);
}

static void wait_due(struct model_priv *p, struct model *m, double due, unsigned long kick)
{
	while (!p->stop && p->kick == kick && (m->paused || model_now() < due)) {
		struct timespec ts;
		double t = m->paused ? model_now() + 0.5 : due;
		ts.tv_sec = (time_t)t;
		ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
}

static void *fetch_main(void *arg)
{
	struct fetcher *f = arg;
	struct model *m = f->m;
	struct model_priv *p = m->priv;
	unsigned long kick = 0;
	double due = 0;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct model_want w;
		struct round r;
		wait_due(p, m, due, kick);
		if (p->stop)
			break;
		kick = p->kick;
		w = p->want;
		pthread_mutex_unlock(&p->mu);
		memset(&r, 0, sizeof r);
		due = model_now() + m->interval;
		fetch_round(f, &r, &w);
		pthread_mutex_lock(&p->mu);
		round_apply(m, &m->cols[f->idx], &r, model_now(), p->kick == kick);
		pthread_mutex_unlock(&p->mu);
		round_free(&r);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct model *model_new(const char *const *urls, int nurls, const char *token, double interval,
    char *err, size_t errlen)
{
	struct model *m = calloc(1, sizeof *m);
	pthread_condattr_t ca;
	int i;

	if (!m || !(m->priv = calloc(1, sizeof *m->priv))) {
		snprintf(err, errlen, "out of memory");
		free(m);
		return NULL;
	}
	m->ncols = nurls > MODEL_MAX_COLS ? MODEL_MAX_COLS : nurls;
	m->interval = interval;
	pthread_mutex_init(&m->priv->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->priv->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (token && token[0])
		snprintf(m->priv->auth, sizeof m->priv->auth, "Authorization: Bearer %s", token);
	for (i = 0; i < m->ncols; i++) {
		size_t n = strlen(urls[i]);
		while (n > 0 && urls[i][n - 1] == '/')
			n--; /* "http://h:1/" + "/api" must not become "//api" */
		snprintf(m->cols[i].url, sizeof m->cols[i].url, "%.*s", (int)n, urls[i]);
		m->priv->f[i].m = m;
		m->priv->f[i].idx = i;
		if (fetcher_init(&m->priv->f[i], m->priv->auth, err, errlen)) {
			model_free(m);
			return NULL;
		}
	}
	return m;
}

int model_start(struct model *m, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < m->ncols; i++) {
		if (pthread_create(&m->priv->f[i].th, NULL, fetch_main, &m->priv->f[i])) {
			snprintf(err, errlen, "cannot start a fetch thread");
			return -1;
		}
		m->priv->f[i].started = 1;
	}
	return 0;
}

void model_free(struct model *m)
{
	int i;

	if (!m)
		return;
	pthread_mutex_lock(&m->priv->mu);
	m->priv->stop = 1;
	pthread_cond_broadcast(&m->priv->cv);
	pthread_mutex_unlock(&m->priv->mu);
	for (i = 0; i < m->ncols; i++) {
		struct fetcher *f = &m->priv->f[i];
		struct model_col *c = &m->cols[i];
		if (f->started)
			pthread_join(f->th, NULL);
		if (f->curl)
			curl_easy_cleanup(f->curl);
		curl_slist_free_all(f->hdrs);
		free(f->body);
		api_free_summary(c->summary);
		api_free_flows(c->stalled);
		api_free_flows(c->found);
		api_free_flows(c->history);
		api_free_anomalies(c->anomalies);
		api_free_graphs(c->graphs);
		api_free_detail(c->detail);
	}
	pthread_mutex_destroy(&m->priv->mu);
	pthread_cond_destroy(&m->priv->cv);
	free(m->priv);
	free(m);
}

void model_want(struct model *m, const struct model_want *w)
{
	struct model_priv *p = m->priv;
	int i, detail_changed;

	pthread_mutex_lock(&p->mu);
	detail_changed = w->detail != p->want.detail || w->detail_col != p->want.detail_col ||
	    strcmp(w->detail_flow, p->want.detail_flow) ||
	    strcmp(w->detail_cid, p->want.detail_cid);
	if (memcmp(w, &p->want, sizeof *w) != 0) {
		p->want = *w;
		p->kick++;
		pthread_cond_broadcast(&p->cv);
	}
	for (i = 0; detail_changed && i < m->ncols; i++) {
		api_free_detail(m->cols[i].detail); /* never show another flow's timeline */
		m->cols[i].detail = NULL;
		m->cols[i].detail_err[0] = '\0';
	}
	if (detail_changed)
		m->gen++;
	pthread_mutex_unlock(&p->mu);
}

void model_set_paused(struct model *m, int paused)
{
	pthread_mutex_lock(&m->priv->mu);
	m->paused = paused;
	m->priv->kick++;
	pthread_cond_broadcast(&m->priv->cv);
	pthread_mutex_unlock(&m->priv->mu);
}

static struct model_hist *hist_find(struct model_hist *h, int *nh, const char *name)
{
	int i;

	for (i = 0; i < *nh; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	if (*nh == API_MAX_FLOWS)
		return NULL;
	memset(&h[*nh], 0, sizeof h[*nh]);
	snprintf(h[*nh].name, sizeof h[*nh].name, "%s", name);
	return &h[(*nh)++];
}

static int kind_slot(struct model_hist *h, const char *kind)
{
	int i;

	for (i = 0; i < h->nkinds; i++)
		if (strcmp(h->kinds[i], kind) == 0)
			return i;
	if (h->nkinds == API_MAX_KINDS)
		return -1;
	snprintf(h->kinds[h->nkinds], sizeof h->kinds[0], "%s", kind);
	return h->nkinds++;
}

void model_hist_add(struct model_hist *hs, int *nh, const struct api_summary *s, double now)
{
	int i, k;

	for (i = 0; i < s->nflows; i++) {
		const struct api_flowsum *fs = &s->flows[i];
		struct model_hist *h = hist_find(hs, nh, fs->name);
		int at;
		if (!h)
			continue;
		if (h->n == MODEL_HIST) {
			memmove(h->t, h->t + 1, (MODEL_HIST - 1) * sizeof h->t[0]);
			memmove(h->thr, h->thr + 1, (MODEL_HIST - 1) * sizeof h->thr[0]);
			memmove(h->an, h->an + 1, (MODEL_HIST - 1) * sizeof h->an[0]);
			h->n--;
		}
		at = h->n++;
		h->t[at] = now;
		h->thr[at] = fs->completed_ps;
		memset(h->an[at], 0, sizeof h->an[at]);
		for (k = 0; k < fs->nanomalies; k++) {
			int slot = kind_slot(h, fs->anomalies[k].kind);
			if (slot >= 0)
				h->an[at][slot] = fs->anomalies[k].n;
		}
	}
}

double model_hist_per_min(const struct model_hist *h, const char *kind)
{
	int slot, first, last;
	double dt;

	for (slot = 0; slot < h->nkinds; slot++)
		if (strcmp(h->kinds[slot], kind) == 0)
			break;
	if (slot == h->nkinds || h->n < 2)
		return 0;
	last = h->n - 1;
	for (first = 0; first < last && h->t[last] - h->t[first] > 60.0; first++)
		;
	dt = h->t[last] - h->t[first];
	if (dt <= 0 || h->an[last][slot] < h->an[first][slot])
		return 0;
	return (double)(h->an[last][slot] - h->an[first][slot]) / dt * 60.0;
}
