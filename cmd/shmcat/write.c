/* write: standard input into the ring, in records cut only between
 * whole lines or --atomic units, each published once whole; what was not
 * published is given back or counted. */
#include "shmcat.h"

/* One writer: its input, the units it cuts the stream into, and the
 * partial unit (or line) it holds back until the rest has been read. */
struct writer {
	struct seg *s;
	struct ring_handle *h;
	const struct args *a;
	bool lines;
	bool partial_ok;        /* no --lines or --atomic: a stop publishes all */
	bool counted;           /* FIONREAD tells what stdin has ready */
	size_t atomic, carry;
	size_t bufsize;         /* of saved: atomic, or most if not counted */
	size_t most;            /* the largest record: CHUNK or one unit */
	char *saved;            /* the carry, and what is read when not counted */
	char *scratch;          /* --full=overwrite, discard: most bytes, what
				 * is read for a chunk the full ring drops */
	bool dropping;          /* the chunk in hand is in scratch */
};

/* Chunks a full ring made us drop (--full=overwrite, discard), told at
 * exit, in mqsend's words: dropping was asked for, so the status stays 0. */
static struct {
	const char *on;
	enum full full;
	const struct ring_handle *h;    /* its took: the oldest taken off */
	uint64_t discarded, bytes;      /* chunks of ours dropped */
} drops;

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void tell_dropped(void)
{
	const struct ring_handle *h = drops.h;
	if (h && h->took)
		it_warn("dropped the oldest %llu chunk%s (%llu bytes) on %s: the "
			"ring was full (--full=overwrite)",
			(unsigned long long)h->took, plural(h->took),
			(unsigned long long)h->took_bytes, drops.on);
	if (drops.discarded)
		it_warn("discarded %llu chunk%s (%llu bytes) on %s: the ring was "
			"full%s (--full=%s)", (unsigned long long)drops.discarded,
			plural(drops.discarded), (unsigned long long)drops.bytes,
			drops.on, drops.full == FULL_OVERWRITE ? " and its oldest "
			"chunk was being read or written" : "",
			drops.full == FULL_OVERWRITE ? "overwrite" : "discard");
}

/* Drops a chunk of len bytes that the full ring has no room for, and
 * counts it, in the ring too. */
static void discard(struct writer *w, size_t len)
{
	if (len && ring_discard(w->h, len) < 0)
		ring_fail(w->s, w->h, errno, true);
	held -= len;
	drops.discarded += len > 0;
	drops.bytes += len;
}

/* Waits until standard input has data or has ended, holding no room in
 * the ring, and says how much can be read without waiting (limit when it
 * cannot tell: a regular file or a device never keeps us long). */
static size_t input_ready(const struct writer *w, size_t limit)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	int avail = 0;
	if (!w->counted)
		return limit;
	while (!stop && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	if (stop || ioctl(STDIN_FILENO, FIONREAD, &avail) < 0)
		return 0;
	return (size_t)avail < limit ? (size_t)avail : limit;
}

/* The first bytes of buf that may be published: whole lines, or whole
 * units of --atomic bytes. *bad is set at a line longer than --atomic,
 * which ends what may be published. */
static size_t publishable(const struct writer *w, const char *buf, size_t have,
			  bool *bad)
{
	size_t cut = 0;
	*bad = false;
	if (!w->lines)
		return have - have % w->atomic;
	while (cut < have) {
		const char *nl = memchr(buf + cut, '\n', have - cut);
		size_t end = nl ? (size_t)(nl - buf) + 1 : have;
		if (end - cut > w->atomic) {
			*bad = true;
			break;
		}
		if (!nl)
			break;
		cut = end;
	}
	return cut;
}

static void commit(struct writer *w, size_t len)
{
	if (w->dropping) {
		discard(w, len);
		return;
	}
	if (ring_commit(w->h, len) < 0)
		ring_fail(w->s, w->h, errno, true);
	held -= len;
	published += len;
}

static _Noreturn void line_too_long(struct writer *w)
{
	char note[96];
	give_back(note, sizeof note);
	ring_leave(w->h);
	it_die(IT_DATAERR, "unable to write %s: a line is longer than --atomic "
	       "(%zu bytes)%s", w->s->label, w->atomic, note);
}

/* A read error: a reservation in hand (reserved) is dropped, and what
 * was read and not published goes back or is reported as lost. */
static _Noreturn void input_error(struct writer *w, int err, bool reserved)
{
	char note[96];
	if (reserved && !w->dropping)
		ring_commit(w->h, 0);
	give_back(note, sizeof note);
	ring_leave(w->h);
	if (*note)
		it_die(IT_IOERR, "unable to read standard input: %s%s",
		       strerror(err), note);
	it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
}

/* The first unit of the len bytes at src: a line (or the partial last
 * one), or --atomic bytes (or fewer at the end of the input). */
static size_t first_unit(const struct writer *w, const char *src, size_t len)
{
	if (w->lines) {
		const char *nl = memchr(src, '\n', len);
		return nl ? (size_t)(nl - src) + 1 : len;
	}
	return len < w->atomic ? len : w->atomic;
}

/* How much of the len bytes at src goes into a record of room bytes:
 * all, or the whole units or lines that fit (at least the first). */
static size_t fit(const struct writer *w, const char *src, size_t len,
		  size_t room)
{
	bool bad;
	if (room >= len)
		return len;
	size_t n = w->lines ? publishable(w, src, room, &bad)
		   : room - room % w->atomic;
	return n ? n : first_unit(w, src, len);
}

/* Publishes the first len bytes of src (whole units or lines, or the
 * last partial one), in as many records as the ring gives: each asks
 * only for bytes in hand, at least its first unit, never a whole
 * --atomic unit for less. */
static void publish_copy(struct writer *w, const char *src, size_t len)
{
	while (len) {
		void *buf;
		size_t room, n, first = first_unit(w, src, len);
		if (ring_reserve(w->h, first, len, it_deadline(w->a->timeout),
				 w->a->used & O_NOWAIT, &stop, &buf, &room) < 0) {
			if (errno != ENOSPC)
				ring_fail(w->s, w->h, errno, true);
			n = fit(w, src, len, ring_most(w->h, first, len));
			discard(w, n);
		} else {
			n = fit(w, src, len, room);
			memcpy(buf, src, n);
			if (ring_commit(w->h, n) < 0)
				ring_fail(w->s, w->h, errno, true);
			held -= n;
			published += n;
		}
		src += n;
		len -= n;
	}
}

/* Keeps the last rest bytes of buf (at most --atomic) as the carry. */
static void keep(struct writer *w, const char *buf, size_t rest)
{
	memmove(w->saved, buf, rest);
	w->carry = rest;
}

/* A partial line of exactly --atomic bytes is whole only if the input
 * ends there: one more byte, newline or not, makes it too long. */
static bool line_at_limit(struct writer *w)
{
	char c;
	ssize_t n = read(STDIN_FILENO, &c, 1);
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0)
		input_error(w, errno, false);
	if (n == 0)
		return false;
	held++;
	line_too_long(w);
}

/* Little input ready, or input that cannot tell how much it has (a
 * regular file, a device): read it into the carry, publish what is
 * whole, so that room is reserved only for bytes read. Returns false at
 * the end of the input. */
static bool step_small(struct writer *w)
{
	if (w->carry >= w->atomic)
		return line_at_limit(w);
	ssize_t n = read(STDIN_FILENO, w->saved + w->carry, w->bufsize - w->carry);
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0)
		input_error(w, errno, false);
	if (n == 0)
		return false;
	w->carry += (size_t)n;
	held += (size_t)n;
	bool bad;
	size_t cut = publishable(w, w->saved, w->carry, &bad);
	if (cut)
		publish_copy(w, w->saved, cut);
	if (bad)
		line_too_long(w);
	keep(w, w->saved + cut, w->carry - cut);
	return true;
}

/* Much input ready: reserve room for it, read it straight into the ring
 * (a read that does not wait), publish what is whole. Returns false at
 * the end of the input, everything in hand published. */
static bool step_big(struct writer *w, size_t avail)
{
	void *p;
	size_t room, want = w->carry + avail;
	if (want > w->most)
		want = w->most;
	w->dropping = ring_reserve(w->h, w->atomic, want,
				   it_deadline(w->a->timeout),
				   w->a->used & O_NOWAIT, &stop, &p, &room) < 0;
	/* A full ring that drops this chunk: it is read all the same, cut
	 * as the record it would have been, and counted as one. */
	if (w->dropping && errno != ENOSPC)
		ring_fail(w->s, w->h, errno, true);
	if (w->dropping) {
		p = w->scratch;
		room = ring_most(w->h, w->atomic, want);
	}
	char *buf = p;
	size_t have = w->carry, ask = room - have < avail ? room - have : avail;
	memcpy(buf, w->saved, have);
	/* read(2) of 0 bytes returns 0, which is not the end of the input:
	 * no room past the carry is nothing read, never an end. (The write
	 * loop sends a carry of --atomic bytes to step_small, so room, at
	 * least --atomic, is always more than the carry here.) */
	ssize_t n = ask ? read(STDIN_FILENO, buf + have, ask) : -1;
	if (n < 0 && ask && errno != EINTR)
		input_error(w, errno, true);
	if (n == 0) {
		commit(w, have);
		w->carry = 0;
		return false;
	}
	have += n > 0 ? (size_t)n : 0;
	held += n > 0 ? (size_t)n : 0;
	bool bad;
	size_t cut = publishable(w, buf, have, &bad);
	if (bad) {
		commit(w, cut);
		line_too_long(w);
	}
	keep(w, buf + cut, have - cut);
	commit(w, cut);
	return true;
}

/* At the end of the input, or stopped by a signal: the carry is
 * published when the stream may end there, else put back or reported. */
static void finish_writer(struct writer *w, bool eof)
{
	char note[96];
	if (w->carry && (eof || w->partial_ok)) {
		publish_copy(w, w->saved, w->carry);
		w->carry = 0;
	}
	give_back(note, sizeof note);
	/* Exit 0 says a reader can have every byte: not from a removed
	 * ring, unless readers took all of it already. */
	if (eof && seg_gone(w->s)) {
		struct ring_info ri;
		if (ring_info(w->s->base, w->s->size, &ri) < 0 ||
		    ri.bytes_in != ri.bytes_out) {
			ring_leave(w->h);
			ring_removed(w->s, note);
		}
	}
	ring_leave(w->h);
	if (!eof && *note)
		it_warn("stopped writing %s:%s", w->s->label, note);
}

/* --full=overwrite or discard: the ring drops chunks, and we say so. */
static void start_dropping(struct writer *w, enum full full)
{
	w->h->full = full == FULL_OVERWRITE ? RING_OVERWRITE
		     : full == FULL_DISCARD ? RING_DISCARD : RING_WAIT;
	if (w->h->full == RING_WAIT)
		return;
	if (!(w->scratch = malloc(w->most)))
		it_xfail(errno, "allocate", "a chunk buffer", NULL);
	drops.on = w->s->label;
	drops.full = full;
	drops.h = w->h;
	atexit(tell_dropped);
}

int write_ring(struct args *a)
{
	/* Static: the report of drops at exit reads them. */
	static struct seg s;
	static struct ring_handle h;
	struct stat st;
	struct writer w = {.s = &s, .h = &h, .a = a, .lines = a->used & O_LINES};
	int avail;
	w.partial_ok = !(a->used & (O_LINES | O_ATOMIC));
	catch_stops();
	open_ring(&s, a, &h, true);
	w.atomic = a->atomic ? (size_t)a->atomic : default_atomic(h.cap);
	it_xready(&a->ready_fd);
	w.counted = !(fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) &&
		    ioctl(STDIN_FILENO, FIONREAD, &avail) == 0;
	w.most = w.atomic > CHUNK ? w.atomic : CHUNK;
	w.bufsize = w.counted ? w.atomic : w.most;
	if (!(w.saved = malloc(w.bufsize)))
		it_xfail(errno, "allocate", "a line buffer", NULL);
	start_dropping(&w, a->full);
	bool more = true;
	while (more && !stop) {
		size_t ready = input_ready(&w, w.most);
		if (stop)
			break;
		/* A carry of --atomic bytes (a partial line at the limit)
		 * takes no more bytes into a record: step_small looks at one
		 * more byte to tell a line too long from the end. */
		more = !w.counted || w.carry >= w.atomic ||
		       w.carry + ready <= w.atomic ? step_small(&w)
		       : step_big(&w, ready);
	}
	finish_writer(&w, !more);
	free(w.saved);
	free(w.scratch);
	if (stop)
		exit_signal(stop);
	return IT_OK;
}
