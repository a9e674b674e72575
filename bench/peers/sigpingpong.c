/* sigpingpong: the limit for sigsend/sigwait: N real-time signals carrying
 * 1..N bounced between two processes with sigqueue and sigwaitinfo, each
 * waiting for the other's answer (or, with "oneway", all sent one after
 * another and received in order by the other). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int take(const sigset_t *set)
{
	siginfo_t si;
	while (sigwaitinfo(set, &si) < 0)
		;
	return si.si_value.sival_int;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int oneway = argc > 2 && strcmp(argv[2], "oneway") == 0;
	sigset_t ping, pong, both;
	sigemptyset(&ping);
	sigaddset(&ping, SIGRTMIN);
	sigemptyset(&pong);
	sigaddset(&pong, SIGRTMIN + 1);
	sigorset(&both, &ping, &pong);
	sigprocmask(SIG_BLOCK, &both, NULL);
	pid_t parent = getpid(), child = fork();
	if (child < 0)
		return 71;
	if (child == 0) {
		for (int i = 1; i <= n; i++) {
			int v = take(&ping);
			if (v != i)
				_exit(1);
			if (!oneway && sigqueue(parent, SIGRTMIN + 1, (union sigval){.sival_int = v}) < 0)
				_exit(71);
		}
		_exit(0);
	}
	for (int i = 1; i <= n; i++) {
		if (sigqueue(child, SIGRTMIN, (union sigval){.sival_int = i}) < 0)
			return 71;
		if (!oneway && take(&pong) != i)
			return 1;
	}
	int status;
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
		return 71;
	return WEXITSTATUS(status);
}
