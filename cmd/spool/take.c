/* take: claim the oldest message by renaming it into claim/ under a lock,
 * write it out, and remove it only once its output took it, so that each
 * message is taken exactly once; claims of dead takers go back to new/. */
#include "spool.h"

/* Returns a claimed message to new/, under its name or newname. */
void put_back(const struct taker *t, const char *name,
	      const char *newname)
{
	if (move_unique(t->s->claim, name, t->s->new,
			newname ? newname : name) == 0)
		return;
	/* CMD may have moved or removed its SPOOL_FILE: nothing to return. */
	if (errno == ENOENT)
		it_warn("%s/claim/%s went away before it could go back to new/",
			t->s->path, name);
	else
		it_die(IT_OSERR, "unable to put %s/claim/%s back in new/: %s",
		       t->s->path, name, strerror(errno));
}

static bool warned(const struct taker *t, const char *name)
{
	for (size_t i = 0; i < t->warned.n; i++)
		if (strcmp(t->warned.v[i].name, name) == 0)
			return true;
	return false;
}

/* Says once per name, however often it is met, that new/NAME is no
 * message this taker takes, and why. Returns -2, claim's "skipped". */
static int skip(struct taker *t, const char *name, const char *why)
{
	if (warned(t, name))
		return -2;
	list_add(&t->warned, name);
	char q[NAME_MAX * 4 + 1];
	it_warn("skipping %s/new/%s: %s", t->s->path, it_quote(name, q, sizeof q),
		why);
	return -2;
}

/* Whether a process has the file open for writing: a cp(1) into new/
 * still under way, whose file must not be taken at its first bytes. A
 * read lease cannot be had then (EAGAIN); taken, it makes a writer who
 * opens the file now wait until it is released. Where no lease can be
 * taken at all (another user's file, a file system without leases), this
 * cannot tell, and says no. */
static bool being_written(int fd)
{
	return fcntl(fd, F_SETLEASE, F_RDLCK) < 0 && errno == EAGAIN;
}

/* Why a file in new/ that was opened is no message to take: NULL if it is
 * one, else the reason, in buf. */
static const char *unfit(const struct taker *t, const struct stat *st,
			 char *buf, size_t size)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (t->a->exec || (uint64_t)st->st_size <= t->a->max_size)
		return NULL;
	snprintf(buf, size, "%lld bytes, longer than --max-size (%llu bytes)",
		 (long long)st->st_size, (unsigned long long)t->a->max_size);
	return buf;
}

/* Claims new/name: a lock on the file first, then the rename into claim/.
 * Whoever holds the lock owns the message; a taker that dies lets go of
 * it, and recover() finds it in claim/ with no lock. The descriptor, or
 * -1 if another taker was first or a writer has it open (its close is an
 * event), -2 if it is no message for us (warned once). */
static int claim(struct taker *t, const char *name, struct stat *st)
{
	char why[96];
	/* A name warned about is not opened again: one whose content
	 * cannot be framed goes back to new/, and would come round again. */
	if (warned(t, name))
		return -2;
	int fd = openat(t->s->new, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -1;
		/* Another's write lease (a file server's): its close says
		 * when it lets go. */
		if (errno == EWOULDBLOCK && t->ifd >= 0)
			list_add(&t->busy, name);
		if (errno == EWOULDBLOCK)
			return -1;
		if (errno == ELOOP)
			return skip(t, name, "a symlink");
		if (errno == ENXIO || errno == ENODEV)
			return skip(t, name, "not a regular file");
		if (errno == EACCES || errno == EPERM)
			return skip(t, name, strerror(errno));
		it_xfail(errno, "take", t->s->path, NULL);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		/* Another taker is on it: it either takes it into claim/,
		 * or puts it back and lets go, and its close says when. */
		if (errno == EWOULDBLOCK && t->ifd >= 0)
			list_add(&t->busy, name);
		close(fd);
		return -1;
	}
	if (fstat(fd, st) < 0)
		it_xfail(errno, "take", t->s->path, NULL);
	const char *bad = unfit(t, st, why, sizeof why);
	int rc = bad ? skip(t, name, bad) : being_written(fd) ? -1 : 0;
	/* A file that cannot be renamed (immutable, a mount point, a name
	 * still held in claim/ by another message's claim) blocks nobody. */
	if (rc == 0 && move(t->s->new, name, t->s->claim, name) < 0)
		rc = errno == ENOENT ? -1 : skip(t, name, errno == EEXIST ?
			"a message of the same name is being taken" :
			strerror(errno));
	fcntl(fd, F_SETLEASE, F_UNLCK);
	if (rc < 0)
		close(fd);
	return rc < 0 ? rc : fd;
}

void recover_one(struct spool *s, const char *name, void *arg)
{
	struct stat st, now;
	(void)arg;
	int fd = openat(s->claim, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    fstatat(s->claim, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == now.st_ino && st.st_dev == now.st_dev &&
	    S_ISREG(st.st_mode) && move_unique(s->claim, name, s->new, name) < 0 &&
	    errno != ENOENT)
		it_warn("unable to return %s/claim/%s to new/: %s", s->path, name,
			strerror(errno));
	close(fd);
}

/* Messages in claim/ that no taker holds a lock on were claimed by one
 * that died: back to new/ with them, at once. */
void recover(struct spool *s)
{
	each_name(s, s->claim, "claim", recover_one, NULL);
}

/* A leftover in tmp/ is a crashed writer's debris once nothing changed it
 * for 36 hours by its ctime (which a rename or a link sets, where cp -p,
 * mv, tar x and rsync -t keep an old mtime) and no process has it open: a
 * write lease can be had only then, and while we hold it nobody opens it. */
static void clean_tmp_one(struct spool *s, const char *name, void *now)
{
	struct stat st;
	if (fstatat(s->tmp, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_ctime >= *(time_t *)now - TMP_MAX_AGE)
		return;
	int fd = openat(s->tmp, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat fst, again;
	if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0 && fstat(fd, &fst) == 0 &&
	    fstatat(s->tmp, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fst.st_ino == again.st_ino && fst.st_dev == again.st_dev &&
	    fst.st_ctime < *(time_t *)now - TMP_MAX_AGE)
		unlinkat(s->tmp, name, 0);
	fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
}

static void clean_tmp(struct spool *s)
{
	time_t now = time(NULL);
	each_name(s, s->tmp, "tmp", clean_tmp_one, &now);
}

/* Reads the whole message, in as many reads as it takes (one read(2)
 * returns at most 2 GiB less a page on Linux), at an offset of
 * IT_FRAME_OVERHEAD, where it is framed in place. A file that ends early
 * goes back: its size was taken at the claim, and a shorter read is
 * someone's truncate, not the message. */
static size_t read_message(struct taker *t, int fd, const char *name,
			   size_t size)
{
	char what[PATH_MAX + NAME_MAX + 8];
	if (size + IT_FRAME_OVERHEAD > t->bufcap) {
		free(t->buf);
		t->bufcap = size + IT_FRAME_OVERHEAD > 4096 ?
			    size + IT_FRAME_OVERHEAD : 4096;
		t->buf = malloc(t->bufcap);
		if (!t->buf) {
			put_back(t, name, NULL);
			it_xfail(errno, "read", name, NULL);
		}
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, t->buf + IT_FRAME_OVERHEAD + got,
				  size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			snprintf(what, sizeof what, "%s/claim/%s", t->s->path, name);
			put_back(t, name, NULL);
			it_xfail_status(IT_IOERR, err, "read", what, n == 0 ?
					"it was cut while being taken" : NULL);
		}
		got += (size_t)n;
	}
	return got;
}

/* Cuts the done bytes of a message that goes back off the end of standard
 * output, where that is a regular file whose end is still ours, so that it
 * holds whole messages only; else says what stays there. */
static void cut_back(const struct taker *t, size_t done)
{
	struct stat st;
	off_t at = t->file ? lseek(STDOUT_FILENO, 0, SEEK_CUR) : -1;
	if (done == 0)
		return;
	if (at < (off_t)done || fstat(STDOUT_FILENO, &st) < 0 ||
	    st.st_size != at || ftruncate(STDOUT_FILENO, at - (off_t)done) < 0)
		it_warn("the first %zu bytes of a message that goes back to new/ "
			"stay in standard output", done);
}

/* Whether a message holds the byte that ends it in lines or with -0
 * before its last byte: framed, it would come out as several, and a
 * reader such as head(1) would take its first part and leave the rest
 * lost. It goes back to new/ with a warning instead, and blocks nobody.
 * One that ends in that byte (a file of one line) is that one record:
 * *len loses the byte, which the framing puts back. */
static bool unframable(struct taker *t, int fd, const char *name, size_t *len)
{
	char delim = t->framing == IT_FRAME_LINE ? '\n' : '\0';
	const char *msg = t->buf + IT_FRAME_OVERHEAD;
	if (t->framing != IT_FRAME_LINE && t->framing != IT_FRAME_NUL)
		return false;
	const char *at = memchr(msg, delim, *len);
	if (at && at == msg + *len - 1)
		--*len;
	if (!at || at == msg + *len)
		return false;
	put_back(t, name, NULL);
	close(fd);
	skip(t, name, t->framing == IT_FRAME_LINE ? "holds a newline, which "
	     "lines cannot frame (take it with --whole, --netstring or --exec)"
	     : "holds a NUL byte, which -0 cannot frame (take it with --whole, "
	     "--netstring or --exec)");
	return true;
}

/* Syncs standard output where it is a regular file, so that what was
 * delivered into it is on disk before the message is removed: a crash
 * then loses neither. 0, or -1 with errno. */
int sync_out(const struct taker *t)
{
	if (!t->file || t->a->used & O_NOSYNC)
		return 0;
	return fsync(STDOUT_FILENO);
}

/* Writes a claimed message framed to stdout and removes it once stdout
 * took it (synced, into a regular file): true, or false if it cannot be
 * framed and went back. One
 * stdout did not take whole goes back to new/ (what was written of it
 * cut off a regular file) and the tool ends: as by SIGPIPE if the reader
 * went away (as any filter), by the stop signal that ended the write,
 * else with exit 74. */
static bool output(struct taker *t, int fd, const char *name, size_t size)
{
	size_t text, len = read_message(t, fd, name, size);
	if (unframable(t, fd, name, &len))
		return false;
	size_t n = it_frame_msg(t->buf, t->framing, NULL, 0,
				t->buf + IT_FRAME_OVERHEAD, len, &text);
	size_t done = it_write_some(STDOUT_FILENO, t->buf, n, stopped);
	int err = errno;
	/* Into a pipe, delivered once read; a stop signal while a live
	 * reader has not read yet counts it as read, as it will be. */
	bool whole = done == n, unsynced = false;
	if (whole && t->pipe && it_drain(stopped) != 0)
		whole = false, err = EPIPE;
	if (whole && sync_out(t) < 0)
		whole = false, unsynced = true, err = errno;
	int sig = caught;
	if (!whole) {
		if (done < n || unsynced)
			cut_back(t, done);
		put_back(t, name, NULL);
		if (!unsynced && (err == EPIPE || sig))
			end_by(sig ? sig : SIGPIPE);
		it_xfail_status(IT_IOERR, err, unsynced ? "sync" : "write",
				"standard output", unsynced ? "the message went "
				"back to new/" : NULL);
	}
	if (unlinkat(t->s->claim, name, 0) < 0)
		it_die(IT_OSERR, "unable to remove %s/claim/%s: %s", t->s->path,
		       name, strerror(errno));
	close(fd);
	if (sig)
		end_by(sig);
	return true;
}

/* Refills an empty list, waiting for messages where it may: false when
 * take should end, as --follow --nowait does once nothing is left. */
static bool next_batch(struct taker *t, int64_t deadline, long got)
{
	const struct args *a = t->a;
	bool follow = a->used & O_FOLLOW, nowait = a->used & O_NOWAIT;
	/* Without inotify, a scan that finds only messages nobody can take
	 * (others' claims, symlinks) is the end. */
	bool stuck = t->ifd < 0 && t->list.n > 0 && !t->progress;
	bool late = t->ifd < 0 && !nowait;
	if (late && stuck) {
		watch_late(t);
	} else {
		refill(t);
		if (late && t->list.n == 0)
			watch_late(t);
	}
	t->progress = false;
	/* -n N that ends short has delivered what it took: say how many, so
	 * that exit 1 is never read as "nothing taken". */
	char part[80] = "";
	if (got > 0)
		snprintf(part, sizeof part, " after %ld of %ld messages, which "
			 "were delivered", got, a->count);
	if ((t->list.n == 0 || stuck) && nowait) {
		if (follow)
			return false;
		it_die(IT_NO, "unable to take from %s: no message (--nowait)%s",
		       t->s->path, part);
	}
	if (t->list.n == 0 && !wait_event(t, deadline)) {
		if (follow && got > 0)
			return false;
		it_die(IT_NO, "unable to take from %s: timed out%s", t->s->path,
		       part);
	}
	return true;
}

int take(const struct args *a, struct spool *s)
{
	struct taker t = {.a = a, .s = s, .ifd = -1, .rescan = true,
			  .list = {.at = s->new + 1},
			  .framing = a->framing};
	struct stat st;
	bool follow = a->used & O_FOLLOW;
	long got = 0;
	setup_signals(&t);
	claim_dir(s, true);
	/* Into a pipe, each message (or CMD's output) waits until it has been
	 * read; a regular file gets a message that went back cut off. */
	if (fstat(STDOUT_FILENO, &st) == 0) {
		t.pipe = S_ISFIFO(st.st_mode);
		t.file = S_ISREG(st.st_mode);
	}
	/* The watch costs an event per message claimed: it is set up only
	 * once there is something to wait for, unless --follow or --ready-fd
	 * promise to see what is put from the start on. */
	bool lazy = !follow && a->ready_fd < 0;
	if (!(a->used & O_NOWAIT) && !lazy)
		setup_watch(&t);
	clean_tmp(s);
	int ready = a->ready_fd;
	it_xready(&ready);
	/* -w bounds each wait for a message, however many events come that
	 * bring none (another's lock, a file still being written). */
	int64_t deadline = it_deadline(a->timeout);
	while (follow || got < a->count) {
		if (t.list.pos == t.list.n) {
			if (!next_batch(&t, deadline, got))
				break;
			continue;
		}
		const char *name = t.list.v[t.list.pos++].name;
		if (caught)
			end_by(caught);
		if (t.pipe && it_drain_gone())
			end_by(SIGPIPE);
		int fd = claim(&t, name, &st);
		if (fd < 0)
			continue;
		t.progress = true;
		if (a->exec)
			run_cmd(&t, fd, name);
		else if (!output(&t, fd, name, (size_t)st.st_size))
			continue;
		got++;
		deadline = it_deadline(a->timeout);
	}
	if (caught)
		end_by(caught);
	list_clear(&t.list);
	list_clear(&t.busy);
	list_clear(&t.warned);
	free(t.list.v);
	free(t.busy.v);
	free(t.warned.v);
	free(t.buf);
	return t.cmd_failed ? IT_NO : IT_OK;
}
