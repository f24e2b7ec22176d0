/*
 * fuzz_config: config_load_string, the YAML loader and the flow-graph checker. A
 * refused config must say why; an accepted one must have a checked graph.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[4096];
	err[0] = '\0';
	if (config_load_string("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof(err)) < 0) {
		FUZZ_CHECK(cfg == NULL && err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(cfg != NULL && cfg->graph.nflows >= 1);
	config_free(cfg);
	return 0;
}
