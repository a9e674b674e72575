/* callclient.c: a foreign caller for tests/rpc.bats. It speaks the
 * envelope of mqsend(1) with plain msgsnd(2) and msgrcv(2) and nothing of
 * ipctools, to show that a C program can call mqrecv --reply:
 *
 *   callclient KEY REQUEST-TYPE PAYLOAD
 *
 * sends "ipcrpc/1 call PID NONCE 0\n" PAYLOAD as type REQUEST-TYPE, waits
 * for the reply of type PID that repeats NONCE, writes its payload to
 * stdout and exits with the status the reply carries. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <unistd.h>

struct msg {
	long type;
	char text[8192];
};

int main(int argc, char **argv)
{
	static struct msg m;
	unsigned long long nonce = ((unsigned long long)getpid() << 32) ^
				   0x5eed5eedULL;
	char want[32];
	if (argc != 4)
		return 64;
	int id = msgget((key_t)strtol(argv[1], NULL, 0), 0);
	if (id < 0) {
		perror("callclient: msgget");
		return 66;
	}
	m.type = strtol(argv[2], NULL, 10);
	int n = snprintf(m.text, sizeof m.text, "ipcrpc/1 call %ld %016llx 0\n%s",
			 (long)getpid(), nonce, argv[3]);
	if (msgsnd(id, &m, (size_t)n, 0) < 0) {
		perror("callclient: msgsnd");
		return 71;
	}
	snprintf(want, sizeof want, " %016llx ", nonce);
	for (;;) {
		ssize_t got = msgrcv(id, &m, sizeof m.text - 1, getpid(), 0);
		if (got < 0) {
			perror("callclient: msgrcv");
			return 71;
		}
		m.text[got] = '\0';
		char *nl = memchr(m.text, '\n', (size_t)got);
		if (strncmp(m.text, "ipcrpc/1 reply ", 15) || !nl ||
		    !strstr(m.text, want))
			continue;   /* not the reply to this call */
		fwrite(nl + 1, 1, (size_t)(got - (nl + 1 - m.text)), stdout);
		return atoi(m.text + 15 + 17);
	}
}
