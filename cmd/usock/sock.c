/* sock.c: socket addresses as usock names them, connecting with a
 * deadline, and binding a socket at a path safely (CONTRACT.md section 9):
 * the socket is bound at the path itself, under a umask that gives it its
 * final mode (bind(2) makes a new entry, never follows a symlink, never
 * replaces anything), gets its owner through a descriptor of that very
 * file, and only then listens. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "usock.h"

#define SUN_MAX (sizeof ((struct sockaddr_un *)0)->sun_path)

/* The path we bound, for sock_unbind, which a signal handler may call:
 * fixed storage, written before the path exists. */
static char bound_path[PATH_MAX];
static dev_t bound_dev;
static ino_t bound_ino;
static volatile sig_atomic_t bound;

static int unix_addr(struct sock_addr *a, const char *name, bool abstract)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)a->addrs[0];
	size_t len = strlen(name);
	/* An abstract name is exactly the bytes given: the length passed to
	 * bind and connect ends with them, with no NUL padding after. */
	if (len == 0 || len + abstract > SUN_MAX - !abstract) {
		errno = len ? ENAMETOOLONG : EINVAL;
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + abstract, name, len);
	a->lens[0] = (unsigned)(offsetof(struct sockaddr_un, sun_path) +
				 abstract + len + !abstract);
	a->family = AF_UNIX;
	a->abstract = abstract;
	a->path = abstract ? NULL : name;
	a->n = 1;
	return 0;
}

int sock_parse(const char *s, int type, struct sock_addr *a)
{
	memset(a, 0, sizeof *a);
	a->text = s;
	a->type = type;
	int inet = strncmp(s, "tcp:", 4) == 0 ? SOCK_STREAM :
		   strncmp(s, "udp:", 4) == 0 ? SOCK_DGRAM : 0;
	if (!inet) {
		if (strncmp(s, "unix:", 5) == 0)
			s += 5;
		if (!a->type)
			a->type = SOCK_STREAM;
		return s[0] == '@' ? unix_addr(a, s + 1, true) :
				     unix_addr(a, s, false);
	}
	if (a->type && a->type != inet) {
		errno = EPROTOTYPE;
		return -1;
	}
	a->type = inet;
	a->family = AF_INET;
	const char *host = s + 4, *colon;
	size_t hostlen;
	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		if (!end || end[1] != ':') {
			errno = EINVAL;
			return -1;
		}
		host++;
		hostlen = (size_t)(end - host);
		colon = end + 1;
	} else {
		colon = strrchr(host, ':');
		if (!colon) {
			errno = EINVAL;
			return -1;
		}
		hostlen = (size_t)(colon - host);
	}
	if (hostlen == 0 || hostlen >= sizeof a->host || !colon[1] ||
	    strlen(colon + 1) >= sizeof a->port) {
		errno = EINVAL;
		return -1;
	}
	memcpy(a->host, host, hostlen);
	/* Decimal, 0 to 65535, nothing else: getaddrinfo would take a sign,
	 * blanks and service names, and cut 112667 to 16 bits. */
	const char *port = colon + 1;
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atol(port) > 65535) {
		errno = EINVAL;
		return -1;
	}
	snprintf(a->port, sizeof a->port, "%ld", atol(port));
	return 0;
}

int sock_resolve(struct sock_addr *a, const char **why)
{
	if (a->family == AF_UNIX)
		return 0;
	struct addrinfo hints = { .ai_socktype = a->type }, *res, *ai;
	int rc = getaddrinfo(a->host, a->port, &hints, &res);
	if (rc != 0) {
		*why = rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);
		errno = rc == EAI_SYSTEM ? errno : ENOENT;
		return -1;
	}
	for (ai = res; ai && a->n < IT_SOCK_MAXADDR; ai = ai->ai_next) {
		memcpy(a->addrs[a->n], ai->ai_addr, ai->ai_addrlen);
		a->lens[a->n++] = ai->ai_addrlen;
	}
	a->family = res->ai_family;
	freeaddrinfo(res);
	return 0;
}

int sock_exit_for(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
	case ENETUNREACH:
	case EHOSTUNREACH:
		return IT_UNAVAILABLE;
	case ENOTSOCK:
	case EPROTOTYPE:
		return IT_DATAERR;
	case ETIMEDOUT:
		return IT_NO;
	default:
		return it_exit_for(err);
	}
}

/* Records on a UNIX connection come with the sender's credentials, so
 * that an empty one can be told from the end (which comes with none). */
static int passcred(int fd, const struct sock_addr *a)
{
	int on = 1;
	if (a->family != AF_UNIX || a->type != SOCK_SEQPACKET ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0)
		return 0;
	int err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Waits for a non-blocking connect(2) to finish: 0, or -1 with errno. */
static int connect_wait(int fd, int64_t deadline)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int n;
	while ((n = poll(&p, 1, it_left_ms(deadline))) < 0 && errno == EINTR)
		;
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0)
		return -1;
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	errno = err;
	return err ? -1 : 0;
}

static int connect_one(const struct sock_addr *a, int i, int64_t deadline,
		       bool busy_ok)
{
	const struct sockaddr *sa = (const struct sockaddr *)a->addrs[i];
	int fd = socket(sa->sa_family, a->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || passcred(fd, a) < 0)
		return -1;
	for (;;) {
		if (connect(fd, sa, a->lens[i]) == 0)
			break;
		/* A UNIX listener whose backlog is full says EAGAIN rather
		 * than letting poll(2) wait: try again a little later, unless
		 * the caller only asks whether someone listens. */
		if (errno == EAGAIN && sa->sa_family == AF_UNIX && !busy_ok &&
		    it_left_ns(deadline) != 0) {
			poll(NULL, 0, 5);
			continue;
		}
		if (errno == EINPROGRESS && connect_wait(fd, deadline) == 0)
			break;
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int sock_connect(const struct sock_addr *a, int64_t deadline, bool busy_ok)
{
	/* A path that is there but is no socket would be ECONNREFUSED,
	 * which says "stale": say what it is instead. */
	struct stat st;
	if (a->path && stat(a->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	int fd = -1, err = ECONNREFUSED;
	for (int i = 0; i < a->n && fd < 0; i++)
		if ((fd = connect_one(a, i, deadline, busy_ok)) < 0)
			err = errno;
	errno = err;
	return fd;
}

/* Something is at path: exits unless it is a stale socket of ours (or of
 * the owner we give ours), which is then removed. A symlink is never
 * followed. */
static void reclaim(const struct sock_addr *a, const struct bindopt *o,
		    struct stat *st)
{
	it_xlstat_file("bind", a->path, st, S_IFSOCK, true);
	if (st->st_uid != geteuid() && (o->uid == (uid_t)-1 || st->st_uid != o->uid))
		it_die(IT_NOPERM, "unable to bind %s: a socket of uid %ld, not "
		       "ours", a->path, (long)st->st_uid);
	/* A datagram connect asks whether a socket is bound there, at once:
	 * it makes no connection that a listener would take for its own,
	 * and does not wait on a full backlog. Refused: nobody (stale); a
	 * socket of another type, or a datagram one, is alive. */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		it_xfail(errno, "create", "a socket", NULL);
	int rc = connect(fd, (const struct sockaddr *)a->addrs[0], a->lens[0]);
	int err = errno;
	close(fd);
	if (rc == 0 || err == EPROTOTYPE)
		it_die(IT_CANTCREAT, "unable to bind %s: a listener is already "
		       "there", a->path);
	if (err != ECONNREFUSED)
		it_xfail(err, "probe", a->path, NULL);
	struct stat now;
	if (lstat(a->path, &now) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino && unlink(a->path) < 0 && errno != ENOENT)
		it_xfail(errno, "remove", a->path, NULL);
}

/* bind(2) at a's path under a umask that leaves exactly mode. */
static int bind_mode(int fd, const struct sock_addr *a, mode_t mode)
{
	mode_t old = umask(~mode & 0777);
	int rc = bind(fd, (const struct sockaddr *)a->addrs[0], a->lens[0]);
	int err = errno;
	umask(old);
	errno = err;
	return rc;
}

/* The file bind made, through a descriptor of its own: recorded for
 * sock_unbind, and given its owner, whatever is renamed meanwhile. A
 * file that is no socket of ours is something else that took the path. */
static int own_file(const struct sock_addr *a, const struct bindopt *o,
		    const char **verb)
{
	struct stat st;
	int pfd = open(a->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return errno;
	int err = 0;
	if (fstat(pfd, &st) < 0) {
		err = errno;
	} else if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		err = EEXIST;
	} else {
		bound_dev = st.st_dev;
		bound_ino = st.st_ino;
		bound = 1;
		if ((o->uid != (uid_t)-1 || o->gid != (gid_t)-1) &&
		    fchownat(pfd, "", o->uid, o->gid, AT_EMPTY_PATH) < 0)
			err = errno, *verb = "set the owner of";
	}
	close(pfd);
	return err;
}

static void bind_path(int fd, const struct sock_addr *a,
		      const struct bindopt *o)
{
	/* Recorded first, so that a signal after the bind removes it. */
	snprintf(bound_path, sizeof bound_path, "%s", a->path);
	const char *verb = "bind";
	int err = bind_mode(fd, a, o->mode) < 0 ? errno : 0;
	if (err == EADDRINUSE)
		it_die(IT_CANTCREAT, "unable to bind %s: something else appeared "
		       "there", a->path);
	if (!err)
		err = own_file(a, o, &verb);
	if (!err && a->type != SOCK_DGRAM && listen(fd, o->backlog) < 0)
		err = errno, verb = "listen on";
	if (err) {
		sock_unbind();
		if (err == EEXIST)
			it_die(IT_CANTCREAT, "unable to bind %s: something else "
			       "appeared there", a->path);
		it_xfail(err, verb, a->path, NULL);
	}
}

int sock_xbind(const struct sock_addr *a, const struct bindopt *o)
{
	const struct sockaddr *sa = (const struct sockaddr *)a->addrs[0];
	int fd = socket(sa->sa_family, a->type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		it_xfail(errno, "create a socket for", a->text, NULL);
	int on = 1;
	if (o->passcred && a->family == AF_UNIX && a->type == SOCK_DGRAM &&
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0)
		it_xfail(errno, "set up", a->text, NULL);
	if (passcred(fd, a) < 0)
		it_xfail(errno, "set up", a->text, NULL);
	if (a->path) {
		struct stat st;
		if (lstat(a->path, &st) == 0)
			reclaim(a, o, &st);
		else if (errno != ENOENT)
			it_xfail(errno, "bind", a->path, NULL);
		bind_path(fd, a, o);
		atexit(sock_unbind);
		return fd;
	}
	/* A TCP port in TIME_WAIT may be bound again at once; a port that
	 * listens never is. A UDP socket takes no SO_REUSEADDR: it would let
	 * another receiver, of any user, bind the same port and take our
	 * datagrams. */
	if (sa->sa_family != AF_UNIX && a->type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
		it_xfail(errno, "set up", a->text, NULL);
	if (bind(fd, sa, a->lens[0]) < 0) {
		if (errno == EADDRINUSE)
			it_die(IT_CANTCREAT, "unable to bind %s: a listener is "
			       "already there", a->text);
		it_xfail(errno, "bind", a->text, NULL);
	}
	if (a->type != SOCK_DGRAM && listen(fd, o->backlog) < 0)
		it_xfail(errno, "listen on", a->text, NULL);
	return fd;
}

void sock_unbind(void)
{
	struct stat st;
	if (!bound)
		return;
	bound = 0;
	if (lstat(bound_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == bound_dev && st.st_ino == bound_ino)
		unlink(bound_path);
}
