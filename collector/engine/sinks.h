/*
 * sinks: the outputs an engine calls, in registration order (engine_add_sink). A leaf
 * of the engine: judge.c emits through it, so the verdict rules never call back into
 * engine.c. Engine thread only, like the engine.
 */
#ifndef CHOREOSCOPE_SINKS_H
#define CHOREOSCOPE_SINKS_H

#include <stdbool.h>

#include "engine/engine.h"

struct sinks {
	struct engine_sink v[ENGINE_MAX_SINKS];
	int n;
	bool step; /* some sink observes steps */
};

/* 0, or -1 when ENGINE_MAX_SINKS are registered already. */
int sinks_add(struct sinks *s, const struct engine_sink *sink);
void sinks_anomaly(const struct sinks *s, const struct anomaly *a);
void sinks_flow(const struct sinks *s, const struct flow_record *r);
void sinks_step(const struct sinks *s, const struct step_obs *o);

#endif
