/* sigwait: wait for signals with sigtimedwait, print one line for each (or
 * run a command), with the signals blocked before anyone is told we wait. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipctools.h"

extern char **environ;

enum { OPT_FOREVER = 256, OPT_FORMAT, OPT_EXEC, OPT_PIDFILE, OPT_EXITST };

struct opts {
	sigset_t want;
	bool any;
	long count;
	bool forever;
	int64_t timeout;
	const char *format;
	char **cmd;
	int ready_fd;
	struct it_wait wait;        /* -w and --ready-fd as given */
	const char *pidfile;
	bool exit_status;
};

static const struct argp_option options[] = {
	{"signal", 's', "SIG", 0, "wait for SIG: USR1, SIGUSR1, 10, RTMIN+2 (repeatable; default USR1)", 0},
	{"count", 'n', "COUNT", 0, "exit 0 after COUNT signals (default 1)", 0},
	{"forever", OPT_FOREVER, 0, 0, "keep waiting: a line for every signal", 0},
	{"format", OPT_FORMAT, "FORMAT", 0, "print FORMAT for each signal: %S SIGUSR1, %s USR1, %n number, %p sender pid, %u sender uid, %v value, %c code, %% a %", 0},
	{"exec", OPT_EXEC, "CMD", 0, "run CMD with the arguments that follow for each signal, instead of printing", 0},
	{"pidfile", OPT_PIDFILE, "FILE", 0, "write our pid to FILE once the signals are blocked; removed on exit", 0},
	{"exit-status", OPT_EXITST, 0, 0, "exit with 128 plus the number of the last signal", 0},
	{0}
};

/* -w and --ready-fd, in sigwait's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "give up after DURATION (250ms, 1.5s, 2m): exit 1", 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "write a newline to FD once the signals are blocked, then close it", 0},
	{0}
};

static const struct argp_child children[] = {
	IT_WAIT_CHILD(wait_options),
	{0}
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	int signo;
	switch (key) {
	case 's':
		if (it_sig_parse(arg, false, &signo) < 0)
			it_argp_bad(state, "signal", arg);
		if (signo == SIGKILL || signo == SIGSTOP || sigaddset(&o->want, signo) < 0)
			argp_error(state, "%s cannot be blocked, so cannot be waited for", arg);
		o->any = true;
		break;
	case 'n':
		if (it_parse_long(arg, 1, LONG_MAX, &o->count) < 0)
			it_argp_bad(state, "count", arg);
		break;
	case OPT_FOREVER:
		o->forever = true;
		break;
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &o->wait);
		break;
	case OPT_FORMAT:
		for (const char *p = strchr(arg, '%'); p; p = strchr(p + 2, '%')) {
			if (!p[1])
				argp_error(state, "invalid format '%s': a %% at the "
					   "end (%%%% prints a %%)",
					   it_quote(arg, (char[48]){0}, 48));
			if (!strchr("Ssnpuvc%", p[1]))
				argp_error(state, "invalid format '%s': %%%s is not "
					   "an escape", it_quote(arg, (char[48]){0}, 48),
					   it_quote((char[]){p[1], '\0'}, (char[8]){0}, 8));
		}
		o->format = arg;
		break;
	case OPT_PIDFILE:
		it_argp_nonempty(state, "pidfile", arg);
		o->pidfile = arg;
		break;
	case OPT_EXITST:
		o->exit_status = true;
		break;
	case OPT_EXEC:
	case ARGP_KEY_ARG:
		/* The command ends our options: the rest are its arguments,
		 * even those that look like ours. */
		if (o->cmd)
			argp_error(state, "one command only: --exec CMD or -- CMD");
		it_argp_nonempty(state, "command", arg);
		state->argv[state->next - 1] = arg;
		o->cmd = state->argv + state->next - 1;
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!o->any)
			sigaddset(&o->want, SIGUSR1);
		if (o->forever && o->count)
			argp_error(state, "-n and --forever cannot be combined");
		if (o->cmd && o->format)
			argp_error(state, "--exec runs a command instead of printing: no --format with it");
		if (o->forever && o->exit_status)
			argp_error(state, "--forever never ends by a signal it waits for: no --exit-status with it");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static bool has_value(const siginfo_t *si)
{
	return si->si_code == SI_QUEUE || si->si_code == SI_MESGQ ||
	       si->si_code == SI_TIMER || si->si_code == SI_ASYNCIO;
}

static const char *code_name(int code)
{
	switch (code) {
	case SI_USER: return "user";
	case SI_QUEUE: return "queue";
	case SI_TKILL: return "tkill";
	case SI_KERNEL: return "kernel";
	case SI_MESGQ: return "mesgq";
	case SI_TIMER: return "timer";
	case SI_ASYNCIO: return "asyncio";
	default: return "other";
	}
}

static void put_format(const char *fmt, const siginfo_t *si)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			putchar(*p);
			continue;
		}
		switch (*++p) {
		case 'S': printf("SIG%s", it_sig_name(si->si_signo)); break;
		case 's': fputs(it_sig_name(si->si_signo), stdout); break;
		case 'n': printf("%d", si->si_signo); break;
		case 'p': printf("%d", (int)si->si_pid); break;
		case 'u': printf("%u", (unsigned)si->si_uid); break;
		case 'c': fputs(code_name(si->si_code), stdout); break;
		case 'v':
			if (has_value(si))
				printf("%d", si->si_value.sival_int);
			break;
		default: putchar('%'); break;
		}
	}
}

/* Where the lines go into a pipe: what cuts the wait for its reader. */
struct drain {
	int stopfd;         /* a signalfd of the stop signals */
	int64_t deadline;
};

/* Waits until the reader of the pipe on stdout has read every byte: 0; or
 * has gone first: how many bytes it left. A stop signal or the deadline
 * ends the wait too, with 0: a live reader will read them. Our signals are
 * blocked, so they interrupt no poll(2): the signalfd is polled instead.
 * A pipe wakes nobody when it empties, so this looks for a moment, then
 * every 10 ms. */
static int drain(const struct drain *d)
{
	struct pollfd p[2] = {{STDOUT_FILENO, 0, 0}, {d->stopfd, POLLIN, 0}};
	int64_t spin = it_now_ns() + 100000;
	int unread;
	for (;;) {
		if (ioctl(STDOUT_FILENO, FIONREAD, &unread) < 0 || unread == 0)
			return 0;
		if (it_now_ns() < spin) {
			sched_yield();
			continue;
		}
		int ms = it_left_ms(d->deadline);
		if (ms == 0 || (poll(p, 2, ms < 0 || ms > 10 ? 10 : ms) < 0 &&
				errno != EINTR))
			return 0;
		if (p[0].revents & POLLERR)
			return ioctl(STDOUT_FILENO, FIONREAD, &unread) < 0 ? 0 : unread;
		if (p[1].revents & POLLIN)
			return 0;
	}
}

/* One line per signal, flushed at once for a reader downstream. Into a
 * pipe (d not NULL), the next signal is taken only once the reader has
 * read the line:
 * a reader such as head(1) takes what it wants and leaves, and a signal
 * whose line it left unread would be lost. If it leaves with the line in
 * the pipe (or before it could be written), that signal is reported lost,
 * exit 74; a reader gone between two signals is SIGPIPE, as for cat. */
static int print(const struct opts *o, const siginfo_t *si, const struct drain *d)
{
	if (o->format)
		put_format(o->format, si);
	else if (has_value(si))
		put_format("%S signo=%n pid=%p uid=%u value=%v", si);
	else
		put_format("%S signo=%n pid=%p uid=%u", si);
	putchar('\n');
	int left = 0;
	if (fflush(stdout) == 0 && (!d || (left = drain(d)) == 0))
		return IT_OK;
	if (left > 0 || errno == EPIPE)
		it_warn("unable to write standard output: its reader went away "
			"without the line of SIG%s from pid %d", it_sig_name(si->si_signo),
			(int)si->si_pid);
	else
		it_warn("unable to write standard output: %s (the line of SIG%s "
			"from pid %d is lost)", strerror(errno),
			it_sig_name(si->si_signo), (int)si->si_pid);
	it_reported();
	return IT_IOERR;
}

/* Runs cmd and waits for it, through a helper that sends us no signal when
 * it ends: a copy of us made by clone(2) with flags 0, whose exit signal is
 * then 0 (every argument is 0, so the call reads the same on every
 * architecture). Only the helper may be that child: exec sets the exit
 * signal back to SIGCHLD, so the command is the helper's own child, and its
 * end, stops and continues go to the helper. With -s CHLD, a SIGCHLD of our
 * own making would otherwise be taken for the next signal, for ever.
 * SA_NOCLDSTOP, set in main, keeps the helper's own stops out too. The
 * command gets the mask we started with, as if we had never run. 0, or -1
 * with errno (the helper's exit status carries posix_spawn's error). */
static int spawn_wait(char **cmd, const sigset_t *orig)
{
	pid_t helper = (pid_t)syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
	if (helper < 0)
		return -1;
	if (helper == 0) {
		posix_spawnattr_t attr;
		posix_spawnattr_init(&attr);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
		posix_spawnattr_setsigmask(&attr, orig);
		pid_t pid;
		int err = posix_spawnp(&pid, cmd[0], NULL, &attr, cmd, environ);
		if (err)
			_exit(err & 0xff);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	/* __WALL: a child without an exit signal is a "clone" child to
	 * wait(2). ECHILD: SIGCHLD was ignored when we started, and the
	 * kernel has reaped it. */
	int st = 0;
	while (waitpid(helper, &st, __WALL) < 0)
		if (errno != EINTR) {
			if (errno == ECHILD)
				return 0;
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st)) {
		errno = WEXITSTATUS(st);
		return -1;
	}
	return 0;
}

/* Runs the command for one signal and waits for it, so that commands never
 * overlap; signals arriving meanwhile stay pending, since they are blocked. */
static int run(const struct opts *o, const siginfo_t *si, const sigset_t *orig)
{
	char num[32];
	snprintf(num, sizeof num, "SIG%s", it_sig_name(si->si_signo));
	setenv("SIGNAL", num, 1);
	snprintf(num, sizeof num, "%d", si->si_signo);
	setenv("SIGNO", num, 1);
	snprintf(num, sizeof num, "%d", (int)si->si_pid);
	setenv("SIGPID", num, 1);
	snprintf(num, sizeof num, "%u", (unsigned)si->si_uid);
	setenv("SIGUID", num, 1);
	snprintf(num, sizeof num, "%d", si->si_value.sival_int);
	if (has_value(si))
		setenv("SIGVALUE", num, 1);
	else
		unsetenv("SIGVALUE");

	if (spawn_wait(o->cmd, orig) < 0) {
		it_warn("unable to run %s: %s", o->cmd[0], strerror(errno));
		return IT_OSERR;
	}
	return IT_OK;
}

/* Takes signals off the queue one at a time until COUNT, the deadline, or
 * a stop signal (*stop set). A signalfd of the same set tells poll(2) when
 * one is pending, so that poll can also watch a pipe on stdout: once its
 * reader has gone, no further signal is taken that nobody would see, and
 * we end as by SIGPIPE, like any filter. Returns the exit status. */
static int loop(const struct opts *o, const sigset_t *wait, const sigset_t *stops,
		const sigset_t *orig, int *stop)
{
	struct stat st;
	bool pipe = !o->cmd && fstat(STDOUT_FILENO, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	int64_t deadline = it_deadline(o->timeout);
	struct drain d = {-1, deadline}, *into_pipe = NULL;
	if (pipe && S_ISFIFO(st.st_mode)) {
		d.stopfd = signalfd(-1, stops, SFD_CLOEXEC);
		into_pipe = &d;
	}
	struct pollfd p[2] = {{signalfd(-1, wait, SFD_CLOEXEC), POLLIN, 0},
			      {STDOUT_FILENO, 0, 0}};
	if (p[0].fd < 0 || (into_pipe && d.stopfd < 0)) {
		it_warn("unable to wait for signals: %s", strerror(errno));
		return IT_OSERR;
	}
	long got = 0;
	int last = 0, status = IT_OK;
	const struct timespec now = {0, 0};
	while (!status && (o->forever || got < (o->count ? o->count : 1))) {
		/* Checked before each signal, not only when poll times out:
		 * a stream of pending signals must not outlast the deadline. */
		if (it_left_ns(deadline) == 0) {
			status = IT_NO;
			break;
		}
		int n = poll(p, pipe ? 2 : 1, it_left_ms(deadline));
		if (n < 0 && errno != EINTR) {
			it_warn("unable to wait for signals: %s", strerror(errno));
			status = IT_OSERR;
		} else if (pipe && (p[1].revents & (POLLERR | POLLHUP))) {
			*stop = SIGPIPE;
			break;
		} else if (n == 0) {
			status = IT_NO;
		} else if (n > 0) {
			/* A stop signal first, even when a lower-numbered
			 * signal we wait for is pending too. */
			siginfo_t si;
			int signo = sigtimedwait(stops, &si, &now);
			if (signo < 0)
				signo = sigtimedwait(wait, &si, &now);
			if (signo < 0)
				continue;  /* taken meanwhile, or EINTR */
			if (sigismember(stops, signo)) {
				*stop = signo;
				break;
			}
			status = o->cmd ? run(o, &si, orig) : print(o, &si, into_pipe);
			got++;
			last = signo;
		}
	}
	close(p[0].fd);
	if (d.stopfd >= 0)
		close(d.stopfd);
	if (status || *stop)
		return status;
	return o->exit_status ? 128 + last : IT_OK;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {options, parse_opt,
		"[-- CMD [ARG...]]",
		"Wait for signals and print a line for each, or run a command.\v"
		"Standard signals sent while one is pending merge into one; "
		"real-time signals queue, each with its value. Exit status: 0 "
		"after COUNT signals, 1 timed out, 64 usage, 66 no directory for "
		"the pidfile, 71 system error, 73 the pidfile names a running "
		"process, 74 output error, 77 not permitted; 128+N with "
		"--exit-status; 141 (SIGPIPE) once the reader of the output has "
		"gone.",
		children, NULL, NULL};
	struct opts o = {0};
	sigemptyset(&o.want);
	it_init();
	argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	o.timeout = o.wait.timeout;
	o.ready_fd = o.wait.ready_fd;
	/* A signal is taken off the queue for good: never one we could not
	 * report. (A command's output is its own business.) */
	if (!o.cmd)
		it_xcheck_stdout();

	/* Every signal that would end us (HUP, INT, QUIT, TERM, ALRM, PIPE,
	 * USR1 and USR2, the real-time ones...), unless waited for or ignored
	 * by whoever started us, is blocked and taken too: it ends us all the
	 * same, but only after the pidfile is gone. PIPE is blocked even when
	 * ignored, so that a closed stdout is an error we report. */
	sigset_t stops, wait, block, orig;
	sigemptyset(&stops);
	for (int s = 1; s <= SIGRTMAX; s++) {
		struct sigaction sa;
		const char *act = it_sig_default_action(s);
		if ((s > SIGSYS && s < SIGRTMIN) || s == SIGKILL || s == SIGSTOP ||
		    (strcmp(act, "Term") != 0 && strcmp(act, "Core") != 0) ||
		    sigismember(&o.want, s) || sigaction(s, NULL, &sa) < 0 ||
		    sa.sa_handler == SIG_IGN)
			continue;
		sigaddset(&stops, s);
	}
	/* No SIGCHLD for the helper's stops and continues (see spawn_wait). */
	struct sigaction chld;
	if (o.cmd && sigaction(SIGCHLD, NULL, &chld) == 0) {
		chld.sa_flags |= SA_NOCLDSTOP;
		sigaction(SIGCHLD, &chld, NULL);
	}
	sigorset(&wait, &o.want, &stops);
	block = wait;
	sigaddset(&block, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &block, &orig) < 0)
		it_xfail(errno, "block", "the signals", NULL);

	struct it_pidfile pf = {0};
	const char *why;
	if (o.pidfile && it_pidfile_write(&pf, o.pidfile, &why) < 0) {
		if (why)
			it_die(errno == EEXIST ? IT_CANTCREAT : IT_NOPERM,
			       "unable to write pidfile %s: %s", o.pidfile, why);
		it_xfail(errno, "write pidfile", o.pidfile, NULL);
	}
	int stop = 0, status = IT_OSERR;
	if (it_ready(o.ready_fd) < 0)
		it_warn("unable to write the readiness descriptor: %s", strerror(errno));
	else
		status = loop(&o, &wait, &stops, &orig, &stop);
	it_pidfile_remove(&pf);
	/* Die of a stop signal, as we would have without the pidfile to
	 * remove: the one taken, and any that came meanwhile (during the last
	 * command, say), delivered as soon as they are unblocked. */
	if (stop) {
		signal(stop, SIG_DFL);
		raise(stop);
		sigaddset(&stops, stop);
	}
	sigprocmask(SIG_UNBLOCK, &stops, NULL);
	it_close_stdout();
	return status;
}
