/* shmcat: shared memory segments from the shell (load, dump, stat, rm,
 * set), and a crash-safe byte stream through a ring in one (write, read). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipctools.h"

/* The largest record a writer publishes, or a reader writes out before
 * it marks it delivered, unless one --atomic unit is larger: what a
 * reader killed by SIGKILL can deliver again (shmcat(1), Crash safety).
 * A record is cut only between whole units or lines. */
#define CHUNK (64u << 10)
#define DEFAULT_RING (1u << 20)
/* --nowait: how long standard output may take a batch (ring.c's lock
 * slice, shmcat(1)). */
#define NOWAIT_OUTPUT_NS 100000000LL

enum cmd { LOAD, DUMP, STAT, RM, SET, WRITE, READ, NCMD };

enum {
	O_CREATE = 1 << 0, O_MODE = 1 << 1, O_RM = 1 << 2, O_SIZE = 1 << 3,
	O_OFFSET = 1 << 4, O_LENGTH = 1 << 5, O_JSON = 1 << 6, O_OWNER = 1 << 7,
	O_ATOMIC = 1 << 8, O_LINES = 1 << 9, O_FOLLOW = 1 << 10,
	O_TIMEOUT = 1 << 11, O_NOWAIT = 1 << 12, O_READY = 1 << 13,
	O_PACK = 1 << 14, O_UNPACK = 1 << 15,
};
static const char *const opt_names[] = {
	"create", "mode", "rm", "size", "offset", "length", "json", "owner",
	"atomic", "lines", "follow", "timeout", "nowait", "ready-fd", "pack",
	"unpack",
};

static const struct it_cmd cmds[NCMD] = {
	[LOAD] = {"load", O_CREATE | O_MODE | O_SIZE | O_OFFSET | O_PACK},
	[DUMP] = {"dump", O_OFFSET | O_LENGTH | O_RM | O_UNPACK},
	[STAT] = {"stat", O_JSON},
	[RM] = {"rm", 0},
	[SET] = {"set", O_MODE | O_OWNER},
	[WRITE] = {"write", O_CREATE | O_MODE | O_SIZE | O_ATOMIC | O_LINES |
		   O_TIMEOUT | O_NOWAIT | O_READY},
	[READ] = {"read", O_CREATE | O_MODE | O_SIZE | O_FOLLOW | O_TIMEOUT |
		  O_NOWAIT | O_READY | O_RM},
};

struct args {
	struct it_obj obj;
	struct it_create create;
	enum cmd cmd;
	unsigned used;
	uint64_t size, offset, length, atomic;
	uid_t uid;
	gid_t gid;
	bool uid_given, gid_given;
	int64_t timeout;
	int ready_fd;
	struct it_pack pack;    /* --pack or --unpack FORMAT */
};

enum { OPT_JSON = 0x3000, OPT_OWNER, OPT_LINES, OPT_NOWAIT, OPT_READY,
       OPT_PACK, OPT_UNPACK };

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
	{"follow", 'F', NULL, 0, "read: wait for new writers instead of ending "
	 "when the last one has left", 0},
	{"timeout", 'w', "DURATION", 0, "write, read: wait at most this long for "
	 "room or data (250ms, 1.5s, 2m)", 0},
	{"nowait", OPT_NOWAIT, NULL, 0, "write, read: exit 1 rather than wait for "
	 "room or data", 0},
	{"ready-fd", OPT_READY, "FD", 0, "write, read: write a newline to FD once "
	 "attached to the ring", 0},
	{0},
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
	case 'w': return O_TIMEOUT;
	case OPT_NOWAIT: return O_NOWAIT;
	case OPT_READY: return O_READY;
	case OPT_PACK: return O_PACK;
	case OPT_UNPACK: return O_UNPACK;
	default: return 0;
	}
}

/* A user or group by name or number, as chown(1) takes them; the
 * number (uid_t)-1 means "unchanged" to the kernel and is refused. */
static unsigned parse_id(struct argp_state *state, char *arg, bool group)
{
	struct passwd *pw = group ? NULL : getpwnam(arg);
	struct group *gr = group ? getgrnam(arg) : NULL;
	unsigned long v;
	char q[48];
	if (pw)
		return pw->pw_uid;
	if (gr)
		return gr->gr_gid;
	if (!it_parse_ulong(arg, UINT_MAX - 1, &v))
		return (unsigned)v;
	if (arg[strspn(arg, "0123456789")] == '\0')
		argp_error(state, "invalid %s '%s': at most %u", group ? "group" :
			   "owner", it_quote(arg, q, sizeof q), UINT_MAX - 1);
	argp_error(state, "invalid %s '%s': no such %s", group ? "group" :
		   "owner", it_quote(arg, q, sizeof q), group ? "group" : "user");
	return 0;
}

/* UID[:GID], :GID or UID: as chown(1): an empty part leaves that id. */
static void parse_owner(struct args *a, struct argp_state *state, char *arg)
{
	char *colon = strchr(arg, ':');
	if (colon)
		*colon = '\0';
	a->uid_given = *arg != '\0';
	if (a->uid_given)
		a->uid = parse_id(state, arg, false);
	a->gid_given = colon && (colon[1] || a->uid_given);
	if (colon && colon[1]) {
		a->gid = parse_id(state, colon + 1, true);
	} else if (a->gid_given) {
		/* UID: with nothing after the colon: the user's login group,
		 * as chown(1) takes it. */
		struct passwd *pw = getpwuid(a->uid);
		if (pw)
			a->gid = pw->pw_gid;
		else
			argp_error(state, "invalid owner '%s:': no such user, so no "
				   "login group", it_quote(arg, (char[48]){0}, 48));
	}
	if (!a->uid_given && !a->gid_given)
		argp_error(state, "invalid owner '': give a user, a group or both");
}

/* Which operands and options go together, checked once all are parsed. */
static void check_args(struct args *a, struct argp_state *state)
{
	/* The creation child parses -c, -x, -m and --rm itself. */
	a->used |= (a->create.create ? O_CREATE : 0) |
		   (a->create.mode_given ? O_MODE : 0) | (a->create.rm ? O_RM : 0);
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
	if (a->cmd == SET && !(a->used & (O_MODE | O_OWNER)))
		argp_error(state, "set needs --mode or --owner");
	if (a->used & O_NOWAIT && a->used & O_TIMEOUT)
		argp_error(state, "--nowait and --timeout: choose one");
	if (a->used & O_SIZE && a->size == 0)
		argp_error(state, "invalid size '0': a segment holds at least a byte");
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	a->used |= opt_bit(key);
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->obj;
		state->child_inputs[1] = &a->create;
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
		parse_owner(a, state, arg);
		break;
	case 'w':
		it_argp_duration(state, arg, &a->timeout);
		break;
	case OPT_READY:
		it_argp_fd(state, arg, &a->ready_fd);
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
		argp_error(state, "missing command: load, dump, stat, rm, set, "
			   "write or read");
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
	{0}
};

static const struct argp argp = {
	options, parse_opt,
	"load [-cx] [-m MODE] [-s SIZE] [-o OFFSET] [--pack FORMAT] OBJECT\n"
	"dump [-o OFFSET] [-l LENGTH] [--unpack FORMAT] [--rm] OBJECT\n"
	"stat [--json] OBJECT\n"
	"rm OBJECT\n"
	"set [-m MODE] [--owner UID[:GID]] OBJECT\n"
	"write [-cx] [-m MODE] [-s SIZE] [-a BYTES] [--lines] [-w DUR | --nowait] "
	"[--ready-fd FD] OBJECT\n"
	"read [-cxF] [-m MODE] [-s SIZE] [-w DUR | --nowait] [--ready-fd FD] [--rm] "
	"OBJECT",
	"Move data into and out of System V and POSIX shared memory, and "
	"stream through a ring in a segment.\v"
	"OBJECT is -k KEY, -f PATH [-j PROJ], -i ID or -N /NAME. Sizes take k, "
	"M, G or T (either case, powers of 1024). Exit status: 0 success, 1 "
	"timed out or would wait, 64 usage, 65 input longer than the segment, "
	"offset past its end, not a ring or a corrupt ring, 66 no such segment, "
	"69 all slots taken or the ring's lock held for over 2 s, 71 system "
	"error, 73 exists (--excl), 74 I/O error, 77 permission denied.",
	children, NULL, NULL,
};

/* ---- segments ---- */

struct seg {
	const struct it_obj *obj;
	const char *label;
	bool posix, created;
	bool can_create;        /* the command takes --create, for messages */
	int id, fd;
	unsigned char *base;    /* System V: attached; POSIX: see map_all */
	size_t size;
	struct shmid_ds ds;     /* System V: as found when opened */
};

static _Noreturn void missing(const struct seg *s)
{
	it_die(IT_NOINPUT, "no shared memory %s %s%s", s->posix ? "object" :
	       "segment for", s->label, s->can_create &&
	       s->obj->kind != IT_OBJ_ID ? " (use --create)" : "");
}

/* --create on a segment that exists and belongs to another user: one
 * planted under the name by someone else would get our data (CONTRACT.md,
 * secure defaults). To share another user's segment, name it without
 * --create. */
static void check_owner(const struct seg *s, const struct it_create *c,
			uid_t owner, uid_t creator)
{
	uid_t me = geteuid();
	if (!c->create || s->created || owner == me || creator == me)
		return;
	it_die(IT_NOPERM, "unable to use %s: it exists and belongs to uid %u; "
	       "name it without --create to use it", s->label, (unsigned)owner);
}

static void open_posix(struct seg *s, const struct it_create *c, bool rw,
		       size_t create_size)
{
	/* O_NONBLOCK: a FIFO planted in /dev/shm must not hang the open. */
	int flags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	s->fd = c->excl ? -1 : shm_open(s->label, flags, 0);
	if ((c->excl || (s->fd < 0 && errno == ENOENT)) && c->create) {
		s->fd = shm_open(s->label, flags | O_CREAT | O_EXCL, c->mode);
		if (s->fd >= 0) {
			s->created = true;
		} else if (errno == EEXIST && !c->excl) {
			s->fd = shm_open(s->label, flags, 0);
		}
	}
	if (s->fd < 0) {
		int err = errno;
		struct stat st;
		char path[300];
		if (err == ENOENT)
			missing(s);
		/* O_NOFOLLOW fails on a symlink (ELOOP), and shm_open turns
		 * a directory's EISDIR into EINVAL: say what is there. */
		snprintf(path, sizeof path, "/dev/shm%s", s->label);
		if ((err == ELOOP || err == EINVAL) && lstat(path, &st) == 0 &&
		    !S_ISREG(st.st_mode))
			it_die(IT_DATAERR, "unable to use %s: not a shared memory "
			       "object (%s)", s->label, S_ISLNK(st.st_mode) ?
			       "a symbolic link" : S_ISDIR(st.st_mode) ?
			       "a directory" : "not a regular file");
		it_xfail(err, s->created || c->excl ? "create" : "open",
			 s->label, NULL);
	}
	/* shm_open(3) applies the umask: the mode is set on the descriptor,
	 * so the object gets exactly the mode asked for. */
	if (s->created && (fchmod(s->fd, c->mode) < 0 ||
			   (create_size && ftruncate(s->fd, (off_t)create_size) < 0)))
		it_xfail(errno, "create", s->label, NULL);
	struct stat st;
	if (fstat(s->fd, &st) < 0)
		it_xfail(errno, "open", s->label, NULL);
	if (!S_ISREG(st.st_mode))
		it_die(IT_DATAERR, "unable to use %s: not a shared memory object "
		       "(%s)", s->label, S_ISDIR(st.st_mode) ? "a directory" :
		       S_ISFIFO(st.st_mode) ? "a FIFO" : "not a regular file");
	check_owner(s, c, st.st_uid, st.st_uid);
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
	s->size = (size_t)st.st_size;
}

static void attach_sysv(struct seg *s, bool rw)
{
	s->base = shmat(s->id, NULL, rw ? 0 : SHM_RDONLY);
	if (s->base == (void *)-1)
		it_xfail(errno, "attach the segment for", s->label, NULL);
}

static _Noreturn void no_size(const struct seg *s)
{
	struct stat st;
	bool regular = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	it_die(IT_USAGE, "unable to create a segment for %s: give --size (standard "
	       "input is %s)", s->label, regular ? "empty" : "not a regular file");
}

static void open_sysv(struct seg *s, const struct it_create *c, bool rw,
		      size_t create_size, bool attach)
{
	const struct it_obj *obj = s->obj;
	int mode = (int)c->mode;
	struct shmid_ds ds;
	bool need_size = (c->create || obj->private) && !create_size;
	if (need_size && (obj->private || c->excl))
		no_size(s);
	if (obj->kind == IT_OBJ_ID) {
		s->id = obj->id;
	} else if (obj->private) {
		s->id = shmget(IPC_PRIVATE, create_size, IPC_CREAT | mode);
		s->created = true;
	} else if (c->excl) {
		s->id = shmget(obj->key, create_size, IPC_CREAT | IPC_EXCL | mode);
		s->created = true;
	} else {
		/* Open with no size and no access bits first: shmget checks
		 * both against an existing segment. */
		s->id = shmget(obj->key, 0, 0);
		if (s->id < 0 && errno == ENOENT && need_size)
			no_size(s);
		if (s->id < 0 && errno == ENOENT && c->create) {
			s->id = shmget(obj->key, create_size,
				       IPC_CREAT | IPC_EXCL | mode);
			s->created = s->id >= 0;
			if (s->id < 0 && errno == EEXIST)
				s->id = shmget(obj->key, 0, 0);
		}
	}
	if (s->id < 0) {
		int err = errno;
		if (err == ENOENT)
			missing(s);
		it_xfail(err, c->create ? "create a segment for" : "open the "
			 "segment for", s->label,
			 err == EINVAL ? "see sysctl kernel.shmmax" :
			 err == ENOSPC ? "see sysctl kernel.shmmni and shmall" : NULL);
	}
	if (obj->private) {
		char line[32];
		int n = snprintf(line, sizeof line, "%d\n", s->id);
		/* A segment nobody can name would stay for ever: remove it. */
		if (it_write_full(STDOUT_FILENO, line, (size_t)n) < 0) {
			int err = errno;
			shmctl(s->id, IPC_RMID, NULL);
			it_xfail_status(IT_IOERR, err, "write", "standard output",
					"the new segment was removed");
		}
	}
	if (shmctl(s->id, IPC_STAT, &ds) < 0) {
		if (errno == EINVAL || errno == EIDRM)
			missing(s);
		it_xfail(errno, "open the segment for", s->label, NULL);
	}
	check_owner(s, c, ds.shm_perm.uid, ds.shm_perm.cuid);
	s->size = ds.shm_segsz;
	s->ds = ds;
	if (attach)
		attach_sysv(s, rw);
}

/* Opens (or creates, create_size bytes) the segment a names, for reading
 * and writing if rw; a System V segment is attached whole unless stat
 * wants its metadata first. */
static void open_seg_at(struct seg *s, const struct args *a, bool rw,
			size_t create_size, bool attach)
{
	memset(s, 0, sizeof *s);
	s->obj = &a->obj;
	s->label = it_obj_label(&a->obj);
	s->posix = it_obj_is_posix(&a->obj);
	s->fd = -1;
	s->can_create = cmds[a->cmd].opts & O_CREATE;
	if (s->posix)
		open_posix(s, &a->create, rw, create_size);
	else
		open_sysv(s, &a->create, rw, create_size, attach);
}

static void open_seg(struct seg *s, const struct args *a, bool rw,
		     size_t create_size)
{
	open_seg_at(s, a, rw, create_size, true);
}

/* Maps the whole of a POSIX object (a System V one is attached already). */
static void map_all(struct seg *s, bool rw)
{
	if (!s->posix || s->size == 0)
		return;
	s->base = mmap(NULL, s->size, PROT_READ | (rw ? PROT_WRITE : 0),
		       MAP_SHARED, s->fd, 0);
	if (s->base == MAP_FAILED)
		it_xfail(errno, "map", s->label, NULL);
}

static void remove_seg(const struct seg *s)
{
	int rc = s->posix ? shm_unlink(s->label) : shmctl(s->id, IPC_RMID, NULL);
	if (rc < 0 && (errno == ENOENT || (!s->posix && (errno == EINVAL ||
							 errno == EIDRM))))
		missing(s);
	if (rc < 0)
		it_xfail(errno, "remove", s->label, NULL);
}

/* ---- raw segments: load, dump, stat, rm, set ---- */

static _Noreturn void too_long(const struct seg *s)
{
	it_die(IT_DATAERR, "unable to load %s: the input is longer than the "
	       "segment (%zu bytes)", s->label, s->size);
}

static _Noreturn void read_failed(int err)
{
	it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
}

/* read(2) into dst until it is full or the input ends: the bytes read. */
static size_t fill(unsigned char *dst, size_t len)
{
	size_t got = 0;
	while (got < len) {
		size_t ask = len - got > (1u << 30) ? 1u << 30 : len - got;
		ssize_t n = read(STDIN_FILENO, dst + got, ask);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			read_failed(errno);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Faults in the pages of a System V segment in one call rather than one
 * by one as they are touched (kernels before 5.14 just touch them). */
static void populate(void *base, size_t len, bool write)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)base & ~(uintptr_t)(page - 1);
	madvise((void *)start, len + ((uintptr_t)base - start),
		write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

/* One step of copying standard input into the object at *pos, by the
 * cheapest call the two descriptors allow: bytes copied, 0 at the end of
 * the input, -1 with errno (EINVAL and the like: try the next way). */
static ssize_t copy_in(int way, int fd, off_t *pos, unsigned char *buf)
{
	if (way == 0)
		return copy_file_range(STDIN_FILENO, NULL, fd, pos, 1u << 30, 0);
	if (way == 1)
		return splice(STDIN_FILENO, NULL, fd, pos, 1u << 20, SPLICE_F_MOVE);
	ssize_t n = read(STDIN_FILENO, buf, 1u << 20);
	if (n <= 0)
		return n < 0 && errno != EINTR ? (read_failed(errno), -1) : n;
	for (ssize_t done = 0; done < n;) {
		ssize_t m = pwrite(fd, buf + done, (size_t)(n - done), *pos);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			/* Bytes read and not written go back to a seekable input. */
			lseek(STDIN_FILENO, done - n, SEEK_CUR);
			return done ? done : -1;
		}
		done += m;
		*pos += m;
	}
	return n;
}

/* A POSIX object is a tmpfs file: its descriptor takes the data as any
 * file would, growing only as far as the data reach, never through a
 * window mapped ahead. */
static void load_posix(struct seg *s, uint64_t off)
{
	struct stat st;
	bool regular = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	int way = regular ? 0 : S_ISFIFO(st.st_mode) ? 1 : 2;
	off_t pos = (off_t)off;
	/* Static: the error exits below leave it reachable, not leaked. */
	static unsigned char *buf;
	for (;;) {
		if (way == 2 && !buf && !(buf = malloc(1u << 20)))
			it_xfail(errno, "allocate", "a buffer", NULL);
		ssize_t n = copy_in(way, s->fd, &pos, buf);
		if (n == 0)
			break;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		/* Offsets past what a file can hold write nothing. */
		if ((errno == EFBIG || errno == EINVAL) && pos >= INT64_MAX - (1 << 30))
			it_die(IT_DATAERR, "unable to load %s: offset %llu is past "
			       "the largest object", s->label, (unsigned long long)off);
		if (way < 2 && (errno == EINVAL || errno == EXDEV ||
				errno == ENOSYS || errno == EOPNOTSUPP)) {
			way = way == 0 ? 1 + !S_ISFIFO(st.st_mode) : 2;
			continue;
		}
		if (way == 1 && errno != EFBIG && errno != ENOSPC)
			read_failed(errno);
		it_xfail_status(IT_IOERR, errno, "write", s->label, NULL);
	}
	free(buf);
	buf = NULL;
}

/* A segment load created, removed if load fails before it wrote a byte:
 * a failed load -c leaves nothing behind (a half-made object would also
 * make a later write -c take it for a foreign one). A POSIX object that
 * got some of the data stays, ending at the last byte written, as
 * shmcat(1) says. */
static const struct seg *made;

static void unmake(void)
{
	struct stat st;
	if (!made)
		return;
	if (!made->posix)
		shmctl(made->id, IPC_RMID, NULL);
	else if (fstat(made->fd, &st) == 0 && st.st_size == 0)
		shm_unlink(made->label);
}

static int load_records(struct args *a);
static int dump_records(struct args *a);

static int load(struct args *a)
{
	struct stat st;
	struct seg s;
	uint64_t insize = 0;
	bool regular = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	if (a->used & O_PACK)
		return load_records(a);
	if (regular) {
		off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
		insize = (uint64_t)st.st_size - (at > 0 && at <= st.st_size
						 ? (uint64_t)at : 0);
	}
	if (it_obj_is_posix(&a->obj) && a->offset > (uint64_t)INT64_MAX - insize)
		it_die(IT_DATAERR, "unable to load %s: offset %llu is past the "
		       "largest object", it_obj_label(&a->obj),
		       (unsigned long long)a->offset);
	/* A new POSIX object is not sized ahead of the data: it ends where
	 * the data written end, even when the file system fills up. */
	uint64_t create = a->size ? a->size : regular && !it_obj_is_posix(&a->obj)
			  ? a->offset + insize : 0;
	open_seg(&s, a, true, (size_t)create);
	if (s.created) {
		made = &s;
		atexit(unmake);
	}
	/* The object as its own input would chase itself: at an offset, it
	 * grows for as long as the file system lets it. */
	struct stat so;
	if (s.posix && fstat(STDIN_FILENO, &st) == 0 && fstat(s.fd, &so) == 0 &&
	    st.st_dev == so.st_dev && st.st_ino == so.st_ino)
		it_die(IT_DATAERR, "unable to load %s: standard input is the object "
		       "itself", s.label);
	if (s.posix) {
		load_posix(&s, a->offset);
		made = NULL;
		return IT_OK;
	}
	if (a->offset > s.size)
		it_die(IT_DATAERR, "unable to load %s: offset %llu is past the end "
		       "of the segment (%zu bytes)", s.label,
		       (unsigned long long)a->offset, s.size);
	/* A file known to be too long is refused before a byte is written. */
	if (regular && insize > s.size - a->offset)
		too_long(&s);
	size_t room = s.size - (size_t)a->offset;
	if (room)
		populate(s.base + a->offset, regular && insize < room ?
			 (size_t)insize : room, true);
	size_t got = room ? fill(s.base + a->offset, room) : 0;
	unsigned char extra;
	if (got == room && fill(&extra, 1) > 0)
		too_long(&s);
	made = NULL;
	return IT_OK;
}

/* A POSIX object is dumped through its descriptor: copy_file_range or
 * sendfile into a file, read and write into anything else (a pipe must
 * get copies, not references to pages the next writer changes). */
static int dump_posix(const struct seg *s, off_t off, uint64_t len)
{
	struct stat st;
	/* copy_file_range and sendfile refuse an O_APPEND output (>>). */
	bool file = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
		    !(fcntl(STDOUT_FILENO, F_GETFL) & O_APPEND);
	static unsigned char buf[1u << 17];
	while (len > 0) {
		size_t ask = len > (1u << 30) ? 1u << 30 : (size_t)len;
		ssize_t n;
		if (file) {
			n = copy_file_range(s->fd, &off, STDOUT_FILENO, NULL, ask, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP))
				n = sendfile(STDOUT_FILENO, s->fd, &off, ask);
			if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
				file = false;
				continue;
			}
		} else {
			n = pread(s->fd, buf, ask < sizeof buf ? ask : sizeof buf, off);
			if (n > 0 && it_write_full(STDOUT_FILENO, buf, (size_t)n) < 0)
				return -1;
			off += n > 0 ? n : 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			it_die(IT_DATAERR, "unable to dump %s: the segment was cut "
			       "short while in use", s->label);
		len -= (uint64_t)n;
	}
	return 0;
}

static int dump(struct args *a)
{
	struct seg s;
	if (a->used & O_UNPACK)
		return dump_records(a);
	open_seg(&s, a, false, 0);
	uint64_t len = a->used & O_LENGTH ? a->length
		       : a->offset <= s.size ? s.size - a->offset : 0;
	if (a->offset > s.size)
		it_die(IT_DATAERR, "unable to dump %s: offset %llu is past the end "
		       "of the segment (%zu bytes)", s.label,
		       (unsigned long long)a->offset, s.size);
	if (len > s.size - a->offset)
		it_die(IT_DATAERR, "unable to dump %s: offset %llu and length %llu "
		       "go past the end of the segment (%zu bytes)", s.label,
		       (unsigned long long)a->offset, (unsigned long long)len,
		       s.size);
	int rc = 0;
	if (s.posix) {
		rc = dump_posix(&s, (off_t)a->offset, len);
	} else if (len) {
		populate(s.base + a->offset, len, false);
		rc = it_write_full(STDOUT_FILENO, s.base + a->offset, len);
	}
	if (rc < 0)
		it_xfail_status(IT_IOERR, errno, "write", "standard output", NULL);
	if (a->create.rm)
		remove_seg(&s);
	return IT_OK;
}

/* A mapped POSIX object cut short under us (ftruncate by anyone with
 * write access) faults on the next access: that is exit 65, not SIGBUS. */
static char bus_msg[600];
static size_t bus_len;

static void on_bus(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, bus_msg, bus_len);
	_exit(IT_DATAERR);
}

static void catch_bus(const struct seg *s)
{
	struct sigaction sa = {.sa_handler = on_bus};
	char label[400];
	int n = snprintf(bus_msg, sizeof bus_msg, "%s: unable to use %s: the "
			 "segment was cut short while in use\n",
			 program_invocation_short_name,
			 it_quote(s->label, label, sizeof label));
	bus_len = n > 0 && (size_t)n < sizeof bus_msg ? (size_t)n : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- records: load --pack, dump --unpack ----
 * The segment holds an array of records of the format, as C programs
 * share an array of structs; -o and -l count records. */

/* recs made room for cap records of size bytes, or the end. */
static unsigned char *grow(unsigned char *recs, size_t cap, size_t size)
{
	unsigned char *more = cap > SIZE_MAX / size ? NULL
			      : realloc(recs, cap * size);
	if (!more)
		it_xfail(ENOMEM, "allocate", "the records", NULL);
	return more;
}

/* Every line of standard input packed, before the segment is touched: a
 * line that does not fit loads nothing. Returns the records, *n of them. */
static unsigned char *pack_input(const struct args *a, const char *label,
				 size_t *n)
{
	struct it_reader r;
	const char *line;
	size_t len, field, size = a->pack.size, cap = 0;
	unsigned char *recs = NULL;
	char why[256];
	int got;
	*n = 0;
	it_reader_init(&r, STDIN_FILENO, IT_FRAME_LINE);
	while ((got = it_read_msg(&r, it_pack_maxline(&a->pack), &line,
				  &len)) > 0) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			recs = grow(recs, cap, size);
		}
		if (it_pack(&a->pack, line, len, recs + *n * size, &field, why,
			    sizeof why) < 0)
			it_die(IT_DATAERR, "unable to load %s: line %zu, field %zu: "
			       "%s (--pack); nothing loaded", label, *n + 1, field,
			       why);
		++*n;
	}
	if (got < 0 && errno == EMSGSIZE)
		it_die(IT_DATAERR, "unable to load %s: line %zu is longer than any "
		       "record of the format takes (--pack); nothing loaded", label,
		       *n + 1);
	if (got < 0)
		read_failed(errno);
	it_reader_free(&r);
	return recs;
}

/* The byte offset of record a->offset, or exit 65. */
static uint64_t record_offset(const struct args *a, const char *label)
{
	if (a->offset > (uint64_t)INT64_MAX / a->pack.size)
		it_die(IT_DATAERR, "unable to use %s: record %llu is past the "
		       "largest object", label, (unsigned long long)a->offset);
	return a->offset * a->pack.size;
}

static int load_records(struct args *a)
{
	struct seg s;
	size_t n, size = a->pack.size;
	const char *label = it_obj_label(&a->obj);
	unsigned char *recs = pack_input(a, label, &n);
	uint64_t off = record_offset(a, label), total = (uint64_t)n * size;
	if (off > (uint64_t)INT64_MAX - total)
		it_die(IT_DATAERR, "unable to load %s: record %llu is past the "
		       "largest object", label, (unsigned long long)a->offset);
	uint64_t create = a->size ? a->size : it_obj_is_posix(&a->obj) ? 0
			  : off + total;
	open_seg(&s, a, true, (size_t)create);
	if (s.created) {
		made = &s;
		atexit(unmake);
	}
	if (!s.posix && off > s.size)
		it_die(IT_DATAERR, "unable to load %s: record %llu is past the end "
		       "of the segment (%zu bytes, %zu records)", s.label,
		       (unsigned long long)a->offset, s.size, s.size / size);
	if (!s.posix && total > s.size - off)
		it_die(IT_DATAERR, "unable to load %s: %zu records of %zu bytes "
		       "from record %llu do not fit in the segment (%zu bytes); "
		       "nothing loaded", s.label, n, size,
		       (unsigned long long)a->offset, s.size);
	if (!s.posix && total)
		memcpy(s.base + off, recs, total);
	for (size_t done = 0; s.posix && done < total;) {
		ssize_t w = pwrite(s.fd, recs + done, total - done,
				   (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			it_xfail_status(IT_IOERR, errno, "write", s.label, NULL);
		done += (size_t)w;
	}
	made = NULL;
	free(recs);
	return IT_OK;
}

static int dump_records(struct args *a)
{
	struct seg s;
	struct it_writer *w = malloc(sizeof *w);
	size_t size = a->pack.size;
	char *line = malloc(it_unpack_maxline(&a->pack));
	if (!w || !line)
		it_xfail(errno, "allocate", "a buffer", NULL);
	open_seg(&s, a, false, 0);
	uint64_t off = record_offset(a, s.label), have = s.size / size;
	if (a->offset > have)
		it_die(IT_DATAERR, "unable to dump %s: record %llu is past the end "
		       "of the segment (%zu bytes, %llu records)", s.label,
		       (unsigned long long)a->offset, s.size,
		       (unsigned long long)have);
	uint64_t count = a->used & O_LENGTH ? a->length : have - a->offset;
	if (count > have - a->offset)
		it_die(IT_DATAERR, "unable to dump %s: %llu records from record %llu "
		       "go past the end of the segment (%zu bytes, %llu records)",
		       s.label, (unsigned long long)count,
		       (unsigned long long)a->offset, s.size,
		       (unsigned long long)have);
	catch_bus(&s);
	map_all(&s, false);
	it_writer_init(w, STDOUT_FILENO, IT_FRAME_LINE);
	for (uint64_t i = 0; i < count; i++) {
		size_t len = it_unpack(&a->pack, s.base + off + i * size, line);
		if (it_write_msg(w, line, len) < 0)
			it_xfail_status(IT_IOERR, errno, "write", "standard output",
					NULL);
	}
	if (it_writer_flush(w) < 0)
		it_xfail_status(IT_IOERR, errno, "write", "standard output", NULL);
	free(w);
	free(line);
	if (a->create.rm)
		remove_seg(&s);
	return IT_OK;
}

static void meta_mode(struct it_meta *m, mode_t mode)
{
	char buf[8];
	snprintf(buf, sizeof buf, "%04o", (unsigned)mode & 0777);
	it_meta_str(m, "mode", buf);
}

static void meta_ring(struct it_meta *m, const struct seg *s)
{
	struct it_ring_info ri;
	if (!s->base || it_ring_info(s->base, s->size, &ri) < 0)
		return;
	it_meta_int(m, "capacity", (long long)ri.capacity);
	it_meta_int(m, "used", (long long)ri.used);
	it_meta_int(m, "writers", ri.writers);
	it_meta_int(m, "readers", ri.readers);
	it_meta_int(m, "bytes_written", (long long)ri.bytes_in);
	it_meta_int(m, "bytes_read", (long long)ri.bytes_out);
}

static int stat_seg(struct args *a)
{
	struct seg s;
	struct it_meta m;
	bool json = a->used & O_JSON;
	open_seg_at(&s, a, false, 0, false);
	it_meta_begin(&m, json);
	if (s.posix) {
		struct stat st;
		if (fstat(s.fd, &st) < 0)
			it_xfail(errno, "query", s.label, NULL);
		it_meta_str(&m, "name", s.label);
		it_meta_int(&m, "size", (long long)st.st_size);
		meta_mode(&m, st.st_mode);
		it_meta_int(&m, "owner", st.st_uid);
		it_meta_int(&m, "group", st.st_gid);
		it_meta_int(&m, "modified", (long long)st.st_mtime);
		it_meta_int(&m, "changed", (long long)st.st_ctime);
	} else {
		const struct shmid_ds ds = s.ds;
		char key[16];
		snprintf(key, sizeof key, "0x%08x", (unsigned)ds.shm_perm.__key);
		it_meta_str(&m, "key", key);
		it_meta_int(&m, "id", s.id);
		it_meta_int(&m, "size", (long long)ds.shm_segsz);
		meta_mode(&m, ds.shm_perm.mode);
		it_meta_int(&m, "owner", ds.shm_perm.uid);
		it_meta_int(&m, "group", ds.shm_perm.gid);
		it_meta_int(&m, "creator", ds.shm_perm.cuid);
		it_meta_int(&m, "creator_group", ds.shm_perm.cgid);
		it_meta_int(&m, "creator_pid", ds.shm_cpid);
		it_meta_int(&m, "last_pid", ds.shm_lpid);
		it_meta_int(&m, "attached", (long long)ds.shm_nattch);
		it_meta_int(&m, "attach_time", (long long)ds.shm_atime);
		it_meta_int(&m, "detach_time", (long long)ds.shm_dtime);
		it_meta_int(&m, "changed", (long long)ds.shm_ctime);
		it_meta_int(&m, "removed", !!(ds.shm_perm.mode & SHM_DEST));
	}
	/* Only now is the segment attached, to see if it holds a ring, so
	 * that the times and pids above are as they were; one too small for
	 * a ring is not attached at all, and keeps them. A segment we may
	 * not attach is no ring to us. */
	if (s.posix) {
		catch_bus(&s);
		map_all(&s, false);
	} else if (s.size < it_ring_size(4096) ||
		 (s.base = shmat(s.id, NULL, SHM_RDONLY)) == (void *)-1)
		s.base = NULL;
	meta_ring(&m, &s);
	it_meta_end(&m);
	return IT_OK;
}

static int set_seg(struct args *a)
{
	const struct it_obj *obj = &a->obj;
	const char *label = it_obj_label(obj);
	if (it_obj_is_posix(obj)) {
		struct seg s;
		open_seg(&s, a, false, 0);
		if (a->used & O_MODE && fchmod(s.fd, a->create.mode) < 0)
			it_xfail(errno, "change the mode of", label, NULL);
		if (a->used & O_OWNER && fchown(s.fd, a->uid_given ? a->uid :
						(uid_t)-1, a->gid_given ?
						a->gid : (gid_t)-1) < 0)
			it_xfail(errno, "change the owner of", label, NULL);
		return IT_OK;
	}
	struct seg s = {.obj = obj, .label = label};
	struct shmid_ds ds;
	s.id = obj->kind == IT_OBJ_ID ? obj->id : shmget(obj->key, 0, 0);
	if (s.id < 0 && errno == ENOENT)
		missing(&s);
	if (s.id < 0 || shmctl(s.id, IPC_STAT, &ds) < 0) {
		if (errno == EINVAL || errno == EIDRM)
			missing(&s);
		it_xfail(errno, "open the segment for", label, NULL);
	}
	if (a->used & O_MODE)
		ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) | (a->create.mode & 0777);
	if (a->used & O_OWNER) {
		if (a->uid_given)
			ds.shm_perm.uid = a->uid;
		if (a->gid_given)
			ds.shm_perm.gid = a->gid;
	}
	if (shmctl(s.id, IPC_SET, &ds) < 0)
		it_xfail(errno, "change the segment for", label, NULL);
	return IT_OK;
}

static int rm_seg(struct args *a)
{
	struct seg s = {.obj = &a->obj, .label = it_obj_label(&a->obj),
			.posix = it_obj_is_posix(&a->obj)};
	if (!s.posix) {
		s.id = a->obj.kind == IT_OBJ_ID ? a->obj.id : shmget(a->obj.key, 0, 0);
		if (s.id < 0 && errno == ENOENT)
			missing(&s);
		if (s.id < 0)
			it_xfail(errno, "open the segment for", s.label, NULL);
	}
	remove_seg(&s);
	return IT_OK;
}

/* ---- the stream: write and read ---- */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = sig;
}

/* SIGINT, SIGTERM and SIGHUP only set a flag: the chunk in hand is
 * finished, then the tool ends as the signal would end it. Blocking calls
 * see EINTR (no SA_RESTART). */
static void catch_stops(void)
{
	it_catch_stops(on_stop);
	signal(SIGPIPE, SIG_IGN);
}

static _Noreturn void exit_signal(int sig)
{
	it_close_stdout();
	it_exit_signal(sig);
}

static _Noreturn void corrupt(const struct seg *s, const char *why)
{
	it_die(IT_DATAERR, "unable to use %s: %s", s->label, why);
}

/* Whether the segment in hand was removed (IPC_RMID, shm_unlink) since
 * it was opened: a waiting writer or reader then exits 66. */
static bool seg_gone(void *arg)
{
	const struct seg *s = arg;
	struct shmid_ds ds;
	struct stat st;
	if (s->posix)
		return fstat(s->fd, &st) == 0 && st.st_nlink == 0;
	return shmctl(s->id, IPC_STAT, &ds) < 0 ? errno == EINVAL ||
	       errno == EIDRM : (ds.shm_perm.mode & SHM_DEST) != 0;
}

/* Bytes read from standard input and not yet published: what a writer
 * that gives up puts back (seekable input) or says it dropped. */
static size_t held;
static bool held_back;

/* Bytes this writer published into the ring: what a removed ring may
 * have kept from every reader. */
static uint64_t published;

/* Leaves a seekable standard input at the first byte not published; for
 * a pipe, writes into note (for the end of a message) how much is lost. */
static void give_back(char *note, size_t size)
{
	*note = '\0';
	if (!held || held_back)
		return;
	held_back = true;
	if (lseek(STDIN_FILENO, -(off_t)held, SEEK_CUR) >= 0)
		return;
	snprintf(note, size, " (%zu bytes read from standard input were not "
		 "written)", held);
}

static const char *state_name(char st)
{
	return st == 'T' || st == 't' ? "stopped" : "alive";
}

/* The most --atomic a ring of capacity bytes takes: a record of it
 * (16 bytes of header, 16-byte aligned) fills at most half the ring. */
static size_t max_atomic(uint64_t capacity)
{
	return (size_t)((capacity / 2) & ~(uint64_t)15) - 16;
}

/* 4096, or less in a ring too small for it. */
static size_t default_atomic(uint64_t capacity)
{
	return max_atomic(capacity) < 4096 ? max_atomic(capacity) : 4096;
}

static _Noreturn void atomic_too_big(const struct seg *s, uint64_t capacity)
{
	it_die(IT_DATAERR, "unable to write %s: --atomic is more than %zu bytes, "
	       "the most a ring of %llu bytes takes", s->label,
	       max_atomic(capacity), (unsigned long long)capacity);
}

/* A writer's ring removed under it: what it published and no reader
 * took (the ring's unread bytes, at most ours) reaches nobody now. */
static _Noreturn void ring_removed(const struct seg *s, const char *note)
{
	struct it_ring_info ri;
	uint64_t unread = 0;
	if (it_ring_info(s->base, s->size, &ri) == 0 && ri.bytes_in > ri.bytes_out)
		unread = ri.bytes_in - ri.bytes_out;
	if (unread > published)
		unread = published;
	if (!unread)
		it_die(IT_NOINPUT, "unable to write %s: the segment was removed%s",
		       s->label, note);
	it_die(IT_NOINPUT, "unable to write %s: the segment was removed (%llu "
	       "bytes written into it were not read)%s", s->label,
	       (unsigned long long)unread, note);
}

/* The errno of a failed ring call, as the contract's message and status. */
static _Noreturn void ring_fail(struct seg *s, struct it_ring *h, int err,
				bool writer)
{
	const char *verb = writer ? "write" : "read";
	char note[96], who[96] = "";
	give_back(note, sizeof note);
	if (h->holder)
		snprintf(who, sizeof who, " (its lock is held by pid %d, %s)",
			 (int)h->holder, state_name(h->holder_state));
	if (err == EINTR) {
		it_ring_leave(h);
		if (*note)
			it_warn("stopped writing %s:%s", s->label, note);
		exit_signal(stop);
	}
	if (err == EBADMSG)
		it_die(IT_DATAERR, "unable to use %s: corrupt ring%s", s->label,
		       note);
	it_ring_leave(h);
	if (err == EDEADLK)
		it_die(IT_UNAVAILABLE, "unable to %s %s: its lock has been held "
		       "for over 2 s by pid %d (%s)%s", verb, s->label,
		       (int)h->holder, state_name(h->holder_state), note);
	if (err == EMSGSIZE)
		atomic_too_big(s, h->cap);
	if (err == EIDRM && writer)
		ring_removed(s, note);
	if (err == EIDRM)
		it_die(IT_NOINPUT, "unable to %s %s: the segment was removed%s",
		       verb, s->label, note);
	if (err == EAGAIN)
		it_die(IT_NO, "unable to %s %s: the ring is %s%s", verb, s->label,
		       writer ? "full" : "empty", note);
	if (err == ETIMEDOUT && h->holder)
		it_die(IT_NO, "unable to %s %s: not in time%s%s", verb, s->label,
		       who, note);
	it_die(IT_NO, "unable to %s %s: %s in time%s", verb, s->label,
	       writer ? "no room" : "no data", note);
}

/* A segment its creator never set up (killed between making it and
 * writing the ring's header) would be "not an ipctools ring" for ever.
 * With --create, one whose magic is still zero 2 s after it was made, or
 * whose System V creator is gone, is set up again:
 * nobody can be attached to it, since the magic is the header's last
 * word written and attaching needs it. */
static bool unborn(const struct seg *s)
{
	struct shmid_ds ds;
	struct statx sx;
	time_t made;
	if (s->posix) {
		/* Its birth time: every open's fallocate renews the others. */
		if (statx(s->fd, "", AT_EMPTY_PATH, STATX_BTIME | STATX_MTIME, &sx) < 0)
			return false;
		made = sx.stx_mask & STATX_BTIME ? sx.stx_btime.tv_sec
		       : sx.stx_mtime.tv_sec;
	} else {
		if (shmctl(s->id, IPC_STAT, &ds) < 0)
			return false;
		if (ds.shm_cpid > 0 && kill(ds.shm_cpid, 0) < 0 && errno == ESRCH)
			return true;
		made = ds.shm_ctime;
	}
	return time(NULL) - made > 2;
}

/* Sets up again a ring found unborn; of several who find it at once, one
 * does (its magic taken from 0 to 1), the others wait for it. */
static void reborn(struct seg *s)
{
	uint32_t *magic = (uint32_t *)s->base, zero = 0;
	if (s->size < it_ring_size(4096) || __atomic_load_n(magic, __ATOMIC_SEQ_CST))
		return;
	if (__atomic_compare_exchange_n(magic, &zero, 1, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST)) {
		if (it_ring_init(s->base, s->size) < 0)
			it_xfail(errno, "set up a ring in", s->label, NULL);
		return;
	}
	for (int i = 0; i < 100 && __atomic_load_n(magic, __ATOMIC_SEQ_CST) == 1; i++)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
}

static void open_ring(struct seg *s, struct args *a, struct it_ring *h,
		      bool writer)
{
	const char *why;
	uint64_t cap = a->size ? a->size : DEFAULT_RING;
	if (cap < 4096)
		it_die(IT_USAGE, "invalid size '%llu': a ring holds at least 4096 "
		       "bytes", (unsigned long long)cap);
	open_seg(s, a, true, it_ring_size(cap));
	catch_bus(s);
	/* A POSIX object created a moment ago by another shmcat may not
	 * have its size yet: give its creator a moment (at most a second). */
	for (int i = 0; s->posix && !s->created && s->size == 0 && i < 100; i++) {
		struct stat st;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
		if (fstat(s->fd, &st) == 0)
			s->size = (size_t)st.st_size;
	}
	/* Looked at before fallocate, which makes the object look new; one
	 * whose creator died before it gave it a size gets one. */
	bool stale = !s->created && a->create.create && unborn(s);
	if (s->posix && stale && s->size == 0) {
		if (ftruncate(s->fd, (off_t)it_ring_size(cap)) < 0)
			it_xfail(errno, "set up a ring in", s->label, NULL);
		s->size = it_ring_size(cap);
	}
	/* A POSIX ring is a sparse file until its pages are touched: on a
	 * full tmpfs that touch would fault. Its room is had now, or not. */
	if (s->posix && s->size && fallocate(s->fd, 0, 0, (off_t)s->size) < 0 &&
	    errno != EOPNOTSUPP) {
		int err = errno;
		if (s->created)
			remove_seg(s);
		it_xfail(err, "make room for the ring in", s->label, NULL);
	}
	map_all(s, true);
	/* A ring too small for the --atomic asked is refused before anyone
	 * can see it, and nothing is left behind. */
	if (s->created && writer && a->atomic > max_atomic(s->size - IT_RING_HDR)) {
		remove_seg(s);
		atomic_too_big(s, (s->size - IT_RING_HDR) & ~(uint64_t)15);
	}
	if (s->created && it_ring_init(s->base, s->size) < 0)
		it_xfail(errno, "set up a ring in", s->label, NULL);
	if (stale)
		reborn(s);
	if (it_ring_attach(h, s->base, s->size, true, &why) < 0)
		corrupt(s, why);
	h->gone = seg_gone;
	h->gone_arg = s;
	h->stop = &stop;
	if (writer && a->atomic > max_atomic(h->cap))
		atomic_too_big(s, h->cap);
	int64_t deadline = a->used & O_NOWAIT ? it_deadline(0)
			   : it_deadline(a->timeout);
	if (it_ring_join(h, writer, deadline) < 0) {
		if (errno == EUSERS)
			it_die(IT_UNAVAILABLE, "unable to attach to %s: all %s "
			       "slots are taken", s->label,
			       writer ? "writer" : "reader");
		ring_fail(s, h, errno, writer);
	}
}

/* One writer: its input, the units it cuts the stream into, and the
 * partial unit (or line) it holds back until the rest has been read. */
struct writer {
	struct seg *s;
	struct it_ring *h;
	const struct args *a;
	bool lines;
	bool partial_ok;        /* no --lines or --atomic: a stop publishes all */
	bool counted;           /* FIONREAD tells what stdin has ready */
	size_t atomic, carry;
	size_t most;            /* the largest record: CHUNK or one unit */
	char *saved;            /* the carry, at most atomic bytes */
};

/* Waits until standard input has data or has ended, holding no room in
 * the ring, and says how much can be read without waiting (limit when it
 * cannot tell: a regular file or a device never keeps us long). */
static size_t input_ready(const struct writer *w, size_t limit)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	int avail = 0;
	if (!w->counted)
		return limit;
	while (!stop && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	if (stop || ioctl(STDIN_FILENO, FIONREAD, &avail) < 0)
		return 0;
	return (size_t)avail < limit ? (size_t)avail : limit;
}

/* The first bytes of buf that may be published: whole lines, or whole
 * units of --atomic bytes. *bad is set at a line longer than --atomic,
 * which ends what may be published. */
static size_t publishable(const struct writer *w, const char *buf, size_t have,
			  bool *bad)
{
	size_t cut = 0;
	*bad = false;
	if (!w->lines)
		return have - have % w->atomic;
	while (cut < have) {
		const char *nl = memchr(buf + cut, '\n', have - cut);
		size_t end = nl ? (size_t)(nl - buf) + 1 : have;
		if (end - cut > w->atomic) {
			*bad = true;
			break;
		}
		if (!nl)
			break;
		cut = end;
	}
	return cut;
}

static void commit(struct writer *w, size_t len)
{
	if (it_ring_commit(w->h, len) < 0)
		ring_fail(w->s, w->h, errno, true);
	held -= len;
	published += len;
}

static _Noreturn void line_too_long(struct writer *w)
{
	char note[96];
	give_back(note, sizeof note);
	it_ring_leave(w->h);
	it_die(IT_DATAERR, "unable to write %s: a line is longer than --atomic "
	       "(%zu bytes)%s", w->s->label, w->atomic, note);
}

/* A read error: a reservation in hand (reserved) is dropped, and what
 * was read and not published goes back or is reported as lost. */
static _Noreturn void input_error(struct writer *w, int err, bool reserved)
{
	char note[96];
	if (reserved)
		it_ring_commit(w->h, 0);
	give_back(note, sizeof note);
	it_ring_leave(w->h);
	if (*note)
		it_die(IT_IOERR, "unable to read standard input: %s%s",
		       strerror(err), note);
	it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
}

/* Publishes the first len bytes of src through a reservation of just
 * that size. */
static void publish_copy(struct writer *w, const char *src, size_t len)
{
	void *buf;
	size_t room;
	if (it_ring_reserve(w->h, len, len, it_deadline(w->a->timeout),
			    w->a->used & O_NOWAIT, &stop, &buf, &room) < 0)
		ring_fail(w->s, w->h, errno, true);
	memcpy(buf, src, len);
	commit(w, len);
}

/* Keeps the last rest bytes of buf (at most --atomic) as the carry. */
static void keep(struct writer *w, const char *buf, size_t rest)
{
	memmove(w->saved, buf, rest);
	w->carry = rest;
}

/* A partial line of exactly --atomic bytes is whole only if the input
 * ends there: one more byte, newline or not, makes it too long. */
static bool line_at_limit(struct writer *w)
{
	char c;
	ssize_t n = read(STDIN_FILENO, &c, 1);
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0)
		input_error(w, errno, false);
	if (n == 0)
		return false;
	held++;
	line_too_long(w);
}

/* Little input ready: read it into the carry, publish what is whole.
 * Returns false at the end of the input. */
static bool step_small(struct writer *w)
{
	if (w->carry >= w->atomic)
		return line_at_limit(w);
	ssize_t n = read(STDIN_FILENO, w->saved + w->carry, w->atomic - w->carry);
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0)
		input_error(w, errno, false);
	if (n == 0)
		return false;
	w->carry += (size_t)n;
	held += (size_t)n;
	bool bad;
	size_t cut = publishable(w, w->saved, w->carry, &bad);
	if (cut)
		publish_copy(w, w->saved, cut);
	if (bad)
		line_too_long(w);
	keep(w, w->saved + cut, w->carry - cut);
	return true;
}

/* Much input ready: reserve room for it, read it straight into the ring
 * (a read that does not wait), publish what is whole. Returns false at
 * the end of the input, everything in hand published. */
static bool step_big(struct writer *w, size_t avail)
{
	void *p;
	size_t room, want = w->carry + avail;
	if (want > w->most)
		want = w->most;
	if (it_ring_reserve(w->h, w->atomic, want, it_deadline(w->a->timeout),
			    w->a->used & O_NOWAIT, &stop, &p, &room) < 0)
		ring_fail(w->s, w->h, errno, true);
	char *buf = p;
	size_t have = w->carry, ask = room - have < avail ? room - have : avail;
	memcpy(buf, w->saved, have);
	/* read(2) of 0 bytes returns 0, which is not the end of the input:
	 * no room past the carry is nothing read, never an end. (The write
	 * loop sends a carry of --atomic bytes to step_small, so room, at
	 * least --atomic, is always more than the carry here.) */
	ssize_t n = ask ? read(STDIN_FILENO, buf + have, ask) : -1;
	if (n < 0 && ask && errno != EINTR)
		input_error(w, errno, true);
	if (n == 0) {
		commit(w, have);
		w->carry = 0;
		return false;
	}
	have += n > 0 ? (size_t)n : 0;
	held += n > 0 ? (size_t)n : 0;
	bool bad;
	size_t cut = publishable(w, buf, have, &bad);
	if (bad) {
		commit(w, cut);
		line_too_long(w);
	}
	keep(w, buf + cut, have - cut);
	commit(w, cut);
	return true;
}

/* At the end of the input, or stopped by a signal: the carry is
 * published when the stream may end there, else put back or reported. */
static void finish_writer(struct writer *w, bool eof)
{
	char note[96];
	if (w->carry && (eof || w->partial_ok)) {
		publish_copy(w, w->saved, w->carry);
		w->carry = 0;
	}
	give_back(note, sizeof note);
	/* Exit 0 says a reader can have every byte: not from a removed
	 * ring, unless readers took all of it already. */
	if (eof && seg_gone(w->s)) {
		struct it_ring_info ri;
		if (it_ring_info(w->s->base, w->s->size, &ri) < 0 ||
		    ri.bytes_in != ri.bytes_out) {
			it_ring_leave(w->h);
			ring_removed(w->s, note);
		}
	}
	it_ring_leave(w->h);
	if (!eof && *note)
		it_warn("stopped writing %s:%s", w->s->label, note);
}

static int write_ring(struct args *a)
{
	struct seg s;
	struct it_ring h;
	struct stat st;
	struct writer w = {.s = &s, .h = &h, .a = a, .lines = a->used & O_LINES};
	int avail;
	w.partial_ok = !(a->used & (O_LINES | O_ATOMIC));
	catch_stops();
	open_ring(&s, a, &h, true);
	w.atomic = a->atomic ? (size_t)a->atomic : default_atomic(h.cap);
	if (!(w.saved = malloc(w.atomic)))
		it_xfail(errno, "allocate", "a line buffer", NULL);
	it_xready(&a->ready_fd);
	w.counted = !(fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) &&
		    ioctl(STDIN_FILENO, FIONREAD, &avail) == 0;
	w.most = w.atomic > CHUNK ? w.atomic : CHUNK;
	bool more = true;
	while (more && !stop) {
		size_t ready = input_ready(&w, w.most);
		if (stop)
			break;
		/* A carry of --atomic bytes (a partial line at the limit)
		 * takes no more bytes into a record: step_small looks at one
		 * more byte to tell a line too long from the end. */
		more = w.carry >= w.atomic || w.carry + ready <= w.atomic
			? step_small(&w) : step_big(&w, ready);
	}
	finish_writer(&w, !more);
	free(w.saved);
	if (stop)
		exit_signal(stop);
	return IT_OK;
}

/* Set when the bound on handing a batch to standard output (-w, or one
 * lock slice with --nowait) has passed: SIGALRM, without SA_RESTART, cuts
 * a blocked write(2) or poll(2) short. */
static volatile sig_atomic_t expired;

static void on_alarm(int sig)
{
	(void)sig;
	expired = 1;
}

static int stopped(void)
{
	return stop || expired;
}

/* Arms the bound for one batch, ns from now (IT_FOREVER: none). Once it
 * has passed, the alarm repeats every 10 ms, so that a write begun just
 * after one look at the flag is still cut short. */
static void arm_output(int64_t ns)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	expired = 0;
	if (ns < 0)
		return;
	if (ns < 1000)
		ns = 1000;
	it.it_value.tv_sec = (time_t)(ns / 1000000000);
	it.it_value.tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
	it.it_interval.tv_usec = 10000;
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_output(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The reader of our pipe has gone: stop waiting for the next chunk. */
static void pipe_reader_gone(void)
{
	if (!stop)
		stop = SIGPIPE;
}

static int unread_in_pipe(void)
{
	int n = 0;
	return ioctl(STDOUT_FILENO, FIONREAD, &n) < 0 ? 0 : n;
}

/* A batch of claimed chunks, written out together. */
struct batch {
	const void *buf[IT_RING_NCLAIM];
	size_t len[IT_RING_NCLAIM], total;
	int n;
};

/* Takes back out of the pipe on standard output what its reader has not
 * read, at most most bytes (ours are the last in it): through a read end
 * of our own (/proc/self/fd/1), so that what goes back into the ring can
 * never also reach the reader. Returns the bytes taken; when no read end
 * can be had, what stays in a pipe that still has a reader is delivered
 * (0), and in one whose reader has gone is not. */
static size_t take_back(size_t most)
{
	static char sink[1u << 16];
	size_t taken = 0;
	if (most == 0 || unread_in_pipe() == 0)
		return 0;
	int fd = open("/proc/self/fd/1", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && it_drain_gone()) {
		/* No reader is left to read them: they go back. */
		size_t left = (size_t)unread_in_pipe();
		return left < most ? left : most;
	}
	if (fd < 0)
		return 0;
	while (taken < most) {
		size_t ask = most - taken < sizeof sink ? most - taken : sizeof sink;
		ssize_t n = read(fd, sink, ask);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		taken += (size_t)n;
	}
	close(fd);
	return taken;
}

/* Writes the chunks of a batch to standard output and returns the bytes
 * the next process really took; *err is 0 when that is all of them. A
 * stop signal ends even a write into a pipe nobody reads. On a pipe,
 * waits until the reader has read them all (it_drain); what is still in
 * the pipe when a signal stops us, or its reader leaves, is taken out of
 * it and goes back into the ring: each byte is delivered by the pipe or
 * put back, never both. */
static size_t output(const struct batch *b, bool pipe, int *err)
{
	size_t sent = 0;
	*err = 0;
	for (int i = 0; i < b->n && !*err; i++) {
		size_t n = it_write_some(STDOUT_FILENO, b->buf[i], b->len[i], stopped);
		sent += n;
		*err = n < b->len[i] ? errno : 0;
	}
	if (!pipe)
		return sent;
	int unread = it_drain(stopped);
	if (unread < 0) {
		*err = *err ? *err : errno;
		unread = 0;
	}
	size_t taken = *err || stopped() || unread > 0 ? take_back(sent) : 0;
	if (taken > 0 && !*err)
		*err = stop && stop != SIGPIPE ? EINTR : expired ? ETIMEDOUT : EPIPE;
	if (*err == EINTR && !stop && expired)
		*err = ETIMEDOUT;
	return sent - taken;
}

/* Claims the next chunk (waiting as the options say), then, for a pipe,
 * as many more as are there at once and fit in room (what the pipe holds,
 * at most CHUNK), so that the reader on the other side is handed whole
 * chunks in one go and waited for once. A batch is what a reader killed
 * before it marks it delivered gives again: one record, or CHUNK. Returns
 * as it_ring_claim did for the first. */
static int claim_batch(struct it_ring *h, const struct args *a, size_t room,
		       bool nowait, struct batch *b)
{
	bool follow = a->used & O_FOLLOW;
	b->n = 0;
	b->total = 0;
	int rc = it_ring_claim(h, follow, it_deadline(a->timeout), nowait,
			       SIZE_MAX, &stop, &b->buf[0], &b->len[0]);
	if (rc != 1)
		return rc;
	b->total = b->len[b->n++];
	if (room > CHUNK)
		room = CHUNK;
	while (b->n < IT_RING_NCLAIM && b->total < room && !stop &&
	       it_ring_claim(h, true, IT_FOREVER, true, room - b->total, &stop,
			     &b->buf[b->n], &b->len[b->n]) == 1)
		b->total += b->len[b->n++];
	return 1;
}

/* read --rm: a ring that still holds data no reader has taken (a
 * --follow reader stopped by a signal, what went back from a pipe), or
 * that a writer is still attached to, would take that data with it: it
 * stays, and a line says why. A reader without --follow stopped by signal
 * sig (0: not stopped) says so first, and says when the ring went. */
static void remove_if_done(const struct seg *s, int sig)
{
	struct it_ring_info ri;
	char why[40] = "";
	if (sig)
		snprintf(why, sizeof why, "stopped by SIG%s: ", it_sig_name(sig));
	if (it_ring_info(s->base, s->size, &ri) < 0) {
		remove_seg(s);
		return;
	} else if (ri.bytes_in > ri.bytes_out) {
		it_warn("%s%s stays despite --rm: %llu bytes in it were not read",
			why, s->label,
			(unsigned long long)(ri.bytes_in - ri.bytes_out));
		return;
	} else if (ri.writers) {
		it_warn("%s%s stays despite --rm: %u writer%s still attached",
			why, s->label, ri.writers,
			ri.writers == 1 ? " is" : "s are");
		return;
	} else {
		remove_seg(s);
	}
	if (sig)
		it_warn("%s%s removed (--rm): everything in it was read and no "
			"writer is attached", why, s->label);
}

static int read_ring(struct args *a)
{
	struct seg s;
	struct it_ring h;
	struct stat st;
	struct batch b;
	bool follow = a->used & O_FOLLOW, nowait = a->used & O_NOWAIT, got = false;
	bool pipe = fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
	int room = pipe ? fcntl(STDOUT_FILENO, F_GETPIPE_SZ) : 0;
	catch_stops();
	if (pipe)
		it_drain_watch(pipe_reader_gone);
	open_ring(&s, a, &h, false);
	it_xready(&a->ready_fd);
	while (!stop) {
		int err, rc = claim_batch(&h, a, room > 0 ? (size_t)room : 0,
					  nowait, &b);
		if (rc == 0 && nowait && !got)
			rc = (errno = EAGAIN, -1);
		if (rc == 0 || (rc < 0 && errno == EAGAIN && got))
			break;
		if (rc < 0 && errno == EINTR && (follow || stop))
			break;
		if (rc < 0)
			ring_fail(&s, &h, errno, false);
		got = true;
		arm_output(nowait ? NOWAIT_OUTPUT_NS : a->timeout);
		size_t sent = output(&b, pipe, &err);
		disarm_output();
		if (err && it_ring_unclaim(&h, sent) < 0)
			ring_fail(&s, &h, errno, false);
		if (err == EINTR)
			break;
		if (err == ETIMEDOUT) {
			it_ring_leave(&h);
			it_die(IT_NO, "unable to read %s: standard output did not take "
			       "the data in time (%zu bytes went back into the ring)",
			       s.label, b.total - sent);
		}
		if (err) {
			it_ring_leave(&h);
			if (err == EPIPE)
				exit_signal(SIGPIPE);
			it_xfail_status(IT_IOERR, err, "write", "standard output",
					NULL);
		}
		if (!err && it_ring_done(&h) < 0)
			ring_fail(&s, &h, errno, false);
	}
	it_ring_leave(&h);
	if (stop && stop != SIGPIPE && !follow && a->create.rm)
		remove_if_done(&s, stop);
	if (stop == SIGPIPE || (stop && !follow))
		exit_signal(stop);
	if (a->create.rm)
		remove_if_done(&s, 0);
	return IT_OK;
}

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
