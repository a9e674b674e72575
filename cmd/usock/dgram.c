/* send and recv: datagram and seqpacket messages, one record a message,
 * framed on standard input and output; each message sent or written
 * whole, and what was not is counted. */
#include "usock.h"

/* The largest message send reads from standard input. */
#define SEND_MAX (64 << 20)

/* Message n, read from standard input at msg, was not sent: it is made
 * unread again with all read after it, so that a seekable standard input
 * is left at its first byte. Where that cannot be, the line says how many
 * bytes were read and not sent. */
static void unsent_msg(struct it_reader *r, const char *msg, size_t len,
		       char *tell, size_t size)
{
	size_t head = r->framing == IT_FRAME_NETSTRING
		      ? (size_t)snprintf(NULL, 0, "%zu:", len) : 0;
	size_t from = (size_t)(msg - r->buf) - head;
	size_t ahead = r->end - from;
	if (lseek(r->fd, -(off_t)ahead, SEEK_CUR) >= 0)
		snprintf(tell, size, ": standard input is left at its first byte");
	else
		snprintf(tell, size, " (%zu bytes of standard input read from "
			 "its first on were not sent)", ahead);
	r->start = r->end;
}

/* Message n could not be sent: told by its number. Where it is one of
 * standard input's (msg) and could go another time, it is given back with
 * what follows; one that never could (malformed, too long) is not, and
 * only what follows it is. */
static _Noreturn void send_fail(const struct args *a, int fd, long n,
				const char *msg, size_t len,
				struct it_reader *r, int err)
{
	int sndbuf = 0;
	socklen_t sl = sizeof sndbuf;
	char tell[120] = "";
	bool never = err == EBADMSG || err == EMSGSIZE || err == ENOBUFS;
	if (r && msg && r->buf && !never)
		unsent_msg(r, msg, len, tell, sizeof tell);
	else if (r)
		it_reader_giveback(r);
	if (err == EBADMSG)
		it_die(IT_DATAERR, "unable to read standard input: message %ld is "
		       "not a complete netstring", n);
	if (err == EMSGSIZE && r && len > SEND_MAX)
		it_die(IT_DATAERR, "unable to send %s: message %ld is longer than "
		       "%d bytes, the most send reads", a->addr.text, n, SEND_MAX);
	if ((err == EMSGSIZE || err == ENOBUFS) && a->addr.family != AF_UNIX)
		it_die(IT_DATAERR, "unable to send %s: message %ld of %zu bytes is "
		       "longer than a UDP datagram (65507 bytes)", a->addr.text, n,
		       len);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);
	if (err == EMSGSIZE || err == ENOBUFS)
		it_die(IT_DATAERR, "unable to send %s: message %ld of %zu bytes is "
		       "longer than the socket send buffer (%d bytes; raise "
		       "net.core.wmem_default)", a->addr.text, n, len, sndbuf);
	if (err == EAGAIN)
		it_die(IT_NO, "unable to send %s: no room in time for message %ld, "
		       "which was not sent%s", a->addr.text, n, tell);
	int status = err == ECONNREFUSED || err == ENOENT || err == ENOTCONN ?
		     IT_UNAVAILABLE : IT_IOERR;
	if (tell[0])
		it_die(status, "unable to send %s: %s (message %ld was not "
		       "sent)%s", a->addr.text, strerror(err), n, tell);
	it_xfail_status(status, err, "send", a->addr.text, NULL);
}

static void send_one(const struct args *a, int fd, long n, const void *msg,
		     size_t len, struct it_reader *r)
{
	while (send(fd, msg, len, 0) < 0)
		if (errno != EINTR)
			send_fail(a, fd, n, r ? msg : NULL, len, r, errno);
}

/* On a record connection, the receiver has read every record we sent, or
 * it closed with some unread: that is exit 74. Where datagrams went, the
 * kernel does not tell. */
static int sent_all(const struct args *a, int fd)
{
	struct talk t = {.idle = a->timeout, .last = it_now_ns()};
	int err = 0;
	if (a->addr.type == SOCK_SEQPACKET && shutdown(fd, SHUT_WR) == 0)
		err = wait_taken(fd, a->addr.text, &t, false);
	if (err)
		it_die(IT_IOERR, "unable to send %s: %s (the receiver did not "
		       "read every record)", a->addr.text, strerror(err));
	close(fd);
	return IT_OK;
}

int cmd_send(struct args *a)
{
	resolve(a);
	int fd = sock_connect(&a->addr, it_deadline(a->timeout), false);
	if (fd < 0)
		connect_fail(a, "connect", errno);
	if (a->timeout != IT_FOREVER) {
		struct timespec ts = it_ns_to_ts(a->timeout);
		struct timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	for (int i = 0; i < a->nrest; i++)
		send_one(a, fd, i + 1, a->rest[i], strlen(a->rest[i]), NULL);
	if (a->nrest > 0)
		return sent_all(a, fd);
	struct it_reader r;
	const char *msg;
	size_t len;
	int rc;
	long n = 1;
	it_reader_init(&r, STDIN_FILENO, a->framing);
	for (; (rc = it_read_msg(&r, SEND_MAX, &msg, &len)) > 0; n++)
		send_one(a, fd, n, msg, len, &r);
	if (rc < 0 && (errno == EMSGSIZE || errno == EBADMSG))
		send_fail(a, fd, n, NULL, SEND_MAX + (size_t)1, &r, errno);
	if (rc < 0)
		it_xfail_status(IT_IOERR, errno, "read", "standard input", NULL);
	it_reader_free(&r);
	return sent_all(a, fd);
}

/* recv: messages taken and buffered, not yet written to standard output. */
static long recv_held;

/* recv: standard output has gone (or a write to it failed with err),
 * with lost messages taken and not read by its reader. What a datagram
 * socket fd still holds is lost as well, and counted (a UNIX one refuses
 * senders from now on); records a connection holds are left unread, so
 * that their sender learns it (a reset). Told in one line, then the end
 * as for any write error on stdout. */
static _Noreturn void recv_lost(const struct args *a, int fd, long lost,
				int err)
{
	if (a->addr.type != SOCK_DGRAM)
		fd = -1;
	if (fd >= 0 && a->addr.family == AF_UNIX)
		shutdown(fd, SHUT_RD);
	/* Bounded: a UDP socket takes datagrams still while we count. */
	for (long i = 0; fd >= 0 && i < 1 << 20; i++) {
		char c, cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {&c, 1};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC |
				    MSG_CMSG_CLOEXEC);
		struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
		struct peer p = {0};
		if (cm && cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS) {
			p.cred = true;
			memcpy(&p.uc, CMSG_DATA(cm), sizeof p.uc);
		}
		/* The end of a datagram socket shut down comes without
		 * credentials. */
		if (n < 0 || (n == 0 && !p.cred && a->addr.family == AF_UNIX))
			break;
		if (!p.cred || allowed(a, &p))
			lost++;
	}
	if (lost > 0)
		it_warn("standard output has gone: %ld message%s received %s not "
			"written out", lost, lost == 1 ? "" : "s",
			lost == 1 ? "was" : "were");
	stdout_fail(err);
}

/* recv: what w holds goes out; on failure, what it held is counted. */
static void recv_flush(const struct args *a, int fd, struct it_writer *w)
{
	if (it_writer_flush(w) < 0)
		recv_lost(a, fd, recv_held, errno);
	recv_held = 0;
}

static int no_stop(void)
{
	return 0;
}

/* The next datagram or record: its length, which may be more than the
 * DGRAM_MAX bytes of buf that it fills (MSG_TRUNC); -1 if a stop signal
 * came first, or (draining) if nothing is queued. Flushes w first if it
 * would wait. *end: the end of a record connection, or of a datagram
 * socket shut down for draining, told from an empty message by the
 * credentials that come with every message (SO_PASSCRED) and not with
 * the end. */
static ssize_t recv_one(const struct args *a, int fd, int sfd, char *buf,
			struct it_writer *w, struct peer *p, bool *end,
			bool draining)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, DGRAM_MAX};
	int64_t deadline = it_deadline(a->timeout);
	bool waited = false;
	for (;;) {
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf};
		/* A message taken must have somewhere to go (CONTRACT 8). */
		if (it_drain_gone())
			recv_lost(a, fd, recv_held, EPIPE);
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC |
				    MSG_CMSG_CLOEXEC);
		if (n >= 0) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			memset(p, 0, sizeof *p);
			if (c && c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS) {
				p->cred = true;
				memcpy(&p->uc, CMSG_DATA(c), sizeof p->uc);
			}
			*end = n == 0 && !p->cred && (draining ||
						      a->addr.type == SOCK_SEQPACKET);
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			it_xfail_status(IT_IOERR, errno, "receive from",
					a->addr.text, NULL);
		if (errno == EAGAIN && draining)
			return -1;
		if (!waited)
			recv_flush(a, fd, w);
		waited = true;
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int r = poll(pf, 2, it_left_ms(deadline));
		if (r == 0)
			it_die(IT_NO, "unable to receive from %s: nothing in time",
			       a->addr.text);
		if (r > 0 && pf[1].revents & POLLIN)
			return -1;
	}
}

/* Why a message from a peer we take cannot be written out as framed:
 * longer than DGRAM_MAX, or holding the byte that ends a message (it
 * would read as two); NULL if it can. */
static const char *unframable(const struct args *a, const char *buf,
			      ssize_t n)
{
	static char why[40];
	if (n > DGRAM_MAX) {
		snprintf(why, sizeof why, "longer than %d bytes", DGRAM_MAX);
		return why;
	}
	if (a->framing == IT_FRAME_LINE && memchr(buf, '\n', (size_t)n))
		return "it holds a newline (use --netstring)";
	if (a->framing == IT_FRAME_NUL && memchr(buf, '\0', (size_t)n))
		return "it holds a NUL (use --netstring)";
	return NULL;
}

/* Stop signals end recv's loop between two messages, never inside: they
 * are blocked, and read from the descriptor returned. */
static int block_stops(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigprocmask(SIG_BLOCK, set, NULL);
	int sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0)
		it_xfail(errno, "set up", "a signalfd", NULL);
	return sfd;
}

/* Fewer than N is no success: what was taken is out, the line says how
 * much, and the signal that stopped us ends us as it would have. */
static void recv_stopped(const struct args *a, int sfd, sigset_t *set,
			 long got, long count)
{
	struct signalfd_siginfo si;
	if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
		return;
	int sig = (int)si.ssi_signo;
	it_warn("unable to receive from %s: SIG%s after %ld of %ld message%s%s",
		a->addr.text, it_sig_name(sig), got, count, count == 1 ? "" :
		"s", got == 0 ? "" : got == 1 ? ", which was written out" :
		", which were written out");
	sock_unbind();
	signal(sig, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, set, NULL);
	raise(sig);
}

int cmd_recv(struct args *a)
{
	sigset_t set;
	int sfd = block_stops(&set);
	a->bind.passcred = true;
	int lfd = xbind(a), fd = lfd, status = IT_OK;
	bool records = a->addr.type == SOCK_SEQPACKET, end;
	if (records) {
		fd = -1;
		fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	}
	char *buf = malloc(DGRAM_MAX);
	if (!buf)
		it_xfail(errno, "allocate", "a buffer", NULL);
	struct it_writer w;
	it_writer_init(&w, STDOUT_FILENO, a->framing);
	long got = 0;
	long count = a->count ? a->count : 1;
	bool draining = false, out_pipe = is_pipe(STDOUT_FILENO);
	while (a->used & O_FOLLOW || got < count) {
		struct peer p;
		/* What was taken is out before we wait for the next peer. */
		if (fd < 0)
			recv_flush(a, fd, &w);
		if (fd < 0 && (fd = accept_peer(a, lfd, sfd, &p)) < 0)
			break;
		ssize_t n = recv_one(a, fd, sfd, buf, &w, &p, &end, draining);
		/* A stop signal: a UNIX datagram socket refuses senders from
		 * now on (EPIPE), and what they queued already is taken. */
		if (n < 0 && !draining && !records && a->addr.family == AF_UNIX &&
		    shutdown(fd, SHUT_RD) == 0) {
			draining = true;
			continue;
		}
		if (n < 0 || (end && draining))
			break;
		if (end) {
			close(fd);
			fd = -1;
			continue;
		}
		if (!records && p.cred && !allowed(a, &p)) {
			refused(a, &p);
			continue;
		}
		/* Told and skipped; the exit status then says that not
		 * everything came through. */
		const char *why = unframable(a, buf, n);
		if (why) {
			it_warn("skipped a message of %zd bytes from %s: %s", n,
				a->addr.text, why);
			status = IT_DATAERR;
			continue;
		}
		if (it_write_msg(&w, buf, (size_t)n) < 0)
			recv_lost(a, fd, recv_held + 1, errno);
		recv_held++;
		got++;
		/* Into a pipe, one message at a time: a reader such as head(1)
		 * reads all the pipe holds and keeps what it wants, so the next
		 * is taken only once it has read this one; if it goes first,
		 * this one and what the socket holds are told as lost. */
		if (out_pipe) {
			recv_flush(a, fd, &w);
			if (it_drain(no_stop) > 0)
				recv_lost(a, fd, 1, EPIPE);
		}
	}
	recv_flush(a, fd, &w);
	free(buf);
	if (!(a->used & O_FOLLOW) && got < count)
		recv_stopped(a, sfd, &set, got, count);
	return status;
}
