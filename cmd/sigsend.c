/* sigsend: send a signal to processes, process groups or the process a
 * pidfile names, through pidfds so that a recycled pid is never hit. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "ipctools.h"

#define MAXSTEPS 16

enum { OPT_GROUP = 256, OPT_ALL, OPT_WAIT, OPT_ESCALATE };

/* One signal of an --escalate schedule and how long to wait after it;
 * ns < 0 means "as --wait says". A plain send is a schedule of one. */
struct step {
	int signo;
	int64_t ns;
	const char *dur;
};

struct target {
	pid_t pid;            /* kill(2)'s forms: > 0, 0, -PGID, -1 */
	const char *pidfile;  /* where pid came from, for messages */
	int pidfd;            /* -1 for groups, or where the kernel has none */
	bool gone;
};

struct opts {
	struct step steps[MAXSTEPS];
	int nsteps;
	char *schedule;       /* --escalate's, cut up by parse_schedule */
	bool signal_given, check, list, wait;
	int *values;
	size_t nvalues;
	int64_t wait_ns;
	const char *wait_dur;
	struct target *t;
	int nt;
	char **args;
	int nargs;
};

static const struct argp_option options[] = {
	{"signal", 's', "SIG", 0, "Signal to send: TERM, SIGTERM, term, 15, RTMIN+2 (default TERM)", 0},
	{"pidfile", 'p', "FILE", 0, "Signal the process whose pid FILE holds (repeatable)", 0},
	{"group", OPT_GROUP, "PGID", 0, "Signal every process in group PGID (repeatable)", 0},
	{"all", OPT_ALL, 0, 0, "Signal every process we may signal (pid -1)", 0},
	{"check", '0', 0, 0, "Send the null signal: exit 0 if the process exists, 1 if not, 77 if it is not ours", 0},
	{"value", 'q', "N", 0, "Queue the signal carrying the int N, like sigqueue(3); repeat to send one signal per value, in order", 0},
	{"wait", OPT_WAIT, "TIMEOUT", OPTION_ARG_OPTIONAL, "Then wait until every process has exited (at most TIMEOUT: exit 1)", 0},
	{"escalate", OPT_ESCALATE, "SCHEDULE", 0, "Send signals in turn until the processes exit: TERM,2s,KILL", 0},
	{"list", 'l', 0, 0, "List the signals, or convert each SIGNAL operand between name and number", 0},
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
	o->t[o->nt++] = (struct target){pid, pidfile, -1, false};
}

/* "TERM,2s,KILL": signal names, each optionally followed by a duration
 * (a token that starts with a digit, so "2" is two seconds, not SIGINT). */
static int parse_schedule(struct opts *o, char *s)
{
	o->nsteps = 0;
	for (char *save, *tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct step *st = &o->steps[o->nsteps];
		if ((*tok >= '0' && *tok <= '9') || *tok == '.') {
			if (o->nsteps == 0 || st[-1].dur ||
			    it_parse_duration(tok, &st[-1].ns) < 0)
				return -1;
			st[-1].dur = tok;
		} else if (o->nsteps == MAXSTEPS ||
			   it_sig_parse(tok, false, &st->signo) < 0) {
			return -1;
		} else {
			st->ns = -1;
			st->dur = NULL;
			o->nsteps++;
		}
	}
	return o->nsteps ? 0 : -1;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	long v;
	switch (key) {
	case 's':
		if (it_sig_parse(arg, true, &o->steps[0].signo) < 0)
			it_argp_bad(state, "signal", arg);
		o->signal_given = true;
		break;
	case 'p':
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
		if (arg && it_parse_duration(arg, &o->wait_ns) < 0)
			it_argp_bad(state, "timeout", arg);
		o->wait_dur = arg;
		break;
	case OPT_ESCALATE:
		free(o->schedule);
		if (!(o->schedule = strdup(arg)))
			it_xfail(errno, "allocate", "the schedule", NULL);
		if (parse_schedule(o, o->schedule) < 0)
			it_argp_bad(state, "schedule", arg);
		break;
	case 'l':
		o->list = true;
		break;
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
	case '8': case '9': {
		/* getopt moves past "-1234" only after its last character. */
		const char *a = state->argv[state->next - 1];
		if (state->next < state->argc && state->argv[state->next][0] == '-' &&
		    state->argv[state->next][1] == key)
			a = state->argv[state->next];
		argp_error(state, "'%s' is ambiguous: use -s %c for a signal, "
			   "or --group or -- -PGID for a process group",
			   it_quote(a, (char[48]){0}, 48), key);
		break;
	}
	case ARGP_KEY_ARGS:
		o->args = state->argv + state->next;
		o->nargs = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		for (int i = 0; o->list && i < o->nargs; i++) {
			int signo;
			if (it_parse_long(o->args[i], 129, 128 + SIGRTMAX, &v) < 0 &&
			    it_sig_parse(o->args[i], false, &signo) < 0)
				it_argp_bad(state, "signal", o->args[i]);
		}
		if (o->list)
			break;
		for (int i = 0; i < o->nargs; i++) {
			if (it_parse_long(o->args[i], INT32_MIN + 1, INT32_MAX, &v) < 0)
				it_argp_bad(state, "pid", o->args[i]);
			if (v == -1)
				argp_error(state, "pid -1 means every process: use --all");
			add_target(o, (pid_t)v, NULL);
		}
		if (o->nt == 0)
			argp_error(state, "no process given");
		/* A schedule of one signal is a schedule too: -s after it
		 * would silently replace its signal. */
		if (o->schedule && (o->signal_given || o->check || o->nvalues))
			argp_error(state, "--escalate sends its own signals: no -s, -0 or -q with it");
		if (o->check && (o->signal_given || o->nvalues || o->wait))
			argp_error(state, "--check sends the null signal: no -s, -q or --wait with it");
		for (int i = 0; i < o->nt; i++)
			if (o->t[i].pid <= 0 && !o->t[i].pidfile &&
			    (o->nvalues || o->wait || o->schedule))
				argp_error(state, "-q, --wait and --escalate need processes, not process groups");
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

static void xread_pidfile(struct target *t, pid_t *pid)
{
	const char *why;
	if (it_pidfile_read(t->pidfile, pid, &why) == 0)
		return;
	int err = errno;
	char obj[4200];
	snprintf(obj, sizeof obj, "pidfile %s", t->pidfile);
	if (why)
		it_die(err == EPERM ? IT_NOPERM : IT_DATAERR, "unable to read %s: %s",
		       obj, why);
	it_xfail(err, "read", obj, NULL);
}

/* Takes a pidfd for a process; for a pidfile, reads it again once the pidfd
 * is held, so that a daemon that died and whose pid was recycled between
 * our read and pidfd_open is noticed instead of signalled. 0, or an errno;
 * 0 with no pidfd for a group, or where the kernel has no pidfds. */
static int open_target(struct target *t)
{
	if (t->pid <= 0 && !t->pidfile)
		return 0;
	for (int tries = 0;; tries++) {
		if (t->pidfile)
			xread_pidfile(t, &t->pid);
		t->pidfd = pidfd_open(t->pid, 0);
		if (t->pidfd < 0)
			return errno == ENOSYS ? 0 : errno;
		pid_t again;
		if (!t->pidfile)
			return 0;
		xread_pidfile(t, &again);
		if (again == t->pid)
			return 0;
		close(t->pidfd);
		t->pidfd = -1;
		if (tries == 2)
			it_die(IT_OSERR, "unable to read pidfile %s: it keeps changing",
			       t->pidfile);
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

/* Reports a failure for one target and returns its exit status. */
static int failed(const struct target *t, int signo, int err)
{
	int status = err == ESRCH ? IT_NO : err == EAGAIN ? IT_OSERR : it_exit_for(err);
	it_warn("unable to send %s to %s: %s%s", it_sig_name(signo), label(t),
		strerror(err), err == EAGAIN
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

/* Waits until every target has exited: a pidfd polls readable then, child
 * of ours or not. Without pidfds, kill(pid, 0) is asked every 10 ms. */
static bool wait_gone(struct opts *o, int64_t ns)
{
	int64_t deadline = it_deadline(ns);
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

/* Runs the schedule: send, wait, send the next to those still running. */
static int run(struct opts *o)
{
	for (int i = 0; i < o->nsteps; i++) {
		int status = send_all(o, o->steps[i].signo, i == 0);
		if (status || (!o->wait && !o->schedule))
			return status;
		bool last = i == o->nsteps - 1;
		int64_t ns = o->steps[i].ns;
		const char *dur = o->steps[i].dur;
		if (ns < 0 && last)
			ns = o->wait_ns, dur = o->wait_dur;
		if (wait_gone(o, ns))
			return IT_OK;
		if (last)
			for (int j = 0; j < o->nt; j++)
				if (!o->t[j].gone)
					it_die(IT_NO, "unable to wait for %s: still running after %s",
					       label(&o->t[j]), dur);
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

/* -0: 1 if any process does not exist, else 77 if any may not be
 * signalled; that is the answer, so neither is reported on stderr. */
static int check(struct opts *o)
{
	int status = IT_OK;
	for (int i = 0; i < o->nt; i++) {
		struct target *t = &o->t[i];
		int err = open_target(t);
		if (!err && send_one(t, 0, NULL) < 0)
			err = errno;
		if (err == ESRCH)
			status = IT_NO;
		else if (err == EPERM && status == IT_OK)
			status = IT_NOPERM;
		else if (err && err != EPERM)
			status = failed(t, 0, err);
	}
	return status;
}

/* Sends, and waits or escalates as asked. */
static int send(struct opts *o)
{
	int status = IT_OK;
	for (int i = 0; i < o->nt; i++) {
		int err = open_target(&o->t[i]);
		if (err && !status)
			status = failed(&o->t[i], o->steps[0].signo, err);
		else if (err)
			failed(&o->t[i], o->steps[0].signo, err);
		o->t[i].gone = err != 0;
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
		"1 no such process or timed out, 64 usage, 65 bad pidfile, 66 no "
		"pidfile, 71 system error or queue full, 77 not permitted.",
		NULL, NULL, NULL};
	struct opts o = {.steps = {{SIGTERM, -1, NULL}}, .nsteps = 1,
			 .wait_ns = IT_FOREVER, .wait_dur = "forever"};
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
