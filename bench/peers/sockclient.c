/* sockclient: the client loop of the serve rows. Connects COUNT times, one
 * after another, to the UNIX stream socket PATH and reads each connection
 * to its end, so that each server's command has run and exited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sockclient PATH COUNT\n");
		return 64;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	long count = atol(argv[2]);
	char buf[4096];
	for (long i = 0; i < count; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
			perror("sockclient");
			return 69;
		}
		while (read(fd, buf, sizeof buf) > 0)
			;
		close(fd);
	}
	return 0;
}
