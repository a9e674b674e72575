/* Segments, System V and POSIX alike: opened or made by name with the
 * contract's checks of owner and mode, mapped, and removed. Every command
 * starts here. */
#include "shmcat.h"

_Noreturn void missing(const struct seg *s)
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

static int rm_shm(int id)
{
	return shmctl(id, IPC_RMID, NULL);
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
	if (obj->private)
		it_xprint_private(s->id, rm_shm, "segment");
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
void open_seg_at(struct seg *s, const struct args *a, bool rw,
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

void open_seg(struct seg *s, const struct args *a, bool rw,
	      size_t create_size)
{
	open_seg_at(s, a, rw, create_size, true);
}

/* Maps the whole of a POSIX object (a System V one is attached already). */
void map_all(struct seg *s, bool rw)
{
	if (!s->posix || s->size == 0)
		return;
	s->base = mmap(NULL, s->size, PROT_READ | (rw ? PROT_WRITE : 0),
		       MAP_SHARED, s->fd, 0);
	if (s->base == MAP_FAILED)
		it_xfail(errno, "map", s->label, NULL);
}

void remove_seg(const struct seg *s)
{
	int rc = s->posix ? shm_unlink(s->label) : shmctl(s->id, IPC_RMID, NULL);
	if (rc < 0 && (errno == ENOENT || (!s->posix && (errno == EINVAL ||
							 errno == EIDRM))))
		missing(s);
	if (rc < 0)
		it_xfail(errno, "remove", s->label, NULL);
}

_Noreturn void corrupt(const struct seg *s, const char *why)
{
	it_die(IT_DATAERR, "unable to use %s: %s", s->label, why);
}
