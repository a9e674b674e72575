/* sigsend: send a signal to processes, process groups or the process a
 * pidfile names, through pidfds, so that a process that has exited and
 * whose pid was taken by another between our look and our signal is not
 * hit; a pidfile's process is also checked to be old enough to have written
 * it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "ipctools.h"

#define MAXSTEPS 16

enum { OPT_GROUP = 256, OPT_ALL, OPT_WAIT, OPT_ESCALATE };

/* The options that -l takes none of, and the other modes some of. */
enum {
	U_SIGNAL = 1, U_TARGET = 2, U_CHECK = 4, U_VALUE = 8, U_WAIT = 16,
	U_ESCALATE = 32, U_TIMEOUT = 64,
};

/* One signal of an --escalate schedule and how long to wait after it;
 * ns < 0 means "until -w". A plain send is a schedule of one. */
struct step {
	int signo;
	int64_t ns;
	const char *dur;
};

struct target {
	pid_t pid;            /* kill(2)'s forms: > 0, 0, -PGID, -1 */
	const char *pidfile;  /* where pid came from, for messages */
	struct timespec mtime;  /* the pidfile's, once read */
	int pidfd;            /* -1 for groups, or where the kernel has none */
	bool gone;
};

struct opts {
	struct step steps[MAXSTEPS];
	int nsteps;
	char *schedule;       /* --escalate's, cut up by parse_schedule */
	unsigned used;        /* U_ bits of the options given */
	bool check, list, wait;
	int *values;
	size_t nvalues;
	int64_t timeout;      /* -w: the bound of --wait and --escalate */
	const char *timeout_arg;
	struct it_wait waitopt;       /* -w as given */
	struct target *t;
	int nt;
	char **args;
	int nargs;
};

static const struct argp_option options[] = {
	{"signal", 's', "SIG", 0, "signal to send: TERM, SIGTERM, term, 15, RTMIN+2 (default TERM)", 0},
	{"pidfile", 'p', "FILE", 0, "signal the process whose pid FILE holds (repeatable)", 0},
	{"group", OPT_GROUP, "PGID", 0, "signal every process in group PGID (repeatable)", 0},
	{"all", OPT_ALL, 0, 0, "signal every process we may signal (pid -1)", 0},
	{"check", '0', 0, 0, "send the null signal: exit 0 if the process exists, 1 if not, 77 if it is not ours", 0},
	{"value", 'q', "N", 0, "queue the signal carrying the int N, like sigqueue(3); repeat to send one signal per value, in order", 0},
	{"wait", OPT_WAIT, 0, 0, "then wait until every process has exited", 0},
	{"escalate", OPT_ESCALATE, "SCHEDULE", 0, "send signals in turn until the processes exit: TERM,2s,KILL", 0},
	{"list", 'l', 0, 0, "list the signals, or convert each SIGNAL operand between name and number", 0},
	/* kill(1) users type -9 for a signal, kill(2) users -9 for a group:
	 * guessing either could hit the wrong processes, so both are refused. */
	{0, '1', 0, OPTION_HIDDEN, 0, 0}, {0, '2', 0, OPTION_HIDDEN, 0, 0},
	{0, '3', 0, OPTION_HIDDEN, 0, 0}, {0, '4', 0, OPTION_HIDDEN, 0, 0},
	{0, '5', 0, OPTION_HIDDEN, 0, 0}, {0, '6', 0, OPTION_HIDDEN, 0, 0},
	{0, '7', 0, OPTION_HIDDEN, 0, 0}, {0, '8', 0, OPTION_HIDDEN, 0, 0},
	{0, '9', 0, OPTION_HIDDEN, 0, 0},
	{0}
};

/* Room for every target and value was made in main: each takes at least
 * one word of the command line. */
static void add_target(struct opts *o, pid_t pid, const char *pidfile)
{
	o->t[o->nt++] = (struct target){.pid = pid, .pidfile = pidfile, .pidfd = -1};
}

/* "TERM,2s,KILL": signal names, each optionally followed by a duration
 * (a token that starts with a digit, so "2" is two seconds, not SIGINT).
 * An empty step ("TERM,", ",TERM", "TERM,,KILL") is a mistake, not
 * nothing. NULL, or why s is refused. */
static const char *parse_schedule(struct opts *o, char *s)
{
	o->nsteps = 0;
	for (char *tok; (tok = strsep(&s, ",")); ) {
		struct step *st = &o->steps[o->nsteps];
		if (!*tok)
			return "an empty step";
		if ((*tok >= '0' && *tok <= '9') || *tok == '.') {
			if (o->nsteps == 0)
				return "it starts with a pause, not a signal";
			if (st[-1].dur)
				return "two pauses in a row";
			if (it_parse_duration(tok, &st[-1].ns) < 0)
				return "a pause is not a duration";
			st[-1].dur = tok;
		} else if (o->nsteps == MAXSTEPS) {
			return "more than 16 signals";
		} else if (it_sig_parse(tok, false, &st->signo) < 0) {
			return "a step is not a signal";
		} else {
			st->ns = -1;
			st->dur = NULL;
			o->nsteps++;
		}
	}
	return NULL;
}

static unsigned opt_bit(int key)
{
	switch (key) {
	case 's': return U_SIGNAL;
	case 'p': case OPT_GROUP: case OPT_ALL: return U_TARGET;
	case '0': return U_CHECK;
	case 'q': return U_VALUE;
	case OPT_WAIT: return U_WAIT;
	case OPT_ESCALATE: return U_ESCALATE;
	default: return 0;
	}
}

/* -NUM: kill(1) users type -9 for a signal, kill(2) users -9 for a group. */
static void ambiguous(int key, struct argp_state *state)
{
	/* getopt moves past "-1234" only after its last character. */
	const char *a = state->argv[state->next - 1];
	if (state->next < state->argc && state->argv[state->next][0] == '-' &&
	    state->argv[state->next][1] == key)
		a = state->argv[state->next];
	/* The whole number typed, -15 as much as -9. */
	const char *num = a[0] == '-' && a[1] && !a[1 + strspn(a + 1,
			  "0123456789")] ? a + 1 : (char[2]){(char)key, 0};
	argp_error(state, "'%s' is ambiguous: use -s %s for a signal, "
		   "or --group or -- -PGID for a process group",
		   it_quote(a, (char[48]){0}, 48), it_quote(num, (char[48]){0}, 48));
}

/* The operands: SIGNALs to convert with -l, else PIDs. */
static void parse_operands(struct opts *o, struct argp_state *state)
{
	long v;
	int64_t ns;
	for (int i = 0; i < o->nargs; i++) {
		const char *a = o->args[i];
		int signo;
		if (o->list && it_parse_long(a, 129, 128 + SIGRTMAX, &v) < 0 &&
		    it_sig_parse(a, false, &signo) < 0)
			it_argp_bad(state, "signal", a);
		if (o->list)
			continue;
		/* "--wait 1s": --wait takes no argument, -w bounds it. */
		if (it_parse_long(a, INT32_MIN + 1, INT32_MAX, &v) < 0 &&
		    it_parse_duration(a, &ns) == 0)
			argp_error(state, "invalid pid '%s': a duration? --wait "
				   "takes none: -w DURATION bounds it",
				   it_quote(a, (char[48]){0}, 48));
		if (it_parse_long(a, INT32_MIN + 1, INT32_MAX, &v) < 0)
			it_argp_bad(state, "pid", a);
		if (v == -1)
			argp_error(state, "pid -1 means every process: use --all");
		add_target(o, (pid_t)v, NULL);
	}
}

/* One rule: an option that has no effect in the mode chosen is a usage
 * error, never silently ignored. */
static void check_modes(struct opts *o, struct argp_state *state)
{
	unsigned u = o->used;
	if (o->list) {
		if (u)
			argp_error(state, "-l lists and converts signals, and "
				   "sends none: no other option with it");
		return;
	}
	if (o->nt == 0)
		argp_error(state, "no process given");
	/* A schedule of one signal is a schedule too: -s after it
	 * would silently replace its signal. */
	if (u & U_ESCALATE && u & (U_SIGNAL | U_CHECK | U_VALUE))
		argp_error(state, "--escalate sends its own signals: no -s, -0 or -q with it");
	if (u & U_ESCALATE && u & U_WAIT)
		argp_error(state, "--escalate waits already: no --wait with it");
	if (u & U_CHECK && u & (U_SIGNAL | U_VALUE | U_WAIT))
		argp_error(state, "--check sends the null signal: no -s, -q or --wait with it");
	if (u & U_TIMEOUT && !(u & (U_WAIT | U_ESCALATE)))
		argp_error(state, "-w bounds --wait and --escalate: no -w without one of them");
	for (int i = 0; i < o->nt; i++)
		if (o->t[i].pid <= 0 && !o->t[i].pidfile &&
		    u & (U_VALUE | U_WAIT | U_ESCALATE))
			argp_error(state, "-q, --wait and --escalate need processes, not process groups");
}

/* -w, in sigsend's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "with --wait or --escalate: exit 1 if a process still runs DURATION after the first signal", 0},
	{0}
};

static const struct argp_child children[] = {
	IT_WAIT_CHILD(wait_options),
	{0}
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	const char *why;
	long v;
	o->used |= opt_bit(key);
	switch (key) {
	case 's':
		if (it_sig_parse(arg, true, &o->steps[0].signo) < 0)
			it_argp_bad(state, "signal", arg);
		if (o->steps[0].signo == 0)
			argp_error(state, "invalid signal '%s': the null signal "
				   "is -0 (--check)", it_quote(arg, (char[48]){0}, 48));
		break;
	case 'p':
		it_argp_nonempty(state, "pidfile", arg);
		add_target(o, 0, arg);
		break;
	case OPT_GROUP:
		if (it_parse_long(arg, 1, INT32_MAX, &v) < 0)
			it_argp_bad(state, "process group", arg);
		add_target(o, -(pid_t)v, NULL);
		break;
	case OPT_ALL:
		add_target(o, -1, NULL);
		break;
	case '0':
		o->check = true;
		break;
	case 'q':
		if (it_parse_long(arg, INT32_MIN, INT32_MAX, &v) < 0)
			it_argp_bad(state, "value", arg);
		o->values[o->nvalues++] = (int)v;
		break;
	case OPT_WAIT:
		o->wait = true;
		break;
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &o->waitopt);
		break;
	case OPT_ESCALATE:
		free(o->schedule);
		if (!(o->schedule = strdup(arg)))
			it_xfail(errno, "allocate", "the schedule", NULL);
		if ((why = parse_schedule(o, o->schedule)))
			argp_error(state, "invalid schedule '%s': %s",
				   it_quote(arg, (char[48]){0}, 48), why);
		break;
	case 'l':
		o->list = true;
		break;
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
	case '8': case '9':
		ambiguous(key, state);
		break;
	case ARGP_KEY_ARGS:
		o->args = state->argv + state->next;
		o->nargs = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		if (o->waitopt.timed)
			o->used |= U_TIMEOUT;
		o->timeout = o->waitopt.timeout;
		o->timeout_arg = o->waitopt.timeout_arg;
		parse_operands(o, state);
		check_modes(o, state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char *label(const struct target *t)
{
	static char buf[4200];
	if (t->pidfile)
		snprintf(buf, sizeof buf, "pid %d (from %s)", (int)t->pid, t->pidfile);
	else if (t->pid > 0)
		snprintf(buf, sizeof buf, "pid %d", (int)t->pid);
	else if (t->pid == 0)
		snprintf(buf, sizeof buf, "our process group");
	else if (t->pid == -1)
		snprintf(buf, sizeof buf, "every process");
	else
		snprintf(buf, sizeof buf, "process group %d", -(int)t->pid);
	return buf;
}

/* Reads t's pidfile into *pid: 0, or the exit status once reported. */
static int read_pidfile(struct target *t, pid_t *pid)
{
	const char *why;
	if (it_pidfile_read(t->pidfile, pid, &t->mtime, &why) == 0)
		return 0;
	int err = errno;
	it_warn("unable to read pidfile %s: %s", t->pidfile,
		why ? why : strerror(err));
	return !why ? it_exit_for(err) : err == EPERM ? IT_NOPERM : IT_DATAERR;
}

/* Takes a pidfd for a process; for a pidfile, reads it again once the pidfd
 * is held, so that a daemon that died and whose pid was recycled between
 * our read and pidfd_open is noticed instead of signalled, and refuses a
 * process that started after the pidfile was written, which cannot be the
 * one that wrote it. No pidfd for a group, or where the kernel has none.
 * 0; or -1 with errno; or the exit status of a pidfile's failure, once
 * reported. */
static int open_target(struct target *t)
{
	if (t->pid <= 0 && !t->pidfile)
		return 0;
	for (int tries = 0;; tries++) {
		int status;
		if (t->pidfile && (status = read_pidfile(t, &t->pid)))
			return status;
		t->pidfd = pidfd_open(t->pid, 0);
		if (t->pidfd < 0 && errno != ENOSYS)
			return -1;
		pid_t again;
		if (!t->pidfile)
			return 0;
		if ((status = read_pidfile(t, &again)))
			return status;
		if (again == t->pid && it_pid_started_after(t->pid, &t->mtime)) {
			errno = ESTALE;
			return -1;
		}
		if (again == t->pid)
			return 0;
		if (t->pidfd >= 0)
			close(t->pidfd);
		t->pidfd = -1;
		if (tries == 2) {
			it_warn("unable to read pidfile %s: it keeps changing",
				t->pidfile);
			return IT_OSERR;
		}
	}
}

static int send_one(const struct target *t, int signo, const int *value)
{
	if (t->pidfd < 0 && value)
		return sigqueue(t->pid, signo, (union sigval){.sival_int = *value});
	if (t->pidfd < 0)
		return kill(t->pid, signo);
	if (!value)
		return pidfd_send_signal(t->pidfd, signo, NULL, 0);
	/* What sigqueue(3) fills in; the kernel accepts SI_QUEUE from anyone
	 * and queues it, where a plain kill of a pending real-time signal
	 * would be merged. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = signo;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = *value;
	return pidfd_send_signal(t->pidfd, signo, &si, 0);
}

/* Reports a failure for one target and returns its exit status. ESTALE
 * stands for a process younger than its pidfile. */
static int failed(const struct target *t, int signo, int err)
{
	int status = err == ESRCH || err == ESTALE ? IT_NO
		     : err == EAGAIN ? IT_OSERR : it_exit_for(err);
	it_warn("unable to send %s to %s: %s%s", it_sig_name(signo), label(t),
		err == ESTALE ? "it started after the pidfile was written, so "
		"it is not the process that wrote it (a recycled pid)"
		: strerror(err), err == EAGAIN
		? " (its queue of pending signals is full: RLIMIT_SIGPENDING, ulimit -i)"
		: "");
	return status;
}

/* Sends signo (once per value, if any) to every target still running. */
static int send_all(struct opts *o, int signo, bool first)
{
	int status = IT_OK;
	for (int i = 0; i < o->nt; i++) {
		struct target *t = &o->t[i];
		size_t n = o->nvalues ? o->nvalues : 1;
		for (size_t j = 0; j < n && !t->gone; j++) {
			if (send_one(t, signo, o->nvalues ? &o->values[j] : NULL) == 0)
				continue;
			if (errno == ESRCH && !first)
				t->gone = true;
			else if (!status)
				status = failed(t, signo, errno);
			else
				failed(t, signo, errno);
			break;
		}
	}
	return status;
}

/* Waits until every target has exited, or the deadline: a pidfd polls
 * readable then, child of ours or not. Without pidfds, kill(pid, 0) is
 * asked every 10 ms. */
static bool wait_gone(struct opts *o, int64_t deadline)
{
	struct pollfd *pfd = calloc((size_t)o->nt, sizeof *pfd);
	if (!pfd)
		it_xfail(errno, "allocate", "descriptors", NULL);
	for (;;) {
		bool live = false, nofd = false;
		for (int i = 0; i < o->nt; i++) {
			struct target *t = &o->t[i];
			if (t->pidfd < 0 && !t->gone && kill(t->pid, 0) < 0 && errno == ESRCH)
				t->gone = true;
			pfd[i] = (struct pollfd){t->gone ? -1 : t->pidfd, POLLIN, 0};
			live |= !t->gone;
			nofd |= !t->gone && t->pidfd < 0;
		}
		int ms = it_left_ms(deadline);
		if (!live || ms == 0) {
			free(pfd);
			return !live;
		}
		if (nofd && (ms < 0 || ms > 10))
			ms = 10;
		if (poll(pfd, (nfds_t)o->nt, ms) < 0 && errno != EINTR)
			it_xfail(errno, "wait for", "the processes", NULL);
		for (int i = 0; i < o->nt; i++)
			if (pfd[i].revents)
				o->t[i].gone = true;
	}
}

/* Runs the schedule: send, wait, send the next to those still running;
 * -w bounds it all, from the first signal. */
static int run(struct opts *o)
{
	int64_t end = it_deadline(o->timeout);
	for (int i = 0; i < o->nsteps; i++) {
		int status = send_all(o, o->steps[i].signo, i == 0);
		if (status || (!o->wait && !o->schedule))
			return status;
		const struct step *st = &o->steps[i];
		int64_t until = end;
		const char *dur = o->timeout_arg;
		if (st->ns >= 0 && (end == IT_FOREVER || it_deadline(st->ns) < end))
			until = it_deadline(st->ns), dur = st->dur;
		if (wait_gone(o, until))
			return IT_OK;
		if (i < o->nsteps - 1 && until != end)
			continue;
		for (int j = 0; j < o->nt; j++)
			if (!o->t[j].gone)
				it_warn("unable to wait for %s: still running after %s",
					label(&o->t[j]), dur);
		return IT_NO;
	}
	return IT_OK;
}

/* -l: the table, or one conversion per operand (an exit status > 128 is
 * taken as 128 plus a signal, as the shell reports a killed command). */
static int list(struct opts *o)
{
	if (o->nargs == 0) {
		for (int s = 1; s <= SIGRTMAX; s++) {
			if (s > SIGSYS && s < SIGRTMIN)
				continue;  /* reserved by the C library's threads */
			char rt[32];
			const char *descr = sigdescr_np(s);
			if (!descr) {
				snprintf(rt, sizeof rt, "Real-time signal %d", s - SIGRTMIN);
				descr = rt;
			}
			printf("%2d %-9s %-4s %s\n", s, it_sig_name(s),
			       it_sig_default_action(s), descr);
		}
		return IT_OK;
	}
	for (int i = 0; i < o->nargs; i++) {
		const char *a = o->args[i];
		long n;
		int signo;
		if (it_parse_long(a, 129, 128 + SIGRTMAX, &n) == 0)
			signo = (int)n - 128;
		else
			it_sig_parse(a, false, &signo);  /* checked in parse_opt */
		if (*a >= '0' && *a <= '9')
			printf("%s\n", it_sig_name(signo));
		else
			printf("%d\n", signo);
	}
	return IT_OK;
}

/* -0: 1 if a process does not exist, 77 if it may not be signalled; that
 * is the answer, so neither is reported on stderr. The first failure gives
 * the exit status, but 77 gives way to any other. */
static int check(struct opts *o)
{
	int status = IT_OK;
	for (int i = 0; i < o->nt; i++) {
		struct target *t = &o->t[i];
		int s = open_target(t);
		if (s == 0 && send_one(t, 0, NULL) < 0)
			s = -1;
		if (s < 0)
			s = errno == ESRCH || errno == ESTALE ? IT_NO
			    : errno == EPERM ? IT_NOPERM : failed(t, 0, errno);
		if (s && (status == IT_OK || status == IT_NOPERM))
			status = s;
	}
	return status;
}

/* Sends, and waits or escalates as asked. Every target is tried, whatever
 * failed before it; the first failure gives the exit status. */
static int send(struct opts *o)
{
	int status = IT_OK;
	for (int i = 0; i < o->nt; i++) {
		int s = open_target(&o->t[i]);
		if (s < 0)
			s = failed(&o->t[i], o->steps[0].signo, errno);
		if (s && !status)
			status = s;
		o->t[i].gone = s != 0;
	}
	/* A group we belong to includes us: block what we send, so that we
	 * live to report success, as the shell's builtin kill does. */
	sigset_t mask;
	sigemptyset(&mask);
	for (int i = 0; i < o->nsteps; i++)
		sigaddset(&mask, o->steps[i].signo);
	for (int i = 0; i < o->nt; i++)
		if (o->t[i].pid == 0 || -o->t[i].pid == getpgrp())
			sigprocmask(SIG_BLOCK, &mask, NULL);
	int s = run(o);
	return status ? status : s;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {options, parse_opt, "[PID...]\n-l [SIGNAL...]",
		"Send a signal to processes, process groups, or the process a "
		"pidfile names, race-free through pidfds.\v"
		"PID is a process; 0 is our own process group; -PGID a group "
		"(after --, since it looks like an option). Exit status: 0 sent, "
		"1 no such process, a stale pidfile, or timed out, 64 usage, 65 "
		"bad pidfile, 66 no pidfile, 71 system error or queue full, 74 "
		"output error (-l), 77 not permitted.",
		children, NULL, NULL};
	struct opts o = {.steps = {{SIGTERM, -1, NULL}}, .nsteps = 1,
			 .timeout = IT_FOREVER};
	o.t = calloc((size_t)argc, sizeof *o.t);
	o.values = calloc((size_t)argc, sizeof *o.values);
	if (!o.t || !o.values)
		it_xfail(errno, "allocate", "memory", NULL);
	it_init();
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	int status = o.list ? list(&o) : o.check ? check(&o) : send(&o);
	free(o.values);
	free(o.t);
	free(o.schedule);
	return status;
}
