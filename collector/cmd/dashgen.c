/*
 * dashgen: `choreoscope gen-dashboards [--config FILE] [--out DIR] [--job NAME]`
 * writes a Grafana dashboard (choreoscope-dashboard.json) and Prometheus alert rules
 * (choreoscope-rules.yml) from one table of panels and one of rules, so the
 * dashboards/ files, the generated ones and the metrics never disagree.
 *
 * Without --config the output is generic (the committed dashboards/ files). With a
 * config it is tailored: the flow variable lists the user's flows, each flow gets a
 * row of per-step panels, and each flow gets its own stall-age alert whose threshold
 * is the flow's overall deadline (or 10x its longest step deadline).
 * Single-threaded; output is deterministic (tests compare it byte for byte).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cli.h"
#include "config/config.h"
#include "lib/jbuf.h"

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
	{"Events consumed / s", "ops", "Events read from Kafka (or a file), by topic.",
	    {{"sum by (topic) (rate(choreoscope_events_consumed_total{" SEL "}" RI "))",
	         "{{topic}}"},
	        {"sum by (reason) (rate(choreoscope_events_rejected_total{" SEL "}" RI "))",
	            "rejected {{reason}}"}}},
	{"Flows started / s", "ops", "Flow instances opened, by flow.",
	    {{"sum by (flow) (rate(choreoscope_flows_started_total{" FSEL "}" RI "))",
	        "{{flow}}"}}},
	{"Flows in flight", "short", "Open flow instances.",
	    {{"sum by (flow) (choreoscope_flows_in_flight{" FSEL "})", "{{flow}}"}}},
	{"Outcomes / s", "ops", "Closed flow instances by outcome.",
	    {{"sum by (flow, outcome) (rate(choreoscope_flows_closed_total{" FSEL "}" RI "))",
	        "{{flow}} {{outcome}}"}}},
	{"Stalled flows by awaited step", "short",
	    "Open instances whose awaited step is past its deadline.",
	    {{"sum by (flow, step) (choreoscope_flows_stalled{" FSEL "})", "{{flow}} {{step}}"}}},
	{"Oldest stall age", "s", "Age of the oldest current stall, per awaited step.",
	    {{"max by (flow, step) (choreoscope_oldest_stall_age_seconds{" FSEL "})",
	        "{{flow}} {{step}}"}}},
	{"Anomalies / s by kind", "ops", "Verdicts against the flow graphs.",
	    {{"sum by (kind) (rate(choreoscope_anomalies_total{" FSEL "}" RI "))", "{{kind}}"}}},
	{"Step latency p50 / p99", "s", "From a step becoming expected to its event.",
	    {{"histogram_quantile(0.5, sum by (flow, step, le) "
	      "(rate(choreoscope_step_latency_seconds_bucket{" FSEL "}" RI ")))",
	         "p50 {{flow}} {{step}}"},
	        {"histogram_quantile(0.99, sum by (flow, step, le) "
	         "(rate(choreoscope_step_latency_seconds_bucket{" FSEL "}" RI ")))",
	            "p99 {{flow}} {{step}}"}}},
	{"Flow duration p50 / p99", "s", "Open to close, by outcome.",
	    {{"histogram_quantile(0.5, sum by (flow, outcome, le) "
	      "(rate(choreoscope_flow_duration_seconds_bucket{" FSEL "}" RI ")))",
	         "p50 {{flow}} {{outcome}}"},
	        {"histogram_quantile(0.99, sum by (flow, outcome, le) "
	         "(rate(choreoscope_flow_duration_seconds_bucket{" FSEL "}" RI ")))",
	            "p99 {{flow}} {{outcome}}"}}},
	{"Consumer lag", "short", "Messages behind the high watermark, per partition.",
	    {{"sum by (topic, partition) (choreoscope_consumer_lag{" SEL "})",
	        "{{topic}}/{{partition}}"}}},
	{"Evictions / s by awaited step", "ops", "Instances dropped under the memory bound.",
	    {{"sum by (flow, step) (rate(choreoscope_flows_evicted_total{" FSEL "}" RI "))",
	        "{{flow}} {{step}}"}}},
	{"Collector up", "short", "Scrape health of each collector.",
	    {{"up{" SEL "}", "{{instance}}"}}},
};

struct rule {
	const char *alert, *expr, *for_, *severity, *summary, *desc;
};

/* {JOB} is replaced by the job selector. Thresholds are defaults to tune. */
static const struct rule rules[] = {
	{"ChoreoscopeSagasStalled",
	    "sum by (job, instance, flow, step) (choreoscope_flows_stalled{JOB}) > 0", "1m",
	    "warning", "{{ $value }} {{ $labels.flow }} flows stalled waiting for {{ $labels.step }}",
	    "Open {{ $labels.flow }} instances are past the deadline of step {{ $labels.step }} "
	    "on {{ $labels.instance }}: the service that should emit it may be down or "
	    "dropping events. See /api/v1/flows?state=stalled&awaiting={{ $labels.step }}."},
	{"ChoreoscopeOldestStallOld",
	    "max by (job, instance, flow, step) (choreoscope_oldest_stall_age_seconds{JOB}) > 600",
	    "1m", "critical",
	    "A {{ $labels.flow }} flow has waited {{ $value | humanizeDuration }} for {{ $labels.step }}",
	    "The oldest stalled {{ $labels.flow }} instance on {{ $labels.instance }} has been "
	    "stalled on {{ $labels.step }} longer than the threshold in this rule's expression "
	    "(generic rule: 10 minutes; generated per-flow rules: the flow's deadline)."},
	{"ChoreoscopeAnomalyRateHigh",
	    "sum by (job, instance, flow, kind) (rate(choreoscope_anomalies_total{JOB,kind!=\"late\"}[5m])) > 0.1",
	    "5m", "warning",
	    "{{ $labels.flow }}: {{ $value | humanize }} {{ $labels.kind }} anomalies per second",
	    "The {{ $labels.kind }} verdict rate of flow {{ $labels.flow }} on "
	    "{{ $labels.instance }} stayed above 0.1/s for 5 minutes."},
	{"ChoreoscopeConsumerLagHigh",
	    "sum by (job, instance, topic) (choreoscope_consumer_lag{JOB}) > 10000", "5m",
	    "warning", "Collector {{ $labels.instance }} is {{ $value }} messages behind on {{ $labels.topic }}",
	    "Consumer lag above 10000 for 5 minutes: verdicts are late (stall deadlines use "
	    "the last consumed message time while lagging, so no false stalls)."},
	{"ChoreoscopeFlowsEvicted",
	    "sum by (job, instance, flow) (increase(choreoscope_flows_evicted_total{JOB}[10m])) > 0",
	    "0m", "warning", "{{ $labels.flow }} instances evicted under the in-flight bound",
	    "The collector dropped open {{ $labels.flow }} instances because max_flows was "
	    "reached; raise it or find why flows do not close."},
	{"ChoreoscopeCollectorDown", "up{JOB} == 0", "1m", "critical",
	    "choreoscope collector {{ $labels.instance }} is down",
	    "Prometheus cannot scrape {{ $labels.instance }}: no flow is being watched there."},
};

static void json_panel(struct jbuf *b, int id, const char *title, const char *unit,
    const char *desc, const struct target *t, int nt, int x, int y, int w)
{
	jbuf_printf(b, "    {\"id\": %d, \"type\": \"timeseries\", \"title\": ", id);
	jbuf_json_str(b, title);
	jbuf_puts(b, ", \"description\": ");
	jbuf_json_str(b, desc);
	jbuf_puts(b, ",\n     \"datasource\": {\"type\": \"prometheus\", \"uid\": \"${datasource}\"},\n");
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
	jbuf_puts(b, ", \"type\": \"query\", \"datasource\": {\"type\": \"prometheus\", "
	             "\"uid\": \"${datasource}\"}, \"query\": ");
	jbuf_json_str(b, query);
	jbuf_printf(b, ", \"refresh\": 2, \"multi\": %s, \"includeAll\": %s, \"allValue\": \".+\", "
	               "\"current\": {}, \"sort\": 1}",
	    all ? "true" : "false", all ? "true" : "false");
}

static void json_flow_var(struct jbuf *b, const struct flowgraph *g)
{
	if (g == NULL)
		return json_var(b, "flow",
		    "label_values(choreoscope_flows_in_flight{" SEL "}, flow)", true);
	jbuf_puts(b, ",\n    {\"name\": \"flow\", \"type\": \"custom\", \"multi\": true, "
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
		jbuf_printf(b, ", \"collapsed\": false, \"gridPos\": {\"h\": 1, \"w\": 24, \"x\": 0, "
		               "\"y\": %d}, \"panels\": []},\n", y++);
		snprintf(e1, sizeof(e1), "sum by (step) (choreoscope_flows_awaiting{" SEL
		    ",flow=\"%s\"})", n);
		snprintf(e2, sizeof(e2), "sum by (step) (choreoscope_flows_stalled{" SEL
		    ",flow=\"%s\"})", n);
		struct target t1[] = {{e1, "awaiting {{step}}"}, {e2, "stalled {{step}}"}};
		snprintf(title, sizeof(title), "%s: awaiting and stalled by step", n);
		json_panel(b, id++, title, "short", "Open instances per awaited step.", t1, 2, 0, y, 12);
		snprintf(e1, sizeof(e1), "histogram_quantile(0.99, sum by (step, le) "
		    "(rate(choreoscope_step_latency_seconds_bucket{" SEL ",flow=\"%s\"}" RI ")))", n);
		struct target t2[] = {{e1, "p99 {{step}}"}};
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
	jbuf_puts(b, "{\n  \"title\": \"choreoscope\",\n  \"uid\": \"choreoscope\",\n"
	             "  \"tags\": [\"choreoscope\", \"sagas\"],\n  \"schemaVersion\": 38,\n"
	             "  \"version\": 1,\n  \"editable\": true,\n  \"refresh\": \"10s\",\n"
	             "  \"time\": {\"from\": \"now-1h\", \"to\": \"now\"},\n"
	             "  \"templating\": {\"list\": [\n"
	             "    {\"name\": \"datasource\", \"type\": \"datasource\", \"query\": "
	             "\"prometheus\", \"current\": {}}");
	json_var(b, "job", "label_values(choreoscope_build_info, job)", true);
	json_var(b, "instance", "label_values(choreoscope_build_info{job=~\"$job\"}, instance)",
	    true);
	json_flow_var(b, g);
	jbuf_puts(b, "\n  ]},\n  \"panels\": [\n");
	for (int i = 0; i < np; i++) {
		if (i)
			jbuf_puts(b, ",\n");
		json_panel(b, i + 1, panels[i].title, panels[i].unit, panels[i].desc, panels[i].t, 3,
		    (i % 2) * 12, (i / 2) * 8, 12);
	}
	json_flow_rows(b, g, np + 1, (np + 1) / 2 * 8);
	jbuf_puts(b, "\n  ]\n}\n");
}

static void yaml_rule(struct jbuf *b, const struct rule *r, const char *job,
    const char *flow, const char *expr_override)
{
	char sel[256], expr[1024];
	snprintf(sel, sizeof(sel), "job=~\"%s\"%s%s%s", job, flow ? ",flow=\"" : "",
	    flow ? flow : "", flow ? "\"" : "");
	const char *src = expr_override ? expr_override : r->expr;
	const char *at = strstr(src, "{JOB");
	if (at == NULL)
		snprintf(expr, sizeof(expr), "%s", src);
	else
		snprintf(expr, sizeof(expr), "%.*s{%s%s", (int)(at - src), src, sel, at + 4);
	jbuf_printf(b, "      - alert: %s%s%s\n        expr: '%s'\n", r->alert, flow ? "_" : "",
	    flow ? flow : "", expr);
	if (strcmp(r->for_, "0m") != 0)
		jbuf_printf(b, "        for: %s\n", r->for_);
	jbuf_printf(b, "        labels:\n          severity: %s\n", r->severity);
	jbuf_puts(b, "        annotations:\n          summary: ");
	jbuf_json_str(b, r->summary);
	jbuf_puts(b, "\n          description: ");
	jbuf_json_str(b, r->desc);
	jbuf_puts(b, "\n");
}

/* Per-flow stall-age alert: threshold = the flow deadline, else 10x its longest step
 * deadline, else the generic 600 s. */
static void yaml_flow_rules(struct jbuf *b, const struct flowgraph *g, const char *job)
{
	for (int f = 0; g && f < g->nflows; f++) {
		const struct fg_flow *fl = &g->flows[f];
		int64_t thr = fl->deadline_ns;
		for (int s = 0; thr < 0 && s < fl->nsteps; s++)
			if (fl->steps[s].within_ns * 10 > thr)
				thr = fl->steps[s].within_ns * 10;
		double secs = thr > 0 ? (double)thr / 1e9 : 600;
		char expr[512];
		snprintf(expr, sizeof(expr), "max by (job, instance, flow, step) "
		    "(choreoscope_oldest_stall_age_seconds{JOB}) > %g", secs);
		if (f == 0)
			jbuf_puts(b, "  - name: choreoscope-flows\n    rules:\n");
		yaml_rule(b, &rules[1], job, fl->name, expr);
	}
}

static void render_rules(struct jbuf *b, const struct flowgraph *g, const char *job)
{
	jbuf_puts(b, "# Prometheus alert rules for choreoscope (generated by "
	             "`choreoscope gen-dashboards`).\ngroups:\n  - name: choreoscope\n    rules:\n");
	/* with flows, the per-flow stall-age rules replace the generic one (rules[1]) */
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (i != 1 || g == NULL)
			yaml_rule(b, &rules[i], job, NULL, NULL);
	yaml_flow_rules(b, g, job);
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

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
	    "usage: choreoscope gen-dashboards [--config FILE] [--out DIR] [--job REGEX]\n"
	    "Writes DIR/choreoscope-dashboard.json (Grafana) and DIR/choreoscope-rules.yml\n"
	    "(Prometheus alert rules). With --config they are tailored to its flows.\n"
	    "  --out DIR    output directory (default: .)\n"
	    "  --job REGEX  Prometheus job of the collectors in the rules (default: choreoscope)\n");
	return rc;
}

int dashgen_main(int argc, char **argv)
{
	const char *cfgpath = NULL, *out = ".", *job = "choreoscope";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return usage(0);
		if (i + 1 >= argc)
			return usage(2);
		if (strcmp(argv[i], "--config") == 0)
			cfgpath = argv[++i];
		else if (strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--job") == 0)
			job = argv[++i];
		else
			return usage(2);
	}
	struct config *cfg = NULL;
	char err[4096];
	if (cfgpath && config_load(cfgpath, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	mkdir(out, 0777);
	struct jbuf d, r;
	jbuf_init(&d, (size_t)64 << 20);
	jbuf_init(&r, (size_t)64 << 20);
	render_dashboard(&d, cfg ? &cfg->graph : NULL);
	render_rules(&r, cfg ? &cfg->graph : NULL, job);
	int rc = d.overflow || r.overflow ||
	    write_file(out, "choreoscope-dashboard.json", &d) < 0 ||
	    write_file(out, "choreoscope-rules.yml", &r) < 0 ? 1 : 0;
	jbuf_free(&d);
	jbuf_free(&r);
	config_free(cfg);
	return rc;
}
