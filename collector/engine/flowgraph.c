/*
 * flowgraph: lookups over the declared flow graphs, and their release.
 *
 * The graph is built and validated by the config loader (config_flows.c) and is
 * immutable afterwards, so these helpers only read it. Lookups are linear: they
 * serve setup paths (resolving names once), never the per-event path.
 */
#include <stdlib.h>
#include <string.h>
#include "engine/flowgraph.h"

int fg_step_index(const struct fg_flow *f, const char *name)
{
	if (f == NULL || name == NULL)
		return -1;
	for (int i = 0; i < f->nsteps; i++)
		if (f->steps[i].name != NULL && strcmp(f->steps[i].name, name) == 0)
			return i;
	return -1;
}

int fg_flow_index(const struct flowgraph *g, const char *name)
{
	if (g == NULL || name == NULL)
		return -1;
	for (int i = 0; i < g->nflows; i++)
		if (g->flows[i].name != NULL && strcmp(g->flows[i].name, name) == 0)
			return i;
	return -1;
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void flow_free(struct fg_flow *f)
{
	for (int i = 0; i < f->nsteps; i++) {
		free(f->steps[i].name);
		free(f->steps[i].key_attr);
		free(f->steps[i].owner);
	}
	free(f->steps);
	free_strv(f->outcomes, f->noutcomes);
	free_strv(f->keys, f->nkeys);
	free(f->name);
}

/* The graph itself is embedded by its owner (struct config), so only what it
 * points to is freed; the struct is left empty and reusable. */
void flowgraph_free(struct flowgraph *g)
{
	if (g == NULL)
		return;
	for (int i = 0; i < g->nflows; i++)
		flow_free(&g->flows[i]);
	free(g->flows);
	g->flows = NULL;
	g->nflows = 0;
}
