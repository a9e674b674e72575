/* mq_pingpong: the limit for mqsend --call against mqrecv --reply on this
 * machine. COUNT round trips on the System V queue KEY (which must
 * exist): the parent sends a request of type 1 and waits for the reply of
 * its pid's type, a child answers each request so; nothing else, no
 * process per call, no envelope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg {
	long type;
	char text[256];
};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mq_pingpong KEY COUNT\n");
		return 64;
	}
	int id = msgget((key_t)strtoul(argv[1], NULL, 0), 0);
	long count = atol(argv[2]);
	static struct msg m;
	long caller = getpid();
	if (id < 0) {
		perror("mq_pingpong");
		return 71;
	}
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i < count; i++) {
			ssize_t n = msgrcv(id, &m, sizeof m.text, 1, 0);
			m.type = caller;
			if (n < 0 || msgsnd(id, &m, (size_t)n, 0) < 0)
				_exit(71);
		}
		_exit(0);
	}
	for (long i = 0; i < count; i++) {
		m.type = 1;
		memcpy(m.text, "hello", 5);
		if (msgsnd(id, &m, 5, 0) < 0 ||
		    msgrcv(id, &m, sizeof m.text, caller, 0) < 0) {
			perror("mq_pingpong");
			return 71;
		}
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 71;
}
