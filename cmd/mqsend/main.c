/* mqsend: send messages to a System V or POSIX message queue, from the
 * operands or from standard input, in one process however many there are;
 * or one request, waiting for its reply (--call, in call.c). This file is
 * the command line, and plain sending. */
#include "mqsend.h"

enum { OPT_TYPED = 0x2000, OPT_STAT, OPT_JSON, OPT_PACK, OPT_FULL, OPT_CALL };

static const struct argp_option options[] = {
	{"type", 't', "TYPE", 0, "System V message type, 1 or more (default 1)", 0},
	{"priority", 'p', "PRIO", 0, "POSIX message priority, 0 to 32767 "
	 "(default 0)", 0},
	{"typed", OPT_TYPED, NULL, 0, "each message starts with its TYPE or PRIO "
	 "and a tab, as mqrecv --print-type or --print-priority writes it", 0},
	{"full", OPT_FULL, "ACTION", 0, "when the queue is full: wait (the "
	 "default), overwrite (drop the oldest message to make room), discard "
	 "(drop this one), fail (exit 1, as --nowait)", 0},
	{"stat", OPT_STAT, NULL, 0, "print the queue's metadata instead of "
	 "sending", 0},
	{"json", OPT_JSON, NULL, 0, "with --stat, print one JSON object", 0},
	{"call", OPT_CALL, NULL, 0, "send one request (MESSAGE, or the first "
	 "message of standard input) to mqrecv --reply, wait for its reply and "
	 "write it; -w bounds the whole call", 0},
	{"pack", OPT_PACK, "FORMAT", 0, "each message is a line of tab-separated "
	 "fields, sent as one binary record of FORMAT (30s c i i i)", 0},
	{0}
};

/* --nowait and -w, in mqsend's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"nowait", IT_KEY_NOWAIT, NULL, 0, "exit 1 at once if the queue is full",
	 0},
	{"timeout", 'w', "DURATION", 0, "exit 1 if the queue stays full this long "
	 "(250ms, 1.5s, 2m)", 0},
	{0}
};

/* --maxmsg and --msgsize, in mqsend's words, for lib's parser. */
static const struct argp_option attr_options[] = {
	{"maxmsg", IT_KEY_MAXMSG, "N", 0, "a new POSIX queue holds N messages", 0},
	{"msgsize", IT_KEY_MSGSIZE, "BYTES", 0, "a new POSIX queue takes messages of "
	 "up to BYTES", 0},
	{0}
};

/* The first option given that --stat, which sends nothing, would ignore;
 * NULL if none. */
static const char *idle_with_stat(const struct args *a)
{
	const struct it_given opts[] = {
		{ a->type_given, "--type" }, { a->prio_given, "--priority" },
		{ a->typed, "--typed" }, { a->nowait, "--nowait" },
		{ a->full != FULL_WAIT, "--full" },
		{ a->packed, "--pack" },
		{ a->timeout != IT_FOREVER, "--timeout" },
		{ a->framing != IT_FRAME_LINE, it_frame_name(a->framing) },
	};
	return it_first_given(opts, sizeof opts / sizeof *opts);
}

/* --call: one request, as the envelope carries it. */
static void check_call(struct argp_state *state, const struct args *a)
{
	const struct it_given opts[] = {
		{ a->stat, "--stat" }, { a->typed, "--typed" },
		{ a->full != FULL_WAIT, "--full" }, { a->packed, "--pack" },
		{ a->nowait, "--nowait" },
	};
	const char *no = it_first_given(opts, sizeof opts / sizeof *opts);
	if (no)
		argp_error(state, "--call sends one request and waits for its "
			   "reply: %s does not go with it", no);
	if (a->nmsgs > 1)
		argp_error(state, "--call sends one request: give one MESSAGE, "
			   "or none to read it from standard input");
	if (a->obj.private)
		argp_error(state, "--call needs a queue a server reads: --key "
			   "private would make a new one");
}

static void check(struct argp_state *state, struct args *a)
{
	bool posix = it_obj_is_posix(&a->obj);
	a->nowait = a->wait.nowait;
	a->timeout = a->wait.timeout;
	if (a->obj.kind == IT_OBJ_NONE)
		return;  /* the naming child says so */
	if (posix && a->type_given)
		argp_error(state, "--type is for System V queues: use --priority");
	if (!posix && a->prio_given)
		argp_error(state, "--priority is for POSIX queues: use --type");
	if (!posix && (a->attr.maxmsg || a->attr.msgsize))
		argp_error(state, "--maxmsg and --msgsize are for POSIX queues");
	if (a->obj.kind == IT_OBJ_ID && a->create.create)
		argp_error(state, "--id names an existing queue: --create does not "
			   "apply");
	if (a->typed && (a->type_given || a->prio_given))
		argp_error(state, "--typed takes the type from each message");
	if (a->full == FULL_FAIL && a->timeout != IT_FOREVER)
		argp_error(state, "--full=fail and --timeout: choose one");
	if ((a->full == FULL_OVERWRITE || a->full == FULL_DISCARD) &&
	    (a->nowait || a->timeout != IT_FOREVER))
		argp_error(state, "--full=%s never waits: drop %s", a->full ==
			   FULL_OVERWRITE ? "overwrite" : "discard", a->nowait
			   ? "--nowait" : "--timeout");
	if (a->packed && a->framing != IT_FRAME_LINE)
		argp_error(state, "--pack takes one line of fields per message: "
			   "drop %s", it_frame_name(a->framing));
	if (a->json && !a->stat)
		argp_error(state, "--json goes with --stat");
	it_mq_check_create(state, &a->obj, &a->create, &a->attr);
	const char *idle = a->stat ? idle_with_stat(a) : NULL;
	if (idle)
		argp_error(state, "--stat sends nothing: %s has no effect with it",
			   idle);
	if (a->stat && a->obj.private)
		argp_error(state, "--stat describes an existing queue: --key private "
			   "would make a new one; name it by --id");
	if (a->stat && a->nmsgs)
		argp_error(state, "--stat sends nothing: drop the messages");
	if (a->call)
		check_call(state, a);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &a->obj, &a->create, &a->framing,
			       &a->wait, &a->attr);
		break;
	case 't':
		if (it_parse_long(arg, 1, LONG_MAX, &a->type))
			it_argp_bad(state, "type", arg);
		a->type_given = true;
		break;
	case 'p':
		if (it_parse_long(arg, 0, sysconf(_SC_MQ_PRIO_MAX) - 1, &a->type))
			it_argp_bad(state, "priority", arg);
		a->prio_given = true;
		break;
	case OPT_TYPED: a->typed = true; break;
	case OPT_FULL:
		if (strcmp(arg, "wait") == 0)
			a->full = FULL_WAIT;
		else if (strcmp(arg, "overwrite") == 0)
			a->full = FULL_OVERWRITE;
		else if (strcmp(arg, "discard") == 0)
			a->full = FULL_DISCARD;
		else if (strcmp(arg, "fail") == 0)
			a->full = FULL_FAIL;
		else
			argp_error(state, "invalid --full action '%s': wait, "
				   "overwrite, discard or fail", arg);
		break;
	case OPT_STAT: a->stat = true; break;
	case OPT_CALL: a->call = true; break;
	case OPT_JSON: a->json = true; break;
	case OPT_PACK:
		it_argp_pack(state, arg, &a->pack);
		a->packed = true;
		break;
	case ARGP_KEY_ARGS:
		a->msgs = state->argv + state->next;
		a->nmsgs = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		check(state, a);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{&it_obj_argp, 0, "Naming the queue:", 1},
	{&it_create_argp, 0, "Creating and removing it:", 2},
	{&it_frame_argp, 0, "Framing of standard input:", 3},
	IT_WAIT_CHILD(wait_options),
	IT_ARGP_CHILD(attr_options, it_mq_attr_parse),
	{0}
};

static const struct argp argp = {
	options, parse_opt, "[MESSAGE...]",
	"Send messages to a System V or POSIX message queue: each MESSAGE, or "
	"else each message of standard input.\v"
	"After a message that is not sent, a seekable standard input is left at "
	"its first byte. Exit status: 0 success (also when --full=overwrite or "
	"discard dropped messages: stderr says how many), 1 queue full "
	"(--nowait, --full=fail) or "
	"timed out (--call: no reply in time), 64 usage, 65 message too long or "
	"badly framed (--call: also a reply too long for the queue), 66 no such "
	"queue, or removed, 69 --call: the server's command failed (its status "
	"on stderr), 71 system error, 73 exists (--excl), 74 read error on "
	"standard input, 77 permission denied.", children, NULL, NULL
};

/* With --typed, splits "TYPE<TAB>text" into *type and the text; -1 if the
 * prefix is not a valid type (or priority) followed by a tab. */
static int split_typed(const struct it_mq *q, const char **msg, size_t *len,
		       long *type)
{
	const char *tab = memchr(*msg, '\t', *len < 24 ? *len : 24);
	char num[24];
	if (!tab)
		return -1;
	memcpy(num, *msg, (size_t)(tab - *msg));
	num[tab - *msg] = '\0';
	if (q->posix ? it_parse_long(num, 0, sysconf(_SC_MQ_PRIO_MAX) - 1, type)
	    : it_parse_long(num, 1, LONG_MAX, type))
		return -1;
	*len -= (size_t)(tab + 1 - *msg);
	*msg = tab + 1;
	return 0;
}

/* Makes the message at msg (len bytes, as it_read_msg returned it) unread
 * again, with what was read ahead after it, so that a seekable standard
 * input is left at the refused message's first byte. */
static void unread(struct it_reader *r, const char *msg, size_t len)
{
	size_t head = r->framing == IT_FRAME_NETSTRING
		      ? (size_t)snprintf(NULL, 0, "%zu:", len) : 0;
	if (r->buf)
		r->start = (size_t)(msg - r->buf) - head;
	it_reader_giveback(r);
}

/* Messages a full queue made us drop (--full=overwrite, discard), told at
 * exit: dropping was asked for, so the status stays 0. */
static long dropped;
static const char *dropped_on, *dropped_how;

static void tell_dropped(void)
{
	if (dropped)
		it_warn("%s %ld message%s on %s: the queue was full (--full=%s)",
			dropped_how[0] == 'o' ? "dropped the oldest" : "discarded",
			dropped, dropped == 1 ? "" : "s", dropped_on, dropped_how);
}

/* Sends one message as --full says: 0, or -1 with errno as it_mq_send. */
static int deliver(const struct args *a, struct it_mq *q, long type,
		   const char *msg, size_t len)
{
	if (a->full == FULL_WAIT || a->full == FULL_FAIL)
		return it_mq_send(q, type, msg, len, a->full == FULL_FAIL ||
				  a->nowait ? IT_MQ_NOWAIT : 0,
				  it_deadline(a->timeout));
	for (;;) {
		if (it_mq_send(q, type, msg, len, IT_MQ_NOWAIT, IT_FOREVER) == 0)
			return 0;
		if (errno != EAGAIN)
			return -1;
		if (a->full == FULL_DISCARD) {
			dropped++;
			return 0;
		}
		/* Empty, yet no room: a receiver took the oldest first, or a
		 * sender filled the room again; try once more. */
		if (it_mq_drop_oldest(q) == 0)
			dropped++;
		else if (errno != EAGAIN)
			return -1;
	}
}

/* A refusal before the first message: a queue made for this run (--key
 * private) holds nothing and only its id was printed; it would leak, so
 * it goes, and the error says so. */
static const char *gone(const struct args *a, const struct it_mq *q, long n)
{
	if (!a->obj.private || n > 1 || msgctl(q->id, IPC_RMID, NULL) < 0)
		return "";
	return "; the new queue was removed";
}

/* Sends message number n, or exits; r (if any) then gets back the message
 * and its read-ahead, so that standard input is left right after the last
 * message sent. */
static void send_one(const struct args *a, struct it_mq *q,
		     struct it_reader *r, long n, const char *msg, size_t len)
{
	long type = a->type;
	int err = 0;
	char limit[200];
	const char *first = msg;
	size_t whole = len, field = 0;
	char why[256];
	if (a->typed && split_typed(q, &msg, &len, &type) < 0) {
		err = EBADMSG;
	} else if (a->packed) {
		if (it_pack(&a->pack, msg, len, a->rec, &field, why, sizeof why) < 0)
			err = EDOM;
		msg = (const char *)a->rec;
		len = a->pack.size;
	}
	if (!err && deliver(a, q, type, msg, len) < 0)
		err = errno;
	if (!err)
		return;
	if (r)
		unread(r, first, whole);
	if (err == EBADMSG)
		it_die(IT_DATAERR, "unable to send to %s: message %ld does not start "
		       "with a %s and a tab (--typed)%s", it_obj_label(&a->obj), n,
		       q->posix ? "priority" : "type", gone(a, q, n));
	if (err == EDOM)
		it_die(IT_DATAERR, "unable to send to %s: %s %ld, field %zu: %s "
		       "(--pack)%s", it_obj_label(&a->obj), r ? "line" : "message",
		       n, field, why, gone(a, q, n));
	if (err == EMSGSIZE) {
		it_mq_limit(q, limit, sizeof limit);
		it_die(IT_DATAERR, "unable to send to %s: message %ld is longer than "
		       "%zu bytes (%s)%s", it_obj_label(&a->obj), n, q->msgmax,
		       limit, gone(a, q, n));
	}
	it_mq_xfail(q, err);
}

static void send_input(const struct args *a, struct it_mq *q)
{
	struct it_reader r;
	const char *msg;
	size_t len;
	long n = 0;
	int got;
	it_reader_init(&r, STDIN_FILENO, a->framing);
	/* Room for a type prefix; send_one checks the text's own length. */
	size_t max = a->packed ? it_pack_maxline(&a->pack) : q->msgmax;
	while ((got = it_read_msg(&r, max + (a->typed ? 24 : 0), &msg,
				  &len)) > 0)
		send_one(a, q, &r, ++n, msg, len);
	if (got < 0) {
		int err = errno;
		char limit[200];
		it_reader_giveback(&r);
		if (err == EMSGSIZE && a->packed)
			it_die(IT_DATAERR, "unable to send to %s: line %ld is longer "
			       "than %zu bytes, more than any record of the format "
			       "takes (--pack)%s", it_obj_label(&a->obj), n + 1, max,
			       gone(a, q, n + 1));
		if (err == EMSGSIZE) {
			it_mq_limit(q, limit, sizeof limit);
			it_die(IT_DATAERR, "unable to send to %s: message %ld is longer "
			       "than %zu bytes (%s)%s", it_obj_label(&a->obj), n + 1,
			       q->msgmax, limit, gone(a, q, n + 1));
		}
		if (err == EBADMSG)
			it_die(IT_DATAERR, "unable to read standard input: message "
			       "%ld is not a complete netstring%s", n + 1,
			       gone(a, q, n + 1));
		it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
	}
	it_reader_free(&r);
}

int main(int argc, char **argv)
{
	struct args a = { .type = 1, .timeout = IT_FOREVER };
	struct it_mq q;
	a.obj.accept = IT_ACCEPT_ALL;
	it_init();
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (a.obj.kind == IT_OBJ_NAME && !a.prio_given && !a.typed)
		a.type = 0;
	it_xobj_resolve(&a.obj);
	if (a.call)
		call(&a);
	if (a.packed && !(a.rec = malloc(a.pack.size ? a.pack.size : 1)))
		it_xfail(errno, "allocate", "a record", NULL);
	/* A stop signal waits for the send under way to return, so that the
	 * unsent message and what was read after it go back to a seekable
	 * stdin. Reading a pipe or a terminal may block, and the signal must
	 * end that at once: nothing read from those could go back anyway. */
	it_mq_xsignals(a.nmsgs || lseek(STDIN_FILENO, 0, SEEK_CUR) >= 0);
	/* Overwriting takes messages off: a POSIX queue opens for both. */
	it_mq_xopen(&q, &a.obj, &a.create, &a.attr,
		    a.full == FULL_OVERWRITE ? O_RDWR : O_WRONLY);
	if (a.full == FULL_OVERWRITE || a.full == FULL_DISCARD) {
		dropped_on = it_obj_label(&a.obj);
		dropped_how = a.full == FULL_OVERWRITE ? "overwrite" : "discard";
		atexit(tell_dropped);
	}
	if (a.stat)
		it_mq_xstat(&q, a.json);
	else if (a.nmsgs)
		for (int i = 0; i < a.nmsgs; i++)
			send_one(&a, &q, NULL, i + 1, a.msgs[i], strlen(a.msgs[i]));
	else
		send_input(&a, &q);
	it_mq_xremove();
	free(q.buf);
	free(a.rec);
	it_pack_free(&a.pack);
	return IT_OK;
}
