/*
 * sinks: see sinks.h.
 */
#include "engine/sinks.h"

int sinks_add(struct sinks *s, const struct engine_sink *sink)
{
	if (s->n == ENGINE_MAX_SINKS)
		return -1;
	s->v[s->n++] = *sink;
	s->step |= sink->step != NULL;
	return 0;
}

void sinks_anomaly(const struct sinks *s, const struct anomaly *a)
{
	for (int k = 0; k < s->n; k++)
		if (s->v[k].anomaly)
			s->v[k].anomaly(s->v[k].ctx, a);
}

void sinks_flow(const struct sinks *s, const struct flow_record *r)
{
	for (int k = 0; k < s->n; k++)
		if (s->v[k].flow)
			s->v[k].flow(s->v[k].ctx, r);
}

void sinks_step(const struct sinks *s, const struct step_obs *o)
{
	for (int k = 0; k < s->n; k++)
		if (s->v[k].step)
			s->v[k].step(s->v[k].ctx, o);
}
