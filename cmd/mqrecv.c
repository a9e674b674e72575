/* mqrecv: receive messages from a System V or POSIX message queue and write
 * them to standard output, never taking one off the queue that the output
 * cannot take. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ipctools.h"

enum { OPT_FOLLOW = 0x2000, OPT_EXCEPT, OPT_PRINT_TYPE, OPT_PRINT_PRIO,
       OPT_NOWAIT, OPT_TRUNCATE, OPT_MAXMSG, OPT_MSGSIZE, OPT_STAT, OPT_JSON,
       OPT_READY };

struct args {
	struct it_obj obj;
	struct it_create create;
	enum it_framing framing;
	struct it_mq_attr attr;
	long type;
	bool type_given;
	long count;
	bool follow, except, print_type, print_prio, nowait, truncate, stat, json;
	int64_t timeout;
	int ready_fd;
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
	 "time (250ms, 1.5s, 2m)", 0},
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
	{0}
};

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
		if (it_parse_duration(arg, &a->timeout))
			it_argp_bad(state, "timeout", arg);
		break;
	case OPT_MAXMSG:
	case OPT_MSGSIZE:
		if (it_parse_long(arg, 1, INT_MAX, &v))
			it_argp_bad(state, key == OPT_MAXMSG ? "maxmsg" : "msgsize",
				    arg);
		*(key == OPT_MAXMSG ? &a->attr.maxmsg : &a->attr.msgsize) = v;
		break;
	case OPT_READY:
		if (it_parse_fd(arg, &a->ready_fd))
			it_argp_bad(state, "ready-fd", arg);
		break;
	case OPT_FOLLOW: a->follow = true; break;
	case OPT_EXCEPT: a->except = true; break;
	case OPT_PRINT_TYPE: a->print_type = true; break;
	case OPT_PRINT_PRIO: a->print_prio = true; break;
	case OPT_NOWAIT: a->nowait = true; break;
	case OPT_TRUNCATE: a->truncate = true; break;
	case OPT_STAT: a->stat = true; break;
	case OPT_JSON: a->json = true; break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected operand '%s'", arg);
		break;
	case ARGP_KEY_END:
		check(state, a);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{&it_obj_argp, 0, "Naming the queue:", 1},
	{&it_create_argp, 0, "Creating and removing it:", 2},
	{&it_frame_argp, 0, "Framing of standard output:", 3},
	{0}
};

static const struct argp argp = {
	options, parse_opt, NULL,
	"Receive messages from a System V or POSIX message queue and write them "
	"to standard output.", children, NULL, NULL
};

/* Waits until the reader of the pipe on fd has read everything written: 0,
 * or -1 if it went away first, leaving bytes unread. The pipe was shrunk to
 * one buffer, so it is "full", and not writable, until it has been read. */
static int drained(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int unread = 0;
	while (!it_mq_caught()) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p.revents & POLLOUT)
			return 0;
		if (p.revents & POLLERR)
			break;
	}
	/* Unread bytes are still counted once the reader has gone. */
	if (ioctl(fd, FIONREAD, &unread) == 0 && unread > 0)
		return -1;
	return 0;
}

static bool reader_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* Writes one received message; on a pipe, waits until it has been read.
 * A message the output did not take goes back to the queue (behind the
 * others of its type or priority), and the tool ends: as by SIGPIPE if the
 * reader went away, like any filter, else with exit 74. */
static void output(const struct args *a, struct it_mq *q, struct it_writer *w,
		   bool each, bool pipe, long type, size_t len)
{
	char pre[24];
	int prelen = 0;
	if (a->print_type || a->print_prio)
		prelen = snprintf(pre, sizeof pre, "%ld\t", type);
	int rc = it_write_msg2(w, pre, (size_t)prelen, q->buf->text, len);
	if (rc == 0 && each)
		rc = it_writer_flush(w);
	int err = errno;
	if (rc == 0 && pipe && drained(STDOUT_FILENO) < 0) {
		rc = -1;
		err = EPIPE;
	}
	if (rc == 0)
		return;
	if (it_mq_putback(q, type, len) < 0)
		it_die(IT_IOERR, "unable to put a message of %s %ld back on %s: %s",
		       q->posix ? "priority" : "type", type, it_obj_label(q->obj),
		       strerror(errno));
	if (err == EPIPE)
		it_mq_exit_signal(SIGPIPE);
	it_xfail_status(IT_IOERR, err, "write", "standard output", NULL);
}

static int receive(const struct args *a, struct it_mq *q)
{
	struct it_writer w;
	struct stat st;
	/* Buffer for speed only into a file or /dev/null; pipes, sockets,
	 * terminals and devices get each message as it comes, so that one
	 * they refuse can go back to the queue. */
	bool each = fstat(STDOUT_FILENO, &st) < 0 || !(S_ISREG(st.st_mode) ||
		    (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)));
	bool pipe = !each ? false : S_ISFIFO(st.st_mode) &&
		    fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 4096) >= 0;
	int flags = (a->nowait ? IT_MQ_NOWAIT : 0) |
		    (a->except ? IT_MQ_EXCEPT : 0);
	long got = 0;
	char limit[200];
	it_writer_init(&w, STDOUT_FILENO, a->framing);
	while (a->follow || got < a->count) {
		if (each && reader_gone(STDOUT_FILENO))
			it_mq_exit_signal(SIGPIPE);
		long type = a->type;
		ssize_t n = it_mq_recv(q, &type, flags, it_deadline(a->timeout));
		if (n < 0 && errno == E2BIG && a->truncate) {
			type = a->type;
			n = it_mq_recv(q, &type, flags | IT_MQ_NOERROR, IT_FOREVER);
			if (n == (ssize_t)q->msgmax)
				it_warn("cut a message of type %ld to %zd bytes "
					"(--truncate)", type, n);
		}
		if (n < 0) {
			int err = errno;
			if (it_writer_flush(&w) < 0)
				it_xfail_status(IT_IOERR, errno, "write",
						"standard output", NULL);
			if (a->follow && got > 0 && (err == EAGAIN || err == ETIMEDOUT))
				return IT_OK;
			if (err == E2BIG) {
				it_mq_limit(q, limit, sizeof limit);
				it_die(IT_DATAERR, "unable to receive from %s: the next "
				       "message is longer than %zu bytes and stays "
				       "queued (%s)", it_obj_label(q->obj), q->msgmax,
				       limit);
			}
			it_mq_xfail(q, err);
		}
		got++;
		output(a, q, &w, each, pipe, type, (size_t)n);
		if (it_mq_caught()) {
			if (it_writer_flush(&w) == 0)
				it_mq_exit_signal(it_mq_caught());
			it_xfail_status(IT_IOERR, errno, "write", "standard output",
					NULL);
		}
	}
	if (it_writer_flush(&w) < 0)
		it_xfail_status(IT_IOERR, errno, "write", "standard output", NULL);
	return IT_OK;
}

int main(int argc, char **argv)
{
	struct args a = { .timeout = IT_FOREVER, .ready_fd = -1 };
	struct it_mq q;
	int status = IT_OK;
	a.obj.accept = IT_ACCEPT_ALL;
	it_init();
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
	free(q.buf);
	return status;
}
