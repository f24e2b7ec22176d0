/*
 * config_yaml: internals of the config loader, shared by config.c (collector
 * settings, loading, the reference) and config_flows.c (flows and steps). Not a
 * public API: only the config module includes it.
 *
 * Every setting is one row of a table (struct cfg_field): its dotted name, its
 * type, where it lands in the target struct, its default as YAML text, and its
 * help. One walker (cfg_walk_map) drives parsing from the table, and the same
 * rows print the reference, so parsing and documentation cannot drift apart.
 *
 * Problems are collected, not returned early: each lands in the context's list
 * with the line and column of the offending node, and the whole list is written
 * out sorted by position once loading ends. Single-threaded.
 */
#ifndef CHOREOSCOPE_CONFIG_YAML_H
#define CHOREOSCOPE_CONFIG_YAML_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

struct cfg_err {
	int line, col, seq;
	char *msg;
};

struct cfg_ctx {
	const char *name;     /* file name for messages */
	yaml_document_t *doc; /* the document being walked */
	struct cfg_err *errs;
	int nerrs, cap;
	unsigned merges; /* mappings walked through merge keys so far (CFG_MAX_MERGES) */
	size_t budget;   /* values the walk may still visit (cfg_more) */
	int exhausted;   /* the budget ran out (reported once) */
};

/* Merge keys walk their mapping again at each use: aliases of aliases (a "billion
 * laughs") would make a small file walk millions of mappings. Past this many a load
 * fails with one error instead. */
#define CFG_MAX_MERGES 10000u

/* Plain aliases are walked again at each use too (`after: *list` on every step, a list
 * of lists of aliases): every list item and mapping pair the walk visits is paid from
 * a budget of the document's own node count plus CFG_MAX_EXPANSION, so a small file
 * cannot make the walk visit more than that many values: a "billion laughs" config
 * is refused in milliseconds. The walk also stops once CFG_MAX_PROBLEMS problems are
 * collected: every later one would be reported at a cost (duplicate keys are found
 * by scanning the mapping), and a human reads the first ones. */
#define CFG_MAX_EXPANSION 1000000u
#define CFG_MAX_PROBLEMS 100

struct cfg_field;
struct cfg_walk;

/* A value type: its name in the reference, what a value must look like (for
 * "expected ..., found ..."), and the setter that checks a node and stores it. */
struct cfg_type {
	const char *tname;
	const char *expect;
	void (*set)(
	    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v);
};

#define CF_REQUIRED 1u /* reported when absent */
#define CF_NULLABLE 2u /* `null` resets it to unset (strings without a default) */

struct cfg_field {
	const char *name; /* dotted: "kafka.brokers" is brokers: under kafka: */
	const struct cfg_type *type;
	size_t off;          /* the value in the target struct */
	size_t off2;         /* a second array (property values), when the type has one */
	size_t noff;         /* the int count of a list */
	const char *def;     /* default as YAML text, or NULL (unset) */
	const char *choices; /* enums: "a|b|c" */
	int (*check)(const char *s, char *why, size_t whylen); /* per string, or NULL */
	unsigned flags;
	uint64_t max; /* counts: the largest value accepted; 0: the type's own bound */
	const char *help;
};

/* One walk of a mapping against a table. vals[i] receives the value node of
 * fields[i] when the mapping sets it, so later checks can point at it. */
struct cfg_walk {
	const struct cfg_field *fields;
	int nfields;
	void *base;         /* the struct the offsets point into */
	yaml_node_t **vals; /* [nfields] */
	const char *what;   /* "" at top level, else e.g. `step "X"` */
};

extern const struct cfg_type cfg_t_str, cfg_t_enum, cfg_t_strlist, cfg_t_count, cfg_t_uint,
    cfg_t_bool, cfg_t_duration, cfg_t_numlist, cfg_t_props;

/* Errors. Position: the node's start mark (1-based in messages). */
void cfg_error(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_error_at(struct cfg_ctx *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A value error: prefixes `"name" of WHAT: ` (or `"name": ` at top level). */
void cfg_bad_value(struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f,
    const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Writes the collected problems sorted by position into err, one per line. */
void cfg_format_errors(struct cfg_ctx *c, char *err, size_t errlen);
void cfg_ctx_release(struct cfg_ctx *c);

/* Called once per list item or mapping pair before it is walked: 1 to go on, 0 when
 * the walk must stop (the expansion budget is spent, reported once at `at`, or
 * CFG_MAX_PROBLEMS problems were found). */
int cfg_more(struct cfg_ctx *c, const yaml_node_t *at);

/* Nodes. */
yaml_node_t *cfg_node(struct cfg_ctx *c, int index);
int cfg_is_null(const yaml_node_t *n);
const char *cfg_text(const yaml_node_t *n); /* scalar text, or NULL */
/* "a mapping", "a list", "null", or the scalar quoted (shortened). */
const char *cfg_describe(const yaml_node_t *n, char *buf, size_t len);
/* The text of the value under scalar key `key` in mapping `map`, or NULL. */
const char *cfg_map_text(struct cfg_ctx *c, yaml_node_t *map, const char *key);

/* The candidate nearest to `s` by edit distance, when near enough; else NULL. */
const char *cfg_suggest(const char *s, const char *const *cands, int n);
/* Expected-value text of a field ("one of a, b or c" for enums). */
const char *cfg_expect(const struct cfg_field *f, char *buf, size_t len);

/* Walks mapping `map` against w->fields; reports unknown, duplicate and missing
 * required keys. A null `map` sets nothing. */
void cfg_walk_map(struct cfg_ctx *c, yaml_node_t *map, const struct cfg_walk *w);
/* Applies every field's default (parsed from its YAML text by its own setter).
 * 0, or -1 when a default does not parse (a bug in a table). */
int cfg_apply_defaults(const struct cfg_field *fields, int n, void *base);

/* config_flows.c */
extern const struct cfg_type cfg_t_flows;
const struct cfg_field *cfg_flow_fields(int *n);
const struct cfg_field *cfg_step_fields(int *n);

#endif
