/* replay: offline judging of a recorded stream. Placeholder until the engine lands. */
#include <stdio.h>
#include "cli.h"

int replay_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "choreoscope: replay is not built yet\n");
	return 2;
}

int checkconfig_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "choreoscope: --check-config is not built yet\n");
	return 2;
}
