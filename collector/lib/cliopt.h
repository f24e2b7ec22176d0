/*
 * cliopt: the command-line flags of every program (bin/choreoscope and each of its
 * subcommands, choreoscope-gen, choreoscope-broker, choreoscope-tui), parsed from one
 * table per command that also prints the --help text, the way the config's settings
 * table parses the file and makes docs/config.md.
 *
 * One grammar for all: `--name VALUE` or `--name=VALUE` for a flag with a value
 * (the next word is taken whatever it starts with, as getopt does), `--name` for a
 * switch (`--name=x` is an error), `--` ends the flags, `-` alone and every word not
 * starting with `-` are positional arguments. `--help`/`-h` and (when the command has
 * a version) `--version` are built in. A flag's value is checked by its setter when it
 * is seen; what depends on several flags is checked by the command afterwards.
 *
 * Errors are one line on stderr, `PROG: why`, and the caller exits 2:
 *   PROG: unknown option "--nope" (see --help)
 *   PROG: --config needs a value (FILE)
 *   PROG: --until-end takes no value
 *   PROG: --margin: expected a factor from 1 to 1000, found "0.5"   (quote_value)
 *   PROG: unexpected argument "x"
 * No state outside the table and the caller's struct; any thread.
 */
#ifndef CHOREOSCOPE_CLIOPT_H
#define CHOREOSCOPE_CLIOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cliopt;

/* Applies `val` (NULL for a switch) to the command's struct `ctx`; on a bad value
 * writes why into err and returns -1. */
typedef int (*cliopt_set_fn)(
    void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen);

struct cliopt {
	const char *name;  /* "--config"; a short alias ("-d") is an entry of its own */
	const char *arg;   /* the value's name in --help (FILE); NULL: a switch */
	const char *help;  /* a \n continues on the next line, indented */
	cliopt_set_fn set; /* NULL: store at `off` (below) */
	size_t off; /* set == NULL: a `const char *` field for a value, a `bool` for a switch */
	int key;    /* free for the setter (one setter may serve several flags) */
};

struct clicmd {
	const char *prog;     /* "choreoscope replay": prefix of errors */
	const char *synopsis; /* printed first by --help, lines ending in \n */
	const char *footer;   /* printed after the flags, or NULL */
	const char *version;  /* --version prints "PROG-NAME VERSION"; NULL: no --version */
	const struct cliopt *opts;
	size_t nopts;
	int max_args;     /* positional arguments allowed */
	bool quote_value; /* a setter's error gets `, found "VALUE"` appended */
};

enum { CLIOPT_RUN = 0, CLIOPT_EXIT = 1, CLIOPT_USAGE = -1 };

/* Parses argv[1..argc-1] into ctx. Positional arguments go to args[0..*nargs-1]
 * (args may be NULL when max_args is 0). Returns CLIOPT_RUN; CLIOPT_EXIT after
 * printing --help or --version on stdout (exit 0); CLIOPT_USAGE after printing the
 * error on stderr (exit 2). */
int cliopt_parse(const struct clicmd *c, int argc, char **argv, void *ctx, char **args, int *nargs);

/* The --help text: synopsis, one line per flag (name, value, help), footer. */
void cliopt_usage(const struct clicmd *c, FILE *out);

/* The exit status for a cliopt_parse result other than CLIOPT_RUN. */
static inline int cliopt_exit_status(int r) { return r == CLIOPT_EXIT ? 0 : 2; }

#endif
