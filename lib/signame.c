/* signame.c: signal names in every spelling users type. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ipctools.h"

/* Other names of the same signals: sigabbrev_np knows one name each, and
 * calls SIGIO "POLL", where bash and signal(7) say "IO". */
static const struct { const char *name; int signo; } aliases[] = {
	{"IOT", SIGABRT}, {"CLD", SIGCHLD}, {"POLL", SIGIO}, {"IO", SIGIO},
};

/* Parses "+N" / "-N" after RTMIN / RTMAX, or nothing. */
static int rt_offset(const char *s, int sign, int *off)
{
	long v;
	*off = 0;
	if (!*s)
		return 0;
	if ((sign > 0 && *s != '+') || (sign < 0 && *s != '-'))
		return -1;
	if (it_parse_long(s + 1, 0, SIGRTMAX - SIGRTMIN, &v))
		return -1;
	*off = sign * (int)v;
	return 0;
}

int it_sig_parse(const char *s, bool allow_zero, int *signo)
{
	long n;
	if (it_parse_long(s, 0, SIGRTMAX, &n) == 0) {
		if (n == 0 && !allow_zero) {
			errno = ERANGE;
			return -1;
		}
		*signo = (int)n;
		return 0;
	}
	if (*s >= '0' && *s <= '9')
		return -1;  /* a number, out of range or with junk: errno set */
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	int off;
	if (strncasecmp(s, "RTMIN", 5) == 0 && rt_offset(s + 5, 1, &off) == 0) {
		*signo = SIGRTMIN + off;
		return 0;
	}
	if (strncasecmp(s, "RTMAX", 5) == 0 && rt_offset(s + 5, -1, &off) == 0) {
		*signo = SIGRTMAX + off;
		return 0;
	}
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && *s && strcasecmp(s, abbrev) == 0) {
			*signo = i;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(s, aliases[i].name) == 0) {
			*signo = aliases[i].signo;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

const char *it_sig_name(int signo)
{
	static char buf[32];
	if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
		/* The same split as bash and util-linux kill: the lower half
		 * counts up from RTMIN, the upper half down from RTMAX. */
		if (signo - SIGRTMIN <= (SIGRTMAX - SIGRTMIN) / 2) {
			if (signo == SIGRTMIN)
				return "RTMIN";
			snprintf(buf, sizeof buf, "RTMIN+%d", signo - SIGRTMIN);
		} else if (signo == SIGRTMAX) {
			return "RTMAX";
		} else {
			snprintf(buf, sizeof buf, "RTMAX-%d", SIGRTMAX - signo);
		}
		return buf;
	}
	const char *abbrev = signo > 0 ? sigabbrev_np(signo) : NULL;
	if (abbrev)
		return abbrev;
	snprintf(buf, sizeof buf, "%d", signo);
	return buf;
}

const char *it_sig_default_action(int signo)
{
	switch (signo) {
	case SIGCHLD: case SIGURG: case SIGWINCH:
		return "Ign";
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return "Stop";
	case SIGCONT:
		return "Cont";
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return "Core";
	default:
		return "Term";
	}
}
