/*
 * consume_bench: the raw librdkafka ceiling the daemon is compared with. A consumer
 * group member with the daemon's tuned fetch settings (kafka_source.c) reads a topic
 * from the start with rd_kafka_consume_batch_queue until every assigned partition
 * reports its end; no decoding, no engine. Prints one line:
 *   messages=N bytes=B seconds=S msgs_per_sec=R mb_per_sec=M
 * timed from the first message to the last end-of-partition (the group join before
 * the first message is not counted, as in the daemon's own figure).
 *
 * usage: consume_bench --brokers ADDR --topic T [--group G]
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 8192
#define MAX_PARTS 4096

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const props[][2] = {
	{ "enable.auto.offset.store", "false" },
	{ "enable.auto.commit", "false" },
	{ "auto.offset.reset", "earliest" },
	{ "enable.partition.eof", "true" },
	{ "fetch.wait.max.ms", "10" },
	{ "fetch.max.bytes", "104857600" },
	{ "max.partition.fetch.bytes", "16777216" },
	{ "queued.min.messages", "1000000" },
	{ "queued.max.messages.kbytes", "262144" },
};

static rd_kafka_t *make_consumer(const char *brokers, const char *group)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
		rd_kafka_conf_set(c, props[i][0], props[i][1], err, sizeof err);
	if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof err) !=
		RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(c, "group.id", group, err, sizeof err) != RD_KAFKA_CONF_OK ||
	    (rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err)) == NULL) {
		fprintf(stderr, "consume_bench: %s\n", err);
		exit(1);
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

/* Number of partitions of topic, from metadata. */
static int partitions_of(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	int n = -1;

	if (rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(t);
	return n;
}

int main(int argc, char **argv)
{
	const char *brokers = NULL, *topic = NULL, *group = "consume-bench";
	static rd_kafka_message_t *msgs[BATCH];
	static unsigned char at_end[MAX_PARTS];
	unsigned long long n = 0, bytes = 0;
	int nparts, ended = 0;
	double t0 = 0, t1 = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--brokers") == 0)
			brokers = argv[i + 1];
		else if (strcmp(argv[i], "--topic") == 0)
			topic = argv[i + 1];
		else if (strcmp(argv[i], "--group") == 0)
			group = argv[i + 1];
	}
	if (brokers == NULL || topic == NULL) {
		fprintf(stderr, "usage: consume_bench --brokers ADDR --topic T [--group G]\n");
		return 2;
	}
	rd_kafka_t *rk = make_consumer(brokers, group);
	if ((nparts = partitions_of(rk, topic)) <= 0 || nparts > MAX_PARTS) {
		fprintf(stderr, "consume_bench: no metadata for %s\n", topic);
		return 1;
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_subscribe(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
	while (ended < nparts) {
		ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, BATCH);
		for (ssize_t i = 0; i < got; i++) {
			rd_kafka_message_t *m = msgs[i];
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (n++ == 0)
					t0 = now_s();
				bytes += m->len;
			} else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF &&
			    m->partition < MAX_PARTS && !at_end[m->partition]) {
				at_end[m->partition] = 1;
				ended++;
				t1 = now_s();
			}
			rd_kafka_message_destroy(m);
		}
	}
	double secs = t1 > t0 ? t1 - t0 : 1e-9;
	printf("messages=%llu bytes=%llu seconds=%.3f msgs_per_sec=%.0f mb_per_sec=%.1f\n", n,
	    bytes, secs, (double)n / secs, (double)bytes / secs / 1e6);
	rd_kafka_queue_destroy(q);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}
