/* dashgen: generates a Grafana dashboard and alert rules from the user's flows.
 * Placeholder until the metrics capability lands (owned by the http branch). */
#include <stdio.h>
#include "cli.h"

int dashgen_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "choreoscope: gen-dashboards is not built yet\n");
	return 2;
}
