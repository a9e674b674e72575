/* put --wait: a synchronous send. The messages put are followed, by a
 * descriptor of each file, until a taker removed them or moved them to
 * failed/. Separate from put.c because it is all waiting and nothing of
 * the writing. */
#include "spool.h"

void wait_init(struct waiter *w, const struct spool *s, int64_t timeout)
{
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0)
		it_xfail(errno, "watch", s->path, NULL);
	w->n = 0;
	w->failed = 0;
	w->r = NULL;
	w->deadline = it_deadline(timeout);
	sigemptyset(&w->stops);
	sigaddset(&w->stops, SIGINT);
	sigaddset(&w->stops, SIGTERM);
	sigaddset(&w->stops, SIGHUP);
}

/* Where the file of fd is now; name gets its name there. A file that is
 * in DIR/failed by that name, the same inode, went there. */
static enum fate fate_of(struct spool *s, int fd, char *name, size_t size)
{
	struct stat st, there;
	char proc[64], path[PATH_MAX];
	if (fstat(fd, &st) < 0)
		it_xfail(errno, "watch a message in", s->path, NULL);
	if (st.st_nlink == 0)
		return REMOVED;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t len = readlink(proc, path, sizeof path - 1);
	if (len <= 0)
		return PENDING;
	path[len] = '\0';
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	n = n < size ? n : size - 1;
	memcpy(name, base, n);
	name[n] = '\0';
	int failed = failed_dir(s, false);
	return failed >= 0 && fstatat(failed, base, &there,
				      AT_SYMLINK_NOFOLLOW) == 0 &&
	       there.st_ino == st.st_ino && there.st_dev == st.st_dev ?
	       FAILED : PENDING;
}

/* Watches the message just put (s->kept), the put's number seq. */
void wait_add(struct waiter *w, struct spool *s, long seq)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", s->kept);
	int wd = inotify_add_watch(w->ifd, proc, IN_ATTRIB | IN_MOVE_SELF);
	if (wd < 0)
		it_xfail(errno, "watch a message in", s->path, NULL);
	w->fd[w->n] = s->kept;
	w->wd[w->n] = wd;
	w->seq[w->n++] = seq;
	s->kept = -1;
}

/* Drops the messages done with, saying which went to failed/. */
static void wait_sweep(struct waiter *w, struct spool *s)
{
	char name[NAME_MAX + 1] = "", q[3 * NAME_MAX + 8];
	int j = 0;
	for (int i = 0; i < w->n; i++) {
		enum fate f = fate_of(s, w->fd[i], name, sizeof name);
		if (f == PENDING) {
			w->fd[j] = w->fd[i];
			w->wd[j] = w->wd[i];
			w->seq[j++] = w->seq[i];
			continue;
		}
		if (f == FAILED) {
			w->failed++;
			it_warn("message %ld went to %s/failed as %s: its taker "
				"failed on it", w->seq[i], s->base,
				it_quote(name, q, sizeof q));
			inotify_rm_watch(w->ifd, w->wd[i]);
		}
		close(w->fd[i]);
	}
	w->n = j;
}

/* The end of a put --wait that did not see every message done: how many
 * are still in the spool, and why. */
_Noreturn void wait_short(const struct waiter *w, const struct spool *s,
			  int sig)
{
	char why[32] = "timed out";
	if (w->r)
		it_reader_giveback(w->r);
	if (sig)
		snprintf(why, sizeof why, "stopped by SIG%s", it_sig_name(sig));
	it_warn("unable to wait on %s: %s with %d of %ld message%s put not "
		"taken yet; they stay in the spool", s->path, why, w->n, s->put,
		s->put == 1 ? "" : "s");
	it_reported();
	if (sig)
		it_exit_signal(sig);
	exit(IT_NO);
}

/* Waits until at most keep messages are pending, or the deadline (false).
 * SIGINT, SIGTERM and SIGHUP end put, saying what is left. */
bool wait_until(struct waiter *w, struct spool *s, int keep)
{
	struct sigaction sa = {.sa_handler = on_stop}, old[3];
	const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	char events[4096];
	sigemptyset(&sa.sa_mask);
	sigprocmask(SIG_SETMASK, NULL, &w->old);
	for (int i = 0; i < 3; i++) {
		sigdelset(&w->old, sigs[i]);
		if (sigaction(sigs[i], NULL, &old[i]) == 0 &&
		    old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	bool in_time = true;
	for (;;) {
		wait_sweep(w, s);
		if (w->n <= keep)
			break;
		struct pollfd p = {w->ifd, POLLIN, 0};
		int rc = poll_stop(&w->stops, &w->old, &p, 1, w->deadline);
		if (rc < 0 && errno == EINTR && caught)
			wait_short(w, s, caught);
		if (rc < 0 && errno != EINTR)
			it_xfail(errno, "wait on", s->path, NULL);
		if (rc == 0) {
			wait_sweep(w, s);
			in_time = w->n <= keep;
			break;
		}
		while (read(w->ifd, events, sizeof events) > 0)
			continue;
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return in_time;
}
