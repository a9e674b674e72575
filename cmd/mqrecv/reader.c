/* The reader of a pipe on standard output: the next message is taken
 * only once it has read the last, because a reader like head(1) reads
 * everything there is and keeps only what it wants; -w bounds that wait,
 * and a message it never read goes back whole. */
#include "mqrecv.h"

static bool out_of_time(void)
{
	return out.deadline != IT_FOREVER && it_left_ns(out.deadline) == 0;
}

/* The wait for the reader ends at a stop signal or at -w's deadline. */
static int drain_stopped(void)
{
	return it_mq_caught() || out_of_time();
}

/* -w passed with the message in hand still in the pipe (a reader stopped,
 * by SIGSTOP say): takes its unread bytes back out of the pipe, through a
 * read end of our own, so that a reader that goes on later does not read
 * what goes back on the queue too; then puts it back whole and ends. */
static _Noreturn void unread_timed_out(struct it_mq *q, int unread)
{
	char buf[4096];
	int fd = open("/proc/self/fd/1", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	size_t left = (size_t)unread < out.len ? (size_t)unread : out.len;
	bool taken = fd >= 0;
	while (taken && left > 0) {
		ssize_t n = read(fd, buf, left < sizeof buf ? left : sizeof buf);
		if (n > 0)
			left -= (size_t)n;
		else if (n == 0 || errno == EAGAIN)
			left = 0;       /* the reader took the rest meanwhile */
		else if (errno != EINTR)
			taken = false;
	}
	if (fd >= 0)
		close(fd);
	put_back(q);
	it_drain_restore();
	it_die(IT_NO, "unable to write standard output: timed out with a "
	       "message of %zu bytes unread by the reader (1 message put back "
	       "whole%s%s)", out.len, out.rm_kept ? ", so the queue stays "
	       "despite --rm" : "", taken ? "" : "; it stays in the pipe too");
}

/* Into a pipe, waits until the reader has read the message in hand. One
 * it did not read, or read only in part, goes back whole: it counts as
 * not delivered. Returns false if it went back. */
static bool read_by_reader(struct it_mq *q)
{
	bool timed = out.in_pipe && out.deadline != IT_FOREVER;
	if (timed)
		it_alarm_at(out.deadline);
	bool read = !out.in_pipe || it_drain(drain_stopped) == 0;
	if (timed)
		it_alarm_at(IT_FOREVER);
	int unread = 0;
	if (read && timed && !it_mq_caught() && out_of_time() &&
	    ioctl(STDOUT_FILENO, FIONREAD, &unread) == 0 && unread > 0)
		unread_timed_out(q, unread);
	if (!read)
		put_back(q);
	out.in_pipe = false;
	return read;
}

/* Before taking a message: the last one was delivered, and the reader is
 * still there; else the tool ends, as a filter does when its reader has
 * gone, with the undelivered message back on the queue. */
void before_take(struct it_mq *q)
{
	if (!read_by_reader(q) || (out.pipe && it_drain_gone()))
		end_by(q, SIGPIPE);
}

/* The last step of every run: what was taken is read, into a pipe; or a
 * stop signal ends the tool by that signal. */
int finish(struct it_mq *q, int sig)
{
	if (!read_by_reader(q) && !sig)
		sig = SIGPIPE;
	if (sig)
		end_by(q, sig);
	it_drain_restore();
	return IT_OK;
}
