/*
 * fuzz_http_args: the JSON API's request arguments (http/api_args.c). The input is a
 * request target, "PATH?k=v&k=v"; the query is split and %XX-decoded as libmicrohttpd
 * does (into exactly sized copies), then handed to the parser the path names:
 * /api/v1/flows, /api/v1/flows/{flow}/{id}, /api/v1/summary and /api/v1/graphs,
 * /api/v1/anomalies.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "config/config.h"
#include "http/api_args.h"

#define MAXQ 64

struct query {
	char *k[MAXQ], *v[MAXQ];
	int n;
};

static const char *get(void *ctx, const char *key)
{
	struct query *q = ctx;
	for (int i = 0; i < q->n; i++)
		if (strcmp(q->k[i], key) == 0)
			return q->v[i];
	return NULL;
}

static int hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f'  ? c - 'a' + 10
	    : c >= 'A' && c <= 'F'  ? c - 'A' + 10
				    : -1;
}

static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t j = 0;
	FUZZ_CHECK(out != NULL);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
			out[j++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
			i += 2;
		} else {
			out[j++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[j] = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *cfg;
	struct query q = { 0 };
	const char *msg = NULL;
	if (cfg == NULL)
		cfg = fuzz_config(
		    "flows:\n  - name: order\n    steps:\n"
		    "      Placed: { start: true }\n      Paid: { after: [Placed], within: 30s }\n"
		    "      Shipped: { after: [Paid], end: completed }\n");
	if (memchr(data, '\0', size) != NULL)
		return 0; /* libmicrohttpd hands over NUL-terminated text */
	const char *s = (const char *)data, *qm = memchr(s, '?', size);
	size_t plen = qm ? (size_t)(qm - s) : size;
	char *path = unescape(s, plen);
	for (const char *p = qm ? qm + 1 : s + size; p < s + size && q.n < MAXQ;) {
		const char *amp = memchr(p, '&', (size_t)(s + size - p));
		const char *e = amp ? amp : s + size, *eq = memchr(p, '=', (size_t)(e - p));
		q.k[q.n] = unescape(p, (size_t)((eq ? eq : e) - p));
		q.v[q.n++] = eq ? unescape(eq + 1, (size_t)(e - eq - 1)) : unescape("", 0);
		p = e + 1;
	}
	int st;
	if (strcmp(path, "/api/v1/flows") == 0) {
		struct api_flows_args fa;
		st = api_args_flows(&cfg->graph, get, &q, &fa, &msg);
		FUZZ_CHECK(st != 0 ||
		    (fa.limit >= 1 && fa.limit <= AR_MAX_LIMIT && fa.offset >= 0 &&
			fa.offset + fa.limit <= AR_MAX_WINDOW && fa.flow < cfg->graph.nflows &&
			fa.state >= 0 && fa.sort >= 0));
	} else if (strncmp(path, "/api/v1/flows/", 14) == 0 && path[14] != '\0') {
		struct api_timeline_args ta;
		st = api_args_timeline(&cfg->graph, path + 14, &ta, &msg);
		FUZZ_CHECK(st != 0 ||
		    (ta.flow >= 0 && ta.flow < cfg->graph.nflows && strlen(ta.corr) > 0));
	} else if (strcmp(path, "/api/v1/summary") == 0 || strcmp(path, "/api/v1/graphs") == 0) {
		struct api_page_args pa;
		st = api_args_page(&cfg->graph, get, &q, &pa, &msg);
		FUZZ_CHECK(st != 0 ||
		    (pa.limit >= 1 && pa.limit <= AR_MAX_LIMIT && pa.offset >= 0 &&
			pa.offset <= FG_MAX_FLOWS && pa.flow < cfg->graph.nflows));
	} else {
		struct api_anomalies_args aa;
		st = api_args_anomalies(&cfg->graph, get, &q, &aa, &msg);
		FUZZ_CHECK(st != 0 || (aa.limit >= 1 && aa.flow < cfg->graph.nflows));
	}
	FUZZ_CHECK(st == 0 || (msg != NULL && (st == 400 || st == 404)));
	for (int i = 0; i < q.n; i++) {
		free(q.k[i]);
		free(q.v[i]);
	}
	free(path);
	return 0;
}
