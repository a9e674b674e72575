/* --reply: the server side of mqsend --call. Takes requests one at a
 * time, runs CMD with each one's payload on its stdin, and sends CMD's
 * output and exit status back to that caller, in the envelope mqsend(1)
 * defines; a message that is no request is refused with a line, and a
 * request past its deadline is neither run nor answered. */
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/msg.h>
#include <sys/wait.h>

#include "mqrecv.h"

/* The request in hand, copied out of q->buf, which the reply reuses. */
struct request {
	struct it_rpc m;
	char to[256];           /* where the reply goes, as a string */
	long type, nth;         /* its type or priority; its number */
	int64_t deadline;       /* monotonic, or IT_FOREVER */
	mqd_t rq;               /* POSIX: the caller's reply queue */
	size_t room;            /* how much output a reply can carry */
};

static bool late(const struct request *r)
{
	return r->deadline != IT_FOREVER && it_left_ns(r->deadline) == 0;
}

static int64_t mono_deadline(int64_t ms)
{
	if (!ms)
		return IT_FOREVER;
	int64_t left = ms - it_rpc_now_ms();
	return it_now_ns() + (left > 0 ? left * 1000000 : 0);
}

/* A POSIX reply queue of mqsend --call's making: /mqsend.reply.PID.TOKEN,
 * PID decimal, TOKEN 16 hex digits; the server answers into nothing else,
 * so a caller cannot make it write into a queue of another uid's. */
static bool reply_queue_name(const char *to)
{
	static const char pre[] = "/mqsend.reply.";
	const char *p = to + strlen(pre);
	size_t digits = 0, hex = 0;
	if (strncmp(to, pre, strlen(pre)))
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (!digits || digits > 19 || *p++ != '.')
		return false;
	for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
		hex++;
	return hex == 16 && *p == '\0';
}

/* Where the reply goes: a type above 0 but not the requests', or a POSIX
 * queue's name. */
static bool valid_to(const struct it_mq *q, struct request *r)
{
	long t;
	if (r->m.tolen >= sizeof r->to)
		return false;
	memcpy(r->to, r->m.to, r->m.tolen);
	r->to[r->m.tolen] = '\0';
	/* A reply of the request type would come back to us as a request. */
	/* Decimal digits only, no sign, no leading zero, as ENVELOPE says. */
	if (!q->posix)
		return r->to[0] != '0' && r->m.tolen ==
		       strspn(r->to, "0123456789") &&
		       it_parse_long(r->to, 1, LONG_MAX, &t) == 0 && t != r->type;
	return r->to[0] == '/';
}

/* The child: CMD with the request on its stdin and its stdout into out. */
static _Noreturn void exec_cmd(const struct args *a, const struct it_mq *q,
			       const struct request *r, int in, int out,
			       int gate)
{
	char num[24];
	snprintf(num, sizeof num, "%ld", r->type);
	if (dup2(in, STDIN_FILENO) >= 0 && dup2(out, STDOUT_FILENO) >= 0 &&
	    !setenv(q->posix ? "MQRECV_PRIORITY" : "MQRECV_TYPE", num, 1) &&
	    !setenv("MQRECV_REPLY_TO", r->to, 1)) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		execvp(a->cmd[0], a->cmd);
	}
	int err = errno;
	(void)!write(gate, &err, sizeof err);
	_exit(127);
}

#define GRACE_NS 2000000000LL  /* from TERM to KILL of CMD's group */

/* CMD's run: its group (pid), its output, how it is being ended. */
struct run {
	pid_t pid;
	int fd;                 /* CMD's stdout, -1 once closed */
	bool reaped, over, late;
	int status;
	int64_t kill_at;        /* 0, or when SIGKILL goes to the group */
	char *out;
	size_t got, room;
};

/* Ends CMD's group: TERM, CONT for a stopped one, KILL after GRACE_NS. */
static void end_group(struct run *c, bool late)
{
	if (c->kill_at)
		return;
	c->late = late;
	kill(-c->pid, SIGTERM);
	kill(-c->pid, SIGCONT);
	c->kill_at = it_now_ns() + GRACE_NS;
}

/* Reads what CMD wrote (room bytes kept, the rest dropped), to EOF. */
static void read_some(struct run *c)
{
	static char junk[4096];     /* what does not fit, read to be dropped */
	for (;;) {
		bool fits = c->got < c->room;
		ssize_t n = read(c->fd, fits ? c->out + c->got : junk,
				 fits ? c->room - c->got : sizeof junk);
		if (n > 0 && fits)
			c->got += (size_t)n;
		else if (n > 0)
			c->over = true;
		else if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		else {
			close(c->fd);
			c->fd = -1;
			return;
		}
	}
}

/* How long watch may sleep: to the next thing to do, 250 ms at most (a
 * stop signal just before poll is seen by then). */
static int nap_ms(const struct run *c, const struct request *r)
{
	int64_t now = it_now_ns(), wait = 250000000, at = c->kill_at;
	if (!at && r->deadline != IT_FOREVER)
		at = r->deadline;
	if (c->kill_at && now >= at)
		at += GRACE_NS;     /* killed: the last look at its output */
	if (at && at - now < wait)
		wait = at > now ? at - now : 0;
	return (int)((wait + 999999) / 1000000);
}

/* Until CMD has ended and its output is read, or its group is gone after
 * an end: a stop signal, or the request's deadline, ends the group. */
static void watch(struct run *c, const struct request *r)
{
	int pfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	while (c->fd >= 0 || !c->reaped) {
		struct pollfd pf[2] = { { .fd = c->fd, .events = POLLIN },
					{ .fd = c->reaped ? -1 : pfd,
					  .events = POLLIN } };
		if (poll(pf, 2, nap_ms(c, r)) > 0 && (pf[0].revents & ~POLLNVAL))
			read_some(c);
		if (!c->reaped && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
			c->reaped = true;
		if (it_mq_caught())
			end_group(c, false);
		else if (late(r))
			end_group(c, true);
		if (c->kill_at && it_now_ns() >= c->kill_at) {
			kill(-c->pid, SIGKILL);
			kill(-c->pid, SIGCONT);
		}
		/* Ended, and its group gone or killed a grace ago: whoever
		 * still holds its output (not of the group) is not waited for. */
		if (c->kill_at && c->reaped && c->fd >= 0 &&
		    ((kill(-c->pid, 0) < 0 && errno == ESRCH) ||
		     it_now_ns() >= c->kill_at + GRACE_NS)) {
			read_some(c);
			if (c->fd >= 0)
				close(c->fd);
			c->fd = -1;
		}
	}
	if (pfd >= 0)
		close(pfd);
}

/* Runs CMD on the request's payload in a process group of its own: its
 * status for the reply (128+n for signal n, IT_RPC_TOOLONG), its output in
 * out, *len bytes; *late if the deadline ended it. */
static int run_cmd(const struct args *a, const struct it_mq *q,
		   const struct request *r, char *out, size_t *len, bool *late)
{
	int p[2], gate[2], err = 0;
	int in = memfd_create("mqrecv-request", MFD_CLOEXEC);
	if (in < 0 || it_write_full(in, r->m.payload, r->m.len) < 0 ||
	    lseek(in, 0, SEEK_SET) < 0)
		it_xfail(errno, "hold", "a request", NULL);
	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(gate, O_CLOEXEC) < 0)
		it_xfail(errno, "run", a->cmd[0], NULL);
	pid_t pid = fork();
	if (pid < 0)
		it_xfail(errno, "run", a->cmd[0], NULL);
	if (pid == 0) {
		(void)setpgid(0, 0);
		exec_cmd(a, q, r, in, p[1], gate[1]);
	}
	(void)setpgid(pid, pid);    /* set before we may signal it */
	close(in);
	close(p[1]);
	close(gate[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct run c = { .pid = pid, .fd = p[0], .out = out, .room = r->room };
	watch(&c, r);
	*len = c.got;
	*late = c.late;
	ssize_t got;
	while ((got = read(gate[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(gate[0]);
	if (got == (ssize_t)sizeof err) {
		it_warn("unable to run %s: %s", a->cmd[0], strerror(err));
		return 127;
	}
	if (c.over) {
		it_warn("%s wrote more than a reply takes (%zu bytes) for request "
			"%ld: answered without it", a->cmd[0], r->room, r->nth);
		*len = 0;
		return IT_RPC_TOOLONG;
	}
	return WIFEXITED(c.status) ? WEXITSTATUS(c.status)
	       : 128 + WTERMSIG(c.status);
}

/* POSIX: sends the reply into the caller's queue by its deadline. */
static int send_posix(const struct request *r, const char *buf, size_t n)
{
	for (;;) {
		struct timespec ts = it_realtime_abs(r->deadline);
		int rc = r->deadline == IT_FOREVER
			 ? mq_send(r->rq, buf, n, 0)
			 : mq_timedsend(r->rq, buf, n, 0, &ts);
		if (rc == 0)
			return 0;
		if (errno == EINTR && !it_mq_caught())
			continue;
		if (errno == ETIMEDOUT && !late(r))
			continue;
		return -1;
	}
}

/* System V: the caller, whose pid is the reply type, still exists. */
static bool caller_alive(long pid)
{
	return pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

#define SLICE_NS 200000000      /* how often a wait for room looks */

/* System V: sends the reply by its deadline while its caller exists (it
 * is looked at before, and every SLICE_NS while the queue is full): 0, or
 * -1 with errno, ESRCH for a caller gone. */
static int send_sysv(struct it_mq *q, const struct request *r,
		     const char *buf, size_t n)
{
	long type = 0;
	it_parse_long(r->to, 1, LONG_MAX, &type);
	for (;;) {
		if (!caller_alive(type))
			return errno = ESRCH, -1;
		int64_t slice = it_now_ns() + SLICE_NS;
		if (r->deadline != IT_FOREVER && r->deadline < slice)
			slice = r->deadline;
		/* After a stop signal, only if there is room at once. */
		int rc = it_mq_send(q, type, buf, n, it_mq_caught() ? IT_MQ_NOWAIT
				    : 0, slice);
		if (rc < 0 && errno == EIDRM)
			it_mq_xfail(q, EIDRM);
		if (rc == 0 || it_mq_caught() || late(r) ||
		    (errno != ETIMEDOUT && errno != EAGAIN))
			return rc;
	}
}

static void send_reply(struct it_mq *q, const struct request *r,
		       const char *buf, size_t n)
{
	int rc = q->posix ? send_posix(r, buf, n) : send_sysv(q, r, buf, n);
	if (rc == 0 || (errno == EINTR && it_mq_caught()))
		return;
	if (errno == ESRCH) {
		it_warn("the caller of request %ld on %s (pid %s) is gone: not "
			"answered", r->nth, it_obj_label(q->obj), r->to);
		return;
	}
	it_warn("unable to answer request %ld on %s (reply to %s): %s",
		r->nth, it_obj_label(q->obj), r->to, errno == ETIMEDOUT ||
		errno == EAGAIN ? "its deadline passed with no room in the queue"
		: strerror(errno));
}

/* POSIX: opens the caller's reply queue, before CMD runs: a caller gone
 * is told by a line, and its request is not run. */
static bool open_reply(const struct it_mq *q, struct request *r, size_t head)
{
	struct mq_attr at;
	r->rq = mq_open(r->to, O_WRONLY | O_CLOEXEC);
	if (r->rq != (mqd_t)-1 && mq_getattr(r->rq, &at) == 0) {
		r->room = (size_t)at.mq_msgsize > head
			  ? (size_t)at.mq_msgsize - head : 0;
		return true;
	}
	it_warn("unable to open reply queue %s of request %ld on %s: %s: not "
		"run", r->to, r->nth, it_obj_label(q->obj), strerror(errno));
	if (r->rq != (mqd_t)-1)
		mq_close(r->rq);
	return false;
}

/* The buffers of a run: the request in hand, CMD's output, the reply. */
struct bufs {
	char *req, *out, *msg;
	size_t limit;           /* the longest reply the queue takes */
};

/* One request taken, n bytes in q->buf: answered, or refused by a line. */
static void handle(const struct args *a, struct it_mq *q, struct request *r,
		   size_t n, const struct bufs *b)
{
	char head[IT_RPC_HEAD];
	struct it_rpc m = { .reply = true, .status = IT_RPC_TOOLONG };
	size_t hlen = (size_t)it_rpc_encode(&m, head, sizeof head);
	memcpy(b->req, q->buf->text, n);
	if (it_rpc_decode(b->req, n, &r->m) < 0 || r->m.reply ||
	    !valid_to(q, r)) {
		it_warn("message %ld on %s is not a request of mqsend --call (see "
			"mqsend(1), ENVELOPE): dropped", r->nth,
			it_obj_label(q->obj));
		return;
	}
	if (q->posix && !reply_queue_name(r->to)) {
		it_warn("request %ld on %s names reply queue %s, not one of mqsend "
			"--call's (/mqsend.reply.PID.TOKEN): not run, not answered",
			r->nth, it_obj_label(q->obj), r->to);
		return;
	}
	r->deadline = mono_deadline(r->m.deadline_ms);
	if (late(r)) {
		it_warn("request %ld on %s came after its deadline: not run, not "
			"answered", r->nth, it_obj_label(q->obj));
		return;
	}
	r->room = b->limit > hlen ? b->limit - hlen : 0;
	if (q->posix && !open_reply(q, r, hlen))
		return;
	bool ended;
	m.status = run_cmd(a, q, r, b->out, &m.len, &ended);
	m.payload = b->out;
	m.nonce = r->m.nonce;
	ssize_t len = it_rpc_encode(&m, b->msg, b->limit);
	if (ended)
		it_warn("%s outlived the deadline of request %ld on %s: its group "
			"was ended (TERM, then KILL after 2s), not answered",
			a->cmd[0], r->nth, it_obj_label(q->obj));
	else if (late(r))
		it_warn("%s ended after the deadline of request %ld on %s: not "
			"answered", a->cmd[0], r->nth, it_obj_label(q->obj));
	else if (len >= 0)
		send_reply(q, r, b->msg, (size_t)len);
	if (q->posix)
		mq_close(r->rq);
}

static void xalloc(char **p, size_t n)
{
	if (!(*p = malloc(n ? n : 1)))
		it_xfail(errno, "allocate", "a buffer", NULL);
}

int serve(const struct args *a, struct it_mq *q)
{
	int flags = a->nowait ? IT_MQ_NOWAIT : 0;
	struct bufs b = { .limit = q->posix || !q->qbytes || q->qbytes >
			  q->sysmax ? (q->posix ? q->msgmax : (size_t)q->sysmax)
			  : (size_t)q->qbytes };
	xalloc(&b.req, q->msgmax);
	xalloc(&b.out, b.limit);
	xalloc(&b.msg, b.limit);
	for (long got = 0; a->follow || got < a->count;) {
		struct request r = { .nth = got + 1, .type = a->type };
		ssize_t n = it_mq_recv(q, &r.type, flags, it_deadline(a->timeout));
		if (n < 0 && errno == EINTR && it_mq_caught())
			it_mq_exit_signal(it_mq_caught());
		if (n < 0 && a->follow && got > 0 &&
		    (errno == EAGAIN || errno == ETIMEDOUT))
			break;
		if (n < 0 && errno == E2BIG)
			it_die(IT_DATAERR, "unable to receive from %s: the next "
			       "request is longer than %zu bytes (--msgsize) and "
			       "stays queued", it_obj_label(q->obj), q->msgmax);
		if (n < 0)
			it_mq_xfail(q, errno);
		got++;
		handle(a, q, &r, (size_t)n, &b);
		if (it_mq_caught())
			it_mq_exit_signal(it_mq_caught());
	}
	free(b.req);
	free(b.out);
	free(b.msg);
	return IT_OK;
}
