/*
 * input: replay readers over a file or stdin, JSON lines or length-delimited protobuf.
 *
 * input_next yields one item at a time: a decoded event, a rejection (position, reason,
 * detail), or the end. Rejections never stop the reader: a bad line is reported and
 * reading goes on at the next line; a bad protobuf record is skipped by its length
 * prefix. Only a framing loss ends a protobuf stream early (a length prefix that is not
 * a varint, or a record cut short by the end of input): one rejection, then the end.
 *
 * Positions: JSONL, the 1-based line number; protobuf, the byte offset of the record's
 * length prefix. They go into ev->offset (ev->topic NULL, ev->partition -1).
 *
 * Reads are large (1 MiB read(2) calls into one buffer); lines and records longer than
 * the decoder's max_len are rejected as "too_large" without being buffered whole. JSONL:
 * blank (whitespace-only) lines are skipped; a trailing CR is dropped (CRLF files);
 * a UTF-8 byte order mark on line 1 is skipped; the last line needs no newline. Protobuf: a record of length 0 is an empty Event
 * (rejected as missing fields).
 *
 * The event's strings are borrowed from the decoder until the next input_next.
 * One reader per thread.
 */
#ifndef CHOREOSCOPE_INPUT_H
#define CHOREOSCOPE_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include "decode/decode.h"
#include "decode/event.h"

enum input_format { INPUT_JSONL, INPUT_PROTOBUF };

enum input_status {
	INPUT_ERROR = -1, /* read error: err says why; the reader is done */
	INPUT_EOF = 0,
	INPUT_EVENT = 1,  /* *ev holds an event */
	INPUT_REJECT = 2, /* *rej says what was rejected */
};

struct input_reject {
	int64_t pos;        /* line number or byte offset */
	int code;           /* enum decode_error */
	const char *reason; /* decode_error_name(code) */
	char detail[256];
};

struct input;

/* path "-" is stdin. fmt chooses the framing and decoder. dec is borrowed (it carries
 * the JSON field paths and max_len); NULL: the reader makes a default one. NULL and err
 * when the file cannot be opened. */
struct input *input_open(
    const char *path, enum input_format fmt, struct decoder *dec, char *err, size_t errlen);
/* Closes the file (not stdin) and frees the reader; NULL is a no-op. */
void input_close(struct input *in);

/* The next item; see enum input_status. */
int input_next(
    struct input *in, struct event *ev, struct input_reject *rej, char *err, size_t errlen);

/* Parses "jsonl" or "protobuf" (also "json", "proto", "pb"); -1 otherwise. */
int input_format_parse(const char *name, enum input_format *fmt);

/* Appends ev to f as one length-delimited choreoscope.v1.Event (varint length, then
 * the message). 0, or -1 on a write error or when out of memory. */
int input_write_proto_delimited(FILE *f, const struct event *ev);

/* Appends ev to f as one JSON line (decode_json_format and '\n'). 0 or -1. */
int input_write_jsonl(FILE *f, const struct event *ev);

#endif
