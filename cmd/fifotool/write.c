/* write: standard input into the FIFO, whole (or --lines, a line at a
 * time), and exit 0 only once the reader has read it all. */
#include "fifotool.h"

/* --lines: stdin to the FIFO in writes that each end at a newline (or at
 * the end of the input) and hold at most PIPE_BUF bytes, which POSIX makes
 * atomic, so another writer's data never lands inside a line. A line
 * longer than that is exit 65 before any of it is written. The buffer has
 * one byte more than a write may take, to tell a last line of exactly
 * PIPE_BUF bytes from a longer one. */
static void write_lines(int fd, const char *path)
{
	static char buf[PIPE_BUF + 1];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail_status(IT_IOERR, errno, "read", "standard input",
					NULL);
		len += (size_t)n;
		const char *nl = memrchr(buf, '\n', len < PIPE_BUF ? len : PIPE_BUF);
		size_t cut = n == 0 ? len : nl ? (size_t)(nl - buf) + 1 : 0;
		if (cut == 0 && len > PIPE_BUF)
			it_die(IT_DATAERR, "unable to write %s: a line is longer "
			       "than PIPE_BUF (%d bytes)", path, PIPE_BUF);
		if (cut > 0 && it_write_some(fd, buf, cut, stalled) < cut) {
			if (stalled())
				stall_failed(fd, path, len);
			move_failed(fd, true, 0, "standard input", path);
		}
		if (cut > 0)
			progress();
		memmove(buf, buf + cut, len - cut);
		len -= cut;
		if (n == 0)
			return;
	}
}

/* Exit 0 says that a reader took every byte: once all is written, waits
 * until the FIFO is empty, or its readers have gone (POLLERR on our end),
 * leaving bytes that nobody will read once the FIFO is closed: exit 74,
 * saying how many. A reader usually takes them within microseconds, so
 * this looks a little before it sleeps, in polls of 10 ms (a pipe wakes
 * nobody when it becomes empty). Like any wait for the reader, it ends on
 * a stop signal. */
static void drain(int fd, const char *path)
{
	int64_t spin = it_now_ns() + 100000;
	struct pollfd p = {fd, 0, 0};
	int unread;
	int last = -1;
	while (ioctl(fd, FIONREAD, &unread) == 0 && unread > 0) {
		if (unread != last)
			progress();
		last = unread;
		if (stalled())
			stall_failed(fd, path, 0);
		if (it_now_ns() < spin) {
			sched_yield();
			continue;
		}
		if (poll(&p, 1, 10) < 0 && errno != EINTR)
			it_xfail(errno, "write", path, NULL);
		if (!(p.revents & POLLERR) || ioctl(fd, FIONREAD, &unread) < 0)
			continue;
		if (unread > 0)
			unread_died(path, unread);
	}
}

/* A writer that gets EPIPE because its reader went away exits 74 with one
 * message, so SIGPIPE is ignored. */
int write_fifo(struct args *a)
{
	/* A closed stdin (it_init left it open write-only) is refused before
	 * the FIFO is opened: a reader must not take our failure for an
	 * empty writer and end. */
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY)
		it_xfail_status(IT_IOERR, fl < 0 ? errno : EBADF, "read",
				"standard input", NULL);
	signal(SIGPIPE, SIG_IGN);
	it_alarm_init();
	int nonblock = a->used & O_NONBLOCK_ ? O_NONBLOCK : 0;
	int fd = open_fifo(a, O_WRONLY | nonblock, it_deadline(a->timeout));
	set_blocking(fd);
	it_xready(&a->ready_fd);
	stall_ns = a->timeout;
	progress();
	if (a->used & O_LINES)
		write_lines(fd, a->paths[0]);
	else
		copy(STDIN_FILENO, "standard input", fd, a->paths[0], false);
	drain(fd, a->paths[0]);
	close(fd);
	return IT_OK;
}
