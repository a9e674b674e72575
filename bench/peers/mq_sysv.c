/* mq_sysv: the physical limit for mqsend | mqrecv on this machine. COUNT
 * messages of SIZE bytes through the System V queue KEY (which must
 * exist), msgsnd in the parent and msgrcv in a child, nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg {
	long type;
	char text[8192];
};

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mq_sysv KEY COUNT SIZE\n");
		return 64;
	}
	int id = msgget((key_t)strtoul(argv[1], NULL, 0), 0);
	long count = atol(argv[2]);
	size_t size = (size_t)atol(argv[3]);
	static struct msg m = { .type = 1 };
	if (id < 0 || size > sizeof m.text) {
		perror("mq_sysv");
		return 71;
	}
	memset(m.text, 'x', size);
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i < count; i++)
			if (msgrcv(id, &m, sizeof m.text, 0, 0) < 0)
				_exit(71);
		_exit(0);
	}
	for (long i = 0; i < count; i++)
		if (msgsnd(id, &m, size, 0) < 0) {
			perror("msgsnd");
			return 71;
		}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 71;
}
