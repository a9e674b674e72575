/* usock: UNIX-domain and Internet sockets from the shell: connect, listen,
 * serve a command per connection, send and receive datagrams, test. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipctools.h"

/* Bytes asked of one splice(2), and the size of the pipe between a socket
 * and a file: more than one call moves at a time on a fast path. */
#define CHUNK (1 << 20)
/* The largest datagram recv takes whole. */
#define DGRAM_MAX (1 << 20)

extern char **environ;

enum cmd { CONNECT, LISTEN, SERVE, SEND, RECV, TEST, NCMD };

/* One bit per option, to check in one place which command takes which. */
enum {
	O_TYPE = 1 << 0, O_KEEP = 1 << 1, O_TIMEOUT = 1 << 2, O_READY = 1 << 3,
	O_MODE = 1 << 4, O_OWNER = 1 << 5, O_ALLOW = 1 << 6, O_PEER = 1 << 7,
	O_STAT = 1 << 8, O_MAX = 1 << 9, O_MAXUID = 1 << 10, O_KILL = 1 << 11,
	O_COUNT = 1 << 12, O_FOLLOW = 1 << 13, O_JSON = 1 << 14,
};
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

struct args {
	enum cmd cmd;
	unsigned used;
	int type;                 /* 0: as the command and address imply */
	struct it_sockaddr addr;
	char **rest;              /* serve: CMD ARG...; send: MSG... */
	int nrest;
	int64_t timeout;
	int ready_fd;
	struct it_bindopt bind;
	bool allow_any;
	uid_t *uids;
	gid_t *gids;
	int nuids, ngids;
	long max, max_per_uid, count;
	enum it_framing framing;
};

enum {
	OPT_STREAM = 256, OPT_DGRAM, OPT_SEQPACKET, OPT_READY_FD, OPT_OWNER,
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
	{"timeout", 'w', "DURATION", 0, "connect, listen, send, recv, test: "
	 "wait at most this long to connect, or for data", 0},
	{"ready-fd", OPT_READY_FD, "FD", 0, "listen, serve, recv: write a "
	 "newline to FD once listening", 0},
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

static unsigned opt_bit(int key)
{
	switch (key) {
	case OPT_STREAM: case OPT_DGRAM: case OPT_SEQPACKET: return O_TYPE;
	case 'k': return O_KEEP;
	case 'w': return O_TIMEOUT;
	case OPT_READY_FD: return O_READY;
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

static int parse_uid(const char *s, uid_t *uid)
{
	unsigned long v;
	struct passwd *pw = getpwnam(s);
	if (pw) {
		*uid = pw->pw_uid;
		return 0;
	}
	if (it_parse_ulong(s, (uid_t)-2, &v) < 0)
		return -1;
	*uid = (uid_t)v;
	return 0;
}

static int parse_gid(const char *s, gid_t *gid)
{
	unsigned long v;
	struct group *gr = getgrnam(s);
	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (it_parse_ulong(s, (gid_t)-2, &v) < 0)
		return -1;
	*gid = (gid_t)v;
	return 0;
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
	if (it_sock_parse(text, type, &a->addr) < 0) {
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
	long v;
	unsigned bit = opt_bit(key);
	if (bit & O_TYPE && a->used & O_TYPE && a->type != types[key - OPT_STREAM])
		argp_error(state, "--stream, --dgram and --seqpacket: choose one");
	a->used |= bit;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->framing;
		break;
	case OPT_STREAM: case OPT_DGRAM: case OPT_SEQPACKET:
		a->type = types[key - OPT_STREAM];
		break;
	case 'w':
		it_argp_duration(state, arg, &a->timeout);
		break;
	case OPT_READY_FD:
		it_argp_fd(state, arg, &a->ready_fd);
		break;
	case 'm':
		if (it_parse_mode(arg, &a->bind.mode))
			it_argp_bad(state, "mode", arg);
		break;
	case OPT_OWNER: {
		char *colon = strchr(arg, ':');
		if (colon)
			*colon = '\0';
		if ((*arg && parse_uid(arg, &a->bind.uid) < 0) ||
		    (colon && parse_gid(colon + 1, &a->bind.gid) < 0) ||
		    (!*arg && !colon)) {
			if (colon)
				*colon = ':';
			it_argp_bad(state, "owner", arg);
		}
		if (colon)
			*colon = ':';
		break;
	}
	case OPT_ALLOW_UID:
		if (strcmp(arg, "any") == 0) {
			a->allow_any = true;
			break;
		}
		if (parse_uid(arg, &uid) < 0)
			it_argp_bad(state, "uid", arg);
		a->uids = grow(a->uids, a->nuids, sizeof uid);
		a->uids[a->nuids++] = uid;
		break;
	case OPT_ALLOW_GID:
		if (parse_gid(arg, &gid) < 0)
			it_argp_bad(state, "gid", arg);
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
		a->rest = state->argv + state->next + 2;
		a->nrest = state->argc - state->next - 2;
		check_args(a, state);
		check_addr(a, state, state->argv[state->next + 1]);
		break;
	case ARGP_KEY_NO_ARGS:
		argp_error(state, "missing command: connect, listen, serve, send, "
			   "recv or test");
		break;
	default:
		return bit ? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{&it_frame_argp, 0, "send, recv: framing of standard input and output:",
	 1},
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

/* ---- peers ---- */

struct peer {
	bool cred;                 /* a UNIX peer: pid, uid, gid below */
	struct ucred uc;
	/* A connected UNIX peer's supplementary groups (SO_PEERGROUPS);
	 * none for a datagram, whose credentials carry only uc. */
	gid_t groups[256];
	int ngroups;
	char ip[64], port[16];      /* numeric: INET6_ADDRSTRLEN is 46 */
	char lip[64], lport[16];
};

static void peer_of(int fd, const struct it_sockaddr *addr, struct peer *p)
{
	socklen_t len = sizeof p->uc;
	memset(p, 0, sizeof *p);
	if (addr->family == AF_UNIX) {
		p->cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p->uc, &len) == 0;
		len = sizeof p->groups;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0)
			p->ngroups = (int)(len / sizeof p->groups[0]);
		return;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, p->ip, sizeof p->ip,
			    p->port, sizeof p->port, NI_NUMERICHOST | NI_NUMERICSERV);
	sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, p->lip, sizeof p->lip,
			    p->lport, sizeof p->lport, NI_NUMERICHOST | NI_NUMERICSERV);
}

/* --peer: one line on standard error, or key=value lines with --stat,
 * written with one call so that concurrent tools do not interleave. */
static void print_peer(const struct args *a, const struct peer *p)
{
	char buf[600];
	if (!(a->used & O_PEER))
		return;
	if (p->cred && a->used & O_JSON)
		snprintf(buf, sizeof buf, "{\"peer_pid\":%ld,\"peer_uid\":%lu,"
			 "\"peer_gid\":%lu}\n", (long)p->uc.pid,
			 (unsigned long)p->uc.uid, (unsigned long)p->uc.gid);
	else if (a->used & O_JSON)
		snprintf(buf, sizeof buf, "{\"peer_ip\":\"%s\",\"peer_port\":%s}\n",
			 p->ip, p->port[0] ? p->port : "0");
	else if (p->cred && a->used & O_STAT)
		snprintf(buf, sizeof buf, "peer_pid=%ld\npeer_uid=%lu\npeer_gid=%lu\n",
			 (long)p->uc.pid, (unsigned long)p->uc.uid,
			 (unsigned long)p->uc.gid);
	else if (a->used & O_STAT)
		snprintf(buf, sizeof buf, "peer_ip=%s\npeer_port=%s\n", p->ip,
			 p->port);
	else if (p->cred)
		snprintf(buf, sizeof buf, "%s: peer pid %ld uid %lu gid %lu\n",
			 program_invocation_short_name, (long)p->uc.pid,
			 (unsigned long)p->uc.uid, (unsigned long)p->uc.gid);
	else
		snprintf(buf, sizeof buf, "%s: peer %s port %s\n",
			 program_invocation_short_name, p->ip, p->port);
	(void)it_write_full(STDERR_FILENO, buf, strlen(buf));
}

/* A UNIX peer is taken if it runs as root or as us, or as a user or
 * group allowed; an Internet peer has no credentials to check. */
static bool allowed(const struct args *a, const struct peer *p)
{
	if (a->addr.family != AF_UNIX || a->allow_any)
		return true;
	if (!p->cred)
		return false;
	if (p->uc.uid == 0 || p->uc.uid == geteuid())
		return true;
	for (int i = 0; i < a->nuids; i++)
		if (a->uids[i] == p->uc.uid)
			return true;
	for (int i = 0; i < a->ngids; i++) {
		if (a->gids[i] == p->uc.gid)
			return true;
		for (int g = 0; g < p->ngroups; g++)
			if (a->gids[i] == p->groups[g])
				return true;
	}
	return false;
}

/* A refused connection is closed after one out-of-band byte (MSG_OOB, a
 * UNIX stream), or an empty record that passes a descriptor of /dev/null
 * (SCM_RIGHTS, a UNIX record connection, which has no MSG_OOB): our
 * connect takes it as the refusal, which an empty standard input would
 * not otherwise show (the peer sends and reads nothing either way); it is
 * no data to any other client. */
static void refuse(const struct args *a, int fd)
{
	if (a->addr.family == AF_UNIX && a->addr.type == SOCK_STREAM)
		(void)send(fd, "R", 1, MSG_OOB | MSG_DONTWAIT | MSG_NOSIGNAL);
	int null = a->addr.family == AF_UNIX && a->addr.type == SOCK_SEQPACKET ?
		   open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
	if (null >= 0) {
		union {
			struct cmsghdr c;
			char buf[CMSG_SPACE(sizeof(int))];
		} u = {0};
		struct msghdr mh = {.msg_control = u.buf,
				    .msg_controllen = sizeof u.buf};
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &null, sizeof null);
		(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(null);
	}
	close(fd);
}

static void refused(const struct args *a, const struct peer *p)
{
	it_warn("refused a peer of uid %lu gid %lu on %s (use --allow-uid)",
		(unsigned long)p->uc.uid, (unsigned long)p->uc.gid, a->addr.text);
}

/* ---- moving bytes ---- */

/* What the two directions of a connection share. Exit only happens under
 * exit_lock, so that one thread ends the process while the other waits. */
struct talk {
	int64_t idle;              /* -w: time with nothing moved either way */
	_Atomic int64_t last;      /* when a byte last moved, either way */
	bool busy;                 /* the writer has standard input in hand */
	int done;                  /* an eventfd written when the writer ends */
};

static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;

/* One direction of a connection. splice(2) moves pages without copying
 * them through us: directly where one side is a pipe, else through a pipe
 * of our own. Where a side cannot splice (a terminal, a record socket),
 * read(2) and write(2) take over. */
struct pump {
	int in, out;
	const char *inname, *outname;
	bool sock_in;          /* which side is the socket, for messages */
	bool copy;
	bool records;          /* in is a record socket: one recvmsg a record */
	bool oob;              /* in is a UNIX stream to a server: its refusal
				  comes as an out-of-band byte */
	bool refused;          /* that byte came before any data */
	bool tcp;              /* out is a TCP socket (tcp_peer_diag) */
	int pipe[2];           /* -1 where one side is a pipe already */
	char *buf;
	size_t cap;
	uint64_t moved;        /* bytes written to out */
	uint64_t held;         /* bytes taken from in, not yet written to out */
	int err;               /* what ended the pump, 0 for its end of data */
	bool err_out;          /* the error was writing out, not reading in */
	struct talk *t;
};

/* Standard output is a pipe whose reader has gone: end as cat(1) would,
 * by SIGPIPE, after removing our socket file. */
static _Noreturn void stdout_gone(void)
{
	it_sock_unbind();
	it_exit_signal(SIGPIPE);
}

/* A write error on standard output: EPIPE is stdout_gone. */
static _Noreturn void stdout_fail(int err)
{
	if (err == EPIPE)
		stdout_gone();
	it_xfail_status(IT_IOERR, err, "write", "standard output", NULL);
}

static bool is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

static void pump_init(struct pump *p, int in, const char *inname, int out,
		      const char *outname, bool sock_in, int type,
		      struct talk *t)
{
	*p = (struct pump){.in = in, .out = out, .inname = inname,
			   .outname = outname, .sock_in = sock_in,
			   .copy = type != SOCK_STREAM,
			   .records = sock_in && type == SOCK_SEQPACKET,
			   .pipe = {-1, -1}, .cap = 1 << 17, .t = t};
	p->buf = malloc(p->cap);
	if (!p->buf)
		it_xfail(errno, "allocate", "a buffer", NULL);
	if (!p->copy && !is_pipe(in) && !is_pipe(out)) {
		if (pipe2(p->pipe, O_CLOEXEC) < 0)
			it_xfail(errno, "create", "a pipe", NULL);
		(void)fcntl(p->pipe[0], F_SETPIPE_SZ, CHUNK);
	}
}

static void pump_free(struct pump *p)
{
	if (p->pipe[0] >= 0) {
		close(p->pipe[0]);
		close(p->pipe[1]);
	}
	free(p->buf);
}

/* Ends a step of the pump with the error that stopped it: -1. */
static int pump_error(struct pump *p, int err, bool out)
{
	p->err = err;
	p->err_out = out;
	return -1;
}

/* n bytes moved to out: the pump made progress. */
static int moved(struct pump *p, size_t n)
{
	p->moved += n;
	p->held -= n;
	p->t->last = it_now_ns();
	return 1;
}

/* The next record of a record socket, whole, into p->buf: its length
 * peeked first so that the buffer holds it. An empty record is not the
 * end: it comes with credentials (SO_PASSCRED), the end with none. */
static ssize_t read_record(struct pump *p, bool *end)
{
	ssize_t len;
	while ((len = recv(p->in, NULL, 0, MSG_PEEK | MSG_TRUNC)) < 0 &&
	       errno == EINTR)
		;
	if (len < 0)
		return -1;
	if ((size_t)len > p->cap) {
		char *b = realloc(p->buf, (size_t)len);
		if (!b)
			it_xfail(errno, "allocate", "a buffer", NULL);
		p->buf = b;
		p->cap = (size_t)len;
	}
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {p->buf, p->cap};
	ssize_t n;
	struct msghdr mh;
	do {
		mh = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof u.buf};
		n = recvmsg(p->in, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	*end = n == 0 && mh.msg_controllen == 0;
	/* A server's refusal (refuse): an empty record with a descriptor,
	 * which no data carries; the descriptor goes. */
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int rfd;
			memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof rfd);
			close(rfd);
		}
		if (n == 0 && p->moved == 0 && p->oob)
			p->refused = true;
	}
	return n;
}

/* read(2) (or a whole record) and write(2): 1 on progress, 0 at the end
 * of in, -1 on an error (p->err). */
static int copy_from(struct pump *p, int in)
{
	ssize_t n;
	bool end = false;
	if (p->records && in == p->in) {
		n = read_record(p, &end);
	} else {
		while ((n = read(in, p->buf, p->cap)) < 0 && errno == EINTR)
			;
		end = n == 0;
	}
	if (n < 0)
		return pump_error(p, errno, false);
	if (end)
		return 0;
	p->held += (size_t)n;
	size_t w = it_write_some(p->out, p->buf, (size_t)n, NULL);
	moved(p, w);
	return w < (size_t)n ? pump_error(p, errno, true) : 1;
}

/* Moves the n bytes our pipe holds on to out. */
static int drain(struct pump *p, size_t n)
{
	while (n > 0) {
		ssize_t m = splice(p->pipe[0], NULL, p->out, NULL, n,
				   SPLICE_F_MOVE);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0 && errno != EINVAL)
			return pump_error(p, errno, true);
		if (m < 0) {
			/* out takes no splice: copy what the pipe holds,
			 * and from now on all of in. */
			p->copy = true;
			p->held -= n;
			uint64_t goal = p->moved + n;
			while (p->moved < goal)
				if (copy_from(p, p->pipe[0]) < 0)
					return -1;
			return 1;
		}
		moved(p, (size_t)m);
		n -= (size_t)m;
	}
	return 1;
}

/* Moves what in has now: 1 on progress, 0 at the end of in, -1 on an
 * error (p->err). An error of splice between a pipe and the socket is the
 * socket's, but for EPIPE, which only writes get. */
static int pump_step(struct pump *p)
{
	while (!p->copy) {
		bool direct = p->pipe[0] < 0;
		ssize_t n = splice(p->in, NULL, direct ? p->out : p->pipe[1],
				   NULL, CHUNK, SPLICE_F_MOVE);
		if (n > 0) {
			p->held += (size_t)n;
			return direct ? moved(p, (size_t)n) : drain(p, (size_t)n);
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EINVAL)
			return pump_error(p, errno, errno == EPIPE ||
					  (direct && !p->sock_in));
		p->copy = true;
	}
	return copy_from(p, p->in);
}

/* Milliseconds until -w has passed with nothing moved; -1 for no limit. */
static int idle_left_ms(const struct talk *t)
{
	return t->idle == IT_FOREVER ? -1 : it_left_ms(t->last + t->idle);
}

/* In until its end, for the side that ends the conversation: 0, or -1 with
 * the error in p. Where -w is given, the time with nothing moved either
 * way is bounded. */
static int pump_run(struct pump *p)
{
	for (;;) {
		struct pollfd pf = {p->in, POLLIN | (p->oob ? POLLPRI : 0), 0};
		int n = p->t->idle == IT_FOREVER && !p->oob ? 1 :
			poll(&pf, 1, idle_left_ms(p->t));
		if (n < 0 && errno != EINTR)
			return pump_error(p, errno, false);
		/* Polled before every read: a read past the byte drops it. */
		char c;
		if (n > 0 && pf.revents & POLLPRI &&
		    recv(p->in, &c, 1, MSG_OOB | MSG_DONTWAIT) == 1 &&
		    p->moved == 0)
			p->refused = true;
		/* Nothing moved either way: where the writer is stuck
		 * sending, the stall is the peer's reading, not its data. */
		if (n == 0 && idle_left_ms(p->t) == 0) {
			pthread_mutex_lock(&exit_lock);
			if (p->t->busy)
				it_die(IT_NO, "unable to write %s: no room in time",
				       p->inname);
			it_die(IT_NO, "unable to read %s: no data in time",
			       p->inname);
		}
		if (n <= 0)
			continue;
		int rc = pump_step(p);
		if (rc <= 0)
			return rc;
	}
}

/* Standard input to the socket, then a half-close: the peer sees the end
 * of our data and can still answer. An error reading standard input ends
 * us at once; one writing the socket ends this direction only, and is
 * told once the peer's data has all been written out. busy says when the
 * writer has input in hand, for wait_writer. */
static int tcp_peer_diag(int fd, unsigned *rqueue);

static void *writer(void *arg)
{
	struct pump *p = arg;
	int rc;
	do {
		struct pollfd pf = {p->in, POLLIN, 0};
		while (poll(&pf, 1, -1) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&exit_lock);
		p->t->busy = true;
		pthread_mutex_unlock(&exit_lock);
		rc = pump_step(p);
		pthread_mutex_lock(&exit_lock);
		p->t->busy = false;
		if (rc < 0 && !p->err_out)
			it_xfail_status(IT_IOERR, p->err, "read", p->inname, NULL);
		pthread_mutex_unlock(&exit_lock);
	} while (rc > 0);
	/* A TCP peer here that has half-closed leaves the kernel's tables
	 * once it has our FIN (TIME_WAIT), its receive queue with it: until
	 * it has read what we sent, the FIN waits. */
	unsigned rq = 0;
	int unacked = 0;
	/* Counted in its queue once acknowledged, not before. */
	while (rc == 0 && p->tcp && tcp_peer_diag(p->out, &rq) == 0 &&
	       (rq > 0 || (ioctl(p->out, SIOCOUTQ, &unacked) == 0 &&
			   unacked > 0))) {
		int ms = idle_left_ms(p->t);
		if (ms == 0) {
			pthread_mutex_lock(&exit_lock);
			it_die(IT_NO, "unable to write %s: the peer read nothing "
			       "in time", p->outname);
		}
		poll(NULL, 0, ms < 0 || ms > 10 ? 10 : ms);
	}
	if (rc == 0)
		shutdown(p->out, SHUT_WR);
	uint64_t one = 1;
	(void)!write(p->t->done, &one, sizeof one);
	return NULL;
}

static bool readable(int fd)
{
	struct pollfd pf = {fd, POLLIN, 0};
	return poll(&pf, 1, 0) != 0;
}

/* The writer could not send all of standard input (why, or p->err): how
 * much the peer did not get, exactly where standard input is a file, or a
 * pipe whose writers have all gone. */
static _Noreturn void unsent(const struct pump *p, const char *why)
{
	uint64_t left = p->held;
	bool exact = false;
	struct stat st;
	off_t pos;
	int pending;
	if (fstat(p->in, &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = lseek(p->in, 0, SEEK_CUR)) >= 0) {
		left += st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
		exact = true;
	} else if (ioctl(p->in, FIONREAD, &pending) == 0) {
		struct pollfd pf = {p->in, POLLIN, 0};
		left += (uint64_t)pending;
		exact = poll(&pf, 1, 0) == 1 && pf.revents & POLLHUP;
	}
	it_die(IT_IOERR, "unable to write %s: %s (%" PRIu64 " bytes of standard "
	       "input sent, %" PRIu64 "%s not)", p->outname,
	       why ? why : strerror(p->err),
	       p->moved, left, exact ? "" : " and more");
}

/* Whether the TCP peer of fd, on this host, has closed its socket (1) or
 * holds it still (0), as the kernel tells (sock_diag, IPv4 and IPv6
 * alike): a FIN alone does not tell a close from a half-close, but a
 * closed socket has no inode left. -1 when it cannot be known: a peer
 * elsewhere, or no answer. *rqueue (if not NULL): what its receive queue
 * holds unread, our FIN counted as one. */
static int tcp_peer_diag(int fd, unsigned *rqueue)
{
	/* Our socket closed (both ends' FINs taken) has no peer name left:
	 * the names of fd when it had one are kept. */
	static struct sockaddr_storage me, peer;
	static int known = -1;
	struct sockaddr_storage m2, p2;
	socklen_t ml = sizeof m2, pl = sizeof p2;
	if (getsockname(fd, (struct sockaddr *)&m2, &ml) == 0 &&
	    getpeername(fd, (struct sockaddr *)&p2, &pl) == 0) {
		me = m2;
		peer = p2;
		known = fd;
	} else if (known != fd) {
		return -1;
	}
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = {.nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST},
		.r = {.sdiag_family = (unsigned char)me.ss_family,
		      .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u,
		      .id = {.idiag_cookie = {INET_DIAG_NOCOOKIE,
					      INET_DIAG_NOCOOKIE}}},
	};
	/* The peer's socket: its own address is our peer's. */
	if (me.ss_family == AF_INET) {
		struct sockaddr_in *m = (struct sockaddr_in *)&me;
		struct sockaddr_in *p = (struct sockaddr_in *)&peer;
		req.r.id.idiag_sport = p->sin_port;
		req.r.id.idiag_dport = m->sin_port;
		memcpy(req.r.id.idiag_src, &p->sin_addr, 4);
		memcpy(req.r.id.idiag_dst, &m->sin_addr, 4);
	} else if (me.ss_family == AF_INET6) {
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)&me;
		struct sockaddr_in6 *p = (struct sockaddr_in6 *)&peer;
		req.r.id.idiag_sport = p->sin6_port;
		req.r.id.idiag_dport = m->sin6_port;
		memcpy(req.r.id.idiag_src, &p->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &m->sin6_addr, 16);
	} else {
		return -1;
	}
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	union {
		struct nlmsghdr nh;
		char buf[1024];
	} ans;
	ssize_t n = -1;
	if (send(nl, &req, sizeof req, 0) == (ssize_t)sizeof req)
		n = recv(nl, &ans, sizeof ans, MSG_DONTWAIT);
	close(nl);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct inet_diag_msg)) ||
	    ans.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -1;
	const struct inet_diag_msg *m = NLMSG_DATA(&ans.nh);
	if (rqueue)
		*rqueue = m->idiag_rqueue;
	/* The peer's socket gone, the kernel answers with the listener on
	 * its port: that is gone too. */
	if (m->idiag_state == TCP_LISTEN)
		return 1;
	/* Not accepted yet has no inode either, and is in none of the
	 * states a close leads to. */
	return m->idiag_inode == 0 && m->idiag_state != TCP_ESTABLISHED &&
	       m->idiag_state != TCP_CLOSE_WAIT && m->idiag_state != TCP_SYN_RECV;
}

static int tcp_peer_closed(int fd)
{
	return tcp_peer_diag(fd, NULL);
}

/* Once the peer's data has ended, the conversation is over when the
 * writer is. A peer that has gone while standard input has not ended
 * cannot take what may still come: that is exit 74 at once (exit_lock
 * held, so that the writer takes nothing more), as it is where the writer
 * finds it gone. A UNIX peer that has gone says POLLHUP. A TCP peer's
 * FIN does not tell a close from a half-close (our own listen half-closes
 * and goes on reading): one on this host is asked of the kernel, now and
 * then (tcp_peer_closed); of one elsewhere, only the end of standard
 * input, a reset or -w ends the wait. */
#define GRACE_NS (200 * 1000000LL)

static void wait_writer(const struct pump *out, bool gone, bool tcp,
			bool refused)
{
	struct talk *t = out->t;
	struct pollfd pf[2] = {{t->done, POLLIN, 0}, {out->out, 0, 0}};
	nfds_t nfd = gone ? 1 : 2;
	int ask = tcp ? 10 : -1;         /* ms until we ask again */
	int64_t grace = 0;
	for (;;) {
		int ms = idle_left_ms(t);
		/* The peer has gone: look every 10 ms whether the writer
		 * still has something it must fail to send. */
		if (nfd == 1 && (ms < 0 || ms > 10))
			ms = 10;
		if (nfd == 2 && ask > 0 && (ms < 0 || ms > ask))
			ms = ask;
		int n = poll(pf, nfd, ms);
		if (nfd == 2 && n == 0 && ask > 0) {
			int closed = tcp_peer_closed(out->out);
			if (closed == 1)
				nfd = 1;
			/* Elsewhere: never known; here: asked less often. */
			ask = closed < 0 ? -1 : ask < 1000 ? ask * 2 : ask;
		}
		if (n > 0 && pf[0].revents)
			return;
		pthread_mutex_lock(&exit_lock);
		if (n == 0 && idle_left_ms(t) == 0 && t->busy)
			it_die(IT_NO, "unable to write %s: no room in time",
			       out->outname);
		if (n == 0 && idle_left_ms(t) == 0)
			it_die(IT_NO, "unable to read standard input: no data "
			       "in time");
		if (nfd == 2 && n > 0 && pf[1].revents)
			nfd = 1;
		/* Standard input gets GRACE_NS to end once the peer has
		 * gone: in `echo x | usock connect S`, the peer may answer
		 * and leave before echo's end of the pipe is closed, and
		 * nothing is lost then. */
		if (nfd == 1 && !t->busy && !readable(out->in) && !grace)
			grace = it_now_ns() + GRACE_NS;
		if (nfd == 1 && !t->busy && !readable(out->in) &&
		    it_now_ns() >= grace)
			unsent(out, refused ? "the server refused the "
			       "connection before the end of standard input" :
			       "the peer has gone before the end of standard "
			       "input");
		pthread_mutex_unlock(&exit_lock);
	}
}

/* Exit 0 promises that the peer took all we sent on fd: waits until a
 * UNIX peer has read our last byte or record, or a TCP peer acknowledged
 * it and, on this host, read it (its receive queue, tcp_peer_diag), or
 * until the peer has gone; then the error that a peer leaving our data
 * unread sets (ECONNRESET), 0 for none. Our end of data (a FIN, sent
 * before this) is one in that queue until the peer reads the end. */
static int wait_taken(int fd, const char *name, const struct talk *t,
		      bool tcp)
{
	int queued = 0, err = 0, diag = -1;
	unsigned rq = 0;
	bool unread = false;
	socklen_t len = sizeof err;
	while (ioctl(fd, SIOCOUTQ, &queued) == 0 &&
	       (queued > 0 || (tcp && (diag = tcp_peer_diag(fd, &rq)) == 0 &&
			       (unread = rq > 1)))) {
		struct pollfd pf = {fd, 0, 0};
		int ms = idle_left_ms(t);
		if (ms == 0)
			it_die(IT_NO, "unable to write %s: the peer read nothing "
			       "in time", name);
		if (poll(&pf, 1, ms < 0 || ms > 10 ? 10 : ms) > 0 &&
		    pf.revents & POLLERR)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	/* A peer here that closed with our bytes unread: its reset may
	 * not reach a socket of ours closed already. */
	if (!err && unread && diag != 0)
		err = ECONNRESET;
	return err;
}

/* Both directions of a connection, until the peer ends its side and ours
 * is done; exits 0 only if every byte of standard input was sent. */
static _Noreturn void converse(const struct args *a, int sock)
{
	struct talk t = {.idle = a->timeout, .last = it_now_ns()};
	struct pump out, in;
	pthread_t tid;
	pump_init(&out, STDIN_FILENO, "standard input", sock, a->addr.text,
		  false, a->addr.type, &t);
	pump_init(&in, sock, a->addr.text, STDOUT_FILENO, "standard output",
		  true, a->addr.type, &t);
	/* Its names, kept for when our socket has none left. */
	out.tcp = a->addr.family != AF_UNIX;
	if (out.tcp)
		(void)tcp_peer_diag(sock, NULL);
	t.done = eventfd(0, EFD_CLOEXEC);
	if (t.done < 0)
		it_xfail(errno, "create", "an eventfd", NULL);
	errno = pthread_create(&tid, NULL, writer, &out);
	if (errno)
		it_xfail(errno, "start", "a thread", NULL);
	in.oob = a->cmd == CONNECT && a->addr.family == AF_UNIX &&
		 a->addr.type != SOCK_DGRAM;
	/* A read error on the socket (a reset) means the peer has gone:
	 * what the writer could not send is the better message. */
	int rc = pump_run(&in);
	if (rc < 0 && in.err_out) {
		pthread_mutex_lock(&exit_lock);
		stdout_fail(in.err);
	}
	wait_writer(&out, rc < 0, a->addr.family != AF_UNIX, in.refused);
	pthread_join(tid, NULL);
	if (out.err)
		unsent(&out, NULL);
	if (rc < 0 && in.err != ECONNRESET)
		it_xfail_status(IT_IOERR, in.err, "read", a->addr.text, NULL);
	/* A peer resets a connection it closes with our data unread. */
	int err = rc < 0 ? in.err : wait_taken(sock, a->addr.text, &t,
						       a->addr.family != AF_UNIX);
	if (err)
		it_die(IT_IOERR, "unable to write %s: %s (%" PRIu64 " bytes of "
		       "standard input sent, not all of them read)",
		       a->addr.text, strerror(err), out.moved);
	if (in.refused)
		it_die(IT_UNAVAILABLE, "unable to connect %s: the server refused "
		       "the connection (its standard error says why)",
		       a->addr.text);
	exit(IT_OK);
}

/* listen -k: one peer's data to standard output; we send nothing, so the
 * peer sees our end at once. A peer's error (a reset) is told, and the
 * next peer comes; one of standard output ends us. */
static void take_from(const struct args *a, int sock)
{
	struct talk t = {.idle = a->timeout, .last = it_now_ns(), .done = -1};
	struct pump in;
	shutdown(sock, SHUT_WR);
	pump_init(&in, sock, a->addr.text, STDOUT_FILENO, "standard output",
		  true, a->addr.type, &t);
	if (pump_run(&in) < 0) {
		if (in.err_out)
			stdout_fail(in.err);
		it_warn("unable to read %s: %s", a->addr.text, strerror(in.err));
	}
	pump_free(&in);
}

/* ---- commands ---- */

static _Noreturn void connect_fail(const struct args *a, const char *verb,
				   int err)
{
	if (err == ENOTSOCK)
		it_die(IT_DATAERR, "unable to %s %s: not a socket", verb,
		       a->addr.text);
	if (err == ETIMEDOUT)
		it_die(IT_NO, "unable to %s %s: no answer in time", verb,
		       a->addr.text);
	it_xfail_status(it_sock_exit_for(err), err, verb, a->addr.text, NULL);
}

static void resolve(struct args *a)
{
	const char *why;
	if (it_sock_resolve(&a->addr, &why) < 0)
		it_die(IT_UNAVAILABLE, "unable to resolve %s: %s", a->addr.text, why);
}

static int cmd_connect(struct args *a)
{
	resolve(a);
	int fd = it_sock_connect(&a->addr, it_deadline(a->timeout), false);
	if (fd < 0)
		connect_fail(a, "connect", errno);
	struct peer p;
	peer_of(fd, &a->addr, &p);
	print_peer(a, &p);
	converse(a, fd);
}

/* SIGINT, SIGTERM and SIGHUP remove the socket file, then end us as
 * they would have. */
static void on_stop(int sig)
{
	it_sock_unbind();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int xbind(struct args *a)
{
	resolve(a);
	a->bind.backlog = SOMAXCONN;
	int fd = it_sock_xbind(&a->addr, &a->bind);
	if (strcmp(a->addr.port, "0") != 0) {
		it_xready(&a->ready_fd);
		return fd;
	}
	/* Port 0: the readiness line says which port the kernel chose. */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char port[16], line[20];
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof port,
			NI_NUMERICSERV) != 0)
		it_xfail(errno, "get the port of", a->addr.text, NULL);
	/* From now on, messages name the port chosen, not 0. */
	static char text[512];
	const char *colon = strrchr(a->addr.text, ':');
	if (colon && strcmp(colon, ":0") == 0) {
		snprintf(text, sizeof text, "%.*s:%s",
			 (int)(colon - a->addr.text), a->addr.text, port);
		a->addr.text = text;
	}
	snprintf(line, sizeof line, "%s\n", port);
	if (it_write_full(a->ready_fd, line, strlen(line)) < 0)
		it_xfail(errno, "write", "the readiness descriptor", NULL);
	close(a->ready_fd);
	a->ready_fd = -1;
	return fd;
}

/* The next allowed peer; --timeout bounds the wait. -1 if a signal came
 * on sfd (-1 for none) first. */
static int accept_peer(const struct args *a, int lfd, int sfd, struct peer *p)
{
	int64_t deadline = it_deadline(a->timeout);
	for (;;) {
		struct pollfd pf[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int n = poll(pf, sfd < 0 ? 1 : 2, it_left_ms(deadline));
		if (n > 0 && pf[1].revents & POLLIN)
			return -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail(errno, "accept on", a->addr.text, NULL);
		if (n == 0)
			it_die(IT_NO, "unable to accept on %s: nobody came in time",
			       a->addr.text);
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED ||
			       errno == EAGAIN))
			continue;
		if (fd < 0)
			it_xfail(errno, "accept on", a->addr.text, NULL);
		peer_of(fd, &a->addr, p);
		if (allowed(a, p))
			return fd;
		refused(a, p);
		refuse(a, fd);
	}
}

static int cmd_listen(struct args *a)
{
	it_catch_stops(on_stop);
	int lfd = xbind(a);
	int fl = fcntl(lfd, F_GETFL);
	fcntl(lfd, F_SETFL, fl | O_NONBLOCK);
	do {
		struct peer p;
		int fd = accept_peer(a, lfd, -1, &p);
		print_peer(a, &p);
		if (!(a->used & O_KEEP)) {
			close(lfd);
			it_sock_unbind();
			converse(a, fd);
		}
		take_from(a, fd);
		close(fd);
	} while (a->used & O_KEEP);
	return IT_OK;
}

/* ---- serve ---- */

/* One command: its process group, led by the process we started; kept
 * after that one has ended while the group lives (what it started in the
 * background holds the connection still). */
struct child {
	pid_t pid;
	uid_t uid;
	bool reaped;
};

struct server {
	struct args *a;
	struct child *kids;
	int nkids;
	int sfd, lfd;
	bool stopping;
	int stops;                 /* stop signals received */
	posix_spawnattr_t attr;
};

/* The environment of one command: ours without the UCSPI names, then
 * the UCSPI names of this connection. */
static char **child_env(const struct server *s, const struct peer *p,
			char vars[][96])
{
	/* Every name of the UCSPI families that tcpserver, s6-ipcserver and
	 * ucspi-unix set: one we do not set must not pass through forged. */
	static const char *const ucspi[] = {"PROTO=", "TCPREMOTE", "TCPLOCAL",
		"TCP6REMOTE", "TCP6LOCAL", "UNIXREMOTE", "UNIXLOCAL",
		"IPCREMOTE", "IPCLOCAL"};
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **env = malloc((n + 6) * sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool ours = false;
		for (size_t u = 0; u < sizeof ucspi / sizeof ucspi[0]; u++)
			ours |= strncmp(environ[i], ucspi[u], strlen(ucspi[u])) == 0;
		if (!ours)
			env[k++] = environ[i];
	}
	if (s->a->addr.family == AF_UNIX) {
		snprintf(vars[0], sizeof vars[0], "PROTO=UNIX");
		snprintf(vars[1], sizeof vars[1], "UNIXREMOTEEUID=%lu",
			 (unsigned long)p->uc.uid);
		snprintf(vars[2], sizeof vars[2], "UNIXREMOTEEGID=%lu",
			 (unsigned long)p->uc.gid);
		snprintf(vars[3], sizeof vars[3], "UNIXREMOTEPID=%ld",
			 (long)p->uc.pid);
		vars[4][0] = '\0';
	} else {
		snprintf(vars[0], sizeof vars[0], "PROTO=TCP");
		snprintf(vars[1], sizeof vars[1], "TCPREMOTEIP=%s", p->ip);
		snprintf(vars[2], sizeof vars[2], "TCPREMOTEPORT=%s", p->port);
		snprintf(vars[3], sizeof vars[3], "TCPLOCALIP=%s", p->lip);
		snprintf(vars[4], sizeof vars[4], "TCPLOCALPORT=%s", p->lport);
	}
	for (int i = 0; i < 5; i++)
		if (vars[i][0])
			env[k++] = vars[i];
	env[k] = NULL;
	return env;
}

static int kids_of(const struct server *s, uid_t uid)
{
	int n = 0;
	for (int i = 0; i < s->nkids; i++)
		n += s->kids[i].uid == uid;
	return n;
}

/* Runs the command for one connection, the socket its standard input
 * and output: false if refused (--max-per-uid) or it could not run. The
 * connection is ours to close either way. */
static bool spawn(struct server *s, int fd, const struct peer *p)
{
	struct args *a = s->a;
	uid_t uid = p->cred ? p->uc.uid : 0;
	if (a->max_per_uid && p->cred && kids_of(s, uid) >= a->max_per_uid) {
		it_warn("refused a peer of uid %lu on %s: --max-per-uid %ld "
			"reached", (unsigned long)uid, a->addr.text,
			a->max_per_uid);
		return false;
	}
	char vars[5][96];
	char **env = child_env(s, p, vars);
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err = env ? posix_spawn_file_actions_init(&fa) : ENOMEM;
	if (!err) {
		posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
		posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
		err = posix_spawnp(&pid, a->rest[0], &fa, &s->attr, a->rest, env);
		posix_spawn_file_actions_destroy(&fa);
	}
	/* Its own process group, set in the child before the exec
	 * (POSIX_SPAWN_SETPGROUP) and here too, so that it is set before
	 * we may signal it whatever the order. */
	if (!err)
		(void)setpgid(pid, pid);
	free(env);
	if (err) {
		it_warn("unable to run %s: %s", a->rest[0], strerror(err));
		return false;
	}
	s->kids[s->nkids++] = (struct child){pid, uid, false};
	return true;
}

/* What has ended is reaped: our commands, and what they started, which
 * comes to us when its parent ends (PR_SET_CHILD_SUBREAPER). A command
 * is done once its whole process group is. */
static void reap(struct server *s)
{
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (int i = 0; i < s->nkids; i++)
			if (s->kids[i].pid == pid)
				s->kids[i].reaped = true;
	for (int i = 0; i < s->nkids; i++)
		if (s->kids[i].reaped && kill(-s->kids[i].pid, 0) < 0 &&
		    errno == ESRCH)
			s->kids[i--] = s->kids[--s->nkids];
}

/* Stops accepting: the socket goes, so that new clients are refused at
 * once; the running commands finish, or get SIGTERM with --kill-children
 * (and at a second stop signal), and SIGKILL at a third, so that a
 * command that ignores SIGTERM cannot keep us. */
static void stop(struct server *s)
{
	if (!s->stopping) {
		close(s->lfd);
		it_sock_unbind();
	}
	int sig = s->stops >= 2 ? SIGKILL : SIGTERM;
	if (s->stops > 0 || s->a->used & O_KILL)
		for (int i = 0; i < s->nkids; i++)
			kill(-s->kids[i].pid, sig);
	s->stopping = true;
	s->stops++;
}

static void server_init(struct server *s, struct args *a, sigset_t *set)
{
	sigset_t none;
	s->a = a;
	s->nkids = 0;
	s->stopping = false;
	s->stops = 0;
	s->kids = calloc((size_t)a->max, sizeof *s->kids);
	if (!s->kids)
		it_xfail(errno, "allocate", "the table of commands", NULL);
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigprocmask(SIG_BLOCK, set, NULL);
	s->sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (s->sfd < 0)
		it_xfail(errno, "set up", "a signalfd", NULL);
	/* The commands start with no signal blocked and SIGPIPE as usual. */
	sigemptyset(&none);
	sigaddset(&none, SIGPIPE);
	posix_spawnattr_init(&s->attr);
	posix_spawnattr_setsigdefault(&s->attr, &none);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&s->attr, &none);
	posix_spawnattr_setpgroup(&s->attr, 0);
	posix_spawnattr_setflags(&s->attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	/* What a command leaves running when it ends is ours to reap. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static int cmd_serve(struct args *a)
{
	struct server s;
	sigset_t set;
	server_init(&s, a, &set);
	s.lfd = xbind(a);
	int fl = fcntl(s.lfd, F_GETFL);
	fcntl(s.lfd, F_SETFL, fl | O_NONBLOCK);
	while (!s.stopping || s.nkids > 0) {
		struct pollfd pf[2] = {{s.sfd, POLLIN, 0}, {s.lfd, POLLIN, 0}};
		nfds_t n = s.stopping || s.nkids >= a->max ? 1 : 2;
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			it_xfail(errno, "wait on", a->addr.text, NULL);
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(s.sfd, &si, sizeof si) == sizeof si &&
			    si.ssi_signo != SIGCHLD)
				stop(&s);
			reap(&s);
			continue;
		}
		if (n < 2 || !(pf[1].revents & POLLIN))
			continue;
		int fd = accept4(s.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == EINTR ||
			       errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			it_warn("unable to accept on %s: %s", a->addr.text,
				strerror(errno));
			poll(NULL, 0, 100);
			continue;
		}
		if (fd < 0)
			it_xfail(errno, "accept on", a->addr.text, NULL);
		struct peer p;
		peer_of(fd, &a->addr, &p);
		if (!allowed(a, &p)) {
			refused(a, &p);
			refuse(a, fd);
			continue;
		}
		print_peer(a, &p);
		if (spawn(&s, fd, &p))
			close(fd);
		else
			refuse(a, fd);
	}
	posix_spawnattr_destroy(&s.attr);
	free(s.kids);
	return IT_OK;
}

/* ---- datagrams ---- */

/* The largest message send reads from standard input. */
#define SEND_MAX (64 << 20)

/* Message n, read from standard input at msg, was not sent: it is made
 * unread again with all read after it, so that a seekable standard input
 * is left at its first byte. Where that cannot be, the line says how many
 * bytes were read and not sent. */
static void unsent_msg(struct it_reader *r, const char *msg, size_t len,
		       char *tell, size_t size)
{
	size_t head = r->framing == IT_FRAME_NETSTRING
		      ? (size_t)snprintf(NULL, 0, "%zu:", len) : 0;
	size_t from = (size_t)(msg - r->buf) - head;
	size_t ahead = r->end - from;
	if (lseek(r->fd, -(off_t)ahead, SEEK_CUR) >= 0)
		snprintf(tell, size, ": standard input is left at its first byte");
	else
		snprintf(tell, size, " (%zu bytes of standard input read from "
			 "its first on were not sent)", ahead);
	r->start = r->end;
}

/* Message n could not be sent: told by its number. Where it is one of
 * standard input's (msg) and could go another time, it is given back with
 * what follows; one that never could (malformed, too long) is not, and
 * only what follows it is. */
static _Noreturn void send_fail(const struct args *a, int fd, long n,
				const char *msg, size_t len,
				struct it_reader *r, int err)
{
	int sndbuf = 0;
	socklen_t sl = sizeof sndbuf;
	char tell[120] = "";
	bool never = err == EBADMSG || err == EMSGSIZE || err == ENOBUFS;
	if (r && msg && r->buf && !never)
		unsent_msg(r, msg, len, tell, sizeof tell);
	else if (r)
		it_reader_giveback(r);
	if (err == EBADMSG)
		it_die(IT_DATAERR, "unable to read standard input: message %ld is "
		       "not a complete netstring", n);
	if (err == EMSGSIZE && r && len > SEND_MAX)
		it_die(IT_DATAERR, "unable to send %s: message %ld is longer than "
		       "%d bytes, the most send reads", a->addr.text, n, SEND_MAX);
	if ((err == EMSGSIZE || err == ENOBUFS) && a->addr.family != AF_UNIX)
		it_die(IT_DATAERR, "unable to send %s: message %ld of %zu bytes is "
		       "longer than a UDP datagram (65507 bytes)", a->addr.text, n,
		       len);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);
	if (err == EMSGSIZE || err == ENOBUFS)
		it_die(IT_DATAERR, "unable to send %s: message %ld of %zu bytes is "
		       "longer than the socket send buffer (%d bytes; raise "
		       "net.core.wmem_default)", a->addr.text, n, len, sndbuf);
	if (err == EAGAIN)
		it_die(IT_NO, "unable to send %s: no room in time for message %ld, "
		       "which was not sent%s", a->addr.text, n, tell);
	int status = err == ECONNREFUSED || err == ENOENT || err == ENOTCONN ?
		     IT_UNAVAILABLE : IT_IOERR;
	if (tell[0])
		it_die(status, "unable to send %s: %s (message %ld was not "
		       "sent)%s", a->addr.text, strerror(err), n, tell);
	it_xfail_status(status, err, "send", a->addr.text, NULL);
}

static void send_one(const struct args *a, int fd, long n, const void *msg,
		     size_t len, struct it_reader *r)
{
	while (send(fd, msg, len, 0) < 0)
		if (errno != EINTR)
			send_fail(a, fd, n, r ? msg : NULL, len, r, errno);
}

/* On a record connection, the receiver has read every record we sent, or
 * it closed with some unread: that is exit 74. Where datagrams went, the
 * kernel does not tell. */
static int sent_all(const struct args *a, int fd)
{
	struct talk t = {.idle = a->timeout, .last = it_now_ns()};
	int err = 0;
	if (a->addr.type == SOCK_SEQPACKET && shutdown(fd, SHUT_WR) == 0)
		err = wait_taken(fd, a->addr.text, &t, false);
	if (err)
		it_die(IT_IOERR, "unable to send %s: %s (the receiver did not "
		       "read every record)", a->addr.text, strerror(err));
	close(fd);
	return IT_OK;
}

static int cmd_send(struct args *a)
{
	resolve(a);
	int fd = it_sock_connect(&a->addr, it_deadline(a->timeout), false);
	if (fd < 0)
		connect_fail(a, "connect", errno);
	if (a->timeout != IT_FOREVER) {
		struct timespec ts = it_ns_to_ts(a->timeout);
		struct timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	for (int i = 0; i < a->nrest; i++)
		send_one(a, fd, i + 1, a->rest[i], strlen(a->rest[i]), NULL);
	if (a->nrest > 0)
		return sent_all(a, fd);
	struct it_reader r;
	const char *msg;
	size_t len;
	int rc;
	long n = 1;
	it_reader_init(&r, STDIN_FILENO, a->framing);
	for (; (rc = it_read_msg(&r, SEND_MAX, &msg, &len)) > 0; n++)
		send_one(a, fd, n, msg, len, &r);
	if (rc < 0 && (errno == EMSGSIZE || errno == EBADMSG))
		send_fail(a, fd, n, NULL, SEND_MAX + (size_t)1, &r, errno);
	if (rc < 0)
		it_xfail_status(IT_IOERR, errno, "read", "standard input", NULL);
	it_reader_free(&r);
	return sent_all(a, fd);
}

/* recv: messages taken and buffered, not yet written to standard output. */
static long recv_held;

/* recv: standard output has gone (or a write to it failed with err),
 * with lost messages taken and not read by its reader. What a datagram
 * socket fd still holds is lost as well, and counted (a UNIX one refuses
 * senders from now on); records a connection holds are left unread, so
 * that their sender learns it (a reset). Told in one line, then the end
 * as for any write error on stdout. */
static _Noreturn void recv_lost(const struct args *a, int fd, long lost,
				int err)
{
	if (a->addr.type != SOCK_DGRAM)
		fd = -1;
	if (fd >= 0 && a->addr.family == AF_UNIX)
		shutdown(fd, SHUT_RD);
	/* Bounded: a UDP socket takes datagrams still while we count. */
	for (long i = 0; fd >= 0 && i < 1 << 20; i++) {
		char c, cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {&c, 1};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC |
				    MSG_CMSG_CLOEXEC);
		struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
		struct peer p = {0};
		if (cm && cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS) {
			p.cred = true;
			memcpy(&p.uc, CMSG_DATA(cm), sizeof p.uc);
		}
		/* The end of a datagram socket shut down comes without
		 * credentials. */
		if (n < 0 || (n == 0 && !p.cred && a->addr.family == AF_UNIX))
			break;
		if (!p.cred || allowed(a, &p))
			lost++;
	}
	if (lost > 0)
		it_warn("standard output has gone: %ld message%s received %s not "
			"written out", lost, lost == 1 ? "" : "s",
			lost == 1 ? "was" : "were");
	stdout_fail(err);
}

/* recv: what w holds goes out; on failure, what it held is counted. */
static void recv_flush(const struct args *a, int fd, struct it_writer *w)
{
	if (it_writer_flush(w) < 0)
		recv_lost(a, fd, recv_held, errno);
	recv_held = 0;
}

static int no_stop(void)
{
	return 0;
}

/* The next datagram or record: its length, which may be more than the
 * DGRAM_MAX bytes of buf that it fills (MSG_TRUNC); -1 if a stop signal
 * came first, or (draining) if nothing is queued. Flushes w first if it
 * would wait. *end: the end of a record connection, or of a datagram
 * socket shut down for draining, told from an empty message by the
 * credentials that come with every message (SO_PASSCRED) and not with
 * the end. */
static ssize_t recv_one(const struct args *a, int fd, int sfd, char *buf,
			struct it_writer *w, struct peer *p, bool *end,
			bool draining)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, DGRAM_MAX};
	int64_t deadline = it_deadline(a->timeout);
	bool waited = false;
	for (;;) {
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf};
		/* A message taken must have somewhere to go (CONTRACT 8). */
		if (it_drain_gone())
			recv_lost(a, fd, recv_held, EPIPE);
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC |
				    MSG_CMSG_CLOEXEC);
		if (n >= 0) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			memset(p, 0, sizeof *p);
			if (c && c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS) {
				p->cred = true;
				memcpy(&p->uc, CMSG_DATA(c), sizeof p->uc);
			}
			*end = n == 0 && !p->cred && (draining ||
						      a->addr.type == SOCK_SEQPACKET);
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			it_xfail_status(IT_IOERR, errno, "receive from",
					a->addr.text, NULL);
		if (errno == EAGAIN && draining)
			return -1;
		if (!waited)
			recv_flush(a, fd, w);
		waited = true;
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int r = poll(pf, 2, it_left_ms(deadline));
		if (r == 0)
			it_die(IT_NO, "unable to receive from %s: nothing in time",
			       a->addr.text);
		if (r > 0 && pf[1].revents & POLLIN)
			return -1;
	}
}

/* Why a message from a peer we take cannot be written out as framed:
 * longer than DGRAM_MAX, or holding the byte that ends a message (it
 * would read as two); NULL if it can. */
static const char *unframable(const struct args *a, const char *buf,
			      ssize_t n)
{
	static char why[40];
	if (n > DGRAM_MAX) {
		snprintf(why, sizeof why, "longer than %d bytes", DGRAM_MAX);
		return why;
	}
	if (a->framing == IT_FRAME_LINE && memchr(buf, '\n', (size_t)n))
		return "it holds a newline (use --netstring)";
	if (a->framing == IT_FRAME_NUL && memchr(buf, '\0', (size_t)n))
		return "it holds a NUL (use --netstring)";
	return NULL;
}

static int cmd_recv(struct args *a)
{
	/* Stop signals end the loop between two messages, never inside. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		it_xfail(errno, "set up", "a signalfd", NULL);
	a->bind.passcred = true;
	int lfd = xbind(a), fd = lfd, status = IT_OK;
	bool records = a->addr.type == SOCK_SEQPACKET, end;
	if (records) {
		fd = -1;
		fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	}
	char *buf = malloc(DGRAM_MAX);
	if (!buf)
		it_xfail(errno, "allocate", "a buffer", NULL);
	struct it_writer w;
	it_writer_init(&w, STDOUT_FILENO, a->framing);
	long got = 0;
	long count = a->count ? a->count : 1;
	bool draining = false, out_pipe = is_pipe(STDOUT_FILENO);
	while (a->used & O_FOLLOW || got < count) {
		struct peer p;
		/* What was taken is out before we wait for the next peer. */
		if (fd < 0)
			recv_flush(a, fd, &w);
		if (fd < 0 && (fd = accept_peer(a, lfd, sfd, &p)) < 0)
			break;
		ssize_t n = recv_one(a, fd, sfd, buf, &w, &p, &end, draining);
		/* A stop signal: a UNIX datagram socket refuses senders from
		 * now on (EPIPE), and what they queued already is taken. */
		if (n < 0 && !draining && !records && a->addr.family == AF_UNIX &&
		    shutdown(fd, SHUT_RD) == 0) {
			draining = true;
			continue;
		}
		if (n < 0 || (end && draining))
			break;
		if (end) {
			close(fd);
			fd = -1;
			continue;
		}
		if (!records && p.cred && !allowed(a, &p)) {
			refused(a, &p);
			continue;
		}
		/* Told and skipped; the exit status then says that not
		 * everything came through. */
		const char *why = unframable(a, buf, n);
		if (why) {
			it_warn("skipped a message of %zd bytes from %s: %s", n,
				a->addr.text, why);
			status = IT_DATAERR;
			continue;
		}
		if (it_write_msg(&w, buf, (size_t)n) < 0)
			recv_lost(a, fd, recv_held + 1, errno);
		recv_held++;
		got++;
		/* Into a pipe, one message at a time: a reader such as head(1)
		 * reads all the pipe holds and keeps what it wants, so the next
		 * is taken only once it has read this one; if it goes first,
		 * this one and what the socket holds are told as lost. */
		if (out_pipe) {
			recv_flush(a, fd, &w);
			if (it_drain(no_stop) > 0)
				recv_lost(a, fd, 1, EPIPE);
		}
	}
	recv_flush(a, fd, &w);
	free(buf);
	/* Fewer than N is no success: what was taken is out, the line says
	 * how much, and the signal ends us as it would have. */
	struct signalfd_siginfo si;
	if (!(a->used & O_FOLLOW) && got < count &&
	    read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo;
		it_warn("unable to receive from %s: SIG%s after %ld of %ld "
			"message%s%s", a->addr.text, it_sig_name(sig), got,
			count, count == 1 ? "" : "s", got == 0 ? "" :
			got == 1 ? ", which was written out" :
			", which were written out");
		it_sock_unbind();
		signal(sig, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
	}
	return status;
}

/* ---- test ---- */

static _Noreturn void type_fail(const struct args *a)
{
	it_die(IT_DATAERR, "unable to test %s: a socket of another type",
	       a->addr.text);
}

static int test_fail(const struct args *a, int err)
{
	if (err == EAGAIN)
		return IT_OK;
	if (err == ECONNREFUSED || err == ENOENT)
		return IT_UNAVAILABLE;
	if (err == EPROTOTYPE)
		type_fail(a);
	connect_fail(a, "test", err);
}

/* For test at a path: a datagram connect says whether and what is bound
 * there without making a connection: 0 (a datagram socket), -1 with errno
 * EPROTOTYPE (a stream or record one), ECONNREFUSED, ENOENT... */
static int probe_path(const struct args *a)
{
	struct it_sockaddr d = a->addr;
	d.type = SOCK_DGRAM;
	int fd = it_sock_connect(&d, it_deadline(0), true);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

/* How long test waits for a TCP answer without -w: time for a lost SYN to
 * be sent again (after 1 s) and answered. */
#define TEST_WAIT ((int64_t)3000000000)

/* 0 when someone listens at ADDR, 69 (quietly) when nobody does. Without
 * a type asked for, a socket of any type counts. A UNIX listener whose
 * backlog is full listens. */
static int cmd_test(struct args *a)
{
	resolve(a);
	int want = a->used & O_TYPE ? a->addr.type : 0, fd = 0;
	if (a->addr.path && (fd = probe_path(a)) == 0 && want &&
	    want != SOCK_DGRAM)
		type_fail(a);
	if (a->addr.path && (fd == 0 || (errno == EPROTOTYPE && !want)))
		return IT_OK;
	if (a->addr.path && errno != EPROTOTYPE)
		return test_fail(a, errno);
	if (want == SOCK_DGRAM)
		type_fail(a);
	/* A TCP listener whose backlog is full drops our SYN, as a host
	 * that is not there does: without -w, TEST_WAIT bounds the wait
	 * for an answer, not the kernel's SYN retries (two minutes). */
	int64_t deadline = it_deadline(a->timeout != IT_FOREVER ||
				       a->addr.family == AF_UNIX ? a->timeout :
				       TEST_WAIT);
	fd = it_sock_connect(&a->addr, deadline, true);
	static const int others[] = {SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; fd < 0 && errno == EPROTOTYPE && !want && i < 2; i++) {
		a->addr.type = others[i];
		fd = it_sock_connect(&a->addr, deadline, true);
	}
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? IT_OK : test_fail(a, errno);
}

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
