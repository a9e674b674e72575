/* What write and read share: the ring opened (made, joined, or waited
 * for), stop signals acted on between chunks, and the messages of a ring
 * that failed or was removed. The ring itself is ring.c. */
#include "shmcat.h"

volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = sig;
}

/* SIGINT, SIGTERM and SIGHUP only set a flag: the chunk in hand is
 * finished, then the tool ends as the signal would end it. Blocking calls
 * see EINTR (no SA_RESTART). */
void catch_stops(void)
{
	it_catch_stops(on_stop);
	signal(SIGPIPE, SIG_IGN);
}

_Noreturn void exit_signal(int sig)
{
	it_close_stdout();
	it_exit_signal(sig);
}

/* Whether the segment in hand was removed (IPC_RMID, shm_unlink) since
 * it was opened: a waiting writer or reader then exits 66. */
bool seg_gone(void *arg)
{
	const struct seg *s = arg;
	struct shmid_ds ds;
	struct stat st;
	if (s->posix)
		return fstat(s->fd, &st) == 0 && st.st_nlink == 0;
	return shmctl(s->id, IPC_STAT, &ds) < 0 ? errno == EINVAL ||
	       errno == EIDRM : (ds.shm_perm.mode & SHM_DEST) != 0;
}

/* Bytes read from standard input and not yet published: what a writer
 * that gives up puts back (seekable input) or says it dropped. */
size_t held;

static bool held_back;

/* Bytes this writer published into the ring: what a removed ring may
 * have kept from every reader. */
uint64_t published;

/* Leaves a seekable standard input at the first byte not published; for
 * a pipe, writes into note (for the end of a message) how much is lost. */
void give_back(char *note, size_t size)
{
	*note = '\0';
	if (!held || held_back)
		return;
	held_back = true;
	if (lseek(STDIN_FILENO, -(off_t)held, SEEK_CUR) >= 0)
		return;
	snprintf(note, size, " (%zu bytes read from standard input were not "
		 "written)", held);
}

static const char *state_name(char st)
{
	return st == 'T' || st == 't' ? "stopped" : "alive";
}

/* The most --atomic a ring of capacity bytes takes: a record of it
 * (16 bytes of header, 16-byte aligned) fills at most half the ring. */
static size_t max_atomic(uint64_t capacity)
{
	return (size_t)((capacity / 2) & ~(uint64_t)15) - 16;
}

/* 4096, or less in a ring too small for it. */
size_t default_atomic(uint64_t capacity)
{
	return max_atomic(capacity) < 4096 ? max_atomic(capacity) : 4096;
}

static _Noreturn void atomic_too_big(const struct seg *s, uint64_t capacity)
{
	it_die(IT_DATAERR, "unable to write %s: --atomic is more than %zu bytes, "
	       "the most a ring of %llu bytes takes", s->label,
	       max_atomic(capacity), (unsigned long long)capacity);
}

/* A writer's ring removed under it: what it published and no reader
 * took (the ring's unread bytes, at most ours) reaches nobody now. */
_Noreturn void ring_removed(const struct seg *s, const char *note)
{
	struct ring_info ri;
	uint64_t unread = 0;
	if (ring_info(s->base, s->size, &ri) == 0 && ri.bytes_in > ri.bytes_out)
		unread = ri.bytes_in - ri.bytes_out;
	if (unread > published)
		unread = published;
	if (!unread)
		it_die(IT_NOINPUT, "unable to write %s: the segment was removed%s",
		       s->label, note);
	it_die(IT_NOINPUT, "unable to write %s: the segment was removed (%llu "
	       "bytes written into it were not read)%s", s->label,
	       (unsigned long long)unread, note);
}

/* The errno of a failed ring call, as the contract's message and status. */
_Noreturn void ring_fail(struct seg *s, struct ring_handle *h, int err,
			 bool writer)
{
	const char *verb = writer ? "write" : "read";
	char note[96], who[96] = "";
	give_back(note, sizeof note);
	if (h->holder)
		snprintf(who, sizeof who, " (its lock is held by pid %d, %s)",
			 (int)h->holder, state_name(h->holder_state));
	if (err == EINTR) {
		ring_leave(h);
		if (*note)
			it_warn("stopped writing %s:%s", s->label, note);
		exit_signal(stop);
	}
	if (err == EBADMSG)
		it_die(IT_DATAERR, "unable to use %s: corrupt ring%s", s->label,
		       note);
	ring_leave(h);
	if (err == EDEADLK)
		it_die(IT_UNAVAILABLE, "unable to %s %s: its lock has been held "
		       "for over 2 s by pid %d (%s)%s", verb, s->label,
		       (int)h->holder, state_name(h->holder_state), note);
	if (err == EMSGSIZE)
		atomic_too_big(s, h->cap);
	if (err == EIDRM && writer)
		ring_removed(s, note);
	if (err == EIDRM)
		it_die(IT_NOINPUT, "unable to %s %s: the segment was removed%s",
		       verb, s->label, note);
	if (err == EAGAIN)
		it_die(IT_NO, "unable to %s %s: the ring is %s%s", verb, s->label,
		       writer ? "full" : "empty", note);
	if (err == ETIMEDOUT && h->holder)
		it_die(IT_NO, "unable to %s %s: not in time%s%s", verb, s->label,
		       who, note);
	it_die(IT_NO, "unable to %s %s: %s in time%s", verb, s->label,
	       writer ? "no room" : "no data", note);
}

/* A segment its creator never set up (killed between making it and
 * writing the ring's header) would be "not an ipctools ring" for ever.
 * With --create, one whose magic is still zero 2 s after it was made, or
 * whose System V creator is gone, is set up again:
 * nobody can be attached to it, since the magic is the header's last
 * word written and attaching needs it. */
static bool unborn(const struct seg *s)
{
	struct shmid_ds ds;
	struct statx sx;
	time_t made;
	if (s->posix) {
		/* Its birth time: every open's fallocate renews the others. */
		if (statx(s->fd, "", AT_EMPTY_PATH, STATX_BTIME | STATX_MTIME, &sx) < 0)
			return false;
		made = sx.stx_mask & STATX_BTIME ? sx.stx_btime.tv_sec
		       : sx.stx_mtime.tv_sec;
	} else {
		if (shmctl(s->id, IPC_STAT, &ds) < 0)
			return false;
		if (ds.shm_cpid > 0 && kill(ds.shm_cpid, 0) < 0 && errno == ESRCH)
			return true;
		made = ds.shm_ctime;
	}
	return time(NULL) - made > 2;
}

/* Sets up again a ring found unborn; of several who find it at once, one
 * does (its magic taken from 0 to 1), the others wait for it. */
static void reborn(struct seg *s)
{
	uint32_t *magic = (uint32_t *)s->base, zero = 0;
	if (s->size < ring_size(4096) || __atomic_load_n(magic, __ATOMIC_SEQ_CST))
		return;
	if (__atomic_compare_exchange_n(magic, &zero, 1, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST)) {
		if (ring_init(s->base, s->size) < 0)
			it_xfail(errno, "set up a ring in", s->label, NULL);
		return;
	}
	for (int i = 0; i < 100 && __atomic_load_n(magic, __ATOMIC_SEQ_CST) == 1; i++)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
}

void open_ring(struct seg *s, struct args *a, struct ring_handle *h,
	       bool writer)
{
	const char *why;
	uint64_t cap = a->size ? a->size : DEFAULT_RING;
	if (cap < 4096)
		it_die(IT_USAGE, "invalid size '%llu': a ring holds at least 4096 "
		       "bytes", (unsigned long long)cap);
	open_seg(s, a, true, ring_size(cap));
	catch_bus(s);
	/* A POSIX object created a moment ago by another shmcat may not
	 * have its size yet: give its creator a moment (at most a second). */
	for (int i = 0; s->posix && !s->created && s->size == 0 && i < 100; i++) {
		struct stat st;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
		if (fstat(s->fd, &st) == 0)
			s->size = (size_t)st.st_size;
	}
	/* Looked at before fallocate, which makes the object look new; one
	 * whose creator died before it gave it a size gets one. */
	bool stale = !s->created && a->create.create && unborn(s);
	if (s->posix && stale && s->size == 0) {
		if (ftruncate(s->fd, (off_t)ring_size(cap)) < 0)
			it_xfail(errno, "set up a ring in", s->label, NULL);
		s->size = ring_size(cap);
	}
	/* A POSIX ring is a sparse file until its pages are touched: on a
	 * full tmpfs that touch would fault. Its room is had now, or not. */
	if (s->posix && s->size && fallocate(s->fd, 0, 0, (off_t)s->size) < 0 &&
	    errno != EOPNOTSUPP) {
		int err = errno;
		if (s->created)
			remove_seg(s);
		it_xfail(err, "make room for the ring in", s->label, NULL);
	}
	map_all(s, true);
	/* A ring too small for the --atomic asked is refused before anyone
	 * can see it, and nothing is left behind. */
	if (s->created && writer && a->atomic > max_atomic(s->size - RING_HDR)) {
		remove_seg(s);
		atomic_too_big(s, (s->size - RING_HDR) & ~(uint64_t)15);
	}
	if (s->created && ring_init(s->base, s->size) < 0)
		it_xfail(errno, "set up a ring in", s->label, NULL);
	if (stale)
		reborn(s);
	if (ring_attach(h, s->base, s->size, true, &why) < 0)
		corrupt(s, why);
	h->gone = seg_gone;
	h->gone_arg = s;
	h->stop = &stop;
	if (writer && a->atomic > max_atomic(h->cap))
		atomic_too_big(s, h->cap);
	int64_t deadline = a->used & O_NOWAIT ? it_deadline(0)
			   : it_deadline(a->timeout);
	if (ring_join(h, writer, deadline) < 0) {
		if (errno == EUSERS)
			it_die(IT_UNAVAILABLE, "unable to attach to %s: all %s "
			       "slots are taken", s->label,
			       writer ? "writer" : "reader");
		ring_fail(s, h, errno, writer);
	}
}
