/*
 * alerts: see alerts.h. One rd_kafka_t producer serves both topics. Protobuf anomalies
 * are packed into a stack buffer (Anomaly messages are small; a larger one is counted
 * as failed rather than allocated).
 */
#include "out/alerts.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "source/kafka_source.h"
#include "choreoscope/v1/event.pb-c.h"

#define ALERT_PB_MAX 4096

struct alerts {
	rd_kafka_t *rk;
	const struct log *lg;
	char *alert_topic;
	char *dlq_topic;
	enum alerts_format format;
	struct alerts_stats st;
	struct log_limit limit;
	struct log_limit lib_limit;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct alerts *a = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		a->st.delivered++;
		return;
	}
	a->st.failed++;
	LOG_LIMITED(a->lg, &a->limit, LOG_LVL_WARN, "alert/dead-letter delivery failed",
	    "topic=%s reason=\"%s\"", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
}

/* librdkafka's own log lines, served by alerts_poll on the engine thread. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct alerts *a = rd_kafka_opaque(rk);
	enum log_level l = level <= 4 ? LOG_LVL_WARN : level <= 6 ? LOG_LVL_INFO : LOG_LVL_DEBUG;

	/* same brokers, same credentials as the consumer, whose error callback logs an
	 * authentication or TLS failure once, clearly (kafka_source.h): these repeat it */
	if (ksrc_classify(0, buf) != KSRC_SEC_OK)
		l = LOG_LVL_DEBUG;
	LOG_LIMITED(
	    a->lg, &a->lib_limit, l, "librdkafka (producer)", "facility=%s text=\"%s\"", fac, buf);
}

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen)
{
	char why[256];

	if (rd_kafka_conf_set(c, k, v, why, sizeof why) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "alert producer property %s=%s: %s", k, config_redact(k, v), why);
	return -1;
}

/* Consumer-only properties of kafka.properties are skipped for the producer. */
static int consumer_only(const char *k)
{
	static const char *const names[] = { "group.", "enable.auto.", "auto.", "fetch.",
		"max.partition.fetch.", "queued.", "enable.partition.eof", "partition.assignment",
		"session.timeout", "heartbeat.", "max.poll.", "isolation.level", "check.crcs",
		"group.instance.id" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strncmp(k, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

static rd_kafka_t *make_producer(
    struct alerts *a, const struct alerts_opts *o, char *err, size_t errlen)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char why[256];

	if (conf_set(c, "bootstrap.servers", o->brokers, err, errlen) < 0 ||
	    conf_set(c, "linger.ms", "20", err, errlen) < 0 ||
	    conf_set(c, "partitioner", "murmur2_random", err, errlen) < 0)
		goto fail;
	for (int i = 0; i < o->nprops; i++)
		if (!consumer_only(o->prop_keys[i]) &&
		    conf_set(c, o->prop_keys[i], o->prop_vals[i], err, errlen) < 0)
			goto fail;
	rd_kafka_conf_set_opaque(c, a);
	rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
	rd_kafka_conf_set_log_cb(c, log_cb);
	if (conf_set(c, "log.queue", "true", err, errlen) < 0)
		goto fail;
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof why)) == NULL) {
		snprintf(err, errlen, "alert producer: %s", why);
		goto fail;
	}
	rd_kafka_set_log_queue(rk, NULL);
	return rk;
fail:
	rd_kafka_conf_destroy(c);
	return NULL;
}

int alerts_new(const struct alerts_opts *o, const struct log *lg, struct alerts **out, char *err,
    size_t errlen)
{
	struct alerts *a;

	*out = NULL;
	if (o->alert_topic == NULL && o->dead_letter_topic == NULL)
		return 0;
	if ((a = calloc(1, sizeof *a)) == NULL) {
		snprintf(err, errlen, "alerts: out of memory");
		return -1;
	}
	a->lg = lg;
	a->format = o->format;
	a->limit = (struct log_limit)LOG_LIMIT_INIT(5, 10 * (int64_t)1000000000);
	a->lib_limit = (struct log_limit)LOG_LIMIT_INIT(10, 10 * (int64_t)1000000000);
	if ((o->alert_topic != NULL && (a->alert_topic = strdup(o->alert_topic)) == NULL) ||
	    (o->dead_letter_topic != NULL &&
		(a->dlq_topic = strdup(o->dead_letter_topic)) == NULL)) {
		snprintf(err, errlen, "alerts: out of memory");
		goto fail;
	}
	if ((a->rk = make_producer(a, o, err, errlen)) == NULL)
		goto fail;
	*out = a;
	return 0;
fail:
	alerts_free(a);
	return -1;
}

void alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	if (a->rk != NULL) {
		alerts_flush(a, 2000);
		rd_kafka_destroy(a->rk);
	}
	free(a->alert_topic);
	free(a->dlq_topic);
	free(a);
}

static void produce(struct alerts *a, const char *topic, const void *key, size_t keylen,
    const void *val, size_t len, rd_kafka_headers_t *h)
{
	rd_kafka_resp_err_t e = rd_kafka_producev(a->rk, RD_KAFKA_V_TOPIC(topic),
	    RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)val, len),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);

	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	if (h != NULL)
		rd_kafka_headers_destroy(h);
	a->st.failed++;
	LOG_LIMITED(a->lg, &a->limit, LOG_LVL_WARN, "alert/dead-letter not queued",
	    "topic=%s reason=\"%s\"", topic, rd_kafka_err2str(e));
}

/* Packs an anomaly as choreoscope.v1.Anomaly into buf; returns its size or 0. */
static size_t pack_anomaly(const struct anomaly *an, uint8_t *buf, size_t cap)
{
	Choreoscope__V1__Anomaly m = CHOREOSCOPE__V1__ANOMALY__INIT;
	char *awaiting[FG_MAX_STEPS];
	size_t n = 0;

	m.flow = an->flow != NULL ? an->flow->name : "";
	m.correlation_id = (char *)an->correlation_id;
	m.kind = (char *)an_kind_name(an->kind);
	m.step = an->step != NULL ? (char *)an->step : "";
	m.at_unix_nano = an->at_ns;
	m.event_id = an->ev != NULL ? (char *)an->ev->event_id : "";
	m.overrun_seconds = an->kind == AN_LATE ? (double)an->overrun_ns / 1e9 : 0;
	for (int i = 0; an->flow != NULL && i < an->flow->nsteps; i++)
		if (an->awaiting & FG_BIT(i))
			awaiting[n++] = an->flow->steps[i].name;
	m.n_awaiting = n;
	m.awaiting = awaiting;
	if (choreoscope__v1__anomaly__get_packed_size(&m) > cap)
		return 0;
	return choreoscope__v1__anomaly__pack(&m, buf);
}

void alerts_anomaly(struct alerts *a, const struct anomaly *an, const char *json, size_t len)
{
	uint8_t pb[ALERT_PB_MAX];
	size_t n;

	if (a == NULL || a->alert_topic == NULL)
		return;
	if (a->format == ALERTS_PROTOBUF) {
		if ((n = pack_anomaly(an, pb, sizeof pb)) == 0) {
			a->st.failed++;
			return;
		}
		produce(
		    a, a->alert_topic, an->correlation_id, strlen(an->correlation_id), pb, n, NULL);
	} else {
		produce(a, a->alert_topic, an->correlation_id, strlen(an->correlation_id), json,
		    len, NULL);
	}
	a->st.alerts++;
}

void alerts_dead_letter(struct alerts *a, const struct kmsg *m, const char *reason)
{
	rd_kafka_headers_t *h;
	char num[32];

	if (a == NULL || a->dlq_topic == NULL)
		return;
	h = rd_kafka_headers_new(m->nhdrs + 4);
	for (size_t i = 0; i < m->nhdrs; i++)
		rd_kafka_header_add(
		    h, m->hdrs[i].name, -1, m->hdrs[i].val, (ssize_t)m->hdrs[i].len);
	rd_kafka_header_add(h, "choreoscope.reason", -1, reason, -1);
	rd_kafka_header_add(h, "choreoscope.topic", -1, m->topic, -1);
	snprintf(num, sizeof num, "%d", (int)m->partition);
	rd_kafka_header_add(h, "choreoscope.partition", -1, num, -1);
	snprintf(num, sizeof num, "%lld", (long long)m->offset);
	rd_kafka_header_add(h, "choreoscope.offset", -1, num, -1);
	produce(a, a->dlq_topic, m->key, m->keylen, m->val, m->len, h);
	a->st.dead_letters++;
}

void alerts_poll(struct alerts *a)
{
	if (a != NULL)
		rd_kafka_poll(a->rk, 0);
}

void alerts_flush(struct alerts *a, int timeout_ms)
{
	if (a == NULL || rd_kafka_flush(a->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	LOG_WARN(a->lg, "alert/dead-letter messages not delivered in time; dropped", "queued=%d",
	    rd_kafka_outq_len(a->rk));
	rd_kafka_purge(a->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(a->rk, 0);
}

int alerts_has_alert_topic(const struct alerts *a) { return a != NULL && a->alert_topic != NULL; }

const struct alerts_stats *alerts_stats(const struct alerts *a) { return &a->st; }
