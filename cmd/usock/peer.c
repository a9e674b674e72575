/* The peer of a connection: who it is (credentials, groups, address),
 * how --peer prints it, and whether --allow-uid and --allow-gid let it in;
 * a refused peer is told so before it is closed. */
#include "usock.h"

void peer_of(int fd, const struct sock_addr *addr, struct peer *p)
{
	socklen_t len = sizeof p->uc;
	memset(p, 0, sizeof *p);
	if (addr->family == AF_UNIX) {
		p->cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p->uc, &len) == 0;
		len = sizeof p->groups;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0)
			p->ngroups = (int)(len / sizeof p->groups[0]);
		return;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, p->ip, sizeof p->ip,
			    p->port, sizeof p->port, NI_NUMERICHOST | NI_NUMERICSERV);
	sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, p->lip, sizeof p->lip,
			    p->lport, sizeof p->lport, NI_NUMERICHOST | NI_NUMERICSERV);
}

/* --peer: one line on standard error, or key=value lines with --stat,
 * written with one call so that concurrent tools do not interleave. */
void print_peer(const struct args *a, const struct peer *p)
{
	char buf[600];
	if (!(a->used & O_PEER))
		return;
	if (p->cred && a->used & O_JSON)
		snprintf(buf, sizeof buf, "{\"peer_pid\":%ld,\"peer_uid\":%lu,"
			 "\"peer_gid\":%lu}\n", (long)p->uc.pid,
			 (unsigned long)p->uc.uid, (unsigned long)p->uc.gid);
	else if (a->used & O_JSON)
		snprintf(buf, sizeof buf, "{\"peer_ip\":\"%s\",\"peer_port\":%s}\n",
			 p->ip, p->port[0] ? p->port : "0");
	else if (p->cred && a->used & O_STAT)
		snprintf(buf, sizeof buf, "peer_pid=%ld\npeer_uid=%lu\npeer_gid=%lu\n",
			 (long)p->uc.pid, (unsigned long)p->uc.uid,
			 (unsigned long)p->uc.gid);
	else if (a->used & O_STAT)
		snprintf(buf, sizeof buf, "peer_ip=%s\npeer_port=%s\n", p->ip,
			 p->port);
	else if (p->cred)
		snprintf(buf, sizeof buf, "%s: peer pid %ld uid %lu gid %lu\n",
			 program_invocation_short_name, (long)p->uc.pid,
			 (unsigned long)p->uc.uid, (unsigned long)p->uc.gid);
	else
		snprintf(buf, sizeof buf, "%s: peer %s port %s\n",
			 program_invocation_short_name, p->ip, p->port);
	(void)it_write_full(STDERR_FILENO, buf, strlen(buf));
}

/* A UNIX peer is taken if it runs as root or as us, or as a user or
 * group allowed; an Internet peer has no credentials to check. */
bool allowed(const struct args *a, const struct peer *p)
{
	if (a->addr.family != AF_UNIX || a->allow_any)
		return true;
	if (!p->cred)
		return false;
	if (p->uc.uid == 0 || p->uc.uid == geteuid())
		return true;
	for (int i = 0; i < a->nuids; i++)
		if (a->uids[i] == p->uc.uid)
			return true;
	for (int i = 0; i < a->ngids; i++) {
		if (a->gids[i] == p->uc.gid)
			return true;
		for (int g = 0; g < p->ngroups; g++)
			if (a->gids[i] == p->groups[g])
				return true;
	}
	return false;
}

/* A refused connection is closed after one out-of-band byte (MSG_OOB, a
 * UNIX stream), or an empty record that passes a descriptor of /dev/null
 * (SCM_RIGHTS, a UNIX record connection, which has no MSG_OOB): our
 * connect takes it as the refusal, which an empty standard input would
 * not otherwise show (the peer sends and reads nothing either way); it is
 * no data to any other client. */
void refuse(const struct args *a, int fd)
{
	if (a->addr.family == AF_UNIX && a->addr.type == SOCK_STREAM)
		(void)send(fd, "R", 1, MSG_OOB | MSG_DONTWAIT | MSG_NOSIGNAL);
	int null = a->addr.family == AF_UNIX && a->addr.type == SOCK_SEQPACKET ?
		   open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
	if (null >= 0) {
		union {
			struct cmsghdr c;
			char buf[CMSG_SPACE(sizeof(int))];
		} u = {0};
		struct msghdr mh = {.msg_control = u.buf,
				    .msg_controllen = sizeof u.buf};
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &null, sizeof null);
		(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(null);
	}
	close(fd);
}

void refused(const struct args *a, const struct peer *p)
{
	it_warn("refused a peer of uid %lu gid %lu on %s (use --allow-uid)",
		(unsigned long)p->uc.uid, (unsigned long)p->uc.gid, a->addr.text);
}
