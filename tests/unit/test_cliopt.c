/* test_cliopt: the one flag grammar of every program, table-driven: values in both
 * forms, switches, repeatable flags through a setter, positional arguments and `--`,
 * the built-in --help/-h/--version, and each error with its exact message (stderr is
 * captured), plus the --help text with continuation lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/cliopt.h"

struct flags {
	const char *config, *name;
	bool verbose;
	int n;
	const char *tags[3];
	int ntags;
};

static int set_n(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	char *end;
	long v = strtol(val, &end, 10);
	(void)o;
	if (end == val || *end != '\0' || v < 1 || v > 9) {
		snprintf(err, errlen, "expected 1..9");
		return -1;
	}
	((struct flags *)ctx)->n = (int)v;
	return 0;
}

static int set_tag(void *ctx, const struct cliopt *o, const char *val, char *err, size_t errlen)
{
	struct flags *f = ctx;
	if (f->ntags == 3) {
		snprintf(err, errlen, "at most 3 (key %d)", o->key);
		return -1;
	}
	f->tags[f->ntags++] = val;
	return 0;
}

static const struct cliopt opts[] = {
	{ "--config", "FILE", "the config", NULL, offsetof(struct flags, config), 0 },
	{ "--name", "NAME", "a name\nover two lines", NULL, offsetof(struct flags, name), 0 },
	{ "--verbose", NULL, "say more", NULL, offsetof(struct flags, verbose), 0 },
	{ "-n", "N", "a count", set_n, 0, 0 },
	{ "--tag", "T", "repeatable", set_tag, 0, 7 },
};

static struct clicmd cmd = {
	.prog = "prog sub",
	.synopsis = "usage: prog sub [options] [FILE]\n",
	.footer = "end\n",
	.version = "1.2.3",
	.opts = opts,
	.nopts = sizeof opts / sizeof opts[0],
	.max_args = 1,
};

/* Runs cliopt_parse on the words of `line`; returns its result, the flags, the
 * positional arguments joined by '|' and what went to stdout and stderr. */
static int run(
    const struct clicmd *c, const char *line, struct flags *f, char *pos, char *out, char *err)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;
	argv[argc++] = "prog";
	snprintf(buf, sizeof buf, "%s", line);
	for (char *p = buf, *w; (w = strsep(&p, " ")) != NULL;)
		if (*w)
			argv[argc++] = strcmp(w, "<empty>") == 0 ? (char *)"" : w;
	memset(f, 0, sizeof *f);
	char tout[] = "/tmp/test_cliopt_out.XXXXXX", terr[] = "/tmp/test_cliopt_err.XXXXXX";
	int fo = mkstemp(tout), fe = mkstemp(terr);
	assert_true(fo >= 0 && fe >= 0);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	char *args[4] = { 0 };
	int nargs = -1;
	int r = cliopt_parse(c, argc, argv, f, args, &nargs);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	pos[0] = '\0';
	for (int i = 0; i < nargs; i++)
		sprintf(pos + strlen(pos), "%s%s", i ? "|" : "", args[i]);
	lseek(fo, 0, SEEK_SET);
	lseek(fe, 0, SEEK_SET);
	ssize_t n = read(fo, out, 4095);
	out[n > 0 ? n : 0] = '\0';
	n = read(fe, err, 4095);
	err[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	unlink(tout);
	unlink(terr);
	return r;
}

static const struct {
	const char *argv;
	int rc;
	const char *config, *name;
	bool verbose;
	int n, ntags;
	const char *pos, *err;
} cases[] = {
	{ "", CLIOPT_RUN, NULL, NULL, false, 0, 0, "", "" },
	{ "--config a.yaml", CLIOPT_RUN, "a.yaml", NULL, false, 0, 0, "", "" },
	{ "--config=a.yaml", CLIOPT_RUN, "a.yaml", NULL, false, 0, 0, "", "" },
	{ "--config=", CLIOPT_RUN, "", NULL, false, 0, 0, "", "" },
	{ "--config=a=b", CLIOPT_RUN, "a=b", NULL, false, 0, 0, "", "" },
	/* the next word is the value, whatever it starts with (as getopt) */
	{ "--config --verbose", CLIOPT_RUN, "--verbose", NULL, false, 0, 0, "", "" },
	{ "--config a --config b", CLIOPT_RUN, "b", NULL, false, 0, 0, "", "" },
	{ "--verbose --name x -n 3", CLIOPT_RUN, NULL, "x", true, 3, 0, "", "" },
	{ "-n=4", CLIOPT_RUN, NULL, NULL, false, 4, 0, "", "" },
	{ "--tag a --tag=b --tag c", CLIOPT_RUN, NULL, NULL, false, 0, 3, "", "" },
	{ "file.jsonl --verbose", CLIOPT_RUN, NULL, NULL, true, 0, 0, "file.jsonl", "" },
	{ "-", CLIOPT_RUN, NULL, NULL, false, 0, 0, "-", "" },
	{ "-- --verbose", CLIOPT_RUN, NULL, NULL, false, 0, 0, "--verbose", "" },
	{ "--nope", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: unknown option \"--nope\" (see --help)\n" },
	{ "--nope=3", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: unknown option \"--nope\" (see --help)\n" },
	{ "--conf x", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: unknown option \"--conf\" (see --help)\n" },
	{ "-v", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: unknown option \"-v\" (see --help)\n" },
	{ "--config", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: --config needs a value (FILE)\n" },
	{ "--verbose=yes", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: --verbose takes no value\n" },
	{ "-n 10", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "", "prog sub: -n: expected 1..9\n" },
	{ "--tag a --tag b --tag c --tag d", CLIOPT_USAGE, NULL, NULL, false, 0, 3, "",
	    "prog sub: --tag: at most 3 (key 7)\n" },
	{ "a b", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "a",
	    "prog sub: unexpected argument \"b\"\n" },
	{ "--help", CLIOPT_EXIT, NULL, NULL, false, 0, 0, "", "" },
	{ "-h", CLIOPT_EXIT, NULL, NULL, false, 0, 0, "", "" },
	{ "--version", CLIOPT_EXIT, NULL, NULL, false, 0, 0, "", "" },
	{ "--help=x", CLIOPT_USAGE, NULL, NULL, false, 0, 0, "",
	    "prog sub: unknown option \"--help\" (see --help)\n" },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct flags f;
		char pos[256], out[4096], err[4096];
		int r = run(&cmd, cases[i].argv, &f, pos, out, err);
		print_message("case %zu: %s\n", i, cases[i].argv);
		assert_int_equal(r, cases[i].rc);
		assert_string_equal(err, cases[i].err);
		assert_string_equal(pos, cases[i].pos);
		if (r != CLIOPT_RUN)
			continue;
		if (cases[i].config)
			assert_string_equal(f.config, cases[i].config);
		else
			assert_null(f.config);
		if (cases[i].name)
			assert_string_equal(f.name, cases[i].name);
		else
			assert_null(f.name);
		assert_int_equal(f.verbose, cases[i].verbose);
		assert_int_equal(f.n, cases[i].n);
		assert_int_equal(f.ntags, cases[i].ntags);
		assert_string_equal(out, "");
	}
}

static void test_help_and_version(void **state)
{
	struct flags f;
	char pos[256], out[4096], err[4096];
	(void)state;
	assert_int_equal(run(&cmd, "--help", &f, pos, out, err), CLIOPT_EXIT);
	assert_string_equal(out,
	    "usage: prog sub [options] [FILE]\n"
	    "  --config FILE       the config\n"
	    "  --name NAME         a name\n"
	    "                      over two lines\n"
	    "  --verbose           say more\n"
	    "  -n N                a count\n"
	    "  --tag T             repeatable\n"
	    "  --help              this help\n"
	    "  --version           print the version\n"
	    "end\n");
	assert_int_equal(run(&cmd, "--version", &f, pos, out, err), CLIOPT_EXIT);
	assert_string_equal(out, "prog 1.2.3\n");
	/* without a version, --version is an unknown option */
	struct clicmd nov = cmd;
	nov.version = NULL;
	assert_int_equal(run(&nov, "--version", &f, pos, out, err), CLIOPT_USAGE);
	assert_string_equal(err, "prog sub: unknown option \"--version\" (see --help)\n");
	assert_int_equal(run(&nov, "--help", &f, pos, out, err), CLIOPT_EXIT);
	assert_null(strstr(out, "--version"));
	assert_int_equal(cliopt_exit_status(CLIOPT_EXIT), 0);
	assert_int_equal(cliopt_exit_status(CLIOPT_USAGE), 2);
}

static void test_quote_value(void **state)
{
	struct flags f;
	char pos[256], out[4096], err[4096];
	struct clicmd q = cmd;
	(void)state;
	q.quote_value = true;
	assert_int_equal(run(&q, "-n x", &f, pos, out, err), CLIOPT_USAGE);
	assert_string_equal(err, "prog sub: -n: expected 1..9, found \"x\"\n");
	q.max_args = 0;
	assert_int_equal(run(&q, "file", &f, pos, out, err), CLIOPT_USAGE);
	assert_string_equal(err, "prog sub: unexpected argument \"file\"\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_quote_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
