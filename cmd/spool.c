/* spool: a drop directory in the maildir layout. put writes each message in
 * tmp/ and renames it into new/, so a reader never sees part of one; take
 * claims the oldest by renaming it into claim/ under a lock, and removes it
 * only once it was delivered, so each message is taken exactly once. cur/
 * is left to mail readers, whose seen mail it holds. */
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
	int64_t timeout;
	int ready_fd;
	bool wait_bound;    /* --wait=DURATION set timeout */
};

enum { OPT_NOSYNC = 256, OPT_PRINT, OPT_MAXSIZE, OPT_FOLLOW, OPT_NOWAIT,
       OPT_READY, OPT_EXEC, OPT_TRIES, OPT_JSON, OPT_ANY, OPT_WAIT };

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
	{"timeout", 'w', "DURATION", 0, "take: exit 1 if no message comes in "
	 "this time (with --follow: once idle this long); put --wait: if the "
	 "messages are not all taken in this time", 0},
	{"nowait", OPT_NOWAIT, NULL, 0, "take: never wait; with --follow, take "
	 "all there is and exit", 0},
	{"ready-fd", OPT_READY, "FD", 0, "take: write a newline to FD once "
	 "messages put from then on will be seen", 0},
	{"exec", OPT_EXEC, NULL, 0, "take: the rest of the line is CMD [ARG...], "
	 "run once per message with it on stdin", 0},
	{"tries", OPT_TRIES, "N", 0, "take: after N failed runs of CMD (default "
	 "3) a message goes to DIR/failed", 0},
	{"json", OPT_JSON, NULL, 0, "ls, stat: print JSON", 0},
	{"any-owner", OPT_ANY, NULL, 0, "accept a DIR that another user owns",
	 0},
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
	case 'w': return O_TIMEOUT;
	case OPT_NOWAIT: return O_NOWAIT;
	case OPT_READY: return O_READY;
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
	it_cmd_check(state, &cmds[a->cmd], a->used, opt_names,
		     sizeof opt_names / sizeof opt_names[0]);
	if (!a->dir)
		argp_error(state, "%s needs a DIR", name);
	if (a->cmd != PUT && a->nmsgs > 0)
		argp_error(state, "unexpected operand '%s'",
			   it_quote(a->msgs[0], (char[48]){0}, 48));
	if (a->used & O_COUNT && a->used & O_FOLLOW)
		argp_error(state, "cannot use --count with --follow");
	if (a->used & O_NOWAIT && a->used & O_TIMEOUT)
		argp_error(state, "cannot use --timeout with --nowait");
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
		argp_error(state, "cannot use %s with %s", a->framing ==
			   IT_FRAME_NUL ? "--null" : a->framing == IT_FRAME_WHOLE ?
			   "--whole" : "--netstring", name);
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
		state->child_inputs[0] = &a->framing;
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
	case 'w':
		if (a->wait_bound)
			argp_error(state, "cannot use --timeout with --wait=DURATION");
		it_argp_duration(state, arg, &a->timeout);
		break;
	case OPT_WAIT:
		if (arg && a->used & O_TIMEOUT)
			argp_error(state, "cannot use --timeout with --wait=DURATION");
		if (arg) {
			it_argp_duration(state, arg, &a->timeout);
			a->wait_bound = true;
		}
		break;
	case OPT_READY:
		it_argp_fd(state, arg, &a->ready_fd);
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
		argp_error(state, "missing command: put, take, ls or stat");
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

/* ---- the directory ---- */

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

static const char *const subdirs[] = {"tmp", "new", "cur"};

/* Opens name under at (AT_FDCWD for DIR itself) as a directory that is no
 * symlink and, without --any-owner, is ours and not open to anyone's
 * renames; label names it in messages. */
static int open_dir(const struct spool *s, int at, const char *name,
		    const char *label, bool create)
{
	struct stat st, fst;
	/* A full disk is the contract's I/O error, as for put. */
	if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		it_xfail_status(errno == ENOSPC || errno == EDQUOT ? IT_IOERR :
				it_exit_for(errno), errno, "create", label, NULL);
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		it_xfail(errno, "open", label,
			 errno == ENOENT && !create ? "use --create" : NULL);
	if (S_ISLNK(st.st_mode))
		it_die(IT_NOPERM, "unable to open %s: a symlink, refused", label);
	if (!S_ISDIR(st.st_mode))
		it_die(IT_DATAERR, "unable to open %s: not a directory", label);
	if (!s->any_owner && st.st_uid != geteuid())
		it_die(IT_NOPERM, "unable to open %s: owned by uid %ld, not by us "
		       "(use --any-owner)", label, (long)st.st_uid);
	/* Without the sticky bit, anyone may rename or replace what is in
	 * it: new/ moved away and another made, messages swapped. */
	if (!s->any_owner && st.st_mode & S_IWOTH && !(st.st_mode & S_ISVTX))
		it_die(IT_NOPERM, "unable to open %s: anyone may write to it and "
		       "it is not sticky (chmod o-w or +t, or use --any-owner)",
		       label);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	if (fd < 0)
		it_xfail(errno, "open", label, NULL);
	if (fstat(fd, &fst) < 0)
		it_xfail(errno, "open", label, NULL);
	if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
		it_die(IT_DATAERR, "unable to open %s: replaced while being "
		       "opened", label);
	return fd;
}

static int claim_dir(struct spool *s, bool create);

static void open_spool(struct spool *s, const char *path, bool create,
		       bool any_owner)
{
	char label[PATH_MAX + 16];
	int *fds[] = {&s->tmp, &s->new, &s->cur};
	s->path = path;
	s->any_owner = any_owner;
	s->claim = s->failed = -1;
	/* "link/" names the directory a symlink points to, whatever
	 * AT_SYMLINK_NOFOLLOW says: the slashes at the end go, so that the
	 * last component itself is looked at. */
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= sizeof s->base)
		it_xfail(ENAMETOOLONG, "open", path, NULL);
	memcpy(s->base, path, n);
	s->base[n] = '\0';
	s->dfd = open_dir(s, AT_FDCWD, s->base, path, create);
	for (int i = 0; i < 3; i++) {
		snprintf(label, sizeof label, "%s/%s", s->base, subdirs[i]);
		*fds[i] = open_dir(s, s->dfd, subdirs[i], label, create);
	}
	/* take's claim/ too, so that a spool that fills its disk can still
	 * be drained. */
	if (create)
		claim_dir(s, true);
}

/* DIR/NAME (claim or failed), spool's own: made on first use without
 * --create, as mail tools that made the maildir know nothing of them; -1
 * if it is not there and !create. */
static int own_dir(struct spool *s, int *fd, const char *name, bool create)
{
	char label[PATH_MAX + 16];
	struct stat st;
	if (*fd >= 0)
		return *fd;
	if (!create && fstatat(s->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT)
		return -1;
	snprintf(label, sizeof label, "%s/%s", s->base, name);
	bool made = create && mkdirat(s->dfd, name, 0700) == 0;
	/* Made by root helping out (--any-owner), it is DIR's owner's, who
	 * would be locked out of his own spool otherwise. */
	struct stat dir;
	if (made && geteuid() == 0 && fstat(s->dfd, &dir) == 0 &&
	    dir.st_uid != 0 && fchownat(s->dfd, name, dir.st_uid, dir.st_gid,
					AT_SYMLINK_NOFOLLOW) < 0)
		it_warn("unable to give %s to uid %ld: %s", label,
			(long)dir.st_uid, strerror(errno));
	*fd = open_dir(s, s->dfd, name, label, create);
	return *fd;
}

static int failed_dir(struct spool *s, bool create)
{
	return own_dir(s, &s->failed, "failed", create);
}

static int claim_dir(struct spool *s, bool create)
{
	return own_dir(s, &s->claim, "claim", create);
}

/* A name read from the directory is used only as one path component
 * relative to a directory descriptor, and only if it is a plain name. */
static bool name_ok(const char *n)
{
	return n[0] != '.' && n[0] && !strchr(n, '/') && strlen(n) <= NAME_MAX;
}

/* Renames without ever replacing a file already there. */
static int move(int from, const char *name, int to, const char *newname)
{
	if (renameat2(from, name, to, newname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: link(2) never replaces. */
	if (linkat(from, name, to, newname, 0) < 0)
		return -1;
	return unlinkat(from, name, 0);
}

/* Moves name to want in the directory to, or, if a file of that name is
 * there (a message of the same name dropped in meanwhile, one that failed
 * before), to a variant of it, "BASE~N" before its info part: a name
 * taken never blocks a message. */
static int move_unique(int from, const char *name, int to, const char *want)
{
	char alt[NAME_MAX + 32];
	if (move(from, name, to, want) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	const char *info = strchr(want, ':');
	int n = (int)(info ? (size_t)(info - want) : strlen(want));
	if (n > NAME_MAX - 24)
		n = NAME_MAX - 24;
	for (int i = 1; i < 10000; i++) {
		snprintf(alt, sizeof alt, "%.*s~%d%.16s", n, want, i,
			 info ? info : "");
		if (move(from, name, to, alt) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* ---- names and their order ---- */

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

static long field(const char *s, char tag)
{
	const char *p = strchr(s, tag);
	return p && p[1] >= '0' && p[1] <= '9' ? strtol(p + 1, NULL, 10) : 0;
}

static void entry_init(struct entry *e, char *name, int at)
{
	char *end;
	struct stat st;
	e->name = name;
	e->sec = strtoll(name, &end, 10);
	if (name[0] < '0' || name[0] > '9' || (*end && *end != '.')) {
		bool known = at >= 0 && fstatat(at, name, &st,
						AT_SYMLINK_NOFOLLOW) == 0;
		e->sec = known ? (long long)st.st_mtim.tv_sec : 0;
		e->usec = known ? st.st_mtim.tv_nsec / 1000 : 0;
		e->pid = 0;
		e->q = 0;
		return;
	}
	const char *unique = *end == '.' ? end + 1 : end;
	const char *dot = strchr(unique, '.');
	char part[64] = "";
	size_t n = dot ? (size_t)(dot - unique) : 0;
	if (n < sizeof part)
		memcpy(part, unique, n), part[n] = '\0';
	e->usec = part[0] == 'M' ? field(part, 'M') : 0;
	e->pid = field(part, 'P');
	e->q = (unsigned long)field(part, 'Q');
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->usec != b->usec)
		return a->usec < b->usec ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->q != b->q)
		return a->q < b->q ? -1 : 1;
	return strcmp(a->name, b->name);
}

struct list {
	struct entry *v;
	size_t n, cap, pos;
	int at;     /* the directory + 1, for the mtime of hand-made names */
};

static void list_add(struct list *l, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			it_xfail(errno, "list", "messages", NULL);
	}
	char *copy = strdup(name);
	if (copy)
		entry_init(&l->v[l->n++], copy, l->at - 1);
	else
		it_xfail(errno, "list", "messages", NULL);
}

static void list_clear(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	l->n = l->pos = 0;
}

/* Sorts oldest first and drops names seen twice (a scan and an event). */
static void list_sort(struct list *l)
{
	size_t k = 0;
	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof *l->v, entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1].name, l->v[i].name) == 0)
			free(l->v[i].name);
		else
			l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* Calls fn for each plain name in the directory fd. */
static void each_name(const struct spool *s, int fd, const char *sub,
		      void (*fn)(struct spool *, const char *, void *), void *arg)
{
	char label[PATH_MAX + 16];
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup < 0 ? NULL : fdopendir(dup);
	struct dirent *de;
	snprintf(label, sizeof label, "%s/%s", s->path, sub);
	if (!d)
		it_xfail(errno, "read", label, NULL);
	rewinddir(d);
	for (;;) {
		errno = 0;
		if (!(de = readdir(d)))
			break;
		if (name_ok(de->d_name))
			fn((struct spool *)s, de->d_name, arg);
	}
	if (errno)
		it_xfail(errno, "read", label, NULL);
	closedir(d);
}

static void add_name(struct spool *s, const char *name, void *l)
{
	(void)s;
	list_add(l, name);
}

/* ---- stop signals ---- */

/* SIGINT, SIGTERM or SIGHUP, once caught: acted on between messages, so
 * that the message in hand is finished or put back first. */
static volatile sig_atomic_t caught;

static void on_stop(int sig)
{
	if (!caught)
		caught = sig;
}

static int stopped(void)
{
	return caught;
}

/* SIGCONT: a process stopped (SIGSTOP, ^Z) while it waited is continued
 * with a wait whose time left was counted when it stopped, as if no time
 * had passed meanwhile; -w would be overrun by the time spent stopped. The
 * handler makes that wait end (poll(2) is never restarted after one), and
 * the time left is counted again from the deadline. */
static void on_cont(int sig)
{
	(void)sig;
}

/* Ends as by sig, with the pipe on stdout given its own size back first:
 * the atexit handler that would do it does not run then. */
static _Noreturn void end_by(int sig)
{
	it_drain_restore();
	it_exit_signal(sig);
}

/* poll(2) that a stop signal interrupts, whenever it came: the signals are
 * blocked from the check of the flag until ppoll unblocks them. */
static int poll_stop(const sigset_t *stops, const sigset_t *old,
		     struct pollfd *p, nfds_t n, int64_t deadline)
{
	sigprocmask(SIG_BLOCK, stops, NULL);
	int rc = -1;
	errno = EINTR;
	if (!caught) {
		int64_t left = it_left_ns(deadline);
		struct timespec ts = it_ns_to_ts(left);
		rc = ppoll(p, n, left == IT_FOREVER ? NULL : &ts, old);
	}
	int err = errno;
	sigprocmask(SIG_SETMASK, old, NULL);
	errno = err;
	return rc;
}

/* ---- put --wait ---- */

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

static void wait_init(struct waiter *w, const struct spool *s, int64_t timeout)
{
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0)
		it_xfail(errno, "watch", s->path, NULL);
	w->n = 0;
	w->failed = 0;
	w->r = NULL;
	w->deadline = it_deadline(timeout);
	sigemptyset(&w->stops);
	sigaddset(&w->stops, SIGINT);
	sigaddset(&w->stops, SIGTERM);
	sigaddset(&w->stops, SIGHUP);
}

/* Where the file of fd is now; name gets its name there. A file that is
 * in DIR/failed by that name, the same inode, went there. */
static enum fate fate_of(struct spool *s, int fd, char *name, size_t size)
{
	struct stat st, there;
	char proc[64], path[PATH_MAX];
	if (fstat(fd, &st) < 0)
		it_xfail(errno, "watch a message in", s->path, NULL);
	if (st.st_nlink == 0)
		return REMOVED;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t len = readlink(proc, path, sizeof path - 1);
	if (len <= 0)
		return PENDING;
	path[len] = '\0';
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	n = n < size ? n : size - 1;
	memcpy(name, base, n);
	name[n] = '\0';
	int failed = failed_dir(s, false);
	return failed >= 0 && fstatat(failed, base, &there,
				      AT_SYMLINK_NOFOLLOW) == 0 &&
	       there.st_ino == st.st_ino && there.st_dev == st.st_dev ?
	       FAILED : PENDING;
}

/* Watches the message just put (s->kept), the put's number seq. */
static void wait_add(struct waiter *w, struct spool *s, long seq)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", s->kept);
	int wd = inotify_add_watch(w->ifd, proc, IN_ATTRIB | IN_MOVE_SELF);
	if (wd < 0)
		it_xfail(errno, "watch a message in", s->path, NULL);
	w->fd[w->n] = s->kept;
	w->wd[w->n] = wd;
	w->seq[w->n++] = seq;
	s->kept = -1;
}

/* Drops the messages done with, saying which went to failed/. */
static void wait_sweep(struct waiter *w, struct spool *s)
{
	char name[NAME_MAX + 1] = "", q[3 * NAME_MAX + 8];
	int j = 0;
	for (int i = 0; i < w->n; i++) {
		enum fate f = fate_of(s, w->fd[i], name, sizeof name);
		if (f == PENDING) {
			w->fd[j] = w->fd[i];
			w->wd[j] = w->wd[i];
			w->seq[j++] = w->seq[i];
			continue;
		}
		if (f == FAILED) {
			w->failed++;
			it_warn("message %ld went to %s/failed as %s: its taker "
				"failed on it", w->seq[i], s->base,
				it_quote(name, q, sizeof q));
			inotify_rm_watch(w->ifd, w->wd[i]);
		}
		close(w->fd[i]);
	}
	w->n = j;
}

/* The end of a put --wait that did not see every message done: how many
 * are still in the spool, and why. */
static _Noreturn void wait_short(const struct waiter *w, const struct spool *s,
				 int sig)
{
	char why[32] = "timed out";
	if (w->r)
		it_reader_giveback(w->r);
	if (sig)
		snprintf(why, sizeof why, "stopped by SIG%s", it_sig_name(sig));
	it_warn("unable to wait on %s: %s with %d of %ld message%s put not "
		"taken yet; they stay in the spool", s->path, why, w->n, s->put,
		s->put == 1 ? "" : "s");
	it_reported();
	if (sig)
		it_exit_signal(sig);
	exit(IT_NO);
}

/* Waits until at most keep messages are pending, or the deadline (false).
 * SIGINT, SIGTERM and SIGHUP end put, saying what is left. */
static bool wait_until(struct waiter *w, struct spool *s, int keep)
{
	struct sigaction sa = {.sa_handler = on_stop}, old[3];
	const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	char events[4096];
	sigemptyset(&sa.sa_mask);
	sigprocmask(SIG_SETMASK, NULL, &w->old);
	for (int i = 0; i < 3; i++) {
		sigdelset(&w->old, sigs[i]);
		if (sigaction(sigs[i], NULL, &old[i]) == 0 &&
		    old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	bool in_time = true;
	for (;;) {
		wait_sweep(w, s);
		if (w->n <= keep)
			break;
		struct pollfd p = {w->ifd, POLLIN, 0};
		int rc = poll_stop(&w->stops, &w->old, &p, 1, w->deadline);
		if (rc < 0 && errno == EINTR && caught)
			wait_short(w, s, caught);
		if (rc < 0 && errno != EINTR)
			it_xfail(errno, "wait on", s->path, NULL);
		if (rc == 0) {
			wait_sweep(w, s);
			in_time = w->n <= keep;
			break;
		}
		while (read(w->ifd, events, sizeof events) > 0)
			continue;
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return in_time;
}

/* ---- put ---- */

/* A maildir-unique name: time.MusecPpidQcount.host, the host's / and :
 * written \057 and \072 as maildir asks. Each name of a process is later
 * than the one before it, even if the clock stands still or steps back, so
 * that a putter's messages are taken in its order. */
static void new_name(char *buf, size_t size)
{
	static char host[112];
	static long long last_sec;
	static long last_usec;
	static unsigned long count;
	static long pid;
	struct timespec ts;
	if (!pid)
		pid = (long)getpid();
	if (!host[0]) {
		char raw[HOST_NAME_MAX + 1] = "localhost";
		gethostname(raw, sizeof raw - 1);
		size_t j = 0;
		for (const char *p = raw; *p && j < sizeof host - 5; p++) {
			if (*p == '/' || *p == ':')
				j += (size_t)sprintf(host + j, "\\%03o", *p);
			else
				host[j++] = *p;
		}
		host[j] = '\0';
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	long long sec = ts.tv_sec;
	long usec = ts.tv_nsec / 1000;
	if (sec < last_sec || (sec == last_sec && usec <= last_usec)) {
		sec = last_sec;
		usec = last_usec + 1;
		if (usec == 1000000)
			sec++, usec = 0;
	}
	last_sec = sec;
	last_usec = usec;
	if (snprintf(buf, size, "%lld.M%06ldP%ldQ%lu.%s", sec, usec,
		     pid, ++count, host) >= (int)size)
		buf[size - 1] = '\0';
}

/* Write errors that mean "no room" are the contract's I/O error. */
static _Noreturn void put_fail(const struct spool *s, int err)
{
	int status = err == ENOSPC || err == EDQUOT || err == EIO ||
		     err == EFBIG ? IT_IOERR : it_exit_for(err);
	char what[PATH_MAX + 16], hint[64];
	snprintf(what, sizeof what, "a message in %s", s->path);
	snprintf(hint, sizeof hint, "%ld put before it", s->put);
	it_xfail_status(status, err, "put", what, s->put ? hint : NULL);
}

/* Writes and syncs one message in fd: 0, or -1 with errno. */
static int write_sync(int fd, const char *msg, size_t len, bool sync)
{
	int rc = it_write_full(fd, msg, len);
	if (rc == 0 && sync)
		rc = fsync(fd);
	return rc;
}

/* put --wait: a read-only descriptor of tmp/NAME, opened before the file
 * is in new/ where a taker could remove it. A reader does not keep a take
 * from it (only a writer does, see being_written). */
static int keep_open(struct spool *s, const char *name)
{
	if (!s->keep)
		return 0;
	s->kept = openat(s->tmp, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			 O_CLOEXEC);
	return s->kept < 0 ? -1 : 0;
}

/* Renames tmp/NAME into new/, never replacing a file there: if someone
 * else's file has the name in new/, ours goes in under another. The file
 * is closed first: one linked into new/ while we still had it open for
 * writing, a waiting take would leave until its writer closed it, and
 * that close would be told to tmp/, not new/. On failure, tmp/NAME is
 * removed and put fails. */
static void into_new(const struct spool *s, char *name)
{
	int rc;
	while ((rc = move(s->tmp, name, s->new, name)) < 0 && errno == EEXIST) {
		char other[NAME_MAX + 1];
		new_name(other, sizeof other);
		if (renameat(s->tmp, name, s->tmp, other) < 0)
			break;
		memcpy(name, other, NAME_MAX + 1);
	}
	if (rc < 0) {
		int err = errno;
		unlinkat(s->tmp, name, 0);
		put_fail(s, err);
	}
}

/* One message, written and synced in an unnamed file in tmp/ (O_TMPFILE),
 * then linked into tmp/ under a fresh name (link(2) never replaces), closed
 * and renamed into new/, then new/ synced. It is never visible before it
 * is whole, and a crash while writing leaves nothing behind. Returns false
 * where the file system has no O_TMPFILE. */
static bool put_tmpfile(struct spool *s, const struct args *a,
			const char *msg, size_t len, char *name, size_t size)
{
	static bool unsupported, no_empty_path;
	char proc[64];
	bool sync = !(a->used & O_NOSYNC);
	if (unsupported)
		return false;
	int fd = openat(s->tmp, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		unsupported = true;
		return false;
	}
	if (fd < 0 || write_sync(fd, msg, len, sync) < 0)
		put_fail(s, errno);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int rc;
	do {
		new_name(name, size);
		rc = -1;
		/* The file itself by its descriptor, where the kernel lets us
		 * (Linux 6.10 on, or CAP_DAC_READ_SEARCH): no walk through
		 * /proc, a sixth of a put on tmpfs. Else by /proc from then on. */
		if (!no_empty_path &&
		    (rc = linkat(fd, "", s->tmp, name, AT_EMPTY_PATH)) < 0 &&
		    (errno == ENOENT || errno == EPERM || errno == EINVAL))
			no_empty_path = true;
		if (no_empty_path)
			rc = linkat(AT_FDCWD, proc, s->tmp, name, AT_SYMLINK_FOLLOW);
	} while (rc < 0 && errno == EEXIST);
	int err = rc < 0 ? errno : 0;
	if (err == ENOENT && access("/proc/self/fd", F_OK) < 0) {
		/* No /proc to link the file by: the rename way, then. */
		close(fd);
		unsupported = true;
		return false;
	}
	if (!err && keep_open(s, name) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (err) {
		if (rc == 0)
			unlinkat(s->tmp, name, 0);
		put_fail(s, err);
	}
	into_new(s, name);
	return true;
}

/* Between the link into tmp/ and the rename into new/, a whole message
 * has a name in tmp/: a stop signal waits until it is in new/, so that
 * none is left behind there. */
static bool put_tmpfile_whole(struct spool *s, const struct args *a,
			      const char *msg, size_t len, char *name,
			      size_t size)
{
	sigset_t stops, old;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &old);
	bool done = put_tmpfile(s, a, msg, len, name, size);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return done;
}

/* The same the maildir way: a named file in tmp/, renamed into new/. On
 * any failure the file in tmp/ is removed, so nothing is left half-visible. */
static void put_rename(struct spool *s, const struct args *a,
		       const char *msg, size_t len, char *name, size_t size)
{
	int fd;
	do {
		new_name(name, size);
		fd = openat(s->tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0)
		put_fail(s, errno);
	int rc = write_sync(fd, msg, len, !(a->used & O_NOSYNC));
	int err = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, err = errno;
	if (rc == 0 && keep_open(s, name) < 0)
		rc = -1, err = errno;
	if (rc < 0) {
		unlinkat(s->tmp, name, 0);
		put_fail(s, err);
	}
	into_new(s, name);
}

/* Each name is printed as soon as its message is in new/, so that a
 * caller learns what was put even if put then fails. */
static void put_one(struct spool *s, const struct args *a, const char *msg,
		    size_t len)
{
	char name[NAME_MAX + 1], hint[64];
	if (!put_tmpfile_whole(s, a, msg, len, name, sizeof name))
		put_rename(s, a, msg, len, name, sizeof name);
	if (!(a->used & O_NOSYNC) && fsync(s->new) < 0)
		put_fail(s, errno);
	s->put++;
	if (a->used & O_PRINT && (printf("%s\n", name) < 0 || fflush(stdout))) {
		int err = errno;
		snprintf(hint, sizeof hint, "%ld message%s put", s->put,
			 s->put == 1 ? "" : "s");
		/* A reader gone is the end as by SIGPIPE, as for any filter,
		 * once the count is said. */
		if (err == EPIPE) {
			it_warn("unable to write standard output: %s (%s)",
				strerror(err), hint);
			it_reported();
			it_exit_signal(SIGPIPE);
		}
		it_xfail_status(IT_IOERR, err, "write", "standard output", hint);
	}
}

static _Noreturn void too_large(const struct spool *s, const char *verb,
				uint64_t max)
{
	it_die(IT_DATAERR, "unable to %s %s: a message is longer than "
	       "--max-size (%llu bytes)", verb, s->path, (unsigned long long)max);
}

/* put_one, and with --wait the message watched; with WAIT_WINDOW of them
 * pending, the oldest is waited for first. */
static void put_waiting(struct spool *s, const struct args *a,
			struct waiter *w, const char *msg, size_t len)
{
	put_one(s, a, msg, len);
	if (!w)
		return;
	wait_add(w, s, s->put);
	if (w->n == WAIT_WINDOW && !wait_until(w, s, WAIT_WINDOW - 1))
		wait_short(w, s, 0);
}

/* put --wait's end: every message taken and removed is 0, any that went
 * to failed/ is 65 once all are done. */
static int put_end(struct waiter *w, struct spool *s)
{
	if (!w)
		return IT_OK;
	if (!wait_until(w, s, 0))
		wait_short(w, s, 0);
	if (w->failed)
		it_die(IT_DATAERR, "unable to deliver to %s: %ld of %ld message%s "
		       "went to %s/failed", s->path, w->failed, s->put,
		       s->put == 1 ? "" : "s", s->base);
	return IT_OK;
}

static int put(const struct args *a, struct spool *s)
{
	if (a->used & O_PRINT)
		signal(SIGPIPE, SIG_IGN);
	/* Operands are all checked before any is put. Under --lines (the
	 * default) a newline would make a message that no take of the same
	 * framing delivers: give --whole or --netstring to put one. */
	for (int i = 0; i < a->nmsgs; i++) {
		if (strlen(a->msgs[i]) > a->max_size)
			too_large(s, "put in", a->max_size);
		if (a->framing == IT_FRAME_LINE && strchr(a->msgs[i], '\n'))
			it_die(IT_DATAERR, "unable to put in %s: message %d holds a "
			       "newline, which lines cannot frame: nothing put (use "
			       "--whole or --netstring)", s->path, i + 1);
	}
	static struct waiter wait;
	struct waiter *w = NULL;
	if (a->used & O_WAIT) {
		w = &wait;
		wait_init(w, s, a->timeout);
		s->keep = true;
	}
	for (int i = 0; i < a->nmsgs; i++)
		put_waiting(s, a, w, a->msgs[i], strlen(a->msgs[i]));
	if (a->nmsgs > 0)
		return put_end(w, s);
	struct it_reader r;
	const char *msg;
	size_t len;
	int rc;
	it_reader_init(&r, STDIN_FILENO, a->framing);
	if (w)
		w->r = &r;
	while ((rc = it_read_msg(&r, a->max_size, &msg, &len)) > 0)
		put_waiting(s, a, w, msg, len);
	if (rc < 0) {
		int err = errno;
		it_reader_giveback(&r);
		if (err == EMSGSIZE)
			too_large(s, "put in", a->max_size);
		if (err == EBADMSG)
			it_die(IT_DATAERR, "unable to read standard input: a badly "
			       "framed message (%s)", a->framing ==
			       IT_FRAME_NETSTRING ? "not a netstring" : "truncated");
		it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
	}
	it_reader_free(&r);
	if (w)
		w->r = NULL;
	return put_end(w, s);
}

/* ---- take ---- */

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

/* Returns a claimed message to new/, under its name or newname. */
static void put_back(const struct taker *t, const char *name,
		     const char *newname)
{
	if (move_unique(t->s->claim, name, t->s->new,
			newname ? newname : name) == 0)
		return;
	/* CMD may have moved or removed its SPOOL_FILE: nothing to return. */
	if (errno == ENOENT)
		it_warn("%s/claim/%s went away before it could go back to new/",
			t->s->path, name);
	else
		it_die(IT_OSERR, "unable to put %s/claim/%s back in new/: %s",
		       t->s->path, name, strerror(errno));
}

static bool warned(const struct taker *t, const char *name)
{
	for (size_t i = 0; i < t->warned.n; i++)
		if (strcmp(t->warned.v[i].name, name) == 0)
			return true;
	return false;
}

/* Says once per name, however often it is met, that new/NAME is no
 * message this taker takes, and why. Returns -2, claim's "skipped". */
static int skip(struct taker *t, const char *name, const char *why)
{
	if (warned(t, name))
		return -2;
	list_add(&t->warned, name);
	char q[NAME_MAX * 4 + 1];
	it_warn("skipping %s/new/%s: %s", t->s->path, it_quote(name, q, sizeof q),
		why);
	return -2;
}

/* Whether a process has the file open for writing: a cp(1) into new/
 * still under way, whose file must not be taken at its first bytes. A
 * read lease cannot be had then (EAGAIN); taken, it makes a writer who
 * opens the file now wait until it is released. Where no lease can be
 * taken at all (another user's file, a file system without leases), this
 * cannot tell, and says no. */
static bool being_written(int fd)
{
	return fcntl(fd, F_SETLEASE, F_RDLCK) < 0 && errno == EAGAIN;
}

/* Why a file in new/ that was opened is no message to take: NULL if it is
 * one, else the reason, in buf. */
static const char *unfit(const struct taker *t, const struct stat *st,
			 char *buf, size_t size)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (t->a->exec || (uint64_t)st->st_size <= t->a->max_size)
		return NULL;
	snprintf(buf, size, "%lld bytes, longer than --max-size (%llu bytes)",
		 (long long)st->st_size, (unsigned long long)t->a->max_size);
	return buf;
}

/* Claims new/name: a lock on the file first, then the rename into claim/.
 * Whoever holds the lock owns the message; a taker that dies lets go of
 * it, and recover() finds it in claim/ with no lock. The descriptor, or
 * -1 if another taker was first or a writer has it open (its close is an
 * event), -2 if it is no message for us (warned once). */
static int claim(struct taker *t, const char *name, struct stat *st)
{
	char why[96];
	/* A name warned about is not opened again: one whose content
	 * cannot be framed goes back to new/, and would come round again. */
	if (warned(t, name))
		return -2;
	int fd = openat(t->s->new, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -1;
		/* Another's write lease (a file server's): its close says
		 * when it lets go. */
		if (errno == EWOULDBLOCK && t->ifd >= 0)
			list_add(&t->busy, name);
		if (errno == EWOULDBLOCK)
			return -1;
		if (errno == ELOOP)
			return skip(t, name, "a symlink");
		if (errno == ENXIO || errno == ENODEV)
			return skip(t, name, "not a regular file");
		if (errno == EACCES || errno == EPERM)
			return skip(t, name, strerror(errno));
		it_xfail(errno, "take", t->s->path, NULL);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		/* Another taker is on it: it either takes it into claim/,
		 * or puts it back and lets go, and its close says when. */
		if (errno == EWOULDBLOCK && t->ifd >= 0)
			list_add(&t->busy, name);
		close(fd);
		return -1;
	}
	if (fstat(fd, st) < 0)
		it_xfail(errno, "take", t->s->path, NULL);
	const char *bad = unfit(t, st, why, sizeof why);
	int rc = bad ? skip(t, name, bad) : being_written(fd) ? -1 : 0;
	/* A file that cannot be renamed (immutable, a mount point, a name
	 * still held in claim/ by another message's claim) blocks nobody. */
	if (rc == 0 && move(t->s->new, name, t->s->claim, name) < 0)
		rc = errno == ENOENT ? -1 : skip(t, name, errno == EEXIST ?
			"a message of the same name is being taken" :
			strerror(errno));
	fcntl(fd, F_SETLEASE, F_UNLCK);
	if (rc < 0)
		close(fd);
	return rc < 0 ? rc : fd;
}

static void recover_one(struct spool *s, const char *name, void *arg)
{
	struct stat st, now;
	(void)arg;
	int fd = openat(s->claim, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    fstatat(s->claim, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == now.st_ino && st.st_dev == now.st_dev &&
	    S_ISREG(st.st_mode) && move_unique(s->claim, name, s->new, name) < 0 &&
	    errno != ENOENT)
		it_warn("unable to return %s/claim/%s to new/: %s", s->path, name,
			strerror(errno));
	close(fd);
}

/* Messages in claim/ that no taker holds a lock on were claimed by one
 * that died: back to new/ with them, at once. */
static void recover(struct spool *s)
{
	each_name(s, s->claim, "claim", recover_one, NULL);
}

/* A leftover in tmp/ is a crashed writer's debris once nothing changed it
 * for 36 hours by its ctime (which a rename or a link sets, where cp -p,
 * mv, tar x and rsync -t keep an old mtime) and no process has it open: a
 * write lease can be had only then, and while we hold it nobody opens it. */
static void clean_tmp_one(struct spool *s, const char *name, void *now)
{
	struct stat st;
	if (fstatat(s->tmp, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_ctime >= *(time_t *)now - TMP_MAX_AGE)
		return;
	int fd = openat(s->tmp, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat fst, again;
	if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0 && fstat(fd, &fst) == 0 &&
	    fstatat(s->tmp, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fst.st_ino == again.st_ino && fst.st_dev == again.st_dev &&
	    fst.st_ctime < *(time_t *)now - TMP_MAX_AGE)
		unlinkat(s->tmp, name, 0);
	fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
}

static void clean_tmp(struct spool *s)
{
	time_t now = time(NULL);
	each_name(s, s->tmp, "tmp", clean_tmp_one, &now);
}

/* Reads the whole message, in as many reads as it takes (one read(2)
 * returns at most 2 GiB less a page on Linux), at an offset of
 * IT_FRAME_OVERHEAD, where it is framed in place. A file that ends early
 * goes back: its size was taken at the claim, and a shorter read is
 * someone's truncate, not the message. */
static size_t read_message(struct taker *t, int fd, const char *name,
			   size_t size)
{
	char what[PATH_MAX + NAME_MAX + 8];
	if (size + IT_FRAME_OVERHEAD > t->bufcap) {
		free(t->buf);
		t->bufcap = size + IT_FRAME_OVERHEAD > 4096 ?
			    size + IT_FRAME_OVERHEAD : 4096;
		t->buf = malloc(t->bufcap);
		if (!t->buf) {
			put_back(t, name, NULL);
			it_xfail(errno, "read", name, NULL);
		}
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, t->buf + IT_FRAME_OVERHEAD + got,
				  size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			snprintf(what, sizeof what, "%s/claim/%s", t->s->path, name);
			put_back(t, name, NULL);
			it_xfail_status(IT_IOERR, err, "read", what, n == 0 ?
					"it was cut while being taken" : NULL);
		}
		got += (size_t)n;
	}
	return got;
}

/* Cuts the done bytes of a message that goes back off the end of standard
 * output, where that is a regular file whose end is still ours, so that it
 * holds whole messages only; else says what stays there. */
static void cut_back(const struct taker *t, size_t done)
{
	struct stat st;
	off_t at = t->file ? lseek(STDOUT_FILENO, 0, SEEK_CUR) : -1;
	if (done == 0)
		return;
	if (at < (off_t)done || fstat(STDOUT_FILENO, &st) < 0 ||
	    st.st_size != at || ftruncate(STDOUT_FILENO, at - (off_t)done) < 0)
		it_warn("the first %zu bytes of a message that goes back to new/ "
			"stay in standard output", done);
}

/* Whether a message holds the byte that ends it in lines or with -0
 * before its last byte: framed, it would come out as several, and a
 * reader such as head(1) would take its first part and leave the rest
 * lost. It goes back to new/ with a warning instead, and blocks nobody.
 * One that ends in that byte (a file of one line) is that one record:
 * *len loses the byte, which the framing puts back. */
static bool unframable(struct taker *t, int fd, const char *name, size_t *len)
{
	char delim = t->framing == IT_FRAME_LINE ? '\n' : '\0';
	const char *msg = t->buf + IT_FRAME_OVERHEAD;
	if (t->framing != IT_FRAME_LINE && t->framing != IT_FRAME_NUL)
		return false;
	const char *at = memchr(msg, delim, *len);
	if (at && at == msg + *len - 1)
		--*len;
	if (!at || at == msg + *len)
		return false;
	put_back(t, name, NULL);
	close(fd);
	skip(t, name, t->framing == IT_FRAME_LINE ? "holds a newline, which "
	     "lines cannot frame (take it with --whole, --netstring or --exec)"
	     : "holds a NUL byte, which -0 cannot frame (take it with --whole, "
	     "--netstring or --exec)");
	return true;
}

/* Syncs standard output where it is a regular file, so that what was
 * delivered into it is on disk before the message is removed: a crash
 * then loses neither. 0, or -1 with errno. */
static int sync_out(const struct taker *t)
{
	if (!t->file || t->a->used & O_NOSYNC)
		return 0;
	return fsync(STDOUT_FILENO);
}

/* Writes a claimed message framed to stdout and removes it once stdout
 * took it (synced, into a regular file): true, or false if it cannot be
 * framed and went back. One
 * stdout did not take whole goes back to new/ (what was written of it
 * cut off a regular file) and the tool ends: as by SIGPIPE if the reader
 * went away (as any filter), by the stop signal that ended the write,
 * else with exit 74. */
static bool output(struct taker *t, int fd, const char *name, size_t size)
{
	size_t text, len = read_message(t, fd, name, size);
	if (unframable(t, fd, name, &len))
		return false;
	size_t n = it_frame_msg(t->buf, t->framing, NULL, 0,
				t->buf + IT_FRAME_OVERHEAD, len, &text);
	size_t done = it_write_some(STDOUT_FILENO, t->buf, n, stopped);
	int err = errno;
	/* Into a pipe, delivered once read; a stop signal while a live
	 * reader has not read yet counts it as read, as it will be. */
	bool whole = done == n, unsynced = false;
	if (whole && t->pipe && it_drain(stopped) != 0)
		whole = false, err = EPIPE;
	if (whole && sync_out(t) < 0)
		whole = false, unsynced = true, err = errno;
	int sig = caught;
	if (!whole) {
		if (done < n || unsynced)
			cut_back(t, done);
		put_back(t, name, NULL);
		if (!unsynced && (err == EPIPE || sig))
			end_by(sig ? sig : SIGPIPE);
		it_xfail_status(IT_IOERR, err, unsynced ? "sync" : "write",
				"standard output", unsynced ? "the message went "
				"back to new/" : NULL);
	}
	if (unlinkat(t->s->claim, name, 0) < 0)
		it_die(IT_OSERR, "unable to remove %s/claim/%s: %s", t->s->path,
		       name, strerror(errno));
	close(fd);
	if (sig)
		end_by(sig);
	return true;
}

/* The attempt count a failed message carries in its maildir info part,
 * "NAME:1,N" (info "1," is maildir's experimental kind). */
static long attempts(const char *name, long tries)
{
	const char *info = strstr(name, ":1,");
	long n;
	/* Anyone who may drop a file may name it: a count that is no plain
	 * number below --tries counts as none. No take with these --tries
	 * wrote it (one that reaches --tries goes to failed/), and a file
	 * named "x:1,999" by hand must not go to failed/ at its first
	 * failure. */
	return info && !it_parse_long(info + 3, 0, tries - 1, &n) ? n : 0;
}

/* NAME without its info part, short enough that ":1,N" fits after it in
 * NAME_MAX bytes. A name cut short ends in a hash of all of it, so that
 * two long names alike up to the cut stay two names. */
static void base_name(const char *name, char *base)
{
	const size_t room = NAME_MAX - 16;
	size_t n = strcspn(name, ":");
	if (n <= room) {
		memcpy(base, name, n);
		base[n] = '\0';
		return;
	}
	uint64_t h = 14695981039346656037u;     /* 64-bit FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211u;
	snprintf(base, NAME_MAX + 1, "%.*s~%016llx", (int)(room - 17), name,
		 (unsigned long long)h);
}

/* CMD failed on a message: back to new/ with one more attempt counted in
 * its name, or to failed/ after --tries attempts or at once on exit 100
 * (fsq's permanent failure), named with the attempts made. */
static void cmd_failed(struct taker *t, const char *name, int status)
{
	/* base leaves room for ":1," and ten digits of a count. */
	char why[32], again[NAME_MAX + 32], base[NAME_MAX + 1];
	const char *cmd = t->a->exec[0];
	int shown = (int)strcspn(name, ":");
	if (WIFEXITED(status))
		snprintf(why, sizeof why, "exit %d", WEXITSTATUS(status));
	else
		snprintf(why, sizeof why, "signal %s", it_sig_name(WTERMSIG(status)));
	long n = attempts(name, t->a->tries) + 1;
	t->cmd_failed = true;
	base_name(name, base);
	snprintf(again, sizeof again, "%s:1,%ld", base, n);
	if (n < t->a->tries && !(WIFEXITED(status) && WEXITSTATUS(status) == 100)) {
		put_back(t, name, again);
		it_warn("%s failed on %.*s (%s): back in new/, attempt %ld of %ld",
			cmd, shown, name, why, n, t->a->tries);
		return;
	}
	if (move_unique(t->s->claim, name, failed_dir(t->s, true), again) < 0)
		it_die(IT_OSERR, "unable to move %s/claim/%s to %s/failed: %s",
		       t->s->path, name, t->s->path, strerror(errno));
	it_warn("%s failed on %.*s (%s): moved to %s/failed, after %ld attempt%s",
		cmd, shown, name, why, t->s->path, n, n == 1 ? "" : "s");
}

/* Whether standard output can take nothing more: closed (it_init left
 * it open read-only), /dev/full, or a file on a full file system. A CMD
 * that failed then failed because of where its output goes, and the
 * message is not at fault. */
static int stdout_broken(void)
{
	struct stat st;
	struct statvfs v;
	int fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return EBADF;
	if (fstat(STDOUT_FILENO, &st) < 0)
		return 0;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 7))
		return ENOSPC;
	if (S_ISREG(st.st_mode) && fstatvfs(STDOUT_FILENO, &v) == 0 &&
	    v.f_bavail == 0)
		return ENOSPC;
	return 0;
}

/* The child: CMD with the claimed descriptor on its stdin. A CMD that
 * cannot be run at all says why through gate, so that the message is not
 * blamed for it. */
static _Noreturn void exec_cmd(const struct taker *t, int fd, int gate,
			       const char *path, const char *name)
{
	int fl = fcntl(fd, F_GETFL);
	lseek(fd, 0, SEEK_SET);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (dup2(fd, STDIN_FILENO) >= 0 && !setenv("SPOOL_FILE", path, 1) &&
	    !setenv("SPOOL_NAME", name, 1) &&
	    !setenv("SPOOL_DIR", t->s->path, 1)) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGIO, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		umask(t->s->umask);
		execvp(t->a->exec[0], t->a->exec);
	}
	int err = errno;
	(void)!write(gate, &err, sizeof err);
	_exit(127);
}

/* Waits for CMD to end. A stop signal that comes meanwhile is passed on
 * to CMD, once, so that the wait ends on it too: a pidfd is polled where
 * the kernel has one, so that a signal just before the wait is not lost. */
static int wait_cmd(const struct taker *t, pid_t pid)
{
	int status, pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool passed = false;
	struct pollfd p = {pfd, POLLIN, 0};
	while (pfd >= 0 && !passed) {
		if (poll_stop(&t->stops, &t->oldmask, &p, 1, IT_FOREVER) >= 0)
			break;
		if (errno != EINTR)
			break;
		if (caught) {
			kill(pid, caught);
			passed = true;
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			it_xfail(errno, "wait for", t->a->exec[0], NULL);
		if (caught && !passed) {
			kill(pid, caught);
			passed = true;
		}
	}
	return status;
}

/* Ends the claim on a message that CMD had, once it is where it goes: a
 * process that CMD left behind with its stdin open holds the same open
 * file, and the lock with it, which would keep the message from every
 * taker for as long as that process lives. flock(2) locks belong to the
 * open file, and any descriptor of it may drop them. A taker that found
 * the message locked in new/ waits for a close there, which that process
 * may never make: one is made here, by a descriptor of our own, when
 * the message went back (wake). */
static void release(int fd, bool wake)
{
	char proc[64];
	flock(fd, LOCK_UN);
	if (!wake)
		return;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int again = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (again >= 0)
		close(again);
}

/* put_back for --exec, then release. */
static void cmd_back(const struct taker *t, int fd, const char *name)
{
	put_back(t, name, NULL);
	release(fd, true);
}

/* --exec: CMD runs with the message on its stdin (the claimed, locked
 * descriptor itself, so the claim outlives us while CMD runs). 0 removes
 * the message, once a pipe on stdout has been read. A CMD that cannot be
 * run, or fails once the reader of our stdout has gone, or whose output
 * that reader left unread, or that fails into a full or closed stdout,
 * failed because of that, not of the message: it goes back as it was and
 * the tool ends (as by SIGPIPE for a reader gone). */
static void run_cmd(struct taker *t, int fd, const char *name)
{
	char path[PATH_MAX + NAME_MAX + 8];
	const char *cmd = t->a->exec[0];
	int gate[2], err = 0, status;
	snprintf(path, sizeof path, "%s/claim/%s", t->s->path, name);
	if (pipe2(gate, O_CLOEXEC) < 0)
		it_xfail(errno, "run", cmd, NULL);
	pid_t pid = fork();
	if (pid < 0)
		it_xfail(errno, "run", cmd, NULL);
	if (pid == 0)
		exec_cmd(t, fd, gate[1], path, name);
	close(gate[1]);
	ssize_t got;
	while ((got = read(gate[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(gate[0]);
	status = wait_cmd(t, pid);
	if (got == (ssize_t)sizeof err) {
		cmd_back(t, fd, name);
		it_xfail(err, "run", cmd, NULL);
	}
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	/* Stopped: CMD was told too, and a CMD that did not finish is not
	 * the message's failure. */
	if (caught && !ok) {
		cmd_back(t, fd, name);
		end_by(caught);
	}
	if (t->pipe && ((ok && it_drain(stopped) > 0) ||
			(!ok && it_drain_gone()))) {
		cmd_back(t, fd, name);
		end_by(SIGPIPE);
	}
	if (!ok && (err = stdout_broken())) {
		cmd_back(t, fd, name);
		it_die(IT_IOERR, "unable to write standard output: %s (%s failed "
		       "on %.*s, which went back to new/)", strerror(err), cmd,
		       (int)strcspn(name, ":"), name);
	}
	if (ok && sync_out(t) < 0) {
		err = errno;
		cmd_back(t, fd, name);
		it_die(IT_IOERR, "unable to sync standard output: %s (what %s "
		       "wrote for %.*s stays in it; the message went back to "
		       "new/)", strerror(err), cmd, (int)strcspn(name, ":"), name);
	}
	if (!ok)
		cmd_failed(t, name, status);
	else if (unlinkat(t->s->claim, name, 0) < 0 && errno != ENOENT)
		it_die(IT_OSERR, "unable to remove %s: %s", path, strerror(errno));
	release(fd, !ok);
	close(fd);
}

/* Whether some process holds a lock on the file st describes, from
 * /proc/locks: asking that way opens no file, where a probe with flock(2)
 * would, and its close would be one more event for every follower. */
static bool lock_held(const struct stat *st)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	bool held = false;
	if (!f)
		return false;
	while (!held && fgets(line, sizeof line, f)) {
		unsigned maj, min;
		unsigned long long ino;
		const char *p = strstr(line, "FLOCK");
		held = p && sscanf(p, "FLOCK %*s %*s %*d %x:%x:%llu", &maj, &min,
				   &ino) == 3 && maj == major(st->st_dev) &&
		       min == minor(st->st_dev) && ino == st->st_ino;
	}
	fclose(f);
	return held;
}

/* A file in claim/ was closed: if that was the last descriptor of a
 * taker that died, the claim is free, and goes back to new/ now. */
static void closed_in_claim(struct taker *t, const char *name)
{
	struct stat st;
	if (fstatat(t->s->claim, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || lock_held(&st))
		return;
	recover_one(t->s, name, NULL);
}

/* A file in new/ that another process had locked was closed: tried again
 * if the lock is gone. The close may be our own try's, and while the lock
 * is held the name waits for the next close, so that a taker sleeps until
 * the holder lets go, and does not spin on its own closes. */
static void closed_in_new(struct taker *t, const char *name)
{
	struct stat st;
	for (size_t i = 0; i < t->busy.n; i++) {
		if (strcmp(t->busy.v[i].name, name) != 0)
			continue;
		if (fstatat(t->s->new, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    lock_held(&st))
			return;
		free(t->busy.v[i].name);
		t->busy.v[i] = t->busy.v[--t->busy.n];
		list_add(&t->list, name);
		return;
	}
}

/* Reads what inotify has: names of files moved in or closed by a writer
 * into the list, an overflow as the need to scan again. Returns false if
 * there was nothing to read. */
static bool read_events(struct taker *t)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(t->ifd, buf, sizeof buf);
	if (n <= 0)
		return false;
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const void *)p;
		if (ev->mask & IN_Q_OVERFLOW)
			t->rescan = true;
		if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
			it_die(IT_NOINPUT, "unable to take from %s: %s was removed "
			       "or moved away", t->s->path, ev->wd == t->wd_claim ?
			       "claim/" : ev->wd == t->wd_dir ? "it" : "new/");
		if (ev->wd == t->wd_dir && ev->len &&
		    (strcmp(ev->name, "new") == 0 || strcmp(ev->name, "claim") == 0))
			it_die(IT_NOINPUT, "unable to take from %s: %s/ was removed "
			       "or moved away", t->s->path, ev->name);
		if (!ev->len || !name_ok(ev->name) || ev->wd == t->wd_dir)
			;
		else if (ev->wd == t->wd_claim)
			closed_in_claim(t, ev->name);
		else if (ev->mask & IN_CLOSE_NOWRITE)
			closed_in_new(t, ev->name);
		else
			list_add(&t->list, ev->name);
		p += sizeof *ev + ev->len;
	}
	return true;
}

/* Refills the list: by a scan of new/ at first, after an overflow and
 * without inotify (--nowait), else from the names inotify gave. */
static void refill(struct taker *t)
{
	list_clear(&t->list);
	if (t->ifd >= 0)
		while (read_events(t))
			;
	if (t->rescan || t->ifd < 0) {
		/* The events read are kept: a scan may come just before a
		 * file it would miss, but never before its event. */
		t->rescan = false;
		recover(t->s);
		each_name(t->s, t->s->new, "new", add_name, &t->list);
	}
	list_sort(&t->list);
}

/* Waits for an event, the deadline or a stop signal; false at the
 * deadline. */
static bool wait_event(struct taker *t, int64_t deadline)
{
	struct pollfd p[2] = {{t->ifd, POLLIN, 0}, {STDOUT_FILENO, 0, 0}};
	for (;;) {
		int n = poll_stop(&t->stops, &t->oldmask, p, t->pipe ? 2 : 1,
				   deadline);
		if (n < 0 && errno == EINTR && caught)
			end_by(caught);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			it_xfail(errno, "wait on", t->s->path, NULL);
		if (n == 0)
			return false;
		if (p[1].revents & POLLERR)
			end_by(SIGPIPE);
		if (p[0].revents & POLLIN)
			return true;
	}
}

static void setup_signals(struct taker *t)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigemptyset(&t->stops);
	sigaddset(&t->stops, SIGINT);
	sigaddset(&t->stops, SIGTERM);
	sigaddset(&t->stops, SIGHUP);
	/* No SA_RESTART: a blocking write to stdout returns EINTR. A signal
	 * ignored when we started (nohup, a background job) stays ignored. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sigismember(&t->stops, sig) == 1 &&
		    sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sig, &sa, NULL);
	}
	/* SA_RESTART: only the waits end, other calls go on as they were. */
	struct sigaction cont = {.sa_handler = on_cont, .sa_flags = SA_RESTART};
	sigemptyset(&cont.sa_mask);
	sigaction(SIGCONT, &cont, NULL);
	sigprocmask(SIG_SETMASK, NULL, &t->oldmask);
	sigdelset(&t->oldmask, SIGINT);
	sigdelset(&t->oldmask, SIGTERM);
	sigdelset(&t->oldmask, SIGHUP);
	sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	/* A vanished reader must show as EPIPE, so that the message in
	 * hand goes back before the tool ends; and a writer that opens a
	 * file while we hold its lease, for a moment, must not kill us with
	 * the SIGIO that tells of it. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
}

/* Watches new/ for messages (linked or moved in, and files closed by
 * their writer or by another taker that held them), and claim/ for claims
 * closed (a taker that dies closes its claim too): the directories checked
 * and opened, through /proc/self/fd, not whatever their paths name now. */
static void setup_watch(struct taker *t)
{
	char proc[64];
	const uint32_t gone = IN_ONLYDIR | IN_DELETE_SELF | IN_MOVE_SELF;
	t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ifd < 0)
		it_xfail(errno, "watch", t->s->path, NULL);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->s->new);
	if (inotify_add_watch(t->ifd, proc, IN_CREATE | IN_MOVED_TO | IN_CLOSE |
			      gone) < 0)
		goto fail;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->s->claim);
	t->wd_claim = inotify_add_watch(t->ifd, proc, IN_CLOSE | gone);
	if (t->wd_claim < 0)
		goto fail;
	/* Removed, new/ and claim/ would tell only once we closed them:
	 * DIR tells at once. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->s->dfd);
	t->wd_dir = inotify_add_watch(t->ifd, proc, IN_ONLYDIR | IN_DELETE |
				      IN_MOVED_FROM);
	if (t->wd_dir >= 0)
		return;
fail:
	it_xfail(errno, "watch", t->s->path,
		 errno == ENOSPC ? "raise fs.inotify.max_user_watches" : NULL);
}

/* take -n without --follow or --ready-fd: the watch is set up only once
 * there is nothing (more) to take, then new/ is scanned again, so that
 * nothing put from then on is missed. A new/ or claim/ removed or moved
 * away before the watch, which would never tell, is the same exit 66 as
 * one the watch sees go. */
static void watch_late(struct taker *t)
{
	const int fds[] = {t->s->new, t->s->claim};
	const char *const names[] = {"new", "claim"};
	setup_watch(t);
	for (int i = 0; i < 2; i++) {
		struct stat here, there;
		if (fstat(fds[i], &here) < 0 ||
		    fstatat(t->s->dfd, names[i], &there, AT_SYMLINK_NOFOLLOW) < 0 ||
		    here.st_dev != there.st_dev || here.st_ino != there.st_ino)
			it_die(IT_NOINPUT, "unable to take from %s: %s/ was removed "
			       "or moved away", t->s->path, names[i]);
	}
	t->rescan = true;
	refill(t);
}

/* Refills an empty list, waiting for messages where it may: false when
 * take should end, as --follow --nowait does once nothing is left. */
static bool next_batch(struct taker *t, int64_t deadline, long got)
{
	const struct args *a = t->a;
	bool follow = a->used & O_FOLLOW, nowait = a->used & O_NOWAIT;
	/* Without inotify, a scan that finds only messages nobody can take
	 * (others' claims, symlinks) is the end. */
	bool stuck = t->ifd < 0 && t->list.n > 0 && !t->progress;
	bool late = t->ifd < 0 && !nowait;
	if (late && stuck) {
		watch_late(t);
	} else {
		refill(t);
		if (late && t->list.n == 0)
			watch_late(t);
	}
	t->progress = false;
	/* -n N that ends short has delivered what it took: say how many, so
	 * that exit 1 is never read as "nothing taken". */
	char part[80] = "";
	if (got > 0)
		snprintf(part, sizeof part, " after %ld of %ld messages, which "
			 "were delivered", got, a->count);
	if ((t->list.n == 0 || stuck) && nowait) {
		if (follow)
			return false;
		it_die(IT_NO, "unable to take from %s: no message (--nowait)%s",
		       t->s->path, part);
	}
	if (t->list.n == 0 && !wait_event(t, deadline)) {
		if (follow && got > 0)
			return false;
		it_die(IT_NO, "unable to take from %s: timed out%s", t->s->path,
		       part);
	}
	return true;
}

static int take(const struct args *a, struct spool *s)
{
	struct taker t = {.a = a, .s = s, .ifd = -1, .rescan = true,
			  .list = {.at = s->new + 1},
			  .framing = a->framing};
	struct stat st;
	bool follow = a->used & O_FOLLOW;
	long got = 0;
	setup_signals(&t);
	claim_dir(s, true);
	/* Into a pipe, each message (or CMD's output) waits until it has been
	 * read; a regular file gets a message that went back cut off. */
	if (fstat(STDOUT_FILENO, &st) == 0) {
		t.pipe = S_ISFIFO(st.st_mode);
		t.file = S_ISREG(st.st_mode);
	}
	/* The watch costs an event per message claimed: it is set up only
	 * once there is something to wait for, unless --follow or --ready-fd
	 * promise to see what is put from the start on. */
	bool lazy = !follow && a->ready_fd < 0;
	if (!(a->used & O_NOWAIT) && !lazy)
		setup_watch(&t);
	clean_tmp(s);
	int ready = a->ready_fd;
	it_xready(&ready);
	/* -w bounds each wait for a message, however many events come that
	 * bring none (another's lock, a file still being written). */
	int64_t deadline = it_deadline(a->timeout);
	while (follow || got < a->count) {
		if (t.list.pos == t.list.n) {
			if (!next_batch(&t, deadline, got))
				break;
			continue;
		}
		const char *name = t.list.v[t.list.pos++].name;
		if (caught)
			end_by(caught);
		if (t.pipe && it_drain_gone())
			end_by(SIGPIPE);
		int fd = claim(&t, name, &st);
		if (fd < 0)
			continue;
		t.progress = true;
		if (a->exec)
			run_cmd(&t, fd, name);
		else if (!output(&t, fd, name, (size_t)st.st_size))
			continue;
		got++;
		deadline = it_deadline(a->timeout);
	}
	if (caught)
		end_by(caught);
	list_clear(&t.list);
	list_clear(&t.busy);
	list_clear(&t.warned);
	free(t.list.v);
	free(t.busy.v);
	free(t.warned.v);
	free(t.buf);
	return t.cmd_failed ? IT_NO : IT_OK;
}

/* ---- ls and stat ---- */

/* A message's age: from the time in its name, else from its mtime. */
static long long age(const struct entry *e, const struct stat *st, time_t now)
{
	long long t = e->sec > 0 && e->sec <= now ? e->sec : st->st_mtime;
	return now > t ? now - t : 0;
}

enum { S_NEW, S_CLAIM, S_CUR, S_FAILED, S_TMP, NSTATE };

struct tally {
	long long count[NSTATE], orphaned, skipped, oldest;
};

/* A name as ls prints it: a backslash as \\, a tab, newline or carriage
 * return as \t, \n, \r, any other control byte as \xNN, so that no name
 * forges a line or a field, and each reads back to one name only (a
 * backslash as it is would make "a\nb" two names' line). buf holds
 * NAME_MAX * 4 + 1 bytes. */
static const char *ls_quote(const char *name, char *buf)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name;
	     *p && o <= NAME_MAX * 4 - 4; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\t' ? "\\t" :
				  *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : NULL;
		if (esc)
			o += (size_t)sprintf(buf + o, "%s", esc);
		else if (*p < 0x20 || *p == 0x7f)
			o += (size_t)sprintf(buf + o, "\\x%02x", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
	return buf;
}

/* One line (or JSON object) of ls, the name escaped by ls_quote; JSON
 * keeps its bytes. */
static void ls_line(bool json, const char *state, const char *name,
		    const struct stat *st, long long old)
{
	struct it_meta m;
	if (!json) {
		char q[NAME_MAX * 4 + 1];
		printf("%s\t%lld\t%lld\t%s\n", state, (long long)st->st_size, old,
		       ls_quote(name, q));
		return;
	}
	it_meta_begin(&m, true);
	it_meta_str(&m, "state", state);
	it_meta_str(&m, "name", name);
	it_meta_int(&m, "size", st->st_size);
	it_meta_int(&m, "age", old);
	it_meta_end(&m);
}

/* Lists or counts the regular files of one state; anything else there
 * (a symlink, a directory, a FIFO) take never takes: it is only counted,
 * as skipped. */
static void ls_state(const struct args *a, struct spool *s, int i, int fd,
		     struct tally *n)
{
	static const char *const states[] = {"new", "claim", "cur", "failed",
					     "tmp"};
	struct list l = {.at = fd + 1};
	time_t now = time(NULL);
	each_name(s, fd, states[i], add_name, &l);
	list_sort(&l);
	for (size_t j = 0; j < l.n; j++) {
		struct stat st;
		if (fstatat(fd, l.v[j].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			n->skipped++;
			continue;
		}
		n->count[i]++;
		long long old = age(&l.v[j], &st, now);
		if (i == S_NEW && old > n->oldest)
			n->oldest = old;
		if (i == S_CLAIM && !lock_held(&st))
			n->orphaned++;
		if (a->cmd == LS && i != S_TMP)
			ls_line(a->used & O_JSON, states[i], l.v[j].name, &st, old);
	}
	list_clear(&l);
	free(l.v);
}

static int ls_stat(const struct args *a, struct spool *s)
{
	int fds[NSTATE] = {s->new, claim_dir(s, false), s->cur,
			   failed_dir(s, false), s->tmp};
	struct tally n = {.oldest = 0};
	for (int i = 0; i < NSTATE; i++)
		if (fds[i] >= 0)
			ls_state(a, s, i, fds[i], &n);
	if (a->cmd == LS)
		return IT_OK;
	struct it_meta m;
	it_meta_begin(&m, a->used & O_JSON);
	it_meta_str(&m, "dir", s->path);
	it_meta_int(&m, "new", n.count[S_NEW]);
	it_meta_int(&m, "in_progress", n.count[S_CLAIM] - n.orphaned);
	it_meta_int(&m, "orphaned", n.orphaned);
	it_meta_int(&m, "failed", n.count[S_FAILED]);
	it_meta_int(&m, "tmp", n.count[S_TMP]);
	it_meta_int(&m, "cur", n.count[S_CUR]);
	it_meta_int(&m, "skipped", n.skipped);
	it_meta_int(&m, "oldest_age", n.oldest);
	it_meta_end(&m);
	return IT_OK;
}

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
