/*
 * checkpoint: see checkpoint.h.
 */
#include "state/checkpoint.h"
#include "engine/engine_state.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static const char MAGIC[8] = { 'C', 'H', 'O', 'R', 'E', 'O', 'C', 'K' };
static const char TRAILER[8] = { 'C', 'K', 'E', 'N', 'D', 0, 0, 0 };
#define CKPT_MAX_BYTES ((size_t)1 << 34)

int ckpt_path(char *buf, size_t n, const char *dir, const char *topic, int32_t partition)
{
	int k = snprintf(buf, n, "%s/%s.%d.ckpt", dir, topic, (int)partition);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int ckpt_mkdirs(const char *dir, char *err, size_t errlen)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof p) {
		snprintf(err, errlen, "state.dir: bad path '%s'", dir);
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "state.dir: mkdir %s: %s", p, strerror(errno));
			return -1;
		}
		p[i] = c;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* CHOREOSCOPE_TEST_CKPT_STALL_MS=N: sleeps N ms with half the state written, so that
 * tests can kill a writer mid-write (tests/e2e/kafka_real_crash.sh). Unset: nothing. */
static void test_stall(void)
{
	const char *v = getenv("CHOREOSCOPE_TEST_CKPT_STALL_MS");
	long ms = v != NULL ? atol(v) : 0;

	if (ms > 0)
		usleep((useconds_t)(ms * 1000));
}

int ckpt_sync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "fsync of %s: %s", dir, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int ckpt_write(const char *dir, const struct ckpt_meta *m, const void *state, size_t len, char *err,
    size_t errlen)
{
	if (ckpt_write_file(dir, m, state, len, err, errlen) < 0)
		return -1;
	return ckpt_sync_dir(dir, err, errlen);
}

int ckpt_write_file(const char *dir, const struct ckpt_meta *m, const void *state, size_t len,
    char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	struct es_buf h = { 0 };
	uint32_t ver = CKPT_VERSION, tl = (uint32_t)strlen(m->topic);
	uint64_t sl = len, sum;
	int fd, rc = -1;
	XXH3_state_t *xs;

	if (ckpt_path(path, sizeof path, dir, m->topic, m->partition) < 0) {
		snprintf(err, errlen, "checkpoint path too long");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	engine_state_buf_put(&h, MAGIC, sizeof MAGIC);
	engine_state_buf_put(&h, &ver, 4);
	engine_state_buf_put(&h, &m->fingerprint, 8);
	engine_state_buf_put(&h, &m->offset, 8);
	engine_state_buf_put(&h, &m->part_clock_ns, 8);
	engine_state_buf_put(&h, &m->engine_clock_ns, 8);
	engine_state_buf_put(&h, &m->written_ns, 8);
	engine_state_buf_put(&h, &m->partition, 4);
	engine_state_buf_put(&h, &m->instances, 4);
	engine_state_buf_put(&h, &tl, 4);
	engine_state_buf_put(&h, m->topic, tl);
	engine_state_buf_put(&h, &sl, 8);
	if (h.oom || (xs = XXH3_createState()) == NULL) {
		free(h.p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, h.p, h.len);
	XXH3_64bits_update(xs, state, len);
	sum = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(h.p);
		return -1;
	}
	if (write_all(fd, h.p, h.len) < 0 || write_all(fd, state, len / 2) < 0 ||
	    (test_stall(), 0) ||
	    write_all(fd, (const unsigned char *)state + len / 2, len - len / 2) < 0 ||
	    write_all(fd, (const unsigned char *)&sum, 8) < 0 ||
	    write_all(fd, (const unsigned char *)TRAILER, sizeof TRAILER) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s -> %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(h.p);
	return rc;
}

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static void get(struct rd *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

static int refuse(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "checkpoint %s refused: %s", path, why);
	return -1;
}

int ckpt_read(const char *dir, const char *topic, int32_t partition, uint64_t fingerprint,
    struct ckpt_meta *m, void **state, size_t *len, char *err, size_t errlen)
{
	char path[4096], why[256];
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	*state = NULL;
	*len = 0;
	if (ckpt_path(path, sizeof path, dir, topic, partition) < 0)
		return refuse(err, errlen, dir, "path too long");
	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
		return refuse(err, errlen, path, why);
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			unsigned char *q = cap > CKPT_MAX_BYTES ? NULL : realloc(buf, cap);
			if (!q) {
				fclose(f);
				free(buf);
				return refuse(err, errlen, path, "too large or out of memory");
			}
			buf = q;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	int ferr = ferror(f);
	fclose(f);
	if (ferr) {
		free(buf);
		return refuse(err, errlen, path, "read error");
	}

	struct rd r = { buf, buf + n, 0 };
	char magic[8];
	uint32_t ver, tl;
	uint64_t sl, sum;
	memset(m, 0, sizeof *m);
	get(&r, magic, 8);
	if (r.bad || memcmp(magic, MAGIC, 8) != 0) {
		free(buf);
		return refuse(err, errlen, path, "not a choreoscope checkpoint (bad magic)");
	}
	get(&r, &ver, 4);
	if (ver != CKPT_VERSION) {
		free(buf);
		snprintf(why, sizeof why, "format version %u, this build reads version %d", ver,
		    CKPT_VERSION);
		return refuse(err, errlen, path, why);
	}
	get(&r, &m->fingerprint, 8);
	get(&r, &m->offset, 8);
	get(&r, &m->part_clock_ns, 8);
	get(&r, &m->engine_clock_ns, 8);
	get(&r, &m->written_ns, 8);
	get(&r, &m->partition, 4);
	get(&r, &m->instances, 4);
	get(&r, &tl, 4);
	if (r.bad || tl > CKPT_TOPIC_MAX || (size_t)(r.end - r.p) < tl) {
		free(buf);
		return refuse(err, errlen, path, "truncated (header)");
	}
	memcpy(m->topic, r.p, tl);
	m->topic[tl] = '\0';
	r.p += tl;
	get(&r, &sl, 8);
	if (r.bad || (size_t)(r.end - r.p) < 16 || sl != (uint64_t)(r.end - r.p) - 16) {
		free(buf);
		return refuse(
		    err, errlen, path, "truncated or damaged (length does not match the file)");
	}
	const unsigned char *st = r.p;
	r.p += sl;
	get(&r, &sum, 8);
	if (memcmp(r.p, TRAILER, 8) != 0 || XXH3_64bits(buf, (size_t)(st - buf) + sl) != sum) {
		free(buf);
		return refuse(err, errlen, path, "damaged (checksum mismatch)");
	}
	if (strcmp(m->topic, topic) != 0 || m->partition != partition) {
		free(buf);
		return refuse(err, errlen, path, "written for another topic or partition");
	}
	if (m->fingerprint != fingerprint) {
		free(buf);
		return refuse(err, errlen, path,
		    "written for other flow graphs or by another build "
		    "(fingerprint differs); see state.on_bad_checkpoint");
	}
	memmove(buf, st, sl);
	*state = buf;
	*len = sl;
	return 1;
}

int ckpt_set_aside(const char *dir, const char *topic, int32_t partition)
{
	char path[4096], bad[4200];

	if (ckpt_path(path, sizeof path, dir, topic, partition) < 0)
		return -1;
	snprintf(bad, sizeof bad, "%s.bad", path);
	return rename(path, bad);
}

int ckpt_remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int removed = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *t = strstr(de->d_name, ".ckpt.tmp.");
		char *end;
		if (t == NULL)
			continue;
		long pid = strtol(t + strlen(".ckpt.tmp."), &end, 10);
		/* a live writer's file (another member on this host) is left alone */
		if (*end != '\0' || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path &&
		    unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
