/* The FIFOs themselves: made with their mode whatever the umask (or in a
 * private directory, mk -t), removed only if they are FIFOs, tested for a
 * reader, and opened without following a symlink or taking another
 * user's FIFO. */
#include "fifotool.h"

/* The mode asked for is the mode the FIFO gets: with umask 0, mkfifo(2)
 * sets it at creation, and no chmod on a path is ever needed. */
void mk_one(const struct args *a, const char *path)
{
	if (mkfifo(path, a->mode) == 0)
		return;
	int err = errno;
	struct stat st;
	if (err == EEXIST && a->used & O_EXIST_OK) {
		it_xlstat_file("create", path, &st, S_IFIFO, a->used & O_ANY);
		return;
	}
	/* --exist-ok is the way out only for a FIFO: it refuses the rest. */
	const char *hint = NULL;
	if (err == EEXIST && lstat(path, &st) == 0)
		hint = !S_ISFIFO(st.st_mode) ? "not a FIFO"
		       : st.st_uid == geteuid() || a->used & O_ANY ? "use --exist-ok"
		       : "use --exist-ok --any-owner";
	it_xfail(err, "create", path, hint);
}

/* mk --tmp: DIR/fifotool.XXXXXX/fifo, in a directory that mkdtemp(3) makes
 * 0700, so no other user can reach the FIFO whatever its mode. rm knows
 * the directory again by that shape (see rm_tmpdir). */
void mk_tmp(const struct args *a)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	if (!dir || !*dir)
		dir = "/tmp";
	if (snprintf(path, sizeof path - 5, "%s/fifotool.XXXXXX", dir) >=
	    (int)sizeof path - 5)
		it_xfail(ENAMETOOLONG, "create a directory in", dir, NULL);
	if (!mkdtemp(path))
		it_xfail(errno, "create a directory in", dir, NULL);
	size_t dirlen = strlen(path);
	strcpy(path + dirlen, "/fifo");
	if (mkfifo(path, a->mode) < 0) {
		int err = errno;
		path[dirlen] = '\0';
		rmdir(path);
		it_xfail(err, "create", path, NULL);
	}
	/* A FIFO nobody was told of is a leak: the path must be out (a
	 * closed or full stdout, or a reader gone, which is EPIPE here, not
	 * SIGPIPE half-way), or both are removed before exit 74. */
	signal(SIGPIPE, SIG_IGN);
	if (printf("%s\n", path) < 0 || fflush(stdout) == EOF) {
		int err = errno;
		unlink(path);
		path[dirlen] = '\0';
		rmdir(path);
		__fpurge(stdout);
		it_xfail_status(IT_IOERR, err, "write", "standard output", NULL);
	}
}

/* Removes the directory of a FIFO made by mk --tmp once it is empty: one
 * whose name is fifotool.XXXXXX, that we own, with mode 0700, holding the
 * FIFO "fifo" that was just removed. Anything else is left alone. */
static void rm_tmpdir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash || strcmp(slash, "/fifo") != 0 ||
	    (size_t)(slash - path) >= sizeof dir)
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	struct stat st;
	if (strncmp(base, "fifotool.", 9) != 0 || strlen(base) != 15 ||
	    lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 07777) != 0700)
		return;
	if (rmdir(dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		it_xfail(errno, "remove", dir, NULL);
}

void rm_one(const struct args *a, const char *path)
{
	struct stat st;
	it_xlstat_file("remove", path, &st, S_IFIFO, a->used & O_ANY);
	if (unlink(path) < 0)
		it_xfail(errno, "remove", path, NULL);
	rm_tmpdir(path);
}

/* A FIFO has a reader exactly when a non-blocking open for writing
 * succeeds (else ENXIO). The probe is a writer that comes and goes
 * without writing: a reader still waiting for its first writer takes that
 * for the end, unless it holds a writer end itself (read --keep-open). */
int test_fifo(const struct args *a, const char *path)
{
	struct stat st;
	it_xlstat_file("test", path, &st, S_IFIFO, a->used & O_ANY);
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENXIO)
		return IT_NO;
	if (fd < 0)
		it_xfail(errno, "test", path, NULL);
	it_xsame_file("test", path, fd, &st);
	close(fd);
	return IT_OK;
}

/* Opens the FIFO at path, which must be a FIFO we own (or --any-owner),
 * for flags; without O_NONBLOCK a writer waits for a reader until the
 * deadline. */
int open_fifo(const struct args *a, int flags, int64_t deadline)
{
	const char *path = a->paths[0];
	struct stat st;
	it_xlstat_file("open", path, &st, S_IFIFO, a->used & O_ANY);
	it_alarm_at(deadline);
	int fd;
	while ((fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENXIO)
			it_die(IT_NO, "unable to open %s: no reader", path);
		if (errno != EINTR)
			it_xfail(errno, "open", path, NULL);
		if (it_left_ns(deadline) == 0)
			it_die(IT_NO, "unable to open %s: no reader in time", path);
	}
	it_alarm_at(IT_FOREVER);
	it_xsame_file("open", path, fd, &st);
	return fd;
}

void set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		it_xfail(errno, "set up", "the FIFO", NULL);
}
