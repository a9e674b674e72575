/* read: the FIFO to standard output, once (until its writers have
 * gone) or --keep-open, waiting for the next writer. */
#include "fifotool.h"

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

int read_fifo(struct args *a)
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
