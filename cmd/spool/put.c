/* put: each message written in tmp/ and renamed into new/ whole, under a
 * maildir-unique name, so that no reader ever sees part of one and none
 * replaces another. */
#include "spool.h"

/* A maildir-unique name: time.MusecPpidQcount.host, the host's / and :
 * written \057 and \072 as maildir asks. Each name of a process is later
 * than the one before it, even if the clock stands still or steps back, so
 * that a putter's messages are taken in its order. */
static void new_name(char *buf, size_t size)
{
	static char host[112];
	static long long last_sec;
	static long last_usec;
	static unsigned long count;
	static long pid;
	struct timespec ts;
	if (!pid)
		pid = (long)getpid();
	if (!host[0]) {
		char raw[HOST_NAME_MAX + 1] = "localhost";
		gethostname(raw, sizeof raw - 1);
		size_t j = 0;
		for (const char *p = raw; *p && j < sizeof host - 5; p++) {
			if (*p == '/' || *p == ':')
				j += (size_t)sprintf(host + j, "\\%03o", *p);
			else
				host[j++] = *p;
		}
		host[j] = '\0';
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	long long sec = ts.tv_sec;
	long usec = ts.tv_nsec / 1000;
	if (sec < last_sec || (sec == last_sec && usec <= last_usec)) {
		sec = last_sec;
		usec = last_usec + 1;
		if (usec == 1000000)
			sec++, usec = 0;
	}
	last_sec = sec;
	last_usec = usec;
	if (snprintf(buf, size, "%lld.M%06ldP%ldQ%lu.%s", sec, usec,
		     pid, ++count, host) >= (int)size)
		buf[size - 1] = '\0';
}

/* Write errors that mean "no room" are the contract's I/O error. */
static _Noreturn void put_fail(const struct spool *s, int err)
{
	int status = err == ENOSPC || err == EDQUOT || err == EIO ||
		     err == EFBIG ? IT_IOERR : it_exit_for(err);
	char what[PATH_MAX + 16], hint[64];
	snprintf(what, sizeof what, "a message in %s", s->path);
	snprintf(hint, sizeof hint, "%ld put before it", s->put);
	it_xfail_status(status, err, "put", what, s->put ? hint : NULL);
}

/* Writes and syncs one message in fd: 0, or -1 with errno. */
static int write_sync(int fd, const char *msg, size_t len, bool sync)
{
	int rc = it_write_full(fd, msg, len);
	if (rc == 0 && sync)
		rc = fsync(fd);
	return rc;
}

/* put --wait: a read-only descriptor of tmp/NAME, opened before the file
 * is in new/ where a taker could remove it. A reader does not keep a take
 * from it (only a writer does, see being_written). */
static int keep_open(struct spool *s, const char *name)
{
	if (!s->keep)
		return 0;
	s->kept = openat(s->tmp, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			 O_CLOEXEC);
	return s->kept < 0 ? -1 : 0;
}

/* Renames tmp/NAME into new/, never replacing a file there: if someone
 * else's file has the name in new/, ours goes in under another. The file
 * is closed first: one linked into new/ while we still had it open for
 * writing, a waiting take would leave until its writer closed it, and
 * that close would be told to tmp/, not new/. On failure, tmp/NAME is
 * removed and put fails. */
static void into_new(const struct spool *s, char *name)
{
	int rc;
	while ((rc = move(s->tmp, name, s->new, name)) < 0 && errno == EEXIST) {
		char other[NAME_MAX + 1];
		new_name(other, sizeof other);
		if (renameat(s->tmp, name, s->tmp, other) < 0)
			break;
		memcpy(name, other, NAME_MAX + 1);
	}
	if (rc < 0) {
		int err = errno;
		unlinkat(s->tmp, name, 0);
		put_fail(s, err);
	}
}

/* One message, written and synced in an unnamed file in tmp/ (O_TMPFILE),
 * then linked into tmp/ under a fresh name (link(2) never replaces), closed
 * and renamed into new/, then new/ synced. It is never visible before it
 * is whole, and a crash while writing leaves nothing behind. Returns false
 * where the file system has no O_TMPFILE. */
static bool put_tmpfile(struct spool *s, const struct args *a,
			const char *msg, size_t len, char *name, size_t size)
{
	static bool unsupported, no_empty_path;
	char proc[64];
	bool sync = !(a->used & O_NOSYNC);
	if (unsupported)
		return false;
	int fd = openat(s->tmp, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		unsupported = true;
		return false;
	}
	if (fd < 0 || write_sync(fd, msg, len, sync) < 0)
		put_fail(s, errno);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int rc;
	do {
		new_name(name, size);
		rc = -1;
		/* The file itself by its descriptor, where the kernel lets us
		 * (Linux 6.10 on, or CAP_DAC_READ_SEARCH): no walk through
		 * /proc, a sixth of a put on tmpfs. Else by /proc from then on. */
		if (!no_empty_path &&
		    (rc = linkat(fd, "", s->tmp, name, AT_EMPTY_PATH)) < 0 &&
		    (errno == ENOENT || errno == EPERM || errno == EINVAL))
			no_empty_path = true;
		if (no_empty_path)
			rc = linkat(AT_FDCWD, proc, s->tmp, name, AT_SYMLINK_FOLLOW);
	} while (rc < 0 && errno == EEXIST);
	int err = rc < 0 ? errno : 0;
	if (err == ENOENT && access("/proc/self/fd", F_OK) < 0) {
		/* No /proc to link the file by: the rename way, then. */
		close(fd);
		unsupported = true;
		return false;
	}
	if (!err && keep_open(s, name) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (err) {
		if (rc == 0)
			unlinkat(s->tmp, name, 0);
		put_fail(s, err);
	}
	into_new(s, name);
	return true;
}

/* Between the link into tmp/ and the rename into new/, a whole message
 * has a name in tmp/: a stop signal waits until it is in new/, so that
 * none is left behind there. */
static bool put_tmpfile_whole(struct spool *s, const struct args *a,
			      const char *msg, size_t len, char *name,
			      size_t size)
{
	sigset_t stops, old;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &old);
	bool done = put_tmpfile(s, a, msg, len, name, size);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return done;
}

/* The same the maildir way: a named file in tmp/, renamed into new/. On
 * any failure the file in tmp/ is removed, so nothing is left half-visible. */
static void put_rename(struct spool *s, const struct args *a,
		       const char *msg, size_t len, char *name, size_t size)
{
	int fd;
	do {
		new_name(name, size);
		fd = openat(s->tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0)
		put_fail(s, errno);
	int rc = write_sync(fd, msg, len, !(a->used & O_NOSYNC));
	int err = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, err = errno;
	if (rc == 0 && keep_open(s, name) < 0)
		rc = -1, err = errno;
	if (rc < 0) {
		unlinkat(s->tmp, name, 0);
		put_fail(s, err);
	}
	into_new(s, name);
}

/* Each name is printed as soon as its message is in new/, so that a
 * caller learns what was put even if put then fails. */
static void put_one(struct spool *s, const struct args *a, const char *msg,
		    size_t len)
{
	char name[NAME_MAX + 1], hint[64];
	if (!put_tmpfile_whole(s, a, msg, len, name, sizeof name))
		put_rename(s, a, msg, len, name, sizeof name);
	if (!(a->used & O_NOSYNC) && fsync(s->new) < 0)
		put_fail(s, errno);
	s->put++;
	if (a->used & O_PRINT && (printf("%s\n", name) < 0 || fflush(stdout))) {
		int err = errno;
		snprintf(hint, sizeof hint, "%ld message%s put", s->put,
			 s->put == 1 ? "" : "s");
		/* A reader gone is the end as by SIGPIPE, as for any filter,
		 * once the count is said. */
		if (err == EPIPE) {
			it_warn("unable to write standard output: %s (%s)",
				strerror(err), hint);
			it_reported();
			it_exit_signal(SIGPIPE);
		}
		it_xfail_status(IT_IOERR, err, "write", "standard output", hint);
	}
}

static _Noreturn void too_large(const struct spool *s, const char *verb,
				uint64_t max)
{
	it_die(IT_DATAERR, "unable to %s %s: a message is longer than "
	       "--max-size (%llu bytes)", verb, s->path, (unsigned long long)max);
}

/* put_one, and with --wait the message watched; with WAIT_WINDOW of them
 * pending, the oldest is waited for first. */
static void put_waiting(struct spool *s, const struct args *a,
			struct waiter *w, const char *msg, size_t len)
{
	put_one(s, a, msg, len);
	if (!w)
		return;
	wait_add(w, s, s->put);
	if (w->n == WAIT_WINDOW && !wait_until(w, s, WAIT_WINDOW - 1))
		wait_short(w, s, 0);
}

/* put --wait's end: every message taken and removed is 0, any that went
 * to failed/ is 65 once all are done. */
static int put_end(struct waiter *w, struct spool *s)
{
	if (!w)
		return IT_OK;
	if (!wait_until(w, s, 0))
		wait_short(w, s, 0);
	if (w->failed)
		it_die(IT_DATAERR, "unable to deliver to %s: %ld of %ld message%s "
		       "went to %s/failed", s->path, w->failed, s->put,
		       s->put == 1 ? "" : "s", s->base);
	return IT_OK;
}

int put(const struct args *a, struct spool *s)
{
	if (a->used & O_PRINT)
		signal(SIGPIPE, SIG_IGN);
	/* Operands are all checked before any is put. Under --lines (the
	 * default) a newline would make a message that no take of the same
	 * framing delivers: give --whole or --netstring to put one. */
	for (int i = 0; i < a->nmsgs; i++) {
		if (strlen(a->msgs[i]) > a->max_size)
			too_large(s, "put in", a->max_size);
		if (a->framing == IT_FRAME_LINE && strchr(a->msgs[i], '\n'))
			it_die(IT_DATAERR, "unable to put in %s: message %d holds a "
			       "newline, which lines cannot frame: nothing put (use "
			       "--whole or --netstring)", s->path, i + 1);
	}
	static struct waiter wait;
	struct waiter *w = NULL;
	if (a->used & O_WAIT) {
		w = &wait;
		wait_init(w, s, a->timeout);
		s->keep = true;
	}
	for (int i = 0; i < a->nmsgs; i++)
		put_waiting(s, a, w, a->msgs[i], strlen(a->msgs[i]));
	if (a->nmsgs > 0)
		return put_end(w, s);
	struct it_reader r;
	const char *msg;
	size_t len;
	int rc;
	it_reader_init(&r, STDIN_FILENO, a->framing);
	if (w)
		w->r = &r;
	while ((rc = it_read_msg(&r, a->max_size, &msg, &len)) > 0)
		put_waiting(s, a, w, msg, len);
	if (rc < 0) {
		int err = errno;
		it_reader_giveback(&r);
		if (err == EMSGSIZE)
			too_large(s, "put in", a->max_size);
		if (err == EBADMSG)
			it_die(IT_DATAERR, "unable to read standard input: a badly "
			       "framed message (%s)", a->framing ==
			       IT_FRAME_NETSTRING ? "not a netstring" : "truncated");
		it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
	}
	it_reader_free(&r);
	if (w)
		w->r = NULL;
	return put_end(w, s);
}
