/* mq_posix: the POSIX twin of mq_sysv. COUNT messages of SIZE bytes
 * through the POSIX queue NAME (which must exist), mq_send in the parent
 * and mq_receive in a child, nothing else. */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mq_posix /NAME COUNT SIZE\n");
		return 64;
	}
	mqd_t q = mq_open(argv[1], O_RDWR);
	long count = atol(argv[2]);
	size_t size = (size_t)atol(argv[3]);
	struct mq_attr a;
	if (q == (mqd_t)-1 || mq_getattr(q, &a) < 0 || size > (size_t)a.mq_msgsize) {
		perror("mq_posix");
		return 71;
	}
	char *buf = malloc((size_t)a.mq_msgsize);
	if (!buf)
		return 71;
	memset(buf, 'x', size);
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i < count; i++)
			if (mq_receive(q, buf, (size_t)a.mq_msgsize, NULL) < 0)
				_exit(71);
		_exit(0);
	}
	for (long i = 0; i < count; i++)
		if (mq_send(q, buf, size, 0) < 0) {
			perror("mq_send");
			return 71;
		}
	int status;
	waitpid(pid, &status, 0);
	free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 71;
}
