/* shmcat: shared memory segments from the shell (load, dump, stat, rm,
 * set), and a crash-safe byte stream through a ring in one (write, read).
 * This file is the command line: the option table, which command takes
 * which option, and the dispatch; the commands are in files of their own. */
#include "shmcat.h"

static const char *const opt_names[] = {
	"create", "mode", "rm", "size", "offset", "length", "json", "owner",
	"atomic", "lines", "follow", "timeout", "nowait", "ready-fd", "pack",
	"unpack", "full",
};

const struct it_cmd cmds[NCMD] = {
	[LOAD] = {"load", O_CREATE | O_MODE | O_SIZE | O_OFFSET | O_PACK},
	[DUMP] = {"dump", O_OFFSET | O_LENGTH | O_RM | O_UNPACK},
	[STAT] = {"stat", O_JSON},
	[RM] = {"rm", 0},
	[SET] = {"set", O_MODE | O_OWNER},
	[WRITE] = {"write", O_CREATE | O_MODE | O_SIZE | O_ATOMIC | O_LINES |
		   O_TIMEOUT | O_NOWAIT | O_READY | O_FULL},
	[READ] = {"read", O_CREATE | O_MODE | O_SIZE | O_FOLLOW | O_TIMEOUT |
		  O_NOWAIT | O_READY | O_RM},
};

enum { OPT_JSON = 0x3000, OPT_OWNER, OPT_LINES, OPT_PACK, OPT_UNPACK,
       OPT_FULL };

static const struct argp_option options[] = {
	{"size", 's', "SIZE", 0, "load, write, read: size of a new segment "
	 "(64k, 1M, 2G); for write and read the ring's capacity (default 1M)", 0},
	{"offset", 'o', "OFFSET", 0, "load, dump: start at this byte (with "
	 "--pack or --unpack, this record)", 0},
	{"length", 'l', "LENGTH", 0, "dump: this many bytes or records (default: "
	 "to the end)", 0},
	{"pack", OPT_PACK, "FORMAT", 0, "load: each line of tab-separated fields "
	 "becomes one binary record of FORMAT (30s c i i i)", 0},
	{"unpack", OPT_UNPACK, "FORMAT", 0, "dump: each record of FORMAT becomes "
	 "a line of tab-separated fields", 0},
	{"json", OPT_JSON, NULL, 0, "stat: print one JSON object", 0},
	{"owner", OPT_OWNER, "UID[:GID]", 0, "set: new owner and group, by "
	 "number or name", 0},
	{"atomic", 'a', "BYTES", 0, "write: chunks up to BYTES are never mixed "
	 "with another writer's (default 4096, less in a ring under 8224 bytes)", 0},
	{"lines", OPT_LINES, NULL, 0, "write: every chunk ends at a newline; a "
	 "line longer than --atomic is exit 65", 0},
	{"full", OPT_FULL, "ACTION", 0, "write: when the ring is full: wait (the "
	 "default), overwrite (drop the oldest chunks to make room), discard "
	 "(drop this one), fail (exit 1, as --nowait)", 0},
	{"follow", 'F', NULL, 0, "read: wait for new writers instead of ending "
	 "when the last one has left", 0},
	{0},
};

/* -w, --nowait and --ready-fd, in shmcat's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "write, read: wait at most this long for "
	 "room or data (250ms, 1.5s, 2m)", 0},
	{"nowait", IT_KEY_NOWAIT, NULL, 0, "write, read: exit 1 rather than wait "
	 "for room or data", 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "write, read: write a newline to FD "
	 "once attached to the ring", 0},
	{0}
};

static unsigned opt_bit(int key)
{
	switch (key) {
	case 's': return O_SIZE;
	case 'o': return O_OFFSET;
	case 'l': return O_LENGTH;
	case OPT_JSON: return O_JSON;
	case OPT_OWNER: return O_OWNER;
	case 'a': return O_ATOMIC;
	case OPT_LINES: return O_LINES;
	case 'F': return O_FOLLOW;
	case OPT_PACK: return O_PACK;
	case OPT_UNPACK: return O_UNPACK;
	case OPT_FULL: return O_FULL;
	default: return 0;
	}
}

/* --full with the waiting options, in mqsend's words; fail is --nowait. */
static void check_full(struct args *a, struct argp_state *state)
{
	bool never = a->full == FULL_OVERWRITE || a->full == FULL_DISCARD;
	if (a->full == FULL_FAIL && a->used & O_TIMEOUT)
		argp_error(state, "--full=fail and --timeout: choose one");
	if (never && a->used & (O_NOWAIT | O_TIMEOUT))
		argp_error(state, "--full=%s never waits: drop %s", a->full ==
			   FULL_OVERWRITE ? "overwrite" : "discard",
			   a->used & O_NOWAIT ? "--nowait" : "--timeout");
	if (a->full == FULL_FAIL)
		a->used |= O_NOWAIT;
}

static void parse_full(struct argp_state *state, const char *arg)
{
	static const char *const names[] = {"wait", "overwrite", "discard",
					    "fail"};
	struct args *a = state->input;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(arg, names[i]) == 0) {
			a->full = (enum full)i;
			return;
		}
	argp_error(state, "invalid --full action '%s': wait, overwrite, "
		   "discard or fail", it_quote(arg, (char[48]){0}, 48));
}

/* Which operands and options go together, checked once all are parsed. */
static void check_args(struct args *a, struct argp_state *state)
{
	/* The children parse -c, -x, -m, --rm and the waiting options. */
	a->used |= (a->create.create ? O_CREATE : 0) |
		   (a->create.mode_given ? O_MODE : 0) | (a->create.rm ? O_RM : 0) |
		   it_wait_used(&a->wait, O_TIMEOUT, O_NOWAIT, O_READY);
	a->timeout = a->wait.timeout;
	a->ready_fd = a->wait.ready_fd;
	if (a->create.excl && !(cmds[a->cmd].opts & O_CREATE))
		argp_error(state, "cannot use --excl with %s", cmds[a->cmd].name);
	it_cmd_check(state, &cmds[a->cmd], a->used, opt_names,
		     sizeof opt_names / sizeof opt_names[0]);
	if (a->obj.private && a->cmd != LOAD && a->cmd != WRITE)
		argp_error(state, "--key private makes a new segment: only load "
			   "and write take it");
	if (a->obj.kind == IT_OBJ_ID && a->create.create)
		argp_error(state, "--id names an existing segment: --create does "
			   "not apply");
	check_full(a, state);
	if (a->cmd == SET && !(a->used & (O_MODE | O_OWNER)))
		argp_error(state, "set needs --mode or --owner");
	if (a->used & O_SIZE && a->size == 0)
		argp_error(state, "invalid size '0': a segment holds at least a byte");
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	a->used |= opt_bit(key);
	switch (key) {
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &a->obj, &a->create, &a->wait);
		break;
	case 's':
	case 'o':
	case 'l':
	case 'a': {
		uint64_t *v = key == 's' ? &a->size : key == 'o' ? &a->offset
			      : key == 'l' ? &a->length : &a->atomic;
		const char *what = key == 's' ? "size" : key == 'o' ? "offset"
				   : key == 'l' ? "length" : "atomic size";
		if (it_parse_size(arg, key == 'a' ? 8u << 20 : INT64_MAX, v))
			it_argp_bad(state, what, arg);
		if (key == 'a' && *v == 0)
			argp_error(state, "invalid atomic size '0': at least 1");
		break;
	}
	case OPT_OWNER:
		it_argp_owner(state, arg, &a->owner);
		break;
	case OPT_FULL:
		parse_full(state, arg);
		break;
	case OPT_PACK:
	case OPT_UNPACK:
		if (a->pack.f)
			argp_error(state, "--pack and --unpack: give one format");
		it_argp_pack(state, arg, &a->pack);
		if (a->pack.size == 0)
			argp_error(state, "invalid format '%s': a record of no bytes",
				   it_quote(arg, (char[48]){0}, 48));
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			argp_error(state, "unexpected operand '%s'",
				   it_quote(arg, (char[48]){0}, 48));
		a->cmd = it_cmd_find(state, cmds, NCMD, arg);
		break;
	case ARGP_KEY_NO_ARGS:
		it_cmd_missing(state, cmds, NCMD);
		break;
	case ARGP_KEY_END:
		if (state->arg_num > 0)
			check_args(a, state);
		break;
	default:
		return opt_bit(key) ? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{&it_obj_argp, 0, "Naming the segment:", 1},
	{&it_create_argp, 0, "Creating and removing it (load, write, read; "
	 "set takes --mode, dump and read --rm):", 2},
	IT_WAIT_CHILD(wait_options),
	{0}
};

static const struct argp argp = {
	options, parse_opt,
	"load [-cx] [-m MODE] [-s SIZE] [-o OFFSET] [--pack FORMAT] OBJECT\n"
	"dump [-o OFFSET] [-l LENGTH] [--unpack FORMAT] [--rm] OBJECT\n"
	"stat [--json] OBJECT\n"
	"rm OBJECT\n"
	"set [-m MODE] [--owner UID[:GID]] OBJECT\n"
	"write [-cx] [-m MODE] [-s SIZE] [-a BYTES] [--lines] [--full ACTION] "
	"[-w DUR | --nowait] [--ready-fd FD] OBJECT\n"
	"read [-cxF] [-m MODE] [-s SIZE] [-w DUR | --nowait] [--ready-fd FD] [--rm] "
	"OBJECT",
	"Move data into and out of System V and POSIX shared memory, and "
	"stream through a ring in a segment.\v"
	"OBJECT is -k KEY, -f PATH [-j PROJ], -i ID or -N /NAME. Sizes take k, "
	"M, G or T (either case, powers of 1024). Exit status: 0 success (also "
	"when --full dropped chunks: stderr says how many), 1 timed out or "
	"would wait (or --full=fail), 64 usage, 65 input longer than the segment, "
	"offset past its end, not a ring or a corrupt ring, 66 no such segment, "
	"69 all slots taken or the ring's lock held for over 2 s, 71 system "
	"error, 73 exists (--excl), 74 I/O error, 77 permission denied.",
	children, NULL, NULL,
};

int main(int argc, char **argv)
{
	struct args a = {.timeout = IT_FOREVER, .ready_fd = -1};
	it_init();
	a.obj.accept = IT_ACCEPT_ALL;
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	it_xobj_resolve(&a.obj);
	static int (*const run[NCMD])(struct args *) = {
		[LOAD] = load, [DUMP] = dump, [STAT] = stat_seg, [RM] = rm_seg,
		[SET] = set_seg, [WRITE] = write_ring, [READ] = read_ring,
	};
	int status = run[a.cmd](&a);
	it_pack_free(&a.pack);
	return status;
}
