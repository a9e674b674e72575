/* drain.c: exact delivery into a pipe (CONTRACT.md section 8), for the
 * tools that take messages off something and must not take the next one
 * before the reader has read the last: a reader such as head(1) reads all
 * there is and keeps only what it wants, so only one message may be in the
 * pipe at a time. Used by mqrecv, spool and shmcat. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ipctools.h"

/* The pipe's own size while it is shrunk, to give back; 0 otherwise. */
static int own_size;
static bool registered;

static int unread_bytes(void)
{
	int n = 0;
	if (ioctl(STDOUT_FILENO, FIONREAD, &n) < 0)
		return -1;
	return n;
}

static bool reader_left(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

void it_drain_restore(void)
{
	if (own_size)
		fcntl(STDOUT_FILENO, F_SETPIPE_SZ, own_size);
	own_size = 0;
}

bool it_drain_gone(void)
{
	return reader_left();
}

static int drained(int saved, int left)
{
	errno = saved;
	return left;
}

int it_drain(int (*stopped)(void))
{
	/* errno is left as it was on every return but -1: a refused
	 * F_SETPIPE_SZ (EBUSY) or an interrupted poll (EINTR) is no failure,
	 * and a caller that looks at errno must not see one. */
	int saved = errno;
	int unread, left;
	/* A reader on the other CPU usually takes it within microseconds:
	 * looking costs less than sleeping and being woken. */
	int64_t spin = it_now_ns() + 100000;
	while ((unread = unread_bytes()) > 0 && it_now_ns() < spin)
		sched_yield();
	if (unread <= 0)
		return drained(saved, 0);
	/* Then sleep until the pipe is writable, which a pipe of one page is
	 * only once it is empty; it gets its own size back at exit. */
	int size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
	if (!own_size && size > 4096 &&
	    fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 4096) >= 0) {
		own_size = size;
		if (!registered)
			atexit(it_drain_restore);
		registered = true;
	}
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	int ms = own_size || size <= 4096 ? -1 : 10;
	while (!stopped()) {
		if (unread_bytes() == 0)
			return drained(saved, 0);
		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			return -1;
		if (p.revents & POLLERR)
			return (left = unread_bytes()) < 0 ? -1 : drained(saved, left);
		/* Writable yet not empty: a pipe that could not be shrunk.
		 * Look again now and then; the reader's leaving still wakes. */
		if (p.revents & POLLOUT) {
			p.events = 0;
			ms = 10;
		}
	}
	/* Stopped: the bytes count as read unless the reader has gone. */
	if (!reader_left())
		return drained(saved, 0);
	return (left = unread_bytes()) < 0 ? -1 : drained(saved, left);
}

static void (*on_gone)(void);

static void *watch(void *arg)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
	(void)arg;
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	if (p.revents & POLLERR)
		on_gone();
	return NULL;
}

void it_drain_watch(void (*gone)(void))
{
	pthread_t t;
	sigset_t all, old;
	on_gone = gone;
	/* The thread takes no signal, so that the ones meant to interrupt the
	 * main thread's blocking calls reach it. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, watch, NULL) == 0)
		pthread_detach(t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
