/*
 * replay_main: a plain main for a fuzz target, so the corpora replay without libFuzzer
 * (gcc, ASan+UBSan): runs LLVMFuzzerTestOneInput once on every file named on the
 * command line, or every regular file of a directory named (sorted, not recursive).
 *
 * Prints one line per input slower than the per-input bound (a hang that came back)
 * and closes with "replayed N inputs, slowest X ms (NAME)". Exit 0, or 1 when an input
 * was too slow or could not be read; a crash ends the process through the sanitizer.
 * The bound is FUZZ_REPLAY_MAX_MS (default 2000 ms: sanitized, on a loaded machine).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz.h"

struct stats {
	long n, slow_ms;
	double worst_ms;
	char worst[512];
	int bad;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run_file(const char *path, struct stats *st)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: cannot open\n", path);
		st->bad = 1;
		return;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	/* exactly sized, as libFuzzer hands inputs over, so overreads are caught */
	uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf == NULL || len < 0 || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "%s: cannot read\n", path);
		st->bad = 1;
	} else {
		double t0 = now_ms();
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		double ms = now_ms() - t0;
		st->n++;
		if (ms > st->worst_ms) {
			st->worst_ms = ms;
			snprintf(st->worst, sizeof(st->worst), "%s", path);
		}
		if (ms > (double)st->slow_ms) {
			printf(
			    "slow input: %s took %.0f ms (bound %ld ms)\n", path, ms, st->slow_ms);
			st->bad = 1;
		}
	}
	free(buf);
	fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir, struct stats *st)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	if (d == NULL) {
		fprintf(stderr, "%s: cannot open directory\n", dir);
		st->bad = 1;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL)
				abort();
			names = nn;
		}
		names[n++] = strdup(path);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i], st);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct stats st = { 0 };
	const char *bound = getenv("FUZZ_REPLAY_MAX_MS");
	st.slow_ms = bound != NULL ? atol(bound) : 2000;
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			run_dir(argv[i], &st);
		else
			run_file(argv[i], &st);
	}
	printf("replayed %ld inputs, slowest %.1f ms (%s)\n", st.n, st.worst_ms,
	    st.n ? st.worst : "-");
	return st.bad || st.n == 0;
}
