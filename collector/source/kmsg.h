/*
 * kmsg: one Kafka message as the source (kafka_source.h) hands it to the decoder
 * (kafka_decode.h) and the daemon. Neither of them sees librdkafka's message type.
 *
 * Everything is borrowed from the source until the batch holding the message is
 * handed back (ksrc_batch_done); nothing is NUL-terminated. Threading: a kmsg may be
 * read by any one thread while its batch is out (each message is judged by one shard).
 */
#ifndef CHOREOSCOPE_KMSG_H
#define CHOREOSCOPE_KMSG_H

#include <stddef.h>
#include <stdint.h>

struct ce_header; /* decode/decode_cloudevents.h */

struct kmsg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int64_t timestamp_ms; /* the broker's or producer's timestamp, -1 when none */
	const char *key;
	size_t keylen;
	const char *val;
	size_t len;
	const struct ce_header *hdrs;
	size_t nhdrs;
	size_t nhdrs_all; /* headers the message has, when more than hdrs holds; else 0 */
};

#endif
