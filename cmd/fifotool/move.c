/* Moving bytes between a FIFO and a standard stream: splice(2) where it
 * can, whole writes where it cannot; -w bounds how long a writer may
 * stall with its reader taking nothing, and what was not taken is
 * counted. */
#include "fifotool.h"

/* write -w: how long the FIFO may stay full, its reader taking nothing,
 * before the writer gives up (exit 1); IT_FOREVER without -w, and for
 * read. stall_at is the deadline since the last byte taken. */
int64_t stall_ns = IT_FOREVER;
static int64_t stall_at = IT_FOREVER;

void progress(void)
{
	if (stall_ns == IT_FOREVER)
		return;
	stall_at = it_deadline(stall_ns);
	it_alarm_at(stall_at);
}

int stalled(void)
{
	return stall_at != IT_FOREVER && it_left_ns(stall_at) == 0;
}

_Noreturn void stall_failed(int fd, const char *path, size_t lost)
{
	int unread = 0;
	char more[80] = "";
	if (ioctl(fd, FIONREAD, &unread) < 0)
		unread = 0;
	if (lost)
		snprintf(more, sizeof more, "; %zu bytes read from standard input "
			 "were not written", lost);
	it_die(IT_NO, "unable to write %s: timed out: its reader took nothing "
	       "within the --timeout, %d bytes unread%s", path, unread, more);
}

/* A reader that went away with bytes still in the FIFO: they go with it. */
_Noreturn void unread_died(const char *path, int unread)
{
	it_die(IT_IOERR, "unable to write %s: its reader went away with %d "
	       "bytes unread", path, unread);
}

/* Moves up to CHUNK bytes from in to out: the byte count, 0 at the end of
 * in, or -1 with errno, *bad_out saying which side failed and *lost how
 * many bytes taken from in were not written. splice(2) moves pages between
 * the sides without copying them through us, and takes from in only what
 * out accepted: nothing is lost when it fails. A pipe fails a splice only
 * with EPIPE (its reader gone), so any other error is the side that is not
 * the FIFO. Where a side cannot splice (a terminal, a file opened with
 * O_APPEND), read(2) and write(2) take over, and a failed write loses what
 * was read. */
ssize_t move(int in, int out, bool fifo_in, bool *bad_out, size_t *lost)
{
	static bool no_splice;
	static char buf[1 << 17];
	ssize_t n;
	while (!no_splice) {
		n = splice(in, NULL, out, NULL, CHUNK, SPLICE_F_MOVE);
		if (n >= 0)
			return n;
		if (errno == EINTR && stalled()) {
			errno = ETIMEDOUT;
			*bad_out = true;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EINVAL && errno != ENOSYS && errno != EAGAIN) {
			*bad_out = errno == EPIPE || fifo_in;
			return -1;
		}
		no_splice = true;
	}
	while ((n = read(in, buf, sizeof buf)) < 0 && errno == EINTR)
		;
	size_t done = n > 0 ? it_write_some(out, buf, (size_t)n, stalled) : 0;
	if (n > 0 && done < (size_t)n) {
		if (stalled())
			errno = ETIMEDOUT;
		*bad_out = true;
		*lost = (size_t)n - done;
		return -1;
	}
	return n;
}

/* The message and exit 74 for a failed move: which side, and what was
 * lost: bytes read and not written, or those a reader that went away left
 * in the pipe out. */
_Noreturn void move_failed(int out, bool bad_out, size_t lost,
			   const char *inname, const char *outname)
{
	int unread;
	if (bad_out && errno == ETIMEDOUT)
		stall_failed(out, outname, lost);
	if (bad_out && errno == EPIPE && ioctl(out, FIONREAD, &unread) == 0 &&
	    unread > 0)
		unread_died(outname, unread);
	if (lost)
		it_die(IT_IOERR, "unable to write %s: %s (%zu bytes read from %s "
		       "were lost)", outname, strerror(errno), lost, inname);
	it_xfail_status(IT_IOERR, errno, bad_out ? "write" : "read",
			bad_out ? outname : inname, NULL);
}

/* Copies in to out until the end of in; errors are exit 74, naming the
 * side that failed. */
void copy(int in, const char *inname, int out, const char *outname,
	  bool fifo_in)
{
	bool bad_out = false;
	size_t lost = 0;
	ssize_t n;
	while ((n = move(in, out, fifo_in, &bad_out, &lost)) > 0)
		progress();
	if (n < 0)
		move_failed(out, bad_out, lost, inname, outname);
}
