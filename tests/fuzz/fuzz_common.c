/*
 * fuzz_common: the helpers of fuzz.h (message framing, fixtures, event invariants).
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "decode/decode.h"
#include "decode/kafka_decode.h"

void fuzz_check(int ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
	abort();
}

void fuzz_kmsg_parse(const uint8_t *data, size_t size, struct fuzz_kmsg *k)
{
	const char *p = (const char *)data, *end = p + size;
	memset(k, 0, sizeof(*k));
	k->m.topic = "fuzz";
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		if (eol == p) { /* the empty line: the value follows */
			k->m.val = p + 1;
			k->m.len = (size_t)(end - p - 1);
			break;
		}
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (eol - p > 5 && memcmp(p, "@key:", 5) == 0) {
			k->m.key = p + 5;
			k->m.keylen = (size_t)(eol - p - 5);
		} else if (k->m.nhdrs < FUZZ_MAX_HEADERS) {
			size_t nlen = (size_t)((colon != NULL ? colon : eol) - p);
			char *name = malloc(nlen + 1);
			FUZZ_CHECK(name != NULL);
			memcpy(name, p, nlen);
			name[nlen] = '\0';
			k->names[k->m.nhdrs] = name;
			k->hdrs[k->m.nhdrs] = (struct ce_header){ .name = name,
				.val = colon != NULL ? colon + 1 : NULL,
				.len = colon != NULL ? (size_t)(eol - colon - 1) : 0 };
			k->m.nhdrs++;
		}
		p = eol + 1;
	}
	k->m.hdrs = k->hdrs;
}

void fuzz_kmsg_release(struct fuzz_kmsg *k)
{
	for (size_t i = 0; i < k->m.nhdrs; i++)
		free(k->names[i]);
}

struct config *fuzz_config(const char *yaml)
{
	struct config *cfg = NULL;
	char err[2048];
	if (config_load_string("fuzz.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz fixture config does not load:\n%s\n", err);
		abort();
	}
	return cfg;
}

static void check_str(const char *s, int required)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(decode_text_valid(s, strlen(s)));
	if (required)
		FUZZ_CHECK(s[0] != '\0');
}

void fuzz_check_event(const struct event *ev, int need_corr)
{
	check_str(ev->event_id, 1);
	check_str(ev->type, 1);
	check_str(ev->source, 1);
	check_str(ev->correlation_id, need_corr);
	check_str(ev->causation_id, 0);
	if (ev->flow != NULL)
		check_str(ev->flow, 1);
	/* every target decodes with the default limits (decode.h) */
	FUZZ_CHECK(ev->nattrs <= DECODE_DEFAULT_MAX_ATTRS);
	FUZZ_CHECK(ev->nattrs == 0 || ev->attrs != NULL);
	for (uint32_t i = 0; i < ev->nattrs; i++) {
		check_str(ev->attrs[i].key, 0);
		check_str(ev->attrs[i].val, 0);
		FUZZ_CHECK(strlen(ev->attrs[i].key) <= DECODE_DEFAULT_MAX_ATTR_BYTES);
		FUZZ_CHECK(strlen(ev->attrs[i].val) <= DECODE_DEFAULT_MAX_ATTR_BYTES);
	}
}

void fuzz_kdec_one(struct kdec **kd, const char *kafka_yaml, const uint8_t *data, size_t size)
{
	if (*kd == NULL) {
		char yaml[1024], err[256];
		snprintf(yaml, sizeof yaml,
		    "flows:\n  - name: f\n    steps:\n"
		    "      A: { start: true }\n      B: { after: [A], end: completed }\n%s",
		    kafka_yaml);
		struct config *cfg = fuzz_config(yaml);
		struct kdec_opts ko = kdec_opts_of(cfg);
		if (kdec_new(&ko, kd, err, sizeof(err)) < 0)
			abort();
		config_free(cfg);
	}
	struct fuzz_kmsg k;
	struct event ev;
	const char *reason = NULL;
	fuzz_kmsg_parse(data, size, &k);
	if (kdec_decode(*kd, &k.m, &ev, &reason) == 0)
		fuzz_check_event(&ev, 1);
	else
		FUZZ_CHECK(reason != NULL && reason[0] != '\0');
	fuzz_kmsg_release(&k);
}
