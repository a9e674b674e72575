/* mq.c: System V and POSIX message queues behind one interface, for mqsend
 * and mqrecv: opening with the contract's errors, sending and receiving
 * with --nowait and a monotonic --timeout, removal, --stat, and signals
 * that never cost a message. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

/* Set by the handlers, read where the tools may block: caught for any
 * reason to stop (it_mq_interrupt too), stopped for a stop signal only. */
static volatile sig_atomic_t caught, stopped;
/* The queue that --rm removes, at exit or from a signal handler, set once
 * before any handler is installed. */
static const struct it_mq *rm_queue;
static bool defer_stop;

static int fail(int err)
{
	errno = err;
	return -1;
}

static long proc_long(const char *path, long fallback)
{
	FILE *f = fopen(path, "r");
	long v;
	if (!f)
		return fallback;
	if (fscanf(f, "%ld", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

static void remove_queue(void)
{
	if (!rm_queue)
		return;
	if (rm_queue->posix)
		mq_unlink(rm_queue->obj->name);
	else
		msgctl(rm_queue->id, IPC_RMID, NULL);
}

/* ---- signals ---- */

static void on_stop(int sig)
{
	if (!defer_stop) {
		remove_queue();
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	/* The user's signal ends the tool even after an interruption of
	 * its own (a reader gone), which it may have cut short. */
	if (!stopped)
		caught = stopped = sig;
	/* The signal may have come just before a blocking call began, too
	 * early to interrupt it: alarms from now on make sure that call
	 * returns. */
	it_alarm_at(it_now_ns());
}

void it_mq_xsignals(bool defer)
{
	it_alarm_init();
	defer_stop = defer;
	/* A blocking msgrcv or msgsnd must return EINTR. */
	it_catch_stops(on_stop);
	/* A vanished reader must show as EPIPE, and a file over the size
	 * limit as EFBIG, so that the messages in hand can be put back before
	 * the tool ends. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}

int it_mq_caught(void)
{
	return caught;
}

void it_mq_interrupt(int sig)
{
	if (!caught)
		caught = sig;
	it_alarm_at(it_now_ns());
}

void it_mq_exit_signal(int sig)
{
	/* A --rm refused (another user's queue) is said even here, where
	 * the status is the signal's. */
	const struct it_mq *q = rm_queue;
	rm_queue = NULL;
	if (q && (q->posix ? mq_unlink(q->obj->name)
		  : msgctl(q->id, IPC_RMID, NULL)) < 0 &&
	    errno != ENOENT && errno != EINVAL && errno != EIDRM)
		it_warn("unable to remove message queue %s: %s",
			it_obj_label(q->obj), strerror(errno));
	it_exit_signal(sig);
}

/* ---- opening ---- */

static _Noreturn void missing(const struct it_mq *q)
{
	/* --id names an existing queue only: --create would not help. */
	it_die(IT_NOINPUT, "no message queue for %s%s", it_obj_label(q->obj),
	       q->obj->kind == IT_OBJ_ID ? "" : " (use --create)");
}

/* Opens or creates a POSIX queue. A queue this call creates gets exactly
 * the mode asked for, set on the descriptor: mq_open narrows it by the
 * umask, which no other object's mode is. */
static mqd_t posix_open(const struct it_mq *q, const struct it_create *c,
			struct mq_attr *ap, int oflag)
{
	const char *name = q->obj->name;
	/* A queue removed between the two calls is created again. */
	for (int tries = 0; tries < 3; tries++) {
		if (c->create) {
			mqd_t d = mq_open(name, oflag | O_CREAT | O_EXCL, c->mode, ap);
			if (d != (mqd_t)-1 && fchmod(d, c->mode) < 0) {
				int err = errno;
				mq_close(d);
				mq_unlink(name);
				it_xfail(err, "set the mode of message queue", name, NULL);
			}
			if (d != (mqd_t)-1 || errno != EEXIST || c->excl)
				return d;
		}
		mqd_t d = mq_open(name, oflag);
		if (d != (mqd_t)-1 || errno != ENOENT || !c->create)
			return d;
	}
	return (mqd_t)-1;
}

static void open_posix(struct it_mq *q, const struct it_create *c,
		       const struct it_mq_attr *attr, int oflag)
{
	struct mq_attr a = { 0 };
	struct mq_attr *ap = NULL;
	const char *name = q->obj->name;
	if (attr->maxmsg || attr->msgsize) {
		a.mq_maxmsg = attr->maxmsg ? attr->maxmsg
			      : proc_long("/proc/sys/fs/mqueue/msg_default", 10);
		a.mq_msgsize = attr->msgsize ? attr->msgsize
			       : proc_long("/proc/sys/fs/mqueue/msgsize_default",
					   8192);
		ap = &a;
	}
	/* A receiver opens for writing too where it may, to put back a
	 * message its output could not take. */
	q->mqd = posix_open(q, c, ap, oflag == O_RDONLY ? O_RDWR : oflag);
	if (q->mqd == (mqd_t)-1 && errno == EACCES && oflag == O_RDONLY)
		q->mqd = posix_open(q, c, ap, oflag);
	if (q->mqd == (mqd_t)-1) {
		int err = errno;
		char hint[160];
		const char *h = NULL;
		if (err == ENOENT && !c->create)
			missing(q);
		if (err == EINVAL && ap) {
			long mx = proc_long("/proc/sys/fs/mqueue/msg_max", 10);
			long sz = proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
			snprintf(hint, sizeof hint, "maxmsg %ld, msgsize %ld: the "
				 "limits are /proc/sys/fs/mqueue/msg_max (%ld) and "
				 "msgsize_max (%ld)", a.mq_maxmsg, a.mq_msgsize, mx, sz);
			h = hint;
		} else if (err == EMFILE) {
			h = "RLIMIT_MSGQUEUE (ulimit -q) or the open file limit";
		} else if (err == ENOSPC) {
			h = "raise /proc/sys/fs/mqueue/queues_max";
		}
		it_xfail(err, c->create ? "create message queue" : "open message queue",
			 name, h);
	}
	struct mq_attr now;
	if (mq_getattr(q->mqd, &now) < 0)
		it_xfail(errno, "query message queue", name, NULL);
	q->msgmax = (size_t)now.mq_msgsize;
}

static int rm_msq(int id)
{
	return msgctl(id, IPC_RMID, NULL);
}

static void open_sysv(struct it_mq *q, const struct it_create *c,
		      const struct it_mq_attr *attr, int oflag)
{
	const struct it_obj *obj = q->obj;
	const char *what = it_obj_label(obj);
	int mode = (int)c->mode;
	struct msqid_ds ds;
	if (obj->kind == IT_OBJ_ID) {
		q->id = obj->id;
		/* A queue we may not read still exists; only a bad id is
		 * "missing". */
		if (msgctl(q->id, IPC_STAT, &ds) < 0 && errno != EACCES)
			missing(q);
	} else if (obj->private) {
		q->id = msgget(IPC_PRIVATE, IPC_CREAT | mode);
	} else if (c->excl) {
		q->id = msgget(obj->key, IPC_CREAT | IPC_EXCL | mode);
	} else {
		/* Open first with no access bits: msgget would check the mode
		 * given for creation against an existing queue. */
		q->id = msgget(obj->key, 0);
		if (q->id < 0 && errno == ENOENT && c->create) {
			q->id = msgget(obj->key, IPC_CREAT | IPC_EXCL | mode);
			if (q->id < 0 && errno == EEXIST)
				q->id = msgget(obj->key, 0);
		}
	}
	if (q->id < 0) {
		if (errno == ENOENT)
			missing(q);
		it_xfail(errno, c->create ? "create message queue for"
			 : "open message queue for", what,
			 errno == ENOSPC ? "raise sysctl kernel.msgmni" : NULL);
	}
	if (obj->private)
		it_xprint_private(q->id, rm_msq, "queue");
	q->sysmax = proc_long("/proc/sys/kernel/msgmax", 8192);
	q->qbytes = 0;
	if (msgctl(q->id, IPC_STAT, &ds) == 0)
		q->qbytes = (long)ds.msg_qbytes;
	if (oflag == O_RDONLY)
		q->msgmax = (size_t)(attr->msgsize ? attr->msgsize : q->sysmax);
	else
		q->msgmax = (size_t)(q->qbytes && q->qbytes < q->sysmax ? q->qbytes
				     : q->sysmax);
}

void it_mq_xopen(struct it_mq *q, const struct it_obj *obj,
		 const struct it_create *c, const struct it_mq_attr *attr,
		 int oflag)
{
	memset(q, 0, sizeof *q);
	q->obj = obj;
	q->posix = it_obj_is_posix(obj);
	q->sending = oflag != O_RDONLY;
	if (q->posix)
		open_posix(q, c, attr, oflag);
	else
		open_sysv(q, c, attr, oflag);
	q->buf = malloc(sizeof *q->buf + q->msgmax);
	if (!q->buf)
		it_xfail(errno, "allocate a buffer for", it_obj_label(obj), NULL);
	if (c->rm) {
		rm_queue = q;
		atexit(remove_queue);
	}
}

/* ---- sending and receiving ---- */

/* EINVAL from a System V call on a queue that was open means it is gone,
 * unless the queue still answers. */
static int sysv_err(const struct it_mq *q, int err)
{
	struct msqid_ds ds;
	if (err == EINVAL && msgctl(q->id, IPC_STAT, &ds) < 0 &&
	    (errno == EINVAL || errno == EIDRM))
		return EIDRM;
	if (err == ENOMSG)
		return EAGAIN;
	return err;
}

/* One send or receive, retried after an alarm until the deadline. */
static ssize_t call(struct it_mq *q, bool send, long *type, size_t len,
		    int flags, int64_t deadline)
{
	bool nowait = flags & IT_MQ_NOWAIT;
	/* A put-back ends only on a stop signal: a reader that has gone is
	 * why it is under way. */
	volatile sig_atomic_t *stop = flags & IT_MQ_PUTBACK ? &stopped : &caught;
	bool timed = !nowait && deadline != IT_FOREVER;
	int sysflags = (nowait ? IPC_NOWAIT : 0) |
		       (flags & IT_MQ_EXCEPT ? MSG_EXCEPT : 0) |
		       (flags & IT_MQ_NOERROR ? MSG_NOERROR : 0);
	for (;;) {
		int64_t left = timed ? it_left_ns(deadline) : 0;
		if (timed && left == 0)
			return fail(ETIMEDOUT);
		if (timed && !q->posix)
			it_alarm_at(deadline);
		/* A call that cannot block needs no stopping. */
		if (*stop && !nowait)
			return fail(EINTR);
		ssize_t n;
		unsigned prio = 0;
		if (q->posix) {
			/* A deadline already past makes the timed calls fail
			 * at once rather than wait: that is --nowait. */
			struct timespec ts = { 0, 0 };
			bool forever = !nowait && !timed;
			if (timed)
				ts = it_realtime_abs(deadline);
			if (send)
				n = forever ? mq_send(q->mqd, q->buf->text, len,
						      (unsigned)*type)
					: mq_timedsend(q->mqd, q->buf->text, len,
						       (unsigned)*type, &ts);
			else
				n = forever ? mq_receive(q->mqd, q->buf->text,
							 q->msgmax, &prio)
					: mq_timedreceive(q->mqd, q->buf->text,
							  q->msgmax, &prio, &ts);
		} else if (send) {
			n = msgsnd(q->id, q->buf, len, sysflags);
		} else {
			n = msgrcv(q->id, q->buf, q->msgmax, *type, sysflags);
		}
		int err = errno;
		if (timed && !q->posix)
			it_alarm_at(IT_FOREVER);
		if (n >= 0) {
			if (!send)
				*type = q->posix ? (long)prio : q->buf->type;
			return n;
		}
		if (err == EINTR && *stop)
			return fail(EINTR);
		/* An alarm, or a wall clock that jumped: the monotonic
		 * deadline decides. */
		if (err == EINTR || (err == ETIMEDOUT && timed))
			continue;
		if (err == ETIMEDOUT)
			return fail(EAGAIN);
		return fail(q->posix ? err : sysv_err(q, err));
	}
}

int it_mq_send(struct it_mq *q, long type, const void *msg, size_t len,
	       int flags, int64_t deadline)
{
	if (len > q->msgmax)
		return fail(EMSGSIZE);
	q->buf->type = type;
	memcpy(q->buf->text, msg, len);
	return call(q, true, &type, len, flags, deadline) < 0 ? -1 : 0;
}

int it_mq_drop_oldest(struct it_mq *q)
{
	if (!q->posix) {
		/* MSG_NOERROR with no room: the message goes, none is copied */
		struct it_mq_buf none;
		if (msgrcv(q->id, &none, 0, 0, IPC_NOWAIT | MSG_NOERROR) >= 0)
			return 0;
		return fail(sysv_err(q, errno));
	}
	/* mq_receive wants room for the largest message */
	char *scratch = malloc(q->msgmax ? q->msgmax : 1);
	if (!scratch)
		return -1;
	struct timespec past = { 0, 0 };
	ssize_t n = mq_timedreceive(q->mqd, scratch, q->msgmax, NULL, &past);
	int err = errno;
	free(scratch);
	if (n >= 0)
		return 0;
	return fail(err == ETIMEDOUT ? EAGAIN : err);
}

ssize_t it_mq_recv(struct it_mq *q, long *type, int flags, int64_t deadline)
{
	return call(q, false, type, 0, flags, deadline);
}

int it_mq_putback(struct it_mq *q, long type, const void *msg, size_t len,
		  int64_t deadline)
{
	q->buf->type = type;
	memmove(q->buf->text, msg, len);
	/* Once a stop signal has come, the message goes back only if there
	 * is room at once: the user asked the tool to end, not to wait. */
	if (stopped) {
		int rc = call(q, true, &type, len, IT_MQ_NOWAIT | IT_MQ_PUTBACK,
			      IT_FOREVER) < 0 ? -1 : 0;
		if (rc < 0 && errno == EAGAIN)
			errno = EINTR;
		return rc;
	}
	return call(q, true, &type, len, IT_MQ_PUTBACK, deadline) < 0 ? -1 : 0;
}

void it_mq_xremove(void)
{
	const struct it_mq *q = rm_queue;
	if (!q)
		return;
	rm_queue = NULL;
	int rc = q->posix ? mq_unlink(q->obj->name)
		 : msgctl(q->id, IPC_RMID, NULL);
	/* A queue someone else removed first is removed: --rm is done. */
	if (rc < 0 && errno != ENOENT && errno != EINVAL && errno != EIDRM)
		it_xfail(errno, "remove message queue", it_obj_label(q->obj),
			 NULL);
}

bool it_mq_keep(void)
{
	bool pending = rm_queue != NULL;
	rm_queue = NULL;
	return pending;
}

void it_mq_xfail(const struct it_mq *q, int err)
{
	const char *verb = q->sending ? "send to" : "receive from";
	const char *what = it_obj_label(q->obj);
	if (err == EINTR && caught)
		it_mq_exit_signal(caught);
	if (err == EAGAIN)
		it_die(IT_NO, "unable to %s %s: %s (--nowait)", verb, what,
		       q->sending ? "the queue is full" : "no message");
	if (err == ETIMEDOUT)
		it_die(IT_NO, "unable to %s %s: timed out", verb, what);
	if (err == EIDRM)
		it_die(IT_NOINPUT, "unable to %s %s: the queue was removed", verb,
		       what);
	it_xfail(err, verb, what, NULL);
}

void it_mq_limit(const struct it_mq *q, char *buf, size_t size)
{
	if (q->posix)
		snprintf(buf, size, "the msgsize of %s is %zu: set it with --msgsize "
			 "at creation, up to /proc/sys/fs/mqueue/msgsize_max (%ld)",
			 q->obj->name, q->msgmax,
			 proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192));
	else if (!q->sending)
		snprintf(buf, size, "this receiver takes %zu bytes: use --msgsize "
			 "or --truncate", q->msgmax);
	else if (q->qbytes && q->qbytes < q->sysmax)
		snprintf(buf, size, "msg_qbytes of the queue is %ld, msgmax %ld: "
			 "raise sysctl kernel.msgmnb for new queues", q->qbytes,
			 q->sysmax);
	else
		snprintf(buf, size, "msgmax is %ld, msg_qbytes %ld: raise sysctl "
			 "kernel.msgmax", q->sysmax, q->qbytes);
}

/* ---- metadata ---- */

static void meta_mode(struct it_meta *m, mode_t mode)
{
	char s[8];
	snprintf(s, sizeof s, "%04o", (unsigned)mode & 07777);
	it_meta_str(m, "mode", s);
}

/* The metadata counts as printed only once it is out of the stdio buffer:
 * a --rm queue whose --stat could not be written stays, and the line says
 * so. */
static void stat_written(const struct it_mq *q)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	int err = errno ? errno : EIO;
	char hint[200];
	snprintf(hint, sizeof hint, "%s stays despite --rm",
		 it_obj_label(q->obj));
	it_xfail_status(IT_IOERR, err, "write", "standard output",
			it_mq_keep() ? hint : NULL);
}

void it_mq_xstat(const struct it_mq *q, bool json)
{
	struct it_meta m;
	if (q->posix) {
		struct mq_attr a;
		struct stat st;
		if (mq_getattr(q->mqd, &a) < 0 || fstat(q->mqd, &st) < 0)
			it_xfail(errno, "query message queue", q->obj->name, NULL);
		it_meta_begin(&m, json);
		it_meta_str(&m, "name", q->obj->name);
		meta_mode(&m, st.st_mode);
		it_meta_int(&m, "owner", st.st_uid);
		it_meta_int(&m, "group", st.st_gid);
		it_meta_int(&m, "messages", a.mq_curmsgs);
		it_meta_int(&m, "maxmsg", a.mq_maxmsg);
		it_meta_int(&m, "msgsize", a.mq_msgsize);
		it_meta_end(&m);
		stat_written(q);
		return;
	}
	struct msqid_ds ds;
	if (msgctl(q->id, IPC_STAT, &ds) < 0)
		it_xfail(sysv_err(q, errno), "query message queue for",
			 it_obj_label(q->obj), NULL);
	char key[16];
	snprintf(key, sizeof key, "0x%08x", (unsigned)ds.msg_perm.__key);
	it_meta_begin(&m, json);
	it_meta_str(&m, "key", key);
	it_meta_int(&m, "id", q->id);
	meta_mode(&m, ds.msg_perm.mode);
	it_meta_int(&m, "owner", ds.msg_perm.uid);
	it_meta_int(&m, "group", ds.msg_perm.gid);
	it_meta_int(&m, "creator", ds.msg_perm.cuid);
	it_meta_int(&m, "creator_group", ds.msg_perm.cgid);
	it_meta_int(&m, "messages", (long long)ds.msg_qnum);
	it_meta_int(&m, "bytes", (long long)ds.__msg_cbytes);
	it_meta_int(&m, "qbytes", (long long)ds.msg_qbytes);
	it_meta_int(&m, "last_sender", ds.msg_lspid);
	it_meta_int(&m, "last_receiver", ds.msg_lrpid);
	it_meta_int(&m, "sent", (long long)ds.msg_stime);
	it_meta_int(&m, "received", (long long)ds.msg_rtime);
	it_meta_int(&m, "changed", (long long)ds.msg_ctime);
	it_meta_end(&m);
	stat_written(q);
}

void it_mq_check_create(const struct argp_state *state,
			const struct it_obj *obj, const struct it_create *c,
			const struct it_mq_attr *attr)
{
	if (c->mode_given && !c->create && !obj->private)
		argp_error(state, "--mode sets the mode of a new queue: it needs "
			   "--create or --excl");
	if (it_obj_is_posix(obj) && (attr->maxmsg || attr->msgsize) && !c->create)
		argp_error(state, "--maxmsg and --msgsize shape a new POSIX queue: "
			   "they need --create or --excl");
}

error_t it_mq_attr_parse(int key, char *arg, struct argp_state *state)
{
	struct it_mq_attr *attr = state->input;
	long v;
	if (key != IT_KEY_MAXMSG && key != IT_KEY_MSGSIZE)
		return ARGP_ERR_UNKNOWN;
	if (it_parse_long(arg, 1, INT_MAX, &v))
		it_argp_bad(state, key == IT_KEY_MAXMSG ? "maxmsg" : "msgsize", arg);
	*(key == IT_KEY_MAXMSG ? &attr->maxmsg : &attr->msgsize) = v;
	return 0;
}
