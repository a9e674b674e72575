/* fifotool: make, remove, write, read and test named pipes (FIFOs). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipctools.h"

/* Bytes asked of one splice(2): more than a pipe holds, so a call moves
 * all that is there. */
#define CHUNK (1 << 20)

enum cmd { MK, RM, WRITE, READ, TEST, NCMD };

/* One bit per option, to check in one place which command takes which. */
enum {
	O_MODE = 1 << 0, O_EXIST_OK = 1 << 1, O_TMP = 1 << 2,
	O_NONBLOCK_ = 1 << 3, O_TIMEOUT = 1 << 4, O_LINES = 1 << 5,
	O_KEEP = 1 << 6, O_READY = 1 << 7, O_ANY = 1 << 8,
};
static const char *const opt_names[] = {
	"mode", "exist-ok", "tmp", "nonblock", "timeout", "lines",
	"keep-open", "ready-fd", "any-owner",
};

static const struct it_cmd cmds[NCMD] = {
	[MK] = {"mk", O_MODE | O_EXIST_OK | O_TMP | O_ANY},
	[RM] = {"rm", O_ANY},
	[WRITE] = {"write", O_NONBLOCK_ | O_TIMEOUT | O_LINES | O_READY | O_ANY},
	[READ] = {"read", O_KEEP | O_TIMEOUT | O_READY | O_ANY},
	[TEST] = {"test", O_ANY},
};

struct args {
	enum cmd cmd;
	char **paths;
	int npaths;
	unsigned used;
	mode_t mode;
	int64_t timeout;
	int ready_fd;
	struct it_wait wait;        /* -w and --ready-fd as given */
};

enum { OPT_ANY_OWNER = 256 };

static const struct argp_option options[] = {
	{"mode", 'm', "MODE", 0, "mk: octal mode of new FIFOs (default 0600), "
	 "whatever the umask", 0},
	{"exist-ok", 'e', NULL, 0, "mk: accept a FIFO of ours that exists "
	 "(never another type of file)", 0},
	{"tmp", 't', NULL, 0, "mk: make one FIFO in a new private directory "
	 "and print its path", 0},
	{"nonblock", 'n', NULL, 0, "write: no reader is exit 1 at once", 0},
	{"lines", 'l', NULL, 0, "write: write whole lines of up to PIPE_BUF "
	 "bytes atomically", 0},
	{"keep-open", 'k', NULL, 0, "read: go on from writer to writer until "
	 "SIGINT or SIGTERM", 0},
	{"any-owner", OPT_ANY_OWNER, NULL, 0, "accept a FIFO that another user "
	 "owns", 0},
	{0},
};

/* -w and --ready-fd, in fifotool's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "write: wait at most this long for "
	 "a reader, and for it to take a byte from a full FIFO; read: for the "
	 "first writer, or with --keep-open for data",
	 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "read, write: write a newline to FD "
	 "once the FIFO is open", 0},
	{0},
};

static const struct argp wait_argp = {wait_options, it_wait_parse, NULL,
				      NULL, NULL, NULL, NULL};

static const struct argp_child children[] = {
	{&wait_argp, 0, NULL, 0},
	{0}
};

static unsigned opt_bit(int key)
{
	switch (key) {
	case 'm': return O_MODE;
	case 'e': return O_EXIST_OK;
	case 't': return O_TMP;
	case 'n': return O_NONBLOCK_;
	case 'l': return O_LINES;
	case 'k': return O_KEEP;
	case OPT_ANY_OWNER: return O_ANY;
	default: return 0;
	}
}

/* Which operands and options go together, checked once all are parsed. */
static void check_args(struct args *a, struct argp_state *state)
{
	const char *name = cmds[a->cmd].name;
	a->used |= (a->wait.timed ? O_TIMEOUT : 0) |
		   (a->wait.ready_fd >= 0 ? O_READY : 0);
	a->timeout = a->wait.timeout;
	a->ready_fd = a->wait.ready_fd;
	it_cmd_check(state, &cmds[a->cmd], a->used, opt_names,
		     sizeof opt_names / sizeof opt_names[0]);
	if (a->used & O_TMP && a->used & O_EXIST_OK)
		argp_error(state, "cannot use --exist-ok with --tmp");
	if (a->used & O_NONBLOCK_ && a->used & O_TIMEOUT)
		argp_error(state, "cannot use --timeout with --nonblock");
	if (a->used & O_TMP) {
		if (a->npaths > 0)
			argp_error(state, "mk --tmp takes no PATH");
	} else if (a->npaths == 0) {
		argp_error(state, "%s needs a PATH", name);
	} else if (a->npaths > 1 && a->cmd != MK && a->cmd != RM) {
		argp_error(state, "%s takes one PATH", name);
	}
	for (int i = 0; i < a->npaths; i++)
		it_argp_nonempty(state, "path", a->paths[i]);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	a->used |= opt_bit(key);
	switch (key) {
	case 'm':
		if (it_parse_mode(arg, &a->mode))
			it_argp_bad(state, "mode", arg);
		break;
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->wait;
		break;
	case ARGP_KEY_ARGS:
		a->cmd = it_cmd_find(state, cmds, NCMD, state->argv[state->next]);
		a->paths = state->argv + state->next + 1;
		a->npaths = state->argc - state->next - 1;
		break;
	case ARGP_KEY_NO_ARGS:
		argp_error(state, "missing command: mk, rm, write, read or test");
		break;
	case ARGP_KEY_END:
		check_args(a, state);
		break;
	default:
		return opt_bit(key) ? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	options, parse_opt,
	"mk [-e] [-m MODE] [--any-owner] PATH...\n"
	"mk -t [-m MODE]\n"
	"rm [--any-owner] PATH...\n"
	"write [-ln] [-w DURATION] [--any-owner] [--ready-fd=FD] PATH\n"
	"read [-k] [-w DURATION] [--any-owner] [--ready-fd=FD] PATH\n"
	"test [--any-owner] PATH",
	"Make, remove, write, read and test named pipes (FIFOs).\v"
	"A symlink at PATH is never followed, and a FIFO that another user "
	"owns is refused without --any-owner. Exit status: 0 success, 1 "
	"timed out or no reader, 64 usage, 65 not a FIFO or line too long, "
	"66 no such PATH, 71 system error, 73 PATH exists, 74 I/O error, "
	"77 permission denied.",
	children, NULL, NULL,
};

/* The mode asked for is the mode the FIFO gets: with umask 0, mkfifo(2)
 * sets it at creation, and no chmod on a path is ever needed. */
static void mk_one(const struct args *a, const char *path)
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
static void mk_tmp(const struct args *a)
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

static void rm_one(const struct args *a, const char *path)
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
static int test_fifo(const struct args *a, const char *path)
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
static int open_fifo(const struct args *a, int flags, int64_t deadline)
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

static void set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		it_xfail(errno, "set up", "the FIFO", NULL);
}

/* write -w: how long the FIFO may stay full, its reader taking nothing,
 * before the writer gives up (exit 1); IT_FOREVER without -w, and for
 * read. stall_at is the deadline since the last byte taken. */
static int64_t stall_ns = IT_FOREVER, stall_at = IT_FOREVER;

static void progress(void)
{
	if (stall_ns == IT_FOREVER)
		return;
	stall_at = it_deadline(stall_ns);
	it_alarm_at(stall_at);
}

static int stalled(void)
{
	return stall_at != IT_FOREVER && it_left_ns(stall_at) == 0;
}

static _Noreturn void stall_failed(int fd, const char *path, size_t lost)
{
	int unread = 0;
	char more[80] = "";
	if (ioctl(fd, FIONREAD, &unread) < 0)
		unread = 0;
	if (lost)
		snprintf(more, sizeof more, "; %zu bytes read from standard input "
			 "were not written", lost);
	it_die(IT_NO, "unable to write %s: timed out: its reader took nothing "
	       "within the --timeout, %d bytes unread%s", path, unread, more);
}

/* A reader that went away with bytes still in the FIFO: they go with it. */
static _Noreturn void unread_died(const char *path, int unread)
{
	it_die(IT_IOERR, "unable to write %s: its reader went away with %d "
	       "bytes unread", path, unread);
}

/* Moves up to CHUNK bytes from in to out: the byte count, 0 at the end of
 * in, or -1 with errno, *bad_out saying which side failed and *lost how
 * many bytes taken from in were not written. splice(2) moves pages between
 * the sides without copying them through us, and takes from in only what
 * out accepted: nothing is lost when it fails. A pipe fails a splice only
 * with EPIPE (its reader gone), so any other error is the side that is not
 * the FIFO. Where a side cannot splice (a terminal, a file opened with
 * O_APPEND), read(2) and write(2) take over, and a failed write loses what
 * was read. */
static ssize_t move(int in, int out, bool fifo_in, bool *bad_out, size_t *lost)
{
	static bool no_splice;
	static char buf[1 << 17];
	ssize_t n;
	while (!no_splice) {
		n = splice(in, NULL, out, NULL, CHUNK, SPLICE_F_MOVE);
		if (n >= 0)
			return n;
		if (errno == EINTR && stalled()) {
			errno = ETIMEDOUT;
			*bad_out = true;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EINVAL && errno != ENOSYS && errno != EAGAIN) {
			*bad_out = errno == EPIPE || fifo_in;
			return -1;
		}
		no_splice = true;
	}
	while ((n = read(in, buf, sizeof buf)) < 0 && errno == EINTR)
		;
	size_t done = n > 0 ? it_write_some(out, buf, (size_t)n, stalled) : 0;
	if (n > 0 && done < (size_t)n) {
		if (stalled())
			errno = ETIMEDOUT;
		*bad_out = true;
		*lost = (size_t)n - done;
		return -1;
	}
	return n;
}

/* The message and exit 74 for a failed move: which side, and what was
 * lost: bytes read and not written, or those a reader that went away left
 * in the pipe out. */
static _Noreturn void move_failed(int out, bool bad_out, size_t lost,
				  const char *inname, const char *outname)
{
	int unread;
	if (bad_out && errno == ETIMEDOUT)
		stall_failed(out, outname, lost);
	if (bad_out && errno == EPIPE && ioctl(out, FIONREAD, &unread) == 0 &&
	    unread > 0)
		unread_died(outname, unread);
	if (lost)
		it_die(IT_IOERR, "unable to write %s: %s (%zu bytes read from %s "
		       "were lost)", outname, strerror(errno), lost, inname);
	it_xfail_status(IT_IOERR, errno, bad_out ? "write" : "read",
			bad_out ? outname : inname, NULL);
}

/* Copies in to out until the end of in; errors are exit 74, naming the
 * side that failed. */
static void copy(int in, const char *inname, int out, const char *outname,
		 bool fifo_in)
{
	bool bad_out = false;
	size_t lost = 0;
	ssize_t n;
	while ((n = move(in, out, fifo_in, &bad_out, &lost)) > 0)
		progress();
	if (n < 0)
		move_failed(out, bad_out, lost, inname, outname);
}

/* --lines: stdin to the FIFO in writes that each end at a newline (or at
 * the end of the input) and hold at most PIPE_BUF bytes, which POSIX makes
 * atomic, so another writer's data never lands inside a line. A line
 * longer than that is exit 65 before any of it is written. The buffer has
 * one byte more than a write may take, to tell a last line of exactly
 * PIPE_BUF bytes from a longer one. */
static void write_lines(int fd, const char *path)
{
	static char buf[PIPE_BUF + 1];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail_status(IT_IOERR, errno, "read", "standard input",
					NULL);
		len += (size_t)n;
		const char *nl = memrchr(buf, '\n', len < PIPE_BUF ? len : PIPE_BUF);
		size_t cut = n == 0 ? len : nl ? (size_t)(nl - buf) + 1 : 0;
		if (cut == 0 && len > PIPE_BUF)
			it_die(IT_DATAERR, "unable to write %s: a line is longer "
			       "than PIPE_BUF (%d bytes)", path, PIPE_BUF);
		if (cut > 0 && it_write_some(fd, buf, cut, stalled) < cut) {
			if (stalled())
				stall_failed(fd, path, len);
			move_failed(fd, true, 0, "standard input", path);
		}
		if (cut > 0)
			progress();
		memmove(buf, buf + cut, len - cut);
		len -= cut;
		if (n == 0)
			return;
	}
}

/* Exit 0 says that a reader took every byte: once all is written, waits
 * until the FIFO is empty, or its readers have gone (POLLERR on our end),
 * leaving bytes that nobody will read once the FIFO is closed: exit 74,
 * saying how many. A reader usually takes them within microseconds, so
 * this looks a little before it sleeps, in polls of 10 ms (a pipe wakes
 * nobody when it becomes empty). Like any wait for the reader, it ends on
 * a stop signal. */
static void drain(int fd, const char *path)
{
	int64_t spin = it_now_ns() + 100000;
	struct pollfd p = {fd, 0, 0};
	int unread;
	int last = -1;
	while (ioctl(fd, FIONREAD, &unread) == 0 && unread > 0) {
		if (unread != last)
			progress();
		last = unread;
		if (stalled())
			stall_failed(fd, path, 0);
		if (it_now_ns() < spin) {
			sched_yield();
			continue;
		}
		if (poll(&p, 1, 10) < 0 && errno != EINTR)
			it_xfail(errno, "write", path, NULL);
		if (!(p.revents & POLLERR) || ioctl(fd, FIONREAD, &unread) < 0)
			continue;
		if (unread > 0)
			unread_died(path, unread);
	}
}

/* A writer that gets EPIPE because its reader went away exits 74 with one
 * message, so SIGPIPE is ignored. */
static int write_fifo(struct args *a)
{
	/* A closed stdin (it_init left it open write-only) is refused before
	 * the FIFO is opened: a reader must not take our failure for an
	 * empty writer and end. */
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY)
		it_xfail_status(IT_IOERR, fl < 0 ? errno : EBADF, "read",
				"standard input", NULL);
	signal(SIGPIPE, SIG_IGN);
	it_alarm_init();
	int nonblock = a->used & O_NONBLOCK_ ? O_NONBLOCK : 0;
	int fd = open_fifo(a, O_WRONLY | nonblock, it_deadline(a->timeout));
	set_blocking(fd);
	it_xready(&a->ready_fd);
	stall_ns = a->timeout;
	progress();
	if (a->used & O_LINES)
		write_lines(fd, a->paths[0]);
	else
		copy(STDIN_FILENO, "standard input", fd, a->paths[0], false);
	drain(fd, a->paths[0]);
	close(fd);
	return IT_OK;
}

/* Waits until a writer has come: for its data, or for the end, which a
 * writer that closes without writing a byte also makes (as for cat(1)).
 * The descriptor was opened without blocking so that readiness could be
 * said at once; poll(2) is where --timeout bounds the wait. */
static void wait_writer(const struct args *a, int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int n = poll(&p, 1, it_left_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail(errno, "read", a->paths[0], NULL);
		if (n == 0)
			it_die(IT_NO, "unable to read %s: no writer in time",
			       a->paths[0]);
		return;
	}
}

/* --keep-open: our own writer end keeps the FIFO from ever reporting the
 * end, so poll(2) wakes only for data (no busy loop on POLLHUP), for
 * SIGINT or SIGTERM through a signalfd, or at the idle --timeout. On a
 * signal, what the FIFO holds already is written out before exit 0. */
static int read_forever(const struct args *a, int fd, int sfd)
{
	const char *path = a->paths[0];
	bool bad_out = false;
	size_t lost = 0;
	nfds_t nfds = 2;
	int64_t deadline = it_deadline(a->timeout);
	struct pollfd p[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
	for (;;) {
		int n = poll(p, nfds, nfds == 1 ? 0 : it_left_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail(errno, "read", path, NULL);
		if (n == 0 && nfds == 1)
			return IT_OK;
		if (n == 0)
			it_die(IT_NO, "unable to read %s: no data in time", path);
		if (p[1].revents & POLLIN)
			nfds = 1;
		if (!(p[0].revents & POLLIN))
			continue;
		if (move(fd, STDOUT_FILENO, true, &bad_out, &lost) < 0)
			move_failed(STDOUT_FILENO, bad_out, lost, path, "standard output");
		deadline = it_deadline(a->timeout);
	}
}

static int read_fifo(struct args *a)
{
	/* What is taken from a FIFO cannot be put back: with nowhere to
	 * write it, take nothing. */
	it_xcheck_stdout();
	it_alarm_init();
	if (!(a->used & O_KEEP)) {
		int fd = open_fifo(a, O_RDONLY | O_NONBLOCK, IT_FOREVER);
		it_xready(&a->ready_fd);
		wait_writer(a, fd, it_deadline(a->timeout));
		set_blocking(fd);
		copy(fd, a->paths[0], STDOUT_FILENO, "standard output", true);
		close(fd);
		return IT_OK;
	}
	/* The stop signals are blocked before any writer can see us, so
	 * that none of them is lost with data in hand. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		it_xfail(errno, "set up", "a signalfd", NULL);
	int fd = open_fifo(a, O_RDONLY | O_NONBLOCK, IT_FOREVER);
	int hold = open_fifo(a, O_WRONLY | O_NONBLOCK, IT_FOREVER);
	set_blocking(fd);
	it_xready(&a->ready_fd);
	int status = read_forever(a, fd, sfd);
	close(hold);
	close(sfd);
	close(fd);
	return status;
}

int main(int argc, char **argv)
{
	struct args a = {.mode = 0600, .timeout = IT_FOREVER, .ready_fd = -1};
	it_init();
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	int status = IT_OK;
	switch (a.cmd) {
	case MK:
		umask(0);
		if (a.used & O_TMP)
			mk_tmp(&a);
		for (int i = 0; i < a.npaths; i++)
			mk_one(&a, a.paths[i]);
		break;
	case RM:
		for (int i = 0; i < a.npaths; i++)
			rm_one(&a, a.paths[i]);
		break;
	case WRITE:
		status = write_fifo(&a);
		break;
	case READ:
		status = read_fifo(&a);
		break;
	default:
		status = test_fifo(&a, a.paths[0]);
		break;
	}
	it_close_stdout();
	return status;
}
