/* shmring: the bench peer of shmcat write | shmcat read. Two processes, a
 * single-producer single-consumer ring in shared memory with nothing else:
 * no records, no locks, no crash safety. The producer read(2)s standard
 * input straight into the ring, the consumer write(2)s standard output
 * straight from it; each sleeps on a futex when the ring is full or empty.
 * Usage: shmring CAPACITY < in > out */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct ring {
	_Atomic uint64_t head, tail;   /* bytes written, bytes read */
	_Atomic uint32_t eof;
	_Atomic uint32_t seq;          /* bumped on every change, a futex */
	_Atomic uint32_t waiting;
};

static void wait_change(struct ring *r, uint32_t seen)
{
	atomic_fetch_add(&r->waiting, 1);
	syscall(SYS_futex, &r->seq, FUTEX_WAIT, seen, NULL, NULL, 0);
	atomic_fetch_sub(&r->waiting, 1);
}

static void changed(struct ring *r)
{
	atomic_fetch_add(&r->seq, 1);
	if (atomic_load(&r->waiting))
		syscall(SYS_futex, &r->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

int main(int argc, char **argv)
{
	uint64_t cap = argc > 1 ? strtoull(argv[1], NULL, 0) : 16 << 20;
	struct ring *r = mmap(NULL, 4096 + cap, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return perror("mmap"), 71;
	char *data = (char *)r + 4096;
	pid_t pid = fork();
	if (pid < 0)
		return perror("fork"), 71;
	if (pid == 0) {
		for (;;) {
			uint32_t seen = atomic_load(&r->seq);
			uint64_t head = atomic_load(&r->head), tail = atomic_load(&r->tail);
			if (head == tail) {
				if (atomic_load(&r->eof))
					_exit(0);
				wait_change(r, seen);
				continue;
			}
			uint64_t off = tail % cap, n = head - tail;
			if (n > cap - off)
				n = cap - off;
			ssize_t w = write(STDOUT_FILENO, data + off, n);
			if (w < 0 && errno != EINTR)
				_exit(74);
			if (w > 0) {
				atomic_fetch_add(&r->tail, (uint64_t)w);
				changed(r);
			}
		}
	}
	for (;;) {
		uint32_t seen = atomic_load(&r->seq);
		uint64_t head = atomic_load(&r->head), tail = atomic_load(&r->tail);
		if (head - tail == cap) {
			wait_change(r, seen);
			continue;
		}
		uint64_t off = head % cap, n = cap - (head - tail);
		if (n > cap - off)
			n = cap - off;
		if (n > 1 << 20)
			n = 1 << 20;
		ssize_t got = read(STDIN_FILENO, data + off, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		atomic_fetch_add(&r->head, (uint64_t)got);
		changed(r);
	}
	atomic_store(&r->eof, 1);
	changed(r);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
