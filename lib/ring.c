/* ring.c: a byte stream through a ring in a shared memory segment, for
 * several writers and several readers, that survives any of them being
 * killed at any instruction (shmcat write and read).
 *
 * The segment starts with a 4096-byte header (struct ring), then holds
 * `capacity` bytes of records. A record is a 16-byte header (struct rec)
 * and its payload, 16-byte aligned, never wrapping: a writer pads to the
 * end of the area when a record does not fit there. head and tail are
 * byte counters that only grow; [tail, head) holds the live records.
 *
 * A writer reserves a record under the lock (state RESERVED), reads its
 * input straight into it without the lock, and publishes it (COMMITTED)
 * under the lock, so a reader never sees a torn chunk. A reader claims a
 * committed record (CLAIMED), writes it out without the lock, and only then
 * marks it DONE; the tail moves over DONE and PAD records.
 *
 * Liveness: the lock is a robust process-shared mutex, so a process killed
 * while holding it hands it on (EOWNERDEAD). It is only ever waited for in
 * slices of LOCK_SLICE_NS on CLOCK_MONOTONIC, after each of which the stop
 * flag and the deadline are looked at: a holder that is stopped (SIGSTOP,
 * Ctrl-Z) or a lock word that is garbage holds nobody for ever. A lock not
 * had within LOCK_BOUND_NS is ETIMEDOUT (the caller's deadline) or EDEADLK
 * (the bound), with the holder's pid and state in the handle; a lock word
 * naming no live process is a corrupt ring. Each writer and reader also
 * holds a robust mutex of its own slot for as long as it is attached; the
 * kernel releases it, marked "owner died", when the process dies however it
 * dies. Whoever finds a slot so marked (trylock returns EOWNERDEAD) turns
 * that writer's reservation into padding (its chunk never appears) and puts
 * that reader's claimed record back (it is delivered again). Waits are
 * futex waits on sequence words, in slices of SLICE_NS, after each of
 * which the slots are checked: a dead peer is noticed within one slice.
 *
 * Everything read from the segment is untrusted: the header is checked on
 * attach, head and tail on every lock, each record before use, and a bad
 * value is EBADMSG, never an access outside the segment. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipctools.h"

#define MAGIC 0x47525449u      /* "ITRG" in memory order, little-endian */
#define VERSION 1u
#define NSLOT 32
#define SLICE_NS 200000000LL   /* how soon a dead peer is noticed */
#define LOCK_SLICE_NS 100000000LL
#define LOCK_BOUND_NS 2000000000LL  /* shmcat(1) documents the 2 s */
#define TURN_STALE_NS (SLICE_NS * 5 / 2)

/* Test builds (tests/shmcat.bats compiles one with -DIT_RING_HOOKS) stop
 * or kill themselves at a named step, so that every intermediate state a
 * crash or a Ctrl-Z can leave is tried; other builds have no hook. */
#ifdef IT_RING_HOOKS
#include <stdlib.h>
static void hook(const char *step)
{
	const char *want = getenv("IT_RING_HOOK");
	const char *sig = getenv("IT_RING_HOOK_SIG");
	static bool fired;
	if (!fired && want && strcmp(want, step) == 0 && (fired = true))
		raise(sig && strcmp(sig, "STOP") == 0 ? SIGSTOP : SIGKILL);
}
#define HOOK(step) hook(step)
#else
#define HOOK(step) ((void)0)
#endif

enum { R_RESERVED = 1, R_COMMITTED, R_CLAIMED, R_DONE, R_PAD };

struct slot {
	pthread_mutex_t m;      /* held by the attached process */
	int32_t pid;
	uint32_t used;
};

/* The layout is part of the format: shmcat(1) documents the offsets of
 * magic, version, capacity, head and tail (0, 4, 16, 24, 32). */
struct ring {
	_Atomic uint32_t magic;
	uint32_t version;
	uint32_t hdr;           /* IT_RING_HDR: where the records start */
	uint32_t nslot;
	uint64_t capacity;
	uint64_t head, tail;
	uint64_t bytes_in, bytes_out;
	_Atomic uint32_t data_seq, space_seq;   /* futex words */
	uint32_t data_waiters, space_waiters;
	uint32_t sessions;      /* writers ever attached */
	uint32_t writers, readers;
	uint32_t pad0;
	pthread_mutex_t lock;
	struct slot w[NSLOT], r[NSLOT];
	/* Writers waiting for room take turns, oldest ticket first, so that
	 * one that keeps its input busy never starves one that waits. A turn
	 * not refreshed within TURN_STALE_NS (a stopped or dead waiter)
	 * holds nobody back. Zero in a ring made before: no turns. */
	struct turn {
		uint64_t ticket;
		int64_t seen;   /* CLOCK_MONOTONIC ns */
	} turn[NSLOT];
	uint64_t tickets;
};

struct rec {
	_Atomic uint32_t state;
	uint32_t who;           /* low 8 bits: the slot of the writer or reader
				 * that holds it; above: bytes of the payload
				 * already delivered (a reader cut short) */
	uint32_t size;          /* whole record, a multiple of 16 */
	uint32_t len;           /* payload bytes */
};

#define OWNER(c) ((c)->who & 0xffu)
#define DELIVERED(c) ((c)->who >> 8)

_Static_assert(sizeof(struct ring) <= IT_RING_HDR, "ring header too big");
_Static_assert(offsetof(struct ring, head) == 24, "format offsets");
_Static_assert(offsetof(struct ring, tail) == 32, "format offsets");

static uint64_t align16(uint64_t n)
{
	return (n + 15) & ~(uint64_t)15;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t ns)
{
	struct timespec ts = it_ns_to_ts(ns);
	syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void wake(_Atomic uint32_t *seq, uint32_t waiters)
{
	atomic_fetch_add(seq, 1);
	if (waiters)
		futex_wake(seq);
}

size_t it_ring_size(uint64_t capacity)
{
	return IT_RING_HDR + (size_t)align16(capacity);
}

int it_ring_init(void *base, size_t segsize)
{
	struct ring *r = base;
	pthread_mutexattr_t ma;
	if (segsize < IT_RING_HDR + 4096)
		return fail(EINVAL);
	memset(r, 0, sizeof *r);
	if (pthread_mutexattr_init(&ma) ||
	    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) ||
	    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK))
		return fail(EINVAL);
	pthread_mutex_init(&r->lock, &ma);
	for (int i = 0; i < NSLOT; i++) {
		pthread_mutex_init(&r->w[i].m, &ma);
		pthread_mutex_init(&r->r[i].m, &ma);
	}
	pthread_mutexattr_destroy(&ma);
	r->version = VERSION;
	r->hdr = IT_RING_HDR;
	r->nslot = NSLOT;
	r->capacity = (segsize - IT_RING_HDR) & ~(uint64_t)15;
	/* The magic goes last: whoever sees it sees all of the above. */
	atomic_store(&r->magic, MAGIC);
	futex_wake(&r->magic);
	return 0;
}

int it_ring_attach(struct it_ring *h, void *base, size_t segsize,
		   bool wait, const char **why)
{
	struct ring *r = base;
	memset(h, 0, sizeof *h);
	*why = "not an ipctools ring";
	if (segsize < IT_RING_HDR)
		return fail(EBADMSG);
	/* A segment created a moment ago may not be initialised yet: its
	 * creator wakes us. A segment that stays zero is not a ring. */
	if (wait && atomic_load(&r->magic) == 0)
		futex_wait(&r->magic, 0, 500000000);
	if (atomic_load(&r->magic) != MAGIC || r->version != VERSION)
		return fail(EBADMSG);
	*why = "corrupt ring";
	uint64_t cap = r->capacity, head = r->head, tail = r->tail;
	if (r->hdr != IT_RING_HDR || r->nslot != NSLOT || cap < 4096 ||
	    cap % 16 || cap > segsize - IT_RING_HDR || head < tail ||
	    head - tail > cap || tail % 16)
		return fail(EBADMSG);
	h->shared = r;
	h->data = (unsigned char *)base + IT_RING_HDR;
	h->cap = cap;
	h->slot = -1;
	return 0;
}

/* The record at counter pos, checked against the ring's bounds. */
static struct rec *rec_at(const struct it_ring *h, uint64_t pos, uint64_t head)
{
	uint64_t off = pos % h->cap;
	if (pos % 16 || pos >= head)
		return NULL;
	struct rec *c = (struct rec *)(h->data + off);
	uint32_t st = atomic_load(&c->state), size = c->size, len = c->len;
	if (st < R_RESERVED || st > R_PAD || size < 16 || size % 16 ||
	    off + size > h->cap || pos + size > head || len > size - 16 ||
	    OWNER(c) >= NSLOT || DELIVERED(c) > len)
		return NULL;
	return c;
}

/* The __kind of a mutex made with our attributes: anything else in a
 * ring's mutex is garbage that glibc must never be handed. */
static int mutex_kind(void)
{
	static int kind = -1;
	pthread_mutexattr_t ma;
	pthread_mutex_t m;
	if (kind >= 0)
		return kind;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&m, &ma);
	pthread_mutexattr_destroy(&ma);
	kind = m.__data.__kind;
	return kind;
}

static bool mutex_sane(const pthread_mutex_t *m)
{
	return m->__data.__kind == mutex_kind();
}

static int lock_word(const pthread_mutex_t *m)
{
	return atomic_load((const _Atomic int *)&m->__data.__lock);
}

/* The thread that holds a robust mutex: its tid is in the lock word. */
static pid_t mutex_holder(const pthread_mutex_t *m)
{
	return (pid_t)(lock_word(m) & FUTEX_TID_MASK);
}

/* The state letter of /proc/PID/stat ('T' stopped, 'R' running...), 0 if
 * there is no such process, '?' if it cannot be told (no /proc). */
static char proc_state(pid_t pid)
{
	char path[32], buf[512];
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

/* Takes the ring's lock, waiting in slices; on failure the holder, if
 * any, is in h->holder and h->holder_state. */
static int lock_until(struct it_ring *h, int64_t deadline)
{
	struct ring *r = h->shared;
	int64_t bound = it_now_ns() + LOCK_BOUND_NS;
	if (!mutex_sane(&r->lock))
		return fail(EBADMSG);
	int strikes = 0;
	h->holder = 0;
	for (;;) {
		int64_t now = it_now_ns(), end = now + LOCK_SLICE_NS;
		struct timespec ts = it_ns_to_ts(end);
		int rc = pthread_mutex_clocklock(&r->lock, CLOCK_MONOTONIC, &ts);
		if (rc == 0)
			return 0;
		if (rc == EOWNERDEAD) {
			pthread_mutex_consistent(&r->lock);
			h->reap = true;
			return 0;
		}
		if (rc != ETIMEDOUT)
			return fail(EBADMSG);
		int word = lock_word(&r->lock);
		pid_t pid = (pid_t)(word & FUTEX_TID_MASK);
		char st = pid ? proc_state(pid) : 0;
		/* A lock word that names no live process, twice over, can
		 * never be given back: the robust list of a dead holder
		 * would have marked it "owner died". (Once may be a holder
		 * that let go and left between our two looks.) */
		if (word != 0 && (!st || st == 'Z' || st == 'X') &&
		    lock_word(&r->lock) == word) {
			if (++strikes == 2)
				return fail(EBADMSG);
		} else {
			strikes = 0;
		}
		h->holder = pid;
		h->holder_state = st;
		if (h->stop && *h->stop)
			return fail(EINTR);
		now = it_now_ns();
		if (deadline != IT_FOREVER && now >= deadline)
			return fail(ETIMEDOUT);
		if (now >= bound)
			return fail(EDEADLK);
	}
}

/* Locks and checks the counters; -1 with errno as lock_until. */
static int lock_by(struct it_ring *h, int64_t deadline)
{
	struct ring *r = h->shared;
	if (lock_until(h, deadline) < 0)
		return -1;
	if (r->head < r->tail || r->head - r->tail > h->cap || r->tail % 16 ||
	    r->head % 16) {
		pthread_mutex_unlock(&r->lock);
		return fail(EBADMSG);
	}
	return 0;
}

static int lock(struct it_ring *h)
{
	return lock_by(h, IT_FOREVER);
}

static void unlock(struct it_ring *h)
{
	pthread_mutex_unlock(&h->shared->lock);
}

/* Called locked; on error the lock has been released. */
static int bad(struct it_ring *h)
{
	unlock(h);
	return fail(EBADMSG);
}

/* Moves the tail over finished records; -1 on a bad record. */
static int advance(struct it_ring *h)
{
	struct ring *r = h->shared;
	uint64_t tail = r->tail;
	while (tail < r->head) {
		struct rec *c = rec_at(h, tail, r->head);
		if (!c)
			return -1;
		uint32_t st = atomic_load(&c->state);
		/* Held by a slot nobody is attached to (garbage, or a left
		 * process's): put right as a dead one's, or it would hold
		 * the ring back for ever. */
		if (st == R_RESERVED && !r->w[OWNER(c)].used) {
			c->len = 0;
			atomic_store(&c->state, st = R_PAD);
		} else if (st == R_CLAIMED && !r->r[OWNER(c)].used) {
			atomic_store(&c->state, R_COMMITTED);
			wake(&r->data_seq, r->data_waiters);
		}
		if (st != R_DONE && st != R_PAD)
			break;
		tail += c->size;
	}
	if (tail != r->tail) {
		r->tail = tail;
		wake(&r->space_seq, r->space_waiters);
	}
	return 0;
}

/* Puts right what a dead process left: its reservation becomes padding,
 * its claimed record goes back to the readers. */
static int repair(struct it_ring *h, bool writer, uint32_t slot)
{
	struct ring *r = h->shared;
	for (uint64_t pos = r->tail; pos < r->head;) {
		struct rec *c = rec_at(h, pos, r->head);
		if (!c)
			return -1;
		uint32_t st = atomic_load(&c->state);
		if (OWNER(c) == slot && writer && st == R_RESERVED) {
			c->len = 0;
			atomic_store(&c->state, R_PAD);
		} else if (OWNER(c) == slot && !writer && st == R_CLAIMED) {
			atomic_store(&c->state, R_COMMITTED);
		}
		pos += c->size;
	}
	return 0;
}

/* Checks every slot but ours, repairs after the dead, and recounts the
 * live writers and readers. Called locked; -1 on a bad record. */
static int reap(struct it_ring *h)
{
	struct ring *r = h->shared;
	uint32_t live[2] = {0, 0};
	bool changed = false;
	for (int k = 0; k < 2; k++) {
		bool writer = k == 0;
		struct slot *s = writer ? r->w : r->r;
		for (uint32_t i = 0; i < NSLOT; i++) {
			if (writer == h->writer && (int)i == h->slot) {
				live[k]++;
				continue;
			}
			if (!mutex_sane(&s[i].m))
				return -1;
			int rc = pthread_mutex_trylock(&s[i].m);
			/* Held and not in use: a process between the two
			 * steps of it_ring_leave, gone already as far as
			 * the counts go. Held and in use: by the process
			 * the slot names, or the slot is garbage (a phantom
			 * peer that would keep readers waiting for ever). */
			if (rc == EBUSY && s[i].used) {
				if (mutex_holder(&s[i].m) != s[i].pid ||
				    !proc_state(s[i].pid))
					return -1;
				live[k]++;
				continue;
			}
			if (rc == EBUSY)
				continue;
			if (rc == EOWNERDEAD)
				pthread_mutex_consistent(&s[i].m);
			else if (rc)
				return -1;
			if (rc == EOWNERDEAD || s[i].used) {
				changed = true;
				if (repair(h, writer, i) < 0) {
					pthread_mutex_unlock(&s[i].m);
					return -1;
				}
			}
			s[i].used = 0;
			s[i].pid = 0;
			if (writer)
				r->turn[i].ticket = 0;
			pthread_mutex_unlock(&s[i].m);
		}
	}
	changed |= r->writers != live[0] || r->readers != live[1];
	r->writers = live[0];
	r->readers = live[1];
	h->reap = false;
	if (advance(h) < 0)
		return -1;
	/* Only news wakes the others, or waiters would wake each other. */
	if (changed) {
		wake(&r->data_seq, r->data_waiters);
		wake(&r->space_seq, r->space_waiters);
	}
	return 0;
}

int it_ring_join(struct it_ring *h, bool writer, int64_t deadline)
{
	struct ring *r = h->shared;
	h->writer = writer;
	if (lock_by(h, deadline) < 0)
		return -1;
	if (reap(h) < 0)
		return bad(h);
	struct slot *s = writer ? r->w : r->r;
	for (int i = 0; i < NSLOT; i++) {
		if (s[i].used || !mutex_sane(&s[i].m) ||
		    pthread_mutex_trylock(&s[i].m) != 0)
			continue;
		s[i].used = 1;
		s[i].pid = getpid();
		h->slot = i;
		if (writer) {
			r->writers++;
			r->sessions++;
		} else {
			r->readers++;
		}
		unlock(h);
		return 0;
	}
	unlock(h);
	return fail(EUSERS);
}

void it_ring_leave(struct it_ring *h)
{
	struct ring *r = h->shared;
	/* Leaving without the lock is leaving as the dead do: the kernel
	 * marks our slot "owner died" and the next locker tidies up. */
	if (h->slot < 0 || lock_by(h, it_now_ns()) < 0)
		return;
	struct slot *s = &(h->writer ? r->w : r->r)[h->slot];
	/* A reservation or claims still in hand (a tool giving up) are put
	 * right as a dead process's would be: nobody else would. */
	if (repair(h, h->writer, (uint32_t)h->slot) < 0 || advance(h) < 0) {
		unlock(h);
		return;
	}
	h->nclaim = 0;
	if (h->writer)
		r->turn[h->slot].ticket = 0;
	s->used = 0;
	s->pid = 0;
	if (h->writer && r->writers)
		r->writers--;
	else if (!h->writer && r->readers)
		r->readers--;
	/* Readers waiting for data may now be at the end of the stream. */
	wake(&r->data_seq, r->data_waiters);
	unlock(h);
	pthread_mutex_unlock(&s->m);
	h->slot = -1;
}

/* --nowait waits for the lock no longer than one slice. */
static int64_t lock_deadline(int64_t deadline, bool nowait)
{
	return nowait ? it_now_ns() + LOCK_SLICE_NS : deadline;
}

/* One slice of waiting on seq, called locked and returning locked; 0, or
 * -1 with errno ETIMEDOUT (deadline), EINTR (*stop set) or EBADMSG. */
static int wait_on(struct it_ring *h, _Atomic uint32_t *seq, uint32_t *waiters,
		   int64_t deadline, volatile sig_atomic_t *stop)
{
	int64_t left = it_left_ns(deadline);
	if (stop && *stop) {
		unlock(h);
		return fail(EINTR);
	}
	if (left == 0) {
		unlock(h);
		return fail(ETIMEDOUT);
	}
	uint32_t v = atomic_load(seq);
	(*waiters)++;
	unlock(h);
	futex_wait(seq, v, left == IT_FOREVER || left > SLICE_NS ? SLICE_NS : left);
	if (lock_by(h, deadline) < 0)
		return -1;
	if (*waiters)
		(*waiters)--;
	if (h->gone && h->gone(h->gone_arg)) {
		unlock(h);
		return fail(EIDRM);
	}
	/* Cheap enough to do after every wake: a dead peer is found within
	 * one slice, even when nobody wakes us. */
	h->reap = true;
	return 0;
}

/* Whether a live writer that has waited for room longer than us (mine:
 * our ticket, 0 if we have not waited) is to go first. */
static bool must_yield(const struct it_ring *h, uint64_t mine)
{
	const struct ring *r = h->shared;
	int64_t now = it_now_ns();
	for (int i = 0; i < NSLOT; i++) {
		const struct turn *t = &r->turn[i];
		if (i == h->slot || !r->w[i].used || !t->ticket ||
		    (mine && t->ticket >= mine) || t->seen > now ||
		    now - t->seen > TURN_STALE_NS)
			continue;
		return true;
	}
	return false;
}

int it_ring_reserve(struct it_ring *h, size_t min, size_t max,
		    int64_t deadline, bool nowait, volatile sig_atomic_t *stop,
		    void **buf, size_t *len)
{
	struct ring *r = h->shared;
	uint64_t need = align16(16 + min), want = align16(16 + max);
	if (need > h->cap / 2)
		return fail(EMSGSIZE);
	/* A writer that never has to wait must still learn that its ring
	 * was removed: what it writes there reaches nobody. */
	if (h->gone && h->gone(h->gone_arg))
		return fail(EIDRM);
	h->stop = stop;
	if (lock_by(h, lock_deadline(deadline, nowait)) < 0)
		return -1;
	struct turn *turn = &r->turn[h->slot];
	turn->ticket = 0;
	for (;;) {
		if (h->reap && reap(h) < 0)
			return bad(h);
		uint64_t head = r->head, off = head % h->cap;
		uint64_t free = h->cap - (head - r->tail), contig = h->cap - off;
		struct rec *c = (struct rec *)(h->data + off);
		if (contig < need && free >= contig + need) {
			c->who = (uint32_t)h->slot;
			c->size = (uint32_t)contig;
			c->len = 0;
			atomic_store(&c->state, R_PAD);
			r->head = head + contig;
			continue;
		}
		if (contig >= need && free >= need &&
		    !must_yield(h, turn->ticket)) {
			uint64_t size = want < contig ? want : contig;
			if (size > free)
				size = free;
			c->who = (uint32_t)h->slot;
			c->size = (uint32_t)size;
			c->len = 0;
			atomic_store(&c->state, R_RESERVED);
			r->head = head + size;
			h->cur = head;
			/* Our turn is over: the next in line may go. */
			if (turn->ticket) {
				turn->ticket = 0;
				wake(&r->space_seq, r->space_waiters);
			}
			unlock(h);
			*buf = c + 1;
			*len = size - 16;
			return 0;
		}
		if (nowait) {
			unlock(h);
			return fail(EAGAIN);
		}
		if (!turn->ticket)
			turn->ticket = ++r->tickets;
		turn->seen = it_now_ns();
		if (wait_on(h, &r->space_seq, &r->space_waiters, deadline, stop) < 0)
			return -1;
	}
}

/* Every store below leaves a ring that the next locker can use if this
 * process dies right after it (the HOOK points; tests/shmcat.bats kills a
 * writer at each): the room given back first becomes a padding record
 * inside ours, then ours shrinks over it, then the head moves back. */
int it_ring_commit(struct it_ring *h, size_t len)
{
	struct ring *r = h->shared;
	if (lock(h) < 0)
		return -1;
	HOOK("commit-locked");
	struct rec *c = rec_at(h, h->cur, r->head);
	if (!c || atomic_load(&c->state) != R_RESERVED || len > c->size - 16)
		return bad(h);
	c->len = (uint32_t)len;
	uint32_t size = (uint32_t)align16(16 + len);
	if (size < c->size) {
		struct rec *pad = (struct rec *)((unsigned char *)c + size);
		pad->who = OWNER(c);
		pad->size = c->size - size;
		pad->len = 0;
		atomic_store(&pad->state, R_PAD);
		HOOK("commit-pad");
		atomic_thread_fence(memory_order_seq_cst);
		c->size = size;
		atomic_thread_fence(memory_order_seq_cst);
		HOOK("commit-shrunk");
		/* The last reservation gives the room back at once. */
		if (r->head == h->cur + size + pad->size) {
			r->head = h->cur + size;
			atomic_thread_fence(memory_order_seq_cst);
			HOOK("commit-head");
			wake(&r->space_seq, r->space_waiters);
		}
	}
	if (len == 0) {
		atomic_store(&c->state, R_PAD);
	} else {
		atomic_store(&c->state, R_COMMITTED);
		HOOK("commit-state");
		r->bytes_in += len;
		wake(&r->data_seq, r->data_waiters);
	}
	if (advance(h) < 0)
		return bad(h);
	unlock(h);
	return 0;
}

int it_ring_claim(struct it_ring *h, bool follow, int64_t deadline,
		  bool nowait, size_t most, volatile sig_atomic_t *stop,
		  const void **buf, size_t *len)
{
	struct ring *r = h->shared;
	h->stop = stop;
	if (h->nclaim == IT_RING_NCLAIM)
		return fail(ENOBUFS);
	if (lock_by(h, lock_deadline(deadline, nowait)) < 0)
		return -1;
	for (;;) {
		if (h->reap && reap(h) < 0)
			return bad(h);
		if (advance(h) < 0)
			return bad(h);
		for (uint64_t pos = r->tail; pos < r->head;) {
			struct rec *c = rec_at(h, pos, r->head);
			if (!c)
				return bad(h);
			if (atomic_load(&c->state) == R_COMMITTED) {
				uint32_t done = DELIVERED(c);
				/* The next record in order is too big for
				 * what the caller has room for: none is
				 * taken, or the order would change. */
				if (c->len - done > most) {
					unlock(h);
					return fail(EAGAIN);
				}
				c->who = done << 8 | (uint32_t)h->slot;
				atomic_store(&c->state, R_CLAIMED);
				h->claim[h->nclaim] = pos;
				h->claim_len[h->nclaim++] = c->len - done;
				*buf = (unsigned char *)(c + 1) + done;
				*len = c->len - done;
				unlock(h);
				return 1;
			}
			pos += c->size;
		}
		/* Nothing to take. The end of the stream is a ring that some
		 * writer has used and that none is attached to now. */
		if (!follow && r->sessions > 0 && r->writers == 0) {
			unlock(h);
			return 0;
		}
		if (nowait) {
			unlock(h);
			return fail(EAGAIN);
		}
		if (wait_on(h, &r->data_seq, &r->data_waiters, deadline, stop) < 0)
			return -1;
	}
}

/* One claimed record, called locked: delivered wholly (done), or its
 * first part bytes (of what was claimed) delivered and the rest back for
 * another reader. -1 on a record that is not ours. */
static int finish(struct it_ring *h, uint64_t pos, bool done, size_t part)
{
	struct ring *r = h->shared;
	struct rec *c = rec_at(h, pos, r->head);
	if (!c || atomic_load(&c->state) != R_CLAIMED ||
	    OWNER(c) != (uint32_t)h->slot || part > c->len - DELIVERED(c))
		return -1;
	uint32_t delivered = DELIVERED(c) + (uint32_t)part;
	if (done || delivered == c->len) {
		atomic_store(&c->state, R_DONE);
		r->bytes_out += c->len - DELIVERED(c);
	} else {
		r->bytes_out += part;
		c->who = delivered << 8 | OWNER(c);
		atomic_store(&c->state, R_COMMITTED);
		wake(&r->data_seq, r->data_waiters);
	}
	return 0;
}

/* Settles every record claimed, in the order claimed: the first
 * delivered bytes went out (all of them if all), the rest go back. */
static int settle(struct it_ring *h, bool all, size_t delivered)
{
	/* What went out must be marked so, or it would be delivered again:
	 * a stop signal does not cut this wait short, the bound does. */
	volatile sig_atomic_t *stop = h->stop;
	h->stop = NULL;
	int rc = lock(h);
	h->stop = stop;
	if (rc < 0)
		return -1;
	HOOK("finish-locked");
	for (int i = 0; i < h->nclaim; i++) {
		size_t len = h->claim_len[i];
		size_t part = all || delivered >= len ? len : delivered;
		if (finish(h, h->claim[i], part == len, part) < 0)
			return bad(h);
		delivered -= all ? 0 : part;
	}
	h->nclaim = 0;
	if (advance(h) < 0)
		return bad(h);
	unlock(h);
	return 0;
}

int it_ring_done(struct it_ring *h)
{
	return settle(h, true, 0);
}

int it_ring_unclaim(struct it_ring *h, size_t delivered)
{
	return settle(h, false, delivered);
}

static bool alive(const struct slot *s)
{
	return s->used && s->pid > 0 && (kill(s->pid, 0) == 0 || errno == EPERM);
}

int it_ring_info(const void *base, size_t segsize, struct it_ring_info *info)
{
	struct it_ring h;
	const char *why;
	if (it_ring_attach(&h, (void *)base, segsize, false, &why) < 0)
		return -1;
	const struct ring *r = h.shared;
	memset(info, 0, sizeof *info);
	info->capacity = h.cap;
	info->used = r->head - r->tail;
	info->bytes_in = r->bytes_in;
	info->bytes_out = r->bytes_out;
	for (int i = 0; i < NSLOT; i++) {
		info->writers += alive(&r->w[i]);
		info->readers += alive(&r->r[i]);
	}
	return 0;
}
