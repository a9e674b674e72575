/* ipctools.h: the one header every tool in cmd/ includes.
 *
 * Naming rule (after toybox): functions prefixed it_x succeed or exit with
 * a message and the contract's exit status; every other it_ function returns
 * -1 (or a negative count) with errno set, and never exits. */
#ifndef IPCTOOLS_H
#define IPCTOOLS_H

#include <argp.h>
#include <mqueue.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define IT_VERSION "0.1.0"

/* The exit-status table of CONTRACT.md section 6; the numbers are those of
 * <sysexits.h>, so other tools' users read them the same way. */
enum it_exit {
	IT_OK = 0,
	IT_NO = 1,           /* timed out, would block, no such process, no reader */
	IT_USAGE = 64,       /* bad command line (argp's own status) */
	IT_DATAERR = 65,     /* message too large or badly framed */
	IT_NOINPUT = 66,     /* the named object does not exist or went away */
	IT_UNAVAILABLE = 69, /* no peer: refused, nobody listening */
	IT_OSERR = 71,       /* any other failed system call */
	IT_CANTCREAT = 73,   /* exists and --excl was given */
	IT_IOERR = 74,       /* read or write error on stdin, stdout or a peer */
	IT_NOPERM = 77,      /* permission denied */
};

/* ---- err.c: messages and exit codes ---- */
int it_exit_for(int err);
void it_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void it_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ends the process by sig's default action (unblocked for it), as if it
 * had never been caught; 128+sig if that action does not end it. */
_Noreturn void it_exit_signal(int sig);
/* SIGINT, SIGTERM and SIGHUP go to handler, without SA_RESTART, so that a
 * blocking call they interrupt returns EINTR. */
void it_catch_stops(void (*handler)(int));
/* Says that the tool has reported its failure itself (it_die does this),
 * so that the check of stdout at exit adds no second message. */
void it_reported(void);
/* "tool: unable to VERB OBJECT: strerror(err)[ (HINT)]", exit it_exit_for(err). */
_Noreturn void it_xfail(int err, const char *verb, const char *object,
			const char *hint);
/* The same message with an explicit exit status. */
_Noreturn void it_xfail_status(int status, int err, const char *verb,
			       const char *object, const char *hint);
/* s made fit to stand in a one-line message: control bytes escaped as \n,
 * \t, \xNN, and the middle cut out to fit size. Returns buf. */
const char *it_quote(const char *s, char *buf, size_t size);
/* Checks and closes stdout at exit (a full disk is an error, exit 74). */
void it_close_stdout(void);
/* The first call of every main(), before argp_parse: opens /dev/null on
 * whichever of fds 0, 1 and 2 is closed, so that no descriptor of ours
 * lands there, but the wrong way round (reads of a closed stdin and writes
 * to a closed stdout still fail, with EBADF: a closed stdout is never
 * success); then registers it_close_stdout with atexit, so that --help
 * into /dev/full is exit 74 too. */
void it_init(void);
/* Exits 74 "unable to write standard output" if stdout was closed (it_init
 * left it open read-only): for tools that must not take data they cannot
 * deliver. */
void it_xcheck_stdout(void);

/* ---- parse.c: strict parsers; 0 or -1 with errno EINVAL/ERANGE ---- */
int it_parse_long(const char *s, long min, long max, long *out);
int it_parse_ulong(const char *s, unsigned long max, unsigned long *out);
int it_parse_size(const char *s, uint64_t max, uint64_t *out);   /* 64k, 1M */
int it_parse_duration(const char *s, int64_t *ns);                /* 250ms, 1.5s */
int it_parse_mode(const char *s, mode_t *out);                    /* 0600 */
int it_parse_key(const char *s, int32_t *out);                    /* 0x2a, 052 */
/* An open fd above 2 (EDOM for 0, 1 and 2: readiness never goes to the
 * standard streams). */
int it_parse_fd(const char *s, int *fd);
/* argp_error(state, "invalid WHAT 'ARG': reason") from the errno of a parser;
 * a huge ARG is shortened so the message stays one readable line. */
void it_argp_bad(const struct argp_state *state, const char *what,
		 const char *arg);
/* The one wording of every tool for -w/--timeout and --ready-fd values:
 * "invalid duration 'ARG'", "invalid file descriptor 'ARG': why". */
void it_argp_duration(const struct argp_state *state, const char *arg,
		      int64_t *ns);
void it_argp_fd(const struct argp_state *state, const char *arg, int *fd);
/* An entry of a tool's argp children: lib's PARSER of options that the
 * tool words itself in OPTIONS (the keys the parser knows). */
#define IT_ARGP_CHILD(options, parser) \
	{&(const struct argp){(options), (parser), NULL, NULL, NULL, NULL, \
			      NULL}, 0, NULL, 0}
/* Sets state->child_inputs[0], [1]... to the pointers given, in the
 * order of the tool's argp children: call it at ARGP_KEY_INIT. */
#define IT_ARGP_INPUTS(state, ...) \
	it_argp_inputs((state), (void *[]){__VA_ARGS__, NULL})
void it_argp_inputs(struct argp_state *state, void *const *inputs);
/* CONTRACT.md section 9: an empty path, name or command is a usage error
 * at start-up, "invalid WHAT '': empty", not a failed system call later. */
void it_argp_nonempty(const struct argp_state *state, const char *what,
		      const char *arg);
/* ---- waitopt.c: -w/--timeout, --nowait, --ready-fd (sections 3, 4) ---- */
struct it_wait {
	int64_t timeout;    /* -w: IT_FOREVER if not given */
	const char *timeout_arg;    /* -w as the user wrote it, for messages */
	int ready_fd;       /* --ready-fd: -1 if not given */
	bool timed;         /* -w given */
	bool nowait;        /* --nowait given */
};
enum { IT_KEY_NOWAIT = 0x7100, IT_KEY_READY };
/* The argp parser of these options, input a struct it_wait *: defaults at
 * ARGP_KEY_INIT, one wording for bad values, fds 0-2 refused, -w with
 * --nowait refused. it_wait_argp gives them generic help; a tool with
 * words of its own makes its argp of its option table and this parser. */
error_t it_wait_parse(int key, char *arg, struct argp_state *state);
extern const struct argp it_wait_argp;
/* An entry of a tool's argp children for its waiting options in its own
 * words: OPTIONS is its table of them, keyed 'w', IT_KEY_NOWAIT and
 * IT_KEY_READY; the child's input is the tool's struct it_wait. */
#define IT_WAIT_CHILD(options) IT_ARGP_CHILD(options, it_wait_parse)
/* Those of the tool's option bits (timeout, nowait, ready) that w says
 * were given, for its table of which command takes which option. */
unsigned it_wait_used(const struct it_wait *w, unsigned timeout,
		      unsigned nowait, unsigned ready);

/* ---- signame.c: signal names ---- */
/* USR1, SIGUSR1, usr1, 10, RTMIN+3, SIGRTMAX-1; 0 only if allow_zero. */
int it_sig_parse(const char *s, bool allow_zero, int *signo);
/* "USR1", "RTMIN+3"; "0" for 0; a static buffer for unknown numbers. */
const char *it_sig_name(int signo);
/* The action a signal takes when nobody changes it: Term, Core, Ign, Stop, Cont. */
const char *it_sig_default_action(int signo);

/* ---- time.c: monotonic deadlines ---- */
#define IT_FOREVER ((int64_t)-1)
int64_t it_now_ns(void);                       /* CLOCK_MONOTONIC */
/* Absolute monotonic deadline for a timeout; IT_FOREVER stays IT_FOREVER. */
int64_t it_deadline(int64_t timeout_ns);
/* Nanoseconds left (0 when passed); IT_FOREVER for no deadline. */
int64_t it_left_ns(int64_t deadline);
/* Milliseconds left for poll(2), rounded up; -1 for no deadline. */
int it_left_ms(int64_t deadline);
struct timespec it_ns_to_ts(int64_t ns);
/* A CLOCK_REALTIME absolute time that is deadline's time left from now,
 * for the calls (mq_timedreceive) that only take a wall-clock deadline. */
struct timespec it_realtime_abs(int64_t deadline);

/* ---- alarm.c: interrupting calls that have no timed form ---- */
/* Catches SIGALRM without SA_RESTART and makes a monotonic timer for it. */
void it_alarm_init(void);
/* SIGALRM at deadline (at once if it has passed), then every 10 ms, so a
 * blocking call fails with EINTR; IT_FOREVER disarms. Async-signal-safe. */
void it_alarm_at(int64_t deadline);

/* ---- io.c: full reads and writes, readiness ---- */
ssize_t it_read_full(int fd, void *buf, size_t len);   /* short only at EOF */
int it_write_full(int fd, const void *buf, size_t len);
/* Writes len bytes unless stopped() (may be NULL) turns true first, for a
 * tool that must end promptly on a stop signal while a reader does not
 * read: returns how many bytes were written, and when that is short of
 * len, errno says why (EINTR: stopped; or write(2)'s error). The stop
 * signal's handler must not set SA_RESTART (it_catch_stops does not). */
size_t it_write_some(int fd, const void *buf, size_t len, int (*stopped)(void));
/* Writes one newline to fd and closes it; fd < 0 does nothing. */
int it_ready(int fd);
/* The same, exiting 71 with a message on failure, and setting *fd to -1. */
void it_xready(int *fd);

/* ---- cmd.c: tools that take a command word first ---- */
struct it_cmd {
	const char *name;
	unsigned opts;      /* bit i: the command takes option names[i] */
};

/* The index of word in cmds[n], or argp_error "unknown command 'WORD'". */
int it_cmd_find(const struct argp_state *state, const struct it_cmd *cmds,
		int n, const char *word);
/* argp_error "missing command: A, B or C", the commands of cmds[n]. */
void it_cmd_missing(const struct argp_state *state, const struct it_cmd *cmds,
		    int n);
/* argp_error "cannot use --NAME with CMD" for an option used (bit i of
 * used, named names[i]) that cmd does not take. */
void it_cmd_check(const struct argp_state *state, const struct it_cmd *cmd,
		  unsigned used, const char *const *names, size_t nnames);
/* An option and whether it was given, for it_first_given. */
struct it_given {
	bool given;
	const char *name;
};
/* The name of the first of opts[n] that was given, NULL if none: what a
 * mode that ignores them (mqsend --stat...) refuses. */
const char *it_first_given(const struct it_given *opts, size_t n);

/* ---- drain.c: exact delivery into a pipe on stdout ---- */
/* After a message was written to the pipe on stdout: waits until its
 * reader has read everything there, 0; or, if the reader went away first,
 * how many bytes it left unread; -1 with errno if poll(2) fails. Looks
 * briefly first, then sleeps on the pipe shrunk to one
 * page (its own size is given back at exit, or by it_drain_restore). When
 * stopped() becomes non-zero (a stop signal), returns at once: 0 unless the
 * reader has gone with bytes unread, since a live reader will read them. */
int it_drain(int (*stopped)(void));
void it_drain_restore(void);
/* True if the reader of the pipe on stdout has gone. */
bool it_drain_gone(void);
/* Starts a thread that sleeps until the reader of the pipe on stdout has
 * gone and then calls gone(), which must be async-signal-safe (it_mq_
 * interrupt, say): a tool waiting for its next message learns at once. */
void it_drain_watch(void (*gone)(void));

/* ---- name.c: naming IPC objects (CONTRACT.md section 1) ---- */
enum it_objkind { IT_OBJ_NONE, IT_OBJ_KEY, IT_OBJ_FILE, IT_OBJ_ID, IT_OBJ_NAME };

struct it_obj {
	enum it_objkind kind;
	bool private;       /* --key private */
	int32_t key;        /* IT_OBJ_KEY, and IT_OBJ_FILE once resolved */
	int id;             /* IT_OBJ_ID */
	const char *path;   /* IT_OBJ_FILE */
	int proj;           /* ftok project id, default 1 */
	bool proj_given;
	const char *name;   /* IT_OBJ_NAME, "/name" */
	unsigned accept;    /* which kinds the tool takes: 1 << IT_OBJ_... */
};

struct it_create {
	bool create;
	bool excl;
	bool rm;
	bool mode_given;
	mode_t mode;        /* default 0600 */
};

#define IT_ACCEPT_SYSV ((1u << IT_OBJ_KEY) | (1u << IT_OBJ_FILE) | (1u << IT_OBJ_ID))
#define IT_ACCEPT_ALL (IT_ACCEPT_SYSV | (1u << IT_OBJ_NAME))

/* argp children: put a struct it_obj and a struct it_create into
 * state->child_inputs[] in ARGP_KEY_INIT (elfutils style). Set obj->accept
 * before parsing; 0 means IT_ACCEPT_ALL. */
extern const struct argp it_obj_argp;
extern const struct argp it_create_argp;

/* Resolves --file through ftok, exiting 66 with a message naming PATH. */
void it_xobj_resolve(struct it_obj *obj);
/* What the user named, for messages: "key 0x0000002a", "id 5", "/name". */
const char *it_obj_label(const struct it_obj *obj);
bool it_obj_is_posix(const struct it_obj *obj);
/* Validates a POSIX IPC name: "/x", one leading slash, no other, < NAME_MAX. */
int it_posix_name_ok(const char *s);
/* IPC_CREAT|IPC_EXCL|mode, and O_CREAT|O_EXCL for the POSIX calls. */
int it_sysv_flags(const struct it_create *c);
int it_posix_oflags(const struct it_create *c);
/* --key private: the id of the object just made goes to standard output,
 * the only way anyone can name it. If it cannot be written, rm(id)
 * removes the object and the tool exits 74, "the new WHAT was removed". */
void it_xprint_private(int id, int (*rm)(int id), const char *what);

/* ---- frame.c: message framing in byte streams (section 2) ---- */
enum it_framing { IT_FRAME_LINE, IT_FRAME_NUL, IT_FRAME_WHOLE, IT_FRAME_NETSTRING };

extern const struct argp it_frame_argp;    /* input: enum it_framing * */
extern const struct argp it_frame_out_argp;  /* the same, for output */
/* The option that chooses framing: "--lines", "--null"... */
const char *it_frame_name(enum it_framing framing);

struct it_reader {
	int fd;
	enum it_framing framing;
	char *buf;
	size_t cap, start, end;   /* unread bytes are buf[start..end) */
	bool eof;
	bool done;                /* --whole: the one message was returned */
};

void it_reader_init(struct it_reader *r, int fd, enum it_framing framing);
void it_reader_free(struct it_reader *r);
/* Next message, at most max bytes: 1 with *msg and *len set (valid until the
 * next call), 0 at end of input, -1 with errno: EMSGSIZE (longer than max),
 * EBADMSG (malformed netstring or truncated input), or a read(2) error. */
int it_read_msg(struct it_reader *r, size_t max, const char **msg, size_t *len);
/* Gives back what was read ahead past the last message, where the input
 * can seek, so a caller that stops early consumes nothing after it. */
void it_reader_giveback(struct it_reader *r);

struct it_writer {
	int fd;
	enum it_framing framing;
	char buf[65536];
	size_t len;
};

void it_writer_init(struct it_writer *w, int fd, enum it_framing framing);
/* Buffers one framed message; 0, or -1 with errno from write(2). */
int it_write_msg(struct it_writer *w, const void *msg, size_t len);
/* Same, with a prefix (a type or priority and a tab) inside the frame. */
int it_write_msg2(struct it_writer *w, const void *pre, size_t prelen,
		  const void *msg, size_t len);
int it_writer_flush(struct it_writer *w);
/* Frames one message (with a prefix inside the frame) into dst, which has
 * room for prelen + len + IT_FRAME_OVERHEAD bytes; returns the framed
 * length, and in *text the offset of msg's bytes within it. */
#define IT_FRAME_OVERHEAD 24
size_t it_frame_msg(char *dst, enum it_framing framing, const void *pre,
		    size_t prelen, const void *msg, size_t len, size_t *text);

/* ---- pack.c: binary records as text lines (--pack, --unpack) ---- */
/* A field list in the notation of Python's struct module: an optional
 * prefix (@ native order, sizes and alignment, the default; = native
 * order, standard sizes; < little-endian; > and ! big-endian), then
 * letters with optional counts: x c b B ? h H i I l L q Q n N f d s. As in
 * Python, "30s" is one 30-byte string, "3i" three ints, a zero count of a
 * letter only aligns (native mode), and no padding is added at the end. */
#define IT_PACK_MAXSIZE (1 << 24)
#define IT_PACK_MAXFIELDS 4096

struct it_pack_field {
	char code;
	size_t size;        /* bytes in the record; for 's', the count */
	size_t offset;
};

struct it_pack {
	struct it_pack_field *f;
	size_t n, cap;
	size_t size;        /* bytes of one record */
	bool native;        /* '@': host sizes and alignment */
	bool big;           /* big-endian fields */
};

/* 0, or -1 with errno EINVAL and why (whylen bytes) saying what is wrong,
 * or ENOMEM. */
int it_pack_parse(struct it_pack *p, const char *fmt, char *why, size_t whylen);
void it_pack_free(struct it_pack *p);
/* One record of p->size bytes as tab-separated fields, into dst, which has
 * room for it_unpack_maxline(p) bytes; returns the length (no newline).
 * Integers in decimal, f and d exactly enough to read back, ? as 0 or 1,
 * c and s as bytes (s without its trailing NULs) with control bytes and
 * the backslash escaped (\t \n \r \\ \xNN). */
size_t it_unpack(const struct it_pack *p, const void *rec, char *dst);
size_t it_unpack_maxline(const struct it_pack *p);
/* One line of tab-separated fields (no newline) into a record of p->size
 * bytes: 0, or -1 with errno EINVAL, *field the 1-based field at fault and
 * why saying how it does not fit. */
int it_pack(const struct it_pack *p, const char *line, size_t len, void *rec,
	    size_t *field, char *why, size_t whylen);
/* --pack and --unpack: parses FORMAT into p, or ends with a usage error
 * "invalid format 'FORMAT': why". */
void it_argp_pack(const struct argp_state *state, const char *arg,
		  struct it_pack *p);
/* The longest input line it_pack could take for one record of p. */
size_t it_pack_maxline(const struct it_pack *p);

/* ---- meta.c: key=value or JSON metadata (section 5) ---- */
struct it_meta {
	bool json;
	int n;
};

void it_meta_begin(struct it_meta *m, bool json);
void it_meta_str(struct it_meta *m, const char *key, const char *val);
void it_meta_int(struct it_meta *m, const char *key, long long val);
void it_meta_end(struct it_meta *m);

/* ---- owner.c: users and groups, as chown(1) takes them ---- */
/* A user (or group) by name or number, the number (uid_t)-1 refused;
 * else argp_error "invalid WHAT 'ARG': no such user" (or "at most N"). */
unsigned it_argp_id(const struct argp_state *state, const char *what,
		    const char *arg, bool group);
struct it_owner {
	uid_t uid;
	gid_t gid;
	bool uid_given, gid_given;
};
/* USER[:GROUP], :GROUP, or USER: for the user and its login group; an
 * empty part leaves that id as it is (not given). */
void it_argp_owner(const struct argp_state *state, char *arg,
		   struct it_owner *o);

/* ---- path.c: files at paths others can write to (section 9) ---- */
struct stat;
/* lstat(2) (a symlink is a symlink, not its target), then exits 65 "unable
 * to VERB PATH: not a FIFO" unless it is of type (S_IFIFO or S_IFSOCK), and
 * 77 if another user owns it and !any_owner; a missing path is exit 66. */
void it_xlstat_file(const char *verb, const char *path, struct stat *st,
		    mode_t type, bool any_owner);
/* Exits 65 unless fd, opened with O_NOFOLLOW after it_xlstat_file, is still
 * the file that st describes. */
void it_xsame_file(const char *verb, const char *path, int fd,
		   const struct stat *st);

/* ---- pidfile.c: a process id registered in a file (sigsend, sigwait) ---- */
struct it_pidfile {
	const char *path;   /* NULL when nothing was written */
	dev_t dev;
	ino_t ino;
};

/* Reads "PID" or "PID\n" and nothing else from a regular file that is not a
 * symlink, is owned by us or root, and is not writable by group or other;
 * *mtime (if not NULL) gets the file's modification time. -1 with errno;
 * where the file itself is refused (EPERM, EINVAL, ERANGE), *why says why,
 * for messages. */
int it_pidfile_read(const char *path, pid_t *pid, struct timespec *mtime,
		    const char **why);
/* True if pid is known to have started (by /proc) more than a second after
 * t, a pidfile's mtime: then it did not write that file. False when it
 * cannot be told. */
bool it_pid_started_after(pid_t pid, const struct timespec *t);
/* Writes our pid atomically (temporary file, then link or rename), mode
 * 0644; never replaces a symlink, anything but a regular file, or a file of
 * another user than us and root (EPERM), nor one that names a live process
 * other than us (EEXIST); *why says why. */
int it_pidfile_write(struct it_pidfile *pf, const char *path, const char **why);
/* Removes the file written, only if it is still the one written and still
 * names us. */
void it_pidfile_remove(struct it_pidfile *pf);

/* ---- rpc.c: the envelope of mqsend --call and mqrecv --reply ---- */
/* The envelope of mqsend --call and mqrecv --reply, as mqsend(1) defines
 * it: one line of text fields, then the payload as is (binary safe):
 *   "ipcrpc/1 call TO NONCE DEADLINE\n" PAYLOAD   a request
 *   "ipcrpc/1 reply NONCE STATUS\n" PAYLOAD       its reply
 * TO is the reply's System V type or POSIX queue name, NONCE 16 hex
 * digits, DEADLINE CLOCK_REALTIME milliseconds since the epoch (0: none),
 * STATUS the command's exit status (128+n for signal n; IT_RPC_TOOLONG:
 * its output did not fit in a reply). */
#define IT_RPC_TOOLONG 256
#define IT_RPC_HEAD 320          /* no header line is longer */
struct it_rpc {
	bool reply;             /* a reply, else a request */
	const char *to;         /* request: where the reply goes, tolen bytes */
	size_t tolen;
	uint64_t nonce;
	int64_t deadline_ms;    /* request: 0 for none */
	int status;             /* reply: 0..IT_RPC_TOOLONG */
	const char *payload;    /* len bytes */
	size_t len;
};
/* Writes m's envelope and payload into buf: the length, or -1 with
 * EMSGSIZE if it is over size bytes. */
ssize_t it_rpc_encode(const struct it_rpc *m, char *buf, size_t size);
/* Parses msg[len] into m, whose to and payload then point into msg: 0, or
 * -1 with EBADMSG if it is no envelope. */
int it_rpc_decode(const char *msg, size_t len, struct it_rpc *m);
/* The time now as an envelope's DEADLINE counts it. */
int64_t it_rpc_now_ms(void);

/* ---- mq.c: System V and POSIX message queues (mqsend, mqrecv) ---- */

struct it_mq_buf {
	long type;          /* System V mtype; msgsnd and msgrcv want it first */
	char text[];
};

struct it_mq {
	const struct it_obj *obj;  /* as the user named it, for messages */
	bool posix;
	bool sending;
	int id;                    /* System V queue id */
	mqd_t mqd;                 /* POSIX queue descriptor */
	size_t msgmax;             /* the largest message this side handles */
	long sysmax, qbytes;       /* System V: kernel.msgmax, msg_qbytes */
	struct it_mq_buf *buf;     /* the message in hand */
};

/* POSIX attributes of a queue this tool creates; 0 is the system default.
 * For a System V receiver, msgsize is the largest message it takes. */
struct it_mq_attr {
	long maxmsg, msgsize;
};
/* The parser of --maxmsg and --msgsize (1 to INT_MAX), input a struct
 * it_mq_attr, for IT_ARGP_CHILD: each tool words them itself. */
enum { IT_KEY_MAXMSG = 0x7200, IT_KEY_MSGSIZE };
error_t it_mq_attr_parse(int key, char *arg, struct argp_state *state);

enum { IT_MQ_NOWAIT = 1, IT_MQ_EXCEPT = 2, IT_MQ_NOERROR = 4, IT_MQ_PUTBACK = 8 };

/* Opens the queue obj names for oflag (O_WRONLY or O_RDONLY), creating it
 * as c says, or exits with the contract's status and a message naming obj
 * and the limit that bit. --key private prints the new id on stdout; with
 * --rm the queue is removed at exit, even after an error. */
void it_mq_xopen(struct it_mq *q, const struct it_obj *obj,
		 const struct it_create *c, const struct it_mq_attr *attr,
		 int oflag);
/* Sends with a type (System V) or priority (POSIX): 0, or -1 with errno
 * EAGAIN (full, IT_MQ_NOWAIT), ETIMEDOUT, EINTR (a stop signal came, see
 * it_mq_caught), EIDRM (the queue was removed), EMSGSIZE, or the call's. */
int it_mq_send(struct it_mq *q, long type, const void *msg, size_t len,
	       int flags, int64_t deadline);
/* Takes the next message to be delivered off the queue and drops it, to
 * make room (mqsend --full=overwrite; a POSIX queue must be open O_RDWR):
 * 0, or -1 with errno EAGAIN (the queue is empty), EACCES, EIDRM... */
int it_mq_drop_oldest(struct it_mq *q);
/* Receives into q->buf->text: the length, or -1 with errno as it_mq_send,
 * E2BIG for a System V message over q->msgmax. *type selects as msgrcv's
 * msgtyp, and returns the type or priority received. */
ssize_t it_mq_recv(struct it_mq *q, long *type, int flags, int64_t deadline);
/* Sends a message taken from the queue back to it, waiting for room until
 * deadline or a stop signal: 0, or -1 with errno ETIMEDOUT, EINTR (a stop
 * signal came; after one, only a queue with room at once takes it), EIDRM
 * or the call's. */
int it_mq_putback(struct it_mq *q, long type, const void *msg, size_t len,
		  int64_t deadline);
/* Removes a --rm queue at the end of a successful run, or exits with the
 * reason it could not (the removal at exit after an error is silent). */
void it_mq_xremove(void);
/* Cancels --rm: the queue holds messages put back, which removing it would
 * destroy. True if a removal was pending. */
bool it_mq_keep(void);
/* The contract's message and status for an errno of the calls above. */
_Noreturn void it_mq_xfail(const struct it_mq *q, int err);
/* What limits a message's size, and how to raise it, for messages. */
void it_mq_limit(const struct it_mq *q, char *buf, size_t size);
/* The usage errors of creation options that would do nothing: --mode
 * without --create (but for a private key), --maxmsg or --msgsize without
 * it on a POSIX queue. For both tools' ARGP_KEY_END. */
void it_mq_check_create(const struct argp_state *state,
			const struct it_obj *obj, const struct it_create *c,
			const struct it_mq_attr *attr);
/* --stat: the queue's metadata on stdout. */
void it_mq_xstat(const struct it_mq *q, bool json);
/* SIGINT, SIGTERM and SIGHUP end the tool at once (after removing a --rm
 * queue) or, with defer, only where it_mq_caught() is checked: blocking
 * calls then return EINTR, so a received message is never lost. Also sets
 * up it_alarm_init for the System V calls, and ignores SIGPIPE. */
void it_mq_xsignals(bool defer);
int it_mq_caught(void);
/* Makes the tool stop as if sig had been caught: the blocking call under
 * way returns EINTR. Async-signal-safe; for a thread that watches. */
void it_mq_interrupt(int sig);
/* Removes a --rm queue and ends the process by sig's default action. */
_Noreturn void it_mq_exit_signal(int sig);

#endif
