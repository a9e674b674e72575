/* pidfile.c: the registration of a process id in a file, read strictly and
 * written atomically, so that a planted, stale or half-written file is never
 * taken for a process to signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

/* How much later than the pidfile's last change a process may seem to have
 * started and still be its writer: the start time is counted in clock
 * ticks and file times lag by a timer tick, and a small step of the clock
 * (NTP) must not make a daemon's own pidfile look stale. */
#define START_SLACK_NS 1000000000LL

static int refuse(const char **why, const char *reason, int err)
{
	*why = reason;
	errno = err;
	return -1;
}

/* Root's files are trusted, since root could have written any process id
 * anywhere; anyone else's could name any process: 0, or -1 with EPERM. */
static int check_owner(const struct stat *st, const char **why)
{
	static char owner[80];
	if (st->st_uid == geteuid() || st->st_uid == 0)
		return 0;
	snprintf(owner, sizeof owner, "owned by uid %u, neither us nor root, "
		 "refusing it", (unsigned)st->st_uid);
	return refuse(why, owner, EPERM);
}

/* The file's type, owner and mode, checked on what was opened: 0, or -1
 * with EPERM and *why. */
static int check_file(const struct stat *st, const char **why)
{
	if (!S_ISREG(st->st_mode))
		return refuse(why, "not a regular file, refusing it", EPERM);
	if (check_owner(st, why) < 0)
		return -1;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(why, "writable by other users, refusing it", EPERM);
	return 0;
}

/* "PID" or "PID\n", and nothing else, naming a process other than 0 and 1. */
static int parse(const char *buf, ssize_t n, pid_t *pid, const char **why)
{
	char s[24];
	if (n < 0)
		return -1;
	if (n == 0)
		return refuse(why, "it is empty", EINVAL);
	if (n >= (ssize_t)sizeof s)
		return refuse(why, "not a process id", EINVAL);
	if (memchr(buf, '\0', (size_t)n))
		return refuse(why, "not a process id", EINVAL);
	memcpy(s, buf, (size_t)n);
	if (s[n - 1] == '\n')
		n--;
	s[n] = '\0';
	long v;
	if (it_parse_long(s, 0, INT_MAX, &v) < 0)
		return refuse(why, "not a process id", EINVAL);
	if (v < 2)
		return refuse(why, v ? "it names pid 1 (init), refusing it"
				     : "it names pid 0, refusing it", ERANGE);
	*pid = (pid_t)v;
	return 0;
}

int it_pidfile_read(const char *path, pid_t *pid, struct timespec *mtime,
		    const char **why)
{
	*why = NULL;
	/* O_NOFOLLOW: a symbolic link in a shared directory may point
	 * anywhere; O_NONBLOCK: a FIFO planted there must not hang us. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP
			? refuse(why, "it is a symbolic link, refusing it", EPERM)
			: -1;
	struct stat st;
	char buf[24];
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && check_file(&st, why) == 0)
		n = it_read_full(fd, buf, sizeof buf);
	int err = errno;
	close(fd);
	errno = err;
	if (n < 0)
		return -1;
	if (mtime)
		*mtime = st.st_mtim;
	return parse(buf, n, pid, why);
}

/* When pid started, on the CLOCK_REALTIME scale of file times: 0, or -1
 * with errno (ENOENT: no such process, or no /proc). Field 22 of
 * /proc/PID/stat counts clock ticks since boot, suspend included, as
 * CLOCK_BOOTTIME does. */
static int start_time(pid_t pid, int64_t *ns)
{
	char path[32], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = it_read_full(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	/* The command name, field 2, may hold spaces and parentheses: the
	 * fields that follow start after its last ')'. */
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	unsigned long long ticks;
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1) {
		errno = EINVAL;
		return -1;
	}
	struct timespec real, boot;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	long hz = sysconf(_SC_CLK_TCK);
	int64_t since_boot = (int64_t)(ticks / (unsigned long long)hz) * 1000000000LL +
			     (int64_t)(ticks % (unsigned long long)hz) * 1000000000LL / hz;
	*ns = (real.tv_sec - boot.tv_sec) * 1000000000LL +
	      (real.tv_nsec - boot.tv_nsec) + since_boot;
	return 0;
}

bool it_pid_started_after(pid_t pid, const struct timespec *t)
{
	int64_t started;
	return start_time(pid, &started) == 0 &&
	       started > t->tv_sec * 1000000000LL + t->tv_nsec + START_SLACK_NS;
}

/* What is at path already, for it_pidfile_write: 0 if it may be replaced
 * (nothing there, a file that names no process, or a stale one), or -1 with
 * errno and *why: EPERM for a file we must not touch, EEXIST for one that
 * names a live process other than us. */
static int check_old(const char *path, const char **why)
{
	static char live[96];
	pid_t pid;
	struct timespec mtime;
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISLNK(st.st_mode))
		return refuse(why, "it is a symbolic link, refusing to replace it", EPERM);
	if (!S_ISREG(st.st_mode))
		return refuse(why, "not a regular file, refusing to replace it", EPERM);
	if (check_owner(&st, why) < 0)
		return -1;
	if (it_pidfile_read(path, &pid, &mtime, why) < 0) {
		*why = NULL;
		return errno == ENOENT || errno == EINVAL || errno == ERANGE ||
		       errno == EPERM ? 0 : -1;
	}
	if (pid == getpid() || (kill(pid, 0) < 0 && errno == ESRCH) ||
	    it_pid_started_after(pid, &mtime)) {
		*why = NULL;
		return 0;
	}
	snprintf(live, sizeof live, "it names pid %d, which is running",
		 (int)pid);
	return refuse(why, live, EEXIST);
}

/* Puts the temporary file tmp at path: link(2) where nothing is there, so
 * that of two writers starting at once only one takes it; over a file that
 * may be replaced, rename(2). */
static int install(const char *tmp, const char *path, const char **why)
{
	if (check_old(path, why) < 0)
		return -1;
	if (link(tmp, path) == 0)
		return unlink(tmp);
	if (errno == EEXIST && check_old(path, why) < 0)
		return -1;
	/* A stale file, or a file system without hard links. */
	return rename(tmp, path);
}

int it_pidfile_write(struct it_pidfile *pf, const char *path, const char **why)
{
	*why = NULL;
	pf->path = NULL;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* mkstemp creates with O_EXCL and mode 0600; readers need 0644, set
	 * on the descriptor, never on a path someone could swap. */
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	char line[24];
	int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	struct stat st;
	bool ok = fchmod(fd, 0644) == 0 &&
		  it_write_full(fd, line, (size_t)len) == 0 && fstat(fd, &st) == 0;
	int err = errno;
	if (close(fd) < 0 && ok)
		ok = false, err = errno;
	if (ok && install(tmp, path, why) < 0)
		ok = false, err = errno;
	if (!ok) {
		unlink(tmp);
		errno = err;
		return -1;
	}
	pf->path = path;
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	return 0;
}

void it_pidfile_remove(struct it_pidfile *pf)
{
	if (!pf->path)
		return;
	/* Only the file we wrote, still naming us: someone may have replaced
	 * it since, or rewritten it in place for another process. */
	int fd = open(pf->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				O_CLOEXEC);
	struct stat st;
	char buf[24];
	pid_t pid;
	const char *why;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == pf->dev &&
	    st.st_ino == pf->ino &&
	    parse(buf, it_read_full(fd, buf, sizeof buf), &pid, &why) == 0 &&
	    pid == getpid())
		unlink(pf->path);
	if (fd >= 0)
		close(fd);
	pf->path = NULL;
}
