/*
 * main: bin/choreoscope entry point. Flags and wiring only: it picks the subcommand
 * and hands over argv; each subcommand parses its own options.
 *   choreoscope replay --config FILE [--format jsonl|protobuf] EVENTS
 *   choreoscope --check-config FILE
 *   choreoscope gen-dashboards --config FILE [--out DIR]
 *   choreoscope discover [--config FILE] [options] EVENTS
 *   choreoscope history --data DIR [filters]
 *   choreoscope [--config FILE] [daemon options]      (the collector daemon)
 */
#include <stdio.h>
#include <string.h>
#include "cmd/cli.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: choreoscope [--config FILE] [daemon options]   run the collector\n"
	    "       choreoscope replay --config FILE [--format jsonl|protobuf] EVENTS|-\n"
	    "       choreoscope --check-config FILE\n"
	    "       choreoscope gen-dashboards --config FILE [--out DIR]\n"
	    "       choreoscope discover [--config FILE] [options] EVENTS|-   learn a starter flow "
	    "graph\n"
	    "       choreoscope history --data DIR [--correlation-id ID | --flow F --since 1h "
	    "...]\n"
	    "       choreoscope --version | --help\n"
	    "Run 'choreoscope SUBCOMMAND --help' for the options of each.\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2) {
		const char *a = argv[1];
		if (strcmp(a, "replay") == 0)
			return replay_main(argc - 1, argv + 1);
		if (strcmp(a, "discover") == 0)
			return discover_main(argc - 1, argv + 1);
		if (strcmp(a, "history") == 0)
			return history_main(argc - 1, argv + 1);
		if (strcmp(a, "gen-dashboards") == 0)
			return dashgen_main(argc - 1, argv + 1);
		if (strcmp(a, "--version") == 0) {
			printf("choreoscope %s\n", CHOREOSCOPE_VERSION);
			return 0;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--check-config") == 0 ||
		    strncmp(argv[i], "--check-config=", 15) == 0)
			return checkconfig_main(argc, argv);
	return daemon_main(argc, argv);
}
