/*
 * decode_cloudevents: see decode_cloudevents.h.
 *
 * Binary mode reads headers only. Structured mode is one decode_json_members parse
 * (yajl, the project's one JSON reader): each top-level scalar member is applied as a
 * CloudEvents attribute the moment the parser hands it over, so the attribute rules
 * (ce_attr) are the same for both modes.
 */
#include "decode/decode_cloudevents.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "decode/decode.h"
#include "lib/timefmt.h"

#define CE_PREFIX "ce_"

const char *ce_scratch_strndup(struct ce_scratch *s, const char *p, size_t len)
{
	char *d;

	if (s->cap - s->used < len + 1)
		return NULL;
	d = s->buf + s->used;
	memcpy(d, p, len);
	d[len] = '\0';
	s->used += len + 1;
	return d;
}

const struct ce_header *ce_header_find(const struct ce_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}

int ce_is_binary(const struct ce_header *h, size_t n)
{
	return ce_header_find(h, n, "ce_specversion") != NULL ||
	    ce_header_find(h, n, "ce_id") != NULL;
}

int ce_is_structured(const struct ce_header *h, size_t n)
{
	static const char ct[] = "application/cloudevents+json";
	const struct ce_header *c = ce_header_find(h, n, "content-type");

	if (c == NULL)
		c = ce_header_find(h, n, "Content-Type");
	return c != NULL && c->val != NULL && c->len >= sizeof ct - 1 &&
	    strncasecmp(c->val, ct, sizeof ct - 1) == 0 &&
	    (c->len == sizeof ct - 1 || c->val[sizeof ct - 1] == ';');
}

static void ev_init(struct event *ev, struct ce_scratch *s)
{
	*ev = (struct event){ .event_id = "",
		.correlation_id = "",
		.type = "",
		.source = "",
		.causation_id = "",
		.flow = NULL,
		.time_ns = TIMEFMT_NONE,
		.attrs = s->attrs,
		.nattrs = 0,
		.topic = NULL,
		.partition = -1,
		.offset = -1 };
}

/* An extension (or subject) kept as an attribute, within the scratch's limits. */
static int ce_extension(
    struct event *ev, struct ce_scratch *s, const char *name, const char *val, const char **reason)
{
	size_t max = s->max_attrs ? s->max_attrs : DECODE_DEFAULT_MAX_ATTRS;
	size_t bytes = s->max_attr_bytes ? s->max_attr_bytes : DECODE_DEFAULT_MAX_ATTR_BYTES;

	if (ev->nattrs >= max || ev->nattrs >= EV_MAX_ATTRS) {
		*reason = decode_error_name(DECODE_TOO_MANY_ATTRIBUTES);
		return -1;
	}
	if (strlen(name) > bytes || strlen(val) > bytes) {
		*reason = decode_error_name(DECODE_ATTRIBUTE_TOO_LARGE);
		return -1;
	}
	s->attrs[ev->nattrs++] = (struct ev_attr){ .key = name, .val = val };
	return 0;
}

/* Applies one CloudEvents attribute (name without the ce_ prefix; value a string in
 * scratch). Returns 0, or -1 with *reason. */
static int ce_attr(
    struct event *ev, struct ce_scratch *s, const char *name, const char *val, const char **reason)
{
	if (strcmp(name, "id") == 0)
		ev->event_id = val;
	else if (strcmp(name, "type") == 0)
		ev->type = val;
	else if (strcmp(name, "source") == 0)
		ev->source = val;
	else if (strcmp(name, "correlationid") == 0)
		ev->correlation_id = val;
	else if (strcmp(name, "causationid") == 0)
		ev->causation_id = val;
	else if (strcmp(name, "flow") == 0)
		ev->flow = val[0] != '\0' ? val : NULL;
	else if (strcmp(name, "time") == 0) {
		int rc = timefmt_parse_rfc3339(val, strlen(val), &ev->time_ns);
		if (rc) {
			*reason = decode_error_name(
			    rc == TIMEFMT_ERANGE ? DECODE_TIME_OUT_OF_RANGE : DECODE_BAD_TIME);
			return -1;
		}
	} else if (strcmp(name, "specversion") != 0 && strcmp(name, "datacontenttype") != 0 &&
	    strcmp(name, "dataschema") != 0) {
		return ce_extension(ev, s, name, val, reason);
	}
	return 0;
}

static int ce_required(const struct event *ev, const char **reason)
{
	if (ev->event_id[0] == '\0' || ev->type[0] == '\0' || ev->source[0] == '\0' ||
	    ev->time_ns == TIMEFMT_NONE) {
		*reason = "missing_field";
		return -1;
	}
	return 0;
}

int ce_decode_binary(const struct ce_header *h, size_t n, struct ce_scratch *s, struct event *ev,
    const char **reason)
{
	size_t plen = sizeof CE_PREFIX - 1;

	ev_init(ev, s);
	for (size_t i = 0; i < n; i++) {
		const char *name, *val;
		if (strncmp(h[i].name, CE_PREFIX, plen) != 0 || h[i].name[plen] == '\0')
			continue;
		name = h[i].name + plen;
		val = ce_scratch_strndup(s, h[i].val != NULL ? h[i].val : "", h[i].len);
		if (val == NULL || memchr(val, '\0', h[i].len) != NULL) {
			*reason = val == NULL ? "too_large" : "bad_header";
			return -1;
		}
		if (!decode_text_valid(val, h[i].len) || !decode_text_valid(name, strlen(name))) {
			*reason = decode_error_name(DECODE_BAD_UTF8);
			return -1;
		}
		if (ce_attr(ev, s, name, val, reason) < 0)
			return -1;
	}
	return ce_required(ev, reason);
}

struct members {
	struct event *ev;
	struct ce_scratch *s;
	const char *reason; /* set when an attribute was refused */
};

static int on_member(void *ctx, const char *key, const char *val)
{
	struct members *m = ctx;
	if (strcmp(key, "data") == 0 || strcmp(key, "data_base64") == 0)
		return 0;
	return ce_attr(m->ev, m->s, key, val, &m->reason) < 0 ? DECODE_BAD_TIME : 0;
}

int ce_decode_structured(struct decoder *dec, const char *json, size_t len, struct ce_scratch *s,
    struct event *ev, const char **reason)
{
	struct members m = { .ev = ev, .s = s, .reason = NULL };
	char err[160];

	ev_init(ev, s);
	int rc = decode_json_members(dec, json, len, on_member, &m, err, sizeof err);
	if (rc) {
		*reason = m.reason != NULL ? m.reason : decode_error_name(rc);
		return -1;
	}
	return ce_required(ev, reason);
}
