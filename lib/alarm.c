/* alarm.c: bounding the system calls that have no timed form (msgsnd,
 * msgrcv, the blocking open of a FIFO). SIGALRM, caught by a handler that
 * does nothing and installed without SA_RESTART, makes the call in
 * progress fail with EINTR; the caller then checks its monotonic deadline
 * and either gives up or calls again. */
#include <errno.h>
#include <signal.h>

#include "ipctools.h"

static timer_t timer;
static bool armed_ok;

static void on_alarm(int sig)
{
	(void)sig;
}

void it_alarm_init(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGALRM };
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) < 0)
		it_xfail(errno, "create", "a timer", NULL);
	armed_ok = true;
}

void it_alarm_at(int64_t deadline)
{
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };
	if (deadline != IT_FOREVER) {
		/* A zero it_value would disarm the timer: a deadline that
		 * has passed fires at once instead. The repeats catch an
		 * alarm that came just before the call began to block. */
		int64_t left = it_left_ns(deadline);
		it.it_value = it_ns_to_ts(left > 0 ? left : 1);
		it.it_interval = it_ns_to_ts(10000000);
	}
	if (armed_ok)
		timer_settime(timer, 0, &it, NULL);
}
