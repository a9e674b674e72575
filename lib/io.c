/* io.c: read and write loops that survive EINTR and short counts, and the
 * readiness notification of CONTRACT.md section 4. */
#include <errno.h>
#include <unistd.h>

#include "ipctools.h"

ssize_t it_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int it_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t it_write_some(int fd, const void *buf, size_t len, int (*stopped)(void))
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		/* A stop signal shortens a blocked write or fails it with
		 * EINTR (handlers without SA_RESTART); either way, look. */
		if (stopped && stopped()) {
			errno = EINTR;
			break;
		}
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

int it_ready(int fd)
{
	if (fd < 0)
		return 0;
	int rc = it_write_full(fd, "\n", 1);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

void it_xready(int *fd)
{
	if (it_ready(*fd) < 0)
		it_xfail_status(IT_OSERR, errno, "write", "the readiness descriptor",
				NULL);
	*fd = -1;
}
