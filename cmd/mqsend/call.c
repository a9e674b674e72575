/* --call: one request in the envelope of mqsend(1) to mqrecv --reply, and
 * the wait for its reply: on the same System V queue by the caller's pid
 * as the type, or on a POSIX reply queue of the caller's own, removed at
 * the end whatever the end. A reply whose nonce is not ours is dropped. */
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>

#include "mqsend.h"

/* The POSIX reply queue while it exists, for removal at any exit. */
static char reply_name[64];

static void unlink_reply(void)
{
	if (reply_name[0])
		mq_unlink(reply_name);
	reply_name[0] = '\0';
}

/* -w passed or a stop signal, on System V: a reply that came meanwhile
 * would stay on the queue for ever, since no one else takes our type. */
static void sweep(const struct it_mq *q)
{
	struct it_mq_buf none;
	long me = getpid();
	if (q->posix)
		return;
	while (msgrcv(q->id, &none, 0, me, IPC_NOWAIT | MSG_NOERROR) >= 0)
		;
}

static _Noreturn void fail(const struct it_mq *q, int err)
{
	sweep(q);
	unlink_reply();
	if (err == ETIMEDOUT)
		it_die(IT_NO, "unable to call %s: no reply in time (-w)",
		       it_obj_label(q->obj));
	it_mq_xfail(q, err);
}

/* The request: the operand, or the first message of standard input. */
static void read_request(const struct args *a, struct it_reader *r,
			 size_t max, const char **msg, size_t *len)
{
	if (a->nmsgs) {
		*msg = a->msgs[0];
		*len = strlen(a->msgs[0]);
		return;
	}
	it_reader_init(r, STDIN_FILENO, a->framing);
	int got = it_read_msg(r, max, msg, len);
	if (got == 0)
		it_die(IT_DATAERR, "unable to call %s: standard input holds no "
		       "request", it_obj_label(&a->obj));
	if (got < 0 && errno == EMSGSIZE)
		it_die(IT_DATAERR, "unable to call %s: the request is longer than "
		       "%zu bytes", it_obj_label(&a->obj), max);
	if (got < 0 && errno == EBADMSG)
		it_die(IT_DATAERR, "unable to read standard input: the request is "
		       "not a complete netstring");
	if (got < 0)
		it_xfail_status(IT_IOERR, errno, "read", "standard input", NULL);
}

/* POSIX: our reply queue, as large as the request queue's messages. */
static void make_reply_queue(const struct args *a, const struct it_mq *q,
			     struct it_mq *r, struct it_obj *obj)
{
	uint64_t token;     /* not the nonce: the name is seen by anyone */
	if (getrandom(&token, sizeof token, 0) != (ssize_t)sizeof token)
		it_xfail(errno, "draw", "a reply queue name", NULL);
	struct it_create c = { .create = true, .excl = true,
			       .mode = a->create.mode_given ? a->create.mode
			       : 0600 };
	struct it_mq_attr at = { .maxmsg = 1, .msgsize = (long)q->msgmax };
	snprintf(reply_name, sizeof reply_name, "/mqsend.reply.%ld.%016llx",
		 (long)getpid(), (unsigned long long)token);
	memset(obj, 0, sizeof *obj);
	obj->kind = IT_OBJ_NAME;
	obj->name = reply_name;
	atexit(unlink_reply);
	it_mq_xopen(r, obj, &c, &at, O_RDONLY);
}

/* Waits for the reply that carries nonce; its length in r->buf->text. */
static ssize_t await(const struct it_mq *q, struct it_mq *r, uint64_t nonce,
		     int64_t deadline, struct it_rpc *m)
{
	for (;;) {
		long type = getpid();
		ssize_t n = it_mq_recv(r, &type, 0, deadline);
		if (n < 0)
			fail(q, errno);
		if (it_rpc_decode(r->buf->text, (size_t)n, m) == 0 && m->reply &&
		    m->nonce == nonce)
			return n;
		/* A reply to an earlier process of our pid, or junk in our
		 * type: not ours, gone. */
	}
}

static _Noreturn void answer(const struct it_mq *q, const struct it_rpc *m)
{
	if (it_write_full(STDOUT_FILENO, m->payload, m->len) < 0)
		it_xfail_status(IT_IOERR, errno, "write", "standard output", NULL);
	unlink_reply();
	if (m->status == IT_RPC_TOOLONG)
		it_die(IT_DATAERR, "unable to call %s: the command's output was "
		       "too long for a reply", it_obj_label(q->obj));
	if (m->status > 128 && m->status < 128 + 65)
		it_die(IT_UNAVAILABLE, "the command of %s failed: signal %s",
		       it_obj_label(q->obj), it_sig_name(m->status - 128));
	if (m->status)
		it_die(IT_UNAVAILABLE, "the command of %s failed: exit %d",
		       it_obj_label(q->obj), m->status);
	exit(IT_OK);
}

_Noreturn void call(const struct args *a)
{
	struct it_mq q, reply, *r = &q;
	struct it_obj robj;
	struct it_reader in = { 0 };
	struct it_rpc m = { 0 };
	char to[32];
	const char *msg;
	size_t len;
	uint64_t nonce;
	int64_t deadline = it_deadline(a->timeout);
	if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
		it_xfail(errno, "draw", "a nonce", NULL);
	/* Until the request is read, a stop signal ends the call at once. */
	it_mq_xsignals(false);
	it_mq_xopen(&q, &a->obj, &a->create, &a->attr, O_RDWR);
	if (!q.posix && getpid() == a->type)
		it_die(IT_USAGE, "unable to call %s: request type %ld is this "
		       "process's pid, its reply type", it_obj_label(&a->obj),
		       a->type);
	read_request(a, &in, q.msgmax, &msg, &len);
	it_mq_xsignals(true);
	if (q.posix) {
		make_reply_queue(a, &q, &reply, &robj);
		r = &reply;
	}
	snprintf(to, sizeof to, "%ld", (long)getpid());
	m.to = q.posix ? reply_name : to;
	m.tolen = strlen(m.to);
	m.nonce = nonce;
	if (a->timeout != IT_FOREVER)
		m.deadline_ms = it_rpc_now_ms() + (a->timeout + 999999) / 1000000;
	m.payload = msg;
	m.len = len;
	char *buf = malloc(q.msgmax ? q.msgmax : 1);
	ssize_t n = buf ? it_rpc_encode(&m, buf, q.msgmax) : -1;
	if (n < 0 && errno == EMSGSIZE) {
		unlink_reply();
		it_die(IT_DATAERR, "unable to call %s: the request and its envelope "
		       "are longer than %zu bytes", it_obj_label(&a->obj), q.msgmax);
	}
	if (n < 0)
		fail(&q, errno);
	if (it_mq_send(&q, a->type, buf, (size_t)n, 0, deadline) < 0)
		fail(&q, errno);
	free(buf);
	await(&q, r, nonce, deadline, &m);
	answer(&q, &m);
}
