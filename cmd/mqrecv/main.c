/* mqrecv: receive messages from a System V or POSIX message queue and write
 * them to standard output, never taking one off the queue that the output
 * cannot take. This file is the command line: the option table, the
 * checks of what goes together, and main. */
#include "mqrecv.h"

enum { OPT_FOLLOW = 0x2000, OPT_EXCEPT, OPT_PRINT_TYPE, OPT_PRINT_PRIO,
       OPT_TRUNCATE, OPT_STAT, OPT_JSON, OPT_PUTBACK, OPT_UNPACK, OPT_REPLY };

static const struct argp_option options[] = {
	{"type", 't', "TYPE", 0, "System V: 0 takes the first message (the "
	 "default), TYPE > 0 the first of that type, TYPE < 0 the lowest type "
	 "up to -TYPE", 0},
	{"except", OPT_EXCEPT, NULL, 0, "take the first message not of TYPE "
	 "(TYPE > 0)", 0},
	{"count", 'n', "COUNT", 0, "take COUNT messages (default 1)", 0},
	{"follow", OPT_FOLLOW, NULL, 0, "take messages until stopped", 0},
	{"print-type", OPT_PRINT_TYPE, NULL, 0, "write each message's type and "
	 "a tab before it (System V)", 0},
	{"print-priority", OPT_PRINT_PRIO, NULL, 0, "write each message's "
	 "priority and a tab before it (POSIX)", 0},
	{"truncate", OPT_TRUNCATE, NULL, 0, "cut messages longer than --msgsize "
	 "and say so on stderr, instead of exit 65 (System V)", 0},
	{"stat", OPT_STAT, NULL, 0, "print the queue's metadata instead of "
	 "receiving", 0},
	{"json", OPT_JSON, NULL, 0, "with --stat, print one JSON object", 0},
	{"putback-timeout", OPT_PUTBACK, "DURATION", 0, "how long to wait for "
	 "room to put back a message the output refused (default 1m); then "
	 "it is saved in a file", 0},
	{"reply", OPT_REPLY, NULL, 0, "answer requests of mqsend --call: run "
	 "CMD (the operands, after --) with each one on its stdin, and send "
	 "its output and exit status back to the caller", 0},
	{"unpack", OPT_UNPACK, "FORMAT", 0, "each message is one binary record "
	 "of FORMAT (30s c i i i), written as a line of tab-separated fields", 0},
	{0}
};

/* --nowait, -w and --ready-fd, in mqrecv's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"nowait", IT_KEY_NOWAIT, NULL, 0, "exit 1 at once if no message is "
	 "there", 0},
	{"timeout", 'w', "DURATION", 0, "exit 1 if no message comes in this "
	 "time (250ms, 1.5s, 2m), or a write blocks that long", 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "write a newline to FD once the "
	 "queue is open", 0},
	{0}
};

/* --maxmsg and --msgsize, in mqrecv's words, for lib's parser. */
static const struct argp_option attr_options[] = {
	{"maxmsg", IT_KEY_MAXMSG, "N", 0, "a new POSIX queue holds N messages", 0},
	{"msgsize", IT_KEY_MSGSIZE, "BYTES", 0, "a new POSIX queue takes messages of "
	 "up to BYTES; System V: take messages of up to BYTES (default "
	 "kernel.msgmax)", 0},
	{0}
};

/* The first option given that --stat, which receives nothing, would
 * ignore; NULL if none. */
static const char *idle_with_stat(const struct args *a, bool posix)
{
	const struct it_given opts[] = {
		{ a->count != 0, "--count" }, { a->follow, "--follow" },
		{ a->type_given, "--type" }, { a->except, "--except" },
		{ a->print_type, "--print-type" },
		{ a->print_prio, "--print-priority" }, { a->nowait, "--nowait" },
		{ a->timeout != IT_FOREVER, "--timeout" },
		{ a->truncate, "--truncate" },
		{ a->putback_given, "--putback-timeout" },
		{ a->unpacked, "--unpack" },
		{ !posix && a->attr.msgsize, "--msgsize" },
		{ a->framing != IT_FRAME_LINE, it_frame_name(a->framing) },
	};
	return it_first_given(opts, sizeof opts / sizeof *opts);
}

/* --reply: requests of one type, given whole to CMD, nothing written. */
static void check_reply(struct argp_state *state, const struct args *a)
{
	const struct it_given opts[] = {
		{ a->stat, "--stat" }, { a->except, "--except" },
		{ a->print_type, "--print-type" },
		{ a->print_prio, "--print-priority" },
		{ a->truncate, "--truncate" }, { a->unpacked, "--unpack" },
		{ a->putback_given, "--putback-timeout" },
		{ a->framing != IT_FRAME_LINE, it_frame_name(a->framing) },
	};
	const char *no = it_first_given(opts, sizeof opts / sizeof *opts);
	if (!a->reply) {
		if (a->cmd)
			argp_error(state, "unexpected operand '%s'",
				   it_quote(a->cmd[0], (char[48]){0}, 48));
		return;
	}
	if (no)
		argp_error(state, "--reply gives CMD each request whole and writes "
			   "nothing: %s does not go with it", no);
	if (!a->cmd)
		argp_error(state, "--reply needs a CMD: mqrecv --reply -k KEY -- "
			   "CMD [ARG...]");
	it_argp_nonempty(state, "CMD", a->cmd[0]);
	if (a->type_given && a->type <= 0)
		argp_error(state, "--reply takes requests of one type: --type "
			   "above 0");
}

static void check(struct argp_state *state, struct args *a)
{
	bool posix = it_obj_is_posix(&a->obj);
	a->nowait = a->wait.nowait;
	a->timeout = a->wait.timeout;
	a->ready_fd = a->wait.ready_fd;
	if (a->obj.kind == IT_OBJ_NONE)
		return;  /* the naming child says so */
	if (posix && (a->type_given || a->except || a->print_type))
		argp_error(state, "--type, --except and --print-type are for System "
			   "V queues");
	if (!posix && a->print_prio)
		argp_error(state, "--print-priority is for POSIX queues: use "
			   "--print-type");
	if (posix && a->truncate)
		argp_error(state, "--truncate is for System V queues: a POSIX queue "
			   "never holds a message over its msgsize");
	if (!posix && a->attr.maxmsg)
		argp_error(state, "--maxmsg is for POSIX queues");
	if (a->obj.private)
		argp_error(state, "--key private would make a new queue that no "
			   "sender knows: name it by --key, --file, --id or --name");
	if (a->except && a->type <= 0)
		argp_error(state, "--except needs --type above 0");
	if (a->obj.kind == IT_OBJ_ID && a->create.create)
		argp_error(state, "--id names an existing queue: --create does not "
			   "apply");
	if (a->follow && a->count)
		argp_error(state, "--count and --follow: choose one");
	if (a->json && !a->stat)
		argp_error(state, "--json goes with --stat");
	if (a->unpacked && a->framing != IT_FRAME_LINE)
		argp_error(state, "--unpack writes one line per message: drop %s",
			   it_frame_name(a->framing));
	if (a->unpacked && a->truncate)
		argp_error(state, "--truncate and --unpack: a cut message is never "
			   "a record, and what was cut could not go back");
	check_reply(state, a);
	it_mq_check_create(state, &a->obj, &a->create, &a->attr);
	const char *idle = a->stat ? idle_with_stat(a, posix) : NULL;
	if (idle)
		argp_error(state, "--stat receives nothing: %s has no effect with it",
			   idle);
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
		/* LONG_MIN has no positive counterpart for msgrcv to use. */
		if (it_parse_long(arg, LONG_MIN + 1, LONG_MAX, &a->type))
			it_argp_bad(state, "type", arg);
		a->type_given = true;
		break;
	case 'n':
		if (it_parse_long(arg, 1, LONG_MAX, &a->count))
			it_argp_bad(state, "count", arg);
		break;
	case OPT_PUTBACK:
		it_argp_duration(state, arg, &a->putback_timeout);
		a->putback_given = true;
		break;
	case OPT_FOLLOW: a->follow = true; break;
	case OPT_EXCEPT: a->except = true; break;
	case OPT_PRINT_TYPE: a->print_type = true; break;
	case OPT_PRINT_PRIO: a->print_prio = true; break;
	case OPT_TRUNCATE: a->truncate = true; break;
	case OPT_STAT: a->stat = true; break;
	case OPT_JSON: a->json = true; break;
	case OPT_UNPACK:
		it_argp_pack(state, arg, &a->pack);
		a->unpacked = true;
		break;
	case OPT_REPLY: a->reply = true; break;
	case ARGP_KEY_ARG:
		/* CMD [ARG...]: the rest of the line, whatever it looks like. */
		a->cmd = state->argv + state->next - 1;
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		check(state, a);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The shared naming options, but for --key's text: mqrecv refuses
 * private, which that text offers. Filled in by main. */
static struct argp obj_argp;

static char *obj_help(int key, const char *text, void *input)
{
	(void)input;
	if (key == 'k')
		return strdup("System V key: decimal, 0x hex, 0 octal (32-bit); "
			      "not private, a new queue no sender knows");
	return (char *)text;
}

static const struct argp_child children[] = {
	{&obj_argp, 0, "Naming the queue:", 1},
	{&it_create_argp, 0, "Creating and removing it:", 2},
	{&it_frame_out_argp, 0, "Framing of standard output:", 3},
	IT_WAIT_CHILD(wait_options),
	IT_ARGP_CHILD(attr_options, it_mq_attr_parse),
	{0}
};

static const struct argp argp = {
	options, parse_opt, "\n--reply [OPTION...] -- CMD [ARG...]",
	"Receive messages from a System V or POSIX message queue and write them "
	"to standard output.\v"
	"Each message is written before the next is taken, and one the output "
	"refuses goes back on the queue. Exit status: 0 success, 1 timed out or "
	"no message (--nowait), 64 usage, 65 message longer than --msgsize, 66 "
	"no such queue, or removed, 71 system error, 73 exists (--excl), 74 "
	"write error on standard output, 77 permission denied.",
	children, NULL, NULL
};

int main(int argc, char **argv)
{
	struct args a = { .timeout = IT_FOREVER, .ready_fd = -1,
			  .putback_timeout = 60 * (int64_t)1000000000 };
	struct it_mq q;
	int status = IT_OK;
	a.obj.accept = IT_ACCEPT_ALL;
	it_init();
	obj_argp = it_obj_argp;
	obj_argp.help_filter = obj_help;
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (!a.follow && !a.count)
		a.count = 1;
	if (a.reply && !a.type_given && !it_obj_is_posix(&a.obj))
		a.type = 1;
	/* --reply writes nothing: CMD's output goes to its caller. */
	if (!a.reply)
		it_xcheck_stdout();
	it_xobj_resolve(&a.obj);
	it_mq_xsignals(true);
	it_mq_xopen(&q, &a.obj, &a.create, &a.attr, O_RDONLY);
	it_xready(&a.ready_fd);
	if (a.stat)
		it_mq_xstat(&q, a.json);
	else
		status = a.reply ? serve(&a, &q) : receive(&a, &q);
	if (status == IT_OK)
		it_mq_xremove();
	free(q.buf);
	it_pack_free(&a.pack);
	return status;
}
