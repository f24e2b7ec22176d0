/*
 * fuzz: what every fuzz target in tests/fuzz/ shares.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput and is built twice: with clang's
 * libFuzzer (`make fuzz`, the fuzzer's own main) and with replay_main.c, a plain main
 * that runs every file of a corpus once (tests/e2e/fuzz_corpus.sh under ASan+UBSan,
 * with gcc, so `make test` needs no clang). A target must be deterministic, keep no
 * state between inputs except what it builds once (a decoder, a config), and abort
 * (FUZZ_CHECK) when an invariant of the code under test does not hold, so a wrong
 * answer is a finding just as a crash is.
 *
 * Kafka message targets read their input in a small text framing (fuzz_kmsg_parse), so
 * the seed corpora stay readable:
 *     NAME:VALUE      a header (the value is every byte after the first ':', up to \n)
 *     NAME            a header with a null value (no ':')
 *     @key:VALUE      the message key
 *     (empty line)    ends the headers; every byte after it is the message value
 * An input without an empty line is headers only (value NULL, length 0).
 */
#ifndef CHOREOSCOPE_FUZZ_H
#define CHOREOSCOPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include "decode/kafka_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the condition's text when it is false (a finding, not a test failure:
 * the fuzzer keeps the input that made it abort). */
void fuzz_check(int ok, const char *what, const char *file, int line);
#define FUZZ_CHECK(cond) fuzz_check((cond) != 0, #cond, __FILE__, __LINE__)

#define FUZZ_MAX_HEADERS 256

/* A message parsed from the framing above. Header names are malloc'd exactly to size
 * (so an overread is caught); values and key point into the input. */
struct fuzz_kmsg {
	struct kmsg m;
	struct ce_header hdrs[FUZZ_MAX_HEADERS];
	char *names[FUZZ_MAX_HEADERS];
};

void fuzz_kmsg_parse(const uint8_t *data, size_t size, struct fuzz_kmsg *out);
void fuzz_kmsg_release(struct fuzz_kmsg *k);

/* A config loaded from YAML text, aborting when it does not load (targets' fixtures). */
struct config *fuzz_config(const char *yaml);

/* Checks what every accepted event must satisfy (decode.h, event.h): required strings
 * non-empty and valid UTF-8, optional ones valid, attributes within the default limits
 * (DECODE_DEFAULT_MAX_ATTRS of them, keys and values at most
 * DECODE_DEFAULT_MAX_ATTR_BYTES). */
void fuzz_check_event(const struct event *ev, int need_corr);

/* The body of the Kafka message targets: on the first call builds *kd from a one-flow
 * config plus `kafka_yaml` (a `kafka:` section), then decodes `data` as a message in the
 * framing above; an accepted event must pass fuzz_check_event, a refusal name a reason. */
struct kdec;
void fuzz_kdec_one(struct kdec **kd, const char *kafka_yaml, const uint8_t *data, size_t size);

#endif
