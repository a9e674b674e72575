/* SIGINT, SIGTERM and SIGHUP: caught and acted on between messages, so
 * that the message in hand is finished or put back first; and the
 * interruptible wait that every blocking step of put --wait and take uses. */
#include "spool.h"

/* SIGINT, SIGTERM or SIGHUP, once caught: acted on between messages, so
 * that the message in hand is finished or put back first. */
volatile sig_atomic_t caught;

void on_stop(int sig)
{
	if (!caught)
		caught = sig;
}

int stopped(void)
{
	return caught;
}

/* SIGCONT: a process stopped (SIGSTOP, ^Z) while it waited is continued
 * with a wait whose time left was counted when it stopped, as if no time
 * had passed meanwhile; -w would be overrun by the time spent stopped. The
 * handler makes that wait end (poll(2) is never restarted after one), and
 * the time left is counted again from the deadline. */
static void on_cont(int sig)
{
	(void)sig;
}

/* Ends as by sig, with the pipe on stdout given its own size back first:
 * the atexit handler that would do it does not run then. */
_Noreturn void end_by(int sig)
{
	it_drain_restore();
	it_exit_signal(sig);
}

/* poll(2) that a stop signal interrupts, whenever it came: the signals are
 * blocked from the check of the flag until ppoll unblocks them. */
int poll_stop(const sigset_t *stops, const sigset_t *old,
	      struct pollfd *p, nfds_t n, int64_t deadline)
{
	sigprocmask(SIG_BLOCK, stops, NULL);
	int rc = -1;
	errno = EINTR;
	if (!caught) {
		int64_t left = it_left_ns(deadline);
		struct timespec ts = it_ns_to_ts(left);
		rc = ppoll(p, n, left == IT_FOREVER ? NULL : &ts, old);
	}
	int err = errno;
	sigprocmask(SIG_SETMASK, old, NULL);
	errno = err;
	return rc;
}

void setup_signals(struct taker *t)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigemptyset(&t->stops);
	sigaddset(&t->stops, SIGINT);
	sigaddset(&t->stops, SIGTERM);
	sigaddset(&t->stops, SIGHUP);
	/* No SA_RESTART: a blocking write to stdout returns EINTR. A signal
	 * ignored when we started (nohup, a background job) stays ignored. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sigismember(&t->stops, sig) == 1 &&
		    sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sig, &sa, NULL);
	}
	/* SA_RESTART: only the waits end, other calls go on as they were. */
	struct sigaction cont = {.sa_handler = on_cont, .sa_flags = SA_RESTART};
	sigemptyset(&cont.sa_mask);
	sigaction(SIGCONT, &cont, NULL);
	sigprocmask(SIG_SETMASK, NULL, &t->oldmask);
	sigdelset(&t->oldmask, SIGINT);
	sigdelset(&t->oldmask, SIGTERM);
	sigdelset(&t->oldmask, SIGHUP);
	sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	/* A vanished reader must show as EPIPE, so that the message in
	 * hand goes back before the tool ends; and a writer that opens a
	 * file while we hold its lease, for a moment, must not kill us with
	 * the SIGIO that tells of it. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
}
