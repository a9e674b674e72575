/* connect and listen: one stream connection made or accepted, then
 * both directions moved until each has ended (converse). */
#include "usock.h"

/* Both directions of a connection, until the peer ends its side and ours
 * is done; exits 0 only if every byte of standard input was sent. */
static _Noreturn void converse(const struct args *a, int sock)
{
	struct talk t = {.idle = a->timeout, .last = it_now_ns()};
	struct pump out, in;
	pthread_t tid;
	pump_init(&out, STDIN_FILENO, "standard input", sock, a->addr.text,
		  false, a->addr.type, &t);
	pump_init(&in, sock, a->addr.text, STDOUT_FILENO, "standard output",
		  true, a->addr.type, &t);
	/* Its names, kept for when our socket has none left. */
	out.tcp = a->addr.family != AF_UNIX;
	if (out.tcp)
		(void)tcp_peer_diag(sock, NULL);
	t.done = eventfd(0, EFD_CLOEXEC);
	if (t.done < 0)
		it_xfail(errno, "create", "an eventfd", NULL);
	errno = pthread_create(&tid, NULL, writer, &out);
	if (errno)
		it_xfail(errno, "start", "a thread", NULL);
	in.oob = a->cmd == CONNECT && a->addr.family == AF_UNIX &&
		 a->addr.type != SOCK_DGRAM;
	/* A read error on the socket (a reset) means the peer has gone:
	 * what the writer could not send is the better message. */
	int rc = pump_run(&in);
	if (rc < 0 && in.err_out) {
		pthread_mutex_lock(&exit_lock);
		stdout_fail(in.err);
	}
	wait_writer(&out, rc < 0, a->addr.family != AF_UNIX, in.refused);
	pthread_join(tid, NULL);
	if (out.err)
		unsent(&out, NULL);
	if (rc < 0 && in.err != ECONNRESET)
		it_xfail_status(IT_IOERR, in.err, "read", a->addr.text, NULL);
	/* A peer resets a connection it closes with our data unread. */
	int err = rc < 0 ? in.err : wait_taken(sock, a->addr.text, &t,
						       a->addr.family != AF_UNIX);
	if (err)
		it_die(IT_IOERR, "unable to write %s: %s (%" PRIu64 " bytes of "
		       "standard input sent, not all of them read)",
		       a->addr.text, strerror(err), out.moved);
	if (in.refused)
		it_die(IT_UNAVAILABLE, "unable to connect %s: the server refused "
		       "the connection (its standard error says why)",
		       a->addr.text);
	exit(IT_OK);
}

/* listen -k: one peer's data to standard output; we send nothing, so the
 * peer sees our end at once. A peer's error (a reset) is told, and the
 * next peer comes; one of standard output ends us. */
static void take_from(const struct args *a, int sock)
{
	struct talk t = {.idle = a->timeout, .last = it_now_ns(), .done = -1};
	struct pump in;
	shutdown(sock, SHUT_WR);
	pump_init(&in, sock, a->addr.text, STDOUT_FILENO, "standard output",
		  true, a->addr.type, &t);
	if (pump_run(&in) < 0) {
		if (in.err_out)
			stdout_fail(in.err);
		it_warn("unable to read %s: %s", a->addr.text, strerror(in.err));
	}
	pump_free(&in);
}

_Noreturn void connect_fail(const struct args *a, const char *verb,
			    int err)
{
	if (err == ENOTSOCK)
		it_die(IT_DATAERR, "unable to %s %s: not a socket", verb,
		       a->addr.text);
	if (err == ETIMEDOUT)
		it_die(IT_NO, "unable to %s %s: no answer in time", verb,
		       a->addr.text);
	it_xfail_status(sock_exit_for(err), err, verb, a->addr.text, NULL);
}

void resolve(struct args *a)
{
	const char *why;
	if (sock_resolve(&a->addr, &why) < 0)
		it_die(IT_UNAVAILABLE, "unable to resolve %s: %s", a->addr.text, why);
}

int cmd_connect(struct args *a)
{
	resolve(a);
	int fd = sock_connect(&a->addr, it_deadline(a->timeout), false);
	if (fd < 0)
		connect_fail(a, "connect", errno);
	struct peer p;
	peer_of(fd, &a->addr, &p);
	print_peer(a, &p);
	converse(a, fd);
}

/* SIGINT, SIGTERM and SIGHUP remove the socket file, then end us as
 * they would have. */
static void on_stop(int sig)
{
	sock_unbind();
	signal(sig, SIG_DFL);
	raise(sig);
}

int xbind(struct args *a)
{
	resolve(a);
	a->bind.backlog = SOMAXCONN;
	int fd = sock_xbind(&a->addr, &a->bind);
	if (strcmp(a->addr.port, "0") != 0) {
		it_xready(&a->ready_fd);
		return fd;
	}
	/* Port 0: the readiness line says which port the kernel chose. */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char port[16], line[20];
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof port,
			NI_NUMERICSERV) != 0)
		it_xfail(errno, "get the port of", a->addr.text, NULL);
	/* From now on, messages name the port chosen, not 0. */
	static char text[512];
	const char *colon = strrchr(a->addr.text, ':');
	if (colon && strcmp(colon, ":0") == 0) {
		snprintf(text, sizeof text, "%.*s:%s",
			 (int)(colon - a->addr.text), a->addr.text, port);
		a->addr.text = text;
	}
	snprintf(line, sizeof line, "%s\n", port);
	if (it_write_full(a->ready_fd, line, strlen(line)) < 0)
		it_xfail(errno, "write", "the readiness descriptor", NULL);
	close(a->ready_fd);
	a->ready_fd = -1;
	return fd;
}

/* The next allowed peer; --timeout bounds the wait. -1 if a signal came
 * on sfd (-1 for none) first. */
int accept_peer(const struct args *a, int lfd, int sfd, struct peer *p)
{
	int64_t deadline = it_deadline(a->timeout);
	for (;;) {
		struct pollfd pf[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int n = poll(pf, sfd < 0 ? 1 : 2, it_left_ms(deadline));
		if (n > 0 && pf[1].revents & POLLIN)
			return -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail(errno, "accept on", a->addr.text, NULL);
		if (n == 0)
			it_die(IT_NO, "unable to accept on %s: nobody came in time",
			       a->addr.text);
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED ||
			       errno == EAGAIN))
			continue;
		if (fd < 0)
			it_xfail(errno, "accept on", a->addr.text, NULL);
		peer_of(fd, &a->addr, p);
		if (allowed(a, p))
			return fd;
		refused(a, p);
		refuse(a, fd);
	}
}

int cmd_listen(struct args *a)
{
	it_catch_stops(on_stop);
	int lfd = xbind(a);
	int fl = fcntl(lfd, F_GETFL);
	fcntl(lfd, F_SETFL, fl | O_NONBLOCK);
	do {
		struct peer p;
		int fd = accept_peer(a, lfd, -1, &p);
		print_peer(a, &p);
		if (!(a->used & O_KEEP)) {
			close(lfd);
			sock_unbind();
			converse(a, fd);
		}
		take_from(a, fd);
		close(fd);
	} while (a->used & O_KEEP);
	return IT_OK;
}
