/* sockdgram: the physical limit of the datagram row. COUNT datagrams of
 * SIZE bytes through a UNIX datagram socket bound at PATH: send on a
 * connected socket in the parent (as usock send does, so the path is
 * looked up once), recv in a child, nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: sockdgram PATH COUNT SIZE\n");
		return 64;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	long count = atol(argv[2]);
	size_t size = (size_t)atol(argv[3]);
	char buf[65536];
	if (size > sizeof buf)
		return 64;
	memset(buf, 'x', size);
	unlink(argv[1]);
	int rfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (rfd < 0 || bind(rfd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		perror("sockdgram");
		return 71;
	}
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i < count; i++)
			if (recv(rfd, buf, sizeof buf, 0) < 0)
				_exit(71);
		_exit(0);
	}
	int sfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sfd < 0 || connect(sfd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		perror("sockdgram");
		return 71;
	}
	for (long i = 0; i < count; i++)
		if (send(sfd, buf, size, 0) < 0) {
			perror("send");
			return 71;
		}
	int status;
	waitpid(pid, &status, 0);
	unlink(argv[1]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 71;
}
