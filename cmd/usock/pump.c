/* Moving the bytes of one connection: a pump per direction, splice(2)
 * where it can and read/write where it cannot, the writer thread that
 * sends standard input, and what is said of bytes that were not sent. */
#include "usock.h"

/* Held by whichever direction ends the process (struct talk). */
pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;

/* Standard output is a pipe whose reader has gone: end as cat(1) would,
 * by SIGPIPE, after removing our socket file. */
static _Noreturn void stdout_gone(void)
{
	sock_unbind();
	it_exit_signal(SIGPIPE);
}

/* A write error on standard output: EPIPE is stdout_gone. */
_Noreturn void stdout_fail(int err)
{
	if (err == EPIPE)
		stdout_gone();
	it_xfail_status(IT_IOERR, err, "write", "standard output", NULL);
}

bool is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

void pump_init(struct pump *p, int in, const char *inname, int out,
	       const char *outname, bool sock_in, int type,
	       struct talk *t)
{
	*p = (struct pump){.in = in, .out = out, .inname = inname,
			   .outname = outname, .sock_in = sock_in,
			   .copy = type != SOCK_STREAM,
			   .records = sock_in && type == SOCK_SEQPACKET,
			   .pipe = {-1, -1}, .cap = 1 << 17, .t = t};
	p->buf = malloc(p->cap);
	if (!p->buf)
		it_xfail(errno, "allocate", "a buffer", NULL);
	if (!p->copy && !is_pipe(in) && !is_pipe(out)) {
		if (pipe2(p->pipe, O_CLOEXEC) < 0)
			it_xfail(errno, "create", "a pipe", NULL);
		(void)fcntl(p->pipe[0], F_SETPIPE_SZ, CHUNK);
	}
}

void pump_free(struct pump *p)
{
	if (p->pipe[0] >= 0) {
		close(p->pipe[0]);
		close(p->pipe[1]);
	}
	free(p->buf);
}

/* Ends a step of the pump with the error that stopped it: -1. */
static int pump_error(struct pump *p, int err, bool out)
{
	p->err = err;
	p->err_out = out;
	return -1;
}

/* n bytes moved to out: the pump made progress. */
static int moved(struct pump *p, size_t n)
{
	p->moved += n;
	p->held -= n;
	p->t->last = it_now_ns();
	return 1;
}

/* The next record of a record socket, whole, into p->buf: its length
 * peeked first so that the buffer holds it. An empty record is not the
 * end: it comes with credentials (SO_PASSCRED), the end with none. */
static ssize_t read_record(struct pump *p, bool *end)
{
	ssize_t len;
	while ((len = recv(p->in, NULL, 0, MSG_PEEK | MSG_TRUNC)) < 0 &&
	       errno == EINTR)
		;
	if (len < 0)
		return -1;
	if ((size_t)len > p->cap) {
		char *b = realloc(p->buf, (size_t)len);
		if (!b)
			it_xfail(errno, "allocate", "a buffer", NULL);
		p->buf = b;
		p->cap = (size_t)len;
	}
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {p->buf, p->cap};
	ssize_t n;
	struct msghdr mh;
	do {
		mh = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof u.buf};
		n = recvmsg(p->in, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	*end = n == 0 && mh.msg_controllen == 0;
	/* A server's refusal (refuse): an empty record with a descriptor,
	 * which no data carries; the descriptor goes. */
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int rfd;
			memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof rfd);
			close(rfd);
		}
		if (n == 0 && p->moved == 0 && p->oob)
			p->refused = true;
	}
	return n;
}

/* read(2) (or a whole record) and write(2): 1 on progress, 0 at the end
 * of in, -1 on an error (p->err). */
static int copy_from(struct pump *p, int in)
{
	ssize_t n;
	bool end = false;
	if (p->records && in == p->in) {
		n = read_record(p, &end);
	} else {
		while ((n = read(in, p->buf, p->cap)) < 0 && errno == EINTR)
			;
		end = n == 0;
	}
	if (n < 0)
		return pump_error(p, errno, false);
	if (end)
		return 0;
	p->held += (size_t)n;
	size_t w = it_write_some(p->out, p->buf, (size_t)n, NULL);
	moved(p, w);
	return w < (size_t)n ? pump_error(p, errno, true) : 1;
}

/* Moves the n bytes our pipe holds on to out. */
static int drain(struct pump *p, size_t n)
{
	while (n > 0) {
		ssize_t m = splice(p->pipe[0], NULL, p->out, NULL, n,
				   SPLICE_F_MOVE);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0 && errno != EINVAL)
			return pump_error(p, errno, true);
		if (m < 0) {
			/* out takes no splice: copy what the pipe holds,
			 * and from now on all of in. */
			p->copy = true;
			p->held -= n;
			uint64_t goal = p->moved + n;
			while (p->moved < goal)
				if (copy_from(p, p->pipe[0]) < 0)
					return -1;
			return 1;
		}
		moved(p, (size_t)m);
		n -= (size_t)m;
	}
	return 1;
}

/* Moves what in has now: 1 on progress, 0 at the end of in, -1 on an
 * error (p->err). An error of splice between a pipe and the socket is the
 * socket's, but for EPIPE, which only writes get. */
static int pump_step(struct pump *p)
{
	while (!p->copy) {
		bool direct = p->pipe[0] < 0;
		ssize_t n = splice(p->in, NULL, direct ? p->out : p->pipe[1],
				   NULL, CHUNK, SPLICE_F_MOVE);
		if (n > 0) {
			p->held += (size_t)n;
			return direct ? moved(p, (size_t)n) : drain(p, (size_t)n);
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EINVAL)
			return pump_error(p, errno, errno == EPIPE ||
					  (direct && !p->sock_in));
		p->copy = true;
	}
	return copy_from(p, p->in);
}

/* Milliseconds until -w has passed with nothing moved; -1 for no limit. */
int idle_left_ms(const struct talk *t)
{
	return t->idle == IT_FOREVER ? -1 : it_left_ms(t->last + t->idle);
}

/* In until its end, for the side that ends the conversation: 0, or -1 with
 * the error in p. Where -w is given, the time with nothing moved either
 * way is bounded. */
int pump_run(struct pump *p)
{
	for (;;) {
		struct pollfd pf = {p->in, POLLIN | (p->oob ? POLLPRI : 0), 0};
		int n = p->t->idle == IT_FOREVER && !p->oob ? 1 :
			poll(&pf, 1, idle_left_ms(p->t));
		if (n < 0 && errno != EINTR)
			return pump_error(p, errno, false);
		/* Polled before every read: a read past the byte drops it. */
		char c;
		if (n > 0 && pf.revents & POLLPRI &&
		    recv(p->in, &c, 1, MSG_OOB | MSG_DONTWAIT) == 1 &&
		    p->moved == 0)
			p->refused = true;
		/* Nothing moved either way: where the writer is stuck
		 * sending, the stall is the peer's reading, not its data. */
		if (n == 0 && idle_left_ms(p->t) == 0) {
			pthread_mutex_lock(&exit_lock);
			if (p->t->busy)
				it_die(IT_NO, "unable to write %s: no room in time",
				       p->inname);
			it_die(IT_NO, "unable to read %s: no data in time",
			       p->inname);
		}
		if (n <= 0)
			continue;
		int rc = pump_step(p);
		if (rc <= 0)
			return rc;
	}
}

/* Standard input to the socket, then a half-close: the peer sees the end
 * of our data and can still answer. An error reading standard input ends
 * us at once; one writing the socket ends this direction only, and is
 * told once the peer's data has all been written out. busy says when the
 * writer has input in hand, for wait_writer. */
void *writer(void *arg)
{
	struct pump *p = arg;
	int rc;
	do {
		struct pollfd pf = {p->in, POLLIN, 0};
		while (poll(&pf, 1, -1) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&exit_lock);
		p->t->busy = true;
		pthread_mutex_unlock(&exit_lock);
		rc = pump_step(p);
		pthread_mutex_lock(&exit_lock);
		p->t->busy = false;
		if (rc < 0 && !p->err_out)
			it_xfail_status(IT_IOERR, p->err, "read", p->inname, NULL);
		pthread_mutex_unlock(&exit_lock);
	} while (rc > 0);
	/* A TCP peer here that has half-closed leaves the kernel's tables
	 * once it has our FIN (TIME_WAIT), its receive queue with it: until
	 * it has read what we sent, the FIN waits. */
	unsigned rq = 0;
	int unacked = 0;
	/* Counted in its queue once acknowledged, not before. */
	while (rc == 0 && p->tcp && tcp_peer_diag(p->out, &rq) == 0 &&
	       (rq > 0 || (ioctl(p->out, SIOCOUTQ, &unacked) == 0 &&
			   unacked > 0))) {
		int ms = idle_left_ms(p->t);
		if (ms == 0) {
			pthread_mutex_lock(&exit_lock);
			it_die(IT_NO, "unable to write %s: the peer read nothing "
			       "in time", p->outname);
		}
		poll(NULL, 0, ms < 0 || ms > 10 ? 10 : ms);
	}
	if (rc == 0)
		shutdown(p->out, SHUT_WR);
	uint64_t one = 1;
	(void)!write(p->t->done, &one, sizeof one);
	return NULL;
}

bool readable(int fd)
{
	struct pollfd pf = {fd, POLLIN, 0};
	return poll(&pf, 1, 0) != 0;
}

/* The writer could not send all of standard input (why, or p->err): how
 * much the peer did not get, exactly where standard input is a file, or a
 * pipe whose writers have all gone. */
_Noreturn void unsent(const struct pump *p, const char *why)
{
	uint64_t left = p->held;
	bool exact = false;
	struct stat st;
	off_t pos;
	int pending;
	if (fstat(p->in, &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = lseek(p->in, 0, SEEK_CUR)) >= 0) {
		left += st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
		exact = true;
	} else if (ioctl(p->in, FIONREAD, &pending) == 0) {
		struct pollfd pf = {p->in, POLLIN, 0};
		left += (uint64_t)pending;
		exact = poll(&pf, 1, 0) == 1 && pf.revents & POLLHUP;
	}
	it_die(IT_IOERR, "unable to write %s: %s (%" PRIu64 " bytes of standard "
	       "input sent, %" PRIu64 "%s not)", p->outname,
	       why ? why : strerror(p->err),
	       p->moved, left, exact ? "" : " and more");
}
