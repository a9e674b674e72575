/* spool: a drop directory in the maildir layout. put writes each message in
 * tmp/ and renames it into new/, so a reader never sees part of one; take
 * claims the oldest by renaming it into claim/ under a lock, and removes it
 * only once it was delivered, so each message is taken exactly once. cur/
 * is left to mail readers, whose seen mail it holds.
 *
 * This file: the command line (the option table, which command takes
 * which option) and the dispatch; each command is in a file of its own. */
#include "spool.h"

static const char *const opt_names[] = {
	"create", "no-sync", "print-name", "max-size", "count", "follow",
	"timeout", "nowait", "ready-fd", "exec", "tries", "json", "any-owner",
	"wait",
};

static const struct it_cmd cmds[NCMD] = {
	[PUT] = {"put", O_CREATE | O_NOSYNC | O_PRINT | O_MAXSIZE | O_ANY |
		 O_WAIT | O_TIMEOUT},
	[TAKE] = {"take", O_CREATE | O_NOSYNC | O_MAXSIZE | O_COUNT | O_FOLLOW |
		  O_TIMEOUT | O_NOWAIT | O_READY | O_EXEC | O_TRIES | O_ANY},
	[LS] = {"ls", O_JSON | O_ANY},
	[STAT] = {"stat", O_JSON | O_ANY},
};

enum { OPT_NOSYNC = 256, OPT_PRINT, OPT_MAXSIZE, OPT_FOLLOW, OPT_EXEC,
       OPT_TRIES, OPT_JSON, OPT_ANY, OPT_WAIT };

static const struct argp_option options[] = {
	{"create", 'c', NULL, 0, "put, take: create DIR (mode 0700) and its "
	 "tmp, new and cur if missing", 0},
	{"no-sync", OPT_NOSYNC, NULL, 0, "put, take: skip fsync of each file "
	 "and of new/, or of an output file before a message is removed (fast, "
	 "not crash-safe)", 0},
	{"print-name", OPT_PRINT, NULL, 0, "put: print the name of each new "
	 "message", 0},
	{"max-size", OPT_MAXSIZE, "BYTES", 0, "put, take: the largest message "
	 "(default 64M); put: a larger one is exit 65; take skips it", 0},
	{"wait", OPT_WAIT, "DURATION", OPTION_ARG_OPTIONAL, "put: return once "
	 "each message put was taken and removed (exit 65 if one went to "
	 "DIR/failed); DURATION as -w", 0},
	{"count", 'n', "N", 0, "take: take N messages (default 1)", 0},
	{"follow", OPT_FOLLOW, NULL, 0, "take: take messages until stopped", 0},
	{"exec", OPT_EXEC, NULL, 0, "take: the rest of the line is CMD [ARG...], "
	 "run once per message with it on stdin", 0},
	{"tries", OPT_TRIES, "N", 0, "take: after N failed runs of CMD (default "
	 "3) a message goes to DIR/failed", 0},
	{"json", OPT_JSON, NULL, 0, "ls, stat: print JSON", 0},
	{"any-owner", OPT_ANY, NULL, 0, "accept a DIR that another user owns",
	 0},
	{0},
};

/* -w, --nowait and --ready-fd, in spool's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "take: exit 1 if no message comes in "
	 "this time (with --follow: once idle this long); put --wait: if the "
	 "messages are not all taken in this time", 0},
	{"nowait", IT_KEY_NOWAIT, NULL, 0, "take: never wait; with --follow, take "
	 "all there is and exit", 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "take: write a newline to FD once "
	 "messages put from then on will be seen", 0},
	{0},
};

static unsigned opt_bit(int key)
{
	switch (key) {
	case 'c': return O_CREATE;
	case OPT_NOSYNC: return O_NOSYNC;
	case OPT_PRINT: return O_PRINT;
	case OPT_MAXSIZE: return O_MAXSIZE;
	case 'n': return O_COUNT;
	case OPT_FOLLOW: return O_FOLLOW;
	case OPT_EXEC: return O_EXEC;
	case OPT_TRIES: return O_TRIES;
	case OPT_JSON: return O_JSON;
	case OPT_ANY: return O_ANY;
	case OPT_WAIT: return O_WAIT;
	default: return 0;
	}
}

static void check_args(struct args *a, struct argp_state *state)
{
	const char *name = cmds[a->cmd].name;
	a->used |= it_wait_used(&a->wait, O_TIMEOUT, O_NOWAIT, O_READY);
	if (a->wait_bound && a->wait.timed)
		argp_error(state, "cannot use --timeout with --wait=DURATION");
	if (!a->wait_bound)
		a->timeout = a->wait.timeout;
	a->ready_fd = a->wait.ready_fd;
	it_cmd_check(state, &cmds[a->cmd], a->used, opt_names,
		     sizeof opt_names / sizeof opt_names[0]);
	if (!a->dir)
		argp_error(state, "%s needs a DIR", name);
	if (a->cmd != PUT && a->nmsgs > 0)
		argp_error(state, "unexpected operand '%s'",
			   it_quote(a->msgs[0], (char[48]){0}, 48));
	if (a->used & O_COUNT && a->used & O_FOLLOW)
		argp_error(state, "cannot use --count with --follow");
	if (a->cmd == PUT && a->used & O_TIMEOUT && !(a->used & O_WAIT))
		argp_error(state, "--timeout goes with --wait");
	if (a->used & O_TRIES && !(a->used & O_EXEC))
		argp_error(state, "--tries goes with --exec");
	if (a->used & O_EXEC && !a->exec)
		argp_error(state, "--exec needs a CMD");
	if (a->exec)
		it_argp_nonempty(state, "CMD", a->exec[0]);
	if (a->exec && a->framing != IT_FRAME_LINE)
		argp_error(state, "--exec gives CMD the message as it is: no "
			   "framing option applies");
	if (a->exec && a->used & O_MAXSIZE)
		argp_error(state, "--exec never reads a message: --max-size does "
			   "not apply");
	if ((a->cmd == LS || a->cmd == STAT) && a->framing != IT_FRAME_LINE)
		argp_error(state, "cannot use %s with %s",
			   it_frame_name(a->framing), name);
}

/* Whether DIR ends in "/." or "/..": "link/." names what a symlink
 * points to, as "link/" does, but no slash can be cut off to see it. */
static bool ends_in_dots(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	size_t len = n - start;
	return start > 0 && (len == 1 || len == 2) &&
	       strncmp(dir + start, "..", len) == 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	a->used |= opt_bit(key);
	switch (key) {
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &a->framing, &a->wait);
		break;
	case OPT_MAXSIZE:
		if (it_parse_size(arg, SIZE_MAX / 4, &a->max_size) < 0)
			it_argp_bad(state, "size", arg);
		if (a->max_size == 0) {
			errno = ERANGE;
			it_argp_bad(state, "size", arg);
		}
		break;
	case 'n':
		if (it_parse_long(arg, 1, LONG_MAX, &a->count))
			it_argp_bad(state, "count", arg);
		break;
	case OPT_TRIES:
		if (it_parse_long(arg, 1, INT_MAX, &a->tries))
			it_argp_bad(state, "tries", arg);
		break;
	case OPT_WAIT:
		if (arg) {
			it_argp_duration(state, arg, &a->timeout);
			a->wait_bound = true;
		}
		break;
	case OPT_EXEC:
		/* Everything after --exec (and an optional --) is the command,
		 * whatever its own options look like. */
		if (state->next < state->argc &&
		    strcmp(state->argv[state->next], "--") == 0)
			state->next++;
		if (state->next < state->argc)
			a->exec = state->argv + state->next;
		state->next = state->argc;
		break;
	case ARGP_KEY_ARG:
		if (!a->have_cmd) {
			a->cmd = it_cmd_find(state, cmds, NCMD, arg);
			a->have_cmd = true;
		} else if (!a->dir) {
			it_argp_nonempty(state, "DIR", arg);
			if (ends_in_dots(arg))
				argp_error(state, "invalid DIR '%s': name the "
					   "directory, not . or .. in it",
					   it_quote(arg, (char[512]){0}, 512));
			a->dir = arg;
		} else {
			if (!a->msgs)
				a->msgs = state->argv + state->next - 1;
			a->msgs[a->nmsgs++] = arg;
		}
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

static const struct argp_child children[] = {
	{&it_frame_argp, 0, "put, take: framing of standard input and output:",
	 1},
	IT_WAIT_CHILD(wait_options),
	{0}
};

static const struct argp argp = {
	options, parse_opt,
	"put [-c] [--no-sync] [--print-name] [--max-size=BYTES] [-0|--whole|"
	"--netstring] [--wait[=DURATION] [-w DURATION]] DIR [MSG...]\n"
	"take [-c] [--no-sync] [-n N|--follow] [-w DURATION|--nowait] "
	"[--ready-fd=FD] [--max-size=BYTES] [-0|--whole|--netstring] DIR\n"
	"take [-c] [--no-sync] [-n N|--follow] [-w DURATION|--nowait] "
	"[--ready-fd=FD] [--tries=N] DIR --exec CMD [ARG...]\n"
	"ls [--json] DIR\n"
	"stat [--json] DIR",
	"Put messages in a drop directory (maildir layout) atomically, and take "
	"each out exactly once.\v"
	"A DIR, tmp, new or cur that is a symlink is refused, and one that "
	"another user owns or anyone may write to without the sticky bit too, "
	"without --any-owner. Exit status: 0 success, 1 timed out or no "
	"message (--nowait) or CMD failed, or put --wait timed out, 64 usage, "
	"65 put: message over --max-size or badly framed, or with --wait one "
	"went to DIR/failed, 66 no such DIR or CMD, 71 system error, "
	"74 I/O error or full disk, 77 permission denied.",
	children, NULL, NULL,
};

int main(int argc, char **argv)
{
	struct args a = {.max_size = DEFAULT_MAX_SIZE, .count = 1, .tries = 3,
			 .timeout = IT_FOREVER, .ready_fd = -1};
	struct spool s;
	it_init();
	argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &a);
	mode_t mask = umask(0);
	open_spool(&s, a.dir, a.used & O_CREATE, a.used & O_ANY);
	s.umask = mask;
	switch (a.cmd) {
	case PUT:
		return put(&a, &s);
	case TAKE:
		return take(&a, &s);
	default:
		return ls_stat(&a, &s);
	}
}
