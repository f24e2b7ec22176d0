/*
 * cliopt: see cliopt.h.
 */
#include "lib/cliopt.h"

#include <string.h>

static const struct cliopt *find(const struct clicmd *c, const char *a, size_t n)
{
	for (size_t k = 0; k < c->nopts; k++)
		if (strlen(c->opts[k].name) == n && strncmp(a, c->opts[k].name, n) == 0)
			return &c->opts[k];
	return NULL;
}

static bool is(const char *a, size_t n, const char *name)
{
	return strlen(name) == n && strncmp(a, name, n) == 0;
}

void cliopt_usage(const struct clicmd *c, FILE *out)
{
	int w = 0;
	char lhs[64];

	for (size_t k = 0; k < c->nopts; k++) {
		int n = snprintf(lhs, sizeof lhs, "%s%s%s", c->opts[k].name,
		    c->opts[k].arg ? " " : "", c->opts[k].arg ? c->opts[k].arg : "");
		w = n > w ? n : w;
	}
	w = w < 18 ? 18 : w > 30 ? 30 : w;
	fputs(c->synopsis, out);
	for (size_t k = 0; k < c->nopts; k++) {
		snprintf(lhs, sizeof lhs, "%s%s%s", c->opts[k].name, c->opts[k].arg ? " " : "",
		    c->opts[k].arg ? c->opts[k].arg : "");
		fprintf(out, "  %-*s  ", w, lhs);
		for (const char *h = c->opts[k].help; *h; h++) {
			fputc(*h, out);
			if (*h == '\n')
				fprintf(out, "  %-*s  ", w, "");
		}
		fputc('\n', out);
	}
	if (find(c, "--help", 6) == NULL)
		fprintf(out, "  %-*s  %s\n", w, "--help", "this help");
	if (c->version != NULL && find(c, "--version", 9) == NULL)
		fprintf(out, "  %-*s  %s\n", w, "--version", "print the version");
	if (c->footer != NULL)
		fputs(c->footer, out);
}

static int fail(const struct clicmd *c, const char *why)
{
	fprintf(stderr, "%s: %s\n", c->prog, why);
	return CLIOPT_USAGE;
}

/* Applies one flag; CLIOPT_RUN or CLIOPT_USAGE. */
static int apply(const struct clicmd *c, const struct cliopt *o, const char *val, void *ctx)
{
	char err[512], line[1024];

	if (o->set == NULL) {
		if (o->arg != NULL)
			*(const char **)((char *)ctx + o->off) = val;
		else
			*(bool *)((char *)ctx + o->off) = true;
		return CLIOPT_RUN;
	}
	err[0] = '\0';
	if (o->set(ctx, o, val, err, sizeof err) == 0)
		return CLIOPT_RUN;
	if (c->quote_value && val != NULL)
		snprintf(line, sizeof line, "%s: %s, found \"%s\"", o->name, err, val);
	else
		snprintf(line, sizeof line, "%s: %s", o->name, err);
	return fail(c, line);
}

int cliopt_parse(const struct clicmd *c, int argc, char **argv, void *ctx, char **args, int *nargs)
{
	char why[512];
	bool flags = true;
	int np = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!flags || a[0] != '-' || a[1] == '\0') {
			if (np == c->max_args) {
				snprintf(why, sizeof why, "unexpected argument \"%s\"", a);
				return fail(c, why);
			}
			args[np++] = argv[i];
			if (nargs != NULL)
				*nargs = np;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			flags = false;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);
		const struct cliopt *o = find(c, a, n);
		if (o == NULL && eq == NULL && (is(a, n, "--help") || is(a, n, "-h"))) {
			cliopt_usage(c, stdout);
			return CLIOPT_EXIT;
		}
		if (o == NULL && eq == NULL && c->version != NULL && is(a, n, "--version")) {
			const char *sp = strchr(c->prog, ' ');
			printf("%.*s %s\n", sp ? (int)(sp - c->prog) : (int)strlen(c->prog),
			    c->prog, c->version);
			return CLIOPT_EXIT;
		}
		if (o == NULL) {
			snprintf(
			    why, sizeof why, "unknown option \"%.*s\" (see --help)", (int)n, a);
			return fail(c, why);
		}
		const char *val = NULL;
		if (o->arg != NULL) {
			val = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (val == NULL) {
				snprintf(why, sizeof why, "%s needs a value (%s)", o->name, o->arg);
				return fail(c, why);
			}
		} else if (eq != NULL) {
			snprintf(why, sizeof why, "%s takes no value", o->name);
			return fail(c, why);
		}
		if (apply(c, o, val, ctx) != CLIOPT_RUN)
			return CLIOPT_USAGE;
	}
	if (nargs != NULL)
		*nargs = np;
	return CLIOPT_RUN;
}
