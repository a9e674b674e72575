/* read: records out of the ring to standard output, marked delivered
 * only once output took them; a reader that stops gives back what its
 * output did not take. */
#include "shmcat.h"

/* Set when the bound on handing a batch to standard output (-w, or one
 * lock slice with --nowait) has passed: SIGALRM, without SA_RESTART, cuts
 * a blocked write(2) or poll(2) short. */
static volatile sig_atomic_t expired;

static void on_alarm(int sig)
{
	(void)sig;
	expired = 1;
}

static int stopped(void)
{
	return stop || expired;
}

/* Arms the bound for one batch, ns from now (IT_FOREVER: none). Once it
 * has passed, the alarm repeats every 10 ms, so that a write begun just
 * after one look at the flag is still cut short. */
static void arm_output(int64_t ns)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	expired = 0;
	if (ns < 0)
		return;
	if (ns < 1000)
		ns = 1000;
	it.it_value.tv_sec = (time_t)(ns / 1000000000);
	it.it_value.tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
	it.it_interval.tv_usec = 10000;
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_output(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The reader of our pipe has gone: stop waiting for the next chunk. */
static void pipe_reader_gone(void)
{
	if (!stop)
		stop = SIGPIPE;
}

static int unread_in_pipe(void)
{
	int n = 0;
	return ioctl(STDOUT_FILENO, FIONREAD, &n) < 0 ? 0 : n;
}

/* A batch of claimed chunks, written out together. */
struct batch {
	const void *buf[RING_NCLAIM];
	size_t len[RING_NCLAIM], total;
	int n;
};

/* Takes back out of the pipe on standard output what its reader has not
 * read, at most most bytes (ours are the last in it): through a read end
 * of our own (/proc/self/fd/1), so that what goes back into the ring can
 * never also reach the reader. Returns the bytes taken; when no read end
 * can be had, what stays in a pipe that still has a reader is delivered
 * (0), and in one whose reader has gone is not. */
static size_t take_back(size_t most)
{
	static char sink[1u << 16];
	size_t taken = 0;
	if (most == 0 || unread_in_pipe() == 0)
		return 0;
	int fd = open("/proc/self/fd/1", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && it_drain_gone()) {
		/* No reader is left to read them: they go back. */
		size_t left = (size_t)unread_in_pipe();
		return left < most ? left : most;
	}
	if (fd < 0)
		return 0;
	while (taken < most) {
		size_t ask = most - taken < sizeof sink ? most - taken : sizeof sink;
		ssize_t n = read(fd, sink, ask);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		taken += (size_t)n;
	}
	close(fd);
	return taken;
}

/* Writes the chunks of a batch to standard output and returns the bytes
 * the next process really took; *err is 0 when that is all of them. A
 * stop signal ends even a write into a pipe nobody reads. On a pipe,
 * waits until the reader has read them all (it_drain); what is still in
 * the pipe when a signal stops us, or its reader leaves, is taken out of
 * it and goes back into the ring: each byte is delivered by the pipe or
 * put back, never both. */
static size_t output(const struct batch *b, bool pipe, int *err)
{
	size_t sent = 0;
	*err = 0;
	for (int i = 0; i < b->n && !*err; i++) {
		size_t n = it_write_some(STDOUT_FILENO, b->buf[i], b->len[i], stopped);
		sent += n;
		*err = n < b->len[i] ? errno : 0;
	}
	if (!pipe)
		return sent;
	int unread = it_drain(stopped);
	if (unread < 0) {
		*err = *err ? *err : errno;
		unread = 0;
	}
	size_t taken = *err || stopped() || unread > 0 ? take_back(sent) : 0;
	if (taken > 0 && !*err)
		*err = stop && stop != SIGPIPE ? EINTR : expired ? ETIMEDOUT : EPIPE;
	if (*err == EINTR && !stop && expired)
		*err = ETIMEDOUT;
	return sent - taken;
}

/* Claims the next chunk (waiting as the options say), then, for a pipe,
 * as many more as are there at once and fit in room (what the pipe holds,
 * at most CHUNK), so that the reader on the other side is handed whole
 * chunks in one go and waited for once. A batch is what a reader killed
 * before it marks it delivered gives again: one record, or CHUNK. Returns
 * as ring_claim did for the first. */
static int claim_batch(struct ring_handle *h, const struct args *a, size_t room,
		       bool nowait, struct batch *b)
{
	bool follow = a->used & O_FOLLOW;
	b->n = 0;
	b->total = 0;
	int rc = ring_claim(h, follow, it_deadline(a->timeout), nowait,
			    SIZE_MAX, &stop, &b->buf[0], &b->len[0]);
	if (rc != 1)
		return rc;
	b->total = b->len[b->n++];
	if (room > CHUNK)
		room = CHUNK;
	while (b->n < RING_NCLAIM && b->total < room && !stop &&
	       ring_claim(h, true, IT_FOREVER, true, room - b->total, &stop,
			  &b->buf[b->n], &b->len[b->n]) == 1)
		b->total += b->len[b->n++];
	return 1;
}

/* read --rm: a ring that still holds data no reader has taken (a
 * --follow reader stopped by a signal, what went back from a pipe), or
 * that a writer is still attached to, would take that data with it: it
 * stays, and a line says why. A reader without --follow stopped by signal
 * sig (0: not stopped) says so first, and says when the ring went. */
static void remove_if_done(const struct seg *s, int sig)
{
	struct ring_info ri;
	char why[40] = "";
	if (sig)
		snprintf(why, sizeof why, "stopped by SIG%s: ", it_sig_name(sig));
	if (ring_info(s->base, s->size, &ri) < 0) {
		remove_seg(s);
		return;
	} else if (ri.bytes_in > ri.bytes_out) {
		it_warn("%s%s stays despite --rm: %llu bytes in it were not read",
			why, s->label,
			(unsigned long long)(ri.bytes_in - ri.bytes_out));
		return;
	} else if (ri.writers) {
		it_warn("%s%s stays despite --rm: %u writer%s still attached",
			why, s->label, ri.writers,
			ri.writers == 1 ? " is" : "s are");
		return;
	} else {
		remove_seg(s);
	}
	if (sig)
		it_warn("%s%s removed (--rm): everything in it was read and no "
			"writer is attached", why, s->label);
}

int read_ring(struct args *a)
{
	struct seg s;
	struct ring_handle h;
	struct stat st;
	struct batch b;
	bool follow = a->used & O_FOLLOW, nowait = a->used & O_NOWAIT, got = false;
	bool pipe = fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
	int room = pipe ? fcntl(STDOUT_FILENO, F_GETPIPE_SZ) : 0;
	catch_stops();
	if (pipe)
		it_drain_watch(pipe_reader_gone);
	open_ring(&s, a, &h, false);
	it_xready(&a->ready_fd);
	while (!stop) {
		int err, rc = claim_batch(&h, a, room > 0 ? (size_t)room : 0,
					  nowait, &b);
		if (rc == 0 && nowait && !got)
			rc = (errno = EAGAIN, -1);
		if (rc == 0 || (rc < 0 && errno == EAGAIN && got))
			break;
		if (rc < 0 && errno == EINTR && (follow || stop))
			break;
		if (rc < 0)
			ring_fail(&s, &h, errno, false);
		got = true;
		arm_output(nowait ? NOWAIT_OUTPUT_NS : a->timeout);
		size_t sent = output(&b, pipe, &err);
		disarm_output();
		if (err && ring_unclaim(&h, sent) < 0)
			ring_fail(&s, &h, errno, false);
		if (err == EINTR)
			break;
		if (err == ETIMEDOUT) {
			ring_leave(&h);
			it_die(IT_NO, "unable to read %s: standard output did not take "
			       "the data in time (%zu bytes went back into the ring)",
			       s.label, b.total - sent);
		}
		if (err) {
			ring_leave(&h);
			if (err == EPIPE)
				exit_signal(SIGPIPE);
			it_xfail_status(IT_IOERR, err, "write", "standard output",
					NULL);
		}
		if (!err && ring_done(&h) < 0)
			ring_fail(&s, &h, errno, false);
	}
	ring_leave(&h);
	if (stop && stop != SIGPIPE && !follow && a->create.rm)
		remove_if_done(&s, stop);
	if (stop == SIGPIPE || (stop && !follow))
		exit_signal(stop);
	if (a->create.rm)
		remove_if_done(&s, 0);
	return IT_OK;
}
