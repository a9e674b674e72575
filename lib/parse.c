/* parse.c: strict number parsers. Every one refuses the empty string,
 * leading blanks, trailing junk, overflow and values out of range, and
 * reports which with errno (EINVAL or ERANGE). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "ipctools.h"

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* Accumulates decimal digits into *v; stops at the first non-digit. */
static const char *digits(const char *s, uint64_t *v, bool *over)
{
	*v = 0;
	for (; isdig(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (*v > (UINT64_MAX - d) / 10)
			*over = true;
		else
			*v = *v * 10 + d;
	}
	return s;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

int it_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;
	bool over = false;
	if (!isdig(*s))
		return fail(EINVAL);
	const char *end = digits(s, &v, &over);
	if (*end)
		return fail(EINVAL);
	if (over || v > max)
		return fail(ERANGE);
	*out = (unsigned long)v;
	return 0;
}

int it_parse_long(const char *s, long min, long max, long *out)
{
	bool neg = *s == '-';
	unsigned long mag;
	if (it_parse_ulong(s + neg, ULONG_MAX, &mag))
		return -1;
	long v;
	if (neg) {
		if (mag > (unsigned long)LONG_MAX + 1)
			return fail(ERANGE);
		v = mag == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)mag;
	} else {
		if (mag > LONG_MAX)
			return fail(ERANGE);
		v = (long)mag;
	}
	if (v < min || v > max)
		return fail(ERANGE);
	*out = v;
	return 0;
}

int it_parse_key(const char *s, int32_t *out)
{
	/* strtoul would take blanks, a sign and "0x" alone; check the form
	 * first, then let it do the base arithmetic on a clean string. */
	int base = 10;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	if (!*p)
		return fail(EINVAL);
	uint64_t v = 0;
	for (; *p; p++) {
		int d;
		if (isdig(*p))
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return fail(EINVAL);
		if (d >= base)
			return fail(EINVAL);
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > UINT32_MAX)
			return fail(ERANGE);
	}
	*out = (int32_t)(uint32_t)v;
	return 0;
}

int it_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	/* One set of units in every tool, as ipctools(7) says: a bare number
	 * of bytes, or k, M, G or T in either case for powers of 1024, and
	 * nothing after the letter ("1MiB" and "1MB" read as mistakes). */
	uint64_t v;
	bool over = false;
	if (!isdig(*s))
		return fail(EINVAL);
	const char *p = digits(s, &v, &over);
	unsigned shift = 0;
	const char *units = "kmgt";
	const char *u = *p ? strchr(units, *p | 0x20) : NULL;
	if (u) {
		shift = 10 * (unsigned)(u - units + 1);
		p++;
	}
	if (*p)
		return fail(EINVAL);
	if (over || (shift && v > (UINT64_MAX >> shift)))
		return fail(ERANGE);
	v <<= shift;
	if (v > max)
		return fail(ERANGE);
	*out = v;
	return 0;
}

int it_parse_duration(const char *s, int64_t *ns)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
		{"", 1000000000}, {"m", 60000000000}, {"h", 3600000000000},
		{"d", 86400000000000},
	};
	uint64_t whole = 0, frac = 0, scale = 1;
	bool over = false;
	const char *p = s;
	if (!isdig(*p) && !(*p == '.' && isdig(p[1])))
		return fail(EINVAL);
	p = digits(p, &whole, &over);
	if (*p == '.') {
		if (!isdig(*++p))
			return fail(EINVAL);
		/* Nanoseconds are the finest unit: digits past nine are
		 * dropped rather than rounded. */
		for (; isdig(*p); p++)
			if (scale < 1000000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		unsigned __int128 v = (unsigned __int128)whole * units[i].ns +
				      (unsigned __int128)frac * units[i].ns / scale;
		if (over || v > INT64_MAX)
			return fail(ERANGE);
		*ns = (int64_t)v;
		return 0;
	}
	return fail(EINVAL);
}

int it_parse_mode(const char *s, mode_t *out)
{
	unsigned v = 0;
	if (!*s)
		return fail(EINVAL);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return fail(EINVAL);
		v = v * 8 + (unsigned)(*p - '0');
		if (v > 0777)
			return fail(ERANGE);
	}
	*out = (mode_t)v;
	return 0;
}

int it_parse_fd(const char *s, int *fd)
{
	long v;
	if (it_parse_long(s, 0, INT_MAX, &v))
		return -1;
	/* A readiness line on stdin, stdout or stderr would land in the data
	 * or the diagnostics, and the closing would end the stream. */
	if (v <= 2)
		return fail(EDOM);
	if (fcntl((int)v, F_GETFD) < 0)
		return fail(EBADF);
	*fd = (int)v;
	return 0;
}

void it_argp_bad(const struct argp_state *state, const char *what,
		 const char *arg)
{
	const char *why = errno == ERANGE ? ": out of range"
			  : errno == EBADF ? ": not an open file descriptor"
			  : errno == EDOM ? ": 0, 1 and 2 are the standard streams"
			  : "";
	char q[48];
	argp_error(state, "invalid %s '%s'%s", what, it_quote(arg, q, sizeof q),
		   why);
}

void it_argp_duration(const struct argp_state *state, const char *arg,
		      int64_t *ns)
{
	if (it_parse_duration(arg, ns))
		it_argp_bad(state, "duration", arg);
}

void it_argp_fd(const struct argp_state *state, const char *arg, int *fd)
{
	if (it_parse_fd(arg, fd))
		it_argp_bad(state, "file descriptor", arg);
}

void it_argp_nonempty(const struct argp_state *state, const char *what,
		      const char *arg)
{
	if (!*arg)
		argp_error(state, "invalid %s '': empty", what);
}

void it_argp_inputs(struct argp_state *state, void *const *inputs)
{
	for (int i = 0; inputs[i]; i++)
		state->child_inputs[i] = inputs[i];
}
