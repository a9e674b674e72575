/* mqrecv: receive messages from a System V or POSIX message queue and write
 * them to standard output, never taking one off the queue that the output
 * cannot take. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

enum { OPT_FOLLOW = 0x2000, OPT_EXCEPT, OPT_PRINT_TYPE, OPT_PRINT_PRIO,
       OPT_NOWAIT, OPT_TRUNCATE, OPT_MAXMSG, OPT_MSGSIZE, OPT_STAT, OPT_JSON,
       OPT_READY, OPT_PUTBACK, OPT_UNPACK };

struct args {
	struct it_obj obj;
	struct it_create create;
	enum it_framing framing;
	struct it_mq_attr attr;
	long type;
	bool type_given;
	long count;
	bool follow, except, print_type, print_prio, nowait, truncate, stat, json;
	int64_t timeout, putback_timeout;
	bool putback_given;
	int ready_fd;
	bool unpacked;
	struct it_pack pack;    /* --unpack FORMAT */
};

static const struct argp_option options[] = {
	{"type", 't', "TYPE", 0, "System V: 0 takes the first message (the "
	 "default), TYPE > 0 the first of that type, TYPE < 0 the lowest type "
	 "up to -TYPE", 0},
	{"except", OPT_EXCEPT, NULL, 0, "take the first message not of TYPE "
	 "(TYPE > 0)", 0},
	{"count", 'n', "COUNT", 0, "take COUNT messages (default 1)", 0},
	{"follow", OPT_FOLLOW, NULL, 0, "take messages until stopped", 0},
	{"print-type", OPT_PRINT_TYPE, NULL, 0, "write each message's type and "
	 "a tab before it (System V)", 0},
	{"print-priority", OPT_PRINT_PRIO, NULL, 0, "write each message's "
	 "priority and a tab before it (POSIX)", 0},
	{"nowait", OPT_NOWAIT, NULL, 0, "exit 1 at once if no message is there",
	 0},
	{"timeout", 'w', "DURATION", 0, "exit 1 if no message comes in this "
	 "time (250ms, 1.5s, 2m), or a write blocks that long", 0},
	{"truncate", OPT_TRUNCATE, NULL, 0, "cut messages longer than --msgsize "
	 "and say so on stderr, instead of exit 65 (System V)", 0},
	{"maxmsg", OPT_MAXMSG, "N", 0, "a new POSIX queue holds N messages", 0},
	{"msgsize", OPT_MSGSIZE, "BYTES", 0, "a new POSIX queue takes messages of "
	 "up to BYTES; System V: take messages of up to BYTES (default "
	 "kernel.msgmax)", 0},
	{"stat", OPT_STAT, NULL, 0, "print the queue's metadata instead of "
	 "receiving", 0},
	{"json", OPT_JSON, NULL, 0, "with --stat, print one JSON object", 0},
	{"ready-fd", OPT_READY, "FD", 0, "write a newline to FD once the queue is "
	 "open", 0},
	{"putback-timeout", OPT_PUTBACK, "DURATION", 0, "how long to wait for "
	 "room to put back a message the output refused (default 1m); then "
	 "it is saved in a file", 0},
	{"unpack", OPT_UNPACK, "FORMAT", 0, "each message is one binary record "
	 "of FORMAT (30s c i i i), written as a line of tab-separated fields", 0},
	{0}
};

/* The first option given that --stat, which receives nothing, would
 * ignore; NULL if none. */
static const char *idle_with_stat(const struct args *a, bool posix)
{
	static const char *const framings[] = { "--lines", "--null", "--whole",
						"--netstring" };
	const struct { bool given; const char *name; } opts[] = {
		{ a->count != 0, "--count" }, { a->follow, "--follow" },
		{ a->type_given, "--type" }, { a->except, "--except" },
		{ a->print_type, "--print-type" },
		{ a->print_prio, "--print-priority" }, { a->nowait, "--nowait" },
		{ a->timeout != IT_FOREVER, "--timeout" },
		{ a->truncate, "--truncate" },
		{ a->putback_given, "--putback-timeout" },
		{ a->unpacked, "--unpack" },
		{ !posix && a->attr.msgsize, "--msgsize" },
		{ a->framing != IT_FRAME_LINE, framings[a->framing] },
	};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		if (opts[i].given)
			return opts[i].name;
	return NULL;
}

static void check(struct argp_state *state, struct args *a)
{
	bool posix = it_obj_is_posix(&a->obj);
	if (a->obj.kind == IT_OBJ_NONE)
		return;  /* the naming child says so */
	if (posix && (a->type_given || a->except || a->print_type))
		argp_error(state, "--type, --except and --print-type are for System "
			   "V queues");
	if (!posix && a->print_prio)
		argp_error(state, "--print-priority is for POSIX queues: use "
			   "--print-type");
	if (posix && a->truncate)
		argp_error(state, "--truncate is for System V queues: a POSIX queue "
			   "never holds a message over its msgsize");
	if (!posix && a->attr.maxmsg)
		argp_error(state, "--maxmsg is for POSIX queues");
	if (a->obj.private)
		argp_error(state, "--key private would make a new queue that no "
			   "sender knows: name it by --key, --file, --id or --name");
	if (a->except && a->type <= 0)
		argp_error(state, "--except needs --type above 0");
	if (a->obj.kind == IT_OBJ_ID && a->create.create)
		argp_error(state, "--id names an existing queue: --create does not "
			   "apply");
	if (a->follow && a->count)
		argp_error(state, "--count and --follow: choose one");
	if (a->nowait && a->timeout != IT_FOREVER)
		argp_error(state, "--nowait and --timeout: choose one");
	if (a->json && !a->stat)
		argp_error(state, "--json goes with --stat");
	if (a->unpacked && a->framing != IT_FRAME_LINE)
		argp_error(state, "--unpack writes one line per message: drop %s",
			   a->framing == IT_FRAME_NUL ? "--null" : a->framing ==
			   IT_FRAME_WHOLE ? "--whole" : "--netstring");
	if (a->unpacked && a->truncate)
		argp_error(state, "--truncate and --unpack: a cut message is never "
			   "a record, and what was cut could not go back");
	it_mq_check_create(state, &a->obj, &a->create, &a->attr);
	const char *idle = a->stat ? idle_with_stat(a, posix) : NULL;
	if (idle)
		argp_error(state, "--stat receives nothing: %s has no effect with it",
			   idle);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	long v;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->obj;
		state->child_inputs[1] = &a->create;
		state->child_inputs[2] = &a->framing;
		break;
	case 't':
		/* LONG_MIN has no positive counterpart for msgrcv to use. */
		if (it_parse_long(arg, LONG_MIN + 1, LONG_MAX, &a->type))
			it_argp_bad(state, "type", arg);
		a->type_given = true;
		break;
	case 'n':
		if (it_parse_long(arg, 1, LONG_MAX, &a->count))
			it_argp_bad(state, "count", arg);
		break;
	case 'w':
		it_argp_duration(state, arg, &a->timeout);
		break;
	case OPT_MAXMSG:
	case OPT_MSGSIZE:
		if (it_parse_long(arg, 1, INT_MAX, &v))
			it_argp_bad(state, key == OPT_MAXMSG ? "maxmsg" : "msgsize",
				    arg);
		*(key == OPT_MAXMSG ? &a->attr.maxmsg : &a->attr.msgsize) = v;
		break;
	case OPT_PUTBACK:
		it_argp_duration(state, arg, &a->putback_timeout);
		a->putback_given = true;
		break;
	case OPT_READY:
		it_argp_fd(state, arg, &a->ready_fd);
		break;
	case OPT_FOLLOW: a->follow = true; break;
	case OPT_EXCEPT: a->except = true; break;
	case OPT_PRINT_TYPE: a->print_type = true; break;
	case OPT_PRINT_PRIO: a->print_prio = true; break;
	case OPT_NOWAIT: a->nowait = true; break;
	case OPT_TRUNCATE: a->truncate = true; break;
	case OPT_STAT: a->stat = true; break;
	case OPT_JSON: a->json = true; break;
	case OPT_UNPACK:
		it_argp_pack(state, arg, &a->pack);
		a->unpacked = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected operand '%s'",
			   it_quote(arg, (char[48]){0}, 48));
		break;
	case ARGP_KEY_END:
		check(state, a);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The shared naming options, but for --key's text: mqrecv refuses
 * private, which that text offers. Filled in by main. */
static struct argp obj_argp;

static char *obj_help(int key, const char *text, void *input)
{
	(void)input;
	if (key == 'k')
		return strdup("System V key: decimal, 0x hex, 0 octal (32-bit); "
			      "not private, a new queue no sender knows");
	return (char *)text;
}

static const struct argp_child children[] = {
	{&obj_argp, 0, "Naming the queue:", 1},
	{&it_create_argp, 0, "Creating and removing it:", 2},
	{&it_frame_out_argp, 0, "Framing of standard output:", 3},
	{0}
};

static const struct argp argp = {
	options, parse_opt, NULL,
	"Receive messages from a System V or POSIX message queue and write them "
	"to standard output.\v"
	"Each message is written before the next is taken, and one the output "
	"refuses goes back on the queue. Exit status: 0 success, 1 timed out or "
	"no message (--nowait), 64 usage, 65 message longer than --msgsize, 66 "
	"no such queue, or removed, 71 system error, 73 exists (--excl), 74 "
	"write error on standard output, 77 permission denied.",
	children, NULL, NULL
};

/* ---- delivery: every message taken ends on stdout or back on the queue ----
 *
 * One message at a time, whatever the output: each is written before the
 * next is taken, so that SIGKILL or the OOM killer can cost at most the
 * one message in hand. Messages received ahead of their write (a batch, a
 * writev, a writer thread) would all be lost with the process. Into a
 * pipe, the next message is taken only once the reader has read the last,
 * because a reader like head(1) reads everything there is and keeps only
 * what it wants. */

struct out {
	bool pipe;
	enum it_framing framing;
	bool prefix;            /* --print-type or --print-priority */
	char *buf;              /* the message in hand, framed */
	size_t len;
	long type;              /* its type or priority */
	size_t text, msglen;    /* where its own bytes start in buf, how many */
	const char *raw;        /* the message as taken: what goes back */
	size_t rawlen;
	const struct it_pack *unpack;   /* --unpack: records become lines */
	char *line;             /* the record in hand as a line */
	bool in_pipe;           /* written into the pipe, maybe not read yet */
	bool rm_kept;           /* a put-back made --rm leave the queue */
	const char *refused;    /* why the message in hand goes back, if not
				   for the output's sake (--unpack) */
	int64_t putback_ns;     /* how long a put-back may wait for room */
	int64_t write_ns;       /* -w: how long a write may block */
	int64_t deadline;       /* -w: when the message in hand must be read */
};

static struct out out;

/* Into a pipe, a reader that has gone stops the wait for the next
 * message, which would otherwise go on until a message came that could
 * only go back. */
static void reader_gone(void)
{
	it_mq_interrupt(SIGPIPE);
}

static void out_init(const struct args *a, const struct it_mq *q)
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
static _Noreturn void end_by(const struct it_mq *q, int sig)
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
static void put_back(struct it_mq *q)
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
static void deliver(struct it_mq *q, long type, size_t len)
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
static void before_take(struct it_mq *q)
{
	if (!read_by_reader(q) || (out.pipe && it_drain_gone()))
		end_by(q, SIGPIPE);
}

/* The last step of every run: what was taken is read, into a pipe; or a
 * stop signal ends the tool by that signal. */
static int finish(struct it_mq *q, int sig)
{
	if (!read_by_reader(q) && !sig)
		sig = SIGPIPE;
	if (sig)
		end_by(q, sig);
	it_drain_restore();
	return IT_OK;
}

/* A System V message over --msgsize stays queued, and so the queue stays
 * too under --rm. */
static _Noreturn void too_big(struct it_mq *q)
{
	char limit[200];
	bool kept = it_mq_keep();
	it_mq_limit(q, limit, sizeof limit);
	it_die(IT_DATAERR, "unable to receive from %s: the next message is "
	       "longer than %zu bytes and stays queued%s (%s)",
	       it_obj_label(q->obj), q->msgmax,
	       kept ? ", and the queue despite --rm" : "", limit);
}

/* --unpack: a message whose size is not the format's goes back on the
 * queue, and the tool ends. */
static _Noreturn void not_a_record(struct it_mq *q, const struct args *a,
				   long type, size_t len)
{
	static char why[120];
	snprintf(why, sizeof why, "a message of %zu bytes is not a record of "
		 "the format's %zu (--unpack)", len, a->pack.size);
	out.type = type;
	out.raw = q->buf->text;
	out.rawlen = len;
	out.refused = why;
	put_back(q);
	it_die(IT_DATAERR, "unable to receive from %s: %s; it went back on the "
	       "queue%s", it_obj_label(q->obj), why,
	       out.rm_kept ? ", which stays despite --rm" : "");
}

/* --truncate: takes the next message, too long for --msgsize, into a
 * buffer large enough for any the kernel lets be sent, so that the line
 * can say how many bytes were cut off message number nth of the run; what
 * fits is then the message in hand. As it_mq_recv returns. */
static ssize_t take_cut(struct it_mq *q, long *type, long want, int flags,
			long nth)
{
	size_t keep = q->msgmax;
	size_t big = (size_t)(q->sysmax > q->qbytes ? q->sysmax : q->qbytes);
	if (big <= keep)
		big = keep + 1;
	struct it_mq_buf *mine = q->buf, *b = malloc(sizeof *b + big);
	if (!b)
		it_xfail(errno, "allocate a buffer for", it_obj_label(q->obj), NULL);
	q->buf = b;
	q->msgmax = big;
	*type = want;
	ssize_t n = it_mq_recv(q, type, flags | IT_MQ_NOERROR, IT_FOREVER);
	int err = errno;
	q->buf = mine;
	q->msgmax = keep;
	if (n > (ssize_t)keep) {
		if (n == (ssize_t)big)  /* cut even so: sent before a limit fell */
			it_warn("message %ld of this run (type %ld) cut to %zu "
				"bytes: at least %zd bytes lost (--truncate)", nth,
				*type, keep, n - (ssize_t)keep);
		else
			it_warn("message %ld of this run (type %ld) cut to %zu "
				"bytes: %zd of its %zd bytes lost (--truncate)",
				nth, *type, keep, n - (ssize_t)keep, n);
		n = (ssize_t)keep;
	}
	if (n >= 0) {
		mine->type = b->type;
		memcpy(mine->text, b->text, (size_t)n);
	}
	free(b);
	errno = err;
	return n;
}

static int receive(const struct args *a, struct it_mq *q)
{
	int flags = (a->nowait ? IT_MQ_NOWAIT : 0) |
		    (a->except ? IT_MQ_EXCEPT : 0);
	long got = 0;
	out_init(a, q);
	while (a->follow || got < a->count) {
		before_take(q);
		long type = a->type;
		ssize_t n = it_mq_recv(q, &type, flags, it_deadline(a->timeout));
		if (n < 0 && errno == E2BIG && a->truncate)
			n = take_cut(q, &type, a->type, flags, got + 1);
		if (n < 0) {
			int err = errno;
			if (err == EINTR && it_mq_caught())
				return finish(q, it_mq_caught());
			finish(q, 0);
			if (a->follow && got > 0 && (err == EAGAIN || err == ETIMEDOUT))
				return IT_OK;
			if (err == E2BIG)
				too_big(q);
			it_mq_xfail(q, err);
		}
		got++;
		if (a->unpacked && (size_t)n != a->pack.size)
			not_a_record(q, a, type, (size_t)n);
		deliver(q, type, (size_t)n);
		if (it_mq_caught())
			return finish(q, it_mq_caught());
	}
	return finish(q, 0);
}

int main(int argc, char **argv)
{
	struct args a = { .timeout = IT_FOREVER, .ready_fd = -1,
			  .putback_timeout = 60 * (int64_t)1000000000 };
	struct it_mq q;
	int status = IT_OK;
	a.obj.accept = IT_ACCEPT_ALL;
	it_init();
	obj_argp = it_obj_argp;
	obj_argp.help_filter = obj_help;
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (!a.follow && !a.count)
		a.count = 1;
	it_xcheck_stdout();
	it_xobj_resolve(&a.obj);
	it_mq_xsignals(true);
	it_mq_xopen(&q, &a.obj, &a.create, &a.attr, O_RDONLY);
	it_xready(&a.ready_fd);
	if (a.stat)
		it_mq_xstat(&q, a.json);
	else
		status = receive(&a, &q);
	if (status == IT_OK)
		it_mq_xremove();
	free(q.buf);
	it_pack_free(&a.pack);
	return status;
}
