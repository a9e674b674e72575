/* serve: accept connections and run a command per connection, with
 * the UCSPI environment, --max and --max-per-uid, each command in a
 * process group of its own, and the three stop signals passed on. */
#include "usock.h"

extern char **environ;

/* One command: its process group, led by the process we started; kept
 * after that one has ended while the group lives (what it started in the
 * background holds the connection still). */
struct child {
	pid_t pid;
	uid_t uid;
	bool reaped;
};

struct server {
	struct args *a;
	struct child *kids;
	int nkids;
	int sfd, lfd;
	bool stopping;
	int stops;                 /* stop signals received */
	posix_spawnattr_t attr;
};

/* The environment of one command: ours without the UCSPI names, then
 * the UCSPI names of this connection. */
static char **child_env(const struct server *s, const struct peer *p,
			char vars[][96])
{
	/* Every name of the UCSPI families that tcpserver, s6-ipcserver and
	 * ucspi-unix set: one we do not set must not pass through forged. */
	static const char *const ucspi[] = {"PROTO=", "TCPREMOTE", "TCPLOCAL",
		"TCP6REMOTE", "TCP6LOCAL", "UNIXREMOTE", "UNIXLOCAL",
		"IPCREMOTE", "IPCLOCAL"};
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **env = malloc((n + 6) * sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool ours = false;
		for (size_t u = 0; u < sizeof ucspi / sizeof ucspi[0]; u++)
			ours |= strncmp(environ[i], ucspi[u], strlen(ucspi[u])) == 0;
		if (!ours)
			env[k++] = environ[i];
	}
	if (s->a->addr.family == AF_UNIX) {
		snprintf(vars[0], sizeof vars[0], "PROTO=UNIX");
		snprintf(vars[1], sizeof vars[1], "UNIXREMOTEEUID=%lu",
			 (unsigned long)p->uc.uid);
		snprintf(vars[2], sizeof vars[2], "UNIXREMOTEEGID=%lu",
			 (unsigned long)p->uc.gid);
		snprintf(vars[3], sizeof vars[3], "UNIXREMOTEPID=%ld",
			 (long)p->uc.pid);
		vars[4][0] = '\0';
	} else {
		snprintf(vars[0], sizeof vars[0], "PROTO=TCP");
		snprintf(vars[1], sizeof vars[1], "TCPREMOTEIP=%s", p->ip);
		snprintf(vars[2], sizeof vars[2], "TCPREMOTEPORT=%s", p->port);
		snprintf(vars[3], sizeof vars[3], "TCPLOCALIP=%s", p->lip);
		snprintf(vars[4], sizeof vars[4], "TCPLOCALPORT=%s", p->lport);
	}
	for (int i = 0; i < 5; i++)
		if (vars[i][0])
			env[k++] = vars[i];
	env[k] = NULL;
	return env;
}

static int kids_of(const struct server *s, uid_t uid)
{
	int n = 0;
	for (int i = 0; i < s->nkids; i++)
		n += s->kids[i].uid == uid;
	return n;
}

/* Runs the command for one connection, the socket its standard input
 * and output: false if refused (--max-per-uid) or it could not run. The
 * connection is ours to close either way. */
static bool spawn(struct server *s, int fd, const struct peer *p)
{
	struct args *a = s->a;
	uid_t uid = p->cred ? p->uc.uid : 0;
	if (a->max_per_uid && p->cred && kids_of(s, uid) >= a->max_per_uid) {
		it_warn("refused a peer of uid %lu on %s: --max-per-uid %ld "
			"reached", (unsigned long)uid, a->addr.text,
			a->max_per_uid);
		return false;
	}
	char vars[5][96];
	char **env = child_env(s, p, vars);
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err = env ? posix_spawn_file_actions_init(&fa) : ENOMEM;
	if (!err) {
		posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
		posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
		err = posix_spawnp(&pid, a->rest[0], &fa, &s->attr, a->rest, env);
		posix_spawn_file_actions_destroy(&fa);
	}
	/* Its own process group, set in the child before the exec
	 * (POSIX_SPAWN_SETPGROUP) and here too, so that it is set before
	 * we may signal it whatever the order. */
	if (!err)
		(void)setpgid(pid, pid);
	free(env);
	if (err) {
		it_warn("unable to run %s: %s", a->rest[0], strerror(err));
		return false;
	}
	s->kids[s->nkids++] = (struct child){pid, uid, false};
	return true;
}

/* What has ended is reaped: our commands, and what they started, which
 * comes to us when its parent ends (PR_SET_CHILD_SUBREAPER). A command
 * is done once its whole process group is. */
static void reap(struct server *s)
{
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (int i = 0; i < s->nkids; i++)
			if (s->kids[i].pid == pid)
				s->kids[i].reaped = true;
	for (int i = 0; i < s->nkids; i++)
		if (s->kids[i].reaped && kill(-s->kids[i].pid, 0) < 0 &&
		    errno == ESRCH)
			s->kids[i--] = s->kids[--s->nkids];
}

/* Stops accepting: the socket goes, so that new clients are refused at
 * once; the running commands finish, or get SIGTERM with --kill-children
 * (and at a second stop signal), and SIGKILL at a third, so that a
 * command that ignores SIGTERM cannot keep us. */
static void stop(struct server *s)
{
	if (!s->stopping) {
		close(s->lfd);
		sock_unbind();
	}
	int sig = s->stops >= 2 ? SIGKILL : SIGTERM;
	if (s->stops > 0 || s->a->used & O_KILL)
		for (int i = 0; i < s->nkids; i++)
			kill(-s->kids[i].pid, sig);
	s->stopping = true;
	s->stops++;
}

static void server_init(struct server *s, struct args *a, sigset_t *set)
{
	sigset_t none;
	s->a = a;
	s->nkids = 0;
	s->stopping = false;
	s->stops = 0;
	s->kids = calloc((size_t)a->max, sizeof *s->kids);
	if (!s->kids)
		it_xfail(errno, "allocate", "the table of commands", NULL);
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigprocmask(SIG_BLOCK, set, NULL);
	s->sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (s->sfd < 0)
		it_xfail(errno, "set up", "a signalfd", NULL);
	/* The commands start with no signal blocked and SIGPIPE as usual. */
	sigemptyset(&none);
	sigaddset(&none, SIGPIPE);
	posix_spawnattr_init(&s->attr);
	posix_spawnattr_setsigdefault(&s->attr, &none);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&s->attr, &none);
	posix_spawnattr_setpgroup(&s->attr, 0);
	posix_spawnattr_setflags(&s->attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	/* What a command leaves running when it ends is ours to reap. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int cmd_serve(struct args *a)
{
	struct server s;
	sigset_t set;
	server_init(&s, a, &set);
	s.lfd = xbind(a);
	int fl = fcntl(s.lfd, F_GETFL);
	fcntl(s.lfd, F_SETFL, fl | O_NONBLOCK);
	while (!s.stopping || s.nkids > 0) {
		struct pollfd pf[2] = {{s.sfd, POLLIN, 0}, {s.lfd, POLLIN, 0}};
		nfds_t n = s.stopping || s.nkids >= a->max ? 1 : 2;
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			it_xfail(errno, "wait on", a->addr.text, NULL);
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(s.sfd, &si, sizeof si) == sizeof si &&
			    si.ssi_signo != SIGCHLD)
				stop(&s);
			reap(&s);
			continue;
		}
		if (n < 2 || !(pf[1].revents & POLLIN))
			continue;
		int fd = accept4(s.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == EINTR ||
			       errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			it_warn("unable to accept on %s: %s", a->addr.text,
				strerror(errno));
			poll(NULL, 0, 100);
			continue;
		}
		if (fd < 0)
			it_xfail(errno, "accept on", a->addr.text, NULL);
		struct peer p;
		peer_of(fd, &a->addr, &p);
		if (!allowed(a, &p)) {
			refused(a, &p);
			refuse(a, fd);
			continue;
		}
		print_peer(a, &p);
		if (spawn(&s, fd, &p))
			close(fd);
		else
			refuse(a, fd);
	}
	posix_spawnattr_destroy(&s.attr);
	free(s.kids);
	return IT_OK;
}
