/* ring.c: a byte stream through a ring in a shared memory segment, for
 * several writers and several readers, that survives any of them being
 * killed at any instruction (shmcat write and read). This file makes and
 * attaches the ring, holds its lock and recovers from dead peers; the
 * stream itself (reserve, commit, claim, done) is ringio.c, and the
 * format both share is ringfmt.h.
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
 * A writer with --full=overwrite makes room in a full ring by taking the
 * record at the tail off (DONE) if it is COMMITTED and none of it was
 * delivered; a CLAIMED, partly delivered or RESERVED one is never taken
 * (the writer drops its own chunk instead). Each drop is counted in the
 * header through a journal (j_*): written whole, then switched on, then
 * done, then off; a process killed with it on leaves it for the next
 * locker to do again (ring_redo), which is harmless if it was done.
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
 * attach, head, tail and the counters (counters_sane) on attach and on
 * every lock, each record before use, and a bad
 * value is EBADMSG, never an access outside the segment. */
#include "ringfmt.h"

size_t ring_size(uint64_t capacity)
{
	return RING_HDR + (size_t)align16(capacity);
}

int ring_init(void *base, size_t segsize)
{
	struct ring *r = base;
	pthread_mutexattr_t ma;
	if (segsize < RING_HDR + 4096)
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
	r->hdr = RING_HDR;
	r->nslot = NSLOT;
	r->capacity = (segsize - RING_HDR) & ~(uint64_t)15;
	/* The magic goes last: whoever sees it sees all of the above. */
	atomic_store(&r->magic, MAGIC);
	futex_wake(&r->magic);
	return 0;
}

/* What the counters satisfy whoever died when: each below 2^62 (never
 * negative, their sums never overflow), each chunk dropped at least one
 * byte, and no byte read or dropped that was not written first (a writer
 * counts a chunk before it publishes it, a reader after it marked it
 * delivered). A drop in progress (j_on) is checked as it will be. */
static bool counters_sane(const struct ring *r)
{
	const uint64_t lim = (uint64_t)1 << 62;
	bool on = atomic_load(&r->j_on);
	uint64_t in = on ? r->j_in : r->bytes_in, out = r->bytes_out;
	uint64_t n = on ? r->j_dropped : r->dropped;
	uint64_t bytes = on ? r->j_bytes : r->bytes_dropped;
	return in < lim && out < lim && n < lim && bytes < lim && n <= bytes &&
	       out + bytes <= in;
}

int ring_attach(struct ring_handle *h, void *base, size_t segsize,
		bool wait, const char **why)
{
	struct ring *r = base;
	memset(h, 0, sizeof *h);
	*why = "not an ipctools ring";
	if (segsize < RING_HDR)
		return fail(EBADMSG);
	/* A segment created a moment ago may not be initialised yet: its
	 * creator wakes us. A segment that stays zero is not a ring. */
	if (wait && atomic_load(&r->magic) == 0)
		futex_wait(&r->magic, 0, 500000000);
	if (atomic_load(&r->magic) != MAGIC || r->version != VERSION)
		return fail(EBADMSG);
	*why = "corrupt ring";
	uint64_t cap = r->capacity, head = r->head, tail = r->tail;
	if (r->hdr != RING_HDR || r->nslot != NSLOT || cap < 4096 ||
	    cap % 16 || cap > segsize - RING_HDR || head < tail ||
	    head - tail > cap || tail % 16 || !counters_sane(r))
		return fail(EBADMSG);
	h->shared = r;
	h->data = (unsigned char *)base + RING_HDR;
	h->cap = cap;
	h->slot = -1;
	return 0;
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
static int lock_until(struct ring_handle *h, int64_t deadline)
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

/* Locks and checks the counters, and finishes a drop that a process
 * killed in the middle of it left; -1 with errno as lock_until. */
int ring_lock_by(struct ring_handle *h, int64_t deadline)
{
	struct ring *r = h->shared;
	if (lock_until(h, deadline) < 0)
		return -1;
	if (r->head < r->tail || r->head - r->tail > h->cap || r->tail % 16 ||
	    r->head % 16 || ring_redo(h) < 0 || !counters_sane(r)) {
		pthread_mutex_unlock(&r->lock);
		return fail(EBADMSG);
	}
	return 0;
}

/* Does the drop written in the journal (ringio.c's drop): takes the
 * record off if it is still there, sets the counters to what they are
 * once it is done. Called locked, by the dropper, or by the next locker
 * if the dropper died: doing it twice is doing it once. A live process
 * never unlocks with j_on set. -1 on a bad record. */
int ring_redo(struct ring_handle *h)
{
	struct ring *r = h->shared;
	if (!atomic_load(&r->j_on))
		return 0;
	if (r->j_pos) {
		struct rec *c = rec_at(h, r->j_pos - 1, r->head);
		if (!c)
			return -1;
		if (atomic_load(&c->state) == R_COMMITTED)
			atomic_store(&c->state, R_DONE);
		HOOK("drop-taken");
	}
	r->dropped = r->j_dropped;
	r->bytes_dropped = r->j_bytes;
	r->bytes_in = r->j_in;
	atomic_thread_fence(memory_order_seq_cst);
	HOOK("drop-counted");
	atomic_store(&r->j_on, 0);
	return 0;
}

int ring_lock(struct ring_handle *h)
{
	return ring_lock_by(h, IT_FOREVER);
}

void ring_unlock(struct ring_handle *h)
{
	pthread_mutex_unlock(&h->shared->lock);
}

/* Called locked; on error the lock has been released. */
int ring_bad(struct ring_handle *h)
{
	ring_unlock(h);
	return fail(EBADMSG);
}

/* Moves the tail over finished records; -1 on a bad record. */
int ring_advance(struct ring_handle *h)
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
static int repair(struct ring_handle *h, bool writer, uint32_t slot)
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
int ring_reap(struct ring_handle *h)
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
			 * steps of ring_leave, gone already as far as
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
	if (ring_advance(h) < 0)
		return -1;
	/* Only news wakes the others, or waiters would wake each other. */
	if (changed) {
		wake(&r->data_seq, r->data_waiters);
		wake(&r->space_seq, r->space_waiters);
	}
	return 0;
}

int ring_join(struct ring_handle *h, bool writer, int64_t deadline)
{
	struct ring *r = h->shared;
	h->writer = writer;
	if (ring_lock_by(h, deadline) < 0)
		return -1;
	if (ring_reap(h) < 0)
		return ring_bad(h);
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
		ring_unlock(h);
		return 0;
	}
	ring_unlock(h);
	return fail(EUSERS);
}

void ring_leave(struct ring_handle *h)
{
	struct ring *r = h->shared;
	/* Leaving without the lock is leaving as the dead do: the kernel
	 * marks our slot "owner died" and the next locker tidies up. */
	if (h->slot < 0 || ring_lock_by(h, it_now_ns()) < 0)
		return;
	struct slot *s = &(h->writer ? r->w : r->r)[h->slot];
	/* A reservation or claims still in hand (a tool giving up) are put
	 * right as a dead process's would be: nobody else would. */
	if (repair(h, h->writer, (uint32_t)h->slot) < 0 || ring_advance(h) < 0) {
		ring_unlock(h);
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
	ring_unlock(h);
	pthread_mutex_unlock(&s->m);
	h->slot = -1;
}

static bool alive(const struct slot *s)
{
	return s->used && s->pid > 0 && (kill(s->pid, 0) == 0 || errno == EPERM);
}

int ring_info(const void *base, size_t segsize, struct ring_info *info)
{
	struct ring_handle h;
	const char *why;
	if (ring_attach(&h, (void *)base, segsize, false, &why) < 0)
		return fail(strcmp(why, "corrupt ring") == 0 ? EBADMSG : ENOMSG);
	const struct ring *r = h.shared;
	memset(info, 0, sizeof *info);
	info->capacity = h.cap;
	info->used = r->head - r->tail;
	/* A drop in progress counts as done, as counters_sane checks it and
	 * as the next lock (ring_redo) will make it. */
	bool on = atomic_load(&r->j_on);
	info->bytes_in = on ? r->j_in : r->bytes_in;
	info->bytes_out = r->bytes_out;
	info->dropped = on ? r->j_dropped : r->dropped;
	info->bytes_dropped = on ? r->j_bytes : r->bytes_dropped;
	for (int i = 0; i < NSLOT; i++) {
		info->writers += alive(&r->w[i]);
		info->readers += alive(&r->r[i]);
	}
	return 0;
}
