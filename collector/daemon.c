/* daemon: the live collector (Kafka consumer group -> engine -> outputs).
 * Placeholder until the Kafka capability lands (owned by the kafka branch). */
#include <stdio.h>
#include "cli.h"

int daemon_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "choreoscope: the live daemon is not built yet; see 'choreoscope --help'\n");
	return 2;
}
