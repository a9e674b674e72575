/* usock.h: what the files of usock share, its types and the functions
 * one file calls in another. usock(1) is the tool's description; each
 * file says what it holds. */
#ifndef USOCK_H
#define USOCK_H

#include <errno.h>
#include <fcntl.h>
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

/* ---- sock.c: socket addresses, connecting, binding at a path ---- */
#define IT_SOCK_MAXADDR 8

/* PATH, unix:PATH, @NAME (abstract), tcp:HOST:PORT, tcp:[V6]:PORT,
 * udp:HOST:PORT; Internet names are resolved by sock_resolve. */
struct sock_addr {
	const char *text;   /* as the user typed it, for messages */
	int family;         /* AF_UNIX, AF_INET or AF_INET6 */
	int type;           /* SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET */
	bool abstract;
	const char *path;   /* AF_UNIX with a file name; NULL otherwise */
	char host[256], port[32];
	int n;              /* addresses to try, in order */
	unsigned lens[IT_SOCK_MAXADDR];
	/* struct sockaddr_storage each, without making every tool include
	 * <sys/socket.h> (whose send() and recv() names they may use). */
	_Alignas(8) unsigned char addrs[IT_SOCK_MAXADDR][128];
};

/* How a socket at a path is made: mode and owner (-1 keeps ours); with
 * passcred, a UNIX datagram socket gets SO_PASSCRED before it is bound,
 * so that every datagram, even the first, comes with its credentials. */
struct bindopt {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int backlog;
	bool passcred;
};

/* Parses s for type (0: stream, or dgram for udp:): 0, or -1 with errno
 * EINVAL (bad syntax, a port that is not 0 to 65535 in decimal),
 * ENAMETOOLONG, EPROTOTYPE (udp: as a stream, tcp: as datagrams). */
int sock_parse(const char *s, int type, struct sock_addr *a);
/* Looks up an Internet host and port: 0, or -1 with errno and *why. */
int sock_resolve(struct sock_addr *a, const char **why);
/* it_exit_for, plus usock's table: nobody there (ENOENT, ECONNREFUSED,
 * unreachable) 69, not a socket 65, timed out 1. */
int sock_exit_for(int err);
/* A connected socket (blocking, close-on-exec), trying each address until
 * the deadline: the fd, or -1 with errno (ENOTSOCK: a path that is no
 * socket). A UNIX listener with a full backlog is waited for, or with
 * busy_ok is EAGAIN at once. */
int sock_connect(const struct sock_addr *a, int64_t deadline, bool busy_ok);
/* A bound socket, listening unless it is a datagram one, or exits with the
 * contract's status. At a path, the socket is bound there with o's mode,
 * given o's owner, and only then listens; what is at the path already is
 * reclaimed only if it is a socket of ours (or of o's owner) at which no
 * socket is bound any more (else 65, 77 or 73). */
int sock_xbind(const struct sock_addr *a, const struct bindopt *o);
/* Unlinks the path bound, if it is still our socket; async-signal-safe,
 * and registered with atexit by sock_xbind. */
void sock_unbind(void);

/* Bytes asked of one splice(2), and the size of the pipe between a socket
 * and a file: more than one call moves at a time on a fast path. */
#define CHUNK (1 << 20)

/* The largest datagram recv takes whole. */
#define DGRAM_MAX (1 << 20)

enum cmd { CONNECT, LISTEN, SERVE, SEND, RECV, TEST, NCMD };

/* One bit per option, to check in one place which command takes which. */
enum {
	O_TYPE = 1 << 0, O_KEEP = 1 << 1, O_TIMEOUT = 1 << 2, O_READY = 1 << 3,
	O_MODE = 1 << 4, O_OWNER = 1 << 5, O_ALLOW = 1 << 6, O_PEER = 1 << 7,
	O_STAT = 1 << 8, O_MAX = 1 << 9, O_MAXUID = 1 << 10, O_KILL = 1 << 11,
	O_COUNT = 1 << 12, O_FOLLOW = 1 << 13, O_JSON = 1 << 14,
};

struct args {
	enum cmd cmd;
	unsigned used;
	int type;                 /* 0: as the command and address imply */
	struct sock_addr addr;
	char **rest;              /* serve: CMD ARG...; send: MSG... */
	int nrest;
	const char *addr_arg;     /* ADDR as given */
	int64_t timeout;
	int ready_fd;
	struct it_wait wait;      /* -w and --ready-fd as given */
	struct bindopt bind;
	bool allow_any;
	uid_t *uids;
	gid_t *gids;
	int nuids, ngids;
	long max, max_per_uid, count;
	enum it_framing framing;
};

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

/* What the two directions of a connection share. Exit only happens under
 * exit_lock, so that one thread ends the process while the other waits. */
struct talk {
	int64_t idle;              /* -w: time with nothing moved either way */
	_Atomic int64_t last;      /* when a byte last moved, either way */
	bool busy;                 /* the writer has standard input in hand */
	int done;                  /* an eventfd written when the writer ends */
};

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

/* peer.c */
void peer_of(int fd, const struct sock_addr *addr, struct peer *p);
void print_peer(const struct args *a, const struct peer *p);
bool allowed(const struct args *a, const struct peer *p);
void refuse(const struct args *a, int fd);
void refused(const struct args *a, const struct peer *p);

/* pump.c */
extern pthread_mutex_t exit_lock;
_Noreturn void stdout_fail(int err);
bool is_pipe(int fd);
void pump_init(struct pump *p, int in, const char *inname, int out,
	       const char *outname, bool sock_in, int type,
	       struct talk *t);
void pump_free(struct pump *p);
int idle_left_ms(const struct talk *t);
int pump_run(struct pump *p);
void *writer(void *arg);
bool readable(int fd);
_Noreturn void unsent(const struct pump *p, const char *why);

/* taken.c */
int tcp_peer_diag(int fd, unsigned *rqueue);
void wait_writer(const struct pump *out, bool gone, bool tcp,
		 bool refused);
int wait_taken(int fd, const char *name, const struct talk *t,
	       bool tcp);

/* conn.c */
_Noreturn void connect_fail(const struct args *a, const char *verb,
			    int err);
void resolve(struct args *a);
int cmd_connect(struct args *a);
int xbind(struct args *a);
int accept_peer(const struct args *a, int lfd, int sfd, struct peer *p);
int cmd_listen(struct args *a);

/* serve.c */
int cmd_serve(struct args *a);

/* dgram.c */
int cmd_send(struct args *a);
int cmd_recv(struct args *a);

/* test.c */
int cmd_test(struct args *a);

#endif
