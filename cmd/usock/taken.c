/* Whether the peer took what we sent: a success is only claimed once
 * the kernel says the peer's socket has read it (or the peer is on
 * another host). Separate from pump.c because it is all waiting and
 * asking the kernel, and none of the moving. */
#include "usock.h"

/* Whether the TCP peer of fd, on this host, has closed its socket (1) or
 * holds it still (0), as the kernel tells (sock_diag, IPv4 and IPv6
 * alike): a FIN alone does not tell a close from a half-close, but a
 * closed socket has no inode left. -1 when it cannot be known: a peer
 * elsewhere, or no answer. *rqueue (if not NULL): what its receive queue
 * holds unread, our FIN counted as one. */
int tcp_peer_diag(int fd, unsigned *rqueue)
{
	/* Our socket closed (both ends' FINs taken) has no peer name left:
	 * the names of fd when it had one are kept. */
	static struct sockaddr_storage me, peer;
	static int known = -1;
	struct sockaddr_storage m2, p2;
	socklen_t ml = sizeof m2, pl = sizeof p2;
	if (getsockname(fd, (struct sockaddr *)&m2, &ml) == 0 &&
	    getpeername(fd, (struct sockaddr *)&p2, &pl) == 0) {
		me = m2;
		peer = p2;
		known = fd;
	} else if (known != fd) {
		return -1;
	}
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = {.nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST},
		.r = {.sdiag_family = (unsigned char)me.ss_family,
		      .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u,
		      .id = {.idiag_cookie = {INET_DIAG_NOCOOKIE,
					      INET_DIAG_NOCOOKIE}}},
	};
	/* The peer's socket: its own address is our peer's. */
	if (me.ss_family == AF_INET) {
		struct sockaddr_in *m = (struct sockaddr_in *)&me;
		struct sockaddr_in *p = (struct sockaddr_in *)&peer;
		req.r.id.idiag_sport = p->sin_port;
		req.r.id.idiag_dport = m->sin_port;
		memcpy(req.r.id.idiag_src, &p->sin_addr, 4);
		memcpy(req.r.id.idiag_dst, &m->sin_addr, 4);
	} else if (me.ss_family == AF_INET6) {
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)&me;
		struct sockaddr_in6 *p = (struct sockaddr_in6 *)&peer;
		req.r.id.idiag_sport = p->sin6_port;
		req.r.id.idiag_dport = m->sin6_port;
		memcpy(req.r.id.idiag_src, &p->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &m->sin6_addr, 16);
	} else {
		return -1;
	}
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	union {
		struct nlmsghdr nh;
		char buf[1024];
	} ans;
	ssize_t n = -1;
	if (send(nl, &req, sizeof req, 0) == (ssize_t)sizeof req)
		n = recv(nl, &ans, sizeof ans, MSG_DONTWAIT);
	close(nl);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct inet_diag_msg)) ||
	    ans.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -1;
	const struct inet_diag_msg *m = NLMSG_DATA(&ans.nh);
	if (rqueue)
		*rqueue = m->idiag_rqueue;
	/* The peer's socket gone, the kernel answers with the listener on
	 * its port: that is gone too. */
	if (m->idiag_state == TCP_LISTEN)
		return 1;
	/* Not accepted yet has no inode either, and is in none of the
	 * states a close leads to. */
	return m->idiag_inode == 0 && m->idiag_state != TCP_ESTABLISHED &&
	       m->idiag_state != TCP_CLOSE_WAIT && m->idiag_state != TCP_SYN_RECV;
}

static int tcp_peer_closed(int fd)
{
	return tcp_peer_diag(fd, NULL);
}

/* Once the peer's data has ended, the conversation is over when the
 * writer is. A peer that has gone while standard input has not ended
 * cannot take what may still come: that is exit 74 at once (exit_lock
 * held, so that the writer takes nothing more), as it is where the writer
 * finds it gone. A UNIX peer that has gone says POLLHUP. A TCP peer's
 * FIN does not tell a close from a half-close (our own listen half-closes
 * and goes on reading): one on this host is asked of the kernel, now and
 * then (tcp_peer_closed); of one elsewhere, only the end of standard
 * input, a reset or -w ends the wait. */
#define GRACE_NS (200 * 1000000LL)

void wait_writer(const struct pump *out, bool gone, bool tcp,
		 bool refused)
{
	struct talk *t = out->t;
	struct pollfd pf[2] = {{t->done, POLLIN, 0}, {out->out, 0, 0}};
	nfds_t nfd = gone ? 1 : 2;
	int ask = tcp ? 10 : -1;         /* ms until we ask again */
	int64_t grace = 0;
	for (;;) {
		int ms = idle_left_ms(t);
		/* The peer has gone: look every 10 ms whether the writer
		 * still has something it must fail to send. */
		if (nfd == 1 && (ms < 0 || ms > 10))
			ms = 10;
		if (nfd == 2 && ask > 0 && (ms < 0 || ms > ask))
			ms = ask;
		int n = poll(pf, nfd, ms);
		if (nfd == 2 && n == 0 && ask > 0) {
			int closed = tcp_peer_closed(out->out);
			if (closed == 1)
				nfd = 1;
			/* Elsewhere: never known; here: asked less often. */
			ask = closed < 0 ? -1 : ask < 1000 ? ask * 2 : ask;
		}
		if (n > 0 && pf[0].revents)
			return;
		pthread_mutex_lock(&exit_lock);
		if (n == 0 && idle_left_ms(t) == 0 && t->busy)
			it_die(IT_NO, "unable to write %s: no room in time",
			       out->outname);
		if (n == 0 && idle_left_ms(t) == 0)
			it_die(IT_NO, "unable to read standard input: no data "
			       "in time");
		if (nfd == 2 && n > 0 && pf[1].revents)
			nfd = 1;
		/* Standard input gets GRACE_NS to end once the peer has
		 * gone: in `echo x | usock connect S`, the peer may answer
		 * and leave before echo's end of the pipe is closed, and
		 * nothing is lost then. */
		if (nfd == 1 && !t->busy && !readable(out->in) && !grace)
			grace = it_now_ns() + GRACE_NS;
		if (nfd == 1 && !t->busy && !readable(out->in) &&
		    it_now_ns() >= grace)
			unsent(out, refused ? "the server refused the "
			       "connection before the end of standard input" :
			       "the peer has gone before the end of standard "
			       "input");
		pthread_mutex_unlock(&exit_lock);
	}
}

/* Exit 0 promises that the peer took all we sent on fd: waits until a
 * UNIX peer has read our last byte or record, or a TCP peer acknowledged
 * it and, on this host, read it (its receive queue, tcp_peer_diag), or
 * until the peer has gone; then the error that a peer leaving our data
 * unread sets (ECONNRESET), 0 for none. Our end of data (a FIN, sent
 * before this) is one in that queue until the peer reads the end. */
int wait_taken(int fd, const char *name, const struct talk *t,
	       bool tcp)
{
	int queued = 0, err = 0, diag = -1;
	unsigned rq = 0;
	bool unread = false;
	socklen_t len = sizeof err;
	while (ioctl(fd, SIOCOUTQ, &queued) == 0 &&
	       (queued > 0 || (tcp && (diag = tcp_peer_diag(fd, &rq)) == 0 &&
			       (unread = rq > 1)))) {
		struct pollfd pf = {fd, 0, 0};
		int ms = idle_left_ms(t);
		if (ms == 0)
			it_die(IT_NO, "unable to write %s: the peer read nothing "
			       "in time", name);
		if (poll(&pf, 1, ms < 0 || ms > 10 ? 10 : ms) > 0 &&
		    pf.revents & POLLERR)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	/* A peer here that closed with our bytes unread: its reset may
	 * not reach a socket of ours closed already. */
	if (!err && unread && diag != 0)
		err = ECONNRESET;
	return err;
}
