/*
 * rwlock_guard.c: an LD_PRELOAD shim for one test (test_faults.py). It
 * remembers every pthread rwlock that was destroyed and not initialised
 * again, and aborts the process, saying so on stderr, when one of them
 * is locked or tested: glibc itself reads a destroyed rwlock without
 * complaint, and the memory stays valid, so neither a crash nor ASan
 * would show such a use.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS	4096

static pthread_mutex_t	 guard = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t	 gone[SLOTS];

static int	(*real_init)(pthread_rwlock_t *,
		    const pthread_rwlockattr_t *);
static int	(*real_destroy)(pthread_rwlock_t *);
static int	(*real_rdlock)(pthread_rwlock_t *);
static int	(*real_wrlock)(pthread_rwlock_t *);

static void
mark(pthread_rwlock_t *l, int destroyed)
{
	uintptr_t	a = (uintptr_t)l;
	size_t		i, h = (a >> 4) % SLOTS;

	pthread_mutex_lock(&guard);
	for (i = 0; i < SLOTS; i++) {
		size_t	s = (h + i) % SLOTS;

		if (gone[s] == a && !destroyed) {
			gone[s] = 1;	/* a tombstone */
			break;
		}
		if (destroyed && (gone[s] == 0 || gone[s] == 1)) {
			gone[s] = a;
			break;
		}
		if (gone[s] == 0)
			break;
	}
	pthread_mutex_unlock(&guard);
}

static void
check(pthread_rwlock_t *l)
{
	static const char	msg[] =
	    "rwlock_guard: a destroyed rwlock was used\n";
	uintptr_t		a = (uintptr_t)l;
	size_t			i, h = (a >> 4) % SLOTS;
	int			found = 0;

	pthread_mutex_lock(&guard);
	for (i = 0; i < SLOTS && gone[(h + i) % SLOTS] != 0; i++) {
		if (gone[(h + i) % SLOTS] == a) {
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&guard);
	if (found) {
		(void)write(2, msg, sizeof(msg) - 1);
		abort();
	}
}

static void
resolve(void)
{
	if (real_init == NULL) {
		real_init = dlsym(RTLD_NEXT, "pthread_rwlock_init");
		real_destroy = dlsym(RTLD_NEXT, "pthread_rwlock_destroy");
		real_rdlock = dlsym(RTLD_NEXT, "pthread_rwlock_rdlock");
		real_wrlock = dlsym(RTLD_NEXT, "pthread_rwlock_wrlock");
	}
}

int
pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a)
{
	resolve();
	mark(l, 0);
	return (real_init(l, a));
}

int
pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	resolve();
	mark(l, 1);
	return (real_destroy(l));
}

int
pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	resolve();
	check(l);
	return (real_rdlock(l));
}

int
pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	resolve();
	check(l);
	return (real_wrlock(l));
}
