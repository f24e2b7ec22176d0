/*
 * input: one buffer of max_len + 1 MiB holds the unread bytes buf[start..end); a refill
 * moves the unread tail to the front and reads up to 1 MiB more, so a line or record of
 * up to max_len bytes always fits whole and a read(2) call brings in thousands of
 * events. pos_base is the stream offset of buf[0] (protobuf positions).
 *
 * An oversized JSONL line is reported as soon as max_len bytes pass without a newline;
 * the reader then discards bytes up to the next newline (`skipping`). An oversized
 * protobuf record is reported from its length prefix and its bytes are skipped
 * (`skip_left`) without being buffered.
 */
#include "source/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (1024 * 1024)

struct input {
	int fd, own_fd;
	enum input_format fmt;
	struct decoder *dec;
	int own_dec;
	size_t max_len;
	unsigned char *buf;
	size_t cap, start, end;
	int eof;
	int64_t pos_base;   /* stream offset of buf[0] */
	int64_t line;       /* JSONL: lines consumed */
	int skipping;       /* JSONL: inside an oversized line */
	uint64_t skip_left; /* protobuf: bytes of an oversized record still to skip */
	int done;           /* protobuf: framing lost, only EOF remains */
};

struct input *input_open(
    const char *path, enum input_format fmt, struct decoder *dec, char *err, size_t errlen)
{
	struct input *in = calloc(1, sizeof(*in));
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->fmt = fmt;
	in->fd = -1;
	in->dec = dec;
	if (!dec) {
		if (!(in->dec = decoder_new(NULL, 0, err, errlen)))
			goto fail;
		in->own_dec = 1;
	}
	in->max_len = DECODE_DEFAULT_MAX_LEN;
	if (dec)
		in->max_len = decoder_max_len(dec);
	in->cap = in->max_len + READ_CHUNK + 16;
	if (!(in->buf = malloc(in->cap))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!strcmp(path, "-")) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		in->own_fd = 1;
		posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	return in;
fail:
	input_close(in);
	return NULL;
}

void input_close(struct input *in)
{
	if (!in)
		return;
	if (in->own_fd)
		close(in->fd);
	if (in->own_dec)
		decoder_free(in->dec);
	free(in->buf);
	free(in);
}

int input_format_parse(const char *name, enum input_format *fmt)
{
	if (!strcmp(name, "jsonl") || !strcmp(name, "json")) {
		*fmt = INPUT_JSONL;
		return 0;
	}
	if (!strcmp(name, "protobuf") || !strcmp(name, "proto") || !strcmp(name, "pb")) {
		*fmt = INPUT_PROTOBUF;
		return 0;
	}
	return -1;
}

/* Moves the unread bytes to the front and reads once. >0 bytes read, 0 at EOF, -1 on
 * error (err set). */
static int fill(struct input *in, char *err, size_t errlen)
{
	if (in->start) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->pos_base += (int64_t)in->start;
		in->end -= in->start;
		in->start = 0;
	}
	size_t room = in->cap - in->end;
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	for (;;) {
		ssize_t n = read(in->fd, in->buf + in->end, room);
		if (n > 0) {
			in->end += (size_t)n;
			return 1;
		}
		if (n == 0) {
			in->eof = 1;
			return 0;
		}
		if (errno != EINTR) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
	}
}

static int reject(struct input_reject *rej, int64_t pos, int code, const char *detail)
{
	rej->pos = pos;
	rej->code = code;
	rej->reason = decode_error_name(code);
	if (detail != rej->detail)
		snprintf(rej->detail, sizeof(rej->detail), "%s", detail);
	return INPUT_REJECT;
}

static int blank(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* One complete line (no newline): decoded, rejected, or -2 when blank. */
static int jsonl_line(
    struct input *in, const unsigned char *s, size_t n, struct event *ev, struct input_reject *rej)
{
	if (n && s[n - 1] == '\r')
		n--;
	if (in->line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3; /* a UTF-8 byte order mark, as some editors write */
		n -= 3;
	}
	if (n == 0 || (s[0] != '{' && blank(s, n)))
		return -2;
	int rc = decode_json(in->dec, (const char *)s, n, ev, rej->detail, sizeof(rej->detail));
	if (rc)
		return reject(rej, in->line, rc, rej->detail);
	ev->offset = in->line;
	return INPUT_EVENT;
}

static int jsonl_next(
    struct input *in, struct event *ev, struct input_reject *rej, char *err, size_t errlen)
{
	for (;;) {
		unsigned char *s = in->buf + in->start;
		size_t avail = in->end - in->start;
		unsigned char *nl = memchr(s, '\n', avail);
		if (nl) {
			in->start += (size_t)(nl - s) + 1;
			in->line++;
			if (in->skipping) {
				in->skipping = 0;
				continue;
			}
			int rc = jsonl_line(in, s, (size_t)(nl - s), ev, rej);
			if (rc != -2)
				return rc;
			continue;
		}
		if (in->skipping) {
			in->start = in->end;
		} else if (avail > in->max_len) {
			in->start = in->end;
			in->skipping = 1;
			snprintf(rej->detail, sizeof(rej->detail),
			    "line longer than the %zu-byte limit", in->max_len);
			return reject(rej, in->line + 1, DECODE_TOO_LARGE, rej->detail);
		} else if (in->eof) {
			if (!avail)
				return INPUT_EOF;
			in->start = in->end;
			in->line++;
			int rc = jsonl_line(in, s, avail, ev, rej);
			if (rc != -2)
				return rc;
			continue;
		}
		if (in->eof)
			return INPUT_EOF;
		if (fill(in, err, errlen) < 0)
			return INPUT_ERROR;
	}
}

/* Makes at least n unread bytes available unless the input ends first. 0, or -1 on a
 * read error. */
static int want(struct input *in, size_t n, char *err, size_t errlen)
{
	while (in->end - in->start < n && !in->eof)
		if (fill(in, err, errlen) < 0)
			return -1;
	return 0;
}

/* The varint at buf[start..end): its length in bytes, 0 if cut short, -1 if malformed. */
static int varint(const unsigned char *s, size_t avail, uint64_t *v)
{
	uint64_t r = 0;
	for (int i = 0; i < 10; i++) {
		if ((size_t)i == avail)
			return 0;
		r |= (uint64_t)(s[i] & 0x7f) << (7 * i);
		if (!(s[i] & 0x80)) {
			if (i == 9 && s[i] > 1)
				return -1;
			*v = r;
			return i + 1;
		}
	}
	return -1;
}

/* Discards the rest of an oversized record. 0, or -1 on a read error. */
static int proto_skip(struct input *in, char *err, size_t errlen)
{
	while (in->skip_left) {
		size_t avail = in->end - in->start;
		size_t k = avail < in->skip_left ? avail : (size_t)in->skip_left;
		in->start += k;
		in->skip_left -= k;
		if (!in->skip_left)
			break;
		if (in->eof)
			return 0;
		if (fill(in, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int proto_next(
    struct input *in, struct event *ev, struct input_reject *rej, char *err, size_t errlen)
{
	if (proto_skip(in, err, errlen) || want(in, 10, err, errlen))
		return INPUT_ERROR;
	if (in->done || in->start == in->end)
		return INPUT_EOF;
	int64_t pos = in->pos_base + (int64_t)in->start;
	size_t avail = in->end - in->start;
	uint64_t len;
	int hdr = varint(in->buf + in->start, avail, &len);
	if (hdr <= 0) {
		in->done = 1;
		snprintf(rej->detail, sizeof(rej->detail), "%s",
		    hdr ? "length prefix is not a varint" : "input ends inside a length prefix");
		return reject(rej, pos, hdr ? DECODE_BAD_PROTOBUF : DECODE_TRUNCATED, rej->detail);
	}
	if (len > in->max_len) {
		in->start += (size_t)hdr;
		in->skip_left = len;
		snprintf(rej->detail, sizeof(rej->detail),
		    "record of %llu bytes exceeds the %zu-byte limit", (unsigned long long)len,
		    in->max_len);
		return reject(rej, pos, DECODE_TOO_LARGE, rej->detail);
	}
	if (want(in, (size_t)hdr + len, err, errlen))
		return INPUT_ERROR;
	avail = in->end - in->start;
	if (avail < (size_t)hdr + len) {
		in->done = 1;
		snprintf(rej->detail, sizeof(rej->detail),
		    "record of %llu bytes cut short: %zu present", (unsigned long long)len,
		    avail - (size_t)hdr);
		return reject(rej, pos, DECODE_TRUNCATED, rej->detail);
	}
	const uint8_t *msg = in->buf + in->start + hdr;
	in->start += (size_t)hdr + len;
	int rc = decode_proto(in->dec, msg, len, ev, rej->detail, sizeof(rej->detail));
	if (rc)
		return reject(rej, pos, rc, rej->detail);
	ev->offset = pos;
	return INPUT_EVENT;
}

int input_next(
    struct input *in, struct event *ev, struct input_reject *rej, char *err, size_t errlen)
{
	if (in->fmt == INPUT_JSONL)
		return jsonl_next(in, ev, rej, err, errlen);
	return proto_next(in, ev, rej, err, errlen);
}

int input_write_proto_delimited(FILE *f, const struct event *ev)
{
	uint8_t stackbuf[4096], hdr[10];
	size_t n = decode_proto_pack(ev, NULL, 0), h = 0;
	uint8_t *buf = n <= sizeof(stackbuf) ? stackbuf : malloc(n);
	if (!buf)
		return -1;
	decode_proto_pack(ev, buf, n);
	for (uint64_t v = n;; v >>= 7) {
		hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	int rc = fwrite(hdr, 1, h, f) == h && fwrite(buf, 1, n, f) == n ? 0 : -1;
	if (buf != stackbuf)
		free(buf);
	return rc;
}

int input_write_jsonl(FILE *f, const struct event *ev)
{
	char stackbuf[4096];
	size_t n = decode_json_format(ev, stackbuf, sizeof(stackbuf));
	char *buf = n < sizeof(stackbuf) ? stackbuf : malloc(n + 1);
	if (!buf)
		return -1;
	if (buf != stackbuf)
		decode_json_format(ev, buf, n + 1);
	buf[n] = '\n';
	int rc = fwrite(buf, 1, n + 1, f) == n + 1 ? 0 : -1;
	if (buf != stackbuf)
		free(buf);
	return rc;
}
