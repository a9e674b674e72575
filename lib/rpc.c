/* rpc.c: the envelope of mqsend --call and mqrecv --reply, as mqsend(1)
 * defines it under ENVELOPE: a request or a reply is one line of text
 * fields, then the payload as is. Encoding and strict decoding, for both
 * tools; a message from anyone may be decoded, so nothing is trusted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipctools.h"

static int fail(int err)
{
	errno = err;
	return -1;
}

#define RPC_MAGIC "ipcrpc/1 "

ssize_t it_rpc_encode(const struct it_rpc *m, char *buf, size_t size)
{
	char head[IT_RPC_HEAD];
	int n;
	if (m->reply)
		n = snprintf(head, sizeof head, RPC_MAGIC "reply %016llx %d\n",
			     (unsigned long long)m->nonce, m->status);
	else
		n = snprintf(head, sizeof head, RPC_MAGIC "call %.*s %016llx "
			     "%lld\n", (int)m->tolen, m->to,
			     (unsigned long long)m->nonce,
			     (long long)m->deadline_ms);
	if (n < 0 || (size_t)n >= sizeof head || (size_t)n > size ||
	    m->len > size - (size_t)n)
		return fail(EMSGSIZE);
	memcpy(buf, head, (size_t)n);
	if (m->len)
		memcpy(buf + n, m->payload, m->len);
	return (ssize_t)((size_t)n + m->len);
}

/* The next field of the header line at *p (up to end), ended by sep:
 * its length, 0 if there is none, or anything but sep ends it. */
static size_t rpc_field(const char **p, const char *end, char sep,
			const char **field)
{
	const char *s = *p, *e = s;
	/* Fields are printable ASCII: no NUL to cut a name short. */
	while (e < end && *e > ' ' && *e < 0x7f)
		e++;
	if (e == s || e == end || *e != sep)
		return 0;
	*field = s;
	*p = e + 1;
	return (size_t)(e - s);
}

/* A field of digits only (hex or decimal) to a number, no sign, no
 * overflow, in decimal no leading zero: 0, or -1. */
static int rpc_num(const char *s, size_t n, int base, size_t max_digits,
		   uint64_t *v)
{
	*v = 0;
	/* Decimal as the manual says: no leading zero but in 0 itself. */
	if (n == 0 || n > max_digits || (base == 10 && n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0'
			: base == 16 && s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
			: -1;
		if (d < 0)
			return -1;
		*v = *v * (uint64_t)base + (uint64_t)d;
	}
	return 0;
}

int it_rpc_decode(const char *msg, size_t len, struct it_rpc *m)
{
	const char *end = msg + (len < IT_RPC_HEAD ? len : IT_RPC_HEAD);
	const char *p, *kind, *nonce, *last;
	size_t nk, nn, nl;
	uint64_t v;
	memset(m, 0, sizeof *m);
	if (len < strlen(RPC_MAGIC) || memcmp(msg, RPC_MAGIC, strlen(RPC_MAGIC)))
		return fail(EBADMSG);
	p = msg + strlen(RPC_MAGIC);
	if (!(nk = rpc_field(&p, end, ' ', &kind)))
		return fail(EBADMSG);
	m->reply = nk == 5 && memcmp(kind, "reply", 5) == 0;
	if (!m->reply && !(nk == 4 && memcmp(kind, "call", 4) == 0))
		return fail(EBADMSG);
	if (!m->reply && !(m->tolen = rpc_field(&p, end, ' ', &m->to)))
		return fail(EBADMSG);
	if (!(nn = rpc_field(&p, end, ' ', &nonce)) || nn != 16 ||
	    rpc_num(nonce, nn, 16, 16, &m->nonce) < 0)
		return fail(EBADMSG);
	if (!(nl = rpc_field(&p, end, '\n', &last)) ||
	    rpc_num(last, nl, 10, m->reply ? 3 : 18, &v) < 0 ||
	    (m->reply && v > IT_RPC_TOOLONG))
		return fail(EBADMSG);
	if (m->reply)
		m->status = (int)v;
	else
		m->deadline_ms = (int64_t)v;
	m->payload = p;
	m->len = len - (size_t)(p - msg);
	return 0;
}

int64_t it_rpc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
