/*
 * config_flows: the `flows:` section: the flow and step tables, parsing them
 * into struct flowgraph, and validating each graph.
 *
 * A flow is parsed in three passes over its YAML: the settings (table walk), the
 * names (after / after_any / instead_of / complete_when / end resolve to step
 * bits and outcome indexes once every step is known), then the graph checks
 * (starts, ends, reachability). Every problem is reported with the position of
 * the node at fault. Steps get bits in declaration order, at most FG_MAX_STEPS.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/config.h"
#include "config/config_yaml.h"

enum { FF_NAME, FF_DEADLINE, FF_LATENESS, FF_KEYS, FF_COMPLETE_WHEN, FF_STEPS, FF_N };
enum {
	SF_START,
	SF_AFTER,
	SF_AFTER_ANY,
	SF_WITHIN,
	SF_JOIN_WITHIN,
	SF_INSTEAD_OF,
	SF_RETRIES,
	SF_OPTIONAL,
	SF_END,
	SF_KEY,
	SF_OWNER,
	SF_N
};

static void set_names(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v);
static void set_end(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v);
static void set_steps(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v);
static void set_flows(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v);

static const struct cfg_type t_names = { "list of step names", "a list of step names", set_names };
static const struct cfg_type t_end = { "true or name", "true or an outcome name", set_end };
static const struct cfg_type t_steps = { "mapping", "a mapping of step names to step settings",
	set_steps };
const struct cfg_type cfg_t_flows = { "list of flows", "a list of flows", set_flows };

#define FO(m) offsetof(struct fg_flow, m)
#define SO(m) offsetof(struct fg_step, m)

static const struct cfg_field flow_fields[FF_N] = {
	[FF_NAME] = { "name", &cfg_t_str, FO(name), .flags = CF_REQUIRED,
	    .help = "The flow's name (metrics label, `flow` field of events)." },
	[FF_DEADLINE] = { "deadline", &cfg_t_duration, FO(deadline_ns),
	    .help = "Overall deadline from the flow's open (earliest event time); past it the "
		    "flow is `abandoned`. Unset: none." },
	[FF_LATENESS] = { "lateness", &cfg_t_duration, FO(lateness_ns), .def = "5s",
	    .help = "How late (event time) an event may arrive: the clock is the highest event "
		    "time minus this; also the grace for `missing` and `out_of_order`." },
	[FF_KEYS] = { "keys", &cfg_t_strlist, FO(keys), .noff = FO(nkeys),
	    .help = "Attributes whose values also identify an instance: an event carrying two "
		    "keys links them. Every step's `key` is added to this list." },
	[FF_COMPLETE_WHEN] = { "complete_when", &t_names,
	    .help = "Steps that, once all have happened, close the flow as `completed` "
		    "(parallel branches with no join event)." },
	[FF_STEPS] = { "steps", &t_steps, .flags = CF_REQUIRED,
	    .help = "The steps, keyed by event type, in declaration order (see step settings)." },
};

static const struct cfg_field step_fields[SF_N] = {
	[SF_START] = { "start", &cfg_t_bool, SO(start), .def = "false",
	    .help = "The step opens the flow; it is never expected." },
	[SF_AFTER] = { "after", &t_names,
	    .help = "Steps that must all have happened before this one is expected (AND-join)." },
	[SF_AFTER_ANY] = { "after_any", &t_names,
	    .help = "Steps of which the first to happen makes this one expected (OR-join)." },
	[SF_WITHIN] = { "within", &cfg_t_duration, SO(within_ns),
	    .help = "Deadline from the moment the step became expected; past it: `stalled`. "
		    "Unset: none." },
	[SF_JOIN_WITHIN] = { "join_within", &cfg_t_duration, SO(join_within_ns),
	    .help = "With `after` of 2 or more: bound from the first predecessor to the last; "
		    "past it: `join_wait`. Unset: none." },
	[SF_INSTEAD_OF] = { "instead_of", &t_names,
	    .help = "Exclusive alternatives (made symmetric): the first to happen cancels the "
		    "others." },
	[SF_RETRIES] = { "retries", &cfg_t_uint, SO(retries), .def = "0",
	    .help = "Allowed repeats: 0 makes a repeat `double_step`; more than n+1 "
		    "occurrences are `retry_storm`." },
	[SF_OPTIONAL] = { "optional", &cfg_t_bool, SO(optional), .def = "false",
	    .help = "Expected but never `stalled`." },
	[SF_END] = { "end", &t_end,
	    .help = "Terminal step: closes the flow with this outcome (`true` means "
		    "`completed`; e.g. `compensated`)." },
	[SF_KEY] = { "key", &cfg_t_str, SO(key_attr),
	    .help = "Attribute carrying this step's key (for flows whose key changes "
		    "mid-flow)." },
	[SF_OWNER] = { "owner", &cfg_t_str, SO(owner),
	    .help = "The service that owes this step's event (e.g. `inventory-service`): "
		    "`stalled`, `missing`, `abandoned` and `late` verdicts carry it, the API and "
		    "the TUI show it. Unset: learned as the most frequent `source` of the step's "
		    "events, and shown as learned (never in records)." },
};

const struct cfg_field *cfg_flow_fields(int *n)
{
	*n = FF_N;
	return flow_fields;
}

const struct cfg_field *cfg_step_fields(int *n)
{
	*n = SF_N;
	return step_fields;
}

/* ---- shape checks (names resolve later, once all steps are known) ---- */

static void set_names(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	if (v->type == YAML_MAPPING_NODE) {
		cfg_bad_value(c, w, f, v, "expected %s, found a mapping", f->type->expect);
		return;
	}
	if (v->type == YAML_SEQUENCE_NODE &&
	    v->data.sequence.items.start == v->data.sequence.items.top) {
		cfg_bad_value(c, w, f, v, "expected %s, found an empty list", f->type->expect);
		return;
	}
	yaml_node_item_t *items = NULL;
	int n = v->type == YAML_SCALAR_NODE
	    ? 1
	    : (int)(v->data.sequence.items.top - (items = v->data.sequence.items.start));
	for (int k = 0; k < n && cfg_more(c, v); k++) {
		yaml_node_t *item = items ? cfg_node(c, items[k]) : v;
		if (item->type != YAML_SCALAR_NODE || cfg_is_null(item) ||
		    cfg_text(item)[0] == '\0')
			cfg_bad_value(c, w, f, item, "expected a step name, found %s",
			    item->type == YAML_SCALAR_NODE && !cfg_is_null(item)
				? "an empty string"
				: cfg_describe(item, got, sizeof got));
	}
}

static void set_end(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	if (v->type != YAML_SCALAR_NODE)
		cfg_bad_value(c, w, f, v, "expected %s, found %s", f->type->expect,
		    cfg_describe(v, got, sizeof got));
}

static void set_steps(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	if (v->type != YAML_MAPPING_NODE)
		cfg_bad_value(c, w, f, v, "expected %s, found %s", f->type->expect,
		    cfg_describe(v, got, sizeof got));
	else if (v->data.mapping.pairs.start == v->data.mapping.pairs.top)
		cfg_bad_value(c, w, f, v, "expected at least one step, found an empty mapping");
}

/* ---- names to bits ---- */

/* Items of a name list: the node itself when it is one scalar. */
static int list_items(yaml_node_t *v, yaml_node_item_t **it)
{
	if (v == NULL || v->type == YAML_MAPPING_NODE || cfg_is_null(v))
		return 0;
	if (v->type == YAML_SCALAR_NODE)
		return -1;
	*it = v->data.sequence.items.start;
	return (int)(v->data.sequence.items.top - v->data.sequence.items.start);
}

/* Resolves the step names of `v` into *mask. `self` is the step whose list it is
 * (-1 for the flow's complete_when); `where` names the list in messages.
 * Returns the number of names that did not resolve. */
static int names_mask(struct cfg_ctx *c, const struct fg_flow *fl, int self, yaml_node_t *v,
    const char *where, fg_mask *mask)
{
	yaml_node_item_t *items = NULL;
	const char *cands[FG_MAX_STEPS];
	int n = list_items(v, &items), bad = 0;
	for (int i = 0; i < fl->nsteps; i++)
		cands[i] = fl->steps[i].name;
	for (int k = 0; k < (n < 0 ? 1 : n) && cfg_more(c, v); k++) {
		yaml_node_t *item = n < 0 ? v : cfg_node(c, items[k]);
		const char *name = cfg_text(item);
		if (name == NULL || cfg_is_null(item) || name[0] == '\0') {
			bad++;
			continue;
		}
		int idx = fg_step_index(fl, name);
		if (idx < 0) {
			const char *near = cfg_suggest(name, cands, fl->nsteps);
			if (near != NULL)
				cfg_error(c, item,
				    "unknown step \"%s\" in %s; did you mean \"%s\"?", name, where,
				    near);
			else
				cfg_error(c, item, "unknown step \"%s\" in %s", name, where);
			bad++;
		} else if (idx == self) {
			cfg_error(c, item, "step \"%s\" lists itself in %s", name, where);
			bad++;
		} else {
			*mask |= FG_BIT(idx);
		}
	}
	return bad + (v != NULL && (v->type == YAML_MAPPING_NODE || n == 0));
}

static int add_outcome(struct fg_flow *fl, const char *name)
{
	for (int i = 0; i < fl->noutcomes; i++)
		if (strcmp(fl->outcomes[i], name) == 0)
			return i;
	char **o = realloc(fl->outcomes, (size_t)(fl->noutcomes + 1) * sizeof *o);
	if (o == NULL)
		return -1;
	fl->outcomes = o;
	o[fl->noutcomes] = strdup(name);
	return fl->noutcomes++;
}

static void resolve_end(struct fg_flow *fl, struct fg_step *st, yaml_node_t *v)
{
	const char *s = cfg_text(v);
	if (s == NULL || cfg_is_null(v))
		return;
	bool plain = v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (plain && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
		return;
	if (plain && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
		s = "completed";
	st->outcome = add_outcome(fl, s);
}

static void add_key(struct fg_flow *fl, const char *key)
{
	for (int i = 0; i < fl->nkeys; i++)
		if (strcmp(fl->keys[i], key) == 0)
			return;
	char **k = realloc(fl->keys, (size_t)(fl->nkeys + 1) * sizeof *k);
	if (k == NULL)
		return;
	fl->keys = k;
	k[fl->nkeys++] = strdup(key);
}

/* Names to bits and outcomes, and the derived masks (symmetric alts, succ).
 * Steps whose lists did not resolve are added to *taint; returns the number of
 * complete_when names that did not resolve. */
static int resolve(struct cfg_ctx *c, struct fg_flow *fl, yaml_node_t *(*sv)[SF_N],
    yaml_node_t **fv, const char *fwhat, fg_mask *taint)
{
	char where[256];
	for (int i = 0; i < fl->nsteps; i++) {
		struct fg_step *st = &fl->steps[i];
		snprintf(where, sizeof where, "\"after\" of step \"%s\"", st->name);
		int bad = names_mask(c, fl, i, sv[i][SF_AFTER], where, &st->after);
		snprintf(where, sizeof where, "\"after_any\" of step \"%s\"", st->name);
		bad += names_mask(c, fl, i, sv[i][SF_AFTER_ANY], where, &st->after_any);
		snprintf(where, sizeof where, "\"instead_of\" of step \"%s\"", st->name);
		bad += names_mask(c, fl, i, sv[i][SF_INSTEAD_OF], where, &st->alts);
		if (bad)
			*taint |= FG_BIT(i);
		resolve_end(fl, st, sv[i][SF_END]);
		if (st->key_attr != NULL)
			add_key(fl, st->key_attr);
	}
	for (int i = 0; i < fl->nsteps; i++) {
		const struct fg_step *st = &fl->steps[i];
		for (int j = 0; j < fl->nsteps; j++) {
			if (st->alts & FG_BIT(j))
				fl->steps[j].alts |= FG_BIT(i);
			if ((st->after | st->after_any) & FG_BIT(j))
				fl->steps[j].succ |= FG_BIT(i);
		}
	}
	snprintf(where, sizeof where, "\"complete_when\" of %s", fwhat);
	return names_mask(c, fl, -1, fv[FF_COMPLETE_WHEN], where, &fl->complete_when);
}

/* ---- graph checks ---- */

static int ctz(fg_mask m) { return __builtin_ctzll(m); }

/* Closure of `from` under `edges` (bit i -> edges[i]). */
static fg_mask closure(fg_mask from, const fg_mask *edges)
{
	fg_mask seen = from, frontier = from;
	while (frontier) {
		fg_mask next = 0;
		for (fg_mask m = frontier; m; m &= m - 1)
			next |= edges[ctz(m)];
		frontier = next & ~seen;
		seen |= next;
	}
	return seen;
}

static void error_at_step(
    struct cfg_ctx *c, const struct fg_step *st, const char *fmt, const char *a)
{
	cfg_error_at(c, st->line, st->col, fmt, a);
}

/* Per step: how it becomes expected, and join_within's precondition. Returns
 * the steps reported for having no way in. Tainted steps (a problem already
 * reported in their settings) are not judged again on what they lack. */
static fg_mask check_steps(
    struct cfg_ctx *c, const struct fg_flow *fl, yaml_node_t *(*sv)[SF_N], fg_mask taint)
{
	fg_mask bad = 0;
	for (int i = 0; i < fl->nsteps; i++) {
		const struct fg_step *st = &fl->steps[i];
		bool has_after = sv[i][SF_AFTER] != NULL, has_any = sv[i][SF_AFTER_ANY] != NULL;
		if (!st->start && !has_after && !has_any && !(taint & FG_BIT(i))) {
			error_at_step(c, st,
			    "step \"%s\" has no \"start\", \"after\" or \"after_any\": "
			    "expected one of them",
			    st->name);
			bad |= FG_BIT(i);
		}
		if (st->start && (has_after || has_any))
			cfg_error(c, has_after ? sv[i][SF_AFTER] : sv[i][SF_AFTER_ANY],
			    "start step \"%s\" also has \"%s\": a start step opens the flow and "
			    "waits "
			    "for nothing",
			    st->name, has_after ? "after" : "after_any");
		int nafter = __builtin_popcountll(st->after);
		if (sv[i][SF_JOIN_WITHIN] != NULL && nafter < 2 && !(taint & FG_BIT(i)))
			cfg_error(c, sv[i][SF_JOIN_WITHIN],
			    "\"join_within\" of step \"%s\" needs "
			    "\"after\" with at least 2 steps, found %d",
			    st->name, nafter);
	}
	return bad;
}

/* Starts, ends, and reachability both ways along the `after`/`after_any` edges.
 * To report causes rather than their consequences, tainted steps and steps
 * already reported count as reachable, and when a tainted step might have been
 * meant as the start or end, a missing start or end is not reported. */
static void check_graph(struct cfg_ctx *c, const struct fg_flow *fl, yaml_node_t *(*sv)[SF_N],
    const char *fwhat, fg_mask taint, bool ends_unsure)
{
	fg_mask succ[FG_MAX_STEPS] = { 0 }, pred[FG_MAX_STEPS] = { 0 };
	fg_mask starts = 0, ends = fl->complete_when;
	fg_mask bad = check_steps(c, fl, sv, taint);
	bool starts_unsure = false;
	for (int i = 0; i < fl->nsteps; i++) {
		const struct fg_step *st = &fl->steps[i];
		pred[i] = st->after | st->after_any;
		succ[i] = st->succ;
		if (st->start)
			starts |= FG_BIT(i);
		if (st->outcome >= 0)
			ends |= FG_BIT(i);
		starts_unsure |= sv[i][SF_START] != NULL && (taint & FG_BIT(i)) && !st->start;
		ends_unsure |= sv[i][SF_END] != NULL && sv[i][SF_END]->type != YAML_SCALAR_NODE;
	}
	if (ends == 0 && !ends_unsure)
		cfg_error_at(c, fl->line, fl->col,
		    "%s has no end step: expected a step with "
		    "\"end\" or a \"complete_when\" list",
		    fwhat);
	if (starts == 0) {
		if (!starts_unsure)
			cfg_error_at(c, fl->line, fl->col,
			    "%s has no start step: expected a step "
			    "with \"start: true\"",
			    fwhat);
		return;
	}
	fg_mask reach = closure(starts | taint | bad, succ);
	for (int i = 0; i < fl->nsteps; i++)
		if (!(reach & FG_BIT(i)))
			error_at_step(c, &fl->steps[i],
			    (ends & FG_BIT(i))
				? "end step \"%s\" is not reachable from any start step"
				: "step \"%s\" is not reachable from any start step",
			    fl->steps[i].name);
	if (ends == 0)
		return;
	if ((ends & closure(starts, succ)) == 0 && (ends & reach) == 0) {
		cfg_error_at(c, fl->line, fl->col,
		    "no end step of %s is reachable from a start "
		    "step",
		    fwhat);
		return;
	}
	/* A step with no way to an end is fine when it is a leaf (a side branch such as
	 * a notification); on a cycle, it would keep the flow open for ever. */
	fg_mask lead = closure(ends, pred);
	for (int i = 0; i < fl->nsteps; i++) {
		if (!(reach & FG_BIT(i)) || (lead & FG_BIT(i)) || (taint & FG_BIT(i)))
			continue;
		if (closure(succ[i], succ) & FG_BIT(i))
			error_at_step(c, &fl->steps[i],
			    "step \"%s\" is on a cycle from which no end "
			    "step (\"end\" or \"complete_when\") can be reached",
			    fl->steps[i].name);
	}
}

/* ---- flows and steps ---- */

static void init_step(struct fg_step *st, const char *name, const yaml_node_t *k)
{
	st->name = strdup(name);
	st->outcome = -1;
	st->within_ns = FG_NO_DEADLINE;
	st->join_within_ns = FG_NO_DEADLINE;
	cfg_apply_defaults(step_fields, SF_N, st);
	st->line = (int)k->start_mark.line + 1;
	st->col = (int)k->start_mark.column + 1;
}

/* Adds step `k: v` as the next step of `fl`; reports a bad or duplicate name. */
static void add_step(struct cfg_ctx *c, struct fg_flow *fl, yaml_node_t *k, yaml_node_t *v,
    yaml_node_t **vals, const char *fwhat, fg_mask *taint)
{
	char got[64], what[160];
	const char *name = cfg_text(k);
	if (name == NULL || cfg_is_null(k)) {
		cfg_error(c, k, "expected a step name, found %s", cfg_describe(k, got, sizeof got));
		return;
	}
	int dup = fg_step_index(fl, name);
	if (dup >= 0) {
		cfg_error(c, k,
		    "duplicate step \"%s\" in %s (first declared at line %d, column %d)", name,
		    fwhat, fl->steps[dup].line, fl->steps[dup].col);
		return;
	}
	struct fg_step *st = &fl->steps[fl->nsteps++];
	init_step(st, name, k);
	snprintf(what, sizeof what, "step \"%s\"", name);
	if (cfg_is_null(v))
		return;
	if (v->type != YAML_MAPPING_NODE) {
		cfg_error(c, v, "%s: expected a mapping of step settings, found %s", what,
		    cfg_describe(v, got, sizeof got));
		vals[SF_START] = v; /* unknown: might have been meant as the start */
		*taint |= FG_BIT(fl->nsteps - 1);
		return;
	}
	struct cfg_walk w = { step_fields, SF_N, st, vals, what };
	int before = c->nerrs;
	cfg_walk_map(c, v, &w);
	if (c->nerrs != before)
		*taint |= FG_BIT(fl->nsteps - 1);
}

static void parse_steps(
    struct cfg_ctx *c, struct fg_flow *fl, yaml_node_t *steps, yaml_node_t **fv, const char *fwhat)
{
	if (steps == NULL || steps->type != YAML_MAPPING_NODE)
		return;
	int n = (int)(steps->data.mapping.pairs.top - steps->data.mapping.pairs.start);
	fg_mask taint = 0;
	if (n > FG_MAX_STEPS)
		n = FG_MAX_STEPS;
	fl->steps = calloc((size_t)n, sizeof *fl->steps);
	yaml_node_t *(*sv)[SF_N] = calloc((size_t)n, sizeof *sv);
	if (fl->steps == NULL || sv == NULL) {
		cfg_error(c, steps, "out of memory");
		free(sv);
		return;
	}
	for (yaml_node_pair_t *p = steps->data.mapping.pairs.start;
	     p < steps->data.mapping.pairs.top && cfg_more(c, steps); p++) {
		yaml_node_t *k = cfg_node(c, p->key);
		if (fl->nsteps == FG_MAX_STEPS && fg_step_index(fl, cfg_text(k)) < 0) {
			cfg_error(c, k,
			    "%s has more than %d steps (a flow's steps must fit one "
			    "64-bit mask)",
			    fwhat, FG_MAX_STEPS);
			break;
		}
		add_step(c, fl, k, cfg_node(c, p->value), sv[fl->nsteps], fwhat, &taint);
	}
	bool ends_unsure = resolve(c, fl, sv, fv, fwhat, &taint) > 0;
	check_graph(c, fl, sv, fwhat, taint, ends_unsure);
	free(sv);
}

static void parse_flow(
    struct cfg_ctx *c, yaml_node_t *v, int idx, struct fg_flow *fl, yaml_node_t **namenode)
{
	char what[160], got[64];
	yaml_node_t *fv[FF_N] = { NULL };
	const char *name = cfg_map_text(c, v, "name");
	if (name != NULL)
		snprintf(what, sizeof what, "flow \"%s\"", name);
	else
		snprintf(what, sizeof what, "flow #%d", idx + 1);
	fl->deadline_ns = FG_NO_DEADLINE;
	cfg_apply_defaults(flow_fields, FF_N, fl);
	fl->line = (int)v->start_mark.line + 1;
	fl->col = (int)v->start_mark.column + 1;
	if (v->type != YAML_MAPPING_NODE) {
		cfg_error(c, v, "expected a mapping for %s, found %s", what,
		    cfg_describe(v, got, sizeof got));
		return;
	}
	struct cfg_walk w = { flow_fields, FF_N, fl, fv, what };
	cfg_walk_map(c, v, &w);
	*namenode = fv[FF_NAME];
	parse_steps(c, fl, fv[FF_STEPS], fv, what);
}

/* Flow indexes by name, then by position (qsort_r comparator over g->flows). */
static int cmp_flow_name(const void *a, const void *b, void *arg)
{
	const struct fg_flow *fl = arg;
	int i = *(const int *)a, j = *(const int *)b;
	int r = strcmp(fl[i].name, fl[j].name);
	return r ? r : (i > j) - (i < j);
}

/* Each flow whose name an earlier flow already has is an error naming the first,
 * reported in declaration order. Sorting keeps this n log n at 10,000 flows. */
static void report_duplicate_flows(
    struct cfg_ctx *c, const struct flowgraph *g, yaml_node_t **names)
{
	int n = g->nflows, m = 0;
	int *ord = malloc((size_t)n * sizeof(*ord)), *first = malloc((size_t)n * sizeof(*first));
	if (ord == NULL || first == NULL) {
		cfg_error(c, NULL, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		first[i] = -1;
		if (names[i] != NULL && g->flows[i].name != NULL)
			ord[m++] = i;
	}
	qsort_r(ord, (size_t)m, sizeof(*ord), cmp_flow_name, g->flows);
	for (int k = 1; k < m; k++)
		if (strcmp(g->flows[ord[k]].name, g->flows[ord[k - 1]].name) == 0)
			first[ord[k]] = first[ord[k - 1]] >= 0 ? first[ord[k - 1]] : ord[k - 1];
	for (int i = 0; i < n; i++)
		if (first[i] >= 0)
			cfg_error(c, names[i],
			    "duplicate flow \"%s\" (first declared at line %d, "
			    "column %d)",
			    g->flows[i].name, g->flows[first[i]].line, g->flows[first[i]].col);
out:
	free(ord);
	free(first);
}

static void set_flows(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	struct flowgraph *g = (struct flowgraph *)((char *)w->base + f->off);
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.start == v->data.sequence.items.top) {
		cfg_bad_value(c, w, f, v, "expected %s with at least one flow, found %s",
		    f->type->expect,
		    v->type == YAML_SEQUENCE_NODE ? "an empty list"
						  : cfg_describe(v, got, sizeof got));
		return;
	}
	int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > FG_MAX_FLOWS) {
		cfg_bad_value(c, w, f, v, "at most %d flows, found %d", FG_MAX_FLOWS, n);
		return;
	}
	flowgraph_free(g);
	g->flows = calloc((size_t)n, sizeof *g->flows);
	yaml_node_t **names = calloc((size_t)n, sizeof *names);
	if (g->flows == NULL || names == NULL) {
		cfg_error(c, v, "out of memory");
		free(names);
		return;
	}
	g->nflows = n;
	for (int i = 0; i < n && cfg_more(c, v); i++)
		parse_flow(
		    c, cfg_node(c, v->data.sequence.items.start[i]), i, &g->flows[i], &names[i]);
	report_duplicate_flows(c, g, names);
	free(names);
}
