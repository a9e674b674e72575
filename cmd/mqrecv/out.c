/* Delivery: every message taken ends on standard output or back on the
 * queue. One message at a time, whatever the output: each is written
 * before the next is taken, so that SIGKILL or the OOM killer can cost at
 * most the one message in hand. Messages received ahead of their write (a
 * batch, a writev, a writer thread) would all be lost with the process.
 * What cannot go back is saved in a file (rescue). */
#include "mqrecv.h"

struct out out;

/* Into a pipe, a reader that has gone stops the wait for the next
 * message, which would otherwise go on until a message came that could
 * only go back. */
static void reader_gone(void)
{
	it_mq_interrupt(SIGPIPE);
}

void out_init(const struct args *a, const struct it_mq *q)
{
	struct stat st;
	out.framing = a->framing;
	out.prefix = a->print_type || a->print_prio;
	out.putback_ns = a->putback_timeout;
	out.write_ns = a->timeout;
	out.pipe = fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
	out.unpack = a->unpacked ? &a->pack : NULL;
	size_t most = out.unpack ? it_unpack_maxline(out.unpack) : q->msgmax;
	out.buf = malloc(most + IT_FRAME_OVERHEAD + 24);
	out.line = out.unpack ? malloc(most) : NULL;
	if (!out.buf || (out.unpack && !out.line))
		it_xfail(errno, "allocate a buffer for", it_obj_label(q->obj), NULL);
	if (out.pipe)
		it_drain_watch(reader_gone);
}

/* Ends the tool by sig. --rm leaves the queue if a message went back on
 * it, or if the output went away (more messages were wanted): the line
 * says so, since removing the queue would destroy what it holds. */
_Noreturn void end_by(const struct it_mq *q, int sig)
{
	it_drain_restore();
	if (sig == SIGPIPE && it_mq_keep() && !out.rm_kept)
		it_warn("%s stays despite --rm: standard output went away",
			it_obj_label(q->obj));
	if (out.rm_kept)
		it_warn("%s stays despite --rm: 1 message went back on it",
			it_obj_label(q->obj));
	it_mq_exit_signal(sig);
}

/* Saves the message in hand, which could not go back, where the user can
 * find it: a file of one netstring that `mqsend --typed --netstring` sends
 * again, or, if even that fails, standard error. A stop signal (err EINTR)
 * then ends the tool by that signal. */
static _Noreturn void rescue(const struct it_mq *q, int err)
{
	char path[4096], hint[4400], pre[24];
	const char *tmp = getenv("TMPDIR");
	const char *text = out.raw;
	size_t prelen = (size_t)snprintf(pre, sizeof pre, "%ld\t", out.type);
	struct it_writer *w = malloc(sizeof *w);
	if (!w)
		_exit(IT_IOERR);
	snprintf(path, sizeof path, "%s/mqrecv-rescue.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path), rc = -1;
	if (fd >= 0) {
		it_writer_init(w, fd, IT_FRAME_NETSTRING);
		rc = it_write_msg2(w, pre, prelen, text, out.rawlen);
		if (rc == 0)
			rc = it_writer_flush(w);
		if (rc == 0)
			rc = fsync(fd);
		if (close(fd) < 0)
			rc = -1;
	}
	if (rc < 0) {
		if (fd >= 0)
			unlink(path);
		it_warn("unable to save a message in %s: %s; it follows on "
			"standard error", path, strerror(errno));
		it_writer_init(w, STDERR_FILENO, IT_FRAME_NETSTRING);
		it_write_msg2(w, pre, prelen, text, out.rawlen);
		it_writer_flush(w);
	}
	free(w);
	snprintf(hint, sizeof hint, "1 message saved in %s: send it again with "
		 "mqsend --typed --netstring%s", rc < 0 ? "standard error" : path,
		 out.rm_kept ? "; the queue stays despite --rm" : "");
	if (err == EINTR) {
		it_warn("unable to put a message back on %s: stopped by SIG%s (%s)",
			it_obj_label(q->obj), it_sig_name(it_mq_caught()), hint);
		it_mq_exit_signal(it_mq_caught());
	}
	if (out.refused)
		it_die(IT_DATAERR, "unable to receive from %s: %s, and putting it "
		       "back failed: %s (%s)", it_obj_label(q->obj), out.refused,
		       err == ETIMEDOUT ? "the queue stayed full" : strerror(err),
		       hint);
	it_die(IT_IOERR, "unable to put messages back on %s: %s (%s)",
	       it_obj_label(q->obj), err == ETIMEDOUT ? "the queue stayed full"
	       : strerror(err), hint);
}

/* Puts the message in hand back on the queue, or saves it; the queue then
 * holds it, so --rm must not remove the queue any more. */
void put_back(struct it_mq *q)
{
	out.rm_kept = it_mq_keep() || out.rm_kept;
	out.in_pipe = false;
	if (it_mq_putback(q, out.type, out.raw, out.rawlen,
			  it_deadline(out.putback_ns)) < 0)
		rescue(q, errno);
}

/* A failed write of the message in hand after done bytes: cuts a partly
 * written message off a regular file, puts it back, and ends the tool as
 * the error says. */
static _Noreturn void write_failed(struct it_mq *q, size_t done, int err)
{
	struct stat st;
	if (err == ETIMEDOUT) {
		/* A reader that stopped reading in the middle of a message
		 * larger than the pipe: the part it has not read yet counts
		 * as not delivered, like a part read. */
		put_back(q);
		it_drain_restore();
		it_die(IT_NO, "unable to write standard output: timed out with %zu "
		       "of a message's %zu bytes written (1 message put back "
		       "whole%s)", done, out.len, out.rm_kept ? ", so the queue "
		       "stays despite --rm" : "");
	}
	if (done > 0) {
		off_t at = lseek(STDOUT_FILENO, 0, SEEK_CUR);
		/* Only our own bytes, at the end of the file, are cut. */
		if (at < 0 || fstat(STDOUT_FILENO, &st) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_size != at ||
		    ftruncate(STDOUT_FILENO, at - (off_t)done) < 0)
			it_warn("part of a message that goes back on %s stays on "
				"standard output", it_obj_label(q->obj));
	}
	put_back(q);
	if (err == EPIPE)
		end_by(q, SIGPIPE);
	if (err == EINTR && it_mq_caught())
		end_by(q, it_mq_caught());
	it_drain_restore();
	it_xfail_status(IT_IOERR, err, "write", "standard output",
			out.rm_kept ? "1 message put back, so the queue stays "
			"despite --rm" : "1 message put back");
}

/* Frames the message in q->buf and writes it; a stop signal ends only a
 * write that blocks, into a pipe nobody reads. */
void deliver(struct it_mq *q, long type, size_t len)
{
	char pre[24];
	size_t prelen = out.prefix ? (size_t)snprintf(pre, sizeof pre, "%ld\t",
						      type) : 0;
	const char *text = q->buf->text;
	out.type = type;
	out.raw = text;
	out.rawlen = len;
	if (out.unpack) {
		len = it_unpack(out.unpack, text, out.line);
		text = out.line;
	}
	out.msglen = len;
	out.len = it_frame_msg(out.buf, out.framing, pre, prelen, text, len,
			       &out.text);
	/* The message in hand is written even if a stop signal came before:
	 * putting it back would move it behind the queue. A signal ends only
	 * a write it interrupts, failed with EINTR or cut short. */
	/* A write blocks where the output does not take it all at once (a
	 * message larger than the pipe, a terminal on ^S): -w bounds that,
	 * and an alarm ends the wait. */
	int64_t deadline = it_deadline(out.write_ns);
	bool timed = deadline != IT_FOREVER;
	if (timed)
		it_alarm_at(deadline);
	size_t done = 0;
	while (done < out.len) {
		ssize_t n = write(STDOUT_FILENO, out.buf + done, out.len - done);
		if (n > 0)
			done += (size_t)n;
		if (n > 0 && done < out.len && it_mq_caught())
			write_failed(q, done, EINTR);
		else if (n < 0 && errno == EINTR && !it_mq_caught() && timed &&
			 it_left_ns(deadline) == 0)
			write_failed(q, done, ETIMEDOUT);
		else if (n == 0 || (n < 0 && (errno != EINTR || it_mq_caught())))
			write_failed(q, done, n == 0 ? EIO : errno);
	}
	if (timed)
		it_alarm_at(IT_FOREVER);
	out.in_pipe = out.pipe;
	out.deadline = deadline;
}
