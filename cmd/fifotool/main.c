/* fifotool: make, remove, write, read and test named pipes (FIFOs).
 * This file is the command line: the option table, which command takes
 * which option, and the dispatch. */
#include "fifotool.h"

static const char *const opt_names[] = {
	"mode", "exist-ok", "tmp", "nonblock", "timeout", "lines",
	"keep-open", "ready-fd", "any-owner",
};

static const struct it_cmd cmds[NCMD] = {
	[MK] = {"mk", O_MODE | O_EXIST_OK | O_TMP | O_ANY},
	[RM] = {"rm", O_ANY},
	[WRITE] = {"write", O_NONBLOCK_ | O_TIMEOUT | O_LINES | O_READY | O_ANY},
	[READ] = {"read", O_KEEP | O_TIMEOUT | O_READY | O_ANY},
	[TEST] = {"test", O_ANY},
};

enum { OPT_ANY_OWNER = 256 };

static const struct argp_option options[] = {
	{"mode", 'm', "MODE", 0, "mk: octal mode of new FIFOs (default 0600), "
	 "whatever the umask", 0},
	{"exist-ok", 'e', NULL, 0, "mk: accept a FIFO of ours that exists "
	 "(never another type of file)", 0},
	{"tmp", 't', NULL, 0, "mk: make one FIFO in a new private directory "
	 "and print its path", 0},
	{"nonblock", 'n', NULL, 0, "write: no reader is exit 1 at once", 0},
	{"lines", 'l', NULL, 0, "write: write whole lines of up to PIPE_BUF "
	 "bytes atomically", 0},
	{"keep-open", 'k', NULL, 0, "read: go on from writer to writer until "
	 "SIGINT or SIGTERM", 0},
	{"any-owner", OPT_ANY_OWNER, NULL, 0, "accept a FIFO that another user "
	 "owns", 0},
	{0},
};

/* -w and --ready-fd, in fifotool's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "write: wait at most this long for "
	 "a reader, and for it to take a byte from a full FIFO; read: for the "
	 "first writer, or with --keep-open for data",
	 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "read, write: write a newline to FD "
	 "once the FIFO is open", 0},
	{0},
};

static const struct argp_child children[] = {
	IT_WAIT_CHILD(wait_options),
	{0}
};

static unsigned opt_bit(int key)
{
	switch (key) {
	case 'm': return O_MODE;
	case 'e': return O_EXIST_OK;
	case 't': return O_TMP;
	case 'n': return O_NONBLOCK_;
	case 'l': return O_LINES;
	case 'k': return O_KEEP;
	case OPT_ANY_OWNER: return O_ANY;
	default: return 0;
	}
}

/* Which operands and options go together, checked once all are parsed. */
static void check_args(struct args *a, struct argp_state *state)
{
	const char *name = cmds[a->cmd].name;
	a->used |= it_wait_used(&a->wait, O_TIMEOUT, 0, O_READY);
	a->timeout = a->wait.timeout;
	a->ready_fd = a->wait.ready_fd;
	it_cmd_check(state, &cmds[a->cmd], a->used, opt_names,
		     sizeof opt_names / sizeof opt_names[0]);
	if (a->used & O_TMP && a->used & O_EXIST_OK)
		argp_error(state, "cannot use --exist-ok with --tmp");
	if (a->used & O_NONBLOCK_ && a->used & O_TIMEOUT)
		argp_error(state, "cannot use --timeout with --nonblock");
	if (a->used & O_TMP) {
		if (a->npaths > 0)
			argp_error(state, "mk --tmp takes no PATH");
	} else if (a->npaths == 0) {
		argp_error(state, "%s needs a PATH", name);
	} else if (a->npaths > 1 && a->cmd != MK && a->cmd != RM) {
		argp_error(state, "%s takes one PATH", name);
	}
	for (int i = 0; i < a->npaths; i++)
		it_argp_nonempty(state, "path", a->paths[i]);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	a->used |= opt_bit(key);
	switch (key) {
	case 'm':
		if (it_parse_mode(arg, &a->mode))
			it_argp_bad(state, "mode", arg);
		break;
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &a->wait);
		break;
	case ARGP_KEY_ARGS:
		a->cmd = it_cmd_find(state, cmds, NCMD, state->argv[state->next]);
		a->paths = state->argv + state->next + 1;
		a->npaths = state->argc - state->next - 1;
		break;
	case ARGP_KEY_NO_ARGS:
		it_cmd_missing(state, cmds, NCMD);
		break;
	case ARGP_KEY_END:
		check_args(a, state);
		break;
	default:
		return opt_bit(key) ? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	options, parse_opt,
	"mk [-e] [-m MODE] [--any-owner] PATH...\n"
	"mk -t [-m MODE]\n"
	"rm [--any-owner] PATH...\n"
	"write [-ln] [-w DURATION] [--any-owner] [--ready-fd=FD] PATH\n"
	"read [-k] [-w DURATION] [--any-owner] [--ready-fd=FD] PATH\n"
	"test [--any-owner] PATH",
	"Make, remove, write, read and test named pipes (FIFOs).\v"
	"A symlink at PATH is never followed, and a FIFO that another user "
	"owns is refused without --any-owner. Exit status: 0 success, 1 "
	"timed out or no reader, 64 usage, 65 not a FIFO or line too long, "
	"66 no such PATH, 71 system error, 73 PATH exists, 74 I/O error, "
	"77 permission denied.",
	children, NULL, NULL,
};

int main(int argc, char **argv)
{
	struct args a = {.mode = 0600, .timeout = IT_FOREVER, .ready_fd = -1};
	it_init();
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	int status = IT_OK;
	switch (a.cmd) {
	case MK:
		umask(0);
		if (a.used & O_TMP)
			mk_tmp(&a);
		for (int i = 0; i < a.npaths; i++)
			mk_one(&a, a.paths[i]);
		break;
	case RM:
		for (int i = 0; i < a.npaths; i++)
			rm_one(&a, a.paths[i]);
		break;
	case WRITE:
		status = write_fifo(&a);
		break;
	case READ:
		status = read_fifo(&a);
		break;
	default:
		status = test_fifo(&a, a.paths[0]);
		break;
	}
	it_close_stdout();
	return status;
}
