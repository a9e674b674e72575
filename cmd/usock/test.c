/* test: whether something listens at an address, as an exit status. */
#include "usock.h"

static _Noreturn void type_fail(const struct args *a)
{
	it_die(IT_DATAERR, "unable to test %s: a socket of another type",
	       a->addr.text);
}

static int test_fail(const struct args *a, int err)
{
	if (err == EAGAIN)
		return IT_OK;
	if (err == ECONNREFUSED || err == ENOENT)
		return IT_UNAVAILABLE;
	if (err == EPROTOTYPE)
		type_fail(a);
	connect_fail(a, "test", err);
}

/* For test at a path: a datagram connect says whether and what is bound
 * there without making a connection: 0 (a datagram socket), -1 with errno
 * EPROTOTYPE (a stream or record one), ECONNREFUSED, ENOENT... */
static int probe_path(const struct args *a)
{
	struct sock_addr d = a->addr;
	d.type = SOCK_DGRAM;
	int fd = sock_connect(&d, it_deadline(0), true);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

/* How long test waits for a TCP answer without -w: time for a lost SYN to
 * be sent again (after 1 s) and answered. */
#define TEST_WAIT ((int64_t)3000000000)

/* 0 when someone listens at ADDR, 69 (quietly) when nobody does. Without
 * a type asked for, a socket of any type counts. A UNIX listener whose
 * backlog is full listens. */
int cmd_test(struct args *a)
{
	resolve(a);
	int want = a->used & O_TYPE ? a->addr.type : 0, fd = 0;
	if (a->addr.path && (fd = probe_path(a)) == 0 && want &&
	    want != SOCK_DGRAM)
		type_fail(a);
	if (a->addr.path && (fd == 0 || (errno == EPROTOTYPE && !want)))
		return IT_OK;
	if (a->addr.path && errno != EPROTOTYPE)
		return test_fail(a, errno);
	if (want == SOCK_DGRAM)
		type_fail(a);
	/* A TCP listener whose backlog is full drops our SYN, as a host
	 * that is not there does: without -w, TEST_WAIT bounds the wait
	 * for an answer, not the kernel's SYN retries (two minutes). */
	int64_t deadline = it_deadline(a->timeout != IT_FOREVER ||
				       a->addr.family == AF_UNIX ? a->timeout :
				       TEST_WAIT);
	fd = sock_connect(&a->addr, deadline, true);
	static const int others[] = {SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; fd < 0 && errno == EPROTOTYPE && !want && i < 2; i++) {
		a->addr.type = others[i];
		fd = sock_connect(&a->addr, deadline, true);
	}
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? IT_OK : test_fail(a, errno);
}
