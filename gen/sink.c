/*
 * sink: where rendered events go. A librdkafka producer (keyed by correlation id,
 * murmur2 partitioner so other clients agree on the partition, idempotent so a
 * retried batch can neither reorder nor duplicate a flow's events), a replay file
 * (JSON lines or varint-delimited protobuf), and the truth file.
 *
 * Threading: called from the generator's single thread; delivery reports are served
 * by gen_kafka_poll on that thread.
 */
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include "gen.h"

struct gen_kafka {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char *topic;
	uint64_t failed; /* delivery failures (reported by the delivery callback) */
	int logged;      /* failures logged so far (the first few only) */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	(void)rk;
	struct gen_kafka *k = opaque;
	if (!msg->err)
		return;
	k->failed++;
	if (k->logged < 5) {
		k->logged++;
		fprintf(stderr, "choreoscope-gen: delivery failed: %s%s\n",
		    rd_kafka_err2str(msg->err),
		    k->logged == 5 ? " (further failures only counted)" : "");
	}
}

/* Sets one property; 0 or -1 with err. */
static int set(rd_kafka_conf_t *conf, const char *key, const char *val, char *err, size_t errlen)
{
	char e[256];
	if (rd_kafka_conf_set(conf, key, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "%s=%s: %s", key, val, e);
		return -1;
	}
	return 0;
}

/* Throughput settings measured in shared/KAFKA-NOTES.md; `paced` runs want each
 * event on the wire promptly instead. */
static int configure(rd_kafka_conf_t *conf, const char *brokers, char *const *props, int nprops,
    int paced, char *err, size_t errlen)
{
	const char *base[][2] = {
		{ "bootstrap.servers", brokers },
		{ "partitioner", "murmur2_random" },
		{ "enable.idempotence", "true" },
		{ "linger.ms", paced ? "5" : "100" },
		{ "batch.size", "1000000" },
		{ "batch.num.messages", "1000000" },
		{ "queue.buffering.max.messages", "2000000" },
		{ "queue.buffering.max.kbytes", "1048576" },
	};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		if (set(conf, base[i][0], base[i][1], err, errlen) < 0)
			return -1;
	for (int i = 0; i < nprops; i++) {
		char key[256];
		const char *eq = strchr(props[i], '=');
		if (!eq || eq == props[i] || (size_t)(eq - props[i]) >= sizeof key) {
			snprintf(err, errlen, "-X '%s': expected KEY=VALUE", props[i]);
			return -1;
		}
		memcpy(key, props[i], (size_t)(eq - props[i]));
		key[eq - props[i]] = '\0';
		if (set(conf, key, eq + 1, err, errlen) < 0)
			return -1;
	}
	return 0;
}

struct gen_kafka *gen_kafka_new(const char *brokers, const char *topic, char *const *props,
    int nprops, int paced, char *err, size_t errlen)
{
	struct gen_kafka *k = calloc(1, sizeof *k);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char e[512];
	if (!k || !(k->topic = strdup(topic))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (configure(conf, brokers, props, nprops, paced, err, errlen) < 0)
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, k);
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	if (!k->rk) {
		snprintf(err, errlen, "producer: %s", e);
		goto fail;
	}
	conf = NULL; /* owned by rk now */
	k->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
	if (!k->rkt) {
		snprintf(
		    err, errlen, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	return k;
fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (k && k->rk)
		rd_kafka_destroy(k->rk);
	if (k)
		free(k->topic);
	free(k);
	return NULL;
}

int gen_kafka_partitions(struct gen_kafka *k, char *err, size_t errlen)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t r = rd_kafka_metadata(k->rk, 0, k->rkt, &md, 10000);
	if (r) {
		snprintf(err, errlen, "metadata for %s: %s", k->topic, rd_kafka_err2str(r));
		return -1;
	}
	int n = -1;
	if (md->topic_cnt == 1 && !md->topics[0].err)
		n = md->topics[0].partition_cnt;
	else
		snprintf(err, errlen, "metadata for %s: %s", k->topic,
		    md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no such topic");
	rd_kafka_metadata_destroy(md);
	return n;
}

int gen_kafka_send(
    struct gen_kafka *k, const struct gen_msg *m, int32_t partition, char *err, size_t errlen)
{
	for (;;) {
		rd_kafka_headers_t *h = NULL;
		if (m->nheaders) {
			h = rd_kafka_headers_new((size_t)m->nheaders);
			for (int i = 0; i < m->nheaders; i++)
				rd_kafka_header_add(h, m->hname[i], -1, m->hval[i], -1);
		}
		rd_kafka_resp_err_t r = rd_kafka_producev(k->rk, RD_KAFKA_V_RKT(k->rkt),
		    RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->keylen),
		    RD_KAFKA_V_VALUE((void *)m->value, m->valuelen), RD_KAFKA_V_HEADERS(h),
		    RD_KAFKA_V_END);
		if (!r)
			return 0;
		if (h)
			rd_kafka_headers_destroy(h);
		if (r != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			snprintf(err, errlen, "produce to %s: %s", k->topic, rd_kafka_err2str(r));
			return -1;
		}
		rd_kafka_poll(k->rk, 10);
	}
}

void gen_kafka_poll(struct gen_kafka *k) { rd_kafka_poll(k->rk, 0); }

uint64_t gen_kafka_free(struct gen_kafka *k, int timeout_ms)
{
	if (!k)
		return 0;
	rd_kafka_resp_err_t r = rd_kafka_flush(k->rk, timeout_ms);
	uint64_t failed = k->failed;
	if (r) {
		int left = rd_kafka_outq_len(k->rk);
		fprintf(stderr, "choreoscope-gen: flush: %s, %d messages not delivered\n",
		    rd_kafka_err2str(r), left);
		failed += (uint64_t)left;
	}
	rd_kafka_topic_destroy(k->rkt);
	rd_kafka_destroy(k->rk);
	free(k->topic);
	free(k);
	return failed;
}

int gen_file_write(FILE *f, const struct gen_msg *m, int delimited)
{
	if (delimited) {
		unsigned char v[10];
		size_t n = 0, len = m->valuelen;
		do {
			v[n] = (unsigned char)(len & 0x7f);
			len >>= 7;
			if (len)
				v[n] |= 0x80;
			n++;
		} while (len);
		if (fwrite(v, 1, n, f) != n)
			return -1;
		return fwrite(m->value, 1, m->valuelen, f) == m->valuelen ? 0 : -1;
	}
	if (fwrite(m->value, 1, m->valuelen, f) != m->valuelen || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

int gen_truth_write(FILE *f, const struct gen_render_ctx *c, const struct gen_plan *p)
{
	char corr[64];
	if (p->nv == 0)
		return 0;
	gen_correlation_id(c, &p->ev[0], corr, sizeof corr);
	for (int i = 0; i < p->nv; i++)
		if (fprintf(f,
			"{\"correlation_id\":\"%s\",\"flow\":\"%s\",\"kind\":\"%s\",\"step\":\"%"
			"s\","
			"\"fault\":\"%s\",\"variant\":\"%s\"}\n",
			corr, gen_flow_names[p->flow], p->v[i].kind, gen_types[p->v[i].step].name,
			gen_fault_names[p->fault], p->variant) < 0)
			return -1;
	return 0;
}
