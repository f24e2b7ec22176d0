/*
 * config_types: the built-in value types of the settings tables (strings,
 * enums, lists, counts, booleans, durations, number lists, property maps).
 *
 * Each setter checks one YAML node against its type, reports what was expected
 * and what was found, and stores the value at the field's offset only when it is
 * good (freeing the previous one). An enum is stored as the int index of its value
 * in the row's `choices` (the C enum of the setting lists them in that order). Bounds
 * are part of the type: counts are >= 1 (and at most the row's `max` when it has one),
 * durations and retries >= 0, bucket lists strictly ascending and positive.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/config.h"
#include "config/config_yaml.h"

#define AT(w, f, T) ((T *)((char *)(w)->base + (f)->off))

static bool want_scalar(struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f,
    yaml_node_t *v, const char *expect)
{
	char got[64];
	if (v->type == YAML_SCALAR_NODE)
		return true;
	cfg_bad_value(
	    c, w, f, v, "expected %s, found %s", expect, cfg_describe(v, got, sizeof got));
	return false;
}

/* A non-empty string that passes the field's check; reports otherwise. */
static bool good_string(struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f,
    yaml_node_t *v, const char *expect)
{
	char why[256];
	if (!want_scalar(c, w, f, v, expect))
		return false;
	const char *s = cfg_text(v);
	if (s[0] == '\0') {
		cfg_bad_value(c, w, f, v, "expected %s, found an empty string", expect);
		return false;
	}
	if (f->check != NULL && f->check(s, why, sizeof why) < 0) {
		cfg_bad_value(c, w, f, v, "%s", why);
		return false;
	}
	return true;
}

static void set_str(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	if (!good_string(c, w, f, v, f->type->expect))
		return;
	char **p = AT(w, f, char *);
	free(*p);
	*p = strdup(cfg_text(v));
}

static void set_enum(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char buf[256], got[64], choices[16][32];
	const char *cands[16];
	int n = 0;
	if (!want_scalar(c, w, f, v, cfg_expect(f, buf, sizeof buf)))
		return;
	const char *s = cfg_text(v);
	for (const char *p = f->choices; *p && n < 16;) {
		size_t len = strcspn(p, "|");
		snprintf(choices[n], sizeof choices[n], "%.*s", (int)len, p);
		cands[n] = choices[n];
		if (strcmp(choices[n], s) == 0) {
			*AT(w, f, int) = n;
			return;
		}
		n++;
		p += len + (p[len] == '|');
	}
	const char *near = cfg_suggest(s, cands, n);
	if (near != NULL)
		cfg_bad_value(c, w, f, v, "expected %s, found %s; did you mean \"%s\"?",
		    cfg_expect(f, buf, sizeof buf), cfg_describe(v, got, sizeof got), near);
	else
		cfg_bad_value(c, w, f, v, "expected %s, found %s", cfg_expect(f, buf, sizeof buf),
		    cfg_describe(v, got, sizeof got));
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A list of strings; a single scalar is a one-element list. */
static void set_strlist(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	yaml_node_item_t one = 0, *it, *end;
	if (v->type == YAML_MAPPING_NODE) {
		cfg_bad_value(c, w, f, v, "expected %s, found a mapping", f->type->expect);
		return;
	}
	if (v->type == YAML_SCALAR_NODE) {
		it = &one;
		end = it + 1;
	} else {
		it = v->data.sequence.items.start;
		end = v->data.sequence.items.top;
	}
	int n = (int)(end - it), ok = 1, k = 0;
	char **out = calloc((size_t)n + 1, sizeof *out);
	for (; it < end && cfg_more(c, v); it++) {
		yaml_node_t *item = v->type == YAML_SCALAR_NODE ? v : cfg_node(c, *it);
		if (item->type != YAML_SCALAR_NODE || cfg_is_null(item)) {
			cfg_bad_value(c, w, f, item, "expected a string in the list, found %s",
			    cfg_describe(item, got, sizeof got));
			ok = 0;
		} else if (!good_string(c, w, f, item, "a string")) {
			ok = 0;
		} else if (out != NULL) {
			out[k++] = strdup(cfg_text(item));
		}
	}
	if (!ok || out == NULL) {
		free_strv(out, k);
		return;
	}
	free_strv(*AT(w, f, char **), *(int *)((char *)w->base + f->noff));
	*AT(w, f, char **) = out;
	*(int *)((char *)w->base + f->noff) = k;
}

/* Decimal digits only (no sign, no fraction, no exponent). */
static int parse_whole(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (*s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0')
		return -1;
	*out = v;
	return 0;
}

/* A whole number in [min, max] into *out; reports and returns false otherwise. */
static bool get_whole(struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f,
    yaml_node_t *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char got[64];
	if (!want_scalar(c, w, f, v, f->type->expect))
		return false;
	int rc = parse_whole(cfg_text(v), out);
	if (rc == -1 || (rc == 0 && *out < min)) {
		cfg_bad_value(c, w, f, v, "expected %s, found %s", f->type->expect,
		    cfg_describe(v, got, sizeof got));
		return false;
	}
	if (rc == -2 || *out > max) {
		cfg_bad_value(c, w, f, v, "expected %s up to %" PRIu64 ", found %s",
		    f->type->expect, max, cfg_describe(v, got, sizeof got));
		return false;
	}
	return true;
}

static void set_count(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	uint64_t x, max = SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX;
	if (get_whole(c, w, f, v, 1, f->max && f->max < max ? f->max : max, &x))
		*AT(w, f, size_t) = (size_t)x;
}

static void set_uint(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	uint64_t x;
	if (get_whole(c, w, f, v, 0, f->max && f->max < UINT32_MAX ? f->max : UINT32_MAX, &x))
		*AT(w, f, uint32_t) = (uint32_t)x;
}

static void set_bool(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	const char *s = cfg_text(v);
	bool plain = v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (plain && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
		*AT(w, f, bool) = true;
	else if (plain && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
		*AT(w, f, bool) = false;
	else
		cfg_bad_value(c, w, f, v, "expected %s, found %s", f->type->expect,
		    cfg_describe(v, got, sizeof got));
}

struct unit {
	const char *name;
	uint64_t ns;
};

static const struct unit units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
	{ "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000 }, { "h", 3600000000000 },
	{ "d", 86400000000000 }, { "w", 604800000000000 },
	{ "y", 31536000000000000 }, /* as Prometheus: y = 365d */
};

/* One "12.5ms" component at *sp: adds its nanoseconds to *total. */
static int duration_part(const char **sp, long double *total, char *why, size_t whylen)
{
	const char *s = *sp;
	uint64_t v = 0, frac = 0, scale = 1;
	int digits = 0;
	for (; isdigit((unsigned char)*s); s++, digits++)
		v = v > UINT64_MAX / 20 ? UINT64_MAX / 20 : v * 10 + (uint64_t)(*s - '0');
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, digits++)
			if (scale < 1000000000000000000ULL) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
	if (!digits) {
		snprintf(why, whylen, "expected a number before the unit");
		return -1;
	}
	size_t ulen = 0;
	while (s[ulen] && !isdigit((unsigned char)s[ulen]) && s[ulen] != '.')
		ulen++;
	if (ulen == 0) {
		snprintf(why, whylen, "no unit (use ns, us, ms, s, m, h, d, w or y)");
		return -1;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strlen(units[i].name) == ulen && strncmp(s, units[i].name, ulen) == 0) {
			*total += (long double)v * units[i].ns +
			    (long double)frac * units[i].ns / (long double)scale;
			*sp = s + ulen;
			return 0;
		}
	}
	snprintf(why, whylen, "unknown unit \"%.*s\" (use ns, us, ms, s, m, h, d, w or y)",
	    (int)ulen, s);
	return -1;
}

int config_parse_duration(const char *s, int64_t *ns, char *why, size_t whylen)
{
	long double total = 0;
	if (s[0] == '-') {
		snprintf(why, whylen, "a duration must not be negative");
		return -1;
	}
	if (s[0] == '+')
		s++;
	if (s[0] == '\0') {
		snprintf(why, whylen, "empty duration");
		return -1;
	}
	while (*s)
		if (duration_part(&s, &total, why, whylen) < 0)
			return -1;
	if (total > (long double)INT64_MAX) {
		snprintf(why, whylen, "duration out of range (at most about 292 years)");
		return -1;
	}
	*ns = (int64_t)total;
	return 0;
}

static void set_duration(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64], why[128];
	int64_t ns;
	if (!want_scalar(c, w, f, v, f->type->expect))
		return;
	if (config_parse_duration(cfg_text(v), &ns, why, sizeof why) < 0) {
		cfg_bad_value(c, w, f, v, "expected %s, found %s: %s", f->type->expect,
		    cfg_describe(v, got, sizeof got), why);
		return;
	}
	*AT(w, f, int64_t) = ns;
}

static int parse_number(const char *s, double *out)
{
	char *end;
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	double d = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

/* Histogram bounds: non-empty, each a finite number > 0, strictly ascending
 * (Prometheus adds +Inf itself). */
static void set_numlist(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.start == v->data.sequence.items.top) {
		cfg_bad_value(c, w, f, v, "expected %s, found %s", f->type->expect,
		    v->type == YAML_SEQUENCE_NODE ? "an empty list"
						  : cfg_describe(v, got, sizeof got));
		return;
	}
	int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start), k = 0, ok = 1;
	double *out = calloc((size_t)n, sizeof *out);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top && cfg_more(c, v); it++) {
		yaml_node_t *item = cfg_node(c, *it);
		double d;
		if (item->type != YAML_SCALAR_NODE || parse_number(cfg_text(item), &d) < 0 ||
		    d <= 0) {
			cfg_bad_value(c, w, f, item, "expected a number > 0, found %s",
			    cfg_describe(item, got, sizeof got));
			ok = 0;
			continue;
		}
		if (k > 0 && out != NULL && d <= out[k - 1]) {
			cfg_bad_value(c, w, f, item,
			    "expected numbers in ascending order, found %g after %g", d,
			    out[k - 1]);
			ok = 0;
			continue;
		}
		if (out != NULL)
			out[k++] = d;
	}
	if (!ok || out == NULL) {
		free(out);
		return;
	}
	free(*AT(w, f, double *));
	*AT(w, f, double *) = out;
	*(int *)((char *)w->base + f->noff) = k;
}

/* A mapping of names to scalar values, kept as text (librdkafka takes strings). */
static void set_props(
    struct cfg_ctx *c, const struct cfg_walk *w, const struct cfg_field *f, yaml_node_t *v)
{
	char got[64];
	if (v->type != YAML_MAPPING_NODE) {
		cfg_bad_value(c, w, f, v, "expected %s, found %s", f->type->expect,
		    cfg_describe(v, got, sizeof got));
		return;
	}
	char ***keys = AT(w, f, char **);
	char ***vals = (char ***)((char *)w->base + f->off2);
	int *n = (int *)((char *)w->base + f->noff);
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	     p < v->data.mapping.pairs.top && cfg_more(c, v); p++) {
		yaml_node_t *k = cfg_node(c, p->key), *x = cfg_node(c, p->value);
		if (k->type != YAML_SCALAR_NODE || cfg_text(k)[0] == '\0') {
			cfg_bad_value(c, w, f, k, "expected a property name, found %s",
			    cfg_describe(k, got, sizeof got));
			continue;
		}
		if (x->type != YAML_SCALAR_NODE || cfg_is_null(x)) {
			cfg_bad_value(c, w, f, x, "expected a value for property \"%s\", found %s",
			    cfg_text(k), cfg_describe(x, got, sizeof got));
			continue;
		}
		char **nk = realloc(*keys, (size_t)(*n + 1) * sizeof *nk);
		if (nk == NULL)
			return;
		*keys = nk;
		char **nv = realloc(*vals, (size_t)(*n + 1) * sizeof *nv);
		if (nv == NULL)
			return;
		*vals = nv;
		nk[*n] = strdup(cfg_text(k));
		nv[*n] = strdup(cfg_text(x));
		(*n)++;
	}
}

const struct cfg_type cfg_t_str = { "string", "a string", set_str };
const struct cfg_type cfg_t_enum = { "enum", "a name", set_enum };
const struct cfg_type cfg_t_strlist = { "list of strings", "a list of strings", set_strlist };
const struct cfg_type cfg_t_count = { "integer", "a whole number >= 1", set_count };
const struct cfg_type cfg_t_uint = { "integer", "a whole number >= 0", set_uint };
const struct cfg_type cfg_t_bool = { "boolean", "true or false", set_bool };
const struct cfg_type cfg_t_duration = { "duration", "a duration such as 500ms, 30s or 1h30m",
	set_duration };
const struct cfg_type cfg_t_numlist = { "list of numbers",
	"a list of numbers > 0 in ascending order", set_numlist };
const struct cfg_type cfg_t_props = { "mapping", "a mapping of property names to values",
	set_props };
