/*
 * dashgen: `choreoscope gen-dashboards [--config FILE] [--out DIR] [--job NAME]`
 * writes a Grafana dashboard (choreoscope-dashboard.json) and Prometheus alert rules
 * (choreoscope-rules.yml) from one table of panels and one of rules, so the
 * dashboards/ files, the generated ones and the metrics never disagree.
 *
 * Without --config the output is generic (the committed dashboards/ files): the stall
 * rules count verdicts (increase() of choreoscope_anomalies_total) and compare the
 * oldest stall's age with the collector's choreoscope_stall_age_threshold_seconds.
 * With a config it is tailored: the flow variable lists the user's flows, each flow
 * gets a row of per-step panels, and the stall rules are written per flow (severity
 * per flow with --severity), the stall-age one with each step's threshold from
 * metrics_stall_threshold (half of flow deadline - step within), so both agree.
 * Single-threaded; output is deterministic (tests compare it byte for byte).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cli.h"
#include "config/config.h"
#include "lib/cliopt.h"
#include "lib/jbuf.h"
#include "out/metrics.h"

#define SEL "job=~\"$job\",instance=~\"$instance\""
#define FSEL SEL ",flow=~\"$flow\""
#define RI "[$__rate_interval]"

struct target {
	const char *expr, *legend;
};

struct panel {
	const char *title, *unit, *desc;
	struct target t[3];
};

/* Every panel's queries; tests/e2e/prometheus_dashboards.sh runs each of them. */
static const struct panel panels[] = {
	{ "Events consumed / s", "ops", "Events read from Kafka (or a file), by topic.",
	    { { "sum by (topic) (rate(choreoscope_events_consumed_total{" SEL "}" RI "))",
		  "{{topic}}" },
		{ "sum by (reason) (rate(choreoscope_events_rejected_total{" SEL "}" RI "))",
		    "rejected {{reason}}" } } },
	{ "Flows started / s", "ops", "Flow instances opened, by flow.",
	    { { "sum by (flow) (rate(choreoscope_flows_started_total{" FSEL "}" RI "))",
		"{{flow}}" } } },
	{ "Flows in flight", "short", "Open flow instances.",
	    { { "sum by (flow) (choreoscope_flows_in_flight{" FSEL "})", "{{flow}}" } } },
	{ "Outcomes / s", "ops", "Closed flow instances by outcome.",
	    { { "sum by (flow, outcome) (rate(choreoscope_flows_closed_total{" FSEL "}" RI "))",
		"{{flow}} {{outcome}}" } } },
	{ "Stalled flows by awaited step", "short",
	    "Open instances whose awaited step is past its deadline.",
	    { { "sum by (flow, step) (choreoscope_flows_stalled{" FSEL "})",
		"{{flow}} {{step}}" } } },
	{ "Oldest stall age", "s", "Age of the oldest current stall, per awaited step.",
	    { { "max by (flow, step) (choreoscope_oldest_stall_age_seconds{" FSEL "})",
		"{{flow}} {{step}}" } } },
	{ "Anomalies / s by kind", "ops", "Verdicts against the flow graphs.",
	    { { "sum by (kind) (rate(choreoscope_anomalies_total{" FSEL "}" RI "))",
		"{{kind}}" } } },
	{ "Step latency p50 / p99", "s", "From a step becoming expected to its event.",
	    { { "histogram_quantile(0.5, sum by (flow, step, le) "
		"(rate(choreoscope_step_latency_seconds_bucket{" FSEL "}" RI ")))",
		  "p50 {{flow}} {{step}}" },
		{ "histogram_quantile(0.99, sum by (flow, step, le) "
		  "(rate(choreoscope_step_latency_seconds_bucket{" FSEL "}" RI ")))",
		    "p99 {{flow}} {{step}}" } } },
	{ "Flow duration p50 / p99", "s", "Open to close, by outcome.",
	    { { "histogram_quantile(0.5, sum by (flow, outcome, le) "
		"(rate(choreoscope_flow_duration_seconds_bucket{" FSEL "}" RI ")))",
		  "p50 {{flow}} {{outcome}}" },
		{ "histogram_quantile(0.99, sum by (flow, outcome, le) "
		  "(rate(choreoscope_flow_duration_seconds_bucket{" FSEL "}" RI ")))",
		    "p99 {{flow}} {{outcome}}" } } },
	{ "Consumer lag", "short", "Messages behind the high watermark, per partition.",
	    { { "sum by (topic, partition) (choreoscope_consumer_lag{" SEL "})",
		"{{topic}}/{{partition}}" } } },
	{ "Evictions / s by awaited step", "ops", "Instances dropped under the memory bound.",
	    { { "sum by (flow, step) (rate(choreoscope_flows_evicted_total{" FSEL "}" RI "))",
		"{{flow}} {{step}}" } } },
	{ "Collector up", "short", "Scrape health of each collector.",
	    { { "up{" SEL "}", "{{instance}}" } } },
};

struct rule {
	const char *alert, *expr, *for_, *severity, *summary, *desc;
	const char *api;     /* path and query on the collector (after http://INSTANCE), or NULL */
	const char *example; /* kind whose choreoscope_anomaly_example_info names an instance */
};

#define DEFAULT_RUNBOOK "https://runbooks.example.com/choreoscope"
#define MAX_SEVERITIES 64
#define WIN "5m" /* window of the counter-increase rules: how long an alert stays up */

/* {JOB} is replaced by the job selector (and, in per-flow rules, the flow). Rules 0-2
 * are the stall rules; with a config they are generated per flow instead. */
enum { R_STALLED, R_ABANDONED, R_STALL_AGE, R_NSTALL };
static const struct rule rules[] = {
	{ "ChoreoscopeSagasStalled",
	    "sum by (job, instance, flow, step) (increase(choreoscope_anomalies_total{JOB,"
	    "kind=\"stalled\"}[" WIN "])) > 0",
	    "0m", "warning",
	    "{{ $value | printf \"%.0f\" }} {{ $labels.flow }} instances stalled on {{ "
	    "$labels.step }} "
	    "in the last " WIN,
	    "{{ $labels.flow }} instances on {{ $labels.instance }} passed the deadline of step "
	    "{{ $labels.step }}: the service that should emit it may be down, slow or dropping "
	    "events. Fires on every new stall (a counter increase), however short.",
	    "/api/v1/flows?state=stalled&flow={{ $labels.flow }}&awaiting={{ $labels.step }}"
	    "&sort=overdue",
	    "stalled" },
	{ "ChoreoscopeSagasAbandoned",
	    "sum by (job, instance, flow, step) (increase(choreoscope_anomalies_total{JOB,"
	    "kind=\"abandoned\"}[" WIN "])) > 0",
	    "0m", "critical",
	    "{{ $value | printf \"%.0f\" }} {{ $labels.flow }} instances abandoned waiting for "
	    "{{ $labels.step }} in the last " WIN,
	    "{{ $labels.flow }} instances on {{ $labels.instance }} reached the flow deadline "
	    "still waiting for {{ $labels.step }}: they will not complete.",
	    "/api/v1/anomalies?flow={{ $labels.flow }}&kind=abandoned&limit=50", "abandoned" },
	{ "ChoreoscopeOldestStallOld",
	    "max by (job, instance, flow, step) (choreoscope_oldest_stall_age_seconds{JOB}) > "
	    "on (job, instance, flow, step) group_left () "
	    "max by (job, instance, flow, step) (choreoscope_stall_age_threshold_seconds{JOB})",
	    "0m", "critical",
	    "A {{ $labels.flow }} instance has been stalled on {{ $labels.step }} for "
	    "{{ $value | humanizeDuration }}",
	    "The oldest current stall of {{ $labels.flow }} on step {{ $labels.step }} "
	    "({{ $labels.instance }}) is older than half of what a stall can last (flow "
	    "deadline - step within): not a blip, the step is not coming.",
	    "/api/v1/flows?state=stalled&flow={{ $labels.flow }}&awaiting={{ $labels.step }}"
	    "&sort=overdue",
	    "stalled" },
	{ "ChoreoscopeAnomalyRateHigh",
	    "sum by (job, instance, flow, kind) "
	    "(rate(choreoscope_anomalies_total{JOB,kind!=\"late\"}[5m])) > 0.1",
	    "5m", "warning",
	    "{{ $labels.flow }}: {{ $value | humanize }} {{ $labels.kind }} anomalies per second",
	    "The {{ $labels.kind }} verdict rate of flow {{ $labels.flow }} on "
	    "{{ $labels.instance }} stayed above 0.1/s for 5 minutes.",
	    "/api/v1/anomalies?flow={{ $labels.flow }}&kind={{ $labels.kind }}&limit=50", NULL },
	{ "ChoreoscopeConsumerLagHigh",
	    "sum by (job, instance, topic) (choreoscope_consumer_lag{JOB}) > 10000", "5m",
	    "warning",
	    "Collector {{ $labels.instance }} is {{ $value }} messages behind on {{ $labels.topic "
	    "}}",
	    "Consumer lag above 10000 for 5 minutes: verdicts are late (stall deadlines use "
	    "the last consumed message time while lagging, so no false stalls).",
	    "/api/v1/summary", NULL },
	{ "ChoreoscopeFlowsEvicted",
	    "sum by (job, instance, flow) (increase(choreoscope_flows_evicted_total{JOB}[10m])) > "
	    "0",
	    "0m", "warning", "{{ $labels.flow }} instances evicted under the in-flight bound",
	    "The collector dropped open {{ $labels.flow }} instances because max_flows was "
	    "reached; raise it or find why flows do not close.",
	    "/api/v1/summary", NULL },
	{ "ChoreoscopeCollectorDown", "up{JOB} == 0", "1m", "critical",
	    "choreoscope collector {{ $labels.instance }} is down",
	    "Prometheus cannot scrape {{ $labels.instance }}: no flow is being watched there.",
	    NULL, NULL },
};
#define NRULES ((int)(sizeof(rules) / sizeof(rules[0])))

struct gen_opts {
	const char *job, *runbook;
	const char **sev_flow, **sev_level; /* --severity FLOW=LEVEL, n of them */
	int nsev;
};

static void json_panel(struct jbuf *b, int id, const char *title, const char *unit,
    const char *desc, const struct target *t, int nt, int x, int y, int w)
{
	jbuf_printf(b, "    {\"id\": %d, \"type\": \"timeseries\", \"title\": ", id);
	jbuf_json_str(b, title);
	jbuf_puts(b, ", \"description\": ");
	jbuf_json_str(b, desc);
	jbuf_puts(
	    b, ",\n     \"datasource\": {\"type\": \"prometheus\", \"uid\": \"${datasource}\"},\n");
	jbuf_printf(b, "     \"gridPos\": {\"h\": 8, \"w\": %d, \"x\": %d, \"y\": %d},\n", w, x, y);
	jbuf_puts(b, "     \"fieldConfig\": {\"defaults\": {\"unit\": ");
	jbuf_json_str(b, unit);
	jbuf_puts(b, "}, \"overrides\": []},\n     \"targets\": [");
	for (int i = 0; i < nt && t[i].expr; i++) {
		jbuf_printf(b, "%s\n       {\"refId\": \"%c\", \"expr\": ", i ? "," : "", 'A' + i);
		jbuf_json_str(b, t[i].expr);
		jbuf_puts(b, ", \"legendFormat\": ");
		jbuf_json_str(b, t[i].legend);
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "]}");
}

static void json_var(struct jbuf *b, const char *name, const char *query, bool all)
{
	jbuf_puts(b, ",\n    {\"name\": ");
	jbuf_json_str(b, name);
	jbuf_puts(b,
	    ", \"type\": \"query\", \"datasource\": {\"type\": \"prometheus\", "
	    "\"uid\": \"${datasource}\"}, \"query\": ");
	jbuf_json_str(b, query);
	jbuf_printf(b,
	    ", \"refresh\": 2, \"multi\": %s, \"includeAll\": %s, \"allValue\": \".+\", "
	    "\"current\": {}, \"sort\": 1}",
	    all ? "true" : "false", all ? "true" : "false");
}

static void json_flow_var(struct jbuf *b, const struct flowgraph *g)
{
	if (g == NULL)
		return json_var(
		    b, "flow", "label_values(choreoscope_flows_in_flight{" SEL "}, flow)", true);
	jbuf_puts(b,
	    ",\n    {\"name\": \"flow\", \"type\": \"custom\", \"multi\": true, "
	    "\"includeAll\": true, \"allValue\": \".+\", \"current\": {}, \"query\": ");
	struct jbuf q;
	jbuf_init(&q, 1 << 20);
	for (int f = 0; f < g->nflows; f++) {
		jbuf_puts(&q, f ? "," : "");
		jbuf_puts(&q, g->flows[f].name);
	}
	jbuf_json_str(b, q.p ? q.p : "");
	jbuf_free(&q);
	jbuf_puts(b, "}");
}

/* Per-flow rows (tailored output only): stalled and latency of that flow's steps. */
static int json_flow_rows(struct jbuf *b, const struct flowgraph *g, int id, int y)
{
	for (int f = 0; g && f < g->nflows; f++) {
		const char *n = g->flows[f].name;
		char title[256], e1[512], e2[512];
		jbuf_printf(b, ",\n    {\"id\": %d, \"type\": \"row\", \"title\": ", id++);
		snprintf(title, sizeof(title), "Flow %s", n);
		jbuf_json_str(b, title);
		jbuf_printf(b,
		    ", \"collapsed\": false, \"gridPos\": {\"h\": 1, \"w\": 24, \"x\": 0, "
		    "\"y\": %d}, \"panels\": []},\n",
		    y++);
		snprintf(e1, sizeof(e1),
		    "sum by (step) (choreoscope_flows_awaiting{" SEL ",flow=\"%s\"})", n);
		snprintf(e2, sizeof(e2),
		    "sum by (step) (choreoscope_flows_stalled{" SEL ",flow=\"%s\"})", n);
		struct target t1[] = { { e1, "awaiting {{step}}" }, { e2, "stalled {{step}}" } };
		snprintf(title, sizeof(title), "%s: awaiting and stalled by step", n);
		json_panel(
		    b, id++, title, "short", "Open instances per awaited step.", t1, 2, 0, y, 12);
		snprintf(e1, sizeof(e1),
		    "histogram_quantile(0.99, sum by (step, le) "
		    "(rate(choreoscope_step_latency_seconds_bucket{" SEL ",flow=\"%s\"}" RI ")))",
		    n);
		struct target t2[] = { { e1, "p99 {{step}}" } };
		snprintf(title, sizeof(title), "%s: step latency p99", n);
		jbuf_puts(b, ",\n");
		json_panel(b, id++, title, "s", "Per step of this flow.", t2, 1, 12, y, 12);
		y += 8;
	}
	return id;
}

static void render_dashboard(struct jbuf *b, const struct flowgraph *g)
{
	int np = (int)(sizeof(panels) / sizeof(panels[0]));
	jbuf_puts(b,
	    "{\n  \"title\": \"choreoscope\",\n  \"uid\": \"choreoscope\",\n"
	    "  \"tags\": [\"choreoscope\", \"sagas\"],\n  \"schemaVersion\": 38,\n"
	    "  \"version\": 1,\n  \"editable\": true,\n  \"refresh\": \"10s\",\n"
	    "  \"time\": {\"from\": \"now-1h\", \"to\": \"now\"},\n"
	    "  \"templating\": {\"list\": [\n"
	    "    {\"name\": \"datasource\", \"type\": \"datasource\", \"query\": "
	    "\"prometheus\", \"current\": {}}");
	json_var(b, "job", "label_values(choreoscope_build_info, job)", true);
	json_var(
	    b, "instance", "label_values(choreoscope_build_info{job=~\"$job\"}, instance)", true);
	json_flow_var(b, g);
	jbuf_puts(b, "\n  ]},\n  \"panels\": [\n");
	for (int i = 0; i < np; i++) {
		if (i)
			jbuf_puts(b, ",\n");
		json_panel(b, i + 1, panels[i].title, panels[i].unit, panels[i].desc, panels[i].t,
		    3, (i % 2) * 12, (i / 2) * 8, 12);
	}
	json_flow_rows(b, g, np + 1, (np + 1) / 2 * 8);
	jbuf_puts(b, "\n  ]\n}\n");
}

/* src with every "{JOB" replaced by "{<sel>" (sel: the job and, per flow, flow). */
static void subst_job(struct jbuf *b, const char *src, const char *job, const char *flow)
{
	const char *at;
	while ((at = strstr(src, "{JOB")) != NULL) {
		jbuf_printf(b, "%.*s{job=~\"%s\"", (int)(at - src), src, job);
		if (flow)
			jbuf_printf(b, ",flow=\"%s\"", flow);
		src = at + 4;
	}
	jbuf_puts(b, src);
}

/* The annotation naming one example instance: the rule's (flow, step, kind) series of
 * choreoscope_anomaly_example_info, looked up when the alert is evaluated. A label
 * of the alert it cannot be: a new instance would make a new alert. */
static void example_annotations(struct jbuf *b, const char *kind)
{
	char q[512];
	snprintf(q, sizeof q,
	    "{{ with printf `choreoscope_anomaly_example_info{job=%%q,"
	    "instance=%%q,flow=%%q,step=%%q,kind=\"%s\"}` $labels.job $labels.instance "
	    "$labels.flow $labels.step | query }}",
	    kind);
	jbuf_puts(b, "\n          example_correlation_id: ");
	char v[1024];
	snprintf(v, sizeof v,
	    "%s{{ . | first | label \"correlation_id\" }}{{ else }}none "
	    "recorded{{ end }}",
	    q);
	jbuf_json_str(b, v);
	jbuf_puts(b, "\n          example: ");
	snprintf(v, sizeof v,
	    "%s{{ $c := . | first | label \"correlation_id\" }}http://"
	    "{{ $labels.instance }}/api/v1/flows?state=all&flow={{ $labels.flow }}&q={{ $c | "
	    "urlquery }}"
	    "{{ else }}none recorded{{ end }}",
	    q);
	jbuf_json_str(b, v);
}

static void runbook_anchor(char *dst, size_t n, const char *alert)
{
	size_t i = 0;
	for (; alert[i] && i + 1 < n; i++)
		dst[i] =
		    (char)(alert[i] >= 'A' && alert[i] <= 'Z' ? alert[i] - 'A' + 'a' : alert[i]);
	dst[i] = '\0';
}

static void yaml_rule(struct jbuf *b, const struct rule *r, const struct gen_opts *o,
    const char *flow, const char *expr_override, const char *severity)
{
	jbuf_printf(b, "      - alert: %s%s%s\n        expr: '", r->alert, flow ? "_" : "",
	    flow ? flow : "");
	subst_job(b, expr_override ? expr_override : r->expr, o->job, flow);
	jbuf_puts(b, "'\n");
	if (strcmp(r->for_, "0m") != 0)
		jbuf_printf(b, "        for: %s\n", r->for_);
	jbuf_printf(
	    b, "        labels:\n          severity: %s\n", severity ? severity : r->severity);
	jbuf_puts(b, "        annotations:\n          summary: ");
	jbuf_json_str(b, r->summary);
	jbuf_puts(b, "\n          description: ");
	jbuf_json_str(b, r->desc);
	char v[1024];
	if (r->api) {
		snprintf(v, sizeof v, "http://{{ $labels.instance }}%s", r->api);
		jbuf_puts(b, "\n          api: ");
		jbuf_json_str(b, v);
	}
	if (r->example)
		example_annotations(b, r->example);
	jbuf_puts(b, "\n          tui: ");
	jbuf_json_str(b,
	    r->example ? "choreoscope-tui --url http://{{ $labels.instance }} "
			 "(then 2, and / with the correlation id)"
		       : "choreoscope-tui --url http://{{ $labels.instance }}");
	char anchor[128];
	runbook_anchor(anchor, sizeof anchor, r->alert);
	snprintf(v, sizeof v, "%s#%s", o->runbook, anchor);
	jbuf_puts(b, "\n          runbook_url: ");
	jbuf_json_str(b, v);
	jbuf_puts(b, "\n");
}

static const char *flow_severity(const struct gen_opts *o, const char *flow)
{
	for (int i = 0; i < o->nsev; i++)
		if (strcmp(o->sev_flow[i], flow) == 0)
			return o->sev_level[i];
	return NULL;
}

/* Per-flow stall-age rule: one comparison per step that can stall, each against its
 * own threshold (metrics_stall_threshold: half of flow deadline - step within). */
static void yaml_stall_age(
    struct jbuf *b, const struct fg_flow *fl, const struct gen_opts *o, const char *sev)
{
	struct jbuf e;
	jbuf_init(&e, 1 << 20);
	for (int s = 0; s < fl->nsteps; s++) {
		double thr = metrics_stall_threshold(fl, s);
		if (thr < 0)
			continue;
		jbuf_printf(&e,
		    "%smax by (job, instance, flow, step) (choreoscope_oldest_stall_"
		    "age_seconds{JOB,step=\"%s\"}) > %g",
		    e.len ? " or " : "", fl->steps[s].name, thr);
	}
	if (e.len)
		yaml_rule(b, &rules[R_STALL_AGE], o, fl->name, e.p, sev);
	jbuf_free(&e);
}

/* Tailored: the stall rules per flow (severity per flow with --severity), the
 * stall-age thresholds written out per step. */
static void yaml_flow_rules(struct jbuf *b, const struct flowgraph *g, const struct gen_opts *o)
{
	for (int f = 0; g && f < g->nflows; f++) {
		const struct fg_flow *fl = &g->flows[f];
		const char *sev = flow_severity(o, fl->name);
		if (f == 0)
			jbuf_puts(b, "  - name: choreoscope-flows\n    rules:\n");
		yaml_rule(b, &rules[R_STALLED], o, fl->name, NULL, sev);
		yaml_rule(b, &rules[R_ABANDONED], o, fl->name, NULL, sev);
		yaml_stall_age(b, fl, o, sev);
	}
}

static void render_rules(struct jbuf *b, const struct flowgraph *g, const struct gen_opts *o)
{
	jbuf_puts(b,
	    "# Prometheus alert rules for choreoscope (generated by "
	    "`choreoscope gen-dashboards`).\ngroups:\n  - name: choreoscope\n    rules:\n");
	/* with flows, per-flow stall rules replace the generic ones */
	for (int i = g ? R_NSTALL : 0; i < NRULES; i++)
		yaml_rule(b, &rules[i], o, NULL, NULL, NULL);
	yaml_flow_rules(b, g, o);
}

static int write_file(const char *dir, const char *name, const struct jbuf *b)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "choreoscope: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = fwrite(b->p, 1, b->len, f);
	if (fclose(f) != 0 || n != b->len) {
		fprintf(stderr, "choreoscope: %s: write failed\n", path);
		return -1;
	}
	printf("wrote %s\n", path);
	return 0;
}

struct dgflags {
	const char *config, *out;
	struct gen_opts o;
};

/* --severity FLOW=LEVEL: LEVEL one of critical, warning, info. FLOW is checked
 * against the config once it is loaded. */
static int set_severity(
    void *ctx, const struct cliopt *opt, const char *val, char *err, size_t errlen)
{
	struct gen_opts *o = &((struct dgflags *)ctx)->o;
	char *arg = (char *)val; /* an argv string: split in place */
	char *eq = strchr(arg, '=');
	(void)opt;
	if (o->nsev == MAX_SEVERITIES) {
		snprintf(err, errlen, "at most %d", MAX_SEVERITIES);
		return -1;
	}
	if (eq == NULL || eq == arg ||
	    (strcmp(eq + 1, "critical") != 0 && strcmp(eq + 1, "warning") != 0 &&
		strcmp(eq + 1, "info") != 0)) {
		snprintf(err, errlen, "expected FLOW=critical|warning|info, found \"%s\"", val);
		return -1;
	}
	*eq = '\0';
	o->sev_flow[o->nsev] = arg;
	o->sev_level[o->nsev++] = eq + 1;
	return 0;
}

#define DG(f) offsetof(struct dgflags, f)
static const struct cliopt dgopts[] = {
	{ "--config", "FILE", "tailor the dashboard and rules to the flows of FILE", NULL,
	    DG(config), 0 },
	{ "--out", "DIR", "output directory (default: .)", NULL, DG(out), 0 },
	{ "--job", "REGEX", "Prometheus job of the collectors in the rules (default: choreoscope)",
	    NULL, DG(o.job), 0 },
	{ "--runbook-url", "URL",
	    "base of every rule's runbook_url; #alertname is appended\n"
	    "(default: " DEFAULT_RUNBOOK ")",
	    NULL, DG(o.runbook), 0 },
	{ "--severity", "FLOW=LEVEL",
	    "severity label of FLOW's stall rules (with --config; repeatable;\n"
	    "default: stalled warning, abandoned and stall age critical)",
	    set_severity, 0, 0 },
};

static const struct clicmd dgcmd = {
	.prog = "choreoscope gen-dashboards",
	.synopsis =
	    "usage: choreoscope gen-dashboards [--config FILE] [--out DIR] [--job REGEX]\n"
	    "           [--runbook-url URL] [--severity FLOW=LEVEL ...]\n"
	    "Writes DIR/choreoscope-dashboard.json (Grafana) and DIR/choreoscope-rules.yml\n"
	    "(Prometheus alert rules). With --config they are tailored to its flows.\n",
	.opts = dgopts,
	.nopts = sizeof dgopts / sizeof dgopts[0],
};

int dashgen_main(int argc, char **argv)
{
	const char *sev_flow[MAX_SEVERITIES], *sev_level[MAX_SEVERITIES];
	struct dgflags fl = { .out = ".",
		.o = { .job = "choreoscope",
		    .runbook = DEFAULT_RUNBOOK,
		    .sev_flow = sev_flow,
		    .sev_level = sev_level } };
	int pr = cliopt_parse(&dgcmd, argc, argv, &fl, NULL, NULL);
	if (pr != CLIOPT_RUN)
		return cliopt_exit_status(pr);
	const char *cfgpath = fl.config, *out = fl.out;
	struct gen_opts o = fl.o;
	struct config *cfg = NULL;
	char err[4096];
	if (cfgpath && config_load(cfgpath, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	for (int i = 0; cfg && i < o.nsev; i++)
		if (fg_flow_index(&cfg->graph, o.sev_flow[i]) < 0) {
			fprintf(stderr, "choreoscope: --severity: no flow named %s in %s\n",
			    o.sev_flow[i], cfgpath);
			config_free(cfg);
			return 2;
		}
	mkdir(out, 0777);
	struct jbuf d, r;
	jbuf_init(&d, (size_t)64 << 20);
	jbuf_init(&r, (size_t)64 << 20);
	render_dashboard(&d, cfg ? &cfg->graph : NULL);
	render_rules(&r, cfg ? &cfg->graph : NULL, &o);
	int rc = d.overflow || r.overflow ||
		write_file(out, "choreoscope-dashboard.json", &d) < 0 ||
		write_file(out, "choreoscope-rules.yml", &r) < 0
	    ? 1
	    : 0;
	jbuf_free(&d);
	jbuf_free(&r);
	config_free(cfg);
	return rc;
}
