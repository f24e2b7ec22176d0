/*
 * fuzz_replay: the replay file framing (source/input.c) over a memfd. The first byte
 * picks the framing ('P' length-delimited protobuf, else JSON lines); the decoder's
 * max_len is 200 bytes so the oversized-line and oversized-record paths are reached.
 * Every item must make progress: at most one item per input byte (plus the end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"
#include "source/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoder *d;
	char err[256], path[64];
	if (d == NULL && (d = decoder_new(NULL, 200, err, sizeof(err))) == NULL)
		abort();
	if (size == 0)
		return 0;
	int fd = memfd_create("fuzz_replay", 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
	lseek(fd, 0, SEEK_SET);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct input *in =
	    input_open(path, data[0] == 'P' ? INPUT_PROTOBUF : INPUT_JSONL, d, err, sizeof(err));
	FUZZ_CHECK(in != NULL);
	struct event ev;
	struct input_reject rej;
	size_t items = 0;
	int rc;
	while ((rc = input_next(in, &ev, &rej, err, sizeof(err))) > 0) {
		FUZZ_CHECK(++items <= size);
		if (rc == INPUT_EVENT)
			fuzz_check_event(&ev, 1);
		else
			FUZZ_CHECK(rej.reason != NULL && rej.code < 0);
	}
	FUZZ_CHECK(rc == INPUT_EOF);
	input_close(in);
	close(fd);
	return 0;
}
