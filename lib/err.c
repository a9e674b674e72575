/* err.c: one-line diagnostics and the errno-to-exit-status table. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ipctools.h"

static void it_version(FILE *out, struct argp_state *state)
{
	(void)state;
	fprintf(out, "%s (ipctools) %s\n", program_invocation_short_name,
		IT_VERSION);
}

/* argp calls this for --version in every tool, so all print one layout. */
void (*argp_program_version_hook)(FILE *, struct argp_state *) = it_version;
const char *argp_program_bug_address = "the ipctools issue tracker";

int it_exit_for(int err)
{
	switch (err) {
	case 0:
		return IT_OK;
	case EAGAIN:
	case ETIMEDOUT:
		return IT_NO;
	case E2BIG:
	case EMSGSIZE:
	case EBADMSG:
		return IT_DATAERR;
	case ENOENT:
	case EIDRM:
		return IT_NOINPUT;
	case ECONNREFUSED:
		return IT_UNAVAILABLE;
	case EEXIST:
		return IT_CANTCREAT;
	case EIO:
	case EPIPE:
		return IT_IOERR;
	case EACCES:
	case EPERM:
		return IT_NOPERM;
	default:
		return IT_OSERR;
	}
}

/* The longest message line; a longer one loses the middle of its text,
 * which is where a huge OBJECT stands, and keeps the reason at its end. */
#define LINE_MAX_ 1024
#define LINE_HEAD 400

/* Copies src into dst (room for len*4 bytes), with every control byte
 * escaped C-style, so that a newline in a user's name cannot split the
 * message or forge a second line. */
static size_t escape(char *dst, const char *src, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c >= 0x20 && c != 0x7f) {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		switch (c) {
		case '\n': dst[o++] = 'n'; break;
		case '\t': dst[o++] = 't'; break;
		case '\r': dst[o++] = 'r'; break;
		default:
			o += (size_t)sprintf(dst + o, "x%02x", c);
		}
	}
	return o;
}

/* Copies the escaped form of src[0..n) into dst, at most room bytes: if
 * it is longer, its middle makes way for "...", keeping head bytes before
 * it and the end after it. Returns the length copied. */
static size_t fit(char *dst, size_t room, const char *src, size_t n,
		  size_t head)
{
	char *esc = malloc(n * 4 + 1);
	if (!esc) {
		memcpy(dst, "?", 1);
		return 1;
	}
	size_t len = escape(esc, src, n);
	if (len <= room) {
		memcpy(dst, esc, len);
	} else {
		size_t tail = room - head - 3;
		memcpy(dst, esc, head);
		memcpy(dst + head, "...", 3);
		memcpy(dst + head + 3, esc + len - tail, tail);
		len = room;
	}
	free(esc);
	return len;
}

const char *it_quote(const char *s, char *buf, size_t size)
{
	if (size < 8) {
		snprintf(buf, size, "%s", "?");
		return buf;
	}
	size_t len = fit(buf, size - 1, s, strlen(s), (size - 4) / 2);
	buf[len] = '\0';
	return buf;
}

/* The line is often the only report of a failure: a file size limit
 * (ulimit -f) that stopped the data must not silence it too, when standard
 * error is a file under that limit. The limit is lifted for this one write,
 * as far as the process may (the soft limit up to the hard one; all of it
 * with CAP_SYS_RESOURCE), then put back. */
static void write_line(const char *line, size_t len)
{
	size_t done = 0;
	bool lifted = false;
	struct rlimit old;
	while (done < len) {
		ssize_t n = write(STDERR_FILENO, line + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EFBIG || lifted ||
		    getrlimit(RLIMIT_FSIZE, &old) < 0)
			break;
		struct rlimit up = { RLIM_INFINITY, RLIM_INFINITY };
		if (setrlimit(RLIMIT_FSIZE, &up) < 0) {
			up = old;
			up.rlim_cur = old.rlim_max;
			if (old.rlim_cur == old.rlim_max ||
			    setrlimit(RLIMIT_FSIZE, &up) < 0)
				break;
		}
		lifted = true;
	}
	if (lifted)
		setrlimit(RLIMIT_FSIZE, &old);
}

static void vwarn(const char *fmt, va_list ap)
{
	/* One line, written with one call, so that concurrent tools sharing
	 * a terminal never interleave inside a message. */
	char *raw = NULL, line[LINE_MAX_ + 1];
	int n = vasprintf(&raw, fmt, ap);
	if (n < 0)
		return;
	size_t pre = (size_t)snprintf(line, sizeof line, "%s: ",
				      program_invocation_short_name);
	pre += fit(line + pre, LINE_MAX_ - pre - 1, raw, (size_t)n, LINE_HEAD);
	line[pre++] = '\n';
	write_line(line, pre);
	free(raw);
}

void it_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

/* Set once a tool has said why it fails: the check of stdout at exit then
 * adds no second message. */
static bool died;

void it_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	died = status != IT_OK;
	exit(status);
}

void it_exit_signal(int sig)
{
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

void it_catch_stops(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void it_reported(void)
{
	died = true;
}

void it_xfail_status(int status, int err, const char *verb, const char *object,
		     const char *hint)
{
	if (hint)
		it_die(status, "unable to %s %s: %s (%s)", verb, object,
		       strerror(err), hint);
	it_die(status, "unable to %s %s: %s", verb, object, strerror(err));
}

void it_xfail(int err, const char *verb, const char *object, const char *hint)
{
	it_xfail_status(it_exit_for(err), err, verb, object, hint);
}

void it_init(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* open(2) takes the lowest free descriptor: fd itself. */
		int nfd = open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY));
		if (nfd != fd)
			_exit(IT_OSERR);
	}
	/* A file that reaches RLIMIT_FSIZE is a write error to report (74),
	 * not a silent death by SIGXFSZ. */
	signal(SIGXFSZ, SIG_IGN);
	atexit(it_close_stdout);
}

void it_xcheck_stdout(void)
{
	int fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		it_xfail_status(IT_IOERR, fl < 0 ? errno : EBADF, "write",
				"standard output", NULL);
}

void it_close_stdout(void)
{
	/* Data only counts as written once the close succeeded: a full disk,
	 * a closed stdout or a vanished reader must not pass as success.
	 * Tools that close it early call this too; only the first call counts. */
	static bool closed;
	if (closed)
		return;
	closed = true;
	/* A write that failed while the buffer was flushed earlier leaves
	 * only the error flag, and errno from that write if nothing has
	 * failed since. */
	bool failed = ferror(stdout);
	int err = errno;
	if (fclose(stdout) != 0)
		err = errno, failed = true;
	if (failed && !died) {
		it_warn("unable to write standard output: %s",
			strerror(err ? err : EIO));
		_exit(IT_IOERR);
	}
}
