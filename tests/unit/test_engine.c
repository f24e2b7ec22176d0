/*
 * test_engine: the verdicts of docs/semantics.md, table-driven from
 * tests/fixtures/verdicts/NAME.cases (format in that folder's README.md). Each case is
 * one cmocka test; events are applied with the event-time clock as replay does.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "engine/engine.h"
#include "lib/timefmt.h"

#define BASE_NS INT64_C(1767225600000000000) /* 2026-01-01T00:00:00Z */
#define MAXLINES 256

struct tcase {
	char name[200];
	char *config;
	char *events;
	char *expect;
	char file[256];
};

static struct tcase cases[512];
static int ncases;

struct produced {
	char *lines[MAXLINES];
	int n;
	const struct engine *e;
};

static void secs(char *buf, size_t len, int64_t ns)
{
	if (ns == ENGINE_NO_TIME) {
		snprintf(buf, len, "-");
		return;
	}
	timefmt_seconds(ns - BASE_NS, buf, len);
}

static void add_line(struct produced *p, const char *s)
{
	assert_true(p->n < MAXLINES);
	p->lines[p->n++] = strdup(s);
}

static void steps_list(char *buf, size_t len, const struct fg_flow *f, fg_mask m)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int s = 0; s < f->nsteps; s++)
		if (m & FG_BIT(s))
			o += (size_t)snprintf(
			    buf + o, len - o, "%s%s", o ? "," : "", f->steps[s].name);
	if (!o)
		snprintf(buf, len, "-");
}

static void on_anomaly(void *ctx, const struct anomaly *a)
{
	char at[48], line[512], extra[256] = "";
	secs(at, sizeof(at), a->at_ns);
	if (a->kind == AN_LATE) {
		char o[48];
		timefmt_seconds(a->overrun_ns, o, sizeof(o));
		snprintf(extra, sizeof(extra), " overrun=%s", o);
	} else if (a->kind == AN_JOIN_WAIT) {
		char l[200];
		steps_list(l, sizeof(l), a->flow, a->awaiting);
		snprintf(extra, sizeof(extra), " awaiting=%s", l);
	}
	snprintf(line, sizeof(line), "%s %s %s @%s f=%s%s", an_kind_name(a->kind),
	    a->step ? a->step : "-", a->correlation_id, at, a->flow->name, extra);
	add_line(ctx, line);
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	char o[48], c[48], aw[200], line[512];
	secs(o, sizeof(o), r->opened_ns);
	secs(c, sizeof(c), r->closed_ns);
	steps_list(aw, sizeof(aw), r->flow, r->awaiting);
	snprintf(line, sizeof(line), "flow %s %s f=%s events=%u awaiting=%s opened=%s closed=%s",
	    r->outcome, r->correlation_id, r->flow->name, r->events, aw, o, c);
	add_line(ctx, line);
}

/* CORR TYPE SECONDS [id=X] [flow=F] [k=v ...] */
static void parse_event(
    char *line, int lineno, struct event *ev, struct ev_attr *attrs, char *idbuf, size_t idlen)
{
	char *save = NULL;
	char *corr = strtok_r(line, " ", &save);
	char *type = strtok_r(NULL, " ", &save);
	char *t = strtok_r(NULL, " ", &save);
	assert_non_null(t);
	memset(ev, 0, sizeof(*ev));
	ev->correlation_id = corr;
	ev->type = type;
	ev->source = "test";
	ev->causation_id = "";
	ev->time_ns = BASE_NS + (int64_t)(strtod(t, NULL) * 1e9 + (t[0] == '-' ? -0.5 : 0.5));
	ev->partition = -1;
	ev->offset = lineno;
	snprintf(idbuf, idlen, "%s/%s/%d", corr, type, lineno);
	ev->event_id = idbuf;
	ev->attrs = attrs;
	for (char *tok; (tok = strtok_r(NULL, " ", &save));) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		if (strcmp(tok, "id") == 0)
			ev->event_id = eq + 1;
		else if (strcmp(tok, "flow") == 0)
			ev->flow = eq + 1;
		else {
			attrs[ev->nattrs].key = tok;
			attrs[ev->nattrs++].val = eq + 1;
		}
	}
}

/* An expected line matches a produced one when the leading fields are equal and
 * every extra key=value of the expectation is among the produced line's tokens. */
static int matches(const char *exp, const char *got)
{
	char e[512], g[512];
	snprintf(e, sizeof(e), "%s", exp);
	snprintf(g, sizeof(g), "%s", got);
	char *es = NULL, *gs = NULL;
	int lead = strncmp(exp, "flow ", 5) == 0 ? 3 : strncmp(exp, "unmatched ", 10) == 0 ? 2 : 4;
	char *et = strtok_r(e, " ", &es), *gt = strtok_r(g, " ", &gs);
	char *gtoks[32];
	int ng = 0;
	for (int k = 0; k < lead; k++) {
		if (!et || !gt || strcmp(et, gt) != 0)
			return 0;
		et = strtok_r(NULL, " ", &es);
		gt = strtok_r(NULL, " ", &gs);
	}
	for (; gt && ng < 32; gt = strtok_r(NULL, " ", &gs))
		gtoks[ng++] = gt;
	for (; et; et = strtok_r(NULL, " ", &es)) {
		int found = 0;
		for (int k = 0; k < ng && !found; k++)
			found = strcmp(et, gtoks[k]) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

static void run_case(void **state)
{
	const struct tcase *tc = *state;
	char err[4096] = "";
	struct config *cfg = NULL;
	int rc =
	    config_load_string(tc->name, tc->config, strlen(tc->config), &cfg, err, sizeof(err));
	if (rc != 0)
		fail_msg("case '%s': config does not load:\n%s", tc->name, err);
	struct produced p = { .n = 0 };
	struct engine_sink sink = { on_anomaly, on_flow, NULL, &p };
	struct engine_opts o = { ENGINE_CLOCK_EVENTS, cfg->max_flows };
	struct engine *e = NULL;
	assert_int_equal(engine_new(&cfg->graph, &o, &sink, &e, err, sizeof(err)), 0);
	p.e = e;

	char *evs = strdup(tc->events), *save = NULL;
	int lineno = 0;
	for (char *l = strtok_r(evs, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (!*l || *l == '#')
			continue;
		struct event ev;
		struct ev_attr attrs[EV_MAX_ATTRS];
		char id[256];
		parse_event(l, lineno, &ev, attrs, id, sizeof(id));
		engine_apply(e, &ev);
		if (engine_check(e, err, sizeof(err)) != 0)
			fail_msg("case '%s': after event line %d: %s", tc->name, lineno, err);
	}
	engine_finish(e);
	assert_int_equal(engine_check(e, err, sizeof(err)), 0);
	char un[64];
	snprintf(un, sizeof(un), "unmatched %llu", (unsigned long long)engine_stats(e)->unmatched);
	add_line(&p, un);

	/* match expectations one to one */
	char *exps = strdup(tc->expect);
	int used[MAXLINES] = { 0 }, nexp = 0, bad = 0, saw_unmatched = 0;
	char report[8192] = "";
	size_t ro = 0;
	for (char *l = strtok_r(exps, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!*l || *l == '#')
			continue;
		nexp++;
		if (strncmp(l, "unmatched ", 10) == 0)
			saw_unmatched = 1;
		int k = 0;
		for (; k < p.n; k++)
			if (!used[k] && matches(l, p.lines[k]))
				break;
		if (k == p.n) {
			bad = 1;
			ro += (size_t)snprintf(
			    report + ro, sizeof(report) - ro, "  expected, not produced: %s\n", l);
		} else {
			used[k] = 1;
		}
	}
	for (int k = 0; k < p.n; k++) {
		if (used[k] || (!saw_unmatched && strcmp(p.lines[k], "unmatched 0") == 0))
			continue;
		bad = 1;
		ro += (size_t)snprintf(
		    report + ro, sizeof(report) - ro, "  produced, not expected: %s\n", p.lines[k]);
	}
	if (bad) {
		ro += (size_t)snprintf(report + ro, sizeof(report) - ro, "  all produced:\n");
		for (int k = 0; k < p.n && ro < sizeof(report) - 200; k++)
			ro += (size_t)snprintf(
			    report + ro, sizeof(report) - ro, "    %s\n", p.lines[k]);
	}
	for (int k = 0; k < p.n; k++)
		free(p.lines[k]);
	free(evs);
	free(exps);
	engine_free(e);
	config_free(cfg);
	if (bad)
		fail_msg("case '%s' (%s):\n%s", tc->name, tc->file, report);
	assert_true(nexp > 0);
}

/* ---- loading the case files ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	b[n] = '\0';
	fclose(f);
	return b;
}

static char *section(char *start, char *end)
{
	size_t n = (size_t)(end - start);
	char *s = malloc(n + 1);
	memcpy(s, start, n);
	s[n] = '\0';
	return s;
}

struct macro {
	char name[64];
	char *text;
};

static char *expand_config(char *cfg, struct macro *m, int *nm)
{
	char *amp = strstr(cfg, "flows: &");
	char *star = strstr(cfg, "flows: *");
	if (star) {
		char name[64] = "";
		sscanf(star + 8, "%63s", name);
		for (int i = 0; i < *nm; i++)
			if (strcmp(m[i].name, name) == 0) {
				free(cfg);
				return strdup(m[i].text);
			}
		return cfg;
	}
	if (amp) {
		char name[64] = "";
		sscanf(amp + 8, "%63s", name);
		char *nl = strchr(amp, '\n');
		size_t head = (size_t)(amp - cfg) + 6;
		char *out = malloc(strlen(cfg) + 2);
		memcpy(out, cfg, head);
		strcpy(out + head, nl ? nl : "");
		free(cfg);
		snprintf(m[*nm].name, sizeof(m[*nm].name), "%s", name);
		m[(*nm)++].text = strdup(out);
		return out;
	}
	return cfg;
}

static void load_file(const char *path)
{
	char *b = slurp(path);
	assert_non_null(b);
	struct macro macros[32];
	int nm = 0;
	char *p = b;
	while ((p = strstr(p, "=== case: ")) != NULL) {
		struct tcase *tc = &cases[ncases++];
		char *nl = strchr(p, '\n');
		snprintf(tc->name, sizeof(tc->name), "%.*s", (int)(nl - p - 10), p + 10);
		snprintf(tc->file, sizeof(tc->file), "%.200s", path);
		char *ev = strstr(nl, "\n--- events\n");
		char *ex = strstr(nl, "\n--- expect\n");
		char *next = strstr(nl, "\n=== case: ");
		if (!next)
			next = b + strlen(b);
		assert_true(ev && ex && ev < ex && ex < next);
		tc->config = expand_config(section(nl + 1, ev + 1), macros, &nm);
		tc->events = section(ev + 12, ex + 1);
		tc->expect = section(ex + 12, next);
		p = next;
	}
	for (int i = 0; i < nm; i++)
		free(macros[i].text);
	free(b);
}

int main(void)
{
	const char *dir = "tests/fixtures/verdicts";
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", dir);
		return 1;
	}
	char paths[64][600];
	int np = 0;
	for (struct dirent *de; (de = readdir(d)) && np < 64;) {
		size_t l = strlen(de->d_name);
		if (l > 6 && strcmp(de->d_name + l - 6, ".cases") == 0)
			snprintf(paths[np++], sizeof(paths[0]), "%s/%.300s", dir, de->d_name);
	}
	closedir(d);
	qsort(paths, (size_t)np, sizeof(paths[0]), (int (*)(const void *, const void *))strcmp);
	for (int i = 0; i < np; i++)
		load_file(paths[i]);
	struct CMUnitTest *tests = calloc((size_t)ncases, sizeof(*tests));
	for (int i = 0; i < ncases; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	int rc = _cmocka_run_group_tests("engine verdicts", tests, (size_t)ncases, NULL, NULL);
	free(tests);
	return rc;
}
