/*
 * thrd_shim: C11 threads (threads.h) on pthreads, linked into the ThreadSanitizer
 * build of the daemon only (make tsan-daemon). librdkafka 2.0.2 (Debian) creates its
 * threads and takes its locks through glibc's thrd_create/mtx_lock/cnd_wait, which
 * call pthreads internally, past TSan's interceptors: TSan then knows neither those
 * threads (they crash at their first malloc) nor that handing a message or a
 * callback over a librdkafka lock orders it. Defined in the executable, these
 * interpose on glibc's for librdkafka, and go through the intercepted pthread calls.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct start {
	thrd_start_t fn;
	void *arg;
};

static int rc_of(int e)
{
	return e == 0        ? thrd_success
	    : e == ETIMEDOUT ? thrd_timedout
	    : e == EBUSY     ? thrd_busy
	    : e == ENOMEM    ? thrd_nomem
			     : thrd_error;
}

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
	struct start *s = malloc(sizeof *s);
	if (s == NULL)
		return thrd_nomem;
	s->fn = fn;
	s->arg = arg;
	int e = pthread_create((pthread_t *)thr, NULL, trampoline, s);
	if (e != 0)
		free(s);
	return rc_of(e);
}

int thrd_join(thrd_t thr, int *res)
{
	void *r;
	int e = pthread_join((pthread_t)thr, &r);
	if (e == 0 && res != NULL)
		*res = (int)(intptr_t)r;
	return rc_of(e);
}

int thrd_detach(thrd_t thr) { return rc_of(pthread_detach((pthread_t)thr)); }
thrd_t thrd_current(void) { return (thrd_t)pthread_self(); }
int thrd_equal(thrd_t a, thrd_t b) { return pthread_equal((pthread_t)a, (pthread_t)b); }
_Noreturn void thrd_exit(int res) { pthread_exit((void *)(intptr_t)res); }

int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	int e = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return rc_of(e);
}

int mtx_lock(mtx_t *m) { return rc_of(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return rc_of(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict t)
{
	return rc_of(pthread_mutex_timedlock((pthread_mutex_t *)m, t));
}
int mtx_unlock(mtx_t *m) { return rc_of(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int cnd_init(cnd_t *c) { return rc_of(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return rc_of(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return rc_of(pthread_cond_broadcast((pthread_cond_t *)c)); }
int cnd_wait(cnd_t *c, mtx_t *m)
{
	return rc_of(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t)
{
	return rc_of(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, t));
}
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }
