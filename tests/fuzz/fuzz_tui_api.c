/*
 * fuzz_tui_api: the TUI's parser of the collector's answers (tui/api.c). The first
 * byte picks the answer: 's' summary, 'f' flows, 'a' anomalies, 'd' detail, 'g'
 * graphs, else the error text; the rest is the body.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], text[256];
	if (size == 0)
		return 0;
	const char *b = (const char *)data + 1;
	size_t n = size - 1;
	err[0] = '\0';
	switch (data[0]) {
	case 's': {
		struct api_summary *s = api_parse_summary(b, n, err, sizeof(err));
		FUZZ_CHECK(s != NULL || err[0]);
		if (s)
			FUZZ_CHECK(s->nflows >= 0 && s->nflows <= API_MAX_FLOWS);
		api_free_summary(s);
		break;
	}
	case 'f': {
		struct api_flowpage *p = api_parse_flows(b, n, err, sizeof(err));
		FUZZ_CHECK(p != NULL || err[0]);
		if (p)
			FUZZ_CHECK(p->n >= 0 && p->n <= API_MAX_ITEMS);
		api_free_flows(p);
		break;
	}
	case 'a': {
		struct api_anomalies *a = api_parse_anomalies(b, n, err, sizeof(err));
		FUZZ_CHECK(a != NULL || err[0]);
		api_free_anomalies(a);
		break;
	}
	case 'd': {
		struct api_detail *d = api_parse_detail(b, n, err, sizeof(err));
		FUZZ_CHECK(d != NULL || err[0]);
		if (d)
			FUZZ_CHECK(d->nsteps >= 0 && d->nsteps <= API_MAX_STEPS);
		api_free_detail(d);
		break;
	}
	case 'g': {
		struct api_graphs *g = api_parse_graphs(b, n, err, sizeof(err));
		FUZZ_CHECK(g != NULL || err[0]);
		api_free_graphs(g);
		break;
	}
	default: api_error_text(b, n, text, sizeof(text)); FUZZ_CHECK(strlen(text) < sizeof(text));
	}
	return 0;
}
