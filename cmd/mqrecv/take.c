/* Taking messages: the loop of receive, and the messages that cannot be
 * written as they are (over --msgsize, not a record of --unpack), cut
 * with --truncate or left on the queue. */
#include "mqrecv.h"

/* A System V message over --msgsize stays queued, and so the queue stays
 * too under --rm. */
static _Noreturn void too_big(struct it_mq *q)
{
	char limit[200];
	bool kept = it_mq_keep();
	it_mq_limit(q, limit, sizeof limit);
	it_die(IT_DATAERR, "unable to receive from %s: the next message is "
	       "longer than %zu bytes and stays queued%s (%s)",
	       it_obj_label(q->obj), q->msgmax,
	       kept ? ", and the queue despite --rm" : "", limit);
}

/* --unpack: a message whose size is not the format's goes back on the
 * queue, and the tool ends. */
static _Noreturn void not_a_record(struct it_mq *q, const struct args *a,
				   long type, size_t len)
{
	static char why[120];
	snprintf(why, sizeof why, "a message of %zu bytes is not a record of "
		 "the format's %zu (--unpack)", len, a->pack.size);
	out.type = type;
	out.raw = q->buf->text;
	out.rawlen = len;
	out.refused = why;
	put_back(q);
	it_die(IT_DATAERR, "unable to receive from %s: %s; it went back on the "
	       "queue%s", it_obj_label(q->obj), why,
	       out.rm_kept ? ", which stays despite --rm" : "");
}

/* --truncate: takes the next message, too long for --msgsize, into a
 * buffer large enough for any the kernel lets be sent, so that the line
 * can say how many bytes were cut off message number nth of the run; what
 * fits is then the message in hand. As it_mq_recv returns. */
static ssize_t take_cut(struct it_mq *q, long *type, long want, int flags,
			long nth)
{
	size_t keep = q->msgmax;
	size_t big = (size_t)(q->sysmax > q->qbytes ? q->sysmax : q->qbytes);
	if (big <= keep)
		big = keep + 1;
	struct it_mq_buf *mine = q->buf, *b = malloc(sizeof *b + big);
	if (!b)
		it_xfail(errno, "allocate a buffer for", it_obj_label(q->obj), NULL);
	q->buf = b;
	q->msgmax = big;
	*type = want;
	ssize_t n = it_mq_recv(q, type, flags | IT_MQ_NOERROR, IT_FOREVER);
	int err = errno;
	q->buf = mine;
	q->msgmax = keep;
	if (n > (ssize_t)keep) {
		if (n == (ssize_t)big)  /* cut even so: sent before a limit fell */
			it_warn("message %ld of this run (type %ld) cut to %zu "
				"bytes: at least %zd bytes lost (--truncate)", nth,
				*type, keep, n - (ssize_t)keep);
		else
			it_warn("message %ld of this run (type %ld) cut to %zu "
				"bytes: %zd of its %zd bytes lost (--truncate)",
				nth, *type, keep, n - (ssize_t)keep, n);
		n = (ssize_t)keep;
	}
	if (n >= 0) {
		mine->type = b->type;
		memcpy(mine->text, b->text, (size_t)n);
	}
	free(b);
	errno = err;
	return n;
}

int receive(const struct args *a, struct it_mq *q)
{
	int flags = (a->nowait ? IT_MQ_NOWAIT : 0) |
		    (a->except ? IT_MQ_EXCEPT : 0);
	long got = 0;
	out_init(a, q);
	while (a->follow || got < a->count) {
		before_take(q);
		long type = a->type;
		ssize_t n = it_mq_recv(q, &type, flags, it_deadline(a->timeout));
		if (n < 0 && errno == E2BIG && a->truncate)
			n = take_cut(q, &type, a->type, flags, got + 1);
		if (n < 0) {
			int err = errno;
			if (err == EINTR && it_mq_caught())
				return finish(q, it_mq_caught());
			finish(q, 0);
			if (a->follow && got > 0 && (err == EAGAIN || err == ETIMEDOUT))
				return IT_OK;
			if (err == E2BIG)
				too_big(q);
			it_mq_xfail(q, err);
		}
		got++;
		if (a->unpacked && (size_t)n != a->pack.size)
			not_a_record(q, a, type, (size_t)n);
		deliver(q, type, (size_t)n);
		if (it_mq_caught())
			return finish(q, it_mq_caught());
	}
	return finish(q, 0);
}
