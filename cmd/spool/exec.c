/* take --exec: run CMD once per message, with the locked file on its
 * stdin, and remove it, put it back or move it to failed/ by how CMD
 * ended. */
#include "spool.h"

/* The attempt count a failed message carries in its maildir info part,
 * "NAME:1,N" (info "1," is maildir's experimental kind). */
static long attempts(const char *name, long tries)
{
	const char *info = strstr(name, ":1,");
	long n;
	/* Anyone who may drop a file may name it: a count that is no plain
	 * number below --tries counts as none. No take with these --tries
	 * wrote it (one that reaches --tries goes to failed/), and a file
	 * named "x:1,999" by hand must not go to failed/ at its first
	 * failure. */
	return info && !it_parse_long(info + 3, 0, tries - 1, &n) ? n : 0;
}

/* NAME without its info part, short enough that ":1,N" fits after it in
 * NAME_MAX bytes. A name cut short ends in a hash of all of it, so that
 * two long names alike up to the cut stay two names. */
static void base_name(const char *name, char *base)
{
	const size_t room = NAME_MAX - 16;
	size_t n = strcspn(name, ":");
	if (n <= room) {
		memcpy(base, name, n);
		base[n] = '\0';
		return;
	}
	uint64_t h = 14695981039346656037u;     /* 64-bit FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211u;
	snprintf(base, NAME_MAX + 1, "%.*s~%016llx", (int)(room - 17), name,
		 (unsigned long long)h);
}

/* CMD failed on a message: back to new/ with one more attempt counted in
 * its name, or to failed/ after --tries attempts or at once on exit 100
 * (fsq's permanent failure), named with the attempts made. */
static void cmd_failed(struct taker *t, const char *name, int status)
{
	/* base leaves room for ":1," and ten digits of a count. */
	char why[32], again[NAME_MAX + 32], base[NAME_MAX + 1];
	const char *cmd = t->a->exec[0];
	int shown = (int)strcspn(name, ":");
	if (WIFEXITED(status))
		snprintf(why, sizeof why, "exit %d", WEXITSTATUS(status));
	else
		snprintf(why, sizeof why, "signal %s", it_sig_name(WTERMSIG(status)));
	long n = attempts(name, t->a->tries) + 1;
	t->cmd_failed = true;
	base_name(name, base);
	snprintf(again, sizeof again, "%s:1,%ld", base, n);
	if (n < t->a->tries && !(WIFEXITED(status) && WEXITSTATUS(status) == 100)) {
		put_back(t, name, again);
		it_warn("%s failed on %.*s (%s): back in new/, attempt %ld of %ld",
			cmd, shown, name, why, n, t->a->tries);
		return;
	}
	if (move_unique(t->s->claim, name, failed_dir(t->s, true), again) < 0)
		it_die(IT_OSERR, "unable to move %s/claim/%s to %s/failed: %s",
		       t->s->path, name, t->s->path, strerror(errno));
	it_warn("%s failed on %.*s (%s): moved to %s/failed, after %ld attempt%s",
		cmd, shown, name, why, t->s->path, n, n == 1 ? "" : "s");
}

/* Whether standard output can take nothing more: closed (it_init left
 * it open read-only), /dev/full, or a file on a full file system. A CMD
 * that failed then failed because of where its output goes, and the
 * message is not at fault. */
static int stdout_broken(void)
{
	struct stat st;
	struct statvfs v;
	int fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return EBADF;
	if (fstat(STDOUT_FILENO, &st) < 0)
		return 0;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 7))
		return ENOSPC;
	if (S_ISREG(st.st_mode) && fstatvfs(STDOUT_FILENO, &v) == 0 &&
	    v.f_bavail == 0)
		return ENOSPC;
	return 0;
}

/* The child: CMD with the claimed descriptor on its stdin. A CMD that
 * cannot be run at all says why through gate, so that the message is not
 * blamed for it. */
static _Noreturn void exec_cmd(const struct taker *t, int fd, int gate,
			       const char *path, const char *name)
{
	int fl = fcntl(fd, F_GETFL);
	lseek(fd, 0, SEEK_SET);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (dup2(fd, STDIN_FILENO) >= 0 && !setenv("SPOOL_FILE", path, 1) &&
	    !setenv("SPOOL_NAME", name, 1) &&
	    !setenv("SPOOL_DIR", t->s->path, 1)) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGIO, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		umask(t->s->umask);
		execvp(t->a->exec[0], t->a->exec);
	}
	int err = errno;
	(void)!write(gate, &err, sizeof err);
	_exit(127);
}

/* Waits for CMD to end. A stop signal that comes meanwhile is passed on
 * to CMD, once, so that the wait ends on it too: a pidfd is polled where
 * the kernel has one, so that a signal just before the wait is not lost. */
static int wait_cmd(const struct taker *t, pid_t pid)
{
	int status, pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool passed = false;
	struct pollfd p = {pfd, POLLIN, 0};
	while (pfd >= 0 && !passed) {
		if (poll_stop(&t->stops, &t->oldmask, &p, 1, IT_FOREVER) >= 0)
			break;
		if (errno != EINTR)
			break;
		if (caught) {
			kill(pid, caught);
			passed = true;
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			it_xfail(errno, "wait for", t->a->exec[0], NULL);
		if (caught && !passed) {
			kill(pid, caught);
			passed = true;
		}
	}
	return status;
}

/* Ends the claim on a message that CMD had, once it is where it goes: a
 * process that CMD left behind with its stdin open holds the same open
 * file, and the lock with it, which would keep the message from every
 * taker for as long as that process lives. flock(2) locks belong to the
 * open file, and any descriptor of it may drop them. A taker that found
 * the message locked in new/ waits for a close there, which that process
 * may never make: one is made here, by a descriptor of our own, when
 * the message went back (wake). */
static void release(int fd, bool wake)
{
	char proc[64];
	flock(fd, LOCK_UN);
	if (!wake)
		return;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int again = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (again >= 0)
		close(again);
}

/* put_back for --exec, then release. */
static void cmd_back(const struct taker *t, int fd, const char *name)
{
	put_back(t, name, NULL);
	release(fd, true);
}

/* --exec: CMD runs with the message on its stdin (the claimed, locked
 * descriptor itself, so the claim outlives us while CMD runs). 0 removes
 * the message, once a pipe on stdout has been read. A CMD that cannot be
 * run, or fails once the reader of our stdout has gone, or whose output
 * that reader left unread, or that fails into a full or closed stdout,
 * failed because of that, not of the message: it goes back as it was and
 * the tool ends (as by SIGPIPE for a reader gone). */
void run_cmd(struct taker *t, int fd, const char *name)
{
	char path[PATH_MAX + NAME_MAX + 8];
	const char *cmd = t->a->exec[0];
	int gate[2], err = 0, status;
	snprintf(path, sizeof path, "%s/claim/%s", t->s->path, name);
	if (pipe2(gate, O_CLOEXEC) < 0)
		it_xfail(errno, "run", cmd, NULL);
	pid_t pid = fork();
	if (pid < 0)
		it_xfail(errno, "run", cmd, NULL);
	if (pid == 0)
		exec_cmd(t, fd, gate[1], path, name);
	close(gate[1]);
	ssize_t got;
	while ((got = read(gate[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(gate[0]);
	status = wait_cmd(t, pid);
	if (got == (ssize_t)sizeof err) {
		cmd_back(t, fd, name);
		it_xfail(err, "run", cmd, NULL);
	}
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	/* Stopped: CMD was told too, and a CMD that did not finish is not
	 * the message's failure. */
	if (caught && !ok) {
		cmd_back(t, fd, name);
		end_by(caught);
	}
	if (t->pipe && ((ok && it_drain(stopped) > 0) ||
			(!ok && it_drain_gone()))) {
		cmd_back(t, fd, name);
		end_by(SIGPIPE);
	}
	if (!ok && (err = stdout_broken())) {
		cmd_back(t, fd, name);
		it_die(IT_IOERR, "unable to write standard output: %s (%s failed "
		       "on %.*s, which went back to new/)", strerror(err), cmd,
		       (int)strcspn(name, ":"), name);
	}
	if (ok && sync_out(t) < 0) {
		err = errno;
		cmd_back(t, fd, name);
		it_die(IT_IOERR, "unable to sync standard output: %s (what %s "
		       "wrote for %.*s stays in it; the message went back to "
		       "new/)", strerror(err), cmd, (int)strcspn(name, ":"), name);
	}
	if (!ok)
		cmd_failed(t, name, status);
	else if (unlinkat(t->s->claim, name, 0) < 0 && errno != ENOENT)
		it_die(IT_OSERR, "unable to remove %s: %s", path, strerror(errno));
	release(fd, !ok);
	close(fd);
}
