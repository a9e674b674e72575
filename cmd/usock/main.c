/* usock: UNIX-domain and Internet sockets from the shell: connect, listen,
 * serve a command per connection, send and receive datagrams, test.
 * This file is the command line: the option table, which command takes
 * which option, and the dispatch; each command is in a file of its own. */
#include "usock.h"

static const char *const opt_names[] = {
	"stream, --dgram or --seqpacket", "keep-open", "timeout", "ready-fd",
	"mode", "owner", "allow-uid or --allow-gid", "peer", "stat", "max",
	"max-per-uid", "kill-children", "count", "follow", "json",
};

#define O_BIND (O_READY | O_MODE | O_OWNER | O_ALLOW)

static const struct it_cmd cmds[NCMD] = {
	[CONNECT] = {"connect", O_TYPE | O_TIMEOUT | O_PEER | O_STAT | O_JSON},
	[LISTEN] = {"listen", O_TYPE | O_KEEP | O_TIMEOUT | O_BIND | O_PEER |
		    O_STAT | O_JSON},
	[SERVE] = {"serve", O_TYPE | O_BIND | O_PEER | O_STAT | O_JSON | O_MAX |
		   O_MAXUID | O_KILL},
	[SEND] = {"send", O_TYPE | O_TIMEOUT},
	[RECV] = {"recv", O_TYPE | O_TIMEOUT | O_BIND | O_COUNT | O_FOLLOW},
	[TEST] = {"test", O_TYPE | O_TIMEOUT},
};

enum {
	OPT_STREAM = 256, OPT_DGRAM, OPT_SEQPACKET, OPT_OWNER,
	OPT_ALLOW_UID, OPT_ALLOW_GID, OPT_PEER, OPT_STAT, OPT_MAX,
	OPT_MAX_PER_UID, OPT_KILL, OPT_FOLLOW, OPT_JSON,
};

static const struct argp_option options[] = {
	{"stream", OPT_STREAM, NULL, 0, "connect, listen, serve, test: a byte "
	 "stream (their default)", 0},
	{"dgram", OPT_DGRAM, NULL, 0, "send, recv, test: datagrams (the default "
	 "of send and recv)", 0},
	{"seqpacket", OPT_SEQPACKET, NULL, 0, "connect, listen, serve, send, recv, "
	 "test: records on a connection (UNIX)", 0},
	{"keep-open", 'k', NULL, 0, "listen: one connection after another, "
	 "each to standard output; standard input is not read", 0},
	{"mode", 'm', "MODE", 0, "listen, serve, recv: octal mode of the socket "
	 "file (default 0600)", 0},
	{"owner", OPT_OWNER, "USER[:GROUP]", 0, "listen, serve, recv: owner of "
	 "the socket file", 0},
	{"allow-uid", OPT_ALLOW_UID, "UID", 0, "listen, serve, recv: also take "
	 "peers of this user (repeatable; 'any' for all); by default only our "
	 "own uid and root", 0},
	{"allow-gid", OPT_ALLOW_GID, "GID", 0, "listen, serve, recv: also take "
	 "peers of this group (repeatable)", 0},
	{"peer", OPT_PEER, NULL, 0, "connect, listen, serve: print the peer's "
	 "pid, uid and gid (or address) to standard error", 0},
	{"stat", OPT_STAT, NULL, 0, "connect, listen, serve: with --peer, as "
	 "key=value lines", 0},
	{"json", OPT_JSON, NULL, 0, "connect, listen, serve: with --peer "
	 "--stat, as one JSON object", 0},
	{"max", OPT_MAX, "N", 0, "serve: at most N commands at once (default "
	 "40)", 0},
	{"max-per-uid", OPT_MAX_PER_UID, "N", 0, "serve: at most N at once "
	 "for one uid; more are closed at once", 0},
	{"kill-children", OPT_KILL, NULL, 0, "serve: on SIGTERM, send SIGTERM "
	 "to the running commands too", 0},
	{"count", 'n', "N", 0, "recv: take N messages (default 1)", 0},
	{"follow", OPT_FOLLOW, NULL, 0, "recv: take messages until SIGINT or "
	 "SIGTERM", 0},
	{0},
};

/* -w and --ready-fd, in usock's words, for lib's parser. */
static const struct argp_option wait_options[] = {
	{"timeout", 'w', "DURATION", 0, "connect, listen, send, recv, test: "
	 "wait at most this long to connect, or for data", 0},
	{"ready-fd", IT_KEY_READY, "FD", 0, "listen, serve, recv: write a "
	 "newline to FD once listening", 0},
	{0}
};

static unsigned opt_bit(int key)
{
	switch (key) {
	case OPT_STREAM: case OPT_DGRAM: case OPT_SEQPACKET: return O_TYPE;
	case 'k': return O_KEEP;
	case 'm': return O_MODE;
	case OPT_OWNER: return O_OWNER;
	case OPT_ALLOW_UID: case OPT_ALLOW_GID: return O_ALLOW;
	case OPT_PEER: return O_PEER;
	case OPT_STAT: return O_STAT;
	case OPT_MAX: return O_MAX;
	case OPT_MAX_PER_UID: return O_MAXUID;
	case OPT_KILL: return O_KILL;
	case 'n': return O_COUNT;
	case OPT_FOLLOW: return O_FOLLOW;
	case OPT_JSON: return O_JSON;
	default: return 0;
	}
}

static void *grow(void *p, int n, size_t size)
{
	p = realloc(p, (size_t)(n + 1) * size);
	if (!p)
		it_xfail(errno, "parse", "the command line", NULL);
	return p;
}

/* The address, once the type is known: the command's default, or the
 * one asked for, which must suit the command and the address. */
static void check_addr(struct args *a, struct argp_state *state,
		       const char *text)
{
	bool dgram_cmd = a->cmd == SEND || a->cmd == RECV;
	int type = a->type ? a->type : dgram_cmd ? SOCK_DGRAM : 0;
	if (type == SOCK_DGRAM && strncmp(text, "tcp:", 4) == 0)
		argp_error(state, "tcp: is a stream: use udp: for datagrams, or "
			   "--seqpacket");
	if (type == SOCK_SEQPACKET && (strncmp(text, "tcp:", 4) == 0 ||
				       strncmp(text, "udp:", 4) == 0))
		argp_error(state, "--seqpacket is for UNIX sockets");
	if (sock_parse(text, type, &a->addr) < 0) {
		if (errno == EPROTOTYPE)
			argp_error(state, "udp: takes datagrams only");
		if (errno == ENAMETOOLONG)
			argp_error(state, "invalid address '%.40s...': a UNIX "
				   "socket name holds at most 107 bytes", text);
		it_argp_bad(state, "address", text);
	}
	int t = a->addr.type;
	bool unix_ = a->addr.family == AF_UNIX;
	if (dgram_cmd && t == SOCK_STREAM)
		argp_error(state, "%s takes datagrams or records, not a stream",
			   cmds[a->cmd].name);
	if ((a->cmd == CONNECT || a->cmd == LISTEN || a->cmd == SERVE) &&
	    t == SOCK_DGRAM)
		argp_error(state, "%s needs a connection: use send and recv for "
			   "datagrams", cmds[a->cmd].name);
	if (a->cmd == TEST && t == SOCK_DGRAM && !unix_)
		argp_error(state, "test cannot tell whether a UDP port listens");
	if (t == SOCK_SEQPACKET && !unix_)
		argp_error(state, "--seqpacket is for UNIX sockets");
	if (!unix_ && a->used & O_ALLOW)
		argp_error(state, "--allow-uid and --allow-gid need a UNIX "
			   "socket");
	if (!unix_ && a->used & O_MAXUID)
		argp_error(state, "--max-per-uid needs a UNIX socket");
	if (!unix_ && strcmp(a->addr.port, "0") == 0 && !(a->used & O_READY))
		argp_error(state, "port 0 is for listen, serve and recv with "
			   "--ready-fd, whose line then says the port chosen");
	if (!a->addr.path && a->used & (O_MODE | O_OWNER))
		argp_error(state, "--mode and --owner need a socket path");
}

/* Which operands and options go together, checked once all are parsed. */
static void check_args(struct args *a, struct argp_state *state)
{
	const char *name = cmds[a->cmd].name;
	it_cmd_check(state, &cmds[a->cmd], a->used, opt_names,
		     sizeof opt_names / sizeof opt_names[0]);
	if (a->framing != IT_FRAME_LINE && a->cmd != SEND && a->cmd != RECV)
		argp_error(state, "framing options are for send and recv");
	if (a->used & O_STAT && !(a->used & O_PEER))
		argp_error(state, "--stat goes with --peer");
	if (a->used & O_JSON && !(a->used & O_STAT))
		argp_error(state, "--json goes with --peer --stat");
	if (a->used & O_COUNT && a->used & O_FOLLOW)
		argp_error(state, "--count and --follow: choose one");
	if (a->cmd == SERVE && a->nrest == 0)
		argp_error(state, "serve needs a command: serve ADDR -- CMD [ARG...]");
	if (a->cmd != SERVE && a->cmd != SEND && a->nrest > 0)
		argp_error(state, "%s takes one ADDR", name);
	if (a->max_per_uid > a->max)
		a->max_per_uid = a->max;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	uid_t uid = 0;
	gid_t gid = 0;
	struct it_owner owner;
	long v;
	unsigned bit = opt_bit(key);
	if (bit & O_TYPE && a->used & O_TYPE && a->type != types[key - OPT_STREAM])
		argp_error(state, "--stream, --dgram and --seqpacket: choose one");
	a->used |= bit;
	switch (key) {
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &a->framing, &a->wait);
		break;
	case OPT_STREAM: case OPT_DGRAM: case OPT_SEQPACKET:
		a->type = types[key - OPT_STREAM];
		break;
	case 'm':
		if (it_parse_mode(arg, &a->bind.mode))
			it_argp_bad(state, "mode", arg);
		break;
	case OPT_OWNER:
		it_argp_owner(state, arg, &owner);
		a->bind.uid = owner.uid_given ? owner.uid : (uid_t)-1;
		a->bind.gid = owner.gid_given ? owner.gid : (gid_t)-1;
		break;
	case OPT_ALLOW_UID:
		if (strcmp(arg, "any") == 0) {
			a->allow_any = true;
			break;
		}
		uid = it_argp_id(state, "uid", arg, false);
		a->uids = grow(a->uids, a->nuids, sizeof uid);
		a->uids[a->nuids++] = uid;
		break;
	case OPT_ALLOW_GID:
		gid = it_argp_id(state, "gid", arg, true);
		a->gids = grow(a->gids, a->ngids, sizeof gid);
		a->gids[a->ngids++] = gid;
		break;
	case OPT_MAX:
	case OPT_MAX_PER_UID:
	case 'n':
		if (it_parse_long(arg, 1, key == 'n' ? LONG_MAX : 65536, &v))
			it_argp_bad(state, "count", arg);
		*(key == OPT_MAX ? &a->max : key == 'n' ? &a->count :
		  &a->max_per_uid) = v;
		break;
	case ARGP_KEY_ARGS:
		a->cmd = it_cmd_find(state, cmds, NCMD, state->argv[state->next]);
		if (state->next + 1 >= state->argc)
			argp_error(state, "%s needs an ADDR", cmds[a->cmd].name);
		a->addr_arg = state->argv[state->next + 1];
		a->rest = state->argv + state->next + 2;
		a->nrest = state->argc - state->next - 2;
		break;
	case ARGP_KEY_NO_ARGS:
		it_cmd_missing(state, cmds, NCMD);
		break;
	case ARGP_KEY_END:
		a->used |= it_wait_used(&a->wait, O_TIMEOUT, 0, O_READY);
		a->timeout = a->wait.timeout;
		a->ready_fd = a->wait.ready_fd;
		check_args(a, state);
		check_addr(a, state, a->addr_arg);
		break;
	default:
		return bit ? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{&it_frame_argp, 0, "send, recv: framing of standard input and output:",
	 1},
	IT_WAIT_CHILD(wait_options),
	{0}
};

static const struct argp argp = {
	options, parse_opt,
	"connect [-w DURATION] [--stream|--seqpacket] [--peer [--stat [--json]]] "
	"ADDR\n"
	"listen [-k] [-w DURATION] [-m MODE] [--owner=USER[:GROUP]] "
	"[--allow-uid=UID]... [--allow-gid=GID]... [--peer [--stat [--json]]] "
	"[--ready-fd=FD] ADDR\n"
	"serve [--max=N] [--max-per-uid=N] [--kill-children] [-m MODE] "
	"[--owner=USER[:GROUP]] [--allow-uid=UID]... [--allow-gid=GID]... "
	"[--peer [--stat [--json]]] [--ready-fd=FD] ADDR -- CMD [ARG...]\n"
	"send [-0|--whole|--netstring] [-w DURATION] [--dgram|--seqpacket] "
	"ADDR [MSG...]\n"
	"recv [-0|--whole|--netstring] [-n N|--follow] [-w DURATION] [-m MODE] "
	"[--owner=USER[:GROUP]] [--allow-uid=UID]... [--allow-gid=GID]... "
	"[--ready-fd=FD] [--dgram|--seqpacket] ADDR\n"
	"test [-w DURATION] [--stream|--dgram|--seqpacket] ADDR",
	"Connect to, listen on and serve UNIX-domain and Internet sockets; "
	"send and receive datagrams.\v"
	"ADDR is PATH or unix:PATH, @NAME (abstract: exactly those bytes), "
	"tcp:HOST:PORT, tcp:[IPV6]:PORT or udp:HOST:PORT. A socket file is "
	"made with its mode and owner before anyone can connect, never over "
	"anything but a stale socket of ours, and removed at exit if it is "
	"still ours. Exit status: 0 success, 1 timed out, 64 usage, 65 not a "
	"socket or message too long, 69 nobody listening or refused, 71 "
	"system error, 73 a listener is already there, 74 I/O error or not all "
	"of standard input sent, 77 permission denied.",
	children, NULL, NULL,
};

int main(int argc, char **argv)
{
	it_init();
	struct args a = {.timeout = IT_FOREVER, .ready_fd = -1, .max = 40,
			 .bind = {0600, (uid_t)-1, (gid_t)-1, SOMAXCONN, false}};
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	/* Errors on the socket are told as such, not as a SIGPIPE death. */
	signal(SIGPIPE, SIG_IGN);
	int status;
	switch (a.cmd) {
	case CONNECT: status = cmd_connect(&a); break;
	case LISTEN: status = cmd_listen(&a); break;
	case SERVE: status = cmd_serve(&a); break;
	case SEND: status = cmd_send(&a); break;
	case RECV: status = cmd_recv(&a); break;
	default: status = cmd_test(&a); break;
	}
	free(a.uids);
	free(a.gids);
	return status;
}
