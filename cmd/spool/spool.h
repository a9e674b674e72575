/* spool.h: what the files of spool share, its types and the functions
 * one file calls in another. spool(1) is the tool's description; each
 * file says what it holds. */
#ifndef SPOOL_H
#define SPOOL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipctools.h"

/* maildir: files left in tmp/ this long are a writer's crash debris. */
#define TMP_MAX_AGE (36 * 3600)

#define DEFAULT_MAX_SIZE (64u << 20)

enum cmd { PUT, TAKE, LS, STAT, NCMD };

/* One bit per option, to check in one place which command takes which. */
enum {
	O_CREATE = 1 << 0, O_NOSYNC = 1 << 1, O_PRINT = 1 << 2,
	O_MAXSIZE = 1 << 3, O_COUNT = 1 << 4, O_FOLLOW = 1 << 5,
	O_TIMEOUT = 1 << 6, O_NOWAIT = 1 << 7, O_READY = 1 << 8,
	O_EXEC = 1 << 9, O_TRIES = 1 << 10, O_JSON = 1 << 11, O_ANY = 1 << 12,
	O_WAIT = 1 << 13,
};

struct args {
	enum cmd cmd;
	bool have_cmd;
	const char *dir;
	char **msgs;        /* put: operands, one message each */
	int nmsgs;
	char **exec;        /* take --exec: CMD and its arguments */
	unsigned used;
	enum it_framing framing;
	uint64_t max_size;
	long count, tries;
	int64_t timeout;    /* -w, or put's --wait=DURATION */
	int ready_fd;
	struct it_wait wait;        /* -w, --nowait, --ready-fd as given */
	bool wait_bound;    /* --wait=DURATION set timeout */
};

struct spool {
	const char *path;   /* as the user typed it, for messages */
	char base[PATH_MAX];        /* the same without slashes at its end */
	bool any_owner;
	int dfd, tmp, new, cur;
	int claim, failed;  /* opened when first needed, else -1 */
	long put;           /* put: messages in new/ so far */
	bool keep;          /* put --wait: keep each message open, as kept */
	int kept;
	mode_t umask;       /* the user's, for CMD: ours is 0 */
};

/* The parts of a maildir name that order messages: the time, then the
 * putter's process and its own count (sec.MusecPpidQcount.host, as both
 * we and python's mailbox write them). A name that does not begin with a
 * time ("DIGITS." or DIGITS alone), one made by hand, orders by its file's
 * mtime where the list knows the directory, not before every other. Ties
 * order by name. */
struct entry {
	long long sec;
	long usec, pid;
	unsigned long q;
	char *name;
};

struct list {
	struct entry *v;
	size_t n, cap, pos;
	int at;     /* the directory + 1, for the mtime of hand-made names */
};

/* The messages put and not yet done with, each by the read-only descriptor
 * keep_open gave it: the descriptor follows the file through every rename
 * a taker makes (into claim/, back to new/, into failed/), and its link
 * count falls to 0 once the file is removed, which is what delivered
 * means. One inotify watch on each file tells of both, so put never polls.
 * At most WAIT_WINDOW are held at once: past that, put waits for the
 * oldest before it puts more. */
#define WAIT_WINDOW 256

enum fate { PENDING, REMOVED, FAILED };

struct waiter {
	int ifd, n;
	int fd[WAIT_WINDOW], wd[WAIT_WINDOW];
	long seq[WAIT_WINDOW];      /* the message's number in this put */
	long failed;
	int64_t deadline;
	sigset_t stops, old;
	struct it_reader *r;        /* stdin, given back when put ends short */
};

struct taker {
	const struct args *a;
	struct spool *s;
	struct list list;
	struct list busy;   /* names in new/ another process had locked */
	struct list warned; /* names in new/ skipped with a warning, once */
	bool progress;      /* a message was claimed since the last refill */
	int ifd, wd_claim, wd_dir;
	bool pipe, file, rescan;
	enum it_framing framing;
	sigset_t stops, oldmask;
	char *buf;
	size_t bufcap;
	bool cmd_failed;
};

/* dir.c */
void open_spool(struct spool *s, const char *path, bool create,
		bool any_owner);
int failed_dir(struct spool *s, bool create);
int claim_dir(struct spool *s, bool create);
bool name_ok(const char *n);
int move(int from, const char *name, int to, const char *newname);
int move_unique(int from, const char *name, int to, const char *want);
void list_add(struct list *l, const char *name);
void list_clear(struct list *l);
void list_sort(struct list *l);
void each_name(const struct spool *s, int fd, const char *sub,
	       void (*fn)(struct spool *, const char *, void *), void *arg);
void add_name(struct spool *s, const char *name, void *l);

/* stop.c */
extern volatile sig_atomic_t caught;
void on_stop(int sig);
int stopped(void);
_Noreturn void end_by(int sig);
int poll_stop(const sigset_t *stops, const sigset_t *old,
	      struct pollfd *p, nfds_t n, int64_t deadline);
void setup_signals(struct taker *t);

/* put.c */
int put(const struct args *a, struct spool *s);

/* putwait.c */
void wait_init(struct waiter *w, const struct spool *s, int64_t timeout);
void wait_add(struct waiter *w, struct spool *s, long seq);
_Noreturn void wait_short(const struct waiter *w, const struct spool *s,
			  int sig);
bool wait_until(struct waiter *w, struct spool *s, int keep);

/* take.c */
void put_back(const struct taker *t, const char *name,
	      const char *newname);
void recover_one(struct spool *s, const char *name, void *arg);
void recover(struct spool *s);
int sync_out(const struct taker *t);
int take(const struct args *a, struct spool *s);

/* exec.c */
void run_cmd(struct taker *t, int fd, const char *name);

/* watch.c */
bool lock_held(const struct stat *st);
void refill(struct taker *t);
bool wait_event(struct taker *t, int64_t deadline);
void setup_watch(struct taker *t);
void watch_late(struct taker *t);

/* list.c */
int ls_stat(const struct args *a, struct spool *s);

#endif
