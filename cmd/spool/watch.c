/* take's wait for messages: inotify on new/ and claim/, never a poll;
 * the events turned into names to try, and a rescan when the kernel's
 * queue overflowed. */
#include "spool.h"

/* Whether some process holds a lock on the file st describes, from
 * /proc/locks: asking that way opens no file, where a probe with flock(2)
 * would, and its close would be one more event for every follower. */
bool lock_held(const struct stat *st)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	bool held = false;
	if (!f)
		return false;
	while (!held && fgets(line, sizeof line, f)) {
		unsigned maj, min;
		unsigned long long ino;
		const char *p = strstr(line, "FLOCK");
		held = p && sscanf(p, "FLOCK %*s %*s %*d %x:%x:%llu", &maj, &min,
				   &ino) == 3 && maj == major(st->st_dev) &&
		       min == minor(st->st_dev) && ino == st->st_ino;
	}
	fclose(f);
	return held;
}

/* A file in claim/ was closed: if that was the last descriptor of a
 * taker that died, the claim is free, and goes back to new/ now. */
static void closed_in_claim(struct taker *t, const char *name)
{
	struct stat st;
	if (fstatat(t->s->claim, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || lock_held(&st))
		return;
	recover_one(t->s, name, NULL);
}

/* A file in new/ that another process had locked was closed: tried again
 * if the lock is gone. The close may be our own try's, and while the lock
 * is held the name waits for the next close, so that a taker sleeps until
 * the holder lets go, and does not spin on its own closes. */
static void closed_in_new(struct taker *t, const char *name)
{
	struct stat st;
	for (size_t i = 0; i < t->busy.n; i++) {
		if (strcmp(t->busy.v[i].name, name) != 0)
			continue;
		if (fstatat(t->s->new, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    lock_held(&st))
			return;
		free(t->busy.v[i].name);
		t->busy.v[i] = t->busy.v[--t->busy.n];
		list_add(&t->list, name);
		return;
	}
}

/* Reads what inotify has: names of files moved in or closed by a writer
 * into the list, an overflow as the need to scan again. Returns false if
 * there was nothing to read. */
static bool read_events(struct taker *t)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(t->ifd, buf, sizeof buf);
	if (n <= 0)
		return false;
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const void *)p;
		if (ev->mask & IN_Q_OVERFLOW)
			t->rescan = true;
		if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
			it_die(IT_NOINPUT, "unable to take from %s: %s was removed "
			       "or moved away", t->s->path, ev->wd == t->wd_claim ?
			       "claim/" : ev->wd == t->wd_dir ? "it" : "new/");
		if (ev->wd == t->wd_dir && ev->len &&
		    (strcmp(ev->name, "new") == 0 || strcmp(ev->name, "claim") == 0))
			it_die(IT_NOINPUT, "unable to take from %s: %s/ was removed "
			       "or moved away", t->s->path, ev->name);
		if (!ev->len || !name_ok(ev->name) || ev->wd == t->wd_dir)
			;
		else if (ev->wd == t->wd_claim)
			closed_in_claim(t, ev->name);
		else if (ev->mask & IN_CLOSE_NOWRITE)
			closed_in_new(t, ev->name);
		else
			list_add(&t->list, ev->name);
		p += sizeof *ev + ev->len;
	}
	return true;
}

/* Refills the list: by a scan of new/ at first, after an overflow and
 * without inotify (--nowait), else from the names inotify gave. */
void refill(struct taker *t)
{
	list_clear(&t->list);
	if (t->ifd >= 0)
		while (read_events(t))
			;
	if (t->rescan || t->ifd < 0) {
		/* The events read are kept: a scan may come just before a
		 * file it would miss, but never before its event. */
		t->rescan = false;
		recover(t->s);
		each_name(t->s, t->s->new, "new", add_name, &t->list);
	}
	list_sort(&t->list);
}

/* Waits for an event, the deadline or a stop signal; false at the
 * deadline. */
bool wait_event(struct taker *t, int64_t deadline)
{
	struct pollfd p[2] = {{t->ifd, POLLIN, 0}, {STDOUT_FILENO, 0, 0}};
	for (;;) {
		int n = poll_stop(&t->stops, &t->oldmask, p, t->pipe ? 2 : 1,
				   deadline);
		if (n < 0 && errno == EINTR && caught)
			end_by(caught);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail(errno, "wait on", t->s->path, NULL);
		if (n == 0)
			return false;
		if (p[1].revents & POLLERR)
			end_by(SIGPIPE);
		if (p[0].revents & POLLIN)
			return true;
	}
}

/* Watches new/ for messages (linked or moved in, and files closed by
 * their writer or by another taker that held them), and claim/ for claims
 * closed (a taker that dies closes its claim too): the directories checked
 * and opened, through /proc/self/fd, not whatever their paths name now. */
void setup_watch(struct taker *t)
{
	char proc[64];
	const uint32_t gone = IN_ONLYDIR | IN_DELETE_SELF | IN_MOVE_SELF;
	t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ifd < 0)
		it_xfail(errno, "watch", t->s->path, NULL);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->s->new);
	if (inotify_add_watch(t->ifd, proc, IN_CREATE | IN_MOVED_TO | IN_CLOSE |
			      gone) < 0)
		goto fail;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->s->claim);
	t->wd_claim = inotify_add_watch(t->ifd, proc, IN_CLOSE | gone);
	if (t->wd_claim < 0)
		goto fail;
	/* Removed, new/ and claim/ would tell only once we closed them:
	 * DIR tells at once. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->s->dfd);
	t->wd_dir = inotify_add_watch(t->ifd, proc, IN_ONLYDIR | IN_DELETE |
				      IN_MOVED_FROM);
	if (t->wd_dir >= 0)
		return;
fail:
	it_xfail(errno, "watch", t->s->path,
		 errno == ENOSPC ? "raise fs.inotify.max_user_watches" : NULL);
}

/* take -n without --follow or --ready-fd: the watch is set up only once
 * there is nothing (more) to take, then new/ is scanned again, so that
 * nothing put from then on is missed. A new/ or claim/ removed or moved
 * away before the watch, which would never tell, is the same exit 66 as
 * one the watch sees go. */
void watch_late(struct taker *t)
{
	const int fds[] = {t->s->new, t->s->claim};
	const char *const names[] = {"new", "claim"};
	setup_watch(t);
	for (int i = 0; i < 2; i++) {
		struct stat here, there;
		if (fstat(fds[i], &here) < 0 ||
		    fstatat(t->s->dfd, names[i], &there, AT_SYMLINK_NOFOLLOW) < 0 ||
		    here.st_dev != there.st_dev || here.st_ino != there.st_ino)
			it_die(IT_NOINPUT, "unable to take from %s: %s/ was removed "
			       "or moved away", t->s->path, names[i]);
	}
	t->rescan = true;
	refill(t);
}
