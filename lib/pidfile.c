/* pidfile.c: the registration of a process id in a file, read strictly and
 * written atomically, so that a planted or half-written file is never taken
 * for a process to signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

static int refuse(const char **why, const char *reason, int err)
{
	*why = reason;
	errno = err;
	return -1;
}

int it_pidfile_read(const char *path, pid_t *pid, const char **why)
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
	if (fstat(fd, &st) < 0)
		;  /* n stays -1, errno says why */
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file, refusing it";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		*why = "writable by other users, refusing it";
	else
		n = it_read_full(fd, buf, sizeof buf);
	int err = *why ? EPERM : errno;
	close(fd);
	errno = err;
	if (n < 0)
		return -1;
	if (n == 0)
		return refuse(why, "it is empty", EINVAL);
	if (n == (ssize_t)sizeof buf)
		return refuse(why, "not a process id", EINVAL);
	if (buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	long v;
	if (it_parse_long(buf, 0, INT_MAX, &v) < 0)
		return refuse(why, "not a process id", EINVAL);
	if (v < 2)
		return refuse(why, v ? "it names pid 1 (init), refusing it"
				     : "it names pid 0, refusing it", ERANGE);
	*pid = (pid_t)v;
	return 0;
}

int it_pidfile_write(struct it_pidfile *pf, const char *path, const char **why)
{
	*why = NULL;
	pf->path = NULL;
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse(why, "it is a symbolic link, refusing to replace it", EPERM);
		if (!S_ISREG(st.st_mode))
			return refuse(why, "not a regular file, refusing to replace it", EPERM);
	} else if (errno != ENOENT) {
		return -1;
	}
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
	bool ok = fchmod(fd, 0644) == 0 &&
		  it_write_full(fd, line, (size_t)len) == 0 && fstat(fd, &st) == 0;
	int err = errno;
	if (close(fd) < 0 && ok)
		ok = false, err = errno;
	if (ok && rename(tmp, path) < 0)
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
	struct stat st;
	/* Only the file we wrote: someone may have replaced it since. */
	if (pf->path && lstat(pf->path, &st) == 0 && st.st_dev == pf->dev &&
	    st.st_ino == pf->ino)
		unlink(pf->path);
	pf->path = NULL;
}
