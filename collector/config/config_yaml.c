/*
 * config_yaml: the problem list, YAML node helpers, and the table-driven walker
 * with the built-in value types (see config_yaml.h for the model).
 *
 * Setters never stop at the first problem: each reports what it finds and leaves
 * the target unchanged when the value is bad, so one run lists every problem.
 * Setters free the previous value before storing (defaults are stored first).
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/config_yaml.h"

/* ---- problems ---- */

static void add_err(struct cfg_ctx *c, int line, int col, char *msg)
{
	if (c->nerrs == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct cfg_err *e = realloc(c->errs, (size_t)cap * sizeof *e);
		if (e == NULL) {
			free(msg);
			return;
		}
		c->errs = e;
		c->cap = cap;
	}
	c->errs[c->nerrs] = (struct cfg_err){ line, col, c->nerrs, msg };
	c->nerrs++;
}

static void verr(struct cfg_ctx *c, int line, int col, const char *fmt, va_list ap)
{
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	add_err(c, line, col, msg);
}

void cfg_error_at(struct cfg_ctx *c, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(c, line, col, fmt, ap);
	va_end(ap);
}

void cfg_error(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int line = n ? (int)n->start_mark.line + 1 : 1;
	int col = n ? (int)n->start_mark.column + 1 : 1;
	va_start(ap, fmt);
	verr(c, line, col, fmt, ap);
	va_end(ap);
}

void cfg_bad_value(struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f,
    const yaml_node_t *n, const char *fmt, ...)
{
	char *tail = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&tail, fmt, ap) < 0)
		tail = NULL;
	va_end(ap);
	if (w->what[0] != '\0')
		cfg_error(c, n, "\"%s\" of %s: %s", f->name, w->what, tail ? tail : "bad value");
	else
		cfg_error(c, n, "\"%s\": %s", f->name, tail ? tail : "bad value");
	free(tail);
}

static int err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorted by position; when err is too small the list ends with how many were
 * left out, cut at a line boundary. No trailing newline. */
void cfg_format_errors(struct cfg_ctx *c, char *err, size_t errlen)
{
	if (err == NULL || errlen == 0)
		return;
	err[0] = '\0';
	if (c->nerrs == 0)
		return;
	qsort(c->errs, (size_t)c->nerrs, sizeof *c->errs, err_cmp);
	size_t used = 0;
	const char *stop = c->nerrs >= CFG_MAX_PROBLEMS ? "; the check stopped there" : "";
	for (int i = 0; i < c->nerrs; i++) {
		char line[1024];
		snprintf(line, sizeof line, "%s%s:%d:%d: %s", i ? "\n" : "", c->name,
		    c->errs[i].line, c->errs[i].col,
		    c->errs[i].msg ? c->errs[i].msg : "out of memory");
		size_t len = strlen(line);
		char more[64];
		int left = c->nerrs - i - 1;
		snprintf(more, sizeof more, "\n(and %d more problems%s)", left + 1, stop);
		if (used + len + (left ? strlen(more) : 0) >= errlen) {
			const char *m = used ? more : more + 1;
			if (used + strlen(m) < errlen)
				memcpy(err + used, m, strlen(m) + 1);
			return;
		}
		memcpy(err + used, line, len + 1);
		used += len;
	}
	if (*stop != '\0')
		snprintf(err + used, errlen - used, "\n(stopped after %d problems)", c->nerrs);
}

void cfg_ctx_release(struct cfg_ctx *c)
{
	for (int i = 0; i < c->nerrs; i++)
		free(c->errs[i].msg);
	free(c->errs);
	c->errs = NULL;
	c->nerrs = c->cap = 0;
}

int cfg_more(struct cfg_ctx *c, const yaml_node_t *at)
{
	if (c->nerrs >= CFG_MAX_PROBLEMS || c->exhausted)
		return 0;
	if (c->budget > 0) {
		c->budget--;
		return 1;
	}
	c->exhausted = 1;
	cfg_error(c, at,
	    "aliases expand the config to more than %u values beyond its own "
	    "nodes (aliases of aliases, a \"billion laughs\"?)",
	    CFG_MAX_EXPANSION);
	return 0;
}

/* ---- nodes ---- */

yaml_node_t *cfg_node(struct cfg_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

/* YAML 1.2 core schema nulls; only plain (unquoted) scalars can be null. */
int cfg_is_null(const yaml_node_t *n)
{
	if (n == NULL)
		return 1;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *s = (const char *)n->data.scalar.value;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *cfg_text(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

const char *cfg_describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (cfg_is_null(n))
		return "null";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	const char *s = cfg_text(n);
	if (strlen(s) > 40)
		snprintf(buf, len, "\"%.37s...\"", s);
	else
		snprintf(buf, len, "\"%s\"", s);
	return buf;
}

const char *cfg_map_text(struct cfg_ctx *c, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = cfg_text(cfg_node(c, p->key));
		if (k != NULL && strcmp(k, key) == 0) {
			yaml_node_t *v = cfg_node(c, p->value);
			return cfg_is_null(v) ? NULL : cfg_text(v);
		}
	}
	return NULL;
}

/* ---- suggestions ---- */

/* Edit distance (insert, delete, substitute), case-insensitive. Names longer
 * than 63 bytes are not worth suggesting for: returns a large distance. */
static int levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];
	if (la > 63 || lb > 63)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int cost =
			    tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* "Near enough": at most half the candidate's length (at least 2 edits), and
 * fewer edits than the shorter name has letters, so "retry" finds "retries" but
 * "foo" does not find "key" nor "Q" find "A". */
const char *cfg_suggest(const char *s, const char *const *cands, int n)
{
	const char *best = NULL;
	int bestd = 1000;
	for (int i = 0; i < n; i++) {
		int d = levenshtein(s, cands[i]);
		int limit = (int)strlen(cands[i]) / 2;
		if (limit < 2)
			limit = 2;
		int shorter = (int)(strlen(s) < strlen(cands[i]) ? strlen(s) : strlen(cands[i]));
		if (d <= limit && d < shorter && d < bestd) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}

const char *cfg_expect(const struct cfg_field *f, char *buf, size_t len)
{
	if (f->choices == NULL)
		return f->type->expect;
	size_t used = (size_t)snprintf(buf, len, "one of ");
	const char *p = f->choices;
	while (*p && used < len) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		used += (size_t)snprintf(buf + used, len - used, "%s%.*s",
		    p == f->choices ? ""
			: bar       ? ", "
				    : " or ",
		    (int)n, p);
		p = bar ? bar + 1 : p + n;
	}
	return buf;
}

/* ---- the walker ---- */

static int find_field(const struct cfg_walk *w, const char *full)
{
	for (int i = 0; i < w->nfields; i++)
		if (strcmp(w->fields[i].name, full) == 0)
			return i;
	return -1;
}

/* True when some field lies under `full.`: `full` names a section. */
static int is_section(const struct cfg_walk *w, const char *full)
{
	size_t n = strlen(full);
	for (int i = 0; i < w->nfields; i++)
		if (strncmp(w->fields[i].name, full, n) == 0 && w->fields[i].name[n] == '.')
			return 1;
	return 0;
}

/* The distinct keys valid directly under `prefix` (first components). */
static int keys_under(const struct cfg_walk *w, const char *prefix, char names[][64], int max)
{
	size_t pl = strlen(prefix);
	int n = 0;
	for (int i = 0; i < w->nfields && n < max; i++) {
		const char *name = w->fields[i].name;
		if (strncmp(name, prefix, pl) != 0)
			continue;
		const char *rest = name + pl;
		size_t len = strcspn(rest, ".");
		if (len >= 64)
			continue;
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= strlen(names[j]) == len && strncmp(names[j], rest, len) == 0;
		if (!dup) {
			memcpy(names[n], rest, len);
			names[n++][len] = '\0';
		}
	}
	return n;
}

static void unknown_key(
    struct cfg_ctx *c, const struct cfg_walk *w, const char *prefix, const yaml_node_t *k)
{
	char names[64][64], where[256], list[1024];
	const char *cands[64];
	const char *key = cfg_text(k);
	int n = keys_under(w, prefix, names, 64);
	size_t used = 0;
	list[0] = '\0';
	for (int i = 0; i < n; i++) {
		cands[i] = names[i];
		used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
		    "%s%s", i ? ", " : "", names[i]);
		if (used >= sizeof list)
			used = sizeof list - 1;
	}
	if (prefix[0] != '\0')
		snprintf(where, sizeof where, "in \"%.*s\"", (int)strlen(prefix) - 1, prefix);
	else if (w->what[0] != '\0')
		snprintf(where, sizeof where, "in %s", w->what);
	else
		snprintf(where, sizeof where, "at top level");
	const char *s = cfg_suggest(key, cands, n);
	if (s != NULL)
		cfg_error(c, k, "unknown key \"%s\" %s; did you mean \"%s\"?", key, where, s);
	else
		cfg_error(c, k, "unknown key \"%s\" %s; expected one of: %s", key, where, list);
}

/* Keys seen so far in one mapping, to report a repeated one with the position of its
 * first occurrence. A mapping of a few keys scans the pairs before it; a bigger one
 * (a hand-written file never has many, a generated or hostile one may have
 * thousands) uses an open-addressing table of pair indexes, so the check stays
 * linear: 40,000 keys in one mapping took 4.5 s with the scan alone. */
#define KEYSET_SCAN_MAX 16

struct keyset {
	yaml_node_pair_t *pairs; /* the mapping's pairs */
	int *slot;               /* pair index, -1 empty; NULL: scan instead */
	uint32_t *hash;
	uint32_t mask;
};

static uint32_t key_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void keyset_init(struct keyset *ks, yaml_node_t *map)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	*ks = (struct keyset){ map->data.mapping.pairs.start, NULL, NULL, 0 };
	if (n <= KEYSET_SCAN_MAX)
		return;
	size_t cap = 32;
	while (cap < 2 * n)
		cap *= 2;
	ks->slot = malloc(cap * sizeof *ks->slot);
	ks->hash = malloc(cap * sizeof *ks->hash);
	if (ks->slot == NULL || ks->hash == NULL) { /* out of memory: scan, slowly */
		free(ks->slot);
		free(ks->hash);
		ks->slot = NULL;
		ks->hash = NULL;
		return;
	}
	memset(ks->slot, -1, cap * sizeof *ks->slot);
	ks->mask = (uint32_t)cap - 1;
}

static void keyset_release(struct keyset *ks)
{
	free(ks->slot);
	free(ks->hash);
}

/* The first earlier pair whose key has the text of pair p's key k, or NULL; p is
 * recorded as seen when none has. */
static yaml_node_pair_t *keyset_seen(
    struct cfg_ctx *c, struct keyset *ks, yaml_node_pair_t *p, const yaml_node_t *k)
{
	const char *t = cfg_text(k);
	if (ks->slot == NULL) {
		for (yaml_node_pair_t *q = ks->pairs; q < p; q++) {
			const char *qt = cfg_text(cfg_node(c, q->key));
			if (qt != NULL && strcmp(qt, t) == 0)
				return q;
		}
		return NULL;
	}
	uint32_t h = key_hash(t), i = h & ks->mask;
	for (; ks->slot[i] >= 0; i = (i + 1) & ks->mask) {
		yaml_node_pair_t *q = ks->pairs + ks->slot[i];
		if (ks->hash[i] == h && strcmp(cfg_text(cfg_node(c, q->key)), t) == 0)
			return q;
	}
	ks->slot[i] = (int)(p - ks->pairs);
	ks->hash[i] = h;
	return NULL;
}

/* Reports key k of pair p when an earlier key of the mapping has its text; 1 then. */
static int dup_key(struct cfg_ctx *c, struct keyset *ks, yaml_node_pair_t *p, const yaml_node_t *k)
{
	yaml_node_pair_t *q = keyset_seen(c, ks, p, k);
	if (q == NULL)
		return 0;
	const yaml_node_t *pk = cfg_node(c, q->key);
	cfg_error(c, k, "duplicate key \"%s\" (first at line %d, column %d)", cfg_text(k),
	    (int)pk->start_mark.line + 1, (int)pk->start_mark.column + 1);
	return 1;
}

static void set_value(struct cfg_ctx *c, const struct cfg_walk *w, int i, yaml_node_t *v)
{
	const struct cfg_field *f = &w->fields[i];
	char buf[256], got[64];
	w->vals[i] = v;
	if (cfg_is_null(v)) {
		if (f->flags & CF_NULLABLE) {
			char **p = (char **)((char *)w->base + f->off);
			free(*p);
			*p = NULL;
			return;
		}
		cfg_bad_value(c, w, f, v, "expected %s, found %s", cfg_expect(f, buf, sizeof buf),
		    cfg_describe(v, got, sizeof got));
		return;
	}
	f->type->set(c, w, f, v);
}

static void walk_section(
    struct cfg_ctx *c, yaml_node_t *map, const struct cfg_walk *w, const char *prefix, int depth);

static int is_merge_key(const yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strcmp(cfg_text(k), "<<") == 0;
}

/* YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`): the merged mappings are
 * walked before the mapping's own keys, so its own keys win. Depth-bounded, as
 * aliases can make a structure contain itself, and bounded in total (CFG_MAX_MERGES),
 * as aliases of aliases multiply. */
static void merge(
    struct cfg_ctx *c, yaml_node_t *v, const struct cfg_walk *w, const char *prefix, int depth)
{
	char got[64];
	if (depth > 8) {
		cfg_error(c, v, "merge keys (<<) nested too deep");
		return;
	}
	if (v->type == YAML_MAPPING_NODE) {
		if (++c->merges > CFG_MAX_MERGES) {
			if (c->merges == CFG_MAX_MERGES + 1)
				cfg_error(c, v,
				    "merge keys (<<) expand to more than %u mappings (aliases of "
				    "aliases?)",
				    CFG_MAX_MERGES);
			return;
		}
		walk_section(c, v, w, prefix, depth + 1);
		return;
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top && cfg_more(c, v); it++)
			merge(c, cfg_node(c, *it), w, prefix, depth + 1);
		return;
	}
	cfg_error(c, v, "\"<<\": expected a mapping or a list of mappings to merge, found %s",
	    cfg_describe(v, got, sizeof got));
}

static void walk_section(
    struct cfg_ctx *c, yaml_node_t *map, const struct cfg_walk *w, const char *prefix, int depth)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		if (is_merge_key(cfg_node(c, p->key)))
			merge(c, cfg_node(c, p->value), w, prefix, depth);
	struct keyset ks;
	keyset_init(&ks, map);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top && cfg_more(c, cfg_node(c, p->key)); p++) {
		yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
		char full[256], got[64];
		if (k->type != YAML_SCALAR_NODE) {
			cfg_error(c, k, "expected a key name, found %s",
			    cfg_describe(k, got, sizeof got));
			continue;
		}
		if (is_merge_key(k)) {
			keyset_seen(c, &ks, p, k); /* a later quoted "<<" repeats it */
			continue;
		}
		if (dup_key(c, &ks, p, k))
			continue;
		snprintf(full, sizeof full, "%s%s", prefix, cfg_text(k));
		int i = find_field(w, full);
		if (i >= 0) {
			set_value(c, w, i, v);
		} else if (is_section(w, full)) {
			if (cfg_is_null(v))
				continue;
			if (v->type != YAML_MAPPING_NODE) {
				cfg_error(c, v, "\"%s\": expected a mapping, found %s", full,
				    cfg_describe(v, got, sizeof got));
				continue;
			}
			strcat(full, ".");
			walk_section(c, v, w, full, depth);
		} else {
			unknown_key(c, w, prefix, k);
		}
	}
	keyset_release(&ks);
}

void cfg_walk_map(struct cfg_ctx *c, yaml_node_t *map, const struct cfg_walk *w)
{
	char got[64];
	if (map != NULL && !cfg_is_null(map)) {
		if (map->type != YAML_MAPPING_NODE) {
			cfg_error(c, map, "expected a mapping %s%s, found %s",
			    w->what[0] ? "for " : "of settings at top level", w->what,
			    cfg_describe(map, got, sizeof got));
			return;
		}
		walk_section(c, map, w, "", 0);
	}
	for (int i = 0; i < w->nfields; i++) {
		if (!(w->fields[i].flags & CF_REQUIRED) || w->vals[i] != NULL)
			continue;
		if (w->what[0] != '\0')
			cfg_error(c, map, "missing required key \"%s\" in %s", w->fields[i].name,
			    w->what);
		else
			cfg_error(
			    c, map, "missing required key \"%s\" at top level", w->fields[i].name);
	}
}

/* A default that is one plain YAML word ("5s", "false", "info"): its node is made
 * here instead of by libyaml, which would parse the same text once per flow and step
 * (a parser's buffers each time: 100,000 parses at 10,000 flows, half the load). */
static bool plain_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

int cfg_apply_defaults(const struct cfg_field *fields, int n, void *base)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (fields[i].def == NULL)
			continue;
		if (plain_word(fields[i].def)) {
			yaml_node_t *vals[1] = { NULL };
			struct cfg_ctx c = { .name = "(default)" };
			struct cfg_walk w = { &fields[i], 1, base, vals, "" };
			yaml_node_t v = { .type = YAML_SCALAR_NODE };
			v.data.scalar.value = (yaml_char_t *)fields[i].def;
			v.data.scalar.length = strlen(fields[i].def);
			v.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
			set_value(&c, &w, 0, &v);
			if (c.nerrs)
				rc = -1;
			cfg_ctx_release(&c);
			continue;
		}
		yaml_parser_t p;
		yaml_document_t doc;
		yaml_node_t *vals[1] = { NULL };
		struct cfg_ctx c = { .name = "(default)", .doc = &doc, .budget = SIZE_MAX };
		struct cfg_walk w = { &fields[i], 1, base, vals, "" };
		yaml_parser_initialize(&p);
		yaml_parser_set_input_string(
		    &p, (const unsigned char *)fields[i].def, strlen(fields[i].def));
		if (!yaml_parser_load(&p, &doc)) {
			yaml_parser_delete(&p);
			return -1;
		}
		set_value(&c, &w, 0, yaml_document_get_root_node(&doc));
		if (c.nerrs)
			rc = -1;
		cfg_ctx_release(&c);
		yaml_document_delete(&doc);
		yaml_parser_delete(&p);
	}
	return rc;
}
